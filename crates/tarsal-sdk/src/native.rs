//! Runs an SDK program natively inside Tarsal's engine, without WebAssembly:
//! for integration tests of a program with the simulated chair, and to
//! compare against the sandboxed build. Enabled by the `engine` feature.

use crate::{
    BathCommand, CalfCommand, CalfSensors, FootCommand, FootSensors, HeatCommand, Limits,
    NodeMotion, OptionSetting, OptionValue, Program, Request, Sensors, SessionOptions, Status,
    TickInput,
};
use std::sync::Arc;
use std::time::Duration;
use tarsal_core::model as core;
use tarsal_core::program as prog;
use tarsal_core::units::{Celsius, Hertz, Percent, PercentPerSecond};

/// An SDK program as an engine program.
pub struct NativeProgram<P> {
    program: P,
}

impl<P: Program + Send> NativeProgram<P> {
    pub fn start(options: &tarsal_core::SessionOptions) -> Result<Self, String> {
        Ok(Self {
            program: P::start(&session_options(options))?,
        })
    }

    /// The program's description in the engine's terms (without checking it
    /// the way the plugin host does).
    pub fn info() -> Arc<prog::ProgramInfo> {
        let i = P::describe();
        let step = |s: &crate::StepInfo| prog::StepInfo {
            title: s.title.clone(),
            staff_action: s.staff_action.clone(),
        };
        Arc::new(prog::ProgramInfo {
            id: i.id,
            name: i.name,
            description: i.description,
            version: i.version,
            duration: Duration::from_secs(u64::from(i.duration_s)),
            steps: i.steps.iter().map(step).collect(),
            options: i
                .options
                .iter()
                .map(|o| prog::OptionSpec {
                    key: o.key.clone(),
                    label: o.label.clone(),
                    description: o.description.clone(),
                    kind: match &o.kind {
                        crate::OptionKind::Flag(d) => prog::OptionKind::Bool { default: *d },
                        crate::OptionKind::Integer(r) => prog::OptionKind::Int {
                            min: r.min,
                            max: r.max,
                            default: r.default,
                        },
                        crate::OptionKind::Choice(c) => prog::OptionKind::Choice {
                            choices: c
                                .choices
                                .iter()
                                .map(|x| prog::Choice {
                                    value: x.value.clone(),
                                    label: x.label.clone(),
                                })
                                .collect(),
                            default: c.default.clone(),
                        },
                    },
                })
                .collect(),
            contraindications: i.contraindications,
            uses: tarsal_core::profile::Equipment {
                foot_rollers: i.uses.foot_rollers,
                calf_units: i.uses.calf_units,
                sole_heat: i.uses.sole_heat,
                calf_heat: i.uses.calf_heat,
                bath: i.uses.bath,
            },
            translations: vec![],
        })
    }
}

impl<P: Program + Send> prog::Program for NativeProgram<P> {
    fn tick(
        &mut self,
        input: &prog::ProgramInput<'_>,
    ) -> Result<prog::ProgramOutput, prog::ProgramError> {
        match self.program.tick(&tick_input(input)) {
            Ok(o) => Ok(prog::ProgramOutput {
                request: request_from_sdk(&o.request),
                step: o.step,
                progress: o.progress,
                remaining: o.remaining_ms.map(Duration::from_millis),
                status: match o.status {
                    Status::Running => prog::ProgramStatus::Running,
                    Status::AwaitingStaff => prog::ProgramStatus::AwaitingStaff,
                    Status::Finished => prog::ProgramStatus::Finished,
                },
            }),
            Err(message) => Err(prog::ProgramError {
                kind: prog::ProgramErrorKind::Failed,
                message,
            }),
        }
    }
}

pub fn session_options(o: &tarsal_core::SessionOptions) -> SessionOptions {
    use tarsal_core::session::OptionValue as V;
    SessionOptions {
        intensity: o.intensity.level(),
        heat: o.heat,
        bath: o.bath,
        values: o
            .values
            .iter()
            .map(|(key, value)| OptionSetting {
                key: key.clone(),
                value: match value {
                    V::Bool(b) => OptionValue::Flag(*b),
                    V::Int(i) => OptionValue::Integer(*i),
                    V::Text(t) => OptionValue::Text(t.clone()),
                },
            })
            .collect(),
    }
}

fn motion(m: core::NodeMotion) -> NodeMotion {
    match m {
        core::NodeMotion::Still => NodeMotion::Still,
        core::NodeMotion::Knead => NodeMotion::Knead,
        core::NodeMotion::Tap => NodeMotion::Tap,
        core::NodeMotion::Vibrate => NodeMotion::Vibrate,
    }
}

