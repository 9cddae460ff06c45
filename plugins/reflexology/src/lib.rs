//! Foot reflexology (about 20 minutes).
//!
//! Reflexology presses points of the sole that the seed articles map to the
//! body: the toes to the head and neck, the ball of the foot to the chest, the
//! arch to the abdomen, the heel to the pelvis, and the inner edge of the foot
//! to the spine. After the feet are warmed with stroking, each point is
//! pressed for 3–7 seconds, released for a pause, and the rollers move on,
//! working from the toes to the heel.
//!
//! Two moods, after the seeds (calming sessions for the evening, stimulating
//! ones for the first half of the day; the effect depends on how short and how
//! strong the pressure is):
//! - *calming*: slow travel, long holds, long pauses, lower pressure;
//! - *stimulating*: brisk travel, short holds, short pauses, firmer pressure.
//!
//! Both stay within 3–7 s a hold. An optional focus zone gets more time, taken
//! from the other zones, so the session keeps its length.
//!
//! Point steps use [`Length::ForWholeHolds`]: when a zone's time is up the
//! step waits for the hold in progress to finish, so no hold is cut short.

use tarsal_sdk::contraindications::{self, *};
use tarsal_sdk::prelude::*;
use tarsal_sdk::timeline::Point;

pub const ID: &str = "reflexology";

/// The shortest and longest hold the technique allows.
pub const HOLD_MIN: Duration = Duration::from_secs(3);
pub const HOLD_MAX: Duration = Duration::from_secs(7);

/// Time a zone gets without focus, and what focus adds to it (taken equally
/// from the other four zones).
const ZONE_S: f64 = 210.0;
const SPINE_S: f64 = 150.0;
const FOCUS_EXTRA_S: f64 = 150.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mood {
    Calming,
    Stimulating,
}

impl Mood {
    pub const ALL: [Self; 2] = [Self::Calming, Self::Stimulating];

    pub fn value(self) -> &'static str {
        match self {
            Self::Calming => "calming",
            Self::Stimulating => "stimulating",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.value() == value)
    }

    /// How the mood works the points.
    pub fn style(self) -> Style {
        match self {
            Self::Calming => Style {
                hold: Duration::from_secs(6),
                pause: Duration::from_secs(3),
                travel: 0.3,
                pressure: Pressure::share(0.45),
                stroke_speed: 0.25,
                spine_speed: 0.1,
            },
            Self::Stimulating => Style {
                hold: Duration::from_secs(4),
                pause: Duration::from_secs(1),
                travel: 0.8,
                pressure: Pressure::share(0.7),
                stroke_speed: 0.6,
                spine_speed: 0.2,
            },
        }
    }
}

/// The pace and strength of a mood.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Style {
    /// Time at full pressure on each point (3–7 s).
    pub hold: Duration,
    /// Release between two points.
    pub pause: Duration,
    /// Carriage speed between points, as a share of the maximum.
    pub travel: f64,
    /// Pressure on the points.
    pub pressure: Pressure,
    /// Speed of the warm-up and closing strokes.
    pub stroke_speed: f64,
    /// Speed of the pass along the inner edge.
    pub spine_speed: f64,
}

/// The reflex zones, in the order they are worked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    Toes,
    Ball,
    Arch,
    Heel,
    Spine,
}

impl Zone {
    pub const ALL: [Self; 5] = [Self::Toes, Self::Ball, Self::Arch, Self::Heel, Self::Spine];

    pub fn value(self) -> &'static str {
        match self {
            Self::Toes => "toes",
            Self::Ball => "ball",
            Self::Arch => "arch",
            Self::Heel => "heel",
            Self::Spine => "spine",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|z| z.value() == value)
    }

    /// The zone's step in the timeline.
    pub fn step(self) -> u32 {
        self as u32 + 1
    }

    /// Points pressed in the zone, toes first (carriage positions; see
    /// `tarsal_sdk::zones` for the bands).
    pub fn points(self) -> &'static [f64] {
        match self {
            Self::Toes => &[3.0, 7.0, 11.0],
            Self::Ball => &[19.0, 25.0, 31.0],
            Self::Arch => &[42.0, 50.0, 58.0],
            Self::Heel => &[72.0, 82.0, 92.0],
            // The inner edge runs the whole length: see `timeline`.
            Self::Spine => &[],
        }
    }
}

