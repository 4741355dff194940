//! The driver: sends a captured interaction to the app as Slack would (fresh trigger id and
//! response URL from the mock, re-encoded body, fresh signature, a `traceparent` and Sentry's
//! `sentry-trace` and `baggage`), times the response, then waits a bounded time for the app's
//! calls to the mock. With a delivery latency, the trigger is issued (the click) and the request
//! leaves that much later; every time is still measured from the click. Many runs go through a
//! semaphore for the concurrency level; progress goes out over a channel as it happens.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Url;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::capture::{Capture, Prepared, SLACK_USER_AGENT};
use super::mock::MockSlack;
use super::retry;
use super::run::{Ack, Fault, RunRecord};
use super::signing::{self, Secret};
use super::socket_mode::envelope;
use super::traceparent::TraceParent;
use super::verdict::RunResult;
use super::verdict::{RunVerdict, enough_runs, judge};
use crate::analysis::Profile;
use crate::model::{Nanos, SpanId, TraceId};

/// How a replay is run.
#[derive(Clone, Debug)]
pub struct ReplayConfig {
    /// The app's endpoint; when it has no path, the captured path is used (see [`resolve_target`]).
    pub target: Url,
    /// The app's signing secret.
    pub secret: Secret,
    /// How many times each interaction is replayed.
    pub runs: usize,
    /// How many replays are in flight at once.
    pub concurrency: usize,
    /// How long to wait after the response for the app's Web API calls (lengthened by the mock's
    /// longest injected latency, so a call that arrived in time is answered and counted).
    pub wait: Duration,
    /// How long to wait for the response before giving up on it.
    pub response_timeout: Duration,
    /// The deadline profile the runs are judged by: its limit is how long Slack waits for the
    /// acknowledgement (and, with a `trigger_id` check, by when `views.open` must arrive).
    pub profile: Arc<Profile>,
    /// Stop early (see [`super::verdict::enough_runs`]) once the 95% upper bound on the failure
    /// rate is under this share (0 to 1) with no failure, or a run fails.
    pub until: Option<f64>,
    /// How interactions reach the app: POSTed to `target`, or pushed over Socket Mode.
    pub transport: Transport,
    /// The waits before Slack's retries of an Events API delivery that failed (empty: none).
    pub retry_waits: Vec<Duration>,
    /// How long after the click (the trigger's issue) the interaction reaches the app: a slow
    /// network, tunnel or proxy (`--delivery-latency`). The deadlines still run from the click.
    pub delivery_latency: Duration,
}

/// How interactions reach the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// An HTTP POST to the app's endpoint, signed.
    Http,
    /// An envelope on the app's Socket Mode connection(s) to the mock (`target` is the mock's
    /// WebSocket URL); after `reconnect_every` envelopes a connection is asked to reconnect.
    SocketMode {
        /// Envelopes per connection before `disconnect` (`refresh_requested`).
        reconnect_every: Option<usize>,
    },
}

impl ReplayConfig {
    /// One run at a time, the `slack` profile (3 s), a 5 s wait and a 10 s response timeout.
    pub fn new(target: Url, secret: Secret) -> Self {
        ReplayConfig {
            target,
            secret,
            runs: 1,
            concurrency: 1,
            wait: Duration::from_secs(5),
            response_timeout: Duration::from_secs(10),
            profile: Arc::new(Profile::default_profile()),
            until: None,
            transport: Transport::Http,
            retry_waits: super::retry::DEFAULT_WAITS.to_vec(),
            delivery_latency: Duration::ZERO,
        }
    }

    /// Socket Mode through `mock`: envelopes on the app's connections, otherwise as [`ReplayConfig::new`].
    pub fn socket_mode(mock: &MockSlack, reconnect_every: Option<usize>) -> Self {
        let link = Url::parse(&mock.socket_mode().link_url()).expect("the mock's address makes a URL");
        let mut config = ReplayConfig::new(link, Secret::new(""));
        config.transport = Transport::SocketMode { reconnect_every };
        config
    }
}

