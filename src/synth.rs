//! Synthetic traces for tests and benchmarks: deterministic from a seed, shaped like a real
//! integration's traces.
//!
//! A generated trace starts at a web service answering Slack (`POST /slack/interactions`) and
//! grows into several services: HTTP calls between them (a client span with the callee's
//! server span under it), database and cache calls, internal functions, and Celery-style
//! queue publishes whose `queue.process` child starts inside the publish and usually ends well
//! after it. Spans carry 2 to 6 typed attributes; some fail (status Error, with an
//! `exception` event); some carry other events. Every time is a whole number of microseconds,
//! so every format, Chrome's and Zipkin's included, can write and read it back exactly.
//!
//! Depends only on [`crate::model`]; the random numbers come from an inline splitmix64.

use crate::model::{AttrValue, Event, Nanos, RawSpan, SpanId, SpanKind, Status, Trace, TraceBuilder, TraceId};

/// What to generate.
#[derive(Clone, Debug)]
pub struct SynthParams {
    /// The same seed gives the same trace.
    pub seed: u64,
    /// How many spans (at least 1).
    pub spans: usize,
    /// How many services, from 1 to [`SERVICES`]`.len()`.
    pub services: usize,
    /// The deepest a span may be (the root is depth 0); at least 1.
    pub max_depth: u32,
    /// The share of spans that fail, from 0 to 1.
    pub error_rate: f64,
}

impl Default for SynthParams {
    fn default() -> Self {
        SynthParams { seed: 1, spans: 200, services: 4, max_depth: 10, error_rate: 0.05 }
    }
}

/// The services a trace may cross: the front web app first, the queue worker second.
pub const SERVICES: [&str; 6] = ["web", "worker", "users-api", "billing-api", "search-api", "notifications"];

/// Generates one trace. Deterministic: the same parameters give the same trace.
pub fn generate(params: &SynthParams) -> Trace {
    let mut generator = Generator::new(params);
    generator.grow();
    generator.time();
    generator.into_builder().build().expect("a generated tree has no parent cycle").remove(0)
}

/// splitmix64: tiny, fast, and plenty for test data. Each call's output is distinct from
/// every other call's (the mix is a bijection of a counter), which makes unique span ids.
/// Public so other seeded generators (the many-traces sample generator) share it.
pub struct Rng(u64);

impl Rng {
    /// A generator; the same seed gives the same numbers.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn bits(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.bits() % (hi - lo + 1)
    }

    /// A number in `[0, 1)`, uniformly.
    pub fn unit(&mut self) -> f64 {
        (self.bits() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() <= p && p > 0.0
    }

    /// One of `items`, uniformly.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.bits() as usize % items.len()]
    }
}

/// What a span does; decides its name, attributes, kind and what may happen under it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    HttpServer,
    HttpClient,
    Db,
    Cache,
    QueuePublish,
    QueueProcess,
    Function,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::HttpServer => "http.server",
            Op::HttpClient => "http.client",
            Op::Db => "db",
            Op::Cache => "cache",
            Op::QueuePublish => "queue.publish",
            Op::QueueProcess => "queue.process",
            Op::Function => "function",
        }
    }

    fn kind(self) -> SpanKind {
        match self {
            Op::HttpServer => SpanKind::Server,
            Op::HttpClient | Op::Db | Op::Cache => SpanKind::Client,
            Op::QueuePublish => SpanKind::Producer,
            Op::QueueProcess => SpanKind::Consumer,
            Op::Function => SpanKind::Internal,
        }
    }

    /// Whether spans of this op get children picked at random (clients and publishes get
    /// their one callee when they are made).
    fn is_container(self) -> bool {
        matches!(self, Op::HttpServer | Op::QueueProcess | Op::Function)
    }

    /// How long a leaf of this op takes, in microseconds.
    fn leaf_micros(self) -> (u64, u64) {
        match self {
            Op::Db => (150, 4_000),
            Op::Cache => (15, 400),
            Op::HttpClient => (8_000, 400_000),
            Op::QueuePublish => (200, 2_000),
            _ => (5, 600),
        }
    }
}

