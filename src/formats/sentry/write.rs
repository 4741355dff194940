//! Traces to Sentry transaction events: a JSON array with one event per transaction.
//!
//! A transaction starts at every root and at every span whose service differs from its
//! parent's, so a trace that crossed processes becomes events stitched by
//! `contexts.trace.parent_span_id`, as Sentry stores them. The transaction's root span is its
//! `contexts.trace`; its name is the `transaction`, its service the `server_name`. The event
//! fields the importer keeps as attributes ([`super::keys`]) go back to their fields, all other
//! attributes into `data`. Errors linked to the trace become error events. Sentry has no span
//! events, so those are not written.

use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::keys;
use super::time::to_seconds;
use crate::model::{Attr, AttrValue, ErrorRef, Span, SpanFlags, SpanIdx, Status, Trace};

/// Writes `traces` as a JSON array of Sentry events, one per line.
pub fn write(traces: &[&Trace], out: &mut dyn Write) -> io::Result<()> {
    out.write_all(b"[")?;
    let mut first = true;
    let mut separator = |out: &mut dyn Write| -> io::Result<()> {
        out.write_all(if std::mem::take(&mut first) { b"\n" } else { b",\n" })
    };
    for trace in traces {
        for event in events(trace)? {
            separator(out)?;
            out.write_all(&event.json)?;
        }
    }
    out.write_all(b"\n]\n")
}

/// One event of a trace, as JSON.
pub(super) struct Event {
    /// Its envelope item type: `transaction` or `event`.
    pub item_type: &'static str,
    /// Its `event_id`.
    pub event_id: String,
    /// The event.
    pub json: Vec<u8>,
}

/// A trace's transactions, then its errors, as events.
pub(super) fn events(trace: &Trace) -> io::Result<Vec<Event>> {
    let transactions = transactions(trace).into_iter().map(|members| {
        let event = transaction(trace, &members);
        Ok(Event { item_type: "transaction", event_id: event.event_id.clone(), json: serde_json::to_vec(&event)? })
    });
    let errors = trace.errors().iter().enumerate().map(|(i, error)| {
        let event = error_event(trace, error, i);
        Ok(Event { item_type: "event", event_id: event.event_id.clone(), json: serde_json::to_vec(&event)? })
    });
    transactions.chain(errors).collect::<serde_json::Result<_>>().map_err(io::Error::from)
}

/// The spans of each transaction, its root first, in depth-first order.
fn transactions(trace: &Trace) -> Vec<Vec<SpanIdx>> {
    let spans = trace.spans();
    let mut owner: Vec<usize> = Vec::with_capacity(spans.len());
    let mut groups: Vec<Vec<SpanIdx>> = Vec::new();
    for (idx, span) in spans.iter().enumerate() {
        // Depth-first order: a parent's group is known before its children are seen.
        let group = match span.parent {
            Some(p) if spans[p as usize].service == span.service => owner[p as usize],
            _ => {
                groups.push(Vec::new());
                groups.len() - 1
            }
        };
        owner.push(group);
        groups[group].push(idx as SpanIdx);
    }
    groups
}

#[derive(Serialize)]
struct EventOut<'t> {
    #[serde(rename = "type")]
    kind: &'static str,
    event_id: String,
    transaction: &'t str,
    start_timestamp: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<f64>,
    #[serde(skip_serializing_if = "str::is_empty")]
    server_name: &'t str,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    release: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sdk: Option<SdkOut<'t>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_info: Option<SourceOut<'t>>,
    contexts: ContextsOut<'t>,
    spans: Vec<SpanOut<'t>>,
}

#[derive(Serialize)]
struct SdkOut<'t> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'t str>,
}

#[derive(Serialize)]
struct SourceOut<'t> {
    source: &'t str,
}

#[derive(Serialize)]
struct ContextsOut<'t> {
    trace: SpanOut<'t>,
}

/// A span, as `contexts.trace` (no times) or as one of `spans[]`.
#[derive(Serialize)]
struct SpanOut<'t> {
    trace_id: String,
    span_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_span_id: Option<String>,
    #[serde(skip_serializing_if = "str::is_empty")]
    op: &'t str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_timestamp: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'t str>,
    #[serde(skip_serializing_if = "Data::is_empty")]
    data: Data<'t>,
}

/// A span's attributes as a `data` object, without those that went to event fields.
struct Data<'t> {
    trace: &'t Trace,
    attrs: Vec<&'t Attr>,
}

impl Data<'_> {
    fn is_empty(&self) -> bool {
        self.attrs.is_empty()
    }
}

impl Serialize for Data<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.attrs.len()))?;
        for attr in &self.attrs {
            let key = self.trace.str(attr.key);
            match attr.value {
                AttrValue::Str(s) => map.serialize_entry(key, self.trace.str(s))?,
                AttrValue::Int(i) => map.serialize_entry(key, &i)?,
                AttrValue::Float(f) => map.serialize_entry(key, &f)?,
                AttrValue::Bool(b) => map.serialize_entry(key, &b)?,
            }
        }
        map.end()
    }
}

