//! Everything worth knowing that happens to the chair: session milestones,
//! clamps, interlocks (refusals), faults, emergency stops. Each event has a
//! stable machine-readable code (for MQTT, the panel, translations), a severity,
//! and plain-language text for staff: what happened and what to do.

pub use crate::command::StopSource;
use crate::config_file::human_duration;
use crate::hardware::HardwareProblem;
use crate::model::{ActuatorId, CalfCell, HeaterId, NodeMotion, SensorId, Side};
use crate::profile::EquipmentPart;
use crate::program::ProgramErrorKind;
use crate::session::{Outcome, SessionId, SessionOptions};
use crate::units::{Amps, Celsius, Hertz, Intensity, Litres, Percent, PercentPerSecond};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// One event, stamped with engine time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Engine clock (time since the control loop started).
    pub at: Duration,
    /// The session it belongs to, if any.
    pub session: Option<SessionId>,
    /// What happened.
    pub kind: EventKind,
}

/// How serious an event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A normal milestone.
    Info,
    /// A clamp or refusal: the chair did less than asked, to stay safe.
    Warning,
    /// A fault or emergency stop: the chair is in the safe state.
    Critical,
}

impl Severity {
    /// Stable machine-readable name (as serialized): `info`, `warning`, `critical`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

/// Every event code the service can emit, for clients that translate them
/// (the panel's catalogues are checked against this list).
pub const EVENT_CODES: &[&str] = &[
    "session.started",
    "session.running",
    "session.paused",
    "session.resumed",
    "session.completed",
    "session.stopped",
    "session.time_limit",
    "session.aborted",
    "session.emergency_stop",
    "session.interrupted",
    "session.intensity",
    "session.heat",
    "session.staff_confirmed",
    "sanitation.complete",
    "sanitation.incomplete",
    "bath.fill",
    "bath.drain",
    "bath.stop",
    "bath.done",
    "service.entered",
    "service.left",
    "service.command",
    "estop.pressed",
    "chair.reset",
    "program.refused",
    "clamp.setpoint",
    "clamp.pressure",
    "clamp.pressure_ramp",
    "clamp.travel_speed",
    "clamp.motion_rate",
    "clamp.kneading_speed",
    "interlock.no_feet",
    "interlock.dry_run",
    "interlock.bath_full",
    "interlock.not_fitted",
    "interlock.not_declared",
    "interlock.awaiting_staff",
    "fault.sensor_out_of_range",
    "fault.over_temperature",
    "fault.heater_no_rise",
    "fault.heater_out_of_band",
    "fault.heater_no_response",
    "fault.fill_timeout",
    "fault.fill_no_flow",
    "fault.overfill",
    "fault.level_drop",
    "fault.leak_detected",
    "fault.drain_blocked",
    "fault.unexpected_inflow",
    "fault.roller_stall",
    "fault.cell_overpressure",
    "fault.loop_overrun",
    "fault.program",
    "fault.invalid_request",
    "fault.hardware",
];

/// What happened: one variant per kind of event, each with a stable code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum EventKind {
    /// A session was accepted and is preparing (`session.started`).
    SessionStarted {
        /// The program's id.
        program: String,
        /// The program's version.
        program_version: String,
        /// The options it was started with.
        options: SessionOptions,
    },
    /// The session began running (`session.running`).
    SessionRunning,
    /// Staff paused the session (`session.paused`).
    SessionPaused,
    /// Staff resumed the session (`session.resumed`).
    SessionResumed,
    /// The session ended (`session.completed`, `session.stopped`…, by outcome).
    SessionEnded {
        /// How it ended.
        outcome: Outcome,
        /// Why, in plain words.
        detail: String,
    },
    /// Staff changed the intensity (`session.intensity`).
    IntensityChanged {
        /// The new intensity.
        intensity: Intensity,
    },
    /// Staff switched heat on or off (`session.heat`).
    HeatSwitched {
        /// Whether heat is now on.
        on: bool,
    },
    /// Staff confirmed a step the program waited for (`session.staff_confirmed`).
    StaffStepConfirmed {
        /// The step's title.
        step: String,
        /// Who confirmed (may be empty).
        initials: String,
    },
    /// A sanitize cycle ended and was logged.
    SanitationLogged(crate::sanitation::SanitationRecord),
    /// Filling or draining by hand began or was stopped.
    ManualBath {
        /// Fill, drain or stop.
        action: crate::command::BathAction,
    },
    /// A manual fill or drain reached its level.
    ManualBathDone {
        /// The water level when it finished.
        level: Litres,
    },
    /// A technician entered or left service mode (`service.entered`, `service.left`).
    ServiceMode {
        /// Entered (`true`) or left (`false`).
        on: bool,
    },
    /// A technician drove an actuator in service mode.
    ServiceCommand {
        /// The command, as the technician gave it.
        command: crate::command::ManualCommand,
    },
    /// The supervisor reduced a request to a limit.
    Clamp(Clamp),
    /// The supervisor refused part of a request.
    Interlock(Interlock),
    /// A fault was found; the chair stays in the safe state until reset.
    Fault(Fault),
    /// The emergency stop was latched (`estop.pressed`).
    EmergencyStop {
        /// Where it came from.
        source: StopSource,
    },
    /// Latched faults or the emergency stop were reset.
    Reset {
        /// Codes of what was cleared: fault codes, and `estop`.
        cleared: Vec<String>,
    },
    /// A program file in the programs directory was not loaded.
    ProgramRefused {
        /// The program file.
        file: String,
        /// Why it was not loaded.
        reason: String,
    },
}

