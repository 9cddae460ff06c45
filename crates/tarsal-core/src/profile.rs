//! The chair profile: which parts a chair has, their limits, how they are wired.
//! Loaded from TOML (`deploy/profiles/*.toml`), checked against the hard ceilings
//! compiled into the service, and refused with located errors when broken.

use crate::config_file::{self, Checker, FileError, Located};
use crate::model::HeaterId;
use crate::model::NodeMotion;
use crate::units::{
    Amps, Celsius, Hertz, Intensity, Litres, LitresPerSecond, Percent, PercentPerSecond, Watts,
};
use serde::Deserialize;
use std::time::Duration;

/// The water may never be set or allowed hotter than this, whatever a profile says.
pub const WATER_HARD_CEILING: Celsius = Celsius(43.0);
/// Heat pads may never be set or allowed hotter than this.
pub const PAD_HARD_CEILING: Celsius = Celsius(46.0);
/// No profile may let a session run longer than this.
pub const SESSION_HARD_MAX: Duration = Duration::from_secs(60 * 60);
/// Ceiling of the time a session may wait for staff, in all (it adds to the
/// session's budget, so no session lasts longer than the sum of the two).
pub const STAFF_WAIT_HARD_MAX: Duration = Duration::from_secs(60 * 60);
/// No profile may let heater outputs stay on longer than this without a refresh.
pub const HEATER_HOLD_HARD_MAX: Duration = Duration::from_secs(10);

/// The profile of the standard chair, as shipped in `deploy/profiles/`.
pub const STANDARD_PROFILE_TOML: &str =
    include_str!("../../../deploy/profiles/pedicure-standard.toml");
/// How the built-in standard profile is named in errors.
pub const STANDARD_PROFILE_NAME: &str = "pedicure-standard.toml (built in)";

/// A chair profile: which parts the chair has, their limits and where its I/O comes from.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChairProfile {
    /// Which chair this is and its backend (`[chair]`).
    pub chair: ChairSection,
    /// Session time limits (`[session]`).
    pub session: SessionLimits,
    /// Output settings (`[outputs]`).
    pub outputs: OutputSettings,
    /// The foot roller units, if fitted (`[foot_rollers]`).
    #[serde(default)]
    pub foot_rollers: Option<FootRollerSpec>,
    /// The calf units, if fitted (`[calf_units]`).
    #[serde(default)]
    pub calf_units: Option<CalfUnitSpec>,
    /// The heat pads fitted (`[heat_pads.sole]`, `[heat_pads.calf]`).
    #[serde(default)]
    pub heat_pads: HeatPads,
    /// The whirlpool foot bath and its water heater, if fitted (`[bath]`).
    #[serde(default)]
    pub bath: Option<BathSpec>,
    /// The simulator's physical model (`[simulator]`), for `backend = "simulator"`.
    #[serde(default)]
    pub simulator: SimulatorSpec,
    /// How fresh the chair's I/O must be (`[io]`).
    #[serde(default)]
    pub io: IoLimits,
    /// Where the chair board is and how to talk to it (`[chair_board]`), for
    /// `backend = "chair_board"`.
    #[serde(default)]
    pub chair_board: Option<ChairBoardSpec>,
}

/// The `[chair]` table: which chair this is and where its I/O comes from.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChairSection {
    /// Model name, e.g. `pedicure-standard`; must not be empty.
    pub model: String,
    /// The chair in words (optional).
    #[serde(default)]
    pub description: String,
    /// Where the chair's I/O comes from.
    pub backend: Backend,
}

/// Where a chair's I/O comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// The physical model in `tarsal-sim`.
    Simulator,
    /// A Tarsal chair board on Modbus (docs/hardware.md), described by `[chair_board]`.
    ChairBoard,
}

impl Backend {
    /// The profile's spelling.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Simulator => "simulator",
            Self::ChairBoard => "chair_board",
        }
    }
}

/// Limits on the chair's I/O that hold whatever the backend.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IoLimits {
    /// A sensor sample older than this is a fault (`max_sample_age_ms`).
    #[serde(
        rename = "max_sample_age_ms",
        deserialize_with = "config_file::milliseconds"
    )]
    pub max_sample_age: Duration,
}

impl Default for IoLimits {
    fn default() -> Self {
        Self {
            max_sample_age: Duration::from_millis(100),
        }
    }
}

/// The chair board's link: a Tarsal chair board speaking the register map of
/// docs/hardware.md over Modbus TCP or Modbus RTU on a serial line; exactly
/// one of `tcp` and `serial`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChairBoardSpec {
    /// `IP:port` of a Modbus TCP board or gateway (`tcp = "192.168.7.2:502"`).
    #[serde(default)]
    pub tcp: Option<String>,
    /// The serial port of an RS-485 board, Modbus RTU (`serial = "/dev/ttyUSB0"`).
    #[serde(default)]
    pub serial: Option<String>,
    /// The serial line's speed, bit/s (`baud`, default 115200).
    #[serde(default = "default_baud")]
    pub baud: u32,
    /// The board's Modbus unit id (`unit_id`, 1–247).
    #[serde(default = "default_unit_id")]
    pub unit_id: u8,
    /// How often the host exchanges outputs and readings with the board.
    #[serde(
        rename = "poll_interval_ms",
        deserialize_with = "config_file::milliseconds",
        default = "default_poll_interval"
    )]
    pub poll_interval: Duration,
    /// How long one request may wait for its answer before it counts as a glitch.
    #[serde(
        rename = "response_timeout_ms",
        deserialize_with = "config_file::milliseconds",
        default = "default_response_timeout"
    )]
    pub response_timeout: Duration,
}

fn default_unit_id() -> u8 {
    1
}

fn default_baud() -> u32 {
    115_200
}

