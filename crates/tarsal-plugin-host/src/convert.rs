//! Conversions between the engine's types and the WIT types, and the checks
//! on what a plugin says about itself.

use crate::bindings::wit;
use std::time::Duration;
use tarsal_core::model::{
    BathRequest, CalfCell, CalfCommand, Cells, FootRollerCommand, Heaters, NodeMotion, Request,
    SensorReadings, Side, Sided,
};
use tarsal_core::profile::Equipment;
use tarsal_core::program::{
    Choice, OptionKind, OptionSpec, OptionText, ProgramInfo, ProgramInput, ProgramOutput,
    ProgramStatus, ProgramTranslation, StepInfo,
};
use tarsal_core::session::{OptionValue, SessionOptions};
use tarsal_core::units::{Celsius, Hertz, Percent, PercentPerSecond};

pub fn session_options(o: &SessionOptions) -> wit::SessionOptions {
    wit::SessionOptions {
        intensity: o.intensity.level(),
        heat: o.heat,
        bath: o.bath,
        values: o
            .values
            .iter()
            .map(|(key, value)| wit::OptionSetting {
                key: key.clone(),
                value: match value {
                    OptionValue::Bool(b) => wit::OptionValue::Flag(*b),
                    OptionValue::Int(i) => wit::OptionValue::Integer(*i),
                    OptionValue::Text(t) => wit::OptionValue::Text(t.clone()),
                },
            })
            .collect(),
    }
}

fn motion_to_wit(m: NodeMotion) -> wit::NodeMotion {
    match m {
        NodeMotion::Still => wit::NodeMotion::Still,
        NodeMotion::Knead => wit::NodeMotion::Knead,
        NodeMotion::Tap => wit::NodeMotion::Tap,
        NodeMotion::Vibrate => wit::NodeMotion::Vibrate,
    }
}

fn motion_from_wit(m: wit::NodeMotion) -> NodeMotion {
    match m {
        wit::NodeMotion::Still => NodeMotion::Still,
        wit::NodeMotion::Knead => NodeMotion::Knead,
        wit::NodeMotion::Tap => NodeMotion::Tap,
        wit::NodeMotion::Vibrate => NodeMotion::Vibrate,
    }
}

fn foot_to_wit(c: &FootRollerCommand) -> wit::FootCommand {
    wit::FootCommand {
        position_pct: c.position.0,
        travel_speed_pct_s: c.travel_speed.0,
        pressure_pct: c.pressure.0,
        motion: motion_to_wit(c.motion),
        motion_rate_hz: c.motion_rate.0,
    }
}

fn foot_from_wit(c: &wit::FootCommand) -> FootRollerCommand {
    FootRollerCommand {
        position: Percent(c.position_pct),
        travel_speed: PercentPerSecond(c.travel_speed_pct_s),
        pressure: Percent(c.pressure_pct),
        motion: motion_from_wit(c.motion),
        motion_rate: Hertz(c.motion_rate_hz),
    }
}

fn calf_to_wit(c: &CalfCommand) -> wit::CalfCommand {
    wit::CalfCommand {
        ankle_pct: c.cells[CalfCell::Ankle].0,
        mid_pct: c.cells[CalfCell::Mid].0,
        upper_pct: c.cells[CalfCell::Upper].0,
        kneading_speed_pct: c.kneading_speed.0,
    }
}

fn calf_from_wit(c: &wit::CalfCommand) -> CalfCommand {
    CalfCommand {
        cells: Cells([
            Percent(c.ankle_pct),
            Percent(c.mid_pct),
            Percent(c.upper_pct),
        ]),
        kneading_speed: Percent(c.kneading_speed_pct),
    }
}

pub fn request_to_wit(r: &Request) -> wit::Request {
    use tarsal_core::model::HeaterId;
    wit::Request {
        left_foot: foot_to_wit(&r.feet[Side::Left]),
        right_foot: foot_to_wit(&r.feet[Side::Right]),
        left_calf: calf_to_wit(&r.calves[Side::Left]),
        right_calf: calf_to_wit(&r.calves[Side::Right]),
        heat: wit::HeatCommand {
            sole_c: r.setpoints[HeaterId::SolePad].map(|c| c.0),
            calf_c: r.setpoints[HeaterId::CalfPad].map(|c| c.0),
            water_c: r.setpoints[HeaterId::Water].map(|c| c.0),
        },
        bath: wit::BathCommand {
            fill: r.bath.fill,
            drain: r.bath.drain,
            jets_pct: r.bath.jets.0,
        },
    }
}

