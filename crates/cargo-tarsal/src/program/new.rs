//! `cargo tarsal new`: a new program crate from the template, ready to
//! build, check and test.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

const CARGO_TOML: &str = include_str!("../../templates/program/Cargo.toml.tmpl");
const LIB_RS: &str = include_str!("../../templates/program/lib.rs.tmpl");

/// The SDK next to the current directory, walking up (inside a Tarsal checkout).
fn find_sdk() -> Option<PathBuf> {
    let mut dir = std::env::current_dir().ok()?;
    loop {
        let candidate = dir.join("crates/tarsal-sdk/Cargo.toml");
        if candidate.exists() {
            return candidate.parent().map(Path::to_path_buf);
        }
        if !dir.pop() {
            return None;
        }
    }
}

pub fn create(dir: &Path, id: &str, name: Option<&str>, sdk: Option<&Path>) -> Result<()> {
    let id_ok = !id.is_empty()
        && id.len() <= 40
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !id_ok {
        bail!(
            "`{id}` is not a usable program id: use lower-case letters, digits and dashes, starting with a letter"
        );
    }
    if dir.exists()
        && dir
            .read_dir()
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!("{} exists and is not empty", dir.display());
    }
    let sdk = match sdk {
        Some(p) => p.to_path_buf(),
        None => find_sdk().context(
            "cannot find tarsal-sdk: run this inside a Tarsal checkout, or pass --sdk PATH/TO/crates/tarsal-sdk",
        )?,
    };
    let sdk = sdk
        .canonicalize()
        .with_context(|| format!("{}: no SDK here", sdk.display()))?;
    let name = name.map_or_else(
        || {
            let mut n = id.replace('-', " ");
            if let Some(first) = n.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            n
        },
        str::to_owned,
    );
    let fill = |t: &str| {
        t.replace("{{id}}", id)
            .replace("{{name}}", &name)
            .replace("{{sdk}}", &sdk.display().to_string())
    };
    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join("Cargo.toml"), fill(CARGO_TOML))?;
    std::fs::write(dir.join("src/lib.rs"), fill(LIB_RS))?;
    println!("created program `{id}` in {}", dir.display());
    println!(
        "next: cd {} && cargo test && cargo tarsal build && cargo tarsal check target/plugins/{id}.wasm",
        dir.display()
    );
    Ok(())
}