/// The timeline for a mood and an optional focus zone.
pub fn timeline(mood: Mood, focus: Option<Zone>) -> Timeline {
    let style = mood.style();
    let time = |zone: Zone| {
        let base = if zone == Zone::Spine { SPINE_S } else { ZONE_S };
        let seconds = match focus {
            None => base,
            Some(f) if f == zone => base + FOCUS_EXTRA_S,
            Some(_) => base - FOCUS_EXTRA_S / 4.0,
        };
        Duration::from_secs_f64(seconds)
    };
    let warm = Heat::OFF.sole(37.0);
    let points_step = |title: &str, zone: Zone| {
        let points: Vec<Point> = zone
            .points()
            .iter()
            .map(|&at| Point {
                at,
                hold: style.hold,
            })
            .collect();
        Step::until(title, Length::ForWholeHolds(time(zone)))
            .feet(Feet::Points {
                points,
                pressure: style.pressure,
                pause: style.pause,
                speed: style.travel,
            })
            .heat(warm)
    };
    Timeline::new(vec![
        Step::new("Warm-up: stroking the whole sole", Duration::from_secs(120))
            .feet(Feet::strokes(
                FRONT,
                BACK,
                Pressure::share(0.3),
                style.stroke_speed,
            ))
            .heat(warm),
        points_step("Toes (head and neck): point holds", Zone::Toes),
        points_step("Ball of the foot (chest): point holds", Zone::Ball),
        points_step("Arch (abdomen): point holds", Zone::Arch),
        points_step("Heel (pelvis): point holds", Zone::Heel),
        // The inner (medial) edge maps to the spine, from the neck at the big
        // toe to the tailbone at the heel. The chair's rollers run along the
        // middle of the sole and cannot work one edge alone, so the spine is
        // a slow pass over the full length, pressing only from the toes to
        // the heel, in the same direction as the rest of the session.
        Step::new(
            "Inner edge (spine): slow pass from the toes to the heel",
            time(Zone::Spine),
        )
        .feet(Feet::one_way_strokes(
            FRONT,
            BACK,
            Pressure::share(style.pressure.share * 0.8),
            style.spine_speed,
        ))
        .heat(warm),
        Step::new("Closing: light stroking", Duration::from_secs(90)).feet(Feet::strokes(
            FRONT,
            BACK,
            Pressure::share(0.2),
            style.stroke_speed,
        )),
    ])
}

pub struct Reflexology;

impl TimelineProgram for Reflexology {
    fn describe() -> ProgramInfo {
        ProgramInfo {
            options: vec![
                choice_option(
                    "mood",
                    "Mood",
                    "Calming: slower, longer holds, lighter pressure; for the evening. Stimulating: brisker, shorter holds; for the morning.",
                    &[
                        ("calming", "Calming (evening)"),
                        ("stimulating", "Stimulating (morning)"),
                    ],
                    "calming",
                ),
                choice_option(
                    "focus",
                    "Focus zone",
                    "A zone that gets more time; the others get a little less.",
                    &[
                        ("none", "None"),
                        ("toes", "Toes (head, neck)"),
                        ("ball", "Ball of the foot (chest)"),
                        ("arch", "Arch (abdomen)"),
                        ("heel", "Heel (pelvis)"),
                        ("spine", "Inner edge (spine)"),
                    ],
                    "none",
                ),
            ],
            contraindications: contraindications::english(CONTRAINDICATIONS),
            uses: Equipment {
                foot_rollers: true,
                sole_heat: true,
                ..NOTHING
            },
            translations: vec![vietnamese()],
            ..described(
                ID,
                "Reflexology",
                "Point holds from the toes to the heel on the reflex zones of the sole. Calming for the evening, stimulating for the morning.",
                env!("CARGO_PKG_VERSION"),
                &timeline(Mood::Calming, None),
            )
        }
    }

    fn timeline(options: &SessionOptions) -> Result<Timeline, String> {
        let mood = options.choice("mood", Mood::Calming, Mood::parse)?;
        let focus = options.choice("focus", None, |v| match v {
            "none" => Some(None),
            zone => Zone::parse(zone).map(Some),
        })?;
        Ok(timeline(mood, focus))
    }
}

const CONTRAINDICATIONS: &[Contraindication] = &[
    FEVER_OR_ACUTE_INFECTION,
    WOUNDS_ON_FEET,
    SKIN_DISEASE_FLARING,
    BLEEDING_DISORDER,
    BLOOD_CLOT,
    VARICOSE_VEINS,
    CHRONIC_DISEASE_FLARING,
    YOUNG_CHILD_OR_FRAIL,
];