impl EventKind {
    /// Stable machine-readable code, e.g. `session.started`; every one is in [`EVENT_CODES`].
    pub fn code(&self) -> &'static str {
        match self {
            Self::SessionStarted { .. } => "session.started",
            Self::SessionRunning => "session.running",
            Self::SessionPaused => "session.paused",
            Self::SessionResumed => "session.resumed",
            Self::SessionEnded { outcome, .. } => match outcome {
                Outcome::Completed => "session.completed",
                Outcome::Stopped => "session.stopped",
                Outcome::TimeLimit => "session.time_limit",
                Outcome::Aborted => "session.aborted",
                Outcome::EmergencyStop => "session.emergency_stop",
                Outcome::Interrupted => "session.interrupted",
            },
            Self::IntensityChanged { .. } => "session.intensity",
            Self::HeatSwitched { .. } => "session.heat",
            Self::StaffStepConfirmed { .. } => "session.staff_confirmed",
            Self::SanitationLogged(r) if r.complete => "sanitation.complete",
            Self::SanitationLogged(_) => "sanitation.incomplete",
            Self::ManualBath { action } => match action {
                crate::command::BathAction::Fill { .. } => "bath.fill",
                crate::command::BathAction::Drain => "bath.drain",
                crate::command::BathAction::Stop => "bath.stop",
            },
            Self::ManualBathDone { .. } => "bath.done",
            Self::ServiceMode { on: true } => "service.entered",
            Self::ServiceMode { on: false } => "service.left",
            Self::ServiceCommand { .. } => "service.command",
            Self::Clamp(c) => c.code(),
            Self::Interlock(i) => i.code(),
            Self::Fault(f) => f.code(),
            Self::EmergencyStop { .. } => "estop.pressed",
            Self::Reset { .. } => "chair.reset",
            Self::ProgramRefused { .. } => "program.refused",
        }
    }

    /// How serious the event is.
    pub fn severity(&self) -> Severity {
        match self {
            Self::Clamp(_) | Self::Interlock(_) | Self::ProgramRefused { .. } => Severity::Warning,
            Self::Fault(_) | Self::EmergencyStop { .. } => Severity::Critical,
            Self::SessionEnded {
                outcome: Outcome::Aborted | Outcome::EmergencyStop | Outcome::Interrupted,
                ..
            } => Severity::Warning,
            Self::SanitationLogged(r) if !r.complete => Severity::Warning,
            _ => Severity::Info,
        }
    }

    /// What happened, in plain words.
    pub fn message(&self) -> String {
        match self {
            Self::SessionStarted { program, .. } => format!("Session started: {program}."),
            Self::SessionRunning => "The program is running.".into(),
            Self::SessionPaused => "Session paused.".into(),
            Self::SessionResumed => "Session resumed.".into(),
            Self::SessionEnded { outcome, detail } => {
                let head = match outcome {
                    Outcome::Completed => "Session completed",
                    Outcome::Stopped => "Session stopped",
                    Outcome::TimeLimit => "Session ended at the time limit",
                    Outcome::Aborted => "Session aborted",
                    Outcome::EmergencyStop => "Session ended by emergency stop",
                    Outcome::Interrupted => "Session was interrupted",
                };
                if detail.is_empty() {
                    format!("{head}.")
                } else {
                    format!("{head}: {detail}")
                }
            }
            Self::IntensityChanged { intensity } => format!("Intensity set to {intensity}."),
            Self::HeatSwitched { on } => {
                format!("Heat switched {}.", if *on { "on" } else { "off" })
            }
            Self::StaffStepConfirmed { step, initials } if initials.is_empty() => {
                format!("Staff confirmed: {step}.")
            }
            Self::StaffStepConfirmed { step, initials } => {
                format!("Staff ({initials}) confirmed: {step}.")
            }
            Self::SanitationLogged(r) if r.complete => format!(
                "Sanitation cycle logged complete: {} of circulation, bath drained.",
                human_duration(r.circulation)
            ),
            Self::SanitationLogged(r) => {
                format!("Sanitation cycle logged INCOMPLETE: {}.", r.missing)
            }
            Self::ManualBath { action } => match action {
                crate::command::BathAction::Fill { to } => format!("Filling the bath to {to}."),
                crate::command::BathAction::Drain => "Draining the bath.".into(),
                crate::command::BathAction::Stop => "Filling or draining stopped.".into(),
            },
            Self::ManualBathDone { level } => format!("The bath is at {level}."),
            Self::ServiceMode { on: true } => {
                "Service mode: a technician controls the actuators.".into()
            }
            Self::ServiceMode { on: false } => "Service mode ended.".into(),
            Self::ServiceCommand { command } => format!("Service mode: {command}."),
            Self::Clamp(c) => c.message(),
            Self::Interlock(i) => i.message(),
            Self::Fault(f) => f.message(),
            Self::EmergencyStop { source } => format!(
                "Emergency stop from {source}. All motion and heat are off, the valve is closed; the water stays in the bath."
            ),
            Self::Reset { .. } => "The chair was reset and is ready.".into(),
            Self::ProgramRefused { file, reason } => {
                format!("The program file {file} was not loaded: {reason}")
            }
        }
    }

    /// What to do about it, in plain words; empty when nothing is needed.
    pub fn advice(&self) -> String {
        match self {
            Self::Fault(f) => f.advice(),
            Self::EmergencyStop { .. } => {
                "Make sure the client is safe, release the emergency-stop button, then reset."
                    .into()
            }
            Self::Interlock(i) => i.advice(),
            Self::SanitationLogged(r) if !r.complete => {
                "Run the sanitize cycle again before the next client.".into()
            }
            Self::ProgramRefused { .. } => {
                "The other programs work as usual. Ask a technician to remove or replace the file."
                    .into()
            }
            _ => String::new(),
        }
    }
}

