//! The payloads the adapter publishes agree with the JSON Schemas in
//! docs/schemas/ (the contract operators code against). The checker here
//! covers the keywords those schemas use.

use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tarsal_core::ChairProfile;
use tarsal_core::builtin::BuiltinCatalog;
use tarsal_core::engine::{ChairStatus, Command};
use tarsal_core::event::StopSource;
use tarsal_core::session::{SessionId, SessionOptions};
use tarsal_core::wallclock::UnixMillis;
use tarsal_mqtt::payload::{EventPayload, ResponsePayload, StatePayload, TelemetryPayload};
use tarsal_runtime::Chair;
use tarsal_sim::Simulator;
use tarsal_store::Store;

fn schema(name: &str) -> Value {
    let path = format!(
        "{}/../../docs/schemas/{name}.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Every way `value` breaks `schema`, with the JSON path.
fn check(value: &Value, schema: &Value, root: &Value, path: &str, problems: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let def = r
            .strip_prefix("#/$defs/")
            .and_then(|d| root["$defs"].get(d))
            .expect("a local $ref");
        return check(value, def, root, path, problems);
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let is = |t: &str| match t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "number" => value.is_number(),
            "integer" => value.is_i64() || value.is_u64(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            _ => false,
        };
        if !types.iter().any(|t| is(t)) {
            problems.push(format!("{path}: {value} is not {types:?}"));
            return;
        }
    }
    if let Some(expected) = schema.get("const")
        && value != expected
    {
        problems.push(format!("{path}: {value} is not {expected}"));
    }
    // `allOf` of `if`/`then` pairs: how the event schema gives each code's
    // `data` its own shape.
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        check(value, part, root, path, problems);
    }
    if let (Some(condition), Some(then)) = (schema.get("if"), schema.get("then")) {
        let mut unmet = Vec::new();
        check(value, condition, root, path, &mut unmet);
        if unmet.is_empty() {
            check(value, then, root, path, problems);
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        problems.push(format!("{path}: {value} is not one of {allowed:?}"));
    }
    if let (Some(n), Some(min)) = (
        value.as_f64(),
        schema.get("minimum").and_then(Value::as_f64),
    ) && n < min
    {
        problems.push(format!("{path}: {n} < {min}"));
    }
    if let (Some(n), Some(max)) = (
        value.as_f64(),
        schema.get("maximum").and_then(Value::as_f64),
    ) && n > max
    {
        problems.push(format!("{path}: {n} > {max}"));
    }
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for key in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = key.as_str().unwrap_or_default();
            if !object.contains_key(key) {
                problems.push(format!("{path}: `{key}` is missing"));
            }
        }
        for (key, v) in object {
            let at = format!("{path}.{key}");
            match (
                properties.and_then(|p| p.get(key)),
                schema.get("additionalProperties"),
            ) {
                (Some(s), _) => check(v, s, root, &at, problems),
                (None, Some(Value::Bool(false))) => {
                    problems.push(format!("{at}: not in the schema"))
                }
                (None, Some(s)) if s.is_object() => check(v, s, root, &at, problems),
                _ => {}
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, v) in array.iter().enumerate() {
            check(v, items, root, &format!("{path}[{i}]"), problems);
        }
    }
}

fn assert_conforms(name: &str, value: &Value) {
    let schema = schema(name);
    let mut problems = Vec::new();
    check(value, &schema, &schema, "$", &mut problems);
    assert!(problems.is_empty(), "{name}: {problems:#?}\n{value:#}");
}

fn chair() -> Chair<Simulator> {
    let profile = Arc::new(ChairProfile::standard());
    Chair::new(
        tarsal_core::Engine::new(Arc::clone(&profile)),
        Simulator::new(profile),
        Box::new(BuiltinCatalog::default()),
        SessionId(1),
        Duration::from_millis(10),
    )
}

