//! `tarsald`: the Tarsal service. It loads the chair profile, opens the
//! database, starts the control loop on the chosen backend, and either runs as
//! a service until SIGTERM or (with `--program`) runs one session and exits.

mod config;

use anyhow::{Context, Result};
use clap::Parser;
use config::{Config, LogFormat};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tarsal_core::Engine;
use tarsal_core::hardware::Hardware;
use tarsal_core::profile::{Backend, ChairProfile, STANDARD_PROFILE_NAME, STANDARD_PROFILE_TOML};
use tarsal_core::session::{OptionValue, Outcome, SessionOptions};
use tarsal_core::text::one_line;
use tarsal_core::units::Intensity;
use tarsal_core::wallclock::UnixMillis;
use tarsal_linux::{BoardSettings, ChairBoardLink};
use tarsal_plugin_host::{Library, ProgramSet, ProgramSources};
use tarsal_runtime::{Chair, ChairHandle, ControlLoop, HandleError, LoopConfig, Pacing};
use tarsal_sim::Simulator;
use tarsal_store::{Store, StoreWriter};

/// Exit status when the session ended by a fault or emergency stop.
const EXIT_ABORTED: u8 = 3;
/// Exit status when the session was stopped or hit its time limit.
const EXIT_NOT_COMPLETED: u8 = 4;
/// Exit status for bad configuration, profiles or arguments.
const EXIT_CONFIG: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "tarsald",
    version,
    about = "The Tarsal pedicure chair service",
    long_about = "The Tarsal pedicure chair service. Runs the chair's control loop with its \
                  safety supervisor. Without --program it runs until SIGTERM; with --program \
                  it runs one session and exits.",
    after_help = "Exit status: 0 session completed (or service stopped cleanly); 1 runtime error; \
                  2 bad arguments, config or profile; 3 session aborted by a fault or emergency stop; \
                  4 session stopped or ended at its time limit."
)]
struct Args {
    /// Config file [default: /etc/tarsal/tarsald.toml when present]
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Run on the simulated chair, whatever backend the profile names
    #[arg(long)]
    sim: bool,
    /// Chair profile [default: the built-in pedicure-standard profile]
    #[arg(long, value_name = "PATH")]
    profile: Option<PathBuf>,
    /// SQLite database [default: /var/lib/tarsal/tarsal.db]
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Bus to serve org.tarsal.Chair1 on [default: the config's, else system;
    /// with --program: none unless given]
    #[arg(long, value_enum)]
    bus: Option<config::BusKind>,
    /// Serve on the bus at this address (overrides --bus)
    #[arg(long, value_name = "ADDRESS")]
    bus_address: Option<String>,
    /// MQTT broker, mqtt://HOST[:PORT] or mqtts://HOST[:PORT] (overrides the config's)
    #[arg(long, value_name = "URL")]
    mqtt: Option<String>,
    /// This chair's id on MQTT [default: the config's, else the host name]
    #[arg(long, value_name = "ID")]
    chair_id: Option<String>,
    /// Directory of program plugins (*.wasm) [default: /usr/lib/tarsal/programs]
    #[arg(long, value_name = "DIR")]
    programs: Option<PathBuf>,
    /// Directory of programs installed on this chair, besides the bundled ones
    #[arg(long, value_name = "DIR")]
    local_programs: Option<PathBuf>,
    /// Directory for compiled plugins [default: /var/cache/tarsal/programs]
    #[arg(long, value_name = "DIR")]
    program_cache: Option<PathBuf>,
    /// Run one session of this program, then exit
    #[arg(long, value_name = "ID")]
    program: Option<String>,
    /// A program option for --program (repeatable)
    #[arg(long = "option", value_name = "KEY=VALUE", requires = "program")]
    options: Vec<String>,
    /// Intensity 1–5 for --program
    #[arg(long, value_name = "1-5", value_parser = clap::value_parser!(u8).range(1..=5), requires = "program")]
    intensity: Option<u8>,
    /// Run --program without heat
    #[arg(long, requires = "program")]
    no_heat: bool,
    /// Run --program without the foot bath
    #[arg(long, requires = "program")]
    no_bath: bool,
    /// With --program: confirm staff steps by themselves after this many
    /// simulated seconds (for unattended simulated runs)
    #[arg(long, value_name = "SECS", requires = "program")]
    auto_confirm: Option<u64>,
    /// Simulator speed: times real time, or `max` for as fast as possible
    #[arg(long, value_name = "N|max", value_parser = parse_speed)]
    speed: Option<f64>,
    /// Control loop rate in Hz (50–100)
    #[arg(long, value_name = "HZ")]
    tick_rate: Option<u32>,
    /// How late a tick may be before the outputs go safe, in milliseconds
    #[arg(long, value_name = "MS")]
    watchdog_margin_ms: Option<u64>,
    /// Log format
    #[arg(long, value_enum)]
    log_format: Option<LogFormat>,
}

fn parse_speed(s: &str) -> Result<f64, String> {
    if s == "max" {
        return Ok(0.0);
    }
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!(
            "`{s}` is not a speed; use a number above 0 or `max`"
        )),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            // Logging may not be up yet: errors go to stderr directly.
            eprintln!("tarsald: {e:#}");
            match e.downcast_ref::<ConfigProblem>() {
                Some(_) => ExitCode::from(EXIT_CONFIG),
                None => ExitCode::FAILURE,
            }
        }
    }
}

