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

#[test]
fn events_conform() {
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
    assert_conforms("response", &serde_json::to_value(e).unwrap());
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
