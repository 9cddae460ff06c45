//! `tarsald` as a process: one-shot sessions, configuration errors, signals,
//! crash recovery, log formats.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use tarsal_core::profile::STANDARD_PROFILE_TOML;
use tarsal_core::session::{Outcome, SessionId};
use tarsal_store::Store;

const TARSALD: &str = env!("CARGO_BIN_EXE_tarsald");

/// A fresh directory per test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tarsald-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tarsald(args: &[&str]) -> Output {
    Command::new(TARSALD)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("tarsald runs")
}

/// Starts `tarsald` in the background with its output captured.
fn spawn_tarsald(args: &[&str]) -> Child {
    Command::new(TARSALD)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tarsald starts")
}

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

fn db_arg(dir: &Path) -> String {
    dir.join("tarsal.db").display().to_string()
}

#[test]
fn a_demo_session_at_speed_100_completes_and_is_stored() {
    let dir = scratch("demo");
    let db = db_arg(&dir);
    let out = tarsald(&["--sim", "--program", "demo", "--speed", "100", "--db", &db]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("session 1 (demo): completed"),
        "{}",
        text(&out.stdout)
    );
    let store = Store::open_read_only(Path::new(&db)).unwrap();
    let row = store
        .session(SessionId(1))
        .unwrap()
        .expect("session stored");
    assert_eq!(row.program, "demo");
    assert_eq!(row.outcome, Some(Outcome::Completed));
    assert!(row.ended_at.unwrap() > row.started_at);
}

