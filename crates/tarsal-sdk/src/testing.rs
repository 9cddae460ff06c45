//! Test a program natively, without the service or WebAssembly: a small
//! model of the chair (carriages travel, cells follow, the bath fills, drains
//! and warms, staff confirm after a while) runs the program to its end and
//! records every tick. [`Trace`] then answers questions about what happened
//! and lists every request the service's supervisor would have had to clamp.
//!
//! ```
//! use tarsal_sdk::prelude::*;
//! use tarsal_sdk::testing::Bench;
//!
//! struct Strokes(Runner);
//!
//! fn timeline() -> Timeline {
//!     Timeline::new(vec![Step::new("Strokes", Duration::from_secs(60))
//!         .feet(Feet::strokes(FRONT, BACK, Pressure::share(0.5), 0.5))])
//! }
//!
//! impl Program for Strokes {
//!     fn describe() -> ProgramInfo {
//!         described("strokes", "Strokes", "Strokes.", "1.0.0", &timeline())
//!     }
//!     fn start(_: &SessionOptions) -> Result<Self, String> {
//!         Ok(Self(Runner::new(timeline())))
//!     }
//!     fn tick(&mut self, input: &TickInput) -> Result<TickOutput, String> {
//!         Ok(self.0.tick(input))
//!     }
//! }
//!
//! for intensity in 1..=5 {
//!     let bench = Bench::standard().intensity(intensity);
//!     let trace = bench.run::<Strokes>(&bench.options(&[]))?;
//!     assert_eq!(trace.steps(), vec![0]);
//!     assert!(trace.limit_violations().is_empty());
//! }
//! # Ok::<(), String>(())
//! ```

use crate::timeline::off;
use crate::{
    CalfCommand, CalfSensors, FootCommand, FootSensors, Limits, NodeMotion, OptionSetting,
    OptionValue, Program, Request, Sensors, SessionOptions, Status, TickInput, TickOutput,
};
use std::time::Duration;

/// Foot pressure ceilings of the standard chair for intensity 1–5.
pub const FOOT_CEILINGS: [f64; 5] = [35.0, 50.0, 65.0, 80.0, 90.0];
/// Calf cell pressure ceilings of the standard chair for intensity 1–5.
pub const CELL_CEILINGS: [f64; 5] = [30.0, 40.0, 50.0, 60.0, 70.0];

/// The limits of the standard chair (`pedicure-standard`) at `intensity`.
pub fn standard_limits(intensity: u8) -> Limits {
    let i = usize::from(intensity.clamp(1, 5) - 1);
    Limits {
        foot_pressure_ceiling_pct: FOOT_CEILINGS[i],
        foot_pressure_ramp_pct_s: 20.0,
        travel_speed_max_pct_s: 25.0,
        knead_rate_max_hz: 1.5,
        tap_rate_max_hz: 6.0,
        vibrate_rate_max_hz: 40.0,
        cell_pressure_ceiling_pct: CELL_CEILINGS[i],
        cell_pressure_ramp_pct_s: 25.0,
        kneading_speed_max_pct: 80.0,
        sole_pad_setpoint_max_c: 42.0,
        calf_pad_setpoint_max_c: 42.0,
        water_setpoint_max_c: 40.0,
        bath_min_level_l: 6.0,
        bath_max_level_l: 19.0,
    }
}

/// One recorded tick.
#[derive(Clone, Debug)]
pub struct Sample {
    /// What the program was given.
    pub input: TickInput,
    /// What it answered.
    pub output: TickOutput,
}

impl Sample {
    /// Session time at this tick.
    pub fn elapsed(&self) -> Duration {
        Duration::from_millis(self.input.elapsed_ms)
    }
}

/// A model chair to run programs on.
#[derive(Clone, Debug)]
pub struct Bench {
    /// The client's intensity, 1–5.
    pub intensity: u8,
    /// Staff allowed heat.
    pub heat: bool,
    /// Staff allowed the foot bath.
    pub bath: bool,
    /// Time between two ticks.
    pub tick: Duration,
    /// Staff confirm a staff step this long after it starts.
    pub staff_reaction: Duration,
    /// Give up after this long.
    pub max: Duration,
    /// The readings at the start; the model moves them as the program runs.
    pub sensors: Sensors,
}

impl Bench {
    /// The standard chair at intensity 3, heat and bath allowed, empty bath,
    /// room-temperature pads, feet on the footrest.
    pub fn standard() -> Self {
        let foot = FootSensors {
            position_pct: 0.0,
            motor_current_a: 0.4,
        };
        let calf = CalfSensors {
            ankle_pct: 0.0,
            mid_pct: 0.0,
            upper_pct: 0.0,
        };
        Self {
            intensity: 3,
            heat: true,
            bath: true,
            tick: Duration::from_millis(50),
            staff_reaction: Duration::from_secs(20),
            max: Duration::from_secs(60 * 60),
            sensors: Sensors {
                left_foot: foot,
                right_foot: foot,
                left_calf: calf,
                right_calf: calf,
                water_c: 22.0,
                sole_pad_c: 22.0,
                calf_pad_c: 22.0,
                water_level_l: 0.0,
                feet_present: true,
            },
        }
    }

