//! A mock of Slack's Web API on loopback, for the app under test to call instead of
//! `https://slack.com/api/`: `views.open`, `views.push`, `views.update`, `chat.postMessage`,
//! `chat.update`, `chat.postEphemeral`, `auth.test`, and the response URLs it hands out.
//!
//! It speaks like Slack (HTTP 200 with `{"ok":false,"error":...}`, 429 with a small
//! `Retry-After`), enforces the rules that matter for the 3-second story (a trigger id lives
//! [`MockConfig::trigger_ttl`] and is single use; `views.update` needs a view it issued; the
//! bearer token must be the app's), records every call with its arrival time, and stops when
//! its [`CancellationToken`] is cancelled. Every answer, refusals of slow or oversized
//! requests included ([`crate::serve`]), is Slack's JSON. It also serves Socket Mode
//! ([`super::socket_mode`]): `apps.connections.open` and the WebSocket its URLs point to, on the
//! same address.

mod args;
mod rules;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::latency::{ApiLatency, Draws};
use super::signing::Secret;
use super::socket_mode::{self, SocketHub};
use crate::serve::Limits;
use args::Args;
use rules::{Decision, State};

/// Which replay a call belongs to (the mock numbers replays from 1).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, serde::Serialize)]
pub struct RunId(pub u64);

/// How the mock behaves.
#[derive(Clone, Debug)]
pub struct MockConfig {
    /// The bot token the app must send (`Authorization: Bearer` or `token`).
    pub token: Secret,
    /// How long a minted trigger id stays usable (Slack: 3 s).
    pub trigger_ttl: Duration,
    /// Extra time before answering, by method name (`views.open`; `response_url` for response
    /// URLs); the trigger rules still judge a call when it arrives. Changed while the mock runs
    /// with [`MockSlack::set_latency`].
    pub latency: ApiLatency,
    /// Seeds the latencies drawn from ranges, in the order calls arrive.
    pub seed: u64,
    /// The first N calls of these methods are answered 429 `ratelimited` with `Retry-After: 1`.
    pub rate_limited: HashMap<String, u32>,
    /// Timeouts and sizes for the app's requests.
    pub limits: Limits,
    /// The app-level token (`xapp-...`) `apps.connections.open` takes, for Socket Mode.
    pub app_token: Option<Secret>,
}

/// The largest request body the mock reads (axum's default; Slack's own limits are smaller).
pub const MAX_BODY: usize = 2 * 1024 * 1024;

impl MockConfig {
    /// Slack's rules, no injected latency or rate limits, [`Limits::new`] with Slack's JSON for
    /// refusals.
    pub fn new(token: Secret) -> Self {
        MockConfig {
            token,
            trigger_ttl: super::TRIGGER_TTL,
            latency: ApiLatency::none(),
            seed: super::latency::DEFAULT_SEED,
            rate_limited: HashMap::new(),
            limits: Limits { refuse: slack_refusal, ..Limits::new(MAX_BODY) },
            app_token: None,
        }
    }
}

/// A refusal as Slack words errors: `{"ok": false, "error": ...}` with a code for the status
/// and the sentence in `response_metadata.messages`.
fn slack_refusal(status: StatusCode, message: &str) -> Response {
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "request_too_large",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "unknown_method",
        _ => "invalid_request",
    };
    let body = json!({"ok": false, "error": code, "response_metadata": {"messages": [format!("[ERROR] {message}")]}});
    (status, axum::Json(body)).into_response()
}

/// One call the app made, as the mock saw it.
#[derive(Clone, Debug)]
pub struct ApiCall {
    /// The Web API method (`views.open`), or `response_url`.
    pub method: String,
    /// When the request arrived.
    pub arrived: Instant,
    /// When the answer left (after any injected latency).
    pub answered: Instant,
    /// The latency injected before answering (`--api-latency`).
    pub injected: Duration,
    /// HTTP status of the answer.
    pub http_status: u16,
    /// Whether the answer said `ok`.
    pub ok: bool,
    /// Slack's error code when not ok.
    pub error: Option<String>,
    /// The replay it belongs to, when the mock could tell.
    pub run: Option<RunId>,
    /// The trigger id it tried to use.
    pub trigger_id: Option<String>,
    /// The view it opened or updated.
    pub view_id: Option<String>,
    /// Its `traceparent` header.
    pub traceparent: Option<String>,
    /// The arguments, with any token hidden.
    pub request: String,
    /// The answer's body.
    pub response: String,
}

