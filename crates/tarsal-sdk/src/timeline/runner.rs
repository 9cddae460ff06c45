//! The runner: plays a timeline one tick at a time, turning each step's
//! patterns into requests.

use super::limiter::{limit_calf, limit_foot, off, still};
use super::vocabulary::*;
use super::{ARRIVED, HOLD_GRACE, LEVEL_MARGIN};
use crate::{
    BathCommand, FootCommand, HeatCommand, Limits, NodeMotion, Request, Status, TickInput,
    TickOutput,
};
use std::time::Duration;

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) enum PointPhase {
    #[default]
    Travel,
    /// Pressing; the hold starts counting once full pressure is reached.
    Press {
        full_since: Option<Duration>,
    },
    Release {
        since: Duration,
    },
}

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct SideState {
    /// Heading for `to` (rather than back to `from`).
    returning: bool,
    point: usize,
    phase: PointPhase,
}

/// Plays a [`Timeline`] tick by tick.
#[derive(Clone, Debug)]
pub struct Runner {
    timeline: Timeline,
    index: usize,
    step_started: Duration,
    confirmations_at_step: Option<u32>,
    sides: [SideState; 2],
    filling: bool,
}

impl Runner {
    /// A runner at the start of `timeline`.
    pub fn new(timeline: Timeline) -> Self {
        Self {
            timeline,
            index: 0,
            step_started: Duration::ZERO,
            confirmations_at_step: None,
            sides: [SideState::default(); 2],
            filling: false,
        }
    }

    /// The timeline it plays.
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// Index of the current step.
    pub fn step(&self) -> usize {
        self.index
    }

    /// The answer for one tick.
    pub fn tick(&mut self, input: &TickInput) -> TickOutput {
        let now = Duration::from_millis(input.elapsed_ms);
        if self.confirmations_at_step.is_none() {
            self.confirmations_at_step = Some(input.staff_confirmations);
        }
        while let Some(step) = self.timeline.steps.get(self.index) {
            let t = now.saturating_sub(self.step_started);
            if !self.step_done(step, t, input) {
                break;
            }
            self.index += 1;
            self.step_started = now;
            self.confirmations_at_step = Some(input.staff_confirmations);
            self.sides = [SideState::default(); 2];
            self.filling = false;
        }
        // The timeline is set aside while the step computes its request, so
        // the step is borrowed rather than cloned every tick.
        let timeline = std::mem::take(&mut self.timeline);
        let Some(step) = timeline.steps.get(self.index) else {
            self.timeline = timeline;
            return TickOutput {
                request: off(),
                step: self.timeline.steps.len().saturating_sub(1) as u32,
                progress: 1.0,
                remaining_ms: Some(0),
                status: Status::Finished,
            };
        };
        let t = now.saturating_sub(self.step_started);
        let request = self.request(step, now, t, input);

        let total = timeline.expected_duration();
        let before: Duration = timeline.steps[..self.index]
            .iter()
            .map(|s| s.length.expected())
            .sum();
        let done = before + t.min(step.length.expected());
        let progress = if total.is_zero() {
            0.0
        } else {
            (done.as_secs_f64() / total.as_secs_f64()).clamp(0.0, 0.999)
        };
        let status = if step.staff_action.is_some() {
            Status::AwaitingStaff
        } else {
            Status::Running
        };
        self.timeline = timeline;
        TickOutput {
            request,
            step: self.index as u32,
            progress,
            remaining_ms: Some(total.saturating_sub(done).as_millis() as u64),
            status,
        }
    }

    fn step_done(&self, step: &Step, t: Duration, input: &TickInput) -> bool {
        let s = &input.sensors;
        match step.length {
            Length::For(d) => t >= d,
            Length::ForWholeHolds(d) => {
                // Holds only progress while feet are on the footrest.
                let pressing = s.feet_present
                    && self
                        .sides
                        .iter()
                        .any(|side| matches!(side.phase, PointPhase::Press { .. }));
                t >= d + HOLD_GRACE || (t >= d && !pressing)
            }
            Length::UntilLevel { litres, max, .. } => {
                let target = litres.min(input.limits.bath_max_level_l - LEVEL_MARGIN);
                !input.bath || s.water_level_l >= target || t >= max
            }
            Length::UntilWarm { celsius, max, .. } => {
                let target = celsius.min(input.limits.water_setpoint_max_c);
                !input.bath || !input.heat || s.water_c >= target - 0.3 || t >= max
            }
            Length::UntilDrained { max, .. } => s.water_level_l <= 0.3 || t >= max,
            Length::UntilConfirmed { .. } => {
                input.staff_confirmations > self.confirmations_at_step.unwrap_or(u32::MAX)
            }
        }
    }

