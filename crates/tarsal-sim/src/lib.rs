//! The simulated chair: a physical model good enough to test the safety logic
//! against, driven by the engine clock (so a 20-minute session runs in a
//! fraction of a second), with faults that can be injected while it runs.
//!
//! The model: water and pads as thermal masses with losses to the room; fill,
//! drain and leak flows; feet that displace water; carriages that travel at a
//! finite speed and stall when blocked; air cells that follow their command
//! with a lag; a main contactor (the kill switch) that cuts every actuator; and
//! heater outputs that fall off when not refreshed within the hold time.
//!
//! Sensor faults follow one convention: an *open* sensor reads below its
//! physical range (the input rails low), a *short* reads above it, *stuck*
//! keeps the value it had when the fault was injected, *NaN* reads NaN.

// The control path: no unwrap, expect or panic outside tests; errors are
// values that reach the caller (docs/ARCHITECTURE.md, "Lints").
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tarsal_core::hardware::{Hardware, HardwareError, KillSwitch, Sample};
use tarsal_core::model::{
    CalfCell, Cells, FootSensors, HeaterId, Heaters, Outputs, SensorId, SensorReadings, Side, Sided,
};
use tarsal_core::profile::{ChairProfile, SimulatorSpec};
use tarsal_core::units::{Amps, Celsius, Litres, LitresPerSecond, Percent};

/// Specific heat of water, J/(kg·°C); a litre weighs a kilogram.
const WATER_HEAT_CAPACITY: f64 = 4186.0;
/// Below this volume the heating element is not immersed.
const ELEMENT_IMMERSION: f64 = 2.0;
/// Water leaked onto the floor before the leak sensor gets wet.
const LEAK_SENSOR_WETS_AT: f64 = 0.3;
/// Longest physics step; longer gaps are integrated in several steps.
const MAX_STEP: Duration = Duration::from_millis(50);

/// How a sensor fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensorFault {
    Open,
    Short,
    Stuck,
    #[serde(rename = "nan")]
    NaN,
}

/// A fault to inject into the simulated chair.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "fault")]
pub enum InjectedFault {
    Sensor {
        sensor: SensorId,
        mode: SensorFault,
    },
    /// The heater produces no heat whatever it is told.
    HeaterDead {
        heater: HeaterId,
    },
    /// The heater's switch is stuck on: full power while the contactor is closed.
    HeaterRunaway {
        heater: HeaterId,
    },
    ValveStuckOpen,
    DrainBlocked,
    /// Water escapes; `reaches_sensor` says whether it runs onto the leak sensor.
    Leak {
        rate: LitresPerSecond,
        reaches_sensor: bool,
    },
    /// Something blocks the carriage of one foot roller.
    RollerStall {
        side: Side,
    },
    /// A calf cell's inlet valve is stuck open: the cell inflates fully.
    CellStuckInflated {
        side: Side,
        cell: CalfCell,
    },
    /// The I/O bus to the chair's boards fails: every read and write errors.
    BusFailure,
    /// The next `exchanges` reads and writes fail (a noisy bus), then the
    /// fault clears itself.
    BusGlitches {
        exchanges: u32,
    },
    /// The next read hangs for this many seconds of real time (at most 60),
    /// holding up the control loop's thread — as a wedged driver would.
    /// Then the fault clears itself.
    IoHang {
        seconds: u32,
    },
}

/// What physically happens in the simulated chair, for tests and plots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct PhysicalState {
    pub now: Duration,
    pub contactor_closed: bool,
    /// Heater power actually delivered.
    pub heater_power: Heaters<Percent>,
    pub valve_open: bool,
    pub draining: bool,
    pub jets: Percent,
    pub water_volume: Litres,
    pub leaked: Litres,
    pub temperatures: Heaters<Celsius>,
    pub carriage: Sided<Percent>,
    pub cells: Sided<Cells<Percent>>,
}

#[derive(Default)]
struct Shared {
    feet_present: bool,
    estop_pressed: bool,
    faults: Vec<InjectedFault>,
    /// Values frozen by stuck-sensor faults.
    stuck: Vec<(SensorId, f64)>,
    truth: PhysicalState,
}

