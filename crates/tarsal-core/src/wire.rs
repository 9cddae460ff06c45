//! The contract for an event's details: the `data` that goes out beside its
//! `code` (MQTT `events`, D-Bus `RecentEvents`, `tarsalctl events --json`) and
//! what the store keeps.
//!
//! [`EventKind`] is the engine's own vocabulary and may change shape with it;
//! [`EventDetails`] is what operators code against. Every code has a variant
//! of its own, fields carry their unit in the name (`limit_c`, `level_l`,
//! `window_s`) and parts are named by their stable codes (`heater.water` →
//! `"water"`). [`EventDetails::of`] is the one place the two meet, so a rename
//! in the engine fails to compile here instead of reaching the wire, and the
//! snapshot tests of the MQTT adapter pin the JSON of every code.
//! docs/schemas/event.schema.json describes each code's `data`.

use crate::command::{BathAction, ManualCommand};
use crate::event::{Clamp, EventKind, Fault, Interlock, PressureSite, StallCause};
use crate::hardware::HardwareProblem;
use crate::model::{CalfCell, NodeMotion};
use crate::session::{OptionValue, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What one event carries, by code. Serialised adjacently tagged, as
/// `{"code": "fault.overfill", "data": {"level_l": 16.2, "limit_l": 16.0}}`;
/// a code without details has `"data": {}`.
///
/// Consumers should ignore fields they do not know: new fields may be added
/// to a code; a field is never renamed or given another meaning.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", content = "data")]
pub enum EventDetails {
    /// A session was accepted and is preparing.
    #[serde(rename = "session.started")]
    SessionStarted {
        /// The program's id.
        program: String,
        /// The program's version.
        program_version: String,
        /// Intensity at the start, 1–5.
        intensity: u8,
        /// Heat pads and water heater allowed.
        heat: bool,
        /// Foot bath allowed.
        bath: bool,
        /// The program's own options, by key.
        options: BTreeMap<String, OptionValue>,
    },
    /// The session began running.
    #[serde(rename = "session.running")]
    SessionRunning {},
    /// Staff paused the session.
    #[serde(rename = "session.paused")]
    SessionPaused {},
    /// Staff resumed the session.
    #[serde(rename = "session.resumed")]
    SessionResumed {},
    /// The program ran to its end.
    #[serde(rename = "session.completed")]
    SessionCompleted {
        /// Why it ended, in plain words (may be empty).
        detail: String,
    },
    /// Staff stopped the session, or nobody confirmed a staff step in time.
    #[serde(rename = "session.stopped")]
    SessionStopped {
        /// Why it ended, in plain words.
        detail: String,
    },
    /// The session reached its time limit.
    #[serde(rename = "session.time_limit")]
    SessionTimeLimit {
        /// Why it ended, in plain words.
        detail: String,
    },
    /// The session was aborted: a fault, or no feet on the footrest in time.
    #[serde(rename = "session.aborted")]
    SessionAborted {
        /// Why it ended, in plain words.
        detail: String,
    },
    /// The emergency stop ended the session.
    #[serde(rename = "session.emergency_stop")]
    SessionEmergencyStop {
        /// Why it ended, in plain words.
        detail: String,
    },
    /// The service stopped during the session.
    #[serde(rename = "session.interrupted")]
    SessionInterrupted {
        /// Why it ended, in plain words.
        detail: String,
    },
    /// Staff changed the intensity.
    #[serde(rename = "session.intensity")]
    SessionIntensity {
        /// The new intensity, 1–5.
        intensity: u8,
    },
    /// Staff switched heat on or off.
    #[serde(rename = "session.heat")]
    SessionHeat {
        /// Whether heat is now on.
        on: bool,
    },
    /// Staff confirmed a step the program waited for.
    #[serde(rename = "session.staff_confirmed")]
    SessionStaffConfirmed {
        /// The step's title.
        step: String,
        /// Who confirmed; may be empty.
        initials: String,
    },
    /// A sanitize cycle was logged complete.
    #[serde(rename = "sanitation.complete")]
    SanitationComplete(Sanitation),
    /// A sanitize cycle was logged incomplete.
    #[serde(rename = "sanitation.incomplete")]
    SanitationIncomplete(Sanitation),
    /// A manual fill began.
    #[serde(rename = "bath.fill")]
    BathFill {
        /// Level to fill to, in litres.
        to_l: f64,
    },
    /// A manual drain began.
    #[serde(rename = "bath.drain")]
    BathDrain {},
    /// A manual fill or drain was stopped.
    #[serde(rename = "bath.stop")]
    BathStop {},
    /// A manual fill or drain reached its level.
    #[serde(rename = "bath.done")]
    BathDone {
        /// The water level, in litres.
        level_l: f64,
    },
    /// A technician entered service mode.
    #[serde(rename = "service.entered")]
    ServiceEntered {},
    /// Service mode ended.
    #[serde(rename = "service.left")]
    ServiceLeft {},
    /// A technician drove an actuator in service mode.
    #[serde(rename = "service.command")]
    ServiceCommand(ServiceCommand),
    /// The emergency stop was latched.
    #[serde(rename = "estop.pressed")]
    EstopPressed {
        /// `button`, `local` (panel, CLI), `remote` (MQTT) or `service`.
        source: String,
    },
    /// Latched faults or the emergency stop were reset.
    #[serde(rename = "chair.reset")]
    ChairReset {
        /// The codes of the faults (and `estop.pressed`) that were cleared.
        cleared: Vec<String>,
    },
    /// A program file was not loaded.
    #[serde(rename = "program.refused")]
    ProgramRefused {
        /// The program file.
        file: String,
        /// Why it was not loaded.
        reason: String,
    },
    /// A heater setpoint was limited to the heater's maximum.
    #[serde(rename = "clamp.setpoint")]
    ClampSetpoint {
        /// Heater code: `water`, `sole_pad` or `calf_pad`.
        heater: String,
        /// Setpoint asked for, in °C.
        requested_c: f64,
        /// Highest setpoint allowed, in °C.
        limit_c: f64,
    },
    /// Pressure was limited to the ceiling for the intensity.
    #[serde(rename = "clamp.pressure")]
    ClampPressure {
        /// `foot_roller.<side>` or `calf_cell.<side>.<cell>`.
        site: String,
        /// Pressure asked for, in %.
        requested_pct: f64,
        /// The ceiling, in %.
        limit_pct: f64,
        /// The intensity in force, 1–5.
        intensity: u8,
    },
    /// A pressure rise was limited to the fastest allowed.
    #[serde(rename = "clamp.pressure_ramp")]
    ClampPressureRamp {
        /// `foot_roller.<side>` or `calf_cell.<side>.<cell>`.
        site: String,
        /// The fastest rise allowed, in %/s.
        limit_pct_per_s: f64,
    },
    /// Carriage travel was limited.
    #[serde(rename = "clamp.travel_speed")]
    ClampTravelSpeed {
        /// `left` or `right`.
        side: String,
        /// Travel speed asked for, in %/s.
        requested_pct_per_s: f64,
        /// Fastest travel allowed, in %/s.
        limit_pct_per_s: f64,
    },
    /// A node motion rate was limited.
    #[serde(rename = "clamp.motion_rate")]
    ClampMotionRate {
        /// `left` or `right`.
        side: String,
        /// `knead`, `tap` or `vibrate`.
        motion: String,
        /// Rate asked for, in Hz.
        requested_hz: f64,
        /// Highest rate allowed for the motion, in Hz.
        limit_hz: f64,
    },
    /// Calf kneading roller speed was limited.
    #[serde(rename = "clamp.kneading_speed")]
    ClampKneadingSpeed {
        /// `left` or `right`.
        side: String,
        /// Speed asked for, in %.
        requested_pct: f64,
        /// Highest speed allowed, in %.
        limit_pct: f64,
    },
    /// Rollers and calf cells held still: no feet on the footrest.
    #[serde(rename = "interlock.no_feet")]
    InterlockNoFeet {},
    /// The water heater or the jets held off: too little water.
    #[serde(rename = "interlock.dry_run")]
    InterlockDryRun {
        /// `heater.water` or `jet_pump`.
        actuator: String,
        /// The water level, in litres.
        level_l: f64,
        /// The level needed (more than this), in litres.
        min_l: f64,
    },
    /// The fill valve closed at the maximum level.
    #[serde(rename = "interlock.bath_full")]
    InterlockBathFull {
        /// The water level, in litres.
        level_l: f64,
        /// The maximum level, in litres.
        max_l: f64,
    },
    /// A part was asked for that the chair does not have.
    #[serde(rename = "interlock.not_fitted")]
    InterlockNotFitted {
        /// The part's code, e.g. `calf_unit.left`.
        actuator: String,
    },
    /// The program asked for a part it did not declare; the part stays off for the session.
    #[serde(rename = "interlock.not_declared")]
    InterlockNotDeclared {
        /// `foot_rollers`, `calf_units`, `sole_heat`, `calf_heat` or `bath`.
        part: String,
    },
    /// The program asked the chair to work while waiting for staff; the chair idles.
    #[serde(rename = "interlock.awaiting_staff")]
    InterlockAwaitingStaff {},
    /// A sensor reads outside its possible range.
    #[serde(rename = "fault.sensor_out_of_range")]
    FaultSensorOutOfRange {
        /// e.g. `temperature.water`, `cell_pressure.left.ankle`.
        sensor: String,
        /// The raw reading as text (it may be NaN).
        reading: String,
        /// Lowest possible reading.
        low: f64,
        /// Highest possible reading.
        high: f64,
        /// The unit of `reading`, `low` and `high`: `°C`, `L`, `%` or `A`.
        unit: String,
    },
    /// A heater reached its safety cutoff.
    #[serde(rename = "fault.over_temperature")]
    FaultOverTemperature {
        /// Heater code: `water`, `sole_pad` or `calf_pad`.
        heater: String,
        /// Temperature measured, in °C.
        reading_c: f64,
        /// The heater's cutoff, in °C.
        cutoff_c: f64,
    },
    /// A heater did not warm up fast enough.
    #[serde(rename = "fault.heater_no_rise")]
    FaultHeaterNoRise {
        /// Heater code: `water`, `sole_pad` or `calf_pad`.
        heater: String,
        /// What it gained within the window, in °C.
        gained_c: f64,
        /// What it had to gain, in °C.
        needed_c: f64,
        /// The window, in seconds.
        window_s: f64,
    },
    /// A heater could not hold its setpoint.
    #[serde(rename = "fault.heater_out_of_band")]
    FaultHeaterOutOfBand {
        /// Heater code: `water`, `sole_pad` or `calf_pad`.
        heater: String,
        /// Temperature measured, in °C.
        reading_c: f64,
        /// The setpoint, in °C.
        setpoint_c: f64,
        /// How long it was out of its band.
        for_s: f64,
    },
    /// A heater driven hard did not warm its sensor.
    #[serde(rename = "fault.heater_no_response")]
    FaultHeaterNoResponse {
        /// Heater code: `water`, `sole_pad` or `calf_pad`.
        heater: String,
        /// What the sensor gained over the window, in °C.
        gained_c: f64,
        /// The window, in seconds.
        window_s: f64,
    },
    /// The bath did not fill in time.
    #[serde(rename = "fault.fill_timeout")]
    FaultFillTimeout {
        /// The water level when time ran out, in litres.
        level_l: f64,
        /// The fill time allowed, in seconds.
        after_s: f64,
    },
    /// The fill valve was open but the level did not rise.
    #[serde(rename = "fault.fill_no_flow")]
    FaultFillNoFlow {
        /// The water level, in litres.
        level_l: f64,
        /// The window in which it had to rise, in seconds.
        window_s: f64,
    },
    /// The water is above the overflow level.
    #[serde(rename = "fault.overfill")]
    FaultOverfill {
        /// The water level, in litres.
        level_l: f64,
        /// The overflow level, in litres.
        limit_l: f64,
    },
    /// The level fell while nothing drained or filled: the bath may be leaking.
    #[serde(rename = "fault.level_drop")]
    FaultLevelDrop {
        /// How far it fell, in litres.
        dropped_l: f64,
    },
    /// The leak sensor under the bath is wet.
    #[serde(rename = "fault.leak_detected")]
    FaultLeakDetected {},
    /// The drain pump ran but the level did not fall.
    #[serde(rename = "fault.drain_blocked")]
    FaultDrainBlocked {
        /// The water level, in litres.
        level_l: f64,
        /// The window in which it had to fall, in seconds.
        window_s: f64,
    },
    /// The level rose with the fill valve closed: the valve may be stuck open.
    #[serde(rename = "fault.unexpected_inflow")]
    FaultUnexpectedInflow {
        /// How far it rose, in litres.
        risen_l: f64,
    },
    /// A foot roller is blocked or its carriage does not move.
    #[serde(rename = "fault.roller_stall")]
    FaultRollerStall {
        /// `left` or `right`.
        side: String,
        /// How the stall was found (its fields sit beside `side` in `data`).
        #[serde(flatten)]
        cause: Stall,
    },
    /// A calf cell reads above the overpressure limit.
    #[serde(rename = "fault.cell_overpressure")]
    FaultCellOverpressure {
        /// `left` or `right`.
        side: String,
        /// `ankle`, `mid` or `upper`.
        cell: String,
        /// Pressure measured, in %.
        reading_pct: f64,
        /// The overpressure limit, in %.
        limit_pct: f64,
    },
    /// The control loop missed its timing.
    #[serde(rename = "fault.loop_overrun")]
    FaultLoopOverrun {
        /// How late the loop was, in seconds.
        late_by_s: f64,
    },
    /// A program failed and was stopped.
    #[serde(rename = "fault.program")]
    FaultProgram {
        /// The program's id.
        program: String,
        /// `trap`, `timeout`, `memory_limit`, `invalid_output`, `failed`,
        /// `log_limit` or `too_much_data`.
        reason: String,
        /// What happened, in words.
        detail: String,
    },
    /// A request value outside what it can mean at all (a negative percentage, NaN).
    #[serde(rename = "fault.invalid_request")]
    FaultInvalidRequest {
        /// Who asked: a program id, `service-mode` or `chair`.
        program: String,
        /// The field, e.g. `feet.left.position`.
        field: String,
        /// The value, as text.
        value: String,
    },
    /// The chair's I/O failed.
    #[serde(rename = "fault.hardware")]
    FaultHardware {
        /// Which kind of hardware failure, e.g. `link_lost`, `stale_sample`.
        problem: HardwareProblem,
        /// What happened, in words.
        detail: String,
    },
}

/// A logged sanitize cycle (`sanitation.complete`, `sanitation.incomplete`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sanitation {
    /// The cycle staff chose (`after-client`, `end-of-day`…); empty if the
    /// program has no such option.
    pub cycle: String,
    /// The cycle did all the rule asks.
    pub complete: bool,
    /// Time the jets circulated with water in the bath.
    pub circulation_s: f64,
    /// The bath ended the cycle drained.
    pub drained: bool,
    /// Initials of the staff who confirmed its steps, in order.
    pub initials: Vec<String>,
    /// Why it is incomplete; empty when complete.
    pub missing: String,
}