fn statuses() -> Vec<ChairStatus> {
    let mut c = chair();
    let mut seen = vec![c.engine().status()];
    c.start("demo", SessionOptions::default()).unwrap();
    for _ in 0..2000 {
        c.step();
    }
    seen.push(c.engine().status());
    c.command(Command::EmergencyStop(StopSource::Remote))
        .unwrap();
    c.step();
    seen.push(c.engine().status());
    // A broken level sensor: the reading is NaN (null in JSON), the chair
    // faulted.
    c.hardware()
        .handle()
        .inject(tarsal_sim::InjectedFault::Sensor {
            sensor: tarsal_core::model::SensorId::WaterLevel,
            mode: tarsal_sim::SensorFault::NaN,
        });
    c.step();
    let broken = c.engine().status();
    assert!(broken.sensors.water_level.0.is_nan());
    seen.push(broken);
    seen
}

#[test]
fn state_and_telemetry_conform() {
    for s in statuses() {
        assert_conforms(
            "state",
            &serde_json::to_value(StatePayload::of(&s)).unwrap(),
        );
        let t = TelemetryPayload::of(&s, UnixMillis(1_800_000_000_000));
        assert_conforms("telemetry", &serde_json::to_value(t).unwrap());
    }
}

/// A state and a telemetry message of an idle chair and of one in a
/// session, pinned: the simulated chair is deterministic.
#[test]
fn state_and_telemetry_are_pinned() {
    let statuses = statuses();
    let pick = [&statuses[0], &statuses[1]];
    let state: Vec<Value> = pick
        .iter()
        .map(|s| serde_json::to_value(StatePayload::of(s)).unwrap())
        .collect();
    let telemetry: Vec<Value> = pick
        .iter()
        .map(|s| {
            serde_json::to_value(TelemetryPayload::of(s, UnixMillis(1_800_000_000_000))).unwrap()
        })
        .collect();
    assert_snapshot("state", &Value::Array(state));
    assert_snapshot("telemetry", &Value::Array(telemetry));
}

