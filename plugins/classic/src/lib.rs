//! Classic foot and calf massage (about 20 minutes).
//!
//! Classic massage combines stroking, kneading, stretching and vibration. The
//! order follows the seed articles: warm the feet with stroking from the toes
//! to the heel and gentle heat; work the toes a zone at a time; knead the sole
//! in circles with pressure rising toward the heel, where the skin is thickest
//! and takes the most; work the Achilles tendon and ankle up and down; knead
//! the calves from the ankle up; vibration; and a light stroking cool-down.

use tarsal_sdk::contraindications::{self, *};
use tarsal_sdk::prelude::*;
use tarsal_sdk::timeline::Cell;

pub const ID: &str = "classic";
const DEFAULT_MINUTES: i64 = 20;

/// The timeline for a session of `minutes` (every step scales with it).
pub fn timeline(minutes: i64) -> Timeline {
    let scale = minutes as f64 / DEFAULT_MINUTES as f64;
    let d = |seconds: f64| Duration::from_secs_f64(seconds * scale);
    Timeline::new(vec![
        Step::new("Warm-up: stroking from toes to heel", d(150.0))
            .feet(Feet::strokes(FRONT, BACK, Pressure::share(0.3), 0.5))
            .heat(Heat::OFF.sole(38.0).calf(37.0)),
        Step::new("Toes, one zone at a time", d(180.0))
            .feet(Feet::zones(
                &[2.0, 6.0, 10.0, 14.0],
                d(15.0),
                Pressure::share(0.45),
            ))
            .heat(Heat::OFF.sole(38.0).calf(37.0)),
        Step::new("Sole circles, deeper toward the heel", d(240.0))
            .feet(Feet::knead(
                BALL,
                95.0,
                Pressure::share(0.45),
                Pressure::share(0.9),
            ))
            .heat(Heat::OFF.sole(39.0).calf(37.0)),
        Step::new("Achilles tendon and ankle", d(150.0))
            .feet(Feet::zones(&[HEEL], d(150.0), Pressure::share(0.4)))
            .calves(Calves::Pulse {
                cell: Cell::Ankle,
                pressure: Pressure::share(0.6),
                period: Duration::from_secs(4),
            })
            .heat(Heat::OFF.sole(39.0).calf(38.0)),
        Step::new("Calf kneading from the ankle up", d(240.0))
            .calves(Calves::Climb {
                pressure: Pressure::share(0.7),
                each: Duration::from_secs(5),
                kneading: 0.6,
            })
            .heat(Heat::OFF.sole(38.0).calf(39.0)),
        Step::new("Vibration", d(120.0))
            .feet(Feet::vibrate(10.0, 90.0, Pressure::share(0.4)))
            .heat(Heat::OFF.sole(37.0).calf(37.0)),
        Step::new("Cool-down: light stroking", d(120.0)).feet(Feet::strokes(
            FRONT,
            BACK,
            Pressure::share(0.2),
            0.4,
        )),
    ])
}

pub struct Classic;

impl TimelineProgram for Classic {
    fn describe() -> ProgramInfo {
        ProgramInfo {
            options: vec![minutes_option(10, 25, DEFAULT_MINUTES)],
            contraindications: contraindications::english(CONTRAINDICATIONS),
            uses: Equipment {
                foot_rollers: true,
                calf_units: true,
                sole_heat: true,
                calf_heat: true,
                ..NOTHING
            },
            translations: vec![vietnamese()],
            ..described(
                ID,
                "Classic massage",
                "Stroking, kneading, stretching and vibration for feet and calves, with gentle heat. Relieves everyday tiredness.",
                env!("CARGO_PKG_VERSION"),
                &timeline(DEFAULT_MINUTES),
            )
        }
    }

    fn timeline(options: &SessionOptions) -> Result<Timeline, String> {
        let minutes = options
            .integer("minutes")
            .unwrap_or(DEFAULT_MINUTES)
            .clamp(10, 25);
        Ok(timeline(minutes))
    }
}

