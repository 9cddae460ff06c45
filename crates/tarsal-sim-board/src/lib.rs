//! The simulated chair behind a real protocol stack: [`SimBoard`] plays a
//! Tarsal chair board (the register map of `tarsal-board`) in front of the
//! physical model of `tarsal-sim`, and [`serve_tcp`] serves it over Modbus
//! TCP. `tarsald` with `backend = "chair_board"` then drives the simulated
//! chair exactly as it drives a real one — the bench rig.
//!
//! Like a real board it keeps a communication watchdog (outputs off when the
//! heartbeat stops for the hold time), latches the emergency stop, reports its
//! contactor's auxiliary contact and draws a new boot id at every (re)start.
//! Protocol-level faults can be injected: a silent board, exception answers,
//! a restart, a frozen sensor scan, a welded contactor.
//!
//! Time: with [`BoardClock::Host`] the physics follow the host's heartbeat
//! (tests and benchmarks run at virtual speed, in lockstep with the engine);
//! with [`BoardClock::Wall`] they follow the board's own clock, as a real
//! board's would (the demo).

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod serial_line;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tarsal_board::{
    BoardInputs, BoardOutputs, INPUTS_LEN, INPUTS_START, Identity, OUTPUTS_LEN, OUTPUTS_START,
    PROTOCOL_VERSION, register, status,
};
use tarsal_core::hardware::{Hardware, KillSwitch};
use tarsal_core::model::Outputs;
use tarsal_sim::Simulator;
use tokio_modbus::{ExceptionCode, Request, Response};

/// Where the board's physics take their time from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoardClock {
    /// The host's heartbeat is the physics clock: lockstep with the engine.
    Host,
    /// The board's own monotonic clock, as on real hardware.
    Wall,
}

/// Protocol-level faults of the simulated board.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BoardFaults {
    /// The board stops answering (no response at all).
    pub silent: bool,
    /// Every request is answered with this exception code.
    pub exception: Option<u8>,
    /// The sensor scan is stuck: the sample counter stops and readings freeze.
    pub frozen_scan: bool,
    /// The contactor's auxiliary contact reports closed whatever the coil does.
    pub contactor_welded: bool,
}

/// What the board has seen, for tests and the bench rig's figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BoardCounters {
    /// Output blocks written.
    pub output_writes: u64,
    /// Input blocks read.
    pub input_reads: u64,
    /// Requests left unanswered (silent) or answered with an exception.
    pub refused: u64,
    /// Times the contactor closed.
    pub contactor_closings: u64,
}

struct State {
    sim: Simulator,
    clock: BoardClock,
    started: Instant,
    boot_id: u16,
    /// The physics time of the last exchange.
    now: Duration,
    sample_counter: u16,
    frozen: Option<BoardInputs>,
    host_contactor: bool,
    /// The host has acknowledged this boot id.
    acknowledged: bool,
    estop_latched: bool,
    hold: Duration,
    heartbeat: Option<Duration>,
    heartbeat_changed_at: Duration,
    watchdog_expired: bool,
    faults: BoardFaults,
    counters: BoardCounters,
    /// When the outputs last went safe on the board's own account
    /// (contactor opened), on the board's wall clock.
    went_safe_at: Option<Instant>,
}

/// A simulated chair board. Share it (`Arc`) between the server and a test.
pub struct SimBoard {
    state: Mutex<State>,
    kill: Arc<dyn KillSwitch>,
}

/// Boot ids differ from one start to the next, and from zero.
fn draw_boot_id(previous: u16) -> u16 {
    let nanos = Instant::now().elapsed().subsec_nanos()
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
    let mut id = (nanos as u16) | 1;
    if id == previous {
        id = id.wrapping_add(2);
    }
    id
}

