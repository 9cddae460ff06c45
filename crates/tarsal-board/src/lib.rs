//! The Tarsal chair-board protocol: what a small controller board on the
//! chair's RS-485 bus (or behind a Modbus TCP gateway) exposes so that the
//! service can drive it — identity, every actuator and sensor of the chair,
//! a communication watchdog, the latched emergency stop, status bits.
//!
//! This crate is the register map and its encoding, nothing else: the Modbus
//! backend (`tarsal-linux`) encodes outputs and decodes readings with it, the
//! simulated board (`tarsal-sim-board`) does the reverse, and docs/hardware.md
//! describes the same map for a board maker. Values are fixed-point integers
//! in the unit the register's name says (`centi` = hundredths).

#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use std::time::Duration;
use tarsal_core::model::{
    CalfCell, CalfCommand, Cells, FootRollerCommand, FootSensors, HeaterId, Heaters, NodeMotion,
    Outputs, SensorReadings, Side, Sided,
};
use tarsal_core::units::{Amps, Celsius, Hertz, Litres, Percent, PercentPerSecond};

/// First input register (function 04) of the board's input block.
pub const INPUTS_START: u16 = 0;
/// Number of input registers the host reads in one request.
pub const INPUTS_LEN: u16 = 20;
/// First holding register (functions 03/06/16) of the board's output block.
pub const OUTPUTS_START: u16 = 100;
/// Number of holding registers the host writes in one request.
pub const OUTPUTS_LEN: u16 = 28;

/// Register addresses, by name (docs/hardware.md has the same table).
pub mod register {
    /// Input: the constant [`super::PROTOCOL_MAGIC`].
    pub const MAGIC: u16 = 0;
    /// Input: the protocol version the board implements.
    pub const PROTOCOL_VERSION: u16 = 1;
    /// Input: a random non-zero number drawn at every power-up.
    pub const BOOT_ID: u16 = 2;
    /// Input: [`super::status`] bits.
    pub const STATUS: u16 = 3;
    /// Input: counts sensor scans (wraps); unchanged means the scan is stuck.
    pub const SAMPLE_COUNTER: u16 = 4;
    /// Input: the board's own fault code, 0 when none.
    pub const FAULT_CODE: u16 = 5;
    /// Input: water, sole pad and calf pad temperatures, centi-°C (3 registers).
    pub const TEMPERATURES: u16 = 6;
    /// Input: water level, centi-litres.
    pub const WATER_LEVEL: u16 = 9;
    /// Input: foot roller carriage positions left, right, centi-%.
    pub const CARRIAGE_POSITIONS: u16 = 10;
    /// Input: foot roller motor currents left, right, milli-amperes.
    pub const MOTOR_CURRENTS: u16 = 12;
    /// Input: calf cell pressures left ankle, mid, upper, right ankle, mid, upper, centi-%.
    pub const CELL_PRESSURES: u16 = 14;

    /// Holding: 1 lets the main contactor close, 0 opens it (the kill switch).
    pub const CONTACTOR: u16 = 100;
    /// Holding: the communication watchdog's hold time, ms (the board caps it at 10,000).
    pub const HOLD_MS: u16 = 101;
    /// Holding: the host's heartbeat, low then high word of a millisecond clock.
    pub const HEARTBEAT: u16 = 102;
    /// Holding: [`super::command`] bits.
    pub const COMMAND: u16 = 104;
    /// Holding: whirlpool jet pump, centi-%.
    pub const JET_PUMP: u16 = 105;
    /// Holding: heater power water, sole pad, calf pad, centi-% (3 registers).
    pub const HEATER_POWER: u16 = 106;
    /// Holding: left foot roller — position centi-%, travel speed centi-%/s,
    /// pressure centi-%, motion ([`super::motion_code`]), motion rate centi-Hz.
    pub const FOOT_ROLLER_LEFT: u16 = 109;
    /// Holding: the right foot roller, laid out as the left.
    pub const FOOT_ROLLER_RIGHT: u16 = 114;
    /// Holding: left calf unit — ankle, mid, upper cell centi-%, kneading speed centi-%.
    pub const CALF_LEFT: u16 = 119;
    /// Holding: the right calf unit, laid out as the left.
    pub const CALF_RIGHT: u16 = 123;
    /// Holding: the `BOOT_ID` the host last read. The contactor closes only
    /// while it matches: a board that restarted stays off until the host has
    /// seen the restart.
    pub const BOOT_ACK: u16 = 127;
}

