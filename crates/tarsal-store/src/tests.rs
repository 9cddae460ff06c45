use super::*;
use std::time::Duration;
use tarsal_core::event::{Event, Fault};
use tarsal_core::session::SessionOptions;

fn rec(uid: &str, ms: i64, session: Option<u64>, kind: EventKind) -> EventRecord {
    EventRecord {
        uid: uid.into(),
        wall: UnixMillis(ms),
        event: Event {
            at: Duration::from_millis(ms as u64),
            session: session.map(SessionId),
            kind,
        },
    }
}

fn started(program: &str) -> EventKind {
    EventKind::SessionStarted {
        program: program.into(),
        program_version: "1.0".into(),
        options: SessionOptions::default(),
    }
}

#[test]
fn a_session_is_opened_and_closed_by_its_events() {
    let mut s = Store::open_in_memory().unwrap();
    assert_eq!(s.next_session_id().unwrap(), SessionId(1));
    s.record(&[
        rec("a", 1000, Some(1), started("demo")),
        rec(
            "b",
            2000,
            Some(1),
            EventKind::SessionEnded {
                outcome: Outcome::Completed,
                detail: String::new(),
            },
        ),
    ])
    .unwrap();
    let row = s.session(SessionId(1)).unwrap().unwrap();
    assert_eq!(row.program, "demo");
    assert_eq!(row.outcome, Some(Outcome::Completed));
    assert_eq!(row.ended_at, Some(UnixMillis(2000)));
    assert_eq!(s.next_session_id().unwrap(), SessionId(2));
    let events = s.events(&EventQuery::default()).unwrap();
    assert_eq!(
        events.iter().map(|e| e.code.as_str()).collect::<Vec<_>>(),
        vec!["session.started", "session.completed"]
    );
}

#[test]
fn a_duplicate_uid_is_stored_once() {
    let mut s = Store::open_in_memory().unwrap();
    let r = rec("same", 1, None, EventKind::Fault(Fault::LeakDetected));
    s.record(std::slice::from_ref(&r)).unwrap();
    s.record(&[r]).unwrap();
    assert_eq!(s.events(&EventQuery::default()).unwrap().len(), 1);
}

#[test]
fn queries_filter_by_session_and_code_and_keep_the_newest() {
    let mut s = Store::open_in_memory().unwrap();
    s.record(&[rec("s", 0, Some(7), started("demo"))]).unwrap();
    for i in 0..5 {
        s.record(&[rec(
            &format!("f{i}"),
            i,
            Some(7),
            EventKind::Fault(Fault::LeakDetected),
        )])
        .unwrap();
    }
    s.record(&[rec("x", 9, None, EventKind::Fault(Fault::LeakDetected))])
        .unwrap();
    let q = EventQuery {
        session: Some(SessionId(7)),
        code_prefix: Some("fault.".into()),
        limit: Some(2),
    };
    let uids: Vec<_> = s.events(&q).unwrap().into_iter().map(|e| e.uid).collect();
    assert_eq!(uids, vec!["f3", "f4"]);
}

