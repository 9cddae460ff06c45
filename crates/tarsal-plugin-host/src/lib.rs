//! Massage programs as WebAssembly components, in a sandbox.
//!
//! A plugin is a component for the `tarsal:program` world (`wit/program.wit`).
//! [`Library`] loads plugins from a directory: it checks each file is a
//! component built for a compatible interface version and importing nothing
//! but what the host offers, compiles it (or loads the compiled form from the
//! cache), asks it to describe itself, and checks the description. The loaded
//! plugins and the built-in programs form a [`ProgramSet`], the engine's
//! program catalog; each session gets a fresh instance, a [`WasmProgram`],
//! which the engine drives like any other program.
//!
//! Limits, per call and per instance ([`Limits`]): an instruction budget
//! (fuel: a plugin stuck in a loop is stopped deterministically, whatever the
//! machine's speed), a time limit per call (CPU time the call may use, with a
//! wall-clock backstop; wasmtime's epoch interruption), a memory cap, caps on
//! what a call may pass to the host and on what `describe` may return, and a
//! log budget (lines per call, bytes per second per session). Host work done
//! for a plugin — copying its log lines — is charged to its fuel. A plugin
//! that traps, overruns, runs out of memory or returns nonsense fails its
//! call with a [`ProgramError`](tarsal_core::program::ProgramError) naming
//! the reason; the engine then latches a fault and the chair goes safe.
//!
//! The programs directory is hostile input ([`files`]): only regular files,
//! opened without blocking, read through a size limit; imports and exports
//! are checked before anything is compiled; compiling has a deadline; a file
//! may not take the id of a bundled program ([`BundleManifest`]) or of
//! another file.

// The control path: no unwrap, expect or panic outside tests; errors are
// values that reach the caller (docs/ARCHITECTURE.md, "Lints").
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod bindings;
mod cache;
mod convert;
mod epoch;
pub mod files;
mod host;
mod library;
mod manifest;
mod precheck;
mod program;

pub use library::{
    Library, LoadError, LoadProblem, LoadReport, LoadedPlugin, Origin, ProgramSet, ProgramSources,
};
pub use manifest::{BUNDLE_MANIFEST, BundleManifest, BundledProgram};
pub use program::WasmProgram;

use std::time::Duration;

/// The interface version this host speaks.
pub const INTERFACE_PACKAGE: &str = "tarsal:program";
pub const INTERFACE_VERSION: (u64, u64, u64) = (0, 2, 0);

/// Limits on what a plugin may use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Instruction budget (fuel) for one `tick`.
    pub tick_fuel: u64,
    /// Instruction budget for `describe` and for `start`.
    pub call_fuel: u64,
    /// Time one `tick` may take: its CPU time fits inside one control-loop
    /// period (10 ms at 100 Hz).
    pub tick_time: CallTime,
    /// Time `start` may take (it runs on the control loop's thread).
    pub start_time: CallTime,
    /// Time `describe` may take (it runs while programs load, off the loop).
    pub describe_time: CallTime,
    /// Linear memory cap per instance, in bytes.
    pub memory_bytes: usize,
    /// Cap on the size of what `describe` returns (all text and lists), in bytes.
    pub describe_bytes: usize,
    /// Most bytes a plugin may hand the host in one host call or in what
    /// `tick` and `start` return (a log line, an error message).
    pub hostcall_bytes: usize,
    /// Log lines a plugin may write per call; one more stops the call.
    pub log_lines_per_call: u32,
    /// Longer log lines are cut to this many bytes.
    pub log_line_bytes: usize,
    /// Log bytes a session may write per second on average; more are
    /// dropped (with one warning per session).
    pub log_bytes_per_second: u64,
    /// Log bytes a session may write in a burst before the rate applies.
    pub log_burst_bytes: u64,
    /// Fuel charged for every byte a plugin hands the host.
    pub fuel_per_host_byte: u64,
    /// Largest plugin file accepted, in bytes.
    pub file_bytes: u64,
    /// Longest a file may take to compile (wall-clock time).
    pub compile_time: Duration,
    /// Most disk the compile cache may use, in bytes.
    pub cache_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            tick_fuel: 20_000_000,
            call_fuel: 500_000_000,
            // The backstops are past the loop watchdog's margin (250 ms):
            // a loop held up longer is the watchdog's to stop (power cut,
            // fault), so a thread the OS merely paused is not blamed on the
            // program; a call that really hangs still ends.
            tick_time: CallTime::new(Duration::from_millis(5), Duration::from_secs(1)),
            start_time: CallTime::new(Duration::from_millis(50), Duration::from_secs(1)),
            describe_time: CallTime::new(Duration::from_secs(2), Duration::from_secs(10)),
            memory_bytes: 16 << 20,
            describe_bytes: 256 << 10,
            hostcall_bytes: 64 << 10,
            log_lines_per_call: 20,
            log_line_bytes: 1024,
            log_bytes_per_second: 4 << 10,
            log_burst_bytes: 64 << 10,
            fuel_per_host_byte: 1,
            file_bytes: 64 << 20,
            compile_time: Duration::from_secs(120),
            cache_bytes: 512 << 20,
        }
    }
}

/// What one call into a plugin may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CallBudget {
    pub fuel: u64,
    pub time: CallTime,
    /// Most bytes it may hand the host in one go.
    pub hostcall_bytes: usize,
}

impl Limits {
    /// The budget of a call of `kind`.
    pub(crate) fn for_call(&self, kind: host::CallKind) -> CallBudget {
        match kind {
            host::CallKind::Tick => CallBudget {
                fuel: self.tick_fuel,
                time: self.tick_time,
                hostcall_bytes: self.hostcall_bytes,
            },
            host::CallKind::Start => CallBudget {
                fuel: self.call_fuel,
                time: self.start_time,
                hostcall_bytes: self.hostcall_bytes,
            },
            host::CallKind::Describe => CallBudget {
                fuel: self.call_fuel,
                time: self.describe_time,
                hostcall_bytes: self.hostcall_bytes.max(self.describe_bytes),
            },
        }
    }
}

/// The deadline of one call into a plugin. The call ends when it has used
/// `cpu` of the CPU (its own instructions and the host work it caused), or
/// when `wall` has passed on the clock, whichever comes first. The CPU limit
/// is the real budget; the wall-clock one is a backstop for time the CPU
/// limit does not see (a call blocked rather than working), and is generous
/// so a busy machine that merely pauses the thread does not stop a
/// well-behaved program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallTime {
    pub cpu: Duration,
    pub wall: Duration,
}

impl CallTime {
    pub const fn new(cpu: Duration, wall: Duration) -> Self {
        Self { cpu, wall }
    }
}