/// `MAGIC`'s value: ASCII "TS".
pub const PROTOCOL_MAGIC: u16 = 0x5453;
/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u16 = 1;
/// The board never holds outputs longer than this without a heartbeat.
pub const HOLD_CAP: Duration = Duration::from_secs(10);
/// A register value that means "no valid reading" (the sensor is absent or
/// its converter failed); decoded as NaN so the supervisor faults on it.
pub const NO_READING: u16 = 0x8000;

/// Bits of the `STATUS` input register.
pub mod status {
    /// The main contactor's auxiliary contact reports it closed.
    pub const CONTACTOR_CLOSED: u16 = 1 << 0;
    /// The emergency-stop button is pressed now.
    pub const ESTOP_PRESSED: u16 = 1 << 1;
    /// The board latched an emergency stop: outputs stay off until the host
    /// writes `CONTACTOR` from 0 to 1 with the button released.
    pub const ESTOP_LATCHED: u16 = 1 << 2;
    /// The heartbeat stopped for the hold time: the board switched everything off.
    pub const WATCHDOG_EXPIRED: u16 = 1 << 3;
    /// Feet are on the footrest.
    pub const FEET_PRESENT: u16 = 1 << 4;
    /// The leak sensor under the bath is wet.
    pub const LEAK_WET: u16 = 1 << 5;
    /// The board found a fault of its own (`FAULT_CODE` says which).
    pub const BOARD_FAULT: u16 = 1 << 6;
}

/// Bits of the `COMMAND` holding register.
pub mod command {
    /// Open the fill valve.
    pub const FILL_VALVE: u16 = 1 << 0;
    /// Run the drain pump.
    pub const DRAIN_PUMP: u16 = 1 << 1;
}

/// The wire code of a node motion.
pub const fn motion_code(motion: NodeMotion) -> u16 {
    match motion {
        NodeMotion::Still => 0,
        NodeMotion::Knead => 1,
        NodeMotion::Tap => 2,
        NodeMotion::Vibrate => 3,
    }
}

/// A block of registers that does not decode.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The block has the wrong number of registers.
    #[error("expected {expected} registers, got {got}")]
    Length {
        /// Registers the map has.
        expected: usize,
        /// Registers received.
        got: usize,
    },
    /// The magic number is not Tarsal's: another device answers at this address.
    #[error("register 0 reads {0:#06x}, not the Tarsal chair board's {PROTOCOL_MAGIC:#06x}")]
    NotAChairBoard(u16),
    /// The board speaks another protocol version.
    #[error("the board speaks protocol version {0}; this service speaks {PROTOCOL_VERSION}")]
    Version(u16),
    /// A register holds a value the map does not allow.
    #[error("register {register} holds {value}, which it may not ({what})")]
    Value {
        /// Its address.
        register: u16,
        /// What it holds.
        value: u16,
        /// What it should hold.
        what: &'static str,
    },
}

/// Who the board is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Protocol version.
    pub version: u16,
    /// Changes at every power-up: a changed id means the board restarted.
    pub boot_id: u16,
}

/// Everything the board reports in one read of the input block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoardInputs {
    /// Who the board is.
    pub identity: Identity,
    /// [`status`] bits.
    pub status: u16,
    /// Sensor scans so far (wraps).
    pub sample_counter: u16,
    /// The board's own fault code, 0 when none.
    pub fault_code: u16,
    /// The sensors, in the chair's units.
    pub readings: SensorReadings,
}

impl BoardInputs {
    /// Whether a [`status`] bit is set.
    pub fn has(&self, bit: u16) -> bool {
        self.status & bit != 0
    }
}

/// Everything the host writes in one write of the output block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoardOutputs {
    /// The main contactor may close.
    pub contactor: bool,
    /// The communication watchdog's hold time.
    pub hold: Duration,
    /// The host's clock, as a heartbeat (wraps after 49 days).
    pub heartbeat: Duration,
    /// The board's boot id as the host knows it.
    pub boot_ack: u16,
    /// What every actuator should do.
    pub outputs: Outputs,
}

