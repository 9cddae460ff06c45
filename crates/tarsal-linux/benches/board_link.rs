//! The chair-board backend at real time, against the simulated board on
//! loopback Modbus TCP (its own clock, polled every 10 ms):
//!
//! - **tick cost and lateness**: the chair stepped every 10 ms for a running
//!   session, once on the board backend and once on the in-process simulator,
//!   in the same run (their ratio is the backend's cost to the tick);
//! - **a board that goes silent**: the time to the service's fault, and to the
//!   board switching its outputs off by itself (its communication watchdog,
//!   the profile's heater hold time).
//!
//! Run:
//!
//!     cargo bench -p tarsal-linux --bench board_link            # 3,000 ticks each, 3 silences
//!     cargo bench -p tarsal-linux --bench board_link -- --quick # 300 ticks, 1 silence

use std::sync::Arc;
use std::time::{Duration, Instant};
use tarsal_core::builtin::{BuiltinCatalog, DEMO_ID};
use tarsal_core::hardware::Hardware;
use tarsal_core::session::{SessionId, SessionOptions};
use tarsal_core::{ChairProfile, Engine};
use tarsal_linux::{BoardAddress, BoardSettings, ChairBoardLink};
use tarsal_runtime::Chair;
use tarsal_sim::Simulator;
use tarsal_sim_board::{BoardClock, BoardFaults, SimBoard, TcpBoard};

const TICK: Duration = Duration::from_millis(10);

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn micros(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn board() -> TcpBoard {
    let profile = Arc::new(ChairProfile::standard());
    tarsal_sim_board::serve_tcp(
        Arc::new(SimBoard::new(Simulator::new(profile), BoardClock::Wall)),
        "127.0.0.1:0".parse().expect("an address"),
    )
    .expect("the simulated board listens")
}

fn link(served: &TcpBoard, profile: &ChairProfile) -> ChairBoardLink {
    ChairBoardLink::connect(BoardSettings {
        address: BoardAddress::Tcp(served.address),
        unit_id: 1,
        poll_interval: TICK,
        response_timeout: Duration::from_millis(50),
        hold: profile.outputs.heater_hold,
    })
    .expect("the Modbus backend connects")
}

fn chair<H: Hardware>(hardware: H) -> Chair<H> {
    let profile = Arc::new(ChairProfile::standard());
    let mut chair = Chair::new(
        Engine::new(profile),
        hardware,
        Box::new(BuiltinCatalog::default()),
        SessionId(1),
        TICK,
    );
    chair.step();
    chair
        .start(DEMO_ID, SessionOptions::default())
        .expect("the demo starts");
    chair
}

/// Steps `chair` every 10 ms of real time for `ticks`; returns the cost of
/// each step and how late each started, both sorted.
fn run_real_time<H: Hardware>(
    chair: &mut Chair<H>,
    ticks: usize,
) -> (Vec<Duration>, Vec<Duration>) {
    let mut cost = Vec::with_capacity(ticks);
    let mut late = Vec::with_capacity(ticks);
    let start = Instant::now();
    for i in 1..=ticks {
        let due = start + TICK * i as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let began = Instant::now();
        late.push(began.saturating_duration_since(due));
        chair.step_to(chair.now() + TICK);
        cost.push(began.elapsed());
        chair.drain_events().for_each(drop);
    }
    cost.sort_unstable();
    late.sort_unstable();
    (cost, late)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let ticks = if quick { 300 } else { 3_000 };
    let silences = if quick { 1 } else { 3 };
    let profile = ChairProfile::standard();

    let served = board();
    let mut on_board = chair(link(&served, &profile));
    let (board_cost, board_late) = run_real_time(&mut on_board, ticks);
    drop(on_board);
    let mut in_process = chair(Simulator::new(Arc::new(ChairProfile::standard())));
    let (sim_cost, sim_late) = run_real_time(&mut in_process, ticks);

    println!("\nThe chair stepped every 10 ms for {ticks} ticks of a running session\n");
    println!("| backend | step p50 | step p99 | step max | start late p50 | p99 | max |");
    println!("|---|---|---|---|---|---|---|");
    for (name, cost, late) in [
        ("chair board, Modbus TCP", &board_cost, &board_late),
        ("simulator, in process", &sim_cost, &sim_late),
    ] {
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} |",
            micros(percentile(cost, 0.5)),
            micros(percentile(cost, 0.99)),
            micros(*cost.last().expect("ticks")),
            micros(percentile(late, 0.5)),
            micros(percentile(late, 0.99)),
            micros(*late.last().expect("ticks")),
        );
    }
    println!(
        "\nstep p50, board / in process: {:.2}",
        percentile(&board_cost, 0.5).as_secs_f64() / percentile(&sim_cost, 0.5).as_secs_f64()
    );

    println!(
        "\nA board that goes silent mid-session ({silences}×; response timeout 50 ms, max sample age 100 ms, hold {} s)\n",
        profile.outputs.heater_hold.as_secs()
    );
    println!("| silence → fault raised | silence → the board's outputs off (its watchdog) |");
    println!("|---|---|");
    for _ in 0..silences {
        let served = board();
        let mut chair = chair(link(&served, &profile));
        for _ in 0..100 {
            std::thread::sleep(TICK);
            chair.step_to(chair.now() + TICK);
        }
        served.board.set_faults(BoardFaults {
            silent: true,
            ..BoardFaults::default()
        });
        let silent_at = Instant::now();
        let mut fault_after = None;
        let mut off_after = None;
        while fault_after.is_none() || off_after.is_none() {
            std::thread::sleep(TICK);
            chair.step_to(chair.now() + TICK);
            if fault_after.is_none() && chair.engine().state().is_latched() {
                fault_after = Some(silent_at.elapsed());
            }
            if off_after.is_none() && served.board.watchdog_expired() {
                off_after = Some(silent_at.elapsed());
            }
            assert!(
                silent_at.elapsed() < Duration::from_secs(30),
                "no fault or no watchdog within 30 s"
            );
        }
        println!(
            "| {} | {} |",
            micros(fault_after.unwrap_or_default()),
            micros(off_after.unwrap_or_default())
        );
    }
}
