//! What the host gives each plugin instance: its store data (memory cap,
//! call deadlines, log budgets) and the `host` interface (logging into the
//! service log, charged to the plugin).

use crate::bindings::wit;
use crate::{CallBudget, Limits};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tarsal_core::text::one_line;
use wasmtime::component::Linker;
use wasmtime::{StoreContextMut, UpdateDeadline};

/// The import names the host defines (the interface version it speaks).
const TYPES_INSTANCE: &str = "tarsal:program/types@0.2.0";
const HOST_INSTANCE: &str = "tarsal:program/host@0.2.0";

/// Fuel a log call costs before its bytes: the host's own work per line.
const FUEL_PER_LOG_CALL: u64 = 10_000;

/// Which export is being called, for deadlines and messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    Describe,
    Start,
    Tick,
}

impl CallKind {
    fn name(self) -> &'static str {
        match self {
            Self::Describe => "describe",
            Self::Start => "start",
            Self::Tick => "tick",
        }
    }
}

/// Why the host stopped a call (returned from host functions and the
/// deadline callback; [`crate::program::call_error`] turns it into words).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HostStop {
    /// Stable words (no measured figures), so a reload that refuses the
    /// same file again says the same thing.
    #[error(
        "its `{call}` call ran past its time limit ({cpu_ms} ms of CPU, or {wall_ms} ms on the clock)"
    )]
    Deadline {
        call: &'static str,
        cpu_ms: u64,
        wall_ms: u64,
    },
    #[error("it wrote more than {limit} log lines in one `{call}` call")]
    LogLines { call: &'static str, limit: u32 },
    #[error("its log lines used up its instruction budget ({bytes} bytes handed to the host)")]
    HostWork { bytes: u64 },
}

/// The call under way: what it may use, and when it began.
#[derive(Clone, Copy, Debug)]
struct CallClock {
    kind: CallKind,
    budget: CallBudget,
    wall_start: Instant,
    cpu_start: Duration,
    /// The call's CPU time when a check first found it over its CPU limit.
    cpu_over_at: Option<Duration>,
}

/// CPU time a call must go on using after a check found it over its CPU
/// limit before it is stopped. A thread's CPU clock can jump by time the
/// machine spent elsewhere (a virtual CPU descheduled by its host is
/// charged to whatever thread ran); a call that really runs away keeps
/// computing and is stopped at the next check, one that merely suffered
/// the jump has ended by then.
const CPU_OVER_CONFIRM: Duration = Duration::from_micros(500);

/// A session's log allowance: `rate` bytes a second, up to `burst` saved up.
#[derive(Clone, Debug)]
struct LogBucket {
    bytes: f64,
    rate: f64,
    burst: f64,
    dropped_lines: u64,
}

impl LogBucket {
    fn new(limits: &Limits) -> Self {
        Self {
            bytes: limits.log_burst_bytes as f64,
            rate: limits.log_bytes_per_second as f64,
            burst: limits.log_burst_bytes as f64,
            dropped_lines: 0,
        }
    }

    fn refill(&mut self, dt: Duration) {
        self.bytes = (self.bytes + self.rate * dt.as_secs_f64()).min(self.burst);
    }

    /// Whether a line of `len` bytes may be written; takes it from the bucket.
    fn take(&mut self, len: usize) -> bool {
        // A line costs at least 64 bytes: many empty lines are still lines.
        let cost = len.max(64) as f64;
        if self.bytes >= cost {
            self.bytes -= cost;
            true
        } else {
            self.dropped_lines += 1;
            false
        }
    }
}

/// Per-instance state kept in the wasmtime store.
pub struct HostState {
    pub plugin: Arc<str>,
    pub limits: Limits,
    /// Set when the plugin tried to grow memory past the cap.
    pub memory_denied: bool,
    /// Log lines written during the current call.
    logged: u32,
    call: Option<CallClock>,
    bucket: LogBucket,
    /// Bytes the plugin has handed the host in log lines, this session.
    pub host_bytes: u64,
    /// Log lines written to the service log, this session.
    pub lines_kept: u64,
    /// The last error-level line (a panic message, usually).
    pub last_error: Option<String>,
}

