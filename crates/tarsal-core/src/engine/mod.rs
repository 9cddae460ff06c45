//! The engine: the chair's whole state and the session state machine, advanced
//! one tick at a time. It asks the running program for a request, hands it to
//! the supervisor, latches faults and emergency stops, and records events. It
//! does no I/O: the control loop feeds it sensor readings and carries its
//! outputs to the hardware.

use crate::command::StopSource;
use crate::config_file::human_duration;
use crate::event::{Event, EventKind, Fault};
use crate::model::{FootRollerCommand, HeaterId, Outputs, Request, SensorReadings, Side};
use crate::profile::ChairProfile;
use crate::profile::Equipment;
use crate::program::{
    CatalogProblem, ChairLimits, Program, ProgramError, ProgramErrorKind, ProgramInfo,
    ProgramInput, ProgramStatus,
};
use crate::session::{ChairState, Outcome, SessionId, SessionOptions};
use crate::supervisor::{Demand, Mode, StaffHold, Supervisor};
use crate::units::{Intensity, PercentPerSecond};
use std::sync::Arc;
use std::time::Duration;

mod manual;
mod refusal;
mod status;

pub use crate::command::{BathAction, Command, ManualCommand};
pub use crate::sanitation::{BathTally, SanitationPolicy, SanitationRecord};
pub use manual::{all_cells, carriage_to};
pub use refusal::Refusal;
pub use status::{ChairStatus, SessionStatus};

struct Session {
    id: SessionId,
    info: Arc<ProgramInfo>,
    program: Box<dyn Program>,
    options: Arc<SessionOptions>,
    intensity: Intensity,
    heat: bool,
    limits: ChairLimits,
    started_at: Duration,
    /// When the current state (preparing, finishing) began.
    state_since: Duration,
    elapsed: Duration,
    /// The program has been called since it last (re)started running.
    called: bool,
    /// The program has run at least once: a client had a session and the
    /// bath is owed a sanitize cycle (a pause does not undo that).
    ran: bool,
    step: u32,
    progress: f64,
    remaining: Duration,
    awaiting_staff: bool,
    /// While the program waits for staff, the chair idles: what it may still
    /// do (keep the water at the setpoint in force when the wait began).
    staff_hold: Option<StaffHold>,
    /// All time the program has spent waiting for staff this session. It
    /// extends the session's time budget, but by no more than the profile's
    /// staff timeout, which ends the session when the total reaches it.
    staff_wait: Duration,
    staff_confirmations: u32,
    last_request: Request,
    ending: Option<(Outcome, String)>,
    /// What the bath did.
    tally: BathTally,
    /// Initials of staff who confirmed steps.
    initials: Vec<String>,
}

/// The chair's state machine and everything it knows, advanced one tick at a time.
pub struct Engine {
    profile: Arc<ChairProfile>,
    supervisor: Supervisor,
    state: ChairState,
    session: Option<Session>,
    faults: Vec<Fault>,
    faults_shared: Arc<[Fault]>,
    estop: Option<StopSource>,
    last_session: Option<(SessionId, Outcome)>,
    now: Duration,
    sensors: SensorReadings,
    request: Request,
    events: Vec<Event>,
    scratch: Vec<EventKind>,
    revision: u64,
    service: Option<manual::ServiceMode>,
    manual_bath: Option<BathAction>,
    sanitation: SanitationPolicy,
    sanitation_owed: bool,
    program_problems: Arc<[CatalogProblem]>,
    programs_loading: bool,
    programs_revision: u64,
}

impl Engine {
    /// An idle engine for the chair described by `profile`.
    pub fn new(profile: Arc<ChairProfile>) -> Self {
        Self {
            supervisor: Supervisor::new(Arc::clone(&profile)),
            profile,
            state: ChairState::Idle,
            session: None,
            faults: Vec::new(),
            faults_shared: Arc::from(Vec::new()),
            estop: None,
            last_session: None,
            now: Duration::ZERO,
            sensors: SensorReadings::default(),
            request: Request::OFF,
            events: Vec::new(),
            scratch: Vec::new(),
            revision: 0,
            service: None,
            manual_bath: None,
            sanitation: SanitationPolicy::default(),
            sanitation_owed: false,
            program_problems: Arc::from(Vec::new()),
            programs_loading: false,
            programs_revision: 0,
        }
    }

