//! Tarsal's control loop: the thread that owns the chair and ticks it, the
//! watchdog that cuts power if the loop hangs, and the [`ChairHandle`] through
//! which every adapter (D-Bus, MQTT, panel) sends commands and reads state.
//!
//! [`Chair`] is the tick itself (hardware read → engine → hardware write),
//! usable without any thread by tests and developer tools.

// The control path: no unwrap, expect or panic outside tests; errors are
// values that reach the caller (docs/ARCHITECTURE.md, "Lints").
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod chair;
pub mod control_loop;

pub use chair::Chair;
pub use control_loop::{
    ChairHandle, ControlLoop, HandleError, LoopConfig, Pacing, REPLY_TIMEOUT, SHUTDOWN_TIMEOUT,
};
