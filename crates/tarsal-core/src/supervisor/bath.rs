//! The bath monitor: fills that do not fill, drains that do not drain,
//! leaks, and inflow with the valve closed.

use crate::event::Fault;
use crate::model::{Outputs, SensorReadings};
use crate::profile::BathSpec;
use crate::units::Litres;
use std::time::Duration;

/// Watches the water level for fills that do not fill, drains that do not
/// drain, leaks and inflow with the valve closed.
#[derive(Clone, Debug, Default)]
pub(super) struct BathMonitor {
    /// The fill valve has been open since.
    fill_since: Option<Duration>,
    /// Level and time the current fill last made progress.
    fill_progress: Option<(Litres, Duration)>,
    drain_progress: Option<(Litres, Duration)>,
    /// Last time the valve, the drain or the feet changed.
    last_change: Option<Duration>,
    /// Level once settled after the last change.
    settled_level: Option<Litres>,
    last_state: (bool, bool, bool),
}

impl BathMonitor {
    pub(super) fn check(
        &mut self,
        b: &BathSpec,
        now: Duration,
        sensors: &SensorReadings,
        prev: &Outputs,
    ) -> Option<Fault> {
        let level = sensors.water_level;
        if sensors.leak_detected {
            return Some(Fault::LeakDetected);
        }
        if level > b.overflow_level {
            return Some(Fault::Overfill {
                level,
                limit: b.overflow_level,
            });
        }

        if prev.fill_valve_open {
            let since = *self.fill_since.get_or_insert(now);
            if now.saturating_sub(since) >= b.fill_timeout {
                return Some(Fault::FillTimeout {
                    level,
                    after: b.fill_timeout,
                });
            }
            let (from, at) = *self.fill_progress.get_or_insert((level, now));
            if level.0 >= from.0 + b.fill_check_rise.0 {
                self.fill_progress = Some((level, now));
            } else if now.saturating_sub(at) >= b.fill_check_window {
                return Some(Fault::FillNoFlow {
                    level,
                    window: b.fill_check_window,
                });
            }
        } else {
            self.fill_since = None;
            self.fill_progress = None;
        }

        if prev.drain_pump_on && !prev.fill_valve_open && level > b.empty_level {
            let (from, at) = *self.drain_progress.get_or_insert((level, now));
            if level.0 <= from.0 - b.drain_check_drop.0 {
                self.drain_progress = Some((level, now));
            } else if now.saturating_sub(at) >= b.drain_check_window {
                return Some(Fault::DrainBlocked {
                    level,
                    window: b.drain_check_window,
                });
            }
        } else {
            self.drain_progress = None;
        }

        let state = (
            prev.fill_valve_open,
            prev.drain_pump_on,
            sensors.feet_present,
        );
        if self.last_change.is_none() || state != self.last_state {
            self.last_change = Some(now);
            self.settled_level = None;
            self.last_state = state;
        }
        let quiet = !prev.fill_valve_open && !prev.drain_pump_on;
        let settled = self
            .last_change
            .is_some_and(|t| now.saturating_sub(t) >= b.settle_time);
        if quiet && settled {
            let reference = *self.settled_level.get_or_insert(level);
            if level.0 < reference.0 - b.leak_drop.0 {
                return Some(Fault::LevelDrop {
                    dropped: reference - level,
                });
            }
            if level.0 > reference.0 + b.inflow_rise.0 {
                return Some(Fault::UnexpectedInflow {
                    risen: level - reference,
                });
            }
        }
        None
    }
}
