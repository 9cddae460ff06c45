//! One object per fitted actuator, under `/org/tarsal/Chair1/actuators/`:
//! what it is doing and what its sensors read, always; `Set` and `Off` for a
//! technician in service mode, still through the safety supervisor.

use crate::ChairError;
use crate::options::{number, value};
use std::collections::BTreeMap;
use std::collections::HashMap;
use tarsal_core::ChairProfile;
use tarsal_core::engine::{ChairStatus, Command, ManualCommand};
use tarsal_core::model::{
    ActuatorId, CalfCell, CalfCommand, Cells, FootRollerCommand, HeaterId, NodeMotion, Side,
};
use tarsal_core::session::OptionValue;
use tarsal_core::units::{Celsius, Hertz, Percent, PercentPerSecond};
use tarsal_runtime::ChairHandle;
use zbus::{OwnedVariant, Variant, interface};

/// The actuators a profile has, in a stable order.
pub(crate) fn fitted(profile: &ChairProfile) -> Vec<ActuatorId> {
    let e = profile.equipment();
    let mut ids = Vec::new();
    for side in Side::ALL {
        if e.foot_rollers {
            ids.push(ActuatorId::FootRoller(side));
        }
        if e.calf_units {
            ids.push(ActuatorId::CalfUnit(side));
        }
    }
    for h in HeaterId::ALL {
        if profile.heater(h).is_some() {
            ids.push(ActuatorId::Heater(h));
        }
    }
    if e.bath {
        ids.extend([
            ActuatorId::FillValve,
            ActuatorId::DrainPump,
            ActuatorId::JetPump,
        ]);
    }
    ids
}

/// `foot_roller.left` → `/org/tarsal/Chair1/actuators/foot_roller_left`.
pub(crate) fn path(id: ActuatorId) -> String {
    format!(
        "{}/{}",
        tarsal_dbus::ACTUATORS_PATH,
        id.code().replace('.', "_")
    )
}

/// A value shown in `Output` or `Readings`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Shown {
    Number(f64),
    Flag(bool),
    Text(&'static str),
}

pub(crate) type Shows = BTreeMap<&'static str, Shown>;

fn shown_map(shows: &Shows) -> HashMap<String, OwnedVariant> {
    shows
        .iter()
        .filter_map(|(k, v)| {
            let variant = match v {
                Shown::Number(n) => Variant::from(*n),
                Shown::Flag(b) => Variant::from(*b),
                Shown::Text(t) => Variant::from(*t),
            };
            variant
                .try_into()
                .ok()
                .map(|owned| ((*k).to_owned(), owned))
        })
        .collect()
}

fn r1(v: f64) -> Shown {
    Shown::Number(if v.is_finite() {
        (v * 10.0).round() / 10.0
    } else {
        v
    })
}

/// What an actuator is told to do, and what its sensors read, from a status.
pub(crate) fn shows(id: ActuatorId, s: &ChairStatus) -> (Shows, Shows) {
    let mut out = Shows::new();
    let mut read = Shows::new();
    match id {
        ActuatorId::FootRoller(side) => {
            let c = &s.outputs.feet[side];
            out.insert("position", r1(c.position.0));
            out.insert("speed", r1(c.travel_speed.0));
            out.insert("pressure", r1(c.pressure.0));
            out.insert("motion", Shown::Text(c.motion.code()));
            out.insert("rate", r1(c.motion_rate.0));
            read.insert("position", r1(s.sensors.feet[side].carriage_position.0));
            read.insert("current", r1(s.sensors.feet[side].motor_current.0));
        }
        ActuatorId::CalfUnit(side) => {
            let c = &s.outputs.calves[side];
            for cell in CalfCell::ALL {
                out.insert(cell.code(), r1(c.cells[cell].0));
                read.insert(cell.code(), r1(s.sensors.calf_cells[side][cell].0));
            }
            out.insert("kneading", r1(c.kneading_speed.0));
        }
        ActuatorId::Heater(h) => {
            out.insert("power", r1(s.outputs.heater_power[h].0));
            if let Some(sp) = s.setpoints[h] {
                out.insert("setpoint", r1(sp.0));
            }
            read.insert("temperature", r1(s.sensors.temperatures[h].0));
        }
        ActuatorId::FillValve => {
            out.insert("open", Shown::Flag(s.outputs.fill_valve_open));
            read.insert("level", r1(s.sensors.water_level.0));
        }
        ActuatorId::DrainPump => {
            out.insert("on", Shown::Flag(s.outputs.drain_pump_on));
            read.insert("level", r1(s.sensors.water_level.0));
        }
        ActuatorId::JetPump => {
            out.insert("power", r1(s.outputs.jet_pump.0));
            read.insert("level", r1(s.sensors.water_level.0));
        }
    }
    (out, read)
}

