//! Programs as timelines of steps.
//!
//! A [`Timeline`] is a list of [`Step`]s. Each step has a title staff see, a
//! length (a duration, or a condition such as "until the bath is full"), and
//! what the feet, calves, heat and bath do meanwhile — as patterns
//! ([`Feet::strokes`], [`Feet::points`], [`Calves::wave`] …) rather than as
//! raw commands. A [`Runner`] plays the timeline one tick at a time and keeps
//! every request inside the chair's limits: pressure never above the ceiling
//! of the current intensity and never rising faster than the ramp allows,
//! speeds and rates within their maxima, no motion without feet, no heat or
//! jets without water. A program built on it is never clamped.
//!
//! Pressures are [`Pressure`] shares of the current intensity's ceiling, so the
//! client's intensity setting scales the whole program.

mod limiter;
mod runner;
mod vocabulary;

pub use limiter::off;
pub use runner::Runner;
use std::time::Duration;
pub use vocabulary::{Bath, Calves, Cell, Feet, Heat, Length, Point, Pressure, Step, Timeline};

/// Share of the ramp limit the runner uses, leaving headroom for rounding.
pub(crate) const RAMP_HEADROOM: f64 = 0.9;
/// How close (in % of the sole) counts as "there".
pub(crate) const ARRIVED: f64 = 1.0;
/// Margin kept from the bath's level limits, in litres.
pub(crate) const LEVEL_MARGIN: f64 = 0.5;
/// How long a [`Length::ForWholeHolds`] step may run over its time to finish
/// a point hold (a ramp to full pressure plus the longest usual hold, with
/// room to spare); past it the step ends anyway.
pub(crate) const HOLD_GRACE: Duration = Duration::from_secs(20);

#[cfg(test)]
mod tests {
    use super::runner::*;
    use super::*;
    use crate::testing::{Bench, Trace};
    use crate::{
        Equipment, OptionValue, Program, ProgramInfo, SessionOptions, TickInput, TickOutput,
    };

    const HOLD: Duration = Duration::from_secs(5);
    const STEP: Duration = Duration::from_secs(14);
    const SHARE: f64 = 0.5;

    /// One step of two point holds; the `whole` flag picks the step's length.
    struct TwoPoints(Runner);

    impl Program for TwoPoints {
        fn describe() -> ProgramInfo {
            ProgramInfo {
                id: "two-points".into(),
                name: "Two points".into(),
                description: String::new(),
                version: "0".into(),
                duration_s: STEP.as_secs() as u32,
                steps: vec![],
                options: vec![],
                contraindications: vec![],
                uses: Equipment {
                    foot_rollers: true,
                    calf_units: false,
                    sole_heat: false,
                    calf_heat: false,
                    bath: false,
                },
                translations: vec![],
            }
        }

        fn start(options: &SessionOptions) -> Result<Self, String> {
            use crate::options::OptionsExt;
            let length = if options.flag("whole") == Some(true) {
                Length::ForWholeHolds(STEP)
            } else {
                Length::For(STEP)
            };
            let points = [10.0, 50.0].map(|at| Point { at, hold: HOLD });
            let step = Step::until("Points", length).feet(Feet::points(
                &points,
                Pressure::share(SHARE),
                Duration::from_secs(1),
            ));
            Ok(Self(Runner::new(Timeline::new(vec![step]))))
        }

        fn tick(&mut self, input: &TickInput) -> Result<TickOutput, String> {
            Ok(self.0.tick(input))
        }
    }

    fn run(bench: &Bench, whole: bool) -> Trace {
        bench
            .run::<TwoPoints>(&bench.options(&[("whole", OptionValue::Flag(whole))]))
            .unwrap()
    }

    /// How long the left foot was asked for full pressure, run by run.
    fn holds(trace: &Trace) -> Vec<Duration> {
        let full = SHARE * trace.samples[0].input.limits.foot_pressure_ceiling_pct;
        let mut holds = Vec::new();
        let mut since = None;
        for s in &trace.samples {
            let at_full = s.output.request.left_foot.pressure_pct >= 0.98 * full;
            match (at_full, since) {
                (true, None) => since = Some(s.elapsed()),
                (false, Some(start)) => {
                    holds.push(s.elapsed() - start);
                    since = None;
                }
                _ => {}
            }
        }
        holds
    }

    #[test]
    fn a_timed_points_step_cuts_its_last_hold_short() {
        // What `ForWholeHolds` is for: the same step with `For` ends mid-hold.
        let trace = run(&Bench::standard(), false);
        let holds = holds(&trace);
        assert_eq!(holds.len(), 2, "{holds:?}");
        assert!(holds[1] < HOLD, "{holds:?}");
        assert!(trace.duration() <= STEP + Duration::from_millis(100));
    }

    #[test]
    fn a_whole_holds_step_finishes_its_last_hold_then_ends() {
        let trace = run(&Bench::standard(), true);
        let holds = holds(&trace);
        assert_eq!(holds.len(), 2, "{holds:?}");
        for h in &holds {
            assert!(
                *h >= HOLD && *h <= HOLD + Duration::from_millis(200),
                "{holds:?}"
            );
        }
        // It ran over, but only to release the hold: the last request of the
        // step has no pressure, and it ended well inside the grace time.
        let d = trace.duration();
        assert!(d > STEP && d < STEP + HOLD_GRACE, "{d:?}");
        let last_of_step = trace.in_step(0).last().unwrap();
        assert_eq!(last_of_step.output.request.left_foot.pressure_pct, 0.0);
        assert!(trace.limit_violations().is_empty());
        assert_eq!(Length::ForWholeHolds(STEP).expected(), STEP);
    }

    #[test]
    fn a_whole_holds_step_without_feet_ends_on_time() {
        let mut bench = Bench::standard();
        bench.sensors.feet_present = false;
        let trace = run(&bench, true);
        assert!(holds(&trace).is_empty());
        let d = trace.duration();
        assert!(d >= STEP && d <= STEP + Duration::from_millis(100), "{d:?}");
    }
}
