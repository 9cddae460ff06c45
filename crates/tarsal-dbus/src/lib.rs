//! The chair on D-Bus, `org.tarsal.Chair1`, as clients see it: names and
//! paths, the wire types, the error names, and the proxies `tarsalctl` and
//! the panel use ([`client`]). It depends on zbus and serde only, so a
//! client does not compile the service. The service itself is
//! `tarsal-dbus-server`, inside `tarsald`.
//!
//! The contract is documented in `docs/dbus.md`; the introspection XML is in
//! `deploy/dbus/`.

pub mod client;
pub mod error;
pub mod types;

/// The well-known name, object path and interface names.
pub const NAME: &str = "org.tarsal.Chair1";
pub const PATH: &str = "/org/tarsal/Chair1";
pub const INTERFACE: &str = "org.tarsal.Chair1";
pub const SERVICE_INTERFACE: &str = "org.tarsal.Chair1.Service";
pub const SIMULATOR_INTERFACE: &str = "org.tarsal.Chair1.Simulator";
pub const ACTUATOR_INTERFACE: &str = "org.tarsal.Chair1.Actuator";
/// Actuator objects live under this path.
pub const ACTUATORS_PATH: &str = "/org/tarsal/Chair1/actuators";

/// Which bus to use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bus {
    /// The system bus (production).
    System,
    /// The user's session bus (development).
    Session,
    /// A bus at an explicit address (tests, private buses).
    Address(String),
}

impl Bus {
    /// `system`, `session`, or an address such as `unix:path=/run/x`.
    pub fn parse(text: &str) -> Self {
        match text {
            "system" => Self::System,
            "session" => Self::Session,
            other => Self::Address(other.to_owned()),
        }
    }

    pub fn builder(&self) -> zbus::Result<zbus::connection::Builder<'_>> {
        Ok(match self {
            Self::System => zbus::connection::Builder::system(),
            Self::Session => zbus::connection::Builder::session(),
            Self::Address(a) => zbus::connection::Builder::address(a.as_str()),
        })
    }

    /// A client connection.
    pub async fn connect(&self) -> zbus::Result<zbus::Connection> {
        self.builder()?.build().await
    }
}

impl std::fmt::Display for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::System => f.write_str("the system bus"),
            Self::Session => f.write_str("the session bus"),
            Self::Address(a) => write!(f, "the bus at {a}"),
        }
    }
}
