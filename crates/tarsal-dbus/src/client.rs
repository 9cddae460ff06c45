//! Proxies for clients (`tarsalctl`, the panel).

use crate::types::{EventEntry, FaultInfo, ProgramSummary, SanitationEntry};
use serde::Serialize;
use std::collections::HashMap;
use zbus::{DeserializeDict, OwnedVariant, Type, Variant, proxy};

#[proxy(
    interface = "org.tarsal.Chair1",
    default_service = "org.tarsal.Chair1",
    default_path = "/org/tarsal/Chair1"
)]
pub trait Chair1 {
    fn list_programs(&self) -> zbus::Result<Vec<ProgramSummary>>;
    fn describe_program(&self, id: &str) -> zbus::Result<String>;
    fn start_program(&self, id: &str, options: HashMap<&str, Variant<'_>>) -> zbus::Result<u64>;
    fn pause(&self) -> zbus::Result<()>;
    fn resume(&self) -> zbus::Result<()>;
    fn stop(&self) -> zbus::Result<()>;
    fn emergency_stop(&self) -> zbus::Result<()>;
    fn reset_fault(&self) -> zbus::Result<()>;
    fn set_intensity(&self, level: u8) -> zbus::Result<()>;
    fn set_heat(&self, on: bool) -> zbus::Result<()>;
    fn confirm_staff_step(&self, initials: &str) -> zbus::Result<()>;
    fn fill_bath(&self, litres: f64) -> zbus::Result<()>;
    fn drain_bath(&self) -> zbus::Result<()>;
    fn stop_bath(&self) -> zbus::Result<()>;
    fn recent_events(&self, limit: u32, code_prefix: &str) -> zbus::Result<Vec<EventEntry>>;
    fn sanitation_log(&self, limit: u32) -> zbus::Result<Vec<SanitationEntry>>;
    fn export_sanitation_log(&self) -> zbus::Result<String>;

    #[zbus(property)]
    fn state(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn session_id(&self) -> zbus::Result<u64>;
    #[zbus(property)]
    fn program(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn program_name(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn step(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn step_index(&self) -> zbus::Result<u32>;
    #[zbus(property)]
    fn step_count(&self) -> zbus::Result<u32>;
    #[zbus(property)]
    fn progress(&self) -> zbus::Result<f64>;
    #[zbus(property)]
    fn elapsed(&self) -> zbus::Result<u32>;
    #[zbus(property)]
    fn remaining(&self) -> zbus::Result<u32>;
    #[zbus(property)]
    fn intensity(&self) -> zbus::Result<u8>;
    #[zbus(property)]
    fn heat(&self) -> zbus::Result<bool>;
    #[zbus(property)]
    fn bath(&self) -> zbus::Result<bool>;
    #[zbus(property)]
    fn awaiting_staff(&self) -> zbus::Result<bool>;
    #[zbus(property)]
    fn staff_action(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn faults(&self) -> zbus::Result<Vec<FaultInfo>>;
    #[zbus(property)]
    fn emergency_stop_source(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn last_session(&self) -> zbus::Result<(u64, String)>;
    #[zbus(property)]
    fn water_temperature(&self) -> zbus::Result<f64>;
    #[zbus(property)]
    fn water_level(&self) -> zbus::Result<f64>;
    #[zbus(property)]
    fn sole_pad_temperature(&self) -> zbus::Result<f64>;
    #[zbus(property)]
    fn calf_pad_temperature(&self) -> zbus::Result<f64>;
    #[zbus(property)]
    fn setpoints(&self) -> zbus::Result<HashMap<String, f64>>;
    #[zbus(property)]
    fn feet_present(&self) -> zbus::Result<bool>;
    #[zbus(property)]
    fn manual_bath(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn sanitation_owed(&self) -> zbus::Result<bool>;
    #[zbus(property)]
    fn sanitation_required(&self) -> zbus::Result<bool>;
    #[zbus(property)]
    fn program_problems(&self) -> zbus::Result<Vec<(String, String)>>;
    #[zbus(property)]
    fn programs_loading(&self) -> zbus::Result<bool>;
    #[zbus(property)]
    fn programs_revision(&self) -> zbus::Result<u32>;
    #[zbus(property)]
    fn model(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn version(&self) -> zbus::Result<String>;

    #[zbus(signal)]
    fn event(&self, code: String, severity: String, message: String) -> zbus::Result<()>;
    #[zbus(signal)]
    fn session_finished(
        &self,
        session: u64,
        program: String,
        outcome: String,
        detail: String,
    ) -> zbus::Result<()>;
    #[zbus(signal)]
    fn fault_raised(&self, code: String, message: String, advice: String) -> zbus::Result<()>;
}

#[proxy(
    interface = "org.tarsal.Chair1.Service",
    default_service = "org.tarsal.Chair1",
    default_path = "/org/tarsal/Chair1"
)]
pub trait Service {
    fn enter_service_mode(&self) -> zbus::Result<()>;
    fn leave_service_mode(&self) -> zbus::Result<()>;
    fn all_off(&self) -> zbus::Result<()>;
}

#[proxy(
    interface = "org.tarsal.Chair1.Simulator",
    default_service = "org.tarsal.Chair1",
    default_path = "/org/tarsal/Chair1"
)]
pub trait Simulator {
    fn inject_fault(&self, fault: &str) -> zbus::Result<()>;
    fn clear_faults(&self) -> zbus::Result<()>;
    fn set_feet_present(&self, present: bool) -> zbus::Result<()>;
    fn set_emergency_button(&self, pressed: bool) -> zbus::Result<()>;
    #[zbus(property)]
    fn injected_faults(&self) -> zbus::Result<String>;
}

#[proxy(
    interface = "org.tarsal.Chair1.Actuator",
    default_service = "org.tarsal.Chair1"
)]
pub trait Actuator {
    fn set(&self, settings: HashMap<&str, Variant<'_>>) -> zbus::Result<()>;
    fn off(&self) -> zbus::Result<()>;
    #[zbus(property)]
    fn id(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn name(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn kind(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn settings(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn output(&self) -> zbus::Result<HashMap<String, OwnedVariant>>;
    #[zbus(property)]
    fn readings(&self) -> zbus::Result<HashMap<String, OwnedVariant>>;
}

/// Every property of the main object, read in one `GetAll` call (clients
/// that show the whole chair: `tarsalctl status`, the panel). Serialises to
/// JSON with units in the names.
#[derive(Clone, Debug, PartialEq, Serialize, DeserializeDict, Type)]
#[zbus(signature = "a{sv}", rename_all = "PascalCase")]
pub struct ChairProperties {
    pub state: String,
    pub session_id: u64,
    pub program: String,
    pub program_name: String,
    pub step: String,
    pub step_index: u32,
    pub step_count: u32,
    pub progress: f64,
    #[zbus(rename = "Elapsed")]
    pub elapsed_s: u32,
    #[zbus(rename = "Remaining")]
    pub remaining_s: u32,
    pub intensity: u8,
    pub heat: bool,
    pub bath: bool,
    pub awaiting_staff: bool,
    pub staff_action: String,
    pub faults: Vec<FaultInfo>,
    pub emergency_stop_source: String,
    /// The last finished session and its outcome.
    pub last_session: (u64, String),
    #[zbus(rename = "WaterTemperature")]
    pub water_temperature_c: f64,
    #[zbus(rename = "WaterLevel")]
    pub water_level_l: f64,
    #[zbus(rename = "SolePadTemperature")]
    pub sole_pad_temperature_c: f64,
    #[zbus(rename = "CalfPadTemperature")]
    pub calf_pad_temperature_c: f64,
    #[zbus(rename = "Setpoints")]
    pub setpoints_c: HashMap<String, f64>,
    pub feet_present: bool,
    pub manual_bath: String,
    pub sanitation_owed: bool,
    pub sanitation_required: bool,
    /// Program files that were not loaded: (file, reason).
    pub program_problems: Vec<(String, String)>,
    pub programs_loading: bool,
    pub programs_revision: u32,
    pub model: String,
    pub version: String,
}

impl ChairProperties {
    /// Reads them all from the service on `connection`.
    pub async fn read(connection: &zbus::Connection) -> zbus::Result<Self> {
        let reply = connection
            .call_method(
                Some(crate::NAME),
                crate::PATH,
                Some("org.freedesktop.DBus.Properties"),
                "GetAll",
                &(crate::INTERFACE,),
            )
            .await?;
        reply.body().deserialize()
    }
}

/// A fitted actuator as clients show it, outputs and readings as JSON values.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActuatorView {
    pub id: String,
    pub name: String,
    pub kind: String,
    /// What `Set` accepts, for people.
    pub settings: String,
    pub output: serde_json::Map<String, serde_json::Value>,
    pub readings: serde_json::Map<String, serde_json::Value>,
}

/// Every actuator object under [`crate::ACTUATORS_PATH`], sorted by path.
pub async fn read_actuators(connection: &zbus::Connection) -> zbus::Result<Vec<ActuatorView>> {
    let manager = zbus::fdo::ObjectManagerProxy::builder(connection)
        .destination(crate::NAME)
        .path(crate::ACTUATORS_PATH)
        .build()
        .await?;
    let mut paths: Vec<String> = manager
        .get_managed_objects()
        .await?
        .into_keys()
        .map(|path| path.to_string())
        .collect();
    paths.sort();
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let a = ActuatorProxy::builder(connection)
            .path(path)
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await?;
        let object = |m: HashMap<String, OwnedVariant>| {
            m.iter()
                .map(|(k, v)| (k.clone(), variant_json(v)))
                .collect()
        };
        out.push(ActuatorView {
            id: a.id().await?,
            name: a.name().await?,
            kind: a.kind().await?,
            settings: a.settings().await?,
            output: object(a.output().await?),
            readings: object(a.readings().await?),
        });
    }
    Ok(out)
}

/// A plain D-Bus value as JSON (containers as their D-Bus text).
pub fn variant_json(v: &Variant<'_>) -> serde_json::Value {
    use serde_json::json;
    match v {
        Variant::Bool(b) => json!(b),
        Variant::U8(n) => json!(n),
        Variant::U16(n) => json!(n),
        Variant::U32(n) => json!(n),
        Variant::U64(n) => json!(n),
        Variant::I16(n) => json!(n),
        Variant::I32(n) => json!(n),
        Variant::I64(n) => json!(n),
        Variant::F64(n) => json!(n),
        Variant::Str(s) => json!(s.as_str()),
        other => json!(other.to_string()),
    }
}

/// A D-Bus error in one line for people: `Busy: the chair is busy …`.
pub fn describe_error(e: &zbus::Error) -> String {
    match error_name(e) {
        Some((name, message)) => format!(
            "{}: {}",
            crate::error::short_name(&name),
            if message.is_empty() {
                "(no message)"
            } else {
                &message
            }
        ),
        None => e.to_string(),
    }
}

/// The D-Bus error name and message of a reply error (`None` for transport
/// failures, which have no name).
pub fn error_name(e: &zbus::Error) -> Option<(String, String)> {
    match e {
        zbus::Error::MethodError(name, message, _) => Some((
            name.as_str().to_owned(),
            message.clone().unwrap_or_default(),
        )),
        zbus::Error::FDO(fdo) => {
            use zbus::DBusError;
            Some((
                fdo.name().as_str().to_owned(),
                fdo.description().unwrap_or_default().to_owned(),
            ))
        }
        _ => None,
    }
}
