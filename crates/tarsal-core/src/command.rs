//! What clients ask of the chair: the commands and their vocabulary (a
//! manual bath action, a technician's single-actuator command, where an
//! emergency stop came from). The engine carries them out; events record
//! them; neither is needed to name them.

use crate::model::{CalfCommand, FootRollerCommand, HeaterId, Request, Side};
use crate::units::{Celsius, Intensity, Litres, Percent};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Something a client asks of the chair, other than starting a program.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Pause the running session: rollers and pressure off, heat keeps its temperature.
    Pause,
    /// Resume a paused session.
    Resume,
    /// End the session early: the chair finishes (rollers park) and the outcome is `stopped`.
    Stop,
    /// Latch the emergency stop, from the given source.
    EmergencyStop(StopSource),
    /// Acknowledge latched faults or the emergency stop.
    Reset,
    /// Change the session's intensity (in service mode, the service-mode intensity).
    SetIntensity(Intensity),
    /// Switch heat (heat pads and water heater) on or off for the session.
    SetHeat(bool),
    /// Staff did what the current step asked (for example, added
    /// disinfectant); their initials go into the sanitation log.
    ConfirmStaffStep {
        /// Initials of whoever did the step: up to 8 letters, dots and hyphens allowed.
        initials: String,
    },
    /// Fill or drain the bath by hand while no session runs.
    Bath(BathAction),
    /// A technician takes direct control of single actuators (idle only).
    EnterServiceMode,
    /// Leave service mode; the chair goes idle.
    LeaveServiceMode,
    /// Drive one actuator in service mode, through the supervisor.
    SetActuator(ManualCommand),
}

/// Where an emergency stop came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopSource {
    /// The chair's emergency-stop button.
    Button,
    /// A local client (panel, CLI) over D-Bus.
    Local,
    /// An operator over MQTT.
    Remote,
    /// The service itself (for example, on shutdown).
    Service,
}

impl StopSource {
    /// Stable machine-readable name (as serialized): `button`, `local`, `remote`, `service`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Button => "button",
            Self::Local => "local",
            Self::Remote => "remote",
            Self::Service => "service",
        }
    }
}

impl fmt::Display for StopSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Button => "the emergency-stop button",
            Self::Local => "the chair's panel or a local client",
            Self::Remote => "a remote operator",
            Self::Service => "the service",
        })
    }
}

/// Filling or draining the bath by hand, while no session runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum BathAction {
    /// Open the fill valve until the water reaches `to`.
    Fill {
        /// Water level to fill to.
        to: Litres,
    },
    /// Run the drain pump until the bath is empty.
    Drain,
    /// Stop filling or draining.
    Stop,
}

impl BathAction {
    /// Stable machine-readable name: `fill`, `drain` or `stop`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Fill { .. } => "fill",
            Self::Drain => "drain",
            Self::Stop => "stop",
        }
    }
}

/// A technician's command for one actuator in service mode.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "actuator")]
pub enum ManualCommand {
    /// Drive one foot roller.
    FootRoller {
        /// Which foot roller.
        side: Side,
        /// What it should do.
        command: FootRollerCommand,
    },
    /// Drive one calf unit.
    CalfUnit {
        /// Which calf unit.
        side: Side,
        /// What it should do.
        command: CalfCommand,
    },
    /// Set one heater's setpoint.
    Heater {
        /// Which heater.
        heater: HeaterId,
        /// Target temperature; `None` switches the heater off.
        setpoint: Option<Celsius>,
    },
    /// Open or close the fill valve.
    FillValve {
        /// Whether the valve should be open.
        open: bool,
    },
    /// Switch the drain pump.
    DrainPump {
        /// Whether the pump should run.
        on: bool,
    },
    /// Set the whirlpool jet pump's power.
    JetPump {
        /// Jet pump power.
        power: Percent,
    },
    /// Everything back off.
    AllOff,
}

impl ManualCommand {
    /// Applies the command to the service-mode request.
    pub(crate) fn apply(self, r: &mut Request) {
        match self {
            Self::FootRoller { side, command } => r.feet[side] = command,
            Self::CalfUnit { side, command } => r.calves[side] = command,
            Self::Heater { heater, setpoint } => r.setpoints[heater] = setpoint,
            Self::FillValve { open } => r.bath.fill = open,
            Self::DrainPump { on } => r.bath.drain = on,
            Self::JetPump { power } => r.bath.jets = power,
            Self::AllOff => *r = Request::OFF,
        }
    }
}

impl std::fmt::Display for ManualCommand {
    /// The command in words, for the event log: "the left foot roller:
    /// carriage to 50 %, …", "the sole heat pad switched off".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::FootRoller { side, command: c } if c.is_off() => {
                write!(
                    f,
                    "the {side} foot roller stopped (carriage at {:.0})",
                    c.position
                )
            }
            Self::FootRoller { side, command: c } => write!(
                f,
                "the {side} foot roller: carriage to {:.0} at {:.0}, pressure {:.0}, {} at {}",
                c.position,
                c.travel_speed,
                c.pressure,
                c.motion.code(),
                c.motion_rate
            ),
            Self::CalfUnit { side, command: c } if c.is_off() => {
                write!(f, "the {side} calf unit released")
            }
            Self::CalfUnit { side, command: c } => write!(
                f,
                "the {side} calf unit: cells {:.0}, {:.0}, {:.0} (ankle, mid, upper), kneading {:.0}",
                c.cells.0[0], c.cells.0[1], c.cells.0[2], c.kneading_speed
            ),
            Self::Heater {
                heater,
                setpoint: Some(sp),
            } => write!(f, "the {heater} set to {sp}"),
            Self::Heater {
                heater,
                setpoint: None,
            } => write!(f, "the {heater} switched off"),
            Self::FillValve { open: true } => f.write_str("the fill valve opened"),
            Self::FillValve { open: false } => f.write_str("the fill valve closed"),
            Self::DrainPump { on: true } => f.write_str("the drain pump on"),
            Self::DrainPump { on: false } => f.write_str("the drain pump off"),
            Self::JetPump { power } => write!(f, "the jet pump at {power:.0}"),
            Self::AllOff => f.write_str("everything off"),
        }
    }
}
