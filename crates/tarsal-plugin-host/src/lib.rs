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
//! machine's speed), a memory cap, caps on what `describe` may return and on
//! log lines. A plugin that traps, overruns, runs out of memory or returns
//! nonsense fails its call with a [`ProgramError`](tarsal_core::program::ProgramError)
//! naming the reason; the engine then latches a fault and the chair goes safe.

mod bindings;
mod cache;
mod convert;
mod host;
mod library;
mod program;

pub use library::{Library, LoadError, LoadProblem, LoadReport, LoadedPlugin, ProgramSet};
pub use program::WasmProgram;

use std::time::Duration;

/// The interface version this host speaks.
pub const INTERFACE_PACKAGE: &str = "tarsal:program";
pub const INTERFACE_VERSION: (u64, u64, u64) = (0, 1, 0);

/// Limits on what a plugin may use.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Instruction budget (fuel) for one `tick`.
    pub tick_fuel: u64,
    /// Instruction budget for `describe` and for `start`.
    pub call_fuel: u64,
    /// Linear memory cap per instance, in bytes.
    pub memory_bytes: usize,
    /// Cap on the size of what `describe` returns (all text and lists), in bytes.
    pub describe_bytes: usize,
    /// Log lines a plugin may write per call; more are dropped.
    pub log_lines_per_call: u32,
    /// Longer log lines are cut to this many bytes.
    pub log_line_bytes: usize,
    /// Largest plugin file accepted, in bytes.
    pub file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // About a millisecond of work here; a tick of the bundled
            // programs takes a small fraction of it.
            tick_fuel: 20_000_000,
            call_fuel: 500_000_000,
            memory_bytes: 16 << 20,
            describe_bytes: 256 << 10,
            log_lines_per_call: 20,
            log_line_bytes: 1024,
            file_bytes: 32 << 20,
        }
    }
}

impl Limits {
    /// The tick budget as a rough time, for messages.
    pub fn tick_budget_hint(&self) -> Duration {
        // Measured: about 2·10⁷ instructions per millisecond of CPU here.
        Duration::from_micros(self.tick_fuel / 20_000)
    }
}
