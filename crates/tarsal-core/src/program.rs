//! The contract between the engine and a massage program. The engine drives a
//! program through [`Program`]; built-in native programs and WebAssembly plugins
//! implement the same trait. A program only *requests*; the supervisor decides.

use crate::model::{Request, SensorReadings};
use crate::profile::{ChairProfile, Equipment};
use crate::session::{OptionValue, SessionOptions};
use crate::units::{Celsius, Hertz, Intensity, Litres, Percent, PercentPerSecond};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// What a program says about itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProgramInfo {
    /// Stable id, e.g. `classic`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// One or two sentences for the program card.
    pub description: String,
    /// The program's own version.
    pub version: String,
    /// Expected length at default options.
    pub duration: Duration,
    /// The program's steps, in order.
    pub steps: Vec<StepInfo>,
    /// The options staff may set when starting it.
    pub options: Vec<OptionSpec>,
    /// Conditions under which the program must not be used, in plain words.
    pub contraindications: Vec<String>,
    /// The chair parts it drives.
    pub uses: Equipment,
    /// The program's words in other languages.
    pub translations: Vec<ProgramTranslation>,
}

/// A program's texts in another language. Steps and contraindications are in
/// the same order as the program's own; option texts are by key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProgramTranslation {
    /// BCP 47 tag such as `vi`.
    pub language: String,
    /// Display name in this language.
    pub name: String,
    /// Description in this language.
    pub description: String,
    /// Steps in this language: same order and count as the program's.
    pub steps: Vec<StepInfo>,
    /// Contraindications in this language, in the program's order.
    pub contraindications: Vec<String>,
    /// Option texts in this language, by key.
    pub options: Vec<OptionText>,
}

/// An option's texts in another language.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptionText {
    /// The option's key, as in [`OptionSpec::key`].
    pub key: String,
    /// The option's label in this language.
    pub label: String,
    /// The option's description in this language.
    pub description: String,
    /// Labels of the choices, in the order declared.
    pub choice_labels: Vec<String>,
}

impl ProgramInfo {
    /// Checks `options` against the declared option specs and fills in defaults.
    /// Staff's heat and bath permissions follow what the program declares:
    /// a program that does not use the bath runs with the bath off.
    pub fn resolve_options(&self, options: &SessionOptions) -> Result<SessionOptions, OptionError> {
        let mut resolved = options.clone();
        resolved.bath = options.bath && self.uses.bath;
        let heats = self.uses.sole_heat || self.uses.calf_heat || self.uses.bath;
        resolved.heat = options.heat && heats;
        for key in options.values.keys() {
            if !self.options.iter().any(|o| &o.key == key) {
                let key = crate::text::echo(key);
                return Err(OptionError {
                    key: key.clone().into_owned(),
                    problem: format!(
                        "program `{}` has no option `{key}`; it has: {}",
                        self.id,
                        self.option_keys()
                    ),
                });
            }
        }
        for spec in &self.options {
            match options.values.get(&spec.key) {
                None => {
                    resolved
                        .values
                        .insert(spec.key.clone(), spec.kind.default());
                }
                Some(value) => spec.kind.check(value).map_err(|problem| OptionError {
                    key: spec.key.clone(),
                    problem,
                })?,
            }
        }
        Ok(resolved)
    }

    fn option_keys(&self) -> String {
        if self.options.is_empty() {
            "no options".into()
        } else {
            self.options
                .iter()
                .map(|o| o.key.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    }

    /// The title of step `index`, or a neutral word when out of range.
    pub fn step_title(&self, index: usize) -> &str {
        self.steps.get(index).map_or("", |s| s.title.as_str())
    }
}

/// A session option that does not fit the program.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("option `{key}`: {problem}")]
pub struct OptionError {
    /// The option's key.
    pub key: String,
    /// What is wrong and what is allowed, in words.
    pub problem: String,
}

/// One step of a program, as shown to staff.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepInfo {
    /// What the step is called, for staff.
    pub title: String,
    /// Set for steps where the program waits for staff to do something and
    /// confirm it (add disinfectant, scrub…): what to do, in plain words.
    pub staff_action: Option<String>,
}

/// A program-specific option.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptionSpec {
    /// Key in the session options, e.g. `minutes`.
    pub key: String,
    /// Short name shown to staff.
    pub label: String,
    /// What the option does, in words.
    pub description: String,
    /// What values it takes, and its default.
    pub kind: OptionKind,
}

