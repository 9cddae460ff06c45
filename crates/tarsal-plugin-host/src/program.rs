//! One plugin instance running one session: the engine's `Program`.

use crate::bindings::Plugin;
use crate::host::{CallKind, HostState, HostStop};
use crate::{Limits, convert, epoch};
use tarsal_core::program::{Program, ProgramError, ProgramErrorKind, ProgramInput, ProgramOutput};
use tarsal_core::text::one_line;
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

    /// Bytes of log lines the plugin has handed the host this session.
    pub fn log_bytes(&self) -> u64 {
        self.store.data().host_bytes
    }

    /// Log lines written to the service log this session.
    pub fn log_lines_kept(&self) -> u64 {
        self.store.data().lines_kept
    }

    /// Log lines dropped by the session's log rate limit.
    pub fn dropped_log_lines(&self) -> u64 {
        self.store.data().dropped_log_lines()
    }
}

/// Arms the store for one call of `kind`: fuel, deadline, transfer cap.
pub(crate) fn arm(store: &mut Store<HostState>, kind: CallKind) -> Result<(), ProgramError> {
    let limits = store.data().limits;
    let budget = limits.for_call(kind);
    store.data_mut().begin_call(kind, budget);
    store
        .set_fuel(budget.fuel)
        .map_err(|e| call_error(store, &limits, e))?;
    store.set_epoch_deadline(epoch::epochs(budget.time.cpu));
    store.set_hostcall_fuel(budget.hostcall_bytes);
    Ok(())
}

impl Program for WasmProgram {
    fn tick(&mut self, input: &ProgramInput<'_>) -> Result<ProgramOutput, ProgramError> {
        let limits = self.store.data().limits;
        self.store.data_mut().time_passed(input.dt);
        arm(&mut self.store, CallKind::Tick)?;
        let input = convert::tick_input(input);
        match self
            .plugin
            .tarsal_program_program()
            .call_tick(&mut self.store, input)
        {
            Ok(Ok(output)) => Ok(convert::tick_output(&output)),
            Ok(Err(message)) => Err(ProgramError {
                kind: ProgramErrorKind::Failed,
                message: one_line(&message, limits.log_line_bytes).into_owned(),
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
    if let Some(stop) = e.downcast_ref::<HostStop>() {
        let kind = match stop {
            HostStop::Deadline { .. } => ProgramErrorKind::Timeout,
            HostStop::LogLines { .. } | HostStop::HostWork { .. } => ProgramErrorKind::LogLimit,
        };
        return ProgramError {
            kind,
            message: stop.to_string(),
        };
    }
    if matches!(
        e.downcast_ref::<wasmtime::Trap>(),
        Some(wasmtime::Trap::OutOfFuel)
    ) {
        return ProgramError {
            kind: ProgramErrorKind::Timeout,
            message: format!(
                "it ran past its budget of {} million instructions in one call",
                state.call_budget().fuel / 1_000_000
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
    // wasmtime's own cap on what one call hands the host (hostcall fuel)
    // has no error type of its own to match.
    if format!("{e:#}").contains("fuel allocated for hostcalls") {
        return ProgramError {
            kind: ProgramErrorKind::TooMuchData,
            message: format!(
                "it handed the host more than {} KiB in one go (a log line, an error message or a description that long)",
                state.call_budget().hostcall_bytes >> 10
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
        message: one_line(&message, limits.log_line_bytes).into_owned(),
    }
}