/// Parses a target URL: `http(s)://host:port[/path]`. Without a path (or with just `/`), the
/// captured path is used at replay. Anything but loopback needs `allow_remote`.
pub fn resolve_target(text: &str, allow_remote: bool) -> Result<Url, String> {
    let url = Url::parse(text)
        .map_err(|e| format!("the target {text:?} is not a URL ({e}); expected e.g. http://127.0.0.1:3000"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("the target {text:?} is not an http:// or https:// URL"));
    }
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => return Err(format!("the target {text:?} has no host")),
    };
    if !loopback && !allow_remote {
        return Err(format!(
            "the target {text:?} is not on this machine; replaying to another host needs --allow-remote"
        ));
    }
    Ok(url)
}

/// The URL a captured request goes to: the target's path when it has one, else the captured one.
pub fn request_url(target: &Url, captured_path: &str) -> Url {
    if target.path() != "/" || target.query().is_some() {
        return target.clone();
    }
    let mut url = target.clone();
    let (path, query) = captured_path.split_once('?').unwrap_or((captured_path, ""));
    url.set_path(path);
    url.set_query((!query.is_empty()).then_some(query));
    url
}

/// What a run reports while it goes.
#[derive(Clone, Debug)]
pub enum Progress {
    /// The run's state changed (sent, answered, a call arrived).
    Update(RunRecord),
    /// The run is over.
    Finished(RunRecord, RunVerdict),
}

/// Replays every interaction of the capture `config.runs` times, `config.concurrency` at a time,
/// against the app, with `mock` as its Web API. Results are in run order; the error is an HTTP
/// client that cannot be made.
pub async fn replay_all(
    mock: Arc<MockSlack>,
    capture: Arc<Capture>,
    config: Arc<ReplayConfig>,
    progress: Option<mpsc::UnboundedSender<Progress>>,
    cancel: CancellationToken,
) -> Result<Vec<RunResult>, String> {
    let client = client(&config)?;
    let mut tasks = tokio::task::JoinSet::new();
    let total = capture.prepared.len() * config.runs;
    let mut results: Vec<RunResult> = Vec::with_capacity(total);
    let mut failed = 0;
    let collect =
        |done: Result<RunResult, tokio::task::JoinError>, results: &mut Vec<RunResult>, failed: &mut usize| {
            if let Ok(result) = done {
                *failed += usize::from(!result.verdict.pass);
                results.push(result);
            }
        };
    for i in 0..total {
        // At most `concurrency` in flight; every run that finished is counted before the next
        // starts, so `--runs-until` stops as soon as it has seen enough.
        while tasks.len() >= config.concurrency.max(1) {
            let Some(done) = tasks.join_next().await else { break };
            collect(done, &mut results, &mut failed);
        }
        if cancel.is_cancelled() || config.until.is_some_and(|until| enough_runs(failed, results.len(), until)) {
            break;
        }
        let (mock, capture, config, client, progress, cancel) =
            (mock.clone(), capture.clone(), config.clone(), client.clone(), progress.clone(), cancel.clone());
        tasks.spawn(async move {
            let prepared = &capture.prepared[i % capture.prepared.len()];
            replay_once(&mock, &client, prepared, &config, i + 1, progress.as_ref(), &cancel).await
        });
    }
    while let Some(done) = tasks.join_next().await {
        collect(done, &mut results, &mut failed);
    }
    results.sort_by_key(|r| r.record.index);
    Ok(results)
}

/// The HTTP client the driver sends with: no proxy, no redirects (Slack does not follow them for
/// interactions), no pooling limits.
pub fn client(config: &ReplayConfig) -> Result<reqwest::Client, String> {
    super::http_client()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(config.response_timeout)
        .build()
        .map_err(|e| format!("cannot make an HTTP client: {e}"))
}

fn new_record(mock: &MockSlack, prepared: &Prepared, config: &ReplayConfig, index: usize) -> RunRecord {
    let trace_id = TraceId(fastrand::u128(1..));
    let span_id = SpanId::new(fastrand::u64(1..)).expect("the range excludes zero");
    let start = Instant::now();
    let start_unix =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as Nanos);
    let minted = mock.begin_run(trace_id.0, start);
    let request = &prepared.interaction.request;
    RunRecord {
        index,
        interaction: prepared.interaction.name.clone(),
        kind: prepared.body.kind().to_string(),
        method: match config.transport {
            Transport::Http => request.method.clone(),
            Transport::SocketMode { .. } => "WS".into(),
        },
        url: request_url(&config.target, &request.path).to_string(),
        trace_id,
        span_id,
        minted,
        expects_modal: prepared.body.trigger_id().is_some(),
        start,
        start_unix,
        profile: config.profile.clone(),
        trigger_ttl: mock.trigger_ttl(),
        delivery_delay: config.delivery_latency,
        response: None,
        calls: Vec::new(),
        event_id: super::retry::event_id(prepared),
        retries: Vec::new(),
        finished: None,
    }
}

