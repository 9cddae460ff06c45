//! Session vocabulary: the state machine's states, how a session ended, and the
//! options it was started with.

use crate::units::Intensity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Identifies one session; allocated by whoever starts sessions (the service
/// continues from the highest id in its database).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(pub u64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The chair's state as clients see it.
///
/// ```text
/// idle → preparing → running ⇄ paused → finishing → idle
///            any of them → fault | estop   (latched until reset) → idle
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChairState {
    /// No session; the chair waits for one (manual bath actions allowed).
    #[default]
    Idle,
    /// A session was accepted; the chair checks it may begin (feet present…).
    Preparing,
    /// The program is running.
    Running,
    /// Staff paused the session: rollers and pressure off, heat keeps its temperature.
    Paused,
    /// The program is over or was stopped; rollers park, everything winds down.
    Finishing,
    /// A fault is latched; outputs are safe until the fault is reset.
    Fault,
    /// The emergency stop is latched; outputs are safe until reset.
    Estop,
    /// A technician drives single actuators (through the supervisor).
    Service,
}

impl ChairState {
    /// Every state, in state-machine order.
    pub const ALL: [Self; 8] = [
        Self::Idle,
        Self::Preparing,
        Self::Running,
        Self::Paused,
        Self::Finishing,
        Self::Fault,
        Self::Estop,
        Self::Service,
    ];

    /// Stable machine-readable name (as serialized), e.g. `idle`, `estop`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Preparing => "preparing",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Finishing => "finishing",
            Self::Fault => "fault",
            Self::Estop => "estop",
            Self::Service => "service",
        }
    }

    /// A session exists in this state.
    pub const fn in_session(self) -> bool {
        matches!(
            self,
            Self::Preparing | Self::Running | Self::Paused | Self::Finishing
        )
    }

    /// Outputs are held safe until someone resets.
    pub const fn is_latched(self) -> bool {
        matches!(self, Self::Fault | Self::Estop)
    }
}

impl fmt::Display for ChairState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// How a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The program ran to its end.
    Completed,
    /// Someone pressed stop, or staff never confirmed a staff step.
    Stopped,
    /// The session reached the profile's maximum duration.
    TimeLimit,
    /// A fault ended it.
    Aborted,
    /// The emergency stop ended it.
    EmergencyStop,
    /// The service stopped during it: shut down (recorded at once), or
    /// died (found at the next start).
    Interrupted,
}

impl Outcome {
    /// Stable machine-readable name (as serialized), e.g. `completed`, `time_limit`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Stopped => "stopped",
            Self::TimeLimit => "time_limit",
            Self::Aborted => "aborted",
            Self::EmergencyStop => "emergency_stop",
            Self::Interrupted => "interrupted",
        }
    }

    /// The outcome whose `code()` is `code`, if any.
    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::Completed,
            Self::Stopped,
            Self::TimeLimit,
            Self::Aborted,
            Self::EmergencyStop,
            Self::Interrupted,
        ]
        .into_iter()
        .find(|o| o.code() == code)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A value of a program-specific option.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OptionValue {
    /// A yes/no option.
    Bool(bool),
    /// An integer option.
    Int(i64),
    /// A text option.
    Text(String),
}

impl fmt::Display for OptionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool(b) => write!(f, "{b}"),
            Self::Int(i) => write!(f, "{i}"),
            Self::Text(s) => f.write_str(s),
        }
    }
}

impl OptionValue {
    /// Reads `k=v` style text: `true`/`false`, an integer, or else text.
    pub fn parse_loose(text: &str) -> Self {
        match text {
            "true" | "on" | "yes" => Self::Bool(true),
            "false" | "off" | "no" => Self::Bool(false),
            _ => text
                .parse::<i64>()
                .map(Self::Int)
                .unwrap_or_else(|_| Self::Text(text.to_owned())),
        }
    }

    /// Reads a command-line `KEY=VALUE` pair (`--option minutes=15`).
    pub fn parse_pair(pair: &str) -> Result<(String, Self), String> {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("{pair}: expected KEY=VALUE"))?;
        Ok((key.trim().to_owned(), Self::parse_loose(value.trim())))
    }
}

/// What staff chose when starting a session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionOptions {
    /// Massage intensity to start with.
    pub intensity: Intensity,
    /// Heat pads and water heater allowed.
    pub heat: bool,
    /// Foot bath allowed.
    pub bath: bool,
    /// Program-specific options, by key.
    pub values: BTreeMap<String, OptionValue>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            intensity: Intensity::DEFAULT,
            heat: true,
            bath: true,
            values: BTreeMap::new(),
        }
    }
}
