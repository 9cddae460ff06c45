use super::*;

fn some_readings() -> SensorReadings {
    let mut r = SensorReadings {
        temperatures: Heaters([Celsius(38.25), Celsius(41.5), Celsius(-55.0)]),
        water_level: Litres(12.34),
        leak_detected: true,
        estop_pressed: false,
        feet_present: true,
        ..SensorReadings::default()
    };
    r.feet[Side::Left] = FootSensors {
        carriage_position: Percent(42.17),
        motor_current: Amps(3.512),
    };
    r.feet[Side::Right].carriage_position = Percent(-20.0);
    r.calf_cells[Side::Right][CalfCell::Upper] = Percent(99.99);
    r
}

fn some_outputs() -> Outputs {
    let mut o = Outputs::SAFE;
    o.heater_power[HeaterId::CalfPad] = Percent(37.5);
    o.fill_valve_open = true;
    o.jet_pump = Percent(60.0);
    o.feet[Side::Right] = FootRollerCommand {
        position: Percent(80.0),
        travel_speed: PercentPerSecond(12.5),
        pressure: Percent(55.55),
        motion: NodeMotion::Tap,
        motion_rate: Hertz(6.25),
    };
    o.calves[Side::Left].cells[CalfCell::Mid] = Percent(70.0);
    o.calves[Side::Left].kneading_speed = Percent(30.0);
    o
}

#[test]
fn inputs_round_trip_at_the_registers_resolution() {
    let inputs = BoardInputs {
        identity: Identity {
            version: PROTOCOL_VERSION,
            boot_id: 0xBEEF,
        },
        status: status::CONTACTOR_CLOSED,
        sample_counter: 65535,
        fault_code: 0,
        readings: some_readings(),
    };
    let words = inputs.encode();
    assert_eq!(words.len(), usize::from(INPUTS_LEN));
    let back = BoardInputs::decode(&words).unwrap();
    assert_eq!(back.identity, inputs.identity);
    assert!(back.has(status::CONTACTOR_CLOSED) && back.has(status::FEET_PRESENT));
    assert!(back.has(status::LEAK_WET) && !back.has(status::ESTOP_PRESSED));
    for sensor in tarsal_core::model::SensorId::all() {
        let (want, got) = (sensor.read(&inputs.readings), sensor.read(&back.readings));
        assert!((want - got).abs() < 0.006, "{sensor}: {want} became {got}");
    }
    assert!(back.readings.feet_present && back.readings.leak_detected);
}

#[test]
fn a_nan_reading_travels_as_no_reading_and_comes_back_nan() {
    let mut readings = some_readings();
    readings.temperatures[HeaterId::Water] = Celsius(f64::NAN);
    let inputs = BoardInputs {
        identity: Identity {
            version: PROTOCOL_VERSION,
            boot_id: 1,
        },
        status: 0,
        sample_counter: 0,
        fault_code: 0,
        readings,
    };
    let words = inputs.encode();
    assert_eq!(words[usize::from(register::TEMPERATURES)], NO_READING);
    let back = BoardInputs::decode(&words).unwrap();
    assert!(back.readings.temperatures[HeaterId::Water].0.is_nan());
}

#[test]
fn readings_beyond_a_register_saturate_instead_of_wrapping() {
    let mut readings = some_readings();
    readings.temperatures[HeaterId::Water] = Celsius(1.0e6);
    readings.water_level = Litres(-1.0e6);
    let inputs = BoardInputs {
        identity: Identity {
            version: PROTOCOL_VERSION,
            boot_id: 1,
        },
        status: 0,
        sample_counter: 0,
        fault_code: 0,
        readings,
    };
    let back = BoardInputs::decode(&inputs.encode()).unwrap();
    assert_eq!(back.readings.temperatures[HeaterId::Water], Celsius(327.67));
    assert_eq!(back.readings.water_level, Litres(-327.67));
}

#[test]
fn another_device_or_version_is_named() {
    let mut words = vec![0u16; usize::from(INPUTS_LEN)];
    assert_eq!(
        BoardInputs::decode(&words),
        Err(DecodeError::NotAChairBoard(0))
    );
    words[0] = PROTOCOL_MAGIC;
    words[1] = 7;
    let err = BoardInputs::decode(&words).unwrap_err();
    assert_eq!(err, DecodeError::Version(7));
    assert!(err.to_string().contains("version 7"), "{err}");
    assert!(matches!(
        BoardInputs::decode(&words[..3]),
        Err(DecodeError::Length { got: 3, .. })
    ));
}

#[test]
fn outputs_round_trip_with_contactor_hold_and_heartbeat() {
    let out = BoardOutputs {
        contactor: true,
        hold: Duration::from_secs(5),
        heartbeat: Duration::from_millis(0x0001_2345),
        boot_ack: 0xBEEF,
        outputs: some_outputs(),
    };
    let words = out.encode();
    assert_eq!(words.len(), usize::from(OUTPUTS_LEN));
    assert_eq!(
        words[usize::from(register::HEARTBEAT - OUTPUTS_START)],
        0x2345
    );
    assert_eq!(
        words[usize::from(register::HEARTBEAT + 1 - OUTPUTS_START)],
        1
    );
    assert_eq!(BoardOutputs::decode(&words).unwrap(), out);
}

#[test]
fn the_hold_time_is_capped_and_bad_values_are_refused() {
    let out = BoardOutputs {
        contactor: false,
        hold: Duration::from_secs(60),
        heartbeat: Duration::ZERO,
        boot_ack: 1,
        outputs: Outputs::SAFE,
    };
    let mut words = out.encode();
    assert_eq!(BoardOutputs::decode(&words).unwrap().hold, HOLD_CAP);
    words[usize::from(register::CONTACTOR - OUTPUTS_START)] = 2;
    assert!(matches!(
        BoardOutputs::decode(&words),
        Err(DecodeError::Value { register: 100, .. })
    ));
    words[0] = 0;
    words[usize::from(register::FOOT_ROLLER_LEFT + 3 - OUTPUTS_START)] = 9;
    let err = BoardOutputs::decode(&words).unwrap_err();
    assert!(err.to_string().contains("register 112 holds 9"), "{err}");
}

#[test]
fn the_register_table_is_contiguous() {
    assert_eq!(register::CELL_PRESSURES + 6, INPUTS_START + INPUTS_LEN);
    assert_eq!(register::CALF_RIGHT + 4, register::BOOT_ACK);
    assert_eq!(register::BOOT_ACK + 1, OUTPUTS_START + OUTPUTS_LEN);
    assert_eq!(register::FOOT_ROLLER_RIGHT, register::FOOT_ROLLER_LEFT + 5);
}
