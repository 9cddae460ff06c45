//! Real Mosquitto brokers and MQTT 5 clients for tests.

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, Publish, PublishProperties};
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// A Mosquitto on its own port, stopped when dropped.
pub struct Broker {
    child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
    config: PathBuf,
}

impl Broker {
    /// Anonymous clients welcome, no persistence.
    pub fn start() -> Self {
        Self::start_with(|_, _| String::from("allow_anonymous true\n"))
    }

    /// `extra(dir, port)` adds to the config (listeners beyond the first,
    /// authentication, persistence); the first listener is on `port`.
    pub fn start_with(extra: impl FnOnce(&PathBuf, u16) -> String) -> Self {
        let dir = super::scratch("broker");
        let port = super::free_port();
        let config = dir.join("mosquitto.conf");
        let text = format!(
            "# Runs as root in tests: its files stay readable.\nuser root\nper_listener_settings false\nset_tcp_nodelay true\nlog_dest file {}/mosquitto.log\nlog_type all\nlistener {port} 127.0.0.1\n{}",
            dir.display(),
            extra(&dir, port)
        );
        std::fs::write(&config, text).unwrap();
        let mut broker = Self {
            child: None,
            port,
            dir,
            config,
        };
        broker.launch();
        broker
    }

    fn launch(&mut self) {
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto runs (scripts/test.sh installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "mosquitto did not listen:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("mosquitto.log")).unwrap_or_default()
    }

    /// Stops the broker (SIGTERM: it saves its persistence file, if any).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// Reloads its password and ACL files.
    pub fn reload(&self) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .args(["-HUP", &child.id().to_string()])
                .status();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A message as a test sees it.
#[derive(Clone, Debug)]
pub struct Message {
    pub topic: String,
    pub payload: Vec<u8>,
    pub retain: bool,
    pub properties: Option<PublishProperties>,
}

impl Message {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.payload)
            .unwrap_or_else(|e| panic!("{} is not JSON ({e}): {}", self.topic, self.text()))
    }
}

/// An MQTT 5 client that collects what it receives.
pub struct Client {
    pub client: AsyncClient,
    messages: mpsc::UnboundedReceiver<Message>,
    /// PUBACK reasons, in order.
    pub acks: mpsc::UnboundedReceiver<String>,
    pub seen: Vec<Message>,
}

impl Client {
    pub async fn connect(port: u16, id: &str, subscribe: &[&str]) -> Self {
        Self::connect_as(port, id, None, subscribe, true).await
    }

