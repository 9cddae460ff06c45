//! The host side of the chair-board protocol over Modbus TCP.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tarsal_board::{
    BoardInputs, BoardOutputs, DecodeError, INPUTS_LEN, INPUTS_START, OUTPUTS_START, register,
    status,
};
use tarsal_core::hardware::{
    Hardware, HardwareError, HardwareProblem, KillSwitch, LinkMonitor, LinkVerdict, Sample,
};
use tarsal_core::model::{Outputs, SensorReadings};
use tarsal_core::profile::ChairProfile;
use tokio_modbus::client::sync::{Context, Reader, Writer};
use tokio_modbus::{ExceptionCode, Slave};

/// Exchanges in a row in which the contactor's auxiliary contact disagrees
/// with its command before that is a fault (a contactor takes ~20 ms to move).
const CONTACTOR_MISMATCHES_TOLERATED: u32 = 3;

/// Where the board is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BoardAddress {
    /// Modbus TCP: the board, or an RS-485 gateway.
    Tcp(SocketAddr),
    /// Modbus RTU on a serial port (RS-485).
    Serial {
        /// The device, e.g. `/dev/ttyUSB0`.
        path: String,
        /// Line speed, bit/s.
        baud: u32,
    },
}

impl fmt::Display for BoardAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp(address) => write!(f, "tcp {address}"),
            Self::Serial { path, baud } => write!(f, "serial {path} at {baud} bit/s"),
        }
    }
}

/// How to reach the board and how often to talk to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoardSettings {
    /// Where the board is.
    pub address: BoardAddress,
    /// Its Modbus unit id.
    pub unit_id: u8,
    /// Time between exchanges.
    pub poll_interval: Duration,
    /// How long one request waits for its answer.
    pub response_timeout: Duration,
    /// The communication watchdog's hold time, written to the board: the
    /// profile's heater hold time (SPEC §3), enforced by the board's firmware.
    pub hold: Duration,
}

impl BoardSettings {
    /// The settings of the profile's `[chair_board]` table.
    pub fn from_profile(profile: &ChairProfile) -> Result<Self, ConnectError> {
        let spec = profile
            .chair_board
            .as_ref()
            .ok_or(ConnectError::NotConfigured)?;
        let address = match (&spec.tcp, &spec.serial) {
            (Some(tcp), None) => BoardAddress::Tcp(
                tcp.parse()
                    .map_err(|_| ConnectError::BadAddress(tcp.clone()))?,
            ),
            (None, Some(path)) => BoardAddress::Serial {
                path: path.clone(),
                baud: spec.baud,
            },
            _ => {
                return Err(ConnectError::BadAddress(
                    "give one of tcp and serial".into(),
                ));
            }
        };
        Ok(Self {
            address,
            unit_id: spec.unit_id,
            poll_interval: spec.poll_interval,
            response_timeout: spec.response_timeout,
            hold: profile.outputs.heater_hold,
        })
    }
}

/// Why the board could not be brought up.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The profile has no `[chair_board]` table.
    #[error("the chair profile has no [chair_board] table")]
    NotConfigured,
    /// `[chair_board]` does not say where the board is.
    #[error("chair_board: {0:?} is not an address")]
    BadAddress(String),
    /// Nothing answered.
    #[error("no chair board answers at {address}: {detail}")]
    Unreachable {
        /// Where the board was looked for.
        address: BoardAddress,
        /// What failed.
        detail: String,
    },
    /// Something answered that is not a matching chair board.
    #[error("the device at {address} is not a usable chair board: {source}")]
    WrongBoard {
        /// Where.
        address: BoardAddress,
        /// What its registers said.
        source: DecodeError,
    },
    /// The board answered with a Modbus exception.
    #[error("the chair board at {address} refused the {request}: Modbus exception {code}")]
    Refused {
        /// Where.
        address: BoardAddress,
        /// Which request.
        request: &'static str,
        /// The exception.
        code: String,
    },
    /// The I/O thread could not be started.
    #[error("could not start the board's I/O thread: {0}")]
    Thread(std::io::Error),
}