/// Why a foot roller was judged stalled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum Stall {
    /// The motor drew more current than its limit.
    Overcurrent {
        /// Current drawn, in amperes.
        current_a: f64,
        /// The stall current, in amperes.
        limit_a: f64,
    },
    /// The carriage did not move as far as it was driven.
    NoMovement {
        /// Travel the commanded speed should have covered, in %.
        expected_pct: f64,
        /// Travel measured, in %.
        moved_pct: f64,
    },
}

/// What a technician set in service mode (`service.command`), by actuator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "actuator", rename_all = "snake_case")]
pub enum ServiceCommand {
    /// One foot roller's command.
    FootRoller {
        /// `left` or `right`.
        side: String,
        /// Carriage target, in % (0 = toes, 100 = heel).
        position_pct: f64,
        /// Carriage travel speed, in %/s.
        travel_speed_pct_per_s: f64,
        /// Node pressure, in %.
        pressure_pct: f64,
        /// `still`, `knead`, `tap` or `vibrate`.
        motion: String,
        /// Node motion rate, in Hz.
        motion_rate_hz: f64,
    },
    /// One calf unit's command.
    CalfUnit {
        /// `left` or `right`.
        side: String,
        /// Each cell's pressure, by cell (`ankle`, `mid`, `upper`).
        cells_pct: BTreeMap<String, f64>,
        /// Kneading roller speed, in %.
        kneading_speed_pct: f64,
    },
    /// One heater's setpoint.
    Heater {
        /// Heater code: `water`, `sole_pad` or `calf_pad`.
        heater: String,
        /// `null` switches the heater off.
        setpoint_c: Option<f64>,
    },
    /// The fill valve opened or closed.
    FillValve {
        /// Whether the valve is open.
        open: bool,
    },
    /// The drain pump switched on or off.
    DrainPump {
        /// Whether the pump runs.
        on: bool,
    },
    /// The jet pump's power.
    JetPump {
        /// Jet pump power, in %.
        power_pct: f64,
    },
    /// Every actuator back off.
    AllOff,
}

