//! Test rig: a simulated chair stepped tick by tick through the same `Chair`
//! the control loop uses, with every event stored in a real (in-memory)
//! SQLite store, and scripted programs that ask for whatever a test needs.

#![allow(dead_code)]

pub mod broker;
pub mod browser;
pub mod bus;

/// A TCP port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A fresh scratch directory for one test's files.
pub fn scratch(kind: &str) -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("tarsal-{kind}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

use std::sync::Arc;
use std::time::Duration;
use tarsal_core::Engine;
use tarsal_core::builtin::BuiltinCatalog;
use tarsal_core::engine::Command;
use tarsal_core::event::{Event, EventRecord, StopSource};
use tarsal_core::hardware::{Hardware, HardwareError, KillSwitch, Sample};
use tarsal_core::model::HeaterId;
use tarsal_core::model::{Outputs, Request, SensorReadings};
use tarsal_core::profile::{ChairProfile, Equipment};
use tarsal_core::program::{
    Program, ProgramError, ProgramInfo, ProgramInput, ProgramOutput, ProgramStatus, StepInfo,
};
use tarsal_core::session::{ChairState, SessionId, SessionOptions};
use tarsal_core::units::{Celsius, Litres};
use tarsal_core::wallclock::UnixMillis;
use tarsal_linux::{BoardAddress, BoardSettings, ChairBoardLink};
use tarsal_runtime::Chair;
use tarsal_sim::{InjectedFault, SimHandle, Simulator};
use tarsal_sim_board::serial_line::SerialLine;
use tarsal_sim_board::{BoardClock, SimBoard};
use tarsal_store::{EventQuery, EventRow, Store};

pub const TICK: Duration = Duration::from_millis(10);

/// Where a rig's chair is: the simulator in the test's process, or the
/// simulator served as a chair board over Modbus TCP and driven through the
/// real Modbus backend (the bench rig).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bench {
    InProcess,
    ModbusTcp,
    /// Modbus RTU on a serial line of two pseudo-terminals.
    ModbusRtu,
}

thread_local! {
    static BENCH: std::cell::Cell<Bench> = const { std::cell::Cell::new(Bench::InProcess) };
}

/// Runs `test` with every rig it builds on `bench`.
pub fn on_bench<T>(bench: Bench, test: impl FnOnce() -> T) -> T {
    BENCH.set(bench);
    let result = test();
    BENCH.set(Bench::InProcess);
    result
}

