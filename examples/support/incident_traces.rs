//! Seeded traces of the incident's Slack endpoint, many at a time, before and after the fix.
//!
//! Shared by the `gen_many` example (which writes the `many-*` sample files) and the `many`
//! benchmark (`#[path]` module): one generator, no twin.
//!
//! Before the fix, `POST /slack/interactions` publishes a Celery task and acks at once (tens of
//! milliseconds); the worker picks the task up after a queue wait that is log-normal (median
//! about 0.7 s, longer in a busy hour) and only then calls `views.open`, which fails with
//! `expired_trigger_id` when it starts more than 3 s after the interaction arrived: a few percent
//! of interactions. After the fix the front process opens a loading modal with `views.open`
//! before it acks, and the worker calls `views.update`: the same queue, no misses. One trace in
//! five is a `POST /slack/events` callback (ack, then a worker posts a message), which never
//! opens a modal. Traces have 6 to 8 spans; every time is a whole microsecond.

use tracedeck::model::{AttrValue, Nanos, RawSpan, SpanId, SpanKind, Status, Trace, TraceBuilder, TraceId};
use tracedeck::synth::Rng;

/// Which side of the fix.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Era {
    /// The worker opens the modal after the queue wait.
    Before,
    /// The front opens a loading modal before acking; the worker updates it.
    After,
}

impl Era {
    /// What the era mixes into the seed. The before era's stream is the seed's own, as the
    /// `many-before` sample was made; any other constant starts the after era's numbers far
    /// from it (the generator steps through one long cycle of 2⁶⁴ numbers).
    fn stream(self) -> u64 {
        match self {
            Era::Before => 0,
            Era::After => 0xAF7E_5EED_0000_0000,
        }
    }
}

const US: Nanos = 1_000;
const MS: Nanos = 1_000_000;
/// 2024-11-12 14:00:00 UTC, the afternoon of the incident.
const FIRST: Nanos = 1_731_420_000 * 1_000_000_000;
/// The traces arrive over four hours.
const SPAN_OF_TIME: Nanos = 4 * 3_600 * 1_000 * MS;
/// The Slack deadline the worker's `views.open` races.
const DEADLINE: Nanos = 3_000 * MS;

/// Generates `count` traces; the same seed and era give the same traces. Each era draws from
/// its own stream, so files of the two eras made with the same seed share no trace id (they
/// would be taken for parts of the same traces when checked together).
pub fn generate(era: Era, count: usize, seed: u64) -> Vec<Trace> {
    let mut g = Gen { rng: Rng::new(seed ^ era.stream()), b: TraceBuilder::new() };
    let mean_gap = SPAN_OF_TIME / count.max(1) as Nanos;
    let mut arrival = FIRST;
    for _ in 0..count {
        arrival += whole_us((-(1.0 - g.rng.unit()).ln() * mean_gap as f64) as Nanos).max(US);
        let load = busy_hour(arrival - FIRST);
        if g.rng.chance(0.2) {
            g.event_callback(arrival, load);
        } else {
            g.interaction(era, arrival, load);
        }
    }
    g.b.build().expect("generated trees have no cycles")
}

/// How much longer queue waits are at this offset: 1 outside the busy hour, up to 1.8 inside it
/// (the second hour, a smooth bump).
fn busy_hour(offset: Nanos) -> f64 {
    let from_peak = offset as f64 / (3_600.0 * 1e9) - 1.5;
    if from_peak.abs() < 0.5 { 1.0 + 0.8 * (std::f64::consts::PI * from_peak).cos().powi(2) } else { 1.0 }
}

fn whole_us(nanos: Nanos) -> Nanos {
    nanos / US * US
}

/// The task publish a worker's span hangs under.
struct Published {
    id: SpanId,
    start: Nanos,
}

/// What the worker's task does: its name, the Slack call it ends with, whether it renders a modal first.
struct Job {
    task: &'static str,
    url: &'static str,
    render: bool,
}

struct Gen {
    rng: Rng,
    b: TraceBuilder,
}

