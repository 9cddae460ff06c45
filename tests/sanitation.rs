//! The sanitation log and the between-clients gate, with the real `sanitize`
//! and `classic` plugins on the simulated chair: the log says what the bath
//! actually did, and a salon that requires it cannot start the next client
//! before the cycle after the previous one is logged complete.

mod support;

use support::{Rig, plugins_dir, secs};
use tarsal_core::engine::{Command, Refusal, SanitationPolicy};
use tarsal_core::session::{ChairState, OptionValue, SessionOptions};
use tarsal_plugin_host::{Library, Limits, ProgramSet};

fn rig(required: bool, owed: bool) -> Rig {
    let library = Library::new(Limits::default(), None).expect("plugin host");
    let report = library.load_dir(&plugins_dir(None));
    let policy = SanitationPolicy {
        required_between_clients: required,
        ..SanitationPolicy::default()
    };
    Rig::assemble(
        |_| {},
        Box::new(ProgramSet::new(library, report)),
        |engine| engine.with_sanitation(policy, owed),
    )
}

fn start(rig: &mut Rig, id: &str, values: &[(&str, OptionValue)]) -> Result<(), Refusal> {
    let mut options = SessionOptions::default();
    for (k, v) in values {
        options.values.insert((*k).into(), v.clone());
    }
    rig.chair.start(id, options).map(|_| ())
}

#[test]
fn a_full_sanitize_cycle_is_logged_complete_with_the_staff_initials() {
    let mut rig = rig(false, false);
    rig.sim.set_feet_present(false);
    rig.tick(); // the chair sees the empty footrest
    start(&mut rig, "sanitize", &[]).unwrap();
    rig.run_session_to_end("AB", secs(30));
    let logged = rig.stored("sanitation.complete");
    assert_eq!(logged.len(), 1, "{:?}", rig.codes());
    let data = &logged[0].data;
    assert_eq!(data["cycle"], "after-client");
    assert_eq!(data["initials"], serde_json::json!(["AB", "AB", "AB"]));
    assert!(data["circulation_s"].as_f64().unwrap() >= 600.0, "{data}");
    assert_eq!(data["drained"], true);
    let log = rig.store.sanitation_log(5).unwrap();
    assert!(log[0].complete);
}

#[test]
fn a_cycle_stopped_early_is_logged_incomplete_saying_what_is_missing() {
    let mut rig = rig(false, false);
    rig.sim.set_feet_present(false);
    rig.tick(); // the chair sees the empty footrest
    start(&mut rig, "sanitize", &[]).unwrap();
    // Staff confirm the scrub, then stop the cycle five minutes in.
    let until = rig.chair.now() + secs(300);
    while rig.chair.now() < until {
        rig.tick();
        if rig
            .chair
            .engine()
            .status()
            .session
            .is_some_and(|s| s.awaiting_staff)
        {
            rig.command(Command::ConfirmStaffStep {
                initials: "CD".into(),
            })
            .unwrap();
        }
    }
    rig.command(Command::Stop).unwrap();
    assert!(rig.run_until(secs(60), |r| r.state() == ChairState::Idle));
    let logged = rig.stored("sanitation.incomplete");
    assert_eq!(logged.len(), 1, "{:?}", rig.codes());
    let missing = logged[0].data["missing"].as_str().unwrap();
    assert!(
        missing.contains("cut short") && missing.contains("circulated"),
        "{missing}"
    );
    assert!(!rig.store.sanitation_log(5).unwrap()[0].complete);
}

#[test]
fn with_the_gate_on_the_next_client_waits_for_a_complete_cycle() {
    let mut rig = rig(true, false);
    // First client: allowed.
    start(&mut rig, "classic", &[("minutes", OptionValue::Int(10))]).unwrap();
    rig.run_session_to_end("", secs(1));
    assert!(rig.chair.engine().status().sanitation_owed);
    match start(&mut rig, "classic", &[]) {
        Err(Refusal::SanitationRequired { program }) => assert_eq!(program, "sanitize"),
        other => panic!("{other:?}"),
    }
    // The cycle runs with nobody in the chair.
    rig.sim.set_feet_present(false);
    rig.tick(); // the chair sees the empty footrest
    start(&mut rig, "sanitize", &[]).unwrap();
    rig.run_session_to_end("EF", secs(20));
    assert!(!rig.chair.engine().status().sanitation_owed);
    rig.sim.set_feet_present(true);
    start(&mut rig, "classic", &[]).unwrap();
}

#[test]
fn a_session_stopped_right_after_a_resume_still_owes_a_cycle() {
    let mut rig = rig(false, false);
    start(&mut rig, "classic", &[("minutes", OptionValue::Int(10))]).unwrap();
    for _ in 0..500 {
        rig.tick();
    }
    assert_eq!(rig.chair.engine().state(), ChairState::Running);
    // Pause, resume and stop between two ticks, as a quick client can.
    rig.chair.command(Command::Pause).unwrap();
    rig.chair.command(Command::Resume).unwrap();
    rig.chair.command(Command::Stop).unwrap();
    rig.run_session_to_end("", secs(1));
    assert!(rig.chair.engine().status().sanitation_owed);
}

#[test]
fn an_owed_cycle_survives_a_restart() {
    let mut rig = rig(true, true);
    assert!(matches!(
        start(&mut rig, "reflexology", &[]),
        Err(Refusal::SanitationRequired { .. })
    ));
}