    /// `credentials` = (user, password); `clean` false keeps a session on
    /// the broker (for an hour) across disconnects.
    pub async fn connect_as(
        port: u16,
        id: &str,
        credentials: Option<(&str, &str)>,
        subscribe: &[&str],
        clean: bool,
    ) -> Self {
        let mut o = MqttOptions::new(id, "127.0.0.1", port);
        o.set_keep_alive(Duration::from_secs(5));
        o.set_clean_start(clean);
        if !clean {
            o.set_session_expiry_interval(Some(3600));
        }
        o.set_max_packet_size(Some(1 << 20));
        if let Some((u, p)) = credentials {
            o.set_credentials(u, p);
        }
        let (client, mut events) = AsyncClient::new(o, 256);
        let (tx, messages) = mpsc::unbounded_channel();
        let (ack_tx, acks) = mpsc::unbounded_channel();
        let (ready_tx, mut ready) = mpsc::unbounded_channel();
        let filters: Vec<String> = subscribe.iter().map(|s| (*s).to_owned()).collect();
        let subscriber = client.clone();
        tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                        if !ack.session_present {
                            for f in &filters {
                                let _ = subscriber.subscribe(f.clone(), QoS::AtLeastOnce).await;
                            }
                        }
                        if filters.is_empty() {
                            let _ = ready_tx.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = ready_tx.send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let _ = tx.send(message(&p));
                    }
                    Ok(Event::Incoming(Packet::PubAck(a))) => {
                        let _ = ack_tx.send(format!("{:?}", a.reason));
                    }
                    Ok(_) => {}
                    Err(rumqttc::v5::ConnectionError::RequestsDone) => return,
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(10), ready.recv())
            .await
            .expect("the test client connects and subscribes");
        Self {
            client,
            messages,
            acks,
            seen: Vec::new(),
        }
    }

    /// Waits for a message `accept` takes, keeping every message seen.
    pub async fn wait_for(
        &mut self,
        what: &str,
        max: Duration,
        mut accept: impl FnMut(&Message) -> bool,
    ) -> Message {
        if let Some(m) = self.seen.iter().find(|m| accept(m)) {
            return m.clone();
        }
        let deadline = tokio::time::Instant::now() + max;
        loop {
            match tokio::time::timeout_at(deadline, self.messages.recv()).await {
                Ok(Some(m)) => {
                    self.seen.push(m.clone());
                    if accept(&m) {
                        return m;
                    }
                }
                _ => panic!(
                    "timed out waiting for {what}; seen:\n{}",
                    self.seen
                        .iter()
                        .map(|m| format!("{} {}", m.topic, m.text()))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            }
        }
    }

    /// The next message on `topic`, after those already seen.
    pub async fn next_on(&mut self, topic: &str, max: Duration) -> Message {
        let deadline = tokio::time::Instant::now() + max;
        loop {
            match tokio::time::timeout_at(deadline, self.messages.recv()).await {
                Ok(Some(m)) => {
                    self.seen.push(m.clone());
                    if m.topic == topic {
                        return m;
                    }
                }
                _ => panic!("timed out waiting for a message on {topic}"),
            }
        }
    }

    /// Collects for `time`, then returns everything seen.
    pub async fn drain(&mut self, time: Duration) -> &[Message] {
        let deadline = tokio::time::Instant::now() + time;
        while let Ok(Some(m)) = tokio::time::timeout_at(deadline, self.messages.recv()).await {
            self.seen.push(m);
        }
        &self.seen
    }

    /// Publishes with QoS 1 (the broker's answer arrives on `acks`).
    pub async fn publish(&self, topic: &str, payload: impl Into<Vec<u8>>, retain: bool) {
        self.client
            .publish(topic, QoS::AtLeastOnce, retain, payload.into())
            .await
            .expect("queued");
    }

    /// Sends a command with a response topic and correlation data, and
    /// waits for the response.
    pub async fn command(&mut self, chair: &str, verb: &str, payload: &str) -> serde_json::Value {
        let response_topic = format!("tarsal/{chair}/responses/test");
        self.command_via(chair, verb, payload, &response_topic, &response_topic)
            .await
    }

    /// Sends a command naming `response_topic`, and waits for the response
    /// on `answered_on`.
    pub async fn command_via(
        &mut self,
        chair: &str,
        verb: &str,
        payload: &str,
        response_topic: &str,
        answered_on: &str,
    ) -> serde_json::Value {
        let correlation = format!("{verb}-{}", self.seen.len());
        let properties = PublishProperties {
            response_topic: Some(response_topic.to_owned()),
            correlation_data: Some(correlation.clone().into_bytes().into()),
            ..Default::default()
        };
        self.client
            .publish_with_properties(
                format!("tarsal/{chair}/cmd/{verb}"),
                QoS::AtLeastOnce,
                false,
                payload.to_owned(),
                properties,
            )
            .await
            .unwrap();
        let answer = self
            .wait_for(
                &format!("the response to {verb}"),
                Duration::from_secs(10),
                |m| {
                    m.topic == answered_on
                        && m.properties
                            .as_ref()
                            .and_then(|p| p.correlation_data.as_deref())
                            == Some(correlation.as_bytes())
                },
            )
            .await;
        answer.json()
    }
}

fn message(p: &Publish) -> Message {
    Message {
        topic: String::from_utf8_lossy(&p.topic).into_owned(),
        payload: p.payload.to_vec(),
        retain: p.retain,
        properties: p.properties.clone(),
    }
}