/// What values an option takes, with its range and default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum OptionKind {
    /// On or off.
    Bool {
        /// The value when staff choose none.
        default: bool,
    },
    /// A whole number in a range.
    Int {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
        /// The value when staff choose none.
        default: i64,
    },
    /// One of a fixed list.
    Choice {
        /// The allowed choices, in display order.
        choices: Vec<Choice>,
        /// The `value` of the choice taken when staff choose none.
        default: String,
    },
}

/// One allowed value of a choice option.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// The value as it appears in the session options.
    pub value: String,
    /// Words for staff.
    pub label: String,
}

impl OptionKind {
    /// The value used when staff choose none.
    pub fn default(&self) -> OptionValue {
        match self {
            Self::Bool { default } => OptionValue::Bool(*default),
            Self::Int { default, .. } => OptionValue::Int(*default),
            Self::Choice { default, .. } => OptionValue::Text(default.clone()),
        }
    }

    /// `Err` says what is allowed.
    pub fn check(&self, value: &OptionValue) -> Result<(), String> {
        let shown = value.to_string();
        let v = crate::text::echo(&shown);
        match (self, value) {
            (Self::Bool { .. }, OptionValue::Bool(_)) => Ok(()),
            (Self::Int { min, max, .. }, OptionValue::Int(v)) if v >= min && v <= max => Ok(()),
            (Self::Int { min, max, .. }, _) => Err(format!(
                "`{v}` is not allowed; allowed: a whole number {min}–{max}"
            )),
            (Self::Choice { choices, .. }, OptionValue::Text(v))
                if choices.iter().any(|c| &c.value == v) =>
            {
                Ok(())
            }
            (Self::Choice { choices, .. }, _) => Err(format!(
                "`{v}` is not allowed; allowed: {}",
                choices
                    .iter()
                    .map(|c| c.value.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            (Self::Bool { .. }, _) => Err(format!("`{v}` is not allowed; allowed: true, false")),
        }
    }
}

/// The chair's limits as a program sees them for the current intensity, so it
/// can stay inside them (a program that does is never clamped).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChairLimits {
    /// Highest foot node pressure at this intensity.
    pub foot_pressure_ceiling: Percent,
    /// How fast foot node pressure may rise (falling is never limited).
    pub foot_pressure_ramp: PercentPerSecond,
    /// Fastest carriage travel.
    pub travel_speed_max: PercentPerSecond,
    /// Fastest kneading.
    pub knead_rate_max: Hertz,
    /// Fastest tapping.
    pub tap_rate_max: Hertz,
    /// Fastest vibration.
    pub vibrate_rate_max: Hertz,
    /// Highest calf cell pressure at this intensity.
    pub cell_pressure_ceiling: Percent,
    /// How fast calf cell pressure may rise.
    pub cell_pressure_ramp: PercentPerSecond,
    /// Fastest calf kneading roller speed.
    pub kneading_speed_max: Percent,
    /// Highest sole heat pad setpoint (0 °C without a sole pad).
    pub sole_pad_setpoint_max: Celsius,
    /// Highest calf heat pad setpoint (0 °C without a calf pad).
    pub calf_pad_setpoint_max: Celsius,
    /// Highest water setpoint (0 °C without a bath).
    pub water_setpoint_max: Celsius,
    /// Heater and jets run only above this water level.
    pub bath_min_level: Litres,
    /// The fill valve closes at this water level.
    pub bath_max_level: Litres,
}

impl ChairLimits {
    /// The limits of `profile` at `intensity`; zero for parts the chair does not have.
    pub fn for_intensity(profile: &ChairProfile, intensity: Intensity) -> Self {
        let mut l = Self::default();
        if let Some(f) = &profile.foot_rollers {
            l.foot_pressure_ceiling = f.pressure_ceiling(intensity);
            l.foot_pressure_ramp = f.pressure_ramp_max;
            l.travel_speed_max = f.travel_speed_max;
            l.knead_rate_max = f.knead_rate_max;
            l.tap_rate_max = f.tap_rate_max;
            l.vibrate_rate_max = f.vibrate_rate_max;
        }
        if let Some(c) = &profile.calf_units {
            l.cell_pressure_ceiling = c.pressure_ceiling(intensity);
            l.cell_pressure_ramp = c.pressure_ramp_max;
            l.kneading_speed_max = c.kneading_speed_max;
        }
        // Each pad its own ceiling: one value for both would have to be the
        // higher, and a program inside it could still be clamped.
        let ceiling = |pad: &Option<crate::profile::HeaterSpec>| {
            pad.as_ref().map_or(Celsius::ZERO, |h| h.setpoint_max)
        };
        l.sole_pad_setpoint_max = ceiling(&profile.heat_pads.sole);
        l.calf_pad_setpoint_max = ceiling(&profile.heat_pads.calf);
        if let Some(b) = &profile.bath {
            l.water_setpoint_max = b.heater.setpoint_max;
            l.bath_min_level = b.min_level;
            l.bath_max_level = b.max_level;
        }
        l
    }
}

/// What the engine gives a program each tick.
#[derive(Clone, Copy, Debug)]
pub struct ProgramInput<'a> {
    /// Time the program has been running, pauses excluded.
    pub elapsed: Duration,
    /// Time since the previous call.
    pub dt: Duration,
    /// Intensity in force; staff may change it during the session.
    pub intensity: Intensity,
    /// Staff allow heat (may change during the session).
    pub heat: bool,
    /// Staff allow the foot bath.
    pub bath: bool,
    /// This tick's sensor readings.
    pub sensors: &'a SensorReadings,
    /// The chair's limits at the current intensity.
    pub limits: &'a ChairLimits,
    /// What the chair is actually doing (the last outputs, with the setpoints
    /// in force), so a program ramps from reality after a pause or interlock.
    pub applied: &'a Request,
    /// How many staff steps have been confirmed so far this session.
    pub staff_confirmations: u32,
}

/// What a program answers each tick.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProgramOutput {
    /// What the program would like the chair to do this tick.
    pub request: Request,
    /// Index into [`ProgramInfo::steps`].
    pub step: u32,
    /// 0–1 through the whole program.
    pub progress: f64,
    /// Expected time left, if the program knows better than its estimate.
    pub remaining: Option<Duration>,
    /// Whether the program goes on, waits for staff, or is done.
    pub status: ProgramStatus,
}