/// Controls the simulated chair from another thread: inject faults, move the
/// client's feet, press the emergency stop, look at the physical truth.
#[derive(Clone)]
pub struct SimHandle {
    shared: Arc<Mutex<Shared>>,
    contactor: Arc<Contactor>,
}

impl SimHandle {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        // A panic while holding this lock cannot leave the data inconsistent.
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn inject(&self, fault: InjectedFault) {
        let mut s = self.lock();
        if let InjectedFault::Sensor { sensor, .. } = fault {
            s.faults.retain(
                |f| !matches!(f, InjectedFault::Sensor { sensor: other, .. } if *other == sensor),
            );
            s.stuck.retain(|(id, _)| *id != sensor);
        }
        if !s.faults.contains(&fault) {
            s.faults.push(fault);
        }
    }

    /// Removes one injected fault (a repaired part).
    pub fn clear(&self, fault: &InjectedFault) {
        let mut s = self.lock();
        s.faults.retain(|f| f != fault);
        if let InjectedFault::Sensor { sensor, .. } = fault {
            s.stuck.retain(|(id, _)| id != sensor);
        }
    }

    pub fn clear_all(&self) {
        let mut s = self.lock();
        s.faults.clear();
        s.stuck.clear();
    }

    pub fn faults(&self) -> Vec<InjectedFault> {
        self.lock().faults.clone()
    }

    pub fn set_feet_present(&self, present: bool) {
        self.lock().feet_present = present;
    }

    pub fn set_estop_pressed(&self, pressed: bool) {
        self.lock().estop_pressed = pressed;
    }

    /// Whether the emergency-stop button is held down.
    pub fn estop_pressed(&self) -> bool {
        self.lock().estop_pressed
    }

    /// What physically happens now. An open contactor cuts power at once,
    /// even between two ticks (the watchdog opens it from its own thread).
    pub fn truth(&self) -> PhysicalState {
        let shared = self.lock();
        let mut truth = shared.truth;
        if self.contactor.is_tripped() {
            truth.contactor_closed = false;
            truth.heater_power = Heaters([Percent::ZERO; 3]);
            truth.jets = Percent::ZERO;
            truth.draining = false;
            truth.valve_open =
                truth.valve_open && shared.faults.contains(&InjectedFault::ValveStuckOpen);
        }
        truth
    }

    pub fn kill_switch_tripped(&self) -> bool {
        self.contactor.is_tripped()
    }
}

/// The main contactor: when open, every actuator loses power. It starts
/// open: a chair is armed by the control loop's first write, not by power-on.
struct Contactor {
    open: AtomicBool,
}

impl Default for Contactor {
    fn default() -> Self {
        Self {
            open: AtomicBool::new(true),
        }
    }
}

impl KillSwitch for Contactor {
    fn trip(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
    fn rearm(&self) {
        self.open.store(false, Ordering::SeqCst);
    }
    fn is_tripped(&self) -> bool {
        self.open.load(Ordering::SeqCst)
    }
}

/// The simulated chair.
pub struct Simulator {
    profile: Arc<ChairProfile>,
    p: SimulatorSpec,
    handle: SimHandle,
    now: Duration,
    outputs: Outputs,
    heaters_refreshed_at: Duration,
    water: f64,
    leaked: f64,
    temps: [f64; 3],
    carriage: [f64; 2],
    cells: [[f64; 3]; 2],
    /// What the actuators actually did in the last step.
    power: [f64; 3],
    valve_open: bool,
    draining: bool,
    jets: f64,
    moving: [bool; 2],
}

impl Simulator {
    /// A chair at rest: room temperature, the profile's initial water, feet on
    /// the footrest, carriages parked.
    pub fn new(profile: Arc<ChairProfile>) -> Self {
        let p = profile.simulator.clone();
        let ambient = p.ambient.0;
        let park = profile
            .foot_rollers
            .as_ref()
            .map_or(0.0, |f| f.park_position.0);
        let water = profile
            .bath
            .as_ref()
            .map_or(0.0, |b| p.initial_water.0.min(b.capacity.0));
        let handle = SimHandle {
            shared: Arc::new(Mutex::new(Shared {
                feet_present: true,
                ..Shared::default()
            })),
            contactor: Arc::new(Contactor::default()),
        };
        let water_temp = if water > 0.0 {
            p.supply_water.0
        } else {
            ambient
        };
        let sim = Self {
            profile,
            handle,
            now: Duration::ZERO,
            outputs: Outputs::SAFE,
            heaters_refreshed_at: Duration::ZERO,
            water,
            leaked: 0.0,
            temps: [water_temp, ambient, ambient],
            carriage: [park; 2],
            cells: [[0.0; 3]; 2],
            power: [0.0; 3],
            valve_open: false,
            draining: false,
            jets: 0.0,
            moving: [false; 2],
            p,
        };
        sim.publish_truth(&mut sim.handle.lock());
        sim
    }

