//! Follows the chair on D-Bus: every `PropertiesChanged` becomes a fresh
//! [`Link`] snapshot, every `Event` signal a [`ChairEvent`]. Pages get both
//! as server-sent events. When the bus or the service goes away the snapshot
//! says so, and the task keeps trying to come back.

use futures_util::{FutureExt, StreamExt};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tarsal_dbus::Bus;
use tarsal_dbus::client::{Chair1Proxy, ChairProperties, describe_error};
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

/// What the panel knows of the chair right now.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Link {
    /// The service answers on the bus.
    pub reachable: bool,
    /// Why it does not, in one line (empty when reachable).
    pub problem: String,
    /// The same as a code the page translates (`offline.<code>`).
    pub problem_code: Problem,
    pub chair: Option<ChairProperties>,
}

/// Why the chair cannot be reached, for the page to say in its language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// Reachable: no problem.
    #[default]
    None,
    /// The panel has just started.
    Connecting,
    /// The message bus itself cannot be reached.
    NoBus,
    /// Nothing owns the chair's name on the bus.
    NotRunning,
    /// The service owns its name but did not answer in time.
    NotAnswering,
}

/// A [`Link`] with its JSON, written once however many pages are open.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub link: Link,
    pub json: Arc<str>,
}

impl From<Link> for Snapshot {
    fn from(link: Link) -> Self {
        let json = serde_json::to_string(&link).unwrap_or_default().into();
        Self { link, json }
    }
}

/// An `Event` signal from the chair.
#[derive(Clone, Debug, Serialize)]
pub struct ChairEvent {
    pub code: String,
    pub severity: String,
    pub message: String,
}

/// Pages are refreshed at most this often; a touch panel needs no more, and
/// the board's CPU has better things to do.
const REFRESH_INTERVAL: Duration = Duration::from_millis(100);
const RETRY_INTERVAL: Duration = Duration::from_secs(1);
/// Every call to the service gets an answer within this, or fails: a service
/// that is stopped or hung never leaves a button hanging. (The service itself
/// answers within 2 s, also when its control loop is stuck.)
pub const CALL_TIMEOUT: Duration = Duration::from_secs(3);
/// With no change signalled, the panel still asks this often, so a service
/// that stopped answering shows as such.
const LIVENESS_INTERVAL: Duration = Duration::from_secs(1);

/// Whether a D-Bus call failed because no answer came in time.
pub fn timed_out(e: &zbus::Error) -> bool {
    matches!(e, zbus::Error::InputOutput(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// The senders the follow task feeds; clone the receivers for handlers.
pub struct Channels {
    pub link: watch::Sender<Snapshot>,
    pub events: broadcast::Sender<ChairEvent>,
    pub connection: watch::Sender<Option<zbus::Connection>>,
}

impl Channels {
    pub fn new() -> Self {
        Self {
            link: watch::Sender::new(
                Link {
                    problem: "connecting to the chair service".into(),
                    problem_code: Problem::Connecting,
                    ..Link::default()
                }
                .into(),
            ),
            events: broadcast::Sender::new(256),
            connection: watch::Sender::new(None),
        }
    }
}

impl Default for Channels {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs for as long as the panel: connects, follows, and reconnects.
pub async fn follow(bus: Bus, channels: Channels) {
    loop {
        if let Err(e) = follow_once(&bus, &channels).await {
            let problem = format!("cannot reach the chair on {bus}: {}", describe_error(&e));
            tracing::warn!("{problem}");
            channels.connection.send_replace(None);
            channels.link.send_replace(
                Link {
                    reachable: false,
                    problem,
                    problem_code: Problem::NoBus,
                    chair: None,
                }
                .into(),
            );
        }
        tokio::time::sleep(RETRY_INTERVAL).await;
    }
}

async fn follow_once(bus: &Bus, channels: &Channels) -> zbus::Result<()> {
    let connection = bus.builder()?.method_timeout(CALL_TIMEOUT).build().await?;
    let properties = zbus::fdo::PropertiesProxy::builder(&connection)
        .destination(tarsal_dbus::NAME)
        .path(tarsal_dbus::PATH)
        .build()
        .await?;
    let mut changes = properties.receive_properties_changed().await?;
    let chair = Chair1Proxy::builder(&connection)
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await?;
    let mut signals = chair.receive_event().await?;
    let daemon = zbus::fdo::DBusProxy::new(&connection).await?;
    let mut owners = daemon
        .receive_name_owner_changed_with_args(&[(0, tarsal_dbus::NAME)])
        .await?;
    channels.connection.send_replace(Some(connection.clone()));
    tracing::info!(bus = %bus, "following the chair");

    let mut last_read = Instant::now() - REFRESH_INTERVAL;
    refresh(&connection, channels, &mut last_read).await;
    let mut liveness = tokio::time::interval(LIVENESS_INTERVAL);
    liveness.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = liveness.tick() => {
                if last_read.elapsed() >= LIVENESS_INTERVAL {
                    refresh(&connection, channels, &mut last_read).await;
                }
            }
            change = changes.next() => {
                if change.is_none() {
                    break;
                }
                // One read covers every change that arrives meanwhile.
                tokio::time::sleep_until(last_read + REFRESH_INTERVAL).await;
                while let Some(Some(_)) = changes.next().now_or_never() {}
                refresh(&connection, channels, &mut last_read).await;
            }
            signal = signals.next() => {
                let Some(signal) = signal else { break };
                if let Ok(args) = signal.args() {
                    let _ = channels.events.send(ChairEvent {
                        code: args.code,
                        severity: args.severity,
                        message: args.message,
                    });
                }
            }
            owner = owners.next() => {
                if owner.is_none() {
                    break;
                }
                // The service started or went away: say which at once.
                refresh(&connection, channels, &mut last_read).await;
            }
        }
    }
    Err(zbus::Error::Failure("the bus connection closed".into()))
}

async fn refresh(connection: &zbus::Connection, channels: &Channels, last_read: &mut Instant) {
    *last_read = Instant::now();
    let link = match ChairProperties::read(connection).await {
        Ok(chair) => Link {
            reachable: true,
            problem: String::new(),
            problem_code: Problem::None,
            chair: Some(chair),
        },
        Err(e) if timed_out(&e) => Link {
            reachable: false,
            problem: "the chair service is not answering".into(),
            problem_code: Problem::NotAnswering,
            chair: None,
        },
        Err(e) => Link {
            reachable: false,
            problem: format!("the chair service does not answer: {}", describe_error(&e)),
            problem_code: Problem::NotRunning,
            chair: None,
        },
    };
    channels.link.send_replace(link.into());
}