    /// A new program catalog is in force: whether more programs are still
    /// loading, and the program files that could not be offered. Each
    /// problem not already known is recorded as a `program.refused` event,
    /// so staff, technicians and operators learn of it, not only the journal.
    pub fn programs_changed(&mut self, loading: bool, problems: Vec<CatalogProblem>) {
        self.programs_loading = loading;
        self.programs_revision += 1;
        self.revision += 1;
        if *self.program_problems == *problems {
            return;
        }
        for p in &problems {
            if !self.program_problems.contains(p) {
                self.push(EventKind::ProgramRefused {
                    file: p.file.clone(),
                    reason: p.reason.clone(),
                });
            }
        }
        self.program_problems = Arc::from(problems);
        self.revision += 1;
    }

    /// How sanitizing is handled; `owed` says whether a client session has
    /// ended since the last complete cycle (the service reads it from its
    /// database at start).
    pub fn with_sanitation(mut self, policy: SanitationPolicy, owed: bool) -> Self {
        self.sanitation = policy;
        self.sanitation_owed = owed;
        self
    }

    /// The last session that ended before this engine started (the service
    /// reads it from its database), so clients still see it after a restart.
    pub fn with_last_session(mut self, last: Option<(SessionId, Outcome)>) -> Self {
        self.last_session = last;
        self
    }

    /// Changes whenever something discrete changes (state, session, step,
    /// faults, adjustments); continuous values (readings, progress) do not
    /// change it. Lets publishers skip unchanged snapshots.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The chair profile the engine runs with.
    pub fn profile(&self) -> &Arc<ChairProfile> {
        &self.profile
    }

    /// The chair's current state.
    pub fn state(&self) -> ChairState {
        self.state
    }

    /// The outputs the supervisor let through at the last tick.
    pub fn outputs(&self) -> &Outputs {
        self.supervisor.outputs()
    }

    /// Latched faults, oldest first.
    pub fn faults(&self) -> &[Fault] {
        &self.faults
    }

    /// Engine clock at the last tick.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// Events since the last call, oldest first.
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, Event> {
        self.events.drain(..)
    }

    /// Whether events are waiting for [`Engine::drain_events`].
    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// A snapshot of the chair for clients.
    pub fn status(&self) -> ChairStatus {
        ChairStatus {
            at: self.now,
            state: self.state,
            session: self.session.as_ref().map(|s| SessionStatus {
                id: s.id,
                program: Arc::clone(&s.info),
                options: Arc::clone(&s.options),
                intensity: s.intensity,
                heat: s.heat,
                step: s.step,
                progress: s.progress,
                elapsed: s.elapsed,
                remaining: s.remaining,
                awaiting_staff: s.awaiting_staff,
            }),
            faults: Arc::clone(&self.faults_shared),
            estop: self.estop,
            last_session: self.last_session,
            sensors: self.sensors,
            outputs: *self.supervisor.outputs(),
            setpoints: *self.supervisor.setpoints(),
            manual_bath: self.manual_bath,
            sanitation_owed: self.sanitation_owed,
            sanitation_required: self.sanitation.required_between_clients,
            program_problems: Arc::clone(&self.program_problems),
            programs_loading: self.programs_loading,
            programs_revision: self.programs_revision,
        }
    }

    /// Starts a session of `program`. Options must already be resolved against
    /// the program's declared options.
    pub fn start(
        &mut self,
        id: SessionId,
        info: Arc<ProgramInfo>,
        program: Box<dyn Program>,
        options: SessionOptions,
    ) -> Result<(), Refusal> {
        self.check_can_start(&info)?;
        self.session = Some(Session {
            id,
            limits: ChairLimits::for_intensity(&self.profile, options.intensity),
            intensity: options.intensity,
            heat: options.heat,
            info: Arc::clone(&info),
            program,
            options: Arc::new(options.clone()),
            started_at: self.now,
            state_since: self.now,
            elapsed: Duration::ZERO,
            called: false,
            ran: false,
            step: 0,
            progress: 0.0,
            remaining: info.duration,
            awaiting_staff: false,
            staff_hold: None,
            staff_wait: Duration::ZERO,
            staff_confirmations: 0,
            last_request: Request::OFF,
            ending: None,
            tally: BathTally::default(),
            initials: Vec::new(),
        });
        self.manual_bath = None;
        self.supervisor.begin_session();
        self.state = ChairState::Preparing;
        self.push(EventKind::SessionStarted {
            program: info.id.clone(),
            program_version: info.version.clone(),
            options,
        });
        Ok(())
    }

