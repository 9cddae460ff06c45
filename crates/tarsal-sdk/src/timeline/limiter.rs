//! The limiter: whatever a pattern asks, the request that leaves the runner
//! is inside the chair's limits (ceilings, ramps, speeds), so the service's
//! supervisor never has to clamp it.

use super::RAMP_HEADROOM;
use crate::{BathCommand, CalfCommand, FootCommand, HeatCommand, Limits, NodeMotion, Request};

/// Rises no faster than the ramp allows from what is applied; falls at once.
pub(super) fn slew(applied: f64, target: f64, ramp_pct_s: f64, dt: f64) -> f64 {
    if target > applied {
        target.min(applied.max(0.0) + RAMP_HEADROOM * ramp_pct_s * dt)
    } else {
        target.max(0.0)
    }
}

pub(super) fn limit_foot(
    mut c: FootCommand,
    applied_pressure: f64,
    l: &Limits,
    dt: f64,
) -> FootCommand {
    c.position_pct = c.position_pct.clamp(0.0, 100.0);
    c.travel_speed_pct_s = c.travel_speed_pct_s.clamp(0.0, l.travel_speed_max_pct_s);
    let target = c.pressure_pct.clamp(0.0, l.foot_pressure_ceiling_pct);
    c.pressure_pct = slew(applied_pressure, target, l.foot_pressure_ramp_pct_s, dt);
    let max_rate = match c.motion {
        NodeMotion::Still => 0.0,
        NodeMotion::Knead => l.knead_rate_max_hz,
        NodeMotion::Tap => l.tap_rate_max_hz,
        NodeMotion::Vibrate => l.vibrate_rate_max_hz,
    };
    c.motion_rate_hz = c.motion_rate_hz.clamp(0.0, max_rate);
    c
}

pub(super) fn limit_calf(
    (cells, kneading): ([f64; 3], f64),
    applied: &CalfCommand,
    l: &Limits,
    dt: f64,
) -> CalfCommand {
    let applied = [applied.ankle_pct, applied.mid_pct, applied.upper_pct];
    let p = |i: usize| {
        slew(
            applied[i],
            cells[i].clamp(0.0, l.cell_pressure_ceiling_pct),
            l.cell_pressure_ramp_pct_s,
            dt,
        )
    };
    CalfCommand {
        ankle_pct: p(0),
        mid_pct: p(1),
        upper_pct: p(2),
        kneading_speed_pct: (kneading * l.kneading_speed_max_pct)
            .clamp(0.0, l.kneading_speed_max_pct),
    }
}

pub(super) fn still() -> FootCommand {
    FootCommand {
        position_pct: 0.0,
        travel_speed_pct_s: 0.0,
        pressure_pct: 0.0,
        motion: NodeMotion::Still,
        motion_rate_hz: 0.0,
    }
}

/// A request with everything off.
pub fn off() -> Request {
    let calf = CalfCommand {
        ankle_pct: 0.0,
        mid_pct: 0.0,
        upper_pct: 0.0,
        kneading_speed_pct: 0.0,
    };
    Request {
        left_foot: still(),
        right_foot: still(),
        left_calf: calf,
        right_calf: calf,
        heat: HeatCommand {
            sole_c: None,
            calf_c: None,
            water_c: None,
        },
        bath: BathCommand {
            fill: false,
            drain: false,
            jets_pct: 0.0,
        },
    }
}
