//! Home Assistant device discovery: one retained document under
//! `<discovery-prefix>/device/tarsal_<chair-id>/config` that describes the
//! chair as a device with its sensors (faults and a latched emergency stop
//! among them), buttons (stop, emergency stop, reset) and (when remote start
//! is allowed) a program select. Home Assistant reads the values from the
//! chair's own `state` and `telemetry` topics.
//!
//! The select lists only programs that can start from afar: those without
//! contraindications, which need a person at the chair to confirm them.

use crate::settings::Settings;
use crate::topics::Topics;
use serde_json::{Map, Value, json};

/// The discovery document; `program_ids`: the programs that may be started
/// remotely (no contraindications to confirm).
pub fn document(settings: &Settings, topics: &Topics, program_ids: &[String]) -> Value {
    let id = topics.object_id();
    let uid = |component: &str| format!("{id}_{component}");
    let telemetry = topics.telemetry();
    let state = topics.state();
    let mut components = Map::new();
    let mut sensor = |key: &str, name: &str, topic: &str, template: &str, extra: Value| {
        let mut c = json!({
            "p": "sensor",
            "name": name,
            "unique_id": uid(key),
            "state_topic": topic,
            "value_template": template,
        });
        if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
            c.extend(extra.clone());
        }
        components.insert(key.to_owned(), c);
    };
    let temperature = json!({
        "device_class": "temperature",
        "unit_of_measurement": "°C",
        "state_class": "measurement",
        "suggested_display_precision": 1,
    });
    sensor(
        "water_temperature",
        "Water temperature",
        &telemetry,
        "{{ value_json.water_temperature_c }}",
        temperature.clone(),
    );
    sensor(
        "sole_pad_temperature",
        "Sole pad temperature",
        &telemetry,
        "{{ value_json.sole_pad_temperature_c }}",
        temperature.clone(),
    );
    sensor(
        "calf_pad_temperature",
        "Calf pad temperature",
        &telemetry,
        "{{ value_json.calf_pad_temperature_c }}",
        temperature,
    );
    sensor(
        "water_level",
        "Water level",
        &telemetry,
        "{{ value_json.water_level_l }}",
        json!({"device_class": "volume_storage", "unit_of_measurement": "L", "state_class": "measurement"}),
    );
    sensor(
        "state",
        "State",
        &state,
        "{{ value_json.state }}",
        json!({
            "device_class": "enum",
            "options": ["idle", "preparing", "running", "paused", "finishing", "fault", "estop", "service"],
        }),
    );
    sensor(
        "program",
        "Program",
        &state,
        "{{ value_json.session.program_name if value_json.session else 'none' }}",
        json!({}),
    );
    sensor(
        "step",
        "Step",
        &state,
        "{{ value_json.session.step if value_json.session else '' }}",
        json!({}),
    );
    sensor(
        "remaining",
        "Time remaining",
        &state,
        "{{ value_json.session.remaining_s if value_json.session else 0 }}",
        json!({"device_class": "duration", "unit_of_measurement": "s"}),
    );
    sensor(
        "faults",
        "Faults",
        &state,
        "{{ value_json.faults | map(attribute='code') | join(', ') if value_json.faults else 'none' }}",
        json!({}),
    );
    for (key, name, template, class) in [
        (
            "fault",
            "Needs attention",
            "{{ 'ON' if value_json.faults else 'OFF' }}",
            "problem",
        ),
        (
            "emergency_stop_latched",
            "Emergency stop latched",
            "{{ 'ON' if value_json.emergency_stop else 'OFF' }}",
            "safety",
        ),
    ] {
        components.insert(
            key.to_owned(),
            json!({
                "p": "binary_sensor",
                "name": name,
                "unique_id": uid(key),
                "state_topic": state,
                "value_template": template,
                "device_class": class,
            }),
        );
    }
    for (key, name, verb) in [
        ("stop", "Stop", "stop"),
        ("emergency_stop", "Emergency stop", "estop"),
        ("reset", "Acknowledge and reset", "reset"),
    ] {
        components.insert(
            key.to_owned(),
            json!({
                "p": "button",
                "name": name,
                "unique_id": uid(key),
                "command_topic": topics.command(verb),
                "payload_press": "{}",
            }),
        );
    }
    if settings.remote_start && !program_ids.is_empty() {
        components.insert(
            "start_program".to_owned(),
            json!({
                "p": "select",
                "name": "Start program",
                "unique_id": uid("start_program"),
                "command_topic": topics.command("start"),
                "command_template": "{\"program\": \"{{ value }}\"}",
                "options": program_ids,
                "state_topic": state,
                "value_template": "{{ value_json.session.program if value_json.session else None }}",
            }),
        );
    }
    let version = env!("CARGO_PKG_VERSION");
    json!({
        "dev": {
            "ids": [id],
            "name": format!("Pedicure chair {}", settings.chair_id),
            "mf": "Tarsal",
            "mdl": settings.model,
            "sw": version,
        },
        "o": {
            "name": "tarsald",
            "sw": version,
        },
        "cmps": components,
        "availability_topic": topics.availability(),
        "payload_available": "online",
        "payload_not_available": "offline",
        "qos": 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Broker, ChairId};

    fn settings(remote_start: bool) -> Settings {
        let mut s = Settings::new(
            Broker::parse("mqtt://h").unwrap(),
            ChairId::parse("c1").unwrap(),
        );
        s.remote_start = remote_start;
        s
    }

    #[test]
    fn sensors_buttons_and_availability() {
        let s = settings(false);
        let doc = document(&s, &Topics::new(&s), &["classic".into()]);
        let cmps = doc["cmps"].as_object().unwrap();
        for key in [
            "water_temperature",
            "sole_pad_temperature",
            "calf_pad_temperature",
            "water_level",
            "state",
            "program",
            "step",
            "remaining",
            "stop",
            "emergency_stop",
            "reset",
            "fault",
            "emergency_stop_latched",
            "faults",
        ] {
            assert!(cmps.contains_key(key), "{key}");
            assert_eq!(cmps[key]["unique_id"], format!("tarsal_c1_{key}"));
        }
        assert_eq!(
            cmps["emergency_stop"]["command_topic"],
            "tarsal/c1/cmd/estop"
        );
        assert_eq!(cmps["reset"]["command_topic"], "tarsal/c1/cmd/reset");
        assert_eq!(cmps["fault"]["p"], "binary_sensor");
        assert_eq!(cmps["fault"]["device_class"], "problem");
        assert!(
            !cmps.contains_key("start_program"),
            "no select without remote start"
        );
        assert_eq!(doc["availability_topic"], "tarsal/c1/availability");
        assert_eq!(doc["dev"]["ids"][0], "tarsal_c1");
        assert_eq!(doc["o"]["name"], "tarsald");
    }

    #[test]
    fn a_program_select_only_with_remote_start() {
        let s = settings(true);
        let doc = document(&s, &Topics::new(&s), &["classic".into(), "sanitize".into()]);
        assert_eq!(
            doc["cmps"]["start_program"]["options"],
            json!(["classic", "sanitize"])
        );
        assert_eq!(doc["cmps"]["start_program"]["p"], "select");
    }
}
