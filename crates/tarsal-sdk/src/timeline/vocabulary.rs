//! The words a timeline is written in: steps, their lengths, and what the
//! feet, calves, heat and bath do during each.

use crate::StepInfo;
use std::time::Duration;

/// A pressure as a share (0–1) of the current intensity's ceiling, optionally
/// capped at an absolute percentage whatever the intensity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pressure {
    /// Share (0–1) of the ceiling at the client's intensity.
    pub share: f64,
    /// Never more than this, in %, whatever the intensity.
    pub cap_pct: f64,
}

impl Pressure {
    /// No pressure at all.
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
    /// Nodes still, no pressure, the carriage where it is.
    Rest,
    /// The carriage sweeps `from` → `to` and back with still nodes. With
    /// `release_on_return`, pressure is applied only going `from` → `to`
    /// (lymphatic strokes go one way only).
    Stroke {
        /// Carriage position the stroke starts from (see [`crate::zones`]).
        from: f64,
        /// Carriage position the stroke goes to.
        to: f64,
        /// Node pressure while stroking.
        pressure: Pressure,
        /// Share (0–1) of the maximum travel speed.
        speed: f64,
        /// Press only going `from` → `to`; release on the way back.
        release_on_return: bool,
    },
    /// Kneading circles while the carriage travels slowly `from` → `to` and
    /// back; pressure goes from `pressure_from` at `from` to `pressure_to` at
    /// `to`.
    Knead {
        /// Carriage position the kneading starts from.
        from: f64,
        /// Carriage position it travels to.
        to: f64,
        /// Pressure at `from`.
        pressure_from: Pressure,
        /// Pressure at `to`; in between it changes evenly.
        pressure_to: Pressure,
        /// Share (0–1) of the maximum travel speed.
        speed: f64,
        /// Share (0–1) of the maximum kneading rate.
        rate: f64,
    },
    /// Works zones one at a time, kneading at each for `each`.
    Zones {
        /// Carriage positions of the zones, in the order they are worked.
        zones: Vec<f64>,
        /// Time at each zone.
        each: Duration,
        /// Kneading pressure at each zone.
        pressure: Pressure,
        /// Share (0–1) of the maximum kneading rate.
        rate: f64,
    },
    /// Point holds: move to a point, press for its hold time, release for
    /// `pause`, go to the next; round again when done. Give the step a
    /// [`Length::ForWholeHolds`] so its last hold is not cut short.
    Points {
        /// The points, in the order they are pressed.
        points: Vec<Point>,
        /// Pressure on each point.
        pressure: Pressure,
        /// Release between two points.
        pause: Duration,
        /// Share (0–1) of the maximum travel speed between points.
        speed: f64,
    },
    /// Vibration while the carriage travels `from` → `to` and back.
    Vibrate {
        /// Carriage position the pass starts from.
        from: f64,
        /// Carriage position it travels to.
        to: f64,
        /// Node pressure while vibrating.
        pressure: Pressure,
        /// Share (0–1) of the maximum travel speed.
        speed: f64,
        /// Share (0–1) of the maximum vibration rate.
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

    /// Kneading circles from `from` to `to` with pressure changing evenly
    /// from `pressure_from` to `pressure_to`, at a slow carriage speed and a
    /// moderate rate.
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

    /// Kneading at each of `zones` in turn for `each`, at a moderate rate.
    pub fn zones(zones: &[f64], each: Duration, pressure: Pressure) -> Self {
        Self::Zones {
            zones: zones.to_vec(),
            each,
            pressure,
            rate: 0.7,
        }
    }

    /// Point holds on `points` in turn, released for `pause` between them.
    pub fn points(points: &[Point], pressure: Pressure, pause: Duration) -> Self {
        Self::Points {
            points: points.to_vec(),
            pressure,
            pause,
            speed: 0.6,
        }
    }

    /// Vibration on a slow pass from `from` to `to` and back.
    pub fn vibrate(from: f64, to: f64, pressure: Pressure) -> Self {
        Self::Vibrate {
            from,
            to,
            pressure,
            speed: 0.3,
            rate: 0.5,
        }
    }

    /// Whether the feet rest during the step.
    pub fn is_rest(&self) -> bool {
        matches!(self, Self::Rest)
    }
}

/// One of the three air cells of a calf unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// The cell at the ankle, filled first in a wave.
    Ankle = 0,
    /// The middle of the calf.
    Mid = 1,
    /// Just below the knee.
    Upper = 2,
}

/// What both calf units do during a step.
#[derive(Clone, Debug, PartialEq)]
pub enum Calves {
    /// Cells empty, kneading rollers off.
    Rest,
    /// The cells inflate in sequence ankle → mid → upper (each over
    /// `inflate`), all hold for `hold`, all release for `release`; repeat.
    Wave {
        /// Pressure each cell fills to.
        pressure: Pressure,
        /// Time to fill each cell.
        inflate: Duration,
        /// Time all cells hold.
        hold: Duration,
        /// Time all cells are released before the next wave.
        release: Duration,
    },
    /// One cell at a time from the ankle up, `each` per cell, with the
    /// kneading rollers running.
    Climb {
        /// Pressure of the cell being worked.
        pressure: Pressure,
        /// Time on each cell.
        each: Duration,
        /// Share (0–1) of the maximum kneading speed.
        kneading: f64,
    },
    /// One cell pulses: pressed for the first half of each period.
    Pulse {
        /// The cell that pulses.
        cell: Cell,
        /// Its pressure while pressed.
        pressure: Pressure,
        /// One press and one release.
        period: Duration,
    },
    /// Kneading rollers, with a light even pressure in all cells.
    Knead {
        /// Share (0–1) of the maximum kneading speed.
        kneading: f64,
        /// The even pressure in all cells.
        pressure: Pressure,
    },
}

