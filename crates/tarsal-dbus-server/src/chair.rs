//! The main object's interfaces: `org.tarsal.Chair1`, `.Service`, `.Simulator`.

use crate::ChairError;
use crate::History;
use crate::options::session_options;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tarsal_core::engine::{BathAction, ChairStatus, Command, ManualCommand};
use tarsal_core::event::StopSource;
use tarsal_core::program::ProgramInfo;
use tarsal_core::units::{Intensity, Litres};
use tarsal_core::view::ChairView;
use tarsal_core::{ChairProfile, Refusal};
use tarsal_dbus::types::{EventEntry, FaultInfo, ProgramSummary, SanitationEntry};
use tarsal_runtime::ChairHandle;
use tarsal_sim::{InjectedFault, SimHandle};
use tarsal_store::{EventQuery, Store};
use tokio::sync::{mpsc, oneshot};
use zbus::object_server::SignalEmitter;
use zbus::{OwnedVariant, interface};

/// Everything the main interface shows as properties, rounded so that
/// noise does not become PropertiesChanged traffic.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct View {
    pub state: String,
    pub session_id: u64,
    pub program: String,
    pub program_name: String,
    pub step: String,
    pub step_index: u32,
    pub step_count: u32,
    pub progress: f64,
    pub elapsed: u32,
    pub remaining: u32,
    pub intensity: u8,
    pub heat: bool,
    pub bath: bool,
    pub awaiting_staff: bool,
    pub staff_action: String,
    pub faults: Vec<FaultInfo>,
    pub emergency_stop: String,
    pub last_session: (u64, String),
    pub water_temperature: f64,
    pub water_level: f64,
    pub sole_pad_temperature: f64,
    pub calf_pad_temperature: f64,
    pub setpoints: HashMap<String, f64>,
    pub feet_present: bool,
    pub manual_bath: String,
    pub sanitation_owed: bool,
    pub sanitation_required: bool,
    pub program_problems: Vec<(String, String)>,
    pub programs_loading: bool,
    pub programs_revision: u32,
}

/// The view behind a lock that nobody holds across an await; a panic while
/// holding it leaves a whole view behind, so poisoning is ignored.
pub(crate) fn lock(view: &Mutex<View>) -> MutexGuard<'_, View> {
    view.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl View {
    pub fn of(s: &ChairStatus) -> Self {
        // D-Bus has no "none": absent values are empty strings and zeros.
        let v = ChairView::of(s);
        let session = v.session.as_ref();
        let text = |x: Option<&'static str>| x.unwrap_or_default().to_owned();
        Self {
            state: v.state.into(),
            session_id: session.map_or(0, |x| x.id),
            program: session.map_or_else(String::new, |x| x.program.clone()),
            program_name: session.map_or_else(String::new, |x| x.program_name.clone()),
            step: session.map_or_else(String::new, |x| x.step.clone()),
            step_index: session.map_or(0, |x| x.step_index),
            step_count: session.map_or(0, |x| x.step_count),
            progress: session.map_or(0.0, |x| x.progress),
            elapsed: session.map_or(0, |x| x.elapsed.as_secs() as u32),
            remaining: session.map_or(0, |x| x.remaining.as_secs() as u32),
            intensity: session.map_or(Intensity::DEFAULT.level(), |x| x.intensity),
            heat: session.is_some_and(|x| x.heat),
            bath: session.is_some_and(|x| x.bath),
            awaiting_staff: session.is_some_and(|x| x.awaiting_staff),
            staff_action: session
                .and_then(|x| x.staff_action.clone())
                .unwrap_or_default(),
            faults: v
                .faults
                .iter()
                .map(|f| FaultInfo {
                    code: f.code.into(),
                    message: f.message.clone(),
                    advice: f.advice.clone(),
                })
                .collect(),
            emergency_stop: text(v.emergency_stop),
            last_session: v
                .last_session
                .map_or((0, String::new()), |(id, o)| (id, o.into())),
            water_temperature: v.readings.water_temperature_c,
            water_level: v.readings.water_level_l,
            sole_pad_temperature: v.readings.sole_pad_temperature_c,
            calf_pad_temperature: v.readings.calf_pad_temperature_c,
            setpoints: v
                .setpoints_c
                .iter()
                .map(|(h, c)| ((*h).to_owned(), *c))
                .collect(),
            feet_present: v.readings.feet_present,
            manual_bath: text(v.manual_bath),
            sanitation_owed: v.sanitation_owed,
            sanitation_required: v.sanitation_required,
            program_problems: v.program_problems,
            programs_loading: v.programs_loading,
            programs_revision: v.programs_revision as u32,
        }
    }

    /// Whether the values that change in steps (state, program, faults…),
    /// as opposed to readings and progress, are the same; a change in them
    /// is published at once.
    pub fn same_discrete(&self, o: &View) -> bool {
        self.state == o.state
            && self.session_id == o.session_id
            && self.step == o.step
            && self.intensity == o.intensity
            && self.heat == o.heat
            && self.awaiting_staff == o.awaiting_staff
            && self.faults == o.faults
            && self.emergency_stop == o.emergency_stop
            && self.last_session == o.last_session
            && self.manual_bath == o.manual_bath
            && self.feet_present == o.feet_present
            && self.sanitation_owed == o.sanitation_owed
            && self.setpoints == o.setpoints
            && self.program_problems == o.program_problems
            && self.programs_revision == o.programs_revision
    }
}

