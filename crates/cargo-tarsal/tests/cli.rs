//! `cargo-tarsal` as cargo runs it (`cargo-tarsal tarsal <command>`) and as
//! a developer may run it directly.

use std::process::Command;

const CARGO_TARSAL: &str = env!("CARGO_BIN_EXE_cargo-tarsal");

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(CARGO_TARSAL)
        .args(args)
        .output()
        .expect("cargo-tarsal runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn it_answers_as_a_cargo_subcommand_and_directly() {
    for args in [&["tarsal", "--help"][..], &["--help"][..]] {
        let (code, out, _) = run(args);
        assert_eq!(code, Some(0));
        assert!(out.contains("cargo tarsal"), "{out}");
        for command in ["new", "build", "info", "check", "run"] {
            assert!(out.contains(command), "{command} missing: {out}");
        }
    }
}

#[test]
fn a_new_program_crate_is_made_from_the_template() {
    let dir = std::env::temp_dir().join(format!("cargo-tarsal-new-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let crate_dir = dir.join("foot-spa");
    let sdk = concat!(env!("CARGO_MANIFEST_DIR"), "/../tarsal-sdk");
    let (code, _, err) = run(&[
        "tarsal",
        "new",
        crate_dir.to_str().unwrap(),
        "--name",
        "Foot spa",
        "--sdk",
        sdk,
    ]);
    assert_eq!(code, Some(0), "{err}");
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("foot-spa"), "{manifest}");
    let lib = std::fs::read_to_string(crate_dir.join("src/lib.rs")).unwrap();
    assert!(
        lib.contains("Foot spa") && lib.contains("cargo tarsal build"),
        "{lib}"
    );
    // A second time into the same place is refused, naming it.
    let (code, _, err) = run(&["new", crate_dir.to_str().unwrap(), "--sdk", sdk]);
    assert_ne!(code, Some(0));
    assert!(err.contains("not empty"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_that_is_not_a_plugin_is_refused_with_status_2() {
    let file = std::env::temp_dir().join(format!("cargo-tarsal-junk-{}.wasm", std::process::id()));
    std::fs::write(&file, b"not wasm").unwrap();
    let (code, _, err) = run(&["tarsal", "info", file.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(file.to_str().unwrap()), "{err}");
    std::fs::remove_file(&file).unwrap();
}
