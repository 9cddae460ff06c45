//! A fleet of simulated chairs, each the real stack of a chair — engine,
//! supervisor, simulator, control loop, store and the MQTT adapter with its
//! own client and chair id — sharing one async runtime for their MQTT tasks.

use anyhow::{Context, Result};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tarsal_core::builtin::BuiltinCatalog;
use tarsal_core::session::{ChairState, OptionValue, SessionId, SessionOptions};
use tarsal_core::{ChairProfile, Engine};
use tarsal_mqtt::{Broker, ChairId, Settings};
use tarsal_runtime::{Chair, ChairHandle, ControlLoop, LoopConfig, Pacing};
use tarsal_sim::Simulator;
use tarsal_store::{Store, StoreWriter};
use tokio::sync::{Notify, watch};

#[derive(Clone, Debug)]
pub struct FleetOptions {
    pub broker: Broker,
    pub chairs: usize,
    /// Chair ids are this plus a number: `fleet-0001`…
    pub id_prefix: String,
    pub topic_prefix: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub telemetry_every: Duration,
    pub tick_hz: u32,
    /// Keep every chair in sessions of the demo program, with short breaks.
    pub busy: bool,
    pub remote_start: bool,
    pub discovery: bool,
    /// Where the chairs' databases go.
    pub dir: PathBuf,
}

struct SimChair {
    control: ControlLoop,
    writer: StoreWriter,
}

pub struct Fleet {
    pub ids: Vec<ChairId>,
    chairs: Vec<SimChair>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Fleet {
    /// Starts every chair; their MQTT tasks run on `runtime`.
    pub fn start(options: &FleetOptions, runtime: &tokio::runtime::Handle) -> Result<Self> {
        std::fs::create_dir_all(&options.dir)
            .with_context(|| format!("creating {}", options.dir.display()))?;
        let profile = Arc::new(ChairProfile::standard());
        let width = options.chairs.to_string().len().max(4);
        let (stop, stopped) = watch::channel(false);
        let mut fleet = Self {
            ids: Vec::new(),
            chairs: Vec::new(),
            stop,
            tasks: Vec::new(),
        };
        for n in 1..=options.chairs {
            let id = ChairId::parse(&format!("{}{n:0width$}", options.id_prefix))
                .map_err(|e| anyhow::anyhow!("--id-prefix: {e}"))?;
            let db = options.dir.join(format!("{id}.db"));
            let _ = std::fs::remove_file(&db);
            let committed = Arc::new(Notify::new());
            let store = Store::open(&db).with_context(|| format!("opening {}", db.display()))?;
            let (store_tx, writer) = StoreWriter::spawn_with_listener(store, {
                let committed = Arc::clone(&committed);
                Box::new(move || committed.notify_one())
            })?;
            let period = Duration::from_secs(1) / options.tick_hz;
            let chair = Chair::new(
                Engine::new(Arc::clone(&profile)),
                Simulator::new(Arc::clone(&profile)),
                Box::new(BuiltinCatalog::default()),
                SessionId(1),
                period,
            );
            let control = ControlLoop::spawn(
                chair,
                LoopConfig {
                    period,
                    pacing: Pacing::RealTime { speed: 1.0 },
                    // A fleet shares a busy machine; a real chair has 250 ms.
                    watchdog_margin: Duration::from_secs(2),
                    watchdog_poll: Duration::from_millis(500),
                    event_prefix: format!("{id}-"),
                },
                vec![store_tx],
            )?;
            let handle = control.handle();
            let mut settings = Settings::new(options.broker.clone(), id.clone());
            settings.prefix = options.topic_prefix.clone();
            settings.username = options.username.clone();
            settings.password = options.password.clone();
            settings.telemetry_every = options.telemetry_every;
            settings.remote_start = options.remote_start;
            settings.discovery = options.discovery.then(|| "homeassistant".to_owned());
            settings.model = "pedicure-standard (simulated)".into();
            let task = tarsal_mqtt::prepare(settings)?.task(handle.clone(), &db, committed)?;
            fleet.tasks.push(runtime.spawn(task.run(stopped.clone())));
            if options.busy {
                runtime.spawn(keep_busy(handle, n as u64, stopped.clone()));
            }
            fleet.ids.push(id);
            fleet.chairs.push(SimChair { control, writer });
        }
        Ok(fleet)
    }

    /// Every chair says `offline`, then stops with its outputs safe.
    pub fn shutdown(self, runtime: &tokio::runtime::Runtime) {
        let _ = self.stop.send(true);
        runtime.block_on(async {
            let all = futures_join(self.tasks);
            let _ = tokio::time::timeout(Duration::from_secs(10), all).await;
        });
        for c in self.chairs {
            c.control.shutdown(tarsal_runtime::SHUTDOWN_TIMEOUT);
            c.writer.join();
        }
    }
}

async fn futures_join(tasks: Vec<tokio::task::JoinHandle<()>>) {
    for t in tasks {
        let _ = t.await;
    }
}

/// Keeps a chair in demo sessions with a break of 5–15 s between them, as a
/// salon's chair would be (breaks spread over the fleet by chair number).
async fn keep_busy(handle: ChairHandle, n: u64, mut stop: watch::Receiver<bool>) {
    let mut options = SessionOptions::default();
    options
        .values
        .insert("minutes".into(), OptionValue::Int(25));
    let pause = Duration::from_secs(5 + (n * 7919) % 11);
    let mut idle_since = tokio::time::Instant::now();
    let mut check = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = check.tick() => {}
        }
        if handle.status().state != ChairState::Idle {
            idle_since = tokio::time::Instant::now();
        } else if idle_since.elapsed() >= pause {
            let _ = handle.start("demo", options.clone()).await;
            idle_since = tokio::time::Instant::now();
        }
    }
}
