//! `a{sv}` from D-Bus callers into the engine's terms.

use crate::ChairError;
use std::collections::HashMap;
use tarsal_core::session::{OptionValue, SessionOptions};
use tarsal_core::units::Intensity;
use zbus::OwnedVariant;

/// A variant as an option value: a boolean, an integer of any width, or text.
pub(crate) fn value(v: &OwnedVariant) -> Option<OptionValue> {
    if let Ok(b) = bool::try_from(v) {
        return Some(OptionValue::Bool(b));
    }
    let int = i64::try_from(v)
        .ok()
        .or_else(|| i32::try_from(v).ok().map(i64::from))
        .or_else(|| u32::try_from(v).ok().map(i64::from))
        .or_else(|| i16::try_from(v).ok().map(i64::from))
        .or_else(|| u16::try_from(v).ok().map(i64::from))
        .or_else(|| u8::try_from(v).ok().map(i64::from))
        .or_else(|| u64::try_from(v).ok().and_then(|x| i64::try_from(x).ok()));
    if let Some(i) = int {
        return Some(OptionValue::Int(i));
    }
    v.downcast_ref::<&str>()
        .ok()
        .map(|s| OptionValue::Text(s.to_owned()))
}

/// A variant as a number (any integer width or a double).
pub(crate) fn number(v: &OwnedVariant) -> Option<f64> {
    f64::try_from(v).ok().or_else(|| match value(v)? {
        OptionValue::Int(i) => Some(i as f64),
        _ => None,
    })
}

/// Session options from `StartProgram`'s dictionary, and whether staff
/// confirmed the contraindications.
pub(crate) fn session_options(
    map: &HashMap<String, OwnedVariant>,
) -> Result<(SessionOptions, bool), ChairError> {
    let mut options = SessionOptions::default();
    let mut confirmed = false;
    let bad = |key: &str, allowed: &str| {
        ChairError::InvalidOption(format!(
            "option `{}`: the value is not allowed; allowed: {allowed}",
            tarsal_core::text::echo(key)
        ))
    };
    for (key, v) in map {
        let parsed = value(v).ok_or_else(|| bad(key, "a boolean, an integer or text"))?;
        match key.as_str() {
            "intensity" => {
                options.intensity = match parsed {
                    OptionValue::Int(i) => u8::try_from(i).ok().and_then(Intensity::new),
                    _ => None,
                }
                .ok_or_else(|| bad(key, "an integer 1–5"))?;
            }
            "heat" | "bath" | "contraindications-confirmed" => {
                let OptionValue::Bool(b) = parsed else {
                    return Err(bad(key, "true or false"));
                };
                match key.as_str() {
                    "heat" => options.heat = b,
                    "bath" => options.bath = b,
                    _ => confirmed = b,
                }
            }
            _ => {
                options.values.insert(key.clone(), parsed);
            }
        }
    }
    Ok((options, confirmed))
}
