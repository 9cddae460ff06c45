//! MQTT against a real Mosquitto and a real `tarsald` on a simulated chair:
//! every topic and its retained values, commands and their responses,
//! malformed commands, the last will, no event lost across a broker restart,
//! the ACL from deploy/mosquitto/, and TLS.

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::broker::{Broker, Client};
use support::bus::{Service, TestBus};
use tarsal_dbus::client::Chair1Proxy;

const SECONDS_10: Duration = Duration::from_secs(10);

/// A config file for a chair on `broker_url` with `extra` lines in `[mqtt]`.
fn config(dir: &Path, broker_url: &str, chair: &str, extra: &str) -> PathBuf {
    let file = dir.join(format!("{chair}.toml"));
    std::fs::write(
        &file,
        format!("[mqtt]\nbroker = \"{broker_url}\"\nchair_id = \"{chair}\"\ntelemetry_interval_ms = 200\n{extra}\n"),
    )
    .unwrap();
    file
}

/// `tarsald` with MQTT (and no D-Bus unless `bus` is given), once connected.
fn chair(broker: &Broker, chair: &str, extra: &str, bus: Option<&TestBus>) -> Service {
    let file = config(&broker.dir, &broker.url(), chair, extra);
    let file = file.display().to_string();
    let mut args = vec!["--config", file.as_str(), "--speed", "20"];
    match bus {
        Some(bus) => args.extend(["--bus-address", bus.address.as_str()]),
        None => args.extend(["--bus", "none"]),
    }
    Service::launch(None, &args, "MQTT: connected")
}

fn state_is(want: &'static str) -> impl FnMut(&support::broker::Message) -> bool {
    move |m| m.topic.ends_with("/state") && m.json()["state"] == want
}