    pub fn handle(&self) -> SimHandle {
        self.handle.clone()
    }

    /// Sets the water volume and temperature directly (test set-up).
    pub fn set_water(&mut self, volume: Litres, temperature: Celsius) {
        self.water = volume.0.max(0.0);
        self.temps[HeaterId::Water.index()] = temperature.0;
        self.publish_truth(&mut self.handle.lock());
    }

    /// Sets a heat pad's or the water's temperature directly (test set-up).
    pub fn set_temperature(&mut self, heater: HeaterId, temperature: Celsius) {
        self.temps[heater.index()] = temperature.0;
        self.publish_truth(&mut self.handle.lock());
    }

    /// Advances the physics to `now`.
    fn advance(&mut self, now: Duration, shared: &Shared) {
        while self.now < now {
            let step = (now - self.now).min(MAX_STEP);
            self.step(step.as_secs_f64(), shared);
            self.now += step;
        }
    }

    /// What each actuator physically does now, from the last outputs written,
    /// the contactor, the heater hold time and the injected faults.
    fn actuate(&mut self, shared: &Shared) {
        let powered = !self.handle.contactor.is_tripped();
        let has = |f: &InjectedFault| shared.faults.contains(f);
        let refreshed =
            self.now.saturating_sub(self.heaters_refreshed_at) <= self.profile.outputs.heater_hold;
        for h in HeaterId::ALL {
            self.power[h.index()] = if !powered || has(&InjectedFault::HeaterDead { heater: h }) {
                0.0
            } else if has(&InjectedFault::HeaterRunaway { heater: h }) {
                100.0
            } else if refreshed {
                self.outputs.heater_power[h].0.clamp(0.0, 100.0)
            } else {
                0.0
            };
        }
        let bath = self.profile.bath.is_some();
        self.valve_open = bath
            && (has(&InjectedFault::ValveStuckOpen) || (powered && self.outputs.fill_valve_open));
        self.draining =
            bath && powered && self.outputs.drain_pump_on && !has(&InjectedFault::DrainBlocked);
        self.jets = if powered {
            self.outputs.jet_pump.0
        } else {
            0.0
        };
        for side in Side::ALL {
            let cmd = &self.outputs.feet[side];
            let gap = cmd.position.0 - self.carriage[side.index()];
            self.moving[side.index()] = powered && cmd.travel_speed.0 > 0.0 && gap.abs() > 1e-9;
        }
    }

