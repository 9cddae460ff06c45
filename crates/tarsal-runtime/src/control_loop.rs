//! The control loop thread and the handle adapters use to talk to it.
//!
//! One thread owns the [`Chair`]. It ticks at a fixed period; between ticks it
//! waits on the request channel, so a command (an emergency stop above all) is
//! served as soon as it arrives rather than at the next tick. After each tick it
//! publishes a [`ChairStatus`] on a watch channel and hands every event to the
//! sinks (the store) and to a broadcast channel (live adapters).
//!
//! A separate watchdog thread watches the loop's heartbeat; if the loop stops
//! ticking for longer than the margin (a hung plugin, a deadlock) it trips the
//! hardware kill switch itself and publishes the fault in the status (so D-Bus
//! and MQTT show it while the loop is stuck); the loop latches the fault when
//! it resumes.
//!
//! Adapters never wait on the loop without a limit: a reply that does not come
//! within [`REPLY_TIMEOUT`] is an error, and an emergency stop trips the kill
//! switch from the caller's thread before it is even queued.

use crate::chair::{Chair, StopLine};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};
use tarsal_core::engine::{ChairStatus, Command, Refusal};
use tarsal_core::event::{EventRecord, Fault, Severity, StopSource};
use tarsal_core::hardware::{Hardware, KillSwitch};
use tarsal_core::program::{ProgramCatalog, ProgramInfo};
use tarsal_core::session::ChairState;
use tarsal_core::session::{SessionId, SessionOptions};
use tarsal_core::wallclock::UnixMillis;
use tokio::sync::{broadcast, oneshot, watch};

/// How the loop keeps time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pacing {
    /// One tick per `period / speed` of real time (speed 1 for real chairs;
    /// more for a simulated chair in a hurry).
    RealTime { speed: f64 },
    /// As fast as the CPU allows (simulated chairs, tests, benchmarks).
    Unpaced,
}

#[derive(Clone, Debug)]
pub struct LoopConfig {
    /// The tick, in engine time.
    pub period: Duration,
    pub pacing: Pacing,
    /// How late a tick may be (in real time) before the outputs go safe.
    pub watchdog_margin: Duration,
    /// How often the watchdog looks at the heartbeat (at most a quarter of
    /// period + margin). [`LoopConfig::WATCHDOG_POLL`] for real chairs; a
    /// fleet of simulated chairs on one machine looks less often.
    pub watchdog_poll: Duration,
    /// Prefix of event uids; unique per service start.
    pub event_prefix: String,
}

impl LoopConfig {
    pub const WATCHDOG_POLL: Duration = Duration::from_millis(20);
}

/// How long a shutdown waits for the loop to wind down.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

enum LoopRequest {
    Start {
        program: String,
        options: SessionOptions,
        reply: oneshot::Sender<Result<SessionId, Refusal>>,
    },
    Command {
        command: Command,
        reply: oneshot::Sender<Result<(), Refusal>>,
    },
    Programs {
        reply: oneshot::Sender<Vec<Arc<ProgramInfo>>>,
    },
    InstallCatalog {
        catalog: Box<dyn ProgramCatalog>,
        reply: oneshot::Sender<()>,
    },
    Shutdown,
}

fn start_request(
    program: &str,
    options: SessionOptions,
    reply: oneshot::Sender<Result<SessionId, Refusal>>,
) -> LoopRequest {
    LoopRequest::Start {
        program: program.to_owned(),
        options,
        reply,
    }
}

/// How long an adapter waits for the control loop to answer.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(2);

/// How long an emergency stop waits for the loop to confirm it; the kill
/// switch has tripped before the wait begins.
pub const ESTOP_CONFIRM_WAIT: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("the control loop is not running")]
    LoopGone,
    #[error(
        "the chair's controller did not answer within {} s; if it is stuck, its watchdog has cut power to the actuators",
        .waited.as_secs()
    )]
    NotAnswering { waited: Duration },
}

