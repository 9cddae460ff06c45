//! Property test: whatever a program asks and whatever the sensors say, the
//! outputs stay inside the safety envelope of docs/SAFETY.md.
//!
//! Requests are random (mostly plausible, sometimes far over the limits,
//! sometimes NaN); sensor traces wander through plausible values with random
//! glitches (NaN, open, short, over-temperature, low water, no feet, e-stop);
//! staff commands arrive at random. The envelope below is written from the
//! spec, not from the supervisor's code.

use proptest::prelude::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tarsal_core::Engine;
use tarsal_core::engine::Command;
use tarsal_core::event::StopSource;
use tarsal_core::model::{
    CalfCell, Cells, FootRollerCommand, FootSensors, HeaterId, Heaters, NodeMotion, Outputs,
    Request, SensorReadings, Side, Sided,
};
use tarsal_core::profile::{ChairProfile, Equipment};
use tarsal_core::program::{
    Program, ProgramError, ProgramInfo, ProgramInput, ProgramOutput, ProgramStatus, StepInfo,
};
use tarsal_core::session::{SessionId, SessionOptions};
use tarsal_core::units::{Amps, Celsius, Hertz, Intensity, Litres, Percent, PercentPerSecond};

const TICK: Duration = Duration::from_millis(10);

/// Replays the requests the test generated.
struct Replay {
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Program for Replay {
    fn tick(&mut self, _: &ProgramInput<'_>) -> Result<ProgramOutput, ProgramError> {
        let request = self.requests.lock().unwrap().pop().unwrap_or(Request::OFF);
        Ok(ProgramOutput {
            request,
            step: 0,
            progress: 0.5,
            remaining: None,
            status: ProgramStatus::Running,
        })
    }
}

fn info() -> ProgramInfo {
    ProgramInfo {
        id: "replay".into(),
        name: "Replay".into(),
        description: String::new(),
        version: "0".into(),
        duration: Duration::from_secs(60),
        steps: vec![StepInfo {
            title: "Replay".into(),
            staff_action: None,
        }],
        options: vec![],
        contraindications: vec![],
        uses: Equipment {
            foot_rollers: true,
            calf_units: true,
            sole_heat: true,
            calf_heat: true,
            bath: true,
        },
        translations: vec![],
    }
}

/// A value that is usually in `lo..hi`, sometimes far out, sometimes NaN.
fn wild(lo: f64, hi: f64) -> impl Strategy<Value = f64> {
    prop_oneof![
        90 => lo..hi,
        6 => hi..hi * 3.0 + 10.0,
        2 => -50.0..lo.min(0.0),
        2 => Just(f64::NAN),
    ]
}

fn motion() -> impl Strategy<Value = NodeMotion> {
    prop::sample::select(NodeMotion::ALL.to_vec())
}

fn foot() -> impl Strategy<Value = FootRollerCommand> {
    (
        wild(0.0, 100.0),
        wild(0.0, 30.0),
        wild(0.0, 100.0),
        motion(),
        wild(0.0, 50.0),
    )
        .prop_map(
            |(position, speed, pressure, motion, rate)| FootRollerCommand {
                position: Percent(position),
                travel_speed: PercentPerSecond(speed),
                pressure: Percent(pressure),
                motion,
                motion_rate: Hertz(rate),
            },
        )
}

fn request() -> impl Strategy<Value = Request> {
    (
        (foot(), foot()),
        prop::array::uniform6(wild(0.0, 100.0)),
        (wild(0.0, 100.0), wild(0.0, 100.0)),
        prop::array::uniform3(prop::option::of(wild(20.0, 50.0))),
        (any::<bool>(), any::<bool>(), wild(0.0, 100.0)),
    )
        .prop_map(
            |((l, r), cells, (kl, kr), setpoints, (fill, drain, jets))| {
                let mut q = Request::OFF;
                q.feet = Sided([l, r]);
                q.calves[Side::Left].cells =
                    Cells([Percent(cells[0]), Percent(cells[1]), Percent(cells[2])]);
                q.calves[Side::Right].cells =
                    Cells([Percent(cells[3]), Percent(cells[4]), Percent(cells[5])]);
                q.calves[Side::Left].kneading_speed = Percent(kl);
                q.calves[Side::Right].kneading_speed = Percent(kr);
                q.setpoints = Heaters(setpoints.map(|s| s.map(Celsius)));
                q.bath.fill = fill;
                q.bath.drain = drain;
                q.bath.jets = Percent(jets);
                q
            },
        )
}

/// Per-tick changes to the sensors: small drifts and rare glitches.
#[derive(Clone, Debug)]
struct SensorStep {
    temp_drift: [f64; 3],
    level_drift: f64,
    glitch: Option<Glitch>,
}

#[derive(Clone, Debug)]
enum Glitch {
    Nan(usize),
    Open(usize),
    Short(usize),
    Hot(usize),
    LowWater,
    FullWater,
    FeetToggle,
    Estop(bool),
    Leak,
    Overcurrent(usize),
}

fn sensor_step() -> impl Strategy<Value = SensorStep> {
    let glitch = prop_oneof![
        1 => (0usize..3).prop_map(Glitch::Nan),
        1 => (0usize..3).prop_map(Glitch::Open),
        1 => (0usize..3).prop_map(Glitch::Short),
        1 => (0usize..3).prop_map(Glitch::Hot),
        2 => Just(Glitch::LowWater),
        2 => Just(Glitch::FullWater),
        3 => Just(Glitch::FeetToggle),
        1 => any::<bool>().prop_map(Glitch::Estop),
        1 => Just(Glitch::Leak),
        1 => (0usize..2).prop_map(Glitch::Overcurrent),
    ];
    (
        prop::array::uniform3(-0.2f64..0.2),
        -0.1f64..0.1,
        prop::option::weighted(0.04, glitch),
    )
        .prop_map(|(temp_drift, level_drift, glitch)| SensorStep {
            temp_drift,
            level_drift,
            glitch,
        })
}

#[derive(Clone, Debug)]
enum Staff {
    None,
    Intensity(u8),
    Pause,
    Resume,
    Stop,
    Estop,
    Reset,
    Heat(bool),
}

fn staff() -> impl Strategy<Value = Staff> {
    prop_oneof![
        80 => Just(Staff::None),
        6 => (1u8..=5).prop_map(Staff::Intensity),
        3 => Just(Staff::Pause),
        3 => Just(Staff::Resume),
        1 => Just(Staff::Stop),
        1 => Just(Staff::Estop),
        4 => Just(Staff::Reset),
        2 => any::<bool>().prop_map(Staff::Heat),
    ]
}

fn start_sensors() -> SensorReadings {
    let mut s = SensorReadings {
        temperatures: Heaters([Celsius(35.0), Celsius(30.0), Celsius(30.0)]),
        water_level: Litres(14.0),
        feet_present: true,
        ..SensorReadings::default()
    };
    for side in Side::ALL {
        s.feet[side] = FootSensors {
            carriage_position: Percent(50.0),
            motor_current: Amps(0.5),
        };
    }
    s
}

fn apply(s: &mut SensorReadings, step: &SensorStep) {
    for h in HeaterId::ALL {
        let t = &mut s.temperatures[h].0;
        if t.is_finite() && *t > -20.0 && *t < 100.0 {
            *t = (*t + step.temp_drift[h.index()]).clamp(10.0, 39.5);
        } else {
            *t = 30.0; // a glitch lasts one tick
        }
    }
    if !(0.0..=23.0).contains(&s.water_level.0) {
        s.water_level = Litres(14.0);
    }
    s.water_level = Litres((s.water_level.0 + step.level_drift).clamp(0.0, 20.0));
    s.leak_detected = false;
    for side in Side::ALL {
        s.feet[side].motor_current = Amps(0.5);
    }
    let h = |i: usize| HeaterId::ALL[i];
    match step.glitch {
        None => {}
        Some(Glitch::Nan(i)) => s.temperatures[h(i)] = Celsius(f64::NAN),
        Some(Glitch::Open(i)) => s.temperatures[h(i)] = Celsius(-55.0),
        Some(Glitch::Short(i)) => s.temperatures[h(i)] = Celsius(150.0),
        Some(Glitch::Hot(i)) => s.temperatures[h(i)] = Celsius(41.0 + 4.0 * (i as f64)),
        Some(Glitch::LowWater) => s.water_level = Litres(3.0),
        Some(Glitch::FullWater) => s.water_level = Litres(19.5),
        Some(Glitch::FeetToggle) => s.feet_present = !s.feet_present,
        Some(Glitch::Estop(p)) => s.estop_pressed = p,
        Some(Glitch::Leak) => s.leak_detected = true,
        Some(Glitch::Overcurrent(i)) => s.feet[Side::ALL[i]].motor_current = Amps(9.0),
    }
}

/// Violations of the envelope, in words (empty: all well).
fn violations(
    p: &ChairProfile,
    engine: &Engine,
    intensity: Intensity,
    s: &SensorReadings,
    prev: &Outputs,
    o: &Outputs,
) -> Vec<String> {
    let mut v = Vec::new();
    let mut check = |ok: bool, what: &str| {
        if !ok {
            v.push(what.to_owned());
        }
    };
    if engine.state().is_latched() || s.estop_pressed {
        check(o.is_safe(), "latched or e-stop but outputs not safe");
    }
    let dt = TICK.as_secs_f64();
    let foot = p.foot_rollers.as_ref().unwrap();
    let calf = p.calf_units.as_ref().unwrap();
    let bath = p.bath.as_ref().unwrap();
    for side in Side::ALL {
        let f = &o.feet[side];
        check(
            f.pressure.0 >= 0.0 && f.pressure <= foot.pressure_ceiling(intensity),
            "foot pressure above the intensity ceiling",
        );
        check(
            f.pressure.0 - prev.feet[side].pressure.0 <= foot.pressure_ramp_max.0 * dt + 1e-6,
            "foot pressure rose faster than the ramp",
        );
        check(
            f.travel_speed.0 >= 0.0 && f.travel_speed <= foot.travel_speed_max,
            "travel speed above max",
        );
        check(
            (0.0..=100.0).contains(&f.position.0),
            "carriage target outside 0–100 %",
        );
        check(
            f.motion_rate.0 >= 0.0 && f.motion_rate <= foot.motion_rate_max(f.motion),
            "motion rate above max",
        );
        let c = &o.calves[side];
        for cell in CalfCell::ALL {
            check(
                c.cells[cell].0 >= 0.0 && c.cells[cell] <= calf.pressure_ceiling(intensity),
                "cell pressure above the intensity ceiling",
            );
            check(
                c.cells[cell].0 - prev.calves[side].cells[cell].0
                    <= calf.pressure_ramp_max.0 * dt + 1e-6,
                "cell pressure rose faster than the ramp",
            );
        }
        check(
            c.kneading_speed.0 >= 0.0 && c.kneading_speed <= calf.kneading_speed_max,
            "kneading speed above max",
        );
        if !s.feet_present {
            check(
                f.is_off() && c.is_off(),
                "roller or cell motion without feet",
            );
        }
    }
    for h in HeaterId::ALL {
        let spec = p.heater(h).unwrap();
        let power = o.heater_power[h].0;
        check(
            (0.0..=100.0).contains(&power),
            "heater power outside 0–100 %",
        );
        let t = s.temperatures[h];
        let [lo, hi] = spec.sensor_range;
        if !(t >= lo && t <= hi) || t >= spec.cutoff {
            check(
                power == 0.0,
                "heater on with its sensor broken or at the cutoff",
            );
        }
        if let Some(sp) = engine.status().setpoints[h] {
            check(
                sp <= spec.setpoint_max,
                "setpoint above the profile maximum",
            );
        }
    }
    if s.water_level <= bath.min_level {
        check(
            o.heater_power[HeaterId::Water].0 == 0.0,
            "water heater on with too little water",
        );
        check(o.jet_pump.0 == 0.0, "jets on with too little water");
    }
    if s.water_level >= bath.max_level {
        check(!o.fill_valve_open, "fill valve open at the maximum level");
    }
    check(
        (0.0..=100.0).contains(&o.jet_pump.0),
        "jet power outside 0–100 %",
    );
    if s.leak_detected {
        check(o.is_safe(), "outputs on with the leak sensor wet");
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 10_000,
        max_shrink_iters: 2_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn outputs_never_leave_the_envelope(
        start_intensity in 1u8..=5,
        heat in any::<bool>(),
        bath in any::<bool>(),
        ticks in prop::collection::vec((request(), sensor_step(), staff()), 1..120),
    ) {
        let profile = Arc::new(ChairProfile::standard());
        let mut engine = Engine::new(Arc::clone(&profile));
        let queue = Arc::new(Mutex::new(Vec::new()));
        let mut sensors = start_sensors();
        let mut intensity = Intensity::new(start_intensity).unwrap();
        let mut next_id = 1u64;
        let mut now = Duration::ZERO;
        let mut prev = *engine.outputs();
        for (tick, (req, sensor_step, staff)) in ticks.iter().enumerate() {
            if engine.state() == tarsal_core::ChairState::Idle {
                let options = SessionOptions { intensity, heat, bath, ..SessionOptions::default() };
                let program = Box::new(Replay { requests: Arc::clone(&queue) });
                if engine.start(SessionId(next_id), Arc::new(info()), program, options).is_ok() {
                    next_id += 1;
                }
            }
            let command = match staff {
                Staff::None => None,
                Staff::Intensity(i) => Intensity::new(*i).map(Command::SetIntensity),
                Staff::Pause => Some(Command::Pause),
                Staff::Resume => Some(Command::Resume),
                Staff::Stop => Some(Command::Stop),
                Staff::Estop => Some(Command::EmergencyStop(StopSource::Local)),
                Staff::Reset => Some(Command::Reset),
                Staff::Heat(on) => Some(Command::SetHeat(*on)),
            };
            if let Some(c) = command
                && engine.command(c.clone()).is_ok()
                && let Command::SetIntensity(i) = c
            {
                intensity = i;
            }
            if engine.state().is_latched() {
                prop_assert!(engine.outputs().is_safe(), "tick {tick}: latched by a command but outputs not safe");
            }
            if let Some(s) = engine.status().session {
                intensity = s.intensity;
            }
            apply(&mut sensors, sensor_step);
            queue.lock().unwrap().push(*req);
            now += TICK;
            let outputs = *engine.tick(now, &sensors);
            let v = violations(&profile, &engine, intensity, &sensors, &prev, &outputs);
            prop_assert!(v.is_empty(), "tick {tick}: {v:?}\nsensors {sensors:?}\noutputs {outputs:?}");
            prev = outputs;
            engine.drain_events().for_each(drop);
        }
    }
}
