//! `tarsalctl sessions` and `tarsalctl events`: the history in the service's
//! database, read directly (offline, on the chair).

use anyhow::{Context, Result};
use std::path::Path;
use tarsal_core::session::SessionId;
use tarsal_store::{EventQuery, Store};

fn open(db: &Path) -> Result<Store> {
    if !db.exists() {
        anyhow::bail!(
            "{}: no database here (is tarsald using another --db?)",
            db.display()
        );
    }
    Store::open_read_only(db).with_context(|| format!("opening {}", db.display()))
}

pub fn sessions(db: &Path, limit: u32, json: bool) -> Result<()> {
    let rows = open(db)?.sessions(limit)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if rows.is_empty() {
        println!("no sessions recorded");
    } else {
        println!(
            "{:>5}  {:<24}  {:<20}  {:<14}  detail",
            "id", "started", "program", "outcome"
        );
        for r in rows {
            let outcome = r.outcome.map_or("running", |o| o.code());
            println!(
                "{:>5}  {:<24}  {:<20}  {:<14}  {}",
                r.id.0,
                r.started_at.to_string(),
                r.program,
                outcome,
                r.detail
            );
        }
    }
    Ok(())
}

pub fn events(
    db: &Path,
    session: Option<u64>,
    code: Option<String>,
    limit: u32,
    json: bool,
) -> Result<()> {
    let rows = open(db)?.events(&EventQuery {
        session: session.map(SessionId),
        code_prefix: code,
        limit: Some(limit),
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if rows.is_empty() {
        println!("no events recorded");
    } else {
        for e in rows {
            let session = e.session.map_or("-".into(), |s| s.to_string());
            println!(
                "{}  {:<8}  session {:<4}  {:<28}  {}",
                e.at, e.severity, session, e.code, e.message
            );
            if !e.advice.is_empty() {
                println!("{:>44}what to do: {}", "", e.advice);
            }
        }
    }
    Ok(())
}
