//! Hand-built traces for the analysis tests (test builds only).

use crate::model::{Nanos, RawSpan, SpanFlags, SpanId, Status, Trace, TraceBuilder, TraceId};

/// Milliseconds as nanoseconds, for readable test timings.
pub(crate) const MS: Nanos = 1_000_000;

/// One span to build: ids, times in milliseconds, and optional text fields.
pub(crate) struct TestSpan {
    id: u64,
    parent: Option<u64>,
    start_ms: Nanos,
    end_ms: Option<Nanos>,
    name: &'static str,
    op: &'static str,
    service: &'static str,
    status: Status,
    status_message: &'static str,
    attrs: Vec<(&'static str, Attr)>,
    untimed: bool,
}

enum Attr {
    Str(&'static str),
    Int(i64),
}

impl TestSpan {
    /// A span from `start_ms` to `end_ms` (milliseconds after the epoch).
    pub(crate) fn new(id: u64, parent: Option<u64>, start_ms: Nanos, end_ms: Nanos) -> Self {
        TestSpan {
            id,
            parent,
            start_ms,
            end_ms: Some(end_ms),
            name: "",
            op: "",
            service: "",
            status: Status::Unset,
            status_message: "",
            attrs: Vec::new(),
            untimed: false,
        }
    }

    /// A span its file gave no time: an importer placed it ([`SpanFlags::UNTIMED`]).
    pub(crate) fn untimed(mut self) -> Self {
        self.untimed = true;
        self
    }

    /// A span that never ended.
    pub(crate) fn open(mut self) -> Self {
        self.end_ms = None;
        self
    }

    pub(crate) fn name(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    pub(crate) fn op(mut self, op: &'static str) -> Self {
        self.op = op;
        self
    }

    pub(crate) fn service(mut self, service: &'static str) -> Self {
        self.service = service;
        self
    }

    /// Marks the span failed with the format's status text.
    pub(crate) fn error(mut self, message: &'static str) -> Self {
        self.status = Status::Error;
        self.status_message = message;
        self
    }

    pub(crate) fn attr(mut self, key: &'static str, value: &'static str) -> Self {
        self.attrs.push((key, Attr::Str(value)));
        self
    }

    pub(crate) fn int_attr(mut self, key: &'static str, value: i64) -> Self {
        self.attrs.push((key, Attr::Int(value)));
        self
    }
}

/// Builds one trace from the spans (they must share a tree).
pub(crate) fn build(spans: &[TestSpan]) -> Trace {
    let mut b = TraceBuilder::new();
    for s in spans {
        let mark = b.attr_mark();
        for (key, value) in &s.attrs {
            match value {
                Attr::Str(v) => b.push_attr_str(key, v),
                Attr::Int(n) => {
                    let key = b.intern(key);
                    b.push_attr(key, crate::model::AttrValue::Int(*n));
                }
            }
        }
        let sid = |v: u64| SpanId::new(v).expect("test span ids are not zero");
        let mut raw = RawSpan::new(TraceId(7), sid(s.id), s.parent.map(sid), s.start_ms * MS, s.end_ms.map(|e| e * MS));
        raw.name = b.intern(s.name);
        raw.op = b.intern(s.op);
        raw.service = b.intern(s.service);
        raw.status = s.status;
        raw.status_message = b.intern(s.status_message);
        raw.attrs = b.attrs_since(mark);
        if s.untimed {
            raw.flags.insert(SpanFlags::UNTIMED);
        }
        b.push_span(raw);
    }
    let mut traces = b.build().expect("test traces have no cycles");
    assert_eq!(traces.len(), 1, "test spans share one trace");
    traces.remove(0)
}

/// The index of the span with this id.
pub(crate) fn idx(trace: &Trace, id: u64) -> crate::model::SpanIdx {
    trace.find(SpanId::new(id).expect("test span ids are not zero")).expect("the span is in the trace")
}

/// The incident: the front acks at 500 ms after publishing a task; the worker picks it up
/// at 2.9 s and calls views.open at 3.2 s, which fails with expired_trigger_id.
pub(crate) fn incident() -> Trace {
    build(&[
        TestSpan::new(1, None, 0, 500).name("POST /slack/interactions").op("http.server").service("front"),
        TestSpan::new(2, Some(1), 20, 40).name("SELECT user").op("db").service("front"),
        TestSpan::new(3, Some(1), 100, 120).name("open_modal").op("queue.publish").service("front"),
        TestSpan::new(4, Some(3), 2900, 3600).name("open_modal").op("queue.process").service("worker"),
        TestSpan::new(5, Some(4), 2950, 3150).name("SELECT ticket").op("db").service("worker"),
        TestSpan::new(6, Some(4), 3200, 3500)
            .name("POST https://slack.com/api/views.open")
            .op("http.client")
            .service("worker")
            .error("internal_error")
            .attr("slack.error", "expired_trigger_id"),
    ])
}
