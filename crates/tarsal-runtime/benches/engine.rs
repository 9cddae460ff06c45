//! Benchmarks of the control loop: what one tick costs, and how long a
//! simulated 20-minute session takes. Run with
//!
//!     cargo bench -p tarsal-runtime --bench engine
//!
//! (`-- --quick` for a smoke run). Prints a Markdown table for
//! docs/PERFORMANCE.md.

use std::sync::Arc;
use std::time::{Duration, Instant};
use tarsal_core::builtin::BuiltinCatalog;
use tarsal_core::session::{OptionValue, Outcome, SessionId, SessionOptions};
use tarsal_core::{ChairProfile, Engine};
use tarsal_runtime::{Chair, ControlLoop, LoopConfig, Pacing};
use tarsal_sim::Simulator;

const TICK: Duration = Duration::from_millis(10);

fn twenty_minutes() -> SessionOptions {
    let mut o = SessionOptions::default();
    o.values.insert("minutes".into(), OptionValue::Int(20));
    o
}

fn chair() -> Chair<Simulator> {
    let profile = Arc::new(ChairProfile::standard());
    Chair::new(
        Engine::new(Arc::clone(&profile)),
        Simulator::new(profile),
        Box::new(BuiltinCatalog::default()),
        SessionId(1),
        TICK,
    )
}

/// Median and 99th percentile of `samples`, in nanoseconds.
fn percentiles(samples: &mut [u64]) -> (u64, u64) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

/// Cost of one tick of a running demo session, timed tick by tick.
/// `engine_only` times the engine and supervisor on fixed sensor readings
/// (no simulator); otherwise the whole `Chair::step` (simulator read, engine,
/// supervisor, simulator write).
fn tick_cost(ticks: usize, engine_only: bool) -> (u64, u64) {
    let mut chair = chair();
    chair.start("demo", twenty_minutes()).expect("demo starts");
    // Warm up into the kneading step.
    for _ in 0..3_000 {
        chair.step();
    }
    chair.drain_events().for_each(drop);
    let profile = Arc::new(ChairProfile::standard());
    let mut engine = Engine::new(Arc::clone(&profile));
    let sensors = chair.engine().status().sensors;
    if engine_only {
        let mut catalog = BuiltinCatalog::default();
        let (info, program) = tarsal_core::program::ProgramCatalog::instantiate(
            &mut catalog,
            "demo",
            &twenty_minutes(),
        )
        .expect("demo");
        let options = info.resolve_options(&twenty_minutes()).expect("options");
        engine
            .start(SessionId(1), info, program, options)
            .expect("start");
    }
    let mut samples = Vec::with_capacity(ticks);
    let mut now = chair.now();
    for _ in 0..ticks {
        now += TICK;
        let t0 = Instant::now();
        if engine_only {
            std::hint::black_box(engine.tick(now, &sensors));
        } else {
            std::hint::black_box(chair.step());
        }
        samples.push(t0.elapsed().as_nanos() as u64);
        if engine_only {
            engine.drain_events().for_each(drop);
        } else {
            chair.drain_events().for_each(drop);
        }
    }
    percentiles(&mut samples)
}

/// Wall time of a whole 20-minute demo session stepped in-process.
fn session_in_process() -> Duration {
    let mut chair = chair();
    let t0 = Instant::now();
    chair.start("demo", twenty_minutes()).expect("demo starts");
    while chair.engine().state() != tarsal_core::ChairState::Idle || chair.now() < TICK * 10 {
        chair.step();
        chair.drain_events().for_each(drop);
    }
    t0.elapsed()
}

/// Wall time of a whole 20-minute demo session through the control loop
/// thread (status published every tick, events fanned out), unpaced.
fn session_through_loop() -> (Duration, Duration) {
    let control = ControlLoop::spawn(
        chair(),
        LoopConfig {
            period: TICK,
            pacing: Pacing::Unpaced,
            watchdog_margin: Duration::from_secs(5),
            watchdog_poll: LoopConfig::WATCHDOG_POLL,
            event_prefix: "bench".into(),
        },
        vec![],
    )
    .expect("loop starts");
    let handle = control.handle();
    let mut status = handle.watch_status();
    let t0 = Instant::now();
    let id = handle
        .start_blocking("demo", twenty_minutes())
        .expect("demo starts");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let engine_time = rt.block_on(async {
        status
            .wait_for(|s| s.last_session == Some((id, Outcome::Completed)))
            .await
            .map(|s| s.at)
            .expect("session completes")
    });
    let wall = t0.elapsed();
    control.shutdown(tarsal_runtime::SHUTDOWN_TIMEOUT);
    (wall, engine_time)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (ticks, runs) = if quick { (20_000, 2) } else { (200_000, 10) };

    let (engine_p50, engine_p99) = tick_cost(ticks, true);
    let (step_p50, step_p99) = tick_cost(ticks, false);

    let mut in_process: Vec<Duration> = (0..runs).map(|_| session_in_process()).collect();
    in_process.sort();
    let mut through_loop = Vec::new();
    let mut simulated = Duration::ZERO;
    for _ in 0..runs {
        let (wall, engine_time) = session_through_loop();
        through_loop.push(wall);
        simulated = engine_time;
    }
    through_loop.sort();
    let median = |v: &[Duration]| v[v.len() / 2];

    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| engine + supervisor + demo program, one tick, p50 / p99 | {engine_p50} ns / {engine_p99} ns |"
    );
    println!(
        "| full tick (simulator read, engine, supervisor, simulator write), p50 / p99 | {step_p50} ns / {step_p99} ns |"
    );
    println!(
        "| 20-minute demo session ({} simulated, {} ticks), stepped in-process: median (min–max) of {runs} | {:.3} s ({:.3}–{:.3} s) |",
        format_minutes(simulated),
        simulated.as_millis() / TICK.as_millis(),
        median(&in_process).as_secs_f64(),
        in_process[0].as_secs_f64(),
        in_process[runs - 1].as_secs_f64()
    );
    println!(
        "| same session through the control-loop thread (status on every change, else at most 1 kHz), median (min–max) of {runs} | {:.3} s ({:.3}–{:.3} s) |",
        median(&through_loop).as_secs_f64(),
        through_loop[0].as_secs_f64(),
        through_loop[runs - 1].as_secs_f64()
    );
    println!(
        "| speed-up over real time (loop thread, median) | {:.0}× |",
        simulated.as_secs_f64() / median(&through_loop).as_secs_f64()
    );
}

fn format_minutes(d: Duration) -> String {
    format!("{}:{:02} min", d.as_secs() / 60, d.as_secs() % 60)
}
