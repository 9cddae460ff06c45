//! The panel's HTTP API: what the page calls. Every chair action is one
//! D-Bus call to `tarsald`; its refusals come back as JSON errors named as on
//! D-Bus (`{"error": "FaultLatched", "message": "…"}`), which the page
//! translates.

use crate::live::{ChairEvent, Snapshot};
use crate::pin::{PinError, PinGate};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;
use tarsal_dbus::client::{Chair1Proxy, ServiceProxy, SimulatorProxy, error_name, read_actuators};
use tokio::sync::{broadcast, watch};
use zbus::Variant;

/// The header that carries the unlock token of the staff PIN.
pub const TOKEN_HEADER: &str = "x-panel-token";

#[derive(Clone)]
pub struct Panel {
    pub link: watch::Receiver<Snapshot>,
    pub events: broadcast::Sender<ChairEvent>,
    pub connection: watch::Receiver<Option<zbus::Connection>>,
    pub pin: Arc<PinGate>,
    /// Who may drive the chair through the panel.
    pub guard: Arc<crate::guard::Guard>,
    /// Open live streams (pages).
    pub live_streams: crate::limits::StreamCount,
    /// The language the panel starts in (`en`, `vi`).
    pub language: String,
}

pub fn router(panel: Panel) -> Router {
    let guard = Arc::clone(&panel.guard);
    Router::new()
        .merge(crate::assets::routes())
        .route("/api/panel", get(panel_info))
        .route("/api/state", get(state))
        .route("/api/live", get(live))
        .route("/api/programs", get(programs))
        .route("/api/start", post(start))
        .route(
            "/api/pause",
            post(async |p: State<Panel>| act(p, Verb::Pause).await),
        )
        .route(
            "/api/resume",
            post(async |p: State<Panel>| act(p, Verb::Resume).await),
        )
        .route(
            "/api/stop",
            post(async |p: State<Panel>| act(p, Verb::Stop).await),
        )
        .route(
            "/api/estop",
            post(async |p: State<Panel>| act(p, Verb::EmergencyStop).await),
        )
        .route(
            "/api/reset",
            post(async |p: State<Panel>| act(p, Verb::Reset).await),
        )
        .route("/api/intensity", post(intensity))
        .route("/api/heat", post(heat))
        .route("/api/confirm", post(confirm))
        .route("/api/bath/fill", post(fill))
        .route(
            "/api/bath/drain",
            post(async |p: State<Panel>| act(p, Verb::Drain).await),
        )
        .route(
            "/api/bath/stop",
            post(async |p: State<Panel>| act(p, Verb::StopBath).await),
        )
        .route("/api/sanitation-log", get(sanitation_log))
        .route("/api/sanitation-log.csv", get(sanitation_csv))
        .route("/api/unlock", post(unlock))
        .route("/api/lock", post(lock))
        .route("/api/service/events", get(service_events))
        .route("/api/service/actuators", get(service_actuators))
        .route("/api/service/mode", post(service_mode))
        .route("/api/service/all-off", post(service_all_off))
        .route("/api/service/simulator", get(simulator))
        .route("/api/service/simulator/feet", post(simulator_feet))
        .route("/api/ticket", post(ticket))
        .route("/api/{*path}", get(not_found).post(not_found))
        .with_state(panel)
        .layer(axum::middleware::from_fn_with_state(
            guard,
            crate::guard::check,
        ))
}

/// A one-time link for whoever shows the panel key (`tarsal-panel ticket`).
async fn ticket(State(panel): State<Panel>, headers: HeaderMap) -> ApiResult {
    let key = headers
        .get(crate::guard::KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match panel.guard.issue_ticket(key, Instant::now()) {
        Some(ticket) => Ok(Json(json!({
            "ticket": ticket,
            "path": format!("/?ticket={ticket}"),
            "expires_s": crate::guard::TICKET_LIFETIME.as_secs(),
        }))),
        None => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "KeyRequired",
            "a ticket needs the panel key (and a panel started with --key-file)",
        )),
    }
}

