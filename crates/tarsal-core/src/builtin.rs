//! Programs compiled into the service. The demo is a short routine that uses
//! every roller and heat pad, so the whole chain can be exercised without any
//! plugin installed.

use crate::model::{CalfCell, FootRollerCommand, HeaterId, NodeMotion, Request, Side};
use crate::profile::Equipment;
use crate::program::{
    CatalogError, OptionKind, OptionSpec, OptionText, Program, ProgramCatalog, ProgramError,
    ProgramInfo, ProgramInput, ProgramOutput, ProgramStatus, ProgramTranslation, StepInfo,
};
use crate::session::{OptionValue, SessionOptions};
use crate::units::{Celsius, Hertz, Percent, PercentPerSecond};
use std::sync::Arc;
use std::time::Duration;

/// Id of the built-in demo program.
pub const DEMO_ID: &str = "demo";

/// The programs built into the service.
pub struct BuiltinCatalog {
    demo: Arc<ProgramInfo>,
}

impl Default for BuiltinCatalog {
    fn default() -> Self {
        Self {
            demo: Arc::new(Demo::info()),
        }
    }
}

impl ProgramCatalog for BuiltinCatalog {
    fn programs(&self) -> Vec<Arc<ProgramInfo>> {
        vec![Arc::clone(&self.demo)]
    }

    fn instantiate(
        &mut self,
        id: &str,
        options: &SessionOptions,
    ) -> Result<(Arc<ProgramInfo>, Box<dyn Program>), CatalogError> {
        if id == DEMO_ID {
            Ok((Arc::clone(&self.demo), Box::new(Demo::new(options))))
        } else {
            Err(self.unknown(id))
        }
    }
}

/// Step boundaries as fractions of the whole routine.
const STEPS: [(&str, f64); 5] = [
    ("Warm-up strokes, toes to heel", 0.20),
    ("Sole kneading", 0.50),
    ("Calf wave, ankle to knee", 0.75),
    ("Vibration", 0.88),
    ("Cool-down strokes", 1.00),
];

/// A short routine through every technique the chair has.
pub struct Demo {
    total: Duration,
    /// Pressures last asked for, so increases stay within the ramp limit.
    foot_pressure: [f64; 2],
    cells: [[f64; 3]; 2],
    /// Where each carriage is heading.
    heading_to_heel: [bool; 2],
}

impl Demo {
    /// What the demo says about itself: steps, the `minutes` option, the parts it uses.
    pub fn info() -> ProgramInfo {
        ProgramInfo {
            id: DEMO_ID.into(),
            name: "Demo".into(),
            description: "A short tour of the chair: strokes, kneading, a calf wave, vibration and a cool-down.".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            duration: Duration::from_secs(120),
            steps: STEPS
                .iter()
                .map(|(title, _)| StepInfo {
                    title: (*title).into(),
                    staff_action: None,
                })
                .collect(),
            options: vec![OptionSpec {
                key: "minutes".into(),
                label: "Length".into(),
                description: "Length of the routine in minutes.".into(),
                kind: OptionKind::Int {
                    min: 1,
                    max: 25,
                    default: 2,
                },
            }],
            contraindications: vec![],
            uses: Equipment {
                foot_rollers: true,
                calf_units: true,
                sole_heat: true,
                calf_heat: false,
                bath: false,
            },
            translations: vec![Self::vietnamese()],
        }
    }

    /// The demo's texts for Vietnamese-speaking staff, step for step.
    fn vietnamese() -> ProgramTranslation {
        const STEPS_VI: [&str; 5] = [
            "Vuốt khởi động, từ ngón chân đến gót",
            "Nhào lòng bàn chân",
            "Sóng bắp chân, từ mắt cá lên gối",
            "Rung",
            "Vuốt thư giãn",
        ];
        ProgramTranslation {
            language: "vi".into(),
            name: "Chạy thử".into(),
            description: "Giới thiệu ngắn các chức năng của ghế: vuốt, nhào, sóng bắp chân, rung và thư giãn.".into(),
            steps: STEPS_VI
                .iter()
                .map(|title| StepInfo {
                    title: (*title).into(),
                    staff_action: None,
                })
                .collect(),
            contraindications: vec![],
            options: vec![OptionText {
                key: "minutes".into(),
                label: "Thời lượng".into(),
                description: "Thời lượng của bài, tính bằng phút.".into(),
                choice_labels: vec![],
            }],
        }
    }

    /// A fresh demo session, as long as the `minutes` option says (1–25, default 2).
    pub fn new(options: &SessionOptions) -> Self {
        let minutes = match options.values.get("minutes") {
            Some(OptionValue::Int(m)) => (*m).clamp(1, 25) as u64,
            _ => 2,
        };
        Self {
            total: Duration::from_secs(minutes * 60),
            foot_pressure: [0.0; 2],
            cells: [[0.0; 3]; 2],
            heading_to_heel: [true; 2],
        }
    }

    /// Moves `current` toward `target`, rising no faster than 90 % of `ramp`.
    fn slew(current: &mut f64, target: f64, ramp: PercentPerSecond, dt: Duration) -> Percent {
        let max_up = 0.9 * ramp.0 * dt.as_secs_f64();
        *current = if target > *current {
            (*current + max_up).min(target)
        } else {
            target
        };
        Percent(*current)
    }
}