/// A request the supervisor reduced to stay inside the limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "clamp")]
pub enum Clamp {
    /// A heater setpoint above the heater's maximum.
    Setpoint {
        /// Which heater.
        heater: HeaterId,
        /// The setpoint asked for.
        requested: Celsius,
        /// The highest setpoint allowed.
        limit: Celsius,
    },
    /// Foot node or calf cell pressure above the ceiling for the intensity.
    Pressure {
        /// Where the pressure was asked for.
        site: PressureSite,
        /// The pressure asked for.
        requested: Percent,
        /// The ceiling at this intensity.
        limit: Percent,
        /// The intensity in force.
        intensity: Intensity,
    },
    /// Pressure raised faster than allowed.
    PressureRamp {
        /// Where the pressure was raised.
        site: PressureSite,
        /// The fastest rise allowed.
        limit: PercentPerSecond,
    },
    /// Carriage travel faster than allowed.
    TravelSpeed {
        /// Which foot roller.
        side: Side,
        /// The travel speed asked for.
        requested: PercentPerSecond,
        /// The fastest travel allowed.
        limit: PercentPerSecond,
    },
    /// A node motion faster than allowed for it.
    MotionRate {
        /// Which foot roller.
        side: Side,
        /// The motion asked for.
        motion: NodeMotion,
        /// The rate asked for.
        requested: Hertz,
        /// The highest rate allowed for that motion.
        limit: Hertz,
    },
    /// Calf kneading roller speed above the maximum.
    KneadingSpeed {
        /// Which calf unit.
        side: Side,
        /// The speed asked for.
        requested: Percent,
        /// The highest speed allowed.
        limit: Percent,
    },
}

