//! The one conversion between the engine's program types and the
//! `tarsal:program` WIT types.
//!
//! Both sides of the interface generate Rust types from the same WIT: the
//! plugin host with wasmtime's bindgen, the SDK (for running a program natively
//! in the engine) with wit-bindgen. The two sets are alike field by field but
//! are distinct types, so the conversion is written once, here, as a macro
//! that each side expands over its own generated module:
//!
//! ```text
//! tarsal_core::program_interface_conversions!(crate::bindings::wit);
//! ```
//!
//! It defines, in the calling module: `session_options`, `request_to_wit`,
//! `request_from_wit`, `tick_input`, `tick_output` and `program_info`. What a
//! side adds of its own (the host's checks on a plugin's description) stays
//! with that side. A field added to the WIT fails to compile here first.

/// Expands to the conversions between `tarsal_core`'s program types and the
/// WIT types in the module at the given path (see the module docs).
#[macro_export]
macro_rules! program_interface_conversions {
    ($($wit:ident)::+) => {
        /// The session's options in the program interface's terms.
        pub fn session_options(
            o: &$crate::session::SessionOptions,
        ) -> $($wit)::+::SessionOptions {
            $($wit)::+::SessionOptions {
                intensity: o.intensity.level(),
                heat: o.heat,
                bath: o.bath,
                values: o
                    .values
                    .iter()
                    .map(|(key, value)| $($wit)::+::OptionSetting {
                        key: key.clone(),
                        value: match value {
                            $crate::session::OptionValue::Bool(b) => {
                                $($wit)::+::OptionValue::Flag(*b)
                            }
                            $crate::session::OptionValue::Int(i) => {
                                $($wit)::+::OptionValue::Integer(*i)
                            }
                            $crate::session::OptionValue::Text(t) => {
                                $($wit)::+::OptionValue::Text(t.clone())
                            }
                        },
                    })
                    .collect(),
            }
        }

        /// A request in the program interface's terms (what the chair is
        /// applying, handed back to the program).
        pub fn request_to_wit(r: &$crate::model::Request) -> $($wit)::+::Request {
            use $crate::model::{CalfCell, HeaterId, NodeMotion, Side};
            let foot = |c: &$crate::model::FootRollerCommand| $($wit)::+::FootCommand {
                position_pct: c.position.0,
                travel_speed_pct_s: c.travel_speed.0,
                pressure_pct: c.pressure.0,
                motion: match c.motion {
                    NodeMotion::Still => $($wit)::+::NodeMotion::Still,
                    NodeMotion::Knead => $($wit)::+::NodeMotion::Knead,
                    NodeMotion::Tap => $($wit)::+::NodeMotion::Tap,
                    NodeMotion::Vibrate => $($wit)::+::NodeMotion::Vibrate,
                },
                motion_rate_hz: c.motion_rate.0,
            };
            let calf = |c: &$crate::model::CalfCommand| $($wit)::+::CalfCommand {
                ankle_pct: c.cells[CalfCell::Ankle].0,
                mid_pct: c.cells[CalfCell::Mid].0,
                upper_pct: c.cells[CalfCell::Upper].0,
                kneading_speed_pct: c.kneading_speed.0,
            };
            $($wit)::+::Request {
                left_foot: foot(&r.feet[Side::Left]),
                right_foot: foot(&r.feet[Side::Right]),
                left_calf: calf(&r.calves[Side::Left]),
                right_calf: calf(&r.calves[Side::Right]),
                heat: $($wit)::+::HeatCommand {
                    sole_c: r.setpoints[HeaterId::SolePad].map(|c| c.0),
                    calf_c: r.setpoints[HeaterId::CalfPad].map(|c| c.0),
                    water_c: r.setpoints[HeaterId::Water].map(|c| c.0),
                },
                bath: $($wit)::+::BathCommand {
                    fill: r.bath.fill,
                    drain: r.bath.drain,
                    jets_pct: r.bath.jets.0,
                },
            }
        }

        /// A program's request in the engine's terms (the supervisor checks
        /// it next).
        pub fn request_from_wit(r: &$($wit)::+::Request) -> $crate::model::Request {
            use $crate::model::{
                BathRequest, CalfCommand, Cells, FootRollerCommand, HeaterId, Heaters,
                NodeMotion, Sided,
            };
            use $crate::units::{Celsius, Hertz, Percent, PercentPerSecond};
            let foot = |c: &$($wit)::+::FootCommand| FootRollerCommand {
                position: Percent(c.position_pct),
                travel_speed: PercentPerSecond(c.travel_speed_pct_s),
                pressure: Percent(c.pressure_pct),
                motion: match c.motion {
                    $($wit)::+::NodeMotion::Still => NodeMotion::Still,
                    $($wit)::+::NodeMotion::Knead => NodeMotion::Knead,
                    $($wit)::+::NodeMotion::Tap => NodeMotion::Tap,
                    $($wit)::+::NodeMotion::Vibrate => NodeMotion::Vibrate,
                },
                motion_rate: Hertz(c.motion_rate_hz),
            };
            let calf = |c: &$($wit)::+::CalfCommand| CalfCommand {
                cells: Cells([
                    Percent(c.ankle_pct),
                    Percent(c.mid_pct),
                    Percent(c.upper_pct),
                ]),
                kneading_speed: Percent(c.kneading_speed_pct),
            };
            let mut setpoints = Heaters([None; 3]);
            setpoints[HeaterId::Water] = r.heat.water_c.map(Celsius);
            setpoints[HeaterId::SolePad] = r.heat.sole_c.map(Celsius);
            setpoints[HeaterId::CalfPad] = r.heat.calf_c.map(Celsius);
            $crate::model::Request {
                feet: Sided([foot(&r.left_foot), foot(&r.right_foot)]),
                calves: Sided([calf(&r.left_calf), calf(&r.right_calf)]),
                setpoints,
                bath: BathRequest {
                    fill: r.bath.fill,
                    drain: r.bath.drain,
                    jets: Percent(r.bath.jets_pct),
                },
            }
        }

        /// One tick's input in the program interface's terms.
        pub fn tick_input(i: &$crate::program::ProgramInput<'_>) -> $($wit)::+::TickInput {
            use $crate::model::{CalfCell, HeaterId, Side};
            let s = i.sensors;
            let l = i.limits;
            let foot = |side: Side| $($wit)::+::FootSensors {
                position_pct: s.feet[side].carriage_position.0,
                motor_current_a: s.feet[side].motor_current.0,
            };
            let calf = |side: Side| $($wit)::+::CalfSensors {
                ankle_pct: s.calf_cells[side][CalfCell::Ankle].0,
                mid_pct: s.calf_cells[side][CalfCell::Mid].0,
                upper_pct: s.calf_cells[side][CalfCell::Upper].0,
            };
            $($wit)::+::TickInput {
                // Saturating: a session is hours long, never 584 million years.
                elapsed_ms: u64::try_from(i.elapsed.as_millis()).unwrap_or(u64::MAX),
                dt_ms: u32::try_from(i.dt.as_millis()).unwrap_or(u32::MAX),
                intensity: i.intensity.level(),
                heat: i.heat,
                bath: i.bath,
                sensors: $($wit)::+::Sensors {
                    left_foot: foot(Side::Left),
                    right_foot: foot(Side::Right),
                    left_calf: calf(Side::Left),
                    right_calf: calf(Side::Right),
                    water_c: s.temperatures[HeaterId::Water].0,
                    sole_pad_c: s.temperatures[HeaterId::SolePad].0,
                    calf_pad_c: s.temperatures[HeaterId::CalfPad].0,
                    water_level_l: s.water_level.0,
                    feet_present: s.feet_present,
                },
                limits: $($wit)::+::Limits {
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
                applied: request_to_wit(i.applied),
                staff_confirmations: i.staff_confirmations,
            }
        }

        /// A program's answer to a tick in the engine's terms.
        pub fn tick_output(o: &$($wit)::+::TickOutput) -> $crate::program::ProgramOutput {
            use $crate::program::ProgramStatus;
            $crate::program::ProgramOutput {
                request: request_from_wit(&o.request),
                step: o.step,
                progress: o.progress,
                remaining: o.remaining_ms.map(::std::time::Duration::from_millis),
                status: match o.status {
                    $($wit)::+::Status::Running => ProgramStatus::Running,
                    $($wit)::+::Status::AwaitingStaff => ProgramStatus::AwaitingStaff,
                    $($wit)::+::Status::Finished => ProgramStatus::Finished,
                },
            }
        }

        /// A program's description in the engine's terms, field for field,
        /// without judging it (the plugin host checks it first).
        pub fn program_info(i: &$($wit)::+::ProgramInfo) -> $crate::program::ProgramInfo {
            use $crate::program::{
                Choice, OptionKind, OptionSpec, OptionText, ProgramTranslation, StepInfo,
            };
            let step = |s: &$($wit)::+::StepInfo| StepInfo {
                title: s.title.clone(),
                staff_action: s.staff_action.clone(),
            };
            let option = |o: &$($wit)::+::OptionSpec| OptionSpec {
                key: o.key.clone(),
                label: o.label.clone(),
                description: o.description.clone(),
                kind: match &o.kind {
                    $($wit)::+::OptionKind::Flag(default) => OptionKind::Bool { default: *default },
                    $($wit)::+::OptionKind::Integer(r) => OptionKind::Int {
                        min: r.min,
                        max: r.max,
                        default: r.default,
                    },
                    $($wit)::+::OptionKind::Choice(c) => OptionKind::Choice {
                        choices: c
                            .choices
                            .iter()
                            .map(|x| Choice {
                                value: x.value.clone(),
                                label: x.label.clone(),
                            })
                            .collect(),
                        default: c.default.clone(),
                    },
                },
            };
            let translation = |t: &$($wit)::+::Translation| ProgramTranslation {
                language: t.language.clone(),
                name: t.name.clone(),
                description: t.description.clone(),
                steps: t.steps.iter().map(step).collect(),
                contraindications: t.contraindications.clone(),
                options: t
                    .options
                    .iter()
                    .map(|o| OptionText {
                        key: o.key.clone(),
                        label: o.label.clone(),
                        description: o.description.clone(),
                        choice_labels: o.choice_labels.clone(),
                    })
                    .collect(),
            };
            $crate::program::ProgramInfo {
                id: i.id.clone(),
                name: i.name.clone(),
                description: i.description.clone(),
                version: i.version.clone(),
                duration: ::std::time::Duration::from_secs(u64::from(i.duration_s)),
                steps: i.steps.iter().map(step).collect(),
                options: i.options.iter().map(option).collect(),
                contraindications: i.contraindications.clone(),
                uses: $crate::profile::Equipment {
                    foot_rollers: i.uses.foot_rollers,
                    calf_units: i.uses.calf_units,
                    sole_heat: i.uses.sole_heat,
                    calf_heat: i.uses.calf_heat,
                    bath: i.uses.bath,
                },
                translations: i.translations.iter().map(translation).collect(),
            }
        }
    };
}
