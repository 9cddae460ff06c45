//! Named D-Bus errors: every refusal of the chair as
//! `org.tarsal.Chair1.Error.<Name>` with a message for people. The names
//! are the contract in `tarsal_dbus::error::ERROR_NAMES`.

use tarsal_core::engine::Refusal;
use tarsal_runtime::HandleError;
use zbus::DBusError;

#[derive(Debug, DBusError)]
#[zbus(prefix = "org.tarsal.Chair1.Error")]
pub enum ChairError {
    #[zbus(error)]
    ZBus(zbus::Error),
    Busy(String),
    FaultLatched(String),
    EmergencyStopLatched(String),
    InvalidOption(String),
    UnknownProgram(String),
    ProgramDeclined(String),
    ProgramFailed(String),
    NotFitted(String),
    NotRunning(String),
    NotPaused(String),
    CannotPause(String),
    ResetBlocked(String),
    NothingToReset(String),
    NotAwaitingStaff(String),
    SanitationRequired(String),
    NotInServiceMode(String),
    InvalidValue(String),
    ContraindicationsNotConfirmed(String),
    /// The control loop is gone (the service is shutting down).
    Unavailable(String),
    /// The control loop did not answer in time (stuck or overloaded); its
    /// watchdog cuts power if it is stuck.
    NotResponding(String),
    /// Something the service could not do for reasons of its own (a database error).
    Failed(String),
    /// The chair is not simulated; fault injection needs the simulator.
    NotSimulated(String),
}

impl From<Refusal> for ChairError {
    fn from(r: Refusal) -> Self {
        let m = r.to_string();
        match r.code() {
            "Busy" => Self::Busy(m),
            "FaultLatched" => Self::FaultLatched(m),
            "EmergencyStopLatched" => Self::EmergencyStopLatched(m),
            "InvalidOption" => Self::InvalidOption(m),
            "UnknownProgram" => Self::UnknownProgram(m),
            "ProgramDeclined" => Self::ProgramDeclined(m),
            "ProgramFailed" => Self::ProgramFailed(m),
            "NotFitted" => Self::NotFitted(m),
            "NotRunning" => Self::NotRunning(m),
            "NotPaused" => Self::NotPaused(m),
            "CannotPause" => Self::CannotPause(m),
            "ResetBlocked" => Self::ResetBlocked(m),
            "NothingToReset" => Self::NothingToReset(m),
            "NotAwaitingStaff" => Self::NotAwaitingStaff(m),
            "SanitationRequired" => Self::SanitationRequired(m),
            "NotInServiceMode" => Self::NotInServiceMode(m),
            "InvalidValue" => Self::InvalidValue(m),
            "ContraindicationsNotConfirmed" => Self::ContraindicationsNotConfirmed(m),
            _ => Self::Failed(m),
        }
    }
}

impl From<HandleError> for ChairError {
    fn from(e: HandleError) -> Self {
        match e {
            HandleError::Refused(r) => r.into(),
            HandleError::LoopGone => {
                Self::Unavailable("the chair's control loop is not running".into())
            }
            e @ HandleError::NotAnswering { .. } => Self::NotResponding(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tarsal_dbus::error::{ERROR_NAMES, short_name};

    /// Every variant's name is in `ERROR_NAMES` (the match fails to
    /// compile when a variant is added, which leads here).
    #[test]
    fn error_names_lists_every_variant() {
        let m = String::new;
        let all = [
            ChairError::Busy(m()),
            ChairError::FaultLatched(m()),
            ChairError::EmergencyStopLatched(m()),
            ChairError::InvalidOption(m()),
            ChairError::UnknownProgram(m()),
            ChairError::ProgramDeclined(m()),
            ChairError::ProgramFailed(m()),
            ChairError::NotFitted(m()),
            ChairError::NotRunning(m()),
            ChairError::NotPaused(m()),
            ChairError::CannotPause(m()),
            ChairError::ResetBlocked(m()),
            ChairError::NothingToReset(m()),
            ChairError::NotAwaitingStaff(m()),
            ChairError::SanitationRequired(m()),
            ChairError::NotInServiceMode(m()),
            ChairError::InvalidValue(m()),
            ChairError::ContraindicationsNotConfirmed(m()),
            ChairError::Unavailable(m()),
            ChairError::NotResponding(m()),
            ChairError::Failed(m()),
            ChairError::NotSimulated(m()),
        ];
        for e in &all {
            match e {
                ChairError::ZBus(_) => unreachable!("not a chair error"),
                ChairError::Busy(_)
                | ChairError::FaultLatched(_)
                | ChairError::EmergencyStopLatched(_)
                | ChairError::InvalidOption(_)
                | ChairError::UnknownProgram(_)
                | ChairError::ProgramDeclined(_)
                | ChairError::ProgramFailed(_)
                | ChairError::NotFitted(_)
                | ChairError::NotRunning(_)
                | ChairError::NotPaused(_)
                | ChairError::CannotPause(_)
                | ChairError::ResetBlocked(_)
                | ChairError::NothingToReset(_)
                | ChairError::NotAwaitingStaff(_)
                | ChairError::SanitationRequired(_)
                | ChairError::NotInServiceMode(_)
                | ChairError::InvalidValue(_)
                | ChairError::ContraindicationsNotConfirmed(_)
                | ChairError::Unavailable(_)
                | ChairError::NotResponding(_)
                | ChairError::Failed(_)
                | ChairError::NotSimulated(_) => {}
            }
            let name = e.name();
            assert!(ERROR_NAMES.contains(&short_name(name.as_str())), "{name}");
        }
        assert_eq!(all.len(), ERROR_NAMES.len());
    }
}
