//! The `org.tarsal.Chair1` service, inside `tarsald`. Clients need only
//! `tarsal-dbus` (names, types, proxies), which carries none of this.
//!
//! Objects:
//! - `/org/tarsal/Chair1`: `org.tarsal.Chair1` (state, programs, sessions),
//!   `org.tarsal.Chair1.Service` (a technician's service mode),
//!   `org.tarsal.Chair1.Simulator` (fault injection, on a simulated chair
//!   only);
//! - `/org/tarsal/Chair1/actuators`: `org.freedesktop.DBus.ObjectManager`;
//! - `/org/tarsal/Chair1/actuators/<id>`: `org.tarsal.Chair1.Actuator`, one
//!   per fitted actuator.
//!
//! Methods go to the control loop through the `ChairHandle`; nothing here
//! touches hardware. A mirror task copies the loop's status into the
//! properties (emitting PropertiesChanged for what changed: discrete values at
//! once, continuous ones at most ten times a second) and turns the loop's
//! events into signals.

// The control path: no unwrap, expect or panic outside tests; errors are
// values that reach the caller (docs/ARCHITECTURE.md, "Lints").
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod actuator;
mod chair;
pub mod error;
mod mirror;
mod options;

use actuator::Actuator;
use chair::{Chair1, Service, Simulator};
pub use error::ChairError;
use std::path::PathBuf;
use std::sync::Arc;
use tarsal_core::ChairProfile;
use tarsal_dbus::Bus;
use tarsal_runtime::ChairHandle;
use tarsal_sim::SimHandle;
use tarsal_store::Written;
use zbus::fdo::ObjectManager;

/// Where history calls read, and how they wait for events still on their way
/// to the disk (so a client never misses an event it has already been told of).
#[derive(Clone)]
pub struct History {
    pub path: PathBuf,
    pub written: Arc<Written>,
}

/// What the service needs.
pub struct ServeOptions {
    pub handle: ChairHandle,
    pub profile: Arc<ChairProfile>,
    /// The service's database, for history calls (events, sanitation log).
    pub database: Option<History>,
    /// The simulated chair, when there is one (enables fault injection).
    pub simulator: Option<SimHandle>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "cannot serve {name} on {bus}: {source} (is the bus running, and may this user own the name? see deploy/dbus/)",
        name = tarsal_dbus::NAME
    )]
    Connect {
        bus: String,
        #[source]
        source: zbus::Error,
    },
}

/// Connects to `bus`, takes the name, serves every object, and starts the
/// mirror task on the current tokio runtime. Keep the connection alive for as
/// long as the service should answer.
pub async fn serve(bus: &Bus, options: ServeOptions) -> Result<zbus::Connection, ServeError> {
    let connect_err = |source| ServeError::Connect {
        bus: bus.to_string(),
        source,
    };
    let initial = options.handle.status();
    let view = Arc::new(std::sync::Mutex::new(chair::View::of(&initial)));
    let (catch_up, catch_up_requests) = tokio::sync::mpsc::unbounded_channel();
    let mut builder = bus
        .builder()
        .map_err(connect_err)?
        .name(tarsal_dbus::NAME)
        .serve_at(
            tarsal_dbus::PATH,
            Chair1::new(
                options.handle.clone(),
                options.database.clone(),
                &options.profile,
                Arc::clone(&view),
                catch_up,
            ),
        )
        .serve_at(tarsal_dbus::PATH, Service::new(options.handle.clone()));
    if let Some(sim) = options.simulator.clone() {
        builder = builder.serve_at(tarsal_dbus::PATH, Simulator::new(sim));
    }
    let actuators = actuator::fitted(&options.profile);
    // The manager sits on the actuators' own node, so it lists exactly the
    // actuators (zbus would also list this node, empty, from one level up).
    builder = builder.serve_at(tarsal_dbus::ACTUATORS_PATH, ObjectManager);
    for id in &actuators {
        builder = builder.serve_at(
            actuator::path(*id),
            Actuator::new(*id, options.handle.clone(), &initial),
        );
    }
    let connection = builder.build().await.map_err(connect_err)?;
    tokio::spawn(mirror::run(
        connection.clone(),
        options.handle,
        actuators,
        view,
        catch_up_requests,
    ));
    Ok(connection)
}