/// How the link is doing: counters since start, for the technician.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkHealth {
    /// Exchanges completed (a write of the outputs and a read of the inputs).
    pub exchanges: u64,
    /// Requests that failed (timeouts, broken connections, bad answers).
    pub failures: u64,
    /// Modbus exception answers.
    pub exceptions: u64,
    /// Connections opened after the first.
    pub reconnects: u64,
    /// The board restarted under us (its boot id changed).
    pub restarts: u64,
    /// Failed requests since the last good exchange.
    pub consecutive_failures: u32,
    /// The last failure, in words.
    pub last_error: Option<String>,
    /// The board's boot id.
    pub boot_id: u16,
}

/// The process image the I/O thread and the control loop share.
struct Image {
    outputs: Outputs,
    heartbeat: Duration,
    readings: SensorReadings,
    sample_counter: u16,
    sample_changed_at: Instant,
    /// A fault that lasts while its cause does.
    condition: Option<HardwareError>,
    /// A fault reported once (the board restarted).
    event: Option<HardwareError>,
    requested: u64,
    served: u64,
    stop: bool,
    /// The board has been told to open the contactor since the last trip.
    open_written: bool,
    /// The last attempt to tell it so failed (retried at the next poll).
    trip_failed: bool,
    health: LinkHealth,
}

