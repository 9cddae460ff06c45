//! The JSON documents on the chair's topics. Their schemas are in
//! `docs/schemas/`; a test checks that these types and the schemas agree.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tarsal_core::engine::ChairStatus;
use tarsal_core::view::{ChairView, ReadingsView, round_to, setpoints_c};
use tarsal_core::wallclock::UnixMillis;
use tarsal_core::wire::EventDetails;
use tarsal_store::EventRow;

/// `state`: what the chair is doing. Retained; published on change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatePayload {
    /// idle, preparing, running, paused, finishing, fault, estop, service.
    pub state: String,
    pub session: Option<SessionPayload>,
    pub faults: Vec<FaultPayload>,
    /// Who latched the emergency stop (`button`, `local`, `remote`), if it is latched.
    pub emergency_stop: Option<String>,
    pub last_session: Option<LastSessionPayload>,
    pub sanitation_owed: bool,
    pub sanitation_required: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionPayload {
    pub id: u64,
    pub program: String,
    pub program_name: String,
    /// The current step in words.
    pub step: String,
    /// 0-based.
    pub step_index: u32,
    pub step_count: u32,
    /// 0–1.
    pub progress: f64,
    pub elapsed_s: u64,
    pub remaining_s: u64,
    pub intensity: u8,
    pub heat: bool,
    pub bath: bool,
    pub awaiting_staff: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultPayload {
    pub code: String,
    pub message: String,
    pub advice: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LastSessionPayload {
    pub id: u64,
    pub outcome: String,
}

impl StatePayload {
    pub fn of(s: &ChairStatus) -> Self {
        let v = ChairView::of(s);
        Self {
            state: v.state.into(),
            session: v.session.map(|x| SessionPayload {
                id: x.id,
                program: x.program,
                program_name: x.program_name,
                step: x.step,
                step_index: x.step_index,
                step_count: x.step_count,
                progress: x.progress,
                elapsed_s: x.elapsed.as_secs(),
                remaining_s: x.remaining.as_secs(),
                intensity: x.intensity,
                heat: x.heat,
                bath: x.bath,
                awaiting_staff: x.awaiting_staff,
            }),
            faults: v
                .faults
                .into_iter()
                .map(|f| FaultPayload {
                    code: f.code.into(),
                    message: f.message,
                    advice: f.advice,
                })
                .collect(),
            emergency_stop: v.emergency_stop.map(str::to_owned),
            last_session: v.last_session.map(|(id, outcome)| LastSessionPayload {
                id,
                outcome: outcome.into(),
            }),
            sanitation_owed: v.sanitation_owed,
            sanitation_required: v.sanitation_required,
        }
    }

    /// The same apart from values that move every second (progress,
    /// elapsed, remaining): a difference here is published at once.
    pub fn same_apart_from_time(&self, other: &Self) -> bool {
        let sessions_alike = match (&self.session, &other.session) {
            (Some(a), Some(b)) => a.same_apart_from_time(b),
            (None, None) => true,
            _ => false,
        };
        sessions_alike
            && self.state == other.state
            && self.faults == other.faults
            && self.emergency_stop == other.emergency_stop
            && self.last_session == other.last_session
            && self.sanitation_owed == other.sanitation_owed
            && self.sanitation_required == other.sanitation_required
    }
}

impl SessionPayload {
    /// Equal but for progress, elapsed and remaining time.
    fn same_apart_from_time(&self, o: &Self) -> bool {
        self.id == o.id
            && self.program == o.program
            && self.program_name == o.program_name
            && self.step == o.step
            && self.step_index == o.step_index
            && self.step_count == o.step_count
            && self.intensity == o.intensity
            && self.heat == o.heat
            && self.bath == o.bath
            && self.awaiting_staff == o.awaiting_staff
    }
}

/// `telemetry`: readings and outputs, at a fixed rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TelemetryPayload {
    /// RFC 3339, UTC.
    pub at: String,
    pub water_temperature_c: f64,
    pub water_level_l: f64,
    pub sole_pad_temperature_c: f64,
    pub calf_pad_temperature_c: f64,
    pub feet_present: bool,
    pub leak_detected: bool,
    pub emergency_button_pressed: bool,
    /// Heater setpoints in force, by heater (`water`, `sole_pad`, `calf_pad`).
    pub setpoints_c: BTreeMap<String, f64>,
    pub outputs: OutputsPayload,
}

/// What each actuator is told, after the supervisor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputsPayload {
    /// By side (`left`, `right`).
    pub foot_rollers: BTreeMap<String, FootRollerPayload>,
    pub calf_units: BTreeMap<String, CalfUnitPayload>,
    /// Heater power by heater.
    pub heater_power_pct: BTreeMap<String, f64>,
    pub fill_valve_open: bool,
    pub drain_pump_on: bool,
    pub jet_pump_pct: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FootRollerPayload {
    pub position_pct: f64,
    pub travel_speed_pct_per_s: f64,
    pub pressure_pct: f64,
    pub motion: String,
    pub motion_rate_hz: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalfUnitPayload {
    /// Cell pressure by cell (`ankle`, `mid`, `upper`).
    pub cells_pct: BTreeMap<String, f64>,
    pub kneading_pct: f64,
}

fn tenth(v: f64) -> f64 {
    round_to(v, 0.1)
}

impl TelemetryPayload {
    pub fn of(s: &ChairStatus, at: UnixMillis) -> Self {
        let o = &s.outputs;
        let r = ReadingsView::of(s);
        Self {
            at: at.rfc3339(),
            water_temperature_c: r.water_temperature_c,
            water_level_l: r.water_level_l,
            sole_pad_temperature_c: r.sole_pad_temperature_c,
            calf_pad_temperature_c: r.calf_pad_temperature_c,
            feet_present: r.feet_present,
            leak_detected: r.leak_detected,
            emergency_button_pressed: r.emergency_button_pressed,
            setpoints_c: setpoints_c(s)
                .iter()
                .map(|(h, c)| ((*h).to_owned(), *c))
                .collect(),
            outputs: OutputsPayload {
                foot_rollers: o
                    .feet
                    .iter()
                    .map(|(side, f)| {
                        (
                            side.code().to_owned(),
                            FootRollerPayload {
                                position_pct: tenth(f.position.0),
                                travel_speed_pct_per_s: tenth(f.travel_speed.0),
                                pressure_pct: tenth(f.pressure.0),
                                motion: f.motion.code().into(),
                                motion_rate_hz: tenth(f.motion_rate.0),
                            },
                        )
                    })
                    .collect(),
                calf_units: o
                    .calves
                    .iter()
                    .map(|(side, c)| {
                        (
                            side.code().to_owned(),
                            CalfUnitPayload {
                                cells_pct: c
                                    .cells
                                    .iter()
                                    .map(|(cell, p)| (cell.code().to_owned(), tenth(p.0)))
                                    .collect(),
                                kneading_pct: tenth(c.kneading_speed.0),
                            },
                        )
                    })
                    .collect(),
                heater_power_pct: o
                    .heater_power
                    .iter()
                    .map(|(h, p)| (h.code().to_owned(), tenth(p.0)))
                    .collect(),
                fill_valve_open: o.fill_valve_open,
                drain_pump_on: o.drain_pump_on,
                jet_pump_pct: tenth(o.jet_pump.0),
            },
        }
    }
}

/// `events`: one recorded event. `id` is unique; a consumer that sees an id
/// twice (after a reconnect) drops the repeat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventPayload {
    pub id: String,
    /// RFC 3339, UTC.
    pub at: String,
    pub session: Option<u64>,
    pub code: String,
    pub severity: String,
    pub message: String,
    pub advice: String,
    /// The event's details: for each code, the fields of its
    /// [`EventDetails`] variant (docs/schemas/event.schema.json).
    pub data: serde_json::Value,
}

impl EventPayload {
    /// The details, typed by code; `None` for a code or shape this version
    /// does not know (a record from a newer service, say).
    pub fn details(&self) -> Option<EventDetails> {
        serde_json::from_value(serde_json::json!({"code": self.code, "data": self.data})).ok()
    }
}

impl From<&EventRow> for EventPayload {
    fn from(e: &EventRow) -> Self {
        Self {
            id: e.uid.clone(),
            at: e.at.rfc3339(),
            session: e.session.map(|s| s.0),
            code: e.code.clone(),
            severity: e.severity.clone(),
            message: e.message.clone(),
            advice: e.advice.clone(),
            data: e.data.clone(),
        }
    }
}

/// The answer to a command, on its response topic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponsePayload {
    pub ok: bool,
    /// The command's verb.
    pub command: String,
    /// What `start` started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorPayload>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorPayload {
    /// `malformed`, `unknown_command`, `not_allowed`, `unavailable`, or the
    /// chair's refusal (`NotRunning`, `FaultLatched`…, as on D-Bus).
    pub code: String,
    pub message: String,
}

