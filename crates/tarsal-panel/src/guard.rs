//! Who may drive the chair through the panel.
//!
//! The panel listens on localhost, but that alone lets any web page a
//! browser on the machine shows, and any local account, press its buttons.
//! So every request passes three checks:
//!
//! - **Host**: only the names the panel is reached by (loopback names, the
//!   address it listens on, `--allow-host`): a page on another name that
//!   resolves to 127.0.0.1 (DNS rebinding) is refused.
//! - **Same origin and JSON** for everything that changes something: a
//!   request from another origin is refused, and without
//!   `Content-Type: application/json` too (a cross-site form or a
//!   `text/plain` fetch cannot set it without the browser asking first,
//!   and the panel never says yes).
//! - **The panel key** (with `--key-file`): a secret made at each boot,
//!   readable only by the panel and the kiosk user. The kiosk browser is
//!   handed it once, through a one-time ticket, and keeps it as an
//!   `HttpOnly`, `SameSite=Strict` cookie; the API answers nothing without it.
//!   A technician on an SSH tunnel asks for a ticket the same way
//!   (`tarsal-panel ticket`).

use crate::secret::{random_hex, same};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The cookie that carries the panel key.
pub const COOKIE: &str = "tarsal_panel";
/// The header `tarsal-panel ticket` sends the key in.
pub const KEY_HEADER: &str = "x-panel-key";
/// How long a ticket may wait to be used (once).
pub const TICKET_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// Tickets waiting at most; older ones go first.
const TICKETS_MAX: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read the panel key file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write the panel key file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("the panel key file {path} must hold at least 32 hex digits on one line")]
    Malformed { path: String },
}

/// Reads the panel key from `path`, or makes one there (32 random bytes as
/// hex, mode 0640: the panel's user and its group — the kiosk's — only).
pub fn key_from_file(path: &Path) -> Result<String, KeyFileError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let shown = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let key = text.trim();
            if key.len() >= 32 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok(key.to_owned())
            } else {
                Err(KeyFileError::Malformed { path: shown })
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = random_hex(32);
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o640)
                .open(path)
                .map_err(|source| KeyFileError::Write {
                    path: shown.clone(),
                    source,
                })?;
            writeln!(file, "{key}").map_err(|source| KeyFileError::Write {
                path: shown,
                source,
            })?;
            Ok(key)
        }
        Err(source) => Err(KeyFileError::Read {
            path: shown,
            source,
        }),
    }
}

/// The checks, shared by every request.
pub struct Guard {
    /// Host names the panel answers to (lower case, without port).
    hosts: Vec<String>,
    key: Option<String>,
    tickets: Mutex<HashMap<String, Instant>>,
}

impl Guard {
    /// `listen`: where the panel listens; `extra_hosts`: further names it
    /// is reached by; `key`: the panel key, if one is required.
    pub fn new(listen: SocketAddr, extra_hosts: &[String], key: Option<String>) -> Self {
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
            .into_iter()
            .map(String::from)
            .collect();
        let ip = match listen {
            SocketAddr::V4(a) => a.ip().to_string(),
            SocketAddr::V6(a) => format!("[{}]", a.ip()),
        };
        hosts.push(ip);
        hosts.extend(extra_hosts.iter().map(|h| h.to_ascii_lowercase()));
        Self {
            hosts,
            key,
            tickets: Mutex::new(HashMap::new()),
        }
    }

    pub fn requires_key(&self) -> bool {
        self.key.is_some()
    }

    /// The host part of a `Host` header, if the panel answers to it.
    fn host_allowed(&self, host: &str) -> bool {
        let name = match host.rsplit_once(':') {
            // `[::1]:8080`, `localhost:8080`; a bare `[::1]` has its colons inside.
            Some((name, port)) if !port.contains(']') => name,
            _ => host,
        };
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(name))
    }

    /// A one-time ticket, for whoever shows the key.
    pub fn issue_ticket(&self, key: &str, now: Instant) -> Option<String> {
        let ours = self.key.as_deref()?;
        if !same(ours.as_bytes(), key.trim().as_bytes()) {
            return None;
        }
        let mut tickets = self.tickets.lock().unwrap_or_else(|p| p.into_inner());
        tickets.retain(|_, at| now.duration_since(*at) < TICKET_LIFETIME);
        while tickets.len() >= TICKETS_MAX {
            let oldest = tickets
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(t, _)| t.clone());
            match oldest {
                Some(t) => tickets.remove(&t),
                None => break,
            };
        }
        let ticket = random_hex(16);
        tickets.insert(ticket.clone(), now);
        Some(ticket)
    }

    /// Uses up `ticket`; whether it was good.
    fn redeem(&self, ticket: &str, now: Instant) -> bool {
        let mut tickets = self.tickets.lock().unwrap_or_else(|p| p.into_inner());
        matches!(tickets.remove(ticket), Some(at) if now.duration_since(at) < TICKET_LIFETIME)
    }

    fn has_key(&self, headers: &HeaderMap) -> bool {
        let Some(key) = &self.key else {
            return true;
        };
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(name, value)| name == COOKIE && same(value.as_bytes(), key.as_bytes()))
    }
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": code, "message": message })),
    )
        .into_response()
}

