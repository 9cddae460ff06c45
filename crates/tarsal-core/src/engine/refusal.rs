//! Why the chair would not do what it was asked: one value per reason, with
//! a stable code for D-Bus error names and MQTT responses.

use crate::program::{CatalogError, OptionError};
use crate::session::ChairState;

/// Why the chair would not do what it was asked. `code()` names it for D-Bus
/// errors and MQTT responses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the chair is busy ({state}); stop the current session first")]
    Busy { state: ChairState },
    #[error("the bath is being {action} by hand; stop that first (StopBath)")]
    ManualBathRunning { action: &'static str },
    #[error("a fault is latched ({faults}); acknowledge it before starting")]
    FaultLatched { faults: String },
    #[error("the emergency stop is latched; reset it before starting")]
    EstopLatched,
    #[error(transparent)]
    InvalidOption(#[from] OptionError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error("this chair does not have what the program needs: {missing}")]
    NotFitted { missing: String },
    #[error("no session is running")]
    NotRunning,
    #[error("the session is not paused")]
    NotPaused,
    #[error("the session cannot be paused while {state}")]
    CannotPause { state: ChairState },
    #[error("cannot reset yet: {}", conditions.join("; "))]
    ResetBlocked { conditions: Vec<String> },
    #[error("there is nothing to reset")]
    NothingToReset,
    #[error("the program is not waiting for staff")]
    NotAwaitingStaff,
    #[error("the bath must be sanitized after the previous client first: run `{program}`")]
    SanitationRequired { program: String },
    #[error("the chair is not in service mode")]
    NotInServiceMode,
    #[error("{what} is not allowed; allowed: {allowed}")]
    InvalidValue { what: String, allowed: String },
    #[error("confirm first that the client has none of these: {contraindications}")]
    ContraindicationsNotConfirmed { contraindications: String },
}

impl Refusal {
    /// Stable name, used as the last part of the D-Bus error name.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Busy { .. } | Self::ManualBathRunning { .. } => "Busy",
            Self::FaultLatched { .. } => "FaultLatched",
            Self::EstopLatched => "EmergencyStopLatched",
            Self::InvalidOption(_) => "InvalidOption",
            Self::Catalog(CatalogError::Unknown { .. }) => "UnknownProgram",
            Self::Catalog(CatalogError::Declined { .. }) => "ProgramDeclined",
            Self::Catalog(CatalogError::Failed { .. }) => "ProgramFailed",
            Self::NotFitted { .. } => "NotFitted",
            Self::NotRunning => "NotRunning",
            Self::NotPaused => "NotPaused",
            Self::CannotPause { .. } => "CannotPause",
            Self::ResetBlocked { .. } => "ResetBlocked",
            Self::NothingToReset => "NothingToReset",
            Self::NotAwaitingStaff => "NotAwaitingStaff",
            Self::SanitationRequired { .. } => "SanitationRequired",
            Self::NotInServiceMode => "NotInServiceMode",
            Self::InvalidValue { .. } => "InvalidValue",
            Self::ContraindicationsNotConfirmed { .. } => "ContraindicationsNotConfirmed",
        }
    }
}
