//! The MQTT client inside `tarsald`: one thread (`tarsal-mqtt`) with its own
//! async runtime, so that a slow broker or database never delays the D-Bus
//! service or the control loop.
//!
//! It connects with a last will (`availability` = `offline`, retained),
//! announces itself, publishes state on change and telemetry at a fixed
//! rate, sends the events outbox, and answers commands. When the broker goes
//! away it keeps trying, with back-off; the chair works on regardless.

use crate::command::{self, RemoteCommand};
use crate::discovery;
use crate::outbox::{Outbox, PacketIds};
use crate::payload::{EventPayload, ResponsePayload, StatePayload, TelemetryPayload};
use crate::settings::Settings;
use crate::topics::Topics;
use bytes::Bytes;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{LastWill, Packet, PubAckReason, Publish, PublishProperties};
use rumqttc::v5::{AsyncClient, ConnectionError, Event, EventLoop, MqttOptions};
use rumqttc::{Outgoing, TlsConfiguration, Transport};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};
use tarsal_core::engine::{ChairStatus, Command, Refusal};
use tarsal_core::event::StopSource;
use tarsal_core::wallclock::UnixMillis;
use tarsal_runtime::{ChairHandle, HandleError};
use tarsal_store::Store;
use tokio::sync::{Notify, watch};

/// The outbox consumer name in the database.
const CONSUMER: &str = "mqtt";
/// Events on their way at once.
const WINDOW: usize = 32;
/// Publishes awaiting their acknowledgement at once (events, state, responses).
const INFLIGHT: u16 = 128;
/// Requests the client may queue before the event loop takes them.
const CHANNEL: usize = 512;
/// State changes that are only the clock moving are published at most this often.
const STATE_TIME_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    #[error("MQTT: reading the CA file {path}: {source}")]
    CaFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("MQTT: the CA file {path} holds no usable PEM certificate{detail}")]
    CaCertificate { path: PathBuf, detail: String },
    #[error("MQTT: {0} needs a CA file (mqtt.ca_file) to check the broker's certificate")]
    NoCaFile(String),
    #[error("MQTT: TLS set-up: {0}")]
    Tls(String),
    #[error("MQTT: the events outbox in {path}: {source}")]
    Store {
        path: PathBuf,
        #[source]
        source: tarsal_store::StoreError,
    },
    #[error("MQTT: starting its thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// The running adapter. [`Adapter::shutdown`] says goodbye to the broker
/// (`availability` = `offline`) and waits for the thread.
pub struct Adapter {
    stop: watch::Sender<bool>,
    thread: JoinHandle<()>,
}

impl Adapter {
    pub fn shutdown(self) {
        let _ = self.stop.send(true);
        if self.thread.join().is_err() {
            tracing::error!("the MQTT thread panicked");
        }
    }
}

/// Settings checked and the TLS set-up loaded: ready to connect. Made
/// before the service starts anything, so a bad CA file stops it at once.
pub struct Prepared {
    settings: Settings,
    options: MqttOptions,
}

pub fn prepare(settings: Settings) -> Result<Prepared, AdapterError> {
    let options = mqtt_options(&settings)?;
    Ok(Prepared { settings, options })
}