fn default_poll_interval() -> Duration {
    Duration::from_millis(10)
}

fn default_response_timeout() -> Duration {
    Duration::from_millis(50)
}

/// The `[session]` table: how long a session and its phases may take.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionLimits {
    /// A session stops after this long, plus any time waiting for staff (`max_duration_min`).
    #[serde(rename = "max_duration_min", deserialize_with = "config_file::minutes")]
    pub max_duration: Duration,
    #[serde(
        rename = "prepare_timeout_s",
        deserialize_with = "config_file::seconds"
    )]
    /// How long a starting session waits for feet on the footrest (`prepare_timeout_s`).
    pub prepare_timeout: Duration,
    /// How long the chair may take to park the rollers after a session (`finish_timeout_s`).
    #[serde(rename = "finish_timeout_s", deserialize_with = "config_file::seconds")]
    pub finish_timeout: Duration,
    /// How long a program may wait for staff in all, over one session,
    /// before the session is stopped. While it waits the chair idles, and the
    /// waiting extends the session's budget: a session therefore lasts at
    /// most `max_duration + staff_timeout`, whatever the program says.
    #[serde(
        rename = "staff_timeout_min",
        deserialize_with = "config_file::minutes",
        default = "default_staff_timeout"
    )]
    pub staff_timeout: Duration,
}

fn default_staff_timeout() -> Duration {
    Duration::from_secs(30 * 60)
}

/// The `[outputs]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSettings {
    /// Heater outputs fall off after this long without a fresh command.
    #[serde(rename = "heater_hold_s", deserialize_with = "config_file::seconds")]
    pub heater_hold: Duration,
}

/// The `[foot_rollers]` table: limits of the foot roller units.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FootRollerSpec {
    /// Fastest carriage travel (`travel_speed_max_pct_s`).
    #[serde(rename = "travel_speed_max_pct_s")]
    pub travel_speed_max: PercentPerSecond,
    /// Fastest rise of node pressure; release is never limited (`pressure_ramp_max_pct_s`).
    #[serde(rename = "pressure_ramp_max_pct_s")]
    pub pressure_ramp_max: PercentPerSecond,
    /// Node pressure ceiling for intensity 1 to 5 (`pressure_ceiling_pct`).
    #[serde(rename = "pressure_ceiling_pct")]
    pub pressure_ceiling: [Percent; Intensity::LEVELS],
    /// Fastest kneading (`knead_rate_max_hz`).
    #[serde(rename = "knead_rate_max_hz")]
    pub knead_rate_max: Hertz,
    /// Fastest tapping (`tap_rate_max_hz`).
    #[serde(rename = "tap_rate_max_hz")]
    pub tap_rate_max: Hertz,
    /// Fastest vibration (`vibrate_rate_max_hz`).
    #[serde(rename = "vibrate_rate_max_hz")]
    pub vibrate_rate_max: Hertz,
    /// A motor drawing more than this for longer than `stall_time` is stalled (`stall_current_a`).
    #[serde(rename = "stall_current_a")]
    pub stall_current: Amps,
    #[serde(
        rename = "stall_time_ms",
        deserialize_with = "config_file::milliseconds"
    )]
    /// How long the current may stay above `stall_current` before it is a stall (`stall_time_ms`).
    pub stall_time: Duration,
    /// Where the carriages rest between sessions, 0 % = toes (`park_position_pct`).
    #[serde(rename = "park_position_pct")]
    pub park_position: Percent,
    /// Readings the carriage position sensor can give; outside means open or
    /// shorted (`position_sensor_range_pct`).
    #[serde(
        rename = "position_sensor_range_pct",
        default = "default_position_sensor_range"
    )]
    pub position_sensor_range: [Percent; 2],
    /// Readings the motor current sensor can give (`current_sensor_range_a`).
    #[serde(
        rename = "current_sensor_range_a",
        default = "default_current_sensor_range"
    )]
    pub current_sensor_range: [Amps; 2],
}

impl FootRollerSpec {
    /// The node pressure ceiling at `intensity`.
    pub fn pressure_ceiling(&self, intensity: Intensity) -> Percent {
        self.pressure_ceiling[intensity.index()]
    }

    /// The highest rate allowed for a node motion (0 for `Still`).
    pub fn motion_rate_max(&self, motion: NodeMotion) -> Hertz {
        match motion {
            NodeMotion::Still => Hertz::ZERO,
            NodeMotion::Knead => self.knead_rate_max,
            NodeMotion::Tap => self.tap_rate_max,
            NodeMotion::Vibrate => self.vibrate_rate_max,
        }
    }
}

/// The `[calf_units]` table: limits of the calf units.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalfUnitSpec {
    /// Cell pressure ceiling for intensity 1 to 5 (`pressure_ceiling_pct`).
    #[serde(rename = "pressure_ceiling_pct")]
    pub pressure_ceiling: [Percent; Intensity::LEVELS],
    /// Fastest rise of cell pressure (`pressure_ramp_max_pct_s`).
    #[serde(rename = "pressure_ramp_max_pct_s")]
    pub pressure_ramp_max: PercentPerSecond,
    /// Fastest kneading roller speed (`kneading_speed_max_pct`).
    #[serde(rename = "kneading_speed_max_pct")]
    pub kneading_speed_max: Percent,
    /// A cell reading this far above the highest ceiling is a fault (`overpressure_margin_pct`).
    #[serde(rename = "overpressure_margin_pct")]
    pub overpressure_margin: Percent,
    /// Readings a cell pressure sensor can give; outside means open or
    /// shorted (`pressure_sensor_range_pct`).
    #[serde(
        rename = "pressure_sensor_range_pct",
        default = "default_cell_sensor_range"
    )]
    pub pressure_sensor_range: [Percent; 2],
}

