//! `tarsalctl`: the command-line tool for technicians and integrators.
//!
//! Live control of a running `tarsald` over D-Bus (status, watch, start,
//! stop, emergency stop, bath, sanitation log, service mode, the simulator),
//! and offline tools: chair profile checks and the session history in the
//! database. The program developer's tools are `cargo tarsal`
//! (`crates/cargo-tarsal`), so this tool carries no plugin host.

mod history;
mod live;

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
    about = "Control and inspect a Tarsal pedicure chair",
    after_help = "Exit status: 0 done; 1 unexpected error; 2 bad arguments; 3 the chair refused (the message says why); 4 the service \
                  cannot be reached; 5 the bus policy denies this user."
)]
struct Cli {
    /// Print machine-readable JSON instead of text
    #[arg(long, global = true)]
    json: bool,
    /// The bus tarsald serves on
    #[arg(long, global = true, value_enum, default_value = "system")]
    bus: BusArg,
    /// The bus at this address (overrides --bus)
    #[arg(
        long,
        global = true,
        value_name = "ADDRESS",
        env = "TARSAL_BUS_ADDRESS"
    )]
    bus_address: Option<String>,
    #[command(subcommand)]
    command: Cmd,
}

/// How a session should run.
#[derive(clap::Args)]
struct SessionArgs {
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
}