impl Prepared {
    /// Starts the adapter on its own thread. `committed` is notified by the
    /// store thread after each commit (new events to send); `database` is
    /// the service's database.
    pub fn spawn(
        self,
        handle: ChairHandle,
        database: &Path,
        committed: Arc<Notify>,
    ) -> Result<Adapter, AdapterError> {
        let task = self.task(handle, database, committed)?;
        let (stop, stopped) = watch::channel(false);
        let thread = std::thread::Builder::new()
            .name("tarsal-mqtt".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(task.run(stopped)),
                    Err(e) => tracing::error!(
                        error = %e,
                        "MQTT: cannot start its runtime; the chair stays off MQTT"
                    ),
                }
            })?;
        Ok(Adapter { stop, thread })
    }

    /// The adapter as a task for a runtime the caller owns (the fleet
    /// simulator runs hundreds on one).
    pub fn task(
        self,
        handle: ChairHandle,
        database: &Path,
        committed: Arc<Notify>,
    ) -> Result<Task, AdapterError> {
        let store_err = |source| AdapterError::Store {
            path: database.to_owned(),
            source,
        };
        let store = Store::open(database).map_err(store_err)?;
        store.relax_durability().map_err(store_err)?;
        // A chair that never spoke MQTT starts with the events from now on.
        let cursor = match store.outbox_cursor(CONSUMER).map_err(store_err)? {
            Some(c) => c,
            None => {
                let last = store.last_event_id().map_err(store_err)?;
                store.set_outbox_cursor(CONSUMER, last).map_err(store_err)?;
                last
            }
        };
        let (client, events) = AsyncClient::new(self.options, CHANNEL);
        let link = Link {
            topics: Topics::new(&self.settings),
            settings: self.settings,
            handle,
            store,
            client,
            outbox: Outbox::new(cursor, WINDOW),
            ids: PacketIds::default(),
            connected: false,
            last_state: None,
            announced_programs: None,
        };
        Ok(Task {
            link,
            events,
            committed,
        })
    }
}

/// An adapter ready to run; [`Task::run`] ends when `stop` turns true (after
/// saying `offline`) or the control loop ends.
pub struct Task {
    link: Link,
    events: EventLoop,
    committed: Arc<Notify>,
}

impl Task {
    pub async fn run(mut self, stop: watch::Receiver<bool>) {
        self.link.run(self.events, self.committed, stop).await;
    }
}

fn mqtt_options(settings: &Settings) -> Result<MqttOptions, AdapterError> {
    let b = &settings.broker;
    let mut o = MqttOptions::new(
        format!("tarsal-{}", settings.chair_id),
        b.host.clone(),
        b.port,
    );
    o.set_keep_alive(settings.keep_alive.max(Duration::from_secs(5)));
    o.set_clean_start(true);
    o.set_max_packet_size(Some(256 * 1024));
    // The client keeps a slot per possible packet id in flight; the default
    // (65,535) costs megabytes a chair. The outbox window is far smaller.
    o.set_outgoing_inflight_upper_limit(INFLIGHT);
    // Commands (an emergency stop above all) and their answers are small
    // writes; without this, Nagle's algorithm holds them for a delayed ACK.
    let mut network = rumqttc::NetworkOptions::new();
    network.set_tcp_nodelay(true);
    o.set_network_options(network);
    o.set_connection_timeout(10);
    o.set_last_will(LastWill::new(
        Topics::new(settings).availability(),
        "offline",
        QoS::AtLeastOnce,
        true,
        None,
    ));
    if let Some(user) = &settings.username {
        o.set_credentials(user.clone(), settings.password.clone().unwrap_or_default());
    }
    if b.tls {
        let ca = settings
            .ca_file
            .as_ref()
            .ok_or_else(|| AdapterError::NoCaFile(b.to_string()))?;
        o.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
            Arc::new(tls_config(ca)?),
        )));
    }
    Ok(o)
}

fn tls_config(ca_file: &Path) -> Result<rustls::ClientConfig, AdapterError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let pem = std::fs::read(ca_file).map_err(|source| AdapterError::CaFile {
        path: ca_file.to_owned(),
        source,
    })?;
    let bad = |detail: String| AdapterError::CaCertificate {
        path: ca_file.to_owned(),
        detail,
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| bad(format!(": {e}")))?;
        roots.add(cert).map_err(|e| bad(format!(": {e}")))?;
    }
    if roots.is_empty() {
        return Err(bad(String::new()));
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| AdapterError::Tls(e.to_string()))
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

/// The connection's state, owned by the adapter thread.
struct Link {
    settings: Settings,
    topics: Topics,
    handle: ChairHandle,
    store: Store,
    client: AsyncClient,
    outbox: Outbox,
    ids: PacketIds,
    connected: bool,
    /// The last state published, and when.
    last_state: Option<(StatePayload, Instant)>,
    /// The programs revision the discovery document was made from.
    announced_programs: Option<u64>,
}