impl ResponsePayload {
    pub fn ok(command: &str, session: Option<u64>) -> Self {
        Self {
            ok: true,
            command: command.into(),
            session,
            error: None,
        }
    }

    pub fn error(command: &str, code: &str, message: impl Into<String>) -> Self {
        Self {
            ok: false,
            command: command.into(),
            session: None,
            error: Some(ErrorPayload {
                code: code.into(),
                message: message.into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tarsal_core::ChairProfile;
    use tarsal_core::builtin::BuiltinCatalog;
    use tarsal_core::session::{SessionId, SessionOptions};
    use tarsal_runtime::Chair;
    use tarsal_sim::Simulator;

    fn running_demo() -> ChairStatus {
        let profile = Arc::new(ChairProfile::standard());
        let mut chair = Chair::new(
            tarsal_core::Engine::new(Arc::clone(&profile)),
            Simulator::new(profile),
            Box::new(BuiltinCatalog::default()),
            SessionId(7),
            std::time::Duration::from_millis(10),
        );
        chair.start("demo", SessionOptions::default()).unwrap();
        for _ in 0..1500 {
            chair.step();
        }
        chair.engine().status()
    }

    #[test]
    fn state_of_a_running_session() {
        let s = StatePayload::of(&running_demo());
        assert_eq!(s.state, "running");
        let session = s.session.as_ref().unwrap();
        assert_eq!(session.id, 7);
        assert_eq!(session.program, "demo");
        assert!(!session.step.is_empty());
        assert!(session.progress > 0.0 && session.progress < 1.0);
        let mut later = s.clone();
        later.session.as_mut().unwrap().remaining_s -= 1;
        assert!(s.same_apart_from_time(&later));
        later.session.as_mut().unwrap().intensity = 5;
        assert!(!s.same_apart_from_time(&later));
    }

    #[test]
    fn telemetry_names_every_actuator() {
        let t = TelemetryPayload::of(&running_demo(), UnixMillis(1_700_000_000_000));
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json["at"], "2023-11-14T22:13:20.000Z");
        assert!(
            json["outputs"]["foot_rollers"]["left"]["pressure_pct"]
                .as_f64()
                .unwrap()
                > 0.0
        );
        assert!(json["outputs"]["calf_units"]["right"]["cells_pct"]["ankle"].is_number());
        assert!(json["outputs"]["heater_power_pct"]["water"].is_number());
    }
}
