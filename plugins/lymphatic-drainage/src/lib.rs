//! Lymphatic drainage for feet and calves (about 15 minutes).
//!
//! Lymphatic drainage helps the body move excess fluid out of the tissues:
//! the seed articles recommend it for swelling, heavy legs and early signs of
//! varicose veins. It is light work, and it always follows the way lymph flows,
//! from the far end of the leg toward the body:
//!
//! - the sole is stroked from the toes to the heel only; the rollers lift off
//!   on the way back ([`Feet::one_way_strokes`]);
//! - the calf cells then fill one after the other from the ankle up to the
//!   knee, hold, and let go together, again and again ([`Calves::wave`]).
//!
//! Pressure is light whatever the intensity: every pressure is a share of the
//! intensity's ceiling *and* capped absolutely ([`FOOT_CAP_PCT`],
//! [`CELL_CAP_PCT`]), so intensity 5 is firmer than 1 but still light. The
//! program uses no heat: the spec asks for little or none, and the seeds call
//! for no warmth in this technique.
//!
//! Every foot stroke ends at the heel (`BACK`). A one-way stroke presses while
//! the carriage heads for its end point; ending every stroke at the heel means
//! that, wherever a step finds the carriage, the pressed direction is always
//! toward the heel.

use tarsal_sdk::contraindications::{self, *};
use tarsal_sdk::prelude::*;

pub const ID: &str = "lymphatic-drainage";
const DEFAULT_MINUTES: i64 = 15;
const MIN_MINUTES: i64 = 10;
const MAX_MINUTES: i64 = 20;

/// The most foot pressure the program ever asks for, in %, at any intensity.
pub const FOOT_CAP_PCT: f64 = 20.0;
/// The most calf cell pressure the program ever asks for, in %, at any intensity.
pub const CELL_CAP_PCT: f64 = 25.0;

/// Light stroking pressure on the sole.
fn light_feet() -> Pressure {
    Pressure::share(0.35).at_most(FOOT_CAP_PCT)
}

/// Even lighter, for the last strokes.
fn feather_feet() -> Pressure {
    Pressure::share(0.25).at_most(FOOT_CAP_PCT * 0.6)
}

/// The calf wave: each cell fills over 2 s from the ankle up, all hold 3 s,
/// all let go for 4 s; 13 s a wave.
fn calf_wave() -> Calves {
    Calves::wave(
        Pressure::share(0.5).at_most(CELL_CAP_PCT),
        Duration::from_secs(2),
        Duration::from_secs(3),
        Duration::from_secs(4),
    )
}

/// The timeline for a session of `minutes` (every step scales with it).
pub fn timeline(minutes: i64) -> Timeline {
    let scale = minutes as f64 / DEFAULT_MINUTES as f64;
    let d = |seconds: f64| Duration::from_secs_f64(seconds * scale);
    Timeline::new(vec![
        Step::new("Light strokes from the toes to the heel", d(150.0)).feet(Feet::one_way_strokes(
            FRONT,
            BACK,
            light_feet(),
            0.35,
        )),
        Step::new("Slow strokes along the sole, toward the heel", d(210.0))
            .feet(Feet::one_way_strokes(FRONT, BACK, light_feet(), 0.2)),
        Step::new(
            "Calves: the cells fill from the ankle up to the knee",
            d(240.0),
        )
        .calves(calf_wave()),
        Step::new("Foot and calf together, always toward the knee", d(210.0))
            .feet(Feet::one_way_strokes(FRONT, BACK, light_feet(), 0.25))
            .calves(calf_wave()),
        Step::new("Finishing: feather-light strokes toward the heel", d(90.0))
            .feet(Feet::one_way_strokes(FRONT, BACK, feather_feet(), 0.3)),
    ])
}

pub struct LymphaticDrainage;

impl TimelineProgram for LymphaticDrainage {
    fn describe() -> ProgramInfo {
        ProgramInfo {
            options: vec![minutes_option(MIN_MINUTES, MAX_MINUTES, DEFAULT_MINUTES)],
            contraindications: contraindications::english(CONTRAINDICATIONS),
            uses: Equipment {
                foot_rollers: true,
                calf_units: true,
                ..NOTHING
            },
            translations: vec![vietnamese()],
            ..described(
                ID,
                "Lymphatic drainage",
                "Light strokes from the toes to the heel and calf cells that fill from the ankle up to the knee. For swollen, heavy legs.",
                env!("CARGO_PKG_VERSION"),
                &timeline(DEFAULT_MINUTES),
            )
        }
    }

    fn timeline(options: &SessionOptions) -> Result<Timeline, String> {
        let minutes = options
            .integer("minutes")
            .unwrap_or(DEFAULT_MINUTES)
            .clamp(MIN_MINUTES, MAX_MINUTES);
        Ok(timeline(minutes))
    }
}

