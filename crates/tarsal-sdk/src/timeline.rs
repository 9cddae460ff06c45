//! Programs as timelines of steps.
//!
//! A [`Timeline`] is a list of [`Step`]s. Each step has a title staff see, a
//! length (a duration, or a condition such as "until the bath is full"), and
//! what the feet, calves, heat and bath do meanwhile — as patterns
//! ([`Feet::strokes`], [`Feet::points`], [`Calves::wave`] …) rather than as
//! raw commands. A [`Runner`] plays the timeline one tick at a time and keeps
//! every request inside the chair's limits: pressure never above the ceiling
//! of the current intensity and never rising faster than the ramp allows,
//! speeds and rates within their maxima, no motion without feet, no heat or
//! jets without water. A program built on it is never clamped.
//!
//! Pressures are [`Pressure`] shares of the current intensity's ceiling, so the
//! client's intensity setting scales the whole program.

use crate::{
    BathCommand, CalfCommand, FootCommand, HeatCommand, Limits, NodeMotion, Request, Status,
    StepInfo, TickInput, TickOutput,
};
use std::time::Duration;

/// Share of the ramp limit the runner uses, leaving headroom for rounding.
const RAMP_HEADROOM: f64 = 0.9;
/// How close (in % of the sole) counts as "there".
const ARRIVED: f64 = 1.0;
/// Margin kept from the bath's level limits, in litres.
const LEVEL_MARGIN: f64 = 0.5;
/// How long a [`Length::ForWholeHolds`] step may run over its time to finish
/// a point hold (a ramp to full pressure plus the longest usual hold, with
/// room to spare); past it the step ends anyway.
const HOLD_GRACE: Duration = Duration::from_secs(20);

/// A pressure as a share (0–1) of the current intensity's ceiling, optionally
/// capped at an absolute percentage whatever the intensity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pressure {
    pub share: f64,
    pub cap_pct: f64,
}

impl Pressure {
    pub const NONE: Self = Self {
        share: 0.0,
        cap_pct: 0.0,
    };

    /// `share` (0–1) of the ceiling at the client's intensity.
    pub fn share(share: f64) -> Self {
        Self {
            share: share.clamp(0.0, 1.0),
            cap_pct: 100.0,
        }
    }

    /// Never more than `pct` %, whatever the intensity.
    pub fn at_most(self, pct: f64) -> Self {
        Self {
            cap_pct: pct.clamp(0.0, 100.0),
            ..self
        }
    }

    /// The pressure in % for a ceiling.
    pub fn resolve(self, ceiling_pct: f64) -> f64 {
        (self.share * ceiling_pct).min(self.cap_pct).max(0.0)
    }
}

/// A reflexology point: where, and how long to press once there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Carriage position (see [`crate::zones`]).
    pub at: f64,
    /// Time at full pressure.
    pub hold: Duration,
}

/// What both foot rollers do during a step.
#[derive(Clone, Debug, PartialEq)]
pub enum Feet {
    Rest,
    /// The carriage sweeps `from` → `to` and back with still nodes. With
    /// `release_on_return`, pressure is applied only going `from` → `to`
    /// (lymphatic strokes go one way only).
    Stroke {
        from: f64,
        to: f64,
        pressure: Pressure,
        /// Share (0–1) of the maximum travel speed.
        speed: f64,
        release_on_return: bool,
    },
    /// Kneading circles while the carriage travels slowly `from` → `to` and
    /// back; pressure goes from `pressure_from` at `from` to `pressure_to` at
    /// `to`.
    Knead {
        from: f64,
        to: f64,
        pressure_from: Pressure,
        pressure_to: Pressure,
        speed: f64,
        /// Share (0–1) of the maximum kneading rate.
        rate: f64,
    },
    /// Works zones one at a time, kneading at each for `each`.
    Zones {
        zones: Vec<f64>,
        each: Duration,
        pressure: Pressure,
        rate: f64,
    },
    /// Point holds: move to a point, press for its hold time, release for
    /// `pause`, go to the next; round again when done. Give the step a
    /// [`Length::ForWholeHolds`] so its last hold is not cut short.
    Points {
        points: Vec<Point>,
        pressure: Pressure,
        pause: Duration,
        speed: f64,
    },
    /// Vibration while the carriage travels `from` → `to` and back.
    Vibrate {
        from: f64,
        to: f64,
        pressure: Pressure,
        speed: f64,
        rate: f64,
    },
}