pub(crate) struct Actuator {
    id: ActuatorId,
    handle: ChairHandle,
    pub(crate) output: Shows,
    pub(crate) readings: Shows,
}

impl Actuator {
    pub fn new(id: ActuatorId, handle: ChairHandle, status: &ChairStatus) -> Self {
        let (output, readings) = shows(id, status);
        Self {
            id,
            handle,
            output,
            readings,
        }
    }
}

/// The keys `Set` accepts for an actuator, for error messages and docs.
fn keys(id: ActuatorId) -> &'static str {
    match id {
        ActuatorId::FootRoller(_) => {
            "position (%), speed (%/s), pressure (%), motion (still|knead|tap|vibrate), rate (Hz)"
        }
        ActuatorId::CalfUnit(_) => "ankle, mid, upper (%), kneading (%)",
        ActuatorId::Heater(_) => "setpoint (°C; leave out to switch off)",
        ActuatorId::FillValve => "open (true|false)",
        ActuatorId::DrainPump => "on (true|false)",
        ActuatorId::JetPump => "power (%)",
    }
}

/// The manual command `Set` asks for. Keys not given are off or zero.
fn command(
    id: ActuatorId,
    map: &HashMap<String, OwnedVariant>,
) -> Result<ManualCommand, ChairError> {
    let allowed = keys(id);
    let unknown = |key: &str| {
        ChairError::InvalidValue(format!(
            "`{}` is not a setting of the {id}; allowed: {allowed}",
            tarsal_core::text::echo(key)
        ))
    };
    let wrong_type = |key: &str, want: &str, v: &OwnedVariant| {
        ChairError::InvalidValue(format!(
            "`{key}` of the {id} must be {want}, not a value of D-Bus type `{}`",
            v.value_signature()
        ))
    };
    // Keys not given are off or zero; given ones must be numbers in range.
    let num = |key: &str, (lo, hi): (f64, f64), unit: &str| -> Result<f64, ChairError> {
        let Some(v) = map.get(key) else {
            return Ok(0.0);
        };
        let n = number(v).ok_or_else(|| wrong_type(key, "a number", v))?;
        if n >= lo && n <= hi {
            return Ok(n);
        }
        let range = if hi.is_finite() {
            format!("{lo}–{hi} {unit}")
        } else {
            format!("{lo} {unit} or more")
        };
        Err(ChairError::InvalidValue(format!(
            "`{key}` = {n} is out of range for the {id}; allowed: {range}"
        )))
    };
    let flag = |key: &str| -> Result<bool, ChairError> {
        map.get(key).map_or(Ok(false), |v| match value(v) {
            Some(OptionValue::Bool(b)) => Ok(b),
            _ => Err(wrong_type(key, "true or false", v)),
        })
    };
    let only = |names: &[&str]| -> Result<(), ChairError> {
        match map.keys().find(|k| !names.contains(&k.as_str())) {
            Some(k) => Err(unknown(k)),
            None => Ok(()),
        }
    };
    const PERCENT: (f64, f64) = (0.0, 100.0);
    const RATE: (f64, f64) = (0.0, f64::INFINITY);
    Ok(match id {
        ActuatorId::FootRoller(side) => {
            only(&["position", "speed", "pressure", "motion", "rate"])?;
            let motions = "one of still, knead, tap, vibrate";
            let motion = match map.get("motion") {
                None => NodeMotion::Still,
                Some(v) => match v.downcast_ref::<&str>() {
                    Ok(text) => NodeMotion::ALL
                        .into_iter()
                        .find(|m| m.code() == text)
                        .ok_or_else(|| {
                            ChairError::InvalidValue(format!(
                                "`motion` = `{}` is not a motion of the {id}; allowed: {motions}",
                                tarsal_core::text::echo(text)
                            ))
                        })?,
                    Err(_) => return Err(wrong_type("motion", motions, v)),
                },
            };
            ManualCommand::FootRoller {
                side,
                command: FootRollerCommand {
                    position: Percent(num("position", PERCENT, "%")?),
                    travel_speed: PercentPerSecond(num("speed", RATE, "%/s")?),
                    pressure: Percent(num("pressure", PERCENT, "%")?),
                    motion,
                    motion_rate: Hertz(num("rate", RATE, "Hz")?),
                },
            }
        }
        ActuatorId::CalfUnit(side) => {
            only(&["ankle", "mid", "upper", "kneading"])?;
            ManualCommand::CalfUnit {
                side,
                command: CalfCommand {
                    cells: Cells([
                        Percent(num("ankle", PERCENT, "%")?),
                        Percent(num("mid", PERCENT, "%")?),
                        Percent(num("upper", PERCENT, "%")?),
                    ]),
                    kneading_speed: Percent(num("kneading", PERCENT, "%")?),
                },
            }
        }
        ActuatorId::Heater(heater) => {
            only(&["setpoint"])?;
            ManualCommand::Heater {
                heater,
                setpoint: map
                    .contains_key("setpoint")
                    .then(|| num("setpoint", (0.0, 100.0), "°C").map(Celsius))
                    .transpose()?,
            }
        }
        ActuatorId::FillValve => {
            only(&["open"])?;
            ManualCommand::FillValve {
                open: flag("open")?,
            }
        }
        ActuatorId::DrainPump => {
            only(&["on"])?;
            ManualCommand::DrainPump { on: flag("on")? }
        }
        ActuatorId::JetPump => {
            only(&["power"])?;
            ManualCommand::JetPump {
                power: Percent(num("power", PERCENT, "%")?),
            }
        }
    })
}

