//! One plugin instance running one session: the engine's `Program`.

use crate::bindings::Plugin;
use crate::host::{HostState, truncate};
use crate::{Limits, convert};
use tarsal_core::program::{Program, ProgramError, ProgramErrorKind, ProgramInput, ProgramOutput};
use wasmtime::Store;

pub struct WasmProgram {
    store: Store<HostState>,
    plugin: Plugin,
}

impl WasmProgram {
    pub(crate) fn new(store: Store<HostState>, plugin: Plugin) -> Self {
        Self { store, plugin }
    }

    /// Instructions (fuel) the last `tick` used of its budget.
    pub fn fuel_used(&self) -> u64 {
        let budget = self.store.data().limits.tick_fuel;
        budget.saturating_sub(self.store.get_fuel().unwrap_or(budget))
    }
}

impl Program for WasmProgram {
    fn tick(&mut self, input: &ProgramInput<'_>) -> Result<ProgramOutput, ProgramError> {
        let limits = self.store.data().limits.clone();
        self.store.data_mut().begin_call();
        self.store
            .set_fuel(limits.tick_fuel)
            .map_err(|e| call_error(&self.store, &limits, e))?;
        let input = convert::tick_input(input);
        match self
            .plugin
            .tarsal_program_program()
            .call_tick(&mut self.store, input)
        {
            Ok(Ok(output)) => Ok(convert::tick_output(&output)),
            Ok(Err(message)) => Err(ProgramError {
                kind: ProgramErrorKind::Failed,
                message: truncate(&message, limits.log_line_bytes).into_owned(),
            }),
            Err(e) => Err(call_error(&self.store, &limits, e)),
        }
    }
}

/// Why a call into a plugin failed, as the engine's error.
pub(crate) fn call_error(
    store: &Store<HostState>,
    limits: &Limits,
    e: wasmtime::Error,
) -> ProgramError {
    let state = store.data();
    if matches!(
        e.downcast_ref::<wasmtime::Trap>(),
        Some(wasmtime::Trap::OutOfFuel)
    ) {
        return ProgramError {
            kind: ProgramErrorKind::Timeout,
            message: format!(
                "it ran past its budget of {} million instructions (about {} ms) in one call",
                limits.tick_fuel / 1_000_000,
                limits.tick_budget_hint().as_millis().max(1)
            ),
        };
    }
    if state.memory_denied {
        return ProgramError {
            kind: ProgramErrorKind::MemoryLimit,
            message: format!(
                "it tried to use more than its {} MiB of memory",
                limits.memory_bytes >> 20
            ),
        };
    }
    let trap = e
        .downcast_ref::<wasmtime::Trap>()
        .map_or_else(|| e.to_string(), |t| t.to_string());
    let message = match &state.last_error {
        Some(last) => format!("{trap}; its last error: {last}"),
        None => trap,
    };
    ProgramError {
        kind: ProgramErrorKind::Trap,
        message: truncate(&message, limits.log_line_bytes).into_owned(),
    }
}