/// An error the page can show: a status, a code it translates, a message.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.code, "message": self.message });
        (self.status, Json(body)).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        Self::bad_request(r.body_text())
    }
}

impl From<zbus::Error> for ApiError {
    fn from(e: zbus::Error) -> Self {
        if crate::live::timed_out(&e) {
            return Self::new(
                StatusCode::GATEWAY_TIMEOUT,
                "NotResponding",
                "the chair is not answering; if the client is in danger, press the red emergency-stop button on the chair",
            );
        }
        let (name, message) = error_name(&e).unwrap_or_else(|| (String::new(), e.to_string()));
        if let Some(code) = name.strip_prefix("org.tarsal.Chair1.Error.") {
            return Self::new(StatusCode::CONFLICT, code, message);
        }
        match name.as_str() {
            "org.freedesktop.DBus.Error.AccessDenied" => Self::new(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                format!("the bus policy does not let the panel do this: {message}"),
            ),
            "org.freedesktop.DBus.Error.InvalidArgs" => Self::bad_request(message),
            _ => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Unreachable",
                format!("the chair service does not answer: {message}"),
            ),
        }
    }
}

impl From<PinError> for ApiError {
    fn from(e: PinError) -> Self {
        let message = e.to_string();
        match e {
            PinError::NotConfigured => {
                Self::new(StatusCode::FORBIDDEN, "PinNotConfigured", message)
            }
            PinError::Wrong { attempts_left } => Self {
                status: StatusCode::UNAUTHORIZED,
                code: "PinWrong".into(),
                message: match attempts_left {
                    1 => format!("{message}; 1 try left before the keypad locks"),
                    n => format!("{message}; {n} tries left before the keypad locks"),
                },
            },
            PinError::LockedOut { .. } => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, "PinLockedOut", message)
            }
            PinError::Locked => Self::new(StatusCode::UNAUTHORIZED, "PinRequired", message),
        }
    }
}

type ApiResult<T = Json<Value>> = Result<T, ApiError>;

fn done() -> ApiResult {
    Ok(Json(json!({ "ok": true })))
}

impl Panel {
    fn connection(&self) -> Result<zbus::Connection, ApiError> {
        self.connection.borrow().clone().ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Unreachable",
                self.link.borrow().link.problem.clone(),
            )
        })
    }

    async fn chair(&self) -> Result<Chair1Proxy<'static>, ApiError> {
        Ok(Chair1Proxy::builder(&self.connection()?)
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await?)
    }

    fn unlocked(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let token = headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok());
        Ok(self.pin.check(token, Instant::now())?)
    }
}

