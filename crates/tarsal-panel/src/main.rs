//! `tarsal-panel`: serves the touch panel on localhost and talks to `tarsald`
//! over D-Bus.

use anyhow::{Context, Result};
use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tarsal_panel::api::{Panel, router};
use tarsal_panel::live::{Channels, follow};
use tarsal_panel::pin::{PinGate, read_pin_file};

#[derive(Parser)]
#[command(
    name = "tarsal-panel",
    version,
    about = "The touch panel of a Tarsal chair: a web app for salon staff, served on localhost",
    after_help = "Exit status: 0 stopped cleanly; 1 a runtime error; 2 bad arguments or files \
                  (systemd: RestartPreventExitStatus=2)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// Address and port to serve on (keep it on localhost)
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The panel key: only browsers holding it may use the panel's API. Made
    /// (32 random bytes, mode 0640) when the file does not exist — keep it
    /// on /run, so each boot has its own. Without it, any local program can
    /// use the panel.
    #[arg(long, value_name = "PATH")]
    key_file: Option<PathBuf>,
    /// Another host name the panel is reached by (besides localhost and
    /// the listen address); repeatable
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_hosts: Vec<String>,
    /// The bus tarsald serves on
    #[arg(long, value_enum, default_value = "system")]
    bus: BusArg,
    /// The bus at this address (overrides --bus)
    #[arg(long, value_name = "ADDRESS", env = "TARSAL_BUS_ADDRESS")]
    bus_address: Option<String>,
    /// File holding the staff PIN for technician functions (4–12 digits);
    /// without it those functions are switched off
    #[arg(long, value_name = "PATH")]
    pin_file: Option<PathBuf>,
    /// The language the panel starts in
    #[arg(long, default_value = "en", value_parser = clap::builder::PossibleValuesParser::new(tarsal_panel::assets::LANGUAGES))]
    language: String,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// Print a one-time link that opens the panel with its key (for the
    /// kiosk browser, or a technician on an SSH tunnel); valid 10 minutes
    Ticket {
        /// The running panel's key file
        #[arg(long, value_name = "PATH", default_value = "/run/tarsal-panel/key")]
        key_file: PathBuf,
        /// The running panel
        #[arg(long, default_value = "127.0.0.1:8080")]
        panel: SocketAddr,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum BusArg {
    System,
    Session,
}

/// Why the panel stopped: configuration (do not restart) or at run time.
enum Failure {
    Config(anyhow::Error),
    Runtime(anyhow::Error),
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Cmd::Ticket { key_file, panel }) => ticket(key_file, *panel).map_err(Failure::Runtime),
        None => run(cli),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Config(e)) => {
            tracing::error!("{e:#}");
            eprintln!("tarsal-panel: {e:#}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(e)) => {
            tracing::error!("{e:#}");
            eprintln!("tarsal-panel: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Asks the running panel for a one-time link, showing it the key.
fn ticket(key_file: &std::path::Path, panel: SocketAddr) -> Result<()> {
    use std::io::{Read, Write};
    let key = std::fs::read_to_string(key_file)
        .with_context(|| format!("reading the panel key {}", key_file.display()))?;
    let mut stream =
        std::net::TcpStream::connect_timeout(&panel, std::time::Duration::from_secs(5))
            .with_context(|| format!("connecting to the panel at {panel}"))?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    write!(
        stream,
        "POST /api/ticket HTTP/1.1\r\nHost: {panel}\r\nContent-Type: application/json\r\n\
         {}: {}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}",
        tarsal_panel::guard::KEY_HEADER,
        key.trim()
    )?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    let body = reply.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let answer: serde_json::Value = serde_json::from_str(body.trim()).with_context(|| {
        format!(
            "the panel's answer is not JSON: {}",
            reply.lines().next().unwrap_or("")
        )
    })?;
    match answer["path"].as_str() {
        Some(path) => {
            println!("http://{panel}{path}");
            Ok(())
        }
        None => anyhow::bail!(
            "the panel refused: {}",
            answer["message"].as_str().unwrap_or("no reason given")
        ),
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    let bus = match (&cli.bus_address, cli.bus) {
        (Some(address), _) => tarsal_dbus::Bus::Address(address.clone()),
        (None, BusArg::System) => tarsal_dbus::Bus::System,
        (None, BusArg::Session) => tarsal_dbus::Bus::Session,
    };
    let pin = cli
        .pin_file
        .as_deref()
        .map(read_pin_file)
        .transpose()
        .map_err(|e| Failure::Config(e.into()))?;
    let key = cli
        .key_file
        .as_deref()
        .map(tarsal_panel::guard::key_from_file)
        .transpose()
        .map_err(|e| Failure::Config(e.into()))?;
    if key.is_none() {
        tracing::warn!("no --key-file: any program on this machine can use the panel's API");
    }
    match &pin {
        None => tracing::warn!("no --pin-file: technician functions are off on this panel"),
        Some(p) if p.len() < tarsal_panel::pin::RECOMMENDED_PIN_DIGITS => tracing::warn!(
            digits = p.len(),
            "the staff PIN is short; {} digits or more are recommended",
            tarsal_panel::pin::RECOMMENDED_PIN_DIGITS
        ),
        Some(_) => {}
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
        .map_err(Failure::Runtime)?;
    let guard = Arc::new(tarsal_panel::guard::Guard::new(
        cli.listen,
        &cli.allow_hosts,
        key,
    ));
    runtime.block_on(async {
        let channels = Channels::new();
        let panel = Panel {
            link: channels.link.subscribe(),
            events: channels.events.clone(),
            connection: channels.connection.subscribe(),
            pin: Arc::new(PinGate::new(pin)),
            guard,
            live_streams: tarsal_panel::limits::StreamCount::default(),
            language: cli.language.clone(),
        };
        let listener = tokio::net::TcpListener::bind(cli.listen)
            .await
            .with_context(|| format!("cannot listen on {}", cli.listen))
            .map_err(Failure::Config)?;
        let address = listener
            .local_addr()
            .context("reading the bound address")
            .map_err(Failure::Runtime)?;
        let listener = tarsal_panel::limits::LimitedListener::new(listener);
        tokio::spawn(follow(bus, channels));
        tracing::info!(url = %format!("http://{address}/"), "panel listening");
        let (stopping, mut stopped) = tokio::sync::watch::channel(false);
        let server = axum::serve(listener, router(panel)).with_graceful_shutdown(async move {
            shutdown_signal().await;
            let _ = stopping.send(true);
        });
        // Open live streams never end by themselves: give pages a moment, then go.
        let grace = async move {
            let _ = stopped.wait_for(|s| *s).await;
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        };
        tokio::select! {
            result = server => result.context("serving the panel").map_err(Failure::Runtime),
            () = grace => Ok(()),
        }
    })
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    tracing::info!("panel stopping");
}

fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let journal = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && !journal)
        .with_target(false);
    if journal {
        builder.without_time().init();
    } else {
        builder.init();
    }
}