    fn step(&mut self, dt: f64, shared: &Shared) {
        self.actuate(shared);
        let p = &self.p;
        let powered = !self.handle.contactor.is_tripped();
        let has = |f: &InjectedFault| shared.faults.contains(f);
        let ambient = p.ambient.0;
        for h in [HeaterId::SolePad, HeaterId::CalfPad] {
            let i = h.index();
            let watts = p.pad_heater_power.0 * self.power[i] / 100.0
                - p.pad_loss_per_c * (self.temps[i] - ambient);
            self.temps[i] += watts * dt / p.pad_heat_capacity_per_c;
        }

        // Water volume: supply in, drain and leak out, overflow onto the floor.
        let capacity = self.profile.bath.as_ref().map_or(0.0, |b| b.capacity.0);
        let inflow = if self.valve_open {
            p.fill_flow.0 * dt
        } else {
            0.0
        };
        let outflow = if self.draining {
            (p.drain_flow.0 * dt).min(self.water)
        } else {
            0.0
        };
        let leak_rate = shared
            .faults
            .iter()
            .find_map(|f| match f {
                InjectedFault::Leak { rate, .. } => Some(rate.0),
                _ => None,
            })
            .unwrap_or(0.0);
        let leak = (leak_rate * dt).min(self.water - outflow);
        let kept = self.water - outflow - leak;
        let spilled = (kept + inflow - capacity).max(0.0);
        self.water = (kept + inflow).min(capacity);
        self.leaked += leak + spilled;

        // Water temperature: mixing with the supply, the element, losses.
        let wi = HeaterId::Water.index();
        if self.water > 0.05 {
            if inflow > 0.0 {
                self.temps[wi] =
                    (self.temps[wi] * kept + p.supply_water.0 * inflow) / (kept + inflow);
            }
            let element = if self.water >= ELEMENT_IMMERSION {
                p.water_heater_power.0 * self.power[wi] / 100.0
            } else {
                0.0
            };
            let watts = element - p.water_loss_per_c * (self.temps[wi] - ambient);
            self.temps[wi] += watts * dt / (self.water * WATER_HEAT_CAPACITY);
        } else {
            self.temps[wi] += (ambient - self.temps[wi]) * (dt / 30.0).min(1.0);
        }

        // Carriages travel toward their target; cells follow with a lag and
        // vent when power is cut.
        let cell_rate = (dt / p.cell_time_constant.as_secs_f64()).min(1.0);
        for side in Side::ALL {
            let i = side.index();
            let cmd = &self.outputs.feet[side];
            let blocked = has(&InjectedFault::RollerStall { side });
            let gap = cmd.position.0 - self.carriage[i];
            if self.moving[i] && !blocked {
                let speed = cmd.travel_speed.0.min(p.carriage_speed_max.0);
                self.carriage[i] += gap.signum() * (speed * dt).min(gap.abs());
            }
            for cell in CalfCell::ALL {
                let target = if has(&InjectedFault::CellStuckInflated { side, cell }) {
                    100.0
                } else if powered {
                    self.outputs.calves[side].cells[cell].0
                } else {
                    0.0
                };
                let c = &mut self.cells[i][cell.index()];
                *c += (target - *c) * cell_rate;
            }
        }
    }

    fn publish_truth(&self, shared: &mut Shared) {
        shared.truth = PhysicalState {
            now: self.now,
            contactor_closed: !self.handle.contactor.is_tripped(),
            heater_power: Heaters(self.power.map(Percent)),
            valve_open: self.valve_open,
            draining: self.draining,
            jets: Percent(self.jets),
            water_volume: Litres(self.water),
            leaked: Litres(self.leaked),
            temperatures: Heaters(self.temps.map(Celsius)),
            carriage: Sided(self.carriage.map(Percent)),
            cells: Sided(self.cells.map(|c| Cells(c.map(Percent)))),
        };
    }

