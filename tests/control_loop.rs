//! The control loop as a thread: the watchdog, commands through the handle,
//! shutdown. These run in real time, so the assertions leave generous room.

mod support;

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::{Scripted, scripted_info, secs};
use tarsal_core::builtin::BuiltinCatalog;
use tarsal_core::engine::{Command, Refusal};
use tarsal_core::event::{EventRecord, StopSource};
use tarsal_core::model::{HeaterId, Request, Side};
use tarsal_core::program::{
    CatalogError, Program, ProgramCatalog, ProgramError, ProgramInfo, ProgramInput, ProgramOutput,
    ProgramStatus,
};
use tarsal_core::session::{ChairState, SessionId, SessionOptions};
use tarsal_core::units::{Celsius, Percent};
use tarsal_core::{ChairProfile, Engine};
use tarsal_runtime::{Chair, ChairHandle, ControlLoop, HandleError, LoopConfig, Pacing};
use tarsal_sim::{SimHandle, Simulator};

/// A catalog of test programs: `busy` asks for heat and motion forever,
/// `hang` blocks its thread for 600 ms once, after one second, `stuck`
/// blocks it after one second until [`RELEASE`] is set.
struct TestCatalog;

static RELEASE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

struct Stuck;

impl Program for Stuck {
    fn tick(&mut self, input: &ProgramInput<'_>) -> Result<ProgramOutput, ProgramError> {
        if input.elapsed >= secs(1) {
            while !RELEASE.load(std::sync::atomic::Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        Ok(busy_output())
    }
}

impl ProgramCatalog for TestCatalog {
    fn programs(&self) -> Vec<Arc<ProgramInfo>> {
        ["busy", "hang", "stuck"]
            .into_iter()
            .map(|id| {
                Arc::new(ProgramInfo {
                    id: id.into(),
                    ..scripted_info()
                })
            })
            .collect()
    }

    fn instantiate(
        &mut self,
        id: &str,
        _: &SessionOptions,
    ) -> Result<(Arc<ProgramInfo>, Box<dyn Program>), CatalogError> {
        let info = Arc::new(ProgramInfo {
            id: id.into(),
            ..scripted_info()
        });
        let program: Box<dyn Program> = match id {
            "busy" => Scripted::boxed(|_| busy_request()),
            "hang" => Box::new(Hang { done: false }),
            "stuck" => Box::new(Stuck),
            _ => {
                return Err(CatalogError::Unknown {
                    id: id.into(),
                    available: "busy, hang".into(),
                });
            }
        };
        Ok((info, program))
    }
}

fn busy_output() -> ProgramOutput {
    ProgramOutput {
        request: busy_request(),
        step: 0,
        progress: 0.0,
        remaining: None,
        status: ProgramStatus::Running,
    }
}

fn busy_request() -> Request {
    let mut r = Request::OFF;
    r.setpoints[HeaterId::SolePad] = Some(Celsius(40.0));
    r.feet[Side::Left].pressure = Percent(10.0);
    r
}

struct Hang {
    done: bool,
}

impl Program for Hang {
    fn tick(&mut self, input: &ProgramInput<'_>) -> Result<ProgramOutput, ProgramError> {
        if input.elapsed >= secs(1) && !self.done {
            self.done = true;
            std::thread::sleep(Duration::from_millis(600));
        }
        Ok(busy_output())
    }
}

struct Running {
    control: ControlLoop,
    handle: ChairHandle,
    sim: SimHandle,
    records: mpsc::Receiver<EventRecord>,
}

fn spawn(catalog: Box<dyn ProgramCatalog>, pacing: Pacing, margin: Duration) -> Running {
    let profile = Arc::new(ChairProfile::standard());
    let sim = Simulator::new(Arc::clone(&profile));
    let sim_handle = sim.handle();
    let chair = Chair::new(
        Engine::new(profile),
        sim,
        catalog,
        SessionId(1),
        Duration::from_millis(10),
    );
    let (tx, records) = mpsc::channel();
    let control = ControlLoop::spawn(
        chair,
        LoopConfig {
            period: Duration::from_millis(10),
            pacing,
            watchdog_margin: margin,
            watchdog_poll: LoopConfig::WATCHDOG_POLL,
            event_prefix: "t".into(),
        },
        vec![tx],
    )
    .unwrap();
    Running {
        handle: control.handle(),
        control,
        sim: sim_handle,
        records,
    }
}

fn wait_for(
    handle: &ChairHandle,
    max: Duration,
    pred: impl Fn(&tarsal_core::ChairStatus) -> bool,
) -> bool {
    let until = Instant::now() + max;
    while Instant::now() < until {
        if pred(&handle.status()) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

/// The test catalog's `program` running in real time, its sole pad heating.
fn running(program: &str, margin: Duration) -> Running {
    let r = spawn(
        Box::new(TestCatalog),
        Pacing::RealTime { speed: 1.0 },
        margin,
    );
    r.handle
        .start_blocking(program, SessionOptions::default())
        .unwrap();
    assert!(wait_for(&r.handle, secs(5), |s| s.outputs.heater_power
        [HeaterId::SolePad]
        .0
        > 0.0));
    r
}

#[test]
fn the_watchdog_cuts_power_while_the_loop_hangs_and_a_fault_follows() {
    let r = spawn(
        Box::new(TestCatalog),
        Pacing::RealTime { speed: 1.0 },
        Duration::from_millis(100),
    );
    r.handle
        .start_blocking("hang", SessionOptions::default())
        .unwrap();
    assert!(wait_for(&r.handle, secs(5), |s| s.state == ChairState::Running));
    assert!(wait_for(&r.handle, secs(5), |s| s.outputs.heater_power
        [HeaterId::SolePad]
        .0
        > 0.0));
    // While the program blocks the loop thread, the watchdog thread acts.
    let until = Instant::now() + secs(3);
    while !r.sim.kill_switch_tripped() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        r.sim.kill_switch_tripped(),
        "the watchdog did not cut power"
    );
    assert_eq!(r.sim.truth().heater_power[HeaterId::SolePad], Percent(0.0));
    // When the loop resumes it latches the fault.
    assert!(wait_for(&r.handle, secs(5), |s| s.state == ChairState::Fault));
    let status = r.handle.status();
    assert_eq!(
        status.faults.iter().map(|f| f.code()).collect::<Vec<_>>(),
        vec!["fault.loop_overrun"]
    );
    assert!(status.outputs.is_safe());
    r.control.shutdown(tarsal_runtime::SHUTDOWN_TIMEOUT);
    let codes: Vec<_> = r.records.try_iter().map(|e| e.event.kind.code()).collect();
    assert_eq!(
        codes.iter().filter(|c| **c == "fault.loop_overrun").count(),
        1,
        "{codes:?}"
    );
    assert!(codes.contains(&"session.aborted"), "{codes:?}");
}

#[test]
fn an_emergency_stop_through_the_handle_is_on_the_hardware_when_the_call_returns() {
    let r = running("busy", secs(2));
    r.handle
        .command_blocking(Command::EmergencyStop(StopSource::Remote))
        .unwrap();
    let truth = r.sim.truth();
    assert!(r.sim.kill_switch_tripped());
    assert_eq!(truth.heater_power[HeaterId::SolePad], Percent(0.0));
    assert_eq!(r.handle.status().state, ChairState::Estop);
    r.control.shutdown(tarsal_runtime::SHUTDOWN_TIMEOUT);
}

#[test]
fn refusals_come_back_through_the_handle() {
    let r = spawn(
        Box::new(BuiltinCatalog::default()),
        Pacing::Unpaced,
        secs(2),
    );
    match r
        .handle
        .start_blocking("classic", SessionOptions::default())
    {
        Err(HandleError::Refused(Refusal::Catalog(CatalogError::Unknown {
            available, ..
        }))) => {
            assert_eq!(available, "demo")
        }
        other => panic!("{other:?}"),
    }
    match r.handle.command_blocking(Command::Pause) {
        Err(HandleError::Refused(Refusal::NotRunning)) => {}
        other => panic!("{other:?}"),
    }
    r.control.shutdown(tarsal_runtime::SHUTDOWN_TIMEOUT);
}

#[test]
fn shutting_down_mid_session_records_the_session_as_interrupted() {
    let r = spawn(
        Box::new(BuiltinCatalog::default()),
        Pacing::RealTime { speed: 1.0 },
        secs(2),
    );
    let id = r
        .handle
        .start_blocking("demo", SessionOptions::default())
        .unwrap();
    assert!(wait_for(&r.handle, secs(5), |s| s.state == ChairState::Running));
    r.control.shutdown(tarsal_runtime::SHUTDOWN_TIMEOUT);
    assert!(r.sim.kill_switch_tripped());
    let ended: Vec<_> = r
        .records
        .try_iter()
        .filter(|e| e.event.session == Some(id) && e.event.kind.code() == "session.interrupted")
        .collect();
    assert_eq!(ended.len(), 1);
    assert!(ended[0].event.kind.message().contains("shut down"));
}

#[test]
fn an_unpaced_demo_runs_to_completion_with_unique_event_ids() {
    let r = spawn(
        Box::new(BuiltinCatalog::default()),
        Pacing::Unpaced,
        secs(2),
    );
    let id = r
        .handle
        .start_blocking("demo", SessionOptions::default())
        .unwrap();
    assert!(wait_for(&r.handle, secs(30), |s| s.last_session
        == Some((id, tarsal_core::Outcome::Completed))));
    r.control.shutdown(tarsal_runtime::SHUTDOWN_TIMEOUT);
    let records: Vec<_> = r.records.try_iter().collect();
    let mut uids: Vec<_> = records.iter().map(|e| e.uid.clone()).collect();
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), records.len());
    assert!(
        records
            .iter()
            .all(|e| !e.event.kind.code().starts_with("clamp.")),
        "the demo stays inside the limits"
    );
}

#[test]
fn while_the_loop_is_stuck_clients_see_a_fault_and_an_emergency_stop_still_answers() {
    let r = running("stuck", Duration::from_millis(100));
    // The loop thread is now stuck inside the program. The published state
    // says so, from the watchdog, without the loop.
    assert!(
        wait_for(&r.handle, secs(10), |s| s.state == ChairState::Fault),
        "the stuck loop was not shown as a fault"
    );
    let shown = r.handle.status();
    assert!(
        shown
            .faults
            .iter()
            .any(|f| f.code() == "fault.loop_overrun")
    );
    assert!(shown.outputs.is_safe());
    assert!(r.sim.kill_switch_tripped());

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    // An emergency stop answers although the loop cannot; other commands
    // say the controller is not answering instead of waiting forever.
    let handle = r.handle.clone();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let _ =
            tx.send(runtime.block_on(handle.command(Command::EmergencyStop(StopSource::Local))));
    });
    let answer = rx
        .recv_timeout(secs(10))
        .expect("the emergency stop answered");
    assert!(answer.is_ok(), "{answer:?}");
    match runtime.block_on(r.handle.command(Command::Stop)) {
        Err(HandleError::NotAnswering { .. }) => {}
        other => panic!("{other:?}"),
    }
    // A shutdown gives up on the stuck loop, with power cut.
    assert!(!r.control.shutdown(Duration::from_millis(300)));
    assert!(r.sim.kill_switch_tripped());
    RELEASE.store(true, std::sync::atomic::Ordering::Release);
}

#[test]
fn an_emergency_stop_is_latched_even_if_the_loop_rearms_in_between() {
    // The stop trips the switch before it is queued; the loop's next step
    // latches it rather than rearming.
    let r = spawn(
        Box::new(TestCatalog),
        Pacing::RealTime { speed: 1.0 },
        secs(2),
    );
    r.handle
        .start_blocking("busy", SessionOptions::default())
        .unwrap();
    assert!(wait_for(&r.handle, secs(5), |s| s.state == ChairState::Running));
    r.handle.emergency_stop_now(StopSource::Button);
    assert!(r.sim.kill_switch_tripped(), "cut from the caller's thread");
    assert!(wait_for(&r.handle, secs(5), |s| s.state == ChairState::Estop));
    for _ in 0..20 {
        assert!(r.sim.kill_switch_tripped(), "never rearmed while latched");
        std::thread::sleep(Duration::from_millis(10));
    }
    r.control.shutdown(tarsal_runtime::SHUTDOWN_TIMEOUT);
}
