//! Writing traces as a tracedeck document (see [`super`] for the shape). Spans are streamed one
//! per line; nothing the size of the output is built in memory.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{self, SerializeMap, Serializer};

use super::VERSION;
use super::order::write_order;
use crate::model::{
    Attr, AttrValue, ErrorRef, Event, Nanos, Range32, SpanFlags, SpanIdx, SpanKind, Status, Trace, Warning,
};

/// Writes `traces` as one tracedeck document. Nothing of the model is left out; only a time
/// more than 292 years from its trace's start (which no importer makes) is an error.
pub fn write(traces: &[&Trace], out: &mut dyn Write) -> io::Result<()> {
    write!(out, "{{\"tracedeck\":{VERSION},\"traces\":[")?;
    for (i, trace) in traces.iter().enumerate() {
        out.write_all(if i > 0 { b",\n" } else { b"\n" })?;
        write_trace(trace, out)?;
    }
    out.write_all(b"\n]}\n")
}

fn write_trace(trace: &Trace, out: &mut dyn Write) -> io::Result<()> {
    write!(out, "{{\"trace_id\":\"{}\",\"start\":{}", trace.trace_id(), trace.start())?;
    // Each resource once; spans name theirs by its place in this list.
    let mut resources: HashMap<Range32, usize> = HashMap::new();
    let mut listed = Vec::new();
    for span in trace.spans().iter().filter(|s| s.resource.len > 0) {
        resources.entry(span.resource).or_insert_with(|| {
            listed.push(span.resource);
            listed.len() - 1
        });
    }
    if !listed.is_empty() {
        out.write_all(b",\"resources\":")?;
        let attrs = listed.iter().map(|&range| Attrs { trace, attrs: trace.attrs_in(range) });
        serde_json::to_writer(&mut *out, &List(attrs))?;
    }
    out.write_all(b",\"spans\":[")?;
    for (i, idx) in write_order(trace).into_iter().enumerate() {
        out.write_all(if i > 0 { b",\n" } else { b"\n" })?;
        let resource = resources.get(&trace.span(idx).resource).copied();
        serde_json::to_writer(&mut *out, &SpanOut { trace, idx, resource })?;
    }
    out.write_all(b"\n]")?;
    if !trace.errors().is_empty() {
        out.write_all(b",\n\"errors\":")?;
        serde_json::to_writer(&mut *out, &List(trace.errors().iter().map(|error| ErrorOut { trace, error })))?;
    }
    let notes = || {
        trace.warnings().iter().filter_map(|w| match w {
            Warning::Import(note) => Some(note),
            _ => None,
        })
    };
    if notes().next().is_some() {
        out.write_all(b",\n\"notes\":")?;
        serde_json::to_writer(&mut *out, &List(notes()))?;
    }
    out.write_all(b"}")
}

/// `time` as nanoseconds after the trace's start.
fn offset<E: ser::Error>(trace: &Trace, time: Nanos) -> Result<Nanos, E> {
    time.checked_sub(trace.start()).ok_or_else(|| {
        E::custom(format!("the time {time} ns is too far from the trace's start ({} ns) to write", trace.start()))
    })
}

/// Serializes the items of an iterator as a JSON array.
struct List<I>(I);

impl<I: Iterator<Item = T> + Clone, T: Serialize> Serialize for List<I> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.clone())
    }
}

struct SpanOut<'a> {
    trace: &'a Trace,
    idx: SpanIdx,
    /// The span's resource's place in the trace's `resources`.
    resource: Option<usize>,
}