/// Compares `value` with the pinned example docs/schemas/examples/`name`.json
/// (what operators see, byte for byte); `TARSAL_WRITE_SNAPSHOTS=1` rewrites
/// it after an intended change of the contract.
fn assert_snapshot(name: &str, value: &Value) {
    let path = format!(
        "{}/../../docs/schemas/examples/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = serde_json::to_string_pretty(value).unwrap() + "\n";
    if std::env::var_os("TARSAL_WRITE_SNAPSHOTS").is_some() {
        std::fs::write(&path, text).unwrap();
        return;
    }
    let pinned = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (write it with TARSAL_WRITE_SNAPSHOTS=1)"));
    let pinned: Value = serde_json::from_str(&pinned).unwrap();
    match (value.as_array(), pinned.as_array()) {
        (Some(now), Some(then)) => {
            for (now, then) in now.iter().zip(then) {
                assert_eq!(
                    now, then,
                    "{name}: a payload changed from what operators were told (docs/schemas/examples/{name}.json); \
                     if that is intended, rewrite the example with TARSAL_WRITE_SNAPSHOTS=1 and say so in docs/mqtt.md"
                );
            }
            assert_eq!(now.len(), then.len(), "{name}: payloads added or removed");
        }
        _ => assert_eq!(value, &pinned, "{name}: the payload changed from {path}"),
    }
}

/// The events of `kinds` as the adapter publishes them: through the real
/// store, with fixed ids and times.
fn published(kinds: Vec<tarsal_core::EventKind>) -> Vec<Value> {
    let mut store = Store::open_in_memory().unwrap();
    let records: Vec<_> = kinds
        .into_iter()
        .enumerate()
        .map(|(i, kind)| tarsal_core::event::EventRecord {
            uid: format!("example-{i}"),
            wall: UnixMillis(1_800_000_000_000 + i as i64 * 1000),
            event: tarsal_core::event::Event {
                at: Duration::from_secs(i as u64),
                session: Some(SessionId(7)),
                kind,
            },
        })
        .collect();
    store.record(&records).unwrap();
    store
        .events_after(0, 1000)
        .unwrap()
        .iter()
        .map(|row| serde_json::to_value(EventPayload::from(row)).unwrap())
        .collect()
}

#[test]
fn events_of_a_real_session_conform() {
    let mut c = chair();
    let mut store = Store::open_in_memory().unwrap();
    c.start("demo", SessionOptions::default()).unwrap();
    for _ in 0..500 {
        c.step();
    }
    c.command(Command::EmergencyStop(StopSource::Remote))
        .unwrap();
    let records: Vec<_> = c
        .drain_events()
        .enumerate()
        .map(|(i, event)| tarsal_core::event::EventRecord {
            uid: format!("test-{i}"),
            wall: UnixMillis(1_800_000_000_000 + i as i64),
            event,
        })
        .collect();
    store.record(&records).unwrap();
    let rows = store.events_after(0, 100).unwrap();
    assert!(rows.len() >= 3);
    for row in &rows {
        assert_conforms(
            "event",
            &serde_json::to_value(EventPayload::from(row)).unwrap(),
        );
    }
}

/// Every code the service can emit: its payload is pinned, conforms to the
/// schema's shape for that code, and reads back as typed details.
#[test]
fn every_event_code_is_pinned_and_described_by_the_schema() {
    let payloads = published(tarsal_core::wire::example_of_every_code());
    assert_snapshot("events", &Value::Array(payloads.clone()));
    let schema = schema("event");
    let described: Vec<&str> = schema["allOf"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|rule| rule["if"]["properties"]["code"]["const"].as_str())
        .collect();
    for code in tarsal_core::event::EVENT_CODES {
        assert!(
            described.contains(code),
            "docs/schemas/event.schema.json does not say what `{code}` carries"
        );
    }
    for payload in &payloads {
        assert_conforms("event", payload);
        let typed: EventPayload = serde_json::from_value(payload.clone()).unwrap();
        assert!(typed.details().is_some(), "{payload}");
    }
}

#[test]
fn a_data_field_the_schema_does_not_name_is_caught() {
    let mut payload = published(tarsal_core::wire::example_of_every_code())
        .into_iter()
        .find(|p| p["code"] == "fault.leak_detected")
        .unwrap();
    payload["data"]["wet"] = json!(true);
    let schema = schema("event");
    let mut problems = Vec::new();
    check(&payload, &schema, &schema, "$", &mut problems);
    assert_eq!(problems, vec!["$.data.wet: not in the schema"]);
}

#[test]
fn responses_and_the_start_command_conform() {
    assert_conforms(
        "response",
        &serde_json::to_value(ResponsePayload::ok("start", Some(4))).unwrap(),
    );
    assert_conforms(
        "response",
        &serde_json::to_value(ResponsePayload::ok("stop", None)).unwrap(),
    );
    let e = ResponsePayload::error("stop", "NotRunning", "no session is running");
    assert_conforms("response", &serde_json::to_value(&e).unwrap());
    assert_snapshot(
        "responses",
        &json!([
            ResponsePayload::ok("start", Some(4)),
            ResponsePayload::ok("stop", None),
            e
        ]),
    );
    let start = json!({"program": "classic", "intensity": 3, "heat": false, "contraindications_confirmed": true, "options": {"minutes": 10}});
    assert_conforms("start-command", &start);
    assert!(tarsal_mqtt::command::parse("start", start.to_string().as_bytes(), true).is_ok());
}

#[test]
fn the_checker_finds_what_is_wrong() {
    let mut problems = Vec::new();
    let s = schema("response");
    check(
        &json!({"ok": "yes", "extra": 1}),
        &s,
        &s,
        "$",
        &mut problems,
    );
    assert_eq!(problems.len(), 3, "{problems:?}");
}