fn default_position_sensor_range() -> [Percent; 2] {
    [Percent(-5.0), Percent(105.0)]
}

fn default_current_sensor_range() -> [Amps; 2] {
    [Amps(-0.5), Amps(15.0)]
}

fn default_cell_sensor_range() -> [Percent; 2] {
    [Percent(-5.0), Percent(110.0)]
}

impl CalfUnitSpec {
    /// The cell pressure ceiling at `intensity`.
    pub fn pressure_ceiling(&self, intensity: Intensity) -> Percent {
        self.pressure_ceiling[intensity.index()]
    }

    /// A cell reading above this is a fault whatever the intensity.
    pub fn overpressure_limit(&self) -> Percent {
        self.pressure_ceiling[Intensity::LEVELS - 1] + self.overpressure_margin
    }
}

/// The `[heat_pads]` tables: the heat pads fitted.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeatPads {
    /// The sole heat pad, if fitted (`[heat_pads.sole]`).
    pub sole: Option<HeaterSpec>,
    /// The calf heat pad, if fitted (`[heat_pads.calf]`).
    pub calf: Option<HeaterSpec>,
}

/// Limits, control gains and plausibility checks of one heater.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaterSpec {
    /// Highest setpoint a program may ask for; below the cutoff (`setpoint_max_c`).
    #[serde(rename = "setpoint_max_c")]
    pub setpoint_max: Celsius,
    /// At or above this temperature the heater is cut and a fault latched.
    #[serde(rename = "cutoff_c")]
    pub cutoff: Celsius,
    /// Readings outside mean an open or shorted sensor.
    #[serde(rename = "sensor_range_c")]
    pub sensor_range: [Celsius; 2],
    /// Heater power per °C below the setpoint.
    #[serde(rename = "proportional_pct_per_c")]
    pub proportional: f64,
    /// Integral gain, power per °C·s.
    #[serde(rename = "integral_pct_per_c_s")]
    pub integral: f64,
    /// While heating, the temperature must gain this much within `verify_window` (`verify_rise_c`).
    #[serde(rename = "verify_rise_c")]
    pub verify_rise: Celsius,
    /// Window of the rise check (`verify_window_s`).
    #[serde(rename = "verify_window_s", deserialize_with = "config_file::seconds")]
    pub verify_window: Duration,
    /// Once reached, the temperature may not stay more than this below the setpoint
    /// for `band_time` (`band_c`).
    #[serde(rename = "band_c")]
    pub band: Celsius,
    /// How long the temperature may stay out of band (`band_time_s`).
    #[serde(rename = "band_time_s", deserialize_with = "config_file::seconds")]
    pub band_time: Duration,
    #[serde(
        rename = "response_window_s",
        deserialize_with = "config_file::seconds"
    )]
    /// Driven at `response_duty` or more this long, the heater must gain
    /// `response_rise` (`response_window_s`).
    pub response_window: Duration,
    /// Power at or above which the heater counts as driven for the response check
    /// (`response_duty_pct`).
    #[serde(rename = "response_duty_pct")]
    pub response_duty: Percent,
    /// What the heater must gain over `response_window` while driven (`response_rise_c`).
    #[serde(rename = "response_rise_c")]
    pub response_rise: Celsius,
}

/// The `[bath]` table: the whirlpool foot bath's levels, checks and water heater.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BathSpec {
    /// How much water the basin holds (`capacity_l`).
    #[serde(rename = "capacity_l")]
    pub capacity: Litres,
    /// The water heater and the jets run only above this level (`min_level_l`).
    #[serde(rename = "min_level_l")]
    pub min_level: Litres,
    /// The fill valve closes at this level (`max_level_l`).
    #[serde(rename = "max_level_l")]
    pub max_level: Litres,
    /// Water above this level is a fault: valve stuck open or sensor wrong (`overflow_level_l`).
    #[serde(rename = "overflow_level_l")]
    pub overflow_level: Litres,
    /// Readings outside this range mean a broken level sensor (`level_sensor_range_l`).
    #[serde(rename = "level_sensor_range_l")]
    pub level_sensor_range: [Litres; 2],
    /// Below this level the bath counts as empty (`empty_level_l`).
    #[serde(rename = "empty_level_l")]
    pub empty_level: Litres,
    /// A fill must end within this (`fill_timeout_s`).
    #[serde(rename = "fill_timeout_s", deserialize_with = "config_file::seconds")]
    pub fill_timeout: Duration,
    #[serde(
        rename = "fill_check_window_s",
        deserialize_with = "config_file::seconds"
    )]
    /// While filling, the level must rise by `fill_check_rise` every this long
    /// (`fill_check_window_s`).
    pub fill_check_window: Duration,
    /// How much the level must rise every `fill_check_window` while filling (`fill_check_rise_l`).
    #[serde(rename = "fill_check_rise_l")]
    pub fill_check_rise: Litres,
    #[serde(
        rename = "drain_check_window_s",
        deserialize_with = "config_file::seconds"
    )]
    /// While draining, the level must fall by `drain_check_drop` every this long
    /// (`drain_check_window_s`).
    pub drain_check_window: Duration,
    /// How much the level must fall every `drain_check_window` while draining
    /// (`drain_check_drop_l`).
    #[serde(rename = "drain_check_drop_l")]
    pub drain_check_drop: Litres,
    /// With the valve closed, the drain off and the feet still, a fall by more than
    /// this is a leak (`leak_drop_l`).
    #[serde(rename = "leak_drop_l")]
    pub leak_drop: Litres,
    /// Under the same conditions, a rise by more than this is unexpected inflow (`inflow_rise_l`).
    #[serde(rename = "inflow_rise_l")]
    pub inflow_rise: Litres,
    /// After the valve, the drain or the feet change, the level is not watched for
    /// this long (`settle_time_s`).
    #[serde(rename = "settle_time_s", deserialize_with = "config_file::seconds")]
    pub settle_time: Duration,
    /// The water heater (`[bath.heater]`).
    pub heater: HeaterSpec,
}

