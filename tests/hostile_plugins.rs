//! Misbehaving plugins (tests/fixtures/plugins), loaded into the real
//! sandbox and run on the simulated chair: for each, the service survives,
//! the chair is safe in the very tick the plugin misbehaves, the fault says
//! what happened — and other programs keep working afterwards.

mod support;

use std::time::Duration;
use support::{Rig, plugins_dir, secs};
use tarsal_core::engine::{Command, Refusal};
use tarsal_core::model::HeaterId;
use tarsal_core::model::{Request, SensorReadings, Side};
use tarsal_core::program::CatalogError;
use tarsal_core::program::{ChairLimits, Program, ProgramErrorKind, ProgramInput};
use tarsal_core::session::SessionOptions;
use tarsal_core::units::Intensity;
use tarsal_plugin_host::{CallTime, Library, Limits, ProgramSet, ProgramSources};

/// The bundled programs (with their bundle manifest) and the hostile
/// fixtures as programs installed on the chair, in one catalog; and every
/// file that did not load, with the reason.
fn catalog() -> (ProgramSet, Vec<String>) {
    catalog_within(Limits::default())
}

fn catalog_within(limits: Limits) -> (ProgramSet, Vec<String>) {
    let library = Library::new(limits, None).expect("plugin host");
    let report = library.load_sources(
        &ProgramSources {
            bundled: plugins_dir(None),
            local: Some(plugins_dir(Some("hostile"))),
        },
        None,
    );
    let problems: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    (ProgramSet::new(library, report), problems)
}

/// Runs fixture `id`: gentle for a second, then misbehaving. Checks the
/// chair was working the tick before and is safe in the tick of the fault,
/// the fault's code and words, and that another program then runs.
fn misbehaves(id: &str, code: &str, words: &[&str]) {
    misbehaves_within(Limits::default(), id, code, words);
}

/// [`misbehaves`] with the plugins under `limits`.
fn misbehaves_within(limits: Limits, id: &str, code: &str, words: &[&str]) {
    let (set, _) = catalog_within(limits);
    let mut rig = Rig::with_catalog(Box::new(set));
    let session = rig.start(id);
    let mut before = *rig.outputs();
    let found = rig.run_until(secs(3), |r| {
        let hit = r.events.iter().any(|e| e.kind.code() == code);
        if !hit {
            before = *r.outputs();
        }
        hit
    });
    assert!(found, "{id}: no {code}; events {:?}", rig.codes());
    assert!(
        before.heater_power[HeaterId::SolePad].0 > 0.0,
        "{id}: the chair was not working before the fault"
    );
    rig.assert_faulted_safe(code, Some(session));
    let message = &rig.stored(code)[0].message;
    assert!(message.contains(&format!("`{id}`")), "{message}");
    for w in words {
        assert!(message.contains(w), "{id}: `{w}` not in: {message}");
    }
    assert!(
        message.len() < 2000,
        "{id}: the fault message is {} bytes",
        message.len()
    );

    // The service goes on: acknowledge, and a well-behaved plugin runs.
    rig.command(Command::Reset).unwrap();
    let next = rig.start("classic");
    rig.run_for(secs(5));
    assert_eq!(rig.chair.engine().state(), tarsal_core::ChairState::Running);
    assert!(
        rig.codes()
            .iter()
            .rev()
            .take_while(|c| **c != "session.started")
            .all(|c| !c.starts_with("fault."))
    );
    assert!(next.0 > session.0);
}

#[test]
fn an_infinite_loop_is_stopped_by_its_instruction_budget() {
    // The CPU-time limit out of the way (a slow machine would reach it
    // first): the instruction budget stops the loop, whatever the machine.
    let limits = Limits {
        tick_time: CallTime::new(Duration::from_secs(5), Duration::from_secs(10)),
        ..Limits::default()
    };
    misbehaves_within(
        limits,
        "infinite-loop",
        "fault.program",
        &["took too long", "budget"],
    );
}

#[test]
fn a_memory_bomb_is_stopped_at_its_memory_cap() {
    misbehaves(
        "memory-bomb",
        "fault.program",
        &["used too much memory", "16 MiB"],
    );
}

#[test]
fn a_crash_is_reported_with_the_plugins_own_panic_message() {
    misbehaves(
        "trap",
        "fault.program",
        &["crashed", "deliberate crash for testing"],
    );
}

#[test]
fn a_nan_request_is_refused_as_impossible() {
    misbehaves(
        "nan-request",
        "fault.invalid_request",
        &["feet.left.pressure = NaN"],
    );
}

#[test]
fn an_out_of_range_request_is_refused_as_impossible() {
    misbehaves(
        "out-of-range",
        "fault.invalid_request",
        &["feet.right.pressure = 500.0"],
    );
}