    /// True readings, before sensor faults.
    fn true_readings(&self, shared: &Shared) -> SensorReadings {
        let feet_present = shared.feet_present;
        let displacement = if feet_present {
            self.p.feet_displacement.0 * (self.water / 8.0).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let mut r = SensorReadings {
            temperatures: Heaters(self.temps.map(Celsius)),
            water_level: Litres(self.water + displacement),
            leak_detected: shared.faults.iter().any(|f| {
                matches!(
                    f,
                    InjectedFault::Leak {
                        reaches_sensor: true,
                        ..
                    }
                )
            }) && self.leaked >= LEAK_SENSOR_WETS_AT,
            estop_pressed: shared.estop_pressed,
            feet_present,
            ..SensorReadings::default()
        };
        for side in Side::ALL {
            let i = side.index();
            let blocked = shared.faults.contains(&InjectedFault::RollerStall { side });
            let cmd = &self.outputs.feet[side];
            let current = if self.moving[i] && blocked {
                3.5
            } else {
                let load = if feet_present {
                    cmd.pressure.0 * 0.012
                } else {
                    0.0
                };
                0.3 + if self.moving[i] { 0.4 } else { 0.0 } + load
            };
            r.feet[side] = FootSensors {
                carriage_position: Percent(self.carriage[i]),
                motor_current: Amps(current),
            };
            r.calf_cells[side] = Cells(self.cells[i].map(Percent));
        }
        r
    }
}

/// Where a failed sensor's input rails: (open, short).
fn rails(sensor: SensorId) -> (f64, f64) {
    match sensor {
        SensorId::Temperature(_) => (-55.0, 150.0),
        SensorId::WaterLevel => (-2.0, 40.0),
        SensorId::CarriagePosition(_) => (-20.0, 130.0),
        SensorId::MotorCurrent(_) => (-2.0, 25.0),
        SensorId::CellPressure(..) => (-20.0, 150.0),
    }
}

/// The error of an exchange that a bus fault makes fail, if one does; uses up
/// one of a run of injected glitches.
fn bus_glitch(shared: &mut Shared, what: &str) -> Option<HardwareError> {
    if shared.faults.contains(&InjectedFault::BusFailure) {
        return Some(HardwareError::Glitch(format!(
            "simulated I/O bus failure: {what}"
        )));
    }
    let glitches = shared.faults.iter_mut().find_map(|f| match f {
        InjectedFault::BusGlitches { exchanges } => Some(exchanges),
        _ => None,
    })?;
    *glitches = glitches.saturating_sub(1);
    if *glitches == 0 {
        shared
            .faults
            .retain(|f| !matches!(f, InjectedFault::BusGlitches { .. }));
    }
    Some(HardwareError::Glitch(format!(
        "simulated bus glitch: {what}"
    )))
}

impl Hardware for Simulator {
    fn read(&mut self, now: Duration) -> Result<Sample, HardwareError> {
        let handle = self.handle.clone();
        let hang = {
            let mut shared = handle.lock();
            let hang = shared.faults.iter().find_map(|f| match f {
                InjectedFault::IoHang { seconds } => Some(*seconds),
                _ => None,
            });
            shared
                .faults
                .retain(|f| !matches!(f, InjectedFault::IoHang { .. }));
            hang
        };
        if let Some(seconds) = hang {
            std::thread::sleep(Duration::from_secs(u64::from(seconds.min(60))));
        }
        let mut shared = handle.lock();
        self.advance(now, &shared);
        self.actuate(&shared);
        self.publish_truth(&mut shared);
        if let Some(glitch) = bus_glitch(&mut shared, "no answer from the chair's boards") {
            return Err(glitch);
        }
        let mut readings = self.true_readings(&shared);
        if !shared.faults.is_empty() {
            let Shared { faults, stuck, .. } = &mut *shared;
            for fault in faults.iter() {
                if let InjectedFault::Sensor { sensor, mode } = *fault {
                    let slot = sensor.slot(&mut readings);
                    let (open, short) = rails(sensor);
                    *slot = match mode {
                        SensorFault::Open => open,
                        SensorFault::Short => short,
                        SensorFault::NaN => f64::NAN,
                        SensorFault::Stuck => match stuck.iter().find(|(id, _)| *id == sensor) {
                            Some((_, v)) => *v,
                            None => {
                                stuck.push((sensor, *slot));
                                *slot
                            }
                        },
                    };
                }
            }
        }
        Ok(Sample::fresh(readings))
    }

    fn write(&mut self, now: Duration, outputs: &Outputs) -> Result<(), HardwareError> {
        let handle = self.handle.clone();
        let mut shared = handle.lock();
        self.advance(now, &shared);
        if let Some(glitch) = bus_glitch(&mut shared, "outputs not delivered") {
            self.actuate(&shared);
            self.publish_truth(&mut shared);
            return Err(glitch);
        }
        self.outputs = *outputs;
        self.heaters_refreshed_at = now;
        self.actuate(&shared);
        self.publish_truth(&mut shared);
        Ok(())
    }

    fn kill_switch(&self) -> Arc<dyn KillSwitch> {
        self.handle.contactor.clone()
    }
}

#[cfg(test)]
mod tests;