#[interface(name = "org.tarsal.Chair1.Actuator")]
impl Actuator {
    /// Drives this actuator (service mode only; through the supervisor).
    /// Keys not given are off or zero.
    async fn set(&self, settings: HashMap<String, OwnedVariant>) -> Result<(), ChairError> {
        let c = command(self.id, &settings)?;
        Ok(self.handle.command(Command::SetActuator(c)).await?)
    }

    /// Switches this actuator off (service mode only).
    async fn off(&self) -> Result<(), ChairError> {
        let c = command(self.id, &HashMap::new())?;
        Ok(self.handle.command(Command::SetActuator(c)).await?)
    }

    /// Stable id, e.g. `foot_roller.left`.
    #[zbus(property(emits_changed_signal = "const"))]
    fn id(&self) -> String {
        self.id.code()
    }

    /// In words, e.g. `left foot roller`.
    #[zbus(property(emits_changed_signal = "const"))]
    fn name(&self) -> String {
        self.id.to_string()
    }

    /// `foot_roller`, `calf_unit`, `heater`, `fill_valve`, `drain_pump`, `jet_pump`.
    #[zbus(property(emits_changed_signal = "const"))]
    fn kind(&self) -> String {
        self.id
            .code()
            .split('.')
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    /// What `Set` accepts.
    #[zbus(property(emits_changed_signal = "const"))]
    fn settings(&self) -> String {
        keys(self.id).to_owned()
    }

    /// What the actuator is told to do now (after the supervisor).
    #[zbus(property)]
    fn output(&self) -> HashMap<String, OwnedVariant> {
        shown_map(&self.output)
    }

    /// What its sensors read.
    #[zbus(property)]
    fn readings(&self) -> HashMap<String, OwnedVariant> {
        shown_map(&self.readings)
    }
}