impl HostState {
    pub fn new(plugin: Arc<str>, limits: Limits) -> Self {
        Self {
            bucket: LogBucket::new(&limits),
            plugin,
            limits,
            memory_denied: false,
            logged: 0,
            call: None,
            host_bytes: 0,
            lines_kept: 0,
            last_error: None,
        }
    }

    /// Starts the per-call budgets before a call into the plugin.
    pub fn begin_call(&mut self, kind: CallKind, budget: CallBudget) {
        self.logged = 0;
        self.call = Some(CallClock {
            kind,
            budget,
            wall_start: Instant::now(),
            cpu_start: thread_cpu_time(),
            cpu_over_at: None,
        });
    }

    /// The budget of the call under way (or of the last one).
    pub fn call_budget(&self) -> CallBudget {
        self.call
            .map_or(self.limits.for_call(CallKind::Tick), |c| c.budget)
    }

    /// Session time passed: the log allowance grows.
    pub fn time_passed(&mut self, dt: Duration) {
        self.bucket.refill(dt);
    }

    /// Lines dropped by the session's log rate limit so far.
    pub fn dropped_log_lines(&self) -> u64 {
        self.bucket.dropped_lines
    }

    /// Called by wasmtime when the epoch deadline passes: the call goes on
    /// while it is inside its time, checked again one epoch later.
    pub fn deadline_check(&mut self) -> Result<UpdateDeadline, HostStop> {
        let Some(call) = self.call else {
            return Ok(UpdateDeadline::Continue(1));
        };
        let cpu = thread_cpu_time().saturating_sub(call.cpu_start);
        let wall = call.wall_start.elapsed();
        let time = call.budget.time;
        let cpu_confirmed = cpu >= time.cpu
            && match call.cpu_over_at {
                Some(first) => cpu >= first + CPU_OVER_CONFIRM,
                None => {
                    if let Some(c) = self.call.as_mut() {
                        c.cpu_over_at = Some(cpu);
                    }
                    false
                }
            };
        if cpu_confirmed || wall >= time.wall {
            tracing::debug!(
                plugin = %one_line(&self.plugin, 64),
                cpu_us = cpu.as_micros() as u64,
                wall_us = wall.as_micros() as u64,
                "plugin call stopped at its deadline"
            );
            return Err(HostStop::Deadline {
                call: call.kind.name(),
                cpu_ms: time.cpu.as_millis() as u64,
                wall_ms: time.wall.as_millis() as u64,
            });
        }
        Ok(UpdateDeadline::Continue(1))
    }

    /// Writes one log line for the plugin: counted against the call's line
    /// budget (one line too many stops the call) and the session's rate
    /// (lines beyond it are dropped, with one warning per session).
    fn log(&mut self, level: wit::LogLevel, message: &str) -> Result<(), HostStop> {
        self.logged += 1;
        if self.logged > self.limits.log_lines_per_call {
            return Err(HostStop::LogLines {
                call: self.call.map_or("", |c| c.kind.name()),
                limit: self.limits.log_lines_per_call,
            });
        }
        if !self
            .bucket
            .take(message.len().min(self.limits.log_line_bytes))
        {
            if self.bucket.dropped_lines == 1 {
                tracing::warn!(
                    plugin = %one_line(&self.plugin, 64),
                    rate = self.limits.log_bytes_per_second,
                    "plugin logs more than its rate allows; further lines of this session are dropped"
                );
            }
            return Ok(());
        }
        self.lines_kept += 1;
        let message = one_line(message, self.limits.log_line_bytes);
        let plugin = &*one_line(&self.plugin, 64);
        match level {
            wit::LogLevel::Trace => tracing::trace!(plugin, "{message}"),
            wit::LogLevel::Debug => tracing::debug!(plugin, "{message}"),
            wit::LogLevel::Info => tracing::info!(plugin, "{message}"),
            wit::LogLevel::Warn => tracing::warn!(plugin, "{message}"),
            wit::LogLevel::Error => {
                tracing::error!(plugin, "{message}");
                self.last_error = Some(message.into_owned());
            }
        }
        Ok(())
    }
}