fn fixed(value: f64, scale: f64) -> u16 {
    if value.is_nan() {
        return NO_READING;
    }
    // Saturates: an out-of-range value stays out of range, never wraps.
    ((value * scale).round().clamp(-32767.0, 32767.0) as i16) as u16
}

fn unfixed(word: u16, scale: f64) -> f64 {
    if word == NO_READING {
        f64::NAN
    } else {
        f64::from(word as i16) / scale
    }
}

fn unsigned(value: f64, scale: f64) -> u16 {
    (value * scale).round().clamp(0.0, 65535.0) as u16
}

const CENTI: f64 = 100.0;
const MILLI: f64 = 1000.0;

impl BoardInputs {
    /// The input block as the board serves it.
    pub fn encode(&self) -> Vec<u16> {
        let r = &self.readings;
        let mut status = self.status & !(status::FEET_PRESENT | status::LEAK_WET);
        if r.feet_present {
            status |= status::FEET_PRESENT;
        }
        if r.leak_detected {
            status |= status::LEAK_WET;
        }
        if r.estop_pressed {
            status |= status::ESTOP_PRESSED;
        }
        let mut words = vec![
            PROTOCOL_MAGIC,
            self.identity.version,
            self.identity.boot_id,
            status,
            self.sample_counter,
            self.fault_code,
        ];
        words.extend(HeaterId::ALL.map(|h| fixed(r.temperatures[h].0, CENTI)));
        words.push(fixed(r.water_level.0, CENTI));
        words.extend(Side::ALL.map(|s| fixed(r.feet[s].carriage_position.0, CENTI)));
        words.extend(Side::ALL.map(|s| fixed(r.feet[s].motor_current.0, MILLI)));
        for side in Side::ALL {
            words.extend(CalfCell::ALL.map(|c| fixed(r.calf_cells[side][c].0, CENTI)));
        }
        words
    }

    /// Decodes the input block read from a board.
    pub fn decode(words: &[u16]) -> Result<Self, DecodeError> {
        if words.len() != usize::from(INPUTS_LEN) {
            return Err(DecodeError::Length {
                expected: usize::from(INPUTS_LEN),
                got: words.len(),
            });
        }
        let at = |register: u16| words[usize::from(register - INPUTS_START)];
        if at(register::MAGIC) != PROTOCOL_MAGIC {
            return Err(DecodeError::NotAChairBoard(at(register::MAGIC)));
        }
        if at(register::PROTOCOL_VERSION) != PROTOCOL_VERSION {
            return Err(DecodeError::Version(at(register::PROTOCOL_VERSION)));
        }
        let status = at(register::STATUS);
        let mut readings = SensorReadings {
            temperatures: Heaters(
                [0, 1, 2].map(|i| Celsius(unfixed(at(register::TEMPERATURES + i), CENTI))),
            ),
            water_level: Litres(unfixed(at(register::WATER_LEVEL), CENTI)),
            leak_detected: status & status::LEAK_WET != 0,
            estop_pressed: status & status::ESTOP_PRESSED != 0,
            feet_present: status & status::FEET_PRESENT != 0,
            ..SensorReadings::default()
        };
        for side in Side::ALL {
            let i = side.index() as u16;
            readings.feet[side] = FootSensors {
                carriage_position: Percent(unfixed(at(register::CARRIAGE_POSITIONS + i), CENTI)),
                motor_current: Amps(unfixed(at(register::MOTOR_CURRENTS + i), MILLI)),
            };
            readings.calf_cells[side] = Cells(CalfCell::ALL.map(|c| {
                Percent(unfixed(
                    at(register::CELL_PRESSURES + 3 * i + c.index() as u16),
                    CENTI,
                ))
            }));
        }
        Ok(Self {
            identity: Identity {
                version: at(register::PROTOCOL_VERSION),
                boot_id: at(register::BOOT_ID),
            },
            status,
            sample_counter: at(register::SAMPLE_COUNTER),
            fault_code: at(register::FAULT_CODE),
            readings,
        })
    }
}