#[tokio::test(flavor = "current_thread")]
async fn a_chair_shows_on_every_topic_and_obeys_start_and_stop() {
    let broker = Broker::start();
    let mut ops = Client::connect(broker.port, "ops", &["tarsal/#", "homeassistant/#"]).await;
    let _chair = chair(&broker, "t1", "remote_start = true", None);

    ops.wait_for("online", SECONDS_10, |m| {
        m.topic == "tarsal/t1/availability" && m.text() == "online"
    })
    .await;
    ops.wait_for("state idle", SECONDS_10, state_is("idle"))
        .await;
    let t = ops
        .wait_for("telemetry", SECONDS_10, |m| {
            m.topic == "tarsal/t1/telemetry"
        })
        .await
        .json();
    assert!(t["water_temperature_c"].is_number(), "{t}");
    assert!(
        t["outputs"]["foot_rollers"]["left"]["pressure_pct"].is_number(),
        "{t}"
    );
    // Published at connect, and again when the programs have loaded; the
    // start select lists the programs that can start from afar (no
    // contraindications to confirm at the chair).
    let discovery = ops
        .wait_for("discovery listing the programs", SECONDS_10, |m| {
            m.topic == "homeassistant/device/tarsal_t1/config"
                && m.json()["cmps"]["start_program"]["options"]
                    .as_array()
                    .is_some_and(|o| o.iter().any(|p| p == "sanitize"))
        })
        .await;
    let d = discovery.json();
    assert_eq!(d["availability_topic"], "tarsal/t1/availability");
    assert_eq!(d["cmps"]["start_program"]["p"], "select");
    let options = d["cmps"]["start_program"]["options"].as_array().unwrap();
    assert!(
        !options.iter().any(|p| p == "classic"),
        "classic has contraindications to confirm at the chair: {options:?}"
    );
    for key in ["fault", "emergency_stop_latched", "reset"] {
        assert!(d["cmps"].get(key).is_some(), "{key}");
    }

    let started = ops
        .command("t1", "start", r#"{"program":"classic","intensity":2,"contraindications_confirmed":true,"options":{"minutes":10}}"#)
        .await;
    assert_eq!(started["ok"], true, "{started}");
    let session = started["session"].as_u64().expect("a session id");
    let running = ops
        .wait_for("state running", SECONDS_10, state_is("running"))
        .await
        .json();
    assert_eq!(running["session"]["program"], "classic");
    assert_eq!(running["session"]["id"], session);
    assert_eq!(running["session"]["intensity"], 2);
    let event = ops
        .wait_for("session.started", SECONDS_10, |m| {
            m.topic == "tarsal/t1/events" && m.json()["code"] == "session.started"
        })
        .await
        .json();
    assert!(!event["id"].as_str().unwrap().is_empty());
    assert!(event["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(event["session"], session);

    let stopped = ops.command("t1", "stop", "").await;
    assert_eq!(stopped["ok"], true, "{stopped}");
    ops.wait_for("session.stopped", Duration::from_secs(30), |m| {
        m.topic == "tarsal/t1/events" && m.json()["code"] == "session.stopped"
    })
    .await;
    ops.wait_for("idle again", Duration::from_secs(30), |m| {
        m.topic == "tarsal/t1/state"
            && m.json()["state"] == "idle"
            && m.json()["last_session"]["outcome"] == "stopped"
    })
    .await;

    // Someone who comes later gets the retained availability, state and discovery.
    let mut late = Client::connect(
        broker.port,
        "late",
        &[
            "tarsal/t1/availability",
            "tarsal/t1/state",
            "homeassistant/#",
        ],
    )
    .await;
    for topic in [
        "tarsal/t1/availability",
        "tarsal/t1/state",
        "homeassistant/device/tarsal_t1/config",
    ] {
        let m = late.wait_for(topic, SECONDS_10, |m| m.topic == topic).await;
        assert!(m.retain, "{topic} is retained");
    }
    // Events carry unique ids.
    let ids: Vec<String> = ops
        .seen
        .iter()
        .filter(|m| m.topic == "tarsal/t1/events")
        .map(|m| m.json()["id"].as_str().unwrap().to_owned())
        .collect();
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn malformed_and_refused_commands_get_error_responses_and_the_chair_carries_on() {
    let broker = Broker::start();
    let mut ops = Client::connect(broker.port, "ops", &["tarsal/#"]).await;
    let _chair = chair(&broker, "t2", "remote_start = true", None);
    ops.wait_for("state idle", SECONDS_10, state_is("idle"))
        .await;

    for (verb, payload, code) in [
        ("stop", "nonsense", "malformed"),
        ("stop", "[1, 2]", "malformed"),
        ("reboot", "", "unknown_command"),
        ("start", "", "malformed"),
        (
            "start",
            r#"{"program":"classic","intensity":9}"#,
            "malformed",
        ),
        (
            "start",
            r#"{"program":"classic","turbo":true}"#,
            "malformed",
        ),
        (
            "start",
            r#"{"program":"no-such-program"}"#,
            "UnknownProgram",
        ),
        (
            "start",
            r#"{"program":"classic"}"#,
            "ContraindicationsNotConfirmed",
        ),
        (
            "start",
            r#"{"program":"classic","contraindications_confirmed":true,"options":{"minutes":999}}"#,
            "InvalidOption",
        ),
        ("stop", "{}", "NotRunning"),
        ("reset", "", "NothingToReset"),
    ] {
        let r = ops.command("t2", verb, payload).await;
        assert_eq!(r["ok"], false, "{verb} {payload}: {r}");
        assert_eq!(r["command"], verb);
        assert_eq!(r["error"]["code"], code, "{verb} {payload}: {r}");
        assert!(!r["error"]["message"].as_str().unwrap().is_empty());
    }
    // Binary garbage.
    ops.publish("tarsal/t2/cmd/estop", vec![0xff, 0xfe, 0x00], false)
        .await;
    // Without a response topic (an MQTT 3 client), the answer goes to responses.
    let r = ops
        .wait_for("the fallback response", SECONDS_10, |m| {
            m.topic == "tarsal/t2/responses"
        })
        .await
        .json();
    assert_eq!(r["error"]["code"], "malformed", "{r}");

    // A command cannot make the chair publish on its other topics: it
    // answers only under its responses topic.
    for hostile in [
        "tarsal/t2/state",
        "tarsal/t2/events",
        "tarsal/t2/availability",
        "homeassistant/device/tarsal_t2/config",
        "tarsal/t3/responses/x",
    ] {
        let r = ops
            .command_via("t2", "stop", "{}", hostile, "tarsal/t2/responses")
            .await;
        assert_eq!(r["error"]["code"], "NotRunning", "{hostile}: {r}");
    }
    let seen = ops.drain(Duration::from_millis(300)).await;
    for m in seen {
        if m.topic == "tarsal/t2/state" || m.topic == "tarsal/t2/availability" {
            assert!(
                !m.text().contains("\"command\""),
                "a response landed on {}: {}",
                m.topic,
                m.text()
            );
        }
    }

    // Still idle and online, and a real stop still works.
    assert_eq!(ops.command("t2", "estop", "{}").await["ok"], true);
    ops.wait_for("estop", SECONDS_10, |m| {
        m.topic == "tarsal/t2/state"
            && m.json()["state"] == "estop"
            && m.json()["emergency_stop"] == "remote"
    })
    .await;
    assert_eq!(ops.command("t2", "reset", "").await["ok"], true);
    ops.wait_for("idle after reset", SECONDS_10, |m| {
        m.topic == "tarsal/t2/state"
            && m.json()["state"] == "idle"
            && m.json()["emergency_stop"].is_null()
    })
    .await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_last_will_says_offline_when_the_service_dies_and_remote_start_is_off_by_default() {
    let broker = Broker::start();
    let mut ops = Client::connect(broker.port, "ops", &["tarsal/#", "homeassistant/#"]).await;
    let mut service = chair(&broker, "t3", "", None);
    ops.wait_for("online", SECONDS_10, |m| {
        m.topic == "tarsal/t3/availability" && m.text() == "online"
    })
    .await;
    let r = ops.command("t3", "start", r#"{"program":"classic"}"#).await;
    assert_eq!(r["error"]["code"], "not_allowed", "{r}");
    let d = ops
        .wait_for("discovery", SECONDS_10, |m| {
            m.topic == "homeassistant/device/tarsal_t3/config"
        })
        .await
        .json();
    assert!(
        d["cmps"].get("start_program").is_none(),
        "no program select without remote start"
    );

    // Home Assistant restarting makes the chair announce itself again.
    ops.seen.clear();
    ops.publish("homeassistant/status", "online", false).await;
    ops.wait_for("discovery again", SECONDS_10, |m| {
        m.topic == "homeassistant/device/tarsal_t3/config"
    })
    .await;

    service.kill();
    ops.wait_for("offline (the will)", SECONDS_10, |m| {
        m.topic == "tarsal/t3/availability" && m.text() == "offline"
    })
    .await;
    let mut late = Client::connect(broker.port, "late", &["tarsal/t3/availability"]).await;
    let m = late
        .wait_for("retained offline", SECONDS_10, |m| {
            m.topic == "tarsal/t3/availability"
        })
        .await;
    assert_eq!(m.text(), "offline");
    assert!(m.retain);
}

#[tokio::test(flavor = "current_thread")]
async fn a_clean_shutdown_says_offline_too() {
    let broker = Broker::start();
    let mut ops = Client::connect(broker.port, "ops", &["tarsal/t7/availability"]).await;
    let mut service = chair(&broker, "t7", "", None);
    ops.wait_for("online", SECONDS_10, |m| m.text() == "online")
        .await;
    assert!(service.stop().success());
    ops.wait_for("offline", SECONDS_10, |m| m.text() == "offline")
        .await;
}

#[tokio::test(flavor = "current_thread")]
async fn no_event_is_lost_while_the_broker_is_away() {
    let mut broker = Broker::start_with(|dir, _| {
        format!(
            "allow_anonymous true\npersistence true\npersistence_location {}/\n",
            dir.display()
        )
    });
    // The operator keeps a session on the broker, so it misses nothing either.
    let mut ops = Client::connect_as(
        broker.port,
        "ops-persistent",
        None,
        &["tarsal/t4/events"],
        false,
    )
    .await;
    let bus = TestBus::session();
    let service = chair(&broker, "t4", "", Some(&bus));
    let connection = zbus::connection::Builder::address(bus.address.as_str())
        .build()
        .await
        .unwrap();
    let local = Chair1Proxy::new(&connection).await.unwrap();

    broker.stop();
    // Events while the broker is away: a session, a pause, an emergency stop, a reset.
    local.start_program("demo", HashMap::new()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    local.pause().await.unwrap();
    local.resume().await.unwrap();
    local.emergency_stop().await.unwrap();
    local.reset_fault().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    broker.restart();

    // Every event in the chair's database arrives, in order, each once.
    let store = tarsal_store::Store::open_read_only(&service.db).unwrap();
    let recorded: Vec<String> = store
        .events(&tarsal_store::EventQuery::default())
        .unwrap()
        .into_iter()
        .map(|e| e.uid)
        .collect();
    assert!(recorded.len() >= 6, "{recorded:?}");
    let last = recorded.last().unwrap().clone();
    ops.wait_for("the last event", Duration::from_secs(60), |m| {
        m.json()["id"] == last.as_str()
    })
    .await;
    let mut received: Vec<String> = Vec::new();
    for m in &ops.seen {
        let id = m.json()["id"].as_str().unwrap().to_owned();
        if !received.contains(&id) {
            received.push(id);
        }
    }
    assert_eq!(received, recorded);
    assert!(
        service.logged("MQTT: lost the broker"),
        "the chair never saw the broker go"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_acl_keeps_each_chair_to_its_own_topics() {
    let acl = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/mosquitto/tarsal.acl");
    let broker = Broker::start_with(|dir, _| {
        let passwd = dir.join("passwd");
        for (i, (user, password)) in [
            ("t5", "chair-secret"),
            ("t6", "other-secret"),
            ("operator", "ops-secret"),
        ]
        .iter()
        .enumerate()
        {
            let mut c = Command::new("mosquitto_passwd");
            if i == 0 {
                c.arg("-c");
            }
            assert!(
                c.args(["-b"])
                    .arg(&passwd)
                    .args([user, password])
                    .status()
                    .unwrap()
                    .success()
            );
        }
        format!(
            "allow_anonymous false\npassword_file {}\nacl_file {}\n",
            passwd.display(),
            acl.display()
        )
    });
    let mut ops = Client::connect_as(
        broker.port,
        "ops",
        Some(("operator", "ops-secret")),
        &["tarsal/#"],
        true,
    )
    .await;
    let _chair = chair(
        &broker,
        "t5",
        "username = \"t5\"\npassword = \"chair-secret\"",
        None,
    );
    ops.wait_for("t5 online", SECONDS_10, |m| {
        m.topic == "tarsal/t5/availability" && m.text() == "online"
    })
    .await;
    // Operators may command; the chair may answer on its own responses topic.
    let r = ops.command("t5", "stop", "").await;
    assert_eq!(r["error"]["code"], "NotRunning", "{r}");

    // Someone with chair t5's credentials cannot write chair t6's topics.
    let mut intruder = Client::connect_as(
        broker.port,
        "t5-intruder",
        Some(("t5", "chair-secret")),
        &[],
        true,
    )
    .await;
    intruder
        .publish("tarsal/t6/state", r#"{"state":"idle"}"#, true)
        .await;
    let reason = tokio::time::timeout(SECONDS_10, intruder.acks.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reason, "NotAuthorized");
    intruder
        .publish("tarsal/t5/note", "its own subtree", false)
        .await;
    let reason = tokio::time::timeout(SECONDS_10, intruder.acks.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reason, "Success");
    let seen = ops.drain(Duration::from_millis(500)).await;
    assert!(
        seen.iter().all(|m| m.topic != "tarsal/t6/state"),
        "the forged state got through"
    );
    // A wrong password is refused outright.
    let refused = tarsald_with_bad_password(&broker);
    assert!(refused.contains("cannot reach the broker"), "{refused}");
}

/// Starts a chair with a wrong password and returns its log after a while.
fn tarsald_with_bad_password(broker: &Broker) -> String {
    let mut service = chair_unconnected(broker, "t6", "username = \"t6\"\npassword = \"wrong\"");
    std::thread::sleep(Duration::from_secs(2));
    service.stop();
    service.log_text()
}

fn chair_unconnected(broker: &Broker, id: &str, extra: &str) -> Service {
    let file = config(&broker.dir, &broker.url(), id, extra);
    let file = file.display().to_string();
    Service::launch(
        None,
        &["--config", file.as_str(), "--bus", "none"],
        "MQTT: connecting",
    )
}

#[tokio::test(flavor = "current_thread")]
async fn chairs_reach_the_broker_over_tls_with_the_salons_ca() {
    let certs = support::scratch("certs");
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(&certs)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for ca in ["ca", "other-ca"] {
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.pem"),
            "-subj",
            &format!("/CN=tarsal test {ca}"),
        ]);
    }
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        certs.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-out",
        "server.pem",
        "-extfile",
        "san.ext",
    ]);

    let tls_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let broker = Broker::start_with(|_, _| {
        format!(
            "allow_anonymous true\nlistener {tls_port} 127.0.0.1\ncafile {0}/ca.pem\ncertfile {0}/server.pem\nkeyfile {0}/server.key\n",
            certs.display()
        )
    });
    let mut ops = Client::connect(broker.port, "ops", &["tarsal/#"]).await;
    let url = format!("mqtts://127.0.0.1:{tls_port}");
    let good = config(
        &broker.dir,
        &url,
        "t8",
        &format!("ca_file = \"{}/ca.pem\"", certs.display()),
    );
    let good = good.display().to_string();
    let _chair = Service::launch(
        None,
        &["--config", &good, "--bus", "none"],
        "MQTT: connected",
    );
    ops.wait_for("online over TLS", SECONDS_10, |m| {
        m.topic == "tarsal/t8/availability" && m.text() == "online"
    })
    .await;

    // A broker whose certificate the chair's CA did not sign is not trusted.
    let bad = config(
        &broker.dir,
        &url,
        "t9",
        &format!("ca_file = \"{}/other-ca.pem\"", certs.display()),
    );
    let bad = bad.display().to_string();
    let mut untrusting = Service::launch(
        None,
        &["--config", &bad, "--bus", "none"],
        "cannot reach the broker",
    );
    untrusting.stop();
    assert!(
        ops.drain(Duration::from_millis(300))
            .await
            .iter()
            .all(|m| m.topic != "tarsal/t9/availability")
    );
    let _ = std::fs::remove_dir_all(&certs);
}

#[test]
fn a_broken_mqtt_config_is_a_clear_error() {
    let dir = support::scratch("mqtt-config");
    for (extra, needle) in [
        ("broker = \"http://broker\"", "mqtt.broker"),
        (
            "broker = \"mqtt://broker\"\nchair_id = \"a/b\"",
            "mqtt.chair_id",
        ),
        ("broker = \"mqtts://broker\"\nchair_id = \"c\"", "ca_file"),
        (
            "broker = \"mqtts://broker\"\nchair_id = \"c\"\nca_file = \"/nonexistent/ca.pem\"",
            "/nonexistent/ca.pem",
        ),
    ] {
        let file = dir.join("t.toml");
        std::fs::write(&file, format!("[mqtt]\n{extra}\n")).unwrap();
        let out = Command::new(support::binary("tarsald"))
            .args(["--sim", "--bus", "none", "--config"])
            .arg(&file)
            .arg("--db")
            .arg(dir.join("t.db"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{extra}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