impl EventDetails {
    /// The details of `kind`, in the wire's terms.
    pub fn of(kind: &EventKind) -> Self {
        match kind {
            EventKind::SessionStarted {
                program,
                program_version,
                options,
            } => Self::SessionStarted {
                program: program.clone(),
                program_version: program_version.clone(),
                intensity: options.intensity.level(),
                heat: options.heat,
                bath: options.bath,
                options: options.values.clone(),
            },
            EventKind::SessionRunning => Self::SessionRunning {},
            EventKind::SessionPaused => Self::SessionPaused {},
            EventKind::SessionResumed => Self::SessionResumed {},
            EventKind::SessionEnded { outcome, detail } => {
                let detail = detail.clone();
                match outcome {
                    Outcome::Completed => Self::SessionCompleted { detail },
                    Outcome::Stopped => Self::SessionStopped { detail },
                    Outcome::TimeLimit => Self::SessionTimeLimit { detail },
                    Outcome::Aborted => Self::SessionAborted { detail },
                    Outcome::EmergencyStop => Self::SessionEmergencyStop { detail },
                    Outcome::Interrupted => Self::SessionInterrupted { detail },
                }
            }
            EventKind::IntensityChanged { intensity } => Self::SessionIntensity {
                intensity: intensity.level(),
            },
            EventKind::HeatSwitched { on } => Self::SessionHeat { on: *on },
            EventKind::StaffStepConfirmed { step, initials } => Self::SessionStaffConfirmed {
                step: step.clone(),
                initials: initials.clone(),
            },
            EventKind::SanitationLogged(r) => {
                let record = Sanitation {
                    cycle: r.cycle.clone(),
                    complete: r.complete,
                    circulation_s: r.circulation.as_secs_f64(),
                    drained: r.drained,
                    initials: r.initials.clone(),
                    missing: r.missing.clone(),
                };
                if r.complete {
                    Self::SanitationComplete(record)
                } else {
                    Self::SanitationIncomplete(record)
                }
            }
            EventKind::ManualBath { action } => match action {
                BathAction::Fill { to } => Self::BathFill { to_l: to.0 },
                BathAction::Drain => Self::BathDrain {},
                BathAction::Stop => Self::BathStop {},
            },
            EventKind::ManualBathDone { level } => Self::BathDone { level_l: level.0 },
            EventKind::ServiceMode { on: true } => Self::ServiceEntered {},
            EventKind::ServiceMode { on: false } => Self::ServiceLeft {},
            EventKind::ServiceCommand { command } => {
                Self::ServiceCommand(ServiceCommand::of(command))
            }
            EventKind::Clamp(c) => Self::of_clamp(c),
            EventKind::Interlock(i) => Self::of_interlock(i),
            EventKind::Fault(f) => Self::of_fault(f),
            EventKind::EmergencyStop { source } => Self::EstopPressed {
                source: source.code().to_owned(),
            },
            EventKind::Reset { cleared } => Self::ChairReset {
                cleared: cleared.clone(),
            },
            EventKind::ProgramRefused { file, reason } => Self::ProgramRefused {
                file: file.clone(),
                reason: reason.clone(),
            },
        }
    }

