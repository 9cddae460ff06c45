//! What a request value can mean at all: a value outside its domain (a
//! negative percentage, a setpoint of 500 °C, NaN) is not a clamp but a
//! broken program, answered with a fault.

use super::SETPOINT_DOMAIN_MAX;
use crate::event::Fault;
use crate::model::{CalfCell, HeaterId, Request, Side};

/// A reading as text, NaN included.
pub(super) fn show(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v:.1}")
    }
}

/// A request value outside what the quantity can physically mean.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutOfDomain {
    /// e.g. `feet.left.position`.
    pub field: String,
    /// The value given, as text (`NaN` included).
    pub value: String,
    /// What the field may be, in words.
    pub allowed: &'static str,
}

/// Percent of full scale.
pub const PERCENT_DOMAIN: &str = "0–100 %";
/// Speeds and rates.
pub const RATE_DOMAIN: &str = "a number of 0 or more";
/// Heater setpoints.
pub const SETPOINT_DOMAIN: &str = "0–100 °C";

/// Checks every value of `r` can mean something: the first that cannot, named.
pub fn check_domain(r: &Request) -> Result<(), OutOfDomain> {
    let bad = |field: String, v: f64, allowed| {
        Err(OutOfDomain {
            field,
            value: show(v),
            allowed,
        })
    };
    let pct = |v: f64| (0.0..=100.0).contains(&v);
    let rate = |v: f64| v.is_finite() && v >= 0.0;
    for side in Side::ALL {
        let f = &r.feet[side];
        let name = |what: &str| format!("feet.{}.{what}", side.code());
        if !pct(f.position.0) {
            return bad(name("position"), f.position.0, PERCENT_DOMAIN);
        }
        if !pct(f.pressure.0) {
            return bad(name("pressure"), f.pressure.0, PERCENT_DOMAIN);
        }
        if !rate(f.travel_speed.0) {
            return bad(name("travel_speed"), f.travel_speed.0, RATE_DOMAIN);
        }
        if !rate(f.motion_rate.0) {
            return bad(name("motion_rate"), f.motion_rate.0, RATE_DOMAIN);
        }
        let c = &r.calves[side];
        for cell in CalfCell::ALL {
            if !pct(c.cells[cell].0) {
                return bad(
                    format!("calves.{}.{}", side.code(), cell.code()),
                    c.cells[cell].0,
                    PERCENT_DOMAIN,
                );
            }
        }
        if !pct(c.kneading_speed.0) {
            return bad(
                format!("calves.{}.kneading_speed", side.code()),
                c.kneading_speed.0,
                PERCENT_DOMAIN,
            );
        }
    }
    for h in HeaterId::ALL {
        if let Some(sp) = r.setpoints[h]
            && !(0.0..=SETPOINT_DOMAIN_MAX.0).contains(&sp.0)
        {
            return bad(format!("setpoints.{}", h.code()), sp.0, SETPOINT_DOMAIN);
        }
    }
    if !pct(r.bath.jets.0) {
        return bad("bath.jets".into(), r.bath.jets.0, PERCENT_DOMAIN);
    }
    Ok(())
}

/// A request value outside what the quantity can physically mean is not a
/// clamp but a broken program: the first such value, named.
pub(super) fn invalid_request(r: &Request, source: &str) -> Option<Fault> {
    check_domain(r).err().map(|e| Fault::InvalidRequest {
        program: source.to_owned(),
        field: e.field,
        value: e.value,
    })
}
