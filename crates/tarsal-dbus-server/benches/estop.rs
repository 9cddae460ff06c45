//! `EmergencyStop` latency over D-Bus: from the moment a client sends the call
//! to the moment the hardware holds safe outputs (power cut and every output
//! written off), and to the moment the client has the reply.
//!
//! Everything is real except the chair's hardware: a private `dbus-daemon`,
//! the service exactly as `tarsald` serves it (its own current-thread runtime
//! and connection), the control loop thread at real-time pace (100 Hz), and a
//! client on its own connection. The simulator is wrapped in a probe that
//! notes when safe outputs reach it.
//!
//!     cargo bench -p tarsal-dbus-server --bench estop            # 1,000 stops
//!     cargo bench -p tarsal-dbus-server --bench estop -- --quick # 100, a smoke run
//!
//! It runs twice: on the simulator in the service's process, and on the
//! simulator served as a chair board over Modbus TCP on loopback, driven by
//! the real Modbus backend (polling every 10 ms) — there the last column is
//! the board's own record of the moment its contactor opened.
//!
//! Each round starts the demo program, lets the rollers run a few ticks, sends
//! `EmergencyStop`, then resets. Then a tenth as many rounds with the control
//! loop stuck (its thread held in a hardware read for 150 ms, under the
//! watchdog's margin) when the stop arrives: the stop's short way — the kill
//! switch tripped from the service's handler before the request is queued —
//! is all that acts. Prints a Markdown table for docs/PERFORMANCE.md.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tarsal_core::builtin::BuiltinCatalog;
use tarsal_core::hardware::{Hardware, HardwareError, KillSwitch, Sample};
use tarsal_core::model::Outputs;
use tarsal_core::session::SessionId;
use tarsal_core::{ChairProfile, Engine};
use tarsal_dbus::Bus;
use tarsal_dbus::client::Chair1Proxy;
use tarsal_dbus_server::{ServeOptions, serve};
use tarsal_linux::{BoardAddress, BoardSettings, ChairBoardLink};
use tarsal_runtime::{Chair, ControlLoop, LoopConfig, Pacing};
use tarsal_sim::Simulator;
use tarsal_sim_board::{BoardClock, SimBoard};

/// Notes the first moment safe outputs reach the hardware, and the first
/// moment the kill switch trips, after being armed; and holds the loop's
/// thread in a read while `hang` is set.
#[derive(Clone, Default)]
struct SafeProbe {
    armed: Arc<AtomicBool>,
    safe_at: Arc<Mutex<Option<Instant>>>,
    cut_at: Arc<Mutex<Option<Instant>>>,
    hang: Arc<AtomicBool>,
    hanging: Arc<AtomicBool>,
}

impl SafeProbe {
    fn arm(&self) {
        *self.safe_at.lock().expect("probe lock") = None;
        *self.cut_at.lock().expect("probe lock") = None;
        self.armed.store(true, Ordering::SeqCst);
    }

    fn safe_at(&self) -> Option<Instant> {
        *self.safe_at.lock().expect("probe lock")
    }

    fn cut_at(&self) -> Option<Instant> {
        *self.cut_at.lock().expect("probe lock")
    }
}

struct ProbedHardware {
    inner: Box<dyn Hardware>,
    power: Arc<dyn KillSwitch>,
    probe: SafeProbe,
}

/// The simulator's kill switch, noting when it trips.
struct ProbedSwitch {
    inner: Arc<dyn KillSwitch>,
    probe: SafeProbe,
}

impl KillSwitch for ProbedSwitch {
    fn trip(&self) {
        self.inner.trip();
        let mut cut = self.probe.cut_at.lock().expect("probe lock");
        if cut.is_none() && self.probe.armed.load(Ordering::SeqCst) {
            *cut = Some(Instant::now());
        }
    }
    fn rearm(&self) {
        self.inner.rearm();
    }
    fn is_tripped(&self) -> bool {
        self.inner.is_tripped()
    }
}

impl Hardware for ProbedHardware {
    fn read(&mut self, now: Duration) -> Result<Sample, HardwareError> {
        while self.probe.hang.load(Ordering::SeqCst) {
            self.probe.hanging.store(true, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(1));
        }
        self.probe.hanging.store(false, Ordering::SeqCst);
        self.inner.read(now)
    }

    fn write(&mut self, now: Duration, outputs: &Outputs) -> Result<(), HardwareError> {
        let result = self.inner.write(now, outputs);
        if outputs.is_safe()
            && self.power.is_tripped()
            && self.probe.armed.swap(false, Ordering::SeqCst)
        {
            *self.probe.safe_at.lock().expect("probe lock") = Some(Instant::now());
        }
        result
    }