pub fn request_from_wit(r: &wit::Request) -> Request {
    let c = |v: Option<f64>| v.map(Celsius);
    Request {
        feet: Sided([foot_from_wit(&r.left_foot), foot_from_wit(&r.right_foot)]),
        calves: Sided([calf_from_wit(&r.left_calf), calf_from_wit(&r.right_calf)]),
        // Heater order: water, sole pad, calf pad.
        setpoints: Heaters([c(r.heat.water_c), c(r.heat.sole_c), c(r.heat.calf_c)]),
        bath: BathRequest {
            fill: r.bath.fill,
            drain: r.bath.drain,
            jets: Percent(r.bath.jets_pct),
        },
    }
}

fn sensors_to_wit(s: &SensorReadings) -> wit::Sensors {
    use tarsal_core::model::HeaterId;
    let foot = |side: Side| wit::FootSensors {
        position_pct: s.feet[side].carriage_position.0,
        motor_current_a: s.feet[side].motor_current.0,
    };
    let calf = |side: Side| wit::CalfSensors {
        ankle_pct: s.calf_cells[side][CalfCell::Ankle].0,
        mid_pct: s.calf_cells[side][CalfCell::Mid].0,
        upper_pct: s.calf_cells[side][CalfCell::Upper].0,
    };
    wit::Sensors {
        left_foot: foot(Side::Left),
        right_foot: foot(Side::Right),
        left_calf: calf(Side::Left),
        right_calf: calf(Side::Right),
        water_c: s.temperatures[HeaterId::Water].0,
        sole_pad_c: s.temperatures[HeaterId::SolePad].0,
        calf_pad_c: s.temperatures[HeaterId::CalfPad].0,
        water_level_l: s.water_level.0,
        feet_present: s.feet_present,
    }
}