fn vietnamese() -> Translation {
    Translation {
        options: vec![
            tarsal_sdk::OptionText {
                key: "mood".into(),
                label: "Kiểu bấm huyệt".into(),
                description: "Thư giãn: chậm hơn, giữ lâu hơn, lực nhẹ hơn; cho buổi tối. Kích thích: nhanh hơn, giữ ngắn hơn; cho buổi sáng.".into(),
                choice_labels: vec![
                    "Thư giãn (buổi tối)".into(),
                    "Kích thích (buổi sáng)".into(),
                ],
            },
            tarsal_sdk::OptionText {
                key: "focus".into(),
                label: "Vùng tập trung".into(),
                description: "Vùng được dành thêm thời gian; các vùng khác bớt đi một chút.".into(),
                choice_labels: vec![
                    "Không".into(),
                    "Ngón chân (đầu, cổ)".into(),
                    "Phần trước lòng bàn chân (ngực)".into(),
                    "Vòm bàn chân (bụng)".into(),
                    "Gót chân (vùng chậu)".into(),
                    "Mép trong bàn chân (cột sống)".into(),
                ],
            },
        ],
        ..translation(
            "vi",
            "Bấm huyệt phản xạ bàn chân",
            "Ấn giữ từng điểm từ ngón chân đến gót trên các vùng phản xạ của lòng bàn chân. Thư giãn cho buổi tối, kích thích cho buổi sáng.",
            &[
                "Khởi động: vuốt toàn bộ lòng bàn chân",
                "Ngón chân (đầu và cổ): ấn giữ từng điểm",
                "Phần trước lòng bàn chân (ngực): ấn giữ từng điểm",
                "Vòm bàn chân (bụng): ấn giữ từng điểm",
                "Gót chân (vùng chậu): ấn giữ từng điểm",
                "Mép trong bàn chân (cột sống): lướt chậm từ ngón chân đến gót",
                "Kết thúc: vuốt nhẹ",
            ],
            CONTRAINDICATIONS,
        )
    }
}

tarsal_sdk::export_program!(Timed<Reflexology>);

#[cfg(test)]
mod tests {
    use super::*;
    use tarsal_sdk::testing::{Bench, Trace};
    use tarsal_sdk::zones::zone_name;
    use tarsal_sdk::{OptionKind, OptionValue, Status};

    fn run(bench: &Bench, mood: Mood, focus: Option<Zone>) -> Trace {
        let focus = focus.map_or("none", Zone::value);
        bench
            .run::<Timed<Reflexology>>(&bench.options(&[
                ("mood", OptionValue::Text(mood.value().into())),
                ("focus", OptionValue::Text(focus.into())),
            ]))
            .unwrap()
    }

    /// A hold: where the left carriage stood and how long full pressure was asked.
    #[derive(Debug)]
    struct Hold {
        step: u32,
        at: f64,
        length: Duration,
    }

    /// Every run of full pressure on the left foot in the point steps.
    fn holds(trace: &Trace, mood: Mood) -> Vec<Hold> {
        let point_steps = Zone::Toes.step()..=Zone::Heel.step();
        let mut holds = Vec::new();
        let mut current: Option<(u32, f64, Duration)> = None;
        for s in &trace.samples {
            let full = mood
                .style()
                .pressure
                .resolve(s.input.limits.foot_pressure_ceiling_pct);
            let foot = &s.output.request.left_foot;
            let at_full = point_steps.contains(&s.output.step)
                && s.output.status != Status::Finished
                && foot.pressure_pct >= 0.98 * full;
            match (at_full, current) {
                (true, None) => {
                    current = Some((
                        s.output.step,
                        s.input.sensors.left_foot.position_pct,
                        s.elapsed(),
                    ));
                }
                (true, Some((step, at, _))) => {
                    assert_eq!(step, s.output.step, "a hold ran across two steps");
                    assert_eq!(foot.travel_speed_pct_s, 0.0, "moving while holding");
                    let here = s.input.sensors.left_foot.position_pct;
                    assert!((here - at).abs() < 1e-9, "moved while holding");
                }
                (false, Some((step, at, since))) => {
                    holds.push(Hold {
                        step,
                        at,
                        length: s.elapsed() - since,
                    });
                    current = None;
                }
                (false, None) => {}
            }
        }
        assert!(current.is_none(), "the session ended in a hold");
        holds
    }

