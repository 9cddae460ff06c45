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
    about = "The touch panel of a Tarsal chair: a web app for salon staff, served on localhost"
)]
struct Cli {
    /// Address and port to serve on (keep it on localhost: the panel has no login)
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
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

#[derive(Clone, Copy, clap::ValueEnum)]
enum BusArg {
    System,
    Session,
}

fn main() -> ExitCode {
    init_logging();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("tarsal-panel: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let bus = match (&cli.bus_address, cli.bus) {
        (Some(address), _) => tarsal_dbus::Bus::Address(address.clone()),
        (None, BusArg::System) => tarsal_dbus::Bus::System,
        (None, BusArg::Session) => tarsal_dbus::Bus::Session,
    };
    let pin = cli.pin_file.as_deref().map(read_pin_file).transpose()?;
    if pin.is_none() {
        tracing::warn!("no --pin-file: technician functions are off on this panel");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let channels = Channels::new();
        let panel = Panel {
            link: channels.link.subscribe(),
            events: channels.events.clone(),
            connection: channels.connection.subscribe(),
            pin: Arc::new(PinGate::new(pin)),
            language: cli.language.clone(),
        };
        let listener = tokio::net::TcpListener::bind(cli.listen)
            .await
            .with_context(|| format!("cannot listen on {}", cli.listen))?;
        let address = listener.local_addr().context("reading the bound address")?;
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
            result = server => result.context("serving the panel"),
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