impl Feet {
    /// Strokes both ways with the same pressure.
    pub fn strokes(from: f64, to: f64, pressure: Pressure, speed: f64) -> Self {
        Self::Stroke {
            from,
            to,
            pressure,
            speed,
            release_on_return: false,
        }
    }

    /// Strokes that press only going `from` → `to` and release on the way back.
    pub fn one_way_strokes(from: f64, to: f64, pressure: Pressure, speed: f64) -> Self {
        Self::Stroke {
            from,
            to,
            pressure,
            speed,
            release_on_return: true,
        }
    }

    pub fn knead(from: f64, to: f64, pressure_from: Pressure, pressure_to: Pressure) -> Self {
        Self::Knead {
            from,
            to,
            pressure_from,
            pressure_to,
            speed: 0.15,
            rate: 0.7,
        }
    }

    pub fn zones(zones: &[f64], each: Duration, pressure: Pressure) -> Self {
        Self::Zones {
            zones: zones.to_vec(),
            each,
            pressure,
            rate: 0.7,
        }
    }

    pub fn points(points: &[Point], pressure: Pressure, pause: Duration) -> Self {
        Self::Points {
            points: points.to_vec(),
            pressure,
            pause,
            speed: 0.6,
        }
    }

    pub fn vibrate(from: f64, to: f64, pressure: Pressure) -> Self {
        Self::Vibrate {
            from,
            to,
            pressure,
            speed: 0.3,
            rate: 0.5,
        }
    }

    pub fn is_rest(&self) -> bool {
        matches!(self, Self::Rest)
    }
}

/// One of the three air cells of a calf unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    Ankle = 0,
    Mid = 1,
    Upper = 2,
}

/// What both calf units do during a step.
#[derive(Clone, Debug, PartialEq)]
pub enum Calves {
    Rest,
    /// The cells inflate in sequence ankle → mid → upper (each over
    /// `inflate`), all hold for `hold`, all release for `release`; repeat.
    Wave {
        pressure: Pressure,
        inflate: Duration,
        hold: Duration,
        release: Duration,
    },
    /// One cell at a time from the ankle up, `each` per cell, with the
    /// kneading rollers running.
    Climb {
        pressure: Pressure,
        each: Duration,
        /// Share (0–1) of the maximum kneading speed.
        kneading: f64,
    },
    /// One cell pulses: pressed for the first half of each period.
    Pulse {
        cell: Cell,
        pressure: Pressure,
        period: Duration,
    },
    /// Kneading rollers, with a light even pressure in all cells.
    Knead {
        kneading: f64,
        pressure: Pressure,
    },
}

impl Calves {
    pub fn wave(pressure: Pressure, inflate: Duration, hold: Duration, release: Duration) -> Self {
        Self::Wave {
            pressure,
            inflate,
            hold,
            release,
        }
    }

    pub fn is_rest(&self) -> bool {
        matches!(self, Self::Rest)
    }
}

/// Target temperatures during a step; `None` is off. Applied only when staff
/// allow heat, and never above the chair's maxima.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Heat {
    pub sole_c: Option<f64>,
    pub calf_c: Option<f64>,
    pub water_c: Option<f64>,
}

impl Heat {
    pub const OFF: Self = Self {
        sole_c: None,
        calf_c: None,
        water_c: None,
    };

    pub fn sole(self, celsius: f64) -> Self {
        Self {
            sole_c: Some(celsius),
            ..self
        }
    }

    pub fn calf(self, celsius: f64) -> Self {
        Self {
            calf_c: Some(celsius),
            ..self
        }
    }