pub fn tick_input(i: &ProgramInput<'_>) -> wit::TickInput {
    let l = i.limits;
    wit::TickInput {
        elapsed_ms: i.elapsed.as_millis() as u64,
        dt_ms: i.dt.as_millis() as u32,
        intensity: i.intensity.level(),
        heat: i.heat,
        bath: i.bath,
        sensors: sensors_to_wit(i.sensors),
        limits: wit::Limits {
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

pub fn tick_output(o: &wit::TickOutput) -> ProgramOutput {
    ProgramOutput {
        request: request_from_wit(&o.request),
        step: o.step,
        progress: o.progress,
        remaining: o.remaining_ms.map(Duration::from_millis),
        status: match o.status {
            wit::Status::Running => ProgramStatus::Running,
            wit::Status::AwaitingStaff => ProgramStatus::AwaitingStaff,
            wit::Status::Finished => ProgramStatus::Finished,
        },
    }
}

/// Everything a plugin's description may hold, roughly, in bytes.
pub fn info_size(i: &wit::ProgramInfo) -> usize {
    let step = |s: &wit::StepInfo| s.title.len() + s.staff_action.as_ref().map_or(0, String::len);
    let option = |o: &wit::OptionSpec| {
        o.key.len()
            + o.label.len()
            + o.description.len()
            + match &o.kind {
                wit::OptionKind::Choice(c) => {
                    c.default.len()
                        + c.choices
                            .iter()
                            .map(|c| c.value.len() + c.label.len())
                            .sum::<usize>()
                }
                _ => 16,
            }
    };
    let translation = |t: &wit::Translation| {
        t.language.len()
            + t.name.len()
            + t.description.len()
            + t.steps.iter().map(step).sum::<usize>()
            + t.contraindications.iter().map(String::len).sum::<usize>()
            + t.options
                .iter()
                .map(|o| {
                    o.key.len()
                        + o.label.len()
                        + o.description.len()
                        + o.choice_labels.iter().map(String::len).sum::<usize>()
                })
                .sum::<usize>()
    };
    i.id.len()
        + i.name.len()
        + i.description.len()
        + i.version.len()
        + i.steps.iter().map(step).sum::<usize>()
        + i.options.iter().map(option).sum::<usize>()
        + i.contraindications.iter().map(String::len).sum::<usize>()
        + i.translations.iter().map(translation).sum::<usize>()
}

fn step_texts<'a>(all: &mut Vec<(String, &'a str)>, prefix: &str, steps: &'a [wit::StepInfo]) {
    for (n, s) in steps.iter().enumerate() {
        all.push((format!("{prefix}step {n} title"), &s.title));
        if let Some(a) = &s.staff_action {
            all.push((format!("{prefix}step {n} staff action"), a));
        }
    }
}

/// Every text of a description, with what it is, for the character check.
fn texts(i: &wit::ProgramInfo) -> Vec<(String, &str)> {
    let mut all: Vec<(String, &str)> = vec![
        ("id".into(), &i.id),
        ("name".into(), &i.name),
        ("description".into(), &i.description),
        ("version".into(), &i.version),
    ];
    step_texts(&mut all, "", &i.steps);
    for o in &i.options {
        all.push(("option key".into(), &o.key));
        all.push((format!("option `{}` label", o.key), &o.label));
        all.push((format!("option `{}` description", o.key), &o.description));
        if let wit::OptionKind::Choice(c) = &o.kind {
            all.push((format!("option `{}` default", o.key), &c.default));
            for choice in &c.choices {
                all.push((format!("option `{}` choice", o.key), &choice.value));
                all.push((format!("option `{}` choice label", o.key), &choice.label));
            }
        }
    }
    for c in &i.contraindications {
        all.push(("contraindication".into(), c));
    }
    for t in &i.translations {
        all.push(("translation language".into(), &t.language));
        let prefix = format!("translation `{}` ", t.language);
        all.push((format!("{prefix}name"), &t.name));
        all.push((format!("{prefix}description"), &t.description));
        step_texts(&mut all, &prefix, &t.steps);
        for c in &t.contraindications {
            all.push((format!("{prefix}contraindication"), c));
        }
        for o in &t.options {
            all.push((format!("{prefix}option key"), &o.key));
            all.push((format!("{prefix}option `{}` label", o.key), &o.label));
            all.push((
                format!("{prefix}option `{}` description", o.key),
                &o.description,
            ));
            for l in &o.choice_labels {
                all.push((format!("{prefix}option `{}` choice label", o.key), l));
            }
        }
    }
    all
}

/// Checks a plugin's description and converts it; `Err` says what is wrong.
/// Its texts reach staff, operators and logs: no control characters (line
/// breaks, terminal escapes, reordering marks) in any of them.
pub fn program_info(i: wit::ProgramInfo) -> Result<ProgramInfo, String> {
    for (what, text) in texts(&i) {
        if !tarsal_core::text::is_clean(text, usize::MAX) {
            return Err(format!(
                "its {} contains a control character: {}",
                tarsal_core::text::one_line(&what, 120),
                tarsal_core::text::one_line(text, 120)
            ));
        }
    }
    let id_ok = !i.id.is_empty()
        && i.id.len() <= 40
        && i.id.starts_with(|c: char| c.is_ascii_lowercase())
        && i.id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    check(id_ok, || {
        format!(
            "id `{}` is not usable: use 1–40 lower-case letters, digits and dashes, starting with a letter",
            tarsal_core::text::echo(&i.id)
        )
    })?;
    text(&i.name, "name", 1, 80)?;
    text(&i.description, "description", 0, 600)?;
    text(&i.version, "version", 1, 40)?;
    check((1..=4 * 3600).contains(&i.duration_s), || {
        format!(
            "duration {} s is not plausible; allowed: 1 s to 4 h",
            i.duration_s
        )
    })?;
    check((1..=64).contains(&i.steps.len()), || {
        format!("{} steps; allowed: 1–64", i.steps.len())
    })?;
    for (n, s) in i.steps.iter().enumerate() {
        text(&s.title, &format!("step {n} title"), 1, 120)?;
        if let Some(a) = &s.staff_action {
            text(a, &format!("step {n} staff action"), 1, 600)?;
        }
    }
    check(i.options.len() <= 16, || {
        format!("{} options; allowed: at most 16", i.options.len())
    })?;
    let mut options = Vec::new();
    for o in &i.options {
        let key_ok = !o.key.is_empty()
            && o.key.len() <= 40
            && o.key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        check(key_ok, || {
            format!(
                "option key `{}` is not usable",
                tarsal_core::text::echo(&o.key)
            )
        })?;
        check(options.iter().all(|x: &OptionSpec| x.key != o.key), || {
            format!("option `{}` is declared twice", o.key)
        })?;
        text(&o.label, &format!("option `{}` label", o.key), 1, 80)?;
        let kind = match &o.kind {
            wit::OptionKind::Flag(default) => OptionKind::Bool { default: *default },
            wit::OptionKind::Integer(r) => {
                check(r.min <= r.default && r.default <= r.max, || {
                    format!(
                        "option `{}`: default {} is not within {}–{}",
                        o.key, r.default, r.min, r.max
                    )
                })?;
                OptionKind::Int {
                    min: r.min,
                    max: r.max,
                    default: r.default,
                }
            }
            wit::OptionKind::Choice(c) => {
                check((1..=16).contains(&c.choices.len()), || {
                    format!(
                        "option `{}` has {} choices; allowed: 1–16",
                        o.key,
                        c.choices.len()
                    )
                })?;
                check(c.choices.iter().any(|x| x.value == c.default), || {
                    format!(
                        "option `{}`: default `{}` is not one of its choices",
                        o.key, c.default
                    )
                })?;
                OptionKind::Choice {
                    choices: c
                        .choices
                        .iter()
                        .map(|x| Choice {
                            value: x.value.clone(),
                            label: x.label.clone(),
                        })
                        .collect(),
                    default: c.default.clone(),
                }
            }
        };
        options.push(OptionSpec {
            key: o.key.clone(),
            label: o.label.clone(),
            description: o.description.clone(),
            kind,
        });
    }
    check(i.contraindications.len() <= 32, || {
        "more than 32 contraindications".into()
    })?;
    for c in &i.contraindications {
        text(c, "contraindication", 1, 200)?;
    }
    check(i.translations.len() <= 16, || {
        "more than 16 translations".into()
    })?;
    for t in &i.translations {
        text(&t.language, "translation language", 2, 16)?;
        check(t.steps.len() == i.steps.len(), || {
            format!(
                "translation `{}` has {} steps, the program {}",
                t.language,
                t.steps.len(),
                i.steps.len()
            )
        })?;
        check(
            t.contraindications.len() == i.contraindications.len(),
            || {
                format!(
                    "translation `{}` has {} contraindications, the program {}",
                    t.language,
                    t.contraindications.len(),
                    i.contraindications.len()
                )
            },
        )?;
    }
    let step_info = |s: &wit::StepInfo| StepInfo {
        title: s.title.clone(),
        staff_action: s.staff_action.clone(),
    };
    Ok(ProgramInfo {
        id: i.id.clone(),
        name: i.name.clone(),
        description: i.description.clone(),
        version: i.version.clone(),
        duration: Duration::from_secs(u64::from(i.duration_s)),
        steps: i.steps.iter().map(step_info).collect(),
        options,
        contraindications: i.contraindications.clone(),
        uses: Equipment {
            foot_rollers: i.uses.foot_rollers,
            calf_units: i.uses.calf_units,
            sole_heat: i.uses.sole_heat,
            calf_heat: i.uses.calf_heat,
            bath: i.uses.bath,
        },
        translations: i
            .translations
            .iter()
            .map(|t| ProgramTranslation {
                language: t.language.clone(),
                name: t.name.clone(),
                description: t.description.clone(),
                steps: t.steps.iter().map(step_info).collect(),
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
            })
            .collect(),
    })
}

fn check(ok: bool, problem: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(problem()) }
}

fn text(value: &str, what: &str, min: usize, max: usize) -> Result<(), String> {
    let n = value.chars().count();
    check(n >= min && n <= max, || {
        if n < min {
            format!("{what} is empty")
        } else {
            format!("{what} is {n} characters long; allowed: at most {max}")
        }
    })
}