impl Program for Demo {
    fn tick(&mut self, input: &ProgramInput<'_>) -> Result<ProgramOutput, ProgramError> {
        let l = input.limits;
        let t = input.elapsed.as_secs_f64();
        let fraction = (t / self.total.as_secs_f64()).clamp(0.0, 1.0);
        let step = STEPS
            .iter()
            .position(|(_, end)| fraction < *end)
            .unwrap_or(STEPS.len() - 1);
        let mut request = Request::OFF;
        if fraction >= 1.0 {
            return Ok(ProgramOutput {
                request,
                step: step as u32,
                progress: 1.0,
                remaining: Some(Duration::ZERO),
                status: ProgramStatus::Finished,
            });
        }

        for side in Side::ALL {
            let i = side.index();
            let position = input.sensors.feet[side].carriage_position.0;
            // Sweep between toes and heel, turning at each end.
            if self.heading_to_heel[i] && position >= 99.0 {
                self.heading_to_heel[i] = false;
            } else if !self.heading_to_heel[i] && position <= 1.0 {
                self.heading_to_heel[i] = true;
            }
            let target = if self.heading_to_heel[i] { 100.0 } else { 0.0 };
            let (speed, share, motion, rate) = match step {
                0 | 4 => (0.6, 0.3, NodeMotion::Still, 0.0),
                // The heel takes the most pressure.
                1 => (
                    0.2,
                    0.5 + 0.4 * position / 100.0,
                    NodeMotion::Knead,
                    0.8 * l.knead_rate_max.0,
                ),
                2 => (0.0, 0.0, NodeMotion::Still, 0.0),
                _ => (0.0, 0.4, NodeMotion::Vibrate, 0.5 * l.vibrate_rate_max.0),
            };
            // Ramp from what the chair applies (zero after a pause), not
            // from what was last asked.
            let applied = input.applied.feet[side].pressure.0;
            self.foot_pressure[i] = self.foot_pressure[i].min(applied);
            let pressure = Self::slew(
                &mut self.foot_pressure[i],
                share * l.foot_pressure_ceiling.0,
                l.foot_pressure_ramp,
                input.dt,
            );
            request.feet[side] = FootRollerCommand {
                position: Percent(target),
                travel_speed: PercentPerSecond(speed * l.travel_speed_max.0),
                pressure,
                motion,
                motion_rate: Hertz(rate),
            };

            // Calf wave: each cell in turn, ankle first, four seconds each.
            let wave = if step == 2 {
                Some(((t / 4.0) as usize) % 4)
            } else {
                None
            };
            for cell in CalfCell::ALL {
                let on = wave == Some(cell.index());
                let target = if on {
                    0.6 * l.cell_pressure_ceiling.0
                } else {
                    0.0
                };
                let applied = input.applied.calves[side].cells[cell].0;
                let last = &mut self.cells[i][cell.index()];
                *last = last.min(applied);
                request.calves[side].cells[cell] = Self::slew(
                    &mut self.cells[i][cell.index()],
                    target,
                    l.cell_pressure_ramp,
                    input.dt,
                );
            }
        }
        if input.heat && step < 4 {
            request.setpoints[HeaterId::SolePad] = Some(Celsius(36.0).min(l.sole_pad_setpoint_max));
        }
        Ok(ProgramOutput {
            request,
            step: step as u32,
            progress: fraction,
            remaining: Some(self.total.saturating_sub(input.elapsed)),
            status: ProgramStatus::Running,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SensorReadings;
    use crate::profile::ChairProfile;
    use crate::program::ChairLimits;
    use crate::units::Intensity;

    #[test]
    fn the_vietnamese_texts_cover_every_step_and_option() {
        let info = Demo::info();
        let vi = info
            .translations
            .iter()
            .find(|t| t.language == "vi")
            .expect("a Vietnamese translation");
        assert_eq!(vi.steps.len(), info.steps.len());
        for option in &info.options {
            assert!(
                vi.options.iter().any(|o| o.key == option.key),
                "{}",
                option.key
            );
        }
    }

    #[test]
    fn demo_walks_through_its_steps_and_finishes_on_time() {
        let limits = ChairLimits::for_intensity(&ChairProfile::standard(), Intensity::DEFAULT);
        let sensors = SensorReadings::default();
        let mut demo = Demo::new(&SessionOptions::default());
        let dt = Duration::from_millis(100);
        let mut steps_seen = Vec::new();
        let mut t = Duration::ZERO;
        loop {
            let out = demo
                .tick(&ProgramInput {
                    elapsed: t,
                    dt,
                    intensity: Intensity::DEFAULT,
                    heat: true,
                    bath: false,
                    sensors: &sensors,
                    limits: &limits,
                    applied: &Request::OFF,
                    staff_confirmations: 0,
                })
                .unwrap();
            if steps_seen.last() != Some(&out.step) {
                steps_seen.push(out.step);
            }
            for side in Side::ALL {
                assert!(out.request.feet[side].pressure <= limits.foot_pressure_ceiling);
            }
            if out.status == ProgramStatus::Finished {
                break;
            }
            t += dt;
        }
        assert_eq!(steps_seen, vec![0, 1, 2, 3, 4]);
        assert_eq!(t, Duration::from_secs(120));
    }

    #[test]
    fn unknown_program_names_the_available_ones() {
        let mut c = BuiltinCatalog::default();
        let err = c
            .instantiate("classic", &SessionOptions::default())
            .err()
            .unwrap();
        assert!(err.to_string().contains("available: demo"), "{err}");
    }
}
