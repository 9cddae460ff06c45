//! The chair's named D-Bus errors as clients see them: every refusal is
//! `org.tarsal.Chair1.Error.<Name>` with a message for people. The service's
//! side (which refusal becomes which name) is in `tarsal-dbus-server`.

/// The last part of every error name the service answers with, for
/// clients that translate them (the panel's catalogues are checked
/// against this list).
pub const ERROR_NAMES: &[&str] = &[
    "Busy",
    "FaultLatched",
    "EmergencyStopLatched",
    "InvalidOption",
    "UnknownProgram",
    "ProgramDeclined",
    "ProgramFailed",
    "NotFitted",
    "NotRunning",
    "NotPaused",
    "CannotPause",
    "ResetBlocked",
    "NothingToReset",
    "NotAwaitingStaff",
    "SanitationRequired",
    "NotInServiceMode",
    "InvalidValue",
    "ContraindicationsNotConfirmed",
    "Unavailable",
    "NotResponding",
    "Failed",
    "NotSimulated",
];

/// The last part of a `org.tarsal.Chair1.Error.*` name, for clients.
pub fn short_name(full: &str) -> &str {
    full.rsplit('.').next().unwrap_or(full)
}
