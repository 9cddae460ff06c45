//! Clamp and interlock conditions, each with a bit of its own, so the
//! supervisor can report each once when it begins (and not again within
//! `REPORT_INTERVAL`, or once per session for some).

use crate::model::{CalfCell, HeaterId, Side};
use crate::profile::EquipmentPart;

/// One condition the supervisor reports: a clamp or an interlock, on a
/// particular part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Condition {
    Setpoint(HeaterId),
    FootPressure(Side),
    FootRamp(Side),
    CellPressure(Side, CalfCell),
    CellRamp(Side, CalfCell),
    Travel(Side),
    MotionRate(Side),
    Kneading(Side),
    NoFeet,
    DryRunHeater,
    DryRunJets,
    BathFull,
    NotFittedFoot(Side),
    NotFittedCalf(Side),
    NotFittedHeater(HeaterId),
    NotFittedBath,
    NotDeclared(EquipmentPart),
    AwaitingStaff,
}

// Each kind of condition takes as many bits as it has instances, one kind
// after another; the offsets follow from the sizes.
const SIDES: u32 = Side::ALL.len() as u32;
const HEATERS: u32 = HeaterId::ALL.len() as u32;
const CELLS: u32 = SIDES * CalfCell::ALL.len() as u32;
const PARTS: u32 = EquipmentPart::ALL.len() as u32;

const SETPOINT: u32 = 0;
const FOOT_PRESSURE: u32 = SETPOINT + HEATERS;
const FOOT_RAMP: u32 = FOOT_PRESSURE + SIDES;
const CELL_PRESSURE: u32 = FOOT_RAMP + SIDES;
const CELL_RAMP: u32 = CELL_PRESSURE + CELLS;
const TRAVEL: u32 = CELL_RAMP + CELLS;
const MOTION_RATE: u32 = TRAVEL + SIDES;
const KNEADING: u32 = MOTION_RATE + SIDES;
const NO_FEET: u32 = KNEADING + SIDES;
const DRY_RUN_HEATER: u32 = NO_FEET + 1;
const DRY_RUN_JETS: u32 = DRY_RUN_HEATER + 1;
const BATH_FULL: u32 = DRY_RUN_JETS + 1;
const NOT_FITTED_FOOT: u32 = BATH_FULL + 1;
const NOT_FITTED_CALF: u32 = NOT_FITTED_FOOT + SIDES;
const NOT_FITTED_HEATER: u32 = NOT_FITTED_CALF + SIDES;
const NOT_FITTED_BATH: u32 = NOT_FITTED_HEATER + HEATERS;
const NOT_DECLARED: u32 = NOT_FITTED_BATH + 1;
const AWAITING_STAFF: u32 = NOT_DECLARED + PARTS;
/// How many bits the conditions use; they must fit the supervisor's `u64`s.
pub(super) const COUNT: u32 = AWAITING_STAFF + 1;
const _: () = assert!(COUNT <= 64, "the conditions no longer fit in a u64");

impl Condition {
    /// This condition's bit in the supervisor's masks.
    pub(super) fn bit(self) -> u32 {
        let side = |s: Side| s.index() as u32;
        let cell = |s: Side, c: CalfCell| side(s) * CalfCell::ALL.len() as u32 + c.index() as u32;
        match self {
            Self::Setpoint(h) => SETPOINT + h.index() as u32,
            Self::FootPressure(s) => FOOT_PRESSURE + side(s),
            Self::FootRamp(s) => FOOT_RAMP + side(s),
            Self::CellPressure(s, c) => CELL_PRESSURE + cell(s, c),
            Self::CellRamp(s, c) => CELL_RAMP + cell(s, c),
            Self::Travel(s) => TRAVEL + side(s),
            Self::MotionRate(s) => MOTION_RATE + side(s),
            Self::Kneading(s) => KNEADING + side(s),
            Self::NoFeet => NO_FEET,
            Self::DryRunHeater => DRY_RUN_HEATER,
            Self::DryRunJets => DRY_RUN_JETS,
            Self::BathFull => BATH_FULL,
            Self::NotFittedFoot(s) => NOT_FITTED_FOOT + side(s),
            Self::NotFittedCalf(s) => NOT_FITTED_CALF + side(s),
            Self::NotFittedHeater(h) => NOT_FITTED_HEATER + h.index() as u32,
            Self::NotFittedBath => NOT_FITTED_BATH,
            Self::NotDeclared(p) => NOT_DECLARED + p as u32,
            Self::AwaitingStaff => AWAITING_STAFF,
        }
    }

    /// The bit as a mask.
    pub(super) fn mask(self) -> u64 {
        1u64 << self.bit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every condition there is, each instance once.
    fn all() -> Vec<Condition> {
        let mut all = vec![
            Condition::NoFeet,
            Condition::DryRunHeater,
            Condition::DryRunJets,
            Condition::BathFull,
            Condition::NotFittedBath,
            Condition::AwaitingStaff,
        ];
        for h in HeaterId::ALL {
            all.extend([Condition::Setpoint(h), Condition::NotFittedHeater(h)]);
        }
        for s in Side::ALL {
            all.extend([
                Condition::FootPressure(s),
                Condition::FootRamp(s),
                Condition::Travel(s),
                Condition::MotionRate(s),
                Condition::Kneading(s),
                Condition::NotFittedFoot(s),
                Condition::NotFittedCalf(s),
            ]);
            for c in CalfCell::ALL {
                all.extend([Condition::CellPressure(s, c), Condition::CellRamp(s, c)]);
            }
        }
        all.extend(EquipmentPart::ALL.map(Condition::NotDeclared));
        all
    }

    #[test]
    fn every_condition_has_a_bit_of_its_own() {
        let all = all();
        let mut bits: Vec<u32> = all.iter().map(|c| c.bit()).collect();
        bits.sort_unstable();
        bits.dedup();
        assert_eq!(bits.len(), all.len(), "two conditions share a bit");
        assert_eq!(
            bits.len() as u32,
            COUNT,
            "a bit nobody uses, or one missing"
        );
        assert!(bits.iter().all(|b| *b < 64));
    }
}