/// Parameters of the simulator's physical model.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimulatorSpec {
    /// Room temperature (`ambient_c`).
    #[serde(rename = "ambient_c")]
    pub ambient: Celsius,
    /// Temperature of the water the fill valve lets in (`supply_water_c`).
    #[serde(rename = "supply_water_c")]
    pub supply_water: Celsius,
    /// Flow through the open fill valve (`fill_flow_l_s`).
    #[serde(rename = "fill_flow_l_s")]
    pub fill_flow: LitresPerSecond,
    /// Flow through the running drain pump (`drain_flow_l_s`).
    #[serde(rename = "drain_flow_l_s")]
    pub drain_flow: LitresPerSecond,
    /// Water heater power at 100 % (`water_heater_w`).
    #[serde(rename = "water_heater_w")]
    pub water_heater_power: Watts,
    /// Heat the water loses per °C above ambient, in W/°C (`water_loss_w_per_c`).
    #[serde(rename = "water_loss_w_per_c")]
    pub water_loss_per_c: f64,
    /// Heat pad power at 100 % (`pad_heater_w`).
    #[serde(rename = "pad_heater_w")]
    pub pad_heater_power: Watts,
    /// Heat capacity of a pad, in J/°C (`pad_heat_capacity_j_per_c`).
    #[serde(rename = "pad_heat_capacity_j_per_c")]
    pub pad_heat_capacity_per_c: f64,
    /// Heat a pad loses per °C above ambient, in W/°C (`pad_loss_w_per_c`).
    #[serde(rename = "pad_loss_w_per_c")]
    pub pad_loss_per_c: f64,
    /// Fastest a carriage can physically travel (`carriage_speed_max_pct_s`).
    #[serde(rename = "carriage_speed_max_pct_s")]
    pub carriage_speed_max: PercentPerSecond,
    #[serde(
        rename = "cell_time_constant_s",
        deserialize_with = "config_file::seconds"
    )]
    /// Time constant with which a calf cell's pressure follows its command
    /// (`cell_time_constant_s`).
    pub cell_time_constant: Duration,
    /// How much the client's feet raise the water level (`feet_displacement_l`).
    #[serde(rename = "feet_displacement_l")]
    pub feet_displacement: Litres,
    /// Water in the bath when the simulator starts (`initial_water_l`).
    #[serde(rename = "initial_water_l")]
    pub initial_water: Litres,
}

impl Default for SimulatorSpec {
    fn default() -> Self {
        Self {
            ambient: Celsius(22.0),
            supply_water: Celsius(37.0),
            fill_flow: LitresPerSecond(0.25),
            drain_flow: LitresPerSecond(0.4),
            water_heater_power: Watts(1500.0),
            water_loss_per_c: 6.0,
            pad_heater_power: Watts(40.0),
            pad_heat_capacity_per_c: 300.0,
            pad_loss_per_c: 0.6,
            carriage_speed_max: PercentPerSecond(30.0),
            cell_time_constant: Duration::from_millis(400),
            feet_displacement: Litres(1.2),
            initial_water: Litres(0.0),
        }
    }
}

/// What a chair has, as a set: programs declare what they need from it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Equipment {
    /// Foot roller units.
    pub foot_rollers: bool,
    /// Calf units.
    pub calf_units: bool,
    /// A sole heat pad.
    pub sole_heat: bool,
    /// A calf heat pad.
    pub calf_heat: bool,
    /// A whirlpool foot bath with its water heater.
    pub bath: bool,
}

/// One part of [`Equipment`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EquipmentPart {
    /// The foot roller units.
    FootRollers,
    /// The calf units.
    CalfUnits,
    /// The sole heat pad.
    SoleHeat,
    /// The calf heat pad.
    CalfHeat,
    /// The foot bath.
    Bath,
}

impl EquipmentPart {
    /// Every part, in a stable order.
    pub const ALL: [Self; 5] = [
        Self::FootRollers,
        Self::CalfUnits,
        Self::SoleHeat,
        Self::CalfHeat,
        Self::Bath,
    ];

    /// Stable name, as serialized: `foot_rollers`…
    pub const fn code(self) -> &'static str {
        match self {
            Self::FootRollers => "foot_rollers",
            Self::CalfUnits => "calf_units",
            Self::SoleHeat => "sole_heat",
            Self::CalfHeat => "calf_heat",
            Self::Bath => "bath",
        }
    }

    /// The part in words.
    pub const fn name(self) -> &'static str {
        match self {
            Self::FootRollers => "foot rollers",
            Self::CalfUnits => "calf units",
            Self::SoleHeat => "sole heat pad",
            Self::CalfHeat => "calf heat pad",
            Self::Bath => "foot bath",
        }
    }
}

impl std::fmt::Display for EquipmentPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Equipment {
    /// Every part of a chair.
    pub const ALL: Self = Self {
        foot_rollers: true,
        calf_units: true,
        sole_heat: true,
        calf_heat: true,
        bath: true,
    };

    /// Whether `part` is in the set.
    pub const fn has(&self, part: EquipmentPart) -> bool {
        match part {
            EquipmentPart::FootRollers => self.foot_rollers,
            EquipmentPart::CalfUnits => self.calf_units,
            EquipmentPart::SoleHeat => self.sole_heat,
            EquipmentPart::CalfHeat => self.calf_heat,
            EquipmentPart::Bath => self.bath,
        }
    }

    /// Every part: whether it is in the set, its code (`foot_rollers`…) and
    /// its name in words.
    fn parts(&self) -> [(bool, &'static str, &'static str); 5] {
        EquipmentPart::ALL.map(|p| (self.has(p), p.code(), p.name()))
    }

