//! A Slack-style interaction endpoint with the incident's bug and its fix, to try the replay on
//! (`examples/slack_app.rs` is a thin `main` over [`serve`]; tests run it in-process).
//!
//! - [`Mode::Buggy`]: answers 200 at once and hands the work to a queue whose delay varies
//!   (seeded), like the incident's Celery task; only then calls `views.open`, which is sometimes
//!   after the trigger expired.
//! - [`Mode::Fixed`]: calls `views.open` with a small loading modal at once, then the queued
//!   work calls `views.update` on that view.
//! - [`Mode::AckAfterOpen`]: the common Bolt pattern `client.views_open(...)` then `ack()`: opens
//!   the modal and only then acks, so a slow Web API makes the ack late.
//!
//! Requests must carry a valid Slack signature (401 otherwise). The Web API is called at
//! [`DemoConfig::api_url`] with the bot token, propagating the request's `traceparent`. With
//! [`DemoConfig::otlp_url`] (OTLP) or [`DemoConfig::sentry_dsn`] (Sentry envelopes) the app
//! also exports its own spans ([`telemetry`]) in that trace.
//! With [`DemoConfig::verify_token`] it checks its token with `auth.test` at start, as Bolt
//! does ([`verify`]), and interactions wait for that check.
//!
//! [`socket::connect`] runs the same app in Socket Mode instead: no HTTP endpoint; it opens a
//! WebSocket through `apps.connections.open` and acks each envelope at once.

pub mod local;
pub mod socket;
mod telemetry;
mod verify;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::payload::payload_of;
use super::signing::{self, Secret};
use super::traceparent::TraceParent;
use crate::model::{AttrValue, SpanKind};
use telemetry::{AppSpan, Exporter};
use verify::Verification;

/// Which version of the app runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Ack, queue, then `views.open` after the queue's delay (the incident).
    Buggy,
    /// `views.open` a loading modal at once, then `views.update` after the queue's delay (the fix).
    Fixed,
    /// `views.open` the modal, then ack (Bolt's `client.views_open(...)` then `ack()`): on time
    /// while the Web API answers quickly, late when it does not.
    AckAfterOpen,
}

/// How long the queue holds the work: mostly quick, sometimes backed up.
#[derive(Clone, Copy, Debug)]
pub struct Delays {
    /// The range of a quick pickup.
    pub fast: (Duration, Duration),
    /// The range of a pickup from a backed-up queue.
    pub slow: (Duration, Duration),
    /// How often, in percent, the queue is backed up.
    pub slow_percent: u32,
}

impl Delays {
    /// The incident's queue: 0.1–1.5 s usually, 3.4–4.5 s a third of the time. Both ranges stay
    /// well clear of the 3 s trigger expiry, so whether a run fails depends only on the seed.
    pub fn incident() -> Delays {
        Delays {
            fast: (Duration::from_millis(100), Duration::from_millis(1500)),
            slow: (Duration::from_millis(3400), Duration::from_millis(4500)),
            slow_percent: 35,
        }
    }

    /// Draws one delay.
    pub fn draw(&self, rng: &mut fastrand::Rng) -> Duration {
        let (lo, hi) = if rng.u32(0..100) < self.slow_percent { self.slow } else { self.fast };
        let span = hi.saturating_sub(lo).as_micros() as u64;
        lo + Duration::from_micros(rng.u64(0..=span))
    }
}

/// How the demo app runs.
#[derive(Clone, Debug)]
pub struct DemoConfig {
    /// Buggy or fixed.
    pub mode: Mode,
    /// Seeds the queue delays.
    pub seed: u64,
    /// The queue's delays.
    pub delays: Delays,
    /// Verifies incoming requests.
    pub signing_secret: Secret,
    /// Sent to the Web API.
    pub bot_token: Secret,
    /// The Web API's base URL, ending in `/` (`https://slack.com/api/`).
    pub api_url: String,
    /// Whether to log what it does to stderr.
    pub log: bool,
    /// Where to export the app's own spans (an OTLP/HTTP collector such as tracedeck's
    /// receiver, `http://127.0.0.1:4318`); requests without a `traceparent` are not traced.
    pub otlp_url: Option<String>,
    /// Call `auth.test` at start and retry it after this pause, doubling, while the Web API
    /// cannot be reached (like Bolt); interactions wait for it. `None`: no check.
    pub verify_token: Option<Duration>,
    /// A Sentry DSN to send the app's spans to as envelopes of transactions, as a Sentry SDK
    /// does (`http://public@127.0.0.1:8969/1`: tracedeck's Sentry receiver).
    pub sentry_dsn: Option<String>,
}

