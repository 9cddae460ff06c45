//! Zones of the sole, as carriage positions (0 % = toes, 100 % = heel).
//!
//! The chair's foot rollers run along the length of the sole, so zones are
//! bands along it. Reflexology maps them to the body: toes to the head and
//! neck, the ball of the foot to the chest, the arch to the abdomen, the heel
//! to the pelvis; the inner edge (the spine) runs the whole length.

/// Toes: 0–15 %.
pub const TOES: f64 = 7.0;
/// Ball of the foot: 15–35 %.
pub const BALL: f64 = 25.0;
/// Arch: 35–65 %.
pub const ARCH: f64 = 50.0;
/// Heel: 65–100 %.
pub const HEEL: f64 = 85.0;
/// The very front of the carriage's travel, under the toes.
pub const FRONT: f64 = 0.0;
/// The very back of the carriage's travel, under the heel.
pub const BACK: f64 = 100.0;

/// The zone a carriage position falls in, in words.
pub fn zone_name(position_pct: f64) -> &'static str {
    match position_pct {
        p if p < 15.0 => "toes",
        p if p < 35.0 => "ball of the foot",
        p if p < 65.0 => "arch",
        _ => "heel",
    }
}
