//! The bundled programs as the product ships them: compiled components in the
//! programs directory, loaded by the service, checked by the developer tool.

mod support;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use support::{binary, plugins_dir};
use tarsal_core::session::SessionId;
use tarsal_core::{ChairProfile, Engine};
use tarsal_plugin_host::{Library, Limits, ProgramSet};
use tarsal_runtime::{Chair, ControlLoop, LoopConfig, Pacing};
use tarsal_sim::Simulator;

/// The five bundled programs.
const BUNDLED: [&str; 5] = [
    "classic",
    "lymphatic-drainage",
    "reflexology",
    "foot-bath-soak",
    "sanitize",
];

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_bundled_program_passes_check_with_zero_clamps_refusals_and_faults() {
    for id in BUNDLED {
        let file = plugins_dir(None).join(format!("{id}.wasm"));
        // As cargo runs it: `cargo tarsal check` is `cargo-tarsal tarsal check`.
        let out = Command::new(binary("cargo-tarsal"))
            .args(["tarsal", "--json", "check"])
            .arg(&file)
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{id}: {e}: {}{}", text(&out.stdout), text(&out.stderr)));
        assert!(out.status.success(), "{id}: {report:#}");
        assert_eq!(report["ok"], true);
        let cases = report["cases"].as_array().unwrap();
        assert!(cases.len() >= 6, "{id}: only {} cases", cases.len());
        for case in cases {
            for kind in ["clamps", "refusals", "faults"] {
                assert_eq!(
                    case[kind].as_array().map(Vec::len),
                    Some(0),
                    "{id} {}: {case:#}",
                    case["case"]
                );
            }
        }
        let completed = cases.iter().filter(|c| c["outcome"] == "completed").count();
        assert!(completed >= 6, "{id}: {report:#}");
    }
}

#[test]
fn tarsald_runs_every_bundled_program_from_its_wasm() {
    let dir = std::env::temp_dir().join(format!("tarsal-plugins-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for id in BUNDLED {
        let db = dir.join(format!("{id}.db"));
        let out = Command::new(binary("tarsald"))
            .args([
                "--sim",
                "--speed",
                "max",
                "--auto-confirm",
                "30",
                "--program",
                id,
            ])
            .arg("--programs")
            .arg(plugins_dir(None))
            .arg("--program-cache")
            .arg(dir.join("cache"))
            .arg("--db")
            .arg(&db)
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{id}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(
            text(&out.stdout).contains(&format!("({id}): completed")),
            "{}",
            text(&out.stdout)
        );
        let store = tarsal_store::Store::open_read_only(&db).unwrap();
        let row = store.session(SessionId(1)).unwrap().unwrap();
        assert_eq!(row.program, id);
        assert_eq!(row.outcome, Some(tarsal_core::Outcome::Completed));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compiled_plugins_are_cached_and_the_cache_is_used_on_the_next_start() {
    let cache = std::env::temp_dir().join(format!("tarsal-cache-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let dir = support::scratch("cache-programs");
    std::fs::copy(
        plugins_dir(None).join("classic.wasm"),
        dir.join("classic.wasm"),
    )
    .unwrap();
    let load = |library: &Library| {
        let mut report = library.load_dir(&dir);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        report.plugins.remove(0)
    };
    let library = Library::new(Limits::default(), Some(cache.clone())).unwrap();
    let first = load(&library);
    assert!(!first.from_cache);
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1);
    let library = Library::new(Limits::default(), Some(cache.clone())).unwrap();
    let second = load(&library);
    assert!(second.from_cache);
    assert_eq!(first.info, second.info);
    // A damaged entry is dropped and recompiled, not trusted.
    for entry in std::fs::read_dir(&cache).unwrap() {
        std::fs::write(entry.unwrap().path(), b"garbage").unwrap();
    }
    let third = load(&library);
    assert!(!third.from_cache);
    // A program whose file is gone leaves nothing behind in the cache.
    std::fs::remove_file(dir.join("classic.wasm")).unwrap();
    assert!(library.load_dir(&dir).plugins.is_empty());
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0);
    std::fs::remove_dir_all(&cache).unwrap();
}

#[test]
fn a_reloaded_programs_directory_replaces_the_catalog_without_a_restart() {
    let dir = std::env::temp_dir().join(format!("tarsal-reload-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let library = Library::new(Limits::default(), None).unwrap();
    let profile = Arc::new(ChairProfile::standard());
    let chair = Chair::new(
        Engine::new(Arc::clone(&profile)),
        Simulator::new(profile),
        Box::new(ProgramSet::new(library.clone(), library.load_dir(&dir))),
        SessionId(1),
        Duration::from_millis(10),
    );
    let control = ControlLoop::spawn(
        chair,
        LoopConfig {
            period: Duration::from_millis(10),
            pacing: Pacing::RealTime { speed: 1.0 },
            watchdog_margin: Duration::from_secs(2),
            watchdog_poll: LoopConfig::WATCHDOG_POLL,
            event_prefix: "reload".into(),
        },
        vec![],
    )
    .unwrap();
    let handle = control.handle();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ids = |handle: &tarsal_runtime::ChairHandle| {
        rt.block_on(handle.programs())
            .unwrap()
            .iter()
            .map(|p| p.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&handle), vec!["demo"]);
    std::fs::copy(
        plugins_dir(None).join("classic.wasm"),
        dir.join("classic.wasm"),
    )
    .unwrap();
    let set = ProgramSet::new(library.clone(), library.load_dir(&dir));
    rt.block_on(handle.install_catalog(Box::new(set))).unwrap();
    assert_eq!(ids(&handle), vec!["demo", "classic"]);
    control.shutdown(tarsal_runtime::SHUTDOWN_TIMEOUT);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tarsald_reloads_its_programs_on_sighup() {
    let dir = std::env::temp_dir().join(format!("tarsal-sighup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("programs")).unwrap();
    let log = dir.join("log.txt");
    let child = Command::new(binary("tarsald"))
        .args(["--sim", "--bus", "none", "--log-format", "json"])
        .arg("--programs")
        .arg(dir.join("programs"))
        .arg("--db")
        .arg(dir.join("t.db"))
        .env_remove("RUST_LOG")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let wait_for = |needle: &str| {
        let until = std::time::Instant::now() + Duration::from_secs(20);
        while std::time::Instant::now() < until {
            if std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains(needle)
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    };
    assert!(wait_for("control loop running"));
    std::fs::copy(
        plugins_dir(None).join("classic.wasm"),
        dir.join("programs/classic.wasm"),
    )
    .unwrap();
    let kill = |signal: &str| {
        Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
    };
    kill("-HUP");
    assert!(
        wait_for("\"programs\":1"),
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("\"program\":\"classic\""), "{logged}");
    kill("-TERM");
    let status = child.wait_with_output().unwrap().status;
    assert!(status.success());
    std::fs::remove_dir_all(&dir).unwrap();
}