impl SimBoard {
    /// A board in front of `sim`, powered up now: contactor open, outputs off.
    pub fn new(sim: Simulator, clock: BoardClock) -> Self {
        let kill = sim.kill_switch();
        kill.trip();
        Self {
            state: Mutex::new(State {
                sim,
                clock,
                started: Instant::now(),
                boot_id: draw_boot_id(0),
                now: Duration::ZERO,
                sample_counter: 0,
                frozen: None,
                host_contactor: false,
                acknowledged: false,
                estop_latched: false,
                hold: Duration::from_secs(2),
                heartbeat: None,
                heartbeat_changed_at: Duration::ZERO,
                watchdog_expired: false,
                faults: BoardFaults::default(),
                counters: BoardCounters::default(),
                went_safe_at: None,
            }),
            kill,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the simulated chair (test set-up: water, temperatures).
    pub fn with_sim<T>(&self, f: impl FnOnce(&mut Simulator) -> T) -> T {
        f(&mut self.lock().sim)
    }

    /// Sets the protocol-level faults.
    pub fn set_faults(&self, faults: BoardFaults) {
        self.lock().faults = faults;
    }

    /// The protocol-level faults now.
    pub fn faults(&self) -> BoardFaults {
        self.lock().faults
    }

    /// Restarts the board: new boot id, contactor open, latches cleared,
    /// heartbeat forgotten (the physical chair stays as it is).
    pub fn restart(&self) {
        let mut s = self.lock();
        s.boot_id = draw_boot_id(s.boot_id);
        s.host_contactor = false;
        s.acknowledged = false;
        s.estop_latched = false;
        s.heartbeat = None;
        s.frozen = None;
        self.kill.trip();
        let now = s.now;
        let _ = s.sim.write(now, &Outputs::SAFE);
    }

    /// The board's boot id now.
    pub fn boot_id(&self) -> u16 {
        self.lock().boot_id
    }

    /// Times the contactor closed so far.
    pub fn contactor_closings(&self) -> u64 {
        self.lock().counters.contactor_closings
    }

    /// Requests handled so far.
    pub fn counters(&self) -> BoardCounters {
        self.lock().counters
    }

    /// When the board last opened its contactor (its wall clock), if it did.
    pub fn went_safe_at(&self) -> Option<Instant> {
        self.lock().went_safe_at
    }

    /// Whether the board's communication watchdog has switched everything off.
    pub fn watchdog_expired(&self) -> bool {
        self.lock().watchdog_expired
    }

    fn physics_now(s: &State, heartbeat: Option<Duration>) -> Duration {
        match s.clock {
            BoardClock::Host => heartbeat.or(s.heartbeat).unwrap_or(s.now).max(s.now),
            BoardClock::Wall => s.started.elapsed(),
        }
    }

    /// Closes or opens the contactor from the host's command, the e-stop
    /// latch and the watchdog.
    fn drive_contactor(&self, s: &mut State) {
        let closed = s.host_contactor && s.acknowledged && !s.estop_latched && !s.watchdog_expired;
        if closed {
            if self.kill.is_tripped() {
                s.counters.contactor_closings += 1;
            }
            self.kill.rearm();
        } else if !self.kill.is_tripped() {
            self.kill.trip();
            s.went_safe_at = Some(Instant::now());
        }
    }

    /// The communication watchdog, on the board's own time: no new heartbeat
    /// for the hold time switches everything off until one arrives.
    fn watch(&self, s: &mut State) {
        let expired =
            s.heartbeat.is_some() && s.now.saturating_sub(s.heartbeat_changed_at) > s.hold;
        if expired && !s.watchdog_expired {
            s.watchdog_expired = true;
            let now = s.now;
            let _ = s.sim.write(now, &Outputs::SAFE);
        }
        self.drive_contactor(s);
    }

    fn set_host_contactor(&self, s: &mut State, closed: bool) {
        // A rising edge with the button released clears the e-stop latch.
        if closed && !s.host_contactor && s.estop_latched {
            let released = !s.sim.handle().estop_pressed();
            if released {
                s.estop_latched = false;
            }
        }
        s.host_contactor = closed;
    }

    fn write_outputs(&self, words: &[u16]) -> Result<(), ExceptionCode> {
        let block = BoardOutputs::decode(words).map_err(|_| ExceptionCode::IllegalDataValue)?;
        let mut s = self.lock();
        s.counters.output_writes += 1;
        if s.clock == BoardClock::Wall {
            s.now = s.started.elapsed();
        }
        s.hold = block.hold;
        if s.heartbeat != Some(block.heartbeat) {
            s.heartbeat_changed_at = Self::physics_now(&s, Some(block.heartbeat));
            s.watchdog_expired = false;
        }
        // Outputs apply at the time of the previous exchange; the physics
        // reach the new heartbeat at the next read (the order the
        // in-process simulator sees: write at t, then read at t + tick).
        let applied_at = s.now;
        s.heartbeat = Some(block.heartbeat);
        s.acknowledged = block.boot_ack == s.boot_id;
        self.set_host_contactor(&mut s, block.contactor);
        self.drive_contactor(&mut s);
        // The simulated bus failing behind the board: what a Modbus gateway
        // answers when the device behind it is silent.
        s.sim
            .write(applied_at, &block.outputs)
            .map_err(|_| ExceptionCode::GatewayTargetDevice)
    }

    fn write_contactor(&self, value: u16) -> Result<(), ExceptionCode> {
        let closed = match value {
            0 => false,
            1 => true,
            _ => return Err(ExceptionCode::IllegalDataValue),
        };
        let mut s = self.lock();
        self.set_host_contactor(&mut s, closed);
        self.drive_contactor(&mut s);
        Ok(())
    }

    fn read_inputs(&self) -> Result<Vec<u16>, ExceptionCode> {
        let mut s = self.lock();
        s.counters.input_reads += 1;
        let now = Self::physics_now(&s, None);
        s.now = s.now.max(now);
        self.watch(&mut s);
        let t = s.now;
        let readings = s
            .sim
            .read(t)
            .map_err(|_| ExceptionCode::GatewayTargetDevice)?
            .readings;
        if readings.estop_pressed && !s.estop_latched {
            s.estop_latched = true;
            self.drive_contactor(&mut s);
        }
        if s.faults.frozen_scan
            && let Some(frozen) = s.frozen
        {
            return Ok(with_identity(frozen, &s).encode());
        }
        s.sample_counter = s.sample_counter.wrapping_add(1);
        let mut bits = 0;
        if !self.kill.is_tripped() || s.faults.contactor_welded {
            bits |= status::CONTACTOR_CLOSED;
        }
        if s.estop_latched {
            bits |= status::ESTOP_LATCHED;
        }
        if s.watchdog_expired {
            bits |= status::WATCHDOG_EXPIRED;
        }
        let inputs = BoardInputs {
            identity: Identity {
                version: PROTOCOL_VERSION,
                boot_id: s.boot_id,
            },
            status: bits,
            sample_counter: s.sample_counter,
            fault_code: 0,
            readings,
        };
        s.frozen = Some(inputs);
        Ok(inputs.encode())
    }

    /// The board's own loop between requests (wall clock only): physics
    /// go on and the watchdog watches even when the host is gone.
    pub fn idle_tick(&self) {
        let mut s = self.lock();
        if s.clock == BoardClock::Wall {
            s.now = s.started.elapsed();
            self.watch(&mut s);
            let now = s.now;
            let _ = s.sim.read(now);
        }
    }

    /// Answers one Modbus request: `Ok(None)` is no answer at all.
    pub fn handle(&self, request: &Request<'_>) -> Result<Option<Response>, ExceptionCode> {
        let faults = self.faults();
        if faults.silent || faults.exception.is_some() {
            self.lock().counters.refused += 1;
            return match faults.exception {
                Some(code) => Err(ExceptionCode::new(code)),
                None => Ok(None),
            };
        }
        match request {
            Request::ReadInputRegisters(INPUTS_START, INPUTS_LEN) => {
                Ok(Some(Response::ReadInputRegisters(self.read_inputs()?)))
            }
            Request::ReadInputRegisters(..) => Err(ExceptionCode::IllegalDataAddress),
            Request::WriteMultipleRegisters(OUTPUTS_START, words)
                if words.len() == usize::from(OUTPUTS_LEN) =>
            {
                self.write_outputs(words)?;
                Ok(Some(Response::WriteMultipleRegisters(
                    OUTPUTS_START,
                    OUTPUTS_LEN,
                )))
            }
            Request::WriteSingleRegister(register::CONTACTOR, value) => {
                self.write_contactor(*value)?;
                Ok(Some(Response::WriteSingleRegister(
                    register::CONTACTOR,
                    *value,
                )))
            }
            Request::WriteMultipleRegisters(..) | Request::WriteSingleRegister(..) => {
                Err(ExceptionCode::IllegalDataAddress)
            }
            _ => Err(ExceptionCode::IllegalFunction),
        }
    }
}

fn with_identity(mut inputs: BoardInputs, s: &State) -> BoardInputs {
    inputs.identity.boot_id = s.boot_id;
    inputs
}

struct Service(Arc<SimBoard>);

impl tokio_modbus::server::Service for Service {
    type Request = Request<'static>;
    type Response = Option<Response>;
    type Exception = ExceptionCode;
    type Future = std::future::Ready<Result<Self::Response, Self::Exception>>;

    fn call(&self, request: Self::Request) -> Self::Future {
        std::future::ready(self.0.handle(&request))
    }
}

/// A board served on a TCP port from a thread of its own.
pub struct TcpBoard {
    /// Where it listens.
    pub address: SocketAddr,
    /// The board, for fault injection and the physical truth.
    pub board: Arc<SimBoard>,
    _server: std::thread::JoinHandle<()>,
}

/// Serves `board` over Modbus TCP on `address` (port 0: any free port) from
/// a background thread; returns once it listens.
pub fn serve_tcp(board: Arc<SimBoard>, address: SocketAddr) -> std::io::Result<TcpBoard> {
    let listener = std::net::TcpListener::bind(address)?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let served = Arc::clone(&board);
    let server = on_own_runtime("sim-board", move |runtime| {
        runtime.block_on(async move {
            if let Err(e) = run(listener, served).await {
                eprintln!("sim board: server stopped: {e}");
            }
        });
    })?;
    Ok(TcpBoard {
        address,
        board,
        _server: server,
    })
}

/// A board served over Modbus RTU on a serial port from a thread of its own.
pub struct SerialBoard {
    /// The board, for fault injection and the physical truth.
    pub board: Arc<SimBoard>,
    _server: std::thread::JoinHandle<()>,
}

/// Serves `board` over Modbus RTU on the serial port `path` from a
/// background thread; returns once the port is open.
pub fn serve_serial(board: Arc<SimBoard>, path: &str, baud: u32) -> std::io::Result<SerialBoard> {
    let (opened_tx, opened_rx) = std::sync::mpsc::channel::<std::io::Result<()>>();
    let served = Arc::clone(&board);
    let builder = tokio_serial::new(path, baud);
    let server = on_own_runtime("sim-board-rtu", move |runtime| {
        runtime.block_on(async move {
            let port = match tokio_serial::SerialStream::open(&builder) {
                Ok(port) => port,
                Err(e) => {
                    let _ = opened_tx.send(Err(e.into()));
                    return;
                }
            };
            let _ = opened_tx.send(Ok(()));
            spawn_board_loop(Arc::clone(&served));
            let server = tokio_modbus::server::rtu::Server::new(port);
            if let Err(e) = server.serve_forever(Service(served)).await {
                eprintln!("sim board: serial server stopped: {e}");
            }
        });
    })?;
    opened_rx
        .recv()
        .map_err(|_| std::io::Error::other("the serial server thread ended"))??;
    Ok(SerialBoard {
        board,
        _server: server,
    })
}

/// The board's own loop, every 10 ms, beside the server.
fn spawn_board_loop(board: Arc<SimBoard>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(10));
        loop {
            every.tick().await;
            board.idle_tick();
        }
    });
}

/// Runs `serve` on a thread of its own with a current-thread runtime.
fn on_own_runtime(
    name: &str,
    serve: impl FnOnce(tokio::runtime::Runtime) + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || serve(runtime))
}

/// Serves `board` on `listener` until the process ends.
pub async fn run(listener: std::net::TcpListener, board: Arc<SimBoard>) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    spawn_board_loop(Arc::clone(&board));
    let server = tokio_modbus::server::tcp::Server::new(listener);
    let on_connected = move |stream: tokio::net::TcpStream, _peer: SocketAddr| {
        let _ = stream.set_nodelay(true);
        let service = Service(Arc::clone(&board));
        async move { Ok(Some((service, stream))) }
    };
    server
        .serve(&on_connected, |e| {
            eprintln!("sim board: connection ended: {e}")
        })
        .await
}
