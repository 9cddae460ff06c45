//! The sanitation log, written from what the bath actually did.
//!
//! California's rule for pedicure basins (16 CCR §980.1) asks, after every
//! client: drain, scrub, refill, circulate disinfectant with the jets for at
//! least ten minutes, drain and dry, and log it with the staff member's
//! initials. The engine measures each session of the sanitize program — how
//! long the jets circulated water, whether the bath ended drained — and logs
//! the cycle as complete only when the hardware did what the rule asks. With
//! the salon's consent it also refuses the next client until the cycle after
//! the previous client is logged complete.

use crate::model::Outputs;
use crate::model::SensorReadings;
use crate::units::Litres;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The sanitation contract between the service and a sanitize program: the
/// program names the cycle staff chose (`after-client`, `end-of-day`…) in a
/// choice option with this key, and the log records its value. The SDK
/// carries the same key (`tarsal_sdk::sanitation::CYCLE_OPTION`).
pub const CYCLE_OPTION: &str = "cycle";

/// How the salon wants sanitizing handled.
#[derive(Clone, Debug, PartialEq)]
pub struct SanitationPolicy {
    /// The program that sanitizes the bath.
    pub program: String,
    /// Circulation with the jets a complete cycle needs.
    pub circulation: Duration,
    /// Refuse a client session while the cycle after the previous client is owed.
    pub required_between_clients: bool,
}

impl Default for SanitationPolicy {
    fn default() -> Self {
        Self {
            program: "sanitize".into(),
            circulation: Duration::from_secs(10 * 60),
            required_between_clients: false,
        }
    }
}

/// What the bath did during one session.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BathTally {
    /// Time the jets ran with the bath above its minimum level.
    pub circulation: Duration,
    /// Highest water level seen.
    pub highest_level: Litres,
}

impl BathTally {
    /// Adds one tick of `dt`: jet circulation above `min_level`, and the highest level.
    pub fn tick(
        &mut self,
        dt: Duration,
        outputs: &Outputs,
        sensors: &SensorReadings,
        min_level: Litres,
    ) {
        if outputs.jet_pump.0 > 0.0 && sensors.water_level > min_level {
            self.circulation += dt;
        }
        self.highest_level = self.highest_level.max(sensors.water_level);
    }
}

/// One entry of the sanitation log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SanitationRecord {
    /// The cycle staff chose (`after-client`, `end-of-day`…), if the program has that option.
    pub cycle: String,
    /// The cycle did all the rule asks.
    pub complete: bool,
    /// Time the jets circulated water above the bath's minimum level.
    pub circulation: Duration,
    /// The bath ended the cycle drained.
    pub drained: bool,
    /// Initials of the staff who confirmed its steps, in order.
    pub initials: Vec<String>,
    /// What was missing, for an incomplete cycle.
    pub missing: String,
}

impl SanitationRecord {
    /// Judges a finished sanitize session against the policy.
    pub fn judge(
        policy: &SanitationPolicy,
        cycle: String,
        completed: bool,
        tally: &BathTally,
        drained: bool,
        initials: Vec<String>,
    ) -> Self {
        let mut missing = Vec::new();
        if !completed {
            missing.push("the cycle was cut short".to_owned());
        }
        if tally.circulation < policy.circulation {
            missing.push(format!(
                "the jets circulated {} of the {} needed",
                crate::config_file::human_duration(tally.circulation),
                crate::config_file::human_duration(policy.circulation)
            ));
        }
        if !drained {
            missing.push("the bath was not drained".to_owned());
        }
        Self {
            cycle,
            complete: missing.is_empty(),
            circulation: tally.circulation,
            drained,
            initials,
            missing: missing.join("; "),
        }
    }
}
