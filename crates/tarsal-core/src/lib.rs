//! Tarsal's pure core: the chair model and units, chair profiles, the safety
//! supervisor, the session engine and the program interface. Nothing here does
//! I/O, spawns threads or knows about async: the control loop (`tarsal-runtime`)
//! drives it tick by tick, and tests drive it the same way.
//!
//! Reading order: [`units`] → [`model`] → [`profile`] → [`supervisor`] →
//! [`engine`]. Safety lives in [`supervisor`] (limits, interlocks, monitors) and
//! [`heater`] (closed loop and plausibility checks).

// The control path: no unwrap, expect or panic outside tests; errors are
// values that reach the caller (docs/ARCHITECTURE.md, "Lints").
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![deny(missing_docs)]

pub mod builtin;
pub mod command;
pub mod config_file;
pub mod engine;
pub mod event;
pub mod hardware;
pub mod heater;
pub mod model;
pub mod profile;
pub mod program;
pub mod program_interface;
pub mod sanitation;
pub mod session;
pub mod supervisor;
pub mod text;
pub mod units;
pub mod view;
pub mod wallclock;
pub mod wire;

pub use engine::{ChairStatus, Command, Engine, Refusal, SessionStatus};
pub use event::{Event, EventKind, EventRecord, Fault, Severity};
pub use model::{Outputs, Request, SensorReadings};
pub use profile::ChairProfile;
pub use session::{ChairState, Outcome, SessionId, SessionOptions};