const ROUTES: [(&str, &str); 6] = [
    ("GET", "/api/v1/users/{id}"),
    ("POST", "/api/v1/charges"),
    ("GET", "/api/v1/search"),
    ("POST", "/api/v1/notify"),
    ("GET", "/api/v1/teams/{id}/settings"),
    ("PUT", "/api/v1/users/{id}/preferences"),
];
const SLACK_CALLS: [&str; 3] = [
    "https://slack.com/api/views.open",
    "https://slack.com/api/views.update",
    "https://slack.com/api/chat.postMessage",
];
const STATEMENTS: [&str; 5] = [
    "SELECT * FROM users WHERE id = %s",
    "SELECT * FROM teams WHERE slack_team_id = %s",
    "UPDATE interactions SET state = %s WHERE id = %s",
    "INSERT INTO audit_log (actor, action) VALUES (%s, %s)",
    "SELECT count(*) FROM charges WHERE team_id = %s",
];
const CACHE_KEYS: [&str; 4] = ["session:{id}", "user:{id}", "team:{id}:flags", "rate_limit:{id}"];
const TASKS: [&str; 3] = ["tasks.process_interaction", "tasks.sync_user", "tasks.send_digest"];
const FUNCTIONS: [&str; 5] =
    ["verify_slack_signature", "load_user_context", "render_modal", "serialize_response", "check_permissions"];
const STATUS_MESSAGES: [&str; 3] = ["internal_error", "deadline_exceeded", "unavailable"];
const EXCEPTIONS: [(&str, &str); 3] =
    [("TimeoutError", "read timed out after 3000 ms"), ("KeyError", "'view'"), ("SlackApiError", "expired_trigger_id")];
const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];

/// One span being generated.
struct Node {
    parent: Option<u32>,
    depth: u32,
    op: Op,
    service: usize,
    name: String,
    /// Starts when its parent starts plus this, set by [`Generator::time`].
    start: u64,
    micros: u64,
    /// Runs beside its previous sibling instead of after it.
    concurrent: bool,
    children: Vec<u32>,
}

struct Generator<'p> {
    params: &'p SynthParams,
    rng: Rng,
    nodes: Vec<Node>,
    /// Nodes that may get more children.
    containers: Vec<u32>,
}

impl<'p> Generator<'p> {
    fn new(params: &'p SynthParams) -> Self {
        Generator { params, rng: Rng(params.seed), nodes: Vec::new(), containers: Vec::new() }
    }

    fn services(&self) -> usize {
        self.params.services.clamp(1, SERVICES.len())
    }

    fn max_depth(&self) -> u32 {
        self.params.max_depth.max(1)
    }

    fn add(&mut self, parent: Option<u32>, op: Op, service: usize, name: String) -> u32 {
        let depth = parent.map_or(0, |p| self.nodes[p as usize].depth + 1);
        let id = self.nodes.len() as u32;
        let concurrent = op != Op::QueueProcess && self.rng.chance(0.15);
        self.nodes.push(Node {
            parent,
            depth,
            op,
            service,
            name,
            start: 0,
            micros: 0,
            concurrent,
            children: Vec::new(),
        });
        if let Some(p) = parent {
            self.nodes[p as usize].children.push(id);
        }
        if op.is_container() && depth < self.max_depth() {
            self.containers.push(id);
        }
        id
    }

    /// The tree's shape: children added under random containers until there are enough spans.
    fn grow(&mut self) {
        let want = self.params.spans.max(1);
        self.add(None, Op::HttpServer, 0, "POST /slack/interactions".to_owned());
        while self.nodes.len() < want {
            let parent = self.rng.pick(&self.containers);
            let room = want - self.nodes.len();
            self.add_child(parent, room);
        }
    }

