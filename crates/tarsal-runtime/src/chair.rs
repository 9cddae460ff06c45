//! One chair, stepped tick by tick: hardware read → engine → hardware write,
//! with the kill switch following the engine's latched state. The control loop
//! thread drives it in real time; tests and developer tools drive it directly
//! at virtual speed.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tarsal_core::engine::{Command, Engine, Refusal};
use tarsal_core::event::{Event, Fault, StopSource};
use tarsal_core::hardware::{
    Hardware, HardwareError, HardwareProblem, KillSwitch, LinkMonitor, LinkVerdict, Sample,
};
use tarsal_core::model::{Outputs, Request, SensorReadings};
use tarsal_core::program::{
    CatalogError, ChairLimits, Program, ProgramCatalog, ProgramErrorKind, ProgramInfo, ProgramInput,
};
use tarsal_core::session::{SessionId, SessionOptions};

/// The emergency stop's short way to the hardware: a client's stop trips
/// the kill switch from the client's own thread, before the request even
/// reaches the control loop — so it works while the loop is busy or stuck —
/// and the loop latches it at its next step. Until then nothing rearms the
/// switch.
pub struct StopLine {
    kill: Arc<dyn KillSwitch>,
    pending: Mutex<Option<StopSource>>,
}

impl StopLine {
    fn new(kill: Arc<dyn KillSwitch>) -> Self {
        Self {
            kill,
            pending: Mutex::new(None),
        }
    }

    /// Cuts power now; the loop will latch an emergency stop from `source`.
    pub fn trip(&self, source: StopSource) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.get_or_insert(source);
        self.kill.trip();
    }

    /// A stop tripped from outside that the engine has not latched yet.
    fn take(&self) -> Option<StopSource> {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// Restores power, unless a stop is on its way to the loop.
    fn rearm_unless_pending(&self) {
        let pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        if pending.is_none() {
            self.kill.rearm();
        }
    }
}

pub struct Chair<H> {
    engine: Engine,
    hardware: H,
    kill: Arc<dyn KillSwitch>,
    stop_line: Arc<StopLine>,
    catalog: Box<dyn ProgramCatalog>,
    next_session: SessionId,
    period: Duration,
    now: Duration,
    last_sensors: SensorReadings,
    link: LinkMonitor,
    /// A hardware fault is raised once while the hardware keeps failing.
    hardware_failing: bool,
}

