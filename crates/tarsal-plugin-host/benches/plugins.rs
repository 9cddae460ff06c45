//! What running a program as a sandboxed WebAssembly component costs,
//! measured in one run against the same program built natively:
//!
//!     scripts/build-plugins.sh        # the components, into target/plugins
//!     cargo bench -p tarsal-plugin-host --bench plugins
//!
//! - cost per tick: a 20-minute `classic` session on the simulated chair is
//!   recorded (every tick's input), then replayed into the native build and
//!   into the component; both must answer identically;
//! - start: cold compile versus loading from the compile cache, and a new
//!   session (instantiate + start);
//! - memory: resident memory per loaded plugin and per running session.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tarsal_core::model::{Request, SensorReadings};
use tarsal_core::program::{ChairLimits, Program, ProgramError, ProgramInput, ProgramOutput};
use tarsal_core::session::{OptionValue, Outcome, SessionId, SessionOptions};
use tarsal_core::units::Intensity;
use tarsal_core::{ChairProfile, Engine};
use tarsal_plugin_host::{Library, Limits};
use tarsal_runtime::Chair;
use tarsal_sdk::native::NativeProgram;
use tarsal_sim::Simulator;

#[derive(Clone)]
struct Recorded {
    elapsed: Duration,
    dt: Duration,
    intensity: Intensity,
    heat: bool,
    bath: bool,
    sensors: SensorReadings,
    limits: ChairLimits,
    applied: Request,
    staff: u32,
}

impl Recorded {
    fn input(&self) -> ProgramInput<'_> {
        ProgramInput {
            elapsed: self.elapsed,
            dt: self.dt,
            intensity: self.intensity,
            heat: self.heat,
            bath: self.bath,
            sensors: &self.sensors,
            limits: &self.limits,
            applied: &self.applied,
            staff_confirmations: self.staff,
        }
    }
}

/// Passes ticks through, keeping every input.
struct Recorder<P> {
    inner: P,
    log: Arc<Mutex<Vec<Recorded>>>,
}

impl<P: Program> Program for Recorder<P> {
    fn tick(&mut self, i: &ProgramInput<'_>) -> Result<ProgramOutput, ProgramError> {
        self.log.lock().unwrap().push(Recorded {
            elapsed: i.elapsed,
            dt: i.dt,
            intensity: i.intensity,
            heat: i.heat,
            bath: i.bath,
            sensors: *i.sensors,
            limits: *i.limits,
            applied: *i.applied,
            staff: i.staff_confirmations,
        });
        self.inner.tick(i)
    }
}

fn options() -> SessionOptions {
    let mut o = SessionOptions::default();
    o.values.insert("minutes".into(), OptionValue::Int(20));
    o
}

/// Every tick input of one 20-minute classic session on the simulated chair.
fn record_session() -> Vec<Recorded> {
    let profile = Arc::new(ChairProfile::standard());
    let mut chair = Chair::new(
        Engine::new(Arc::clone(&profile)),
        Simulator::new(profile),
        Box::new(tarsal_core::builtin::BuiltinCatalog::default()),
        SessionId(1),
        Duration::from_millis(10),
    );
    let log = Arc::new(Mutex::new(Vec::new()));
    let program = Recorder {
        inner: NativeProgram::<tarsal_sdk::Timed<classic::Classic>>::start(&options())
            .expect("classic starts"),
        log: Arc::clone(&log),
    };
    let info = NativeProgram::<tarsal_sdk::Timed<classic::Classic>>::info();
    let id = chair
        .start_instance(info, Box::new(program), options())
        .expect("session");
    loop {
        chair.step();
        chair.drain_events().for_each(drop);
        if chair.engine().status().last_session == Some((id, Outcome::Completed)) {
            break;
        }
        assert!(
            chair.now() < Duration::from_secs(40 * 60),
            "session did not end"
        );
    }
    Arc::try_unwrap(log)
        .ok()
        .expect("recorder dropped")
        .into_inner()
        .unwrap()
}

