//! Closed-loop heater control and heater plausibility checks.
//!
//! The checks follow Klipper's `verify_heater` and Marlin's thermal runaway
//! protection, plus one they lack:
//! - *rise*: while approaching the setpoint and driven, the temperature must gain
//!   `verify_rise` within `verify_window`;
//! - *band*: once reached, it may not stay more than `band` below the setpoint
//!   for longer than `band_time`;
//! - *response*: driven at `response_duty` or more for a whole
//!   `response_window`, it must gain `response_rise` — whatever the setpoint.
//!   This catches a sensor that fell off its heater near room temperature, where
//!   the first two checks believe the target is already reached.

use crate::event::Fault;
use crate::model::HeaterId;
use crate::profile::HeaterSpec;
use crate::units::{Celsius, Percent};
use std::time::Duration;

/// A PI controller producing heater power from a setpoint and a reading.
#[derive(Clone, Debug, Default)]
pub struct HeaterControl {
    integral: f64,
}

impl HeaterControl {
    /// Power for this tick; `None` setpoint switches off and clears the integral.
    pub fn power(
        &mut self,
        spec: &HeaterSpec,
        setpoint: Option<Celsius>,
        reading: Celsius,
        dt: Duration,
    ) -> Percent {
        let Some(setpoint) = setpoint else {
            self.integral = 0.0;
            return Percent::ZERO;
        };
        let error = setpoint.0 - reading.0;
        if !error.is_finite() {
            self.integral = 0.0;
            return Percent::ZERO;
        }
        // Anti-windup: integrate only while the output is not saturated in
        // the direction the error pushes, so a long warm-up at full power
        // does not store up heat that overshoots the setpoint later.
        let proportional = spec.proportional * error;
        let unclamped = proportional + self.integral;
        let saturated = (unclamped >= 100.0 && error > 0.0) || (unclamped <= 0.0 && error < 0.0);
        if !saturated {
            self.integral =
                (self.integral + spec.integral * error * dt.as_secs_f64()).clamp(0.0, 100.0);
        }
        Percent((proportional + self.integral).clamp(0.0, 100.0))
    }

    /// Clears the integral term.
    pub fn reset(&mut self) {
        self.integral = 0.0;
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    Off,
    /// Heating toward the setpoint; the rise is measured from `from` at `since`.
    Approach {
        from: Celsius,
        since: Duration,
    },
    /// The setpoint was reached; `below_since` is when it last fell out of band.
    Holding {
        below_since: Option<Duration>,
    },
}

/// One bucket of the response window: how long the heater was driven at or
/// above the response duty, and the temperature when the bucket began.
#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    driven: Duration,
    length: Duration,
    start_temp: f64,
}

const BUCKET: Duration = Duration::from_secs(1);

/// What a heater did over the tick that just ended.
#[derive(Clone, Copy, Debug)]
pub struct HeaterSample {
    /// The setpoint in force after interlocks; `None` when the heater is off.
    pub setpoint: Option<Celsius>,
    /// The temperature measured.
    pub reading: Celsius,
    /// The power applied during the tick.
    pub power: Percent,
    /// Something else moves the temperature (cold water flowing in).
    pub disturbed: bool,
}

/// Plausibility state of one heater.
#[derive(Clone, Debug)]
pub struct HeaterMonitor {
    heater: HeaterId,
    phase: Phase,
    last_setpoint: Option<Celsius>,
    buckets: Vec<Bucket>,
    /// Index of the bucket being filled.
    head: usize,
    filled: usize,
}

impl HeaterMonitor {
    /// A monitor for `heater`, its response window sized from `spec`.
    pub fn new(heater: HeaterId, spec: &HeaterSpec) -> Self {
        let count = (spec.response_window.as_secs_f64() / BUCKET.as_secs_f64()).ceil() as usize;
        Self {
            heater,
            phase: Phase::Off,
            last_setpoint: None,
            buckets: vec![Bucket::default(); count.max(1) + 1],
            head: 0,
            filled: 0,
        }
    }

