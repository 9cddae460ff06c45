//! The boundary to the chair's I/O. The simulator implements it today; real
//! backends (GPIO, a motor board on a serial bus) implement it later. The
//! control loop is its only caller.

use crate::model::{Outputs, SensorReadings};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HardwareError(pub String);

/// The chair's I/O.
pub trait Hardware: Send {
    /// Reads every sensor. `now` is the engine clock (a simulator advances its
    /// physics to it; real hardware ignores it).
    fn read(&mut self, now: Duration) -> Result<SensorReadings, HardwareError>;

    /// Drives every actuator. Heater outputs must be refreshed by a write at
    /// least every hold time, or the backend switches them off by itself.
    fn write(&mut self, now: Duration, outputs: &Outputs) -> Result<(), HardwareError>;

    /// The backend's most direct way to cut power to the actuators, usable
    /// from any thread (the watchdog uses it when the loop itself hangs).
    fn kill_switch(&self) -> Arc<dyn KillSwitch>;
}

/// Cuts power to every actuator, independently of the normal output path.
pub trait KillSwitch: Send + Sync {
    /// Cut power now. Must not block or fail.
    fn trip(&self);
    /// Restore power (after the cause was cleared and the chair reset).
    fn rearm(&self);
    fn is_tripped(&self) -> bool;
}
