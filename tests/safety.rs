//! Every safety rule of docs/SAFETY.md and every fault the simulator can inject,
//! driven through the real engine, supervisor and simulator, tick by tick.
//! Each test asserts the safe state in the tick the rule fires, the event
//! code, and the record in the store.
//!
//! The suite runs twice (`in_process::…`, `over_modbus_tcp::…`): against the
//! simulator in this process, and against the simulator served as a chair
//! board over Modbus TCP and driven by the real Modbus backend in lockstep —
//! the bench rig a technician can point at a real board.

mod support;

use std::time::Duration;
use support::{FailsAfter, Rig, TICK, secs};
use tarsal_core::engine::{Command, Refusal};
use tarsal_core::event::StopSource;
use tarsal_core::model::{
    CalfCell, FootRollerCommand, HeaterId, NodeMotion, Request, SensorId, Side,
};
use tarsal_core::program::{ProgramError, ProgramErrorKind};
use tarsal_core::session::{ChairState, Outcome, SessionOptions};
use tarsal_core::units::{
    Celsius, Hertz, Intensity, Litres, LitresPerSecond, Percent, PercentPerSecond,
};
use tarsal_sim::{InjectedFault, SensorFault};

fn warm_water_and_pads() -> Request {
    let mut r = Request::OFF;
    r.setpoints[HeaterId::Water] = Some(Celsius(38.0));
    r.setpoints[HeaterId::SolePad] = Some(Celsius(40.0));
    r.setpoints[HeaterId::CalfPad] = Some(Celsius(40.0));
    r
}

fn knead(pressure: f64) -> FootRollerCommand {
    FootRollerCommand {
        position: Percent(100.0),
        travel_speed: PercentPerSecond(10.0),
        pressure: Percent(pressure),
        motion: NodeMotion::Knead,
        motion_rate: Hertz(1.0),
    }
}

/// Waits for staff from the start and never finishes.
struct AwaitsStaff;

impl tarsal_core::program::Program for AwaitsStaff {
    fn tick(
        &mut self,
        _: &tarsal_core::program::ProgramInput<'_>,
    ) -> Result<tarsal_core::program::ProgramOutput, ProgramError> {
        Ok(tarsal_core::program::ProgramOutput {
            request: Request::OFF,
            step: 0,
            progress: 0.0,
            remaining: None,
            status: tarsal_core::program::ProgramStatus::AwaitingStaff,
        })
    }
}

/// Asks for everything at full strength, and says it waits for staff on all
/// ticks but every `run_every`-th; remaining time: u64::MAX ms.
struct WorksWhileWaiting {
    ticks: u64,
    run_every: u64,
}

impl tarsal_core::program::Program for WorksWhileWaiting {
    fn tick(
        &mut self,
        input: &tarsal_core::program::ProgramInput<'_>,
    ) -> Result<tarsal_core::program::ProgramOutput, ProgramError> {
        self.ticks += 1;
        let mut r = Request::OFF;
        for side in Side::ALL {
            r.feet[side] = knead(input.limits.foot_pressure_ceiling.0);
            r.calves[side].cells = tarsal_core::model::Cells([Percent(50.0); 3]);
        }
        r.setpoints[HeaterId::SolePad] = Some(Celsius(42.0));
        r.setpoints[HeaterId::CalfPad] = Some(Celsius(42.0));
        r.setpoints[HeaterId::Water] = Some(Celsius(40.0));
        r.bath.fill = true;
        r.bath.jets = Percent(50.0);
        let waiting = !self.ticks.is_multiple_of(self.run_every);
        Ok(tarsal_core::program::ProgramOutput {
            request: r,
            step: 0,
            progress: 0.5,
            remaining: Some(Duration::from_millis(u64::MAX)),
            status: if waiting {
                tarsal_core::program::ProgramStatus::AwaitingStaff
            } else {
                tarsal_core::program::ProgramStatus::Running
            },
        })
    }
}

