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
