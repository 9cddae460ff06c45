//! The boundary to the chair's I/O: the in-process simulator, a chair board on
//! Modbus, GPIO wiring. The control loop is its only caller.
//!
//! The contract every backend keeps:
//! - **Never block the tick.** `read` and `write` return at once. A backend
//!   whose I/O can be slow (a serial bus, a network) runs it on a thread of its
//!   own that keeps a process image: `read` hands out the newest sample with its
//!   age, `write` leaves outputs for the next exchange.
//! - **Errors say how bad they are.** A [`HardwareError::Glitch`] is one failed
//!   exchange (a timeout, a bad checksum): the loop retries and faults only when
//!   glitches follow each other ([`LinkMonitor`]). Every other error is a fault at
//!   once, named by its [`HardwareProblem`].
//! - **Samples carry their age.** A sample older than the chair's limit is a
//!   fault: the supervisor must never regulate on old readings.
//! - **Start safe, arm on the first good write, trip on drop.** A backend starts
//!   with its kill switch tripped (contactor open) and outputs off; the loop rearms
//!   it once the engine has written outputs; dropping the backend cuts power.
//! - **Heater outputs need refreshing.** A backend built for a chair profile is
//!   handed the profile's heater hold time; heater outputs not refreshed by a write
//!   within it fall off by themselves (in the board's firmware, where there is one).

use crate::model::{Outputs, SensorReadings};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// What went wrong with the chair's I/O, by what the control loop does about it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HardwareError {
    /// One exchange failed (a timeout, a checksum error, a busy bus): retried
    /// at the next tick; a fault only when [`LinkMonitor`] sees too many in a row.
    #[error("{0}")]
    Glitch(String),
    /// A fault at once: the link is lost, the board is not what it was, a sample
    /// is too old, a part does not follow its command.
    #[error("{detail}")]
    Fault {
        /// Which kind of failure, for events and the technician.
        problem: HardwareProblem,
        /// What exactly happened, in words.
        detail: String,
    },
}

impl HardwareError {
    /// A fault-at-once error.
    pub fn fault(problem: HardwareProblem, detail: impl Into<String>) -> Self {
        Self::Fault {
            problem,
            detail: detail.into(),
        }
    }

    /// The problem this error amounts to when it becomes a fault.
    pub fn problem(&self) -> HardwareProblem {
        match self {
            Self::Glitch(_) => HardwareProblem::LinkLost,
            Self::Fault { problem, .. } => *problem,
        }
    }
}

/// The named hardware faults (`data.problem` of a `fault.hardware` event).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HardwareProblem {
    /// The I/O bus or the board stopped answering (several exchanges in a row failed).
    LinkLost,
    /// The newest sensor sample is older than the chair allows.
    StaleSample,
    /// The board restarted: its boot identity changed under a running service.
    BoardRestarted,
    /// The device on the bus is not a Tarsal chair board, or speaks another protocol version.
    WrongBoard,
    /// The board refused a request (a Modbus exception).
    BoardRefused,
    /// The main contactor does not follow its command (auxiliary contact feedback).
    ContactorFeedback,
    /// The board reports a fault of its own (its status bits).
    BoardFault,
}

impl HardwareProblem {
    /// Every problem, in a stable order.
    pub const ALL: [Self; 7] = [
        Self::LinkLost,
        Self::StaleSample,
        Self::BoardRestarted,
        Self::WrongBoard,
        Self::BoardRefused,
        Self::ContactorFeedback,
        Self::BoardFault,
    ];

    /// Stable machine-readable name (as serialised).
    pub const fn code(self) -> &'static str {
        match self {
            Self::LinkLost => "link_lost",
            Self::StaleSample => "stale_sample",
            Self::BoardRestarted => "board_restarted",
            Self::WrongBoard => "wrong_board",
            Self::BoardRefused => "board_refused",
            Self::ContactorFeedback => "contactor_feedback",
            Self::BoardFault => "board_fault",
        }
    }
}

impl fmt::Display for HardwareProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::LinkLost => "the chair's I/O stopped answering",
            Self::StaleSample => "the sensor readings are too old",
            Self::BoardRestarted => "the chair board restarted",
            Self::WrongBoard => "the device on the bus is not a matching chair board",
            Self::BoardRefused => "the chair board refused a request",
            Self::ContactorFeedback => "the main contactor does not follow its command",
            Self::BoardFault => "the chair board reports a fault",
        })
    }
}

/// One reading of every sensor, and how old it is.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sample {
    /// The readings.
    pub readings: SensorReadings,
    /// Time since the readings were taken (zero for a backend that reads in
    /// the call itself).
    pub age: Duration,
}

impl Sample {
    /// Readings taken just now.
    pub fn fresh(readings: SensorReadings) -> Self {
        Self {
            readings,
            age: Duration::ZERO,
        }
    }
}

/// The chair's I/O.
pub trait Hardware: Send {
    /// The newest sample of every sensor. `now` is the engine clock (a
    /// simulator advances its physics to it; real hardware ignores it).
    fn read(&mut self, now: Duration) -> Result<Sample, HardwareError>;