    /// Forgets the heater's history: phase, last setpoint and response window.
    pub fn reset(&mut self) {
        self.phase = Phase::Off;
        self.last_setpoint = None;
        self.clear_response();
    }

    fn clear_response(&mut self) {
        self.head = 0;
        self.filled = 0;
        self.buckets.iter_mut().for_each(|b| *b = Bucket::default());
    }

    /// Checks one tick.
    pub fn check(
        &mut self,
        spec: &HeaterSpec,
        now: Duration,
        dt: Duration,
        sample: HeaterSample,
    ) -> Option<Fault> {
        let HeaterSample {
            setpoint,
            reading,
            power,
            disturbed,
        } = sample;
        let Some(sp) = setpoint else {
            self.reset();
            return None;
        };
        let t = reading.0;
        let driven = power.0 >= 50.0;

        // Rise and band checks.
        let raised = self
            .last_setpoint
            .is_none_or(|old| sp.0 > old.0 + spec.band.0);
        self.last_setpoint = Some(sp);
        if raised && t < sp.0 - spec.band.0 {
            self.phase = Phase::Approach {
                from: reading,
                since: now,
            };
        }
        match self.phase {
            Phase::Off => {
                self.phase = Phase::Approach {
                    from: reading,
                    since: now,
                };
            }
            Phase::Approach { from, since } => {
                if t >= sp.0 - spec.band.0 {
                    self.phase = Phase::Holding { below_since: None };
                } else if !driven || disturbed {
                    // Not heating hard (interlocked, or already near) or disturbed: start over.
                    self.phase = Phase::Approach {
                        from: reading,
                        since: now,
                    };
                } else if t >= from.0 + spec.verify_rise.0 {
                    self.phase = Phase::Approach {
                        from: reading,
                        since: now,
                    };
                } else if now.saturating_sub(since) >= spec.verify_window {
                    return Some(Fault::HeaterNoRise {
                        heater: self.heater,
                        gained: Celsius(t - from.0),
                        needed: spec.verify_rise,
                        window: spec.verify_window,
                    });
                }
            }
            Phase::Holding { below_since } => {
                if t < sp.0 - spec.band.0 && !disturbed {
                    let since = below_since.unwrap_or(now);
                    self.phase = Phase::Holding {
                        below_since: Some(since),
                    };
                    if now.saturating_sub(since) >= spec.band_time {
                        return Some(Fault::HeaterOutOfBand {
                            heater: self.heater,
                            reading,
                            setpoint: sp,
                            time: spec.band_time,
                        });
                    }
                } else {
                    self.phase = Phase::Holding { below_since: None };
                }
            }
        }

        // Response check over a sliding window of one-second buckets.
        if disturbed {
            self.clear_response();
            return None;
        }
        let bucket = &mut self.buckets[self.head];
        if bucket.length.is_zero() {
            bucket.start_temp = t;
        }
        bucket.length += dt;
        if power.0 >= spec.response_duty.0 {
            bucket.driven += dt;
        }
        if bucket.length >= BUCKET {
            self.head = (self.head + 1) % self.buckets.len();
            self.filled = (self.filled + 1).min(self.buckets.len() - 1);
            self.buckets[self.head] = Bucket::default();
            if self.filled == self.buckets.len() - 1 {
                // The oldest complete bucket is right after the head.
                let oldest = self.buckets[(self.head + 1) % self.buckets.len()];
                let (driven, length) = self
                    .buckets
                    .iter()
                    .fold((Duration::ZERO, Duration::ZERO), |(d, l), b| {
                        (d + b.driven, l + b.length)
                    });
                let always_driven = driven.as_secs_f64() >= 0.98 * length.as_secs_f64();
                let gained = t - oldest.start_temp;
                if always_driven && gained < spec.response_rise.0 {
                    return Some(Fault::HeaterNoResponse {
                        heater: self.heater,
                        gained: Celsius(gained),
                        window: spec.response_window,
                    });
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ChairProfile;

    fn pad() -> HeaterSpec {
        ChairProfile::standard().heat_pads.sole.unwrap()
    }

    const DT: Duration = Duration::from_millis(100);

    /// Runs the monitor with a temperature trace given as a function of time.
    fn run(
        spec: &HeaterSpec,
        seconds: u64,
        setpoint: f64,
        power: impl Fn(f64) -> f64,
        temp: impl Fn(f64) -> f64,
    ) -> Option<(f64, Fault)> {
        let mut m = HeaterMonitor::new(HeaterId::SolePad, spec);
        let ticks = seconds * 10;
        for i in 0..=ticks {
            let now = DT * i as u32;
            let t = now.as_secs_f64();
            let sample = HeaterSample {
                setpoint: Some(Celsius(setpoint)),
                reading: Celsius(temp(t)),
                power: Percent(power(temp(t))),
                disturbed: false,
            };
            if let Some(f) = m.check(spec, now, DT, sample) {
                return Some((t, f));
            }
        }
        None
    }

    #[test]
    fn a_heater_that_warms_up_passes() {
        let spec = pad();
        assert!(
            run(
                &spec,
                600,
                40.0,
                |temp| if temp < 39.5 { 100.0 } else { 30.0 },
                |t| (22.0 + 0.13 * t).min(40.0)
            )
            .is_none()
        );
    }

    #[test]
    fn a_dead_heater_fails_the_rise_check_after_the_window() {
        let spec = pad();
        let (at, fault) = run(&spec, 600, 40.0, |_| 100.0, |_| 22.0).unwrap();
        assert!(matches!(fault, Fault::HeaterNoRise { .. }), "{fault:?}");
        assert!((at - spec.verify_window.as_secs_f64()).abs() < 0.2, "{at}");
    }

    #[test]
    fn a_heater_that_cannot_hold_fails_the_band_check() {
        let spec = pad();
        // Reaches 40, then sags to 35 and stays there.
        let (at, fault) = run(
            &spec,
            600,
            40.0,
            |_| 60.0,
            |t| if t < 100.0 { 40.0 } else { 35.0 },
        )
        .unwrap();
        assert!(matches!(fault, Fault::HeaterOutOfBand { .. }), "{fault:?}");
        assert!(at >= 100.0 + spec.band_time.as_secs_f64() - 0.2, "{at}");
    }

    #[test]
    fn a_sensor_off_its_heater_near_room_temperature_fails_the_response_check() {
        // Setpoint 24 °C in a 23 °C room: the reading is "in band", so rise and
        // band checks stay quiet; the heater runs flat out for nothing.
        let spec = pad();
        let (at, fault) = run(&spec, 600, 24.0, |_| 100.0, |_| 23.0).unwrap();
        assert!(matches!(fault, Fault::HeaterNoResponse { .. }), "{fault:?}");
        let window = spec.response_window.as_secs_f64();
        assert!(at >= window - 0.5 && at <= window + 2.5, "{at}");
    }

    #[test]
    fn low_duty_holding_does_not_trip_the_response_check() {
        let spec = pad();
        assert!(run(&spec, 600, 24.0, |_| 30.0, |_| 23.5).is_none());
    }

    #[test]
    fn pi_control_is_bounded_and_off_without_setpoint() {
        let spec = pad();
        let mut c = HeaterControl::default();
        let p = c.power(&spec, Some(Celsius(40.0)), Celsius(20.0), DT);
        assert_eq!(p, Percent(100.0));
        let p = c.power(&spec, Some(Celsius(40.0)), Celsius(60.0), DT);
        assert_eq!(p, Percent(0.0));
        assert_eq!(c.power(&spec, None, Celsius(20.0), DT), Percent::ZERO);
        assert_eq!(
            c.power(&spec, Some(Celsius(40.0)), Celsius(f64::NAN), DT),
            Percent::ZERO
        );
    }
}
