//! The page, its script, style and translations, compiled into the binary:
//! the panel runs from one file, with nothing to build or install beside it.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The languages the panel speaks, in the order the switch shows them.
pub const LANGUAGES: &[&str] = &["en", "vi"];

const INDEX: &str = include_str!("../web/index.html");
const SCRIPT: &str = include_str!("../web/app.js");
const STYLE: &str = include_str!("../web/app.css");

/// Translation files by language code.
pub fn translation(language: &str) -> Option<&'static str> {
    match language {
        "en" => Some(include_str!("../i18n/en.json")),
        "vi" => Some(include_str!("../i18n/vi.json")),
        _ => None,
    }
}

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(async || asset("text/html; charset=utf-8", INDEX)))
        .route(
            "/app.js",
            get(async || asset("text/javascript; charset=utf-8", SCRIPT)),
        )
        .route(
            "/app.css",
            get(async || asset("text/css; charset=utf-8", STYLE)),
        )
        .route("/i18n/{file}", get(i18n))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    // The panel and the page are one version; no-cache makes the kiosk pick
    // up a new one after an update without clearing anything.
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn i18n(Path(file): Path<String>) -> Response {
    let text = file.strip_suffix(".json").and_then(translation);
    match text {
        Some(text) => asset("application/json; charset=utf-8", text),
        None => (
            StatusCode::NOT_FOUND,
            format!(
                "no translation {file}; the panel has {}",
                LANGUAGES.join(", ")
            ),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use tarsal_core::event::EVENT_CODES;

    fn catalogue(language: &str) -> BTreeMap<String, String> {
        let text = translation(language).unwrap();
        serde_json::from_str(text).unwrap_or_else(|e| panic!("i18n/{language}.json: {e}"))
    }

    fn placeholders(text: &str) -> Vec<&str> {
        let mut names: Vec<&str> = text
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect();
        names.sort_unstable();
        names
    }

    /// Keys the page builds from the chair's values (`"state." + state`).
    const BUILT_KEYS: &[&str] = &[
        "state.idle",
        "state.preparing",
        "state.running",
        "state.paused",
        "state.finishing",
        "state.fault",
        "state.estop",
        "state.service",
        "uses.foot_rollers",
        "uses.calf_units",
        "uses.sole_heat",
        "uses.calf_heat",
        "uses.bath",
        "estop.source.button",
        "estop.source.local",
        "estop.source.remote",
        "estop.source.service",
        "hygiene.manual.fill",
        "hygiene.manual.drain",
        "log.cycle.after-client",
        "log.cycle.end-of-day",
        "language.name.en",
        "language.name.vi",
        "error.Failed",
        "error.BadRequest",
        "error.Unreachable",
        "error.PinRequired",
        "error.PinWrong",
        "error.FaultLatched",
        "error.ResetBlocked",
        "error.SanitationRequired",
        "error.ContraindicationsNotConfirmed",
        "error.NotResponding",
        "error.KeyRequired",
        "error.TooManyPages",
    ];

    #[test]
    fn every_key_the_page_uses_is_in_english() {
        let en = catalogue("en");
        let mut used: Vec<String> = BUILT_KEYS.iter().map(|k| (*k).to_owned()).collect();
        for (source, marker) in [(SCRIPT, "t(\""), (INDEX, "data-i18n=\"")] {
            for (at, _) in source.match_indices(marker) {
                // `t(` itself, not the end of `set(` or `act(`.
                let before = source[..at].chars().next_back().unwrap_or(' ');
                if before.is_alphanumeric() || "_$.".contains(before) {
                    continue;
                }
                let rest = &source[at + marker.len()..];
                let key = rest.split('"').next().unwrap_or_default();
                // `t("error." + code)`: a prefix, checked through BUILT_KEYS.
                if !key.ends_with('.') {
                    used.push(key.to_owned());
                }
            }
        }
        assert!(used.len() > 100, "the scan found only {} keys", used.len());
        let missing: Vec<&String> = used.iter().filter(|k| !en.contains_key(*k)).collect();
        assert!(missing.is_empty(), "not in i18n/en.json: {missing:?}");
    }

    #[test]
    fn every_language_has_every_english_key_with_the_same_placeholders() {
        let en = catalogue("en");
        for &language in LANGUAGES {
            let other = catalogue(language);
            for (key, text) in &en {
                let translated = other
                    .get(key)
                    .unwrap_or_else(|| panic!("i18n/{language}.json lacks {key}"));
                assert_eq!(
                    placeholders(text),
                    placeholders(translated),
                    "{language}: {key}"
                );
            }
            // Beyond the page's own keys, only the chair's event codes, which
            // English shows in the service's own words.
            for key in other.keys().filter(|k| !en.contains_key(*k)) {
                let code = key.strip_suffix(".advice").unwrap_or(key);
                assert!(
                    EVENT_CODES.contains(&code),
                    "i18n/{language}.json has {key}, which nothing uses"
                );
            }
        }
    }

    /// Every refusal the service can answer with has the page's words.
    #[test]
    fn every_error_the_service_answers_with_is_translated() {
        let en = catalogue("en");
        let missing: Vec<&&str> = tarsal_dbus::error::ERROR_NAMES
            .iter()
            .filter(|name| !en.contains_key(&format!("error.{name}")))
            .collect();
        assert!(missing.is_empty(), "i18n/en.json lacks error.{missing:?}");
    }

    /// Staff see every event the service can emit (pop-ups, the
    /// technician's list), and every fault with what to do: in each
    /// language but English, which shows the service's own words.
    #[test]
    fn every_event_code_the_service_emits_is_translated() {
        for &language in LANGUAGES.iter().filter(|l| **l != "en") {
            let other = catalogue(language);
            let mut missing: Vec<String> = Vec::new();
            for code in EVENT_CODES {
                if !other.contains_key(*code) {
                    missing.push((*code).to_owned());
                }
                let advice = format!("{code}.advice");
                if code.starts_with("fault.") && !other.contains_key(&advice) {
                    missing.push(advice);
                }
            }
            assert!(missing.is_empty(), "i18n/{language}.json lacks {missing:?}");
        }
    }
}