impl<H: Hardware> Chair<H> {
    /// `period` is the tick; `first_session` the id the next session gets.
    pub fn new(
        engine: Engine,
        hardware: H,
        catalog: Box<dyn ProgramCatalog>,
        first_session: SessionId,
        period: Duration,
    ) -> Self {
        let kill = hardware.kill_switch();
        let mut engine = engine;
        engine.programs_changed(catalog.loading(), catalog.problems());
        Self {
            engine,
            hardware,
            stop_line: Arc::new(StopLine::new(Arc::clone(&kill))),
            kill,
            catalog,
            next_session: first_session,
            period,
            now: Duration::ZERO,
            last_sensors: SensorReadings::default(),
            link: LinkMonitor::default(),
            hardware_failing: false,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn hardware(&self) -> &H {
        &self.hardware
    }

    pub fn hardware_mut(&mut self) -> &mut H {
        &mut self.hardware
    }

    pub fn period(&self) -> Duration {
        self.period
    }

    /// Engine clock.
    pub fn now(&self) -> Duration {
        self.now
    }

    pub fn programs(&self) -> Vec<Arc<ProgramInfo>> {
        self.catalog.programs()
    }

    /// The emergency stop's short way to the hardware (for the handle).
    pub fn stop_line(&self) -> Arc<StopLine> {
        Arc::clone(&self.stop_line)
    }

    /// Replaces the program catalog; a running session keeps its instance.
    /// Files that did not load are reported (each once while it stays so).
    pub fn set_catalog(&mut self, catalog: Box<dyn ProgramCatalog>) {
        self.engine
            .programs_changed(catalog.loading(), catalog.problems());
        self.catalog = catalog;
    }

    /// Latches an emergency stop that a client tripped on the short way.
    fn latch_pending_stop(&mut self) {
        if let Some(source) = self.stop_line.take() {
            let _ = self.engine.command(Command::EmergencyStop(source));
        }
    }

    /// Advances one tick.
    pub fn step(&mut self) -> &Outputs {
        let now = self.now + self.period;
        self.step_to(now)
    }

    /// Advances to engine time `now` (normally one period later).
    pub fn step_to(&mut self, now: Duration) -> &Outputs {
        self.now = now;
        self.latch_pending_stop();
        let limit = self.engine.profile().io.max_sample_age;
        let sample = self
            .hardware
            .read(now)
            .and_then(|sample| fresh(sample, limit));
        let sensors = match (self.link.observe(&sample), sample) {
            (LinkVerdict::Healthy, Ok(sample)) => {
                self.hardware_failing = false;
                self.last_sensors = sample.readings;
                sample.readings
            }
            (LinkVerdict::Fault { problem, detail }, _) => {
                self.hardware_fault(problem, format!("reading sensors: {detail}"));
                self.last_sensors
            }
            // One failed exchange: ride it out on the last good readings.
            _ => self.last_sensors,
        };
        self.engine.tick(now, &sensors);
        self.write_outputs();
        self.engine.outputs()
    }

    fn write_outputs(&mut self) {
        if self.engine.state().is_latched() {
            self.kill.trip();
        } else if self.kill.is_tripped() {
            self.stop_line.rearm_unless_pending();
        }
        let written = self.hardware.write(self.now, self.engine.outputs());
        if let LinkVerdict::Fault { problem, detail } = self.link.observe(&written) {
            self.hardware_fault(problem, format!("writing outputs: {detail}"));
        }
    }

    /// Cuts power and raises a hardware fault (once while it lasts).
    fn hardware_fault(&mut self, problem: HardwareProblem, detail: String) {
        self.kill.trip();
        if !self.hardware_failing {
            self.hardware_failing = true;
            self.engine.raise_fault(Fault::Hardware { problem, detail });
        }
    }

    /// Starts program `id` from the catalog.
    pub fn start(&mut self, id: &str, options: SessionOptions) -> Result<SessionId, Refusal> {
        let info = self
            .catalog
            .programs()
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| Refusal::Catalog(self.catalog.unknown(id)))?;
        self.engine.check_can_start(&info)?;
        let options = info.resolve_options(&options)?;
        let estimate = self.probe(id, &options)?;
        let (info, program) = self.catalog.instantiate(id, &options)?;
        let session = self.start_instance(info, program, options)?;
        // The program's own estimate for these options, from the start.
        if let Some(remaining) = estimate {
            self.engine.estimate_remaining(remaining);
        }
        Ok(session)
    }

    /// Asks a fresh instance of the program whether it would run now: one
    /// tick at time zero with the chair's current readings, its request
    /// thrown away. A program that answers with an error of its own (a
    /// sanitize cycle with feet on the footrest, say) declines the start:
    /// nothing runs, nothing is logged, no fault is latched. A program that
    /// breaks in that tick cannot be started.
    /// Returns the program's estimate of the session's length, if it gave one.
    fn probe(&mut self, id: &str, options: &SessionOptions) -> Result<Option<Duration>, Refusal> {
        let (_, mut program) = self.catalog.instantiate(id, options)?;
        let limits = ChairLimits::for_intensity(self.engine.profile(), options.intensity);
        let input = ProgramInput {
            elapsed: Duration::ZERO,
            dt: Duration::ZERO,
            intensity: options.intensity,
            heat: options.heat,
            bath: options.bath,
            sensors: &self.last_sensors,
            limits: &limits,
            applied: &Request::OFF,
            staff_confirmations: 0,
        };
        match program.tick(&input) {
            Ok(out) => Ok(out.remaining),
            Err(e) if e.kind == ProgramErrorKind::Failed => {
                Err(Refusal::Catalog(CatalogError::Declined {
                    id: id.to_owned(),
                    reason: e.message,
                }))
            }
            Err(e) => Err(Refusal::Catalog(CatalogError::Failed {
                id: id.to_owned(),
                reason: e.to_string(),
            })),
        }
    }

    /// Starts a program instance that did not come from the catalog (tests,
    /// `cargo tarsal run`).
    pub fn start_instance(
        &mut self,
        info: Arc<ProgramInfo>,
        program: Box<dyn Program>,
        options: SessionOptions,
    ) -> Result<SessionId, Refusal> {
        let options = info.resolve_options(&options)?;
        let id = self.next_session;
        self.engine.start(id, info, program, options)?;
        self.next_session = SessionId(id.0 + 1);
        Ok(id)
    }

    /// Applies a command and writes the outputs at once, without waiting for
    /// the next tick (an emergency stop reaches the hardware immediately; a
    /// reset restores power immediately).
    pub fn command(&mut self, command: Command) -> Result<(), Refusal> {
        self.latch_pending_stop();
        let result = self.engine.command(command);
        self.write_outputs();
        result
    }

    /// A fault found outside the engine (the loop's timing watchdog).
    pub fn raise_fault(&mut self, fault: Fault) {
        self.engine.raise_fault(fault);
        self.write_outputs();
    }

    /// Ends any session and leaves the outputs safe with power cut.
    pub fn shut_down(&mut self) {
        self.engine.shut_down();
        self.kill.trip();
        if let Err(e) = self.hardware.write(self.now, self.engine.outputs()) {
            tracing::error!(error = %e, "could not write safe outputs at shutdown; power is cut");
        }
    }

    /// Failed hardware exchanges since the last good one.
    pub fn consecutive_glitches(&self) -> u32 {
        self.link.consecutive_glitches()
    }

    pub fn drain_events(&mut self) -> std::vec::Drain<'_, Event> {
        self.engine.drain_events()
    }
}

/// A sample older than `limit` is a fault: the supervisor must not regulate on it.
fn fresh(sample: Sample, limit: Duration) -> Result<Sample, HardwareError> {
    if sample.age > limit {
        Err(HardwareError::fault(
            HardwareProblem::StaleSample,
            format!(
                "the newest sample is {} ms old (limit {} ms)",
                sample.age.as_millis(),
                limit.as_millis()
            ),
        ))
    } else {
        Ok(sample)
    }
}