pub(crate) struct Chair1 {
    handle: ChairHandle,
    database: Option<History>,
    model: String,
    /// What the properties show; the mirror task replaces it.
    pub(crate) view: Arc<Mutex<View>>,
    /// Asks the mirror to publish the latest status now and say when done.
    catch_up: mpsc::UnboundedSender<oneshot::Sender<()>>,
}

impl Chair1 {
    pub fn new(
        handle: ChairHandle,
        database: Option<History>,
        profile: &ChairProfile,
        view: Arc<Mutex<View>>,
        catch_up: mpsc::UnboundedSender<oneshot::Sender<()>>,
    ) -> Self {
        Self {
            handle,
            database,
            model: profile.chair.model.clone(),
            view,
            catch_up,
        }
    }

    fn view(&self) -> MutexGuard<'_, View> {
        lock(&self.view)
    }

    async fn command(&self, command: Command) -> Result<(), ChairError> {
        let result = self.handle.command(command).await;
        self.caught_up().await;
        Ok(result?)
    }

    /// Waits until the properties (and their PropertiesChanged signals)
    /// show the status the loop published for this call, so that a client
    /// reading a property after the call returns sees its effect.
    async fn caught_up(&self) {
        let (done, waited) = oneshot::channel();
        if self.catch_up.send(done).is_ok() {
            let _ = waited.await;
        }
    }

    async fn history<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Store) -> Result<T, tarsal_store::StoreError> + Send + 'static,
    ) -> Result<T, ChairError> {
        let Some(history) = self.database.clone() else {
            return Err(ChairError::Failed("this service keeps no database".into()));
        };
        let known = self.handle.events_handed_out();
        tokio::task::spawn_blocking(move || {
            // A store that is slower than this still answers, with what it has.
            if !history.written.wait_for(known, Duration::from_secs(2)) {
                tracing::warn!(known, "history read before the store caught up");
            }
            let store = Store::open_read_only(&history.path)?;
            read(&store)
        })
        .await
        .map_err(|e| ChairError::Failed(e.to_string()))?
        .map_err(|e| ChairError::Failed(e.to_string()))
    }

    async fn find_program(&self, id: &str) -> Result<std::sync::Arc<ProgramInfo>, ChairError> {
        let programs = self.handle.programs().await?;
        let known = programs.iter().find(|p| p.id == id).cloned();
        known.ok_or_else(|| {
            let mut ids: Vec<&str> = programs.iter().map(|p| p.id.as_str()).collect();
            ids.sort_unstable();
            ChairError::UnknownProgram(format!(
                "there is no program `{}`; available: {}",
                tarsal_core::text::echo(id),
                ids.join(", ")
            ))
        })
    }
}

fn uses(info: &ProgramInfo) -> Vec<String> {
    info.uses.codes().into_iter().map(str::to_owned).collect()
}

/// A program's whole description as JSON (documented in docs/dbus.md).
pub(crate) fn program_json(info: &ProgramInfo) -> serde_json::Value {
    serde_json::json!({
        "id": info.id,
        "name": info.name,
        "description": info.description,
        "version": info.version,
        "duration_s": info.duration.as_secs(),
        "steps": info.steps,
        "options": info.options,
        "contraindications": info.contraindications,
        "uses": uses(info),
        "translations": info.translations,
    })
}

