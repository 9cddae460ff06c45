//! Commands from operators: `cmd/<verb>` with a JSON payload, parsed here
//! into what the chair should do, or a refusal that names what was wrong.

use crate::payload::ResponsePayload;
use serde::Deserialize;
use std::collections::BTreeMap;
use tarsal_core::session::{OptionValue, SessionOptions};
use tarsal_core::units::Intensity;

/// What an operator asked for.
#[derive(Clone, Debug, PartialEq)]
pub enum RemoteCommand {
    Stop,
    EmergencyStop,
    Reset,
    Start {
        program: String,
        options: SessionOptions,
        contraindications_confirmed: bool,
    },
}

/// Why a command was not even tried.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CommandError {
    #[error("unknown command `{0}`; commands: stop, estop, reset, start")]
    UnknownCommand(String),
    #[error("{0}")]
    Malformed(String),
    #[error("remote start is turned off for this chair (mqtt.remote_start in tarsald.toml)")]
    RemoteStartOff,
}

impl CommandError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownCommand(_) => "unknown_command",
            Self::Malformed(_) => "malformed",
            Self::RemoteStartOff => "not_allowed",
        }
    }

    pub fn response(&self, verb: &str) -> ResponsePayload {
        ResponsePayload::error(verb, self.code(), self.to_string())
    }
}

/// `start`'s payload.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartPayload {
    program: String,
    intensity: Option<u8>,
    heat: Option<bool>,
    bath: Option<bool>,
    #[serde(default)]
    contraindications_confirmed: bool,
    #[serde(default)]
    options: BTreeMap<String, serde_json::Value>,
}

/// Parses a command. `stop`, `estop` and `reset` take an empty payload or
/// a JSON object (ignored); `start` needs `{"program": …}`.
pub fn parse(
    verb: &str,
    payload: &[u8],
    remote_start: bool,
) -> Result<RemoteCommand, CommandError> {
    let text = std::str::from_utf8(payload)
        .map_err(|_| CommandError::Malformed("the payload is not UTF-8 text".into()))?
        .trim();
    let json = |what: &str| -> Result<serde_json::Value, CommandError> {
        serde_json::from_str(text)
            .map_err(|e| CommandError::Malformed(format!("the payload is not {what}: {e}")))
    };
    match verb {
        "stop" | "estop" | "reset" => {
            if !text.is_empty() && !json("a JSON object")?.is_object() {
                return Err(CommandError::Malformed(
                    "the payload must be empty or a JSON object".into(),
                ));
            }
            Ok(match verb {
                "stop" => RemoteCommand::Stop,
                "estop" => RemoteCommand::EmergencyStop,
                _ => RemoteCommand::Reset,
            })
        }
        "start" => {
            if !remote_start {
                return Err(CommandError::RemoteStartOff);
            }
            if text.is_empty() {
                return Err(CommandError::Malformed(
                    r#"start needs a JSON object such as {"program": "classic", "intensity": 3, "contraindications_confirmed": true}"#.into(),
                ));
            }
            let p: StartPayload = serde_json::from_str(text)
                .map_err(|e| CommandError::Malformed(format!("start: {e}")))?;
            let mut options = SessionOptions::default();
            if let Some(i) = p.intensity {
                options.intensity = Intensity::new(i).ok_or_else(|| {
                    CommandError::Malformed(format!(
                        "start: intensity {i} is not allowed; allowed: 1–5"
                    ))
                })?;
            }
            options.heat = p.heat.unwrap_or(true);
            options.bath = p.bath.unwrap_or(true);
            for (key, value) in p.options {
                let v = match &value {
                    serde_json::Value::Bool(b) => OptionValue::Bool(*b),
                    serde_json::Value::Number(n) if n.is_i64() => {
                        OptionValue::Int(n.as_i64().unwrap_or_default())
                    }
                    serde_json::Value::String(s) => OptionValue::Text(s.clone()),
                    other => {
                        return Err(CommandError::Malformed(format!(
                            "start: option `{key}` is {other}; options are booleans, whole numbers or text"
                        )));
                    }
                };
                options.values.insert(key, v);
            }
            Ok(RemoteCommand::Start {
                program: p.program,
                options,
                contraindications_confirmed: p.contraindications_confirmed,
            })
        }
        other => Err(CommandError::UnknownCommand(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_commands_take_nothing_or_an_object() {
        assert_eq!(parse("stop", b"", false), Ok(RemoteCommand::Stop));
        assert_eq!(
            parse("estop", b"{}", false),
            Ok(RemoteCommand::EmergencyStop)
        );
        assert_eq!(
            parse("reset", b" {\"by\":\"ops\"} ", false),
            Ok(RemoteCommand::Reset)
        );
        for bad in [&b"[1]"[..], b"nonsense", b"\xff\xfe"] {
            let e = parse("stop", bad, false).unwrap_err();
            assert_eq!(e.code(), "malformed", "{e}");
        }
        assert_eq!(
            parse("reboot", b"", true).unwrap_err().code(),
            "unknown_command"
        );
    }

    #[test]
    fn start_only_when_allowed_and_well_formed() {
        let ok = br#"{"program":"classic","intensity":4,"heat":false,"contraindications_confirmed":true,"options":{"minutes":10}}"#;
        assert_eq!(parse("start", ok, false).unwrap_err().code(), "not_allowed");
        let RemoteCommand::Start {
            program,
            options,
            contraindications_confirmed,
        } = parse("start", ok, true).unwrap()
        else {
            panic!("not a start");
        };
        assert_eq!(program, "classic");
        assert_eq!(options.intensity.level(), 4);
        assert!(!options.heat && options.bath && contraindications_confirmed);
        assert_eq!(options.values["minutes"], OptionValue::Int(10));
        for (bad, needle) in [
            (&br#"{"intensity":3}"#[..], "program"),
            (br#"{"program":"classic","intensity":9}"#, "intensity 9"),
            (br#"{"program":"classic","speed":2}"#, "speed"),
            (
                br#"{"program":"classic","options":{"minutes":1.5}}"#,
                "minutes",
            ),
            (b"", "program"),
        ] {
            let e = parse("start", bad, true).unwrap_err();
            assert_eq!(e.code(), "malformed");
            assert!(e.to_string().contains(needle), "{e}");
        }
    }
}