struct Shared {
    image: Mutex<Image>,
    wake: Condvar,
    tripped: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Image> {
        // The image is plain data: a panic elsewhere cannot leave it torn.
        self.image.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The kill switch over the wire: writes `CONTACTOR = 0` at once from the
/// I/O thread; the board's watchdog opens it anyway if the host is gone.
struct BoardKillSwitch(Arc<Shared>);

impl KillSwitch for BoardKillSwitch {
    fn trip(&self) {
        self.0.tripped.store(true, Ordering::SeqCst);
        self.0.wake.notify_all();
    }
    fn rearm(&self) {
        self.0.tripped.store(false, Ordering::SeqCst);
        let mut image = self.0.lock();
        image.open_written = false;
        image.trip_failed = false;
    }
    fn is_tripped(&self) -> bool {
        self.0.tripped.load(Ordering::SeqCst)
    }
}

/// A Tarsal chair board on Modbus TCP, as the chair's [`Hardware`].
pub struct ChairBoardLink {
    shared: Arc<Shared>,
    kill: Arc<BoardKillSwitch>,
    io: Option<JoinHandle<()>>,
}

/// One connection to the board and what the I/O thread remembers about it.
struct Wire {
    settings: BoardSettings,
    context: Option<Context>,
    boot_id: u16,
    contactor_written: Option<bool>,
    contactor_mismatches: u32,
    link: LinkMonitor,
}

/// A failed request: a glitch (retry) or a fault now.
enum Failure {
    Glitch(String),
    Fault(HardwareProblem, String),
}

impl Wire {
    fn connect(settings: &BoardSettings) -> std::io::Result<Context> {
        let slave = Slave(settings.unit_id);
        let mut context = match &settings.address {
            BoardAddress::Tcp(address) => {
                tokio_modbus::client::sync::tcp::connect_slave_with_timeout(
                    *address,
                    slave,
                    Some(settings.response_timeout),
                )?
            }
            BoardAddress::Serial { path, baud } => {
                tokio_modbus::client::sync::rtu::connect_slave_with_timeout(
                    &tokio_serial::new(path, *baud),
                    slave,
                    Some(settings.response_timeout),
                )?
            }
        };
        context.set_timeout(settings.response_timeout);
        Ok(context)
    }

    fn context(&mut self, health: &mut LinkHealth) -> Result<&mut Context, Failure> {
        if self.context.is_none() {
            let context = Self::connect(&self.settings)
                .map_err(|e| Failure::Glitch(format!("connecting: {e}")))?;
            health.reconnects += 1;
            self.context = Some(context);
        }
        self.context
            .as_mut()
            .ok_or_else(|| Failure::Glitch("no connection".into()))
    }

    /// Maps a request's outcome, dropping the connection after a transport
    /// failure (a late answer must never be taken for the next one's).
    fn outcome<T>(
        &mut self,
        what: &str,
        result: tokio_modbus::Result<T>,
        health: &mut LinkHealth,
    ) -> Result<T, Failure> {
        match result {
            Ok(Ok(value)) => Ok(value),
            // A gateway's "no answer from the device behind me": a glitch.
            Ok(Err(
                code @ (ExceptionCode::GatewayPathUnavailable | ExceptionCode::GatewayTargetDevice),
            )) => {
                health.exceptions += 1;
                Err(Failure::Glitch(format!(
                    "{what}: the gateway got no answer from the board (Modbus exception {code})"
                )))
            }
            Ok(Err(code)) => {
                health.exceptions += 1;
                Err(Failure::Fault(
                    HardwareProblem::BoardRefused,
                    format!("the board refused the {what}: Modbus exception {code}"),
                ))
            }
            Err(e) => {
                self.context = None;
                Err(Failure::Glitch(format!("{what}: {e}")))
            }
        }
    }

    fn write_contactor(&mut self, closed: bool, health: &mut LinkHealth) -> Result<(), Failure> {
        let result = self
            .context(health)?
            .write_single_register(register::CONTACTOR, u16::from(closed));
        self.outcome("contactor write", result, health)?;
        self.contactor_written = Some(closed);
        Ok(())
    }

    /// One exchange: outputs out, inputs in.
    fn exchange(
        &mut self,
        block: &BoardOutputs,
        health: &mut LinkHealth,
    ) -> Result<BoardInputs, Failure> {
        let words = block.encode();
        let result = self
            .context(health)?
            .write_multiple_registers(OUTPUTS_START, &words);
        self.outcome("output write", result, health)?;
        self.contactor_written = Some(block.contactor);
        let result = self
            .context(health)?
            .read_input_registers(INPUTS_START, INPUTS_LEN);
        let words = self.outcome("input read", result, health)?;
        let inputs = BoardInputs::decode(&words)
            .map_err(|e| Failure::Fault(HardwareProblem::WrongBoard, e.to_string()))?;
        self.check(&inputs, block.contactor)?;
        Ok(inputs)
    }

    /// What the board's own bits say about it.
    fn check(&mut self, inputs: &BoardInputs, commanded: bool) -> Result<(), Failure> {
        if inputs.has(status::BOARD_FAULT) {
            return Err(Failure::Fault(
                HardwareProblem::BoardFault,
                format!("the board reports fault code {}", inputs.fault_code),
            ));
        }
        let board_opened =
            inputs.has(status::ESTOP_LATCHED) || inputs.has(status::WATCHDOG_EXPIRED);
        let expected = commanded && !board_opened;
        if inputs.has(status::CONTACTOR_CLOSED) == expected {
            self.contactor_mismatches = 0;
        } else {
            self.contactor_mismatches += 1;
            if self.contactor_mismatches > CONTACTOR_MISMATCHES_TOLERATED {
                return Err(Failure::Fault(
                    HardwareProblem::ContactorFeedback,
                    format!(
                        "the contactor was commanded {} but its auxiliary contact reads {} \
                         ({} exchanges)",
                        if expected { "closed" } else { "open" },
                        if expected { "open" } else { "closed" },
                        self.contactor_mismatches
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl ChairBoardLink {
    /// Connects to the board, checks who it is, writes safe outputs with the
    /// contactor open, and starts the I/O thread. Fails with the reason if the
    /// board is unreachable, refuses, or is not a matching chair board.
    pub fn connect(settings: BoardSettings) -> Result<Self, ConnectError> {
        let address = settings.address.clone();
        let unreachable = |detail: String| ConnectError::Unreachable {
            address: address.clone(),
            detail,
        };
        let mut context = Wire::connect(&settings).map_err(|e| unreachable(e.to_string()))?;
        let safe = BoardOutputs {
            contactor: false,
            hold: settings.hold,
            heartbeat: Duration::ZERO,
            boot_ack: 0,
            outputs: Outputs::SAFE,
        };
        let refused = |request: &'static str, code: ExceptionCode| ConnectError::Refused {
            address: address.clone(),
            request,
            code: code.to_string(),
        };
        context
            .write_multiple_registers(OUTPUTS_START, &safe.encode())
            .map_err(|e| unreachable(e.to_string()))?
            .map_err(|code| refused("safe-output write", code))?;
        let words = context
            .read_input_registers(INPUTS_START, INPUTS_LEN)
            .map_err(|e| unreachable(e.to_string()))?
            .map_err(|code| refused("input read", code))?;
        let inputs = BoardInputs::decode(&words).map_err(|source| ConnectError::WrongBoard {
            address: address.clone(),
            source,
        })?;
        let shared = Arc::new(Shared {
            image: Mutex::new(Image {
                outputs: Outputs::SAFE,
                heartbeat: Duration::ZERO,
                readings: inputs.readings,
                sample_counter: inputs.sample_counter,
                sample_changed_at: Instant::now(),
                condition: None,
                event: None,
                requested: 0,
                served: 0,
                stop: false,
                open_written: true,
                trip_failed: false,
                health: LinkHealth {
                    boot_id: inputs.identity.boot_id,
                    ..LinkHealth::default()
                },
            }),
            wake: Condvar::new(),
            // Start safe: armed by the control loop's first write.
            tripped: AtomicBool::new(true),
        });
        let wire = Wire {
            settings,
            context: Some(context),
            boot_id: inputs.identity.boot_id,
            contactor_written: Some(false),
            contactor_mismatches: 0,
            link: LinkMonitor::default(),
        };
        let for_thread = Arc::clone(&shared);
        let io = std::thread::Builder::new()
            .name("chair-board-io".into())
            .spawn(move || io_thread(wire, &for_thread))
            .map_err(ConnectError::Thread)?;
        Ok(Self {
            kill: Arc::new(BoardKillSwitch(Arc::clone(&shared))),
            shared,
            io: Some(io),
        })
    }

    /// The link's counters now.
    pub fn health(&self) -> LinkHealth {
        self.shared.lock().health.clone()
    }

    /// Runs one exchange now and waits for it (at most `timeout`): the board
    /// then holds every output written so far, and the image a sample taken
    /// after them. The bench rig steps the engine in lockstep with it; the
    /// heartbeat becomes `heartbeat`. False if the exchange did not finish in time.
    pub fn exchange_now(&self, heartbeat: Duration, timeout: Duration) -> bool {
        let mut image = self.shared.lock();
        image.heartbeat = heartbeat;
        image.requested += 1;
        let wanted = image.requested;
        drop(image);
        self.shared.wake.notify_all();
        self.wait_until(timeout, |image| image.served >= wanted)
            .is_some()
    }

    /// Waits (at most `timeout`) until `done` holds of the process image;
    /// the image, if it came to hold.
    fn wait_until(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&Image) -> bool,
    ) -> Option<MutexGuard<'_, Image>> {
        let deadline = Instant::now() + timeout;
        let mut image = self.shared.lock();
        while !done(&image) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            image = self
                .shared
                .wake
                .wait_timeout(image, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        Some(image)
    }
}

impl ChairBoardLink {
    /// Waits (at most `timeout`) until a tripped kill switch has reached the
    /// board, or an attempt to deliver it has failed — the I/O thread wakes
    /// on a trip by itself. True if it is delivered or not tripped.
    pub fn wait_for_trip_attempt(&self, timeout: Duration) -> bool {
        let tripped = || self.kill.is_tripped();
        self.wait_until(timeout, |image| {
            !tripped() || image.open_written || image.trip_failed
        })
        .is_some_and(|image| image.open_written || !tripped())
    }
}

impl Hardware for ChairBoardLink {
    fn read(&mut self, _now: Duration) -> Result<Sample, HardwareError> {
        let mut image = self.shared.lock();
        if let Some(event) = image.event.take() {
            return Err(event);
        }
        if let Some(condition) = &image.condition {
            return Err(condition.clone());
        }
        Ok(Sample {
            readings: image.readings,
            age: image.sample_changed_at.elapsed(),
        })
    }

    fn write(&mut self, now: Duration, outputs: &Outputs) -> Result<(), HardwareError> {
        let mut image = self.shared.lock();
        image.outputs = *outputs;
        image.heartbeat = now;
        Ok(())
    }

    fn kill_switch(&self) -> Arc<dyn KillSwitch> {
        self.kill.clone()
    }
}

impl Drop for ChairBoardLink {
    /// Trips the contactor and stops the I/O thread, which leaves the board
    /// with safe outputs and the contactor open.
    fn drop(&mut self) {
        self.kill.trip();
        self.shared.lock().stop = true;
        self.shared.wake.notify_all();
        if let Some(io) = self.io.take() {
            let _ = io.join();
        }
    }
}

fn io_thread(mut wire: Wire, shared: &Shared) {
    let mut next = Instant::now();
    // A trip the board did not take is retried at the next poll, not at once.
    let mut trip_failed = false;
    loop {
        // Sleep until the next poll, or until a trip, a lockstep request or a stop.
        let (block, trip_unsent, serving, stop) = {
            let mut image = shared.lock();
            loop {
                let trip_unsent = shared.tripped.load(Ordering::SeqCst) && !image.open_written;
                if image.stop || (trip_unsent && !trip_failed) || image.requested > image.served {
                    break;
                }
                let left = next.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                image = shared
                    .wake
                    .wait_timeout(image, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            let tripped = shared.tripped.load(Ordering::SeqCst);
            let contactor = !tripped && !image.stop;
            let block = BoardOutputs {
                contactor,
                hold: wire.settings.hold,
                heartbeat: image.heartbeat,
                boot_ack: wire.boot_id,
                outputs: if contactor {
                    image.outputs
                } else {
                    Outputs::SAFE
                },
            };
            let trip_unsent = (tripped && !image.open_written) || image.stop;
            (block, trip_unsent, image.requested, image.stop)
        };
        next = Instant::now() + wire.settings.poll_interval;
        let mut health = shared.lock().health.clone();
        // The kill switch's short way: the contactor register before anything else.
        let opened = if trip_unsent {
            wire.write_contactor(false, &mut health)
        } else {
            Ok(())
        };
        let delivered = trip_unsent && opened.is_ok();
        trip_failed = trip_unsent && !delivered;
        let result = opened.and_then(|()| wire.exchange(&block, &mut health).map(Some));
        let mut image = shared.lock();
        image.trip_failed = trip_failed;
        if delivered && shared.tripped.load(Ordering::SeqCst) {
            image.open_written = true;
        }
        record(&mut wire, &mut image, &mut health, result);
        image.health = health;
        image.served = image.served.max(serving);
        drop(image);
        shared.wake.notify_all();
        if stop {
            return;
        }
    }
}

/// Folds one exchange's outcome into the process image.
fn record(
    wire: &mut Wire,
    image: &mut Image,
    health: &mut LinkHealth,
    result: Result<Option<BoardInputs>, Failure>,
) {
    let before = image.condition.clone();
    let outcome: Result<(), HardwareError> = match result {
        Ok(Some(inputs)) => {
            health.exchanges += 1;
            if inputs.identity.boot_id != wire.boot_id {
                health.restarts += 1;
                image.event = Some(HardwareError::fault(
                    HardwareProblem::BoardRestarted,
                    format!(
                        "its boot id changed from {} to {}: it lost its outputs and latches",
                        wire.boot_id, inputs.identity.boot_id
                    ),
                ));
                wire.boot_id = inputs.identity.boot_id;
                health.boot_id = wire.boot_id;
            }
            if inputs.sample_counter != image.sample_counter {
                image.sample_counter = inputs.sample_counter;
                image.sample_changed_at = Instant::now();
                image.readings = inputs.readings;
            }
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(Failure::Glitch(detail)) => {
            health.failures += 1;
            Err(HardwareError::Glitch(detail))
        }
        Err(Failure::Fault(problem, detail)) => {
            health.failures += 1;
            Err(HardwareError::fault(problem, detail))
        }
    };
    if let Err(e) = &outcome {
        health.last_error = Some(e.to_string());
    }
    image.condition = match wire.link.observe(&outcome) {
        LinkVerdict::Healthy | LinkVerdict::RideOut => None,
        LinkVerdict::Fault { problem, detail } => Some(HardwareError::fault(problem, detail)),
    };
    health.consecutive_failures = wire.link.consecutive_glitches();
    if image.condition != before
        && let Some(HardwareError::Fault { detail, .. }) = &image.condition
    {
        tracing::warn!(%detail, "chair board link");
    }
}