    fn of_clamp(c: &Clamp) -> Self {
        match c {
            Clamp::Setpoint {
                heater,
                requested,
                limit,
            } => Self::ClampSetpoint {
                heater: heater.code().to_owned(),
                requested_c: requested.0,
                limit_c: limit.0,
            },
            Clamp::Pressure {
                site,
                requested,
                limit,
                intensity,
            } => Self::ClampPressure {
                site: site_code(*site),
                requested_pct: requested.0,
                limit_pct: limit.0,
                intensity: intensity.level(),
            },
            Clamp::PressureRamp { site, limit } => Self::ClampPressureRamp {
                site: site_code(*site),
                limit_pct_per_s: limit.0,
            },
            Clamp::TravelSpeed {
                side,
                requested,
                limit,
            } => Self::ClampTravelSpeed {
                side: side.code().to_owned(),
                requested_pct_per_s: requested.0,
                limit_pct_per_s: limit.0,
            },
            Clamp::MotionRate {
                side,
                motion,
                requested,
                limit,
            } => Self::ClampMotionRate {
                side: side.code().to_owned(),
                motion: motion.code().to_owned(),
                requested_hz: requested.0,
                limit_hz: limit.0,
            },
            Clamp::KneadingSpeed {
                side,
                requested,
                limit,
            } => Self::ClampKneadingSpeed {
                side: side.code().to_owned(),
                requested_pct: requested.0,
                limit_pct: limit.0,
            },
        }
    }