#[test]
fn options_reach_the_program_and_bad_ones_are_refused_with_what_is_allowed() {
    let dir = scratch("options");
    let db = db_arg(&dir);
    let out = tarsald(&[
        "--sim",
        "--program",
        "demo",
        "--option",
        "minutes=3",
        "--intensity",
        "5",
        "--speed",
        "max",
        "--db",
        &db,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let store = Store::open_read_only(Path::new(&db)).unwrap();
    let row = store.session(SessionId(1)).unwrap().unwrap();
    assert_eq!(row.options["values"]["minutes"], 3);
    assert_eq!(row.options["intensity"], 5);

    let out = tarsald(&[
        "--sim",
        "--program",
        "demo",
        "--option",
        "minutes=99",
        "--db",
        &db,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("allowed: a whole number 1–25"),
        "{}",
        text(&out.stderr)
    );

    let out = tarsald(&["--sim", "--program", "classic", "--db", &db]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("there is no program `classic`; available: demo"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_broken_profile_is_refused_naming_file_line_field_and_what_is_allowed() {
    let dir = scratch("profile");
    let profile = dir.join("hot.toml");
    let broken = STANDARD_PROFILE_TOML.replacen("cutoff_c = 41.0", "cutoff_c = 45.0", 1);
    std::fs::write(&profile, &broken).unwrap();
    let line = broken.lines().position(|l| l == "cutoff_c = 45.0").unwrap() + 1;
    let out = tarsald(&[
        "--sim",
        "--profile",
        profile.to_str().unwrap(),
        "--db",
        &db_arg(&dir),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("{}:{line}:", profile.display())),
        "{err}"
    );
    assert!(err.contains("`bath.heater.cutoff_c`"), "{err}");
    assert!(err.contains("at most 43.0 °C"), "{err}");
}

#[test]
fn a_mistyped_config_key_is_refused_naming_file_line_and_key() {
    let dir = scratch("config");
    let config = dir.join("tarsald.toml");
    std::fs::write(
        &config,
        "[service]\ntick_rate_hz = 100\ndatabse = \"/tmp/x.db\"\n",
    )
    .unwrap();
    let out = tarsald(&["--sim", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("{}:3:", config.display())), "{err}");
    assert!(
        err.contains("`service.databse`") && err.contains("unknown field"),
        "{err}"
    );
    let missing = dir.join("missing.toml");
    let out = tarsald(&["--sim", "--config", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot read the config file"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_config_file_sets_the_database_and_flags_override_it() {
    let dir = scratch("override");
    let from_file = dir.join("file.db");
    let from_flag = dir.join("flag.db");
    let config = dir.join("tarsald.toml");
    std::fs::write(
        &config,
        format!(
            "[service]\ndatabase = \"{}\"\n\n[simulator]\nspeed = 0\n",
            from_file.display()
        ),
    )
    .unwrap();
    let out = tarsald(&["--config", config.to_str().unwrap(), "--program", "demo"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(from_file.exists());
    let out = tarsald(&[
        "--config",
        config.to_str().unwrap(),
        "--program",
        "demo",
        "--db",
        from_flag.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(from_flag.exists());
}

/// Waits until the database shows a session with `outcome` (None: open).
fn wait_for_session(db: &Path, id: SessionId, open: bool) {
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        if let Ok(store) = Store::open_read_only(db)
            && let Ok(Some(row)) = store.session(id)
            && (row.outcome.is_none() == open)
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "session {id} never reached the expected state in {}",
        db.display()
    );
}

#[test]
fn sigterm_ends_the_session_gracefully_and_records_it() {
    let dir = scratch("sigterm");
    let db = dir.join("tarsal.db");
    let child = spawn_tarsald(&["--sim", "--program", "demo", "--db", db.to_str().unwrap()]);
    wait_for_session(&db, SessionId(1), true);
    terminate(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("outputs safe"),
        "{}",
        text(&out.stderr)
    );
    let row = Store::open_read_only(&db)
        .unwrap()
        .session(SessionId(1))
        .unwrap()
        .unwrap();
    // Nobody chose to stop it: the service's end interrupted it.
    assert_eq!(row.outcome, Some(Outcome::Interrupted));
    assert!(row.detail.contains("shut down"), "{row:?}");
}

#[test]
fn the_service_runs_until_sigterm_and_exits_cleanly() {
    let dir = scratch("service");
    let db = dir.join("tarsal.db");
    let mut child = spawn_tarsald(&["--sim", "--bus", "none", "--db", db.to_str().unwrap()]);
    let until = Instant::now() + Duration::from_secs(20);
    while !db.exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the service exited on its own"
    );
    terminate(&child);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn a_session_cut_short_by_kill_9_is_marked_interrupted_at_the_next_start() {
    let dir = scratch("kill9");
    let db = dir.join("tarsal.db");
    let mut child = spawn_tarsald(&["--sim", "--program", "demo", "--db", db.to_str().unwrap()]);
    wait_for_session(&db, SessionId(1), true);
    child.kill().unwrap();
    child.wait().unwrap();
    let out = tarsald(&[
        "--sim",
        "--program",
        "demo",
        "--speed",
        "max",
        "--db",
        db.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("interrupted"),
        "{}",
        text(&out.stderr)
    );
    let store = Store::open_read_only(&db).unwrap();
    assert_eq!(
        store.session(SessionId(1)).unwrap().unwrap().outcome,
        Some(Outcome::Interrupted)
    );
    assert_eq!(
        store.session(SessionId(2)).unwrap().unwrap().outcome,
        Some(Outcome::Completed)
    );
}

#[test]
fn json_logs_are_one_object_per_line() {
    let dir = scratch("json");
    let out = tarsald(&[
        "--sim",
        "--program",
        "demo",
        "--speed",
        "max",
        "--log-format",
        "json",
        "--db",
        &db_arg(&dir),
    ]);
    assert!(out.status.success());
    let err = text(&out.stderr);
    let mut codes = Vec::new();
    for line in err.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["level"].is_string() && v["message"].is_string(), "{line}");
        if let Some(code) = v["code"].as_str() {
            codes.push(code.to_owned());
        }
    }
    assert_eq!(
        codes,
        vec!["session.started", "session.running", "session.completed"]
    );
}

#[test]
fn a_database_that_cannot_open_is_named_once_with_the_reason() {
    let dir = scratch("baddb");
    // A directory where the database file should be.
    let db = dir.join("tarsal.db");
    std::fs::create_dir_all(&db).unwrap();
    let out = tarsald(&["--sim", "--program", "demo", "--db", db.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.contains("tarsal.db"))
        .unwrap_or_else(|| panic!("{err}"));
    assert_eq!(line.matches("tarsal.db").count(), 1, "{line}");
    assert!(line.contains("cannot open the database"), "{line}");
}