    /// The codes of the parts in the set, e.g. `["foot_rollers", "bath"]`.
    pub fn codes(&self) -> Vec<&'static str> {
        self.parts()
            .into_iter()
            .filter(|p| p.0)
            .map(|p| p.1)
            .collect()
    }

    /// The parts in the set, in words.
    pub fn names(&self) -> Vec<&'static str> {
        self.parts()
            .into_iter()
            .filter(|p| p.0)
            .map(|p| p.2)
            .collect()
    }

    /// The parts in `self` that `available` lacks, in words.
    pub fn missing_from(&self, available: &Equipment) -> Vec<&'static str> {
        let have = available.parts();
        self.parts()
            .into_iter()
            .zip(have)
            .filter(|(wanted, have)| wanted.0 && !have.0)
            .map(|(wanted, _)| wanted.2)
            .collect()
    }
}

impl ChairProfile {
    /// Parse and check a profile. `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Self, FileError> {
        let located = Located::new(file, text);
        let profile: ChairProfile = located.deserialize()?;
        profile.check(&located)?;
        Ok(profile)
    }

    /// The profile of the standard chair shipped with the service.
    #[allow(clippy::panic)] // reviewed: a compiled-in file, checked by this crate's tests
    pub fn standard() -> Self {
        // The embedded file is checked by this crate's tests; failing here is a build defect.
        Self::parse(STANDARD_PROFILE_NAME, STANDARD_PROFILE_TOML)
            .unwrap_or_else(|e| panic!("built-in profile is invalid: {e}"))
    }

    /// The spec of `heater`, if the chair has it.
    pub fn heater(&self, heater: HeaterId) -> Option<&HeaterSpec> {
        match heater {
            HeaterId::Water => self.bath.as_ref().map(|b| &b.heater),
            HeaterId::SolePad => self.heat_pads.sole.as_ref(),
            HeaterId::CalfPad => self.heat_pads.calf.as_ref(),
        }
    }

    /// The parts this chair has.
    pub fn equipment(&self) -> Equipment {
        Equipment {
            foot_rollers: self.foot_rollers.is_some(),
            calf_units: self.calf_units.is_some(),
            sole_heat: self.heat_pads.sole.is_some(),
            calf_heat: self.heat_pads.calf.is_some(),
            bath: self.bath.is_some(),
        }
    }

    fn check(&self, located: &Located<'_>) -> Result<(), FileError> {
        let mut c = Checker::new(located);
        c.require(!self.chair.model.trim().is_empty(), "chair.model", || {
            "must not be empty".into()
        });
        let s = &self.session;
        c.duration(
            s.max_duration,
            Duration::from_secs(60),
            SESSION_HARD_MAX,
            "session.max_duration_min",
        );
        c.duration(
            s.prepare_timeout,
            Duration::from_secs(1),
            Duration::from_secs(600),
            "session.prepare_timeout_s",
        );
        c.duration(
            s.finish_timeout,
            Duration::from_secs(1),
            Duration::from_secs(120),
            "session.finish_timeout_s",
        );
        c.duration(
            s.staff_timeout,
            Duration::from_secs(60),
            STAFF_WAIT_HARD_MAX,
            "session.staff_timeout_min",
        );
        c.duration(
            self.outputs.heater_hold,
            Duration::from_millis(100),
            HEATER_HOLD_HARD_MAX,
            "outputs.heater_hold_s",
        );
        if let Some(f) = &self.foot_rollers {
            let k = |name: &str| format!("foot_rollers.{name}");
            c.positive(
                f.travel_speed_max.0,
                100.0,
                &k("travel_speed_max_pct_s"),
                "%/s",
            );
            c.positive(
                f.pressure_ramp_max.0,
                100.0,
                &k("pressure_ramp_max_pct_s"),
                "%/s",
            );
            check_ceilings(
                &mut c,
                &f.pressure_ceiling,
                "foot_rollers.pressure_ceiling_pct",
            );
            c.positive(f.knead_rate_max.0, 5.0, &k("knead_rate_max_hz"), "Hz");
            c.positive(f.tap_rate_max.0, 20.0, &k("tap_rate_max_hz"), "Hz");
            c.positive(f.vibrate_rate_max.0, 100.0, &k("vibrate_rate_max_hz"), "Hz");
            c.positive(f.stall_current.0, 20.0, &k("stall_current_a"), "A");
            c.duration(
                f.stall_time,
                Duration::from_millis(20),
                Duration::from_secs(5),
                &k("stall_time_ms"),
            );
            c.range(f.park_position.0, 0.0, 100.0, &k("park_position_pct"), "%");
            let [lo, hi] = f.position_sensor_range;
            c.require(
                lo.0 <= 0.0 && hi.0 >= 100.0 && hi.0 <= 1000.0,
                &k("position_sensor_range_pct"),
                || format!("[{lo}, {hi}] must reach from 0 % or below to 100 % or above"),
            );
            let [lo, hi] = f.current_sensor_range;
            c.require(
                lo.0 <= 0.0 && hi > f.stall_current && hi.0 <= 1000.0,
                &k("current_sensor_range_a"),
                || {
                    format!(
                        "[{lo}, {hi}] must reach from 0 A or below to above the stall current ({})",
                        f.stall_current
                    )
                },
            );
        }
        if let Some(u) = &self.calf_units {
            check_ceilings(
                &mut c,
                &u.pressure_ceiling,
                "calf_units.pressure_ceiling_pct",
            );
            c.positive(
                u.pressure_ramp_max.0,
                100.0,
                "calf_units.pressure_ramp_max_pct_s",
                "%/s",
            );
            c.range(
                u.kneading_speed_max.0,
                0.0,
                100.0,
                "calf_units.kneading_speed_max_pct",
                "%",
            );
            c.range(
                u.overpressure_margin.0,
                1.0,
                50.0,
                "calf_units.overpressure_margin_pct",
                "%",
            );
            let [lo, hi] = u.pressure_sensor_range;
            c.require(
                lo.0 <= 0.0 && hi > u.overpressure_limit() && hi.0 <= 1000.0,
                "calf_units.pressure_sensor_range_pct",
                || {
                    format!(
                        "[{lo}, {hi}] must reach from 0 % or below to above the overpressure limit ({})",
                        u.overpressure_limit()
                    )
                },
            );
        }
        if let Some(h) = &self.heat_pads.sole {
            check_heater(&mut c, h, "heat_pads.sole", PAD_HARD_CEILING);
        }
        if let Some(h) = &self.heat_pads.calf {
            check_heater(&mut c, h, "heat_pads.calf", PAD_HARD_CEILING);
        }
        if let Some(b) = &self.bath {
            check_bath(&mut c, b);
            check_heater(&mut c, &b.heater, "bath.heater", WATER_HARD_CEILING);
        }
        check_simulator(&mut c, &self.simulator);
        c.duration(
            self.io.max_sample_age,
            Duration::from_millis(10),
            Duration::from_secs(1),
            "io.max_sample_age_ms",
        );
        match (&self.chair.backend, &self.chair_board) {
            (Backend::ChairBoard, None) => c.require(false, "chair.backend", || {
                "\"chair_board\" needs a [chair_board] table saying where the board is".into()
            }),
            (_, Some(b)) => check_chair_board(&mut c, b),
            (Backend::Simulator, None) => {}
        }
        c.finish()
    }
}