/// Where a pressure is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "site", content = "at")]
pub enum PressureSite {
    /// The nodes of one foot roller.
    FootNodes(Side),
    /// One calf cell.
    CalfCell(Side, CalfCell),
}

impl fmt::Display for PressureSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FootNodes(s) => write!(f, "{s} foot roller"),
            Self::CalfCell(s, c) => write!(f, "{s} {c} cell"),
        }
    }
}

impl Clamp {
    /// Stable machine-readable code, e.g. `clamp.pressure`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Setpoint { .. } => "clamp.setpoint",
            Self::Pressure { .. } => "clamp.pressure",
            Self::PressureRamp { .. } => "clamp.pressure_ramp",
            Self::TravelSpeed { .. } => "clamp.travel_speed",
            Self::MotionRate { .. } => "clamp.motion_rate",
            Self::KneadingSpeed { .. } => "clamp.kneading_speed",
        }
    }

    /// What was reduced, in plain words.
    pub fn message(&self) -> String {
        match self {
            Self::Setpoint {
                heater,
                requested,
                limit,
            } => format!("The {heater} was asked for {requested}; limited to {limit}."),
            Self::Pressure {
                site,
                requested,
                limit,
                intensity,
            } => format!(
                "{requested:.0} pressure was asked of the {site}; limited to {limit:.0} at intensity {intensity}."
            ),
            Self::PressureRamp { site, limit } => {
                format!("Pressure on the {site} was raised too fast; limited to {limit:.0}.")
            }
            Self::TravelSpeed {
                side,
                requested,
                limit,
            } => format!(
                "The {side} foot roller was asked to travel at {requested:.0}; limited to {limit:.0}."
            ),
            Self::MotionRate {
                side,
                motion,
                requested,
                limit,
            } => format!(
                "The {side} foot roller was asked to {} at {requested}; limited to {limit}.",
                motion.code()
            ),
            Self::KneadingSpeed {
                side,
                requested,
                limit,
            } => format!(
                "{requested:.0} kneading speed was asked of the {side} calf; limited to {limit:.0}."
            ),
        }
    }
}

/// A request the supervisor refused because a condition forbids it right now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "interlock")]
pub enum Interlock {
    /// Rollers and calf cells stay still without feet on the footrest.
    NoFeet,
    /// The water heater or jets may not run with too little water.
    DryRun {
        /// The water heater or the jet pump.
        actuator: ActuatorId,
        /// The water level.
        level: Litres,
        /// The level it needs to exceed.
        min: Litres,
    },
    /// The fill valve closes at the maximum level.
    BathFull {
        /// The water level.
        level: Litres,
        /// The maximum level.
        max: Litres,
    },
    /// The chair has no such part.
    NotFitted {
        /// The part asked for.
        actuator: ActuatorId,
    },
    /// The program asked for a part it did not declare it uses; the part
    /// stays off for the whole session.
    NotDeclared {
        /// The part asked for.
        part: EquipmentPart,
    },
    /// The program asked the chair to work while it waits for staff; the
    /// chair idles until the step is confirmed.
    AwaitingStaff,
}