/// One span to push.
struct S<'a> {
    name: &'a str,
    op: &'a str,
    kind: SpanKind,
    service: &'a str,
    start: Nanos,
    end: Nanos,
    attrs: &'a [(&'a str, Value<'a>)],
}

#[derive(Clone, Copy)]
enum Value<'a> {
    Str(&'a str),
    Int(i64),
}

impl Gen {
    /// A log-normal duration with the given median and shape, in whole microseconds.
    fn log_normal(&mut self, median: Nanos, sigma: f64) -> Nanos {
        // Box–Muller: a standard normal from two uniforms.
        let (u1, u2) = (1.0 - self.rng.unit(), self.rng.unit());
        let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        whole_us((median as f64 * (sigma * normal).exp()) as Nanos).max(US)
    }

    fn span_id(&mut self) -> SpanId {
        loop {
            if let Some(id) = SpanId::new(self.rng.bits()) {
                return id;
            }
        }
    }

    fn push(&mut self, trace: TraceId, id: SpanId, parent: Option<SpanId>, s: S, error: Option<&str>) {
        let mark = self.b.attr_mark();
        for (key, value) in s.attrs {
            match value {
                Value::Str(text) => self.b.push_attr_str(key, text),
                Value::Int(n) => {
                    let key = self.b.intern(key);
                    self.b.push_attr(key, AttrValue::Int(*n));
                }
            }
        }
        if let Some(error) = error {
            self.b.push_attr_str("slack.error", error);
        }
        let mut raw = RawSpan::new(trace, id, parent, s.start, Some(s.end));
        raw.name = self.b.intern(s.name);
        raw.service = self.b.intern(s.service);
        raw.kind = s.kind;
        raw.op = self.b.intern(s.op);
        raw.attrs = self.b.attrs_since(mark);
        if let Some(error) = error {
            raw.status = Status::Error;
            raw.status_message = self.b.intern(error);
        }
        self.b.push_span(raw);
    }

    /// The front's part: the request span, a database read, optionally a Slack call, the task
    /// publish, which it returns.
    fn front(&mut self, trace: TraceId, at: Nanos, route: &str, task: &str, slack_call: Option<&str>) -> Published {
        let root = self.span_id();
        let db_start = at + whole_us(self.rng.range(500, 4_000) as Nanos * US);
        let db_end = db_start + self.log_normal(3 * MS, 0.5);
        let db = [("db.system", Value::Str("postgresql"))];
        let db_span = S {
            name: "SELECT slack_installation",
            op: "db",
            kind: SpanKind::Client,
            service: "front",
            start: db_start,
            end: db_end,
            attrs: &db,
        };
        let id = self.span_id();
        self.push(trace, id, Some(root), db_span, None);
        let mut cursor = db_end + 200 * US;
        if let Some(url) = slack_call {
            let end = cursor + self.log_normal(160 * MS, 0.35);
            let attrs = [
                ("http.method", Value::Str("POST")),
                ("http.url", Value::Str(url)),
                ("http.status_code", Value::Int(200)),
            ];
            let call = S {
                name: slack_name(url),
                op: "http.client",
                kind: SpanKind::Client,
                service: "front",
                start: cursor,
                end,
                attrs: &attrs,
            };
            let id = self.span_id();
            self.push(trace, id, Some(root), call, None);
            cursor = end + 300 * US;
        }
        let publish = self.span_id();
        let publish_end = cursor + self.log_normal(1_200 * US, 0.4);
        let attrs = [("messaging.system", Value::Str("celery"))];
        let span = S {
            name: task,
            op: "queue.publish",
            kind: SpanKind::Producer,
            service: "front",
            start: cursor,
            end: publish_end,
            attrs: &attrs,
        };
        self.push(trace, publish, Some(root), span, None);
        let end = publish_end + self.log_normal(3 * MS, 0.5);
        let attrs = [
            ("http.method", Value::Str("POST")),
            ("http.route", Value::Str(route)),
            ("http.status_code", Value::Int(200)),
        ];
        let name = if route.ends_with("interactions") { "POST /slack/interactions" } else { "POST /slack/events" };
        let span =
            S { name, op: "http.server", kind: SpanKind::Server, service: "front", start: at, end, attrs: &attrs };
        self.push(trace, root, None, span, None);
        Published { id: publish, start: cursor }
    }

