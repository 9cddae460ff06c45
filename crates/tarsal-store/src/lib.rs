//! Storage on the chair: sessions and events in SQLite.
//!
//! Written so that a `kill -9` (or a power cut) loses nothing committed: WAL
//! journal, `synchronous = FULL`, one transaction per batch of events. A
//! session still open when the service starts was cut short by a crash; it is
//! marked `interrupted` and an event says so.
//!
//! [`StoreWriter`] owns the connection on a thread of its own so the control
//! loop never waits for the disk. Readers (the CLI, history queries) open their
//! own connections; WAL lets them read while the writer writes.

// The control path: no unwrap, expect or panic outside tests; errors are
// values that reach the caller (docs/ARCHITECTURE.md, "Lints").
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod writer;

pub use writer::{StoreWriter, Written};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;
use std::path::Path;
use tarsal_core::event::{EventKind, EventRecord};
use tarsal_core::session::{Outcome, SessionId};
use tarsal_core::wallclock::UnixMillis;
use tarsal_core::wire::EventDetails;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The path once, and SQLite's reason without it (SQLite's own message
    /// often repeats the path).
    #[error("cannot open the database {path}: {reason}")]
    Open { path: String, reason: String },
    #[error(
        "database {path} was written by a newer Tarsal (schema {found}, this one knows {known})"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("database: could not encode a record: {0}")]
    Encode(#[from] serde_json::Error),
}

const SCHEMA_VERSION: i64 = 4;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sessions (
    id              INTEGER PRIMARY KEY,
    program         TEXT    NOT NULL,
    program_version TEXT    NOT NULL,
    options         TEXT    NOT NULL,   -- JSON
    started_at      INTEGER NOT NULL,   -- unix ms
    ended_at        INTEGER,            -- NULL while the session is open
    outcome         TEXT,               -- completed, stopped, time_limit, aborted, emergency_stop, interrupted
    detail          TEXT    NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    uid         TEXT    NOT NULL UNIQUE,
    at          INTEGER NOT NULL,       -- unix ms
    session_id  INTEGER REFERENCES sessions(id),
    code        TEXT    NOT NULL,
    severity    TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    advice      TEXT    NOT NULL,
    data        TEXT    NOT NULL        -- JSON: the event's details (tarsal_core::wire), since schema 4
);
CREATE INDEX IF NOT EXISTS events_by_session ON events(session_id);
CREATE INDEX IF NOT EXISTS events_by_code ON events(code);
-- Schema 2: one row per sanitize cycle, from what the bath actually did.
CREATE TABLE IF NOT EXISTS sanitation_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id    INTEGER REFERENCES sessions(id),
    at            INTEGER NOT NULL,   -- unix ms, when the cycle ended
    cycle         TEXT    NOT NULL,   -- after-client, end-of-day …
    complete      INTEGER NOT NULL,   -- 0 or 1
    circulation_s REAL    NOT NULL,   -- jets running with water in the bath
    drained       INTEGER NOT NULL,
    initials      TEXT    NOT NULL,   -- staff who confirmed its steps, comma-separated
    missing       TEXT    NOT NULL    -- why it is incomplete
);
-- Schema 3: the events table is the outbox of each consumer that must see
-- every event (the MQTT adapter); this is how far each has been confirmed.
CREATE TABLE IF NOT EXISTS outbox_cursor (
    consumer      TEXT    PRIMARY KEY,
    last_event_id INTEGER NOT NULL
);
";

/// A session as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SessionRow {
    pub id: SessionId,
    pub program: String,
    pub program_version: String,
    pub options: serde_json::Value,
    pub started_at: UnixMillis,
    pub ended_at: Option<UnixMillis>,
    pub outcome: Option<Outcome>,
    pub detail: String,
}

/// An event as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventRow {
    pub id: i64,
    pub uid: String,
    pub at: UnixMillis,
    pub session: Option<SessionId>,
    pub code: String,
    pub severity: String,
    pub message: String,
    pub advice: String,
    pub data: serde_json::Value,
}

/// One sanitize cycle as logged.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SanitationRow {
    pub id: i64,
    pub session: Option<SessionId>,
    pub at: UnixMillis,
    pub cycle: String,
    pub complete: bool,
    pub circulation_s: f64,
    pub drained: bool,
    pub initials: Vec<String>,
    pub missing: String,
}