impl Interlock {
    /// Stable machine-readable code, e.g. `interlock.no_feet`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoFeet => "interlock.no_feet",
            Self::DryRun { .. } => "interlock.dry_run",
            Self::BathFull { .. } => "interlock.bath_full",
            Self::NotFitted { .. } => "interlock.not_fitted",
            Self::NotDeclared { .. } => "interlock.not_declared",
            Self::AwaitingStaff => "interlock.awaiting_staff",
        }
    }

    /// What was refused, in plain words.
    pub fn message(&self) -> String {
        match self {
            Self::NoFeet => {
                "No feet on the footrest: the rollers and calf cells are held still.".into()
            }
            Self::DryRun {
                actuator,
                level,
                min,
            } => format!(
                "The {actuator} cannot run with {level} of water; it needs more than {min}."
            ),
            Self::BathFull { level, max } => {
                format!("The bath is full ({level}, maximum {max}); the fill valve is closed.")
            }
            Self::NotFitted { actuator } => {
                format!("The {actuator} was asked for, but this chair does not have one.")
            }
            Self::NotDeclared { part } => format!(
                "The program asked for the {part}, which it did not declare it uses; the {part} stays off for this session."
            ),
            Self::AwaitingStaff => "The program asked the chair to work while it waits for staff; the chair stays idle (the water keeps its temperature) until staff confirm the step.".into(),
        }
    }

    /// What to do about it, in plain words; empty when nothing is needed.
    pub fn advice(&self) -> String {
        match self {
            Self::NoFeet => "Ask the client to rest both feet on the footrest.".into(),
            Self::DryRun { .. } => "Fill the bath first.".into(),
            Self::NotDeclared { .. } => {
                "The program card did not say it uses this part. Report the program to its developer.".into()
            }
            Self::AwaitingStaff => "Do what the step on the screen asks, then confirm it.".into(),
            _ => String::new(),
        }
    }
}

/// Why a roller was judged stalled.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "cause")]
pub enum StallCause {
    /// The motor drew more than the stall current for longer than the stall time.
    Overcurrent {
        /// The current drawn.
        current: Amps,
        /// The stall current.
        limit: Amps,
    },
    /// The carriage was told to travel but hardly moved.
    NoMovement {
        /// Travel the commanded speed should have covered.
        expected: Percent,
        /// Travel measured.
        moved: Percent,
    },
}