fn request_to_sdk(r: &core::Request) -> Request {
    let foot = |c: &core::FootRollerCommand| FootCommand {
        position_pct: c.position.0,
        travel_speed_pct_s: c.travel_speed.0,
        pressure_pct: c.pressure.0,
        motion: motion(c.motion),
        motion_rate_hz: c.motion_rate.0,
    };
    let calf = |c: &core::CalfCommand| CalfCommand {
        ankle_pct: c.cells[core::CalfCell::Ankle].0,
        mid_pct: c.cells[core::CalfCell::Mid].0,
        upper_pct: c.cells[core::CalfCell::Upper].0,
        kneading_speed_pct: c.kneading_speed.0,
    };
    Request {
        left_foot: foot(&r.feet[core::Side::Left]),
        right_foot: foot(&r.feet[core::Side::Right]),
        left_calf: calf(&r.calves[core::Side::Left]),
        right_calf: calf(&r.calves[core::Side::Right]),
        heat: HeatCommand {
            sole_c: r.setpoints[core::HeaterId::SolePad].map(|c| c.0),
            calf_c: r.setpoints[core::HeaterId::CalfPad].map(|c| c.0),
            water_c: r.setpoints[core::HeaterId::Water].map(|c| c.0),
        },
        bath: BathCommand {
            fill: r.bath.fill,
            drain: r.bath.drain,
            jets_pct: r.bath.jets.0,
        },
    }
}

fn request_from_sdk(r: &Request) -> core::Request {
    let foot = |c: &FootCommand| core::FootRollerCommand {
        position: Percent(c.position_pct),
        travel_speed: PercentPerSecond(c.travel_speed_pct_s),
        pressure: Percent(c.pressure_pct),
        motion: match c.motion {
            NodeMotion::Still => core::NodeMotion::Still,
            NodeMotion::Knead => core::NodeMotion::Knead,
            NodeMotion::Tap => core::NodeMotion::Tap,
            NodeMotion::Vibrate => core::NodeMotion::Vibrate,
        },
        motion_rate: Hertz(c.motion_rate_hz),
    };
    let calf = |c: &CalfCommand| core::CalfCommand {
        cells: core::Cells([
            Percent(c.ankle_pct),
            Percent(c.mid_pct),
            Percent(c.upper_pct),
        ]),
        kneading_speed: Percent(c.kneading_speed_pct),
    };
    let c = |v: Option<f64>| v.map(Celsius);
    core::Request {
        feet: core::Sided([foot(&r.left_foot), foot(&r.right_foot)]),
        calves: core::Sided([calf(&r.left_calf), calf(&r.right_calf)]),
        setpoints: core::Heaters([c(r.heat.water_c), c(r.heat.sole_c), c(r.heat.calf_c)]),
        bath: core::BathRequest {
            fill: r.bath.fill,
            drain: r.bath.drain,
            jets: Percent(r.bath.jets_pct),
        },
    }
}

/// The engine's tick input in SDK terms.
pub fn tick_input(i: &prog::ProgramInput<'_>) -> TickInput {
    let s = i.sensors;
    let l = i.limits;
    let foot = |side| FootSensors {
        position_pct: s.feet[side].carriage_position.0,
        motor_current_a: s.feet[side].motor_current.0,
    };
    let calf = |side| CalfSensors {
        ankle_pct: s.calf_cells[side][core::CalfCell::Ankle].0,
        mid_pct: s.calf_cells[side][core::CalfCell::Mid].0,
        upper_pct: s.calf_cells[side][core::CalfCell::Upper].0,
    };
    TickInput {
        elapsed_ms: i.elapsed.as_millis() as u64,
        dt_ms: i.dt.as_millis() as u32,
        intensity: i.intensity.level(),
        heat: i.heat,
        bath: i.bath,
        sensors: Sensors {
            left_foot: foot(core::Side::Left),
            right_foot: foot(core::Side::Right),
            left_calf: calf(core::Side::Left),
            right_calf: calf(core::Side::Right),
            water_c: s.temperatures[core::HeaterId::Water].0,
            sole_pad_c: s.temperatures[core::HeaterId::SolePad].0,
            calf_pad_c: s.temperatures[core::HeaterId::CalfPad].0,
            water_level_l: s.water_level.0,
            feet_present: s.feet_present,
        },
        limits: Limits {
            foot_pressure_ceiling_pct: l.foot_pressure_ceiling.0,
            foot_pressure_ramp_pct_s: l.foot_pressure_ramp.0,
            travel_speed_max_pct_s: l.travel_speed_max.0,
            knead_rate_max_hz: l.knead_rate_max.0,
            tap_rate_max_hz: l.tap_rate_max.0,
            vibrate_rate_max_hz: l.vibrate_rate_max.0,
            cell_pressure_ceiling_pct: l.cell_pressure_ceiling.0,
            cell_pressure_ramp_pct_s: l.cell_pressure_ramp.0,
            kneading_speed_max_pct: l.kneading_speed_max.0,
            sole_pad_setpoint_max_c: l.sole_pad_setpoint_max.0,
            calf_pad_setpoint_max_c: l.calf_pad_setpoint_max.0,
            water_setpoint_max_c: l.water_setpoint_max.0,
            bath_min_level_l: l.bath_min_level.0,
            bath_max_level_l: l.bath_max_level.0,
        },
        applied: request_to_sdk(i.applied),
        staff_confirmations: i.staff_confirmations,
    }
}
