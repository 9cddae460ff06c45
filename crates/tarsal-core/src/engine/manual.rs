//! Direct control outside programs: a technician's service mode (single
//! actuators), and filling or draining the bath by hand from the panel. Both
//! go through the safety supervisor like any program request.

use super::{Allowance, Engine, Refusal};
use crate::command::{BathAction, ManualCommand};
use crate::event::EventKind;
use crate::model::{CalfCommand, FootRollerCommand, Request, SensorReadings};
use crate::profile::Equipment;
use crate::session::ChairState;
use crate::units::{Intensity, Percent};

/// Service mode state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct ServiceMode {
    pub request: Request,
    pub intensity: Intensity,
}

impl Engine {
    pub(super) fn enter_service_mode(&mut self) -> Result<(), Refusal> {
        match self.state {
            ChairState::Idle => self.check_no_manual_bath()?,
            ChairState::Service => return Ok(()),
            ChairState::Fault => {
                return Err(Refusal::FaultLatched {
                    faults: self.fault_summary(),
                });
            }
            ChairState::Estop => return Err(Refusal::EstopLatched),
            state => return Err(Refusal::Busy { state }),
        }
        self.manual_bath = None;
        self.service = Some(ServiceMode {
            request: Request::OFF,
            intensity: Intensity::DEFAULT,
        });
        self.state = ChairState::Service;
        self.push(EventKind::ServiceMode { on: true });
        Ok(())
    }

    pub(super) fn leave_service_mode(&mut self) -> Result<(), Refusal> {
        if self.state != ChairState::Service {
            return Err(Refusal::NotInServiceMode);
        }
        self.service = None;
        self.state = ChairState::Idle;
        self.push(EventKind::ServiceMode { on: false });
        Ok(())
    }

    pub(super) fn set_actuator(&mut self, command: ManualCommand) -> Result<(), Refusal> {
        let Some(service) = self.service.as_mut() else {
            return Err(Refusal::NotInServiceMode);
        };
        // A value no actuator can take is the technician's typo, refused
        // here; it never reaches the supervisor as a broken request.
        let mut request = service.request;
        command.apply(&mut request);
        if let Err(e) = crate::supervisor::check_domain(&request) {
            return Err(Refusal::InvalidValue {
                what: format!("{} = {}", e.field, e.value),
                allowed: e.allowed.into(),
            });
        }
        service.request = request;
        self.push(EventKind::ServiceCommand { command });
        Ok(())
    }

    pub(super) fn bath_action(&mut self, action: BathAction) -> Result<(), Refusal> {
        let Some(bath) = self.profile.bath.clone() else {
            return Err(Refusal::NotFitted {
                missing: "foot bath".into(),
            });
        };
        match self.state {
            ChairState::Idle => {}
            ChairState::Fault => {
                return Err(Refusal::FaultLatched {
                    faults: self.fault_summary(),
                });
            }
            ChairState::Estop => return Err(Refusal::EstopLatched),
            state => return Err(Refusal::Busy { state }),
        }
        if let BathAction::Fill { to } = action
            && !(to.0 >= bath.min_level.0 && to <= bath.max_level)
        {
            return Err(Refusal::InvalidValue {
                what: format!("fill level {to}"),
                allowed: format!("{}–{}", bath.min_level, bath.max_level),
            });
        }
        // Stopping when nothing runs changes nothing: no event to log.
        if action == BathAction::Stop && self.manual_bath.is_none() {
            return Ok(());
        }
        self.manual_bath = match action {
            BathAction::Stop => None,
            other => Some(other),
        };
        self.push(EventKind::ManualBath { action });
        Ok(())
    }