/// A condition that puts the chair in the safe state until reset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "fault")]
pub enum Fault {
    /// A sensor reads outside its possible range: disconnected or broken.
    SensorOutOfRange {
        /// Which sensor.
        sensor: SensorId,
        /// The raw reading (may be NaN, shown as text).
        reading: String,
        /// Lowest possible reading, in the sensor's unit.
        low: f64,
        /// Highest possible reading, in the sensor's unit.
        high: f64,
    },
    /// A heater reached its safety cutoff.
    OverTemperature {
        /// Which heater.
        heater: HeaterId,
        /// The temperature measured.
        reading: Celsius,
        /// The heater's cutoff.
        cutoff: Celsius,
    },
    /// A heater driven toward its setpoint did not warm up fast enough.
    HeaterNoRise {
        /// Which heater.
        heater: HeaterId,
        /// What it gained within the window.
        gained: Celsius,
        /// What it had to gain (`verify_rise`).
        needed: Celsius,
        /// The window (`verify_window`).
        window: Duration,
    },
    /// A heater could not hold its setpoint: it stayed below the band too long.
    HeaterOutOfBand {
        /// Which heater.
        heater: HeaterId,
        /// The temperature measured.
        reading: Celsius,
        /// The setpoint in force.
        setpoint: Celsius,
        /// How long it may stay out of band (`band_time`).
        time: Duration,
    },
    /// A heater driven hard did not warm its sensor (the sensor may be off the heater).
    HeaterNoResponse {
        /// Which heater.
        heater: HeaterId,
        /// What the sensor gained over the window.
        gained: Celsius,
        /// The window (`response_window`).
        window: Duration,
    },
    /// The bath did not fill in time.
    FillTimeout {
        /// The water level when time ran out.
        level: Litres,
        /// The fill time allowed (`fill_timeout`).
        after: Duration,
    },
    /// The fill valve was open but the level did not rise.
    FillNoFlow {
        /// The water level.
        level: Litres,
        /// The window in which it had to rise (`fill_check_window`).
        window: Duration,
    },
    /// The water is above the overflow level.
    Overfill {
        /// The water level.
        level: Litres,
        /// The overflow level.
        limit: Litres,
    },
    /// The level fell while nothing drained or filled: the bath may be leaking.
    LevelDrop {
        /// How far it fell.
        dropped: Litres,
    },
    /// The leak sensor under the bath is wet.
    LeakDetected,
    /// The drain pump ran but the level did not fall.
    DrainBlocked {
        /// The water level.
        level: Litres,
        /// The window in which it had to fall (`drain_check_window`).
        window: Duration,
    },
    /// The level rose with the fill valve closed: the valve may be stuck open.
    UnexpectedInflow {
        /// How far it rose.
        risen: Litres,
    },
    /// A foot roller is blocked or its carriage does not move.
    RollerStall {
        /// Which foot roller.
        side: Side,
        /// How the stall was found.
        cause: StallCause,
    },
    /// A calf cell reads above the overpressure limit.
    CellOverpressure {
        /// Which calf unit.
        side: Side,
        /// Which cell.
        cell: CalfCell,
        /// The pressure measured.
        reading: Percent,
        /// The overpressure limit.
        limit: Percent,
    },
    /// The control loop missed its timing; outputs were cut.
    LoopOverrun {
        /// How late the loop was.
        late_by: Duration,
    },
    /// A program failed (crashed, took too long…) and was stopped.
    Program {
        /// The program's id.
        program: String,
        /// How it failed.
        reason: ProgramErrorKind,
        /// What happened, in words.
        detail: String,
    },
    /// A request value outside what it can mean at all (a negative percentage, NaN).
    InvalidRequest {
        /// Who asked: a program id, `service-mode` or `chair`.
        program: String,
        /// The field, e.g. `feet.left.position`.
        field: String,
        /// The value, as text.
        value: String,
    },
    /// The chair's I/O failed.
    Hardware {
        /// Which kind of hardware failure.
        problem: HardwareProblem,
        /// What happened, in words.
        detail: String,
    },
}