/// Replays one interaction once; see the module docs.
pub async fn replay_once(
    mock: &MockSlack,
    client: &reqwest::Client,
    prepared: &Prepared,
    config: &ReplayConfig,
    index: usize,
    progress: Option<&mpsc::UnboundedSender<Progress>>,
    cancel: &CancellationToken,
) -> RunResult {
    if let Transport::SocketMode { .. } = config.transport {
        // An app asked to reconnect gets the response timeout to come back before the interaction is issued.
        mock.socket_mode().wait_for_connection(config.response_timeout).await;
    }
    let mut record = new_record(mock, prepared, config, index);
    let report = |record: &RunRecord| {
        if let Some(tx) = progress {
            let _ = tx.send(Progress::Update(record.clone()));
        }
    };
    report(&record);
    let outbound = Outbound {
        mock,
        client,
        prepared,
        config,
        url: record.url.clone(),
        parent: TraceParent::new(record.trace_id, record.span_id),
        body: prepared.body.render(&record.minted.trigger_id, &record.minted.response_url),
    };
    // The click happened at `record.start`; a slow network delivers it this much later.
    let delivered = tokio::select! {
        () = tokio::time::sleep(config.delivery_latency) => true,
        () = cancel.cancelled() => false,
    };
    let response = match &record.event_id {
        _ if !delivered => Err(Fault::Stopped),
        Some(_) if !config.retry_waits.is_empty() => {
            let deliver = |attempt, reason| outbound.deliver(attempt, reason);
            retry::deliver_with_retries(&mut record, &config.retry_waits, cancel, &report, deliver).await
        }
        _ => tokio::select! {
            r = outbound.deliver(0, "") => r,
            () = cancel.cancelled() => Err(Fault::Stopped),
        },
    };
    let answered = response.is_ok();
    record.response = Some(response);
    report(&record);

    if answered {
        // A call that arrives within the wait is answered at most the mock's injected latency later.
        let until = tokio::time::Instant::now() + config.wait + mock.latency().max();
        let mut changes = mock.watch();
        loop {
            let calls = mock.calls(record.minted.run);
            if calls.len() != record.calls.len() {
                record.calls = calls;
                report(&record);
            }
            // The timer rounds up to whole milliseconds; do not wait on it for a deadline passed.
            if tokio::time::Instant::now() >= until {
                break;
            }
            tokio::select! {
                () = tokio::time::sleep_until(until) => break,
                changed = changes.changed() => if changed.is_err() { break },
                () = cancel.cancelled() => break,
            }
        }
    }
    mock.end_run(record.minted.run);
    record.calls = mock.calls(record.minted.run);
    record.finished = Some(Instant::now());
    let verdict = judge(&record);
    if let Some(tx) = progress {
        let _ = tx.send(Progress::Finished(record.clone(), verdict.clone()));
    }
    RunResult { record, verdict }
}

/// How long a Socket Mode delivery waits for the app to reconnect when no connection takes
/// envelopes.
const RECONNECT_WAIT: Duration = Duration::from_secs(2);

/// One interaction's deliveries: what every (re-)delivery sends, and where.
struct Outbound<'a> {
    mock: &'a MockSlack,
    client: &'a reqwest::Client,
    prepared: &'a Prepared,
    config: &'a ReplayConfig,
    url: String,
    /// The run's trace context, sent as `traceparent`, `sentry-trace` and `baggage`.
    parent: TraceParent,
    /// The body with the run's trigger id and response URL.
    body: Vec<u8>,
}