    fn request(&mut self, step: &Step, now: Duration, t: Duration, input: &TickInput) -> Request {
        let l = &input.limits;
        let s = &input.sensors;
        let dt = f64::from(input.dt_ms) / 1000.0;
        let mut r = off();
        if s.feet_present {
            let feet_applied = [input.applied.left_foot, input.applied.right_foot];
            let positions = [s.left_foot.position_pct, s.right_foot.position_pct];
            let mut feet = [FootCommand { ..r.left_foot }; 2];
            for i in 0..2 {
                let raw = self.foot(
                    i,
                    &step.feet,
                    now,
                    t,
                    positions[i],
                    feet_applied[i].pressure_pct,
                    l,
                );
                feet[i] = limit_foot(raw, feet_applied[i].pressure_pct, l, dt);
            }
            r.left_foot = feet[0];
            r.right_foot = feet[1];
            let cells = calf_targets(&step.calves, t, l);
            r.left_calf = limit_calf(cells, &input.applied.left_calf, l, dt);
            r.right_calf = limit_calf(cells, &input.applied.right_calf, l, dt);
        }
        let water_ok = input.bath && s.water_level_l > l.bath_min_level_l + LEVEL_MARGIN;
        if input.heat {
            r.heat = HeatCommand {
                sole_c: step.heat.sole_c.map(|c| c.min(l.sole_pad_setpoint_max_c)),
                calf_c: step.heat.calf_c.map(|c| c.min(l.calf_pad_setpoint_max_c)),
                water_c: step
                    .heat
                    .water_c
                    .filter(|_| water_ok)
                    .map(|c| c.min(l.water_setpoint_max_c)),
            };
        }
        r.bath = self.bath(&step.bath, input);
        r
    }

    #[allow(clippy::too_many_arguments)]
    fn foot(
        &mut self,
        side: usize,
        feet: &Feet,
        now: Duration,
        t: Duration,
        position: f64,
        applied_pressure: f64,
        l: &Limits,
    ) -> FootCommand {
        let ceiling = l.foot_pressure_ceiling_pct;
        let st = &mut self.sides[side];
        let mut c = FootCommand {
            position_pct: position.clamp(0.0, 100.0),
            ..still()
        };
        match feet {
            Feet::Rest => {}
            Feet::Stroke {
                from,
                to,
                pressure,
                speed,
                release_on_return,
            } => {
                let target = sweep(st, *from, *to, position);
                c.position_pct = target;
                c.travel_speed_pct_s = speed * l.travel_speed_max_pct_s;
                // One-way strokes press only while really travelling from →
                // to: not on the way back, and not when a step begins with
                // the carriage beyond `to` and it first has to come back.
                let going_forward = !st.returning && (to - position) * (to - from) >= 0.0;
                c.pressure_pct = if *release_on_return && !going_forward {
                    0.0
                } else {
                    pressure.resolve(ceiling)
                };
            }
            Feet::Knead {
                from,
                to,
                pressure_from,
                pressure_to,
                speed,
                rate,
            } => {
                c.position_pct = sweep(st, *from, *to, position);
                c.travel_speed_pct_s = speed * l.travel_speed_max_pct_s;
                let along = if (to - from).abs() < f64::EPSILON {
                    1.0
                } else {
                    ((position - from) / (to - from)).clamp(0.0, 1.0)
                };
                let (a, b) = (pressure_from.resolve(ceiling), pressure_to.resolve(ceiling));
                c.pressure_pct = a + (b - a) * along;
                c.motion = NodeMotion::Knead;
                c.motion_rate_hz = rate * l.knead_rate_max_hz;
            }
            Feet::Zones {
                zones,
                each,
                pressure,
                rate,
            } => {
                if let Some(&zone) = zones.get(cycle_index(t, *each, zones.len())) {
                    c.position_pct = zone;
                    c.travel_speed_pct_s = 0.8 * l.travel_speed_max_pct_s;
                    let there = (position - zone).abs() <= 2.0 * ARRIVED;
                    c.pressure_pct = pressure.resolve(ceiling) * if there { 1.0 } else { 0.3 };
                    c.motion = NodeMotion::Knead;
                    c.motion_rate_hz = rate * l.knead_rate_max_hz;
                }
            }
            Feet::Points {
                points,
                pressure,
                pause,
                speed,
            } => {
                if let Some(point) = points.get(st.point % points.len().max(1)).copied() {
                    let full = pressure.resolve(ceiling);
                    c.position_pct = point.at;
                    c.travel_speed_pct_s = speed * l.travel_speed_max_pct_s;
                    match st.phase {
                        PointPhase::Travel => {
                            if (position - point.at).abs() <= ARRIVED {
                                st.phase = PointPhase::Press { full_since: None };
                            }
                        }
                        PointPhase::Press { full_since } => {
                            c.travel_speed_pct_s = 0.0;
                            c.pressure_pct = full;
                            match full_since {
                                None if applied_pressure >= 0.98 * full => {
                                    st.phase = PointPhase::Press {
                                        full_since: Some(now),
                                    };
                                }
                                Some(since) if now.saturating_sub(since) >= point.hold => {
                                    st.phase = PointPhase::Release { since: now };
                                    c.pressure_pct = 0.0;
                                }
                                _ => {}
                            }
                        }
                        PointPhase::Release { since } => {
                            c.travel_speed_pct_s = 0.0;
                            if now.saturating_sub(since) >= *pause {
                                st.point = (st.point + 1) % points.len();
                                st.phase = PointPhase::Travel;
                            }
                        }
                    }
                }
            }
            Feet::Vibrate {
                from,
                to,
                pressure,
                speed,
                rate,
            } => {
                c.position_pct = sweep(st, *from, *to, position);
                c.travel_speed_pct_s = speed * l.travel_speed_max_pct_s;
                c.pressure_pct = pressure.resolve(ceiling);
                c.motion = NodeMotion::Vibrate;
                c.motion_rate_hz = rate * l.vibrate_rate_max_hz;
            }
        }
        c
    }

