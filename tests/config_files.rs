//! The example config shipped in deploy/ must be accepted by the service.

use std::process::Command;

#[test]
fn the_shipped_example_config_is_valid() {
    let root = env!("CARGO_MANIFEST_DIR");
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<this test> → target/<profile>/tarsald
    let tarsald = exe.parent().unwrap().parent().unwrap().join("tarsald");
    assert!(
        tarsald.exists(),
        "{} is not built; run `cargo build -p tarsald` (scripts/test.sh does)",
        tarsald.display()
    );
    let db = std::env::temp_dir().join(format!("tarsal-config-test-{}.db", std::process::id()));
    let out = Command::new(&tarsald)
        .args(["--config", &format!("{root}/deploy/tarsald.toml")])
        .args([
            "--program",
            "demo",
            "--speed",
            "max",
            "--db",
            db.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(&db);
}
