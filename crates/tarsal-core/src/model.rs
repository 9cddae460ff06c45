//! The chair as data: which parts it has, what its sensors read, what a program
//! asks for (a [`Request`]) and what the supervisor lets through to the hardware
//! (the [`Outputs`]). Programs address parts by role (left foot roller, ankle
//! cell, water heater), never by wire.

use crate::units::{Amps, Celsius, Hertz, Litres, Percent, PercentPerSecond};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Index, IndexMut};

/// Defines a small closed set of roles and a fixed-size map keyed by it.
macro_rules! role_map {
    ($(#[$doc:meta])* $role:ident [$n:literal] { $($variant:ident => $code:literal, $words:literal),+ $(,)? }
     $(#[$mdoc:meta])* $map:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $role { $(#[doc = concat!($words, " (`", $code, "`).")] $variant),+ }

        impl $role {
            /// Every role, in declaration order.
            pub const ALL: [Self; $n] = [$(Self::$variant),+];

            /// Stable machine-readable name (used in event subjects, config keys, topics).
            pub const fn code(self) -> &'static str {
                match self { $(Self::$variant => $code),+ }
            }

            /// Words for people.
            pub const fn words(self) -> &'static str {
                match self { $(Self::$variant => $words),+ }
            }

            /// Zero-based position in `ALL`: the index into the matching map.
            pub const fn index(self) -> usize {
                self as usize
            }
        }

        impl fmt::Display for $role {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.words())
            }
        }

        $(#[$mdoc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
        pub struct $map<T>(pub [T; $n]);

        impl<T> $map<T> {
            /// Each role with its value, in `ALL` order.
            pub fn iter(&self) -> impl Iterator<Item = ($role, &T)> {
                $role::ALL.into_iter().zip(self.0.iter())
            }

            /// A map holding `f` of each value.
            pub fn map<U>(&self, f: impl FnMut(&T) -> U) -> $map<U> {
                $map(self.0.each_ref().map(f))
            }
        }

        impl<T> Index<$role> for $map<T> {
            type Output = T;
            fn index(&self, role: $role) -> &T {
                &self.0[role.index()]
            }
        }

        impl<T> IndexMut<$role> for $map<T> {
            fn index_mut(&mut self, role: $role) -> &mut T {
                &mut self.0[role.index()]
            }
        }
    };
}

role_map!(
    /// Which foot or leg.
    Side [2] { Left => "left", "left", Right => "right", "right" }
    /// One value per side.
    Sided
);

role_map!(
    /// The three air cells of a calf unit, from the ankle up.
    CalfCell [3] { Ankle => "ankle", "ankle", Mid => "mid", "mid-calf", Upper => "upper", "upper calf" }
    /// One value per calf cell.
    Cells
);

role_map!(
    /// Every heater the service regulates in closed loop.
    HeaterId [3] {
        Water => "water", "foot-bath water heater",
        SolePad => "sole_pad", "sole heat pad",
        CalfPad => "calf_pad", "calf heat pad",
    }
    /// One value per heater.
    Heaters
);

/// What the massage nodes of a foot roller do while the carriage travels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeMotion {
    /// Nodes do not move.
    #[default]
    Still,
    /// Nodes knead in circles.
    Knead,
    /// Nodes tap against the sole.
    Tap,
    /// Nodes vibrate.
    Vibrate,
}

impl NodeMotion {
    /// Every motion, in declaration order.
    pub const ALL: [Self; 4] = [Self::Still, Self::Knead, Self::Tap, Self::Vibrate];

    /// Stable machine-readable name (as serialized): `still`, `knead`, `tap`, `vibrate`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Still => "still",
            Self::Knead => "knead",
            Self::Tap => "tap",
            Self::Vibrate => "vibrate",
        }
    }
}

/// A command for one foot roller unit: where the carriage goes and how fast,
/// how hard the nodes press and how they move.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FootRollerCommand {
    /// Carriage target along the sole: 0 % = toes, 100 % = heel.
    pub position: Percent,
    /// Carriage travel speed toward the target; 0 holds the carriage where it is.
    pub travel_speed: PercentPerSecond,
    /// Node pressure against the sole.
    pub pressure: Percent,
    /// How the nodes move.
    pub motion: NodeMotion,
    /// Rate of the node motion (kneading circles, taps or vibration per second).
    pub motion_rate: Hertz,
}

impl FootRollerCommand {
    /// Nodes off and the carriage held.
    pub const OFF: Self = Self {
        position: Percent::ZERO,
        travel_speed: PercentPerSecond::ZERO,
        pressure: Percent::ZERO,
        motion: NodeMotion::Still,
        motion_rate: Hertz::ZERO,
    };

    /// Whether the carriage is held and the nodes are still and unpressed.
    pub fn is_off(&self) -> bool {
        self.travel_speed.0 == 0.0
            && self.pressure.0 == 0.0
            && self.motion == NodeMotion::Still
            && self.motion_rate.0 == 0.0
    }
}

/// A command for one calf unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CalfCommand {
    /// Air pressure of each cell.
    pub cells: Cells<Percent>,
    /// Speed of the kneading rollers; 0 % is off.
    pub kneading_speed: Percent,
}