    fn bath(&mut self, bath: &Bath, input: &TickInput) -> BathCommand {
        let l = &input.limits;
        let level = input.sensors.water_level_l;
        let mut b = BathCommand {
            fill: false,
            drain: bath.drain,
            jets_pct: 0.0,
        };
        if !input.bath {
            return b;
        }
        if let Some(target) = bath.fill_to_l {
            let target = target.min(l.bath_max_level_l - LEVEL_MARGIN);
            if level >= target {
                self.filling = false;
            } else if level < target - 1.0 || self.filling {
                self.filling = true;
            }
            b.fill = self.filling;
        }
        if level > l.bath_min_level_l + LEVEL_MARGIN {
            b.jets_pct = bath.jets * 100.0;
        }
        b
    }
}

/// The target of a back-and-forth sweep, turning at each end.
pub(super) fn sweep(st: &mut SideState, from: f64, to: f64, position: f64) -> f64 {
    let target = if st.returning { from } else { to };
    if (position - target).abs() <= ARRIVED {
        st.returning = !st.returning;
        if st.returning { from } else { to }
    } else {
        target
    }
}

pub(super) fn cycle_index(t: Duration, each: Duration, len: usize) -> usize {
    if len == 0 || each.is_zero() {
        return 0;
    }
    (t.as_millis() / each.as_millis()) as usize % len
}

/// Cell pressures (ankle, mid, upper) and kneading speed share for a pattern.
pub(super) fn calf_targets(calves: &Calves, t: Duration, l: &Limits) -> ([f64; 3], f64) {
    let ceiling = l.cell_pressure_ceiling_pct;
    match calves {
        Calves::Rest => ([0.0; 3], 0.0),
        Calves::Wave {
            pressure,
            inflate,
            hold,
            release,
        } => {
            let cycle = *inflate * 3 + *hold + *release;
            if cycle.is_zero() {
                return ([0.0; 3], 0.0);
            }
            let tc = Duration::from_millis((t.as_millis() % cycle.as_millis()) as u64);
            let p = pressure.resolve(ceiling);
            let mut cells = [0.0; 3];
            for (i, cell) in cells.iter_mut().enumerate() {
                if tc >= *inflate * i as u32 && tc < *inflate * 3 + *hold {
                    *cell = p;
                }
            }
            (cells, 0.0)
        }
        Calves::Climb {
            pressure,
            each,
            kneading,
        } => {
            let mut cells = [0.0; 3];
            cells[cycle_index(t, *each, 3)] = pressure.resolve(ceiling);
            (cells, *kneading)
        }
        Calves::Pulse {
            cell,
            pressure,
            period,
        } => {
            let mut cells = [0.0; 3];
            let on =
                !period.is_zero() && (t.as_millis() % period.as_millis()) < period.as_millis() / 2;
            if on {
                cells[*cell as usize] = pressure.resolve(ceiling);
            }
            (cells, 0.0)
        }
        Calves::Knead { kneading, pressure } => ([pressure.resolve(ceiling); 3], *kneading),
    }
}
