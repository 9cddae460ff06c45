//! Cleaning and disinfection of the foot bath between clients.
//!
//! The reference is California's rule for whirlpool foot spas (16 CCR
//! §980.1), as the product spec summarises it. After every client: drain the
//! water, scrub the basin, refill it with clean water, circulate a registered
//! disinfectant with the jets for at least ten minutes, drain, and dry. At the
//! end of the day the footplate is also removed and cleaned, and a cycle of at
//! least ten minutes with detergent runs before the disinfectant cycle.
//!
//! The chair drives the valve, the drain and the jets; the hands-on work
//! (scrubbing, adding the products, rinsing, drying) is done by staff. The
//! program waits at each of those steps until staff confirm on the panel.
//! Nobody sits in the chair: the water holds detergent or disinfectant, so
//! the program stops with a clear message if feet are on the footrest.
//!
//! The service writes the sanitation log (date, time, staff initials, and
//! whether the cycle ran to the end) from what the hardware did.
//!
//! Both cycles are declared as one list of steps; each cycle runs the steps
//! it needs and reports them by their place in that list, so the panel always
//! shows the right step and staff instruction.

use tarsal_sdk::prelude::*;
use tarsal_sdk::sanitation::CYCLE_OPTION;

pub const ID: &str = "sanitize";

/// A litre above the soak's working level, so the disinfectant reaches every
/// surface the client's water touched.
pub const CLEANING_LEVEL_L: f64 = 17.0;
/// The rule asks for at least ten minutes of circulation; the margin makes
/// sure the hardware record shows the full ten whatever the tick timing.
pub const CIRCULATION: Duration = Duration::from_secs(10 * 60 + 10);
/// Jets at full power to push the solution through the whole system.
const CIRCULATION_JETS: f64 = 1.0;

/// Which cleaning cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cycle {
    AfterClient,
    EndOfDay,
}

impl Cycle {
    pub const ALL: [Self; 2] = [Self::AfterClient, Self::EndOfDay];

    pub fn value(self) -> &'static str {
        match self {
            Self::AfterClient => "after-client",
            Self::EndOfDay => "end-of-day",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.value() == value)
    }
}

const BOTH: &[Cycle] = &[Cycle::AfterClient, Cycle::EndOfDay];
const AFTER_CLIENT: &[Cycle] = &[Cycle::AfterClient];
const END_OF_DAY: &[Cycle] = &[Cycle::EndOfDay];

/// A drain step; `expected_s` from the bath's 0.4 l/s drain (16 l of used
/// water: 40 s; 17 l of cleaning water: 43 s).
fn drain(title: &str, expected_s: u64) -> Step {
    Step::until(
        title,
        Length::UntilDrained {
            expected: Duration::from_secs(expected_s),
            max: Duration::from_secs(120),
        },
    )
    .bath(Bath::drain())
}

fn fill(title: &str) -> Step {
    // 17 l at 0.25 l/s: 68 s. The chair faults a fill that takes 150 s.
    Step::until(
        title,
        Length::UntilLevel {
            litres: CLEANING_LEVEL_L,
            expected: Duration::from_secs(68),
            max: Duration::from_secs(140),
        },
    )
    .bath(Bath::fill_to(CLEANING_LEVEL_L))
}

fn circulate(title: &str) -> Step {
    Step::new(title, CIRCULATION).bath(Bath::IDLE.jets(CIRCULATION_JETS))
}

fn staff(title: &str, instruction: &str, expected_s: u64) -> Step {
    Step::staff(title, instruction, Duration::from_secs(expected_s))
}