#[interface(name = "org.tarsal.Chair1")]
impl Chair1 {
    /// The programs this chair can run.
    async fn list_programs(&self) -> Result<Vec<ProgramSummary>, ChairError> {
        Ok(self
            .handle
            .programs()
            .await?
            .iter()
            .map(|p| ProgramSummary {
                id: p.id.clone(),
                name: p.name.clone(),
                description: p.description.clone(),
                duration_s: p.duration.as_secs() as u32,
                uses: uses(p),
            })
            .collect())
    }

    /// One program's whole description (steps, options, contraindications,
    /// translations) as JSON.
    async fn describe_program(&self, id: &str) -> Result<String, ChairError> {
        let info = self.find_program(id).await?;
        Ok(program_json(&info).to_string())
    }

    /// Starts a session. Options: `intensity` (1–5), `heat`, `bath`,
    /// `contraindications-confirmed` (required when the program declares
    /// contraindications), and the program's own options by key.
    async fn start_program(
        &self,
        id: &str,
        options: HashMap<String, OwnedVariant>,
    ) -> Result<u64, ChairError> {
        let info = self.find_program(id).await?;
        let (options, confirmed) = session_options(&options)?;
        if !info.contraindications.is_empty() && !confirmed {
            return Err(Refusal::ContraindicationsNotConfirmed {
                contraindications: info.contraindications.join("; "),
            }
            .into());
        }
        let started = self.handle.start(id, options).await;
        self.caught_up().await;
        Ok(started?.0)
    }

    async fn pause(&self) -> Result<(), ChairError> {
        self.command(Command::Pause).await
    }

    async fn resume(&self) -> Result<(), ChairError> {
        self.command(Command::Resume).await
    }

    /// Ends the session: rollers park, everything winds down.
    async fn stop(&self) -> Result<(), ChairError> {
        self.command(Command::Stop).await
    }

    /// All motion and heat off at once, valve closed, jets off; the water
    /// stays. Latched until `ResetFault`.
    async fn emergency_stop(&self) -> Result<(), ChairError> {
        self.command(Command::EmergencyStop(StopSource::Local))
            .await
    }

    /// Acknowledges latched faults or the emergency stop, once their cause is gone.
    async fn reset_fault(&self) -> Result<(), ChairError> {
        self.command(Command::Reset).await
    }

    async fn set_intensity(&self, level: u8) -> Result<(), ChairError> {
        let intensity = Intensity::new(level).ok_or_else(|| {
            ChairError::InvalidValue(format!("intensity {level} is not allowed; allowed: 1–5"))
        })?;
        self.command(Command::SetIntensity(intensity)).await
    }

    async fn set_heat(&self, on: bool) -> Result<(), ChairError> {
        self.command(Command::SetHeat(on)).await
    }

    /// Staff did what the current step asks; initials go into the sanitation log.
    async fn confirm_staff_step(&self, initials: &str) -> Result<(), ChairError> {
        self.command(Command::ConfirmStaffStep {
            initials: initials.to_owned(),
        })
        .await
    }

    /// Fills the bath to `litres` (no session may run).
    async fn fill_bath(&self, litres: f64) -> Result<(), ChairError> {
        self.command(Command::Bath(BathAction::Fill { to: Litres(litres) }))
            .await
    }

    async fn drain_bath(&self) -> Result<(), ChairError> {
        self.command(Command::Bath(BathAction::Drain)).await
    }

    async fn stop_bath(&self) -> Result<(), ChairError> {
        self.command(Command::Bath(BathAction::Stop)).await
    }

    /// The newest `limit` recorded events (oldest first) whose code starts
    /// with `code_prefix` (empty: all).
    async fn recent_events(
        &self,
        limit: u32,
        code_prefix: &str,
    ) -> Result<Vec<EventEntry>, ChairError> {
        let query = EventQuery {
            session: None,
            code_prefix: (!code_prefix.is_empty()).then(|| code_prefix.to_owned()),
            limit: Some(limit.min(10_000)),
        };
        let rows = self.history(move |s| s.events(&query)).await?;
        Ok(rows
            .into_iter()
            .map(|e| EventEntry {
                uid: e.uid,
                at_ms: e.at.0.max(0) as u64,
                session: e.session.map_or(-1, |s| s.0 as i64),
                code: e.code,
                severity: e.severity,
                message: e.message,
                advice: e.advice,
                data: e.data.to_string(),
            })
            .collect())
    }

