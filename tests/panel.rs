//! The touch panel, as staff use it: `tarsald --sim` on a private
//! dbus-daemon, `tarsal-panel` in front of it, and real headless Chromium
//! tapping the page through WebDriver. Screenshots land in
//! `artifacts/panel-screenshots/`.

mod support;

use serde_json::Value;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use support::browser::{Browser, PanelProcess, http_with, js_string};
use support::bus::{Service, TestBus};

const SIZES: [(u32, u32); 2] = [(800, 480), (1280, 800)];
const PIN: &str = "2580";
const WAIT: Duration = Duration::from_secs(20);

/// One Chromium at a time: two on two cores make every wait slower.
fn one_browser_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct Rig {
    bus: TestBus,
    _service: Service,
    panel: PanelProcess,
}

impl Rig {
    /// `speed`: the simulated chair's pace against real time.
    fn start(speed: &str, extra: &[&str]) -> Self {
        let bus = TestBus::session();
        let mut args = vec!["--speed", speed];
        args.extend_from_slice(extra);
        let service = Service::start(&bus, None, &args);
        let panel = PanelProcess::start(&bus, PIN);
        Self {
            bus,
            _service: service,
            panel,
        }
    }

    /// The service's own view, through tarsalctl: what the panel shows must
    /// be what the chair does.
    fn status(&self) -> Value {
        let out = self.tarsalctl(&["status", "--json"]);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }

