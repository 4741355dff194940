//! Sentry's span v2 items ("span streaming"): an envelope item of type `span` whose payload is
//! `{"version": 2, "items": [span, ...]}`.
//!
//! Each span maps onto the model directly: `name` is the name, `sentry.op` the op (and with it
//! the kind), `sentry.segment.name` the transaction; `status` is `"ok"` or `"error"`. The service
//! is the span's `service.name` attribute, else the `server.address` of the batch's segment span
//! (the SDK's `server_name`, as transactions give it). Attributes (`{"key": {"type": .., "value":
//! ..}}`) keep their types; arrays are kept as JSON text.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::import::Import;
use super::record::kind_of;
use super::schema::{ParentId, SpanIdText, Text, TraceIdText, Value};
use super::time::Ts;
use crate::model::{RawSpan, StrId};

/// Attribute keys with a meaning of their own.
const OP: &str = "sentry.op";
const SEGMENT_NAME: &str = "sentry.segment.name";
const SERVICE: &str = "service.name";
const SERVER_ADDRESS: &str = "server.address";

/// A `span` item's payload.
#[derive(Deserialize, Debug)]
pub(super) struct Batch<'a> {
    #[serde(borrow)]
    items: Vec<SpanV2<'a>>,
}

/// One span of a batch.
#[derive(Deserialize, Debug)]
struct SpanV2<'a> {
    trace_id: TraceIdText,
    span_id: SpanIdText,
    #[serde(default)]
    parent_span_id: ParentId,
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(borrow)]
    status: Option<Text<'a>>,
    #[serde(default)]
    is_segment: bool,
    start_timestamp: Ts,
    end_timestamp: Option<Ts>,
    #[serde(default, borrow)]
    attributes: Attributes<'a>,
}

/// `attributes`: `{"key": {"type": "string", "value": "x"}}`, in file order; `null` is none.
#[derive(Debug, Default)]
struct Attributes<'a>(Vec<(Text<'a>, Value<'a>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Attributes<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = Attributes<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of attributes, each {\"type\": .., \"value\": ..}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((key, attribute)) = map.next_entry::<Text<'de>, Attribute<'de>>()? {
                    out.push((key, attribute.value.unwrap_or(Value::Null)));
                }
                Ok(Attributes(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Attributes::default())
            }
        }
        deserializer.deserialize_any(MapVisitor)
    }
}

/// One attribute: its value; the `type` (and `unit`) add nothing the value's JSON type does not say.
#[derive(Deserialize)]
struct Attribute<'a> {
    #[serde(borrow)]
    value: Option<Value<'a>>,
}

impl Attributes<'_> {
    fn text(&self, key: &str) -> Option<&str> {
        self.0.iter().find_map(|(k, v)| match v {
            Value::Str(s) if k.as_str() == key => Some(s.as_ref()),
            _ => None,
        })
    }
}

/// Pushes a batch's spans.
pub(super) fn import(import: &mut Import, batch: &Batch) {
    let segment_service = batch.items.iter().filter(|s| s.is_segment).find_map(|s| s.attributes.text(SERVER_ADDRESS));
    for span in &batch.items {
        let mark = import.r.b.attr_mark();
        for (key, value) in &span.attributes.0 {
            import.value(key.as_str(), value);
        }
        let mut raw = RawSpan::new(
            span.trace_id.0,
            span.span_id.0,
            span.parent_span_id.0,
            span.start_timestamp.0,
            span.end_timestamp.map(|t| t.0),
        );
        let op = span.attributes.text(OP).unwrap_or("");
        raw.name = import.intern_opt(&span.name);
        raw.op = intern(import, op);
        raw.kind = kind_of(op);
        raw.transaction = intern(import, span.attributes.text(SEGMENT_NAME).unwrap_or(""));
        raw.service = intern(import, span.attributes.text(SERVICE).or(segment_service).unwrap_or(""));
        (raw.status, raw.status_message) = import.status(&span.status);
        raw.attrs = import.r.b.attrs_since(mark);
        import.r.b.push_span(raw);
    }
}

fn intern(import: &mut Import, text: &str) -> StrId {
    if text.is_empty() { StrId::EMPTY } else { import.r.b.intern(text) }
}
