//! `tarsalctl` as a process, against real files and a real database.

use std::process::Command;

const TARSALCTL: &str = env!("CARGO_BIN_EXE_tarsalctl");

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(TARSALCTL)
        .args(args)
        .output()
        .expect("tarsalctl runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn profile_check_accepts_the_shipped_profile_and_locates_errors_in_a_broken_one() {
    let good = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/profiles/pedicure-standard.toml"
    );
    let (code, out, _) = run(&["profile", "check", good]);
    assert_eq!(code, Some(0));
    assert!(out.contains("setpoint ≤ 40.0 °C, cut at 41.0 °C"), "{out}");

    let dir = std::env::temp_dir().join(format!("tarsalctl-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    let text = std::fs::read_to_string(good).unwrap().replacen(
        "setpoint_max_c = 42.0",
        "setpoint_max_c = 44.5",
        1,
    );
    std::fs::write(&bad, text).unwrap();
    let (code, _, err) = run(&["profile", "check", bad.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(err.contains("`heat_pads.sole.setpoint_max_c`"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn history_commands_read_a_database_and_say_when_there_is_none() {
    let dir = std::env::temp_dir().join(format!("tarsalctl-db-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("t.db");
    let (code, _, err) = run(&["sessions", "--db", db.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no database here"), "{err}");
    {
        let mut store = tarsal_store::Store::open(&db).unwrap();
        store
            .recover_interrupted(tarsal_core::wallclock::UnixMillis(0))
            .unwrap();
    }
    let (code, out, _) = run(&["sessions", "--db", db.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    assert!(out.contains("no sessions recorded"), "{out}");
    let (code, out, _) = run(&["--json", "events", "--db", db.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).unwrap(),
        serde_json::json!([])
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_program_tools_point_to_cargo_tarsal() {
    let (code, _, err) = run(&["program", "check", "x.wasm"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("cargo tarsal"), "{err}");
}