impl Calves {
    /// A wave from the ankle up: see [`Calves::Wave`].
    pub fn wave(pressure: Pressure, inflate: Duration, hold: Duration, release: Duration) -> Self {
        Self::Wave {
            pressure,
            inflate,
            hold,
            release,
        }
    }

    /// Whether the calves rest during the step.
    pub fn is_rest(&self) -> bool {
        matches!(self, Self::Rest)
    }
}

/// Target temperatures during a step; `None` is off. Applied only when staff
/// allow heat, and never above the chair's maxima.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Heat {
    /// The sole heat pad's target, in °C.
    pub sole_c: Option<f64>,
    /// The calf heat pad's target, in °C.
    pub calf_c: Option<f64>,
    /// The foot bath water's target, in °C.
    pub water_c: Option<f64>,
}

impl Heat {
    /// Every heater off.
    pub const OFF: Self = Self {
        sole_c: None,
        calf_c: None,
        water_c: None,
    };

    /// The sole pad at `celsius`.
    pub fn sole(self, celsius: f64) -> Self {
        Self {
            sole_c: Some(celsius),
            ..self
        }
    }

    /// The calf pad at `celsius`.
    pub fn calf(self, celsius: f64) -> Self {
        Self {
            calf_c: Some(celsius),
            ..self
        }
    }

    /// The bath water at `celsius`.
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
    /// Run the drain pump.
    pub drain: bool,
    /// Share (0–1) of full jet power.
    pub jets: f64,
}

impl Bath {
    /// No filling, no draining, jets off.
    pub const IDLE: Self = Self {
        fill_to_l: None,
        drain: false,
        jets: 0.0,
    };

    /// Fill to `litres` and keep the water there.
    pub fn fill_to(litres: f64) -> Self {
        Self {
            fill_to_l: Some(litres),
            ..Self::IDLE
        }
    }

    /// Drain the bath.
    pub fn drain() -> Self {
        Self {
            drain: true,
            ..Self::IDLE
        }
    }

    /// The jets at `share` (0–1) of full power.
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
    /// Exactly this long.
    For(Duration),
    /// About this long, for steps of [`Feet::Points`]: once the time is up,
    /// the step ends as soon as no point is being pressed, so the last hold
    /// is never cut short (it may run over by a ramp and a hold). Without
    /// point holds in progress it ends on time, like [`Length::For`].
    ForWholeHolds(Duration),
    /// Until the water reaches `litres` (or `max` passes, or the bath is not allowed).
    UntilLevel {
        /// The level that ends the step.
        litres: f64,
        /// How long it usually takes, for progress and estimates.
        expected: Duration,
        /// The longest the step may take.
        max: Duration,
    },
    /// Until the water reaches `celsius` (or `max` passes, or heat or the bath is not allowed).
    UntilWarm {
        /// The water temperature that ends the step.
        celsius: f64,
        /// How long it usually takes, for progress and estimates.
        expected: Duration,
        /// The longest the step may take.
        max: Duration,
    },
    /// Until the bath is empty (or `max` passes).
    UntilDrained {
        /// How long it usually takes, for progress and estimates.
        expected: Duration,
        /// The longest the step may take.
        max: Duration,
    },
    /// Until staff confirm the step's staff action on the panel.
    UntilConfirmed {
        /// How long staff usually take, for progress and estimates.
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
    /// What the step is, as staff see it on the panel.
    pub title: String,
    /// What staff must do before the chair goes on, if anything.
    pub staff_action: Option<String>,
    /// How long it lasts.
    pub length: Length,
    /// What the foot rollers do.
    pub feet: Feet,
    /// What the calf units do.
    pub calves: Calves,
    /// The heaters' targets.
    pub heat: Heat,
    /// What the foot bath does.
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

    /// The step with the foot rollers doing `feet`.
    pub fn feet(self, feet: Feet) -> Self {
        Self { feet, ..self }
    }

    /// The step with the calf units doing `calves`.
    pub fn calves(self, calves: Calves) -> Self {
        Self { calves, ..self }
    }

    /// The step with these heater targets.
    pub fn heat(self, heat: Heat) -> Self {
        Self { heat, ..self }
    }

    /// The step with the foot bath doing `bath`.
    pub fn bath(self, bath: Bath) -> Self {
        Self { bath, ..self }
    }
}

/// A whole program as steps.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// The steps, in order.
    pub steps: Vec<Step>,
}

impl Timeline {
    /// A timeline of `steps`, played in order.
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