    fn tarsalctl(&self, args: &[&str]) -> String {
        let out = Command::new(support::binary("tarsalctl"))
            .args(["--bus-address", &self.bus.address])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tarsalctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The programs as the panel got them (with their translations).
    fn programs(&self, browser: &Browser) -> Vec<Value> {
        browser
            .script("return S.programs")
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

fn open_panel(rig: &Rig, width: u32, height: u32) -> Browser {
    let browser = Browser::start(width, height);
    // As the kiosk does: a one-time link, which leaves the key as a cookie.
    browser.open(&rig.panel.ticket_url());
    wait_for_programs(&browser);
    browser
}

fn wait_for_programs(browser: &Browser) {
    browser.wait_until(
        "the program cards",
        "document.querySelectorAll('#screen [data-program]').length >= 6 && document.getElementById('state').dataset.state === 'idle'",
        WAIT,
    );
}

fn wait_for_state(browser: &Browser, state: &str) {
    browser.wait_until(
        &format!("state {state}"),
        &format!(
            "document.getElementById('state').dataset.state === {}",
            js_string(state)
        ),
        WAIT,
    );
}

fn wait_for_screen(browser: &Browser, screen: &str) {
    browser.wait_until(
        &format!("the {screen} screen"),
        &format!(
            "document.getElementById('screen').dataset.screen === {}",
            js_string(screen)
        ),
        WAIT,
    );
}

/// Every visible button is at least 48 px each way, nothing spills out
/// sideways, and (while a session runs) STOP is fully on screen.
fn assert_touch_friendly(browser: &Browser, place: &str) {
    let report = browser.script(
        r#"
        const small = [];
        for (const b of document.querySelectorAll('button, a.button, input')) {
            const r = b.getBoundingClientRect();
            if (r.width === 0 && r.height === 0) continue;
            if (r.width < 48 || r.height < 48) small.push((b.id || b.textContent.trim()).slice(0, 30) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
        }
        const tinyText = [];
        for (const e of document.querySelectorAll('#screen *, #bar *')) {
            if (!e.childNodes.length || ![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
            const size = parseFloat(getComputedStyle(e).fontSize);
            if (size < 16 && e.getClientRects().length) tinyText.push(e.tagName + ' ' + size);
        }
        const stop = document.getElementById('stop');
        const r = stop.getBoundingClientRect();
        return {
            small, tinyText,
            overflow: document.documentElement.scrollWidth - window.innerWidth,
            session: document.body.classList.contains('session'),
            stopOnScreen: r.top >= 0 && r.bottom <= window.innerHeight && r.height >= 64,
        };
        "#,
    );
    assert_eq!(
        report["small"],
        serde_json::json!([]),
        "{place}: buttons under 48 px"
    );
    assert_eq!(
        report["tinyText"],
        serde_json::json!([]),
        "{place}: text under 16 px"
    );
    assert!(
        report["overflow"].as_i64().unwrap_or(0) <= 0,
        "{place}: the page is wider than the screen: {report}"
    );
    if report["session"] == true {
        assert_eq!(
            report["stopOnScreen"], true,
            "{place}: STOP not fully visible"
        );
    }
}

#[test]
fn staff_run_a_program_from_its_card_to_stop_at_both_screen_sizes() {
    let _one = one_browser_at_a_time();
    let rig = Rig::start("20", &[]);
    let mut browser = open_panel(&rig, SIZES[0].0, SIZES[0].1);
    for (width, height) in SIZES {
        browser.resize(width, height);
        let size = format!("{width}x{height}");
        wait_for_programs(&browser);
        assert_touch_friendly(&browser, &format!("programs {size}"));
        let card = browser.text("[data-program='classic']");
        assert!(
            card.contains("Classic massage")
                && card.contains("20 min")
                && card.contains("Foot rollers"),
            "the classic card shows name, duration and what it uses: {card}"
        );
        browser.screenshot(&format!("programs-{size}"));

        // Set-up: the contraindications hold the start back until confirmed.
        browser.tap("[data-program='classic']");
        wait_for_screen(&browser, "setup");
        let questions = browser.text(".contraindications");
        assert!(
            questions.contains("Thrombophlebitis"),
            "the program's contraindications are listed: {questions}"
        );
        assert_eq!(
            browser.script("return document.getElementById('start').disabled"),
            true
        );
        browser.tap("[data-name='intensity'][data-value='2']");
        browser.tap("[data-action='option-step'][data-key='minutes'][data-delta='-1']");
        browser.tap("#confirm-contraindications");
        assert_touch_friendly(&browser, &format!("set-up {size}"));
        browser.screenshot(&format!("setup-{size}"));
        browser.tap("#start");

        // Running: step in words, time left, intensity +, STOP.
        wait_for_screen(&browser, "running");
        wait_for_state(&browser, "running");
        browser.wait_until(
            "a step in words",
            "document.getElementById('step').innerText.length > 10 && document.getElementById('remaining').innerText.includes(':')",
            WAIT,
        );
        let status = rig.status();
        assert_eq!(status["program"], "classic");
        assert_eq!(status["intensity"], 2);
        assert_eq!(browser.text("#intensity"), "2");
        browser.tap("#intensity-up");
        browser.wait_until(
            "intensity 3 on the panel",
            "document.getElementById('intensity').innerText === '3'",
            WAIT,
        );
        assert_eq!(rig.status()["intensity"], 3, "the chair took the change");
        browser.tap("#pause");
        wait_for_state(&browser, "paused");
        browser.tap("#resume");
        wait_for_state(&browser, "running");
        assert_touch_friendly(&browser, &format!("running {size}"));
        browser.screenshot(&format!("running-{size}"));

        // STOP is on every screen while a session runs.
        browser.tap("#nav-hygiene");
        wait_for_screen(&browser, "hygiene");
        assert_touch_friendly(&browser, &format!("hygiene during a session {size}"));
        browser.tap("#stop");
        wait_for_state(&browser, "idle");
        browser.tap("#nav-programs");
        wait_for_screen(&browser, "programs");
        let last = rig.status()["last_session"].clone();
        assert_eq!(last[1], "stopped", "{last}");
    }
}

#[test]
fn a_fault_shows_what_happened_and_acknowledging_resets_it() {
    let _one = one_browser_at_a_time();
    let rig = Rig::start("20", &[]);
    let mut browser = open_panel(&rig, SIZES[0].0, SIZES[0].1);

    // The water level sensor shorts: the chair latches a fault.
    rig.tarsalctl(&[
        "sim",
        "inject",
        r#"{"fault":"sensor","sensor":{"sensor":"water_level"},"mode":"short"}"#,
    ]);
    wait_for_screen(&browser, "fault");
    let fault = browser.text("#fault-list li[data-code='fault.sensor_out_of_range']");
    assert!(
        fault.contains("water level sensor") && fault.contains("What to do"),
        "the fault in plain words with what to do: {fault}"
    );
    assert_touch_friendly(&browser, "fault 800x480");
    browser.screenshot("fault-800x480");

    // While the sensor is still broken, acknowledging is refused, and says why.
    browser.tap("#reset");
    browser.wait_until(
        "the refusal",
        "!document.getElementById('toast').hidden && document.getElementById('toast').innerText.includes('still there')",
        WAIT,
    );
    assert_eq!(rig.status()["state"], "fault");
    // The pop-up leaves the button free.
    assert_tappable_as_is(&browser, "#reset", "the fault screen with a pop-up");

    rig.tarsalctl(&["sim", "clear"]);
    browser.tap("#reset");
    wait_for_state(&browser, "idle");
    wait_for_screen(&browser, "programs");

    // The panel's own emergency stop, at the other size.
    browser.resize(SIZES[1].0, SIZES[1].1);
    browser.tap("#estop");
    wait_for_screen(&browser, "estop");
    assert_eq!(rig.status()["emergency_stop_source"], "local");
    assert_touch_friendly(&browser, "estop 1280x800");
    browser.tap("#reset");
    wait_for_state(&browser, "idle");
}

#[test]
fn the_panel_speaks_vietnamese_with_the_programs_own_translations() {
    let _one = one_browser_at_a_time();
    let rig = Rig::start("20", &[]);
    let browser = open_panel(&rig, SIZES[0].0, SIZES[0].1);
    let vi: Value =
        serde_json::from_str(include_str!("../crates/tarsal-panel/i18n/vi.json")).unwrap();
    let en: Value =
        serde_json::from_str(include_str!("../crates/tarsal-panel/i18n/en.json")).unwrap();

    assert_eq!(browser.text("#nav-programs"), en["nav.programs"]);
    browser.tap("#lang");
    browser.wait_until(
        "Vietnamese labels",
        &format!(
            "document.getElementById('nav-programs').innerText === {}",
            vi["nav.programs"]
        ),
        WAIT,
    );
    assert_eq!(browser.script("return document.documentElement.lang"), "vi");
    let programs = rig.programs(&browser);
    let classic = programs.iter().find(|p| p["id"] == "classic").unwrap();
    let vi_classic = classic["translations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["language"] == "vi")
        .expect("classic carries a Vietnamese translation");
    browser.wait_until(
        "the Vietnamese program name",
        &format!(
            "document.querySelector(\"[data-program='classic'] h3\").innerText === {}",
            vi_classic["name"]
        ),
        WAIT,
    );
    assert_touch_friendly(&browser, "programs in Vietnamese");
    browser.screenshot("programs-vi-800x480");

    browser.tap("[data-program='classic']");
    wait_for_screen(&browser, "setup");
    let questions = browser.text(".contraindications");
    let first = vi_classic["contraindications"][0].as_str().unwrap();
    assert!(questions.contains(first), "{questions} lacks {first}");
    browser.tap("#confirm-contraindications");
    browser.tap("#start");
    wait_for_state(&browser, "running");
    // The step the chair reports in English, shown in Vietnamese.
    let status = rig.status();
    let index = classic["steps"]
        .as_array()
        .unwrap()
        .iter()
        .position(|s| s["title"] == status["step"])
        .expect("the step is one the program declared");
    let vi_step = vi_classic["steps"][index]["title"].as_str().unwrap();
    browser.wait_until(
        "the step in Vietnamese",
        &format!(
            "document.getElementById('step').innerText.includes({})",
            js_string(vi_step)
        ),
        WAIT,
    );
    assert_touch_friendly(&browser, "running in Vietnamese");
    browser.screenshot("running-vi-800x480");
    browser.tap("#stop");
    wait_for_state(&browser, "idle");

    // A fault in Vietnamese: the catalogue's words and advice; the service's
    // exact English only folded away for the technician.
    rig.tarsalctl(&[
        "sim",
        "inject",
        r#"{"fault":"sensor","sensor":{"sensor":"water_level"},"mode":"short"}"#,
    ]);
    wait_for_screen(&browser, "fault");
    let shown = browser.text("#fault-list");
    let what = vi["fault.sensor_out_of_range"].as_str().unwrap();
    assert!(shown.contains(what), "{shown}");
    assert!(
        !shown.contains("water level sensor"),
        "English on a Vietnamese screen: {shown}"
    );
    browser.tap("#reset");
    browser.wait_until(
        "the refusal in Vietnamese",
        &format!(
            "!document.getElementById('toast').hidden && document.getElementById('toast').innerText === {}",
            vi["error.ResetBlocked"]
        ),
        WAIT,
    );
    rig.tarsalctl(&["sim", "clear"]);
    browser.tap("#reset");
    wait_for_state(&browser, "idle");

    // The choice survives a reload, and switching back works.
    browser.open(&rig.panel.url);
    wait_for_programs(&browser);
    assert_eq!(browser.text("#nav-programs"), vi["nav.programs"]);
    browser.tap("#lang");
    browser.wait_until(
        "English labels",
        &format!(
            "document.getElementById('nav-programs').innerText === {}",
            en["nav.programs"]
        ),
        WAIT,
    );
}

/// Fails naming what a finger cannot reach on screen as it is.
fn assert_tappable_as_is(browser: &Browser, css: &str, place: &str) {
    if let Some(problem) = browser.not_tappable_as_is(css) {
        browser.screenshot(&format!("failed-{}", place.replace(' ', "-")));
        panic!("{place}: {css} is {problem}");
    }
}

fn switch_to_vietnamese(browser: &Browser) {
    browser.tap("#lang");
    browser.wait_until("Vietnamese", "document.documentElement.lang === 'vi'", WAIT);
}

#[test]
fn at_800x480_what_moves_a_session_on_stays_on_screen_in_both_languages() {
    let _one = one_browser_at_a_time();
    let rig = Rig::start("200", &[]);
    let browser = open_panel(&rig, 800, 480);
    let programs = rig.programs(&browser);
    for language in ["en", "vi"] {
        if language == "vi" {
            switch_to_vietnamese(&browser);
        }
        for program in &programs {
            let id = program["id"].as_str().unwrap();
            let place = format!("set-up of {id} in {language}");
            browser.tap(&format!("[data-program='{id}']"));
            wait_for_screen(&browser, "setup");
            assert_tappable_as_is(&browser, "#start", &place);
            let questions = program["contraindications"].as_array().unwrap();
            if !questions.is_empty() {
                assert_tappable_as_is(&browser, "#confirm-contraindications", &place);
            }
            // Every setting is within reach: the settings scroll, the
            // footer does not move.
            let settings = browser
                .script("return document.querySelectorAll('.settings .setting').length")
                .as_u64()
                .unwrap();
            for n in 1..=settings {
                let control = format!(".settings .setting:nth-child({n}) > :last-child");
                browser.script(&format!(
                    "document.querySelector({}).scrollIntoView({{block: 'nearest'}})",
                    support::browser::js_string(&control)
                ));
                assert_tappable_as_is(&browser, &control, &place);
                assert_tappable_as_is(&browser, "#start", &place);
            }
            // Intensity only where it acts: rollers or calf units.
            let uses = program["uses"].as_array().unwrap();
            let massages = uses
                .iter()
                .any(|u| u == "foot_rollers" || u == "calf_units");
            let intensity =
                browser.script("return !!document.querySelector(\"[data-name='intensity']\")");
            assert_eq!(intensity, massages, "{place}: intensity shown: {intensity}");
            if id == "classic" {
                browser.screenshot(&format!("setup-classic-{language}-800x480"));
            }
            browser.tap(".back");
            wait_for_screen(&browser, "programs");
        }
    }

    // The soak moves nothing: no intensity, no pause; its end is told.
    browser.tap("[data-program='foot-bath-soak']");
    wait_for_screen(&browser, "setup");
    if browser.script("return !!document.getElementById('confirm-contraindications')") == true {
        browser.tap("#confirm-contraindications");
    }
    browser.tap("#start");
    wait_for_screen(&browser, "running");
    browser.wait_until(
        "the soak's controls",
        "document.querySelector('#screen .controls') !== null",
        WAIT,
    );
    assert_eq!(
        browser.script(
            "return [!!document.getElementById('intensity-up'), !!document.getElementById('pause')]"
        ),
        serde_json::json!([false, false])
    );
    browser.tap("#stop");
    wait_for_state(&browser, "idle");
    browser.wait_until(
        "the end of the session told",
        "document.getElementById('session-ended') !== null",
        WAIT,
    );
    let vi: Value =
        serde_json::from_str(include_str!("../crates/tarsal-panel/i18n/vi.json")).unwrap();
    let told = browser.text("#session-ended");
    let stopped = vi["ended.stopped"]
        .as_str()
        .unwrap()
        .replace("{program}", "");
    assert!(told.contains(stopped.trim()), "{told}");
    assert_eq!(
        browser.script("return document.getElementById('session-ended').dataset.outcome"),
        "stopped"
    );
    browser.screenshot("session-ended-vi-800x480");
    browser.tap("#dismiss-ended");
    browser.wait_until(
        "the note put away",
        "document.getElementById('session-ended') === null",
        WAIT,
    );

    // A staff step's long Vietnamese text does not push its confirm
    // button off the screen.
    rig.tarsalctl(&["sim", "feet", "off"]);
    browser.tap("#nav-hygiene");
    wait_for_screen(&browser, "hygiene");
    browser.tap("#sanitize-after-client");
    browser.wait_until(
        "a staff step",
        "document.getElementById('confirm-step') !== null",
        Duration::from_secs(60),
    );
    assert_tappable_as_is(&browser, "#confirm-step", "a staff step in Vietnamese");
    assert_tappable_as_is(&browser, "#stop", "a staff step in Vietnamese");
    browser.screenshot("staff-step-vi-800x480");
    browser.tap("#stop");
    wait_for_state(&browser, "idle");

    // The cut-short cycle in the log, in Vietnamese words.
    browser.tap("#nav-hygiene");
    browser.wait_until(
        "the cycle in the log",
        "document.querySelector('#sanitation-log tbody tr .bad') !== null",
        WAIT,
    );
    let row = browser.text("#sanitation-log tbody tr");
    let circulated = vi["log.missing.circulation"].as_str().unwrap();
    let circulated = circulated.split('{').next().unwrap();
    assert!(row.contains(circulated), "{row}");
    assert!(!row.contains("the "), "English in a Vietnamese log: {row}");
}

#[test]
fn the_sanitize_gate_and_cycle_run_from_the_bath_and_hygiene_screen() {
    let _one = one_browser_at_a_time();
    let config = support::scratch("panel-gate").join("tarsald.toml");
    std::fs::write(&config, "[sanitation]\nrequired_between_clients = true\n").unwrap();
    let rig = Rig::start("200", &["--config", config.to_str().unwrap()]);
    let browser = open_panel(&rig, SIZES[1].0, SIZES[1].1);

    // The first client of the day: a short demo session, stopped.
    browser.tap("[data-program='demo']");
    wait_for_screen(&browser, "setup");
    browser.tap("#start");
    wait_for_state(&browser, "running");
    browser.tap("#stop");
    wait_for_state(&browser, "idle");

    // The salon's rule: after a client, only sanitize may start.
    browser.wait_until(
        "the sanitation gate",
        "document.getElementById('sanitation-gate') !== null",
        WAIT,
    );
    assert_eq!(
        browser.script("return document.querySelector(\"[data-program='classic']\").classList.contains('blocked')"),
        true
    );
    browser.screenshot("sanitation-gate-1280x800");
    // Nobody sits in the chair while it sanitizes.
    rig.tarsalctl(&["sim", "feet", "off"]);
    browser.tap("#sanitation-gate button");
    wait_for_screen(&browser, "hygiene");
    browser.tap("#sanitize-after-client");
    wait_for_screen(&browser, "running");

    // Each staff step waits for a tap, with the staff member's initials.
    let mut confirmed = 0;
    while confirmed < 10 {
        browser.wait_until(
            "a staff step or the end of the cycle",
            "document.getElementById('staff-step') !== null || document.getElementById('state').dataset.state === 'idle'",
            Duration::from_secs(60),
        );
        if browser.screen() != "running" {
            break;
        }
        if confirmed == 0 {
            assert_touch_friendly(&browser, "a staff step");
            browser.screenshot("staff-step-1280x800");
        }
        if confirmed == 0 {
            // Initials from the on-screen letters; later steps keep them.
            browser.tap("#initials");
            for letter in ["J", "D"] {
                browser.tap(&format!("[data-action='letter'][data-key='{letter}']"));
            }
            assert_touch_friendly(&browser, "the initials keyboard");
            browser.tap("#initials-done");
            assert_eq!(browser.text("#initials"), "JD");
        }
        browser.tap("#confirm-step");
        confirmed += 1;
        browser.wait_until(
            "the step to move on",
            "document.getElementById('staff-step') === null",
            WAIT,
        );
    }
    assert!(confirmed >= 3, "scrub, disinfectant and dry were asked for");
    wait_for_state(&browser, "idle");
    browser.tap("#nav-hygiene");
    browser.wait_until(
        "the cycle in the sanitation log",
        "document.querySelector('#sanitation-log tbody tr') && document.querySelector('#sanitation-log tbody tr').innerText.includes('JD')",
        WAIT,
    );
    let row = browser.text("#sanitation-log tbody tr");
    assert!(row.contains("Complete"), "{row}");
    browser.screenshot("hygiene-1280x800");
    let status = rig.status();
    assert_eq!(status["sanitation_owed"], false, "{status}");
    browser.tap("#nav-programs");
    wait_for_programs(&browser);
    assert_eq!(
        browser.script("return document.getElementById('sanitation-gate')"),
        Value::Null
    );
}

#[test]
fn technician_functions_need_the_staff_pin() {
    let _one = one_browser_at_a_time();
    let rig = Rig::start("20", &[]);
    let browser = open_panel(&rig, SIZES[0].0, SIZES[0].1);
    browser.tap("#nav-service");
    wait_for_screen(&browser, "service");
    for key in ["1", "1", "1", "1", "ok"] {
        browser.tap(&format!("[data-action='pin-key'][data-key='{key}']"));
    }
    browser.wait_until(
        "the wrong-PIN message",
        "document.getElementById('pin-message').innerText.length > 0",
        WAIT,
    );
    assert_touch_friendly(&browser, "PIN keypad");
    for key in PIN.chars().map(String::from).chain(["ok".to_owned()]) {
        browser.tap(&format!("[data-action='pin-key'][data-key='{key}']"));
    }
    browser.wait_until(
        "the actuator list",
        "document.querySelectorAll('.actuators tr').length >= 5",
        WAIT,
    );
    // A simulated chair lets a trainer take the feet off the footrest.
    browser.tap("#sim-feet");
    browser.wait_until("feet off", "S.link.chair.feet_present === false", WAIT);
    assert_eq!(rig.status()["feet_present"], false);
    browser.tap("#service-mode");
    wait_for_state(&browser, "service");
    assert_eq!(rig.status()["state"], "service");
    browser.screenshot("service-800x480");
    browser.tap("#service-mode");
    wait_for_state(&browser, "idle");
    browser.tap("[data-action='lock']");
    browser.tap("#nav-service");
    browser.wait_until(
        "the keypad again",
        "document.querySelector('.keypad') !== null",
        WAIT,
    );
}

#[test]
fn bad_requests_get_a_clear_error_and_change_nothing() {
    let rig = Rig::start("20", &[]);
    let call = |method: &str, path: &str, body: &str| {
        rig.panel
            .api(method, path, Some(body.to_owned()))
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    };
    let cases = [
        ("POST", "/api/start", "not json", "BadRequest", "expected"),
        (
            "POST",
            "/api/start",
            r#"{"program":"classic","speed":9}"#,
            "BadRequest",
            "unknown field `speed`",
        ),
        (
            "POST",
            "/api/start",
            r#"{"program":"nope"}"#,
            "UnknownProgram",
            "no program `nope`",
        ),
        (
            "POST",
            "/api/start",
            r#"{"program":"classic"}"#,
            "ContraindicationsNotConfirmed",
            "Fever",
        ),
        (
            "POST",
            "/api/start",
            r#"{"program":"classic","contraindications_confirmed":true,"options":{"minutes":[1]}}"#,
            "BadRequest",
            "option `minutes`",
        ),
        ("POST", "/api/intensity", r#"{"level":9}"#, "", ""),
        ("POST", "/api/pause", "", "NotRunning", ""),
        ("GET", "/api/service/actuators", "", "PinRequired", "PIN"),
        (
            "POST",
            "/api/unlock",
            r#"{"pin":"0000"}"#,
            "PinWrong",
            "4 tries left before the keypad locks",
        ),
        (
            "GET",
            "/api/no-such-thing",
            "",
            "NotFound",
            "/api/no-such-thing",
        ),
    ];
    for (method, path, body, code, words) in cases {
        let reply = call(method, path, body);
        if code.is_empty() {
            assert!(reply["error"].is_string(), "{path} {body}: {reply}");
        } else {
            assert_eq!(reply["error"], code, "{path} {body}: {reply}");
        }
        let message = reply["message"].as_str().unwrap_or_default();
        assert!(message.contains(words), "{path} {body}: {message}");
    }
    let status = rig.status();
    assert_eq!(status["state"], "idle", "{status}");
    assert_eq!(status["session_id"], 0, "{status}");
}

#[test]
fn only_the_chairs_own_screen_may_drive_it() {
    let rig = Rig::start("20", &[]);
    let port = rig.panel.port;
    let cookie = rig.panel.cookie();
    let post = |path: &str, headers: &[(&str, &str)]| {
        http_with(port, "POST", path, Some("{}".into()), headers)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let refused = |(status, reply): (u16, Value), want: &str| {
        assert_eq!(reply["error"], want, "{status} {reply}");
        assert!(status >= 400, "{status} {reply}");
    };
    // Another web page, a form-style body, a rebinding host name, a local
    // program without the key: all refused before anything happens.
    refused(
        post(
            "/api/estop",
            &[
                ("Origin", "http://evil.example"),
                ("Content-Type", "application/json"),
                ("Cookie", &cookie),
            ],
        ),
        "WrongOrigin",
    );
    refused(
        post(
            "/api/estop",
            &[("Content-Type", "text/plain"), ("Cookie", &cookie)],
        ),
        "NotJson",
    );
    let evil_host = format!("evil.example:{port}");
    refused(
        post(
            "/api/start",
            &[
                ("Host", &evil_host),
                ("Origin", &format!("http://{evil_host}")),
                ("Content-Type", "application/json"),
                ("Cookie", &cookie),
            ],
        ),
        "WrongHost",
    );
    refused(
        post("/api/estop", &[("Content-Type", "application/json")]),
        "KeyRequired",
    );
    let (status, reply) =
        http_with(port, "GET", "/api/state", None, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (status, reply["error"].as_str()),
        (401, Some("KeyRequired"))
    );
    assert_eq!(rig.status()["state"], "idle", "nothing happened");

    // The page itself, with the key, may.
    let (status, reply) = post(
        "/api/estop",
        &[
            ("Origin", &format!("http://127.0.0.1:{port}")),
            ("Content-Type", "application/json"),
            ("Cookie", &cookie),
        ],
    );
    assert_eq!(status, 200, "{reply}");
    assert_eq!(rig.status()["state"], "estop");
    rig.panel
        .api("POST", "/api/reset", Some("{}".into()))
        .unwrap();

    // A ticket works once.
    let url = rig.panel.ticket_url();
    let path = url.trim_start_matches(&format!("http://127.0.0.1:{port}"));
    let browser = Browser::start(800, 480);
    browser.open(&url);
    wait_for_programs(&browser);
    drop(browser);
    let browser = Browser::start(800, 480);
    browser.open(&format!("http://127.0.0.1:{port}{path}"));
    browser.wait_until(
        "the used ticket refused",
        "document.body.innerText.includes('used or has expired')",
        WAIT,
    );
}

#[test]
fn a_chair_that_stops_answering_is_shown_as_such_and_buttons_do_not_hang() {
    let rig = Rig::start("20", &[]);
    let browser = open_panel(&rig, 800, 480);
    // The service freezes (as a hung process would).
    let pid = rig._service.pid();
    let kill = |signal: &str| {
        Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .unwrap()
    };
    assert!(kill("-STOP").success());
    let reply = rig.panel.api("POST", "/api/estop", Some("{}".into()));
    browser.wait_until(
        "the not-answering screen",
        "document.getElementById('screen').dataset.screen === 'offline'",
        WAIT,
    );
    let shown = browser.script("return document.body.innerText");
    assert!(kill("-CONT").success());
    let reply = reply.unwrap();
    assert_eq!(reply["error"], "NotResponding", "{reply}");
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains("red emergency-stop button"),
        "{reply}"
    );
    let shown = shown.as_str().unwrap_or_default();
    assert!(shown.contains("red emergency-stop button"), "{shown}");
    assert!(
        shown.contains("running but does not answer"),
        "why, in words: {shown}"
    );
    // The stop pressed during the hang was delivered when the service came
    // back, and it holds until reset: nothing is lost on the safe side.
    wait_for_state(&browser, "estop");
    rig.panel
        .api("POST", "/api/reset", Some("{}".into()))
        .unwrap();
    wait_for_programs(&browser);
}

#[test]
fn idle_and_surplus_connections_are_closed() {
    let rig = Rig::start("20", &[]);
    // Connections that never send a byte are closed after the first-byte
    // timeout (10 s); the panel keeps answering meanwhile.
    let idle: Vec<std::net::TcpStream> = (0..100)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", rig.panel.port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_secs(12));
    assert!(rig.panel.api("GET", "/api/state", None).is_ok());
    let mut closed = 0;
    for mut s in idle {
        use std::io::Read;
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut buf = [0u8; 1];
        if matches!(s.read(&mut buf), Ok(0) | Err(_)) {
            closed += 1;
        }
    }
    assert_eq!(closed, 100);
}