impl CalfCommand {
    /// Every cell at 0 % and the kneading rollers off.
    pub const OFF: Self = Self {
        cells: Cells([Percent::ZERO; 3]),
        kneading_speed: Percent::ZERO,
    };

    /// Whether every cell and the kneading rollers are off.
    pub fn is_off(&self) -> bool {
        self.cells.0.iter().all(|p| p.0 == 0.0) && self.kneading_speed.0 == 0.0
    }
}

/// What a program asks of the foot bath.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BathRequest {
    /// Open the fill valve.
    pub fill: bool,
    /// Run the drain pump.
    pub drain: bool,
    /// Whirlpool jet pump power.
    pub jets: Percent,
}

/// Everything a program asks for in one tick. The supervisor decides what of it
/// reaches the hardware.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Foot roller commands, per side.
    pub feet: Sided<FootRollerCommand>,
    /// Calf unit commands, per side.
    pub calves: Sided<CalfCommand>,
    /// Target temperature per heater; `None` is off. The service runs the
    /// closed loop; a program never drives heater power directly.
    pub setpoints: Heaters<Option<Celsius>>,
    /// What to do with the foot bath.
    pub bath: BathRequest,
}

impl Request {
    /// Everything off.
    pub const OFF: Self = Self {
        feet: Sided([FootRollerCommand::OFF; 2]),
        calves: Sided([CalfCommand::OFF; 2]),
        setpoints: Heaters([None; 3]),
        bath: BathRequest {
            fill: false,
            drain: false,
            jets: Percent::ZERO,
        },
    };
}

/// What the hardware is told to do. Only the supervisor produces these.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outputs {
    /// Foot roller commands, per side.
    pub feet: Sided<FootRollerCommand>,
    /// Calf unit commands, per side.
    pub calves: Sided<CalfCommand>,
    /// Heater power (duty) per heater.
    pub heater_power: Heaters<Percent>,
    /// Fill valve open.
    pub fill_valve_open: bool,
    /// Drain pump running.
    pub drain_pump_on: bool,
    /// Whirlpool jet pump power.
    pub jet_pump: Percent,
}

impl Outputs {
    /// The safe state: all motion and heat off, valve closed, jets and drain off
    /// (the water stays in the bath).
    pub const SAFE: Self = Self {
        feet: Sided([FootRollerCommand::OFF; 2]),
        calves: Sided([CalfCommand::OFF; 2]),
        heater_power: Heaters([Percent::ZERO; 3]),
        fill_valve_open: false,
        drain_pump_on: false,
        jet_pump: Percent::ZERO,
    };

    /// Whether these outputs are the safe state: nothing moves, heats, fills, drains or pumps.
    pub fn is_safe(&self) -> bool {
        self.feet.0.iter().all(FootRollerCommand::is_off)
            && self.calves.0.iter().all(CalfCommand::is_off)
            && self.heater_power.0.iter().all(|p| p.0 == 0.0)
            && !self.fill_valve_open
            && !self.drain_pump_on
            && self.jet_pump.0 == 0.0
    }
}

/// Sensor readings of one foot roller unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FootSensors {
    /// Measured carriage position along the sole: 0 % = toes, 100 % = heel.
    pub carriage_position: Percent,
    /// Roller motor current.
    pub motor_current: Amps,
}

/// Everything the chair's sensors report in one tick.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SensorReadings {
    /// Foot roller readings, per side.
    pub feet: Sided<FootSensors>,
    /// Measured air pressure of each calf cell.
    pub calf_cells: Sided<Cells<Percent>>,
    /// Water temperature and pad temperatures, by heater.
    pub temperatures: Heaters<Celsius>,
    /// Water in the foot bath.
    pub water_level: Litres,
    /// The leak sensor under the bath is wet.
    pub leak_detected: bool,
    /// The emergency-stop button is pressed.
    pub estop_pressed: bool,
    /// Feet are on the footrest.
    pub feet_present: bool,
}

/// An analog sensor, for faults and events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "sensor", content = "at")]
pub enum SensorId {
    /// Temperature at a heater: the bath water or a heat pad.
    Temperature(HeaterId),
    /// The bath's water level.
    WaterLevel,
    /// A foot roller's carriage position.
    CarriagePosition(Side),
    /// A foot roller's motor current.
    MotorCurrent(Side),
    /// Air pressure of one calf cell.
    CellPressure(Side, CalfCell),
}

impl SensorId {
    /// Every analog sensor of a fully equipped chair.
    pub fn all() -> impl Iterator<Item = SensorId> {
        let temps = HeaterId::ALL.into_iter().map(SensorId::Temperature);
        let feet = Side::ALL
            .into_iter()
            .flat_map(|s| [SensorId::CarriagePosition(s), SensorId::MotorCurrent(s)]);
        let cells = Side::ALL.into_iter().flat_map(|s| {
            CalfCell::ALL
                .into_iter()
                .map(move |c| SensorId::CellPressure(s, c))
        });
        temps
            .chain(std::iter::once(SensorId::WaterLevel))
            .chain(feet)
            .chain(cells)
    }