/// Every step of both cycles, in order, with the cycles that run it.
pub fn all_steps() -> Vec<(Step, &'static [Cycle])> {
    vec![
        // 0
        (drain("Draining the used water", 40), BOTH),
        // 1
        (
            staff(
                "End of day: remove and clean the footplate",
                "Take out the footplate and any other removable parts, such as the inlet screen. Scrub them, the area behind them and the inside of the basin with a clean brush, liquid soap and water. Rinse everything with clean water and put the footplate back in. Then confirm.",
                300,
            ),
            END_OF_DAY,
        ),
        // 2
        (
            staff(
                "Scrubbing the basin",
                "Remove any debris from the basin: skin, nail clippings, hair. Scrub the inside of the basin, the footplate and the jets with a clean brush, liquid soap and water, then rinse with clean water. Then confirm.",
                180,
            ),
            AFTER_CLIENT,
        ),
        // 3
        (
            fill("End of day: filling for the detergent cycle"),
            END_OF_DAY,
        ),
        // 4
        (
            staff(
                "End of day: adding the detergent",
                "Pour low-sudsing soap or detergent into the water, as much as its label says. Then confirm: the jets will start.",
                60,
            ),
            END_OF_DAY,
        ),
        // 5
        (
            circulate("End of day: detergent cycle, 10 minutes of jets"),
            END_OF_DAY,
        ),
        // 6
        (
            drain("End of day: draining the detergent water", 43),
            END_OF_DAY,
        ),
        // 7
        (
            staff(
                "End of day: rinsing out the soap",
                "Rinse the basin with clean water until no soap or foam is left. Then confirm: the chair drains the rinse water and fills the bath again.",
                90,
            ),
            END_OF_DAY,
        ),
        // 8
        (
            drain("End of day: draining the rinse water", 10),
            END_OF_DAY,
        ),
        // 9
        (fill("Filling with clean water"), BOTH),
        // 10
        (
            staff(
                "Adding the disinfectant",
                "Wear gloves. Pour the EPA-registered hospital disinfectant (its label says bactericidal, fungicidal and virucidal) into the water, as much as the label says for 17 litres (4.5 gallons). Then confirm: the jets will start.",
                60,
            ),
            BOTH,
        ),
        // 11
        (circulate("Disinfecting: 10 minutes of jets"), BOTH),
        // 12
        (drain("Draining the disinfectant", 43), BOTH),
        // 13
        (
            staff(
                "Rinsing and drying the basin",
                "Rinse the basin with clean water and wipe it dry with a clean towel. Leave it empty and dry until the next client. Then confirm.",
                120,
            ),
            BOTH,
        ),
    ]
}

/// The timeline of a cycle, and for each of its steps the step's place in
/// the declared list.
pub fn timeline(cycle: Cycle) -> (Timeline, Vec<u32>) {
    let (steps, places) = all_steps()
        .into_iter()
        .enumerate()
        .filter(|(_, (_, cycles))| cycles.contains(&cycle))
        .map(|(place, (step, _))| (step, place as u32))
        .unzip();
    (Timeline::new(steps), places)
}

pub struct Sanitize {
    runner: Runner,
    places: Vec<u32>,
}

impl Program for Sanitize {
    fn describe() -> ProgramInfo {
        let all = Timeline::new(all_steps().into_iter().map(|(s, _)| s).collect());
        let (default, _) = timeline(Cycle::AfterClient);
        ProgramInfo {
            // Every step of both cycles; the duration is the default cycle's.
            steps: all.step_infos(),
            options: vec![choice_option(
                CYCLE_OPTION,
                "Cycle",
                "After each client, or the longer end-of-day cycle (footplate out, detergent cycle, then disinfection).",
                &[
                    (Cycle::AfterClient.value(), "After each client"),
                    (Cycle::EndOfDay.value(), "End of the day"),
                ],
                Cycle::AfterClient.value(),
            )],
            uses: Equipment {
                bath: true,
                ..NOTHING
            },
            translations: vec![vietnamese()],
            ..described(
                ID,
                "Sanitize the foot bath",
                "Drains, cleans and disinfects the foot bath between clients, with 10 minutes of disinfectant through the jets. At the end of the day it adds the footplate cleaning and a detergent cycle.",
                env!("CARGO_PKG_VERSION"),
                &default,
            )
        }
    }