/// The middleware: every request to the panel passes here first.
pub async fn check(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !guard.host_allowed(host) {
        return refuse(
            StatusCode::MISDIRECTED_REQUEST,
            "WrongHost",
            "the panel answers only on its own address",
        );
    }
    let path = request.uri().path();
    let api = path.starts_with("/api/");
    if request.method() != Method::GET && request.method() != Method::HEAD {
        // The page's own origin, or none (a command-line client).
        let origin_ok = headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|origin| origin == format!("http://{host}"));
        if !origin_ok {
            return refuse(
                StatusCode::FORBIDDEN,
                "WrongOrigin",
                "requests from other web pages are refused",
            );
        }
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| {
                t.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !json {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "NotJson",
                "send JSON (Content-Type: application/json)",
            );
        }
    }
    // The kiosk's one-time ticket: turned into the key cookie, once.
    if path == "/"
        && guard.requires_key()
        && let Some(ticket) = request.uri().query().and_then(|q| {
            q.split('&')
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| *k == "ticket")
                .map(|(_, v)| v.to_owned())
        })
    {
        if !guard.redeem(&ticket, Instant::now()) {
            return (
                StatusCode::FORBIDDEN,
                axum::response::Html(
                    "<!doctype html><meta charset=utf-8><title>Tarsal panel</title>\
                     <p>This panel link has been used or has expired. \
                     Ask for a new one: <code>tarsal-panel ticket</code>.</p>",
                ),
            )
                .into_response();
        }
        let key = guard.key.as_deref().unwrap_or_default();
        let mut response = Redirect::to("/").into_response();
        if let Ok(cookie) = format!("{COOKIE}={key}; HttpOnly; SameSite=Strict; Path=/").parse() {
            response.headers_mut().insert(header::SET_COOKIE, cookie);
        }
        return response;
    }
    if api && path != "/api/ticket" && !guard.has_key(request.headers()) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "KeyRequired",
            "open the panel on the chair's screen, or with a link from `tarsal-panel ticket`",
        );
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(key: Option<&str>) -> Guard {
        Guard::new(
            "127.0.0.1:8080".parse().unwrap(),
            &["chair-7.salon".into()],
            key.map(String::from),
        )
    }

    #[test]
    fn only_the_panels_own_names_are_answered() {
        let g = guard(None);
        for ok in [
            "127.0.0.1:8080",
            "localhost:9090",
            "LOCALHOST",
            "[::1]:8080",
            "chair-7.salon:8080",
        ] {
            assert!(g.host_allowed(ok), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "127.0.0.1.evil.example",
            "",
            "localhost.evil:80",
        ] {
            assert!(!g.host_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn a_ticket_is_for_the_key_holder_and_works_once() {
        let g = guard(Some("00112233445566778899aabbccddeeff"));
        let now = Instant::now();
        assert!(g.issue_ticket("wrong", now).is_none());
        let t = g
            .issue_ticket("00112233445566778899aabbccddeeff", now)
            .unwrap();
        assert!(g.redeem(&t, now));
        assert!(!g.redeem(&t, now), "once");
        let late = g
            .issue_ticket("00112233445566778899aabbccddeeff", now)
            .unwrap();
        assert!(!g.redeem(&late, now + TICKET_LIFETIME));
        assert!(guard(None).issue_ticket("anything", now).is_none());
    }

    #[test]
    fn the_key_cookie_is_read_among_others() {
        let g = guard(Some("00112233445566778899aabbccddeeff"));
        let mut h = HeaderMap::new();
        assert!(!g.has_key(&h));
        h.insert(
            header::COOKIE,
            "a=1; tarsal_panel=00112233445566778899aabbccddeeff; b=2"
                .parse()
                .unwrap(),
        );
        assert!(g.has_key(&h));
        h.insert(header::COOKIE, "tarsal_panel=0011".parse().unwrap());
        assert!(!g.has_key(&h));
    }

    #[test]
    fn a_key_file_is_made_once_and_read_after() {
        let dir = std::env::temp_dir().join(format!("tarsal-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("key");
        let made = key_from_file(&file).unwrap();
        assert_eq!(made.len(), 64);
        assert_eq!(key_from_file(&file).unwrap(), made);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o007, 0, "no access for others: {mode:o}");
        std::fs::write(&file, "short\n").unwrap();
        assert!(key_from_file(&file).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
