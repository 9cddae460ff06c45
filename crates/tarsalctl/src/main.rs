//! `tarsalctl`: the command-line tool for technicians and integrators.
//!
//! This first version works offline on the chair: it checks chair profiles and
//! reads the session and event history from the service's database. Live
//! control over D-Bus comes with the D-Bus API.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use tarsal_core::ChairProfile;
use tarsal_core::model::HeaterId;
use tarsal_core::session::SessionId;
use tarsal_store::{EventQuery, Store};

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
        Cmd::Sessions { db, limit } => {
            let store = open(db)?;
            let rows = store.sessions(*limit)?;
            if cli.json {
                print_json(&rows)?;
            } else if rows.is_empty() {
                println!("no sessions recorded");
            } else {
                println!(
                    "{:>5}  {:<24}  {:<20}  {:<14}  detail",
                    "id", "started", "program", "outcome"
                );
                for r in rows {
                    let outcome = r.outcome.map_or("running", |o| o.code());
                    println!(
                        "{:>5}  {:<24}  {:<20}  {:<14}  {}",
                        r.id.0,
                        r.started_at.to_string(),
                        r.program,
                        outcome,
                        r.detail
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Events {
            db,
            session,
            code,
            limit,
        } => {
            let store = open(db)?;
            let rows = store.events(&EventQuery {
                session: session.map(SessionId),
                code_prefix: code.clone(),
                limit: Some(*limit),
            })?;
            if cli.json {
                print_json(&rows)?;
            } else if rows.is_empty() {
                println!("no events recorded");
            } else {
                for e in rows {
                    let session = e.session.map_or("-".into(), |s| s.to_string());
                    println!(
                        "{}  {:<8}  session {:<4}  {:<28}  {}",
                        e.at, e.severity, session, e.code, e.message
                    );
                    if !e.advice.is_empty() {
                        println!("{:>44}what to do: {}", "", e.advice);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn open(db: &std::path::Path) -> Result<Store> {
    if !db.exists() {
        anyhow::bail!(
            "{}: no database here (is tarsald using another --db?)",
            db.display()
        );
    }
    Store::open_read_only(db).with_context(|| format!("opening {}", db.display()))
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