on_every_bench! {
    // ---- Water temperature -------------------------------------------------

    #[test]
    fn water_setpoint_above_forty_is_clamped_in_the_first_tick() {
        let mut rig = Rig::with_full_bath();
        rig.start_script(|_| {
            let mut r = Request::OFF;
            r.setpoints[HeaterId::Water] = Some(Celsius(45.0));
            r
        });
        assert_eq!(
            rig.chair.engine().status().setpoints[HeaterId::Water],
            Some(Celsius(40.0))
        );
        assert_eq!(rig.count("clamp.setpoint"), 1);
        let stored = rig.stored("clamp.setpoint");
        assert_eq!(stored[0].severity, "warning");
        assert!(
            stored[0].message.contains("45.0 °C"),
            "{}",
            stored[0].message
        );
        rig.run_for(secs(5));
        assert_eq!(
            rig.count("clamp.setpoint"),
            1,
            "a lasting clamp is reported once"
        );
    }

    #[test]
    fn runaway_water_heater_is_cut_at_41_degrees_in_the_tick_it_gets_there() {
        let mut rig = Rig::with_full_bath();
        rig.set_water(Litres(15.0), Celsius(40.4));
        let session = rig.start_script(|_| warm_water_and_pads());
        rig.inject(InjectedFault::HeaterRunaway {
            heater: HeaterId::Water,
        });
        rig.run_until_event("fault.over_temperature", secs(120));
        assert!(rig.prev_sensors.temperatures[HeaterId::Water] < Celsius(41.0));
        assert!(rig.sensors.temperatures[HeaterId::Water] >= Celsius(41.0));
        rig.assert_faulted_safe("fault.over_temperature", Some(session));
        // The stuck switch is cut too: the contactor is open.
        rig.run_for(secs(30));
        assert_eq!(rig.sim.truth().heater_power[HeaterId::Water], Percent(0.0));
    }

    #[test]
    fn a_reset_is_refused_while_the_water_is_still_too_hot() {
        let mut rig = Rig::with_full_bath();
        rig.set_water(Litres(15.0), Celsius(41.5));
        rig.tick();
        assert_eq!(rig.state(), ChairState::Fault);
        match rig.command(Command::Reset) {
            Err(Refusal::ResetBlocked { conditions }) => {
                assert!(conditions[0].contains("41.5 °C"), "{conditions:?}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            rig.chair.start("demo", SessionOptions::default()),
            Err(Refusal::FaultLatched { .. })
        ));
        rig.set_water(Litres(15.0), Celsius(38.0));
        rig.tick();
        rig.command(Command::Reset).unwrap();
        assert_eq!(rig.state(), ChairState::Idle);
        assert!(!rig.sim.kill_switch_tripped());
        assert_eq!(rig.stored("chair.reset").len(), 1);
    }

    // ---- Heat pads ---------------------------------------------------------

    #[test]
    fn pad_setpoint_above_42_is_clamped() {
        let mut rig = Rig::new();
        rig.start_script(|_| {
            let mut r = Request::OFF;
            r.setpoints[HeaterId::CalfPad] = Some(Celsius(50.0));
            r
        });
        assert_eq!(
            rig.chair.engine().status().setpoints[HeaterId::CalfPad],
            Some(Celsius(42.0))
        );
        assert_eq!(rig.stored("clamp.setpoint").len(), 1);
    }

    #[test]
    fn runaway_pad_is_cut_at_44_degrees_in_the_tick_it_gets_there() {
        let mut rig = Rig::new();
        rig.set_temperature(HeaterId::SolePad, Celsius(43.0));
        let session = rig.start_script(|_| Request::OFF);
        rig.inject(InjectedFault::HeaterRunaway {
            heater: HeaterId::SolePad,
        });
        rig.run_until_event("fault.over_temperature", secs(60));
        assert!(rig.prev_sensors.temperatures[HeaterId::SolePad] < Celsius(44.0));
        assert!(rig.sensors.temperatures[HeaterId::SolePad] >= Celsius(44.0));
        rig.assert_faulted_safe("fault.over_temperature", Some(session));
    }

    // ---- Heater plausibility -----------------------------------------------

    #[test]
    fn a_dead_heater_fails_the_rise_check_after_its_window() {
        let mut rig = Rig::new();
        let session = rig.start_script(|_| warm_water_and_pads());
        let started = rig.chair.now();
        rig.inject(InjectedFault::HeaterDead {
            heater: HeaterId::SolePad,
        });
        let at = rig.run_until_event("fault.heater_no_rise", secs(120));
        let window = rig
            .chair
            .engine()
            .profile()
            .heat_pads
            .sole
            .as_ref()
            .unwrap()
            .verify_window;
        assert!(
            at - started >= window && at - started <= window + TICK * 3,
            "{:?}",
            at - started
        );
        rig.assert_faulted_safe("fault.heater_no_rise", Some(session));
    }

    #[test]
    fn a_stuck_water_temperature_sensor_is_caught_by_the_rise_check() {
        let mut rig = Rig::with_full_bath();
        rig.set_water(Litres(15.0), Celsius(30.0));
        rig.inject(InjectedFault::Sensor {
            sensor: SensorId::Temperature(HeaterId::Water),
            mode: SensorFault::Stuck,
        });
        let session = rig.start_script(|_| warm_water_and_pads());
        rig.run_until_event("fault.heater_no_rise", secs(200));
        rig.assert_faulted_safe("fault.heater_no_rise", Some(session));
    }

    #[test]
    fn a_pad_that_cannot_hold_its_temperature_fails_the_band_check() {
        // A dead element also trips the (faster) response check; widen its window
        // so this test sees the band check alone.
        let mut rig = Rig::with_profile(|p| {
            p.heat_pads.sole.as_mut().unwrap().response_window = secs(900);
        });
        let session = rig.start_script(|_| warm_water_and_pads());
        // Warm up to 40 °C, then the element dies and the pad cools.
        assert!(
            rig.run_until(secs(400), |r| r.sensors.temperatures[HeaterId::SolePad]
                >= Celsius(39.5))
        );
        rig.run_for(secs(30));
        rig.inject(InjectedFault::HeaterDead {
            heater: HeaterId::SolePad,
        });
        rig.run_until_event("fault.heater_out_of_band", secs(600));
        assert!(rig.sensors.temperatures[HeaterId::SolePad] < Celsius(37.0));
        rig.assert_faulted_safe("fault.heater_out_of_band", Some(session));
    }

    #[test]
    fn a_pad_driven_hard_whose_sensor_does_not_respond_is_a_fault_near_room_temperature() {
        // Klipper's blind spot: a target just above room temperature looks
        // "reached" to the rise and band checks while the sensor sees nothing.
        let mut rig = Rig::new();
        rig.inject(InjectedFault::Sensor {
            sensor: SensorId::Temperature(HeaterId::SolePad),
            mode: SensorFault::Stuck,
        });
        let session = rig.start_script(|_| {
            let mut r = Request::OFF;
            r.setpoints[HeaterId::SolePad] = Some(Celsius(24.0));
            r
        });
        rig.run_until_event("fault.heater_no_response", secs(300));
        assert_eq!(
            rig.count("fault.heater_no_rise") + rig.count("fault.heater_out_of_band"),
            0
        );
        rig.assert_faulted_safe("fault.heater_no_response", Some(session));
    }

    #[test]
    fn every_sensor_open_short_or_nan_is_a_fault_in_the_next_tick() {
        let sensors: Vec<SensorId> = SensorId::all().collect();
        for sensor in sensors {
            for mode in [SensorFault::Open, SensorFault::Short, SensorFault::NaN] {
                let mut rig = Rig::with_full_bath();
                let session = rig.start_script(|_| warm_water_and_pads());
                rig.inject(InjectedFault::Sensor { sensor, mode });
                rig.tick();
                assert_eq!(
                    rig.codes()
                        .iter()
                        .filter(|c| c.starts_with("fault."))
                        .collect::<Vec<_>>(),
                    vec![&"fault.sensor_out_of_range"],
                    "{sensor:?} {mode:?}"
                );
                rig.assert_faulted_safe("fault.sensor_out_of_range", Some(session));
                let stored = rig.stored("fault.sensor_out_of_range");
                assert_eq!(stored[0].data["sensor"], sensor.code().as_str());
                // Repaired, the chair can be reset.
                rig.sim.clear_all();
                rig.tick();
                rig.command(Command::Reset).unwrap();
            }
        }
    }

    #[test]
    fn heater_outputs_fall_off_after_the_hold_time_when_the_service_stops_refreshing() {
        let mut rig = Rig::new();
        rig.start_script(|_| warm_water_and_pads());
        rig.run_for(secs(2));
        assert!(rig.sim.truth().heater_power[HeaterId::SolePad] > Percent(50.0));
        // The service hangs: nothing writes any more, time goes on.
        let now = rig.chair.now();
        rig.run_chair_alone_until(now + secs(4));
        assert!(rig.sim.truth().heater_power[HeaterId::SolePad] > Percent(50.0));
        rig.run_chair_alone_until(now + secs(6));
        assert_eq!(
            rig.sim.truth().heater_power[HeaterId::SolePad],
            Percent(0.0)
        );
    }

    // ---- Bath levels ---------------------------------------------------------

    #[test]
    fn heater_and_jets_are_refused_without_enough_water() {
        let mut rig = Rig::new();
        rig.start_script(|_| {
            let mut r = warm_water_and_pads();
            r.bath.jets = Percent(50.0);
            r
        });
        let o = rig.outputs();
        assert_eq!(o.heater_power[HeaterId::Water], Percent(0.0));
        assert_eq!(o.jet_pump, Percent(0.0));
        assert!(
            o.heater_power[HeaterId::SolePad] > Percent(0.0),
            "the pads may still heat"
        );
        assert_eq!(rig.count("interlock.dry_run"), 2);
        assert_eq!(rig.stored("interlock.dry_run").len(), 2);
        rig.run_for(secs(2));
        assert_eq!(rig.sim.truth().heater_power[HeaterId::Water], Percent(0.0));
    }

    #[test]
    fn the_fill_valve_closes_in_the_tick_the_bath_reaches_its_maximum() {
        let mut rig = Rig::new();
        rig.start_script(|_| {
            let mut r = Request::OFF;
            r.bath.fill = true;
            r
        });
        let max = Litres(19.0);
        assert!(rig.outputs().fill_valve_open);
        assert!(rig.run_until(secs(120), |r| !r.outputs().fill_valve_open));
        assert!(rig.prev_sensors.water_level < max && rig.sensors.water_level >= max);
        assert_eq!(rig.stored("interlock.bath_full").len(), 1);
        assert_eq!(rig.state(), ChairState::Running);
    }

    #[test]
    fn a_fill_with_no_rising_level_is_a_fault() {
        let mut rig = Rig::new();
        rig.inject(InjectedFault::Sensor {
            sensor: SensorId::WaterLevel,
            mode: SensorFault::Stuck,
        });
        let session = rig.start_script(|_| {
            let mut r = Request::OFF;
            r.bath.fill = true;
            r
        });
        rig.run_until_event("fault.fill_no_flow", secs(30));
        rig.assert_faulted_safe("fault.fill_no_flow", Some(session));
        assert!(!rig.sim.truth().valve_open);
    }

    #[test]
    fn a_fill_that_does_not_reach_the_level_in_time_is_a_fault() {
        // A weak supply: enough flow to pass the progress check, too little to fill.
        let mut rig = Rig::with_profile(|p| p.simulator.fill_flow = LitresPerSecond(0.05));
        let session = rig.start_script(|_| {
            let mut r = Request::OFF;
            r.bath.fill = true;
            r
        });
        let at = rig.run_until_event("fault.fill_timeout", secs(200));
        assert!(at >= secs(150) && at <= secs(151), "{at:?}");
        rig.assert_faulted_safe("fault.fill_timeout", Some(session));
    }

    #[test]
    fn a_level_that_drops_while_not_draining_is_a_leak() {
        let mut rig = Rig::with_full_bath();
        rig.inject(InjectedFault::Leak {
            rate: LitresPerSecond(0.02),
            reaches_sensor: false,
        });
        let session = rig.start_script(|_| Request::OFF);
        rig.run_until_event("fault.level_drop", secs(120));
        rig.assert_faulted_safe("fault.level_drop", Some(session));
    }

    #[test]
    fn a_wet_leak_sensor_is_a_fault_even_when_idle() {
        let mut rig = Rig::with_full_bath();
        rig.inject(InjectedFault::Leak {
            rate: LitresPerSecond(0.2),
            reaches_sensor: true,
        });
        rig.run_until_event("fault.leak_detected", secs(10));
        rig.assert_faulted_safe("fault.leak_detected", None);
        assert!(matches!(
            rig.command(Command::Reset),
            Err(Refusal::ResetBlocked { .. })
        ));
    }

    #[test]
    fn a_blocked_drain_is_a_fault() {
        let mut rig = Rig::with_full_bath();
        rig.inject(InjectedFault::DrainBlocked);
        let session = rig.start_script(|_| {
            let mut r = Request::OFF;
            r.bath.drain = true;
            r
        });
        assert!(rig.outputs().drain_pump_on);
        let at = rig.run_until_event("fault.drain_blocked", secs(60));
        assert!(at <= secs(22), "{at:?}");
        rig.assert_faulted_safe("fault.drain_blocked", Some(session));
    }

    #[test]
    fn water_rising_with_the_valve_closed_means_a_stuck_valve() {
        let mut rig = Rig::with_full_bath();
        rig.inject(InjectedFault::ValveStuckOpen);
        rig.run_until_event("fault.unexpected_inflow", secs(30));
        rig.assert_faulted_safe("fault.unexpected_inflow", None);
    }

    #[test]
    fn water_above_the_overflow_level_is_a_fault_in_the_tick_it_gets_there() {
        let mut rig = Rig::with_profile(|p| {
            // Long settling so the inflow check does not fire first.
            p.bath.as_mut().unwrap().settle_time = secs(60);
        });
        rig.sim.set_feet_present(false);
        rig.set_water(Litres(20.0), Celsius(35.0));
        rig.tick();
        rig.inject(InjectedFault::ValveStuckOpen);
        rig.run_until_event("fault.overfill", secs(30));
        assert!(rig.prev_sensors.water_level <= Litres(21.0) && rig.sensors.water_level > Litres(21.0));
        rig.assert_faulted_safe("fault.overfill", None);
    }

    // ---- Rollers and calf cells ----------------------------------------------

    #[test]
    fn pressure_rises_no_faster_than_the_ramp_limit() {
        let mut rig = Rig::new();
        rig.start_script(|_| {
            let mut r = Request::OFF;
            r.feet[Side::Left] = knead(60.0);
            r.calves[Side::Right].cells[CalfCell::Ankle] = Percent(45.0);
            r
        });
        let profile = rig.chair.engine().profile().clone();
        let foot_step = profile.foot_rollers.as_ref().unwrap().pressure_ramp_max.0 * TICK.as_secs_f64();
        let cell_step = profile.calf_units.as_ref().unwrap().pressure_ramp_max.0 * TICK.as_secs_f64();
        assert!(rig.outputs().feet[Side::Left].pressure.0 <= foot_step + 1e-9);
        assert!(rig.outputs().calves[Side::Right].cells[CalfCell::Ankle].0 <= cell_step + 1e-9);
        let mut last = rig.outputs().feet[Side::Left].pressure.0;
        for _ in 0..500 {
            rig.tick();
            let p = rig.outputs().feet[Side::Left].pressure.0;
            assert!(p - last <= foot_step + 1e-9);
            last = p;
        }
        assert_eq!(last, 60.0);
        assert_eq!(rig.stored("clamp.pressure_ramp").len(), 2);
    }

    #[test]
    fn pressure_is_capped_by_the_ceiling_of_the_current_intensity() {
        let mut rig = Rig::new();
        let options = SessionOptions {
            intensity: Intensity::MIN,
            ..SessionOptions::default()
        };
        rig.start_program(
            support::Scripted::boxed(|_| {
                let mut r = Request::OFF;
                r.feet[Side::Right] = knead(80.0);
                r
            }),
            options,
        );
        rig.run_for(secs(10));
        assert_eq!(rig.outputs().feet[Side::Right].pressure, Percent(35.0));
        assert_eq!(rig.stored("clamp.pressure").len(), 1);
        rig.command(Command::SetIntensity(Intensity::MAX)).unwrap();
        rig.run_for(secs(10));
        assert_eq!(rig.outputs().feet[Side::Right].pressure, Percent(80.0));
        rig.command(Command::SetIntensity(Intensity::MIN)).unwrap();
        rig.tick();
        assert_eq!(
            rig.outputs().feet[Side::Right].pressure,
            Percent(35.0),
            "release is immediate"
        );
    }

    #[test]
    fn travel_speed_motion_rate_and_kneading_speed_are_clamped() {
        let mut rig = Rig::new();
        rig.start_script(|_| {
            let mut r = Request::OFF;
            r.feet[Side::Left] = FootRollerCommand {
                travel_speed: PercentPerSecond(90.0),
                motion: NodeMotion::Vibrate,
                motion_rate: Hertz(400.0),
                ..knead(10.0)
            };
            r.calves[Side::Left].kneading_speed = Percent(100.0);
            r
        });
        let o = rig.outputs();
        assert_eq!(o.feet[Side::Left].travel_speed, PercentPerSecond(25.0));
        assert_eq!(o.feet[Side::Left].motion_rate, Hertz(40.0));
        assert_eq!(o.calves[Side::Left].kneading_speed, Percent(80.0));
        for code in [
            "clamp.travel_speed",
            "clamp.motion_rate",
            "clamp.kneading_speed",
        ] {
            assert_eq!(rig.stored(code).len(), 1, "{code}");
        }
    }

    #[test]
    fn a_blocked_roller_is_stopped_by_its_motor_current() {
        let mut rig = Rig::new();
        let session = rig.start_script(|_| {
            let mut r = Request::OFF;
            r.feet[Side::Left] = knead(20.0);
            r
        });
        rig.run_for(secs(1));
        rig.inject(InjectedFault::RollerStall { side: Side::Left });
        let blocked_at = rig.chair.now();
        let at = rig.run_until_event("fault.roller_stall", secs(5));
        let stall_time = rig
            .chair
            .engine()
            .profile()
            .foot_rollers
            .as_ref()
            .unwrap()
            .stall_time;
        assert!(
            at - blocked_at <= stall_time + TICK * 3,
            "{:?}",
            at - blocked_at
        );
        rig.assert_faulted_safe("fault.roller_stall", Some(session));
    }

    #[test]
    fn a_carriage_that_does_not_move_is_a_stall() {
        let mut rig = Rig::new();
        rig.inject(InjectedFault::Sensor {
            sensor: SensorId::CarriagePosition(Side::Right),
            mode: SensorFault::Stuck,
        });
        let session = rig.start_script(|_| {
            let mut r = Request::OFF;
            r.feet[Side::Right] = knead(20.0);
            r
        });
        rig.run_until_event("fault.roller_stall", secs(5));
        let stored = rig.stored("fault.roller_stall");
        assert_eq!(stored[0].data["cause"], "no_movement");
        rig.assert_faulted_safe("fault.roller_stall", Some(session));
    }

    #[test]
    fn no_roller_or_cell_motion_without_feet_on_the_footrest() {
        let mut rig = Rig::new();
        rig.start_script(|_| {
            let mut r = Request::OFF;
            r.feet[Side::Left] = knead(30.0);
            r.calves[Side::Left].cells[CalfCell::Mid] = Percent(30.0);
            r.setpoints[HeaterId::SolePad] = Some(Celsius(38.0));
            r
        });
        rig.run_for(secs(3));
        assert!(!rig.outputs().feet[Side::Left].is_off());
        rig.sim.set_feet_present(false);
        rig.tick();
        let o = rig.outputs();
        assert!(
            o.feet[Side::Left].is_off() && o.calves[Side::Left].is_off(),
            "{o:?}"
        );
        assert!(
            o.heater_power[HeaterId::SolePad] > Percent(0.0),
            "heat is not motion"
        );
        assert_eq!(rig.stored("interlock.no_feet").len(), 1);
        assert_eq!(rig.state(), ChairState::Running);
        rig.sim.set_feet_present(true);
        rig.tick();
        assert!(!rig.outputs().feet[Side::Left].is_off());
        assert!(
            rig.outputs().feet[Side::Left].pressure.0 <= 0.2 + 1e-9,
            "pressure ramps again from zero"
        );
    }

    #[test]
    fn a_calf_cell_stuck_inflated_is_a_fault_in_the_tick_it_passes_the_limit() {
        let mut rig = Rig::new();
        let session = rig.start_script(|_| Request::OFF);
        rig.inject(InjectedFault::CellStuckInflated {
            side: Side::Left,
            cell: CalfCell::Upper,
        });
        rig.run_until_event("fault.cell_overpressure", secs(10));
        let limit = Percent(85.0);
        assert!(rig.prev_sensors.calf_cells[Side::Left][CalfCell::Upper] <= limit);
        rig.assert_faulted_safe("fault.cell_overpressure", Some(session));
    }

    // ---- Session limits, stops, programs ---------------------------------------

    #[test]
    fn a_session_stops_at_the_maximum_duration() {
        let mut rig = Rig::with_profile(|p| p.session.max_duration = secs(120));
        let session = rig.start_script(|_| {
            let mut r = Request::OFF;
            r.feet[Side::Left] = knead(20.0);
            r
        });
        let at = rig.run_until_event("session.time_limit", secs(200));
        assert!(at >= secs(120) && at <= secs(121) + TICK * 2000, "{at:?}");
        assert_eq!(rig.state(), ChairState::Idle);
        assert!(rig.outputs().is_safe());
        let row = rig.store.session(session).unwrap().unwrap();
        assert_eq!(row.outcome, Some(Outcome::TimeLimit));
    }

    #[test]
    fn emergency_stop_from_a_client_makes_the_outputs_safe_before_the_next_tick() {
        let mut rig = Rig::with_full_bath();
        let session = rig.start_script(|_| {
            let mut r = warm_water_and_pads();
            r.feet[Side::Left] = knead(30.0);
            r.bath.jets = Percent(40.0);
            r.bath.fill = true;
            r
        });
        rig.run_for(secs(2));
        assert!(!rig.outputs().is_safe());
        let level = rig.sim.truth().water_volume;
        rig.estop();
        assert!(rig.outputs().is_safe());
        assert_eq!(rig.state(), ChairState::Estop);
        assert!(rig.sim.kill_switch_tripped());
        let stored = rig.stored("estop.pressed");
        assert_eq!(stored[0].data["source"], "local");
        let row = rig.store.session(session).unwrap().unwrap();
        assert_eq!(row.outcome, Some(Outcome::EmergencyStop));
        rig.run_for(secs(5));
        let t = rig.sim.truth();
        assert!(!t.valve_open && !t.draining, "{t:?}");
        assert!(
            (t.water_volume.0 - level.0).abs() < 0.3,
            "the water stays: {t:?}"
        );
        assert!(matches!(
            rig.chair.start("demo", SessionOptions::default()),
            Err(Refusal::EstopLatched)
        ));
        rig.command(Command::Reset).unwrap();
        assert_eq!(rig.state(), ChairState::Idle);
    }

    #[test]
    fn the_emergency_stop_button_latches_until_released_and_reset() {
        let mut rig = Rig::new();
        rig.start_script(|_| {
            let mut r = Request::OFF;
            r.feet[Side::Right] = knead(30.0);
            r
        });
        rig.run_for(secs(1));
        rig.sim.set_estop_pressed(true);
        rig.tick();
        assert_eq!(rig.state(), ChairState::Estop);
        assert!(rig.outputs().is_safe());
        assert_eq!(rig.stored("estop.pressed")[0].data["source"], "button");
        match rig.command(Command::Reset) {
            Err(Refusal::ResetBlocked { conditions }) => {
                assert!(conditions[0].contains("still pressed"), "{conditions:?}")
            }
            other => panic!("{other:?}"),
        }
        rig.sim.set_estop_pressed(false);
        rig.tick();
        assert_eq!(
            rig.state(),
            ChairState::Estop,
            "still latched after release"
        );
        rig.command(Command::Reset).unwrap();
        assert_eq!(rig.state(), ChairState::Idle);
        assert_eq!(rig.count("estop.pressed"), 1);
        let _ = StopSource::Remote;
    }

    #[test]
    fn a_program_that_fails_is_stopped_and_named() {
        let mut rig = Rig::new();
        let session = rig.start_program(
            Box::new(FailsAfter {
                after: secs(2),
                error: ProgramError {
                    kind: ProgramErrorKind::Trap,
                    message: "wasm trap: unreachable".into(),
                },
            }),
            SessionOptions::default(),
        );
        rig.run_until_event("fault.program", secs(5));
        rig.assert_faulted_safe("fault.program", Some(session));
        let stored = &rig.stored("fault.program")[0];
        assert!(
            stored.message.contains("`script`") && stored.message.contains("crashed"),
            "{}",
            stored.message
        );
        // The service goes on: after a reset another program runs.
        rig.command(Command::Reset).unwrap();
        rig.chair.start("demo", SessionOptions::default()).unwrap();
    }

    #[test]
    fn an_impossible_request_is_a_fault_naming_the_field() {
        let mut rig = Rig::new();
        let session = rig.start_script(|input| {
            let mut r = Request::OFF;
            if input.elapsed >= secs(1) {
                r.feet[Side::Left].pressure = Percent(f64::NAN);
            }
            r
        });
        rig.run_until_event("fault.invalid_request", secs(3));
        rig.assert_faulted_safe("fault.invalid_request", Some(session));
        assert!(
            rig.stored("fault.invalid_request")[0]
                .message
                .contains("feet.left.pressure = NaN")
        );
    }

    #[test]
    fn losing_the_io_bus_is_a_fault_and_cuts_power() {
        let mut rig = Rig::new();
        let session = rig.start_script(|_| warm_water_and_pads());
        rig.inject(InjectedFault::BusFailure);
        rig.run_until_event("fault.hardware", secs(1));
        rig.assert_faulted_safe("fault.hardware", Some(session));
        rig.run_for(secs(1));
        assert_eq!(rig.count("fault.hardware"), 1, "reported once");
    }

    #[test]
    fn stop_parks_the_rollers_then_the_session_ends_as_stopped() {
        let mut rig = Rig::new();
        let session = rig.start_script(|_| {
            let mut r = Request::OFF;
            r.feet[Side::Left] = knead(30.0);
            r
        });
        rig.run_for(secs(3));
        rig.command(Command::Stop).unwrap();
        rig.tick();
        assert_eq!(rig.state(), ChairState::Finishing);
        assert_eq!(rig.outputs().feet[Side::Left].pressure, Percent(0.0));
        assert!(rig.run_until(secs(15), |r| r.state() == ChairState::Idle));
        assert!(rig.sensors.feet[Side::Left].carriage_position.0 <= 1.0);
        assert_eq!(
            rig.store.session(session).unwrap().unwrap().outcome,
            Some(Outcome::Stopped)
        );
    }

    #[test]
    fn waiting_for_staff_extends_the_session_by_at_most_the_staff_timeout() {
        let mut rig = Rig::with_profile(|p| {
            p.session.max_duration = secs(120);
            p.session.staff_timeout = secs(300);
        });
        let session = rig.start_program(Box::new(AwaitsStaff), SessionOptions::default());
        rig.run_for(secs(200));
        assert_eq!(
            rig.state(),
            ChairState::Running,
            "time waiting for staff (the chair idle) extends the session's budget"
        );
        assert_eq!(rig.count("session.time_limit"), 0);
        let at = rig.run_until_event("session.stopped", secs(200));
        assert!(at >= secs(300) && at <= secs(301), "{at:?}");
        let row = rig.store.session(session).unwrap().unwrap();
        assert_eq!(row.outcome, Some(Outcome::Stopped));
        assert!(row.detail.contains("nobody confirmed"), "{row:?}");
        assert!(row.detail.contains("in all"), "{row:?}");
    }

    #[test]
    fn while_a_program_waits_for_staff_the_chair_idles_whatever_it_asks() {
        let mut rig = Rig::with_full_bath();
        rig.start_program(
            Box::new(WorksWhileWaiting {
                ticks: 0,
                run_every: u64::MAX,
            }),
            SessionOptions::default(),
        );
        rig.run_for(secs(5));
        let out = *rig.outputs();
        for side in Side::ALL {
            assert!(out.feet[side].is_off(), "{:?}", out.feet[side]);
            assert!(out.calves[side].is_off(), "{:?}", out.calves[side]);
        }
        assert!(!out.fill_valve_open);
        assert_eq!(out.jet_pump, Percent::ZERO);
        let setpoints = rig.chair.engine().status().setpoints;
        assert_eq!(setpoints[HeaterId::SolePad], None);
        assert_eq!(setpoints[HeaterId::CalfPad], None);
        assert_eq!(
            setpoints[HeaterId::Water],
            None,
            "no setpoint was in force when the wait began: the water may not be heated now"
        );
        assert_eq!(
            rig.count("interlock.awaiting_staff"),
            1,
            "{:?}",
            rig.codes()
        );
        assert_eq!(
            rig.stored("interlock.awaiting_staff")[0].session,
            Some(rig.chair.engine().status().session.unwrap().id)
        );
    }

    #[test]
    fn a_program_that_flickers_out_of_staff_waits_cannot_outlast_the_session() {
        // The red team's pattern: waiting 99 ticks of 100, working on the 100th.
        let mut rig = Rig::with_profile(|p| {
            p.session.max_duration = secs(120);
            p.session.staff_timeout = secs(60);
        });
        let session = rig.start_program(
            Box::new(WorksWhileWaiting {
                ticks: 0,
                run_every: 100,
            }),
            SessionOptions::default(),
        );
        let remaining = rig.chair.engine().status().session.unwrap().remaining;
        assert!(remaining <= secs(180), "{remaining:?}");
        let mut max_pressure = 0.0f64;
        let ended = rig.run_until(secs(200), |r| {
            for side in Side::ALL {
                max_pressure = max_pressure.max(r.outputs().feet[side].pressure.0);
            }
            r.state() == ChairState::Idle
        });
        assert!(ended, "still {:?} after 200 s", rig.state());
        let at = rig.chair.now();
        // The staff timeout counts all the waiting, not the latest stretch: 60 s
        // of it in about 61 s.
        assert!(at <= secs(70), "ended at {at:?}");
        assert!(
            max_pressure <= 0.5,
            "foot pressure reached {max_pressure} %"
        );
        let row = rig.store.session(session).unwrap().unwrap();
        assert_eq!(row.outcome, Some(Outcome::Stopped), "{row:?}");
    }

    #[test]
    fn the_session_ends_by_its_maximum_plus_the_staff_timeout_whatever_the_program_says() {
        // Working 1 tick in 2, half the time "waiting". The budget is the
        // maximum plus the waiting so far; the waiting ends the session when it
        // reaches the staff timeout, so max + staff timeout bounds every session.
        for (staff_timeout, ends_at, code, outcome) in [
            (90, 180, "session.stopped", Outcome::Stopped),
            (300, 240, "session.time_limit", Outcome::TimeLimit),
        ] {
            let mut rig = Rig::with_profile(|p| {
                p.session.max_duration = secs(120);
                p.session.staff_timeout = secs(staff_timeout);
            });
            let session = rig.start_program(
                Box::new(WorksWhileWaiting {
                    ticks: 0,
                    run_every: 2,
                }),
                SessionOptions::default(),
            );
            assert!(rig.run_until(secs(500), |r| r.state() == ChairState::Finishing));
            let at = rig.chair.now();
            assert!(
                at >= secs(ends_at - 1) && at <= secs(ends_at + 1),
                "{code}: finishing began at {at:?}"
            );
            assert!(at <= secs(120 + staff_timeout));
            // The rollers park, then the session ends.
            rig.run_until_event(code, secs(60));
            let row = rig.store.session(session).unwrap().unwrap();
            assert_eq!(row.outcome, Some(outcome), "{row:?}");
            if outcome == Outcome::TimeLimit {
                assert!(row.detail.contains("waiting for staff"), "{row:?}");
            }
        }
    }

    #[test]
    fn a_session_ending_without_feet_leaves_the_rollers_where_they_are() {
        let mut rig = Rig::new();
        let session = rig.start_script(|_| {
            let mut r = Request::OFF;
            r.feet[Side::Left] = knead(20.0);
            r
        });
        rig.run_for(secs(3));
        rig.sim.set_feet_present(false);
        rig.tick();
        rig.command(Command::Stop).unwrap();
        rig.tick();
        assert_eq!(
            rig.state(),
            ChairState::Idle,
            "nothing to park without feet"
        );
        assert!(rig.outputs().is_safe());
        assert_eq!(
            rig.count("interlock.no_feet"),
            1,
            "only the interlock when the feet left: {:?}",
            rig.codes()
        );
        assert_eq!(
            rig.store.session(session).unwrap().unwrap().outcome,
            Some(Outcome::Stopped)
        );
    }

    #[test]
    fn the_built_in_demo_resumes_without_a_clamp() {
        let mut rig = Rig::new();
        rig.start("demo");
        for _ in 0..3 {
            rig.run_for(secs(8));
            rig.command(Command::Pause).unwrap();
            rig.run_for(secs(2));
            rig.command(Command::Resume).unwrap();
        }
        rig.run_for(secs(8));
        let clamps: Vec<_> = rig
            .codes()
            .into_iter()
            .filter(|c| c.starts_with("clamp."))
            .collect();
        assert!(clamps.is_empty(), "{clamps:?}");
    }
}
