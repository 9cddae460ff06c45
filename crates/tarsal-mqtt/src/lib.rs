//! The chair on MQTT, for operators: who watch many chairs from a dashboard
//! (or Home Assistant) and may stop them remotely.
//!
//! Topics live under `<prefix>/<chair-id>/` (default prefix `tarsal`):
//! `availability` (retained, with a last will), `state` (retained JSON on
//! change), `telemetry` (JSON at a fixed rate), `events` (QoS 1, from the
//! database's outbox, none lost), and `cmd/<verb>` for commands, answered on
//! the MQTT 5 response topic. `docs/mqtt.md` is the contract.
//!
//! The pure parts — [`settings`], [`topics`], [`payload`], [`command`]
//! parsing, [`discovery`] documents and [`outbox`] bookkeeping — do no I/O;
//! [`adapter`] connects them to a broker (rumqttc), the control loop
//! (`ChairHandle`) and the database.

// The control path: no unwrap, expect or panic outside tests; errors are
// values that reach the caller (docs/ARCHITECTURE.md, "Lints").
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod adapter;
pub mod command;
pub mod discovery;
pub mod outbox;
pub mod payload;
pub mod settings;
pub mod topics;

pub use adapter::{Adapter, AdapterError, Prepared, Task, prepare};
pub use settings::{Broker, ChairId, Settings, SettingsError};