/// What the mock answers.
pub(crate) struct Answer {
    status: StatusCode,
    body: Value,
    retry_after: bool,
}

impl Answer {
    fn ok(mut body: Value) -> Answer {
        body["ok"] = Value::Bool(true);
        Answer { status: StatusCode::OK, body, retry_after: false }
    }

    fn error(code: &str) -> Answer {
        Answer { status: StatusCode::OK, body: json!({"ok": false, "error": code}), retry_after: false }
    }

    fn invalid_arguments(message: &str) -> Answer {
        let body = json!({"ok": false, "error": "invalid_arguments", "response_metadata": {"messages": [format!("[ERROR] {message}")]}});
        Answer { status: StatusCode::OK, body, retry_after: false }
    }

    fn rate_limited() -> Answer {
        Answer {
            status: StatusCode::TOO_MANY_REQUESTS,
            body: json!({"ok": false, "error": "ratelimited"}),
            retry_after: true,
        }
    }

    fn http(status: u16, code: &str) -> Answer {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        Answer { status, body: json!({"ok": false, "error": code}), retry_after: false }
    }

    fn error_code(&self) -> Option<String> {
        self.body.get("error").and_then(Value::as_str).map(str::to_owned)
    }
}

struct Shared {
    config: MockConfig,
    /// The token the app must send: `config.token` until [`MockSlack::set_token`] changes it.
    token: Mutex<Secret>,
    state: Mutex<State>,
    /// The injected latency, drawn per call.
    draws: Mutex<Draws>,
    calls: Mutex<Vec<ApiCall>>,
    changes: watch::Sender<u64>,
    base: String,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn calls(&self) -> MutexGuard<'_, Vec<ApiCall>> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A fresh trigger and response URL for one replay.
#[derive(Clone, Debug)]
pub struct Minted {
    /// The replay's id.
    pub run: RunId,
    /// The trigger id to put in the payload.
    pub trigger_id: String,
    /// The response URL to put in the payload.
    pub response_url: String,
}

/// A running mock. Stops when its token is cancelled or [`MockSlack::stop`] is called.
pub struct MockSlack {
    addr: SocketAddr,
    shared: Arc<Shared>,
    socket: Arc<SocketHub>,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl MockSlack {
    /// Binds `addr` (port 0 picks one) and serves until `cancel` is cancelled.
    pub async fn start(addr: SocketAddr, config: MockConfig, cancel: CancellationToken) -> std::io::Result<MockSlack> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let socket = Arc::new(SocketHub::new(config.app_token.clone(), format!("ws://{addr}")));
        let shared = Arc::new(Shared {
            token: Mutex::new(config.token.clone()),
            draws: Mutex::new(Draws::new(config.latency.clone(), config.seed)),
            config,
            state: Mutex::new(State::default()),
            calls: Mutex::new(Vec::new()),
            changes: watch::channel(0).0,
            base: format!("http://{addr}"),
        });
        let router = Router::new()
            .route("/api/{method}", any(api))
            .route("/response/{id}", post(response_url))
            .fallback(|| async { slack_refusal(StatusCode::NOT_FOUND, "no such method or URL") })
            .method_not_allowed_fallback(|| async {
                slack_refusal(StatusCode::METHOD_NOT_ALLOWED, "response URLs take POST requests")
            })
            .with_state(shared.clone())
            .merge(socket_mode::server::routes(socket.clone(), cancel.clone()));
        let limits = shared.config.limits;
        let task = tokio::spawn(crate::serve::serve(listener, router, limits, cancel.clone().cancelled_owned()));
        Ok(MockSlack { addr, shared, socket, cancel, task })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to give the app's Slack client: `http://127.0.0.1:PORT/api/`.
    pub fn api_url(&self) -> String {
        format!("{}/api/", self.shared.base)
    }

    /// Changes the bot token the app must send (a window's mock outlives the token typed in it).
    pub fn set_token(&self, token: Secret) {
        *self.shared.token.lock().unwrap_or_else(|e| e.into_inner()) = token;
    }

    /// Its Socket Mode side: `apps.connections.open`, the WebSocket connections, envelopes.
    pub fn socket_mode(&self) -> &Arc<SocketHub> {
        &self.socket
    }

    /// Changes the latency injected before answering each call from now on, its ranges drawn
    /// from a generator seeded with `seed`.
    pub fn set_latency(&self, latency: ApiLatency, seed: u64) {
        *self.shared.draws.lock().unwrap_or_else(|e| e.into_inner()) = Draws::new(latency, seed);
    }

    /// The latency injected now.
    pub fn latency(&self) -> ApiLatency {
        self.shared.draws.lock().unwrap_or_else(|e| e.into_inner()).latency().clone()
    }

    /// The trigger lifetime it enforces.
    pub fn trigger_ttl(&self) -> Duration {
        self.shared.config.trigger_ttl
    }

    /// Starts a replay: a fresh trigger id (usable from `issued` for the trigger lifetime) and
    /// response URL. Calls carrying `trace_id` in their `traceparent` are attributed to it.
    pub fn begin_run(&self, trace_id: u128, issued: Instant) -> Minted {
        let (run, trigger_id, id) = self.shared.state().begin_run(trace_id, issued);
        Minted { run, trigger_id, response_url: format!("{}/response/{id}", self.shared.base) }
    }

    /// Ends a replay: later calls without a `traceparent` are no longer attributed to it.
    pub fn end_run(&self, run: RunId) {
        self.shared.state().end_run(run);
    }

    /// The calls attributed to a replay, in arrival order.
    pub fn calls(&self, run: RunId) -> Vec<ApiCall> {
        self.shared.calls().iter().filter(|c| c.run == Some(run)).cloned().collect()
    }

    /// Every call recorded, in arrival order.
    pub fn all_calls(&self) -> Vec<ApiCall> {
        self.shared.calls().clone()
    }

    /// Changes whenever a call is recorded (the value counts them).
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.shared.changes.subscribe()
    }