    fn start(options: &SessionOptions) -> Result<Self, String> {
        if !options.bath {
            return Err("The foot bath is switched off. The sanitize cycle cleans the bath: turn the bath on and start it again.".into());
        }
        let cycle = options.choice(CYCLE_OPTION, Cycle::AfterClient, Cycle::parse)?;
        let (timeline, places) = timeline(cycle);
        Ok(Self {
            runner: Runner::new(timeline),
            places,
        })
    }

    fn tick(&mut self, input: &TickInput) -> Result<TickOutput, String> {
        if input.sensors.feet_present {
            return Err("Feet are on the footrest. The sanitize cycle runs with nobody in the chair, because the water holds detergent or disinfectant. Ask the client to leave the chair, then start the cycle again.".into());
        }
        let mut out = self.runner.tick(input);
        out.step = self.places[out.step as usize];
        Ok(out)
    }
}

fn vietnamese() -> Translation {
    let step = |title: &str, staff: Option<&str>| StepInfo {
        title: title.into(),
        staff_action: staff.map(String::from),
    };
    Translation {
        // The steps carry staff actions, so they are given here in full.
        steps: vec![
            step("Xả nước đã dùng", None),
            step(
                "Cuối ngày: tháo và làm sạch tấm đặt chân (footplate)",
                Some("Tháo tấm đặt chân (footplate) và các bộ phận tháo được khác, như lưới chắn cửa hút. Dùng bàn chải sạch, xà phòng nước và nước để chà chúng, phần phía sau chúng và mặt trong bồn. Tráng lại tất cả bằng nước sạch rồi lắp tấm đặt chân vào. Sau đó xác nhận."),
            ),
            step(
                "Chà rửa bồn",
                Some("Lấy hết cặn bẩn trong bồn: da, mảnh móng, tóc. Dùng bàn chải sạch, xà phòng nước và nước để chà mặt trong bồn, tấm đặt chân và các vòi phun, rồi tráng bằng nước sạch. Sau đó xác nhận."),
            ),
            step("Cuối ngày: đổ nước cho chu trình chất tẩy rửa", None),
            step(
                "Cuối ngày: cho chất tẩy rửa",
                Some("Đổ xà phòng hoặc chất tẩy rửa ít bọt vào nước, theo lượng ghi trên nhãn. Sau đó xác nhận: vòi phun sẽ chạy."),
            ),
            step("Cuối ngày: chu trình chất tẩy rửa, 10 phút vòi phun", None),
            step("Cuối ngày: xả nước có chất tẩy rửa", None),
            step(
                "Cuối ngày: tráng sạch xà phòng",
                Some("Tráng bồn bằng nước sạch cho đến khi hết xà phòng và bọt. Sau đó xác nhận: ghế sẽ xả nước tráng và đổ nước lại."),
            ),
            step("Cuối ngày: xả nước tráng", None),
            step("Đổ nước sạch", None),
            step(
                "Cho chất khử trùng",
                Some("Đeo găng tay. Đổ chất khử trùng bệnh viện đã đăng ký với EPA (nhãn ghi diệt khuẩn, diệt nấm và diệt vi-rút) vào nước, theo lượng nhãn ghi cho 17 lít (4,5 gallon). Sau đó xác nhận: vòi phun sẽ chạy."),
            ),
            step("Khử trùng: 10 phút vòi phun", None),
            step("Xả nước có chất khử trùng", None),
            step(
                "Tráng và lau khô bồn",
                Some("Tráng bồn bằng nước sạch và lau khô bằng khăn sạch. Để bồn trống và khô cho đến khách tiếp theo. Sau đó xác nhận."),
            ),
        ],
        options: vec![tarsal_sdk::OptionText {
            key: CYCLE_OPTION.into(),
            label: "Chu trình".into(),
            description: "Sau mỗi khách, hoặc chu trình cuối ngày dài hơn (tháo tấm đặt chân, chu trình chất tẩy rửa, rồi khử trùng).".into(),
            choice_labels: vec!["Sau mỗi khách".into(), "Cuối ngày".into()],
        }],
        ..translation(
            "vi",
            "Vệ sinh bồn ngâm chân",
            "Xả nước, làm sạch và khử trùng bồn ngâm chân giữa các khách, với 10 phút chất khử trùng chạy qua vòi phun. Cuối ngày có thêm bước vệ sinh tấm đặt chân (footplate) và chu trình chất tẩy rửa.",
            &[],
            &[],
        )
    }
}

