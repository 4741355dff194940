//! Writing traces as one OTLP JSON document: one `resourceSpans` entry per resource (a service
//! and its resource attributes), hex ids,
//! nanosecond strings, typed attribute values, events and status. Spans are streamed one at a
//! time; nothing the size of the output is built in memory.

use std::collections::HashMap;
use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

use super::op::{SENTRY_OP, derive_op};
use super::values::proto_float_text;
use crate::formats::semconv::{SERVICE_NAME, resource_besides_service};
use crate::model::{Attr, AttrValue, Event, Range32, Span, SpanFlags, SpanIdx, Status, StrId, Trace};

/// Writes `traces` as an OTLP JSON `TracesData` document. Open spans get an end of `"0"`; a
/// span whose op its attributes do not imply gets a `sentry.op` attribute so the op survives.
/// Error events not tied to an `exception` event (Sentry's) are not written.
pub fn write(traces: &[&Trace], out: &mut dyn Write) -> io::Result<()> {
    // Spans grouped by their resource, as written: the resource's attribute list is the key.
    let mut resources: Vec<(String, Vec<(&Trace, SpanIdx)>)> = Vec::new();
    let mut slots: HashMap<String, usize> = HashMap::new();
    for trace in traces {
        let mut seen: HashMap<(StrId, Range32), usize> = HashMap::new();
        for (idx, span) in trace.spans().iter().enumerate() {
            let slot = match seen.get(&(span.service, span.resource)) {
                Some(&slot) => slot,
                None => {
                    let text = serde_json::to_string(&ResourceAttrs { trace, span })?;
                    let slot = *slots.entry(text.clone()).or_insert_with(|| {
                        resources.push((text, Vec::new()));
                        resources.len() - 1
                    });
                    seen.insert((span.service, span.resource), slot);
                    slot
                }
            };
            resources[slot].1.push((trace, idx as SpanIdx));
        }
    }
    out.write_all(b"{\"resourceSpans\":[")?;
    for (i, (resource, spans)) in resources.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"\n{\"resource\":{\"attributes\":")?;
        out.write_all(resource.as_bytes())?;
        out.write_all(b"},\"scopeSpans\":[{\"scope\":{},\"spans\":[")?;
        for (j, &(trace, idx)) in spans.iter().enumerate() {
            out.write_all(if j > 0 { b",\n" } else { b"\n" })?;
            serde_json::to_writer(&mut *out, &SpanOut { trace, idx })?;
        }
        out.write_all(b"]}]}")?;
    }
    out.write_all(b"\n]}\n")
}

struct SpanOut<'a> {
    trace: &'a Trace,
    idx: SpanIdx,
}

impl Serialize for SpanOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (trace, span) = (self.trace, self.trace.span(self.idx));
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("traceId", &format_args!("{:032x}", span.trace_id.0))?;
        m.serialize_entry("spanId", &format_args!("{}", span.id))?;
        if let Some(parent) = span.parent_id {
            m.serialize_entry("parentSpanId", &format_args!("{parent}"))?;
        }
        m.serialize_entry("name", trace.str(span.name))?;
        m.serialize_entry("kind", &(span.kind as u8))?;
        m.serialize_entry("startTimeUnixNano", &format_args!("{}", span.start))?;
        let end = if span.flags.contains(SpanFlags::OPEN) { 0 } else { span.end };
        m.serialize_entry("endTimeUnixNano", &format_args!("{end}"))?;
        let attrs = trace.attrs(self.idx);
        let op = trace.str(span.op);
        let keys = attrs.iter().map(|a| trace.str(a.key));
        let keep_op =
            !op.is_empty() && trace.attr_str(self.idx, SENTRY_OP).is_none() && derive_op(span.kind, keys) != op;
        m.serialize_entry("attributes", &Attrs { trace, attrs, op: keep_op.then_some(op) })?;
        let events = trace.events(self.idx);
        if !events.is_empty() {
            m.serialize_entry("events", &Events { trace, events })?;
        }
        let message = trace.str(span.status_message);
        if span.status != Status::Unset || !message.is_empty() {
            m.serialize_entry("status", &StatusOut { code: span.status as u8, message })?;
        }
        m.end()
    }
}

/// A span's resource attributes: `service.name` (the span's service) first, then the others.
struct ResourceAttrs<'a> {
    trace: &'a Trace,
    span: &'a Span,
}

impl Serialize for ResourceAttrs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (trace, service) = (self.trace, self.trace.str(self.span.service));
        let mut seq = s.serialize_seq(None)?;
        if !service.is_empty() {
            seq.serialize_element(&Pair { key: SERVICE_NAME, value: Value::Text(service) })?;
        }
        for attr in resource_besides_service(trace, self.span.resource) {
            seq.serialize_element(&Pair { key: trace.str(attr.key), value: Value::of(trace, attr.value) })?;
        }
        seq.end()
    }
}

/// A list of attributes, plus `sentry.op` when `op` is given.
struct Attrs<'a> {
    trace: &'a Trace,
    attrs: &'a [Attr],
    op: Option<&'a str>,
}

impl Serialize for Attrs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.attrs.len() + usize::from(self.op.is_some())))?;
        for attr in self.attrs {
            seq.serialize_element(&Pair { key: self.trace.str(attr.key), value: Value::of(self.trace, attr.value) })?;
        }
        if let Some(op) = self.op {
            seq.serialize_element(&Pair { key: SENTRY_OP, value: Value::Text(op) })?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct Pair<'a> {
    key: &'a str,
    value: Value<'a>,
}

/// An `AnyValue`.
enum Value<'a> {
    Text(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl<'a> Value<'a> {
    fn of(trace: &'a Trace, value: AttrValue) -> Self {
        match value {
            AttrValue::Str(v) => Value::Text(trace.str(v)),
            AttrValue::Int(v) => Value::Int(v),
            AttrValue::Float(v) => Value::Float(v),
            AttrValue::Bool(v) => Value::Bool(v),
        }
    }
}

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        match *self {
            Value::Text(v) => m.serialize_entry("stringValue", v)?,
            Value::Int(v) => m.serialize_entry("intValue", &format_args!("{v}"))?,
            Value::Float(v) if v.is_finite() => m.serialize_entry("doubleValue", &v)?,
            Value::Float(v) => m.serialize_entry("doubleValue", proto_float_text(v))?,
            Value::Bool(v) => m.serialize_entry("boolValue", &v)?,
        }
        m.end()
    }
}

struct Events<'a> {
    trace: &'a Trace,
    events: &'a [Event],
}

impl Serialize for Events<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.events.len()))?;
        for event in self.events {
            seq.serialize_element(&EventOut { trace: self.trace, event })?;
        }
        seq.end()
    }
}

struct EventOut<'a> {
    trace: &'a Trace,
    event: &'a Event,
}

impl Serialize for EventOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("timeUnixNano", &format_args!("{}", self.event.time))?;
        m.serialize_entry("name", self.trace.str(self.event.name))?;
        let attrs = self.trace.attrs_in(self.event.attrs);
        m.serialize_entry("attributes", &Attrs { trace: self.trace, attrs, op: None })?;
        m.end()
    }
}

#[derive(Serialize)]
struct StatusOut<'a> {
    code: u8,
    #[serde(skip_serializing_if = "str::is_empty")]
    message: &'a str,
}