    /// The worker's part: the task, a database read, a render step for modals, then one Slack call.
    fn worker(&mut self, trace: TraceId, arrival: Nanos, publish: Published, load: f64, job: Job) {
        let Job { task, url, render } = job;
        let task_id = self.span_id();
        let start = publish.start + self.log_normal((800.0 * load) as Nanos * MS, 0.75);
        let db_start = start + 600 * US;
        let db_end = db_start + self.log_normal(8 * MS, 0.6);
        let db = [("db.system", Value::Str("postgresql"))];
        let span = S {
            name: "SELECT ticket",
            op: "db",
            kind: SpanKind::Client,
            service: "worker",
            start: db_start,
            end: db_end,
            attrs: &db,
        };
        let id = self.span_id();
        self.push(trace, id, Some(task_id), span, None);
        let mut cursor = db_end + 100 * US;
        if render {
            let end = cursor + self.log_normal(6 * MS, 0.5);
            let span = S {
                name: "render ticket modal",
                op: "function",
                kind: SpanKind::Internal,
                service: "worker",
                start: cursor,
                end,
                attrs: &[],
            };
            let id = self.span_id();
            self.push(trace, id, Some(task_id), span, None);
            cursor = end + 100 * US;
        }
        let late = url.ends_with("views.open") && cursor - arrival > DEADLINE;
        let end = cursor + self.log_normal(if late { 90 * MS } else { 170 * MS }, 0.35);
        let attrs =
            [("http.method", Value::Str("POST")), ("http.url", Value::Str(url)), ("http.status_code", Value::Int(200))];
        let span = S {
            name: slack_name(url),
            op: "http.client",
            kind: SpanKind::Client,
            service: "worker",
            start: cursor,
            end,
            attrs: &attrs,
        };
        let id = self.span_id();
        self.push(trace, id, Some(task_id), span, late.then_some("expired_trigger_id"));
        let attrs = [("messaging.system", Value::Str("celery"))];
        let span = S {
            name: task,
            op: "queue.process",
            kind: SpanKind::Consumer,
            service: "worker",
            start,
            end: end + 400 * US,
            attrs: &attrs,
        };
        self.push(trace, task_id, Some(publish.id), span, None);
    }

    fn trace_id(&mut self) -> TraceId {
        TraceId((self.rng.bits() as u128) << 64 | self.rng.bits() as u128 | 1 << 127)
    }

    fn interaction(&mut self, era: Era, at: Nanos, load: f64) {
        let trace = self.trace_id();
        let task = "tasks.open_ticket_modal";
        match era {
            Era::Before => {
                let publish = self.front(trace, at, "/slack/interactions", task, None);
                self.worker(trace, at, publish, load, Job { task, url: VIEWS_OPEN, render: true });
            }
            Era::After => {
                let publish = self.front(trace, at, "/slack/interactions", task, Some(VIEWS_OPEN));
                self.worker(trace, at, publish, load, Job { task, url: VIEWS_UPDATE, render: true });
            }
        }
    }

    fn event_callback(&mut self, at: Nanos, load: f64) {
        let trace = self.trace_id();
        let task = "tasks.handle_event";
        let publish = self.front(trace, at, "/slack/events", task, None);
        self.worker(trace, at, publish, load, Job { task, url: POST_MESSAGE, render: false });
    }
}

const VIEWS_OPEN: &str = "https://slack.com/api/views.open";
const VIEWS_UPDATE: &str = "https://slack.com/api/views.update";
const POST_MESSAGE: &str = "https://slack.com/api/chat.postMessage";

/// `POST https://slack.com/api/views.open` for the known calls.
fn slack_name(url: &str) -> &'static str {
    match url {
        VIEWS_OPEN => "POST https://slack.com/api/views.open",
        VIEWS_UPDATE => "POST https://slack.com/api/views.update",
        _ => "POST https://slack.com/api/chat.postMessage",
    }
}