    fn kill_switch(&self) -> Arc<dyn KillSwitch> {
        Arc::new(ProbedSwitch {
            inner: self.inner.kill_switch(),
            probe: self.probe.clone(),
        })
    }
}

/// A private bus daemon for the run.
struct PrivateBus {
    daemon: Child,
    address: String,
}

impl PrivateBus {
    fn start() -> Self {
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon runs (scripts/test.sh installs it)");
        let mut address = String::new();
        BufReader::new(daemon.stdout.take().expect("piped stdout"))
            .read_line(&mut address)
            .expect("dbus-daemon prints its address");
        Self {
            daemon,
            address: address.trim().to_owned(),
        }
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn micros(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

/// Where the rounds run.
enum Rig {
    Simulator,
    ModbusTcp(Arc<SimBoard>, std::net::SocketAddr),
}

/// One series of measurements, sorted.
type Series = Vec<(&'static str, Vec<Duration>)>;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 100 } else { 1_000 };
    let bus = PrivateBus::start();
    let profile = Arc::new(ChairProfile::standard());

    let in_process = measure(&bus, &profile, Rig::Simulator, rounds);
    let board = Arc::new(SimBoard::new(
        Simulator::new(Arc::clone(&profile)),
        BoardClock::Wall,
    ));
    let served = tarsal_sim_board::serve_tcp(
        Arc::clone(&board),
        "127.0.0.1:0".parse().expect("an address"),
    )
    .expect("the simulated board listens");
    let over_tcp = measure(
        &bus,
        &profile,
        Rig::ModbusTcp(board, served.address),
        rounds,
    );
    drop(served);

    let stuck_rounds = rounds / 10;
    for (title, series) in [
        ("the simulator in the service's process", in_process),
        (
            "a chair board over Modbus TCP (loopback, 10 ms poll)",
            over_tcp,
        ),
    ] {
        println!(
            "\nEmergencyStop over D-Bus on {title}: {rounds} calls with the loop running and {stuck_rounds} with it stuck (private dbus-daemon, 100 Hz loop)\n"
        );
        println!("| measure | p50 | p99 | max |");
        println!("|---|---|---|---|");
        for (what, samples) in &series {
            println!(
                "| {what} | {} | {} | {} |",
                micros(percentile(samples, 0.5)),
                micros(percentile(samples, 0.99)),
                micros(*samples.last().expect("samples"))
            );
        }
    }
}

fn measure(bus: &PrivateBus, profile: &Arc<ChairProfile>, rig: Rig, rounds: usize) -> Series {
    let probe = SafeProbe::default();
    let inner: Box<dyn Hardware> = match &rig {
        Rig::Simulator => Box::new(Simulator::new(Arc::clone(profile))),
        Rig::ModbusTcp(_, address) => {
            let address = BoardAddress::Tcp(*address);
            Box::new(
                ChairBoardLink::connect(BoardSettings {
                    address,
                    unit_id: 1,
                    poll_interval: Duration::from_millis(10),
                    response_timeout: Duration::from_millis(50),
                    hold: profile.outputs.heater_hold,
                })
                .expect("the Modbus backend connects"),
            )
        }
    };
    let board = match rig {
        Rig::Simulator => None,
        Rig::ModbusTcp(board, _) => Some(board),
    };
    let hardware = ProbedHardware {
        power: inner.kill_switch(),
        inner,
        probe: probe.clone(),
    };
    let chair = Chair::new(
        Engine::new(Arc::clone(profile)),
        hardware,
        Box::new(BuiltinCatalog::default()),
        SessionId(1),
        Duration::from_millis(10),
    );
    let control = ControlLoop::spawn(
        chair,
        LoopConfig {
            period: Duration::from_millis(10),
            pacing: Pacing::RealTime { speed: 1.0 },
            watchdog_margin: Duration::from_millis(250),
            watchdog_poll: LoopConfig::WATCHDOG_POLL,
            event_prefix: "bench".into(),
        },
        Vec::new(),
    )
    .expect("control loop starts");

    // The service side, as tarsald runs it: its own thread and runtime.
    let service_bus = Bus::Address(bus.address.clone());
    let handle = control.handle();
    let profile = Arc::clone(profile);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let service = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("service runtime");
        runtime.block_on(async move {
            let options = ServeOptions {
                handle,
                profile,
                database: None,
                simulator: None,
            };
            let _connection = serve(&service_bus, options)
                .await
                .expect("serves on the private bus");
            ready_tx.send(()).expect("bench waits");
            let _ = stop_rx.await;
        });
    });
    ready_rx.recv().expect("service comes up");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let stuck_rounds = rounds / 10;
    let (to_safe, to_reply, to_cut, on_board, stuck_cut, stuck_reply) = runtime.block_on(async {
        let connection = zbus::connection::Builder::address(bus.address.as_str())
            .build()
            .await
            .expect("client connects");
        let chair = Chair1Proxy::new(&connection).await.expect("proxy");
        let mut to_safe = Vec::with_capacity(rounds);
        let mut to_reply = Vec::with_capacity(rounds);
        let mut to_cut = Vec::with_capacity(rounds);
        let mut on_board = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let closings = board.as_ref().map(|b| b.contactor_closings());
            chair
                .start_program("demo", HashMap::new())
                .await
                .expect("demo starts");
            // A few ticks, so the rollers are moving when the stop comes.
            tokio::time::sleep(Duration::from_millis(30)).await;
            probe.arm();
            let sent = Instant::now();
            chair
                .emergency_stop()
                .await
                .expect("EmergencyStop succeeds");
            let replied = Instant::now();
            let safe = probe
                .safe_at()
                .expect("safe outputs reached the hardware before the reply");
            let cut = probe.cut_at().expect("power cut before the reply");
            to_safe.push(safe.duration_since(sent));
            to_reply.push(replied.duration_since(sent));
            to_cut.push(cut.duration_since(sent));
            if let Some(board) = &board {
                // The board's own record of its contactor opening.
                let deadline = Instant::now() + Duration::from_secs(1);
                loop {
                    if let Some(at) = board.went_safe_at().filter(|at| *at > sent) {
                        on_board.push(at.duration_since(sent));
                        break;
                    }
                    assert!(
                        Instant::now() < deadline,
                        "the board never opened its contactor"
                    );
                    tokio::time::sleep(Duration::from_micros(200)).await;
                }
            }
            chair.reset_fault().await.expect("reset after the stop");
            // Let the board close its contactor again before the next round.
            if let (Some(board), Some(closings)) = (&board, closings) {
                while board.contactor_closings() <= closings {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        }
        // The loop stuck when the stop arrives.
        let mut stuck_cut = Vec::with_capacity(stuck_rounds);
        let mut stuck_reply = Vec::with_capacity(stuck_rounds);
        for _ in 0..stuck_rounds {
            chair
                .start_program("demo", HashMap::new())
                .await
                .expect("demo starts");
            tokio::time::sleep(Duration::from_millis(30)).await;
            probe.hang.store(true, Ordering::SeqCst);
            while !probe.hanging.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            probe.arm();
            let sent = Instant::now();
            chair
                .emergency_stop()
                .await
                .expect("EmergencyStop succeeds while the loop is stuck");
            let replied = Instant::now();
            let cut = probe.cut_at().expect("power cut while the loop is stuck");
            stuck_cut.push(cut.duration_since(sent));
            stuck_reply.push(replied.duration_since(sent));
            // Release the loop before the watchdog's margin (250 ms) passes.
            let held = sent.elapsed();
            if held < Duration::from_millis(150) {
                tokio::time::sleep(Duration::from_millis(150) - held).await;
            }
            probe.hang.store(false, Ordering::SeqCst);
            while chair.state().await.expect("state") != "estop" {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            chair.reset_fault().await.expect("reset after the stop");
        }
        (to_safe, to_reply, to_cut, on_board, stuck_cut, stuck_reply)
    });

    let _ = stop_tx.send(());
    let _ = service.join();
    control.shutdown(tarsal_runtime::SHUTDOWN_TIMEOUT);

    let mut series: Series = vec![
        (
            "loop running: call sent → power cut (kill switch, from the handler)",
            to_cut,
        ),
        (
            "loop running: call sent → outputs written safe by the loop",
            to_safe,
        ),
        ("loop running: call sent → reply received", to_reply),
        ("loop stuck: call sent → power cut", stuck_cut),
        ("loop stuck: call sent → reply received", stuck_reply),
    ];
    if !on_board.is_empty() {
        series.insert(
            2,
            (
                "loop running: call sent → the board's contactor open (board's record)",
                on_board,
            ),
        );
    }
    for (_, s) in &mut series {
        s.sort_unstable();
    }
    series
}