/// Writes the same tests once per bench: `mod in_process`, `mod over_modbus_tcp`
/// and `mod over_modbus_rtu`.
#[macro_export]
macro_rules! on_every_bench {
    ($( $(#[$meta:meta])* fn $name:ident() $body:block )*) => {
        mod in_process {
            use super::*;
            $( $(#[$meta])* fn $name() { support::on_bench(support::Bench::InProcess, || $body) } )*
        }
        mod over_modbus_tcp {
            use super::*;
            $( $(#[$meta])* fn $name() { support::on_bench(support::Bench::ModbusTcp, || $body) } )*
        }
        mod over_modbus_rtu {
            use super::*;
            $( $(#[$meta])* fn $name() { support::on_bench(support::Bench::ModbusRtu, || $body) } )*
        }
    };
}

/// The chair's I/O in a rig.
pub enum RigHardware {
    InProcess(Box<Simulator>),
    Board {
        link: ChairBoardLink,
        board: Arc<SimBoard>,
        /// The serial line, on the RTU bench.
        line: Option<SerialLine>,
        /// The server's thread and whatever else must live as long.
        _served: Box<dyn std::any::Any + Send>,
    },
}

/// How long the rig waits for the simulated board to answer one exchange
/// (generous: a busy machine may stall a thread; a test never waits this
/// long unless the board is broken).
const BOARD_PATIENCE: Duration = Duration::from_secs(30);

impl RigHardware {
    fn build(profile: &Arc<ChairProfile>, bench: Bench) -> Self {
        let sim = Simulator::new(Arc::clone(profile));
        match bench {
            Bench::InProcess => Self::InProcess(Box::new(sim)),
            Bench::ModbusTcp | Bench::ModbusRtu => {
                let board = Arc::new(SimBoard::new(sim, BoardClock::Host));
                let (address, line, served, response_timeout): (
                    _,
                    _,
                    Box<dyn std::any::Any + Send>,
                    _,
                ) = if bench == Bench::ModbusTcp {
                    let served = tarsal_sim_board::serve_tcp(
                        Arc::clone(&board),
                        "127.0.0.1:0".parse().unwrap(),
                    )
                    .expect("simulated board listens");
                    (
                        BoardAddress::Tcp(served.address),
                        None,
                        Box::new(served),
                        Duration::from_secs(5),
                    )
                } else {
                    let line = SerialLine::open().expect("a pseudo-terminal pair");
                    let served =
                        tarsal_sim_board::serve_serial(Arc::clone(&board), line.board(), 115_200)
                            .expect("simulated board opens its serial port");
                    let address = BoardAddress::Serial {
                        path: line.host().to_owned(),
                        baud: 115_200,
                    };
                    // A corrupted answer costs a whole timeout: keep it short
                    // (a late answer is a glitch, and glitches are ridden out).
                    (
                        address,
                        Some(line),
                        Box::new(served),
                        Duration::from_millis(500),
                    )
                };
                let link = ChairBoardLink::connect(BoardSettings {
                    address,
                    unit_id: 1,
                    // Lockstep: the rig asks for every exchange itself.
                    poll_interval: Duration::from_secs(3600),
                    response_timeout,
                    hold: profile.outputs.heater_hold,
                })
                .expect("the Modbus backend connects to the simulated board");
                Self::Board {
                    link,
                    board,
                    line,
                    _served: served,
                }
            }
        }
    }

    /// Runs `f` on the simulated chair, wherever it is.
    pub fn with_sim<T>(&mut self, f: impl FnOnce(&mut Simulator) -> T) -> T {
        match self {
            Self::InProcess(sim) => f(sim),
            Self::Board { board, .. } => board.with_sim(f),
        }
    }

    /// The simulated board, on the Modbus bench.
    pub fn board(&self) -> Option<&SimBoard> {
        match self {
            Self::InProcess(_) => None,
            Self::Board { board, .. } => Some(board),
        }
    }

    /// The serial line, on the RTU bench.
    pub fn serial_line(&self) -> Option<&SerialLine> {
        match self {
            Self::Board { line, .. } => line.as_ref(),
            Self::InProcess(_) => None,
        }
    }

    /// On the Modbus bench: waits until the backend has tried to get a
    /// kill-switch trip to the board (it sends it at once, by itself; a
    /// refusing board is the tests' business).
    fn deliver_trip(&self) {
        if let Self::Board { link, .. } = self {
            link.wait_for_trip_attempt(BOARD_PATIENCE);
        }
    }

    /// On the Modbus bench: one exchange with the board at `heartbeat`, waited for.
    fn settle(&self, heartbeat: Duration) {
        if let Self::Board { link, .. } = self {
            assert!(
                link.exchange_now(heartbeat, BOARD_PATIENCE),
                "the Modbus exchange did not finish within {BOARD_PATIENCE:?}"
            );
        }
    }
}

impl Hardware for RigHardware {
    fn read(&mut self, now: Duration) -> Result<Sample, HardwareError> {
        match self {
            Self::InProcess(sim) => sim.read(now),
            Self::Board { link, .. } => link.read(now),
        }
    }
    fn write(&mut self, now: Duration, outputs: &Outputs) -> Result<(), HardwareError> {
        match self {
            Self::InProcess(sim) => sim.write(now, outputs),
            Self::Board { link, .. } => link.write(now, outputs),
        }
    }
    fn kill_switch(&self) -> Arc<dyn KillSwitch> {
        match self {
            Self::InProcess(sim) => sim.kill_switch(),
            Self::Board { link, .. } => link.kill_switch(),
        }
    }
}

pub struct Rig {
    pub chair: Chair<RigHardware>,
    pub sim: SimHandle,
    pub store: Store,
    pub events: Vec<Event>,
    /// Readings of the previous and the latest tick.
    pub prev_sensors: SensorReadings,
    pub sensors: SensorReadings,
    seq: u64,
}

impl Rig {
    pub fn new() -> Self {
        Self::with_profile(|_| {})
    }

    /// A rig on the standard profile as changed by `edit`.
    pub fn with_profile(edit: impl FnOnce(&mut ChairProfile)) -> Self {
        Self::assemble(edit, Box::new(BuiltinCatalog::default()), |e| e)
    }

    /// A rig with its profile, catalog and engine configured by the caller.
    pub fn assemble(
        edit: impl FnOnce(&mut ChairProfile),
        catalog: Box<dyn tarsal_core::program::ProgramCatalog>,
        engine: impl FnOnce(Engine) -> Engine,
    ) -> Self {
        let bench = BENCH.get();
        let mut profile = ChairProfile::standard();
        if bench != Bench::InProcess {
            // Ages are real time and the rig runs at virtual speed: allow
            // the most a profile may, so a stalled test thread is no fault.
            profile.io.max_sample_age = Duration::from_secs(1);
        }
        edit(&mut profile);
        let profile = Arc::new(profile);
        let mut hardware = RigHardware::build(&profile, bench);
        let handle = hardware.with_sim(|sim| sim.handle());
        let chair = Chair::new(
            engine(Engine::new(profile)),
            hardware,
            catalog,
            SessionId(1),
            TICK,
        );
        let mut rig = Self {
            chair,
            sim: handle,
            store: Store::open_in_memory().expect("in-memory store"),
            events: Vec::new(),
            prev_sensors: SensorReadings::default(),
            sensors: SensorReadings::default(),
            seq: 0,
        };
        rig.tick();
        rig
    }

    /// A rig whose programs come from `catalog` (plugins, for instance).
    pub fn with_catalog(catalog: Box<dyn tarsal_core::program::ProgramCatalog>) -> Self {
        let mut rig = Self::new();
        rig.chair.set_catalog(catalog);
        rig
    }

    /// Starts catalog program `id` with default options and ticks until it runs.
    pub fn start(&mut self, id: &str) -> SessionId {
        let session = self
            .chair
            .start(id, SessionOptions::default())
            .unwrap_or_else(|e| panic!("{id} does not start: {e}"));
        self.flush();
        self.tick();
        session
    }

    /// A full, warm bath (15 L at 36 °C) — the state most bath tests start from.
    pub fn with_full_bath() -> Self {
        let mut rig = Self::new();
        rig.set_water(Litres(15.0), Celsius(36.0));
        rig.tick();
        rig
    }

    /// Sets the simulated bath's volume and temperature (test set-up).
    pub fn set_water(&mut self, volume: Litres, temperature: Celsius) {
        self.chair
            .hardware_mut()
            .with_sim(|sim| sim.set_water(volume, temperature));
    }

    /// Sets a simulated heater's temperature (test set-up).
    pub fn set_temperature(&mut self, heater: HeaterId, temperature: Celsius) {
        self.chair
            .hardware_mut()
            .with_sim(|sim| sim.set_temperature(heater, temperature));
    }

    /// Lets the simulated chair's time run to `now` without the service
    /// doing anything (a hung service).
    pub fn run_chair_alone_until(&mut self, now: Duration) {
        self.chair.hardware_mut().with_sim(|sim| {
            sim.read(now).expect("the simulated chair reads");
        });
    }

    pub fn tick(&mut self) {
        let next = self.chair.now() + self.chair.period();
        self.chair.hardware().settle(next);
        self.chair.step_to(next);
        self.chair.hardware().deliver_trip();
        self.prev_sensors = self.sensors;
        self.sensors = self.chair.engine().status().sensors;
        self.flush();
    }

    fn flush(&mut self) {
        let events: Vec<Event> = self.chair.drain_events().collect();
        if events.is_empty() {
            return;
        }
        let records: Vec<EventRecord> = events
            .iter()
            .map(|e| {
                self.seq += 1;
                EventRecord {
                    uid: format!("test-{}", self.seq),
                    wall: UnixMillis(e.at.as_millis() as i64),
                    event: e.clone(),
                }
            })
            .collect();
        self.store.record(&records).expect("events stored");
        self.events.extend(events);
    }

    pub fn run_for(&mut self, d: Duration) {
        let ticks = d.as_millis() / TICK.as_millis();
        for _ in 0..ticks {
            self.tick();
        }
    }

    /// Ticks until `pred` holds; false if it did not within `max`.
    pub fn run_until(&mut self, max: Duration, mut pred: impl FnMut(&Rig) -> bool) -> bool {
        let ticks = max.as_millis() / TICK.as_millis();
        for _ in 0..ticks {
            self.tick();
            if pred(self) {
                return true;
            }
        }
        false
    }

    /// Runs the current session to its end, playing staff who confirm each
    /// staff step after `reaction` with `initials`.
    pub fn run_session_to_end(&mut self, initials: &str, reaction: Duration) {
        let mut waiting = Duration::ZERO;
        for _ in 0..(3 * 3600 * 100) {
            self.tick();
            let status = self.chair.engine().status();
            if status.session.is_none() {
                return;
            }
            if status.session.as_ref().is_some_and(|s| s.awaiting_staff) {
                waiting += TICK;
                if waiting >= reaction {
                    self.command(Command::ConfirmStaffStep {
                        initials: initials.to_owned(),
                    })
                    .expect("staff step confirmed");
                    waiting = Duration::ZERO;
                }
            } else {
                waiting = Duration::ZERO;
            }
        }
        panic!("the session did not end: {:?}", self.codes());
    }

    /// Ticks until an event with `code` appears (in the tick it appears);
    /// panics with the events seen if it does not within `max`.
    pub fn run_until_event(&mut self, code: &str, max: Duration) -> Duration {
        let before = self.events.len();
        let found = self.run_until(max, |r| {
            r.events[before..].iter().any(|e| e.kind.code() == code)
        });
        assert!(
            found,
            "no `{code}` within {max:?}; events: {:?}",
            self.codes()
        );
        self.chair.now()
    }

    pub fn codes(&self) -> Vec<&'static str> {
        self.events.iter().map(|e| e.kind.code()).collect()
    }

    pub fn count(&self, code: &str) -> usize {
        self.events.iter().filter(|e| e.kind.code() == code).count()
    }

    pub fn outputs(&self) -> &Outputs {
        self.chair.engine().outputs()
    }

    pub fn state(&self) -> ChairState {
        self.chair.engine().state()
    }

    pub fn inject(&self, fault: InjectedFault) {
        self.sim.inject(fault);
    }

    pub fn command(&mut self, command: Command) -> Result<(), tarsal_core::Refusal> {
        let r = self.chair.command(command);
        // A command writes the outputs at once; on the bench they travel now.
        self.chair.hardware().settle(self.chair.now());
        self.flush();
        r
    }

    pub fn estop(&mut self) {
        self.command(Command::EmergencyStop(StopSource::Local))
            .expect("emergency stop is always accepted");
    }

    /// Starts a scripted program that asks for `script(input)` every tick
    /// and never finishes by itself.
    pub fn start_script(
        &mut self,
        script: impl FnMut(&ProgramInput<'_>) -> Request + Send + 'static,
    ) -> SessionId {
        self.start_program(Scripted::boxed(script), SessionOptions::default())
    }

    pub fn start_program(
        &mut self,
        program: Box<dyn Program>,
        options: SessionOptions,
    ) -> SessionId {
        let id = self
            .chair
            .start_instance(Arc::new(scripted_info()), program, options)
            .expect("session starts");
        self.flush();
        // Preparing → running.
        self.tick();
        assert_eq!(self.state(), ChairState::Running, "{:?}", self.codes());
        id
    }

    /// Stored events with `code`.
    pub fn stored(&self, code: &str) -> Vec<EventRow> {
        self.store
            .events(&EventQuery {
                code_prefix: Some(code.into()),
                ..EventQuery::default()
            })
            .expect("query")
            .into_iter()
            .filter(|e| e.code == code)
            .collect()
    }

    /// Asserts the chair is in the safe state with its power cut, a fault
    /// with `code` latched and stored, and the running session (if any) stored
    /// as aborted.
    pub fn assert_faulted_safe(&self, code: &str, session: Option<SessionId>) {
        assert!(
            self.outputs().is_safe(),
            "outputs not safe: {:?}",
            self.outputs()
        );
        assert_eq!(self.state(), ChairState::Fault, "{:?}", self.codes());
        assert!(self.sim.kill_switch_tripped(), "kill switch not tripped");
        let t = self.sim.truth();
        assert!(
            t.heater_power.0.iter().all(|p| p.0 == 0.0),
            "heaters still powered: {t:?}"
        );
        assert!(t.jets.0 == 0.0 && !t.draining, "pumps still running: {t:?}");
        assert!(
            self.chair
                .engine()
                .faults()
                .iter()
                .any(|f| f.code() == code),
            "{code} not latched: {:?}",
            self.chair.engine().faults()
        );
        let stored = self.stored(code);
        assert!(!stored.is_empty(), "{code} not stored");
        assert_eq!(stored[0].severity, "critical");
        assert!(!stored[0].message.is_empty() && !stored[0].advice.is_empty());
        if let Some(id) = session {
            assert_eq!(stored[0].session, Some(id));
            let row = self
                .store
                .session(id)
                .expect("query")
                .expect("session stored");
            assert_eq!(row.outcome, Some(tarsal_core::Outcome::Aborted), "{row:?}");
        }
    }
}

/// Info for scripted test programs: uses every part, one step.
pub fn scripted_info() -> ProgramInfo {
    ProgramInfo {
        id: "script".into(),
        name: "Test script".into(),
        description: "Asks for whatever the test says.".into(),
        version: "0".into(),
        duration: Duration::from_secs(600),
        steps: vec![StepInfo {
            title: "Scripted".into(),
            staff_action: None,
        }],
        options: vec![],
        contraindications: vec![],
        uses: Equipment {
            foot_rollers: true,
            calf_units: true,
            sole_heat: true,
            calf_heat: true,
            bath: true,
        },
        translations: vec![],
    }
}

type Script = Box<dyn FnMut(&ProgramInput<'_>) -> Request + Send>;

/// A program that asks for what its script returns.
pub struct Scripted {
    script: Script,
}

impl Scripted {
    pub fn boxed(
        script: impl FnMut(&ProgramInput<'_>) -> Request + Send + 'static,
    ) -> Box<dyn Program> {
        Box::new(Self {
            script: Box::new(script),
        })
    }
}

impl Program for Scripted {
    fn tick(&mut self, input: &ProgramInput<'_>) -> Result<ProgramOutput, ProgramError> {
        Ok(ProgramOutput {
            request: (self.script)(input),
            step: 0,
            progress: 0.0,
            remaining: None,
            status: ProgramStatus::Running,
        })
    }
}

/// A program that fails with `error` after `after` of running.
pub struct FailsAfter {
    pub after: Duration,
    pub error: ProgramError,
}

impl Program for FailsAfter {
    fn tick(&mut self, input: &ProgramInput<'_>) -> Result<ProgramOutput, ProgramError> {
        if input.elapsed >= self.after {
            return Err(self.error.clone());
        }
        Ok(ProgramOutput {
            request: Request::OFF,
            step: 0,
            progress: 0.0,
            remaining: None,
            status: ProgramStatus::Running,
        })
    }
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Injects `fault` and returns it, for clearing later.
pub fn injected(rig: &Rig, fault: InjectedFault) -> InjectedFault {
    rig.inject(fault);
    fault
}

/// Where the build put a binary of this workspace (`tarsald`, `tarsalctl`).
pub fn binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory")
        .join(name);
    assert!(
        path.exists(),
        "{} is not built; run `cargo build -p {name}` (scripts/test.sh does)",
        path.display()
    );
    path
}

/// Where scripts/build-plugins.sh put the program plugins; `hostile` for the
/// misbehaving test fixtures.
pub fn plugins_dir(sub: Option<&str>) -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let mut dir = target.join("plugins");
    if let Some(sub) = sub {
        dir = dir.join(sub);
    }
    assert!(
        dir.is_dir(),
        "{} is missing: build the plugins first with scripts/build-plugins.sh (scripts/test.sh does)",
        dir.display()
    );
    dir
}