    /// The starting session's expected length, when the program knows it
    /// better than its declared duration (options change it); never more
    /// than the session may last.
    pub fn estimate_remaining(&mut self, remaining: Duration) {
        let limit = self.session_limit();
        if let Some(s) = self.session.as_mut()
            && self.state == ChairState::Preparing
        {
            s.remaining = remaining.min(limit);
            self.revision += 1;
        }
    }

    /// Whether a session of `info` could start now.
    pub fn check_can_start(&self, info: &ProgramInfo) -> Result<(), Refusal> {
        match self.state {
            ChairState::Idle => self.check_no_manual_bath()?,
            ChairState::Fault => {
                return Err(Refusal::FaultLatched {
                    faults: self.fault_summary(),
                });
            }
            ChairState::Estop => return Err(Refusal::EstopLatched),
            state => return Err(Refusal::Busy { state }),
        }
        let missing = info.uses.missing_from(&self.profile.equipment());
        if !missing.is_empty() {
            return Err(Refusal::NotFitted {
                missing: missing.join(", "),
            });
        }
        if self.sanitation.required_between_clients
            && self.sanitation_owed
            && info.id != self.sanitation.program
        {
            return Err(Refusal::SanitationRequired {
                program: self.sanitation.program.clone(),
            });
        }
        Ok(())
    }

    /// A fill or drain by hand is not silently cancelled by something else.
    pub(super) fn check_no_manual_bath(&self) -> Result<(), Refusal> {
        match self.manual_bath {
            Some(BathAction::Fill { .. }) => Err(Refusal::ManualBathRunning { action: "filled" }),
            Some(BathAction::Drain) => Err(Refusal::ManualBathRunning { action: "drained" }),
            _ => Ok(()),
        }
    }