impl wasmtime::ResourceLimiter for HostState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limits.memory_bytes {
            self.memory_denied = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// Defines what the host offers (`tarsal:program/host`) in `linker`. Written
/// by hand rather than generated, so a host function can charge the
/// plugin's fuel for the work it does.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.instance(TYPES_INSTANCE)?;
    let mut host = linker.instance(HOST_INSTANCE)?;
    host.func_wrap(
        "log",
        |mut store: StoreContextMut<'_, HostState>,
         (level, message): (wit::LogLevel, String)|
         -> wasmtime::Result<()> {
            charge(&mut store, message.len())?;
            store.data_mut().log(level, &message)?;
            Ok(())
        },
    )?;
    Ok(())
}

/// Takes the host's work for `bytes` handed over out of the plugin's fuel.
fn charge(store: &mut StoreContextMut<'_, HostState>, bytes: usize) -> Result<(), HostStop> {
    let state = store.data_mut();
    state.host_bytes += bytes as u64;
    let cost = FUEL_PER_LOG_CALL + bytes as u64 * state.limits.fuel_per_host_byte;
    let host_bytes = state.host_bytes;
    let fuel = store.get_fuel().unwrap_or(u64::MAX);
    if fuel < cost {
        let _ = store.set_fuel(0);
        return Err(HostStop::HostWork { bytes: host_bytes });
    }
    let _ = store.set_fuel(fuel - cost);
    Ok(())
}

/// CPU time this thread has used (CLOCK_THREAD_CPUTIME_ID).
#[allow(unsafe_code)] // reviewed: one libc call, no pointers kept
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0;
    if !ok {
        return Duration::ZERO;
    }
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_bucket_allows_a_burst_then_its_rate() {
        let limits = Limits {
            log_bytes_per_second: 1000,
            log_burst_bytes: 5000,
            ..Limits::default()
        };
        let mut b = LogBucket::new(&limits);
        let kept = (0..100).filter(|_| b.take(1000)).count();
        assert_eq!(kept, 5, "the burst");
        b.refill(Duration::from_secs(3));
        let kept = (0..100).filter(|_| b.take(1000)).count();
        assert_eq!(kept, 3, "three seconds at 1000 B/s");
        assert_eq!(b.dropped_lines, 192);
        b.refill(Duration::from_secs(3600));
        assert_eq!(b.bytes, 5000.0, "never more than the burst saved up");
    }

    /// A call whose CPU clock jumped past its limit (time the machine spent
    /// elsewhere) is not stopped for it; one that keeps computing is.
    #[test]
    fn a_cpu_clock_jump_alone_does_not_stop_a_call_but_computing_on_does() {
        let burn = |how_long: Duration| {
            let before = thread_cpu_time();
            let mut x = 0u64;
            while thread_cpu_time() < before + how_long {
                x = std::hint::black_box(x.wrapping_add(1));
            }
            x
        };
        let limits = Limits::default();
        let budget = limits.for_call(CallKind::Tick).time.cpu;
        // This thread has used enough CPU to move the call's start back by.
        assert!(burn(budget * 3) > 0);
        let mut state = HostState::new("p".into(), limits);
        state.begin_call(CallKind::Tick, limits.for_call(CallKind::Tick));
        // As if 3 × the budget had been charged to the call at once.
        if let Some(call) = state.call.as_mut() {
            call.cpu_start = call.cpu_start.saturating_sub(budget * 3);
        }
        assert!(state.deadline_check().is_ok(), "first sight of the jump");
        assert!(state.deadline_check().is_ok(), "no work done since");
        assert!(burn(CPU_OVER_CONFIRM + Duration::from_micros(100)) > 0);
        assert!(
            matches!(state.deadline_check(), Err(HostStop::Deadline { .. })),
            "still computing past the limit"
        );
    }

    #[test]
    fn thread_cpu_time_advances_with_work() {
        let before = thread_cpu_time();
        let mut x = 0u64;
        while thread_cpu_time() < before + Duration::from_millis(2) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(x > 0);
    }
}