#[test]
fn sessions_left_open_are_marked_interrupted_on_recovery() {
    let dir = std::env::temp_dir().join(format!("tarsal-store-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("recover.db");
    let _ = std::fs::remove_file(&path);
    {
        let mut s = Store::open(&path).unwrap();
        s.record(&[rec("a", 10, Some(3), started("demo"))]).unwrap();
        // Dropped without an end event, as after a kill -9.
    }
    let mut s = Store::open(&path).unwrap();
    assert_eq!(
        s.recover_interrupted(UnixMillis(99)).unwrap(),
        vec![SessionId(3)]
    );
    let row = s.session(SessionId(3)).unwrap().unwrap();
    assert_eq!(row.outcome, Some(Outcome::Interrupted));
    let codes: Vec<_> = s
        .events(&EventQuery::default())
        .unwrap()
        .into_iter()
        .map(|e| e.code)
        .collect();
    assert_eq!(codes, vec!["session.started", "session.interrupted"]);
    assert!(s.recover_interrupted(UnixMillis(100)).unwrap().is_empty());
    let ro = Store::open_read_only(&path).unwrap();
    assert_eq!(ro.sessions(10).unwrap().len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_writer_thread_stores_everything_sent_before_it_is_dropped() {
    let dir = std::env::temp_dir().join(format!("tarsal-writer-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("w.db");
    let _ = std::fs::remove_file(&path);
    let (tx, writer) = StoreWriter::spawn(Store::open(&path).unwrap()).unwrap();
    for i in 0..200 {
        tx.send(rec(&format!("e{i}"), i, None, EventKind::SessionPaused))
            .unwrap();
    }
    drop(tx);
    writer.join();
    let s = Store::open_read_only(&path).unwrap();
    assert_eq!(s.events(&EventQuery::default()).unwrap().len(), 200);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sanitize_cycles_are_logged_and_settle_what_is_owed() {
    use tarsal_core::engine::SanitationRecord;
    let mut s = Store::open_in_memory().unwrap();
    assert!(!s.sanitation_owed("sanitize").unwrap());
    // A client session that ran.
    s.record(&[
        rec("c1", 100, Some(1), started("classic")),
        rec("c2", 110, Some(1), EventKind::SessionRunning),
        rec(
            "c3",
            200,
            Some(1),
            EventKind::SessionEnded {
                outcome: Outcome::Completed,
                detail: String::new(),
            },
        ),
    ])
    .unwrap();
    assert!(s.sanitation_owed("sanitize").unwrap());
    let logged = |complete: bool| {
        EventKind::SanitationLogged(SanitationRecord {
            cycle: "after-client".into(),
            complete,
            circulation: Duration::from_secs(if complete { 610 } else { 300 }),
            drained: true,
            initials: vec!["AB".into(), "C.D.".into()],
            missing: if complete {
                String::new()
            } else {
                "too short".into()
            },
        })
    };
    s.record(&[
        rec("s1", 300, Some(2), started("sanitize")),
        rec("s2", 400, Some(2), logged(false)),
    ])
    .unwrap();
    assert!(
        s.sanitation_owed("sanitize").unwrap(),
        "an incomplete cycle settles nothing"
    );
    s.record(&[
        rec("s3", 500, Some(3), started("sanitize")),
        rec("s4", 600, Some(3), logged(true)),
    ])
    .unwrap();
    assert!(!s.sanitation_owed("sanitize").unwrap());
    let log = s.sanitation_log(10).unwrap();
    assert_eq!(log.len(), 2);
    assert!(log[0].complete && !log[1].complete);
    let csv = sanitation_csv(&log);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines[1].contains(",no,5.0,yes,") && lines[1].ends_with("too short"),
        "{csv}"
    );
    assert!(lines[2].contains(",yes,10.2,yes,AB C.D.,"), "{csv}");
}

#[test]
fn the_events_table_is_an_outbox_read_in_order_from_a_cursor() {
    let mut s = Store::open_in_memory().unwrap();
    assert_eq!(s.last_event_id().unwrap(), 0);
    assert_eq!(s.outbox_cursor("mqtt").unwrap(), None);
    let batch: Vec<_> = (0..5)
        .map(|i| rec(&format!("o{i}"), i, None, EventKind::SessionPaused))
        .collect();
    s.record(&batch).unwrap();
    let first = s.events_after(0, 2).unwrap();
    assert_eq!(
        first.iter().map(|e| e.uid.as_str()).collect::<Vec<_>>(),
        ["o0", "o1"]
    );
    s.set_outbox_cursor("mqtt", first[1].id).unwrap();
    let cursor = s.outbox_cursor("mqtt").unwrap().unwrap();
    let rest = s.events_after(cursor, 100).unwrap();
    assert_eq!(
        rest.iter().map(|e| e.uid.as_str()).collect::<Vec<_>>(),
        ["o2", "o3", "o4"]
    );
    s.set_outbox_cursor("mqtt", rest[2].id).unwrap();
    assert_eq!(
        s.outbox_cursor("mqtt").unwrap(),
        Some(s.last_event_id().unwrap())
    );
    assert!(
        s.events_after(s.last_event_id().unwrap(), 10)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_writer_tells_its_listener_after_each_commit() {
    let dir = std::env::temp_dir().join(format!("tarsal-listener-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("l.db");
    let _ = std::fs::remove_file(&path);
    let (seen_tx, seen) = std::sync::mpsc::channel();
    let (tx, writer) = StoreWriter::spawn_with_listener(
        Store::open(&path).unwrap(),
        Box::new(move || {
            let _ = seen_tx.send(());
        }),
    )
    .unwrap();
    tx.send(rec("l0", 0, None, EventKind::SessionPaused))
        .unwrap();
    seen.recv_timeout(Duration::from_secs(5))
        .expect("told after the commit");
    // By then the event is readable from another connection.
    let reader = Store::open_read_only(&path).unwrap();
    assert_eq!(reader.events_after(0, 10).unwrap().len(), 1);
    drop(tx);
    writer.join();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_reader_can_wait_until_what_was_sent_is_written() {
    let (tx, writer) = crate::StoreWriter::spawn(Store::open_in_memory().unwrap()).unwrap();
    let written = writer.written();
    assert!(!written.wait_for(1, Duration::from_millis(10)));
    for n in 0..50 {
        tx.send(rec(&format!("w-{n}"), n, None, EventKind::SessionPaused))
            .unwrap();
    }
    assert!(written.wait_for(50, Duration::from_secs(10)));
    assert_eq!(written.count(), 50);
    drop(tx);
    writer.join();
}

#[test]
fn events_are_stored_with_their_wire_details() {
    let mut s = Store::open_in_memory().unwrap();
    let overfill = EventKind::Fault(Fault::Overfill {
        level: tarsal_core::units::Litres(16.2),
        limit: tarsal_core::units::Litres(16.0),
    });
    s.record(&[rec("a", 10, None, overfill)]).unwrap();
    let stored = s.events(&EventQuery::default()).unwrap();
    assert_eq!(
        stored[0].data,
        serde_json::json!({"level_l": 16.2, "limit_l": 16.0})
    );
}

/// A database from before schema 4 kept the engine's own form of each
/// event's details; opening it rewrites them in the wire's form, and a row
/// that is not an event at all is left alone.
#[test]
fn opening_an_older_database_rewrites_its_event_details() {
    let dir = std::env::temp_dir().join(format!("tarsal-store-migrate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("old.db");
    let _ = std::fs::remove_file(&path);
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        conn.pragma_update(None, "user_version", 3).unwrap();
        let insert =
            "INSERT INTO events (uid, at, session_id, code, severity, message, advice, data)
                      VALUES (?1, 1, NULL, ?2, 'critical', 'm', 'a', ?3)";
        conn.execute(
            insert,
            params![
                "old",
                "fault.overfill",
                r#"{"type":"fault","fault":"overfill","level":16.2,"limit":16.0}"#
            ],
        )
        .unwrap();
        conn.execute(insert, params!["odd", "fault.hardware", "\"not an event\""])
            .unwrap();
    }
    let s = Store::open(&path).unwrap();
    let stored = s.events(&EventQuery::default()).unwrap();
    assert_eq!(
        stored[0].data,
        serde_json::json!({"level_l": 16.2, "limit_l": 16.0})
    );
    assert_eq!(stored[1].data, serde_json::json!("not an event"));
    let version: i64 = s
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    drop(s);
    std::fs::remove_dir_all(&dir).unwrap();
}