    /// One child of `parent`, with its callee when it is a call and `room` allows.
    fn add_child(&mut self, parent: u32, room: usize) {
        let (service, depth) = (self.nodes[parent as usize].service, self.nodes[parent as usize].depth);
        let can_call = room >= 2 && depth + 2 <= self.max_depth();
        let op = match self.rng.range(0, 9) {
            0..=2 => Op::Db,
            3..=4 => Op::Cache,
            5..=6 => Op::HttpClient,
            7 => Op::QueuePublish,
            _ => Op::Function,
        };
        match op {
            Op::HttpClient if can_call && self.services() > 1 && self.rng.chance(0.8) => {
                let others = self.services() - 1;
                let callee = (service + 1 + self.rng.bits() as usize % others) % self.services();
                let (method, path) = self.rng.pick(&ROUTES);
                let client = self.add(Some(parent), op, service, format!("{method} http://{}{path}", SERVICES[callee]));
                self.add(Some(client), Op::HttpServer, callee, format!("{method} {path}"));
            }
            Op::HttpClient => {
                let url = self.rng.pick(&SLACK_CALLS);
                self.add(Some(parent), op, service, format!("POST {url}"));
            }
            Op::QueuePublish if can_call => {
                let task = self.rng.pick(&TASKS);
                let worker = if self.services() > 1 { 1 } else { 0 };
                let publish = self.add(Some(parent), op, service, format!("celery.send_task {task}"));
                self.add(Some(publish), Op::QueueProcess, worker, task.to_owned());
            }
            Op::Db => {
                let statement = self.rng.pick(&STATEMENTS);
                self.add(Some(parent), op, service, statement.to_owned());
            }
            Op::Cache => {
                let key = self.rng.pick(&CACHE_KEYS);
                let verb = self.rng.pick(&["GET", "SET", "DEL"]);
                self.add(Some(parent), Op::Cache, service, format!("{verb} {key}"));
            }
            _ => {
                let function = self.rng.pick(&FUNCTIONS);
                self.add(Some(parent), Op::Function, service, function.to_owned());
            }
        }
    }

    /// Durations bottom-up (a parent lasts as long as its children in sequence, plus gaps),
    /// then starts top-down (children in order, some beside their previous sibling; a queue
    /// task starts inside its publish and runs on past it).
    fn time(&mut self) {
        for i in (0..self.nodes.len()).rev() {
            let (lo, hi) = self.nodes[i].op.leaf_micros();
            let own = self.rng.range(lo, hi);
            let mut sequential = 0;
            for &c in &self.nodes[i].children {
                let child = &self.nodes[c as usize];
                if child.op != Op::QueueProcess && !child.concurrent {
                    sequential += child.micros + 1;
                }
            }
            let node = &self.nodes[i];
            let widest = node.children.iter().map(|&c| self.nodes[c as usize].micros).max().unwrap_or(0);
            let micros = if node.children.is_empty() { own } else { (sequential + own / 4).max(widest + 1) + 1 };
            self.nodes[i].micros = micros;
        }
        let epoch_micros = 1_750_000_000_000_000 + self.params.seed % 1_000_000_000;
        self.nodes[0].start = epoch_micros;
        for i in 0..self.nodes.len() {
            let (start, micros) = (self.nodes[i].start, self.nodes[i].micros);
            let mut cursor = start + 1;
            let mut previous_start = cursor;
            for c in self.nodes[i].children.clone() {
                let child = &self.nodes[c as usize];
                let child_start = if child.op == Op::QueueProcess {
                    start + self.rng.range(0, micros - 1)
                } else if child.concurrent {
                    previous_start
                } else {
                    previous_start = cursor;
                    cursor
                };
                // Never past the parent's end, even when gaps do not fit.
                let child_start = if child.op == Op::QueueProcess {
                    child_start
                } else {
                    child_start.min(start + micros - child.micros)
                };
                if child.op != Op::QueueProcess && !child.concurrent {
                    cursor = child_start + child.micros + 1;
                }
                self.nodes[c as usize].start = child_start;
            }
        }
    }