tarsal_sdk::export_program!(Sanitize);

#[cfg(test)]
mod tests {
    use super::*;
    use tarsal_sdk::testing::{Bench, Sample, Trace};
    use tarsal_sdk::{OptionValue, Status};

    const AFTER_CLIENT_STEPS: [u32; 7] = [0, 2, 9, 10, 11, 12, 13];
    const END_OF_DAY_STEPS: [u32; 13] = [0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
    const FOOTPLATE: u32 = 1;
    const DETERGENT_CYCLE: u32 = 5;
    const DISINFECTANT: u32 = 10;
    const DISINFECTION: u32 = 11;

    /// The chair right after a client: nobody in it, a bath of used water.
    fn after_a_client() -> Bench {
        let mut bench = Bench::standard();
        bench.sensors.feet_present = false;
        bench.sensors.water_level_l = 16.0;
        bench.sensors.water_c = 36.0;
        bench
    }

    fn run(bench: &Bench, cycle: Cycle) -> Trace {
        bench
            .run::<Sanitize>(&bench.options(&[("cycle", OptionValue::Text(cycle.value().into()))]))
            .unwrap()
    }

    fn staff_steps(cycle: Cycle) -> Vec<u32> {
        let (timeline, places) = timeline(cycle);
        timeline
            .steps
            .iter()
            .zip(places)
            .filter(|(s, _)| s.staff_action.is_some())
            .map(|(_, p)| p)
            .collect()
    }

    /// Longest run of ticks with the jets on, within `step`.
    fn jets_on(trace: &Trace, step: u32) -> Duration {
        let mut longest = Duration::ZERO;
        let mut since = None;
        for s in &trace.samples {
            let on = s.output.step == step
                && s.output.status != Status::Finished
                && s.output.request.bath.jets_pct > 0.0;
            match (on, since) {
                (true, None) => since = Some(s.elapsed()),
                (false, Some(start)) => {
                    longest = longest.max(s.elapsed() - start);
                    since = None;
                }
                _ => {}
            }
        }
        longest
    }

    fn level(s: &Sample) -> f64 {
        s.input.sensors.water_level_l
    }

    #[test]
    fn runs_every_step_of_each_cycle_in_order() {
        let trace = run(&after_a_client(), Cycle::AfterClient);
        assert_eq!(trace.steps(), AFTER_CLIENT_STEPS);
        assert_eq!(
            trace.samples.last().unwrap().output.status,
            Status::Finished
        );
        // The bench does not model the water staff rinse with, so there is
        // no rinse water to drain (step 8 ends at once).
        let trace = run(&after_a_client(), Cycle::EndOfDay);
        let without_rinse_water: Vec<u32> =
            END_OF_DAY_STEPS.into_iter().filter(|&s| s != 8).collect();
        assert_eq!(trace.steps(), without_rinse_water);
        // An empty bath has nothing to drain: the cycle starts with the scrub.
        let mut empty = after_a_client();
        empty.sensors.water_level_l = 0.0;
        assert_eq!(
            run(&empty, Cycle::AfterClient).steps(),
            AFTER_CLIENT_STEPS[1..]
        );
    }

    #[test]
    fn takes_its_declared_time_apart_from_how_long_staff_take() {
        for cycle in Cycle::ALL {
            let bench = after_a_client();
            let trace = run(&bench, cycle);
            let (timeline, _) = timeline(cycle);
            let staff_expected: Duration = timeline
                .steps
                .iter()
                .filter(|s| s.staff_action.is_some())
                .map(|s| s.length.expected())
                .sum();
            let staff_count = staff_steps(cycle).len() as u32;
            // No rinse water to drain on the bench (see above).
            let rinse_water = match cycle {
                Cycle::AfterClient => Duration::ZERO,
                Cycle::EndOfDay => all_steps()[8].0.length.expected(),
            };
            let machine = timeline.expected_duration() - staff_expected - rinse_water;
            let expected = machine + bench.staff_reaction * staff_count;
            let took = trace.duration().as_secs_f64();
            assert!(
                (took - expected.as_secs_f64()).abs() < 10.0,
                "{cycle:?}: {took} s, expected {expected:?}"
            );
        }
        let declared = Sanitize::describe().duration_s as u64;
        assert_eq!(
            declared,
            timeline(Cycle::AfterClient).0.expected_duration().as_secs()
        );
    }

    #[test]
    fn stays_inside_the_chair_limits_at_every_intensity_and_without_heat() {
        for intensity in 1..=5 {
            let trace = run(&after_a_client().intensity(intensity), Cycle::AfterClient);
            assert_eq!(
                trace.limit_violations(),
                Vec::<String>::new(),
                "intensity {intensity}"
            );
        }
        let trace = run(&after_a_client().without_heat(), Cycle::EndOfDay);
        assert!(trace.limit_violations().is_empty());
        let trace = run(&after_a_client(), Cycle::EndOfDay);
        assert!(trace.limit_violations().is_empty());
    }

    #[test]
    fn waits_for_staff_at_every_staff_step() {
        for cycle in Cycle::ALL {
            // Slow staff: each staff step lasts until they confirm, however long.
            let mut bench = after_a_client();
            bench.staff_reaction = Duration::from_secs(240);
            let trace = run(&bench, cycle);
            let staff = staff_steps(cycle);
            assert!(staff.len() >= 3, "{cycle:?}: {staff:?}");
            for &step in &staff {
                let samples: Vec<_> = trace.in_step(step).collect();
                assert!(
                    samples
                        .iter()
                        .all(|s| s.output.status == Status::AwaitingStaff),
                    "{cycle:?} step {step}"
                );
                let waited = trace.step_duration(step);
                assert!(
                    waited >= bench.staff_reaction - Duration::from_millis(100),
                    "{cycle:?} step {step}: {waited:?}"
                );
                // The chair holds still while staff work in the basin.
                for s in samples {
                    let b = s.output.request.bath;
                    assert!(!b.fill && !b.drain && b.jets_pct == 0.0, "step {step}");
                }
                // The step ended with a confirmation, not a timer.
                let last = trace.in_step(step).last().unwrap();
                let next = trace
                    .samples
                    .iter()
                    .find(|s| s.elapsed() > last.elapsed())
                    .unwrap();
                assert!(
                    next.input.staff_confirmations > last.input.staff_confirmations,
                    "{cycle:?} step {step} ended without a confirmation"
                );
            }
            // No other step asks for staff.
            for s in &trace.samples {
                if s.output.status == Status::AwaitingStaff {
                    assert!(staff.contains(&s.output.step));
                }
            }
        }
    }

    #[test]
    fn the_disinfectant_circulates_with_the_jets_for_at_least_ten_minutes() {
        for cycle in Cycle::ALL {
            let trace = run(&after_a_client(), cycle);
            let on = jets_on(&trace, DISINFECTION);
            assert!(on >= Duration::from_secs(600), "{cycle:?}: {on:?}");
            // In a full bath, after staff added the disinfectant.
            assert!(trace.in_step(DISINFECTION).all(|s| level(s) >= 16.5));
            let order = trace.steps();
            let at = |step| order.iter().position(|&s| s == step).unwrap();
            assert!(at(9) < at(DISINFECTANT) && at(DISINFECTANT) < at(DISINFECTION));
            assert!(at(DISINFECTION) < at(12) && at(12) < at(13));
            // The cycle leaves the bath empty.
            assert!(level(trace.samples.last().unwrap()) <= 0.3);
        }
    }

    #[test]
    fn jets_run_only_in_the_circulation_steps_and_only_with_water() {
        let trace = run(&after_a_client(), Cycle::EndOfDay);
        let min = trace.samples[0].input.limits.bath_min_level_l;
        for s in &trace.samples {
            if s.output.request.bath.jets_pct > 0.0 {
                assert!([DETERGENT_CYCLE, DISINFECTION].contains(&s.output.step));
                assert!(level(s) > min);
            }
        }
    }

    #[test]
    fn the_end_of_day_cycle_cleans_the_footplate_and_runs_detergent_before_disinfecting() {
        let trace = run(&after_a_client(), Cycle::EndOfDay);
        let order = trace.steps();
        let at = |step| order.iter().position(|&s| s == step).unwrap();
        assert!(at(FOOTPLATE) < at(DETERGENT_CYCLE));
        assert!(
            at(4) < at(DETERGENT_CYCLE),
            "detergent added before the cycle"
        );
        assert!(at(DETERGENT_CYCLE) < at(DISINFECTANT));
        let on = jets_on(&trace, DETERGENT_CYCLE);
        assert!(on >= Duration::from_secs(600), "{on:?}");
        // The detergent water is drained before the clean water comes in.
        let refill_starts = trace.in_step(9).next().unwrap();
        assert!(level(refill_starts) <= 0.3, "{} l", level(refill_starts));
        let info = Sanitize::describe();
        let footplate = info.steps[FOOTPLATE as usize].staff_action.as_deref();
        assert!(footplate.is_some_and(|a| a.contains("footplate")));
        // The after-client cycle has neither.
        let trace = run(&after_a_client(), Cycle::AfterClient);
        assert_eq!(trace.in_step(FOOTPLATE).count(), 0);
        assert_eq!(trace.in_step(DETERGENT_CYCLE).count(), 0);
    }

    #[test]
    fn uses_the_bath_only() {
        let trace = run(&after_a_client(), Cycle::EndOfDay);
        for s in &trace.samples {
            let r = &s.output.request;
            assert!(r.heat.water_c.is_none() && r.heat.sole_c.is_none() && r.heat.calf_c.is_none());
            for foot in [&r.left_foot, &r.right_foot] {
                assert_eq!(foot.pressure_pct + foot.travel_speed_pct_s, 0.0);
            }
            for calf in [&r.left_calf, &r.right_calf] {
                assert_eq!(calf.ankle_pct + calf.mid_pct + calf.upper_pct, 0.0);
            }
        }
        let uses = Sanitize::describe().uses;
        assert!(uses.bath && !uses.foot_rollers && !uses.calf_units);
        assert!(!uses.sole_heat && !uses.calf_heat);
    }

    #[test]
    fn stops_if_someone_sits_in_the_chair() {
        let mut bench = after_a_client();
        bench.sensors.feet_present = true;
        let err = bench
            .run::<Sanitize>(&bench.options(&[]))
            .expect_err("ran with feet in the chair");
        assert!(err.contains("nobody in the chair"), "{err}");
    }

    #[test]
    fn declines_to_start_without_the_bath() {
        let mut bench = after_a_client();
        bench.bath = false;
        let Err(why) = Sanitize::start(&bench.options(&[])) else {
            panic!("started without the bath");
        };
        assert!(why.contains("bath is switched off"), "{why}");
    }

    #[test]
    fn describes_itself_consistently() {
        let info = Sanitize::describe();
        assert_eq!(info.id, ID);
        // Every step either cycle reports is declared, with the same title.
        for cycle in Cycle::ALL {
            let (timeline, places) = timeline(cycle);
            for (step, place) in timeline.steps.iter().zip(places) {
                let declared = &info.steps[place as usize];
                assert_eq!(declared.title, step.title);
                assert_eq!(declared.staff_action, step.staff_action);
            }
        }
        let vi = &info.translations[0];
        assert_eq!(vi.language, "vi");
        assert_eq!(vi.steps.len(), info.steps.len());
        assert_eq!(vi.contraindications.len(), info.contraindications.len());
        for (en, vi) in info.steps.iter().zip(&vi.steps) {
            assert_eq!(
                en.staff_action.is_some(),
                vi.staff_action.is_some(),
                "{}",
                en.title
            );
        }
        assert_eq!(vi.options[0].choice_labels.len(), 2);
    }
}