fn roller_words(c: &FootRollerCommand) -> [u16; 5] {
    [
        unsigned(c.position.0, CENTI),
        unsigned(c.travel_speed.0, CENTI),
        unsigned(c.pressure.0, CENTI),
        motion_code(c.motion),
        unsigned(c.motion_rate.0, CENTI),
    ]
}

fn calf_words(c: &CalfCommand) -> [u16; 4] {
    let [a, m, u] = c.cells.0.map(|p| unsigned(p.0, CENTI));
    [a, m, u, unsigned(c.kneading_speed.0, CENTI)]
}

impl BoardOutputs {
    /// The output block as the host writes it.
    pub fn encode(&self) -> Vec<u16> {
        let o = &self.outputs;
        let beat = (self.heartbeat.as_millis() & 0xFFFF_FFFF) as u32;
        let mut command = 0;
        if o.fill_valve_open {
            command |= command::FILL_VALVE;
        }
        if o.drain_pump_on {
            command |= command::DRAIN_PUMP;
        }
        let mut words = vec![
            u16::from(self.contactor),
            self.hold.min(HOLD_CAP).as_millis() as u16,
            (beat & 0xFFFF) as u16,
            (beat >> 16) as u16,
            command,
            unsigned(o.jet_pump.0, CENTI),
        ];
        words.extend(HeaterId::ALL.map(|h| unsigned(o.heater_power[h].0, CENTI)));
        for side in Side::ALL {
            words.extend(roller_words(&o.feet[side]));
        }
        for side in Side::ALL {
            words.extend(calf_words(&o.calves[side]));
        }
        words.push(self.boot_ack);
        words
    }

    /// Decodes the output block a board received.
    pub fn decode(words: &[u16]) -> Result<Self, DecodeError> {
        if words.len() != usize::from(OUTPUTS_LEN) {
            return Err(DecodeError::Length {
                expected: usize::from(OUTPUTS_LEN),
                got: words.len(),
            });
        }
        let at = |register: u16| words[usize::from(register - OUTPUTS_START)];
        let pct = |register: u16| Percent(f64::from(at(register)) / CENTI);
        let contactor = match at(register::CONTACTOR) {
            0 => false,
            1 => true,
            value => {
                return Err(DecodeError::Value {
                    register: register::CONTACTOR,
                    value,
                    what: "0 or 1",
                });
            }
        };
        let roller = |base: u16| -> Result<FootRollerCommand, DecodeError> {
            let code = at(base + 3);
            let motion = NodeMotion::ALL
                .into_iter()
                .find(|m| motion_code(*m) == code)
                .ok_or(DecodeError::Value {
                    register: base + 3,
                    value: code,
                    what: "a motion code 0 to 3",
                })?;
            Ok(FootRollerCommand {
                position: pct(base),
                travel_speed: PercentPerSecond(f64::from(at(base + 1)) / CENTI),
                pressure: pct(base + 2),
                motion,
                motion_rate: Hertz(f64::from(at(base + 4)) / CENTI),
            })
        };
        let calf = |base: u16| CalfCommand {
            cells: Cells([pct(base), pct(base + 1), pct(base + 2)]),
            kneading_speed: pct(base + 3),
        };
        let command = at(register::COMMAND);
        let beat =
            u64::from(at(register::HEARTBEAT)) | u64::from(at(register::HEARTBEAT + 1)) << 16;
        Ok(Self {
            contactor,
            hold: Duration::from_millis(u64::from(at(register::HOLD_MS))).min(HOLD_CAP),
            heartbeat: Duration::from_millis(beat),
            boot_ack: at(register::BOOT_ACK),
            outputs: Outputs {
                feet: Sided([
                    roller(register::FOOT_ROLLER_LEFT)?,
                    roller(register::FOOT_ROLLER_RIGHT)?,
                ]),
                calves: Sided([calf(register::CALF_LEFT), calf(register::CALF_RIGHT)]),
                heater_power: Heaters([0, 1, 2].map(|i| pct(register::HEATER_POWER + i))),
                fill_valve_open: command & command::FILL_VALVE != 0,
                drain_pump_on: command & command::DRAIN_PUMP != 0,
                jet_pump: pct(register::JET_PUMP),
            },
        })
    }
}

#[cfg(test)]
mod tests;
