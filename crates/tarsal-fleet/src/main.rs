//! `tarsal-fleet`: many simulated chairs on one MQTT broker, each with its
//! own MQTT client and chair id — for operators trying their dashboards and
//! for load tests (`tarsal-fleet bench`, see docs/PERFORMANCE.md).

mod bench;
mod fleet;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "tarsal-fleet",
    version,
    about = "Many simulated Tarsal chairs on one MQTT broker"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the fleet until Ctrl-C
    Run {
        #[command(flatten)]
        fleet: FleetArgs,
        /// Leave the chairs idle instead of running demo sessions
        #[arg(long)]
        idle: bool,
    },
    /// Measure: CPU per chair, telemetry delivered, `stop` round trips
    Bench {
        #[command(flatten)]
        fleet: FleetArgs,
        /// The broker's process id (its CPU is measured too)
        #[arg(long, value_name = "PID")]
        broker_pid: Option<u32>,
        /// How many `stop` commands to time
        #[arg(long, default_value_t = 1000)]
        commands: usize,
        /// Seconds of steady state over which CPU and telemetry are measured
        #[arg(long, default_value_t = 30)]
        window: u64,
    },
}

#[derive(Args)]
struct FleetArgs {
    /// mqtt://HOST[:PORT]
    #[arg(long, value_name = "URL")]
    broker: String,
    /// How many chairs
    #[arg(long, default_value_t = 10)]
    chairs: usize,
    /// Chair ids are this plus a number
    #[arg(long, default_value = "fleet-")]
    id_prefix: String,
    /// Topic prefix
    #[arg(long, default_value = "tarsal")]
    prefix: String,
    #[arg(long)]
    username: Option<String>,
    #[arg(long)]
    password: Option<String>,
    /// Telemetry interval per chair, in milliseconds
    #[arg(long, default_value_t = 1000)]
    telemetry_ms: u64,
    /// Control-loop rate of each chair, 10–100 Hz (a real chair: 50–100; a
    /// thousand chairs on a small machine fit at 10)
    #[arg(long, default_value_t = 10)]
    tick_hz: u32,
    /// Let operators start programs (cmd/start)
    #[arg(long)]
    remote_start: bool,
    /// Publish Home Assistant discovery for every chair
    #[arg(long)]
    discovery: bool,
    /// Where the chairs' databases go [default: a fresh directory under /tmp]
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

impl FleetArgs {
    fn options(&self, busy: bool) -> Result<fleet::FleetOptions> {
        if !(10..=100).contains(&self.tick_hz) {
            anyhow::bail!("--tick-hz {}: allowed: 10–100", self.tick_hz);
        }
        if self.chairs == 0 {
            anyhow::bail!("--chairs 0: a fleet needs at least one chair");
        }
        tarsal_mqtt::settings::check_prefix(&self.prefix)
            .map_err(|e| anyhow::anyhow!("--prefix: {e}"))?;
        Ok(fleet::FleetOptions {
            broker: tarsal_mqtt::Broker::parse(&self.broker)
                .map_err(|e| anyhow::anyhow!("--broker: {e}"))?,
            chairs: self.chairs,
            id_prefix: self.id_prefix.clone(),
            topic_prefix: self.prefix.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            telemetry_every: Duration::from_millis(self.telemetry_ms.max(100)),
            tick_hz: self.tick_hz,
            busy,
            remote_start: self.remote_start,
            discovery: self.discovery,
            dir: self.dir.clone().unwrap_or_else(|| {
                std::env::temp_dir().join(format!("tarsal-fleet-{}", std::process::id()))
            }),
        })
    }
}

/// Each chair needs a few file descriptors (its database, its socket).
#[allow(unsafe_code)] // reviewed: getrlimit/setrlimit on a local struct
fn raise_file_limit() {
    // SAFETY: plain libc calls on a local struct.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tarsal-fleet: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    raise_file_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match cli.command {
        Cmd::Run { fleet, idle } => {
            let options = fleet.options(!idle)?;
            let started = fleet::Fleet::start(&options, runtime.handle())?;
            eprintln!(
                "{} chairs on {} as {}/{}…; watch: mosquitto_sub -h {} -p {} -t '{}/#' -v; Ctrl-C stops",
                options.chairs,
                options.broker,
                options.topic_prefix,
                started.ids[0],
                options.broker.host,
                options.broker.port,
                options.topic_prefix
            );
            runtime.block_on(async {
                let _ = tokio::signal::ctrl_c().await;
            });
            started.shutdown(&runtime);
            let _ = std::fs::remove_dir_all(&options.dir);
            Ok(())
        }
        Cmd::Bench {
            fleet,
            broker_pid,
            commands,
            window,
        } => {
            let options = fleet.options(true)?;
            let dir = options.dir.clone();
            let result = bench::run(
                bench::BenchOptions {
                    fleet: options,
                    broker_pid,
                    commands,
                    window: Duration::from_secs(window.max(1)),
                },
                &runtime,
            );
            let _ = std::fs::remove_dir_all(&dir);
            result
        }
    }
}