    pub fn water(self, celsius: f64) -> Self {
        Self {
            water_c: Some(celsius),
            ..self
        }
    }
}

/// What the foot bath does during a step.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bath {
    /// Keep the water at this level (filled when it is a litre below).
    pub fill_to_l: Option<f64>,
    pub drain: bool,
    /// Share (0–1) of full jet power.
    pub jets: f64,
}

impl Bath {
    pub const IDLE: Self = Self {
        fill_to_l: None,
        drain: false,
        jets: 0.0,
    };

    pub fn fill_to(litres: f64) -> Self {
        Self {
            fill_to_l: Some(litres),
            ..Self::IDLE
        }
    }

    pub fn drain() -> Self {
        Self {
            drain: true,
            ..Self::IDLE
        }
    }

    pub fn jets(self, share: f64) -> Self {
        Self {
            jets: share.clamp(0.0, 1.0),
            ..self
        }
    }
}

/// How long a step lasts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Length {
    For(Duration),
    /// About this long, for steps of [`Feet::Points`]: once the time is up,
    /// the step ends as soon as no point is being pressed, so the last hold
    /// is never cut short (it may run over by a ramp and a hold). Without
    /// point holds in progress it ends on time, like [`Length::For`].
    ForWholeHolds(Duration),
    /// Until the water reaches `litres` (or `max` passes, or the bath is not allowed).
    UntilLevel {
        litres: f64,
        expected: Duration,
        max: Duration,
    },
    /// Until the water reaches `celsius` (or `max` passes, or heat or the bath is not allowed).
    UntilWarm {
        celsius: f64,
        expected: Duration,
        max: Duration,
    },
    /// Until the bath is empty (or `max` passes).
    UntilDrained {
        expected: Duration,
        max: Duration,
    },
    /// Until staff confirm the step's staff action on the panel.
    UntilConfirmed {
        expected: Duration,
    },
}

impl Length {
    /// How long the step is expected to take, for progress and estimates.
    pub fn expected(&self) -> Duration {
        match *self {
            Self::For(d) | Self::ForWholeHolds(d) => d,
            Self::UntilLevel { expected, .. }
            | Self::UntilWarm { expected, .. }
            | Self::UntilDrained { expected, .. }
            | Self::UntilConfirmed { expected } => expected,
        }
    }
}

/// One step of a program.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub title: String,
    pub staff_action: Option<String>,
    pub length: Length,
    pub feet: Feet,
    pub calves: Calves,
    pub heat: Heat,
    pub bath: Bath,
}

impl Step {
    /// A step of fixed length, everything at rest until set.
    pub fn new(title: &str, length: Duration) -> Self {
        Self::until(title, Length::For(length))
    }

    /// A step that lasts until a condition holds.
    pub fn until(title: &str, length: Length) -> Self {
        Self {
            title: title.to_owned(),
            staff_action: None,
            length,
            feet: Feet::Rest,
            calves: Calves::Rest,
            heat: Heat::OFF,
            bath: Bath::IDLE,
        }
    }

    /// A step where the chair waits for staff to do `instruction` and confirm.
    pub fn staff(title: &str, instruction: &str, expected: Duration) -> Self {
        Self {
            staff_action: Some(instruction.to_owned()),
            ..Self::until(title, Length::UntilConfirmed { expected })
        }
    }

    pub fn feet(self, feet: Feet) -> Self {
        Self { feet, ..self }
    }

    pub fn calves(self, calves: Calves) -> Self {
        Self { calves, ..self }
    }

    pub fn heat(self, heat: Heat) -> Self {
        Self { heat, ..self }
    }

    pub fn bath(self, bath: Bath) -> Self {
        Self { bath, ..self }
    }
}

/// A whole program as steps.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    pub steps: Vec<Step>,
}

impl Timeline {
    pub fn new(steps: Vec<Step>) -> Self {
        Self { steps }
    }

    /// The steps as the program describes them to the host.
    pub fn step_infos(&self) -> Vec<StepInfo> {
        self.steps
            .iter()
            .map(|s| StepInfo {
                title: s.title.clone(),
                staff_action: s.staff_action.clone(),
            })
            .collect()
    }

