//! Proxies for clients (`tarsalctl`, the panel).

use crate::types::{EventEntry, FaultInfo, ProgramSummary, SanitationEntry};
use std::collections::HashMap;
use zbus::{OwnedVariant, Variant, proxy};

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

/// A D-Bus error in one line for people: `Busy: the chair is busy …`.
pub fn describe_error(e: &zbus::Error) -> String {
    match e {
        zbus::Error::MethodError(name, message, _) => format!(
            "{}: {}",
            crate::error::short_name(name.as_str()),
            message.as_deref().unwrap_or("(no message)")
        ),
        zbus::Error::FDO(fdo) => {
            use zbus::DBusError;
            format!(
                "{}: {}",
                crate::error::short_name(fdo.name().as_str()),
                fdo.description().unwrap_or_default()
            )
        }
        other => other.to_string(),
    }
}