fn check_ceilings(c: &mut Checker<'_>, ceilings: &[Percent; Intensity::LEVELS], key: &str) {
    for (i, p) in ceilings.iter().enumerate() {
        c.range(p.0, 0.0, 100.0, &format!("{key}[{i}]"), "%");
        if i > 0 {
            c.require(p.0 >= ceilings[i - 1].0, &format!("{key}[{i}]"), || {
                format!(
                    "the ceiling for intensity {} ({p}) is below the one for intensity {} ({}); \
                     allowed: each level at least as high as the one before",
                    i + 1,
                    i,
                    ceilings[i - 1]
                )
            });
        }
    }
}

fn check_heater(c: &mut Checker<'_>, h: &HeaterSpec, table: &str, ceiling: Celsius) {
    let k = |name: &str| format!("{table}.{name}");
    c.require(h.cutoff.0.is_finite() && h.cutoff <= ceiling, &k("cutoff_c"), || {
        format!(
            "{} is above the hard ceiling compiled into the service; allowed: at most {ceiling}",
            h.cutoff
        )
    });
    c.require(
        h.setpoint_max.0.is_finite() && h.setpoint_max.0 > 0.0 && h.setpoint_max < h.cutoff,
        &k("setpoint_max_c"),
        || {
            format!(
                "{} must be above 0 °C and below the cutoff ({})",
                h.setpoint_max, h.cutoff
            )
        },
    );
    let [lo, hi] = h.sensor_range;
    c.require(
        lo.0.is_finite() && hi.0.is_finite() && lo < hi && hi > h.cutoff,
        &k("sensor_range_c"),
        || {
            format!(
                "[{lo}, {hi}] is not a usable range; allowed: low below high, high above the cutoff ({})",
                h.cutoff
            )
        },
    );
    c.range(
        h.proportional,
        0.0,
        1000.0,
        &k("proportional_pct_per_c"),
        "%/°C",
    );
    c.range(
        h.integral,
        0.0,
        100.0,
        &k("integral_pct_per_c_s"),
        "%/(°C·s)",
    );
    c.positive(h.verify_rise.0, 20.0, &k("verify_rise_c"), "°C");
    c.duration(
        h.verify_window,
        Duration::from_secs(5),
        Duration::from_secs(900),
        &k("verify_window_s"),
    );
    c.positive(h.band.0, 15.0, &k("band_c"), "°C");
    c.duration(
        h.band_time,
        Duration::from_secs(5),
        Duration::from_secs(1800),
        &k("band_time_s"),
    );
    c.duration(
        h.response_window,
        Duration::from_secs(10),
        Duration::from_secs(1800),
        &k("response_window_s"),
    );
    c.range(h.response_duty.0, 10.0, 100.0, &k("response_duty_pct"), "%");
    c.positive(h.response_rise.0, 20.0, &k("response_rise_c"), "°C");
}

fn check_bath(c: &mut Checker<'_>, b: &BathSpec) {
    c.positive(b.capacity.0, 200.0, "bath.capacity_l", "L");
    let ordered = 0.0 < b.empty_level.0
        && b.empty_level < b.min_level
        && b.min_level < b.max_level
        && b.max_level < b.overflow_level
        && b.overflow_level <= b.capacity;
    c.require(ordered, "bath.max_level_l", || {
        format!(
            "levels out of order (empty {}, min {}, max {}, overflow {}, capacity {}); \
             allowed: 0 < empty < min < max < overflow ≤ capacity",
            b.empty_level, b.min_level, b.max_level, b.overflow_level, b.capacity
        )
    });
    let [lo, hi] = b.level_sensor_range;
    c.require(
        lo.0 <= 0.0 && hi > b.capacity,
        "bath.level_sensor_range_l",
        || {
            format!(
                "[{lo}, {hi}] must reach from 0 L or below to above the capacity ({})",
                b.capacity
            )
        },
    );
    let long = Duration::from_secs(3600);
    c.duration(
        b.fill_timeout,
        Duration::from_secs(10),
        long,
        "bath.fill_timeout_s",
    );
    c.duration(
        b.fill_check_window,
        Duration::from_secs(2),
        long,
        "bath.fill_check_window_s",
    );
    c.positive(b.fill_check_rise.0, 10.0, "bath.fill_check_rise_l", "L");
    c.duration(
        b.drain_check_window,
        Duration::from_secs(2),
        long,
        "bath.drain_check_window_s",
    );
    c.positive(b.drain_check_drop.0, 10.0, "bath.drain_check_drop_l", "L");
    c.positive(b.leak_drop.0, 10.0, "bath.leak_drop_l", "L");
    c.positive(b.inflow_rise.0, 10.0, "bath.inflow_rise_l", "L");
    c.duration(
        b.settle_time,
        Duration::ZERO,
        Duration::from_secs(60),
        "bath.settle_time_s",
    );
}

