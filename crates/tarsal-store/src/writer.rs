//! The store's own thread: takes event records from a channel and commits
//! them in batches, so the control loop never waits for the disk.

use crate::Store;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::Duration;
use tarsal_core::event::EventRecord;

/// Sends records to the store thread. Dropping every clone ends the thread
/// after it has written what was sent.
pub struct StoreWriter {
    thread: JoinHandle<()>,
}

/// Called after each batch is committed (outbox consumers wake on it).
pub type CommitListener = Box<dyn Fn() + Send>;

impl StoreWriter {
    pub fn spawn(store: Store) -> std::io::Result<(Sender<EventRecord>, Self)> {
        Self::spawn_with_listener(store, Box::new(|| {}))
    }

    /// As [`StoreWriter::spawn`], calling `on_commit` after every committed batch.
    pub fn spawn_with_listener(
        store: Store,
        on_commit: CommitListener,
    ) -> std::io::Result<(Sender<EventRecord>, Self)> {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("tarsal-store".into())
            .spawn(move || run(store, rx, on_commit))?;
        Ok((tx, Self { thread }))
    }

    /// Waits until every record sent before all senders were dropped is written.
    pub fn join(self) {
        if self.thread.join().is_err() {
            tracing::error!("the store thread panicked");
        }
    }
}

fn run(mut store: Store, rx: Receiver<EventRecord>, on_commit: CommitListener) {
    let mut batch = Vec::new();
    while let Ok(first) = rx.recv() {
        batch.push(first);
        batch.extend(rx.try_iter());
        // A failed commit is retried a few times (the disk may be briefly
        // busy); what still fails is logged, never silently dropped.
        let mut attempt = 0;
        loop {
            match store.record(&batch) {
                Ok(()) => {
                    on_commit();
                    break;
                }
                Err(e) if attempt < 3 => {
                    attempt += 1;
                    tracing::warn!(error = %e, attempt, "could not store events; retrying");
                    std::thread::sleep(Duration::from_millis(50 * attempt));
                }
                Err(e) => {
                    for r in &batch {
                        tracing::error!(error = %e, uid = %r.uid, code = r.event.kind.code(), "event not stored");
                    }
                    break;
                }
            }
        }
        batch.clear();
    }
}