const CONTRAINDICATIONS: &[Contraindication] = &[
    FEVER_OR_ACUTE_INFECTION,
    WOUNDS_ON_FEET_OR_LEGS,
    SKIN_DISEASE_FLARING,
    BLOOD_CLOT,
    VARICOSE_VEINS,
    BLEEDING_DISORDER,
    CHRONIC_DISEASE_FLARING,
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
            "Mát-xa cổ điển",
            "Vuốt, nhào, kéo giãn và rung cho bàn chân và bắp chân, kèm nhiệt ấm nhẹ. Giảm mệt mỏi hằng ngày.",
            &[
                "Khởi động: vuốt từ ngón chân đến gót",
                "Ngón chân, từng vùng một",
                "Xoa tròn lòng bàn chân, mạnh dần về phía gót",
                "Gân gót và mắt cá chân",
                "Nhào bắp chân từ mắt cá lên",
                "Rung",
                "Thư giãn: vuốt nhẹ",
            ],
            CONTRAINDICATIONS,
        )
    }
}

tarsal_sdk::export_program!(Timed<Classic>);

#[cfg(test)]
mod tests {
    use super::*;
    use tarsal_sdk::testing::Bench;
    use tarsal_sdk::{OptionValue, Status};

    fn run(bench: &Bench, minutes: i64) -> tarsal_sdk::testing::Trace {
        bench
            .run::<Timed<Classic>>(&bench.options(&[("minutes", OptionValue::Integer(minutes))]))
            .unwrap()
    }

    #[test]
    fn runs_every_step_in_order_and_ends_on_time() {
        let trace = run(&Bench::standard(), 20);
        assert_eq!(trace.steps(), (0..7).collect::<Vec<_>>());
        let minutes = trace.duration().as_secs_f64() / 60.0;
        assert!((19.9..20.1).contains(&minutes), "{minutes}");
        assert_eq!(
            trace.samples.last().unwrap().output.status,
            Status::Finished
        );
    }

    #[test]
    fn stays_inside_the_chair_limits_at_every_intensity_and_without_heat() {
        for intensity in 1..=5 {
            let trace = run(&Bench::standard().intensity(intensity), 10);
            assert_eq!(
                trace.limit_violations(),
                Vec::<String>::new(),
                "intensity {intensity}"
            );
        }
        let trace = run(&Bench::standard().without_heat(), 10);
        assert!(trace.limit_violations().is_empty());
        assert!(
            trace
                .samples
                .iter()
                .all(|s| s.output.request.heat.sole_c.is_none())
        );
    }

    #[test]
    fn the_heel_takes_the_most_pressure() {
        let trace = run(&Bench::standard(), 20);
        let max_at = |range: std::ops::Range<f64>| {
            trace
                .in_step(2)
                .filter(|s| range.contains(&s.input.sensors.left_foot.position_pct))
                .map(|s| s.output.request.left_foot.pressure_pct)
                .fold(0.0, f64::max)
        };
        let ball = max_at(15.0..35.0);
        let heel = max_at(65.0..100.0);
        assert!(heel > ball * 1.4, "heel {heel} ball {ball}");
    }

    #[test]
    fn the_calves_are_kneaded_from_the_ankle_up() {
        let trace = run(&Bench::standard(), 20);
        let first = |cell: fn(&tarsal_sdk::CalfCommand) -> f64| {
            trace
                .in_step(4)
                .position(|s| cell(&s.output.request.left_calf) > 0.0)
                .unwrap()
        };
        let (ankle, mid, upper) = (
            first(|c| c.ankle_pct),
            first(|c| c.mid_pct),
            first(|c| c.upper_pct),
        );
        assert!(ankle < mid && mid < upper, "{ankle} {mid} {upper}");
    }

    #[test]
    fn warm_up_heat_is_gentle_and_cool_down_has_none() {
        let trace = run(&Bench::standard(), 20);
        assert!(
            trace
                .in_step(0)
                .all(|s| s.output.request.heat.sole_c == Some(38.0))
        );
        assert!(
            trace
                .in_step(6)
                .all(|s| s.output.request.heat.sole_c.is_none())
        );
    }

    #[test]
    fn length_option_scales_the_program() {
        let minutes = run(&Bench::standard(), 10).duration().as_secs_f64() / 60.0;
        assert!((9.9..10.1).contains(&minutes), "{minutes}");
    }

    #[test]
    fn describes_itself_consistently() {
        let info = Classic::describe();
        assert_eq!(info.steps.len(), 7);
        assert_eq!(info.duration_s, 1200);
        let vi = &info.translations[0];
        assert_eq!(vi.steps.len(), info.steps.len());
        assert_eq!(vi.contraindications.len(), info.contraindications.len());
    }
}
