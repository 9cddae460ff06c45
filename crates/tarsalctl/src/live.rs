//! Commands that talk to a running `tarsald` over D-Bus.
//!
//! Exit status: 0 done; 1 an unexpected error; 2 bad arguments; 3 the chair
//! refused (an `org.tarsal.Chair1.Error.*`: the message says why); 4 the
//! service cannot be reached; 5 the bus policy denies this user.

use anyhow::{Context, Result, anyhow};
use futures_util::StreamExt;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::process::ExitCode;
use tarsal_core::session::OptionValue;
use tarsal_dbus::client::{
    ActuatorProxy, Chair1Proxy, ChairProperties, ServiceProxy, SimulatorProxy, describe_error,
    error_name, read_actuators, variant_json,
};
use tarsal_dbus::{ACTUATORS_PATH, Bus};
use zbus::Variant;

pub const EXIT_REFUSED: u8 = 3;
pub const EXIT_UNREACHABLE: u8 = 4;
pub const EXIT_DENIED: u8 = 5;

/// A D-Bus failure with the exit status it maps to.
#[derive(Debug)]
pub struct BusFailure {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for BusFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BusFailure {}

/// One clear line and an exit status for a D-Bus error.
pub fn failure(e: &zbus::Error) -> BusFailure {
    let name = error_name(e).map(|(name, _)| name);
    let code = match name.as_deref() {
        Some(n) if n.starts_with("org.tarsal.Chair1.Error.") => EXIT_REFUSED,
        Some("org.freedesktop.DBus.Error.AccessDenied") => EXIT_DENIED,
        Some(
            "org.freedesktop.DBus.Error.ServiceUnknown"
            | "org.freedesktop.DBus.Error.NameHasNoOwner"
            | "org.freedesktop.DBus.Error.NoReply",
        ) => EXIT_UNREACHABLE,
        _ if matches!(
            e,
            zbus::Error::InputOutput(_) | zbus::Error::Address(_) | zbus::Error::Handshake(_)
        ) =>
        {
            EXIT_UNREACHABLE
        }
        _ => 1,
    };
    let mut message = describe_error(e);
    if code == EXIT_UNREACHABLE {
        message.push_str(" (is tarsald running on this bus? see --bus / --bus-address)");
    }
    BusFailure { code, message }
}

/// Runs `f` with a connection and the main proxy; D-Bus errors become
/// [`BusFailure`]s.
pub fn with_chair<T>(
    bus: &Bus,
    f: impl AsyncFnOnce(&zbus::Connection, &Chair1Proxy<'static>) -> zbus::Result<T>,
) -> Result<T> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let connection = bus.connect().await.map_err(|e| {
            let mut f = failure(&e);
            f.code = EXIT_UNREACHABLE;
            f.message = format!("cannot connect to {bus}: {}", f.message);
            f
        })?;
        let chair = Chair1Proxy::new(&connection)
            .await
            .map_err(|e| failure(&e))?;
        f(&connection, &chair)
            .await
            .map_err(|e| anyhow::Error::new(failure(&e)))
    })
}

