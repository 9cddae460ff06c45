//! The touch panel in a real browser: `tarsal-panel` on a test bus, and
//! Debian's headless Chromium driven over W3C WebDriver by `chromedriver`.
//! The WebDriver client is a few plain HTTP/1.1 requests over std's
//! TcpStream: the protocol is JSON in and out, and this keeps the tests free
//! of an HTTP stack.

use super::bus::TestBus;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `tarsal-panel` serving on a free port, stopped when dropped.
pub struct PanelProcess {
    child: Child,
    pub port: u16,
    pub url: String,
    pub log: PathBuf,
    /// The panel key file (`--key-file`).
    pub key_file: PathBuf,
}

impl PanelProcess {
    /// Starts the panel on `bus` with the staff PIN `pin`.
    pub fn start(bus: &TestBus, pin: &str) -> Self {
        let dir = super::scratch("panel");
        let pin_file = dir.join("pin");
        std::fs::write(&pin_file, pin).unwrap();
        let log = dir.join("panel.log");
        let key_file = dir.join("key");
        let port = super::free_port();
        let child = Command::new(super::binary("tarsal-panel"))
            .args(["--bus-address", &bus.address, "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--pin-file")
            .arg(&pin_file)
            .arg("--key-file")
            .arg(&key_file)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("tarsal-panel runs");
        let panel = Self {
            child,
            port,
            url: format!("http://127.0.0.1:{port}/"),
            log,
            key_file,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !std::fs::read_to_string(&panel.log)
            .unwrap_or_default()
            .contains("following the chair")
        {
            assert!(
                Instant::now() < deadline,
                "the panel did not come up:\n{}",
                std::fs::read_to_string(&panel.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        panel
    }
}

impl PanelProcess {
    /// The panel key, as the kiosk user reads it.
    pub fn key(&self) -> String {
        std::fs::read_to_string(&self.key_file)
            .unwrap()
            .trim()
            .to_owned()
    }

    /// The cookie a browser holding the key sends.
    pub fn cookie(&self) -> String {
        format!("tarsal_panel={}", self.key())
    }

    /// A one-time link, from `tarsal-panel ticket` as the kiosk gets it.
    pub fn ticket_url(&self) -> String {
        let out = Command::new(super::binary("tarsal-panel"))
            .arg("ticket")
            .arg("--key-file")
            .arg(&self.key_file)
            .args(["--panel", &format!("127.0.0.1:{}", self.port)])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tarsal-panel ticket: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// One API request as the page makes it (JSON, the key cookie).
    pub fn api(&self, method: &str, path: &str, body: Option<String>) -> Result<Value, String> {
        let cookie = self.cookie();
        http_with(
            self.port,
            method,
            path,
            body,
            &[
                ("Content-Type", "application/json"),
                ("Cookie", cookie.as_str()),
            ],
        )
        .map(|(_, v)| v)
    }
}

impl Drop for PanelProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A chromedriver with one headless Chromium session.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    profile: PathBuf,
}

/// Where screenshots go: kept after the run as test artefacts.
pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts/panel-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Browser {
    /// Starts chromedriver and a Chromium window of `width`×`height` CSS pixels.
    pub fn start(width: u32, height: u32) -> Self {
        let port = super::free_port();
        let profile = super::scratch("chromium");
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (scripts/test.sh installs chromium-driver)");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(status) = request(port, "GET", "/status", None)
                && status["value"]["ready"] == true
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--lang=en-US",
        ];
        let mut args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.push(format!("--window-size={width},{height}"));
        let created = request(
            port,
            "POST",
            "/session",
            Some(json!({ "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args },
            }}})),
        )
        .expect("a Chromium session");
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        let mut browser = Self {
            driver,
            port,
            session,
            profile,
        };
        browser.resize(width, height);
        browser
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    /// A WebDriver command; its error (`stale element reference: …`) if it failed.
    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let path = format!("/session/{}{path}", self.session);
        let reply = request(self.port, method, &path, body)?;
        match reply["value"]["error"].as_str() {
            Some(error) => Err(format!("{error}: {}", reply["value"]["message"])),
            None => Ok(reply["value"].clone()),
        }
    }

    /// Makes the page's viewport `width`×`height` (headless windows have no
    /// frame, so the window size is the viewport).
    pub fn resize(&mut self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        );
        let inner = self.script("return [window.innerWidth, window.innerHeight]");
        let (w, h) = (inner[0].as_u64(), inner[1].as_u64());
        // Some builds keep a frame even headless: grow the window by it.
        if w != Some(width.into()) || h != Some(height.into()) {
            let (dw, dh) = (
                width as i64 - w.unwrap_or(0) as i64,
                height as i64 - h.unwrap_or(0) as i64,
            );
            self.call(
                "POST",
                "/window/rect",
                Some(json!({ "width": width as i64 + dw, "height": height as i64 + dh })),
            );
        }
    }

    pub fn open(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    /// Runs `body` as a function in the page and returns its result.
    pub fn script(&self, body: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": body, "args": [] })),
        )
    }

    /// Waits until `condition` (a JS expression) is true; `what` names it
    /// for the failure message, which also shows the panel's screen.
    pub fn wait_until(&self, what: &str, condition: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let check = format!("try {{ return !!({condition}); }} catch (e) {{ return false; }}");
        while Instant::now() < deadline {
            if self.script(&check) == Value::Bool(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let screen = self.script(
            "return document.getElementById('screen').dataset.screen + ': ' + document.body.innerText",
        );
        self.screenshot(&format!("failed-{}", what.replace(' ', "-")));
        panic!("waited {timeout:?} for {what}; the panel shows {screen}");
    }

    /// Waits for `css` to be on the page and taps it (a WebDriver click is a
    /// real pointer event at the element's centre, as a finger would).
    pub fn tap(&self, css: &str) {
        self.wait_until(
            &format!("{css} to be tappable"),
            &format!(
                "(e => e && !e.disabled && e.getClientRects().length)(document.querySelector({}))",
                js_string(css)
            ),
            Duration::from_secs(10),
        );
        // The page redraws when the chair's state changes; a button found
        // just before a redraw is gone by the click. Find it again, as a
        // finger would simply tap the new one.
        let mut last_error = String::new();
        for _ in 0..5 {
            let found = self.call(
                "POST",
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            );
            let id = found
                .as_object()
                .and_then(|o| o.values().next())
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("no element id for {css}: {found}"))
                .to_owned();
            match self.try_call("POST", &format!("/element/{id}/click"), Some(json!({}))) {
                Ok(_) => return,
                Err(e) if e.starts_with("stale element reference") => last_error = e,
                Err(e) => panic!("tapping {css}: {e}"),
            }
        }
        panic!("tapping {css}: {last_error}");
    }

    /// Whether the first element matching `css` is where a finger can tap it
    /// without scrolling: wholly inside the window, and nothing on top of
    /// its centre. Returns what is wrong, or `None`.
    pub fn not_tappable_as_is(&self, css: &str) -> Option<String> {
        let verdict = self.script(&format!(
            r#"
            const e = document.querySelector({});
            if (!e) return 'missing';
            const r = e.getBoundingClientRect();
            if (r.width === 0 || r.height === 0) return 'not shown';
            if (r.top < 0 || r.left < 0 || r.bottom > window.innerHeight + 0.5 || r.right > window.innerWidth + 0.5)
                return 'outside the window: ' + JSON.stringify([r.left, r.top, r.right, r.bottom]) + ' of ' + window.innerWidth + 'x' + window.innerHeight;
            const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            if (!top || !(top === e || e.contains(top)))
                return 'covered by ' + (top ? top.tagName + '#' + top.id + '.' + top.className : 'nothing');
            return null;
            "#,
            js_string(css)
        ));
        verdict.as_str().map(str::to_owned)
    }

    /// The visible text of the first element matching `css` ("" if none).
    pub fn text(&self, css: &str) -> String {
        self.script(&format!(
            "const e = document.querySelector({}); return e ? e.innerText : ''",
            js_string(css)
        ))
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Which screen the panel shows.
    pub fn screen(&self) -> String {
        self.text_of("return document.getElementById('screen').dataset.screen")
    }

    fn text_of(&self, script: &str) -> String {
        self.script(script).as_str().unwrap_or_default().to_owned()
    }

    /// Saves a PNG of the page as `<name>.png` among the artefacts.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let data = self.call("GET", "/screenshot", None);
        let png = base64_decode(data.as_str().unwrap_or_default());
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = request(
            self.port,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// A JS string literal for `text`.
pub fn js_string(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

/// One HTTP/1.1 request to chromedriver on localhost; the JSON reply.
fn request(port: u16, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
    http(port, method, path, body.map(|b| b.to_string()))
}

/// One HTTP/1.1 request with a raw body to a server on localhost; the JSON reply.
pub fn http(port: u16, method: &str, path: &str, body: Option<String>) -> Result<Value, String> {
    http_with(
        port,
        method,
        path,
        body,
        &[("Content-Type", "application/json")],
    )
    .map(|(_, v)| v)
}

/// As [`http`], with these headers (a `Host` among them replaces the
/// default one); the status code and the JSON reply.
pub fn http_with(
    port: u16,
    method: &str,
    path: &str,
    body: Option<String>,
    headers: &[(&str, &str)],
) -> Result<(u16, Value), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let body = body.unwrap_or_default();
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .map_err(|e| e.to_string())?;
    // chromedriver keeps connections open whatever we ask: read exactly
    // the reply, by its length or its chunks.
    let mut reply = Vec::new();
    let mut buffer = [0u8; 16384];
    let (header_end, length, chunked) = loop {
        let n = stream.read(&mut buffer).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the connection closed before the reply".into());
        }
        reply.extend_from_slice(&buffer[..n]);
        if let Some(end) = reply.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&reply[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            break (end + 4, length, head.contains("transfer-encoding: chunked"));
        }
    };
    loop {
        let body = &reply[header_end..];
        let complete = match length {
            Some(length) => body.len() >= length,
            None if chunked => body.ends_with(b"0\r\n\r\n"),
            None => false,
        };
        if complete {
            break;
        }
        let n = stream.read(&mut buffer).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buffer[..n]);
    }
    let status = String::from_utf8_lossy(&reply[..header_end])
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(0);
    let content = String::from_utf8_lossy(&reply[header_end..]).into_owned();
    let content = if chunked { dechunk(&content) } else { content };
    serde_json::from_str(&content)
        .map(|v| (status, v))
        .map_err(|e| format!("{e}: {content}"))
}

fn dechunk(mut text: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = text.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        text = rest[n..].trim_start_matches("\r\n");
    }
    out
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0);
    for v in text.bytes().filter_map(value) {
        buffer = (buffer << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}