impl DemoConfig {
    /// The app in `mode` with seeded `delays`, checking requests with `signing_secret` and
    /// calling the Web API at `api_url` with `bot_token`: quiet, no telemetry, no token check.
    pub fn new(
        mode: Mode,
        seed: u64,
        delays: Delays,
        signing_secret: Secret,
        bot_token: Secret,
        api_url: String,
    ) -> Self {
        DemoConfig {
            mode,
            seed,
            delays,
            signing_secret,
            bot_token,
            api_url,
            log: false,
            otlp_url: None,
            verify_token: None,
            sentry_dsn: None,
        }
    }
}

struct App {
    config: DemoConfig,
    rng: Mutex<fastrand::Rng>,
    client: reqwest::Client,
    exporters: Vec<Exporter>,
    verification: Option<Verification>,
}

/// Serves the app on `listener` until `shutdown` is cancelled.
pub async fn serve(listener: TcpListener, config: DemoConfig, shutdown: CancellationToken) -> std::io::Result<()> {
    let app = App::new(config)?;
    let router = Router::new().fallback(interaction).with_state(app);
    let limits = crate::serve::Limits::new(BODY_LIMIT);
    crate::serve::serve(listener, router, limits, shutdown.cancelled_owned()).await;
    Ok(())
}

/// The largest request body the app reads (axum's default; Slack's payloads are far smaller).
const BODY_LIMIT: usize = 2 * 1024 * 1024;

impl App {
    fn new(config: DemoConfig) -> std::io::Result<Arc<App>> {
        let client = super::http_client()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| std::io::Error::other(format!("cannot make an HTTP client: {e}")))?;
        let mut exporters: Vec<Exporter> =
            config.otlp_url.as_deref().map(|url| Exporter::new(client.clone(), url)).into_iter().collect();
        if let Some(dsn) = &config.sentry_dsn {
            exporters.push(Exporter::sentry(client.clone(), dsn).map_err(std::io::Error::other)?);
        }
        let verification = config.verify_token.map(|pause| {
            let logging = config.log;
            let log = move |message: std::fmt::Arguments| {
                if logging {
                    log_line(message);
                }
            };
            let token = config.bot_token.expose().to_owned();
            Verification::start(client.clone(), config.api_url.clone(), token, pause, log)
        });
        let rng = Mutex::new(fastrand::Rng::with_seed(config.seed));
        Ok(Arc::new(App { rng, config, client, exporters, verification }))
    }

    fn log(&self, message: std::fmt::Arguments) {
        if self.config.log {
            log_line(message);
        }
    }

    fn next_delay(&self) -> Duration {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        self.config.delays.draw(&mut rng)
    }

    /// Calls a Web API method with a JSON body; returns the reply, or an error code. When the
    /// request is traced (`parent`), the call is a client span under it, recorded in `spans`.
    async fn call(
        &self,
        method: &str,
        args: Value,
        parent: Option<TraceParent>,
        spans: &mut Vec<AppSpan>,
    ) -> Result<Value, String> {
        let start = telemetry::now();
        let id = telemetry::new_span_id();
        let mut request = self
            .client
            .post(format!("{}{method}", self.config.api_url))
            .bearer_auth(self.config.bot_token.expose())
            .header("content-type", "application/json; charset=utf-8")
            .body(args.to_string());
        if let Some(parent) = parent {
            request = request.header("traceparent", parent.child(id).to_string());
        }
        let result = match request.send().await {
            Ok(response) => match response.bytes().await {
                Ok(bytes) => serde_json::from_slice::<Value>(&bytes).map_err(|e| format!("the reply is not JSON: {e}")),
                Err(e) => Err(format!("unreadable reply: {e}")),
            },
            Err(e) => Err(format!("request failed: {e}")),
        }
        .and_then(|reply| match reply.get("ok").and_then(Value::as_bool) {
            Some(true) => Ok(reply),
            _ => Err(reply.get("error").and_then(Value::as_str).unwrap_or("no ok in reply").to_owned()),
        });
        if let Some(parent) = parent {
            spans.push(AppSpan {
                id,
                parent: parent.span_id,
                name: method.to_owned(),
                kind: SpanKind::Client,
                start,
                end: telemetry::now(),
                error: result.as_ref().err().cloned(),
                attrs: Vec::new(),
            });
        }
        result
    }

    /// Sends the spans of one piece of work to the collector and the DSN the app has, if any.
    async fn export(&self, parent: Option<TraceParent>, spans: &[AppSpan]) {
        let Some(parent) = parent.filter(|_| !spans.is_empty()) else { return };
        for exporter in &self.exporters {
            if let Err(e) = exporter.export(parent.trace_id, spans).await {
                self.log(format_args!("{e}"));
            }
        }
    }
}