    fn of_interlock(i: &Interlock) -> Self {
        match i {
            Interlock::NoFeet => Self::InterlockNoFeet {},
            Interlock::DryRun {
                actuator,
                level,
                min,
            } => Self::InterlockDryRun {
                actuator: actuator.code(),
                level_l: level.0,
                min_l: min.0,
            },
            Interlock::BathFull { level, max } => Self::InterlockBathFull {
                level_l: level.0,
                max_l: max.0,
            },
            Interlock::NotFitted { actuator } => Self::InterlockNotFitted {
                actuator: actuator.code(),
            },
            Interlock::NotDeclared { part } => Self::InterlockNotDeclared {
                part: part.code().to_owned(),
            },
            Interlock::AwaitingStaff => Self::InterlockAwaitingStaff {},
        }
    }

    fn of_fault(f: &Fault) -> Self {
        match f {
            Fault::SensorOutOfRange {
                sensor,
                reading,
                low,
                high,
            } => Self::FaultSensorOutOfRange {
                sensor: sensor.code(),
                reading: reading.clone(),
                low: *low,
                high: *high,
                unit: sensor.unit().to_owned(),
            },
            Fault::OverTemperature {
                heater,
                reading,
                cutoff,
            } => Self::FaultOverTemperature {
                heater: heater.code().to_owned(),
                reading_c: reading.0,
                cutoff_c: cutoff.0,
            },
            Fault::HeaterNoRise {
                heater,
                gained,
                needed,
                window,
            } => Self::FaultHeaterNoRise {
                heater: heater.code().to_owned(),
                gained_c: gained.0,
                needed_c: needed.0,
                window_s: window.as_secs_f64(),
            },
            Fault::HeaterOutOfBand {
                heater,
                reading,
                setpoint,
                time,
            } => Self::FaultHeaterOutOfBand {
                heater: heater.code().to_owned(),
                reading_c: reading.0,
                setpoint_c: setpoint.0,
                for_s: time.as_secs_f64(),
            },
            Fault::HeaterNoResponse {
                heater,
                gained,
                window,
            } => Self::FaultHeaterNoResponse {
                heater: heater.code().to_owned(),
                gained_c: gained.0,
                window_s: window.as_secs_f64(),
            },
            Fault::FillTimeout { level, after } => Self::FaultFillTimeout {
                level_l: level.0,
                after_s: after.as_secs_f64(),
            },
            Fault::FillNoFlow { level, window } => Self::FaultFillNoFlow {
                level_l: level.0,
                window_s: window.as_secs_f64(),
            },
            Fault::Overfill { level, limit } => Self::FaultOverfill {
                level_l: level.0,
                limit_l: limit.0,
            },
            Fault::LevelDrop { dropped } => Self::FaultLevelDrop {
                dropped_l: dropped.0,
            },
            Fault::LeakDetected => Self::FaultLeakDetected {},
            Fault::DrainBlocked { level, window } => Self::FaultDrainBlocked {
                level_l: level.0,
                window_s: window.as_secs_f64(),
            },
            Fault::UnexpectedInflow { risen } => Self::FaultUnexpectedInflow { risen_l: risen.0 },
            Fault::RollerStall { side, cause } => Self::FaultRollerStall {
                side: side.code().to_owned(),
                cause: match cause {
                    StallCause::Overcurrent { current, limit } => Stall::Overcurrent {
                        current_a: current.0,
                        limit_a: limit.0,
                    },
                    StallCause::NoMovement { expected, moved } => Stall::NoMovement {
                        expected_pct: expected.0,
                        moved_pct: moved.0,
                    },
                },
            },
            Fault::CellOverpressure {
                side,
                cell,
                reading,
                limit,
            } => Self::FaultCellOverpressure {
                side: side.code().to_owned(),
                cell: cell.code().to_owned(),
                reading_pct: reading.0,
                limit_pct: limit.0,
            },
            Fault::LoopOverrun { late_by } => Self::FaultLoopOverrun {
                late_by_s: late_by.as_secs_f64(),
            },
            Fault::Program {
                program,
                reason,
                detail,
            } => Self::FaultProgram {
                program: program.clone(),
                reason: reason.code().to_owned(),
                detail: detail.clone(),
            },
            Fault::InvalidRequest {
                program,
                field,
                value,
            } => Self::FaultInvalidRequest {
                program: program.clone(),
                field: field.clone(),
                value: value.clone(),
            },
            Fault::Hardware { problem, detail } => Self::FaultHardware {
                problem: *problem,
                detail: detail.clone(),
            },
        }
    }
}