    /// Drives every actuator. Heater outputs must be refreshed by a write at
    /// least every hold time, or the backend switches them off by itself.
    fn write(&mut self, now: Duration, outputs: &Outputs) -> Result<(), HardwareError>;

    /// The backend's most direct way to cut power to the actuators, usable
    /// from any thread (the watchdog uses it when the loop itself hangs).
    fn kill_switch(&self) -> Arc<dyn KillSwitch>;
}

impl<H: Hardware + ?Sized> Hardware for Box<H> {
    fn read(&mut self, now: Duration) -> Result<Sample, HardwareError> {
        (**self).read(now)
    }
    fn write(&mut self, now: Duration, outputs: &Outputs) -> Result<(), HardwareError> {
        (**self).write(now, outputs)
    }
    fn kill_switch(&self) -> Arc<dyn KillSwitch> {
        (**self).kill_switch()
    }
}

/// Cuts power to every actuator, independently of the normal output path.
pub trait KillSwitch: Send + Sync {
    /// Cut power now. Must not block or fail.
    fn trip(&self);
    /// Restore power (after the cause was cleared and the chair reset).
    fn rearm(&self);
    /// Whether power is cut.
    fn is_tripped(&self) -> bool;
}

/// How many failed exchanges in a row the loop rides out on the last good
/// sample before it calls the link lost. At the standard 10 ms tick, three
/// glitches are 30 ms of old readings — well inside the heater checks' windows.
pub const GLITCHES_TOLERATED: u32 = 3;

/// Counts failed exchanges in a row and says when they amount to a fault:
/// one glitch is retried, [`GLITCHES_TOLERATED`] + 1 in a row are a lost link.
#[derive(Clone, Copy, Debug, Default)]
pub struct LinkMonitor {
    consecutive_glitches: u32,
}

/// What the loop does after an exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkVerdict {
    /// The exchange worked.
    Healthy,
    /// It failed, but not often enough to stop: use the last good sample.
    RideOut,
    /// A fault: make the chair safe and raise it.
    Fault {
        /// Which kind of failure.
        problem: HardwareProblem,
        /// What happened, in words.
        detail: String,
    },
}

impl LinkMonitor {
    /// Feeds the outcome of one exchange.
    pub fn observe<T>(&mut self, outcome: &Result<T, HardwareError>) -> LinkVerdict {
        match outcome {
            Ok(_) => {
                self.consecutive_glitches = 0;
                LinkVerdict::Healthy
            }
            Err(HardwareError::Glitch(detail)) => {
                self.consecutive_glitches += 1;
                if self.consecutive_glitches > GLITCHES_TOLERATED {
                    LinkVerdict::Fault {
                        problem: HardwareProblem::LinkLost,
                        detail: format!(
                            "{} exchanges in a row failed; the last: {detail}",
                            self.consecutive_glitches
                        ),
                    }
                } else {
                    LinkVerdict::RideOut
                }
            }
            Err(HardwareError::Fault { problem, detail }) => LinkVerdict::Fault {
                problem: *problem,
                detail: detail.clone(),
            },
        }
    }

    /// Failed exchanges since the last good one.
    pub fn consecutive_glitches(&self) -> u32 {
        self.consecutive_glitches
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_glitch_is_ridden_out_and_a_run_of_them_is_a_lost_link() {
        let mut link = LinkMonitor::default();
        let glitch: Result<(), _> = Err(HardwareError::Glitch("timeout".into()));
        for _ in 0..GLITCHES_TOLERATED {
            assert_eq!(link.observe(&glitch), LinkVerdict::RideOut);
        }
        assert!(matches!(
            link.observe(&glitch),
            LinkVerdict::Fault {
                problem: HardwareProblem::LinkLost,
                ..
            }
        ));
    }

    #[test]
    fn a_good_exchange_resets_the_count() {
        let mut link = LinkMonitor::default();
        let glitch: Result<(), _> = Err(HardwareError::Glitch("crc".into()));
        for _ in 0..10 {
            for _ in 0..GLITCHES_TOLERATED {
                assert_eq!(link.observe(&glitch), LinkVerdict::RideOut);
            }
            assert_eq!(
                link.observe(&Ok::<_, HardwareError>(())),
                LinkVerdict::Healthy
            );
        }
    }

    #[test]
    fn a_named_fault_is_a_fault_at_once() {
        let mut link = LinkMonitor::default();
        let restarted: Result<(), _> = Err(HardwareError::fault(
            HardwareProblem::BoardRestarted,
            "boot id 17 became 4",
        ));
        assert_eq!(
            link.observe(&restarted),
            LinkVerdict::Fault {
                problem: HardwareProblem::BoardRestarted,
                detail: "boot id 17 became 4".into()
            }
        );
    }

    #[test]
    fn problem_codes_match_their_serialisation() {
        for p in HardwareProblem::ALL {
            let json = serde_json::to_string(&p).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", p.code()));
        }
    }
}
