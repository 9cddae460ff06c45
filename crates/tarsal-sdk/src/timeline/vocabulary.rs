//! The words a timeline is written in: steps, their lengths, and what the
//! feet, calves, heat and bath do during each.

use crate::StepInfo;
use std::time::Duration;

/// A pressure as a share (0–1) of the current intensity's ceiling, optionally
/// capped at an absolute percentage whatever the intensity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pressure {
    pub share: f64,
    pub cap_pct: f64,
}

impl Pressure {
    pub const NONE: Self = Self {
        share: 0.0,
        cap_pct: 0.0,
    };

    /// `share` (0–1) of the ceiling at the client's intensity.
    pub fn share(share: f64) -> Self {
        Self {
            share: share.clamp(0.0, 1.0),
            cap_pct: 100.0,
        }
    }

    /// Never more than `pct` %, whatever the intensity.
    pub fn at_most(self, pct: f64) -> Self {
        Self {
            cap_pct: pct.clamp(0.0, 100.0),
            ..self
        }
    }

    /// The pressure in % for a ceiling.
    pub fn resolve(self, ceiling_pct: f64) -> f64 {
        (self.share * ceiling_pct).min(self.cap_pct).max(0.0)
    }
}

/// A reflexology point: where, and how long to press once there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Carriage position (see [`crate::zones`]).
    pub at: f64,
    /// Time at full pressure.
    pub hold: Duration,
}

/// What both foot rollers do during a step.
#[derive(Clone, Debug, PartialEq)]
pub enum Feet {
    Rest,
    /// The carriage sweeps `from` → `to` and back with still nodes. With
    /// `release_on_return`, pressure is applied only going `from` → `to`
    /// (lymphatic strokes go one way only).
    Stroke {
        from: f64,
        to: f64,
        pressure: Pressure,
        /// Share (0–1) of the maximum travel speed.
        speed: f64,
        release_on_return: bool,
    },
    /// Kneading circles while the carriage travels slowly `from` → `to` and
    /// back; pressure goes from `pressure_from` at `from` to `pressure_to` at
    /// `to`.
    Knead {
        from: f64,
        to: f64,
        pressure_from: Pressure,
        pressure_to: Pressure,
        speed: f64,
        /// Share (0–1) of the maximum kneading rate.
        rate: f64,
    },
    /// Works zones one at a time, kneading at each for `each`.
    Zones {
        zones: Vec<f64>,
        each: Duration,
        pressure: Pressure,
        rate: f64,
    },
    /// Point holds: move to a point, press for its hold time, release for
    /// `pause`, go to the next; round again when done. Give the step a
    /// [`Length::ForWholeHolds`] so its last hold is not cut short.
    Points {
        points: Vec<Point>,
        pressure: Pressure,
        pause: Duration,
        speed: f64,
    },
    /// Vibration while the carriage travels `from` → `to` and back.
    Vibrate {
        from: f64,
        to: f64,
        pressure: Pressure,
        speed: f64,
        rate: f64,
    },
}

impl Feet {
    /// Strokes both ways with the same pressure.
    pub fn strokes(from: f64, to: f64, pressure: Pressure, speed: f64) -> Self {
        Self::Stroke {
            from,
            to,
            pressure,
            speed,
            release_on_return: false,
        }
    }

    /// Strokes that press only going `from` → `to` and release on the way back.
    pub fn one_way_strokes(from: f64, to: f64, pressure: Pressure, speed: f64) -> Self {
        Self::Stroke {
            from,
            to,
            pressure,
            speed,
            release_on_return: true,
        }
    }

    pub fn knead(from: f64, to: f64, pressure_from: Pressure, pressure_to: Pressure) -> Self {
        Self::Knead {
            from,
            to,
            pressure_from,
            pressure_to,
            speed: 0.15,
            rate: 0.7,
        }
    }

    pub fn zones(zones: &[f64], each: Duration, pressure: Pressure) -> Self {
        Self::Zones {
            zones: zones.to_vec(),
            each,
            pressure,
            rate: 0.7,
        }
    }

    pub fn points(points: &[Point], pressure: Pressure, pause: Duration) -> Self {
        Self::Points {
            points: points.to_vec(),
            pressure,
            pause,
            speed: 0.6,
        }
    }

    pub fn vibrate(from: f64, to: f64, pressure: Pressure) -> Self {
        Self::Vibrate {
            from,
            to,
            pressure,
            speed: 0.3,
            rate: 0.5,
        }
    }

    pub fn is_rest(&self) -> bool {
        matches!(self, Self::Rest)
    }
}

/// One of the three air cells of a calf unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    Ankle = 0,
    Mid = 1,
    Upper = 2,
}

/// What both calf units do during a step.
#[derive(Clone, Debug, PartialEq)]
pub enum Calves {
    Rest,
    /// The cells inflate in sequence ankle → mid → upper (each over
    /// `inflate`), all hold for `hold`, all release for `release`; repeat.
    Wave {
        pressure: Pressure,
        inflate: Duration,
        hold: Duration,
        release: Duration,
    },
    /// One cell at a time from the ankle up, `each` per cell, with the
    /// kneading rollers running.
    Climb {
        pressure: Pressure,
        each: Duration,
        /// Share (0–1) of the maximum kneading speed.
        kneading: f64,
    },
    /// One cell pulses: pressed for the first half of each period.
    Pulse {
        cell: Cell,
        pressure: Pressure,
        period: Duration,
    },
    /// Kneading rollers, with a light even pressure in all cells.
    Knead {
        kneading: f64,
        pressure: Pressure,
    },
}