async fn panel_info(State(panel): State<Panel>) -> Json<Value> {
    Json(json!({
        "language": panel.language,
        "languages": crate::assets::LANGUAGES,
        "pin_configured": panel.pin.configured(),
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

async fn state(State(panel): State<Panel>) -> Response {
    let json = Arc::clone(&panel.link.borrow().json);
    (
        [(header::CONTENT_TYPE, "application/json")],
        json.to_string(),
    )
        .into_response()
}

/// Server-sent events: `state` (the whole chair, on every change) and
/// `event` (each chair event as it happens).
async fn live(
    State(panel): State<Panel>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let place = panel.live_streams.take().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "TooManyPages",
            format!(
                "{} pages already follow the chair; close one",
                crate::limits::LIVE_STREAMS_MAX
            ),
        )
    })?;
    // The current state at once, then each change; the stream holds its
    // place for as long as it is open.
    let states = futures_util::stream::unfold(
        (panel.link.clone(), true, place),
        async |(mut link, first, place)| {
            if !first {
                link.changed().await.ok()?;
            }
            let json = Arc::clone(&link.borrow_and_update().json);
            let event = Event::default().event("state").data(&*json);
            Some((event, (link, false, place)))
        },
    );
    let events = futures_util::stream::unfold(panel.events.subscribe(), async |mut rx| {
        loop {
            match rx.recv().await {
                Ok(e) => {
                    let data = serde_json::to_string(&e).unwrap_or_default();
                    return Some((Event::default().event("event").data(data), rx));
                }
                // A slow page misses events, never the state.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let stream = futures_util::stream::select(states, events).map(Ok);
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Every program with everything the page shows: the `DescribeProgram`
/// document (options, contraindications, steps, translations).
async fn programs(State(panel): State<Panel>) -> ApiResult {
    let chair = panel.chair().await?;
    let mut out = Vec::new();
    for summary in chair.list_programs().await? {
        let text = chair.describe_program(&summary.id).await?;
        let detail: Value = serde_json::from_str(&text).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "Failed",
                format!("the service described `{}` in bad JSON: {e}", summary.id),
            )
        })?;
        out.push(detail);
    }
    Ok(Json(Value::Array(out)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartRequest {
    program: String,
    #[serde(default)]
    intensity: Option<u8>,
    #[serde(default)]
    heat: Option<bool>,
    #[serde(default)]
    bath: Option<bool>,
    #[serde(default)]
    options: serde_json::Map<String, Value>,
    #[serde(default)]
    contraindications_confirmed: bool,
}

async fn start(
    State(panel): State<Panel>,
    body: Result<Json<StartRequest>, JsonRejection>,
) -> ApiResult {
    let Json(request) = body?;
    let mut options: HashMap<&str, Variant<'_>> = HashMap::new();
    if let Some(level) = request.intensity {
        options.insert("intensity", Variant::from(level));
    }
    if let Some(on) = request.heat {
        options.insert("heat", Variant::from(on));
    }
    if let Some(on) = request.bath {
        options.insert("bath", Variant::from(on));
    }
    options.insert(
        "contraindications-confirmed",
        Variant::from(request.contraindications_confirmed),
    );
    for (key, value) in &request.options {
        options.insert(key.as_str(), option_variant(key, value)?);
    }
    let session = panel
        .chair()
        .await?
        .start_program(&request.program, options)
        .await?;
    Ok(Json(json!({ "ok": true, "session": session })))
}

/// A program option from JSON: true/false, a whole number, or text.
fn option_variant<'a>(key: &str, value: &'a Value) -> Result<Variant<'a>, ApiError> {
    match value {
        Value::Bool(b) => Ok(Variant::from(*b)),
        Value::Number(n) if n.is_i64() => Ok(Variant::from(n.as_i64().unwrap_or_default())),
        Value::String(s) => Ok(Variant::from(s.as_str())),
        other => Err(ApiError::bad_request(format!(
            "option `{key}`: {other} is not true/false, a whole number or text"
        ))),
    }
}

enum Verb {
    Pause,
    Resume,
    Stop,
    EmergencyStop,
    Reset,
    Drain,
    StopBath,
}

async fn act(State(panel): State<Panel>, verb: Verb) -> ApiResult {
    let chair = panel.chair().await?;
    match verb {
        Verb::Pause => chair.pause().await?,
        Verb::Resume => chair.resume().await?,
        Verb::Stop => chair.stop().await?,
        Verb::EmergencyStop => chair.emergency_stop().await?,
        Verb::Reset => chair.reset_fault().await?,
        Verb::Drain => chair.drain_bath().await?,
        Verb::StopBath => chair.stop_bath().await?,
    }
    done()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LevelRequest {
    level: u8,
}

async fn intensity(
    State(panel): State<Panel>,
    body: Result<Json<LevelRequest>, JsonRejection>,
) -> ApiResult {
    let Json(request) = body?;
    panel.chair().await?.set_intensity(request.level).await?;
    done()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SwitchRequest {
    on: bool,
}

async fn heat(
    State(panel): State<Panel>,
    body: Result<Json<SwitchRequest>, JsonRejection>,
) -> ApiResult {
    let Json(request) = body?;
    panel.chair().await?.set_heat(request.on).await?;
    done()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmRequest {
    #[serde(default)]
    initials: String,
}

async fn confirm(
    State(panel): State<Panel>,
    body: Result<Json<ConfirmRequest>, JsonRejection>,
) -> ApiResult {
    let Json(request) = body?;
    panel
        .chair()
        .await?
        .confirm_staff_step(request.initials.trim())
        .await?;
    done()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FillRequest {
    litres: f64,
}

async fn fill(
    State(panel): State<Panel>,
    body: Result<Json<FillRequest>, JsonRejection>,
) -> ApiResult {
    let Json(request) = body?;
    panel.chair().await?.fill_bath(request.litres).await?;
    done()
}

#[derive(Deserialize)]
struct Limit {
    limit: Option<u32>,
}

async fn sanitation_log(State(panel): State<Panel>, Query(q): Query<Limit>) -> ApiResult {
    let rows = panel
        .chair()
        .await?
        .sanitation_log(q.limit.unwrap_or(50).min(1000))
        .await?;
    Ok(Json(json!(rows)))
}

async fn sanitation_csv(State(panel): State<Panel>) -> Result<Response, ApiError> {
    let csv = panel.chair().await?.export_sanitation_log().await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"sanitation-log.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnlockRequest {
    pin: String,
}

async fn unlock(
    State(panel): State<Panel>,
    body: Result<Json<UnlockRequest>, JsonRejection>,
) -> ApiResult {
    let Json(request) = body?;
    let token = panel.pin.unlock(&request.pin, Instant::now())?;
    Ok(Json(json!({
        "token": token,
        "idle_limit_s": crate::pin::UNLOCK_IDLE_LIMIT.as_secs(),
    })))
}

async fn lock(State(panel): State<Panel>) -> ApiResult {
    panel.pin.lock();
    done()
}

async fn service_events(
    State(panel): State<Panel>,
    headers: HeaderMap,
    Query(q): Query<Limit>,
) -> ApiResult {
    panel.unlocked(&headers)?;
    let rows = panel
        .chair()
        .await?
        .recent_events(q.limit.unwrap_or(100).min(1000), "")
        .await?;
    Ok(Json(json!(rows)))
}

async fn service_actuators(State(panel): State<Panel>, headers: HeaderMap) -> ApiResult {
    panel.unlocked(&headers)?;
    let list = read_actuators(&panel.connection()?).await?;
    Ok(Json(json!(list)))
}

async fn service_mode(
    State(panel): State<Panel>,
    headers: HeaderMap,
    body: Result<Json<SwitchRequest>, JsonRejection>,
) -> ApiResult {
    panel.unlocked(&headers)?;
    let Json(request) = body?;
    let service = ServiceProxy::new(&panel.connection()?).await?;
    if request.on {
        service.enter_service_mode().await?;
    } else {
        service.leave_service_mode().await?;
    }
    done()
}

async fn service_all_off(State(panel): State<Panel>, headers: HeaderMap) -> ApiResult {
    panel.unlocked(&headers)?;
    ServiceProxy::new(&panel.connection()?)
        .await?
        .all_off()
        .await?;
    done()
}

/// Whether the chair is simulated (it serves the simulator interface).
async fn simulator(State(panel): State<Panel>, headers: HeaderMap) -> ApiResult {
    panel.unlocked(&headers)?;
    let proxy = SimulatorProxy::builder(&panel.connection()?)
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await?;
    let simulated = proxy.injected_faults().await.is_ok();
    Ok(Json(json!({ "simulated": simulated })))
}

/// On a simulated chair (demos, training), feet on or off the footrest: the
/// sanitize cycle runs only with nobody in the chair.
async fn simulator_feet(
    State(panel): State<Panel>,
    headers: HeaderMap,
    body: Result<Json<SwitchRequest>, JsonRejection>,
) -> ApiResult {
    panel.unlocked(&headers)?;
    let Json(request) = body?;
    SimulatorProxy::new(&panel.connection()?)
        .await?
        .set_feet_present(request.on)
        .await?;
    done()
}

/// Unknown paths under /api get a JSON error, not the page.
pub async fn not_found(Path(path): Path<String>) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("there is no /api/{path}"),
    )
}
