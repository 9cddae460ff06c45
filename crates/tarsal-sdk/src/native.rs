//! Runs an SDK program natively inside Tarsal's engine, without WebAssembly:
//! for integration tests of a program with the simulated chair, and to
//! compare against the sandboxed build. Enabled by the `engine` feature.

use crate::Program;
use std::sync::Arc;
use tarsal_core::program as prog;

/// The conversions the SDK shares with the plugin host
/// (`tarsal_core::program_interface`), over the SDK's generated types.
mod interface {
    use crate::bindings::tarsal::program::types as wit;
    tarsal_core::program_interface_conversions!(wit);
}

pub use interface::{session_options, tick_input};

/// An SDK program as an engine program.
pub struct NativeProgram<P> {
    program: P,
}

impl<P: Program + Send> NativeProgram<P> {
    /// Starts the program with the engine's session options.
    pub fn start(options: &tarsal_core::SessionOptions) -> Result<Self, String> {
        Ok(Self {
            program: P::start(&session_options(options))?,
        })
    }

    /// The program's description in the engine's terms (without checking it
    /// the way the plugin host does).
    pub fn info() -> Arc<prog::ProgramInfo> {
        Arc::new(interface::program_info(&P::describe()))
    }
}

impl<P: Program + Send> prog::Program for NativeProgram<P> {
    fn tick(
        &mut self,
        input: &prog::ProgramInput<'_>,
    ) -> Result<prog::ProgramOutput, prog::ProgramError> {
        self.program
            .tick(&tick_input(input))
            .map(|output| interface::tick_output(&output))
            .map_err(|message| prog::ProgramError {
                kind: prog::ProgramErrorKind::Failed,
                message,
            })
    }
}