fn log_line(message: std::fmt::Arguments) {
    eprintln!("[slack_app {}] {}", jiff::Timestamp::now().strftime("%H:%M:%S%.3fZ"), message);
}

fn modal(title: &str, text: &str) -> Value {
    json!({
        "type": "modal",
        "callback_id": "incident_action",
        "title": {"type": "plain_text", "text": title},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    })
}

async fn interaction(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> (StatusCode, &'static str) {
    let received = telemetry::now();
    if let Some(verification) = &app.verification
        && let Err(e) = verification.done().await
    {
        app.log(format_args!("500: the bot token could not be verified: {e}"));
        return (StatusCode::INTERNAL_SERVER_ERROR, "the bot token could not be verified");
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    // The app's server span continues the caller's trace (W3C's header, else Sentry's); its own
    // work hangs under it.
    let inbound = header("traceparent")
        .and_then(TraceParent::parse)
        .or_else(|| header("sentry-trace").and_then(TraceParent::from_sentry_trace));
    let request = inbound.map(|parent| parent.child(telemetry::new_span_id()));
    let (status, answer, work) = handle(&app, &headers, &body, request);
    match (work, app.config.mode) {
        (Some(work), Mode::AckAfterOpen) => work.run().await,
        (Some(work), _) => drop(tokio::spawn(work.run())),
        (None, _) => {}
    }
    if let (Some(inbound), Some(request)) = (inbound, request) {
        let spans = vec![AppSpan {
            id: request.span_id,
            parent: inbound.span_id,
            name: "POST /slack/interactions".into(),
            kind: SpanKind::Server,
            start: received,
            end: telemetry::now(),
            error: (!status.is_success()).then(|| answer.to_owned()),
            attrs: vec![("http.response.status_code", AttrValue::Int(i64::from(status.as_u16())))],
        }];
        let app = app.clone();
        tokio::spawn(async move { app.export(Some(request), &spans).await });
    }
    (status, answer)
}

/// Verifies the interaction and says how to answer it and what work it asks for; `request` is
/// the server span's context when the request is traced.
fn handle(
    app: &Arc<App>,
    headers: &HeaderMap,
    body: &Bytes,
    request: Option<TraceParent>,
) -> (StatusCode, &'static str, Option<QueuedWork>) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let checked = signing::verify(
        &app.config.signing_secret,
        header(signing::TIMESTAMP_HEADER),
        header(signing::SIGNATURE_HEADER),
        body,
        signing::unix_now(),
    );
    if let Err(e) = checked {
        app.log(format_args!("401: {e}"));
        return (StatusCode::UNAUTHORIZED, "invalid signature", None);
    }
    let payload = match payload_of(body).and_then(|p| serde_json::from_str::<Value>(&p).ok()) {
        Some(payload) => payload,
        // A slash command's flat form fields, as the object Socket Mode would send.
        None if form_urlencoded::parse(body).any(|(k, _)| k == "command") => Value::Object(
            form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), Value::from(v.into_owned()))).collect(),
        ),
        None => {
            app.log(format_args!("400: not an interaction"));
            return (StatusCode::BAD_REQUEST, "not an interaction", None);
        }
    };
    (StatusCode::OK, "", dispatch(app, &payload, request))
}