impl ServiceCommand {
    /// A technician's command in the wire's terms.
    pub fn of(command: &ManualCommand) -> Self {
        match *command {
            ManualCommand::FootRoller { side, command: c } => Self::FootRoller {
                side: side.code().to_owned(),
                position_pct: c.position.0,
                travel_speed_pct_per_s: c.travel_speed.0,
                pressure_pct: c.pressure.0,
                motion: c.motion.code().to_owned(),
                motion_rate_hz: c.motion_rate.0,
            },
            ManualCommand::CalfUnit { side, command: c } => Self::CalfUnit {
                side: side.code().to_owned(),
                cells_pct: CalfCell::ALL
                    .into_iter()
                    .map(|cell| (cell.code().to_owned(), c.cells[cell].0))
                    .collect(),
                kneading_speed_pct: c.kneading_speed.0,
            },
            ManualCommand::Heater { heater, setpoint } => Self::Heater {
                heater: heater.code().to_owned(),
                setpoint_c: setpoint.map(|s| s.0),
            },
            ManualCommand::FillValve { open } => Self::FillValve { open },
            ManualCommand::DrainPump { on } => Self::DrainPump { on },
            ManualCommand::JetPump { power } => Self::JetPump { power_pct: power.0 },
            ManualCommand::AllOff => Self::AllOff,
        }
    }
}

/// `foot_roller.left`, `calf_cell.right.ankle`.
fn site_code(site: PressureSite) -> String {
    match site {
        PressureSite::FootNodes(side) => format!("foot_roller.{}", side.code()),
        PressureSite::CalfCell(side, cell) => {
            format!("calf_cell.{}.{}", side.code(), cell.code())
        }
    }
}

