//! The chair's touch panel for salon staff.
//!
//! `tarsal-panel` serves a web app on localhost for the kiosk browser on the
//! chair's screen (or a tablet at the station). It is a D-Bus client of
//! `tarsald`, nothing more: it never touches hardware, and the service
//! enforces every safety rule whatever the panel asks.
//!
//! - [`live`] follows the chair's properties and events on D-Bus;
//! - [`api`] is the HTTP API the page calls, and the live stream (SSE);
//! - [`pin`] guards technician functions behind a staff PIN;
//! - [`assets`] holds the page and its translations, compiled in.

pub mod api;
pub mod assets;
pub mod guard;
pub mod limits;
pub mod live;
pub mod pin;
pub mod secret;