    /// The newest `limit` sanitize cycles, newest first.
    async fn sanitation_log(&self, limit: u32) -> Result<Vec<SanitationEntry>, ChairError> {
        let rows = self
            .history(move |s| s.sanitation_log(limit.min(10_000)))
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| SanitationEntry {
                at_ms: r.at.0.max(0) as u64,
                session: r.session.map_or(-1, |s| s.0 as i64),
                cycle: r.cycle,
                complete: r.complete,
                circulation_minutes: r.circulation_s / 60.0,
                drained: r.drained,
                initials: r.initials,
                missing: r.missing,
            })
            .collect())
    }

    /// The whole sanitation log as CSV (UTC times), for inspectors.
    async fn export_sanitation_log(&self) -> Result<String, ChairError> {
        let rows = self.history(|s| s.sanitation_log(u32::MAX)).await?;
        Ok(tarsal_store::sanitation_csv(&rows))
    }

    /// idle, preparing, running, paused, finishing, fault, estop, service.
    #[zbus(property)]
    fn state(&self) -> String {
        self.view().state.clone()
    }

    /// The running session's id (0 without one).
    #[zbus(property)]
    fn session_id(&self) -> u64 {
        self.view().session_id
    }

    /// The running program's id (empty without one).
    #[zbus(property)]
    fn program(&self) -> String {
        self.view().program.clone()
    }

    #[zbus(property)]
    fn program_name(&self) -> String {
        self.view().program_name.clone()
    }

    /// The current step in words.
    #[zbus(property)]
    fn step(&self) -> String {
        self.view().step.clone()
    }

    #[zbus(property)]
    fn step_index(&self) -> u32 {
        self.view().step_index
    }

    #[zbus(property)]
    fn step_count(&self) -> u32 {
        self.view().step_count
    }

    /// 0–1 through the program.
    #[zbus(property)]
    fn progress(&self) -> f64 {
        self.view().progress
    }

    /// Seconds the program has run, pauses excluded.
    #[zbus(property)]
    fn elapsed(&self) -> u32 {
        self.view().elapsed
    }

    /// Seconds left, by the program's estimate.
    #[zbus(property)]
    fn remaining(&self) -> u32 {
        self.view().remaining
    }

    /// 1–5.
    #[zbus(property)]
    fn intensity(&self) -> u8 {
        self.view().intensity
    }

    #[zbus(property)]
    fn heat(&self) -> bool {
        self.view().heat
    }

    #[zbus(property)]
    fn bath(&self) -> bool {
        self.view().bath
    }

    #[zbus(property)]
    fn awaiting_staff(&self) -> bool {
        self.view().awaiting_staff
    }

    /// What staff should do before confirming (empty unless awaiting staff).
    #[zbus(property)]
    fn staff_action(&self) -> String {
        self.view().staff_action.clone()
    }

    /// Latched faults: code, what happened, what to do.
    #[zbus(property)]
    fn faults(&self) -> Vec<FaultInfo> {
        self.view().faults.clone()
    }

    /// Who pressed the latched emergency stop (`button`, `local`, `remote`), or empty.
    #[zbus(property)]
    fn emergency_stop_source(&self) -> String {
        self.view().emergency_stop.clone()
    }

    /// The last session that ended, and its outcome.
    #[zbus(property)]
    fn last_session(&self) -> (u64, String) {
        self.view().last_session.clone()
    }

    /// °C.
    #[zbus(property)]
    fn water_temperature(&self) -> f64 {
        self.view().water_temperature
    }

    /// Litres.
    #[zbus(property)]
    fn water_level(&self) -> f64 {
        self.view().water_level
    }

    /// °C.
    #[zbus(property)]
    fn sole_pad_temperature(&self) -> f64 {
        self.view().sole_pad_temperature
    }

    /// °C.
    #[zbus(property)]
    fn calf_pad_temperature(&self) -> f64 {
        self.view().calf_pad_temperature
    }

    /// Heater setpoints in force, °C, by heater (`water`, `sole_pad`, `calf_pad`).
    #[zbus(property)]
    fn setpoints(&self) -> HashMap<String, f64> {
        self.view().setpoints.clone()
    }

    #[zbus(property)]
    fn feet_present(&self) -> bool {
        self.view().feet_present
    }

    /// `fill` or `drain` while the bath is filled or drained by hand, else empty.
    #[zbus(property)]
    fn manual_bath(&self) -> String {
        self.view().manual_bath.clone()
    }

    /// A client session ended since the bath was last sanitized.
    #[zbus(property)]
    fn sanitation_owed(&self) -> bool {
        self.view().sanitation_owed
    }

    /// The salon requires sanitizing between clients.
    #[zbus(property)]
    fn sanitation_required(&self) -> bool {
        self.view().sanitation_required
    }

    /// Program files that were not loaded, with the reason: (file, reason).
    /// Each also raised a `program.refused` event.
    #[zbus(property)]
    fn program_problems(&self) -> Vec<(String, String)> {
        self.view().program_problems.clone()
    }

    /// The programs are still loading (just after start): more will be
    /// listed soon.
    #[zbus(property)]
    fn programs_loading(&self) -> bool {
        self.view().programs_loading
    }

    /// Changes whenever the programs may have changed (a load or reload
    /// finished): list them again.
    #[zbus(property)]
    fn programs_revision(&self) -> u32 {
        self.view().programs_revision
    }

    /// The chair's model (its profile).
    #[zbus(property(emits_changed_signal = "const"))]
    fn model(&self) -> String {
        self.model.clone()
    }

    /// The service's version.
    #[zbus(property(emits_changed_signal = "const"))]
    fn version(&self) -> String {
        env!("CARGO_PKG_VERSION").into()
    }

    /// Every event the chair records: code, severity, message.
    #[zbus(signal)]
    pub async fn event(
        emitter: &SignalEmitter<'_>,
        code: &str,
        severity: &str,
        message: &str,
    ) -> zbus::Result<()>;

    /// A session ended: id, program, outcome, why.
    #[zbus(signal)]
    pub async fn session_finished(
        emitter: &SignalEmitter<'_>,
        session: u64,
        program: &str,
        outcome: &str,
        detail: &str,
    ) -> zbus::Result<()>;

    /// A fault was latched: code, what happened, what to do.
    #[zbus(signal)]
    pub async fn fault_raised(
        emitter: &SignalEmitter<'_>,
        code: &str,
        message: &str,
        advice: &str,
    ) -> zbus::Result<()>;
}