    /// The same bench at another intensity.
    pub fn intensity(self, intensity: u8) -> Self {
        Self { intensity, ..self }
    }

    /// The same bench with heat not allowed.
    pub fn without_heat(self) -> Self {
        Self {
            heat: false,
            ..self
        }
    }

    /// Session options with these program options (and the bench's intensity,
    /// heat and bath).
    pub fn options(&self, values: &[(&str, OptionValue)]) -> SessionOptions {
        SessionOptions {
            intensity: self.intensity,
            heat: self.heat,
            bath: self.bath,
            values: values
                .iter()
                .map(|(k, v)| OptionSetting {
                    key: (*k).to_owned(),
                    value: v.clone(),
                })
                .collect(),
        }
    }

    /// Runs program `P` with `options` until it finishes (or `max` passes).
    pub fn run<P: Program>(&self, options: &SessionOptions) -> Result<Trace, String> {
        let mut program = P::start(options)?;
        let mut sensors = self.sensors;
        let mut applied = off();
        let mut samples = Vec::new();
        let mut elapsed = Duration::ZERO;
        let mut confirmations = 0;
        let mut awaiting_since: Option<Duration> = None;
        let limits = standard_limits(self.intensity);
        loop {
            let input = TickInput {
                elapsed_ms: elapsed.as_millis() as u64,
                dt_ms: self.tick.as_millis() as u32,
                intensity: self.intensity,
                heat: self.heat,
                bath: self.bath,
                sensors,
                limits,
                applied,
                staff_confirmations: confirmations,
            };
            let output = program.tick(&input)?;
            samples.push(Sample { input, output });
            if output.status == Status::Finished {
                return Ok(Trace { samples });
            }
            if elapsed >= self.max {
                return Err(format!("the program did not finish within {:?}", self.max));
            }
            match output.status {
                Status::AwaitingStaff => {
                    let since = *awaiting_since.get_or_insert(elapsed);
                    if elapsed.saturating_sub(since) >= self.staff_reaction {
                        confirmations += 1;
                        awaiting_since = None;
                    }
                }
                _ => awaiting_since = None,
            }
            applied = output.request;
            step_chair(&mut sensors, &applied, self.tick.as_secs_f64());
            elapsed += self.tick;
        }
    }
}

/// The model's physics for one tick.
fn step_chair(s: &mut Sensors, r: &Request, dt: f64) {
    let travel = |sensor: &mut FootSensors, c: &FootCommand| {
        let gap = c.position_pct - sensor.position_pct;
        let step = (c.travel_speed_pct_s.min(30.0) * dt).min(gap.abs());
        sensor.position_pct += gap.signum() * step;
    };
    travel(&mut s.left_foot, &r.left_foot);
    travel(&mut s.right_foot, &r.right_foot);
    let cells = |sensor: &mut CalfSensors, c: &CalfCommand| {
        sensor.ankle_pct = c.ankle_pct;
        sensor.mid_pct = c.mid_pct;
        sensor.upper_pct = c.upper_pct;
    };
    cells(&mut s.left_calf, &r.left_calf);
    cells(&mut s.right_calf, &r.right_calf);
    if r.bath.fill {
        s.water_level_l = (s.water_level_l + 0.25 * dt).min(22.0);
        s.water_c += (37.0 - s.water_c) * (0.25 * dt / s.water_level_l.max(0.25));
    }
    if r.bath.drain {
        s.water_level_l = (s.water_level_l - 0.4 * dt).max(0.0);
    }
    let approach = |t: &mut f64, target: Option<f64>, rate: f64| match target {
        Some(sp) if *t < sp => *t = (*t + rate * dt).min(sp),
        _ => *t += (22.0 - *t) * (0.002 * dt),
    };
    approach(&mut s.sole_pad_c, r.heat.sole_c, 0.13);
    approach(&mut s.calf_pad_c, r.heat.calf_c, 0.13);
    if s.water_level_l > 2.0 {
        approach(
            &mut s.water_c,
            r.heat.water_c,
            1500.0 / (s.water_level_l * 4186.0),
        );
    }
}

/// What a program did, tick by tick.
#[derive(Clone, Debug)]
pub struct Trace {
    /// Every tick, in order.
    pub samples: Vec<Sample>,
}