impl Link {
    async fn run(
        &mut self,
        mut events: EventLoop,
        committed: Arc<Notify>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut status = self.handle.watch_status();
        let mut telemetry = tokio::time::interval(
            self.settings
                .telemetry_every
                .max(Duration::from_millis(100)),
        );
        telemetry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut backoff = self.settings.reconnect_min;
        let mut unreachable_since: Option<Instant> = None;
        tracing::info!(broker = %self.settings.broker, chair = %self.settings.chair_id, "MQTT: connecting");
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                polled = events.poll() => match polled {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        tracing::info!(broker = %self.settings.broker, topics = %self.topics.base(), "MQTT: connected");
                        self.connected = true;
                        backoff = self.settings.reconnect_min;
                        unreachable_since = None;
                        self.on_connect().await;
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => self.on_message(p).await,
                    Ok(Event::Outgoing(Outgoing::Publish(pkid))) => self.ids.written(pkid),
                    Ok(Event::Incoming(Packet::PubAck(ack))) => self.on_puback(ack.pkid, &ack.reason),
                    Ok(_) => {}
                    Err(ConnectionError::RequestsDone) => break,
                    Err(e) => {
                        if self.connected {
                            tracing::warn!(error = %e, "MQTT: lost the broker; the chair carries on, events wait in the outbox");
                        } else if unreachable_since.is_none() {
                            tracing::warn!(error = %e, broker = %self.settings.broker, "MQTT: cannot reach the broker; retrying");
                        }
                        unreachable_since.get_or_insert_with(Instant::now);
                        self.connected = false;
                        self.ids.clear();
                        self.outbox.restart();
                        self.last_state = None;
                        tokio::select! {
                            _ = stop.changed() => break,
                            _ = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(self.settings.reconnect_max);
                    }
                },
                changed = status.changed(), if self.connected => {
                    if changed.is_err() {
                        break;
                    }
                    let s = status.borrow_and_update().clone();
                    // Programs loaded or reloaded: the start select lists them.
                    if self.announced_programs != Some(s.programs_revision) {
                        self.announce().await;
                    }
                    self.publish_state(&s, false);
                }
                _ = telemetry.tick(), if self.connected => {
                    let s = self.handle.status();
                    self.publish_telemetry(&s);
                    // Also a fallback for events the client could not queue.
                    self.send_events();
                }
                _ = committed.notified(), if self.connected => self.send_events(),
            }
        }
        self.goodbye(events).await;
    }

    /// (Re)connected: subscribe, say online, announce, state, and the outbox.
    async fn on_connect(&mut self) {
        let _ = self
            .client
            .try_subscribe(self.topics.command_filter(), QoS::AtLeastOnce);
        if let Some(ha) = self.topics.ha_status() {
            let _ = self.client.try_subscribe(ha, QoS::AtLeastOnce);
        }
        self.publish(
            self.topics.availability(),
            QoS::AtLeastOnce,
            true,
            "online".into(),
            None,
            None,
        );
        self.announce().await;
        let s = self.handle.status();
        self.publish_state(&s, true);
        self.publish_telemetry(&s);
        self.send_events();
    }

    /// The Home Assistant discovery document, when discovery is on.
    async fn announce(&mut self) {
        let Some(topic) = self.topics.ha_config() else {
            return;
        };
        self.announced_programs = Some(self.handle.status().programs_revision);
        // Only what can start from afar: contraindications need a person
        // at the chair to confirm them.
        let ids: Vec<String> = match self.handle.programs().await {
            Ok(p) => p
                .iter()
                .filter(|p| p.contraindications.is_empty())
                .map(|p| p.id.clone())
                .collect(),
            Err(_) => Vec::new(),
        };
        let doc = discovery::document(&self.settings, &self.topics, &ids);
        self.publish(
            topic,
            QoS::AtLeastOnce,
            true,
            doc.to_string().into(),
            None,
            None,
        );
    }

    fn publish_state(&mut self, s: &ChairStatus, always: bool) {
        let state = StatePayload::of(s);
        let due = match &self.last_state {
            None => true,
            Some((last, at)) => {
                *last != state
                    && (!last.same_apart_from_time(&state) || at.elapsed() >= STATE_TIME_EVERY)
            }
        };
        if !(due || always) {
            return;
        }
        let Ok(json) = serde_json::to_vec(&state) else {
            return;
        };
        if self.publish(
            self.topics.state(),
            QoS::AtLeastOnce,
            true,
            json.into(),
            None,
            None,
        ) {
            self.last_state = Some((state, Instant::now()));
        }
    }

    fn publish_telemetry(&mut self, s: &ChairStatus) {
        let t = TelemetryPayload::of(s, UnixMillis::from_system_time(SystemTime::now()));
        if let Ok(json) = serde_json::to_vec(&t) {
            self.publish(
                self.topics.telemetry(),
                QoS::AtMostOnce,
                false,
                json.into(),
                None,
                None,
            );
        }
    }

    /// Sends the next events of the outbox, as many as the window allows.
    fn send_events(&mut self) {
        while self.connected && self.outbox.room() > 0 {
            let rows = match self
                .store
                .events_after(self.outbox.next_after(), self.outbox.room() as u32)
            {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!(error = %e, "MQTT: cannot read the events outbox; will retry");
                    return;
                }
            };
            if rows.is_empty() {
                return;
            }
            for row in rows {
                let Ok(json) = serde_json::to_vec(&EventPayload::from(&row)) else {
                    continue;
                };
                if !self.publish(
                    self.topics.events(),
                    QoS::AtLeastOnce,
                    false,
                    json.into(),
                    None,
                    Some(row.id),
                ) {
                    return;
                }
                self.outbox.sending(row.id);
            }
        }
    }

    fn on_puback(&mut self, pkid: u16, reason: &PubAckReason) {
        let Some(event) = self.ids.acknowledged(pkid) else {
            if !matches!(
                reason,
                PubAckReason::Success | PubAckReason::NoMatchingSubscribers
            ) {
                tracing::warn!(
                    ?reason,
                    "MQTT: the broker refused a publish (check its ACL for this chair)"
                );
            }
            return;
        };
        if !matches!(
            reason,
            PubAckReason::Success | PubAckReason::NoMatchingSubscribers
        ) {
            // Retrying would block every later event behind it; the broker's
            // configuration is wrong, and the event stays in the database.
            tracing::error!(
                ?reason,
                event,
                "MQTT: the broker refused an event; it is not sent again"
            );
        }
        if let Some(cursor) = self.outbox.acknowledged(event)
            && let Err(e) = self.store.set_outbox_cursor(CONSUMER, cursor)
        {
            tracing::warn!(error = %e, "MQTT: cannot save the outbox cursor; some events may be sent twice");
        }
        self.send_events();
    }

    async fn on_message(&mut self, p: Publish) {
        let Ok(topic) = std::str::from_utf8(&p.topic) else {
            return;
        };
        if self.topics.ha_status().as_deref() == Some(topic) {
            if p.payload.as_ref() == b"online" {
                tracing::info!("MQTT: Home Assistant came online; announcing again");
                self.announce().await;
                let s = self.handle.status();
                self.publish_state(&s, true);
            }
            return;
        }
        let Some(verb) = self.topics.verb_of(topic).map(str::to_owned) else {
            return;
        };
        let response = match command::parse(&verb, &p.payload, self.settings.remote_start) {
            // Not `self`: the task must stay Send for multi-threaded runtimes,
            // and the database connection is not Sync.
            Ok(c) => execute(&self.handle.clone(), &verb, c).await,
            Err(e) => e.response(&verb),
        };
        // Each command is in the event log when it changes something; the
        // service log notes it only at debug level (an operator's script
        // may send many).
        tracing::debug!(command = %verb, ok = response.ok, error = ?response.error.as_ref().map(|e| &e.code), "MQTT: command");
        self.respond(&p, &response);
    }

    /// Answers on the command's response topic with its correlation data
    /// when that topic is under `<base>/responses/`, else on
    /// `<base>/responses` ([`Topics::response_topic`]).
    fn respond(&mut self, command: &Publish, response: &ResponsePayload) {
        let props = command.properties.as_ref();
        let topic = self
            .topics
            .response_topic(props.and_then(|p| p.response_topic.as_deref()));
        let properties = PublishProperties {
            correlation_data: props.and_then(|p| p.correlation_data.clone()),
            content_type: Some("application/json".into()),
            ..Default::default()
        };
        if let Ok(json) = serde_json::to_vec(response) {
            self.publish(
                topic,
                QoS::AtLeastOnce,
                false,
                json.into(),
                Some(properties),
                None,
            );
        }
    }

    /// Queues a publish without waiting (this task also drives the event
    /// loop, so it must never block on the client's channel). Returns
    /// whether it was queued.
    fn publish(
        &mut self,
        topic: String,
        qos: QoS,
        retain: bool,
        payload: Bytes,
        properties: Option<PublishProperties>,
        event: Option<i64>,
    ) -> bool {
        let queued = match properties {
            Some(p) => self
                .client
                .try_publish_with_properties(topic, qos, retain, payload, p),
            None => self.client.try_publish(topic, qos, retain, payload),
        };
        match queued {
            Ok(()) => {
                self.ids.queued(event);
                true
            }
            Err(e) => {
                tracing::debug!(error = %e, "MQTT: could not queue a publish");
                false
            }
        }
    }

    /// Leaving: `offline` (retained), then a clean disconnect, within a
    /// couple of seconds at most.
    async fn goodbye(&mut self, mut events: EventLoop) {
        if !self.connected {
            return;
        }
        self.publish(
            self.topics.availability(),
            QoS::AtLeastOnce,
            true,
            "offline".into(),
            None,
            None,
        );
        let _ = self.client.try_disconnect();
        let deadline = tokio::time::sleep(Duration::from_secs(2));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                polled = events.poll() => match polled {
                    Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
                    Ok(_) => {}
                },
            }
        }
        tracing::info!("MQTT: disconnected");
    }
}

