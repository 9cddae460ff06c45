//! The service's own settings: `/etc/tarsal/tarsald.toml` by default, or
//! `--config PATH`; command-line flags override the file.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tarsal_core::config_file::{self, Checker, FileError, Located};

pub const DEFAULT_CONFIG_PATH: &str = "/etc/tarsal/tarsald.toml";
pub const DEFAULT_DATABASE_PATH: &str = "/var/lib/tarsal/tarsal.db";
pub const DEFAULT_PROGRAMS_DIR: &str = "/usr/lib/tarsal/programs";
pub const DEFAULT_CACHE_DIR: &str = "/var/cache/tarsal/programs";

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub service: ServiceSection,
    pub session: SessionSection,
    pub programs: ProgramsSection,
    pub sanitation: SanitationSection,
    pub dbus: DbusSection,
    pub mqtt: MqttSection,
    pub simulator: SimulatorSection,
}

/// MQTT for operators; off unless a broker is given.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttSection {
    /// `mqtt://HOST[:PORT]` or `mqtts://HOST[:PORT]`; unset: MQTT off.
    pub broker: Option<String>,
    /// This chair's id in topics; the host name when unset.
    pub chair_id: Option<String>,
    pub prefix: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// A file holding the password (first line), instead of `password`.
    pub password_file: Option<PathBuf>,
    /// CA certificate (PEM) for `mqtts://`.
    pub ca_file: Option<PathBuf>,
    #[serde(rename = "keep_alive_s", deserialize_with = "config_file::seconds")]
    pub keep_alive: Duration,
    #[serde(
        rename = "telemetry_interval_ms",
        deserialize_with = "config_file::milliseconds"
    )]
    pub telemetry_interval: Duration,
    /// Operators may start programs (`cmd/start`).
    pub remote_start: bool,
    /// Home Assistant discovery.
    pub discovery: bool,
    pub discovery_prefix: String,
}

impl Default for MqttSection {
    fn default() -> Self {
        Self {
            broker: None,
            chair_id: None,
            prefix: "tarsal".into(),
            username: None,
            password: None,
            password_file: None,
            ca_file: None,
            keep_alive: Duration::from_secs(30),
            telemetry_interval: Duration::from_secs(5),
            remote_start: false,
            discovery: true,
            discovery_prefix: "homeassistant".into(),
        }
    }
}

