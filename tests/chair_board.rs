//! Faults at the protocol level, on the bench rig: the simulated chair served
//! as a chair board over Modbus TCP, driven by the real Modbus backend. Each
//! fault gives a named `fault.hardware` (its `problem`), safe outputs on the
//! board, and a stored record.

mod support;

use std::sync::Arc;
use std::time::Duration;
use support::{Bench, Rig, on_bench, secs};
use tarsal_core::hardware::HardwareProblem;
use tarsal_core::model::{HeaterId, Request};
use tarsal_core::profile::ChairProfile;
use tarsal_core::units::{Celsius, Percent};
use tarsal_linux::{BoardAddress, BoardSettings, ChairBoardLink, ConnectError};
use tarsal_sim::Simulator;
use tarsal_sim_board::{BoardClock, BoardFaults, SimBoard};

fn warm_pads() -> Request {
    let mut r = Request::OFF;
    r.setpoints[HeaterId::SolePad] = Some(Celsius(40.0));
    r.setpoints[HeaterId::CalfPad] = Some(Celsius(40.0));
    r
}

/// A bench rig over Modbus TCP running a session that heats the pads.
fn heating_rig(edit: impl FnOnce(&mut ChairProfile)) -> (Rig, tarsal_core::session::SessionId) {
    heating_rig_on(Bench::ModbusTcp, edit)
}

fn heating_rig_on(
    bench: Bench,
    edit: impl FnOnce(&mut ChairProfile),
) -> (Rig, tarsal_core::session::SessionId) {
    on_bench(bench, || {
        let mut rig = Rig::with_profile(edit);
        let session = rig.start_script(|_| warm_pads());
        rig.run_for(secs(2));
        assert!(rig.sim.truth().heater_power[HeaterId::SolePad] > Percent(50.0));
        (rig, session)
    })
}

fn board(rig: &Rig) -> &SimBoard {
    rig.chair.hardware().board().expect("the Modbus bench")
}

/// The problem named by the stored `fault.hardware`.
fn stored_problem(rig: &Rig) -> String {
    let stored = rig.stored("fault.hardware");
    assert_eq!(stored.len(), 1, "{:?}", rig.codes());
    stored[0].data["problem"]
        .as_str()
        .expect("problem is a string")
        .to_owned()
}

#[test]
fn a_board_that_restarts_is_a_fault_and_stays_safe() {
    let (mut rig, session) = heating_rig(|_| {});
    let closings = board(&rig).contactor_closings();
    board(&rig).restart();
    // The host writes its outputs before it reads the new boot id; the
    // board keeps its contactor open until the host acknowledges that id.
    rig.tick();
    assert_eq!(rig.count("fault.hardware"), 1, "{:?}", rig.codes());
    assert_eq!(board(&rig).contactor_closings(), closings, "re-energised");
    rig.assert_faulted_safe("fault.hardware", Some(session));
    assert_eq!(stored_problem(&rig), HardwareProblem::BoardRestarted.code());
    // The restarted board is accepted after the fault: a reset rearms the chair.
    rig.run_for(secs(1));
    assert_eq!(rig.count("fault.hardware"), 1, "reported once");
}

#[test]
fn modbus_exceptions_are_a_refusal_fault_and_cut_power() {
    let (mut rig, session) = heating_rig(|_| {});
    board(&rig).set_faults(BoardFaults {
        exception: Some(0x04),
        ..BoardFaults::default()
    });
    rig.run_until_event("fault.hardware", secs(1));
    assert_eq!(stored_problem(&rig), HardwareProblem::BoardRefused.code());
    // The board refuses everything, so the power cut comes from the board
    // itself: clear the fault and the trip gets through at the next exchange.
    board(&rig).set_faults(BoardFaults::default());
    rig.tick();
    rig.assert_faulted_safe("fault.hardware", Some(session));
}

#[test]
fn a_gateway_that_loses_the_board_for_a_few_exchanges_is_ridden_out() {
    let (mut rig, _) = heating_rig(|_| {});
    // Each tick is two exchanges' worth of requests failing in the simulator:
    // three failed exchanges in a row are tolerated.
    rig.inject(tarsal_sim::InjectedFault::BusGlitches { exchanges: 1 });
    rig.run_for(secs(1));
    assert_eq!(rig.count("fault.hardware"), 0, "{:?}", rig.codes());
    assert!(rig.sim.truth().heater_power[HeaterId::SolePad] > Percent(0.0));
    rig.inject(tarsal_sim::InjectedFault::BusFailure);
    rig.run_until_event("fault.hardware", secs(1));
    assert_eq!(stored_problem(&rig), HardwareProblem::LinkLost.code());
}

