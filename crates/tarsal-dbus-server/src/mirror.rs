//! Keeps the bus in step with the control loop: status → properties,
//! events → signals.

use crate::actuator::{self, Actuator};
use crate::chair::{self, Chair1, View};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tarsal_core::event::{EventKind, EventRecord};
use tarsal_core::model::ActuatorId;
use tarsal_runtime::ChairHandle;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, oneshot};
use zbus::object_server::InterfaceRef;
use zbus::{Connection, Variant};

/// Continuous values (readings, progress) are published at most this often.
const CONTINUOUS_EVERY: Duration = Duration::from_millis(100);
/// Actuator outputs and readings at most this often.
const ACTUATORS_EVERY: Duration = Duration::from_millis(500);

/// Asks for the latest status to be shown now; answered when it is.
pub(crate) type CatchUp = mpsc::UnboundedReceiver<oneshot::Sender<()>>;

pub(crate) async fn run(
    connection: Connection,
    handle: ChairHandle,
    actuators: Vec<ActuatorId>,
    view: Arc<Mutex<View>>,
    catch_up: CatchUp,
) {
    if let Err(e) = mirror(&connection, handle, actuators, &view, catch_up).await {
        tracing::error!(error = %e, "the D-Bus mirror stopped; properties and signals are no longer updated");
    }
}

async fn mirror(
    connection: &Connection,
    handle: ChairHandle,
    ids: Vec<ActuatorId>,
    view: &Mutex<View>,
    mut catch_up: CatchUp,
) -> zbus::Result<()> {
    let server = connection.object_server();
    let chair = server.interface::<_, Chair1>(tarsal_dbus::PATH).await?;
    let mut objects = Vec::new();
    for id in ids {
        objects.push((
            id,
            server.interface::<_, Actuator>(actuator::path(id)).await?,
        ));
    }
    let mut status = handle.watch_status();
    let mut events = handle.subscribe();
    let mut programs: HashMap<u64, String> = HashMap::new();
    let long_ago = Instant::now()
        .checked_sub(Duration::from_secs(60))
        .unwrap_or_else(Instant::now);
    let (mut continuous_at, mut actuators_at) = (long_ago, long_ago);
    loop {
        // A method call waiting for its effect to show counts as a change.
        let waiting = tokio::select! {
            changed = status.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
                None
            }
            Some(done) = catch_up.recv() => Some(done),
            event = events.recv() => {
                match event {
                    Ok(record) => signal(&chair, &record, &mut programs).await?,
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "the D-Bus adapter fell behind; some event signals were not sent (the database has them)");
                    }
                    Err(RecvError::Closed) => return Ok(()),
                }
                continue;
            }
        };
        let s = status.borrow_and_update().clone();
        let new = View::of(&s);
        let discrete = waiting.is_some() || !chair::lock(view).same_discrete(&new);
        if discrete || continuous_at.elapsed() >= CONTINUOUS_EVERY {
            publish(&chair, view, new).await?;
            continuous_at = Instant::now();
        }
        if discrete || actuators_at.elapsed() >= ACTUATORS_EVERY {
            for (id, object) in &objects {
                publish_actuator(object, actuator::shows(*id, &s)).await?;
            }
            actuators_at = Instant::now();
        }
        if let Some(done) = waiting {
            let _ = done.send(());
        }
    }
}

/// Replaces the view and emits PropertiesChanged for what differs.
async fn publish(chair: &InterfaceRef<Chair1>, view: &Mutex<View>, new: View) -> zbus::Result<()> {
    let emitter = chair.signal_emitter();
    let (old, new) = {
        let mut shown = chair::lock(view);
        (std::mem::replace(&mut *shown, new.clone()), new)
    };
    // Every change in one PropertiesChanged signal: a client sees the state
    // with the faults, program and step that go with it, and the bus carries
    // one signal per update instead of one per property.
    let mut changed: HashMap<&str, Variant<'_>> = HashMap::new();
    macro_rules! changed {
        ($($field:ident => $name:literal),* $(,)?) => {
            $( if old.$field != new.$field { changed.insert($name, Variant::from(new.$field.clone())); } )*
        };
    }
    changed!(
        session_id => "SessionId",
        program => "Program",
        program_name => "ProgramName",
        step => "Step",
        step_index => "StepIndex",
        step_count => "StepCount",
        progress => "Progress",
        elapsed => "Elapsed",
        remaining => "Remaining",
        intensity => "Intensity",
        heat => "Heat",
        bath => "Bath",
        awaiting_staff => "AwaitingStaff",
        staff_action => "StaffAction",
        emergency_stop => "EmergencyStopSource",
        last_session => "LastSession",
        water_temperature => "WaterTemperature",
        water_level => "WaterLevel",
        sole_pad_temperature => "SolePadTemperature",
        calf_pad_temperature => "CalfPadTemperature",
        setpoints => "Setpoints",
        feet_present => "FeetPresent",
        manual_bath => "ManualBath",
        sanitation_owed => "SanitationOwed",
        sanitation_required => "SanitationRequired",
        program_problems => "ProgramProblems",
        programs_loading => "ProgramsLoading",
        programs_revision => "ProgramsRevision",
        state => "State",
    );
    if old.faults != new.faults {
        let faults: Vec<(String, String, String)> = new
            .faults
            .iter()
            .map(|f| (f.code.clone(), f.message.clone(), f.advice.clone()))
            .collect();
        changed.insert("Faults", Variant::from(faults));
    }
    if changed.is_empty() {
        return Ok(());
    }
    let interface = zbus::names::InterfaceName::from_static_str_unchecked(tarsal_dbus::INTERFACE);
    zbus::fdo::Properties::properties_changed(emitter, interface, changed, Cow::Borrowed(&[])).await
}

async fn publish_actuator(
    object: &InterfaceRef<Actuator>,
    (output, readings): (actuator::Shows, actuator::Shows),
) -> zbus::Result<()> {
    let emitter = object.signal_emitter();
    let mut a = object.get_mut().await;
    if a.output != output {
        a.output = output;
        a.output_changed(emitter).await?;
    }
    if a.readings != readings {
        a.readings = readings;
        a.readings_changed(emitter).await?;
    }
    Ok(())
}

/// The signals for one event.
async fn signal(
    chair: &InterfaceRef<Chair1>,
    record: &EventRecord,
    programs: &mut HashMap<u64, String>,
) -> zbus::Result<()> {
    let emitter = chair.signal_emitter();
    let kind = &record.event.kind;
    Chair1::event(
        emitter,
        kind.code(),
        kind.severity().code(),
        &kind.message(),
    )
    .await?;
    let session = record.event.session.map_or(0, |s| s.0);
    match kind {
        EventKind::SessionStarted { program, .. } => {
            programs.insert(session, program.clone());
        }
        EventKind::SessionEnded { outcome, detail } => {
            let program = programs.remove(&session).unwrap_or_default();
            Chair1::session_finished(emitter, session, &program, outcome.code(), detail).await?;
        }
        EventKind::Fault(f) => {
            Chair1::fault_raised(emitter, f.code(), &f.message(), &f.advice()).await?;
        }
        _ => {}
    }
    Ok(())
}