async fn execute(handle: &ChairHandle, verb: &str, c: RemoteCommand) -> ResponsePayload {
    let result = match c {
        RemoteCommand::Stop => handle.command(Command::Stop).await.map(|()| None),
        RemoteCommand::EmergencyStop => handle
            .command(Command::EmergencyStop(StopSource::Remote))
            .await
            .map(|()| None),
        RemoteCommand::Reset => handle.command(Command::Reset).await.map(|()| None),
        RemoteCommand::Start {
            program,
            options,
            contraindications_confirmed,
        } => start(handle, &program, options, contraindications_confirmed).await,
    };
    match result {
        Ok(session) => ResponsePayload::ok(verb, session),
        Err(HandleError::Refused(r)) => ResponsePayload::error(verb, r.code(), r.to_string()),
        Err(HandleError::LoopGone) => ResponsePayload::error(
            verb,
            "unavailable",
            "the chair's control loop is not running",
        ),
        Err(e @ HandleError::NotAnswering { .. }) => {
            ResponsePayload::error(verb, "not_responding", e.to_string())
        }
    }
}

async fn start(
    handle: &ChairHandle,
    program: &str,
    options: tarsal_core::session::SessionOptions,
    confirmed: bool,
) -> Result<Option<u64>, HandleError> {
    let programs = handle.programs().await?;
    if let Some(info) = programs.iter().find(|p| p.id == program)
        && !info.contraindications.is_empty()
        && !confirmed
    {
        return Err(Refusal::ContraindicationsNotConfirmed {
            contraindications: info.contraindications.join("; "),
        }
        .into());
    }
    Ok(Some(handle.start(program, options).await?.0))
}
