//! The chair as client adapters show it: a [`ChairStatus`] flattened once —
//! the step in words, the staff instruction while the program waits, faults
//! with their words, codes for states and sources, readings rounded to what
//! a person reads — so D-Bus, MQTT and the panel cannot drift apart. Each
//! adapter only maps this onto its wire (D-Bus has no `None`, MQTT's JSON
//! does).

use crate::engine::ChairStatus;
use crate::model::HeaterId;
use std::collections::BTreeMap;
use std::time::Duration;

/// What a client shows of the chair.
#[derive(Clone, Debug, PartialEq)]
pub struct ChairView {
    /// `idle`, `preparing`, `running`, `paused`, `finishing`, `fault`, `estop`, `service`.
    pub state: &'static str,
    /// The current session, if any.
    pub session: Option<SessionView>,
    /// Latched faults in words, oldest first.
    pub faults: Vec<FaultView>,
    /// Who latched the emergency stop (`button`, `local`, `remote`, `service`).
    pub emergency_stop: Option<&'static str>,
    /// The last session that ended: its id and outcome code.
    pub last_session: Option<(u64, &'static str)>,
    /// Sensor readings, rounded for people.
    pub readings: ReadingsView,
    /// Heater setpoints in force, by heater code, in °C.
    pub setpoints_c: BTreeMap<&'static str, f64>,
    /// A manual fill or drain in progress: `fill`, `drain`.
    pub manual_bath: Option<&'static str>,
    /// A client session ended since the bath was last sanitized.
    pub sanitation_owed: bool,
    /// The salon requires sanitizing between clients.
    pub sanitation_required: bool,
    /// Program files not loaded: (file, reason).
    pub program_problems: Vec<(String, String)>,
    /// The programs are still loading: more will be offered soon.
    pub programs_loading: bool,
    /// Changes whenever the set of programs may have changed: clients list them again.
    pub programs_revision: u64,
}

/// The session running now.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionView {
    /// The session's id.
    pub id: u64,
    /// The program's id.
    pub program: String,
    /// The program's name, in English.
    pub program_name: String,
    /// The current step in words.
    pub step: String,
    /// 0-based.
    pub step_index: u32,
    /// How many steps the program has.
    pub step_count: u32,
    /// 0–1, to a thousandth.
    pub progress: f64,
    /// Program time, pauses excluded.
    pub elapsed: Duration,
    /// Expected time left.
    pub remaining: Duration,
    /// Intensity in force, 1–5.
    pub intensity: u8,
    /// Heat allowed (staff may switch it during the session).
    pub heat: bool,
    /// Foot bath allowed.
    pub bath: bool,
    /// The program waits for staff to confirm the current step.
    pub awaiting_staff: bool,
    /// What staff are asked to do, while the program waits for them.
    pub staff_action: Option<String>,
}

/// A latched fault, in words.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultView {
    /// The fault's code, e.g. `fault.over_temperature`.
    pub code: &'static str,
    /// What happened, in words.
    pub message: String,
    /// What staff should do about it.
    pub advice: String,
}

/// Sensor readings as people read them: temperatures and levels to a tenth.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReadingsView {
    /// Water temperature in °C.
    pub water_temperature_c: f64,
    /// Water in the bath, in litres.
    pub water_level_l: f64,
    /// Sole heat pad temperature in °C.
    pub sole_pad_temperature_c: f64,
    /// Calf heat pad temperature in °C.
    pub calf_pad_temperature_c: f64,
    /// Feet are on the footrest.
    pub feet_present: bool,
    /// The leak sensor under the bath is wet.
    pub leak_detected: bool,
    /// The emergency-stop button is pressed.
    pub emergency_button_pressed: bool,
}

/// `v` to the nearest `step` (0.1, 0.001…), as the nearest double to the
/// decimal: 31.9, not 31.900000000000002. NaN and infinities stay as they are.
pub fn round_to(v: f64, step: f64) -> f64 {
    if v.is_finite() {
        let per_unit = (1.0 / step).round();
        (v * per_unit).round() / per_unit
    } else {
        v
    }
}

/// Heater setpoints in force, by heater code, in °C.
pub fn setpoints_c(s: &ChairStatus) -> BTreeMap<&'static str, f64> {
    s.setpoints
        .iter()
        .filter_map(|(h, sp)| sp.map(|c| (h.code(), c.0)))
        .collect()
}

impl ReadingsView {
    /// The readings alone, for telemetry, which needs nothing else.
    pub fn of(s: &ChairStatus) -> Self {
        let t = &s.sensors.temperatures;
        Self {
            water_temperature_c: round_to(t[HeaterId::Water].0, 0.1),
            water_level_l: round_to(s.sensors.water_level.0, 0.1),
            sole_pad_temperature_c: round_to(t[HeaterId::SolePad].0, 0.1),
            calf_pad_temperature_c: round_to(t[HeaterId::CalfPad].0, 0.1),
            feet_present: s.sensors.feet_present,
            leak_detected: s.sensors.leak_detected,
            emergency_button_pressed: s.sensors.estop_pressed,
        }
    }
}

impl ChairView {
    /// Flattens a status snapshot for clients.
    pub fn of(s: &ChairStatus) -> Self {
        Self {
            state: s.state.code(),
            session: s.session.as_ref().map(|x| {
                let step = x.program.steps.get(x.step as usize);
                SessionView {
                    id: x.id.0,
                    program: x.program.id.clone(),
                    program_name: x.program.name.clone(),
                    step: x.step_title().to_owned(),
                    step_index: x.step,
                    step_count: x.program.steps.len() as u32,
                    progress: round_to(x.progress, 0.001),
                    elapsed: x.elapsed,
                    remaining: x.remaining,
                    intensity: x.intensity.level(),
                    heat: x.heat,
                    bath: x.options.bath,
                    awaiting_staff: x.awaiting_staff,
                    staff_action: step
                        .filter(|_| x.awaiting_staff)
                        .and_then(|st| st.staff_action.clone()),
                }
            }),
            faults: s
                .faults
                .iter()
                .map(|f| FaultView {
                    code: f.code(),
                    message: f.message(),
                    advice: f.advice(),
                })
                .collect(),
            emergency_stop: s.estop.map(|src| src.code()),
            last_session: s.last_session.map(|(id, o)| (id.0, o.code())),
            readings: ReadingsView::of(s),
            setpoints_c: setpoints_c(s),
            manual_bath: s.manual_bath.map(|a| a.code()),
            sanitation_owed: s.sanitation_owed,
            sanitation_required: s.sanitation_required,
            program_problems: s
                .program_problems
                .iter()
                .map(|p| (p.file.clone(), p.reason.clone()))
                .collect(),
            programs_loading: s.programs_loading,
            programs_revision: s.programs_revision,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_gives_the_decimal_a_person_reads() {
        assert_eq!(round_to(31.900000000000002, 0.1), 31.9);
        assert_eq!(round_to(0.12345, 0.001), 0.123);
        assert!(round_to(f64::NAN, 0.1).is_nan());
    }

    #[test]
    fn an_idle_chair_has_no_session_and_its_codes() {
        let view = ChairView::of(&ChairStatus::default());
        assert_eq!(view.state, "idle");
        assert!(view.session.is_none() && view.faults.is_empty());
        assert_eq!(view.emergency_stop, None);
        assert_eq!(view.manual_bath, None);
    }
}