#[derive(Serialize)]
struct ErrorOut<'t> {
    #[serde(rename = "type")]
    kind: &'static str,
    event_id: String,
    title: &'t str,
    #[serde(skip_serializing_if = "str::is_empty")]
    level: &'t str,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<f64>,
    contexts: ErrorContextsOut,
}

#[derive(Serialize)]
struct ErrorContextsOut {
    trace: ErrorTraceOut,
}

#[derive(Serialize)]
struct ErrorTraceOut {
    trace_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    span_id: Option<String>,
}

/// Event fields kept as root attributes (see [`super::keys`]); the rest is span data.
const EVENT_FIELDS: [&str; 7] = [
    keys::EVENT_ID,
    keys::ENVIRONMENT,
    keys::RELEASE,
    keys::PLATFORM,
    keys::SDK_NAME,
    keys::SDK_VERSION,
    keys::TRANSACTION_SOURCE,
];

/// Whether an attribute goes back to an event field rather than into `data`.
fn is_event_field(trace: &Trace, attr: &Attr) -> bool {
    matches!(attr.value, AttrValue::Str(_)) && EVENT_FIELDS.contains(&trace.str(attr.key))
}

fn transaction<'t>(trace: &'t Trace, members: &[SpanIdx]) -> EventOut<'t> {
    let (&root_idx, rest) = members.split_first().expect("every transaction has its root span");
    let root = trace.span(root_idx);
    let field = |key: &str| {
        trace.attrs(root_idx).iter().find_map(|a| match a.value {
            AttrValue::Str(v) if trace.str(a.key) == key => Some(trace.str(v)),
            _ => None,
        })
    };
    let root_data = Data { trace, attrs: trace.attrs(root_idx).iter().filter(|a| !is_event_field(trace, a)).collect() };
    let sdk = match (field(keys::SDK_NAME), field(keys::SDK_VERSION)) {
        (None, None) => None,
        (name, version) => Some(SdkOut { name, version }),
    };
    EventOut {
        kind: "transaction",
        event_id: field(keys::EVENT_ID)
            .map_or_else(|| format!("{:016x}{}", root.trace_id.low64(), root.id), str::to_owned),
        transaction: trace.str(root.name),
        start_timestamp: to_seconds(root.start),
        timestamp: end_of(root),
        server_name: trace.str(root.service),
        environment: field(keys::ENVIRONMENT),
        release: field(keys::RELEASE),
        platform: field(keys::PLATFORM),
        sdk,
        transaction_info: field(keys::TRANSACTION_SOURCE).map(|source| SourceOut { source }),
        contexts: ContextsOut {
            trace: SpanOut {
                description: None,
                start_timestamp: None,
                timestamp: None,
                ..span_out(trace, root, root_data)
            },
        },
        spans: rest
            .iter()
            .map(|&idx| {
                let span = trace.span(idx);
                let data = Data { trace, attrs: trace.attrs(idx).iter().collect() };
                span_out(trace, span, data)
            })
            .collect(),
    }
}

fn span_out<'t>(trace: &'t Trace, span: &Span, data: Data<'t>) -> SpanOut<'t> {
    SpanOut {
        trace_id: span.trace_id.to_string(),
        span_id: span.id.to_string(),
        parent_span_id: span.parent_id.map(|p| p.to_string()),
        op: trace.str(span.op),
        description: Some(trace.str(span.name)),
        start_timestamp: Some(to_seconds(span.start)),
        timestamp: end_of(span),
        status: match span.status {
            Status::Unset => None,
            Status::Ok => Some("ok"),
            Status::Error if span.status_message.is_empty() => Some("unknown_error"),
            Status::Error => Some(trace.str(span.status_message)),
        },
        data,
    }
}

/// The end, unless the span never ended.
fn end_of(span: &Span) -> Option<f64> {
    (!span.flags.contains(SpanFlags::OPEN)).then(|| to_seconds(span.end))
}

fn error_event<'t>(trace: &'t Trace, error: &ErrorRef, index: usize) -> ErrorOut<'t> {
    let event_id = trace.str(error.event_id);
    ErrorOut {
        kind: "error",
        event_id: if event_id.is_empty() {
            format!("{:016x}{index:016x}", trace.trace_id().low64())
        } else {
            event_id.to_owned()
        },
        title: trace.str(error.title),
        level: trace.str(error.level),
        timestamp: error.time.map(to_seconds),
        contexts: ErrorContextsOut {
            trace: ErrorTraceOut {
                trace_id: trace.trace_id().to_string(),
                span_id: error.span.map(|idx| trace.span(idx).id.to_string()),
            },
        },
    }
}
