//! The D-Bus API against a real `dbus-daemon` and a real `tarsald` on a
//! simulated chair: every method and property, the signals, a refusal of each
//! kind, service mode, the sanitation log, `tarsalctl` over the bus, and the
//! system-bus policy with real users.

mod support;

use futures_util::StreamExt;
use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};
use support::binary;
use support::bus::{Service, TestBus};
use tarsal_dbus::client::{ActuatorProxy, Chair1Proxy, ServiceProxy, SimulatorProxy};
use zbus::{Connection, Variant};

async fn connect(bus: &TestBus) -> (Connection, Chair1Proxy<'static>) {
    let connection = zbus::connection::Builder::address(bus.address.as_str())
        .build()
        .await
        .expect("connects to the test bus");
    let chair = Chair1Proxy::new(&connection).await.unwrap();
    (connection, chair)
}

/// Polls until `f` holds (properties update at most ten times a second).
async fn until<F: AsyncFnMut() -> bool>(what: &str, max: Duration, mut f: F) {
    let deadline = Instant::now() + max;
    while Instant::now() < deadline {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn state_is(chair: &Chair1Proxy<'_>, want: &str) {
    until(
        &format!("state {want}"),
        Duration::from_secs(20),
        async || chair.state().await.unwrap() == want,
    )
    .await;
}

fn confirmed() -> HashMap<&'static str, Variant<'static>> {
    HashMap::from([("contraindications-confirmed", Variant::from(true))])
}

/// The error name's last part and message of a failed call.
fn refused<T: std::fmt::Debug>(result: zbus::Result<T>) -> (String, String) {
    match result {
        Err(zbus::Error::MethodError(name, message, _)) => (
            name.as_str()
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .to_owned(),
            message.unwrap_or_default(),
        ),
        other => panic!("expected a named error, got {other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_introspection_matches_the_committed_xml() {
    let bus = TestBus::session();
    let _service = Service::start(&bus, None, &["--speed", "10"]);
    let (connection, _) = connect(&bus).await;
    for (path, file) in [
        (tarsal_dbus::PATH, "org.tarsal.Chair1.xml"),
        (
            "/org/tarsal/Chair1/actuators/foot_roller_left",
            "org.tarsal.Chair1.Actuator.xml",
        ),
        (
            tarsal_dbus::ACTUATORS_PATH,
            "org.tarsal.Chair1.actuators.xml",
        ),
    ] {
        let introspect = zbus::fdo::IntrospectableProxy::builder(&connection)
            .destination(tarsal_dbus::NAME)
            .path(path)
            .build()
            .await
            .unwrap();
        let live = introspect.introspect().await.unwrap();
        // Child nodes come in no fixed order; the contract is the interfaces.
        let live = match live.find("\n  <node name=") {
            Some(children) => format!("{}\n</node>\n", &live[..children]),
            None => live,
        };
        let committed = format!("{}/deploy/dbus/{file}", env!("CARGO_MANIFEST_DIR"));
        if std::env::var_os("TARSAL_WRITE_DBUS_XML").is_some() {
            std::fs::write(&committed, &live).unwrap();
        }
        let on_disk = std::fs::read_to_string(&committed).unwrap_or_default();
        assert_eq!(
            live, on_disk,
            "{committed} is out of date; regenerate it with TARSAL_WRITE_DBUS_XML=1 cargo test --release --test dbus the_introspection"
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_session_runs_through_every_method_and_property() {
    let bus = TestBus::session();
    let _service = Service::start(&bus, None, &["--speed", "20"]);
    let (_connection, chair) = connect(&bus).await;

    let programs = chair.list_programs().await.unwrap();
    let ids: Vec<&str> = programs.iter().map(|p| p.id.as_str()).collect();
    for id in [
        "demo",
        "classic",
        "lymphatic-drainage",
        "reflexology",
        "foot-bath-soak",
        "sanitize",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    let classic: serde_json::Value =
        serde_json::from_str(&chair.describe_program("classic").await.unwrap()).unwrap();
    assert_eq!(classic["duration_s"], 1200);
    assert_eq!(classic["steps"].as_array().unwrap().len(), 7);
    assert!(!classic["contraindications"].as_array().unwrap().is_empty());
    assert_eq!(classic["translations"][0]["language"], "vi");
    assert_eq!(chair.model().await.unwrap(), "pedicure-standard");
    assert_eq!(chair.state().await.unwrap(), "idle");

    let mut finished = chair.receive_session_finished().await.unwrap();
    let mut options = confirmed();
    options.insert("intensity", Variant::from(2u8));
    options.insert("minutes", Variant::from(10i32));
    let session = chair.start_program("classic", options).await.unwrap();
    state_is(&chair, "running").await;
    assert_eq!(chair.session_id().await.unwrap(), session);
    assert_eq!(chair.program().await.unwrap(), "classic");
    assert_eq!(chair.program_name().await.unwrap(), "Classic massage");
    assert_eq!(chair.step_count().await.unwrap(), 7);
    assert!(!chair.step().await.unwrap().is_empty());
    assert_eq!(chair.intensity().await.unwrap(), 2);
    assert!(chair.heat().await.unwrap());
    until(
        "progress and elapsed time",
        Duration::from_secs(10),
        async || chair.elapsed().await.unwrap() >= 2 && chair.progress().await.unwrap() > 0.0,
    )
    .await;
    assert!(chair.remaining().await.unwrap() > 0);
    until(
        "the sole pad warming",
        Duration::from_secs(10),
        async || chair.setpoints().await.unwrap().contains_key("sole_pad"),
    )
    .await;
    assert!(chair.sole_pad_temperature().await.unwrap() > 0.0);
    assert!(chair.water_temperature().await.unwrap() > 0.0);
    assert!(chair.feet_present().await.unwrap());

    chair.set_intensity(5).await.unwrap();
    until("intensity 5", Duration::from_secs(5), async || {
        chair.intensity().await.unwrap() == 5
    })
    .await;
    chair.set_heat(false).await.unwrap();
    until("heat off", Duration::from_secs(5), async || {
        !chair.heat().await.unwrap()
    })
    .await;
    chair.pause().await.unwrap();
    state_is(&chair, "paused").await;
    chair.resume().await.unwrap();
    state_is(&chair, "running").await;
    chair.stop().await.unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(30), finished.next())
        .await
        .expect("SessionFinished arrives")
        .unwrap();
    let args = ended.args().unwrap();
    assert_eq!(
        (args.session, args.program.as_str(), args.outcome.as_str()),
        (session, "classic", "stopped")
    );
    state_is(&chair, "idle").await;
    assert_eq!(
        chair.last_session().await.unwrap(),
        (session, "stopped".to_owned())
    );

    let events = chair.recent_events(50, "session.").await.unwrap();
    let codes: Vec<&str> = events.iter().map(|e| e.code.as_str()).collect();
    for code in [
        "session.started",
        "session.intensity",
        "session.heat",
        "session.paused",
        "session.resumed",
        "session.stopped",
    ] {
        assert!(codes.contains(&code), "{code} not in {codes:?}");
    }
    assert!(events.iter().all(|e| e.session == session as i64));
    assert!(
        chair.sanitation_owed().await.unwrap(),
        "a client sat in the chair"
    );
    assert!(!chair.sanitation_required().await.unwrap());
}

#[tokio::test(flavor = "current_thread")]
async fn an_emergency_stop_makes_every_output_safe_until_reset() {
    let bus = TestBus::session();
    let _service = Service::start(&bus, None, &["--speed", "20"]);
    let (connection, chair) = connect(&bus).await;
    let mut events = chair.receive_event().await.unwrap();
    chair.start_program("classic", confirmed()).await.unwrap();
    let roller = ActuatorProxy::builder(&connection)
        .path("/org/tarsal/Chair1/actuators/foot_roller_left")
        .build()
        .await
        .unwrap();
    let pressure = async |a: &ActuatorProxy<'_>| -> f64 {
        let output = a.output().await.unwrap();
        f64::try_from(output.get("pressure").unwrap()).unwrap()
    };
    until("roller pressure", Duration::from_secs(20), async || {
        pressure(&roller).await > 1.0
    })
    .await;

    chair.emergency_stop().await.unwrap();
    assert_eq!(
        chair.state().await.unwrap(),
        "estop",
        "the state is estop when the call returns"
    );
    assert_eq!(chair.emergency_stop_source().await.unwrap(), "local");
    until("every output off", Duration::from_secs(5), async || {
        pressure(&roller).await == 0.0
    })
    .await;
    let heater = ActuatorProxy::builder(&connection)
        .path("/org/tarsal/Chair1/actuators/heater_sole_pad")
        .build()
        .await
        .unwrap();
    let power = f64::try_from(heater.output().await.unwrap().get("power").unwrap()).unwrap();
    assert_eq!(power, 0.0);
    let mut seen = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_secs(2), events.next()).await {
        seen.push(e.args().unwrap().code.clone());
        if seen.iter().any(|c| c == "estop.pressed") {
            break;
        }
    }
    assert!(seen.iter().any(|c| c == "estop.pressed"), "{seen:?}");
    assert_eq!(
        refused(chair.start_program("demo", HashMap::new()).await).0,
        "EmergencyStopLatched"
    );
    chair.reset_fault().await.unwrap();
    state_is(&chair, "idle").await;
}

#[tokio::test(flavor = "current_thread")]
async fn every_kind_of_refusal_is_a_named_error_with_a_message() {
    let bus = TestBus::session();
    let _service = Service::start(&bus, None, &["--speed", "20"]);
    let (connection, chair) = connect(&bus).await;
    let sim = SimulatorProxy::new(&connection).await.unwrap();
    let roller = ActuatorProxy::builder(&connection)
        .path("/org/tarsal/Chair1/actuators/foot_roller_left")
        .build()
        .await
        .unwrap();

    let (name, message) = refused(chair.start_program("nothing-like-it", HashMap::new()).await);
    assert_eq!(name, "UnknownProgram");
    assert!(message.contains("classic"), "{message}");
    let (name, message) = refused(chair.start_program("classic", HashMap::new()).await);
    assert_eq!(name, "ContraindicationsNotConfirmed");
    assert!(message.contains("varicose"), "{message}");
    let mut too_long = confirmed();
    too_long.insert("minutes", Variant::from(99i32));
    let (name, message) = refused(chair.start_program("classic", too_long).await);
    assert_eq!(name, "InvalidOption");
    assert!(message.contains("10–25"), "{message}");
    let mut no_bath = confirmed();
    no_bath.insert("bath", Variant::from(false));
    assert_eq!(
        refused(chair.start_program("foot-bath-soak", no_bath).await).0,
        "ProgramDeclined"
    );
    assert_eq!(refused(chair.pause().await).0, "NotRunning");
    assert_eq!(refused(chair.reset_fault().await).0, "NothingToReset");
    assert_eq!(
        refused(chair.confirm_staff_step("AB").await).0,
        "NotRunning"
    );
    assert_eq!(refused(chair.set_intensity(9).await).0, "InvalidValue");
    assert_eq!(refused(chair.fill_bath(30.0).await).0, "InvalidValue");
    assert_eq!(
        refused(
            roller
                .set(HashMap::from([("pressure", Variant::from(10.0))]))
                .await
        )
        .0,
        "NotInServiceMode"
    );

    chair.start_program("classic", confirmed()).await.unwrap();
    state_is(&chair, "running").await;
    assert_eq!(
        refused(chair.start_program("demo", HashMap::new()).await).0,
        "Busy"
    );
    // Resuming a running session is a harmless repeat, not a refusal.
    chair.resume().await.unwrap();
    assert_eq!(
        refused(chair.confirm_staff_step("AB").await).0,
        "NotAwaitingStaff"
    );
    assert_eq!(refused(chair.fill_bath(10.0).await).0, "Busy");

    // A broken sensor: a fault, a signal, and no reset while it is broken.
    let mut faults = chair.receive_fault_raised().await.unwrap();
    sim.inject_fault(r#"{"fault":"sensor","sensor":{"sensor":"water_level"},"mode":"short"}"#)
        .await
        .unwrap();
    let raised = tokio::time::timeout(Duration::from_secs(10), faults.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(raised.args().unwrap().code, "fault.sensor_out_of_range");
    state_is(&chair, "fault").await;
    let shown = chair.faults().await.unwrap();
    assert_eq!(shown[0].code, "fault.sensor_out_of_range");
    assert!(!shown[0].advice.is_empty());
    assert_eq!(
        refused(chair.start_program("demo", HashMap::new()).await).0,
        "FaultLatched"
    );
    let (name, message) = refused(chair.reset_fault().await);
    assert_eq!(name, "ResetBlocked");
    assert!(message.contains("water level sensor"), "{message}");
    sim.clear_faults().await.unwrap();
    until("reset accepted", Duration::from_secs(5), async || {
        chair.reset_fault().await.is_ok()
    })
    .await;
    state_is(&chair, "idle").await;
    let (name, _) = refused(sim.inject_fault("not json").await);
    assert_eq!(name, "InvalidValue");
}

#[tokio::test(flavor = "current_thread")]
async fn service_mode_drives_single_actuators_through_the_supervisor() {
    let bus = TestBus::session();
    let _service = Service::start(&bus, None, &["--speed", "20"]);
    let (connection, chair) = connect(&bus).await;
    let service = ServiceProxy::new(&connection).await.unwrap();
    let calf = ActuatorProxy::builder(&connection)
        .path("/org/tarsal/Chair1/actuators/calf_unit_left")
        .build()
        .await
        .unwrap();
    assert_eq!(calf.id().await.unwrap(), "calf_unit.left");
    assert_eq!(calf.kind().await.unwrap(), "calf_unit");
    service.enter_service_mode().await.unwrap();
    state_is(&chair, "service").await;
    assert_eq!(
        refused(chair.start_program("demo", HashMap::new()).await).0,
        "Busy"
    );
    let mut events = chair.receive_event().await.unwrap();
    calf.set(HashMap::from([("ankle", Variant::from(99.0))]))
        .await
        .unwrap();
    let ankle = async || f64::try_from(calf.output().await.unwrap().get("ankle").unwrap()).unwrap();
    until(
        "the ankle cell at its ceiling",
        Duration::from_secs(20),
        async || ankle().await == 50.0,
    )
    .await;
    let mut codes = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(500), events.next()).await {
        codes.push(e.args().unwrap().code.clone());
    }
    assert!(codes.iter().any(|c| c == "clamp.pressure"), "{codes:?}");
    let (name, message) = refused(
        calf.set(HashMap::from([("pressure", Variant::from(1.0))]))
            .await,
    );
    assert_eq!(name, "InvalidValue");
    assert!(message.contains("ankle, mid, upper"), "{message}");
    service.all_off().await.unwrap();
    until("the cell released", Duration::from_secs(5), async || {
        ankle().await == 0.0
    })
    .await;
    service.leave_service_mode().await.unwrap();
    state_is(&chair, "idle").await;
    assert_eq!(
        refused(service.leave_service_mode().await).0,
        "NotInServiceMode"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_bath_fills_and_drains_by_hand() {
    let bus = TestBus::session();
    let _service = Service::start(&bus, None, &["--speed", "50"]);
    let (_connection, chair) = connect(&bus).await;
    chair.fill_bath(10.0).await.unwrap();
    assert_eq!(chair.manual_bath().await.unwrap(), "fill");
    until("filled", Duration::from_secs(30), async || {
        chair.manual_bath().await.unwrap().is_empty()
    })
    .await;
    assert!(chair.water_level().await.unwrap() >= 10.0);
    chair.drain_bath().await.unwrap();
    until("drained", Duration::from_secs(30), async || {
        chair.manual_bath().await.unwrap().is_empty()
    })
    .await;
    // The drain stops at the profile's empty level (0.3 L); the sensor is noisy.
    let left = chair.water_level().await.unwrap();
    assert!(left < 0.6, "{left} L left after draining");
    chair.fill_bath(8.0).await.unwrap();
    chair.stop_bath().await.unwrap();
    assert_eq!(chair.manual_bath().await.unwrap(), "");
}

#[tokio::test(flavor = "current_thread")]
async fn a_fill_or_drain_by_hand_is_not_cancelled_by_a_session_or_service_mode() {
    // Real time, so the fill is still going while the calls are made; a
    // blocked drain keeps the drain going.
    let bus = TestBus::session();
    let _service = Service::start(&bus, None, &["--speed", "1"]);
    let (connection, chair) = connect(&bus).await;
    let service = ServiceProxy::new(&connection).await.unwrap();
    let simulator = SimulatorProxy::new(&connection).await.unwrap();
    for action in ["fill", "drain"] {
        if action == "fill" {
            chair.fill_bath(15.0).await.unwrap();
        } else {
            simulator
                .inject_fault(r#"{"fault":"drain_blocked"}"#)
                .await
                .unwrap();
            chair.drain_bath().await.unwrap();
        }
        assert_eq!(chair.manual_bath().await.unwrap(), action);
        let (name, message) = refused(chair.start_program("demo", HashMap::new()).await);
        assert_eq!(name, "Busy", "{message}");
        assert!(message.contains("by hand"), "{message}");
        assert_eq!(refused(service.enter_service_mode().await).0, "Busy");
        assert_eq!(chair.manual_bath().await.unwrap(), action, "still going");
        if action == "fill" {
            // Some water for the drain.
            until("half a litre", Duration::from_secs(20), async || {
                chair.water_level().await.unwrap() >= 0.5
            })
            .await;
        }
        chair.stop_bath().await.unwrap();
    }
    simulator.clear_faults().await.unwrap();
    chair.start_program("demo", HashMap::new()).await.unwrap();
    chair.stop().await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_sanitize_cycle_over_dbus_is_logged_with_the_staff_initials() {
    let bus = TestBus::session();
    let _service = Service::start(&bus, None, &["--speed", "200"]);
    let (connection, chair) = connect(&bus).await;
    let simulator = SimulatorProxy::new(&connection).await.unwrap();
    // With a client's feet on the footrest the cycle does not start: the
    // program says why, nothing is logged, nothing latches.
    simulator.set_feet_present(true).await.unwrap();
    let (name, message) = refused(chair.start_program("sanitize", HashMap::new()).await);
    assert_eq!(name, "ProgramDeclined", "{message}");
    assert!(message.contains("Feet are on the footrest"), "{message}");
    assert_eq!(chair.state().await.unwrap(), "idle");
    assert!(chair.sanitation_log(5).await.unwrap().is_empty());
    assert!(
        chair
            .recent_events(20, "session.")
            .await
            .unwrap()
            .is_empty()
    );

    simulator.set_feet_present(false).await.unwrap();
    chair
        .start_program("sanitize", HashMap::new())
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "the cycle did not finish");
        if chair.state().await.unwrap() == "idle" {
            break;
        }
        if chair.awaiting_staff().await.unwrap() {
            assert!(!chair.staff_action().await.unwrap().is_empty());
            let (name, message) = refused(chair.confirm_staff_step("A,B").await);
            assert_eq!(name, "InvalidValue");
            assert!(message.contains("initials"), "{message}");
            // Who did the step is required: the inspector's log needs it.
            for blank in ["", "   "] {
                let (name, message) = refused(chair.confirm_staff_step(blank).await);
                assert_eq!(name, "InvalidValue");
                assert!(message.contains("initials"), "{message}");
            }
            let _ = chair.confirm_staff_step("JD").await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = chair.sanitation_log(5).await.unwrap();
    assert_eq!(log.len(), 1);
    assert!(log[0].complete, "{:?}", log[0]);
    assert_eq!(log[0].cycle, "after-client");
    assert!(log[0].circulation_minutes >= 10.0);
    assert_eq!(log[0].initials, vec!["JD", "JD", "JD"]);
    let csv = chair.export_sanitation_log().await.unwrap();
    assert!(csv.starts_with("date_time_utc,cycle,complete"), "{csv}");
    assert!(
        csv.lines().nth(1).unwrap().contains(",after-client,yes,"),
        "{csv}"
    );
    assert!(!chair.sanitation_owed().await.unwrap());
}

#[tokio::test(flavor = "current_thread")]
async fn the_salon_can_require_sanitizing_between_clients() {
    let bus = TestBus::session();
    let config = std::env::temp_dir().join(format!("tarsal-gate-{}.toml", std::process::id()));
    std::fs::write(&config, "[sanitation]\nrequired_between_clients = true\n").unwrap();
    let service = Service::start(
        &bus,
        None,
        &["--speed", "200", "--config", config.to_str().unwrap()],
    );
    let (_connection, chair) = connect(&bus).await;
    assert!(chair.sanitation_required().await.unwrap());
    let mut short = confirmed();
    short.insert("minutes", Variant::from(10i32));
    chair.start_program("classic", short).await.unwrap();
    state_is(&chair, "running").await;
    chair.stop().await.unwrap();
    state_is(&chair, "idle").await;
    let (name, message) = refused(chair.start_program("classic", confirmed()).await);
    assert_eq!(name, "SanitationRequired");
    assert!(message.contains("sanitize"), "{message}");
    drop(service);
    let _ = std::fs::remove_file(&config);
}

#[tokio::test(flavor = "current_thread")]
async fn a_chair_without_calf_units_refuses_programs_that_need_them() {
    let bus = TestBus::session();
    let text = tarsal_core::profile::STANDARD_PROFILE_TOML;
    let start = text.find("\n[calf_units]").unwrap();
    let end = text.find("\n[heat_pads.sole]").unwrap();
    let profile =
        std::env::temp_dir().join(format!("tarsal-no-calves-{}.toml", std::process::id()));
    std::fs::write(&profile, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let _service = Service::start(&bus, None, &["--profile", profile.to_str().unwrap()]);
    let (connection, chair) = connect(&bus).await;
    let (name, message) = refused(chair.start_program("lymphatic-drainage", confirmed()).await);
    assert_eq!(name, "NotFitted");
    assert!(message.contains("calf units"), "{message}");
    // No actuator objects for parts the chair lacks.
    let calf = ActuatorProxy::builder(&connection)
        .path("/org/tarsal/Chair1/actuators/calf_unit_left")
        .build()
        .await
        .unwrap();
    assert!(calf.id().await.is_err());
    let _ = std::fs::remove_file(&profile);
}

fn tarsalctl(bus: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(binary("tarsalctl"))
        .args(["--bus-address", bus])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn tarsalctl_talks_to_the_service_with_exit_codes_scripts_can_rely_on() {
    let bus = TestBus::session();
    let _service = Service::start(&bus, None, &["--speed", "20"]);
    let a = bus.address.as_str();
    let (code, out, _) = tarsalctl(a, &["--json", "status"]);
    assert_eq!(code, 0);
    let status: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status["state"], "idle");
    let (code, out, _) = tarsalctl(a, &["--json", "programs"]);
    assert_eq!(code, 0);
    assert!(
        serde_json::from_str::<Vec<serde_json::Value>>(&out)
            .unwrap()
            .len()
            >= 6
    );

    let (code, _, err) = tarsalctl(a, &["start", "classic"]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(err.lines().count(), 1, "one clear line: {err}");
    assert!(
        err.starts_with("tarsalctl: ContraindicationsNotConfirmed: "),
        "{err}"
    );
    let (code, out, err) = tarsalctl(
        a,
        &[
            "start",
            "classic",
            "--confirm-contraindications",
            "--intensity",
            "4",
            "--option",
            "minutes=15",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("started"), "{out}");
    let (code, out, _) = tarsalctl(a, &["status"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Classic massage") && out.contains("intensity    4"),
        "{out}"
    );
    assert_eq!(tarsalctl(a, &["pause"]).0, 0);
    assert_eq!(tarsalctl(a, &["resume"]).0, 0);
    assert_eq!(tarsalctl(a, &["intensity", "2"]).0, 0);
    assert_eq!(tarsalctl(a, &["estop"]).0, 0);
    let (code, out, _) = tarsalctl(a, &["--json", "events", "--code", "estop."]);
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<Vec<serde_json::Value>>(&out).unwrap()[0]["code"],
        "estop.pressed"
    );
    assert_eq!(tarsalctl(a, &["reset"]).0, 0);
    let (code, _, err) = tarsalctl(a, &["reset"]);
    assert_eq!(code, 3, "{err}");
    let (code, out, _) = tarsalctl(a, &["--json", "actuators"]);
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<Vec<serde_json::Value>>(&out)
            .unwrap()
            .len(),
        10
    );
    assert_eq!(tarsalctl(a, &["sanitation-log"]).0, 0);
    let (code, out, _) = tarsalctl(a, &["completions", "bash"]);
    assert_eq!(code, 0);
    assert!(out.contains("tarsalctl"));

    // A bus without the service, and no bus at all.
    let empty = TestBus::session();
    let (code, _, err) = tarsalctl(&empty.address, &["status"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("is tarsald running"), "{err}");
    let (code, _, err) = tarsalctl("unix:path=/nonexistent/socket", &["status"]);
    assert_eq!(code, 4, "{err}");
}

/// Runs `tarsalctl` as `user` against `bus`.
fn tarsalctl_as(user: &str, bus: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new("setpriv")
        .args(["--reuid", user, "--regid", user, "--init-groups"])
        .arg(binary("tarsalctl"))
        .args(["--bus-address", bus])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ensure_user(name: &str, groups: &[&str]) {
    for g in groups {
        let _ = Command::new("groupadd").args(["-f", g]).status();
    }
    let exists = Command::new("id")
        .arg(name)
        .output()
        .unwrap()
        .status
        .success();
    if !exists {
        let mut c = Command::new("useradd");
        c.args(["-M", "-s", "/usr/sbin/nologin"]);
        if !groups.is_empty() {
            c.args(["-G", &groups.join(",")]);
        }
        assert!(c.arg(name).status().unwrap().success(), "useradd {name}");
    }
}

#[test]
fn the_system_bus_policy_lets_staff_operate_and_technicians_service_and_others_only_read() {
    // Creating users and switching to them needs root (CI runs as root).
    let uid = Command::new("id").arg("-u").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "this test must run as root"
    );
    ensure_user("tarsal", &[]);
    ensure_user("tarsal-t-outsider", &[]);
    ensure_user("tarsal-t-staff", &["tarsal"]);
    ensure_user("tarsal-t-tech", &["tarsal", "tarsal-service"]);
    let policy =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/dbus/org.tarsal.Chair1.conf");
    let bus = TestBus::system_with(&policy);
    let a = bus.address.as_str();

    // Only the service's user may own the name.
    let root_attempt = Command::new(binary("tarsald"))
        .args(["--sim", "--bus-address", a, "--db"])
        .arg(bus.dir.join("root.db"))
        .arg("--programs")
        .arg(support::plugins_dir(None))
        .output()
        .unwrap();
    assert!(!root_attempt.status.success());
    assert!(String::from_utf8_lossy(&root_attempt.stderr).contains("may this user own the name"));
    let _service = Service::start(&bus, Some("tarsal"), &["--speed", "20"]);

    // Everyone may read.
    assert_eq!(tarsalctl_as("tarsal-t-outsider", a, &["status"]).0, 0);
    assert_eq!(tarsalctl_as("tarsal-t-outsider", a, &["programs"]).0, 0);
    assert_eq!(tarsalctl_as("tarsal-t-outsider", a, &["events"]).0, 0);
    // Outsiders may change nothing.
    let (code, err) = tarsalctl_as("tarsal-t-outsider", a, &["pause"]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("AccessDenied"), "{err}");
    assert_eq!(tarsalctl_as("tarsal-t-outsider", a, &["estop"]).0, 5);
    // Staff may operate (the chair itself then answers: nothing to pause).
    let (code, err) = tarsalctl_as("tarsal-t-staff", a, &["pause"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("NotRunning"), "{err}");
    assert_eq!(tarsalctl_as("tarsal-t-staff", a, &["estop"]).0, 0);
    assert_eq!(tarsalctl_as("tarsal-t-staff", a, &["reset"]).0, 0);
    // …but not service mode or the simulator.
    assert_eq!(
        tarsalctl_as("tarsal-t-staff", a, &["service", "enter"]).0,
        5
    );
    assert_eq!(tarsalctl_as("tarsal-t-staff", a, &["sim", "clear"]).0, 5);
    // Technicians may.
    assert_eq!(tarsalctl_as("tarsal-t-tech", a, &["service", "enter"]).0, 0);
    let (code, err) = tarsalctl_as(
        "tarsal-t-tech",
        a,
        &["service", "set", "jet_pump", "power=20"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(tarsalctl_as("tarsal-t-tech", a, &["service", "leave"]).0, 0);
    // Properties are read-only for everyone: the bus refuses Set by name.
    let set = Command::new("setpriv")
        .args([
            "--reuid",
            "tarsal-t-tech",
            "--regid",
            "tarsal-t-tech",
            "--init-groups",
        ])
        .arg("busctl")
        .arg(format!("--address={a}"))
        .args([
            "set-property",
            tarsal_dbus::NAME,
            tarsal_dbus::PATH,
            tarsal_dbus::INTERFACE,
            "Intensity",
            "y",
            "5",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&set.stderr);
    assert!(!set.status.success(), "{err}");
    assert!(
        err.contains("Access denied") || err.contains("AccessDenied"),
        "{err}"
    );
    assert_eq!(
        tarsalctl_as("tarsal-t-outsider", a, &["service", "leave"]).0,
        5
    );
}

/// `busctl` (systemd's client, not ours) against the service, as an operator would.
fn busctl(bus: &TestBus, args: &[&str]) -> String {
    let out = Command::new("busctl")
        .arg(format!("--address={}", bus.address))
        .args(args)
        .output()
        .expect("busctl runs (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "busctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "current_thread")]
async fn busctl_introspects_starts_a_session_and_stops_it_in_an_emergency() {
    let bus = TestBus::session();
    let _service = Service::start(&bus, None, &["--speed", "10"]);
    let (connection, chair) = connect(&bus).await;
    let at = [
        "org.tarsal.Chair1",
        "/org/tarsal/Chair1",
        "org.tarsal.Chair1",
    ];

    let introspection = busctl(&bus, &["introspect", at[0], at[1]]);
    for member in [".StartProgram", ".EmergencyStop", ".State", ".FaultRaised"] {
        assert!(
            introspection.contains(member),
            "{member} missing:\n{introspection}"
        );
    }
    let started = busctl(
        &bus,
        &[
            &["call"],
            &at[..],
            &[
                "StartProgram",
                "sa{sv}",
                "classic",
                "1",
                "contraindications-confirmed",
                "b",
                "true",
            ],
        ]
        .concat(),
    );
    assert!(started.starts_with("t "), "{started}");
    let state = |bus: &TestBus| busctl(bus, &[&["get-property"], &at[..], &["State"]].concat());
    let deadline = Instant::now() + Duration::from_secs(20);
    while state(&bus).trim() != r#"s "running""# {
        assert!(Instant::now() < deadline, "never running: {}", state(&bus));
        std::thread::sleep(Duration::from_millis(50));
    }

    busctl(&bus, &[&["call"], &at[..], &["EmergencyStop"]].concat());
    assert_eq!(state(&bus).trim(), r#"s "estop""#);
    // Every actuator reports its outputs off. The manager lists the
    // actuators and nothing else: no object without interfaces.
    let manager = zbus::fdo::ObjectManagerProxy::builder(&connection)
        .destination(tarsal_dbus::NAME)
        .path(tarsal_dbus::ACTUATORS_PATH)
        .build()
        .await
        .unwrap();
    let objects = manager.get_managed_objects().await.unwrap();
    for (path, interfaces) in &objects {
        assert!(
            interfaces
                .keys()
                .any(|i| i.as_str() == tarsal_dbus::ACTUATOR_INTERFACE),
            "{path} is listed with {:?}",
            interfaces.keys().collect::<Vec<_>>()
        );
    }
    let paths: Vec<_> = objects.into_keys().collect();
    assert_eq!(paths.len(), 10, "{paths:?}");
    let off = |v: &zbus::zvariant::OwnedVariant| {
        f64::try_from(v)
            .map(|x| x == 0.0)
            .ok()
            .or_else(|| bool::try_from(v).map(|b| !b).ok())
            .or_else(|| v.downcast_ref::<&str>().map(|s| s == "still").ok())
            .unwrap_or_else(|| panic!("unexpected output value {v:?}"))
    };
    for path in paths {
        let actuator = ActuatorProxy::builder(&connection)
            .path(path.clone())
            .build()
            .await
            .unwrap();
        until(&format!("{path} off"), Duration::from_secs(5), async || {
            actuator.output().await.unwrap().values().all(off)
        })
        .await;
    }
    assert_eq!(chair.emergency_stop_source().await.unwrap(), "local");
}

#[tokio::test(flavor = "current_thread")]
async fn a_technicians_bad_value_is_refused_by_name_and_range_and_changes_nothing() {
    let bus = TestBus::session();
    let _service = Service::start(&bus, None, &["--speed", "20"]);
    let (connection, chair) = connect(&bus).await;
    let service = ServiceProxy::new(&connection).await.unwrap();
    let foot = ActuatorProxy::builder(&connection)
        .path("/org/tarsal/Chair1/actuators/foot_roller_left")
        .build()
        .await
        .unwrap();
    let pad = ActuatorProxy::builder(&connection)
        .path("/org/tarsal/Chair1/actuators/heater_sole_pad")
        .build()
        .await
        .unwrap();
    service.enter_service_mode().await.unwrap();
    state_is(&chair, "service").await;

    let (name, message) = refused(
        foot.set(HashMap::from([("position", Variant::from(-20.0))]))
            .await,
    );
    assert_eq!(name, "InvalidValue");
    assert!(message.contains("`position` = -20"), "{message}");
    assert!(message.contains("0–100 %"), "{message}");
    let (name, message) = refused(
        pad.set(HashMap::from([("setpoint", Variant::from("hot"))]))
            .await,
    );
    assert_eq!(name, "InvalidValue");
    assert!(message.contains("must be a number"), "{message}");
    assert!(message.contains("`s`"), "the type it got: {message}");
    let (name, message) = refused(
        pad.set(HashMap::from([("colour", Variant::from(1.0))]))
            .await,
    );
    assert_eq!(name, "InvalidValue");
    assert!(message.contains("`colour` is not a setting"), "{message}");

    // Nothing latched, still in service mode, no program blamed.
    assert_eq!(chair.state().await.unwrap(), "service");
    assert!(chair.faults().await.unwrap().is_empty());
    let faults = chair.recent_events(50, "fault.").await.unwrap();
    assert!(faults.is_empty(), "{faults:?}");

    // What a technician does is logged in words, not as program code.
    pad.set(HashMap::from([("setpoint", Variant::from(38.0))]))
        .await
        .unwrap();
    let commands = chair.recent_events(5, "service.command").await.unwrap();
    let text = &commands[0].message;
    assert!(text.contains("sole heat pad set to 38.0 °C"), "{text}");
    assert!(!text.contains('{') && !text.contains("Some("), "{text}");
    service.leave_service_mode().await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_huge_argument_is_not_echoed_back_whole() {
    let bus = TestBus::session();
    let _service = Service::start(&bus, None, &["--speed", "20"]);
    let (_connection, chair) = connect(&bus).await;
    let huge = "x".repeat(4 << 20);
    for result in [
        chair.describe_program(&huge).await.map(|_| ()),
        chair
            .start_program(
                "classic",
                HashMap::from([(huge.as_str(), Variant::from(1))]),
            )
            .await
            .map(|_| ()),
        chair
            .start_program(
                "reflexology",
                HashMap::from([
                    ("contraindications-confirmed", Variant::from(true)),
                    ("mode", Variant::from(huge.as_str())),
                ]),
            )
            .await
            .map(|_| ()),
        chair.confirm_staff_step(&huge).await,
    ] {
        let (name, message) = refused(result);
        assert!(!name.is_empty());
        assert!(message.len() < 2048, "{name}: {} bytes", message.len());
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_hostile_programs_directory_neither_hangs_nor_wedges_the_service() {
    let hostile =
        |name: &str| support::plugins_dir(Some("hostile")).join(format!("hostile-{name}.wasm"));
    let dir = support::scratch("hostile-programs");
    let cache = support::scratch("hostile-programs-cache");
    // The bundled classic with its manifest, and an "update" claiming its id.
    for file in ["classic.wasm", "bundle.toml"] {
        std::fs::copy(support::plugins_dir(None).join(file), dir.join(file)).unwrap();
    }
    std::fs::copy(hostile("impostor"), dir.join("00-classic-update.wasm")).unwrap();
    // A FIFO (a blocking open would hang), a link to an endless device,
    // plugins that spin or flood in `describe`, junk, and one id twice.
    let fifo = Command::new("mkfifo")
        .arg(dir.join("fifo.wasm"))
        .status()
        .unwrap();
    assert!(fifo.success());
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.wasm")).unwrap();
    for name in ["describe-spin", "describe-log-flood", "dirty-describe"] {
        std::fs::copy(hostile(name), dir.join(format!("{name}.wasm"))).unwrap();
    }
    std::fs::write(dir.join("junk.wasm"), b"MZ not a plugin").unwrap();
    std::fs::copy(hostile("trap"), dir.join("trap-a.wasm")).unwrap();
    std::fs::copy(hostile("trap"), dir.join("trap-b.wasm")).unwrap();

    let bus = TestBus::session();
    let service = Service::launch_with(
        &dir,
        &cache,
        None,
        &["--bus-address", bus.address.as_str(), "--speed", "10"],
        "serving on D-Bus",
    );
    let (_connection, chair) = connect(&bus).await;
    let ids: Vec<String> = chair
        .list_programs()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert!(ids.contains(&"classic".to_owned()), "{ids:?}");
    assert!(!ids.contains(&"trap".to_owned()), "{ids:?}");
    let problems = chair.program_problems().await.unwrap();
    let reason = |file: &str| {
        problems
            .iter()
            .find(|(f, _)| f.ends_with(file))
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("no problem for {file}: {problems:?}"))
    };
    assert!(reason("fifo.wasm").contains("named pipe"));
    assert!(reason("zero.wasm").contains("character device"));
    assert!(reason("describe-spin.wasm").contains("describing itself failed"));
    assert!(reason("describe-log-flood.wasm").contains("describing itself failed"));
    assert!(reason("dirty-describe.wasm").contains("control character"));
    assert!(reason("junk.wasm").contains("not a WebAssembly file"));
    assert!(reason("trap-a.wasm").contains("claimed by 2 files"));
    assert!(reason("00-classic-update.wasm").contains("shipped with Tarsal"));
    assert_eq!(problems.len(), 9, "{problems:?}");
    // Staff and operators learn of it too: one event per file.
    let refused_events = chair.recent_events(50, "program.refused").await.unwrap();
    assert_eq!(refused_events.len(), 9, "{refused_events:?}");
    // Staff starting "Classic massage" get the shipped program.
    let described = chair.describe_program("classic").await.unwrap();
    assert!(!described.contains("Hostile"), "{described}");
    assert!(refused_events.iter().all(|e| !e.message.contains('\n')));

    // A reload finishes (once more), reports nothing twice, and the compile
    // cache keeps only what loaded.
    service.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(60);
    while service.logged_times("programs ready") < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        service.logged_times("programs ready"),
        2,
        "{}",
        service.log_text()
    );
    assert_eq!(
        chair
            .recent_events(50, "program.refused")
            .await
            .unwrap()
            .len(),
        9
    );
    let cached: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(cached.len(), 1, "only classic is cached: {cached:?}");

    // And it stops when asked.
    let mut service = service;
    assert!(service.stop().success(), "{}", service.log_text());
}

#[tokio::test(flavor = "current_thread")]
async fn while_the_loop_is_stuck_clients_see_a_fault_an_emergency_stop_answers_and_sigterm_ends_it()
{
    let bus = TestBus::session();
    let mut service = Service::start(&bus, None, &["--speed", "1"]);
    let (connection, chair) = connect(&bus).await;
    let simulator = SimulatorProxy::new(&connection).await.unwrap();
    // The control loop's thread hangs in a hardware read for 30 s, as with
    // a wedged driver; everything below happens well inside that time.
    let hang = Duration::from_secs(30);
    simulator
        .inject_fault(r#"{"fault":"io_hang","seconds":30}"#)
        .await
        .unwrap();
    let hung_at = Instant::now();
    state_is(&chair, "fault").await;
    let faults = chair.faults().await.unwrap();
    assert!(
        faults.iter().any(|f| f.code == "fault.loop_overrun"),
        "{faults:?}"
    );
    // An emergency stop is answered (power was cut by the watchdog, and the
    // stop cuts it again from the caller's side); other calls say the loop
    // is not answering instead of hanging.
    chair.emergency_stop().await.unwrap();
    let (name, message) = refused(chair.stop().await);
    assert_eq!(name, "NotResponding", "{message}");
    assert!(
        hung_at.elapsed() < hang,
        "all that happened while the loop was stuck"
    );
    // SIGTERM ends the process although the loop cannot wind down.
    let status = service.stop();
    assert!(
        hung_at.elapsed() < hang,
        "tarsald waited for the stuck loop"
    );
    assert_eq!(status.code(), Some(1), "{}", service.log_text());
    assert!(
        service.logged("did not stop in time"),
        "{}",
        service.log_text()
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_last_session_is_still_known_after_a_restart() {
    let bus = TestBus::session();
    let dir = support::scratch("restart");
    let db = dir.join("tarsal.db");
    let mut service = Service::start_on_db(&bus, &db, &["--speed", "20"]);
    let (_connection, chair) = connect(&bus).await;
    let id = chair.start_program("demo", HashMap::new()).await.unwrap();
    state_is(&chair, "running").await;
    // SIGTERM mid-session: the session is interrupted, not "stopped" by staff.
    assert!(service.stop().success());
    drop(service);
    let _service = Service::start_on_db(&bus, &db, &["--speed", "20"]);
    let (_connection, chair) = connect(&bus).await;
    assert_eq!(
        chair.last_session().await.unwrap(),
        (id, "interrupted".to_owned())
    );
}