fn check_chair_board(c: &mut Checker<'_>, b: &ChairBoardSpec) {
    match (&b.tcp, &b.serial) {
        (Some(tcp), None) => c.require(
            tcp.parse::<std::net::SocketAddr>().is_ok(),
            "chair_board.tcp",
            || format!("{tcp:?} is not an address; allowed: IP:port, e.g. \"192.168.7.2:502\""),
        ),
        (None, Some(serial)) => {
            c.require(serial.starts_with('/'), "chair_board.serial", || {
                format!("{serial:?} is not a device path; e.g. \"/dev/ttyUSB0\"")
            });
            c.require(
                [9_600, 19_200, 38_400, 57_600, 115_200, 230_400, 460_800].contains(&b.baud),
                "chair_board.baud",
                || {
                    format!(
                        "{} is not a supported speed; allowed: 9600, 19200, 38400, 57600, 115200, 230400, 460800",
                        b.baud
                    )
                },
            );
        }
        _ => c.require(false, "chair_board", || {
            "give exactly one of `tcp` (Modbus TCP) and `serial` (Modbus RTU)".into()
        }),
    }
    c.require(
        (1..=247).contains(&b.unit_id),
        "chair_board.unit_id",
        || format!("{} is out of range; allowed: 1 to 247", b.unit_id),
    );
    c.duration(
        b.poll_interval,
        Duration::from_millis(2),
        Duration::from_millis(100),
        "chair_board.poll_interval_ms",
    );
    c.duration(
        b.response_timeout,
        Duration::from_millis(5),
        Duration::from_millis(500),
        "chair_board.response_timeout_ms",
    );
}