/// Which events to read.
#[derive(Clone, Debug, Default)]
pub struct EventQuery {
    pub session: Option<SessionId>,
    /// Only events whose code starts with this (`fault.`, `clamp.`…).
    pub code_prefix: Option<String>,
    /// The newest this many, returned oldest first.
    pub limit: Option<u32>,
}

pub struct Store {
    conn: Connection,
    path: String,
}

impl Store {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let name = path.display().to_string();
        let conn = Connection::open(path).map_err(|e| StoreError::Open {
            reason: open_reason(&e),
            path: name.clone(),
        })?;
        Self::init(conn, name)
    }

    /// Opens an existing database read-only (for the CLI and reports).
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let name = path.display().to_string();
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Open {
            reason: open_reason(&e),
            path: name.clone(),
        })?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Self { conn, path: name })
    }

    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?, ":memory:".into())
    }

    fn init(conn: Connection, path: String) -> Result<Self, StoreError> {
        let open_err = |e: rusqlite::Error| StoreError::Open {
            path: path.clone(),
            reason: open_reason(&e),
        };
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        // WAL keeps readers and the writer apart; FULL makes each commit
        // durable before the call returns.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(open_err)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path,
                found,
                known: SCHEMA_VERSION,
            });
        }
        conn.execute_batch(SCHEMA).map_err(open_err)?;
        let mut store = Self { conn, path };
        if (1..4).contains(&found) {
            store.rewrite_event_details()?;
        }
        store
            .conn
            .pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(|e| StoreError::Open {
                path: store.path.clone(),
                reason: open_reason(&e),
            })?;
        Ok(store)
    }

    /// Schema 4: events recorded before it hold the engine's own form of
    /// their details; rewrite them in the wire's form, so every row reads the
    /// same. A row that cannot be read as an event is left as it is.
    fn rewrite_event_details(&mut self) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let rows: Vec<(i64, String)> = {
            let mut stmt = tx.prepare("SELECT id, data FROM events")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?
        };
        let mut rewritten = 0usize;
        for (id, data) in rows {
            let Ok(kind) = serde_json::from_str::<EventKind>(&data) else {
                continue;
            };
            tx.execute(
                "UPDATE events SET data = ?1 WHERE id = ?2",
                params![details_json(&kind)?, id],
            )?;
            rewritten += 1;
        }
        tx.commit()?;
        tracing::info!(
            rewritten,
            "database {}: event details rewritten for schema 4",
            self.path
        );
        Ok(())
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// Marks every session left open by a crash as interrupted, with an event
    /// for each. Returns their ids.
    pub fn recover_interrupted(&mut self, now: UnixMillis) -> Result<Vec<SessionId>, StoreError> {
        let tx = self.conn.transaction()?;
        let open: Vec<i64> = {
            let mut stmt =
                tx.prepare("SELECT id FROM sessions WHERE ended_at IS NULL ORDER BY id")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        let detail = "the service stopped unexpectedly during the session";
        for &id in &open {
            tx.execute(
                "UPDATE sessions SET ended_at = ?1, outcome = 'interrupted', detail = ?2 WHERE id = ?3",
                params![now.0, detail, id],
            )?;
            let kind = EventKind::SessionEnded {
                outcome: Outcome::Interrupted,
                detail: detail.into(),
            };
            tx.execute(
                "INSERT INTO events (uid, at, session_id, code, severity, message, advice, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    format!("recovered-{id}-{}", now.0),
                    now.0,
                    id,
                    kind.code(),
                    kind.severity().code(),
                    kind.message(),
                    kind.advice(),
                    details_json(&kind)?,
                ],
            )?;
        }
        tx.commit()?;
        Ok(open.into_iter().map(|id| SessionId(id as u64)).collect())
    }

    /// The last session that ended, and how (after a restart, so clients
    /// still see it; an interrupted one included).
    pub fn last_ended_session(&self) -> Result<Option<(SessionId, Outcome)>, StoreError> {
        let row: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT id, outcome FROM sessions WHERE ended_at IS NOT NULL ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.and_then(|(id, outcome)| {
            Outcome::from_code(&outcome).map(|o| (SessionId(id as u64), o))
        }))
    }

    /// The id the next session should get.
    pub fn next_session_id(&self) -> Result<SessionId, StoreError> {
        let max: Option<i64> = self
            .conn
            .query_row("SELECT MAX(id) FROM sessions", [], |r| r.get(0))?;
        Ok(SessionId(max.map_or(1, |m| m as u64 + 1)))
    }

    /// Stores a batch of events in one transaction, opening and closing
    /// session rows as their start and end events go by.
    pub fn record(&mut self, records: &[EventRecord]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut insert_event = tx.prepare_cached(
                "INSERT OR IGNORE INTO events (uid, at, session_id, code, severity, message, advice, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for r in records {
                let kind = &r.event.kind;
                let session = r.event.session.map(|s| s.0 as i64);
                match kind {
                    EventKind::SessionStarted {
                        program,
                        program_version,
                        options,
                    } => {
                        tx.execute(
                            "INSERT OR IGNORE INTO sessions (id, program, program_version, options, started_at)
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                            params![
                                session,
                                program,
                                program_version,
                                serde_json::to_string(options)?,
                                r.wall.0
                            ],
                        )?;
                    }
                    EventKind::SanitationLogged(rec) => {
                        tx.execute(
                            "INSERT INTO sanitation_log (session_id, at, cycle, complete, circulation_s, drained, initials, missing)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                            params![
                                session,
                                r.wall.0,
                                rec.cycle,
                                rec.complete,
                                rec.circulation.as_secs_f64(),
                                rec.drained,
                                rec.initials.join(","),
                                rec.missing
                            ],
                        )?;
                    }
                    EventKind::SessionEnded { outcome, detail } => {
                        tx.execute(
                            "UPDATE sessions SET ended_at = ?1, outcome = ?2, detail = ?3 WHERE id = ?4",
                            params![r.wall.0, outcome.code(), detail, session],
                        )?;
                    }
                    _ => {}
                }
                insert_event.execute(params![
                    r.uid,
                    r.wall.0,
                    session,
                    kind.code(),
                    kind.severity().code(),
                    kind.message(),
                    kind.advice(),
                    details_json(kind)?,
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The newest `limit` sessions, newest first.
    pub fn sessions(&self, limit: u32) -> Result<Vec<SessionRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, program, program_version, options, started_at, ended_at, outcome, detail
             FROM sessions ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt
            .query_map([limit], session_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub fn session(&self, id: SessionId) -> Result<Option<SessionRow>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, program, program_version, options, started_at, ended_at, outcome, detail
                 FROM sessions WHERE id = ?1",
                [id.0 as i64],
                session_row,
            )
            .optional()?)
    }

    /// Events matching `query`, oldest first.
    pub fn events(&self, query: &EventQuery) -> Result<Vec<EventRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, uid, at, session_id, code, severity, message, advice, data FROM (
                 SELECT * FROM events
                 WHERE (?1 IS NULL OR session_id = ?1)
                   AND (?2 IS NULL OR substr(code, 1, length(?2)) = ?2)
                 ORDER BY id DESC LIMIT ?3
             ) ORDER BY id",
        )?;
        let limit = query.limit.map_or(-1, i64::from);
        let rows = stmt
            .query_map(
                params![query.session.map(|s| s.0 as i64), query.code_prefix, limit],
                event_row,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Up to `limit` events recorded after event `after` (by id), oldest first.
    pub fn events_after(&self, after: i64, limit: u32) -> Result<Vec<EventRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, uid, at, session_id, code, severity, message, advice, data
             FROM events WHERE id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![after, limit], event_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The id of the newest event, 0 when there is none.
    pub fn last_event_id(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |r| r.get(0))?)
    }

    /// How far `consumer` has confirmed the events (an event id), or `None`
    /// for a consumer never seen.
    pub fn outbox_cursor(&self, consumer: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT last_event_id FROM outbox_cursor WHERE consumer = ?1",
                [consumer],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn set_outbox_cursor(&self, consumer: &str, last_event_id: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO outbox_cursor (consumer, last_event_id) VALUES (?1, ?2)
             ON CONFLICT(consumer) DO UPDATE SET last_event_id = excluded.last_event_id",
            params![consumer, last_event_id],
        )?;
        Ok(())
    }

    /// Commits on this connection no longer wait for the disk. For a
    /// consumer's cursor: losing its last moves on power loss only means
    /// sending those events again (their ids let receivers drop repeats).
    pub fn relax_durability(&self) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(())
    }
}