/// What adapters (D-Bus, MQTT, the panel, the one-shot runner) hold to talk to
/// the control loop. Cheap to clone.
#[derive(Clone)]
pub struct ChairHandle {
    requests: mpsc::Sender<LoopRequest>,
    status: watch::Receiver<ChairStatus>,
    events: broadcast::Sender<Arc<EventRecord>>,
    handed_out: Arc<AtomicU64>,
    stop_line: Arc<StopLine>,
}

/// Waits for a reply from the loop, at most `limit`.
async fn reply<T>(rx: oneshot::Receiver<T>, limit: Duration) -> Result<T, HandleError> {
    match tokio::time::timeout(limit, rx).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(_)) => Err(HandleError::LoopGone),
        Err(_) => Err(HandleError::NotAnswering { waited: limit }),
    }
}

impl ChairHandle {
    /// How many events the loop has handed to its sinks so far. A reader of
    /// the store waits until the store has written this many, so it sees
    /// every event that happened before its call.
    pub fn events_handed_out(&self) -> u64 {
        self.handed_out.load(Ordering::Acquire)
    }

    pub async fn start(
        &self,
        program: &str,
        options: SessionOptions,
    ) -> Result<SessionId, HandleError> {
        let rx = self.ask(|reply| start_request(program, options, reply))?;
        Ok(reply(rx, REPLY_TIMEOUT).await??)
    }

    /// Sends a command. An emergency stop cuts power at once, from this
    /// thread, and answers within [`ESTOP_CONFIRM_WAIT`] even when the loop
    /// is stuck (it latches the stop as soon as it runs again).
    pub async fn command(&self, command: Command) -> Result<(), HandleError> {
        if let Command::EmergencyStop(source) = command {
            self.stop_line.trip(source);
            let rx = self.ask(|reply| LoopRequest::Command { command, reply })?;
            return match reply(rx, ESTOP_CONFIRM_WAIT).await {
                Err(HandleError::NotAnswering { .. }) => Ok(()),
                other => Ok(other??),
            };
        }
        let rx = self.ask(|reply| LoopRequest::Command { command, reply })?;
        Ok(reply(rx, REPLY_TIMEOUT).await??)
    }

    /// Cuts power at once and has the loop latch an emergency stop from
    /// `source`, without waiting for it (for threads outside any runtime).
    pub fn emergency_stop_now(&self, source: StopSource) {
        self.stop_line.trip(source);
        let (reply, _) = oneshot::channel();
        let _ = self.requests.send(LoopRequest::Command {
            command: Command::EmergencyStop(source),
            reply,
        });
    }

    pub async fn programs(&self) -> Result<Vec<Arc<ProgramInfo>>, HandleError> {
        let rx = self.ask(|reply| LoopRequest::Programs { reply })?;
        reply(rx, REPLY_TIMEOUT).await
    }

    /// Replaces the program catalog (after the programs directory was
    /// reloaded). Running sessions keep the program instance they have.
    pub async fn install_catalog(
        &self,
        catalog: Box<dyn ProgramCatalog>,
    ) -> Result<(), HandleError> {
        let rx = self.ask(|reply| LoopRequest::InstallCatalog { catalog, reply })?;
        reply(rx, REPLY_TIMEOUT).await
    }

    /// Blocking forms, for threads outside any async runtime.
    pub fn start_blocking(
        &self,
        program: &str,
        options: SessionOptions,
    ) -> Result<SessionId, HandleError> {
        let rx = self.ask(|reply| start_request(program, options, reply))?;
        Ok(rx.blocking_recv().map_err(|_| HandleError::LoopGone)??)
    }

    pub fn command_blocking(&self, command: Command) -> Result<(), HandleError> {
        if let Command::EmergencyStop(source) = command {
            self.stop_line.trip(source);
        }
        let rx = self.ask(|reply| LoopRequest::Command { command, reply })?;
        Ok(rx.blocking_recv().map_err(|_| HandleError::LoopGone)??)
    }

