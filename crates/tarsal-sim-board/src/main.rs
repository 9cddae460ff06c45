//! `tarsal-sim-board`: the simulated chair served as a Tarsal chair board over
//! Modbus TCP or RTU, for `tarsald` with `backend = "chair_board"` (the demo's
//! `--modbus` flag, a technician's bench rig without a chair).

use anyhow::Context;
use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tarsal_core::profile::ChairProfile;
use tarsal_sim::Simulator;
use tarsal_sim_board::{BoardClock, SimBoard};

/// Serve the simulated chair as a Tarsal chair board over Modbus TCP.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on (Modbus TCP).
    #[arg(long, default_value = "127.0.0.1:1502")]
    listen: SocketAddr,
    /// Serve Modbus RTU on this serial port instead of TCP (e.g. one end of
    /// a `socat` pseudo-terminal pair, or an RS-485 adapter).
    #[arg(long, value_name = "PATH")]
    serial: Option<String>,
    /// The serial line's speed, bit/s.
    #[arg(long, default_value_t = 115_200)]
    baud: u32,
    /// Chair profile whose parts and physics to simulate (default: the standard chair).
    #[arg(long)]
    profile: Option<PathBuf>,
    /// Where the physics take their time from: `wall`, the board's own clock
    /// (a real board; its communication watchdog works), or `host`, the
    /// host's heartbeat (follows `tarsald --speed`; no watchdog).
    #[arg(long, value_enum, default_value = "wall")]
    clock: Clock,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Clock {
    Wall,
    Host,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let profile = match &args.profile {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the chair profile {}", path.display()))?;
            ChairProfile::parse(&path.display().to_string(), &text)?
        }
        None => ChairProfile::standard(),
    };
    let board = Arc::new(SimBoard::new(
        Simulator::new(Arc::new(profile)),
        match args.clock {
            Clock::Wall => BoardClock::Wall,
            Clock::Host => BoardClock::Host,
        },
    ));
    if let Some(path) = &args.serial {
        let _served = tarsal_sim_board::serve_serial(board, path, args.baud)
            .with_context(|| format!("opening the serial port {path}"))?;
        eprintln!("tarsal-sim-board: a simulated chair board on {path} (Modbus RTU, unit 1)");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        return runtime
            .block_on(async { tokio::signal::ctrl_c().await.context("waiting for Ctrl-C") });
    }
    let listener = std::net::TcpListener::bind(args.listen)
        .with_context(|| format!("listening on {}", args.listen))?;
    listener.set_nonblocking(true)?;
    eprintln!(
        "tarsal-sim-board: a simulated chair board on {} (Modbus TCP, unit 1)",
        listener.local_addr()?
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    runtime.block_on(async move {
        tokio::select! {
            served = tarsal_sim_board::run(listener, board) => served.context("serving Modbus TCP"),
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    })
}