#[test]
fn a_huge_return_value_is_cut_down_in_the_fault() {
    // 8 MiB of error text: stopped as it is handed over, not copied.
    misbehaves(
        "huge-return",
        "fault.program",
        &["handed over too much data", "more than 64 KiB"],
    );
}

#[test]
fn plugins_that_cannot_be_loaded_are_named_with_the_reason_and_others_load() {
    let (set, problems) = catalog();
    let find = |file: &str| {
        problems
            .iter()
            .find(|p| p.contains(file))
            .unwrap_or_else(|| panic!("no problem for {file}: {problems:?}"))
            .clone()
    };
    assert!(
        find("hostile-wrong-version.wasm")
            .contains("built for tarsal:program 2.0.0; this Tarsal speaks tarsal:program 0.2.x")
    );
    assert!(
        find("hostile-huge-describe.wasm").contains("more than 256 KiB"),
        "{}",
        find("hostile-huge-describe.wasm")
    );
    let ids: Vec<String> = set.plugins().iter().map(|p| p.info.id.clone()).collect();
    for id in ["classic", "infinite-loop", "trap"] {
        assert!(ids.iter().any(|i| i == id), "{id} not loaded: {ids:?}");
    }

    // A file that is not WebAssembly at all.
    let dir = std::env::temp_dir().join(format!("tarsal-not-wasm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("readme.wasm"), "this is not a plugin\n").unwrap();
    let library = Library::new(Limits::default(), None).unwrap();
    let report = library.load_dir(&dir);
    assert!(report.plugins.is_empty());
    assert_eq!(report.problems.len(), 1);
    assert!(
        report.problems[0]
            .to_string()
            .contains("readme.wasm: it is not a WebAssembly file")
    );
    std::fs::remove_dir_all(&dir).unwrap();

    // Starting one that did not load says why.
    let mut rig = Rig::with_catalog(Box::new(set));
    match rig
        .chair
        .start("from-the-future", SessionOptions::default())
    {
        Err(Refusal::Catalog(CatalogError::Unknown { available, .. })) => {
            assert!(available.contains("classic"), "{available}");
            assert!(available.contains("not loaded"), "{available}");
            assert!(
                available.contains("built for tarsal:program 2.0.0"),
                "{available}"
            );
        }
        other => panic!("{other:?}"),
    }
}

/// The fixture `hostile-<name>.wasm`.
fn fixture(name: &str) -> std::path::PathBuf {
    plugins_dir(Some("hostile")).join(format!("hostile-{name}.wasm"))
}

/// One simulated session of fixture `name` in `cargo tarsal run
/// --json`: the report, its event codes, and the exit status.
fn cargo_tarsal_run(
    name: &str,
    args: &[&str],
) -> (serde_json::Value, Vec<String>, std::process::ExitStatus) {
    let out = std::process::Command::new(support::binary("cargo-tarsal"))
        .args(["--json", "run"])
        .arg(fixture(name))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    let codes = report["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["code"].as_str().map(String::from))
        .collect();
    (report, codes, out.status)
}

/// One 10 ms tick of `program` at `elapsed`, on an empty chair.
fn tick_at(
    program: &mut tarsal_plugin_host::WasmProgram,
    elapsed: Duration,
) -> Result<tarsal_core::program::ProgramOutput, tarsal_core::program::ProgramError> {
    let sensors = SensorReadings::default();
    let limits = ChairLimits::default();
    let applied = Request::OFF;
    program.tick(&ProgramInput {
        elapsed,
        dt: Duration::from_millis(10),
        intensity: Intensity::DEFAULT,
        heat: true,
        bath: false,
        sensors: &sensors,
        limits: &limits,
        applied: &applied,
        staff_confirmations: 0,
    })
}

#[test]
fn a_program_that_claims_to_wait_for_staff_cannot_work_the_chair_meanwhile() {
    let (set, _) = catalog();
    let mut rig = Rig::with_catalog(Box::new(set));
    let options = SessionOptions {
        intensity: Intensity::new(5).unwrap(),
        ..SessionOptions::default()
    };
    rig.chair.start("staff-dodger", options).unwrap();
    rig.run_for(secs(1));
    // It says "awaiting staff" 99 ticks in 100 while asking for firm
    // kneading at the ceiling and the sole pad at its maximum.
    let (mut ticks, mut pad_ticks, mut max_pressure) = (0u32, 0u32, 0.0f64);
    rig.run_until(secs(120), |r| {
        ticks += 1;
        let out = r.outputs();
        for side in Side::ALL {
            max_pressure = max_pressure.max(out.feet[side].pressure.0);
        }
        if out.heater_power[HeaterId::SolePad].0 > 0.0 {
            pad_ticks += 1;
        }
        false
    });
    // One working tick in a hundred: the ramp limit (20 %/s) lets at most
    // 0.2 % through before the chair idles again.
    assert!(
        max_pressure <= 0.5,
        "foot pressure reached {max_pressure} %"
    );
    assert!(
        pad_ticks * 50 <= ticks,
        "the sole pad heated in {pad_ticks} of {ticks} ticks"
    );
    assert_eq!(
        rig.count("interlock.awaiting_staff"),
        1,
        "said once: {:?}",
        rig.codes()
    );
}

#[test]
fn a_program_that_mostly_waits_for_staff_still_ends_within_the_session_limit() {
    // Through the developer's tool, as the red team ran it: the standard
    // chair (30 min, staff waits add at most 30 min).
    let (report, codes, _) = cargo_tarsal_run("staff-dodger", &["--intensity", "5"]);
    let simulated = report["simulated_s"].as_f64().unwrap();
    assert!(
        simulated <= 60.0 * 60.0 + 1.0,
        "the session lasted {simulated} s: {report}"
    );
    let outcome = report["outcome"].as_str().unwrap();
    assert!(
        matches!(outcome, "time_limit" | "stopped"),
        "{outcome}: {}",
        report["detail"]
    );
    assert_eq!(
        codes
            .iter()
            .filter(|c| *c == "interlock.awaiting_staff")
            .count(),
        1,
        "{codes:?}"
    );
}

#[test]
fn parts_a_program_did_not_declare_stay_off_and_are_reported_once_each() {
    let (set, _) = catalog();
    let info = set
        .plugins()
        .iter()
        .find(|p| p.info.id == "undeclared-parts")
        .map(|p| p.info.clone())
        .unwrap();
    assert!(!info.uses.bath && !info.uses.calf_units && !info.uses.calf_heat);
    let mut rig = Rig::with_catalog(Box::new(set));
    rig.start("undeclared-parts");
    let status = rig.chair.engine().status();
    assert!(
        !status.session.unwrap().options.bath,
        "the bath permission follows what the program declares"
    );
    let mut touched = Vec::new();
    rig.run_until(secs(30), |r| {
        let o = r.outputs();
        if o.fill_valve_open || o.jet_pump.0 > 0.0 {
            touched.push("bath");
        }
        if o.heater_power[HeaterId::Water].0 > 0.0 || o.heater_power[HeaterId::CalfPad].0 > 0.0 {
            touched.push("heater");
        }
        if Side::ALL
            .iter()
            .any(|&s| o.calves[s].cells.0.iter().any(|c| c.0 > 0.0))
        {
            touched.push("calves");
        }
        false
    });
    assert!(touched.is_empty(), "{touched:?}");
    assert_eq!(rig.chair.engine().state(), tarsal_core::ChairState::Running);
    let mut parts: Vec<String> = rig
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            tarsal_core::EventKind::Interlock(tarsal_core::event::Interlock::NotDeclared {
                part,
            }) => Some(part.code().to_owned()),
            _ => None,
        })
        .collect();
    parts.sort();
    assert_eq!(parts, ["bath", "calf_heat", "calf_units"]);
    let stored = rig.stored("interlock.not_declared");
    assert_eq!(stored.len(), 3);
    assert!(
        stored[0].message.contains("did not declare"),
        "{}",
        stored[0].message
    );
}

#[test]
fn a_plugin_that_floods_the_log_is_stopped_in_its_tick() {
    // An 8 MiB line, over and over: the first one is stopped as it is
    // handed over, before the host copies it.
    misbehaves(
        "log-flood",
        "fault.program",
        &["handed over too much data", "more than 64 KiB"],
    );
}

#[test]
fn a_plugin_inside_the_per_call_log_limits_is_held_to_the_session_log_rate() {
    let limits = Limits::default();
    let library = Library::new(limits, None).unwrap();
    let plugin = library.load_file(&fixture("log-spam")).unwrap();
    let mut program = library.start(&plugin, &SessionOptions::default()).unwrap();
    for tick in 0..1000u32 {
        tick_at(&mut program, Duration::from_millis(10) * tick)
            .expect("inside every per-call limit");
    }
    // 10 s at 20 lines of 1000 bytes per tick: 20,000 lines, 20 MB. Kept:
    // the burst plus 10 s at the rate.
    let allowed = (limits.log_burst_bytes + 10 * limits.log_bytes_per_second) / 1000;
    let kept = program.log_lines_kept();
    assert!(kept <= allowed + 1, "{kept} lines kept, allowed {allowed}");
    assert!(kept >= allowed / 2, "{kept} lines kept");
    assert_eq!(program.dropped_log_lines() + kept, 20_000);
}

#[test]
fn a_call_has_a_time_limit_besides_its_instruction_budget() {
    // With fuel out of the way, the deadline alone stops a spinning tick.
    let limits = Limits {
        tick_fuel: u64::MAX / 4,
        tick_time: CallTime::new(Duration::from_millis(5), Duration::from_secs(1)),
        ..Limits::default()
    };
    let library = Library::new(limits, None).unwrap();
    let plugin = library.load_file(&fixture("infinite-loop")).unwrap();
    let mut program = library.start(&plugin, &SessionOptions::default()).unwrap();
    let err = tick_at(&mut program, Duration::from_secs(2)).unwrap_err();
    assert_eq!(err.kind, ProgramErrorKind::Timeout, "{err}");
    assert!(err.message.contains("time limit"), "{err}");
    assert!(err.message.contains("5 ms of CPU"), "{err}");

    // And `describe`: a plugin spinning in it is refused, named, at load.
    let limits = Limits {
        call_fuel: u64::MAX / 4,
        describe_time: CallTime::new(Duration::from_millis(200), Duration::from_secs(2)),
        ..Limits::default()
    };
    let library = Library::new(limits, None).unwrap();
    let err = library.load_file(&fixture("describe-spin")).unwrap_err();
    assert!(
        err.to_string()
            .contains("`describe` call ran past its time limit"),
        "{err}"
    );
}

#[test]
fn what_a_plugin_describes_or_logs_cannot_forge_lines_or_carry_control_characters() {
    let (set, problems) = catalog();
    let dirty = problems
        .iter()
        .find(|p| p.contains("hostile-dirty-describe.wasm"))
        .expect("dirty-describe refused");
    assert!(dirty.contains("contains a control character"), "{dirty}");
    assert!(
        !dirty.contains('\n') && !dirty.contains('\u{1b}'),
        "{dirty}"
    );

    let mut rig = Rig::with_catalog(Box::new(set));
    rig.start("control-chars");
    // remaining-ms = u64::MAX: never more than the session may still last.
    let remaining = rig.chair.engine().status().session.unwrap().remaining;
    let profile = tarsal_core::ChairProfile::standard();
    assert!(
        remaining <= profile.session.max_duration + profile.session.staff_timeout,
        "{remaining:?}"
    );
    assert!(rig.run_until(secs(3), |r| r.count("fault.program") > 0));
    let message = &rig.stored("fault.program")[0].message;
    for bad in ['\n', '\r', '\u{1b}', '\u{202e}'] {
        assert!(!message.contains(bad), "{bad:?} in {message}");
    }
    assert!(message.contains("\\n2026"), "shown, not hidden: {message}");
    assert!(message.len() < 2000, "{} bytes", message.len());
}

#[test]
fn a_file_cannot_take_a_bundled_programs_id_and_two_files_cannot_share_one() {
    let (set, problems) = catalog();
    let impostor = problems
        .iter()
        .find(|p| p.contains("hostile-impostor.wasm"))
        .expect("the impostor is refused");
    assert!(
        impostor.contains("`classic`, the id of a program shipped with Tarsal"),
        "{impostor}"
    );
    let classic = set
        .plugins()
        .iter()
        .find(|p| p.info.id == "classic")
        .unwrap();
    assert_eq!(classic.origin, tarsal_plugin_host::Origin::Bundled);
    assert_eq!(
        classic.file.file_name().unwrap(),
        "classic.wasm",
        "the real one is started"
    );

    // Two local files with one id: neither loads, both are named.
    let dir = support::scratch("duplicate-ids");
    let local = dir.join("local");
    std::fs::create_dir_all(&local).unwrap();
    std::fs::copy(fixture("trap"), local.join("a.wasm")).unwrap();
    std::fs::copy(fixture("trap"), local.join("b.wasm")).unwrap();
    let library = Library::new(Limits::default(), None).unwrap();
    let report = library.load_sources(
        &ProgramSources {
            bundled: plugins_dir(None),
            local: Some(local),
        },
        None,
    );
    assert!(report.plugins.iter().all(|p| p.info.id != "trap"));
    let dup: Vec<String> = report
        .problems
        .iter()
        .map(ToString::to_string)
        .filter(|p| p.contains("program id `trap` is claimed by 2 files"))
        .collect();
    assert_eq!(dup.len(), 2, "{dup:?}");
    assert!(dup[0].contains("a.wasm") && dup[0].contains("b.wasm"));
}

#[test]
fn parts_a_program_did_not_declare_stay_off_in_the_developers_tool_too() {
    let (_, codes, status) = cargo_tarsal_run("undeclared-parts", &[]);
    assert_eq!(
        codes
            .iter()
            .filter(|c| *c == "interlock.not_declared")
            .count(),
        3,
        "bath, calf units, calf heat, once each: {codes:?}"
    );
    assert!(
        !status.success(),
        "the run reports such a program as failing"
    );
}
