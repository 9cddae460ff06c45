//! `cargo tarsal build`: plugin crates → WebAssembly components.
//!
//! Two toolchain routes, picked automatically:
//! - **rustup**: when `rustup target add wasm32-unknown-unknown` has been
//!   done, the normal `cargo build --target wasm32-unknown-unknown`;
//! - **Debian**: Debian's `rustc-web`/`cargo-web` with the standard library
//!   built from `rust-web-src` (`-Zbuild-std`), for machines whose rustup
//!   cannot download the wasm target.
//!
//! The core module cargo produces is then turned into a component
//! (`wit-component`), which is what the service loads.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-unknown-unknown";
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const DEBIAN_RUST_SRC: &str = "/usr/lib/rustlib/src/rust/library";
const DEBIAN_RUST_LLD: &str = "/usr/bin/rust-lld";

/// How to reach a wasm32 toolchain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Toolchain {
    /// rustup's cargo with the wasm32-unknown-unknown target installed
    Rustup,
    /// Debian's rustc-web with the standard library built from source
    Debian,
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    target_directory: PathBuf,
    workspace_root: PathBuf,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    manifest_path: PathBuf,
    targets: Vec<Target>,
}

#[derive(Deserialize)]
struct Target {
    name: String,
    crate_types: Vec<String>,
}

/// A plugin crate to build.
struct Crate {
    package: String,
    version: String,
    lib_name: String,
    workspace_root: PathBuf,
    target_directory: PathBuf,
}

/// A built component.
pub struct Built {
    pub package: String,
    pub version: String,
    pub file: PathBuf,
    pub bytes: usize,
}

fn locate(dir: &Path) -> Result<Crate> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.exists() {
        bail!("{}: no Cargo.toml here", dir.display());
    }
    let out = Command::new("cargo")
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(&manifest)
        .output()
        .context("running `cargo metadata`")?;
    if !out.status.success() {
        bail!(
            "{}: cargo metadata failed:\n{}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: Metadata = serde_json::from_slice(&out.stdout).context("reading cargo metadata")?;
    let manifest = manifest.canonicalize()?;
    let package = meta
        .packages
        .into_iter()
        .find(|p| p.manifest_path.canonicalize().is_ok_and(|m| m == manifest))
        .with_context(|| format!("{}: no package in this manifest", dir.display()))?;
    let lib = package
        .targets
        .iter()
        .find(|t| t.crate_types.iter().any(|c| c == "cdylib"))
        .with_context(|| {
            format!(
                "{}: `{}` is not a plugin crate; its [lib] needs crate-type = [\"cdylib\", \"rlib\"]",
                dir.display(),
                package.name
            )
        })?;
    Ok(Crate {
        lib_name: lib.name.replace('-', "_"),
        package: package.name,
        version: package.version,
        workspace_root: meta.workspace_root,
        target_directory: meta.target_directory,
    })
}

/// Picks the toolchain route: rustup's target if installed, else Debian's.
fn detect() -> Result<Toolchain> {
    let rustup_target = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .is_some_and(|dir| dir.exists());
    if rustup_target {
        return Ok(Toolchain::Rustup);
    }
    if Path::new(DEBIAN_RUSTC).exists() && Path::new(DEBIAN_RUST_SRC).exists() {
        // `exists` follows the link: Debian's rust-lld points into lld-22.
        if !Path::new(DEBIAN_RUST_LLD).exists() {
            bail!(
                "Debian's rustc-web is installed but its wasm linker {DEBIAN_RUST_LLD} is missing \
                 (or points to nothing): install rust-web-llvm and lld-22"
            );
        }
        return Ok(Toolchain::Debian);
    }
    bail!(
        "no Rust toolchain for {TARGET} found. Either run `rustup target add {TARGET}`, \
         or on Debian install rustc-web, cargo-web, rust-web-src, rust-web-llvm and lld-22"
    )
}

/// Whether the workspace defines the `plugin` build profile.
fn has_plugin_profile(workspace_root: &Path) -> bool {
    std::fs::read_to_string(workspace_root.join("Cargo.toml"))
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .is_some_and(|t| t.get("profile").and_then(|p| p.get("plugin")).is_some())
}

/// Builds the plugin crates in `dirs` and writes components to `out` (by
/// default `<target>/plugins`). Returns what was built.
pub fn build(
    dirs: &[PathBuf],
    out: Option<&Path>,
    toolchain: Option<Toolchain>,
) -> Result<Vec<Built>> {
    let crates: Vec<Crate> = dirs.iter().map(|d| locate(d)).collect::<Result<_>>()?;
    let Some(first) = crates.first() else {
        bail!("nothing to build");
    };
    let toolchain = match toolchain {
        Some(t) => t,
        None => detect()?,
    };
    let out = out.map_or_else(|| first.target_directory.join("plugins"), Path::to_path_buf);
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;

    let mut built = Vec::new();
    // One cargo run per workspace, so the standard library is built once.
    let mut roots: Vec<&Path> = crates.iter().map(|c| c.workspace_root.as_path()).collect();
    roots.dedup();
    for root in roots {
        let group: Vec<&Crate> = crates.iter().filter(|c| c.workspace_root == root).collect();
        let target_dir = group[0].target_directory.join("wasm");
        let (profile_flag, profile_dir) = if has_plugin_profile(root) {
            (vec!["--profile", "plugin"], "plugin")
        } else {
            (vec!["--release"], "release")
        };
        let mut cmd = match toolchain {
            Toolchain::Rustup => Command::new("cargo"),
            Toolchain::Debian => {
                let mut c = Command::new(DEBIAN_CARGO);
                c.env("RUSTC_BOOTSTRAP", "1").env("RUSTC", DEBIAN_RUSTC);
                c
            }
        };
        cmd.current_dir(root)
            .env("CARGO_TARGET_DIR", &target_dir)
            .arg("build")
            .args(&profile_flag)
            .args(["--target", TARGET]);
        if toolchain == Toolchain::Debian {
            cmd.arg("-Zbuild-std=std,panic_abort");
        }
        for c in &group {
            cmd.args(["-p", &c.package]);
        }
        eprintln!(
            "building {} for {TARGET} ({})",
            group
                .iter()
                .map(|c| c.package.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            match toolchain {
                Toolchain::Rustup => "rustup",
                Toolchain::Debian => "Debian rustc-web, std built from source",
            }
        );
        let status = cmd.status().context("running cargo")?;
        if !status.success() {
            bail!("cargo could not build the plugins ({status})");
        }
        for c in group {
            let module = target_dir
                .join(TARGET)
                .join(profile_dir)
                .join(format!("{}.wasm", c.lib_name));
            let bytes =
                std::fs::read(&module).with_context(|| format!("reading {}", module.display()))?;
            let component = wit_component::ComponentEncoder::default()
                .module(&bytes)
                .and_then(|e| e.validate(true).encode())
                .map_err(|e| anyhow::anyhow!("{}: cannot make a component: {e:#}", c.package))?;
            let file = out.join(format!("{}.wasm", c.package));
            std::fs::write(&file, &component)
                .with_context(|| format!("writing {}", file.display()))?;
            built.push(Built {
                package: c.package.clone(),
                version: c.version.clone(),
                file,
                bytes: component.len(),
            });
        }
    }
    Ok(built)
}