impl Calves {
    pub fn wave(pressure: Pressure, inflate: Duration, hold: Duration, release: Duration) -> Self {
        Self::Wave {
            pressure,
            inflate,
            hold,
            release,
        }
    }

    pub fn is_rest(&self) -> bool {
        matches!(self, Self::Rest)
    }
}

/// Target temperatures during a step; `None` is off. Applied only when staff
/// allow heat, and never above the chair's maxima.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Heat {
    pub sole_c: Option<f64>,
    pub calf_c: Option<f64>,
    pub water_c: Option<f64>,
}

impl Heat {
    pub const OFF: Self = Self {
        sole_c: None,
        calf_c: None,
        water_c: None,
    };

    pub fn sole(self, celsius: f64) -> Self {
        Self {
            sole_c: Some(celsius),
            ..self
        }
    }

    pub fn calf(self, celsius: f64) -> Self {
        Self {
            calf_c: Some(celsius),
            ..self
        }
    }

    pub fn water(self, celsius: f64) -> Self {
        Self {
            water_c: Some(celsius),
            ..self
        }
    }
}

/// What the foot bath does during a step.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bath {
    /// Keep the water at this level (filled when it is a litre below).
    pub fill_to_l: Option<f64>,
    pub drain: bool,
    /// Share (0–1) of full jet power.
    pub jets: f64,
}

impl Bath {
    pub const IDLE: Self = Self {
        fill_to_l: None,
        drain: false,
        jets: 0.0,
    };

    pub fn fill_to(litres: f64) -> Self {
        Self {
            fill_to_l: Some(litres),
            ..Self::IDLE
        }
    }

    pub fn drain() -> Self {
        Self {
            drain: true,
            ..Self::IDLE
        }
    }

    pub fn jets(self, share: f64) -> Self {
        Self {
            jets: share.clamp(0.0, 1.0),
            ..self
        }
    }
}

/// How long a step lasts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Length {
    For(Duration),
    /// About this long, for steps of [`Feet::Points`]: once the time is up,
    /// the step ends as soon as no point is being pressed, so the last hold
    /// is never cut short (it may run over by a ramp and a hold). Without
    /// point holds in progress it ends on time, like [`Length::For`].
    ForWholeHolds(Duration),
    /// Until the water reaches `litres` (or `max` passes, or the bath is not allowed).
    UntilLevel {
        litres: f64,
        expected: Duration,
        max: Duration,
    },
    /// Until the water reaches `celsius` (or `max` passes, or heat or the bath is not allowed).
    UntilWarm {
        celsius: f64,
        expected: Duration,
        max: Duration,
    },
    /// Until the bath is empty (or `max` passes).
    UntilDrained {
        expected: Duration,
        max: Duration,
    },
    /// Until staff confirm the step's staff action on the panel.
    UntilConfirmed {
        expected: Duration,
    },
}

impl Length {
    /// How long the step is expected to take, for progress and estimates.
    pub fn expected(&self) -> Duration {
        match *self {
            Self::For(d) | Self::ForWholeHolds(d) => d,
            Self::UntilLevel { expected, .. }
            | Self::UntilWarm { expected, .. }
            | Self::UntilDrained { expected, .. }
            | Self::UntilConfirmed { expected } => expected,
        }
    }
}

/// One step of a program.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub title: String,
    pub staff_action: Option<String>,
    pub length: Length,
    pub feet: Feet,
    pub calves: Calves,
    pub heat: Heat,
    pub bath: Bath,
}

impl Step {
    /// A step of fixed length, everything at rest until set.
    pub fn new(title: &str, length: Duration) -> Self {
        Self::until(title, Length::For(length))
    }

    /// A step that lasts until a condition holds.
    pub fn until(title: &str, length: Length) -> Self {
        Self {
            title: title.to_owned(),
            staff_action: None,
            length,
            feet: Feet::Rest,
            calves: Calves::Rest,
            heat: Heat::OFF,
            bath: Bath::IDLE,
        }
    }

    /// A step where the chair waits for staff to do `instruction` and confirm.
    pub fn staff(title: &str, instruction: &str, expected: Duration) -> Self {
        Self {
            staff_action: Some(instruction.to_owned()),
            ..Self::until(title, Length::UntilConfirmed { expected })
        }
    }

    pub fn feet(self, feet: Feet) -> Self {
        Self { feet, ..self }
    }

    pub fn calves(self, calves: Calves) -> Self {
        Self { calves, ..self }
    }

    pub fn heat(self, heat: Heat) -> Self {
        Self { heat, ..self }
    }

    pub fn bath(self, bath: Bath) -> Self {
        Self { bath, ..self }
    }
}

/// A whole program as steps.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    pub steps: Vec<Step>,
}

impl Timeline {
    pub fn new(steps: Vec<Step>) -> Self {
        Self { steps }
    }

    /// The steps as the program describes them to the host.
    pub fn step_infos(&self) -> Vec<StepInfo> {
        self.steps
            .iter()
            .map(|s| StepInfo {
                title: s.title.clone(),
                staff_action: s.staff_action.clone(),
            })
            .collect()
    }

    /// The expected length of the whole program.
    pub fn expected_duration(&self) -> Duration {
        self.steps.iter().map(|s| s.length.expected()).sum()
    }
}
