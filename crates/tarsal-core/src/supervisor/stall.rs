//! The stall monitor: a blocked roller motor, or a carriage that does not
//! move when told to.

use crate::event::StallCause;
use crate::model::{FootRollerCommand, FootSensors};
use crate::profile::FootRollerSpec;
use crate::units::Percent;
use std::time::Duration;

/// Watches one foot roller for a blocked motor or a carriage that does not move.
#[derive(Clone, Debug, Default)]
pub(super) struct StallMonitor {
    over_since: Option<Duration>,
    expected: f64,
    moved: f64,
    last_position: Option<f64>,
}

/// Travel (in % of the sole) after which the carriage must have visibly moved.
const STALL_TRAVEL_CHECK: f64 = 5.0;

impl StallMonitor {
    pub(super) fn check(
        &mut self,
        spec: &FootRollerSpec,
        now: Duration,
        dt: Duration,
        sensors: &FootSensors,
        prev: &FootRollerCommand,
    ) -> Option<StallCause> {
        if sensors.motor_current > spec.stall_current {
            let since = *self.over_since.get_or_insert(now);
            if now.saturating_sub(since) >= spec.stall_time {
                return Some(StallCause::Overcurrent {
                    current: sensors.motor_current,
                    limit: spec.stall_current,
                });
            }
        } else {
            self.over_since = None;
        }

        let position = sensors.carriage_position.0;
        let last = self.last_position.replace(position).unwrap_or(position);
        let travelling = prev.travel_speed.0 > 0.0 && (prev.position.0 - position).abs() > 1.0;
        if travelling {
            self.expected += prev.travel_speed.0 * dt.as_secs_f64();
            self.moved += (position - last).abs();
            if self.expected >= STALL_TRAVEL_CHECK {
                if self.moved < 0.25 * self.expected {
                    return Some(StallCause::NoMovement {
                        expected: Percent(self.expected),
                        moved: Percent(self.moved),
                    });
                }
                self.expected = 0.0;
                self.moved = 0.0;
            }
        } else {
            self.expected = 0.0;
            self.moved = 0.0;
        }
        None
    }
}
