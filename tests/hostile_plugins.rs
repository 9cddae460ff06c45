//! Misbehaving plugins (tests/fixtures/plugins), loaded into the real
//! sandbox and run on the simulated chair: for each, the service survives,
//! the chair is safe in the very tick the plugin misbehaves, the fault says
//! what happened — and other programs keep working afterwards.

mod support;

use support::{Rig, plugins_dir, secs};
use tarsal_core::engine::{Command, Refusal};
use tarsal_core::model::HeaterId;
use tarsal_core::program::CatalogError;
use tarsal_core::session::SessionOptions;
use tarsal_plugin_host::{Library, Limits, LoadReport, ProgramSet};

/// The bundled programs and the hostile fixtures, in one catalog.
fn catalog() -> (ProgramSet, Vec<String>) {
    let library = Library::new(Limits::default(), None).expect("plugin host");
    let mut report = library.load_dir(&plugins_dir(None));
    let hostile = library.load_dir(&plugins_dir(Some("hostile")));
    report.plugins.extend(hostile.plugins);
    let problems: Vec<String> = report
        .problems
        .iter()
        .chain(&hostile.problems)
        .map(ToString::to_string)
        .collect();
    let set = ProgramSet::new(
        library,
        LoadReport {
            plugins: report.plugins,
            problems: hostile.problems,
        },
    );
    (set, problems)
}

/// Runs fixture `id`: gentle for a second, then misbehaving. Checks the
/// chair was working the tick before and is safe in the tick of the fault,
/// the fault's code and words, and that another program then runs.
fn misbehaves(id: &str, code: &str, words: &[&str]) {
    let (set, _) = catalog();
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
    misbehaves(
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
    misbehaves("huge-return", "fault.program", &["failed", "bytes, cut"]);
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
            .contains("built for tarsal:program 2.0.0; this Tarsal speaks tarsal:program 0.1.x")
    );
    assert!(find("hostile-huge-describe.wasm").contains("allowed: at most 262144 bytes"));
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