    /// The expected length of the whole program.
    pub fn expected_duration(&self) -> Duration {
        self.steps.iter().map(|s| s.length.expected()).sum()
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
enum PointPhase {
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
struct SideState {
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
fn sweep(st: &mut SideState, from: f64, to: f64, position: f64) -> f64 {
    let target = if st.returning { from } else { to };
    if (position - target).abs() <= ARRIVED {
        st.returning = !st.returning;
        if st.returning { from } else { to }
    } else {
        target
    }
}

fn cycle_index(t: Duration, each: Duration, len: usize) -> usize {
    if len == 0 || each.is_zero() {
        return 0;
    }
    (t.as_millis() / each.as_millis()) as usize % len
}

/// Cell pressures (ankle, mid, upper) and kneading speed share for a pattern.
fn calf_targets(calves: &Calves, t: Duration, l: &Limits) -> ([f64; 3], f64) {
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

/// Rises no faster than the ramp allows from what is applied; falls at once.
fn slew(applied: f64, target: f64, ramp_pct_s: f64, dt: f64) -> f64 {
    if target > applied {
        target.min(applied.max(0.0) + RAMP_HEADROOM * ramp_pct_s * dt)
    } else {
        target.max(0.0)
    }
}

fn limit_foot(mut c: FootCommand, applied_pressure: f64, l: &Limits, dt: f64) -> FootCommand {
    c.position_pct = c.position_pct.clamp(0.0, 100.0);
    c.travel_speed_pct_s = c.travel_speed_pct_s.clamp(0.0, l.travel_speed_max_pct_s);
    let target = c.pressure_pct.clamp(0.0, l.foot_pressure_ceiling_pct);
    c.pressure_pct = slew(applied_pressure, target, l.foot_pressure_ramp_pct_s, dt);
    let max_rate = match c.motion {
        NodeMotion::Still => 0.0,
        NodeMotion::Knead => l.knead_rate_max_hz,
        NodeMotion::Tap => l.tap_rate_max_hz,
        NodeMotion::Vibrate => l.vibrate_rate_max_hz,
    };
    c.motion_rate_hz = c.motion_rate_hz.clamp(0.0, max_rate);
    c
}

fn limit_calf(
    (cells, kneading): ([f64; 3], f64),
    applied: &CalfCommand,
    l: &Limits,
    dt: f64,
) -> CalfCommand {
    let applied = [applied.ankle_pct, applied.mid_pct, applied.upper_pct];
    let p = |i: usize| {
        slew(
            applied[i],
            cells[i].clamp(0.0, l.cell_pressure_ceiling_pct),
            l.cell_pressure_ramp_pct_s,
            dt,
        )
    };
    CalfCommand {
        ankle_pct: p(0),
        mid_pct: p(1),
        upper_pct: p(2),
        kneading_speed_pct: (kneading * l.kneading_speed_max_pct)
            .clamp(0.0, l.kneading_speed_max_pct),
    }
}

fn still() -> FootCommand {
    FootCommand {
        position_pct: 0.0,
        travel_speed_pct_s: 0.0,
        pressure_pct: 0.0,
        motion: NodeMotion::Still,
        motion_rate_hz: 0.0,
    }
}

/// A request with everything off.
pub fn off() -> Request {
    let calf = CalfCommand {
        ankle_pct: 0.0,
        mid_pct: 0.0,
        upper_pct: 0.0,
        kneading_speed_pct: 0.0,
    };
    Request {
        left_foot: still(),
        right_foot: still(),
        left_calf: calf,
        right_calf: calf,
        heat: HeatCommand {
            sole_c: None,
            calf_c: None,
            water_c: None,
        },
        bath: BathCommand {
            fill: false,
            drain: false,
            jets_pct: 0.0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Bench, Trace};
    use crate::{Equipment, OptionValue, Program, ProgramInfo, SessionOptions};

    const HOLD: Duration = Duration::from_secs(5);
    const STEP: Duration = Duration::from_secs(14);
    const SHARE: f64 = 0.5;

    /// One step of two point holds; the `whole` flag picks the step's length.
    struct TwoPoints(Runner);

    impl Program for TwoPoints {
        fn describe() -> ProgramInfo {
            ProgramInfo {
                id: "two-points".into(),
                name: "Two points".into(),
                description: String::new(),
                version: "0".into(),
                duration_s: STEP.as_secs() as u32,
                steps: vec![],
                options: vec![],
                contraindications: vec![],
                uses: Equipment {
                    foot_rollers: true,
                    calf_units: false,
                    sole_heat: false,
                    calf_heat: false,
                    bath: false,
                },
                translations: vec![],
            }
        }

        fn start(options: &SessionOptions) -> Result<Self, String> {
            use crate::options::OptionsExt;
            let length = if options.flag("whole") == Some(true) {
                Length::ForWholeHolds(STEP)
            } else {
                Length::For(STEP)
            };
            let points = [10.0, 50.0].map(|at| Point { at, hold: HOLD });
            let step = Step::until("Points", length).feet(Feet::points(
                &points,
                Pressure::share(SHARE),
                Duration::from_secs(1),
            ));
            Ok(Self(Runner::new(Timeline::new(vec![step]))))
        }

        fn tick(&mut self, input: &TickInput) -> Result<TickOutput, String> {
            Ok(self.0.tick(input))
        }
    }

    fn run(bench: &Bench, whole: bool) -> Trace {
        bench
            .run::<TwoPoints>(&bench.options(&[("whole", OptionValue::Flag(whole))]))
            .unwrap()
    }

    /// How long the left foot was asked for full pressure, run by run.
    fn holds(trace: &Trace) -> Vec<Duration> {
        let full = SHARE * trace.samples[0].input.limits.foot_pressure_ceiling_pct;
        let mut holds = Vec::new();
        let mut since = None;
        for s in &trace.samples {
            let at_full = s.output.request.left_foot.pressure_pct >= 0.98 * full;
            match (at_full, since) {
                (true, None) => since = Some(s.elapsed()),
                (false, Some(start)) => {
                    holds.push(s.elapsed() - start);
                    since = None;
                }
                _ => {}
            }
        }
        holds
    }

    #[test]
    fn a_timed_points_step_cuts_its_last_hold_short() {
        // What `ForWholeHolds` is for: the same step with `For` ends mid-hold.
        let trace = run(&Bench::standard(), false);
        let holds = holds(&trace);
        assert_eq!(holds.len(), 2, "{holds:?}");
        assert!(holds[1] < HOLD, "{holds:?}");
        assert!(trace.duration() <= STEP + Duration::from_millis(100));
    }

    #[test]
    fn a_whole_holds_step_finishes_its_last_hold_then_ends() {
        let trace = run(&Bench::standard(), true);
        let holds = holds(&trace);
        assert_eq!(holds.len(), 2, "{holds:?}");
        for h in &holds {
            assert!(
                *h >= HOLD && *h <= HOLD + Duration::from_millis(200),
                "{holds:?}"
            );
        }
        // It ran over, but only to release the hold: the last request of the
        // step has no pressure, and it ended well inside the grace time.
        let d = trace.duration();
        assert!(d > STEP && d < STEP + HOLD_GRACE, "{d:?}");
        let last_of_step = trace.in_step(0).last().unwrap();
        assert_eq!(last_of_step.output.request.left_foot.pressure_pct, 0.0);
        assert!(trace.limit_violations().is_empty());
        assert_eq!(Length::ForWholeHolds(STEP).expected(), STEP);
    }

    #[test]
    fn a_whole_holds_step_without_feet_ends_on_time() {
        let mut bench = Bench::standard();
        bench.sensors.feet_present = false;
        let trace = run(&bench, true);
        assert!(holds(&trace).is_empty());
        let d = trace.duration();
        assert!(d >= STEP && d <= STEP + Duration::from_millis(100), "{d:?}");
    }
}
