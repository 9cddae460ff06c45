//! What the host gives each plugin instance: its store data (memory cap,
//! log budget) and the `host` interface (logging into the service log).

use crate::Limits;
use crate::bindings::{tarsal, wit};
use std::sync::Arc;

/// Per-instance state kept in the wasmtime store.
pub struct HostState {
    pub plugin: Arc<str>,
    pub limits: Limits,
    /// Set when the plugin tried to grow memory past the cap.
    pub memory_denied: bool,
    /// Log lines written during the current call.
    logged: u32,
    /// The last error-level line (a panic message, usually).
    pub last_error: Option<String>,
}

impl HostState {
    pub fn new(plugin: Arc<str>, limits: Limits) -> Self {
        Self {
            plugin,
            limits,
            memory_denied: false,
            logged: 0,
            last_error: None,
        }
    }

    /// Resets per-call budgets before a call into the plugin.
    pub fn begin_call(&mut self) {
        self.logged = 0;
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

impl tarsal::program::types::Host for HostState {}

impl tarsal::program::host::Host for HostState {
    fn log(&mut self, level: wit::LogLevel, message: String) {
        self.logged += 1;
        let limit = self.limits.log_lines_per_call;
        if self.logged > limit {
            if self.logged == limit + 1 {
                tracing::warn!(plugin = %self.plugin, "plugin logs too much; further lines of this call dropped");
            }
            return;
        }
        let message = truncate(&message, self.limits.log_line_bytes);
        let plugin = &*self.plugin;
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
    }
}

/// `text` cut to at most `max` bytes at a character boundary, saying so.
pub fn truncate(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return text.into();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes, cut)", &text[..end], text.len()).into()
}