    fn zone_of_step(step: u32) -> &'static str {
        ["toes", "ball of the foot", "arch", "heel"][step as usize - 1]
    }

    #[test]
    fn runs_every_step_in_order_and_ends_near_its_declared_length() {
        let declared = Reflexology::describe().duration_s as f64;
        for mood in Mood::ALL {
            let trace = run(&Bench::standard(), mood, None);
            assert_eq!(trace.steps(), (0..7).collect::<Vec<_>>(), "{mood:?}");
            // Point steps finish their last hold: a few seconds over at most.
            let over = trace.duration().as_secs_f64() - declared;
            assert!((0.0..40.0).contains(&over), "{mood:?}: {over} s over");
            assert_eq!(
                trace.samples.last().unwrap().output.status,
                Status::Finished
            );
        }
    }

    #[test]
    fn stays_inside_the_chair_limits_at_every_intensity_and_without_heat() {
        for mood in Mood::ALL {
            for intensity in 1..=5 {
                let trace = run(&Bench::standard().intensity(intensity), mood, None);
                assert_eq!(
                    trace.limit_violations(),
                    Vec::<String>::new(),
                    "{mood:?} intensity {intensity}"
                );
            }
            let trace = run(&Bench::standard().without_heat(), mood, Some(Zone::Heel));
            assert!(trace.limit_violations().is_empty());
            assert!(
                trace
                    .samples
                    .iter()
                    .all(|s| s.output.request.heat.sole_c.is_none())
            );
        }
    }

    #[test]
    fn every_hold_at_full_pressure_lasts_three_to_seven_seconds_in_both_moods() {
        for mood in Mood::ALL {
            for intensity in [1, 3, 5] {
                for focus in [None, Some(Zone::Arch)] {
                    let trace = run(&Bench::standard().intensity(intensity), mood, focus);
                    let holds = holds(&trace, mood);
                    // Four zones of a few minutes each: dozens of holds.
                    assert!(holds.len() >= 40, "{mood:?} {intensity}: {}", holds.len());
                    for h in &holds {
                        assert!(
                            h.length >= HOLD_MIN && h.length <= HOLD_MAX,
                            "{mood:?} intensity {intensity}: {h:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn zones_are_visited_from_the_toes_to_the_heel() {
        for mood in Mood::ALL {
            let trace = run(&Bench::standard(), mood, None);
            let holds = holds(&trace, mood);
            // Each point step presses only inside its own zone …
            for h in &holds {
                assert_eq!(zone_name(h.at), zone_of_step(h.step), "{mood:?}: {h:?}");
            }
            // … every zone is pressed, and in order from the toes to the heel.
            let steps: Vec<u32> = holds.iter().map(|h| h.step).collect();
            assert!(steps.windows(2).all(|w| w[0] <= w[1]), "{steps:?}");
            for zone in [Zone::Toes, Zone::Ball, Zone::Arch, Zone::Heel] {
                let n = steps.iter().filter(|&&s| s == zone.step()).count();
                assert!(n >= 10, "{mood:?} {zone:?}: {n} holds");
            }
            // Inside a zone the points go toes first, then round again.
            for zone in [Zone::Toes, Zone::Ball, Zone::Arch, Zone::Heel] {
                let at: Vec<f64> = holds
                    .iter()
                    .filter(|h| h.step == zone.step())
                    .map(|h| h.at)
                    .collect();
                for (n, a) in at.iter().enumerate() {
                    let expected = zone.points()[n % zone.points().len()];
                    assert!((a - expected).abs() <= 1.0, "{zone:?}: {at:?}");
                }
            }
        }
    }

    #[test]
    fn the_spine_pass_covers_the_whole_sole_pressing_only_toward_the_heel() {
        let trace = run(&Bench::standard(), Mood::Calming, None);
        let spine: Vec<_> = trace.in_step(Zone::Spine.step()).collect();
        let mut reach = (f64::MAX, f64::MIN);
        for pair in spine.windows(2) {
            let (here, there) = (
                pair[0].input.sensors.left_foot.position_pct,
                pair[1].input.sensors.left_foot.position_pct,
            );
            if pair[0].output.request.left_foot.pressure_pct > 0.0 {
                assert!(there >= here, "pressed toward the toes");
                reach = (reach.0.min(here), reach.1.max(here));
            }
        }
        assert!(reach.0 < 5.0 && reach.1 > 95.0, "{reach:?}");
    }

    #[test]
    fn the_focus_zone_gets_more_time_and_the_session_keeps_its_length() {
        let plain = run(&Bench::standard(), Mood::Calming, None);
        let plain_holds = holds(&plain, Mood::Calming);
        for zone in Zone::ALL {
            let focused = run(&Bench::standard(), Mood::Calming, Some(zone));
            let step = zone.step();
            let more =
                focused.step_duration(step).as_secs_f64() - plain.step_duration(step).as_secs_f64();
            assert!(
                (FOCUS_EXTRA_S - 15.0..FOCUS_EXTRA_S + 15.0).contains(&more),
                "{zone:?}: {more} s more"
            );
            for other in Zone::ALL.into_iter().filter(|&z| z != zone) {
                assert!(
                    focused.step_duration(other.step()) < plain.step_duration(other.step()),
                    "{zone:?} focus: {other:?} did not give time"
                );
            }
            let change = focused.duration().as_secs_f64() - plain.duration().as_secs_f64();
            assert!(change.abs() < 30.0, "{zone:?}: {change} s");
            if zone != Zone::Spine {
                let count = |holds: &[Hold]| holds.iter().filter(|h| h.step == step).count();
                let focused_holds = holds(&focused, Mood::Calming);
                assert!(
                    count(&focused_holds) > count(&plain_holds),
                    "{zone:?}: no more holds"
                );
            }
        }
    }

    #[test]
    fn calming_is_slower_longer_and_lighter_than_stimulating() {
        let calming = run(&Bench::standard(), Mood::Calming, None);
        let stimulating = run(&Bench::standard(), Mood::Stimulating, None);
        let (calm_holds, brisk_holds) = (
            holds(&calming, Mood::Calming),
            holds(&stimulating, Mood::Stimulating),
        );
        // Fewer points in the same time, each held longer.
        assert!(
            calm_holds.len() * 4 < brisk_holds.len() * 3,
            "{} vs {}",
            calm_holds.len(),
            brisk_holds.len()
        );
        let shortest_calm = calm_holds.iter().map(|h| h.length).min().unwrap();
        let longest_brisk = brisk_holds.iter().map(|h| h.length).max().unwrap();
        assert!(shortest_calm > longest_brisk);
        // Slower travel between points, and lighter pressure.
        let fastest = |t: &Trace| {
            t.in_step(Zone::Arch.step())
                .map(|s| s.output.request.left_foot.travel_speed_pct_s)
                .fold(0.0, f64::max)
        };
        assert!(fastest(&calming) < fastest(&stimulating) / 2.0);
        let firmest = |t: &Trace| {
            t.in_step(Zone::Arch.step())
                .map(|s| s.output.request.left_foot.pressure_pct)
                .fold(0.0, f64::max)
        };
        assert!(firmest(&calming) < firmest(&stimulating));
    }

    #[test]
    fn unknown_option_values_are_refused() {
        let bench = Bench::standard();
        let start = |k: &str, v: &str| {
            Timed::<Reflexology>::start(&bench.options(&[(k, OptionValue::Text(v.into()))])).is_ok()
        };
        assert!(start("mood", "stimulating") && start("focus", "spine"));
        assert!(!start("mood", "sleepy"));
        assert!(!start("focus", "knee"));
    }

    #[test]
    fn describes_itself_consistently() {
        let info = Reflexology::describe();
        assert_eq!(info.id, ID);
        assert_eq!(info.steps, timeline(Mood::Calming, None).step_infos());
        assert_eq!(info.duration_s, 1200);
        // Every declared choice is understood by `start`, and every zone is offered.
        for o in &info.options {
            let OptionKind::Choice(c) = &o.kind else {
                panic!("{} is not a choice", o.key)
            };
            for choice in &c.choices {
                let bench = Bench::standard();
                let options = bench.options(&[(&o.key, OptionValue::Text(choice.value.clone()))]);
                assert!(
                    Timed::<Reflexology>::start(&options).is_ok(),
                    "{}",
                    choice.value
                );
            }
        }
        let vi = &info.translations[0];
        assert_eq!(vi.language, "vi");
        assert_eq!(vi.steps.len(), info.steps.len());
        assert_eq!(vi.contraindications.len(), info.contraindications.len());
        for (o, t) in info.options.iter().zip(&vi.options) {
            let OptionKind::Choice(c) = &o.kind else {
                unreachable!()
            };
            assert_eq!(o.key, t.key);
            assert_eq!(t.choice_labels.len(), c.choices.len(), "{}", o.key);
        }
    }
}
