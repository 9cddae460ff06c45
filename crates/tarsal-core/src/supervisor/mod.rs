//! The safety supervisor: the only path from a program's [`Request`] to the
//! hardware's [`Outputs`]. Every tick it checks the sensors, runs the heater,
//! bath, roller and cell monitors, and then lets through what the request asks
//! within the chair's limits: clamping values above a limit, refusing what an
//! interlock forbids, and answering a fault with the safe state in the same tick.
//!
//! Clamps and refusals are reported once when they begin (not every tick they
//! last); faults are reported when detected and the caller latches them.

use crate::event::{Clamp, EventKind, Fault, Interlock, PressureSite};
use crate::heater::{HeaterControl, HeaterMonitor, HeaterSample};
use crate::model::{
    ActuatorId, CalfCell, CalfCommand, FootRollerCommand, HeaterId, Heaters, NodeMotion, Outputs,
    Request, SensorId, SensorReadings, Side, Sided,
};
use crate::profile::{
    BathSpec, CalfUnitSpec, ChairProfile, Equipment, EquipmentPart, FootRollerSpec,
};
use crate::units::{Celsius, Intensity, Litres, Percent};
use std::sync::Arc;
use std::time::Duration;

mod bath;
mod conditions;
mod domain;
mod stall;

use bath::BathMonitor;
use conditions::Condition;
pub use domain::{OutOfDomain, PERCENT_DOMAIN, RATE_DOMAIN, SETPOINT_DOMAIN, check_domain};
use domain::{invalid_request, show};
use stall::StallMonitor;

/// Highest setpoint a program may even name; above is nonsense, not a clamp.
pub const SETPOINT_DOMAIN_MAX: Celsius = Celsius(100.0);
/// A heater may be reset only once this far below its cutoff.
pub const CUTOFF_HYSTERESIS: Celsius = Celsius(1.0);

/// Floating-point slack so a program exactly at a limit is not clamped.
const SLACK: f64 = 1e-6;

/// A clamp or interlock that ends and begins again within this time is not
/// reported again: a program flickering across a limit cannot flood the
/// event log, the store and MQTT.
pub const REPORT_INTERVAL: Duration = Duration::from_secs(10);

/// What the supervisor is asked to let through this tick.
#[derive(Clone, Copy, Debug)]
pub struct Demand<'a> {
    /// What the requester asks for this tick.
    pub request: &'a Request,
    /// Intensity in force: which pressure ceilings apply.
    pub intensity: Intensity,
    /// Heat allowed (pads and water heater).
    pub heat: bool,
    /// Bath allowed (fill, jets, water heater; draining is always allowed).
    pub bath: bool,
    /// The parts the requester declared it drives; the others are held off
    /// (`interlock.not_declared`, once per session).
    pub declared: Equipment,
    /// The program waits for staff: the chair idles, whatever it asks.
    pub staff_hold: Option<StaffHold>,
    /// Who asked, for fault messages (a program id, `service-mode`, or `chair`).
    pub source: &'a str,
}

/// What the chair may still do while a program waits for staff: nothing
/// moves, no pressure, the pads are off, the bath neither fills nor runs its
/// jets (draining is allowed), and the water may keep the setpoint that was
/// in force when the wait began, never more.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StaffHold {
    /// Water setpoint in force when the wait began; `None` keeps the water heater off.
    pub water: Option<Celsius>,
}

