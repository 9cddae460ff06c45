//! Structured values on the wire (D-Bus structs), shared by server and clients.

use serde::{Deserialize, Serialize};
use zbus::Type;

/// A latched fault: code, what happened, what to do. Signature `(sss)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct FaultInfo {
    pub code: String,
    pub message: String,
    pub advice: String,
}

/// A program in the list. Signature `(sssuas)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct ProgramSummary {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Expected length in seconds.
    pub duration_s: u32,
    /// The chair parts it uses: `foot_rollers`, `calf_units`, `sole_heat`, `calf_heat`, `bath`.
    pub uses: Vec<String>,
}

/// A recorded event. Signature `(stxsssss)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct EventEntry {
    pub uid: String,
    /// Unix time in milliseconds.
    pub at_ms: u64,
    /// The session, or -1.
    pub session: i64,
    pub code: String,
    pub severity: String,
    pub message: String,
    pub advice: String,
    /// The event's details as JSON, shaped by its code (`tarsal_core::wire`).
    pub data: String,
}

/// A sanitize cycle in the log. Signature `(txsbdbass)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct SanitationEntry {
    /// Unix time in milliseconds when the cycle ended.
    pub at_ms: u64,
    /// The session, or -1.
    pub session: i64,
    pub cycle: String,
    pub complete: bool,
    pub circulation_minutes: f64,
    pub drained: bool,
    pub initials: Vec<String>,
    pub missing: String,
}