impl SessionArgs {
    /// The `--option` pairs, parsed.
    fn values(&self) -> Result<Vec<(String, tarsal_core::session::OptionValue)>> {
        self.options
            .iter()
            .map(|pair| {
                tarsal_core::session::OptionValue::parse_pair(pair)
                    .map_err(|e| anyhow::anyhow!("--option {e}"))
            })
            .collect()
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum BusArg {
    System,
    Session,
}

impl Cli {
    fn bus(&self) -> tarsal_dbus::Bus {
        match (&self.bus_address, self.bus) {
            (Some(a), _) => tarsal_dbus::Bus::Address(a.clone()),
            (None, BusArg::System) => tarsal_dbus::Bus::System,
            (None, BusArg::Session) => tarsal_dbus::Bus::Session,
        }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Chair profiles
    Profile {
        #[command(subcommand)]
        command: ProfileCmd,
    },
    /// Moved: the program developer's tools are `cargo tarsal`
    #[command(hide = true)]
    Program {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// The chair's state now
    Status,
    /// Follow the chair live (state changes and events) until Ctrl-C
    Watch,
    /// The programs this chair can run
    Programs,
    /// Start a program
    Start {
        program: String,
        #[command(flatten)]
        session: SessionArgs,
        /// Staff confirmed the client has none of the program's contraindications
        #[arg(long)]
        confirm_contraindications: bool,
    },
    /// Pause the session
    Pause,
    /// Resume a paused session
    Resume,
    /// Stop the session (rollers park, everything winds down)
    Stop,
    /// Emergency stop: all motion and heat off at once (latched until reset)
    Estop,
    /// Acknowledge latched faults or the emergency stop
    Reset,
    /// Set the intensity of the running session (1–5)
    Intensity {
        #[arg(value_parser = clap::value_parser!(u8).range(1..=5))]
        level: u8,
    },
    /// Heat on or off for the running session
    Heat { state: OnOff },
    /// Confirm the staff step the program waits for
    Confirm {
        /// Staff initials, for the sanitation log
        #[arg(long, default_value = "")]
        initials: String,
    },
    /// Fill or drain the bath by hand (no session may run)
    Bath {
        #[command(subcommand)]
        action: BathCmd,
    },
    /// The sanitize cycles logged
    SanitationLog {
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// The whole log as CSV
        #[arg(long)]
        csv: bool,
    },
    /// Every actuator: what it is told, what its sensors read
    Actuators,
    /// A technician's service mode: single actuators, still through the safety supervisor
    Service {
        #[command(subcommand)]
        action: ServiceCmd,
    },
    /// Control the simulated chair (fault injection, feet, emergency button)
    Sim {
        #[command(subcommand)]
        action: SimCmd,
    },
    /// Print shell completions
    Completions { shell: clap_complete::Shell },
    /// Recent sessions from the database, newest first (offline)
    Sessions {
        #[arg(long, value_name = "PATH", default_value = DEFAULT_DATABASE)]
        db: PathBuf,
        /// How many
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Recorded events (sessions, clamps, interlocks, faults), oldest first
    Events {
        /// Read this database directly instead of asking the service
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
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

#[derive(Clone, Copy, clap::ValueEnum)]
enum OnOff {
    On,
    Off,
}

#[derive(Subcommand)]
enum BathCmd {
    /// Fill to LITRES
    Fill { litres: f64 },
    /// Drain the bath
    Drain,
    /// Stop filling or draining
    Stop,
}

#[derive(Subcommand)]
enum ServiceCmd {
    /// Enter service mode (idle chair only)
    Enter,
    /// Leave service mode
    Leave,
    /// Every actuator off
    Off,
    /// Drive one actuator, e.g. `service set calf_unit.left ankle=30`
    Set {
        /// Actuator id (see `tarsalctl actuators`)
        actuator: String,
        /// Settings; keys not given are off or zero
        #[arg(value_name = "KEY=VALUE")]
        settings: Vec<String>,
    },
}

#[derive(Subcommand)]
enum SimCmd {
    /// Inject a fault, e.g. '{"fault":"drain_blocked"}'
    Inject { fault: String },
    /// Repair every injected fault
    Clear,
    /// Feet on or off the footrest
    Feet { state: OnOff },
    /// Press or release the emergency-stop button
    Button { state: PressRelease },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PressRelease {
    Press,
    Release,
}

#[derive(Subcommand)]
enum ProfileCmd {
    /// Check a chair profile and summarise it; exit status 2 when it is broken
    Check { file: PathBuf },
}

/// Die quietly when the reader of our output goes away (`| head`), as
/// command-line tools do, instead of panicking on a broken pipe.
#[allow(unsafe_code)] // reviewed: one libc call at start
fn restore_sigpipe() {
    // SAFETY: restoring the default disposition of a signal at start, before
    // any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    restore_sigpipe();
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tarsalctl: {e:#}");
            match e.downcast_ref::<live::BusFailure>() {
                Some(f) => ExitCode::from(f.code),
                None => ExitCode::FAILURE,
            }
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode> {
    let bus = cli.bus();
    let json = cli.json;
    match &cli.command {
        Cmd::Status => live::status(&bus, json),
        Cmd::Watch => live::watch(&bus, json),
        Cmd::Programs => live::programs(&bus, json),
        Cmd::Start {
            program,
            session,
            confirm_contraindications,
        } => live::start(&bus, program, session, *confirm_contraindications, json),
        Cmd::Pause => live::call(&bus, "paused", async |c| c.pause().await),
        Cmd::Resume => live::call(&bus, "resumed", async |c| c.resume().await),
        Cmd::Stop => live::call(&bus, "stopping", async |c| c.stop().await),
        Cmd::Estop => live::call(&bus, "emergency stop", async |c| c.emergency_stop().await),
        Cmd::Reset => live::call(&bus, "reset", async |c| c.reset_fault().await),
        Cmd::Intensity { level } => live::call(&bus, "intensity set", async |c| {
            c.set_intensity(*level).await
        }),
        Cmd::Heat { state } => {
            let on = matches!(state, OnOff::On);
            live::call(&bus, if on { "heat on" } else { "heat off" }, async |c| {
                c.set_heat(on).await
            })
        }
        Cmd::Confirm { initials } => live::call(&bus, "confirmed", async |c| {
            c.confirm_staff_step(initials).await
        }),
        Cmd::Bath { action } => match action {
            BathCmd::Fill { litres } => {
                live::call(&bus, "filling", async |c| c.fill_bath(*litres).await)
            }
            BathCmd::Drain => live::call(&bus, "draining", async |c| c.drain_bath().await),
            BathCmd::Stop => live::call(&bus, "stopped", async |c| c.stop_bath().await),
        },
        Cmd::SanitationLog { limit, csv } => live::sanitation_log(&bus, *limit, *csv, json),
        Cmd::Actuators => live::actuators(&bus, json),
        Cmd::Service { action } => match action {
            ServiceCmd::Enter => live::service(&bus, "enter"),
            ServiceCmd::Leave => live::service(&bus, "leave"),
            ServiceCmd::Off => live::service(&bus, "off"),
            ServiceCmd::Set { actuator, settings } => live::service_set(&bus, actuator, settings),
        },
        Cmd::Sim { action } => live::simulator(
            &bus,
            match action {
                SimCmd::Inject { fault } => live::SimAction::Inject(fault.clone()),
                SimCmd::Clear => live::SimAction::Clear,
                SimCmd::Feet { state } => live::SimAction::Feet(matches!(state, OnOff::On)),
                SimCmd::Button { state } => {
                    live::SimAction::Button(matches!(state, PressRelease::Press))
                }
            },
        ),
        Cmd::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "tarsalctl", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Profile {
            command: ProfileCmd::Check { file },
        } => profile_check(file, cli.json),
        Cmd::Program { .. } => {
            eprintln!(
                "tarsalctl: the program developer's tools are now `cargo tarsal` \
                 (cargo tarsal new|build|info|check|run); install it with \
                 `cargo install --path crates/cargo-tarsal`"
            );
            Ok(ExitCode::from(2))
        }
        Cmd::Sessions { db, limit } => {
            history::sessions(db, *limit, cli.json)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Events {
            db: Some(db),
            session,
            code,
            limit,
        } => {
            history::events(db, *session, code.clone(), *limit, cli.json)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Events {
            db: None,
            code,
            limit,
            ..
        } => live::events(&bus, *limit, code.as_deref(), json),
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
    sole_pad_setpoint_max_c: Option<f64>,
    calf_pad_setpoint_max_c: Option<f64>,
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
        sole_pad_setpoint_max_c: profile.heater(HeaterId::SolePad).map(|h| h.setpoint_max.0),
        calf_pad_setpoint_max_c: profile.heater(HeaterId::CalfPad).map(|h| h.setpoint_max.0),
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
        for (pad, max) in [
            ("sole pad", summary.sole_pad_setpoint_max_c),
            ("calf pad", summary.calf_pad_setpoint_max_c),
        ] {
            if let Some(sp) = max {
                println!("  {pad:<12} setpoint ≤ {sp:.1} °C");
            }
        }
        println!("  sessions     at most {} min", summary.session_max_min);
    }
    Ok(ExitCode::SUCCESS)
}