impl StaffHold {
    /// `asked` reduced to what the chair may do while waiting, and whether
    /// anything was taken away.
    pub fn idle(&self, asked: &Request) -> (Request, bool) {
        let mut idle = Request::OFF;
        idle.bath.drain = asked.bath.drain;
        idle.setpoints[HeaterId::Water] = match (asked.setpoints[HeaterId::Water], self.water) {
            (Some(a), Some(held)) => Some(Celsius(a.0.min(held.0))),
            _ => None,
        };
        let water_rises = match (
            asked.setpoints[HeaterId::Water],
            idle.setpoints[HeaterId::Water],
        ) {
            (Some(a), Some(kept)) => a.0 > kept.0 + SLACK,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let reduced = asked.feet.0.iter().any(|f| !f.is_off())
            || asked.calves.0.iter().any(|c| !c.is_off())
            || asked.setpoints[HeaterId::SolePad].is_some()
            || asked.setpoints[HeaterId::CalfPad].is_some()
            || water_rises
            || asked.bath.fill
            || asked.bath.jets.0 != 0.0;
        (idle, reduced)
    }
}

/// How the supervisor should treat this tick.
#[derive(Clone, Copy, Debug)]
pub enum Mode<'a> {
    /// Apply `Demand` within limits; detect faults.
    Active(Demand<'a>),
    /// Everything off; still detect faults (idle chair).
    Idle,
    /// Everything off; a fault or emergency stop is already latched, so
    /// detection is suspended until reset.
    Latched,
}

/// The result of one tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// A fault was detected this tick; the outputs are already safe.
    pub faulted: bool,
}

/// The safety supervisor: turns requests into outputs within the chair's limits and detects faults.
pub struct Supervisor {
    profile: Arc<ChairProfile>,
    outputs: Outputs,
    setpoints: Heaters<Option<Celsius>>,
    controls: Heaters<HeaterControl>,
    monitors: Heaters<Option<HeaterMonitor>>,
    bath: BathMonitor,
    stalls: Sided<StallMonitor>,
    /// Clamp and interlock conditions active last tick, one bit each.
    active: u64,
    /// Conditions found active so far this tick.
    active_now: u64,
    /// When each condition was last reported (see [`REPORT_INTERVAL`]).
    reported_at: [Option<Duration>; conditions::COUNT as usize],
    /// Conditions reported once per session, already reported in this one.
    reported_in_session: u64,
    /// The current tick's time.
    now: Duration,
}

impl Supervisor {
    /// A supervisor for the chair described by `profile`, starting from the safe state.
    pub fn new(profile: Arc<ChairProfile>) -> Self {
        let monitors =
            Heaters(HeaterId::ALL.map(|h| profile.heater(h).map(|s| HeaterMonitor::new(h, s))));
        Self {
            profile,
            outputs: Outputs::SAFE,
            setpoints: Heaters([None; 3]),
            controls: Heaters::default(),
            monitors,
            bath: BathMonitor::default(),
            stalls: Sided::default(),
            active: 0,
            active_now: 0,
            reported_at: [None; conditions::COUNT as usize],
            reported_in_session: 0,
            now: Duration::ZERO,
        }
    }

    /// A new session begins: its once-per-session reports start afresh.
    pub fn begin_session(&mut self) {
        self.reported_in_session = 0;
        self.reported_at = [None; conditions::COUNT as usize];
    }

    /// The chair profile it enforces.
    pub fn profile(&self) -> &Arc<ChairProfile> {
        &self.profile
    }

    /// The outputs decided by the last tick.
    pub fn outputs(&self) -> &Outputs {
        &self.outputs
    }

    /// The heater setpoints in force after clamps and interlocks.
    pub fn setpoints(&self) -> &Heaters<Option<Celsius>> {
        &self.setpoints
    }

    /// Forget all monitor history (after a fault reset).
    pub fn reset(&mut self) {
        for m in self.monitors.0.iter_mut().flatten() {
            m.reset();
        }
        self.controls.0.iter_mut().for_each(HeaterControl::reset);
        self.bath = BathMonitor::default();
        self.stalls = Sided::default();
        self.active = 0;
        self.outputs = Outputs::SAFE;
        self.setpoints = Heaters([None; 3]);
    }

    /// Drop to the safe state at once, outside the tick (emergency stop).
    pub fn force_safe(&mut self) {
        self.go_safe();
        self.active = 0;
    }