    /// Sends the request `make` builds around a fresh reply channel.
    fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> LoopRequest,
    ) -> Result<oneshot::Receiver<T>, HandleError> {
        let (reply, rx) = oneshot::channel();
        self.requests
            .send(make(reply))
            .map_err(|_| HandleError::LoopGone)?;
        Ok(rx)
    }

    /// The latest status.
    pub fn status(&self) -> ChairStatus {
        self.status.borrow().clone()
    }

    /// A receiver that wakes on every published status.
    pub fn watch_status(&self) -> watch::Receiver<ChairStatus> {
        self.status.clone()
    }

    /// Live events from now on. A receiver that falls far behind misses
    /// events (it is told how many); the store never does.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<EventRecord>> {
        self.events.subscribe()
    }
}

/// The running loop; dropping it does not stop the thread, [`ControlLoop::shutdown`] does.
pub struct ControlLoop {
    handle: ChairHandle,
    thread: JoinHandle<()>,
    watchdog: Option<(Arc<Heartbeat>, JoinHandle<()>)>,
    /// Closed when the loop thread has finished.
    finished: mpsc::Receiver<()>,
    kill: Arc<dyn KillSwitch>,
}

/// Heartbeat between the loop and its watchdog.
struct Heartbeat {
    origin: Instant,
    /// Nanoseconds after `origin` of the last completed tick.
    last_beat: AtomicU64,
    /// The watchdog cut power; the loop must latch a fault.
    tripped: AtomicBool,
    late_by_ns: AtomicU64,
    stop: AtomicBool,
}

impl Heartbeat {
    fn beat(&self) {
        let ns = self.origin.elapsed().as_nanos() as u64;
        self.last_beat.store(ns, Ordering::Release);
    }
}

