//! Physical quantities as types, so a temperature can never be passed where a
//! percentage is expected. Every quantity is an `f64` underneath; a value read
//! from hardware or a plugin may be NaN or out of range, and the supervisor is the
//! place that decides what to do with it, so constructors do not validate.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! quantity {
    ($(#[$doc:meta])* $name:ident, $symbol:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub f64);

        impl $name {
            /// Zero of this quantity.
            pub const ZERO: Self = Self(0.0);
            /// The unit symbol used when the value is shown to people.
            pub const SYMBOL: &'static str = $symbol;

            /// Wraps a raw value in this unit (not validated).
            pub const fn new(value: f64) -> Self {
                Self(value)
            }

            /// The raw value.
            pub const fn get(self) -> f64 {
                self.0
            }

            /// Whether the value is neither NaN nor infinite.
            pub fn is_finite(self) -> bool {
                self.0.is_finite()
            }

            /// The smaller of two values; NaN loses to a number.
            pub fn min(self, other: Self) -> Self {
                Self(self.0.min(other.0))
            }

            /// The larger of two values; NaN loses to a number.
            pub fn max(self, other: Self) -> Self {
                Self(self.0.max(other.0))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let precision = f.precision().unwrap_or(1);
                write!(f, "{:.*} {}", precision, self.0, $symbol)
            }
        }

        impl std::ops::Add for $name {
            type Output = Self;
            fn add(self, rhs: Self) -> Self {
                Self(self.0 + rhs.0)
            }
        }

        impl std::ops::Sub for $name {
            type Output = Self;
            fn sub(self, rhs: Self) -> Self {
                Self(self.0 - rhs.0)
            }
        }
    };
}

quantity!(
    /// Temperature in degrees Celsius.
    Celsius,
    "°C"
);
quantity!(
    /// A share of full scale, 0–100: pressure, position along the sole, pump power.
    Percent,
    "%"
);
quantity!(
    /// A rate of change of a percentage: carriage travel speed, pressure ramp.
    PercentPerSecond,
    "%/s"
);
quantity!(
    /// Volume of water in litres.
    Litres,
    "L"
);
quantity!(
    /// Volume flow in litres per second.
    LitresPerSecond,
    "L/s"
);
quantity!(
    /// Electric current in amperes (roller motor current).
    Amps,
    "A"
);
quantity!(
    /// Frequency in hertz (node motion rate).
    Hertz,
    "Hz"
);
quantity!(
    /// Electric power in watts (heater ratings in the simulator).
    Watts,
    "W"
);

impl Percent {
    /// Full scale, 100 %.
    pub const FULL: Self = Self(100.0);

    /// This percentage as a fraction 0–1.
    pub fn fraction(self) -> f64 {
        self.0 / 100.0
    }

    /// A percentage from a fraction 0–1.
    pub fn from_fraction(fraction: f64) -> Self {
        Self(fraction * 100.0)
    }
}

/// How hard the client wants the massage: 1 (gentlest) to 5 (firmest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Intensity(u8);

impl Intensity {
    /// The gentlest level, 1.
    pub const MIN: Self = Self(1);
    /// The firmest level, 5.
    pub const MAX: Self = Self(5);
    /// The middle level, 3: the default.
    pub const DEFAULT: Self = Self(3);
    /// How many levels there are (the size of per-intensity tables).
    pub const LEVELS: usize = 5;

    /// `None` unless `level` is 1–5.
    pub const fn new(level: u8) -> Option<Self> {
        if level >= 1 && level <= 5 {
            Some(Self(level))
        } else {
            None
        }
    }

    /// The level, 1–5.
    pub const fn level(self) -> u8 {
        self.0
    }

    /// Zero-based index into per-intensity tables.
    pub const fn index(self) -> usize {
        (self.0 - 1) as usize
    }

    /// One step firmer, saturating at 5.
    pub fn raised(self) -> Self {
        Self((self.0 + 1).min(5))
    }

    /// One step gentler, saturating at 1.
    pub fn lowered(self) -> Self {
        Self((self.0 - 1).max(1))
    }
}

impl Default for Intensity {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl TryFrom<u8> for Intensity {
    type Error = String;
    fn try_from(level: u8) -> Result<Self, String> {
        Self::new(level).ok_or_else(|| format!("intensity must be 1–5, not {level}"))
    }
}

impl From<Intensity> for u8 {
    fn from(i: Intensity) -> u8 {
        i.0
    }
}

impl fmt::Display for Intensity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_uses_symbol_and_one_decimal_by_default() {
        assert_eq!(Celsius(40.0).to_string(), "40.0 °C");
        assert_eq!(format!("{:.0}", Percent(55.4)), "55 %");
    }

    #[test]
    fn intensity_accepts_only_one_to_five() {
        assert!(Intensity::new(0).is_none());
        assert!(Intensity::new(6).is_none());
        assert_eq!(Intensity::new(5).map(Intensity::index), Some(4));
        assert_eq!(Intensity::MAX.raised(), Intensity::MAX);
        assert_eq!(Intensity::MIN.lowered(), Intensity::MIN);
    }
}
