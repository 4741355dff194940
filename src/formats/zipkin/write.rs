//! Writing traces as Zipkin v2 JSON: one flat array of spans. Server halves of shared spans
//! (see [`super::shared`]) are written back with their client's id and `shared:true`.
//!
//! What Zipkin cannot hold: attribute types (tags are strings, so numbers and booleans come
//! back as text), event attributes (annotations are a timestamp and a value), an attribute
//! named `error` on a span that did not fail (Zipkin would read it as a failure), the kind
//! `internal` (Zipkin leaves local spans without a kind), and
//! zero durations (written as absent, which reads back as zero-length).

use std::borrow::Cow;
use std::io::{self, Write};

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::{DEBUG, LOCAL_ENDPOINT, REMOTE_ENDPOINT, SHARED, shared};
use crate::formats::json::to_micros;
use crate::formats::semconv::{self, OpHints};
use crate::model::{AttrValue, SpanFlags, SpanId, SpanIdx, SpanKind, Status, Trace};

/// Writes `traces` as one Zipkin v2 span array.
pub fn write(traces: &[&Trace], out: &mut dyn Write) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    let spans = traces.iter().flat_map(|t| (0..t.len() as SpanIdx).map(move |i| SpanOut { trace: t, idx: i }));
    let mut ser = serde_json::Serializer::new(&mut out);
    ser.collect_seq(spans)?;
    out.flush()
}

struct SpanOut<'t> {
    trace: &'t Trace,
    idx: SpanIdx,
}

/// Whether the span is the server half of a shared span: marked shared, and its id derived
/// from its parent's.
fn is_server_half(t: &Trace, idx: SpanIdx) -> bool {
    let s = t.span(idx);
    let marked = t.attrs(idx).iter().any(|a| matches!(a.value, AttrValue::Bool(true)) && t.str(a.key) == SHARED);
    marked && s.parent.is_some_and(|p| shared::half_ids(t.span(p).id).any(|id| id == s.id))
}

/// The id a span is written with.
fn written_id(t: &Trace, idx: SpanIdx) -> SpanId {
    match t.span(idx).parent {
        Some(p) if is_server_half(t, idx) => t.span(p).id,
        _ => t.span(idx).id,
    }
}

#[derive(Default)]
struct EndpointOut<'t> {
    service: Option<&'t str>,
    ipv4: Option<&'t str>,
    ipv6: Option<&'t str>,
    port: Option<i64>,
}

impl EndpointOut<'_> {
    fn is_empty(&self) -> bool {
        self.service.is_none() && self.ipv4.is_none() && self.ipv6.is_none() && self.port.is_none()
    }
}

impl Serialize for EndpointOut<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut map = ser.serialize_map(None)?;
        for (key, value) in [("serviceName", self.service), ("ipv4", self.ipv4), ("ipv6", self.ipv6)] {
            if let Some(value) = value {
                map.serialize_entry(key, value)?;
            }
        }
        if let Some(port) = self.port {
            map.serialize_entry("port", &port)?;
        }
        map.end()
    }
}

/// Takes an endpoint field from an attribute, if it has the endpoint's type.
fn endpoint_field<'t>(e: &mut EndpointOut<'t>, t: &'t Trace, field: &str, value: AttrValue) -> bool {
    match (field, value) {
        ("serviceName", AttrValue::Str(v)) => e.service = Some(t.str(v)),
        ("ipv4", AttrValue::Str(v)) => e.ipv4 = Some(t.str(v)),
        ("ipv6", AttrValue::Str(v)) => e.ipv6 = Some(t.str(v)),
        ("port", AttrValue::Int(v)) => e.port = Some(v),
        _ => return false,
    }
    true
}

/// An attribute value as a Zipkin tag string.
fn tag_text(t: &Trace, value: AttrValue) -> Cow<'_, str> {
    match value {
        AttrValue::Str(s) => Cow::Borrowed(t.str(s)),
        AttrValue::Int(i) => Cow::Owned(i.to_string()),
        AttrValue::Float(f) => Cow::Owned(f.to_string()),
        AttrValue::Bool(b) => Cow::Borrowed(if b { "true" } else { "false" }),
    }
}