/// A problem with the configuration, arguments or profile (exit status 2).
#[derive(Debug)]
struct ConfigProblem(String);

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigProblem {}

fn config_problem(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(ConfigProblem(message.into()))
}

fn run(args: Args) -> Result<ExitCode> {
    let (mut config, config_path) =
        Config::load(args.config.as_deref()).map_err(|e| config_problem(e.to_string()))?;
    apply_flags(&mut config, &args)?;
    init_logging(config.service.log_format, &config.service.log_level)?;
    if let Some(path) = &config_path {
        tracing::info!(config = %path.display(), "configuration loaded");
    }

    let profile = Arc::new(load_profile(&config)?);
    let backend = if args.sim {
        Backend::Simulator
    } else {
        profile.chair.backend
    };
    tracing::info!(model = %profile.chair.model, backend = backend.code(), "chair profile loaded");

    let mqtt = config
        .mqtt
        .settings(&profile.chair.model)
        .map_err(config_problem)?
        .map(tarsal_mqtt::prepare)
        .transpose()
        .map_err(|e| config_problem(e.to_string()))?;
    // The store thread wakes the MQTT adapter after each commit (new events).
    let committed = Arc::new(tokio::sync::Notify::new());
    let store = open_store(&config.service.database)?;
    let first_session = store.next_session_id()?;
    let last_session = store.last_ended_session()?;
    let policy = config.sanitation.policy();
    let owed = store.sanitation_owed(&policy.program)?;
    if owed && policy.required_between_clients {
        tracing::warn!(program = %policy.program, "the bath must be sanitized before the next client");
    }
    let (store_tx, store_writer) = StoreWriter::spawn_with_listener(store, {
        let committed = Arc::clone(&committed);
        Box::new(move || committed.notify_one())
    })
    .context("starting the store thread")?;

    let library = Library::new(
        config.programs.limits(),
        Some(config.programs.cache_dir.clone()),
    )
    .map_err(|e| anyhow::anyhow!("starting the plugin host: {e}"))?;
    // The loop and D-Bus start at once with the built-in programs; the
    // plugins load in the background (a slow or hostile file cannot hold
    // the service up) and are swapped in when ready.
    let programs = ProgramSet::loading(library.clone());

    let period = Duration::from_secs(1) / config.service.tick_rate_hz;
    let (hardware, sim) = open_hardware(backend, &profile)?;
    let chair = Chair::new(
        Engine::new(Arc::clone(&profile))
            .with_sanitation(policy, owed)
            .with_last_session(last_session),
        hardware,
        Box::new(programs),
        first_session,
        period,
    );
    let pacing = if config.simulator.speed == 0.0 {
        Pacing::Unpaced
    } else {
        Pacing::RealTime {
            speed: config.simulator.speed,
        }
    };
    let boot = UnixMillis::from_system_time(SystemTime::now());
    let control = ControlLoop::spawn(
        chair,
        LoopConfig {
            period,
            pacing,
            watchdog_margin: config.service.watchdog_margin,
            watchdog_poll: LoopConfig::WATCHDOG_POLL,
            event_prefix: format!("{:x}", boot.0),
        },
        vec![store_tx],
    )
    .context("starting the control loop")?;
    tracing::info!(
        tick_hz = config.service.tick_rate_hz,
        speed = config.simulator.speed,
        database = %config.service.database.display(),
        "control loop running"
    );

    let mqtt = match mqtt {
        Some(prepared) => Some(
            prepared
                .spawn(control.handle(), &config.service.database, committed)
                .context("starting MQTT")?,
        ),
        None => None,
    };

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let handle = control.handle();
    let sources = config.programs.sources();
    let load_timeout = config.programs.load_timeout;
    let bus = config.dbus.bus();
    let serve = tarsal_dbus_server::ServeOptions {
        handle: handle.clone(),
        profile: Arc::clone(&profile),
        database: Some(tarsal_dbus_server::History {
            path: config.service.database.clone(),
            written: store_writer.written(),
        }),
        simulator: sim.clone(),
    };
    let result = runtime.block_on(async {
        let (loaded_tx, mut loaded) = tokio::sync::watch::channel(false);
        tokio::spawn(keep_programs_loaded(
            handle.clone(),
            library,
            sources,
            load_timeout,
            loaded_tx,
        ));
        // Kept alive for as long as the service answers on D-Bus.
        let _dbus = match &bus {
            Some(bus) => {
                let connection = tarsal_dbus_server::serve(bus, serve).await?;
                tracing::info!(name = tarsal_dbus::NAME, bus = %bus, "serving on D-Bus");
                Some(connection)
            }
            None => None,
        };
        match &args.program {
            Some(program) => {
                let _ = loaded.wait_for(|done| *done).await;
                if let Some(sim) = &sim {
                    seat_simulated_client(&handle, sim, program).await;
                }
                let auto_confirm = args.auto_confirm.map(Duration::from_secs);
                run_one_session(&handle, program, session_options(&args)?, auto_confirm).await
            }
            None => {
                wait_for_termination().await?;
                tracing::info!("shutting down");
                Ok(ExitCode::SUCCESS)
            }
        }
    });
    if !control.shutdown(tarsal_runtime::SHUTDOWN_TIMEOUT) {
        // The loop is stuck (its power is cut): it cannot be waited for, and
        // neither can the store behind it. Exit rather than hang.
        tracing::error!("exiting without a clean shutdown");
        std::process::exit(1);
    }
    store_writer.join();
    if let Some(mqtt) = mqtt {
        mqtt.shutdown();
    }
    tracing::info!("stopped; outputs safe");
    result
}

