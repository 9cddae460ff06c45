//! The chair as clients see it: one snapshot per published tick, which the
//! adapters (D-Bus properties, MQTT state, the panel) show.

use crate::command::{BathAction, StopSource};
use crate::event::Fault;
use crate::model::{Heaters, Outputs, SensorReadings};
use crate::program::{CatalogProblem, ProgramInfo};
use crate::session::{ChairState, Outcome, SessionId, SessionOptions};
use crate::units::{Celsius, Intensity};
use std::sync::Arc;
use std::time::Duration;

/// The running session as clients see it.
#[derive(Clone, Debug)]
pub struct SessionStatus {
    /// The session's id.
    pub id: SessionId,
    /// The program being run.
    pub program: Arc<ProgramInfo>,
    /// The options the session was started with.
    pub options: Arc<SessionOptions>,
    /// Intensity in force (staff may change it during the session).
    pub intensity: Intensity,
    /// Whether heat is on (staff may switch it during the session).
    pub heat: bool,
    /// Index into the program's steps.
    pub step: u32,
    /// How far the program is, 0–1.
    pub progress: f64,
    /// Program time, pauses excluded.
    pub elapsed: Duration,
    /// Expected time left, capped at what the session may still last.
    pub remaining: Duration,
    /// The program waits for staff to confirm the current step.
    pub awaiting_staff: bool,
}

impl SessionStatus {
    /// Title of the current step.
    pub fn step_title(&self) -> &str {
        self.program.step_title(self.step as usize)
    }
}

/// A snapshot of the chair, published by the control loop every tick.
#[derive(Clone, Debug, Default)]
pub struct ChairStatus {
    /// Engine clock.
    pub at: Duration,
    /// The chair's state.
    pub state: ChairState,
    /// The current session, if any (preparing to finishing).
    pub session: Option<SessionStatus>,
    /// Latched faults, oldest first.
    pub faults: Arc<[Fault]>,
    /// Where the latched emergency stop came from, if one is latched.
    pub estop: Option<StopSource>,
    /// The last session that ended, and how.
    pub last_session: Option<(SessionId, Outcome)>,
    /// Sensor readings of the last tick.
    pub sensors: SensorReadings,
    /// What the supervisor let through to the hardware at the last tick.
    pub outputs: Outputs,
    /// Heater setpoints in force.
    pub setpoints: Heaters<Option<Celsius>>,
    /// A manual fill or drain in progress.
    pub manual_bath: Option<BathAction>,
    /// A client session ended since the bath was last sanitized.
    pub sanitation_owed: bool,
    /// The salon requires sanitizing between clients.
    pub sanitation_required: bool,
    /// Program files that could not be offered, and why.
    pub program_problems: Arc<[CatalogProblem]>,
    /// The programs are still loading: more will be offered soon.
    pub programs_loading: bool,
    /// Changes whenever the set of programs may have changed (a load or
    /// reload finished): clients list the programs again.
    pub programs_revision: u64,
}