impl Trace {
    /// How long the program ran.
    pub fn duration(&self) -> Duration {
        self.samples.last().map_or(Duration::ZERO, Sample::elapsed)
    }

    /// Step indices in the order they were visited.
    pub fn steps(&self) -> Vec<u32> {
        let mut steps: Vec<u32> = Vec::new();
        for s in &self.samples {
            if s.output.status != Status::Finished && steps.last() != Some(&s.output.step) {
                steps.push(s.output.step);
            }
        }
        steps
    }

    /// The samples of step `index`.
    pub fn in_step(&self, index: u32) -> impl Iterator<Item = &Sample> {
        self.samples
            .iter()
            .filter(move |s| s.output.step == index && s.output.status != Status::Finished)
    }

    /// How long step `index` lasted.
    pub fn step_duration(&self, index: u32) -> Duration {
        let mut in_step = self.in_step(index);
        match (in_step.next(), in_step.last()) {
            (Some(first), Some(last)) => last.elapsed() - first.elapsed(),
            (Some(_), None) => Duration::ZERO,
            _ => Duration::ZERO,
        }
    }

    /// Every request the supervisor would have clamped or refused, in words.
    pub fn limit_violations(&self) -> Vec<String> {
        let mut found = Vec::new();
        for s in &self.samples {
            let l = &s.input.limits;
            let r = &s.output.request;
            let dt = f64::from(s.input.dt_ms) / 1000.0;
            let t = s.elapsed().as_secs_f64();
            let mut bad = |what: String| found.push(format!("{t:.2} s: {what}"));
            for (name, c, a) in [
                ("left foot", &r.left_foot, &s.input.applied.left_foot),
                ("right foot", &r.right_foot, &s.input.applied.right_foot),
            ] {
                if c.pressure_pct > l.foot_pressure_ceiling_pct + 1e-6 {
                    bad(format!(
                        "{name} pressure {:.1} % above ceiling",
                        c.pressure_pct
                    ));
                }
                if c.pressure_pct - a.pressure_pct > l.foot_pressure_ramp_pct_s * dt + 1e-6 {
                    bad(format!("{name} pressure rose too fast"));
                }
                if c.travel_speed_pct_s > l.travel_speed_max_pct_s + 1e-6 {
                    bad(format!("{name} travel too fast"));
                }
                let max_rate = match c.motion {
                    NodeMotion::Still => 0.0,
                    NodeMotion::Knead => l.knead_rate_max_hz,
                    NodeMotion::Tap => l.tap_rate_max_hz,
                    NodeMotion::Vibrate => l.vibrate_rate_max_hz,
                };
                if c.motion_rate_hz > max_rate + 1e-6 {
                    bad(format!("{name} motion rate too high"));
                }
                if !(0.0..=100.0).contains(&c.position_pct) {
                    bad(format!("{name} position out of range"));
                }
            }
            for (name, c, a) in [
                ("left calf", &r.left_calf, &s.input.applied.left_calf),
                ("right calf", &r.right_calf, &s.input.applied.right_calf),
            ] {
                for (cell, p, prev) in [
                    ("ankle", c.ankle_pct, a.ankle_pct),
                    ("mid", c.mid_pct, a.mid_pct),
                    ("upper", c.upper_pct, a.upper_pct),
                ] {
                    if p > l.cell_pressure_ceiling_pct + 1e-6 {
                        bad(format!("{name} {cell} cell above ceiling"));
                    }
                    if p - prev > l.cell_pressure_ramp_pct_s * dt + 1e-6 {
                        bad(format!("{name} {cell} cell rose too fast"));
                    }
                }
                if c.kneading_speed_pct > l.kneading_speed_max_pct + 1e-6 {
                    bad(format!("{name} kneading too fast"));
                }
            }
            let moving = r.left_foot.pressure_pct > 0.0 || r.right_foot.pressure_pct > 0.0;
            if moving && !s.input.sensors.feet_present {
                bad("roller pressure without feet".into());
            }
            for (name, sp, max) in [
                ("sole pad", r.heat.sole_c, l.sole_pad_setpoint_max_c),
                ("calf pad", r.heat.calf_c, l.calf_pad_setpoint_max_c),
                ("water", r.heat.water_c, l.water_setpoint_max_c),
            ] {
                if sp.is_some_and(|c| c > max) {
                    bad(format!("{name} setpoint above {max} °C"));
                }
            }
            let level = s.input.sensors.water_level_l;
            if r.heat.water_c.is_some() && level <= l.bath_min_level_l {
                bad("water heater without enough water".into());
            }
            if r.bath.jets_pct > 0.0 && level <= l.bath_min_level_l {
                bad("jets without enough water".into());
            }
            if r.bath.fill && level >= l.bath_max_level_l {
                bad("filling a full bath".into());
            }
        }
        found
    }
}
