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
    pub id: SessionId,
    pub program: Arc<ProgramInfo>,
    pub options: Arc<SessionOptions>,
    pub intensity: Intensity,
    pub heat: bool,
    /// Index into the program's steps.
    pub step: u32,
    pub progress: f64,
    /// Program time, pauses excluded.
    pub elapsed: Duration,
    pub remaining: Duration,
    pub awaiting_staff: bool,
}

impl SessionStatus {
    pub fn step_title(&self) -> &str {
        self.program.step_title(self.step as usize)
    }
}

/// A snapshot of the chair, published by the control loop every tick.
#[derive(Clone, Debug, Default)]
pub struct ChairStatus {
    /// Engine clock.
    pub at: Duration,
    pub state: ChairState,
    pub session: Option<SessionStatus>,
    /// Latched faults, oldest first.
    pub faults: Arc<[Fault]>,
    pub estop: Option<StopSource>,
    /// The last session that ended, and how.
    pub last_session: Option<(SessionId, Outcome)>,
    pub sensors: SensorReadings,
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