const CONTRAINDICATIONS: &[Contraindication] = &[
    FEVER_OR_ACUTE_INFECTION,
    BLOOD_CLOT,
    VARICOSE_VEINS,
    WOUNDS_ON_FEET_OR_LEGS,
    SKIN_DISEASE_FLARING,
    BLEEDING_DISORDER,
    HIGH_BLOOD_PRESSURE,
    CHRONIC_DISEASE_FLARING,
    TUMOUR,
];

fn vietnamese() -> Translation {
    Translation {
        options: vec![tarsal_sdk::OptionText {
            key: "minutes".into(),
            label: "Thời gian".into(),
            description: "Thời gian mát-xa, tính bằng phút.".into(),
            choice_labels: vec![],
        }],
        ..translation(
            "vi",
            "Dẫn lưu bạch huyết",
            "Vuốt nhẹ từ ngón chân đến gót và các túi khí bắp chân bơm lần lượt từ mắt cá lên đến gối. Dành cho chân sưng, nặng mỏi.",
            &[
                "Vuốt nhẹ từ ngón chân đến gót",
                "Vuốt chậm dọc lòng bàn chân, về phía gót",
                "Bắp chân: các túi khí bơm từ mắt cá lên đến gối",
                "Bàn chân và bắp chân cùng lúc, luôn hướng về gối",
                "Kết thúc: vuốt thật nhẹ về phía gót",
            ],
            CONTRAINDICATIONS,
        )
    }
}

tarsal_sdk::export_program!(Timed<LymphaticDrainage>);

#[cfg(test)]
mod tests {
    use super::*;
    use tarsal_sdk::testing::{Bench, Trace};
    use tarsal_sdk::{CalfCommand, OptionValue, Status};

    fn run(bench: &Bench, minutes: i64) -> Trace {
        bench
            .run::<Timed<LymphaticDrainage>>(
                &bench.options(&[("minutes", OptionValue::Integer(minutes))]),
            )
            .unwrap()
    }

    fn cells(c: &CalfCommand) -> [f64; 3] {
        [c.ankle_pct, c.mid_pct, c.upper_pct]
    }

    #[test]
    fn runs_every_step_in_order_and_ends_on_time() {
        let trace = run(&Bench::standard(), DEFAULT_MINUTES);
        assert_eq!(trace.steps(), (0..5).collect::<Vec<_>>());
        let minutes = trace.duration().as_secs_f64() / 60.0;
        assert!((14.9..15.1).contains(&minutes), "{minutes}");
        assert_eq!(
            trace.samples.last().unwrap().output.status,
            Status::Finished
        );
    }

    #[test]
    fn stays_inside_the_chair_limits_at_every_intensity_and_without_heat() {
        for intensity in 1..=5 {
            let trace = run(&Bench::standard().intensity(intensity), MIN_MINUTES);
            assert_eq!(
                trace.limit_violations(),
                Vec::<String>::new(),
                "intensity {intensity}"
            );
        }
        let trace = run(&Bench::standard().without_heat(), MIN_MINUTES);
        assert!(trace.limit_violations().is_empty());
    }

    #[test]
    fn uses_no_heat_at_all() {
        let trace = run(&Bench::standard(), DEFAULT_MINUTES);
        assert!(trace.samples.iter().all(|s| {
            let h = s.output.request.heat;
            h.sole_c.is_none() && h.calf_c.is_none() && h.water_c.is_none()
        }));
    }

    #[test]
    fn feet_press_only_on_the_way_to_the_heel_and_never_above_the_cap() {
        for intensity in [1, 3, 5] {
            let trace = run(&Bench::standard().intensity(intensity), DEFAULT_MINUTES);
            let mut pressed_ticks = 0;
            let mut returned_ticks = 0;
            for pair in trace.samples.windows(2) {
                let (now, next) = (&pair[0], &pair[1]);
                for (asked, here, there) in [
                    (
                        &now.output.request.left_foot,
                        now.input.sensors.left_foot.position_pct,
                        next.input.sensors.left_foot.position_pct,
                    ),
                    (
                        &now.output.request.right_foot,
                        now.input.sensors.right_foot.position_pct,
                        next.input.sensors.right_foot.position_pct,
                    ),
                ] {
                    assert!(
                        asked.pressure_pct <= FOOT_CAP_PCT + 1e-9,
                        "intensity {intensity}: {} % at {:?}",
                        asked.pressure_pct,
                        now.elapsed()
                    );
                    if asked.pressure_pct > 0.0 {
                        pressed_ticks += 1;
                        assert_eq!(asked.position_pct, BACK, "pressing toward the toes");
                        assert!(there >= here, "pressed while moving toward the toes");
                    }
                    if there < here {
                        returned_ticks += 1;
                        assert_eq!(
                            asked.pressure_pct,
                            0.0,
                            "intensity {intensity}: pressure on the way back at {:?}",
                            now.elapsed()
                        );
                    }
                }
            }
            // Not vacuous: the feet were worked, and the carriage did come back.
            assert!(pressed_ticks > 10_000, "{pressed_ticks}");
            assert!(returned_ticks > 10_000, "{returned_ticks}");
        }
        // At the firmest intensity the cap, not the share, sets the pressure.
        let trace = run(&Bench::standard().intensity(5), DEFAULT_MINUTES);
        let most = trace
            .samples
            .iter()
            .map(|s| s.output.request.left_foot.pressure_pct)
            .fold(0.0, f64::max);
        assert!(
            (FOOT_CAP_PCT - 0.5..=FOOT_CAP_PCT).contains(&most),
            "{most}"
        );
    }