impl Serialize for SpanOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (trace, span) = (self.trace, self.trace.span(self.idx));
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &format_args!("{}", span.id))?;
        if let Some(parent) = span.parent_id {
            m.serialize_entry("parent", &format_args!("{parent}"))?;
        }
        m.serialize_entry("start", &offset::<S::Error>(trace, span.start)?)?;
        if !span.flags.contains(SpanFlags::OPEN) {
            m.serialize_entry("duration", &span.duration())?;
        }
        if span.flags.contains(SpanFlags::END_BEFORE_START) {
            m.serialize_entry("end_before_start", &true)?;
        }
        if span.flags.contains(SpanFlags::UNTIMED) {
            m.serialize_entry("untimed", &true)?;
        }
        for (key, text) in [("name", span.name), ("op", span.op), ("service", span.service)] {
            if !text.is_empty() {
                m.serialize_entry(key, trace.str(text))?;
            }
        }
        if span.kind != SpanKind::Unspecified {
            m.serialize_entry("kind", span.kind.as_str())?;
        }
        match span.status {
            Status::Unset => {}
            Status::Ok => m.serialize_entry("status", "ok")?,
            Status::Error => m.serialize_entry("status", "error")?,
        }
        for (key, text) in [("status_message", span.status_message), ("transaction", span.transaction)] {
            if !text.is_empty() {
                m.serialize_entry(key, trace.str(text))?;
            }
        }
        let attrs = trace.attrs(self.idx);
        if !attrs.is_empty() {
            m.serialize_entry("attrs", &Attrs { trace, attrs })?;
        }
        if let Some(resource) = self.resource {
            m.serialize_entry("resource", &resource)?;
        }
        let events = trace.events(self.idx);
        if !events.is_empty() {
            m.serialize_entry("events", &List(events.iter().map(|event| EventOut { trace, event })))?;
        }
        if span.trace_id != trace.trace_id() {
            m.serialize_entry("trace_id", &format_args!("{}", span.trace_id))?;
        }
        m.end()
    }
}

/// Attributes as one JSON object, in order (a key may repeat).
#[derive(Clone)]
struct Attrs<'a> {
    trace: &'a Trace,
    attrs: &'a [Attr],
}

impl Serialize for Attrs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.attrs.len()))?;
        for attr in self.attrs {
            m.serialize_entry(self.trace.str(attr.key), &Value { trace: self.trace, value: attr.value })?;
        }
        m.end()
    }
}

struct Value<'a> {
    trace: &'a Trace,
    value: AttrValue,
}

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.value {
            AttrValue::Str(text) => s.serialize_str(self.trace.str(text)),
            AttrValue::Int(v) => s.serialize_i64(v),
            // serde_json writes finite floats with a fraction or exponent (`1.0`), so they
            // read back as floats, not integers.
            AttrValue::Float(v) if v.is_finite() => s.serialize_f64(v),
            AttrValue::Float(v) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("float", &NonFinite(v))?;
                m.end()
            }
            AttrValue::Bool(v) => s.serialize_bool(v),
        }
    }
}

/// `NaN`, `Infinity` or `-Infinity`.
struct NonFinite(f64);

impl Serialize for NonFinite {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Display for NonFinite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_nan() {
            "NaN"
        } else if self.0 > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        })
    }
}

struct EventOut<'a> {
    trace: &'a Trace,
    event: &'a Event,
}

impl Serialize for EventOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (trace, event) = (self.trace, self.event);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("time", &offset::<S::Error>(trace, event.time)?)?;
        if !event.name.is_empty() {
            m.serialize_entry("name", trace.str(event.name))?;
        }
        let attrs = trace.attrs_in(event.attrs);
        if !attrs.is_empty() {
            m.serialize_entry("attrs", &Attrs { trace, attrs })?;
        }
        m.end()
    }
}

struct ErrorOut<'a> {
    trace: &'a Trace,
    error: &'a ErrorRef,
}

impl Serialize for ErrorOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (trace, error) = (self.trace, self.error);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("title", trace.str(error.title))?;
        if let Some(span) = error.span {
            m.serialize_entry("span", &format_args!("{}", trace.span(span).id))?;
        }
        if let Some(time) = error.time {
            m.serialize_entry("time", &offset::<S::Error>(trace, time)?)?;
        }
        for (key, text) in [("event_id", error.event_id), ("level", error.level)] {
            if !text.is_empty() {
                m.serialize_entry(key, trace.str(text))?;
            }
        }
        m.end()
    }
}