impl Outbound<'_> {
    /// Sends one delivery (`attempt` 0 is the first; a retry carries Slack's retry number and
    /// reason) and waits for the app's ack.
    async fn deliver(&self, attempt: u32, reason: &'static str) -> Result<Ack, Fault> {
        match self.config.transport {
            Transport::Http => {
                let retry = (attempt > 0).then_some((attempt, reason));
                send(self.client, self.prepared, &self.url, self.parent, self.body.clone(), &self.config.secret, retry)
                    .await
            }
            Transport::SocketMode { reconnect_every } => {
                let hub = self.mock.socket_mode();
                let envelope = envelope::make(self.prepared.body.kind(), &self.body, (attempt, reason))
                    .map_err(|e| Fault::Local(format!("the captured request has no Socket Mode envelope: {e}")))?;
                // Between a `disconnect` and the app's new connection there may be none that takes
                // envelopes; like Slack, hold the delivery (on the run's clock) for a moment.
                if hub.open_connections() == 0 {
                    hub.wait_for_connection(RECONNECT_WAIT).await;
                }
                let (sent, answer) =
                    hub.deliver(&envelope.id, &envelope.message, reconnect_every).map_err(Fault::Protocol)?;
                let result = tokio::time::timeout(self.config.response_timeout, answer).await;
                hub.forget(&envelope.id);
                match result {
                    Ok(Ok(Ok(ack))) => {
                        Ok(Ack { status: 200, at: ack.at, body: ack.payload.unwrap_or_default(), whole: true })
                    }
                    Ok(Ok(Err(why))) => Err(Fault::Protocol(why)),
                    Ok(Err(_)) => Err(Fault::Protocol("the mock stopped before the app acked".into())),
                    Err(_) => Err(Fault::Timeout(sent.elapsed())),
                }
            }
        }
    }
}

async fn send(
    client: &reqwest::Client,
    prepared: &Prepared,
    url: &str,
    parent: TraceParent,
    body: Vec<u8>,
    secret: &Secret,
    retry: Option<(u32, &str)>,
) -> Result<Ack, Fault> {
    let timestamp = signing::unix_now();
    let signature = signing::sign(secret, timestamp, &body);
    let captured = &prepared.interaction.request;
    let method = reqwest::Method::from_bytes(captured.method.as_bytes())
        .map_err(|_| Fault::Local(format!("{:?} is not an HTTP method", captured.method)))?;
    let mut request = client.request(method, url);
    if let Some((num, reason)) = retry {
        request = request.header(retry::RETRY_NUM_HEADER, num.to_string()).header(retry::RETRY_REASON_HEADER, reason);
    }
    for (name, value) in captured.replayed_headers() {
        request = request.header(name, value);
    }
    if captured.header("content-type").is_none() {
        let ct = if captured.is_form() { "application/x-www-form-urlencoded" } else { "application/json" };
        request = request.header("content-type", ct);
    }
    if captured.header("user-agent").is_none() {
        request = request.header("user-agent", SLACK_USER_AGENT);
    }
    let request = request
        .header(signing::TIMESTAMP_HEADER, timestamp.to_string())
        .header(signing::SIGNATURE_HEADER, signature)
        .header("traceparent", parent.to_string())
        .header("sentry-trace", parent.sentry_trace())
        .header("baggage", parent.sentry_baggage())
        .body(body);
    let sent = Instant::now();
    match request.send().await {
        Ok(response) => {
            let at = Instant::now();
            let status = response.status().as_u16();
            // The body is read for the record only; a body that never ends is cut at the timeout.
            let (body, whole) = match response.bytes().await {
                Ok(b) => (String::from_utf8_lossy(&b[..b.len().min(4096)]).into_owned(), b.len() <= 4096),
                Err(_) => (String::new(), false),
            };
            Ok(Ack { status, at, body, whole })
        }
        Err(e) if e.is_timeout() => Err(Fault::Timeout(sent.elapsed())),
        Err(e) if e.is_connect() => Err(Fault::Refused(root_cause(&e))),
        Err(e) if e.is_builder() => Err(Fault::Local(format!("the captured request: {}", root_cause(&e)))),
        Err(e) => Err(Fault::Other(root_cause(&e))),
    }
}

/// The innermost error's text ("Connection refused (os error 111)").
pub(crate) fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = error;
    while let Some(source) = inner.source() {
        inner = source;
    }
    inner.to_string()
}
