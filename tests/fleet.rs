//! The fleet simulator against a real Mosquitto: every chair its own client
//! and id, each publishing and obeying like a chair, all offline at the end.

mod support;

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::broker::{Broker, Client};

#[tokio::test(flavor = "current_thread")]
async fn a_fleet_of_three_chairs_publishes_obeys_and_leaves() {
    let broker = Broker::start();
    let mut ops = Client::connect(broker.port, "ops", &["tarsal/#"]).await;
    let mut fleet = Command::new(support::binary("tarsal-fleet"))
        .args([
            "run",
            "--broker",
            &broker.url(),
            "--chairs",
            "3",
            "--telemetry-ms",
            "200",
            "--id-prefix",
            "f-",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let ids = ["f-0001", "f-0002", "f-0003"];
    for id in ids {
        let topic = format!("tarsal/{id}/availability");
        ops.wait_for(&topic, Duration::from_secs(20), |m| {
            m.topic == topic && m.text() == "online"
        })
        .await;
        let telemetry = format!("tarsal/{id}/telemetry");
        ops.wait_for(&telemetry, Duration::from_secs(10), |m| {
            m.topic == telemetry
        })
        .await;
    }
    let r = ops.command("f-0002", "stop", "").await;
    assert_eq!(r["command"], "stop", "{r}");
    assert!(r["ok"] == true || r["error"]["code"] == "NotRunning", "{r}");
    // Chairs go into sessions of their own after a short break.
    ops.wait_for("a session somewhere", Duration::from_secs(30), |m| {
        m.topic.ends_with("/state") && m.json()["state"] == "running"
    })
    .await;

    let _ = Command::new("kill")
        .args(["-INT", &fleet.id().to_string()])
        .status();
    let status = tokio::task::spawn_blocking(move || fleet.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
    let offline: HashSet<String> = ops
        .drain(Duration::from_millis(500))
        .await
        .iter()
        .filter(|m| m.topic.ends_with("/availability") && m.text() == "offline")
        .map(|m| m.topic.clone())
        .collect();
    assert_eq!(offline.len(), 3, "{offline:?}");
}