impl MqttSection {
    /// The adapter's settings, or `None` when MQTT is off. Errors name the key.
    pub fn settings(&self, model: &str) -> Result<Option<tarsal_mqtt::Settings>, String> {
        let Some(url) = &self.broker else {
            return Ok(None);
        };
        let broker = tarsal_mqtt::Broker::parse(url).map_err(|e| format!("mqtt.broker: {e}"))?;
        let id = match &self.chair_id {
            Some(id) => id.clone(),
            None => std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_owned())
                .map_err(|e| {
                    format!("mqtt.chair_id is not set and the host name cannot be read: {e}")
                })?,
        };
        let chair_id =
            tarsal_mqtt::ChairId::parse(&id).map_err(|e| format!("mqtt.chair_id: {e}"))?;
        tarsal_mqtt::settings::check_prefix(&self.prefix)
            .map_err(|e| format!("mqtt.prefix: {e}"))?;
        if self.discovery {
            tarsal_mqtt::settings::check_prefix(&self.discovery_prefix)
                .map_err(|e| format!("mqtt.discovery_prefix: {e}"))?;
        }
        let password = match (&self.password, &self.password_file) {
            (Some(_), Some(_)) => {
                return Err("mqtt: give password or password_file, not both".into());
            }
            (Some(p), None) => Some(p.clone()),
            (None, Some(file)) => Some(
                std::fs::read_to_string(file)
                    .map_err(|e| format!("mqtt.password_file {}: {e}", file.display()))?
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            ),
            (None, None) => None,
        };
        let mut s = tarsal_mqtt::Settings::new(broker, chair_id);
        s.prefix = self.prefix.clone();
        s.username = self.username.clone();
        s.password = password;
        s.ca_file = self.ca_file.clone();
        s.keep_alive = self.keep_alive;
        s.telemetry_every = self.telemetry_interval;
        s.remote_start = self.remote_start;
        s.discovery = self.discovery.then(|| self.discovery_prefix.clone());
        s.model = model.to_owned();
        Ok(Some(s))
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DbusSection {
    /// `system`, `session` or `none`.
    pub bus: BusKind,
    /// An explicit bus address; overrides `bus`.
    pub address: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum BusKind {
    #[default]
    System,
    Session,
    None,
}

impl Default for DbusSection {
    fn default() -> Self {
        Self {
            bus: BusKind::System,
            address: None,
        }
    }
}

impl DbusSection {
    /// The bus to serve on, if any.
    pub fn bus(&self) -> Option<tarsal_dbus::Bus> {
        if let Some(a) = &self.address {
            return Some(tarsal_dbus::Bus::Address(a.clone()));
        }
        match self.bus {
            BusKind::System => Some(tarsal_dbus::Bus::System),
            BusKind::Session => Some(tarsal_dbus::Bus::Session),
            BusKind::None => None,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SanitationSection {
    /// The program that sanitizes the bath.
    pub program: String,
    /// Refuse the next client until the cycle after the previous client is
    /// logged complete (California requires the cycle; the gate is the
    /// salon's choice).
    pub required_between_clients: bool,
    /// Jet circulation a complete cycle needs.
    #[serde(rename = "circulation_min", deserialize_with = "config_file::minutes")]
    pub circulation: Duration,
}

impl Default for SanitationSection {
    fn default() -> Self {
        let policy = tarsal_core::engine::SanitationPolicy::default();
        Self {
            program: policy.program,
            required_between_clients: policy.required_between_clients,
            circulation: policy.circulation,
        }
    }
}

impl SanitationSection {
    pub fn policy(&self) -> tarsal_core::engine::SanitationPolicy {
        tarsal_core::engine::SanitationPolicy {
            program: self.program.clone(),
            circulation: self.circulation,
            required_between_clients: self.required_between_clients,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceSection {
    /// Chair profile; the built-in standard chair when absent.
    pub profile: Option<PathBuf>,
    pub database: PathBuf,
    pub tick_rate_hz: u32,
    #[serde(
        rename = "watchdog_margin_ms",
        deserialize_with = "config_file::milliseconds"
    )]
    pub watchdog_margin: Duration,
    pub log_format: LogFormat,
    /// A tracing filter such as `info` or `tarsal_runtime=debug,info`.
    pub log_level: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSection {
    /// Tightens the profile's maximum session duration (never loosens it).
    #[serde(rename = "max_duration_min", deserialize_with = "optional_minutes")]
    pub max_duration: Option<Duration>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProgramsSection {
    /// Where the program plugins shipped with Tarsal are (`*.wasm`
    /// components and their bundle manifest).
    pub dir: PathBuf,
    /// Programs installed on this chair from elsewhere; they may not take a
    /// bundled program's id.
    pub local_dir: Option<PathBuf>,
    /// Where compiled plugins are kept between starts.
    pub cache_dir: PathBuf,
    /// Loading (or reloading) the programs stops after this long; files not
    /// reached by then are reported, not loaded.
    #[serde(rename = "load_timeout_s", deserialize_with = "config_file::seconds")]
    pub load_timeout: Duration,
    /// Instruction budget of one tick, in millions.
    pub tick_budget_million_instructions: u64,
    /// Memory a plugin instance may use.
    pub memory_limit_mib: u64,
}

impl Default for ProgramsSection {
    fn default() -> Self {
        let limits = tarsal_plugin_host::Limits::default();
        Self {
            dir: PathBuf::from(DEFAULT_PROGRAMS_DIR),
            local_dir: None,
            cache_dir: PathBuf::from(DEFAULT_CACHE_DIR),
            load_timeout: Duration::from_secs(300),
            tick_budget_million_instructions: limits.tick_fuel / 1_000_000,
            memory_limit_mib: (limits.memory_bytes >> 20) as u64,
        }
    }
}

impl ProgramsSection {
    pub fn sources(&self) -> tarsal_plugin_host::ProgramSources {
        tarsal_plugin_host::ProgramSources {
            bundled: self.dir.clone(),
            local: self.local_dir.clone(),
        }
    }

    pub fn limits(&self) -> tarsal_plugin_host::Limits {
        tarsal_plugin_host::Limits {
            tick_fuel: self.tick_budget_million_instructions * 1_000_000,
            memory_bytes: (self.memory_limit_mib as usize) << 20,
            ..tarsal_plugin_host::Limits::default()
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimulatorSection {
    /// How many times faster than real time a simulated chair runs; 0 = as fast as possible.
    pub speed: f64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Human,
    Json,
}

impl Default for ServiceSection {
    fn default() -> Self {
        Self {
            profile: None,
            database: PathBuf::from(DEFAULT_DATABASE_PATH),
            tick_rate_hz: 100,
            watchdog_margin: Duration::from_millis(250),
            log_format: LogFormat::Human,
            log_level: "info".into(),
        }
    }
}

impl Default for SimulatorSection {
    fn default() -> Self {
        Self { speed: 1.0 }
    }
}

fn optional_minutes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    config_file::minutes(d).map(Some)
}

impl Config {
    /// Reads the config: `explicit` must exist; otherwise the default path is
    /// used when present, and built-in defaults when not.
    pub fn load(explicit: Option<&Path>) -> Result<(Self, Option<PathBuf>), FileError> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let default = PathBuf::from(DEFAULT_CONFIG_PATH);
                if !default.exists() {
                    return Ok((Self::default(), None));
                }
                default
            }
        };
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| {
            FileError::whole_file(&name, format!("cannot read the config file: {e}"))
        })?;
        Ok((Self::parse(&name, &text)?, Some(path)))
    }

    pub fn parse(file: &str, text: &str) -> Result<Self, FileError> {
        let located = Located::new(file, text);
        let config: Self = located.deserialize()?;
        let mut c = Checker::new(&located);
        c.range(
            f64::from(config.service.tick_rate_hz),
            50.0,
            100.0,
            "service.tick_rate_hz",
            "Hz",
        );
        c.duration(
            config.service.watchdog_margin,
            Duration::from_millis(20),
            Duration::from_secs(10),
            "service.watchdog_margin_ms",
        );
        c.require(
            config.simulator.speed >= 0.0 && config.simulator.speed.is_finite(),
            "simulator.speed",
            || {
                format!(
                    "{} is not a speed; allowed: 0 (as fast as possible) or more",
                    config.simulator.speed
                )
            },
        );
        c.range(
            config.programs.tick_budget_million_instructions as f64,
            1.0,
            1000.0,
            "programs.tick_budget_million_instructions",
            "million",
        );
        c.duration(
            config.programs.load_timeout,
            Duration::from_secs(10),
            Duration::from_secs(3600),
            "programs.load_timeout_s",
        );
        c.range(
            config.programs.memory_limit_mib as f64,
            2.0,
            512.0,
            "programs.memory_limit_mib",
            "MiB",
        );
        c.duration(
            config.sanitation.circulation,
            Duration::from_secs(60),
            Duration::from_secs(60 * 60),
            "sanitation.circulation_min",
        );
        c.duration(
            config.mqtt.keep_alive,
            Duration::from_secs(5),
            Duration::from_secs(3600),
            "mqtt.keep_alive_s",
        );
        c.duration(
            config.mqtt.telemetry_interval,
            Duration::from_millis(100),
            Duration::from_secs(3600),
            "mqtt.telemetry_interval_ms",
        );
        if let Some(d) = config.session.max_duration {
            c.duration(
                d,
                Duration::from_secs(60),
                tarsal_core::profile::SESSION_HARD_MAX,
                "session.max_duration_min",
            );
        }
        c.finish()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_gives_the_defaults() {
        let c = Config::parse("t.toml", "").unwrap();
        assert_eq!(c.service.tick_rate_hz, 100);
        assert_eq!(c.service.database, PathBuf::from(DEFAULT_DATABASE_PATH));
    }

    #[test]
    fn a_mistyped_key_is_named_with_file_and_line() {
        let err = Config::parse(
            "t.toml",
            "[service]\ntick_rate_hz = 100\ndatabse = \"/x\"\n",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("t.toml:3:"), "{text}");
        assert!(text.contains("`service.databse`"), "{text}");
        assert!(text.contains("unknown field"), "{text}");
    }

    #[test]
    fn a_tick_rate_out_of_range_says_what_is_allowed() {
        let err = Config::parse("t.toml", "[service]\ntick_rate_hz = 1000\n").unwrap_err();
        assert!(err.to_string().contains("allowed: 50–100 Hz"), "{err}");
    }

    #[test]
    fn mqtt_is_off_without_a_broker_and_named_errors_with_one() {
        let c = Config::parse("t.toml", "").unwrap();
        assert_eq!(c.mqtt.settings("m"), Ok(None));
        let c = Config::parse(
            "t.toml",
            "[mqtt]\nbroker = \"mqtt://127.0.0.1:1884\"\nchair_id = \"c-1\"\nremote_start = true\ndiscovery = false\n",
        )
        .unwrap();
        let s = c.mqtt.settings("pedicure-standard").unwrap().unwrap();
        assert_eq!(s.broker.port, 1884);
        assert_eq!(s.chair_id.as_str(), "c-1");
        assert!(s.remote_start && s.discovery.is_none());
        let c = Config::parse("t.toml", "[mqtt]\nbroker = \"http://x\"\n").unwrap();
        assert!(
            c.mqtt
                .settings("m")
                .unwrap_err()
                .starts_with("mqtt.broker: ")
        );
        let c = Config::parse(
            "t.toml",
            "[mqtt]\nbroker = \"mqtt://x\"\nchair_id = \"a/b\"\n",
        )
        .unwrap();
        assert!(
            c.mqtt
                .settings("m")
                .unwrap_err()
                .starts_with("mqtt.chair_id: ")
        );
        let err = Config::parse("t.toml", "[mqtt]\ntelemetry_interval_ms = 5\n").unwrap_err();
        assert!(
            err.to_string().contains("mqtt.telemetry_interval_ms"),
            "{err}"
        );
    }

    #[test]
    fn a_wrong_type_is_reported() {
        let err = Config::parse("t.toml", "[simulator]\nspeed = \"fast\"\n").unwrap_err();
        assert!(err.to_string().starts_with("t.toml:2:"), "{err}");
    }
}
