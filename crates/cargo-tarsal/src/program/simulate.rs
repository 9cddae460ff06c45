//! One session of a plugin on the simulated chair, at virtual speed, with
//! staff steps confirmed after a while — what `program check` and `program
//! run` are made of.

use anyhow::anyhow;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tarsal_core::engine::Refusal;
use tarsal_core::engine::{ChairStatus, Command};
use tarsal_core::event::Event;
use tarsal_core::program::CatalogError;
use tarsal_core::session::{Outcome, SessionId, SessionOptions};
use tarsal_core::{ChairProfile, Engine};
use tarsal_plugin_host::{Library, LoadReport, LoadedPlugin, ProgramSet};
use tarsal_runtime::Chair;
use tarsal_sim::Simulator;

pub const TICK: Duration = Duration::from_millis(10);

/// How the simulated salon behaves.
#[derive(Clone)]
pub struct Setting {
    pub profile: Arc<ChairProfile>,
    /// Staff confirm a staff step this long after the program asks.
    pub staff_reaction: Duration,
    /// Keep a snapshot this often (for plots); `None` keeps none.
    pub record_every: Option<Duration>,
}

/// What happened in one session.
pub struct SessionRun {
    pub outcome: Outcome,
    pub detail: String,
    /// Engine time from start to end.
    pub duration: Duration,
    pub events: Vec<Event>,
    pub staff_confirmations: u32,
    pub snapshots: Vec<ChairStatus>,
    /// Real time the simulation took.
    pub wall: Duration,
}

impl SessionRun {
    pub fn count(&self, prefix: &str) -> usize {
        self.events
            .iter()
            .filter(|e| e.kind.code().starts_with(prefix))
            .count()
    }
}

/// Why a session could not be run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The program refused these options at start (its own choice).
    #[error("the program declined these options: {0}")]
    Declined(String),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

pub fn run_session(
    library: &Library,
    plugin: &LoadedPlugin,
    options: SessionOptions,
    setting: &Setting,
) -> Result<SessionRun, RunError> {
    let started = Instant::now();
    let profile = Arc::clone(&setting.profile);
    let sim = Simulator::new(Arc::clone(&profile));
    let uses = plugin.info.uses;
    // A client sits in the chair for massage programs; sanitizing is done
    // with nobody in it.
    sim.handle()
        .set_feet_present(uses.foot_rollers || uses.calf_units);
    let catalog = ProgramSet::new(
        library.clone(),
        LoadReport {
            plugins: vec![plugin.clone()],
            problems: vec![],
        },
    );
    let mut chair = Chair::new(
        Engine::new(Arc::clone(&profile)),
        sim,
        Box::new(catalog),
        SessionId(1),
        TICK,
    );
    let id = match chair.start(&plugin.info.id, options) {
        Ok(id) => id,
        Err(Refusal::Catalog(CatalogError::Declined { reason, .. })) => {
            return Err(RunError::Declined(reason));
        }
        Err(e) => return Err(RunError::Failed(anyhow!("the session did not start: {e}"))),
    };
    let start = chair.now();
    // Past the longest a session may last (its maximum plus staff waits),
    // the service would have ended it: a session still going is a defect.
    let give_up =
        profile.session.max_duration + profile.session.staff_timeout + Duration::from_secs(10 * 60);
    let mut events = Vec::new();
    let mut snapshots = Vec::new();
    let mut next_snapshot = Duration::ZERO;
    let mut waiting_since: Option<Duration> = None;
    let mut confirmations = 0;
    loop {
        chair.step();
        events.extend(chair.drain_events());
        let now = chair.now();
        let status = chair.engine().status();
        if let Some(every) = setting.record_every
            && now >= next_snapshot
        {
            snapshots.push(status.clone());
            next_snapshot = now + every;
        }
        if let Some((ended, outcome)) = status.last_session
            && ended == id
        {
            if setting.record_every.is_some() {
                snapshots.push(status);
            }
            let detail = events
                .iter()
                .rev()
                .find_map(|e| match &e.kind {
                    tarsal_core::EventKind::SessionEnded { detail, .. } => Some(detail.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            return Ok(SessionRun {
                outcome,
                detail,
                duration: now - start,
                events,
                staff_confirmations: confirmations,
                snapshots,
                wall: started.elapsed(),
            });
        }
        let awaiting = status.session.as_ref().is_some_and(|s| s.awaiting_staff);
        if awaiting {
            let since = *waiting_since.get_or_insert(now);
            if now - since >= setting.staff_reaction {
                chair
                    .command(Command::ConfirmStaffStep {
                        initials: "SIM".into(),
                    })
                    .map_err(|e| RunError::Failed(anyhow!("confirming a staff step: {e}")))?;
                events.extend(chair.drain_events());
                confirmations += 1;
                waiting_since = None;
            }
        } else {
            waiting_since = None;
        }
        if now - start > give_up {
            return Err(RunError::Failed(anyhow!(
                "the session was still going after {} simulated minutes",
                give_up.as_secs() / 60
            )));
        }
    }
}