impl Fault {
    /// Stable machine-readable code, e.g. `fault.leak_detected`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::SensorOutOfRange { .. } => "fault.sensor_out_of_range",
            Self::OverTemperature { .. } => "fault.over_temperature",
            Self::HeaterNoRise { .. } => "fault.heater_no_rise",
            Self::HeaterOutOfBand { .. } => "fault.heater_out_of_band",
            Self::HeaterNoResponse { .. } => "fault.heater_no_response",
            Self::FillTimeout { .. } => "fault.fill_timeout",
            Self::FillNoFlow { .. } => "fault.fill_no_flow",
            Self::Overfill { .. } => "fault.overfill",
            Self::LevelDrop { .. } => "fault.level_drop",
            Self::LeakDetected => "fault.leak_detected",
            Self::DrainBlocked { .. } => "fault.drain_blocked",
            Self::UnexpectedInflow { .. } => "fault.unexpected_inflow",
            Self::RollerStall { .. } => "fault.roller_stall",
            Self::CellOverpressure { .. } => "fault.cell_overpressure",
            Self::LoopOverrun { .. } => "fault.loop_overrun",
            Self::Program { .. } => "fault.program",
            Self::InvalidRequest { .. } => "fault.invalid_request",
            Self::Hardware { .. } => "fault.hardware",
        }
    }

    /// What happened, in plain words.
    pub fn message(&self) -> String {
        match self {
            Self::SensorOutOfRange {
                sensor,
                reading,
                low,
                high,
            } => format!(
                "The {sensor} reads {reading} {unit}, outside its possible range {low}–{high} {unit}: it is probably disconnected or broken.",
                unit = sensor.unit()
            ),
            Self::OverTemperature {
                heater,
                reading,
                cutoff,
            } => format!(
                "The {heater} reached {reading}, at or above its {cutoff} safety cutoff. Heat is off."
            ),
            Self::HeaterNoRise {
                heater,
                gained,
                needed,
                window,
            } => format!(
                "The {heater} is heating but its temperature rose only {gained} in {} (needs {needed}).",
                human_duration(*window)
            ),
            Self::HeaterOutOfBand {
                heater,
                reading,
                setpoint,
                time,
            } => format!(
                "The {heater} could not hold its temperature: {reading} against a setpoint of {setpoint} for {}.",
                human_duration(*time)
            ),
            Self::HeaterNoResponse {
                heater,
                gained,
                window,
            } => format!(
                "The {heater} ran at full power for {} but its sensor rose only {gained}: the sensor may not be touching the heater.",
                human_duration(*window)
            ),
            Self::FillTimeout { level, after } => format!(
                "The bath did not fill in time: {level} after {} of filling.",
                human_duration(*after)
            ),
            Self::FillNoFlow { level, window } => format!(
                "The fill valve is open but the water level ({level}) has not risen for {}.",
                human_duration(*window)
            ),
            Self::Overfill { level, limit } => {
                format!("The water level is {level}, above the overflow limit of {limit}.")
            }
            Self::LevelDrop { dropped } => format!(
                "The water level dropped by {dropped} while nothing was draining: the bath may be leaking."
            ),
            Self::LeakDetected => "The leak sensor under the bath is wet.".into(),
            Self::DrainBlocked { level, window } => format!(
                "The drain pump is on but the water level ({level}) has not dropped for {}.",
                human_duration(*window)
            ),
            Self::UnexpectedInflow { risen } => format!(
                "The water level rose by {risen} with the fill valve closed: the valve may be stuck open."
            ),
            Self::RollerStall { side, cause } => match cause {
                StallCause::Overcurrent { current, limit } => format!(
                    "The {side} foot roller motor is blocked (drawing {current}, limit {limit})."
                ),
                StallCause::NoMovement { expected, moved } => format!(
                    "The {side} foot roller did not move (moved {moved:.1} where {expected:.0} was expected)."
                ),
            },
            Self::CellOverpressure {
                side,
                cell,
                reading,
                limit,
            } => format!(
                "The {side} {cell} cell reads {reading:.0} pressure, above the {limit:.0} limit."
            ),
            Self::LoopOverrun { late_by } => format!(
                "The control loop missed its timing by {}; outputs were switched off as a precaution.",
                human_duration(*late_by)
            ),
            Self::Program {
                program,
                reason,
                detail,
            } => format!("The program `{program}` {reason} and was stopped: {detail}"),
            Self::InvalidRequest {
                program,
                field,
                value,
            } => format!(
                "The program `{program}` asked for an impossible value ({field} = {value}) and was stopped."
            ),
            Self::Hardware { problem, detail } => {
                let mut problem = problem.to_string();
                if let Some(first) = problem.get_mut(..1) {
                    first.make_ascii_uppercase();
                }
                format!("{problem}: {detail}")
            }
        }
    }

    /// What staff should do about it, in plain words.
    pub fn advice(&self) -> String {
        match self {
            Self::SensorOutOfRange { .. } | Self::Hardware { .. } => {
                "Call a technician: the chair cannot be used safely until this is repaired.".into()
            }
            Self::OverTemperature { heater: HeaterId::Water, .. } => {
                "Check the water is comfortable for the client, let it cool or drain and refill with cooler water, then acknowledge.".into()
            }
            Self::OverTemperature { .. } => {
                "Let the pad cool down before acknowledging. If it happens again, call a technician.".into()
            }
            Self::HeaterNoRise { .. } | Self::HeaterOutOfBand { .. } | Self::HeaterNoResponse { .. } => {
                "The heater or its sensor may be faulty. Acknowledge to try again; if it repeats, call a technician.".into()
            }
            Self::FillTimeout { .. } | Self::FillNoFlow { .. } => {
                "Check that the water supply is turned on, then acknowledge.".into()
            }
            Self::Overfill { .. } | Self::UnexpectedInflow { .. } => {
                "Turn off the water supply, drain some water, then acknowledge. If it repeats, call a technician.".into()
            }
            Self::LevelDrop { .. } | Self::LeakDetected => {
                "Look for water under the chair. Dry it and find the leak before acknowledging.".into()
            }
            Self::DrainBlocked { .. } => {
                "Check the drain and its filter for blockages, then acknowledge.".into()
            }
            Self::RollerStall { .. } => {
                "Check that nothing is caught in the footrest and the client's feet are placed correctly, then acknowledge.".into()
            }
            Self::CellOverpressure { .. } => {
                "Check the client is comfortable. Acknowledge to try again; if it repeats, call a technician.".into()
            }
            Self::LoopOverrun { .. } => {
                "Acknowledge to continue. If it repeats, the controller is overloaded: call a technician.".into()
            }
            Self::Program {
                reason: ProgramErrorKind::Failed,
                ..
            } => "Do what the program's message says, then acknowledge and start again.".into(),
            Self::Program { .. } | Self::InvalidRequest { .. } => {
                "Acknowledge and choose another program. Report the program to its developer.".into()
            }
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

#[cfg(test)]
mod tests {

    /// Every code a `code()` in this file returns is listed in
    /// [`EVENT_CODES`], and nothing else is: a new event cannot reach a
    /// client that has no words for it.
    #[test]
    fn event_codes_lists_exactly_the_codes_this_file_returns() {
        let source = include_str!("event.rs");
        let mut returned: Vec<&str> = source
            .match_indices("=> \"")
            .filter_map(|(at, marker)| source[at + marker.len()..].split('"').next())
            .filter(|code| code.contains('.') && !code.contains(' '))
            .collect();
        returned.sort_unstable();
        returned.dedup();
        let mut listed = EVENT_CODES.to_vec();
        listed.sort_unstable();
        assert!(returned.len() > 50, "found only {returned:?}");
        assert_eq!(returned, listed);
    }

    #[test]
    fn stop_source_codes_are_their_serialized_names() {
        for src in [
            StopSource::Button,
            StopSource::Local,
            StopSource::Remote,
            StopSource::Service,
        ] {
            assert_eq!(serde_json::to_value(src).unwrap(), src.code());
        }
    }
    use super::*;

    #[test]
    fn faults_are_critical_with_advice() {
        let k = EventKind::Fault(Fault::LeakDetected);
        assert_eq!(k.severity(), Severity::Critical);
        assert_eq!(k.code(), "fault.leak_detected");
        assert!(!k.advice().is_empty());
    }

    #[test]
    fn messages_carry_units() {
        let f = Fault::OverTemperature {
            heater: HeaterId::Water,
            reading: Celsius(41.2),
            cutoff: Celsius(41.0),
        };
        assert_eq!(
            f.message(),
            "The foot-bath water heater reached 41.2 °C, at or above its 41.0 °C safety cutoff. Heat is off."
        );
    }

    #[test]
    fn events_round_trip_through_json() {
        let e = Event {
            at: Duration::from_millis(1500),
            session: Some(SessionId(4)),
            kind: EventKind::Clamp(Clamp::Pressure {
                site: PressureSite::CalfCell(Side::Left, CalfCell::Ankle),
                requested: Percent(80.0),
                limit: Percent(50.0),
                intensity: Intensity::DEFAULT,
            }),
        };
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("calf_cell"), "{json}");
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
    }
}

/// An event as it leaves the engine: stamped with wall time and a unique id
/// (consumers such as MQTT subscribers drop duplicates by it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Unique id; consumers drop duplicates by it.
    pub uid: String,
    /// Wall-clock time when the event left the engine.
    pub wall: crate::wallclock::UnixMillis,
    /// The event.
    pub event: Event,
}
