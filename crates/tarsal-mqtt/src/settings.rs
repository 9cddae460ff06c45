//! What the adapter needs to know: the broker, who this chair is, and what
//! operators may do.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SettingsError {
    #[error("broker URL `{url}`: {problem}; expected mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")]
    BrokerUrl { url: String, problem: String },
    #[error(
        "chair id `{0}`: use 1–64 letters, digits, `-` or `_` (it becomes part of every topic)"
    )]
    ChairId(String),
    #[error(
        "topic prefix `{0}`: use letters, digits, `-`, `_` and `/` between levels, no wildcards"
    )]
    Prefix(String),
}

/// Where the broker is. `mqtts` means TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broker {
    pub host: String,
    pub port: u16,
    pub tls: bool,
}

impl Broker {
    /// `mqtt://HOST[:PORT]` (port 1883) or `mqtts://HOST[:PORT]` (8883).
    pub fn parse(url: &str) -> Result<Self, SettingsError> {
        let bad = |problem: &str| SettingsError::BrokerUrl {
            url: url.to_owned(),
            problem: problem.to_owned(),
        };
        let (tls, rest) = if let Some(r) = url.strip_prefix("mqtts://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("mqtt://") {
            (false, r)
        } else {
            return Err(bad("unknown scheme"));
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') || rest.contains('@') || rest.contains('?') {
            return Err(bad(
                "give only a host and a port (credentials go in the config file)",
            ));
        }
        let (host, port) = match rest.rsplit_once(':') {
            // An IPv6 literal keeps its brackets' colons.
            Some((h, p)) if !h.ends_with(']') || rest.starts_with('[') => {
                let port = p
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| bad("the port is not a number 1–65535"))?;
                (h, port)
            }
            _ => (rest, if tls { 8883 } else { 1883 }),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Self {
            host: host.to_owned(),
            port,
            tls,
        })
    }
}

impl std::fmt::Display for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        write!(f, "{scheme}://{}:{}", self.host, self.port)
    }
}

/// A chair's id on MQTT: safe inside a topic and a client id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChairId(String);

impl ChairId {
    pub fn parse(id: &str) -> Result<Self, SettingsError> {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(Self(id.to_owned()))
        } else {
            Err(SettingsError::ChairId(id.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ChairId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A topic prefix such as `tarsal` or `salon-42/tarsal`.
pub fn check_prefix(prefix: &str) -> Result<(), SettingsError> {
    let ok = !prefix.is_empty()
        && prefix.split('/').all(|level| {
            !level.is_empty()
                && level
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    if ok {
        Ok(())
    } else {
        Err(SettingsError::Prefix(prefix.to_owned()))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub broker: Broker,
    pub chair_id: ChairId,
    /// Topics live under `<prefix>/<chair-id>/`.
    pub prefix: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// CA certificate (PEM) that signs the broker's certificate, for `mqtts`.
    pub ca_file: Option<PathBuf>,
    pub keep_alive: Duration,
    pub telemetry_every: Duration,
    /// Reconnect back-off: the first wait, doubled up to `reconnect_max`.
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    /// Whether operators may start programs remotely (`cmd/start`).
    pub remote_start: bool,
    /// Home Assistant discovery prefix (`homeassistant`), or `None` for off.
    pub discovery: Option<String>,
    /// The chair's model (its profile), for the discovery device block.
    pub model: String,
}

impl Settings {
    /// Settings with the documented defaults.
    pub fn new(broker: Broker, chair_id: ChairId) -> Self {
        Self {
            broker,
            chair_id,
            prefix: "tarsal".into(),
            username: None,
            password: None,
            ca_file: None,
            keep_alive: Duration::from_secs(30),
            telemetry_every: Duration::from_secs(5),
            reconnect_min: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(30),
            remote_start: false,
            discovery: Some("homeassistant".into()),
            model: "pedicure chair".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls() {
        let b = Broker::parse("mqtt://localhost").unwrap();
        assert_eq!((b.host.as_str(), b.port, b.tls), ("localhost", 1883, false));
        let b = Broker::parse("mqtts://10.0.0.5:8884").unwrap();
        assert_eq!((b.host.as_str(), b.port, b.tls), ("10.0.0.5", 8884, true));
        assert_eq!(Broker::parse("mqtts://broker.example/").unwrap().port, 8883);
        assert_eq!(b.to_string(), "mqtts://10.0.0.5:8884");
        for bad in [
            "http://x",
            "mqtt://",
            "mqtt://x:0",
            "mqtt://x:port",
            "mqtt://u:p@x",
            "mqtt://x/topic",
        ] {
            let e = Broker::parse(bad).unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn chair_ids_and_prefixes() {
        assert!(ChairId::parse("chair-07_b").is_ok());
        for bad in ["", "a/b", "a+b", "#", "chair 1", &"x".repeat(65)] {
            assert!(ChairId::parse(bad).is_err(), "{bad}");
        }
        assert!(check_prefix("tarsal").is_ok());
        assert!(check_prefix("salon-42/tarsal").is_ok());
        for bad in ["", "/tarsal", "tarsal/", "a//b", "a/+", "a/#"] {
            assert!(check_prefix(bad).is_err(), "{bad}");
        }
    }
}
