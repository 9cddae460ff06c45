//! The clock behind call deadlines: one thread per process advances the
//! epoch of every live plugin engine each millisecond. A call into a plugin
//! sets its deadline a number of epochs ahead; when the deadline passes,
//! wasmtime stops at the next loop back-edge or function entry and asks the
//! store's callback ([`crate::host::HostState::deadline_check`]) whether the
//! call may go on.

use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use wasmtime::{Engine, EngineWeak};

/// How often the epoch advances: the resolution of every deadline.
pub const EPOCH: Duration = Duration::from_millis(1);

fn engines() -> &'static Mutex<Vec<EngineWeak>> {
    static ENGINES: OnceLock<Mutex<Vec<EngineWeak>>> = OnceLock::new();
    ENGINES.get_or_init(|| {
        // The thread lives as long as the process; it drops engines that are gone.
        let spawned = std::thread::Builder::new()
            .name("tarsal-epoch".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(EPOCH);
                    let mut list = engines().lock().unwrap_or_else(|p| p.into_inner());
                    list.retain(|weak| match weak.upgrade() {
                        Some(engine) => {
                            engine.increment_epoch();
                            true
                        }
                        None => false,
                    });
                }
            });
        if let Err(e) = spawned {
            // Without it, fuel still bounds every call; deadlines do not.
            tracing::error!(error = %e, "cannot start the plugin deadline clock");
        }
        Mutex::new(Vec::new())
    })
}

/// Starts advancing `engine`'s epoch (until the engine is dropped).
pub fn register(engine: &Engine) {
    engines()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(engine.weak());
}

/// Epochs to wait for `time` to pass (at least one).
pub fn epochs(time: Duration) -> u64 {
    (time.as_micros() / EPOCH.as_micros()).max(1) as u64
}