    /// One tick: `dt` is the time since the previous tick; events go to `events`.
    pub fn tick(
        &mut self,
        now: Duration,
        dt: Duration,
        sensors: &SensorReadings,
        mode: Mode<'_>,
        events: &mut Vec<EventKind>,
    ) -> Verdict {
        self.active_now = 0;
        self.now = now;
        let faults_before = events.len();
        if !matches!(mode, Mode::Latched) {
            self.detect_faults(now, dt, sensors, events);
        }
        let faulted = events.len() > faults_before;
        let demand = match mode {
            Mode::Active(d) if !faulted => d,
            _ => {
                self.go_safe();
                self.active = 0;
                return Verdict { faulted };
            }
        };
        if let Some(fault) = invalid_request(demand.request, demand.source) {
            events.push(EventKind::Fault(fault));
            self.go_safe();
            self.active = 0;
            return Verdict { faulted: true };
        }
        let request = self.permitted(&demand, events);
        self.apply(dt, sensors, &demand, &request, events);
        self.active = self.active_now;
        Verdict { faulted: false }
    }

    fn go_safe(&mut self) {
        self.outputs = Outputs::SAFE;
        self.setpoints = Heaters([None; 3]);
        self.controls.0.iter_mut().for_each(HeaterControl::reset);
        for m in self.monitors.0.iter_mut().flatten() {
            m.reset();
        }
    }

    /// Conditions that still forbid a reset, in plain words (empty: reset may go ahead).
    pub fn blocking_conditions(&self, sensors: &SensorReadings) -> Vec<String> {
        let mut blocking = Vec::new();
        for (sensor, lo, hi) in self.sensor_ranges() {
            let v = sensor.read(sensors);
            if !(v >= lo && v <= hi) {
                blocking.push(format!(
                    "the {sensor} still reads {} {}",
                    show(v),
                    sensor.unit()
                ));
            }
        }
        for h in HeaterId::ALL {
            if let Some(spec) = self.profile.heater(h) {
                let t = sensors.temperatures[h];
                let limit = spec.cutoff - CUTOFF_HYSTERESIS;
                if t >= limit {
                    blocking.push(format!(
                        "the {h} is still at {t}; wait until it is below {limit}"
                    ));
                }
            }
        }
        if let Some(b) = &self.profile.bath {
            if sensors.leak_detected {
                blocking.push("the leak sensor is still wet".into());
            }
            if sensors.water_level > b.overflow_level {
                blocking.push(format!(
                    "the water level is still {} (above {})",
                    sensors.water_level, b.overflow_level
                ));
            }
        }
        blocking
    }