/// A technician's service mode: single actuators, through the supervisor.
pub(crate) struct Service {
    handle: ChairHandle,
}

impl Service {
    pub fn new(handle: ChairHandle) -> Self {
        Self { handle }
    }
}

#[interface(name = "org.tarsal.Chair1.Service")]
impl Service {
    /// Only while idle. The actuator objects' `Set` works only in service mode.
    async fn enter_service_mode(&self) -> Result<(), ChairError> {
        Ok(self.handle.command(Command::EnterServiceMode).await?)
    }

    async fn leave_service_mode(&self) -> Result<(), ChairError> {
        Ok(self.handle.command(Command::LeaveServiceMode).await?)
    }

    /// Every actuator off (service mode).
    async fn all_off(&self) -> Result<(), ChairError> {
        Ok(self
            .handle
            .command(Command::SetActuator(ManualCommand::AllOff))
            .await?)
    }
}

/// Fault injection on a simulated chair: for training, demos and tests.
pub(crate) struct Simulator {
    sim: SimHandle,
}

impl Simulator {
    pub fn new(sim: SimHandle) -> Self {
        Self { sim }
    }
}

#[interface(name = "org.tarsal.Chair1.Simulator")]
impl Simulator {
    /// Injects a fault described as JSON, e.g. `{"fault":"leak","rate":0.1,"reaches_sensor":true}`.
    fn inject_fault(&self, fault: &str) -> Result<(), ChairError> {
        let fault: InjectedFault = serde_json::from_str(fault)
            .map_err(|e| ChairError::InvalidValue(format!("not a simulator fault: {e}")))?;
        self.sim.inject(fault);
        Ok(())
    }

    /// Repairs every injected fault.
    fn clear_faults(&self) {
        self.sim.clear_all();
    }

    /// A client puts feet on, or takes them off, the footrest.
    fn set_feet_present(&self, present: bool) {
        self.sim.set_feet_present(present);
    }

    /// Presses or releases the chair's emergency-stop button.
    fn set_emergency_button(&self, pressed: bool) {
        self.sim.set_estop_pressed(pressed);
    }

    /// The injected faults, as JSON.
    #[zbus(property(emits_changed_signal = "false"))]
    fn injected_faults(&self) -> String {
        serde_json::to_string(&self.sim.faults()).unwrap_or_default()
    }
}
