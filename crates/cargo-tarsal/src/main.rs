//! `cargo tarsal`: everything a program developer needs, in the shape cargo
//! users expect of a subcommand (`cargo install --path crates/cargo-tarsal`
//! puts `cargo-tarsal` on the PATH; cargo then runs it for `cargo tarsal`).
//!
//! - `new`: a program crate from the template;
//! - `build`: plugin crates → WebAssembly components, checked by loading them;
//! - `info`: what a component says about itself;
//! - `check`: every intensity and option on the simulated chair;
//! - `run`: one simulated session, with a timeline picture.
//!
//! It carries the plugin host (wasmtime) and the simulator; the operator's
//! `tarsalctl` on the chair carries neither.

mod program;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tarsal_core::session::{OptionValue, SessionOptions};
use tarsal_core::units::Intensity;

#[derive(Parser)]
#[command(
    name = "cargo-tarsal",
    bin_name = "cargo tarsal",
    version,
    about = "Build, inspect, check and simulate Tarsal massage programs",
    after_help = "Exit status: 0 done; 1 unexpected error; 2 a plugin that does not load or misbehaves, \
                  or bad arguments."
)]
struct Cli {
    /// Print machine-readable JSON instead of text
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create a new program crate from the template
    New {
        /// Directory to create
        dir: PathBuf,
        /// Program id (lower-case, dashes) [default: the directory name]
        #[arg(long)]
        id: Option<String>,
        /// Program name shown to staff
        #[arg(long)]
        name: Option<String>,
        /// Path to crates/tarsal-sdk [default: found by walking up from here]
        #[arg(long, value_name = "PATH")]
        sdk: Option<PathBuf>,
    },
    /// Build plugin crates into WebAssembly components
    Build {
        /// Plugin crate directories [default: the current directory]
        dirs: Vec<PathBuf>,
        /// Where to write the components [default: <target>/plugins]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Toolchain route [default: rustup's wasm32 target if installed, else Debian's]
        #[arg(long, value_enum)]
        toolchain: Option<program::build::Toolchain>,
        /// Do not load the results to check them (for deliberately broken test plugins)
        #[arg(long, conflicts_with = "bundle")]
        no_verify: bool,
        /// These are the programs shipped with Tarsal: write the bundle
        /// manifest (bundle.toml, ids and SHA-256s) beside them, so no other
        /// file can take their ids
        #[arg(long)]
        bundle: bool,
    },
    /// Show what a plugin says about itself; exit status 2 when it does not load
    Info { file: PathBuf },
    /// Run every intensity and option on the simulated chair; exit status 2 on
    /// any clamp, refusal, fault, or a session that does not complete
    Check {
        file: PathBuf,
        /// Chair profile to simulate [default: the built-in standard chair]
        #[arg(long, value_name = "PATH")]
        profile: Option<PathBuf>,
        /// Every combination of option values, not each value once
        #[arg(long)]
        exhaustive: bool,
    },
    /// Run one simulated session and report what happened
    Run {
        file: PathBuf,
        /// Intensity 1–5 [default: the program's]
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=5))]
        intensity: Option<u8>,
        #[arg(long)]
        no_heat: bool,
        #[arg(long)]
        no_bath: bool,
        /// A program option (repeatable)
        #[arg(long = "option", value_name = "KEY=VALUE")]
        options: Vec<String>,
        /// Write a timeline picture of every actuator (SVG)
        #[arg(long, value_name = "FILE.svg")]
        plot: Option<PathBuf>,
        /// Chair profile to simulate [default: the built-in standard chair]
        #[arg(long, value_name = "PATH")]
        profile: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    // Cargo runs `cargo-tarsal tarsal <command>`; run directly, it is
    // `cargo-tarsal <command>`. Accept both.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "tarsal") {
        args.remove(1);
    }
    let cli = Cli::parse_from(args);
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cargo tarsal: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode> {
    match &cli.command {
        Cmd::New { dir, id, name, sdk } => {
            let id = match id {
                Some(id) => id.clone(),
                None => dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .context("give the program an --id")?,
            };
            program::new::create(dir, &id, name.as_deref(), sdk.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Build {
            dirs,
            out,
            toolchain,
            no_verify,
            bundle,
        } => {
            let dirs = if dirs.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                dirs.clone()
            };
            program::build(&dirs, out.as_deref(), *toolchain, !no_verify, *bundle)
        }
        Cmd::Info { file } => program::info(file, cli.json),
        Cmd::Check {
            file,
            profile,
            exhaustive,
        } => program::check(file, profile.as_deref(), *exhaustive, cli.json),
        Cmd::Run {
            file,
            intensity,
            no_heat,
            no_bath,
            options,
            plot,
            profile,
        } => program::run(program::RunArgs {
            file,
            options: SessionOptions {
                intensity: intensity.and_then(Intensity::new).unwrap_or_default(),
                heat: !no_heat,
                bath: !no_bath,
                values: options
                    .iter()
                    .map(|pair| {
                        OptionValue::parse_pair(pair).map_err(|e| anyhow::anyhow!("--option {e}"))
                    })
                    .collect::<Result<_>>()?,
            },
            plot: plot.as_ref(),
            profile: profile.as_deref(),
            json: cli.json,
        }),
    }
}