/// One event of every code, with plausible values: for clients' and the
/// adapters' contract tests (the MQTT snapshots and schema checks use it).
pub fn example_of_every_code() -> Vec<EventKind> {
    use crate::command::StopSource;
    use crate::model::{
        ActuatorId, CalfCommand, Cells, FootRollerCommand, HeaterId, SensorId, Side,
    };
    use crate::profile::EquipmentPart;
    use crate::program::ProgramErrorKind;
    use crate::sanitation::SanitationRecord;
    use crate::session::SessionOptions;
    use crate::units::{Amps, Celsius, Hertz, Intensity, Litres, Percent, PercentPerSecond};
    use std::time::Duration;

    let ended = |outcome, detail: &str| EventKind::SessionEnded {
        outcome,
        detail: detail.into(),
    };
    let sanitation = |complete: bool| {
        EventKind::SanitationLogged(SanitationRecord {
            cycle: "after-client".into(),
            complete,
            circulation: Duration::from_secs(if complete { 600 } else { 240 }),
            drained: complete,
            initials: vec!["AB".into(), "AB".into()],
            missing: if complete {
                String::new()
            } else {
                "only 4 min of circulation (10 min needed); the bath was not drained".into()
            },
        })
    };
    let mut options = SessionOptions::default();
    options
        .values
        .insert("focus".into(), OptionValue::Text("arch".into()));
    vec![
        EventKind::SessionStarted {
            program: "classic".into(),
            program_version: "1.2.0".into(),
            options,
        },
        EventKind::SessionRunning,
        EventKind::SessionPaused,
        EventKind::SessionResumed,
        ended(Outcome::Completed, ""),
        ended(Outcome::Stopped, "stopped from the panel"),
        ended(Outcome::TimeLimit, "the session reached its 30 min limit"),
        ended(Outcome::Aborted, "fault.overfill"),
        ended(Outcome::EmergencyStop, "emergency stop from the button"),
        ended(
            Outcome::Interrupted,
            "the service stopped unexpectedly during the session",
        ),
        EventKind::IntensityChanged {
            intensity: Intensity::MAX,
        },
        EventKind::HeatSwitched { on: false },
        EventKind::StaffStepConfirmed {
            step: "Rinse the basin".into(),
            initials: "AB".into(),
        },
        sanitation(true),
        sanitation(false),
        EventKind::ManualBath {
            action: BathAction::Fill { to: Litres(10.0) },
        },
        EventKind::ManualBath {
            action: BathAction::Drain,
        },
        EventKind::ManualBath {
            action: BathAction::Stop,
        },
        EventKind::ManualBathDone {
            level: Litres(10.0),
        },
        EventKind::ServiceMode { on: true },
        EventKind::ServiceMode { on: false },
        EventKind::ServiceCommand {
            command: ManualCommand::FootRoller {
                side: Side::Left,
                command: FootRollerCommand {
                    position: Percent(50.0),
                    travel_speed: PercentPerSecond(10.0),
                    pressure: Percent(30.0),
                    motion: NodeMotion::Knead,
                    motion_rate: Hertz(1.0),
                },
            },
        },
        EventKind::EmergencyStop {
            source: StopSource::Button,
        },
        EventKind::Reset {
            cleared: vec!["estop.pressed".into(), "fault.overfill".into()],
        },
        EventKind::ProgramRefused {
            file: "00-classic-update.wasm".into(),
            reason: "its id `classic` belongs to a bundled program".into(),
        },
        EventKind::Clamp(Clamp::Setpoint {
            heater: HeaterId::SolePad,
            requested: Celsius(48.0),
            limit: Celsius(42.0),
        }),
        EventKind::Clamp(Clamp::Pressure {
            site: PressureSite::CalfCell(Side::Right, CalfCell::Ankle),
            requested: Percent(90.0),
            limit: Percent(70.0),
            intensity: Intensity::DEFAULT,
        }),
        EventKind::Clamp(Clamp::PressureRamp {
            site: PressureSite::FootNodes(Side::Left),
            limit: PercentPerSecond(20.0),
        }),
        EventKind::Clamp(Clamp::TravelSpeed {
            side: Side::Right,
            requested: PercentPerSecond(80.0),
            limit: PercentPerSecond(40.0),
        }),
        EventKind::Clamp(Clamp::MotionRate {
            side: Side::Left,
            motion: NodeMotion::Tap,
            requested: Hertz(12.0),
            limit: Hertz(6.0),
        }),
        EventKind::Clamp(Clamp::KneadingSpeed {
            side: Side::Right,
            requested: Percent(100.0),
            limit: Percent(80.0),
        }),
        EventKind::Interlock(Interlock::NoFeet),
        EventKind::Interlock(Interlock::DryRun {
            actuator: ActuatorId::Heater(HeaterId::Water),
            level: Litres(1.5),
            min: Litres(4.0),
        }),
        EventKind::Interlock(Interlock::BathFull {
            level: Litres(14.0),
            max: Litres(14.0),
        }),
        EventKind::Interlock(Interlock::NotFitted {
            actuator: ActuatorId::CalfUnit(Side::Left),
        }),
        EventKind::Interlock(Interlock::NotDeclared {
            part: EquipmentPart::Bath,
        }),
        EventKind::Interlock(Interlock::AwaitingStaff),
        EventKind::Fault(Fault::SensorOutOfRange {
            sensor: SensorId::Temperature(HeaterId::Water),
            reading: "NaN".into(),
            low: -10.0,
            high: 110.0,
        }),
        EventKind::Fault(Fault::OverTemperature {
            heater: HeaterId::Water,
            reading: Celsius(41.2),
            cutoff: Celsius(41.0),
        }),
        EventKind::Fault(Fault::HeaterNoRise {
            heater: HeaterId::CalfPad,
            gained: Celsius(0.4),
            needed: Celsius(2.0),
            window: Duration::from_secs(120),
        }),
        EventKind::Fault(Fault::HeaterOutOfBand {
            heater: HeaterId::Water,
            reading: Celsius(33.0),
            setpoint: Celsius(38.0),
            time: Duration::from_secs(300),
        }),
        EventKind::Fault(Fault::HeaterNoResponse {
            heater: HeaterId::SolePad,
            gained: Celsius(0.2),
            window: Duration::from_secs(60),
        }),
        EventKind::Fault(Fault::FillTimeout {
            level: Litres(3.0),
            after: Duration::from_secs(300),
        }),
        EventKind::Fault(Fault::FillNoFlow {
            level: Litres(2.5),
            window: Duration::from_secs(30),
        }),
        EventKind::Fault(Fault::Overfill {
            level: Litres(16.2),
            limit: Litres(16.0),
        }),
        EventKind::Fault(Fault::LevelDrop {
            dropped: Litres(1.2),
        }),
        EventKind::Fault(Fault::LeakDetected),
        EventKind::Fault(Fault::DrainBlocked {
            level: Litres(9.5),
            window: Duration::from_secs(30),
        }),
        EventKind::Fault(Fault::UnexpectedInflow { risen: Litres(0.8) }),
        EventKind::Fault(Fault::RollerStall {
            side: Side::Left,
            cause: StallCause::Overcurrent {
                current: Amps(3.4),
                limit: Amps(2.5),
            },
        }),
        EventKind::Fault(Fault::CellOverpressure {
            side: Side::Right,
            cell: CalfCell::Mid,
            reading: Percent(97.0),
            limit: Percent(90.0),
        }),
        EventKind::Fault(Fault::LoopOverrun {
            late_by: Duration::from_millis(260),
        }),
        EventKind::Fault(Fault::Program {
            program: "classic".into(),
            reason: ProgramErrorKind::Timeout,
            detail: "its `tick` call ran past its time limit".into(),
        }),
        EventKind::Fault(Fault::InvalidRequest {
            program: "classic".into(),
            field: "feet.left.pressure".into(),
            value: "NaN".into(),
        }),
        EventKind::Fault(Fault::Hardware {
            problem: HardwareProblem::LinkLost,
            detail: "4 exchanges in a row failed; the last: no answer within 50 ms".into(),
        }),
        // A calf unit's service command has a shape of its own.
        EventKind::ServiceCommand {
            command: ManualCommand::CalfUnit {
                side: Side::Right,
                command: CalfCommand {
                    cells: Cells([Percent(40.0), Percent(30.0), Percent(20.0)]),
                    kneading_speed: Percent(50.0),
                },
            },
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EVENT_CODES;

    #[test]
    fn every_code_maps_to_details_under_the_same_code() {
        let examples = example_of_every_code();
        let mut codes: Vec<&str> = Vec::new();
        for kind in &examples {
            let wire = serde_json::to_value(EventDetails::of(kind)).unwrap();
            assert_eq!(wire["code"], kind.code(), "{wire}");
            assert!(wire["data"].is_object(), "{wire}");
            let back: EventDetails = serde_json::from_value(wire.clone()).unwrap();
            assert_eq!(back, EventDetails::of(kind), "{wire}");
            codes.push(kind.code());
        }
        codes.sort_unstable();
        codes.dedup();
        let mut all = EVENT_CODES.to_vec();
        all.sort_unstable();
        assert_eq!(codes, all, "one example of every code, and no other code");
    }

    #[test]
    fn fields_carry_units_and_parts_their_codes() {
        let f = EventKind::Fault(Fault::RollerStall {
            side: crate::model::Side::Left,
            cause: StallCause::NoMovement {
                expected: crate::units::Percent(20.0),
                moved: crate::units::Percent(0.5),
            },
        });
        assert_eq!(
            serde_json::to_value(EventDetails::of(&f)).unwrap(),
            serde_json::json!({"code": "fault.roller_stall", "data": {
                "side": "left", "cause": "no_movement", "expected_pct": 20.0, "moved_pct": 0.5
            }})
        );
    }
}