fn hms(seconds: u32) -> String {
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// Every property of the main object, as JSON.
async fn properties(connection: &zbus::Connection) -> zbus::Result<Value> {
    let all = ChairProperties::read(connection).await?;
    serde_json::to_value(all).map_err(|e| zbus::Error::Failure(e.to_string()))
}

fn print_status(p: &Value) {
    let s = |k: &str| p[k].as_str().unwrap_or_default().to_owned();
    let n = |k: &str| p[k].as_f64().unwrap_or_default();
    let state = s("state");
    if p["session_id"].as_u64().unwrap_or(0) > 0 {
        println!(
            "state        {state} — {} (session {})",
            s("program_name"),
            p["session_id"]
        );
        println!(
            "step         {}/{} {}",
            n("step_index") as u32 + 1,
            p["step_count"],
            s("step")
        );
        println!(
            "progress     {:.0} %   elapsed {}   remaining {}",
            n("progress") * 100.0,
            hms(n("elapsed_s") as u32),
            hms(n("remaining_s") as u32)
        );
        let on = |k: &str| {
            if p[k].as_bool().unwrap_or(false) {
                "on"
            } else {
                "off"
            }
        };
        println!(
            "intensity    {}   heat {}   bath {}",
            p["intensity"],
            on("heat"),
            on("bath")
        );
        if p["awaiting_staff"].as_bool().unwrap_or(false) {
            println!("waiting      for staff: {}", s("staff_action"));
        }
    } else {
        println!("state        {state}");
    }
    // A reading the sensor could not give (NaN, null in JSON) is shown as
    // such, never as 0.
    let reading = |k: &str, unit: &str| match p[k].as_f64() {
        Some(v) if v.is_finite() => format!("{v:.1} {unit}"),
        _ => format!("unknown {unit}"),
    };
    println!(
        "water        {}, {}      pads: sole {}, calf {}      feet {}",
        reading("water_temperature_c", "°C"),
        reading("water_level_l", "L"),
        reading("sole_pad_temperature_c", "°C"),
        reading("calf_pad_temperature_c", "°C"),
        if p["feet_present"].as_bool().unwrap_or(false) {
            "on the footrest"
        } else {
            "off"
        }
    );
    if !s("manual_bath").is_empty() {
        println!("bath         {} in progress", s("manual_bath"));
    }
    let faults = p["faults"].as_array().cloned().unwrap_or_default();
    if faults.is_empty() {
        println!("faults       none");
    } else {
        for f in faults {
            println!(
                "fault        {}: {}",
                f["code"].as_str().unwrap_or_default(),
                f["message"].as_str().unwrap_or_default()
            );
            println!(
                "             what to do: {}",
                f["advice"].as_str().unwrap_or_default()
            );
        }
    }
    if !s("emergency_stop_source").is_empty() {
        println!(
            "emergency    stop latched (from {})",
            s("emergency_stop_source")
        );
    }
    if p["sanitation_owed"].as_bool().unwrap_or(false) {
        let required = p["sanitation_required"].as_bool().unwrap_or(false);
        println!(
            "sanitation   owed since the last client{}",
            if required {
                " (required before the next client)"
            } else {
                ""
            }
        );
    }
}

pub fn status(bus: &Bus, json_out: bool) -> Result<ExitCode> {
    let p = with_chair(bus, async |connection, _| properties(connection).await)?;
    if json_out {
        println!("{}", serde_json::to_string_pretty(&p)?);
    } else {
        print_status(&p);
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints changes and events until Ctrl-C.
pub fn watch(bus: &Bus, json_out: bool) -> Result<ExitCode> {
    with_chair(bus, async |connection, chair| {
        let props = zbus::fdo::PropertiesProxy::builder(connection)
            .destination(tarsal_dbus::NAME)
            .path(tarsal_dbus::PATH)
            .build()
            .await?;
        let mut changes = props.receive_properties_changed().await?;
        let mut events = chair.receive_event().await?;
        let first = properties(connection).await?;
        if json_out {
            println!("{}", json!({ "status": first }));
        } else {
            print_status(&first);
            println!("(watching; Ctrl-C to stop)");
        }
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return Ok(()),
                change = changes.next() => {
                    let Some(change) = change else { return Ok(()) };
                    let Ok(args) = change.args() else { continue };
                    if args.interface_name().as_str() != tarsal_dbus::INTERFACE {
                        continue;
                    }
                    let mut changed = Map::new();
                    for (name, value) in args.changed_properties() {
                        changed.insert((*name).to_owned(), variant_json(value));
                    }
                    if json_out {
                        println!("{}", json!({ "changed": changed }));
                    } else {
                        for key in ["State", "Step", "Intensity", "Faults", "ManualBath", "AwaitingStaff"] {
                            if let Some(v) = changed.get(key) {
                                println!("{key:<13}{v}");
                            }
                        }
                    }
                }
                event = events.next() => {
                    let Some(event) = event else { return Ok(()) };
                    let Ok(a) = event.args() else { continue };
                    if json_out {
                        println!("{}", json!({ "event": { "code": a.code, "severity": a.severity, "message": a.message } }));
                    } else {
                        println!("{:<8} {:<26} {}", a.severity, a.code, a.message);
                    }
                }
            }
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn programs(bus: &Bus, json_out: bool) -> Result<ExitCode> {
    let (list, problems, loading) = with_chair(bus, async |_, chair| {
        Ok((
            chair.list_programs().await?,
            chair.program_problems().await?,
            chair.programs_loading().await?,
        ))
    })?;
    if json_out {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        for p in list {
            println!(
                "{:<20} {:>3} min  {}",
                p.id,
                (p.duration_s + 30) / 60,
                p.name
            );
            println!("{:<20}          {}", "", p.description);
            println!("{:<20}          uses: {}", "", p.uses.join(", "));
        }
        if loading {
            println!("(more programs are still loading)");
        }
        for (file, reason) in &problems {
            println!("not loaded: {file}: {reason}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn start(
    bus: &Bus,
    program: &str,
    session: &crate::SessionArgs,
    contraindications_confirmed: bool,
    json_out: bool,
) -> Result<ExitCode> {
    let values = session.values()?;
    let id = with_chair(bus, async |_, chair| {
        let mut options: HashMap<&str, Variant<'_>> = HashMap::new();
        if let Some(i) = session.intensity {
            options.insert("intensity", Variant::from(i));
        }
        options.insert("heat", Variant::from(!session.no_heat));
        options.insert("bath", Variant::from(!session.no_bath));
        options.insert(
            "contraindications-confirmed",
            Variant::from(contraindications_confirmed),
        );
        for (k, v) in &values {
            let variant = match v {
                OptionValue::Bool(b) => Variant::from(*b),
                OptionValue::Int(i) => Variant::from(*i),
                OptionValue::Text(t) => Variant::from(t.as_str()),
            };
            options.insert(k.as_str(), variant);
        }
        chair.start_program(program, options).await
    })?;
    if json_out {
        println!("{}", json!({ "session_id": id }));
    } else {
        println!("session {id} started ({program})");
    }
    Ok(ExitCode::SUCCESS)
}

/// A method without result.
pub fn call(
    bus: &Bus,
    what: &str,
    f: impl AsyncFnOnce(&Chair1Proxy<'static>) -> zbus::Result<()>,
) -> Result<ExitCode> {
    with_chair(bus, async |_, chair| f(chair).await)?;
    println!("{what}");
    Ok(ExitCode::SUCCESS)
}

pub fn events(bus: &Bus, limit: u32, code: Option<&str>, json_out: bool) -> Result<ExitCode> {
    let prefix = code.unwrap_or_default().to_owned();
    let list = with_chair(bus, async |_, chair| {
        chair.recent_events(limit, &prefix).await
    })?;
    if json_out {
        let list: Vec<Value> = list
            .into_iter()
            .map(|e| {
                let data: Value = serde_json::from_str(&e.data).unwrap_or(Value::Null);
                json!({ "uid": e.uid, "at": tarsal_core::wallclock::UnixMillis(e.at_ms as i64).to_string(),
                        "session": (e.session >= 0).then_some(e.session), "code": e.code, "severity": e.severity,
                        "message": e.message, "advice": e.advice, "data": data })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else if list.is_empty() {
        println!("no events recorded");
    } else {
        for e in list {
            let session = if e.session >= 0 {
                e.session.to_string()
            } else {
                "-".into()
            };
            println!(
                "{}  {:<8}  session {:<4}  {:<28}  {}",
                tarsal_core::wallclock::UnixMillis(e.at_ms as i64),
                e.severity,
                session,
                e.code,
                e.message
            );
            if !e.advice.is_empty() {
                println!("{:>44}what to do: {}", "", e.advice);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn sanitation_log(bus: &Bus, limit: u32, csv: bool, json_out: bool) -> Result<ExitCode> {
    if csv {
        let text = with_chair(bus, async |_, chair| chair.export_sanitation_log().await)?;
        print!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    let rows = with_chair(bus, async |_, chair| chair.sanitation_log(limit).await)?;
    if json_out {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if rows.is_empty() {
        println!("no sanitize cycles logged");
    } else {
        for r in rows {
            println!(
                "{}  {:<12}  {:<10}  {:>5.1} min circulation  drained {}  initials {}{}",
                tarsal_core::wallclock::UnixMillis(r.at_ms as i64),
                r.cycle,
                if r.complete { "complete" } else { "INCOMPLETE" },
                r.circulation_minutes,
                if r.drained { "yes" } else { "no" },
                if r.initials.is_empty() {
                    "-".into()
                } else {
                    r.initials.join(" ")
                },
                if r.missing.is_empty() {
                    String::new()
                } else {
                    format!("  ({})", r.missing)
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn shown(map: &Map<String, Value>) -> String {
    let mut items: Vec<String> = map.iter().map(|(k, v)| format!("{k}={v}")).collect();
    items.sort();
    items.join(" ")
}

pub fn actuators(bus: &Bus, json_out: bool) -> Result<ExitCode> {
    let list = with_chair(bus, async |connection, _| read_actuators(connection).await)?;
    if json_out {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        for a in list {
            println!("{:<20} {}", a.id, a.name);
            println!("{:<20}   output   {}", "", shown(&a.output));
            if !a.readings.is_empty() {
                println!("{:<20}   readings {}", "", shown(&a.readings));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn service(bus: &Bus, action: &str) -> Result<ExitCode> {
    with_chair(bus, async |connection, _| {
        let service = ServiceProxy::new(connection).await?;
        match action {
            "enter" => service.enter_service_mode().await,
            "leave" => service.leave_service_mode().await,
            _ => service.all_off().await,
        }
    })?;
    println!("service mode: {action}");
    Ok(ExitCode::SUCCESS)
}

/// `service set ACTUATOR key=value …`.
pub fn service_set(bus: &Bus, actuator: &str, settings: &[String]) -> Result<ExitCode> {
    let mut values: Vec<(String, OptionValue)> = Vec::new();
    for pair in settings {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| anyhow!("{pair}: expected KEY=VALUE"))?;
        values.push((k.trim().to_owned(), OptionValue::parse_loose(v.trim())));
    }
    let path = format!("{ACTUATORS_PATH}/{}", actuator.replace('.', "_"));
    with_chair(bus, async |connection, _| {
        let a = ActuatorProxy::builder(connection)
            .path(path.clone())
            .build()
            .await?;
        let mut map: HashMap<&str, Variant<'_>> = HashMap::new();
        for (k, v) in &values {
            let variant = match v {
                OptionValue::Bool(b) => Variant::from(*b),
                // Numbers go as doubles: every numeric setting is one.
                OptionValue::Int(i) => Variant::from(*i as f64),
                OptionValue::Text(t) => match t.parse::<f64>() {
                    Ok(x) => Variant::from(x),
                    Err(_) => Variant::from(t.as_str()),
                },
            };
            map.insert(k.as_str(), variant);
        }
        a.set(map).await
    })?;
    println!("{actuator} set");
    Ok(ExitCode::SUCCESS)
}

pub fn simulator(bus: &Bus, action: SimAction) -> Result<ExitCode> {
    with_chair(bus, async |connection, _| {
        let sim = SimulatorProxy::new(connection).await?;
        match &action {
            SimAction::Inject(json) => sim.inject_fault(json).await,
            SimAction::Clear => sim.clear_faults().await,
            SimAction::Feet(on) => sim.set_feet_present(*on).await,
            SimAction::Button(pressed) => sim.set_emergency_button(*pressed).await,
        }
    })?;
    println!("done");
    Ok(ExitCode::SUCCESS)
}

pub enum SimAction {
    Inject(String),
    Clear,
    Feet(bool),
    Button(bool),
}