    /// The request of the idle chair: a manual fill or drain, if one is
    /// going; finishes it when the level is reached.
    pub(super) fn manual_bath_request(&mut self, sensors: &SensorReadings) -> Option<Allowance> {
        let action = self.manual_bath?;
        let bath = self.profile.bath.as_ref()?;
        let done = match action {
            BathAction::Fill { to } => sensors.water_level >= to,
            BathAction::Drain => sensors.water_level <= bath.empty_level,
            BathAction::Stop => true,
        };
        if done {
            self.manual_bath = None;
            self.push(EventKind::ManualBathDone {
                level: sensors.water_level,
            });
            return None;
        }
        match action {
            BathAction::Fill { .. } => self.request.bath.fill = true,
            BathAction::Drain => self.request.bath.drain = true,
            BathAction::Stop => {}
        }
        Some(Allowance {
            intensity: Intensity::DEFAULT,
            heat: false,
            bath: true,
            declared: Equipment {
                bath: true,
                ..Equipment::default()
            },
        })
    }

    /// The service-mode request.
    pub(super) fn service_request(&mut self) -> Option<Allowance> {
        let service = self.service?;
        self.request = service.request;
        Some(Allowance {
            intensity: service.intensity,
            heat: true,
            bath: true,
            declared: self.profile.equipment(),
        })
    }
}

/// A foot roller command that only moves the carriage (for tools and tests).
pub fn carriage_to(position: Percent, speed: crate::units::PercentPerSecond) -> FootRollerCommand {
    FootRollerCommand {
        position,
        travel_speed: speed,
        ..FootRollerCommand::OFF
    }
}

/// A calf command with all cells at `pressure`.
pub fn all_cells(pressure: Percent) -> CalfCommand {
    CalfCommand {
        cells: crate::model::Cells([pressure; 3]),
        kneading_speed: Percent::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Outputs, Side};
    use crate::profile::ChairProfile;
    use crate::units::{Celsius, Litres};
    use std::sync::Arc;
    use std::time::Duration;

    fn engine() -> Engine {
        Engine::new(Arc::new(ChairProfile::standard()))
    }

    fn sensors(level: f64) -> SensorReadings {
        SensorReadings {
            temperatures: crate::model::Heaters([Celsius(30.0); 3]),
            water_level: Litres(level),
            feet_present: true,
            ..SensorReadings::default()
        }
    }

    #[test]
    fn service_mode_commands_go_through_the_supervisor() {
        let mut e = engine();
        assert_eq!(
            e.set_actuator(ManualCommand::JetPump {
                power: Percent(50.0)
            }),
            Err(Refusal::NotInServiceMode)
        );
        e.enter_service_mode().unwrap();
        e.set_actuator(ManualCommand::CalfUnit {
            side: Side::Left,
            command: all_cells(Percent(99.0)),
        })
        .unwrap();
        e.set_actuator(ManualCommand::JetPump {
            power: Percent(50.0),
        })
        .unwrap();
        let out: Outputs = *e.tick(Duration::from_millis(10), &sensors(2.0));
        // Ramp-limited cells, and no jets without water.
        assert!(out.calves[Side::Left].cells[crate::model::CalfCell::Ankle].0 <= 0.25 + 1e-9);
        assert_eq!(out.jet_pump, Percent::ZERO);
        let codes: Vec<_> = e.drain_events().map(|ev| ev.kind.code()).collect();
        assert!(codes.contains(&"interlock.dry_run"), "{codes:?}");
        assert!(codes.contains(&"service.command"), "{codes:?}");
        e.leave_service_mode().unwrap();
        let out = *e.tick(Duration::from_millis(20), &sensors(2.0));
        assert!(out.is_safe());
    }

    #[test]
    fn a_manual_fill_stops_at_its_level_and_refuses_silly_levels() {
        let mut e = engine();
        assert!(matches!(
            e.bath_action(BathAction::Fill { to: Litres(25.0) }),
            Err(Refusal::InvalidValue { .. })
        ));
        e.bath_action(BathAction::Fill { to: Litres(12.0) })
            .unwrap();
        assert!(
            e.tick(Duration::from_millis(10), &sensors(5.0))
                .fill_valve_open
        );
        assert!(
            !e.tick(Duration::from_millis(20), &sensors(12.0))
                .fill_valve_open
        );
        let codes: Vec<_> = e.drain_events().map(|ev| ev.kind.code()).collect();
        assert_eq!(codes, vec!["bath.fill", "bath.done"]);
    }
}