impl ControlLoop {
    /// Starts the loop thread (and its watchdog) owning `chair`. Each event is
    /// also sent to every sender in `sinks` (the store writer).
    pub fn spawn<H: Hardware + 'static>(
        chair: Chair<H>,
        config: LoopConfig,
        sinks: Vec<mpsc::Sender<EventRecord>>,
    ) -> std::io::Result<Self> {
        let (requests, rx) = mpsc::channel();
        let (status_tx, status) = watch::channel(chair.engine().status());
        let status_tx = Arc::new(status_tx);
        let stop_line = chair.stop_line();
        let (finished_tx, finished) = mpsc::channel::<()>();
        let (events, _) = broadcast::channel(1024);
        let handed_out = Arc::new(AtomicU64::new(0));
        let heartbeat = Arc::new(Heartbeat {
            origin: Instant::now(),
            last_beat: AtomicU64::new(0),
            tripped: AtomicBool::new(false),
            late_by_ns: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let kill = chair.hardware().kill_switch();
        let real_period = match config.pacing {
            Pacing::RealTime { speed } => chair.period().div_f64(speed.max(1e-3)),
            Pacing::Unpaced => Duration::ZERO,
        };
        let watchdog = {
            let hb = Arc::clone(&heartbeat);
            let limit = real_period + config.watchdog_margin;
            let nap = config.watchdog_poll.clamp(
                Duration::from_millis(1),
                (limit / 4).max(Duration::from_millis(1)),
            );
            let kill = Arc::clone(&kill);
            let status = Arc::clone(&status_tx);
            let thread = std::thread::Builder::new()
                .name("tarsal-watchdog".into())
                .spawn(move || watch_loop(&hb, kill.as_ref(), &status, limit, nap))?;
            Some((Arc::clone(&heartbeat), thread))
        };
        let runner = Runner {
            chair,
            config,
            rx,
            status: status_tx,
            events: events.clone(),
            sinks,
            handed_out: Arc::clone(&handed_out),
            heartbeat,
            seq: 0,
            published_revision: u64::MAX,
            published_at: Instant::now(),
        };
        let thread = std::thread::Builder::new()
            .name("tarsal-control".into())
            .spawn(move || {
                // Dropped when the thread ends, however it ends.
                let _finished = finished_tx;
                runner.run();
            })?;
        Ok(Self {
            handle: ChairHandle {
                requests,
                status,
                events,
                handed_out,
                stop_line,
            },
            thread,
            watchdog,
            finished,
            kill,
        })
    }

    pub fn handle(&self) -> ChairHandle {
        self.handle.clone()
    }

    /// Ends any session (recorded as stopped), leaves the outputs safe, and
    /// waits — at most `limit` — for the loop to finish handing out its last
    /// events. Returns `false` when the loop did not finish in time: the kill
    /// switch is then tripped and the thread abandoned (the caller should
    /// end the process).
    pub fn shutdown(mut self, limit: Duration) -> bool {
        let _ = self.handle.requests.send(LoopRequest::Shutdown);
        let finished = !matches!(
            self.finished.recv_timeout(limit),
            Err(mpsc::RecvTimeoutError::Timeout)
        );
        if !finished {
            self.kill.trip();
            tracing::error!(
                waited_ms = limit.as_millis() as u64,
                "the control loop did not stop in time; power is cut and it is abandoned"
            );
            return false;
        }
        if let Some((hb, thread)) = self.watchdog.take() {
            hb.stop.store(true, Ordering::Release);
            let _ = thread.join();
        }
        if self.thread.join().is_err() {
            tracing::error!("the control loop thread panicked");
        }
        true
    }
}

fn watch_loop(
    hb: &Heartbeat,
    kill: &dyn KillSwitch,
    status: &watch::Sender<ChairStatus>,
    limit: Duration,
    nap: Duration,
) {
    while !hb.stop.load(Ordering::Acquire) {
        std::thread::sleep(nap);
        let now = hb.origin.elapsed().as_nanos() as u64;
        let since = Duration::from_nanos(now.saturating_sub(hb.last_beat.load(Ordering::Acquire)));
        if since > limit && !hb.tripped.load(Ordering::Acquire) {
            kill.trip();
            hb.late_by_ns
                .store(since.as_nanos() as u64, Ordering::Release);
            hb.tripped.store(true, Ordering::Release);
            tracing::error!(
                late_ms = since.as_millis() as u64,
                "control loop stopped ticking; power to the actuators cut"
            );
            // Clients learn it now, not when (or if) the loop resumes.
            status.send_modify(|s| show_stuck(s, since));
        }
    }
}

/// The status as it is while the loop is stuck: the outputs are off (the
/// kill switch), and a loop-overrun fault is latched.
fn show_stuck(s: &mut ChairStatus, late_by: Duration) {
    let fault = Fault::LoopOverrun { late_by };
    let mut faults = s.faults.to_vec();
    faults.push(fault);
    s.faults = Arc::from(faults);
    if s.state != ChairState::Estop {
        s.state = ChairState::Fault;
    }
    s.outputs = tarsal_core::model::Outputs::SAFE;
}

struct Runner<H> {
    chair: Chair<H>,
    config: LoopConfig,
    rx: mpsc::Receiver<LoopRequest>,
    status: Arc<watch::Sender<ChairStatus>>,
    events: broadcast::Sender<Arc<EventRecord>>,
    sinks: Vec<mpsc::Sender<EventRecord>>,
    handed_out: Arc<AtomicU64>,
    heartbeat: Arc<Heartbeat>,
    seq: u64,
    published_revision: u64,
    published_at: Instant,
}

/// Continuous values (readings, progress) are republished at most this often;
/// discrete changes (state, step, faults) at once.
const PUBLISH_INTERVAL: Duration = Duration::from_millis(1);

enum Flow {
    Continue,
    Stop,
}

impl<H: Hardware> Runner<H> {
    fn run(mut self) {
        let period = self.chair.period();
        let mut anchor = Instant::now();
        let mut ticks_since_anchor: u32 = 0;
        self.heartbeat.beat();
        loop {
            // Serve requests until the next tick is due.
            let deadline = match self.config.pacing {
                Pacing::RealTime { speed } => Some(
                    anchor + period.mul_f64(f64::from(ticks_since_anchor + 1) / speed.max(1e-3)),
                ),
                Pacing::Unpaced => None,
            };
            loop {
                let request = match deadline {
                    Some(deadline) => {
                        let now = Instant::now();
                        if now >= deadline {
                            break;
                        }
                        match self.rx.recv_timeout(deadline - now) {
                            Ok(r) => r,
                            Err(RecvTimeoutError::Timeout) => break,
                            Err(RecvTimeoutError::Disconnected) => return self.finish(),
                        }
                    }
                    None => match self.rx.try_recv() {
                        Ok(r) => r,
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => return self.finish(),
                    },
                };
                if let Flow::Stop = self.serve(request) {
                    return self.finish();
                }
            }

            // Late by more than the margin, seen here or by the watchdog while
            // this thread was stuck: one fault, and a fresh schedule rather
            // than a rush to catch up.
            let mut late = deadline.map_or(Duration::ZERO, |d| {
                Instant::now().saturating_duration_since(d)
            });
            if late <= self.config.watchdog_margin {
                late = Duration::ZERO;
            }
            if self.heartbeat.tripped.swap(false, Ordering::AcqRel) {
                late = late.max(Duration::from_nanos(
                    self.heartbeat.late_by_ns.load(Ordering::Acquire),
                ));
            }
            if !late.is_zero() {
                self.chair.raise_fault(Fault::LoopOverrun { late_by: late });
                anchor = Instant::now();
                ticks_since_anchor = 0;
            }

            self.chair.step();
            ticks_since_anchor = ticks_since_anchor.wrapping_add(1);
            if ticks_since_anchor == u32::MAX {
                anchor = Instant::now();
                ticks_since_anchor = 0;
            }
            self.publish();
            self.heartbeat.beat();
        }
    }

    /// Serves one request. The new status is published before the reply
    /// goes out, so a client that reads the status after its call returns
    /// sees the effect.
    fn serve(&mut self, request: LoopRequest) -> Flow {
        match request {
            LoopRequest::Start {
                program,
                options,
                reply,
            } => {
                let result = self.chair.start(&program, options);
                self.publish();
                let _ = reply.send(result);
            }
            LoopRequest::Command { command, reply } => {
                let result = self.chair.command(command);
                self.publish();
                let _ = reply.send(result);
            }
            LoopRequest::Programs { reply } => {
                let _ = reply.send(self.chair.programs());
            }
            LoopRequest::InstallCatalog { catalog, reply } => {
                self.chair.set_catalog(catalog);
                let _ = reply.send(());
            }
            LoopRequest::Shutdown => return Flow::Stop,
        }
        Flow::Continue
    }

    /// Publishes the status (when something changed, or the last one is
    /// older than the publish interval) and hands out new events.
    fn publish(&mut self) {
        let engine = self.chair.engine();
        if engine.revision() != self.published_revision
            || self.published_at.elapsed() >= PUBLISH_INTERVAL
        {
            self.published_revision = engine.revision();
            self.published_at = Instant::now();
            self.status.send_replace(engine.status());
        }
        if !self.chair.engine().has_events() {
            return;
        }
        let wall = UnixMillis::from_system_time(SystemTime::now());
        let events: Vec<_> = self.chair.drain_events().collect();
        for event in events {
            self.seq += 1;
            let record = EventRecord {
                uid: format!("{}-{}", self.config.event_prefix, self.seq),
                wall,
                event,
            };
            log_event(&record);
            for sink in &self.sinks {
                let _ = sink.send(record.clone());
            }
            self.handed_out.store(self.seq, Ordering::Release);
            let _ = self.events.send(Arc::new(record));
        }
    }

    fn finish(mut self) {
        self.chair.shut_down();
        self.publish();
    }
}

fn log_event(r: &EventRecord) {
    let kind = &r.event.kind;
    let session = r.event.session.map(|s| s.0);
    let message = kind.message();
    match kind.severity() {
        Severity::Info => tracing::info!(code = kind.code(), session, "{message}"),
        Severity::Warning => tracing::warn!(code = kind.code(), session, "{message}"),
        Severity::Critical => {
            tracing::error!(code = kind.code(), session, advice = %kind.advice(), "{message}")
        }
    }
}