fn kind_name(kind: SpanKind) -> Option<&'static str> {
    match kind {
        SpanKind::Client => Some("CLIENT"),
        SpanKind::Server => Some("SERVER"),
        SpanKind::Producer => Some("PRODUCER"),
        SpanKind::Consumer => Some("CONSUMER"),
        SpanKind::Internal | SpanKind::Unspecified => None,
    }
}

impl Serialize for SpanOut<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let (t, idx) = (self.trace, self.idx);
        let s = t.span(idx);
        let half = is_server_half(t, idx);
        let parent_id = match s.parent {
            Some(p) if half => t.span(p).parent_id,
            Some(p) => Some(written_id(t, p)),
            None => s.parent_id,
        };

        let mut local = EndpointOut { service: Some(t.str(s.service)).filter(|v| !v.is_empty()), ..Default::default() };
        let mut remote = EndpointOut::default();
        let (mut is_shared, mut debug, mut has_sentry_op) = (false, false, false);
        let mut hints = OpHints::default();
        let mut tags: Vec<(&str, Cow<str>)> = Vec::with_capacity(t.attrs(idx).len() + 2);
        for a in t.attrs(idx) {
            let key = t.str(a.key);
            let taken = match key {
                SHARED => matches!(a.value, AttrValue::Bool(true)) && !std::mem::replace(&mut is_shared, true),
                DEBUG => matches!(a.value, AttrValue::Bool(true)) && !std::mem::replace(&mut debug, true),
                // Zipkin reads any `error` tag as a failure; the status writes it.
                "error" => true,
                _ => match (key.strip_prefix(LOCAL_ENDPOINT), key.strip_prefix(REMOTE_ENDPOINT)) {
                    (Some(field), _) if field != "serviceName" => endpoint_field(&mut local, t, field, a.value),
                    (_, Some(field)) => endpoint_field(&mut remote, t, field, a.value),
                    _ => false,
                },
            };
            if !taken {
                hints.see(key);
                has_sentry_op |= key == semconv::SENTRY_OP;
                tags.push((key, tag_text(t, a.value)));
            }
        }
        match s.status {
            Status::Error => tags.push(("error", Cow::Borrowed(t.str(s.status_message)))),
            Status::Ok => {
                tags.push((semconv::STATUS_CODE, Cow::Borrowed("OK")));
                if !s.status_message.is_empty() {
                    tags.push((semconv::STATUS_DESCRIPTION, Cow::Borrowed(t.str(s.status_message))));
                }
            }
            Status::Unset => {}
        }
        let op = t.str(s.op);
        if !has_sentry_op && op != semconv::derive_op(s.kind, hints) {
            tags.push((semconv::SENTRY_OP, Cow::Borrowed(op)));
        }

        let mut map = ser.serialize_map(None)?;
        map.serialize_entry("traceId", &s.trace_id.to_string())?;
        if let Some(p) = parent_id {
            map.serialize_entry("parentId", &p.to_string())?;
        }
        map.serialize_entry("id", &written_id(t, idx).to_string())?;
        if let Some(kind) = kind_name(s.kind) {
            map.serialize_entry("kind", kind)?;
        }
        map.serialize_entry("name", t.str(s.name))?;
        let start = to_micros(s.start);
        // A span its file gave no time is written without one again (the reader places it the same way).
        if !s.flags.contains(SpanFlags::UNTIMED) {
            map.serialize_entry("timestamp", &start)?;
        }
        let duration = to_micros(s.end) - start;
        if duration > 0 {
            map.serialize_entry("duration", &duration)?;
        }
        if !local.is_empty() {
            map.serialize_entry("localEndpoint", &local)?;
        }
        if !remote.is_empty() {
            map.serialize_entry("remoteEndpoint", &remote)?;
        }
        let events = t.events(idx);
        if !events.is_empty() {
            let annotations: Vec<Annotation> =
                events.iter().map(|e| Annotation { timestamp: to_micros(e.time), value: t.str(e.name) }).collect();
            map.serialize_entry("annotations", &annotations)?;
        }
        if !tags.is_empty() {
            map.serialize_entry("tags", &Tags(&tags))?;
        }
        if is_shared {
            map.serialize_entry("shared", &true)?;
        }
        if debug {
            map.serialize_entry("debug", &true)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct Annotation<'t> {
    timestamp: i64,
    value: &'t str,
}

/// Tags as a JSON object, in attribute order.
struct Tags<'a>(&'a [(&'a str, Cow<'a, str>)]);

impl Serialize for Tags<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}