    fn fault_summary(&self) -> String {
        self.faults
            .iter()
            .map(Fault::code)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Carries out a client's command, or says why it was refused.
    pub fn command(&mut self, command: Command) -> Result<(), Refusal> {
        match command {
            Command::Bath(action) => self.bath_action(action),
            Command::EnterServiceMode => self.enter_service_mode(),
            Command::LeaveServiceMode => self.leave_service_mode(),
            Command::SetActuator(c) => self.set_actuator(c),
            Command::EmergencyStop(source) => {
                self.enter_estop(source);
                Ok(())
            }
            Command::Reset => self.reset(),
            Command::Stop => match self.state {
                ChairState::Preparing | ChairState::Running | ChairState::Paused => {
                    self.begin_finishing(Outcome::Stopped, "stopped by staff".into());
                    Ok(())
                }
                ChairState::Finishing => Ok(()),
                _ => Err(Refusal::NotRunning),
            },
            Command::Pause => match self.state {
                ChairState::Running => {
                    self.state = ChairState::Paused;
                    self.push(EventKind::SessionPaused);
                    Ok(())
                }
                ChairState::Paused => Ok(()),
                state if state.in_session() => Err(Refusal::CannotPause { state }),
                _ => Err(Refusal::NotRunning),
            },
            Command::Resume => match self.state {
                ChairState::Paused => {
                    self.state = ChairState::Running;
                    if let Some(s) = self.session.as_mut() {
                        s.called = false;
                    }
                    self.push(EventKind::SessionResumed);
                    Ok(())
                }
                ChairState::Running => Ok(()),
                state if state.in_session() => Err(Refusal::NotPaused),
                _ => Err(Refusal::NotRunning),
            },
            Command::SetIntensity(intensity) if self.state == ChairState::Service => {
                if let Some(service) = self.service.as_mut() {
                    service.intensity = intensity;
                }
                self.push(EventKind::IntensityChanged { intensity });
                Ok(())
            }
            Command::SetIntensity(intensity) => {
                let profile = Arc::clone(&self.profile);
                let s = self.live_session()?;
                if s.intensity == intensity {
                    return Ok(());
                }
                s.intensity = intensity;
                s.limits = ChairLimits::for_intensity(&profile, intensity);
                self.push(EventKind::IntensityChanged { intensity });
                Ok(())
            }
            Command::SetHeat(on) => {
                let s = self.live_session()?;
                if s.heat == on {
                    return Ok(());
                }
                s.heat = on;
                self.push(EventKind::HeatSwitched { on });
                Ok(())
            }
            Command::ConfirmStaffStep { initials } => {
                let s = self.live_session()?;
                if !s.awaiting_staff {
                    return Err(Refusal::NotAwaitingStaff);
                }
                let initials = initials.trim().to_owned();
                let letters = initials
                    .chars()
                    .all(|c| c.is_alphabetic() || c == '.' || c == '-');
                // Who did the step goes into the sanitation log: required.
                if initials.is_empty() {
                    return Err(Refusal::InvalidValue {
                        what: "initials (none given)".into(),
                        allowed: "the initials of whoever did the step: 1 to 8 letters (dots and hyphens allowed)".into(),
                    });
                }
                if initials.chars().count() > 8 || !letters {
                    return Err(Refusal::InvalidValue {
                        what: format!("initials `{}`", crate::text::echo(&initials)),
                        allowed: "up to 8 letters (dots and hyphens allowed)".into(),
                    });
                }
                s.staff_confirmations += 1;
                s.awaiting_staff = false;
                s.initials.push(initials.clone());
                let step = s.info.step_title(s.step as usize).to_owned();
                self.push(EventKind::StaffStepConfirmed { step, initials });
                Ok(())
            }
        }
    }

    /// The session, if it is preparing, running or paused.
    fn live_session(&mut self) -> Result<&mut Session, Refusal> {
        match (self.state, self.session.as_mut()) {
            (ChairState::Preparing | ChairState::Running | ChairState::Paused, Some(s)) => Ok(s),
            _ => Err(Refusal::NotRunning),
        }
    }

    fn reset(&mut self) -> Result<(), Refusal> {
        if !self.state.is_latched() {
            return Err(Refusal::NothingToReset);
        }
        let mut conditions = Vec::new();
        if self.estop.is_some() && self.sensors.estop_pressed {
            conditions.push("the emergency-stop button is still pressed; release it".to_owned());
        }
        conditions.extend(self.supervisor.blocking_conditions(&self.sensors));
        if !conditions.is_empty() {
            return Err(Refusal::ResetBlocked { conditions });
        }
        let mut cleared: Vec<String> = self.faults.iter().map(|f| f.code().to_owned()).collect();
        if self.estop.is_some() {
            cleared.push("estop".into());
        }
        self.faults.clear();
        self.faults_shared = Arc::from(Vec::new());
        self.estop = None;
        self.supervisor.reset();
        self.state = ChairState::Idle;
        self.push(EventKind::Reset { cleared });
        Ok(())
    }

    /// A fault found outside the engine (the control loop's watchdog, the
    /// hardware backend). The outputs go safe at once.
    pub fn raise_fault(&mut self, fault: Fault) {
        self.push(EventKind::Fault(fault.clone()));
        self.latch(fault);
    }

    /// Ends any session because the service is shutting down (the session
    /// is `interrupted`: nobody chose to stop it); outputs go safe.
    pub fn shut_down(&mut self) {
        if self.session.is_some() {
            self.end_session(Outcome::Interrupted, "the service was shut down".into());
        }
        self.supervisor.force_safe();
    }

    /// Advances the chair by one tick to engine time `now`.
    pub fn tick(&mut self, now: Duration, sensors: &SensorReadings) -> &Outputs {
        let dt = now.saturating_sub(self.now);
        self.now = now;
        self.sensors = *sensors;
        if sensors.estop_pressed && self.state != ChairState::Estop {
            self.enter_estop(StopSource::Button);
        }
        self.request = Request::OFF;
        let allowance = self.advance_session(dt, sensors);
        let staff_hold = match self.state {
            ChairState::Running | ChairState::Paused => {
                self.session.as_ref().and_then(|s| s.staff_hold)
            }
            _ => None,
        };

        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let verdict = {
            let info = self.session.as_ref().map(|s| Arc::clone(&s.info));
            let mode = match (self.state, allowance) {
                (state, _) if state.is_latched() => Mode::Latched,
                (state, Some(a)) => Mode::Active(Demand {
                    request: &self.request,
                    intensity: a.intensity,
                    heat: a.heat,
                    bath: a.bath,
                    declared: a.declared,
                    staff_hold,
                    source: match (&info, state) {
                        (_, ChairState::Service) => "service-mode",
                        (Some(i), _) => i.id.as_str(),
                        (None, _) => "chair",
                    },
                }),
                (_, None) => Mode::Idle,
            };
            self.supervisor.tick(now, dt, sensors, mode, &mut scratch)
        };
        for kind in scratch.drain(..) {
            let fault = match &kind {
                EventKind::Fault(f) => Some(f.clone()),
                _ => None,
            };
            self.push(kind);
            if let Some(f) = fault {
                self.latch(f);
            }
        }
        debug_assert!(!verdict.faulted || self.state.is_latched());
        self.scratch = scratch;
        if let (Some(s), Some(bath)) = (self.session.as_mut(), &self.profile.bath) {
            s.tally
                .tick(dt, self.supervisor.outputs(), sensors, bath.min_level);
        }
        self.supervisor.outputs()
    }

    /// Moves the session along and fills `self.request`; returns what the
    /// supervisor may let through when it should apply the request.
    fn advance_session(&mut self, dt: Duration, sensors: &SensorReadings) -> Option<Allowance> {
        let now = self.now;
        let profile = Arc::clone(&self.profile);
        if self.session.is_none() {
            return match self.state {
                ChairState::Idle => self.manual_bath_request(sensors),
                ChairState::Service => self.service_request(),
                _ => None,
            };
        }
        let session = self.session.as_mut()?;
        let params = Allowance {
            intensity: session.intensity,
            heat: session.heat,
            bath: session.options.bath,
            declared: session.info.uses,
        };

        let live = matches!(
            self.state,
            ChairState::Preparing | ChairState::Running | ChairState::Paused
        );
        // Every moment of the session counts, pauses and staff waits
        // included; time waiting for staff (the chair idle) extends the
        // budget, by no more than the staff timeout.
        let limits = &profile.session;
        let in_session = now.saturating_sub(session.started_at);
        let budget = limits.max_duration + session.staff_wait.min(limits.staff_timeout);
        if live && in_session >= budget {
            let detail = if session.staff_wait.is_zero() {
                format!(
                    "it reached the {} limit",
                    human_duration(limits.max_duration)
                )
            } else {
                format!(
                    "it reached the {} limit (plus {} waiting for staff)",
                    human_duration(limits.max_duration),
                    human_duration(session.staff_wait.min(limits.staff_timeout))
                )
            };
            self.begin_finishing(Outcome::TimeLimit, detail);
            return self.park(params, sensors);
        }
        if live && session.staff_wait >= limits.staff_timeout {
            let detail = format!(
                "nobody confirmed “{}”: the program waited for staff {} in all, the most a session may",
                session.info.step_title(session.step as usize),
                human_duration(limits.staff_timeout)
            );
            self.begin_finishing(Outcome::Stopped, detail);
            return self.park(params, sensors);
        }

        match self.state {
            ChairState::Preparing => {
                let needs_feet = session.info.uses.foot_rollers || session.info.uses.calf_units;
                if !needs_feet || sensors.feet_present {
                    self.state = ChairState::Running;
                    session.called = false;
                    self.push(EventKind::SessionRunning);
                    return self.run_program(dt, sensors, params);
                }
                if now.saturating_sub(session.state_since) >= profile.session.prepare_timeout {
                    let detail = format!(
                        "no feet on the footrest within {}",
                        human_duration(profile.session.prepare_timeout)
                    );
                    self.end_session(Outcome::Aborted, detail);
                    return None;
                }
                Some(params)
            }
            ChairState::Running => self.run_program(dt, sensors, params),
            ChairState::Paused => {
                // Rollers and pressure off; heat keeps its temperature.
                self.request.setpoints = session.last_request.setpoints;
                Some(params)
            }
            ChairState::Finishing => {
                let timed_out =
                    now.saturating_sub(session.state_since) >= profile.session.finish_timeout;
                if timed_out || !self.needs_parking(sensors) {
                    let session = self.session.as_mut()?;
                    let (outcome, detail) = session
                        .ending
                        .take()
                        .unwrap_or((Outcome::Completed, String::new()));
                    self.end_session(outcome, detail);
                    return None;
                }
                self.park(params, sensors)
            }
            ChairState::Idle | ChairState::Fault | ChairState::Estop | ChairState::Service => None,
        }
    }

    /// Calls the program for this tick and takes its request.
    fn run_program(
        &mut self,
        dt: Duration,
        sensors: &SensorReadings,
        params: Allowance,
    ) -> Option<Allowance> {
        let session_limit = self.session_limit();
        let water_in_force = self.supervisor.setpoints()[HeaterId::Water];
        let session = self.session.as_mut()?;
        if session.called {
            session.elapsed += dt;
        }
        session.called = true;
        session.ran = true;
        let outputs = self.supervisor.outputs();
        let applied = Request {
            feet: outputs.feet,
            calves: outputs.calves,
            setpoints: *self.supervisor.setpoints(),
            bath: crate::model::BathRequest {
                fill: outputs.fill_valve_open,
                drain: outputs.drain_pump_on,
                jets: outputs.jet_pump,
            },
        };
        let input = ProgramInput {
            elapsed: session.elapsed,
            dt,
            intensity: session.intensity,
            heat: session.heat,
            bath: session.options.bath,
            sensors,
            limits: &session.limits,
            applied: &applied,
            staff_confirmations: session.staff_confirmations,
        };
        let answer = session
            .program
            .tick(&input)
            .and_then(|out| check_output(&session.info, out.step, out.progress).map(|()| out));
        match answer {
            Ok(out) => {
                if session.step != out.step {
                    self.revision += 1;
                }
                session.step = out.step;
                session.progress = out.progress;
                // Never more than the session may still last, whatever the
                // program says (a huge number would wrap in clients).
                let left =
                    session_limit.saturating_sub(self.now.saturating_sub(session.started_at));
                session.remaining = out
                    .remaining
                    .unwrap_or_else(|| session.info.duration.saturating_sub(session.elapsed))
                    .min(left);
                session.awaiting_staff = out.status == ProgramStatus::AwaitingStaff;
                if session.awaiting_staff {
                    session.staff_wait += dt;
                    // When the wait begins, the water keeps what it had.
                    session.staff_hold.get_or_insert(StaffHold {
                        water: water_in_force,
                    });
                } else {
                    session.staff_hold = None;
                }
                session.last_request = out.request;
                self.request = out.request;
                if out.status == ProgramStatus::Finished {
                    session.progress = 1.0;
                    session.remaining = Duration::ZERO;
                    self.begin_finishing(Outcome::Completed, String::new());
                    return self.park(params, sensors);
                }
                Some(params)
            }
            Err(e) => {
                let fault = Fault::Program {
                    program: session.info.id.clone(),
                    reason: e.kind,
                    detail: e.message,
                };
                self.raise_fault(fault);
                None
            }
        }
    }

    /// Whether the carriages should travel back to park: the program used
    /// them, they are not there yet, and feet are on the footrest (without
    /// feet no roller may move; the carriages then stay where they are).
    fn needs_parking(&self, sensors: &SensorReadings) -> bool {
        let used = self
            .session
            .as_ref()
            .is_some_and(|s| s.info.uses.foot_rollers);
        match &self.profile.foot_rollers {
            Some(f) if used && sensors.feet_present => Side::ALL
                .iter()
                .any(|&s| (sensors.feet[s].carriage_position.0 - f.park_position.0).abs() > 1.0),
            _ => false,
        }
    }

    /// The longest a session may last in all: the profile's maximum plus
    /// the most time waiting for staff may add.
    fn session_limit(&self) -> Duration {
        self.profile.session.max_duration + self.profile.session.staff_timeout
    }

    /// The finishing request: carriages back to park (when needed), everything else off.
    fn park(&mut self, params: Allowance, sensors: &SensorReadings) -> Option<Allowance> {
        if self.needs_parking(sensors)
            && let Some(f) = &self.profile.foot_rollers
        {
            let cmd = FootRollerCommand {
                position: f.park_position,
                travel_speed: PercentPerSecond(f.travel_speed_max.0 / 2.0),
                ..FootRollerCommand::OFF
            };
            self.request.feet = crate::model::Sided([cmd; 2]);
        }
        Some(params)
    }

    fn begin_finishing(&mut self, outcome: Outcome, detail: String) {
        let now = self.now;
        if let Some(s) = self.session.as_mut() {
            s.ending = Some((outcome, detail));
            s.state_since = now;
            s.awaiting_staff = false;
            s.staff_hold = None;
        }
        self.state = ChairState::Finishing;
    }

    fn end_session(&mut self, outcome: Outcome, detail: String) {
        if let Some(s) = self.session.take() {
            self.revision += 1;
            self.last_session = Some((s.id, outcome));
            self.events.push(Event {
                at: self.now,
                session: Some(s.id),
                kind: EventKind::SessionEnded { outcome, detail },
            });
            if s.info.id == self.sanitation.program {
                let drained = self
                    .profile
                    .bath
                    .as_ref()
                    .is_some_and(|b| self.sensors.water_level <= b.empty_level);
                let cycle = match s.options.values.get(crate::sanitation::CYCLE_OPTION) {
                    Some(crate::session::OptionValue::Text(c)) => c.clone(),
                    _ => String::new(),
                };
                let record = SanitationRecord::judge(
                    &self.sanitation,
                    cycle,
                    outcome == Outcome::Completed,
                    &s.tally,
                    drained,
                    s.initials,
                );
                if record.complete {
                    self.sanitation_owed = false;
                }
                self.events.push(Event {
                    at: self.now,
                    session: Some(s.id),
                    kind: EventKind::SanitationLogged(record),
                });
            } else if s.ran {
                // A client was in the chair: the bath needs sanitizing.
                self.sanitation_owed = true;
            }
        }
        if !self.state.is_latched() {
            self.state = ChairState::Idle;
        }
    }

    fn latch(&mut self, fault: Fault) {
        self.service = None;
        self.manual_bath = None;
        if self.session.is_some() {
            let detail = fault.message();
            self.end_session(Outcome::Aborted, detail);
        }
        self.faults.push(fault);
        self.faults_shared = Arc::from(self.faults.clone());
        if self.state != ChairState::Estop {
            self.state = ChairState::Fault;
        }
        self.supervisor.force_safe();
    }

    fn enter_estop(&mut self, source: StopSource) {
        self.supervisor.force_safe();
        self.service = None;
        self.manual_bath = None;
        if self.state == ChairState::Estop {
            return;
        }
        self.estop = Some(source);
        self.push(EventKind::EmergencyStop { source });
        if self.session.is_some() {
            self.end_session(
                Outcome::EmergencyStop,
                format!("emergency stop from {source}"),
            );
        }
        self.state = ChairState::Estop;
    }

    fn push(&mut self, kind: EventKind) {
        self.revision += 1;
        let session = self.session.as_ref().map(|s| s.id);
        self.events.push(Event {
            at: self.now,
            session,
            kind,
        });
    }
}

/// What the supervisor may let through this tick, besides the limits of the
/// profile: staff's adjustments and the parts the requester may drive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Allowance {
    pub intensity: Intensity,
    /// Heat allowed (pads and water heater).
    pub heat: bool,
    /// Bath allowed (fill, jets, water heater).
    pub bath: bool,
    /// The parts the program declared it uses; the others are held off.
    pub declared: Equipment,
}

/// A program's step index and progress must make sense.
fn check_output(info: &ProgramInfo, step: u32, progress: f64) -> Result<(), ProgramError> {
    if step as usize >= info.steps.len().max(1) {
        return Err(ProgramError {
            kind: ProgramErrorKind::InvalidOutput,
            message: format!(
                "step {step} does not exist (the program declares {})",
                info.steps.len()
            ),
        });
    }
    if !(0.0..=1.0).contains(&progress) {
        return Err(ProgramError {
            kind: ProgramErrorKind::InvalidOutput,
            message: format!("progress {progress} is not between 0 and 1"),
        });
    }
    Ok(())
}