/// The work an interaction asks for (`payload` as Slack sends it, or a slash command's fields),
/// none when it carries no trigger id; `request` is the server span's context when traced. In
/// [`Mode::AckAfterOpen`] it runs before the ack, otherwise after it.
fn dispatch(app: &Arc<App>, payload: &Value, request: Option<TraceParent>) -> Option<QueuedWork> {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_owned();
    let (kind, trigger_id, action) = match payload.get("command") {
        Some(command) => ("slash_command".to_owned(), text(payload.get("trigger_id")), text(Some(command))),
        None => {
            let action = text(payload.pointer("/actions/0/action_id"));
            let action = if action.is_empty() { text(payload.get("callback_id")) } else { action };
            (text(payload.get("type")), text(payload.get("trigger_id")), action)
        }
    };
    if trigger_id.is_empty() {
        app.log(format_args!("{kind} {action}: no trigger_id, nothing to open"));
        return None;
    }
    let title = match action.as_str() {
        a if a.contains("archive") => "Archive incident",
        a if a.contains("resolve") => "Resolve incident",
        _ => "Incident",
    };
    let mode = app.config.mode;
    if mode == Mode::AckAfterOpen {
        app.log(format_args!("{kind} {action}: views.open first, then ack ({mode:?})"));
        return Some(QueuedWork { app: app.clone(), request, trigger_id, action, title, delay: Duration::ZERO });
    }
    let delay = app.next_delay();
    app.log(format_args!("{kind} {action}: ack; the queued task runs in {} ms ({mode:?})", delay.as_millis()));
    Some(QueuedWork { app: app.clone(), request, trigger_id, action, title, delay })
}

/// The work of an interaction: what the incident's Celery task did after the ack (or, in
/// [`Mode::AckAfterOpen`], the `views.open` before it).
struct QueuedWork {
    app: Arc<App>,
    /// The server span's context, when traced.
    request: Option<TraceParent>,
    trigger_id: String,
    action: String,
    title: &'static str,
    delay: Duration,
}

impl QueuedWork {
    async fn run(self) {
        let QueuedWork { app, request, trigger_id, action, title, delay } = self;
        let mut spans = Vec::new();
        // The fix opens the loading modal from the front process, before queueing.
        let loading = match app.config.mode {
            Mode::Buggy => None,
            Mode::AckAfterOpen => {
                let args = json!({"trigger_id": trigger_id, "view": modal(title, "Fill in the details below.")});
                match app.call("views.open", args, request, &mut spans).await {
                    Ok(_) => app.log(format_args!("{action}: views.open ok; ack")),
                    Err(e) => app.log(format_args!("{action}: views.open failed: {e}; ack")),
                }
                app.export(request, &spans).await;
                return;
            }
            Mode::Fixed => {
                let view = modal(title, "Loading…");
                let args = json!({"trigger_id": trigger_id, "view": view});
                match app.call("views.open", args, request, &mut spans).await {
                    Ok(reply) => {
                        app.log(format_args!("{action}: views.open (loading) ok"));
                        Some(reply)
                    }
                    Err(e) => {
                        app.log(format_args!("{action}: views.open (loading) failed: {e}"));
                        app.export(request, &spans).await;
                        return;
                    }
                }
            }
        };
        let task_start = telemetry::now();
        let task = request.map(|r| r.child(telemetry::new_span_id()));
        tokio::time::sleep(delay).await;
        let view = modal(title, "Fill in the details below.");
        let (method, args) = match &loading {
            None => ("views.open", json!({"trigger_id": trigger_id, "view": view})),
            Some(opened) => {
                ("views.update", json!({"view_id": opened["view"]["id"], "hash": opened["view"]["hash"], "view": view}))
            }
        };
        let result = app.call(method, args, task, &mut spans).await;
        match &result {
            Ok(_) => app.log(format_args!("{action}: {method} ok")),
            Err(e) => app.log(format_args!("{action}: {method} failed: {e}")),
        }
        if let (Some(request), Some(task)) = (request, task) {
            spans.push(AppSpan {
                id: task.span_id,
                parent: request.span_id,
                name: "celery.task process_interaction".into(),
                kind: SpanKind::Consumer,
                start: task_start,
                end: telemetry::now(),
                error: result.err(),
                attrs: vec![("messaging.delay_ms", AttrValue::Int(delay.as_millis() as i64))],
            });
        }
        app.export(request, &spans).await;
    }
}