/// Median and 99th percentile in nanoseconds.
fn percentiles(mut v: Vec<u64>) -> (u64, u64) {
    v.sort_unstable();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

fn replay(program: &mut dyn Program, inputs: &[Recorded]) -> (Vec<u64>, Vec<ProgramOutput>) {
    let mut times = Vec::with_capacity(inputs.len());
    let mut outputs = Vec::with_capacity(inputs.len());
    for r in inputs {
        let input = r.input();
        let t0 = Instant::now();
        let out = program.tick(&input).expect("tick");
        times.push(t0.elapsed().as_nanos() as u64);
        outputs.push(out);
    }
    (times, outputs)
}

fn median_duration(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Resident memory of this process in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn plugins_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("plugins");
    assert!(
        dir.join("classic.wasm").exists(),
        "{} has no classic.wasm: run scripts/build-plugins.sh first",
        dir.display()
    );
    dir
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let repeats = if quick { 2 } else { 10 };
    let dir = plugins_dir();
    let file = dir.join("classic.wasm");
    let cache = std::env::temp_dir().join(format!("tarsal-bench-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);

    // Cost per tick.
    let inputs = record_session();
    let info = NativeProgram::<tarsal_sdk::Timed<classic::Classic>>::info();
    let session_options = info.resolve_options(&options()).expect("options");
    let mut native = NativeProgram::<tarsal_sdk::Timed<classic::Classic>>::start(&session_options)
        .expect("native");
    let library = Library::new(Limits::default(), Some(cache.clone())).expect("host");
    // Loading the directory compiles every bundled program and fills the
    // compile cache with them (a single file's load does not cache it).
    let plugin = library
        .load_dir(&dir)
        .plugins
        .into_iter()
        .find(|p| p.info.id == "classic")
        .expect("classic.wasm loads");
    let mut wasm = library
        .start(&plugin, &session_options)
        .expect("wasm session");
    let (native_times, native_out) = replay(&mut native, &inputs);
    let (wasm_times, wasm_out) = replay(&mut wasm, &inputs);
    let mut probe = library
        .start(&plugin, &session_options)
        .expect("wasm session");
    let mut fuel: Vec<u64> = inputs
        .iter()
        .map(|r| {
            probe.tick(&r.input()).expect("tick");
            probe.fuel_used()
        })
        .collect();
    fuel.sort_unstable();
    let fuel_max = *fuel.last().unwrap_or(&0);
    assert_eq!(
        native_out, wasm_out,
        "the component and the native build disagree"
    );
    let (n50, n99) = percentiles(native_times);
    let (w50, w99) = percentiles(wasm_times);

    // Start: cold compile vs cache.
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    let mut session = Vec::new();
    for _ in 0..repeats {
        let no_cache = Library::new(Limits::default(), None).expect("host");
        let t0 = Instant::now();
        no_cache.load_file(&file).expect("loads");
        cold.push(t0.elapsed());
        let cached = Library::new(Limits::default(), Some(cache.clone())).expect("host");
        let t0 = Instant::now();
        let p = cached.load_file(&file).expect("loads");
        warm.push(t0.elapsed());
        assert!(p.from_cache);
        let t0 = Instant::now();
        let s = cached.start(&p, &session_options).expect("starts");
        session.push(t0.elapsed());
        drop(s);
    }
    let (cold, warm, session) = (
        median_duration(cold),
        median_duration(warm),
        median_duration(session),
    );

    // Memory: every bundled plugin loaded from the cache, then sessions.
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("plugins dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    let library = Library::new(Limits::default(), Some(cache.clone())).expect("host");
    let before = rss_kib();
    let loaded: Vec<_> = files
        .iter()
        .map(|f| library.load_file(f).expect("loads"))
        .collect();
    let after_load = rss_kib();
    let classic = loaded
        .iter()
        .find(|p| p.info.id == "classic")
        .expect("classic loaded");
    let sessions: Vec<_> = (0..20)
        .map(|_| {
            let mut s = library
                .start(classic, &SessionOptions::default())
                .expect("starts");
            s.tick(&inputs[inputs.len() / 2].input()).expect("tick");
            s
        })
        .collect();
    let after_sessions = rss_kib();
    let per_plugin = (after_load.saturating_sub(before)) as f64 / loaded.len() as f64;
    let per_session = (after_sessions.saturating_sub(after_load)) as f64 / sessions.len() as f64;
    let _ = std::fs::remove_dir_all(&cache);

    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| `classic` tick, native build, p50 / p99 ({} ticks of a recorded 20-minute session) | {n50} ns / {n99} ns |",
        inputs.len()
    );
    println!(
        "| `classic` tick, WebAssembly component (fuel metered, input and output converted), p50 / p99 | {w50} ns / {w99} ns |"
    );
    println!(
        "| component / native, p50 | {:.1}× |",
        w50 as f64 / n50.max(1) as f64
    );
    println!(
        "| instructions (fuel) per `classic` tick, median / max; budget {} million | {} / {} |",
        Limits::default().tick_fuel / 1_000_000,
        fuel[fuel.len() / 2],
        fuel_max
    );
    println!(
        "| plugin start, cold compile (`classic.wasm`, {} KiB) + describe, median of {repeats} | {:.1} ms |",
        std::fs::metadata(&file).map_or(0, |m| m.len() / 1024),
        cold.as_secs_f64() * 1e3
    );
    println!(
        "| plugin start from the compile cache + describe, median of {repeats} | {:.2} ms |",
        warm.as_secs_f64() * 1e3
    );
    println!(
        "| cold / cached | {:.0}× |",
        cold.as_secs_f64() / warm.as_secs_f64()
    );
    println!(
        "| new session (instantiate + start), median of {repeats} | {:.0} µs |",
        session.as_secs_f64() * 1e6
    );
    println!(
        "| resident memory per loaded plugin ({} plugins, from the cache) | {per_plugin:.0} KiB |",
        loaded.len()
    );
    println!(
        "| resident memory per running session ({} instances) | {per_session:.0} KiB |",
        sessions.len()
    );
}