fn check_simulator(c: &mut Checker<'_>, s: &SimulatorSpec) {
    c.range(s.ambient.0, -10.0, 45.0, "simulator.ambient_c", "°C");
    c.range(
        s.supply_water.0,
        1.0,
        60.0,
        "simulator.supply_water_c",
        "°C",
    );
    c.positive(s.fill_flow.0, 5.0, "simulator.fill_flow_l_s", "L/s");
    c.positive(s.drain_flow.0, 5.0, "simulator.drain_flow_l_s", "L/s");
    c.range(
        s.water_heater_power.0,
        0.0,
        5000.0,
        "simulator.water_heater_w",
        "W",
    );
    c.positive(
        s.water_loss_per_c,
        1000.0,
        "simulator.water_loss_w_per_c",
        "W/°C",
    );
    c.range(
        s.pad_heater_power.0,
        0.0,
        1000.0,
        "simulator.pad_heater_w",
        "W",
    );
    c.positive(
        s.pad_heat_capacity_per_c,
        1.0e6,
        "simulator.pad_heat_capacity_j_per_c",
        "J/°C",
    );
    c.positive(
        s.pad_loss_per_c,
        1000.0,
        "simulator.pad_loss_w_per_c",
        "W/°C",
    );
    c.positive(
        s.carriage_speed_max.0,
        200.0,
        "simulator.carriage_speed_max_pct_s",
        "%/s",
    );
    c.duration(
        s.cell_time_constant,
        Duration::from_millis(10),
        Duration::from_secs(10),
        "simulator.cell_time_constant_s",
    );
    c.range(
        s.feet_displacement.0,
        0.0,
        10.0,
        "simulator.feet_displacement_l",
        "L",
    );
    c.range(
        s.initial_water.0,
        0.0,
        200.0,
        "simulator.initial_water_l",
        "L",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(replace: &str, by: &str) -> String {
        assert!(STANDARD_PROFILE_TOML.contains(replace), "{replace}");
        STANDARD_PROFILE_TOML.replacen(replace, by, 1)
    }

    fn line_of(text: &str, needle: &str) -> usize {
        text.lines().position(|l| l.starts_with(needle)).unwrap() + 1
    }

    #[test]
    fn standard_profile_parses_with_every_part() {
        let p = ChairProfile::standard();
        assert_eq!(p.chair.model, "pedicure-standard");
        let e = p.equipment();
        assert!(e.foot_rollers && e.calf_units && e.sole_heat && e.calf_heat && e.bath);
        assert_eq!(
            p.heater(HeaterId::Water).unwrap().setpoint_max,
            Celsius(40.0)
        );
        assert_eq!(p.session.max_duration, Duration::from_secs(30 * 60));
    }

    #[test]
    fn cutoff_above_hard_ceiling_is_refused_with_line_and_allowed_value() {
        let text = with("cutoff_c = 41.0", "cutoff_c = 45.0");
        let err = ChairProfile::parse("p.toml", &text).unwrap_err();
        let p = &err.problems[0];
        assert_eq!(p.key.as_deref(), Some("bath.heater.cutoff_c"));
        assert_eq!(p.line, Some(line_of(&text, "cutoff_c = 45.0")));
        assert!(p.message.contains("at most 43.0 °C"), "{err}");
    }

    #[test]
    fn unknown_key_is_refused_with_line() {
        let text = with(
            "tap_rate_max_hz = 6.0",
            "tap_rate_max_hz = 6.0\ntapp_rate = 1",
        );
        let err = ChairProfile::parse("p.toml", &text).unwrap_err();
        let p = &err.problems[0];
        assert_eq!(p.key.as_deref(), Some("foot_rollers.tapp_rate"), "{err}");
        assert_eq!(p.line, Some(line_of(&text, "tapp_rate")));
        assert!(p.message.contains("expected one of"), "{err}");
    }

    #[test]
    fn unknown_backend_names_what_is_allowed() {
        let text = with("backend = \"simulator\"", "backend = \"gpio\"");
        let err = ChairProfile::parse("p.toml", &text).unwrap_err();
        assert!(err.to_string().contains("`simulator`"), "{err}");
        assert_eq!(
            err.problems[0].key.as_deref(),
            Some("chair.backend"),
            "{err}"
        );
    }

    #[test]
    fn a_chair_board_backend_needs_its_table_and_a_usable_one() {
        let text = with("backend = \"simulator\"", "backend = \"chair_board\"");
        let err = ChairProfile::parse("p.toml", &text).unwrap_err();
        assert_eq!(
            err.problems[0].key.as_deref(),
            Some("chair.backend"),
            "{err}"
        );
        assert!(err.to_string().contains("[chair_board]"), "{err}");

        let board = format!("{text}\n[chair_board]\ntcp = \"board.local\"\nunit_id = 0\n");
        let err = ChairProfile::parse("p.toml", &board).unwrap_err();
        let keys: Vec<_> = err
            .problems
            .iter()
            .filter_map(|p| p.key.as_deref())
            .collect();
        assert_eq!(keys, ["chair_board.tcp", "chair_board.unit_id"], "{err}");
        assert!(err.to_string().contains("1 to 247"), "{err}");

        let both =
            format!("{text}\n[chair_board]\ntcp = \"10.0.0.2:502\"\nserial = \"/dev/ttyS1\"\n");
        let err = ChairProfile::parse("p.toml", &both).unwrap_err();
        assert!(err.to_string().contains("exactly one of"), "{err}");
        let serial = format!("{text}\n[chair_board]\nserial = \"/dev/ttyS1\"\nbaud = 1234\n");
        let err = ChairProfile::parse("p.toml", &serial).unwrap_err();
        assert_eq!(
            err.problems[0].key.as_deref(),
            Some("chair_board.baud"),
            "{err}"
        );

        let good = format!("{text}\n[chair_board]\ntcp = \"192.168.7.2:502\"\n");
        let profile = ChairProfile::parse("p.toml", &good).unwrap();
        let spec = profile.chair_board.unwrap();
        assert_eq!(
            (spec.unit_id, spec.poll_interval),
            (1, Duration::from_millis(10))
        );
    }

    #[test]
    fn sensor_ranges_come_from_the_profile_and_must_cover_the_working_range() {
        let text = with(
            "position_sensor_range_pct = [-5.0, 105.0]",
            "position_sensor_range_pct = [-5.0, 95.0]",
        );
        let err = ChairProfile::parse("p.toml", &text).unwrap_err();
        assert_eq!(
            err.problems[0].key.as_deref(),
            Some("foot_rollers.position_sensor_range_pct"),
            "{err}"
        );
        let text = with(
            "current_sensor_range_a = [-0.5, 15.0]",
            "current_sensor_range_a = [-0.5, 2.0]",
        );
        let err = ChairProfile::parse("p.toml", &text).unwrap_err();
        assert!(err.to_string().contains("stall current"), "{err}");
        let text = with(
            "pressure_sensor_range_pct = [-5.0, 110.0]",
            "pressure_sensor_range_pct = [-5.0, 80.0]",
        );
        let err = ChairProfile::parse("p.toml", &text).unwrap_err();
        assert!(err.to_string().contains("overpressure limit"), "{err}");
    }

    #[test]
    fn decreasing_pressure_ceilings_are_refused_at_the_item() {
        let text = with("[35, 50, 65, 80, 90]", "[35, 50, 45, 80, 90]");
        let err = ChairProfile::parse("p.toml", &text).unwrap_err();
        assert_eq!(
            err.problems[0].key.as_deref(),
            Some("foot_rollers.pressure_ceiling_pct[2]"),
            "{err}"
        );
    }

    #[test]
    fn out_of_order_levels_are_refused() {
        let text = with("min_level_l = 6.0", "min_level_l = 20.0");
        let err = ChairProfile::parse("p.toml", &text).unwrap_err();
        assert!(err.to_string().contains("levels out of order"), "{err}");
    }

    #[test]
    fn a_chair_without_calf_units_is_fine_and_says_so() {
        let start = STANDARD_PROFILE_TOML.find("\n[calf_units]").unwrap();
        let end = STANDARD_PROFILE_TOML.find("\n[heat_pads.sole]").unwrap();
        let text = format!(
            "{}{}",
            &STANDARD_PROFILE_TOML[..start],
            &STANDARD_PROFILE_TOML[end..]
        );
        let p = ChairProfile::parse("p.toml", &text).unwrap();
        assert!(!p.equipment().calf_units);
        let wanted = Equipment {
            calf_units: true,
            ..Equipment::default()
        };
        assert_eq!(wanted.missing_from(&p.equipment()), vec!["calf units"]);
    }

    #[test]
    fn several_problems_are_all_reported_in_file_order() {
        let text = with("heater_hold_s = 5", "heater_hold_s = 60").replacen(
            "setpoint_max_c = 42.0",
            "setpoint_max_c = 44.5",
            1,
        );
        let err = ChairProfile::parse("p.toml", &text).unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
        assert!(err.problems[0].line < err.problems[1].line);
    }
}