#[test]
fn a_frozen_sensor_scan_is_a_stale_sample_fault() {
    let (mut rig, session) = heating_rig(|p| p.io.max_sample_age = Duration::from_millis(20));
    board(&rig).set_faults(BoardFaults {
        frozen_scan: true,
        ..BoardFaults::default()
    });
    // The age is real time: wait it out between two ticks.
    std::thread::sleep(Duration::from_millis(50));
    rig.run_until_event("fault.hardware", secs(1));
    rig.assert_faulted_safe("fault.hardware", Some(session));
    assert_eq!(stored_problem(&rig), HardwareProblem::StaleSample.code());
}

#[test]
fn a_welded_contactor_is_caught_by_its_auxiliary_contact() {
    let (mut rig, _) = heating_rig(|_| {});
    board(&rig).set_faults(BoardFaults {
        contactor_welded: true,
        ..BoardFaults::default()
    });
    // Closed as commanded: the welded contact agrees, nothing to see.
    rig.run_for(secs(1));
    assert_eq!(rig.count("fault.hardware"), 0);
    // The emergency stop opens it; the auxiliary contact still reads closed.
    rig.estop();
    rig.run_until_event("fault.hardware", secs(1));
    assert_eq!(
        stored_problem(&rig),
        HardwareProblem::ContactorFeedback.code()
    );
}

#[test]
fn a_device_that_is_not_a_chair_board_is_refused_at_start() {
    let sim = Simulator::new(Arc::new(ChairProfile::standard()));
    let served = tarsal_sim_board::serve_tcp(
        Arc::new(SimBoard::new(sim, BoardClock::Host)),
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    served.board.set_faults(BoardFaults {
        exception: Some(0x02),
        ..BoardFaults::default()
    });
    let settings = BoardSettings {
        address: BoardAddress::Tcp(served.address),
        unit_id: 1,
        poll_interval: Duration::from_millis(10),
        response_timeout: Duration::from_secs(5),
        hold: Duration::from_secs(5),
    };
    let err = ChairBoardLink::connect(settings.clone())
        .err()
        .expect("refused");
    assert!(matches!(err, ConnectError::Refused { .. }), "{err}");
    assert!(err.to_string().contains("exception"), "{err}");

    // Nothing listening at all.
    let nowhere = BoardSettings {
        address: BoardAddress::Tcp(
            format!("127.0.0.1:{}", support::free_port())
                .parse()
                .unwrap(),
        ),
        ..settings
    };
    let err = ChairBoardLink::connect(nowhere).err().expect("unreachable");
    assert!(matches!(err, ConnectError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("no chair board answers"), "{err}");
}

#[test]
fn the_emergency_stop_button_on_the_board_latches_there_until_reset() {
    let (mut rig, _) = heating_rig(|_| {});
    rig.sim.set_estop_pressed(true);
    rig.run_until_event("estop.pressed", secs(1));
    assert!(rig.sim.kill_switch_tripped());
    rig.sim.set_estop_pressed(false);
    rig.run_for(secs(1));
    assert!(
        rig.sim.kill_switch_tripped(),
        "latched until the chair is reset"
    );
    rig.command(tarsal_core::engine::Command::Reset)
        .expect("reset after release");
    rig.tick();
    assert!(!rig.sim.kill_switch_tripped(), "the reset rearms the board");
}

#[test]
fn dropping_the_backend_leaves_the_board_safe() {
    let (rig, _) = heating_rig(|_| {});
    let sim = rig.sim.clone();
    drop(rig);
    assert!(sim.kill_switch_tripped());
    assert!(sim.truth().heater_power.0.iter().all(|p| p.0 == 0.0));
}

#[test]
fn checksum_errors_on_the_serial_line_are_glitches_until_they_persist() {
    let (mut rig, session) = heating_rig_on(Bench::ModbusRtu, |_| {});
    // One corrupted answer: a glitch, ridden out.
    rig_line(&rig).corrupt_next(1);
    rig.run_for(secs(1));
    assert_eq!(rig.count("fault.hardware"), 0, "{:?}", rig.codes());
    // Every answer corrupted: the link is lost.
    rig_line(&rig).corrupt_next(u32::MAX);
    rig.run_until_event("fault.hardware", secs(1));
    let problem = stored_problem(&rig);
    assert!(
        problem == HardwareProblem::LinkLost.code()
            || problem == HardwareProblem::StaleSample.code(),
        "{problem}"
    );
    // The line heals; the trip reaches the board.
    rig_line(&rig).corrupt_next(0);
    rig.tick();
    rig.assert_faulted_safe("fault.hardware", Some(session));
}

fn rig_line(rig: &Rig) -> &tarsal_sim_board::serial_line::SerialLine {
    rig.chair.hardware().serial_line().expect("the RTU bench")
}