/// The `data` of an event as stored and sent: its details in the wire's form.
fn details_json(kind: &EventKind) -> Result<String, StoreError> {
    let mut tagged = serde_json::to_value(EventDetails::of(kind))?;
    Ok(tagged
        .get_mut("data")
        .map(serde_json::Value::take)
        .unwrap_or_default()
        .to_string())
}

fn event_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EventRow> {
    let data: String = r.get(8)?;
    Ok(EventRow {
        id: r.get(0)?,
        uid: r.get(1)?,
        at: UnixMillis(r.get(2)?),
        session: r.get::<_, Option<i64>>(3)?.map(|s| SessionId(s as u64)),
        code: r.get(4)?,
        severity: r.get(5)?,
        message: r.get(6)?,
        advice: r.get(7)?,
        data: serde_json::from_str(&data).unwrap_or(serde_json::Value::String(data)),
    })
}

impl Store {
    /// The newest `limit` sanitize cycles, newest first.
    pub fn sanitation_log(&self, limit: u32) -> Result<Vec<SanitationRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, session_id, at, cycle, complete, circulation_s, drained, initials, missing
             FROM sanitation_log ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt
            .query_map([limit], |r| {
                let initials: String = r.get(7)?;
                Ok(SanitationRow {
                    id: r.get(0)?,
                    session: r.get::<_, Option<i64>>(1)?.map(|s| SessionId(s as u64)),
                    at: UnixMillis(r.get(2)?),
                    cycle: r.get(3)?,
                    complete: r.get(4)?,
                    circulation_s: r.get(5)?,
                    drained: r.get(6)?,
                    initials: initials
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    missing: r.get(8)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Whether a client session (one that ran, of any program but
    /// `sanitize_program`) ended after the last complete sanitize cycle.
    pub fn sanitation_owed(&self, sanitize_program: &str) -> Result<bool, StoreError> {
        let (last_client, last_clean): (Option<i64>, Option<i64>) = self.conn.query_row(
            "SELECT
                (SELECT MAX(ended_at) FROM sessions
                  WHERE program != ?1 AND ended_at IS NOT NULL
                    AND id IN (SELECT session_id FROM events WHERE code = 'session.running')),
                (SELECT MAX(at) FROM sanitation_log WHERE complete = 1)",
            [sanitize_program],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(match (last_client, last_clean) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(client), Some(clean)) => clean < client,
        })
    }
}

/// The sanitation log as CSV (oldest first), for inspectors and records.
/// Times are UTC (RFC 3339).
pub fn sanitation_csv(rows: &[SanitationRow]) -> String {
    let quote = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    let mut out = String::from(
        "date_time_utc,cycle,complete,circulation_minutes,drained,staff_initials,missing\n",
    );
    for r in rows.iter().rev() {
        out.push_str(&format!(
            "{},{},{},{:.1},{},{},{}\n",
            r.at,
            quote(&r.cycle),
            if r.complete { "yes" } else { "no" },
            r.circulation_s / 60.0,
            if r.drained { "yes" } else { "no" },
            quote(&r.initials.join(" ")),
            quote(&r.missing)
        ));
    }
    out
}

fn session_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRow> {
    let options: String = r.get(3)?;
    let outcome: Option<String> = r.get(6)?;
    Ok(SessionRow {
        id: SessionId(r.get::<_, i64>(0)? as u64),
        program: r.get(1)?,
        program_version: r.get(2)?,
        options: serde_json::from_str(&options).unwrap_or(serde_json::Value::String(options)),
        started_at: UnixMillis(r.get(4)?),
        ended_at: r.get::<_, Option<i64>>(5)?.map(UnixMillis),
        outcome: outcome.as_deref().and_then(Outcome::from_code),
        detail: r.get(7)?,
    })
}

#[cfg(test)]
mod tests;

/// Why SQLite could not open a database, without the path it tends to repeat.
fn open_reason(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(code, _) => code.to_string(),
        other => other.to_string(),
    }
}