/// Loads the programs, logging every file that does not load.
fn load_programs(library: &Library, sources: &ProgramSources, time: Duration) -> ProgramSet {
    let report = library.load_sources(sources, Some(time));
    for problem in &report.problems {
        tracing::warn!("program not loaded: {problem}");
    }
    for p in &report.plugins {
        tracing::info!(
            program = %p.info.id,
            version = %one_line(&p.info.version, 40),
            file = %tarsal_plugin_host::files::shown(&p.file),
            cached = p.from_cache,
            origin = ?p.origin,
            "program loaded"
        );
    }
    ProgramSet::new(library.clone(), report)
}

/// Loads the programs (compiling away from the control loop) and swaps the
/// new catalog in; again on every SIGHUP, one load at a time. `loaded`
/// turns true once the first load is in.
async fn keep_programs_loaded(
    handle: ChairHandle,
    library: Library,
    sources: ProgramSources,
    time: Duration,
    loaded: tokio::sync::watch::Sender<bool>,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = match signal(SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP; programs are not reloadable");
            None
        }
    };
    loop {
        let (lib, src) = (library.clone(), sources.clone());
        match tokio::task::spawn_blocking(move || load_programs(&lib, &src, time)).await {
            Ok(set) => {
                let count = set.plugins().len();
                match handle.install_catalog(Box::new(set)).await {
                    Ok(()) => tracing::info!(programs = count, "programs ready"),
                    Err(HandleError::LoopGone) => return,
                    Err(e) => tracing::error!(error = %e, "could not install the programs"),
                }
            }
            Err(e) => tracing::error!(error = %e, "loading the programs failed"),
        }
        loaded.send_replace(true);
        let Some(hup) = hup.as_mut() else { return };
        if hup.recv().await.is_none() {
            return;
        }
        tracing::info!(dir = %sources.bundled.display(), "reloading programs");
    }
}

