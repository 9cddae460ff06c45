use super::*;
use tarsal_core::model::{FootRollerCommand, NodeMotion};
use tarsal_core::units::PercentPerSecond;

/// A simulator armed as the control loop arms it (the contactor starts open).
fn sim() -> Simulator {
    let sim = Simulator::new(Arc::new(ChairProfile::standard()));
    sim.kill_switch().rearm();
    sim
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// Writes `outputs` every 10 ms for `seconds`.
fn drive(sim: &mut Simulator, from: f64, seconds: f64, outputs: &Outputs) -> SensorReadings {
    let mut t = from;
    let mut last = sim.read(secs(t)).unwrap().readings;
    while t < from + seconds {
        sim.write(secs(t), outputs).unwrap();
        t += 0.01;
        last = sim.read(secs(t)).unwrap().readings;
    }
    last
}

#[test]
fn filling_takes_the_configured_flow_and_warms_toward_supply_temperature() {
    let mut s = sim();
    let mut o = Outputs::SAFE;
    o.fill_valve_open = true;
    let r = drive(&mut s, 0.0, 40.0, &o);
    let truth = s.handle().truth();
    assert!((truth.water_volume.0 - 10.0).abs() < 0.1, "{truth:?}");
    assert!(
        (r.temperatures[HeaterId::Water].0 - 37.0).abs() < 0.5,
        "{r:?}"
    );
    // Feet in the water raise the level reading.
    assert!(r.water_level.0 > truth.water_volume.0 + 1.0);
}

#[test]
fn water_heater_warms_a_full_bath_at_the_rate_its_power_allows() {
    let mut s = sim();
    s.set_water(Litres(15.0), Celsius(30.0));
    let mut o = Outputs::SAFE;
    o.heater_power[HeaterId::Water] = Percent(100.0);
    let r = drive(&mut s, 0.0, 100.0, &o);
    // 1500 W into 15 kg of water: about 0.024 °C/s, less losses.
    let gained = r.temperatures[HeaterId::Water].0 - 30.0;
    assert!((2.0..2.5).contains(&gained), "{gained}");
}

#[test]
fn heater_outputs_fall_off_after_the_hold_time_without_a_write() {
    let mut s = sim();
    let mut o = Outputs::SAFE;
    o.heater_power[HeaterId::SolePad] = Percent(100.0);
    s.write(secs(0.0), &o).unwrap();
    s.read(secs(4.9)).unwrap();
    assert_eq!(
        s.handle().truth().heater_power[HeaterId::SolePad],
        Percent(100.0)
    );
    s.read(secs(5.2)).unwrap();
    assert_eq!(
        s.handle().truth().heater_power[HeaterId::SolePad],
        Percent(0.0)
    );
}

#[test]
fn carriage_travels_at_commanded_speed_and_stalls_when_blocked() {
    let mut s = sim();
    let mut o = Outputs::SAFE;
    o.feet[Side::Left] = FootRollerCommand {
        position: Percent(100.0),
        travel_speed: PercentPerSecond(20.0),
        pressure: Percent(30.0),
        motion: NodeMotion::Knead,
        motion_rate: tarsal_core::units::Hertz(1.0),
    };
    let r = drive(&mut s, 0.0, 2.0, &o);
    assert!(
        (r.feet[Side::Left].carriage_position.0 - 40.0).abs() < 0.5,
        "{r:?}"
    );
    s.handle()
        .inject(InjectedFault::RollerStall { side: Side::Left });
    let r = drive(&mut s, 2.0, 1.0, &o);
    assert!(
        (r.feet[Side::Left].carriage_position.0 - 40.0).abs() < 0.5,
        "{r:?}"
    );
    assert!(r.feet[Side::Left].motor_current.0 > 3.0);
}

#[test]
fn the_kill_switch_cuts_even_a_runaway_heater_but_not_a_stuck_valve() {
    let mut s = sim();
    let h = s.handle();
    h.inject(InjectedFault::HeaterRunaway {
        heater: HeaterId::CalfPad,
    });
    h.inject(InjectedFault::ValveStuckOpen);
    drive(&mut s, 0.0, 1.0, &Outputs::SAFE);
    let t = h.truth();
    assert_eq!(t.heater_power[HeaterId::CalfPad], Percent(100.0));
    assert!(t.valve_open);
    s.kill_switch().trip();
    drive(&mut s, 1.0, 1.0, &Outputs::SAFE);
    let t = h.truth();
    assert_eq!(t.heater_power[HeaterId::CalfPad], Percent(0.0));
    assert!(t.valve_open);
}

#[test]
fn sensor_faults_follow_the_rail_convention() {
    let mut s = sim();
    let h = s.handle();
    let water = SensorId::Temperature(HeaterId::Water);
    h.inject(InjectedFault::Sensor {
        sensor: water,
        mode: SensorFault::Open,
    });
    assert_eq!(
        s.read(secs(0.1)).unwrap().readings.temperatures[HeaterId::Water].0,
        -55.0
    );
    h.inject(InjectedFault::Sensor {
        sensor: water,
        mode: SensorFault::Short,
    });
    assert_eq!(
        s.read(secs(0.2)).unwrap().readings.temperatures[HeaterId::Water].0,
        150.0
    );
    h.inject(InjectedFault::Sensor {
        sensor: water,
        mode: SensorFault::NaN,
    });
    assert!(
        s.read(secs(0.3)).unwrap().readings.temperatures[HeaterId::Water]
            .0
            .is_nan()
    );
    let pad = SensorId::Temperature(HeaterId::SolePad);
    h.inject(InjectedFault::Sensor {
        sensor: pad,
        mode: SensorFault::Stuck,
    });
    let stuck = s.read(secs(0.4)).unwrap().readings.temperatures[HeaterId::SolePad];
    let mut o = Outputs::SAFE;
    o.heater_power[HeaterId::SolePad] = Percent(100.0);
    let r = drive(&mut s, 0.4, 20.0, &o);
    assert_eq!(r.temperatures[HeaterId::SolePad], stuck);
    assert!(h.truth().temperatures[HeaterId::SolePad].0 > stuck.0 + 2.0);
}

#[test]
fn a_leak_wets_the_sensor_only_when_it_reaches_it() {
    let mut s = sim();
    s.set_water(Litres(15.0), Celsius(35.0));
    let h = s.handle();
    h.inject(InjectedFault::Leak {
        rate: LitresPerSecond(0.05),
        reaches_sensor: false,
    });
    let r = drive(&mut s, 0.0, 20.0, &Outputs::SAFE);
    assert!(!r.leak_detected);
    assert!((h.truth().water_volume.0 - 14.0).abs() < 0.05);
    h.clear_all();
    h.inject(InjectedFault::Leak {
        rate: LitresPerSecond(0.05),
        reaches_sensor: true,
    });
    let r = drive(&mut s, 20.0, 1.0, &Outputs::SAFE);
    assert!(r.leak_detected);
}

#[test]
fn the_contactor_starts_open_until_the_loop_arms_it() {
    let s = Simulator::new(Arc::new(ChairProfile::standard()));
    assert!(s.kill_switch().is_tripped());
    assert!(!s.handle().truth().contactor_closed);
}

#[test]
fn a_run_of_glitches_fails_that_many_exchanges_then_clears() {
    let mut s = sim();
    s.handle()
        .inject(InjectedFault::BusGlitches { exchanges: 3 });
    assert!(matches!(s.read(secs(0.0)), Err(HardwareError::Glitch(_))));
    assert!(matches!(
        s.write(secs(0.0), &Outputs::SAFE),
        Err(HardwareError::Glitch(_))
    ));
    assert!(matches!(s.read(secs(0.01)), Err(HardwareError::Glitch(_))));
    assert!(s.read(secs(0.02)).is_ok());
    assert!(s.handle().faults().is_empty());
}