    /// Stops serving and waits (at most a second) for the server to finish.
    pub async fn stop(self) {
        self.cancel.cancel();
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(1), &mut task).await.is_err() {
            task.abort();
        }
    }
}

fn traceparent(headers: &HeaderMap) -> Option<String> {
    headers.get("traceparent").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

async fn api(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrived = Instant::now();
    let parent = traceparent(&headers);
    let (decision, request) = match Args::parse(&headers, query.as_deref(), &body) {
        Err(code) => {
            let run = shared.state().attribute(parent.as_deref());
            (
                Decision { answer: Answer::error(code), run, trigger_id: None, view_id: None },
                String::from_utf8_lossy(&body).into_owned(),
            )
        }
        Ok(args) => {
            let decision = match args.token(&headers) {
                None => Decision {
                    answer: Answer::error("not_authed"),
                    run: shared.state().attribute(parent.as_deref()),
                    trigger_id: None,
                    view_id: None,
                },
                Some(token) if token != shared.token.lock().unwrap_or_else(|e| e.into_inner()).expose() => Decision {
                    answer: Answer::error("invalid_auth"),
                    run: shared.state().attribute(parent.as_deref()),
                    trigger_id: None,
                    view_id: None,
                },
                Some(_) => shared.state().api(&shared.config, &method, &args, parent.as_deref(), arrived),
            };
            (decision, args.redacted())
        }
    };
    answer(&shared, method, arrived, parent, request, decision).await
}

async fn response_url(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrived = Instant::now();
    let parent = traceparent(&headers);
    let mut decision = Decision { answer: Answer::error("invalid_url"), run: None, trigger_id: None, view_id: None };
    {
        let mut state = shared.state();
        decision.run = state.attribute(parent.as_deref());
        decision.answer = state.response_url(&id, &body, arrived, &mut decision);
    }
    let request = String::from_utf8_lossy(&body).into_owned();
    answer(&shared, "response_url".into(), arrived, parent, request, decision).await
}

/// Waits any injected latency, records the call and answers it.
async fn answer(
    shared: &Shared,
    method: String,
    arrived: Instant,
    traceparent: Option<String>,
    request: String,
    decision: Decision,
) -> Response {
    // Drawn at arrival, so the draws follow the order calls arrive in; judged already.
    let injected = shared.draws.lock().unwrap_or_else(|e| e.into_inner()).draw(&method);
    if !injected.is_zero() {
        tokio::time::sleep(injected).await;
    }
    let Decision { answer, run, trigger_id, view_id } = decision;
    let response = answer.body.to_string();
    let call = ApiCall {
        ok: answer.body.get("ok").and_then(Value::as_bool).unwrap_or(false),
        error: answer.error_code(),
        http_status: answer.status.as_u16(),
        method,
        arrived,
        answered: Instant::now(),
        injected,
        run,
        trigger_id,
        view_id,
        traceparent,
        request,
        response: response.clone(),
    };
    shared.calls().push(call);
    shared.changes.send_modify(|n| *n += 1);
    let mut reply = (answer.status, response).into_response();
    reply.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    if answer.retry_after {
        reply.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    reply
}