fn apply_flags(config: &mut Config, args: &Args) -> Result<()> {
    // A one-shot run serves D-Bus only when asked to.
    if args.program.is_some() && args.bus.is_none() && args.bus_address.is_none() {
        config.dbus.bus = config::BusKind::None;
        config.dbus.address = None;
    }
    if let Some(bus) = args.bus {
        config.dbus.bus = bus;
        config.dbus.address = None;
    }
    if let Some(address) = &args.bus_address {
        config.dbus.address = Some(address.clone());
    }
    if let Some(url) = &args.mqtt {
        config.mqtt.broker = Some(url.clone());
    }
    if let Some(id) = &args.chair_id {
        config.mqtt.chair_id = Some(id.clone());
    }
    if let Some(dir) = &args.programs {
        config.programs.dir = dir.clone();
    }
    if let Some(dir) = &args.local_programs {
        config.programs.local_dir = Some(dir.clone());
    }
    if let Some(dir) = &args.program_cache {
        config.programs.cache_dir = dir.clone();
    }
    if let Some(speed) = args.speed {
        config.simulator.speed = speed;
    }
    let s = &mut config.service;
    if let Some(p) = &args.profile {
        s.profile = Some(p.clone());
    }
    if let Some(db) = &args.db {
        s.database = db.clone();
    }
    if let Some(hz) = args.tick_rate {
        if !(50..=100).contains(&hz) {
            return Err(config_problem(format!(
                "--tick-rate {hz}: allowed: 50–100 Hz"
            )));
        }
        s.tick_rate_hz = hz;
    }
    if let Some(ms) = args.watchdog_margin_ms {
        if !(20..=10_000).contains(&ms) {
            return Err(config_problem(format!(
                "--watchdog-margin-ms {ms}: allowed: 20–10000 ms"
            )));
        }
        s.watchdog_margin = Duration::from_millis(ms);
    }
    if let Some(f) = args.log_format {
        s.log_format = f;
    }
    Ok(())
}

/// The chair's I/O for `backend`, and the simulator's handle when it is simulated.
fn open_hardware(
    backend: Backend,
    profile: &Arc<ChairProfile>,
) -> Result<(Box<dyn Hardware>, Option<tarsal_sim::SimHandle>)> {
    match backend {
        Backend::Simulator => {
            let simulator = Simulator::new(Arc::clone(profile));
            let handle = simulator.handle();
            Ok((Box::new(simulator), Some(handle)))
        }
        Backend::ChairBoard => {
            let settings =
                BoardSettings::from_profile(profile).map_err(|e| config_problem(e.to_string()))?;
            let address = settings.address.clone();
            let link = ChairBoardLink::connect(settings)
                .with_context(|| format!("bringing up the chair board at {address}"))?;
            tracing::info!(%address, boot_id = link.health().boot_id, "chair board connected");
            Ok((Box::new(link), None))
        }
    }
}

fn init_logging(format: LogFormat, level: &str) -> Result<()> {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.is_empty() => {
            EnvFilter::try_new(&v).map_err(|e| config_problem(format!("RUST_LOG={v}: {e}")))?
        }
        _ => EnvFilter::try_new(level)
            .map_err(|e| config_problem(format!("service.log_level = {level:?}: {e}")))?,
    };
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    // Under systemd the journal adds its own timestamps and cannot show colour.
    let journal = std::env::var_os("JOURNAL_STREAM").is_some();
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Human if journal => builder.without_time().with_ansi(false).init(),
        LogFormat::Human => builder.init(),
    }
    Ok(())
}

fn load_profile(config: &Config) -> Result<ChairProfile> {
    let mut profile = match &config.service.profile {
        Some(path) => {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| {
                config_problem(format!("{name}: cannot read the chair profile: {e}"))
            })?;
            ChairProfile::parse(&name, &text)
        }
        None => ChairProfile::parse(STANDARD_PROFILE_NAME, STANDARD_PROFILE_TOML),
    }
    .map_err(|e| config_problem(format!("the chair profile is not usable:\n{e}")))?;
    if let Some(limit) = config.session.max_duration
        && limit < profile.session.max_duration
    {
        profile.session.max_duration = limit;
    }
    Ok(profile)
}

fn open_store(path: &Path) -> Result<Store> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the database directory {}", dir.display()))?;
    }
    let mut store = Store::open(path)?;
    let now = UnixMillis::from_system_time(SystemTime::now());
    for id in store.recover_interrupted(now)? {
        tracing::warn!(
            session = id.0,
            "session was interrupted by a crash; marked interrupted"
        );
    }
    Ok(store)
}

