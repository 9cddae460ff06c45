//! `tarsalctl`: the command-line tool for technicians and integrators.
//!
//! Works offline on the chair and on a developer's machine: checks chair
//! profiles, builds, inspects, checks and simulates massage program plugins,
//! and reads the session and event history from the service's database. Live
//! control over D-Bus comes with the D-Bus API.

mod history;
mod program;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use tarsal_core::ChairProfile;
use tarsal_core::model::HeaterId;

const DEFAULT_DATABASE: &str = "/var/lib/tarsal/tarsal.db";

#[derive(Parser)]
#[command(
    name = "tarsalctl",
    version,
    about = "Control and inspect a Tarsal pedicure chair"
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
    /// Chair profiles
    Profile {
        #[command(subcommand)]
        command: ProfileCmd,
    },
    /// Massage program plugins: build, inspect, check, simulate
    Program {
        #[command(subcommand)]
        command: ProgramCmd,
    },
    /// Recent sessions, newest first
    Sessions {
        #[arg(long, value_name = "PATH", default_value = DEFAULT_DATABASE)]
        db: PathBuf,
        /// How many
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Recorded events (sessions, clamps, interlocks, faults), oldest first
    Events {
        #[arg(long, value_name = "PATH", default_value = DEFAULT_DATABASE)]
        db: PathBuf,
        /// Only events of this session
        #[arg(long, value_name = "ID")]
        session: Option<u64>,
        /// Only events whose code starts with this, e.g. `fault.` or `clamp.`
        #[arg(long, value_name = "PREFIX")]
        code: Option<String>,
        /// The newest this many
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

#[derive(Subcommand)]
enum ProfileCmd {
    /// Check a chair profile and summarise it; exit status 2 when it is broken
    Check { file: PathBuf },
}

#[derive(Subcommand)]
enum ProgramCmd {
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
        #[arg(long)]
        no_verify: bool,
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
        /// A program option (repeatable)
        #[arg(long = "option", value_name = "KEY=VALUE")]
        options: Vec<String>,
        /// Intensity 1–5
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=5))]
        intensity: Option<u8>,
        #[arg(long)]
        no_heat: bool,
        #[arg(long)]
        no_bath: bool,
        /// Write a timeline picture of every actuator (SVG)
        #[arg(long, value_name = "FILE.svg")]
        plot: Option<PathBuf>,
        /// Chair profile to simulate [default: the built-in standard chair]
        #[arg(long, value_name = "PATH")]
        profile: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tarsalctl: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode> {
    match &cli.command {
        Cmd::Profile {
            command: ProfileCmd::Check { file },
        } => profile_check(file, cli.json),
        Cmd::Program { command } => match command {
            ProgramCmd::New { dir, id, name, sdk } => {
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
            ProgramCmd::Build {
                dirs,
                out,
                toolchain,
                no_verify,
            } => {
                let dirs = if dirs.is_empty() {
                    vec![PathBuf::from(".")]
                } else {
                    dirs.clone()
                };
                program::build(&dirs, out.as_deref(), *toolchain, !no_verify)
            }
            ProgramCmd::Info { file } => program::info(file, cli.json),
            ProgramCmd::Check {
                file,
                profile,
                exhaustive,
            } => program::check(file, profile.as_deref(), *exhaustive, cli.json),
            ProgramCmd::Run {
                file,
                options,
                intensity,
                no_heat,
                no_bath,
                plot,
                profile,
            } => program::run(program::RunArgs {
                file,
                options: program::session_options(options, *intensity, *no_heat, *no_bath)?,
                plot: plot.as_ref(),
                profile: profile.as_deref(),
                json: cli.json,
            }),
        },
        Cmd::Sessions { db, limit } => {
            history::sessions(db, *limit, cli.json)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Events {
            db,
            session,
            code,
            limit,
        } => {
            history::events(db, *session, code.clone(), *limit, cli.json)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_json<T: Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

#[derive(Serialize)]
struct ProfileSummary {
    file: String,
    model: String,
    description: String,
    equipment: tarsal_core::profile::Equipment,
    water_setpoint_max_c: Option<f64>,
    water_cutoff_c: Option<f64>,
    pad_setpoint_max_c: Option<f64>,
    session_max_min: u64,
}

fn profile_check(file: &std::path::Path, json: bool) -> Result<ExitCode> {
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {name}"))?;
    let profile = match ChairProfile::parse(&name, &text) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(2));
        }
    };
    let water = profile.heater(HeaterId::Water);
    let summary = ProfileSummary {
        file: name,
        model: profile.chair.model.clone(),
        description: profile.chair.description.clone(),
        equipment: profile.equipment(),
        water_setpoint_max_c: water.map(|h| h.setpoint_max.0),
        water_cutoff_c: water.map(|h| h.cutoff.0),
        pad_setpoint_max_c: profile.heater(HeaterId::SolePad).map(|h| h.setpoint_max.0),
        session_max_min: profile.session.max_duration.as_secs() / 60,
    };
    if json {
        print_json(&summary)?;
    } else {
        let e = summary.equipment;
        let has = |b: bool| if b { "yes" } else { "no" };
        println!("{}: ok", summary.file);
        println!("  model        {} — {}", summary.model, summary.description);
        println!(
            "  parts        foot rollers {}, calf units {}, sole heat {}, calf heat {}, foot bath {}",
            has(e.foot_rollers),
            has(e.calf_units),
            has(e.sole_heat),
            has(e.calf_heat),
            has(e.bath)
        );
        if let (Some(sp), Some(cut)) = (summary.water_setpoint_max_c, summary.water_cutoff_c) {
            println!("  water        setpoint ≤ {sp:.1} °C, cut at {cut:.1} °C");
        }
        if let Some(sp) = summary.pad_setpoint_max_c {
            println!("  heat pads    setpoint ≤ {sp:.1} °C");
        }
        println!("  sessions     at most {} min", summary.session_max_min);
    }
    Ok(ExitCode::SUCCESS)
}