    #[test]
    fn calf_cells_fill_ankle_then_mid_then_upper_hold_and_release_again_and_again() {
        for intensity in [1, 5] {
            let trace = run(&Bench::standard().intensity(intensity), DEFAULT_MINUTES);
            for step in [2, 3] {
                let mut previous = [0.0; 3];
                let mut rises = Vec::new();
                let mut releases = 0;
                for s in trace.in_step(step) {
                    let c = cells(&s.output.request.left_calf);
                    assert_eq!(c, cells(&s.output.request.right_calf));
                    // A cell above is never filled while one below is empty.
                    assert!(c[2] == 0.0 || c[1] > 0.0, "{c:?}");
                    assert!(c[1] == 0.0 || c[0] > 0.0, "{c:?}");
                    assert!(c.iter().all(|&p| p <= CELL_CAP_PCT + 1e-9), "{c:?}");
                    for i in 0..3 {
                        if previous[i] == 0.0 && c[i] > 0.0 {
                            rises.push(i);
                        }
                    }
                    if previous.iter().all(|&p| p > 0.0) && c == [0.0; 3] {
                        releases += 1;
                    }
                    previous = c;
                }
                // Every wave: ankle, mid, upper, in that order.
                assert!(rises.len() >= 3 * 10, "step {step}: {rises:?}");
                for (n, cell) in rises.iter().enumerate() {
                    assert_eq!(*cell, n % 3, "step {step}: {rises:?}");
                }
                assert!(releases >= 10, "step {step}: {releases}");
            }
        }
    }

    #[test]
    fn the_cells_hold_all_together_before_letting_go() {
        let trace = run(&Bench::standard(), DEFAULT_MINUTES);
        let full = 0.5 * trace.samples[0].input.limits.cell_pressure_ceiling_pct;
        // Runs of ticks with all three cells full: each wave holds for its
        // 3 s, plus what is left of the upper cell's 2 s to fill.
        let mut runs = Vec::new();
        let mut since = None;
        for s in trace.in_step(2) {
            let c = &s.input.sensors.left_calf;
            let all_full = [c.ankle_pct, c.mid_pct, c.upper_pct]
                .iter()
                .all(|&p| p >= full - 1e-6);
            match (all_full, since) {
                (true, None) => since = Some(s.elapsed()),
                (false, Some(start)) => {
                    runs.push((s.elapsed() - start).as_secs_f64());
                    since = None;
                }
                _ => {}
            }
        }
        assert!(runs.len() >= 15, "{runs:?}");
        assert!(runs.iter().all(|r| (3.0..5.0).contains(r)), "{runs:?}");
    }

    #[test]
    fn length_option_scales_the_program() {
        for minutes in [MIN_MINUTES, MAX_MINUTES] {
            let got = run(&Bench::standard(), minutes).duration().as_secs_f64() / 60.0;
            assert!((got - minutes as f64).abs() < 0.1, "{minutes}: {got}");
        }
    }

    #[test]
    fn describes_itself_consistently() {
        let info = LymphaticDrainage::describe();
        assert_eq!(info.id, ID);
        assert_eq!(info.steps, timeline(DEFAULT_MINUTES).step_infos());
        assert_eq!(info.duration_s, 900);
        assert!(!info.uses.sole_heat && !info.uses.calf_heat && !info.uses.bath);
        assert!(info.contraindications.len() >= 5);
        let vi = &info.translations[0];
        assert_eq!(vi.language, "vi");
        assert_eq!(vi.steps.len(), info.steps.len());
        assert_eq!(vi.contraindications.len(), info.contraindications.len());
        assert_eq!(vi.options.len(), info.options.len());
    }
}