fn session_options(args: &Args) -> Result<SessionOptions> {
    let mut options = SessionOptions {
        intensity: args
            .intensity
            .and_then(Intensity::new)
            .unwrap_or(Intensity::DEFAULT),
        heat: !args.no_heat,
        bath: !args.no_bath,
        ..SessionOptions::default()
    };
    for pair in &args.options {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| config_problem(format!("--option {pair}: expected KEY=VALUE")))?;
        options.values.insert(
            key.trim().to_owned(),
            OptionValue::parse_loose(value.trim()),
        );
    }
    Ok(options)
}

async fn run_one_session(
    handle: &ChairHandle,
    program: &str,
    options: SessionOptions,
    auto_confirm: Option<Duration>,
) -> Result<ExitCode> {
    let started = Instant::now();
    let id = match handle.start(program, options).await {
        Ok(id) => id,
        Err(e) => return Err(config_problem(format!("cannot start `{program}`: {e}"))),
    };
    if let Some(after) = auto_confirm {
        tokio::spawn(confirm_staff_steps(handle.clone(), after));
    }
    let mut status = handle.watch_status();
    let ended = async {
        status
            .wait_for(|s| matches!(s.last_session, Some((sid, _)) if sid == id))
            .await
            .map(|s| s.clone())
    };
    tokio::select! {
        result = ended => {
            let status = result.context("the control loop ended unexpectedly")?;
            let outcome = status.last_session.map(|(_, o)| o).unwrap_or(Outcome::Aborted);
            let took = started.elapsed();
            println!("session {id} ({program}): {outcome} in {:.2} s", took.as_secs_f64());
            for fault in status.faults.iter() {
                println!("  {}: {}", fault.code(), fault.message());
                println!("  what to do: {}", fault.advice());
            }
            Ok(ExitCode::from(match outcome {
                Outcome::Completed => 0,
                Outcome::Aborted | Outcome::EmergencyStop | Outcome::Interrupted => EXIT_ABORTED,
                Outcome::Stopped | Outcome::TimeLimit => EXIT_NOT_COMPLETED,
            }))
        }
        signal = wait_for_termination() => {
            signal?;
            tracing::info!("terminated during the session; stopping it");
            Ok(ExitCode::from(EXIT_NOT_COMPLETED))
        }
    }
}

/// In a simulated one-shot run, a client sits in the chair for programs that
/// use the rollers or calf units; bath-only programs (sanitizing) run with
/// the chair empty, as they would in the salon.
async fn seat_simulated_client(handle: &ChairHandle, sim: &tarsal_sim::SimHandle, program: &str) {
    let Ok(programs) = handle.programs().await else {
        return;
    };
    if let Some(info) = programs.iter().find(|p| p.id == program) {
        let client = info.uses.foot_rollers || info.uses.calf_units;
        sim.set_feet_present(client);
        // The start's checks read the loop's last sample: wait until the
        // loop has read the chair as it now is.
        let mut status = handle.watch_status();
        let _ = status.wait_for(|s| s.sensors.feet_present == client).await;
        tracing::info!(
            client_in_chair = client,
            "simulated salon set up for {program}"
        );
    }
}

/// Plays the staff of a simulated salon: confirms each staff step once the
/// program has waited `after` of engine time for it.
async fn confirm_staff_steps(handle: ChairHandle, after: Duration) {
    let mut status = handle.watch_status();
    let mut waiting_since: Option<Duration> = None;
    while status.changed().await.is_ok() {
        let (at, awaiting, step) = {
            let s = status.borrow();
            let session = s.session.as_ref();
            (
                s.at,
                session.is_some_and(|x| x.awaiting_staff),
                session
                    .map(|x| x.step_title().to_owned())
                    .unwrap_or_default(),
            )
        };
        if !awaiting {
            waiting_since = None;
            continue;
        }
        let since = *waiting_since.get_or_insert(at);
        if at.saturating_sub(since) >= after {
            tracing::info!(step = %step, "simulated staff confirm the step");
            let initials = "SIM".to_owned();
            let _ = handle
                .command(tarsal_core::Command::ConfirmStaffStep { initials })
                .await;
            waiting_since = None;
        }
    }
}

async fn wait_for_termination() -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}
