//! The store's own thread: takes event records from a channel and commits
//! them in batches, so the control loop never waits for the disk.

use crate::Store;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tarsal_core::event::EventRecord;

/// Sends records to the store thread. Dropping every clone ends the thread
/// after it has written what was sent.
pub struct StoreWriter {
    thread: JoinHandle<()>,
    written: Arc<Written>,
}

/// How many records the store thread has finished with (committed, or given
/// up on after retries), so a reader can wait for the events it knows of.
#[derive(Debug, Default)]
pub struct Written {
    count: Mutex<u64>,
    changed: Condvar,
}

impl Written {
    pub fn count(&self) -> u64 {
        *self.count.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Blocks until at least `records` are written or `timeout` passes;
    /// tells which.
    pub fn wait_for(&self, records: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut count = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        while *count < records {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            count = self
                .changed
                .wait_timeout(count, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    fn add(&self, records: usize) {
        *self.count.lock().unwrap_or_else(PoisonError::into_inner) += records as u64;
        self.changed.notify_all();
    }
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
        let written = Arc::new(Written::default());
        let thread = std::thread::Builder::new()
            .name("tarsal-store".into())
            .spawn({
                let written = Arc::clone(&written);
                move || run(store, rx, on_commit, &written)
            })?;
        Ok((tx, Self { thread, written }))
    }

    /// The count of records written so far, shared with readers.
    pub fn written(&self) -> Arc<Written> {
        Arc::clone(&self.written)
    }

    /// Waits until every record sent before all senders were dropped is written.
    pub fn join(self) {
        if self.thread.join().is_err() {
            tracing::error!("the store thread panicked");
        }
    }
}

fn run(mut store: Store, rx: Receiver<EventRecord>, on_commit: CommitListener, written: &Written) {
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
        written.add(batch.len());
        batch.clear();
    }
}