    fn into_builder(mut self) -> TraceBuilder {
        let mut b = TraceBuilder::new();
        let mut ids = Rng(self.params.seed ^ 0x05EE_D1D5);
        let trace_id = TraceId(((ids.bits() as u128) << 64 | ids.bits() as u128) | 1 << 127);
        let span_ids: Vec<SpanId> = (0..self.nodes.len())
            .map(|_| {
                loop {
                    if let Some(id) = SpanId::new(ids.bits()) {
                        break id;
                    }
                }
            })
            .collect();
        let nodes = std::mem::take(&mut self.nodes);
        for (i, node) in nodes.iter().enumerate() {
            let start = node.start as Nanos * 1000;
            let end = (node.start + node.micros) as Nanos * 1000;
            let failed = self.rng.chance(self.params.error_rate);
            let attrs = b.attr_mark();
            self.attributes(&mut b, node, failed);
            let attrs = b.attrs_since(attrs);
            let events = b.event_mark();
            self.events(&mut b, node, failed, start, end);
            let events = b.events_since(events);
            let mut raw =
                RawSpan::new(trace_id, span_ids[i], node.parent.map(|p| span_ids[p as usize]), start, Some(end));
            raw.name = b.intern(&node.name);
            raw.op = b.intern(node.op.name());
            raw.service = b.intern(SERVICES[node.service]);
            raw.kind = node.op.kind();
            if failed {
                raw.status = Status::Error;
                raw.status_message = b.intern(self.rng.pick(&STATUS_MESSAGES));
            }
            raw.attrs = attrs;
            raw.events = events;
            b.push_span(raw);
        }
        b
    }

    /// 2 or 3 attributes of the op, then extras up to 6 in all.
    fn attributes(&mut self, b: &mut TraceBuilder, node: &Node, failed: bool) {
        let rng = &mut self.rng;
        let status_code = if failed { rng.pick(&[500, 502, 504]) } else { rng.pick(&[200, 200, 201, 204]) };
        let mark = b.attr_mark();
        let push = |b: &mut TraceBuilder, key: &str, value: AttrValue| {
            let key = b.intern(key);
            b.push_attr(key, value);
        };
        match node.op {
            Op::HttpServer | Op::HttpClient => {
                let method = node.name.split(' ').next().unwrap_or("GET");
                let method = b.intern(method);
                push(b, "http.request.method", AttrValue::Str(method));
                push(b, "http.response.status_code", AttrValue::Int(status_code));
                let target = node.name.split(' ').nth(1).unwrap_or("/");
                let target = b.intern(target);
                push(b, if node.op == Op::HttpServer { "http.route" } else { "url.full" }, AttrValue::Str(target));
            }
            Op::Db => {
                let system = b.intern("postgresql");
                push(b, "db.system", AttrValue::Str(system));
                push(b, "db.rows_affected", AttrValue::Int(rng.range(0, 40) as i64));
            }
            Op::Cache => {
                push(b, "cache.hit", AttrValue::Bool(rng.chance(0.7)));
                push(b, "cache.item_size", AttrValue::Int(rng.range(16, 8192) as i64));
            }
            Op::QueuePublish | Op::QueueProcess => {
                let system = b.intern("celery");
                push(b, "messaging.system", AttrValue::Str(system));
                let id = b.intern(&format!("{:016x}", rng.bits()));
                push(b, "messaging.message.id", AttrValue::Str(id));
            }
            Op::Function => {
                let thread = b.intern(rng.pick(&["MainThread", "ThreadPoolExecutor-0_0", "gevent-3"]));
                push(b, "thread.name", AttrValue::Str(thread));
                push(b, "code.lineno", AttrValue::Int(rng.range(10, 900) as i64));
            }
        }
        let extras = rng.range(0, 6 - u64::from(b.attrs_since(mark).len));
        for extra in 0..extras {
            match extra {
                0 => push(b, "retry.count", AttrValue::Int(rng.range(0, 3) as i64)),
                1 => push(b, "sample.rate", AttrValue::Float(rng.range(1, 8) as f64 / 8.0)),
                2 => push(b, "feature.loading_modal", AttrValue::Bool(rng.chance(0.5))),
                _ => {
                    let region = b.intern(rng.pick(&REGIONS));
                    push(b, "cloud.region", AttrValue::Str(region));
                }
            }
        }
    }