    /// Stable machine-readable name, e.g. `temperature.water`, `cell_pressure.left.ankle`.
    pub fn code(self) -> String {
        match self {
            Self::Temperature(h) => format!("temperature.{}", h.code()),
            Self::WaterLevel => "water_level".into(),
            Self::CarriagePosition(s) => format!("carriage_position.{}", s.code()),
            Self::MotorCurrent(s) => format!("motor_current.{}", s.code()),
            Self::CellPressure(s, c) => format!("cell_pressure.{}.{}", s.code(), c.code()),
        }
    }

    /// The raw value of this sensor in `readings`.
    pub fn read(self, readings: &SensorReadings) -> f64 {
        match self {
            Self::Temperature(h) => readings.temperatures[h].0,
            Self::WaterLevel => readings.water_level.0,
            Self::CarriagePosition(s) => readings.feet[s].carriage_position.0,
            Self::MotorCurrent(s) => readings.feet[s].motor_current.0,
            Self::CellPressure(s, c) => readings.calf_cells[s][c].0,
        }
    }

    /// A mutable reference to this sensor's value in `readings` (for simulators and tests).
    pub fn slot(self, readings: &mut SensorReadings) -> &mut f64 {
        match self {
            Self::Temperature(h) => &mut readings.temperatures[h].0,
            Self::WaterLevel => &mut readings.water_level.0,
            Self::CarriagePosition(s) => &mut readings.feet[s].carriage_position.0,
            Self::MotorCurrent(s) => &mut readings.feet[s].motor_current.0,
            Self::CellPressure(s, c) => &mut readings.calf_cells[s][c].0,
        }
    }

    /// The unit symbol of this sensor's readings.
    pub fn unit(self) -> &'static str {
        match self {
            Self::Temperature(_) => Celsius::SYMBOL,
            Self::WaterLevel => Litres::SYMBOL,
            Self::CarriagePosition(_) | Self::CellPressure(..) => Percent::SYMBOL,
            Self::MotorCurrent(_) => Amps::SYMBOL,
        }
    }
}

impl fmt::Display for SensorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Temperature(HeaterId::Water) => f.write_str("water temperature sensor"),
            Self::Temperature(h) => write!(f, "{h} temperature sensor"),
            Self::WaterLevel => f.write_str("water level sensor"),
            Self::CarriagePosition(s) => write!(f, "{s} foot roller position sensor"),
            Self::MotorCurrent(s) => write!(f, "{s} foot roller motor current sensor"),
            Self::CellPressure(s, c) => write!(f, "{s} {c} cell pressure sensor"),
        }
    }
}

/// A part of the chair that can be commanded, for events and service mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "actuator", content = "at")]
pub enum ActuatorId {
    /// A foot roller unit.
    FootRoller(Side),
    /// A calf unit (air cells and kneading rollers).
    CalfUnit(Side),
    /// A heater.
    Heater(HeaterId),
    /// The bath's fill valve.
    FillValve,
    /// The bath's drain pump.
    DrainPump,
    /// The whirlpool jet pump.
    JetPump,
}

impl ActuatorId {
    /// Stable machine-readable name, e.g. `foot_roller.left`, `heater.water`, `fill_valve`.
    pub fn code(self) -> String {
        match self {
            Self::FootRoller(s) => format!("foot_roller.{}", s.code()),
            Self::CalfUnit(s) => format!("calf_unit.{}", s.code()),
            Self::Heater(h) => format!("heater.{}", h.code()),
            Self::FillValve => "fill_valve".into(),
            Self::DrainPump => "drain_pump".into(),
            Self::JetPump => "jet_pump".into(),
        }
    }
}

impl fmt::Display for ActuatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FootRoller(s) => write!(f, "{s} foot roller"),
            Self::CalfUnit(s) => write!(f, "{s} calf unit"),
            Self::Heater(h) => write!(f, "{h}"),
            Self::FillValve => f.write_str("fill valve"),
            Self::DrainPump => f.write_str("drain pump"),
            Self::JetPump => f.write_str("whirlpool jet pump"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_outputs_are_safe_and_any_motion_is_not() {
        assert!(Outputs::SAFE.is_safe());
        let mut o = Outputs::SAFE;
        o.calves[Side::Right].cells[CalfCell::Upper] = Percent(1.0);
        assert!(!o.is_safe());
        let mut o = Outputs::SAFE;
        o.drain_pump_on = true;
        assert!(!o.is_safe());
    }

    #[test]
    fn sensor_ids_are_unique_and_addressable() {
        let all: Vec<_> = SensorId::all().collect();
        assert_eq!(all.len(), 3 + 1 + 4 + 6);
        let codes: std::collections::HashSet<_> = all.iter().map(|s| s.code()).collect();
        assert_eq!(codes.len(), all.len());
        let mut r = SensorReadings::default();
        for (i, s) in all.iter().enumerate() {
            *s.slot(&mut r) = i as f64;
        }
        for (i, s) in all.iter().enumerate() {
            assert_eq!(s.read(&r), i as f64);
        }
    }
}
