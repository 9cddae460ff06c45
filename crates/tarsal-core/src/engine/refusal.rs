//! Why the chair would not do what it was asked: one value per reason, with
//! a stable code for D-Bus error names and MQTT responses.

use crate::program::{CatalogError, OptionError};
use crate::session::ChairState;

/// Why the chair would not do what it was asked. `code()` names it for D-Bus
/// errors and MQTT responses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A session is in progress or the chair is in service mode.
    #[error("the chair is busy ({state}); stop the current session first")]
    Busy {
        /// The state the chair is in.
        state: ChairState,
    },
    /// The bath is being filled or drained by hand.
    #[error("the bath is being {action} by hand; stop that first (StopBath)")]
    ManualBathRunning {
        /// `filled` or `drained`.
        action: &'static str,
    },
    /// A fault is latched and must be reset first.
    #[error("a fault is latched ({faults}); acknowledge it before starting")]
    FaultLatched {
        /// Codes of the latched faults, comma-separated.
        faults: String,
    },
    /// The emergency stop is latched and must be reset first.
    #[error("the emergency stop is latched; reset it before starting")]
    EstopLatched,
    /// A session option the program does not have, or a value it does not allow.
    #[error(transparent)]
    InvalidOption(#[from] OptionError),
    /// The program is unknown, or it declined or failed to start.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The chair lacks equipment the program uses.
    #[error("this chair does not have what the program needs: {missing}")]
    NotFitted {
        /// The missing equipment, comma-separated.
        missing: String,
    },
    /// The command needs a live session (preparing, running or paused) and there is none.
    #[error("no session is running")]
    NotRunning,
    /// Resume was asked of a session that is not paused.
    #[error("the session is not paused")]
    NotPaused,
    /// The session is in a state that cannot be paused (preparing or finishing).
    #[error("the session cannot be paused while {state}")]
    CannotPause {
        /// The state the session is in.
        state: ChairState,
    },
    /// A latched fault or emergency stop cannot be reset while its cause persists.
    #[error("cannot reset yet: {}", conditions.join("; "))]
    ResetBlocked {
        /// What still has to be cleared, in words.
        conditions: Vec<String>,
    },
    /// Reset was asked but nothing is latched.
    #[error("there is nothing to reset")]
    NothingToReset,
    /// A staff step was confirmed but the program is not waiting for one.
    #[error("the program is not waiting for staff")]
    NotAwaitingStaff,
    /// The bath must be sanitized after the last client before another program starts.
    #[error("the bath must be sanitized after the previous client first: run `{program}`")]
    SanitationRequired {
        /// The sanitize program to run.
        program: String,
    },
    /// A service-mode command came while the chair is not in service mode.
    #[error("the chair is not in service mode")]
    NotInServiceMode,
    /// A value given with the command is not allowed.
    #[error("{what} is not allowed; allowed: {allowed}")]
    InvalidValue {
        /// The value that was given, and for what.
        what: String,
        /// What would have been allowed.
        allowed: String,
    },
    /// The program declares contraindications the client was not confirmed free of.
    #[error("confirm first that the client has none of these: {contraindications}")]
    ContraindicationsNotConfirmed {
        /// The program's contraindications, `; `-separated.
        contraindications: String,
    },
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