    /// An `exception` event on failures; sometimes a retry or cache-miss event.
    fn events(&mut self, b: &mut TraceBuilder, node: &Node, failed: bool, start: Nanos, end: Nanos) {
        let at = |rng: &mut Rng| start + (rng.range(0, ((end - start) / 1000) as u64) as Nanos) * 1000;
        if failed {
            let (kind, message) = self.rng.pick(&EXCEPTIONS);
            let mark = b.attr_mark();
            b.push_attr_str("exception.type", kind);
            b.push_attr_str("exception.message", message);
            let attrs = b.attrs_since(mark);
            let name = b.intern("exception");
            b.push_event(Event { time: at(&mut self.rng), name, attrs });
        }
        if matches!(node.op, Op::HttpClient | Op::Cache) && self.rng.chance(0.1) {
            let mark = b.attr_mark();
            let key = b.intern("attempt");
            b.push_attr(key, AttrValue::Int(self.rng.range(1, 3) as i64));
            let attrs = b.attrs_since(mark);
            let name = b.intern(if node.op == Op::Cache { "cache.miss" } else { "retry" });
            b.push_event(Event { time: at(&mut self.rng), name, attrs });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SpanFlags;

    fn params(seed: u64, spans: usize) -> SynthParams {
        SynthParams { seed, spans, ..SynthParams::default() }
    }

    #[test]
    fn same_seed_same_trace_other_seed_other_trace() {
        let digest = |t: &Trace| -> Vec<(u64, Nanos, Nanos, String)> {
            t.spans().iter().map(|s| (s.id.get(), s.start, s.end, t.str(s.name).to_owned())).collect()
        };
        let a = generate(&params(7, 300));
        assert_eq!(digest(&a), digest(&generate(&params(7, 300))));
        assert_ne!(digest(&a), digest(&generate(&params(8, 300))));
    }

    #[test]
    fn makes_exactly_the_spans_asked_for_in_one_clean_tree() {
        for (seed, n) in [(1, 1), (2, 2), (3, 17), (4, 1000)] {
            let t = generate(&params(seed, n));
            assert_eq!(t.len(), n, "seed {seed}");
            assert_eq!(t.roots().len(), 1, "seed {seed}");
            assert!(t.warnings().is_empty(), "seed {seed}: {:?}", t.warnings());
            assert!(t.spans().iter().all(|s| s.flags == SpanFlags::default()));
        }
    }

    #[test]
    fn shape_is_realistic() {
        let p = SynthParams { seed: 42, spans: 5000, services: 5, max_depth: 10, error_rate: 0.05 };
        let t = generate(&p);
        let depth = t.spans().iter().map(|s| s.depth).max().unwrap();
        assert!((6..=10).contains(&depth), "depth {depth}");
        let services: std::collections::HashSet<&str> = t.spans().iter().map(|s| t.str(s.service)).collect();
        assert_eq!(services.len(), 5, "{services:?}");
        let errors = t.spans().iter().filter(|s| s.is_error()).count();
        assert!((100..=400).contains(&errors), "{errors} errors");
        for (i, s) in t.spans().iter().enumerate() {
            assert_eq!(s.start % 1000, 0);
            assert_eq!(s.end % 1000, 0);
            assert!(s.end > s.start);
            let attrs = t.attrs(i as u32).len();
            assert!((2..=6).contains(&attrs), "{attrs} attributes");
            let Some(p) = s.parent else { continue };
            let parent = t.span(p);
            assert!(s.start >= parent.start, "children start inside their parent");
            if t.str(s.op) != "queue.process" {
                assert!(s.end <= parent.end, "only queue tasks outlive their parent");
            }
        }
        let outliving = t.spans().iter().filter(|s| s.parent.is_some_and(|p| s.end > t.span(p).end)).count();
        assert!(outliving > 0, "some queue tasks end after their publish");
        let events = t.spans().iter().enumerate().filter(|(i, _)| !t.events(*i as u32).is_empty()).count();
        assert!(events > 0);
        let fan_out: Vec<usize> = (0..t.len() as u32).map(|i| t.children(i).count()).collect();
        assert!(fan_out.iter().any(|&n| n >= 5) && fan_out.iter().filter(|&&n| n == 1).count() > 10);
    }
}