/// Where a program stands after a tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgramStatus {
    /// Running normally.
    Running,
    /// Waiting for staff to confirm the current step's staff action.
    AwaitingStaff,
    /// Done: the engine parks the rollers and ends the session.
    Finished,
}

/// Why a program could not go on. The engine latches a fault naming it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{kind}: {message}")]
pub struct ProgramError {
    /// What kind of failure.
    pub kind: ProgramErrorKind,
    /// What happened, in words.
    pub message: String,
}

/// How a program failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgramErrorKind {
    /// The program crashed (a WebAssembly trap, a panic).
    Trap,
    /// It ran past its time budget for one call.
    Timeout,
    /// It tried to use more memory than allowed.
    MemoryLimit,
    /// It returned something that is not a valid answer.
    InvalidOutput,
    /// It failed for a reason of its own.
    Failed,
    /// It wrote more log lines in one call than allowed, or its log lines
    /// used up its instruction budget.
    LogLimit,
    /// It handed the host more data in one go (a log line, a returned
    /// error or description) than allowed.
    TooMuchData,
}

impl ProgramErrorKind {
    /// Stable machine-readable name, as serialized: `trap`, `timeout`…
    pub const fn code(self) -> &'static str {
        match self {
            Self::Trap => "trap",
            Self::Timeout => "timeout",
            Self::MemoryLimit => "memory_limit",
            Self::InvalidOutput => "invalid_output",
            Self::Failed => "failed",
            Self::LogLimit => "log_limit",
            Self::TooMuchData => "too_much_data",
        }
    }
}

impl fmt::Display for ProgramErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Trap => "crashed",
            Self::Timeout => "took too long",
            Self::MemoryLimit => "used too much memory",
            Self::InvalidOutput => "returned invalid data",
            Self::Failed => "failed",
            Self::LogLimit => "logged too much",
            Self::TooMuchData => "handed over too much data",
        })
    }
}

/// A running program instance.
pub trait Program: Send {
    /// One control-loop tick: the program's request and progress, or why it cannot go on.
    fn tick(&mut self, input: &ProgramInput<'_>) -> Result<ProgramOutput, ProgramError>;
}

/// Where programs come from: a list to show and a way to start one.
pub trait ProgramCatalog: Send {
    /// Every program on offer.
    fn programs(&self) -> Vec<Arc<ProgramInfo>>;

    /// A fresh instance of program `id` for a session with `options` (already
    /// resolved against the program's declared options).
    fn instantiate(
        &mut self,
        id: &str,
        options: &SessionOptions,
    ) -> Result<(Arc<ProgramInfo>, Box<dyn Program>), CatalogError>;

    /// The error for a program id the catalog does not have: what it has
    /// instead (and, for catalogs that load files, what failed to load).
    fn unknown(&self, id: &str) -> CatalogError {
        let mut ids: Vec<String> = self.programs().iter().map(|p| p.id.clone()).collect();
        ids.sort();
        CatalogError::Unknown {
            id: id.to_owned(),
            available: ids.join(", "),
        }
    }