    /// Every fitted analog sensor with its possible range.
    fn sensor_ranges(&self) -> impl Iterator<Item = (SensorId, f64, f64)> + '_ {
        let p = &self.profile;
        let temps = HeaterId::ALL.into_iter().filter_map(move |h| {
            p.heater(h).map(|s| {
                (
                    SensorId::Temperature(h),
                    s.sensor_range[0].0,
                    s.sensor_range[1].0,
                )
            })
        });
        let level = p.bath.iter().map(|b| {
            (
                SensorId::WaterLevel,
                b.level_sensor_range[0].0,
                b.level_sensor_range[1].0,
            )
        });
        let feet = p.foot_rollers.iter().flat_map(|f| {
            let [plo, phi] = f.position_sensor_range;
            let [clo, chi] = f.current_sensor_range;
            Side::ALL.into_iter().flat_map(move |s| {
                [
                    (SensorId::CarriagePosition(s), plo.0, phi.0),
                    (SensorId::MotorCurrent(s), clo.0, chi.0),
                ]
            })
        });
        let cells = p.calf_units.iter().flat_map(|u| {
            let [lo, hi] = u.pressure_sensor_range;
            Side::ALL.into_iter().flat_map(move |s| {
                CalfCell::ALL
                    .into_iter()
                    .map(move |c| (SensorId::CellPressure(s, c), lo.0, hi.0))
            })
        });
        temps.chain(level).chain(feet).chain(cells)
    }

    fn detect_faults(
        &mut self,
        now: Duration,
        dt: Duration,
        sensors: &SensorReadings,
        events: &mut Vec<EventKind>,
    ) {
        let before = events.len();
        for (sensor, lo, hi) in self.sensor_ranges() {
            let v = sensor.read(sensors);
            // Written so that NaN fails the check.
            if !(v >= lo && v <= hi) {
                events.push(EventKind::Fault(Fault::SensorOutOfRange {
                    sensor,
                    reading: show(v),
                    low: lo,
                    high: hi,
                }));
            }
        }
        if events.len() > before {
            // Other checks would only reason about garbage readings.
            return;
        }
        let profile = Arc::clone(&self.profile);
        let water_flowing_in = self.outputs.fill_valve_open;
        for h in HeaterId::ALL {
            let Some(spec) = profile.heater(h) else {
                continue;
            };
            let reading = sensors.temperatures[h];
            if reading >= spec.cutoff {
                events.push(EventKind::Fault(Fault::OverTemperature {
                    heater: h,
                    reading,
                    cutoff: spec.cutoff,
                }));
                continue;
            }
            if let Some(monitor) = self.monitors[h].as_mut() {
                let disturbed = h == HeaterId::Water && water_flowing_in;
                let sample = HeaterSample {
                    setpoint: self.setpoints[h],
                    reading,
                    power: self.outputs.heater_power[h],
                    disturbed,
                };
                if let Some(f) = monitor.check(spec, now, dt, sample) {
                    events.push(EventKind::Fault(f));
                }
            }
        }
        if let Some(b) = &profile.bath
            && let Some(f) = self.bath.check(b, now, sensors, &self.outputs)
        {
            events.push(EventKind::Fault(f));
        }
        if let Some(f) = &profile.foot_rollers {
            for side in Side::ALL {
                if let Some(cause) = self.stalls[side].check(
                    f,
                    now,
                    dt,
                    &sensors.feet[side],
                    &self.outputs.feet[side],
                ) {
                    events.push(EventKind::Fault(Fault::RollerStall { side, cause }));
                }
            }
        }
        if let Some(u) = &profile.calf_units {
            let limit = u.overpressure_limit();
            for side in Side::ALL {
                for cell in CalfCell::ALL {
                    let reading = sensors.calf_cells[side][cell];
                    if reading > limit {
                        events.push(EventKind::Fault(Fault::CellOverpressure {
                            side,
                            cell,
                            reading,
                            limit,
                        }));
                    }
                }
            }
        }
    }

    /// Marks condition `bit` active this tick and reports it if it just
    /// began (and was not reported within [`REPORT_INTERVAL`]).
    fn flag(
        &mut self,
        condition: Condition,
        events: &mut Vec<EventKind>,
        event: impl FnOnce() -> EventKind,
    ) {
        let mask = condition.mask();
        let began = (self.active | self.active_now) & mask == 0;
        let last = &mut self.reported_at[condition.bit() as usize];
        let quiet = last.is_none_or(|at| self.now.saturating_sub(at) >= REPORT_INTERVAL);
        if began && quiet {
            events.push(event());
            *last = Some(self.now);
        }
        self.active_now |= mask;
    }

    /// Reports condition `bit` the first time it happens in a session.
    fn flag_once(
        &mut self,
        condition: Condition,
        events: &mut Vec<EventKind>,
        event: impl FnOnce() -> EventKind,
    ) {
        let mask = condition.mask();
        if self.reported_in_session & mask == 0 {
            events.push(event());
            self.reported_in_session |= mask;
        }
        self.active_now |= mask;
    }

    /// The request with what the requester may not drive taken out: parts
    /// it did not declare, and everything but keeping the water warm while
    /// the program waits for staff.
    fn permitted(&mut self, d: &Demand<'_>, events: &mut Vec<EventKind>) -> Request {
        let mut r = *d.request;
        for part in EquipmentPart::ALL {
            if d.declared.has(part) {
                continue;
            }
            let asked = match part {
                EquipmentPart::FootRollers => r.feet.0.iter().any(|f| !f.is_off()),
                EquipmentPart::CalfUnits => r.calves.0.iter().any(|c| !c.is_off()),
                EquipmentPart::SoleHeat => r.setpoints[HeaterId::SolePad].is_some(),
                EquipmentPart::CalfHeat => r.setpoints[HeaterId::CalfPad].is_some(),
                EquipmentPart::Bath => {
                    r.bath.fill
                        || r.bath.drain
                        || r.bath.jets.0 != 0.0
                        || r.setpoints[HeaterId::Water].is_some()
                }
            };
            if !asked {
                continue;
            }
            self.flag_once(Condition::NotDeclared(part), events, || {
                EventKind::Interlock(Interlock::NotDeclared { part })
            });
            match part {
                EquipmentPart::FootRollers => r.feet = Sided([FootRollerCommand::OFF; 2]),
                EquipmentPart::CalfUnits => r.calves = Sided([CalfCommand::OFF; 2]),
                EquipmentPart::SoleHeat => r.setpoints[HeaterId::SolePad] = None,
                EquipmentPart::CalfHeat => r.setpoints[HeaterId::CalfPad] = None,
                EquipmentPart::Bath => {
                    r.bath = crate::model::BathRequest::default();
                    r.setpoints[HeaterId::Water] = None;
                }
            }
        }
        if let Some(hold) = d.staff_hold {
            let (idle, reduced) = hold.idle(&r);
            if reduced {
                self.flag_once(Condition::AwaitingStaff, events, || {
                    EventKind::Interlock(Interlock::AwaitingStaff)
                });
            }
            r = idle;
        }
        r
    }

    fn apply(
        &mut self,
        dt: Duration,
        sensors: &SensorReadings,
        d: &Demand<'_>,
        request: &Request,
        events: &mut Vec<EventKind>,
    ) {
        let profile = Arc::clone(&self.profile);
        let secs = dt.as_secs_f64();
        let mut out = Outputs::SAFE;

        for side in Side::ALL {
            let asked = request.feet[side];
            let fitted = profile.foot_rollers.as_ref();
            let actuator = ActuatorId::FootRoller(side);
            if self.may_move(
                asked.is_off(),
                fitted.is_some(),
                actuator,
                Condition::NotFittedFoot(side),
                sensors,
                events,
            ) && let Some(spec) = fitted
            {
                let prev = self.outputs.feet[side].pressure;
                out.feet[side] = self.foot(side, spec, asked, prev, d.intensity, secs, events);
            }

            let asked = request.calves[side];
            let fitted = profile.calf_units.as_ref();
            let actuator = ActuatorId::CalfUnit(side);
            if self.may_move(
                asked.is_off(),
                fitted.is_some(),
                actuator,
                Condition::NotFittedCalf(side),
                sensors,
                events,
            ) && let Some(spec) = fitted
            {
                out.calves[side] = self.calf(side, spec, asked, d.intensity, secs, events);
            }
        }

        for h in HeaterId::ALL {
            let asked = request.setpoints[h];
            let spec = profile.heater(h);
            let setpoint = match (asked, spec) {
                (None, _) => None,
                (Some(_), None) => {
                    self.flag(Condition::NotFittedHeater(h), events, || {
                        EventKind::Interlock(Interlock::NotFitted {
                            actuator: ActuatorId::Heater(h),
                        })
                    });
                    None
                }
                (Some(_), Some(_)) if !d.heat || (h == HeaterId::Water && !d.bath) => None,
                (Some(requested), Some(spec)) => {
                    let mut sp = requested;
                    if sp.0 > spec.setpoint_max.0 + SLACK {
                        self.flag(Condition::Setpoint(h), events, || {
                            EventKind::Clamp(Clamp::Setpoint {
                                heater: h,
                                requested,
                                limit: spec.setpoint_max,
                            })
                        });
                        sp = spec.setpoint_max;
                    }
                    if h == HeaterId::Water
                        && let Some(b) = &profile.bath
                        && sensors.water_level <= b.min_level
                    {
                        let level = sensors.water_level;
                        self.flag(Condition::DryRunHeater, events, || {
                            EventKind::Interlock(Interlock::DryRun {
                                actuator: ActuatorId::Heater(HeaterId::Water),
                                level,
                                min: b.min_level,
                            })
                        });
                        None
                    } else {
                        Some(sp)
                    }
                }
            };
            self.setpoints[h] = setpoint;
            out.heater_power[h] = match spec {
                Some(spec) => self.controls[h].power(spec, setpoint, sensors.temperatures[h], dt),
                None => Percent::ZERO,
            };
        }

        let asked = request.bath;
        match &profile.bath {
            None => {
                if asked.fill || asked.drain || asked.jets.0 > 0.0 {
                    self.flag(Condition::NotFittedBath, events, || {
                        EventKind::Interlock(Interlock::NotFitted {
                            actuator: ActuatorId::FillValve,
                        })
                    });
                }
            }
            Some(b) => self.bath_outputs(b, &asked, d.bath, sensors.water_level, &mut out, events),
        }

        self.outputs = out;
    }

    /// Whether a roller or calf request may reach the hardware at all: it asks
    /// for something, the part is fitted, and feet are on the footrest.
    fn may_move(
        &mut self,
        asked_off: bool,
        fitted: bool,
        actuator: ActuatorId,
        not_fitted: Condition,
        sensors: &SensorReadings,
        events: &mut Vec<EventKind>,
    ) -> bool {
        if asked_off {
            return false;
        }
        if !fitted {
            self.flag(not_fitted, events, || {
                EventKind::Interlock(Interlock::NotFitted { actuator })
            });
            return false;
        }
        if !sensors.feet_present {
            self.flag(Condition::NoFeet, events, || {
                EventKind::Interlock(Interlock::NoFeet)
            });
            return false;
        }
        true
    }

    fn calf(
        &mut self,
        side: Side,
        spec: &CalfUnitSpec,
        asked: CalfCommand,
        intensity: Intensity,
        secs: f64,
        events: &mut Vec<EventKind>,
    ) -> CalfCommand {
        let mut cmd = asked;
        let ceiling = spec.pressure_ceiling(intensity);
        for cell in CalfCell::ALL {
            let site = PressureSite::CalfCell(side, cell);
            let requested = cmd.cells[cell];
            let mut p = requested;
            if p.0 > ceiling.0 + SLACK {
                self.flag(Condition::CellPressure(side, cell), events, || {
                    EventKind::Clamp(Clamp::Pressure {
                        site,
                        requested,
                        limit: ceiling,
                        intensity,
                    })
                });
                p = ceiling;
            }
            let allowed = self.outputs.calves[side].cells[cell].0 + spec.pressure_ramp_max.0 * secs;
            if p.0 > allowed + SLACK {
                self.flag(Condition::CellRamp(side, cell), events, || {
                    EventKind::Clamp(Clamp::PressureRamp {
                        site,
                        limit: spec.pressure_ramp_max,
                    })
                });
                p = Percent(allowed);
            }
            cmd.cells[cell] = p;
        }
        if cmd.kneading_speed.0 > spec.kneading_speed_max.0 + SLACK {
            let requested = cmd.kneading_speed;
            self.flag(Condition::Kneading(side), events, || {
                EventKind::Clamp(Clamp::KneadingSpeed {
                    side,
                    requested,
                    limit: spec.kneading_speed_max,
                })
            });
            cmd.kneading_speed = spec.kneading_speed_max;
        }
        cmd
    }

    #[allow(clippy::too_many_arguments)]
    fn foot(
        &mut self,
        side: Side,
        spec: &FootRollerSpec,
        asked: FootRollerCommand,
        prev_pressure: Percent,
        intensity: Intensity,
        secs: f64,
        events: &mut Vec<EventKind>,
    ) -> FootRollerCommand {
        let site = PressureSite::FootNodes(side);
        let mut cmd = asked;
        if cmd.travel_speed.0 > spec.travel_speed_max.0 + SLACK {
            self.flag(Condition::Travel(side), events, || {
                EventKind::Clamp(Clamp::TravelSpeed {
                    side,
                    requested: asked.travel_speed,
                    limit: spec.travel_speed_max,
                })
            });
            cmd.travel_speed = spec.travel_speed_max;
        }
        let ceiling = spec.pressure_ceiling(intensity);
        if cmd.pressure.0 > ceiling.0 + SLACK {
            self.flag(Condition::FootPressure(side), events, || {
                EventKind::Clamp(Clamp::Pressure {
                    site,
                    requested: asked.pressure,
                    limit: ceiling,
                    intensity,
                })
            });
            cmd.pressure = ceiling;
        }
        let allowed = prev_pressure.0 + spec.pressure_ramp_max.0 * secs;
        if cmd.pressure.0 > allowed + SLACK {
            self.flag(Condition::FootRamp(side), events, || {
                EventKind::Clamp(Clamp::PressureRamp {
                    site,
                    limit: spec.pressure_ramp_max,
                })
            });
            cmd.pressure = Percent(allowed);
        }
        if cmd.motion == NodeMotion::Still {
            cmd.motion_rate = crate::units::Hertz::ZERO;
        } else {
            let limit = spec.motion_rate_max(cmd.motion);
            if cmd.motion_rate.0 > limit.0 + SLACK {
                self.flag(Condition::MotionRate(side), events, || {
                    EventKind::Clamp(Clamp::MotionRate {
                        side,
                        motion: asked.motion,
                        requested: asked.motion_rate,
                        limit,
                    })
                });
                cmd.motion_rate = limit;
            }
        }
        cmd
    }

    fn bath_outputs(
        &mut self,
        b: &BathSpec,
        asked: &crate::model::BathRequest,
        bath_allowed: bool,
        level: Litres,
        out: &mut Outputs,
        events: &mut Vec<EventKind>,
    ) {
        out.drain_pump_on = asked.drain;
        if asked.fill && bath_allowed {
            if level >= b.max_level {
                self.flag(Condition::BathFull, events, || {
                    EventKind::Interlock(Interlock::BathFull {
                        level,
                        max: b.max_level,
                    })
                });
            } else {
                out.fill_valve_open = true;
            }
        }
        if asked.jets.0 > 0.0 && bath_allowed {
            if level <= b.min_level {
                self.flag(Condition::DryRunJets, events, || {
                    EventKind::Interlock(Interlock::DryRun {
                        actuator: ActuatorId::JetPump,
                        level,
                        min: b.min_level,
                    })
                });
            } else {
                out.jet_pump = asked.jets;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{Hertz, PercentPerSecond};

    const DT: Duration = Duration::from_millis(10);

    fn sup() -> Supervisor {
        Supervisor::new(Arc::new(ChairProfile::standard()))
    }

    fn comfy() -> SensorReadings {
        SensorReadings {
            temperatures: Heaters([Celsius(30.0), Celsius(25.0), Celsius(25.0)]),
            water_level: Litres(15.0),
            feet_present: true,
            ..SensorReadings::default()
        }
    }

    fn demand(r: &Request) -> Mode<'_> {
        Mode::Active(Demand {
            request: r,
            intensity: Intensity::DEFAULT,
            heat: true,
            bath: true,
            declared: Equipment::ALL,
            staff_hold: None,
            source: "test",
        })
    }

    fn codes(events: &[EventKind]) -> Vec<&'static str> {
        events.iter().map(EventKind::code).collect()
    }

    #[test]
    fn a_polite_request_passes_unchanged() {
        let mut s = sup();
        let mut r = Request::OFF;
        r.feet[Side::Left] = FootRollerCommand {
            position: Percent(50.0),
            travel_speed: PercentPerSecond(10.0),
            pressure: Percent(0.1),
            motion: NodeMotion::Knead,
            motion_rate: Hertz(1.0),
        };
        let mut ev = Vec::new();
        let v = s.tick(DT, DT, &comfy(), demand(&r), &mut ev);
        assert!(!v.faulted);
        assert!(ev.is_empty(), "{ev:?}");
        assert_eq!(s.outputs().feet[Side::Left], r.feet[Side::Left]);
    }

    #[test]
    fn a_clamp_is_reported_once_while_it_lasts_and_again_when_it_recurs() {
        let mut s = sup();
        let mut r = Request::OFF;
        r.setpoints[HeaterId::SolePad] = Some(Celsius(50.0));
        let mut ev = Vec::new();
        for i in 1..=10 {
            s.tick(DT * i, DT, &comfy(), demand(&r), &mut ev);
        }
        assert_eq!(codes(&ev), vec!["clamp.setpoint"]);
        assert_eq!(s.setpoints()[HeaterId::SolePad], Some(Celsius(42.0)));
        // A program flickering across the limit every tick is reported at
        // most once per REPORT_INTERVAL, not 50 times a second.
        let mut t = DT * 10;
        for i in 0..2_000 {
            let over = i % 2 == 0;
            r.setpoints[HeaterId::SolePad] = Some(Celsius(if over { 50.0 } else { 40.0 }));
            t += DT;
            s.tick(t, DT, &comfy(), demand(&r), &mut ev);
        }
        assert_eq!(t, Duration::from_millis(20_100));
        assert_eq!(
            codes(&ev),
            vec!["clamp.setpoint"; 3],
            "at 0 s, 10 s and 20 s"
        );
        assert_eq!(s.setpoints()[HeaterId::SolePad], Some(Celsius(40.0)));
        // A clamp that recurs after a quiet interval is reported again.
        r.setpoints[HeaterId::SolePad] = Some(Celsius(50.0));
        s.tick(t + REPORT_INTERVAL, DT, &comfy(), demand(&r), &mut ev);
        assert_eq!(codes(&ev).len(), 4);
    }

    #[test]
    fn nan_in_a_request_is_a_fault_naming_the_field() {
        let mut s = sup();
        let mut r = Request::OFF;
        r.calves[Side::Right].cells[CalfCell::Mid] = Percent(f64::NAN);
        let mut ev = Vec::new();
        let v = s.tick(DT, DT, &comfy(), demand(&r), &mut ev);
        assert!(v.faulted);
        assert!(s.outputs().is_safe());
        match &ev[..] {
            [EventKind::Fault(Fault::InvalidRequest { field, value, .. })] => {
                assert_eq!(field, "calves.right.mid");
                assert_eq!(value, "NaN");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn latched_mode_is_safe_and_silent() {
        let mut s = sup();
        let mut bad = comfy();
        bad.temperatures[HeaterId::Water] = Celsius(f64::NAN);
        let mut ev = Vec::new();
        s.tick(DT, DT, &bad, Mode::Latched, &mut ev);
        assert!(ev.is_empty());
        assert!(s.outputs().is_safe());
        assert_eq!(s.blocking_conditions(&bad).len(), 1);
        s.tick(DT * 2, DT, &bad, Mode::Idle, &mut ev);
        assert_eq!(codes(&ev), vec!["fault.sensor_out_of_range"]);
    }

    #[test]
    fn pressure_release_is_never_rate_limited() {
        let mut s = sup();
        let mut r = Request::OFF;
        r.calves[Side::Left].cells[CalfCell::Ankle] = Percent(40.0);
        let mut ev = Vec::new();
        for i in 1..=300 {
            s.tick(DT * i, DT, &comfy(), demand(&r), &mut ev);
        }
        assert_eq!(codes(&ev), vec!["clamp.pressure_ramp"]);
        assert_eq!(
            s.outputs().calves[Side::Left].cells[CalfCell::Ankle],
            Percent(40.0)
        );
        r.calves[Side::Left].cells[CalfCell::Ankle] = Percent(0.0);
        s.tick(DT * 301, DT, &comfy(), demand(&r), &mut ev);
        assert_eq!(
            s.outputs().calves[Side::Left].cells[CalfCell::Ankle],
            Percent(0.0)
        );
        assert_eq!(ev.len(), 1);
    }
}