    /// Program files that could not be offered, and why.
    fn problems(&self) -> Vec<CatalogProblem> {
        Vec::new()
    }

    /// More programs are still being loaded (the service has just started).
    fn loading(&self) -> bool {
        false
    }
}

/// A program file that could not be offered, and why (shown to staff,
/// technicians and operators).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogProblem {
    /// The program file.
    pub file: String,
    /// Why it could not be offered.
    pub reason: String,
}

/// Why a program could not be started.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// There is no program with this id.
    #[error("there is no program `{id}`; available: {available}")]
    Unknown {
        /// The id asked for.
        id: String,
        /// The ids there are, comma-separated.
        available: String,
    },
    /// The program itself refused to start with these options.
    #[error("program `{id}` declined to start: {reason}")]
    Declined {
        /// The program's id.
        id: String,
        /// The program's reason.
        reason: String,
    },
    /// Starting the program failed: no instance could be made, or its start call
    /// crashed or broke a limit.
    #[error("program `{id}` could not be started: {reason}")]
    Failed {
        /// The program's id.
        id: String,
        /// What went wrong.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_error_codes_are_their_serialized_names() {
        use ProgramErrorKind::*;
        for kind in [
            Trap,
            Timeout,
            MemoryLimit,
            InvalidOutput,
            Failed,
            LogLimit,
            TooMuchData,
        ] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.code());
        }
    }

    /// A chair whose pads differ: each pad's limit is its own, so a program
    /// that asks each pad for its limit is never clamped (one shared value
    /// would be the higher, and the cooler pad would be clamped).
    #[test]
    fn each_heat_pad_has_its_own_limit() {
        let mut profile = ChairProfile::standard();
        if let Some(calf) = profile.heat_pads.calf.as_mut() {
            calf.setpoint_max = Celsius(39.0);
        }
        let limits = ChairLimits::for_intensity(&profile, Intensity::DEFAULT);
        assert_eq!(limits.sole_pad_setpoint_max, Celsius(42.0));
        assert_eq!(limits.calf_pad_setpoint_max, Celsius(39.0));
        // A chair without a calf pad gives the program nothing to heat there.
        profile.heat_pads.calf = None;
        let limits = ChairLimits::for_intensity(&profile, Intensity::DEFAULT);
        assert_eq!(limits.calf_pad_setpoint_max, Celsius::ZERO);
    }

    fn info() -> ProgramInfo {
        ProgramInfo {
            id: "p".into(),
            name: "P".into(),
            description: String::new(),
            version: "1".into(),
            duration: Duration::from_secs(60),
            steps: vec![],
            options: vec![
                OptionSpec {
                    key: "minutes".into(),
                    label: "Minutes".into(),
                    description: String::new(),
                    kind: OptionKind::Int {
                        min: 1,
                        max: 20,
                        default: 2,
                    },
                },
                OptionSpec {
                    key: "mood".into(),
                    label: "Mood".into(),
                    description: String::new(),
                    kind: OptionKind::Choice {
                        choices: vec![
                            Choice {
                                value: "calming".into(),
                                label: "Calming".into(),
                            },
                            Choice {
                                value: "stimulating".into(),
                                label: "Stimulating".into(),
                            },
                        ],
                        default: "calming".into(),
                    },
                },
            ],
            contraindications: vec![],
            uses: Equipment::default(),
            translations: vec![],
        }
    }

    #[test]
    fn defaults_are_filled_in() {
        let resolved = info().resolve_options(&SessionOptions::default()).unwrap();
        assert_eq!(resolved.values["minutes"], OptionValue::Int(2));
        assert_eq!(resolved.values["mood"], OptionValue::Text("calming".into()));
    }

    #[test]
    fn out_of_range_and_unknown_options_say_what_is_allowed() {
        let mut o = SessionOptions::default();
        o.values.insert("minutes".into(), OptionValue::Int(40));
        let e = info().resolve_options(&o).unwrap_err();
        assert_eq!(e.key, "minutes");
        assert!(e.problem.contains("1–20"), "{e}");

        let mut o = SessionOptions::default();
        o.values
            .insert("mood".into(), OptionValue::Text("angry".into()));
        let e = info().resolve_options(&o).unwrap_err();
        assert!(e.problem.contains("calming, stimulating"), "{e}");

        let mut o = SessionOptions::default();
        o.values
            .insert("colour".into(), OptionValue::Text("red".into()));
        let e = info().resolve_options(&o).unwrap_err();
        assert!(e.problem.contains("minutes, mood"), "{e}");
    }
}
