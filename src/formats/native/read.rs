//! Reading a tracedeck document (see [`super`] for the shape). Spans go into the
//! [`TraceBuilder`] one at a time as they are read; their times are made absolute once the
//! trace's `start` is known (it may come after the spans in a hand-edited file).

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::VERSION;
use crate::formats::FormatError;
use crate::formats::json::{self, Text};
use crate::model::{
    AttrValue, Event, Nanos, RawEvent, RawSpan, SpanFlags, SpanId, SpanKind, Status, TraceBuilder, TraceId,
};

/// Reads a tracedeck document. Errors name the line, column and JSON path, and what was
/// expected there.
pub fn parse(bytes: &[u8]) -> Result<TraceBuilder, FormatError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut builder = TraceBuilder::new();
    json::from_slice_seed(bytes, Document(&mut builder), Document(&mut TraceBuilder::new()))?;
    Ok(builder)
}

/// Stands for "the trace's id" in spans read before the trace's end; no real id is zero.
const TRACE_OWN_ID: TraceId = TraceId(0);

/// Seed for the whole document.
struct Document<'b>(&'b mut TraceBuilder);

impl<'de> DeserializeSeed<'de> for Document<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum DocumentKey {
    Traces,
}

impl<'de> Visitor<'de> for Document<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a tracedeck document ({{\"tracedeck\": {VERSION}, \"traces\": [...]}})")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        match map.next_key::<Text>()? {
            Some(key) if &*key == "tracedeck" => map.next_value::<Version>().map(drop)?,
            Some(key) => {
                return Err(de::Error::custom(format!(
                    "expected the format version first ({{\"tracedeck\": {VERSION}, ...}}), found the key {:?}",
                    &*key
                )));
            }
            None => return Err(de::Error::custom(format!("expected {{\"tracedeck\": {VERSION}, ...}}, found {{}}"))),
        }
        while let Some(key) = map.next_key::<DocumentKey>()? {
            match key {
                DocumentKey::Traces => map.next_value_seed(Traces(&mut *self.0))?,
            }
        }
        Ok(())
    }
}

/// The format version: [`VERSION`] or an older one (version 1 had no resources).
struct Version;

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Version;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "the format version, 1 to {VERSION}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Version, E> {
                match v {
                    1..=VERSION => Ok(Version),
                    newer if newer > VERSION => Err(E::custom(format!(
                        "this file is tracedeck format version {newer}, newer than this tracedeck reads \
                         ({VERSION}); open it with a newer tracedeck"
                    ))),
                    other => Err(E::invalid_value(de::Unexpected::Unsigned(other), &self)),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Version, E> {
                Err(E::invalid_value(de::Unexpected::Signed(v), &self))
            }
        }
        d.deserialize_u64(V)
    }
}

/// Seed for the list of traces.
struct Traces<'b>(&'b mut TraceBuilder);

impl<'de> DeserializeSeed<'de> for Traces<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Traces<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of traces")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(OneTrace(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

/// Seed for one trace.
struct OneTrace<'b>(&'b mut TraceBuilder);

impl<'de> DeserializeSeed<'de> for OneTrace<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum TraceKey {
    TraceId,
    Start,
    Resources,
    Spans,
    Errors,
    Notes,
}

impl<'de> Visitor<'de> for OneTrace<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a trace ({\"trace_id\": ..., \"start\": ..., \"spans\": [...]})")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let b = self.0;
        let (first_span, first_event) = (b.spans().len(), b.event_mark() as usize);
        let (mut trace_id, mut start) = (None, None);
        let (mut errors, mut notes): (Vec<ErrorDoc>, Vec<String>) = (Vec::new(), Vec::new());
        // Resources may come before or after the spans that name them.
        let (mut resources, mut named) = (Vec::new(), Vec::new());
        while let Some(key) = map.next_key::<TraceKey>()? {
            match key {
                TraceKey::TraceId => trace_id = Some(map.next_value::<TraceIdText>()?.0),
                TraceKey::Start => start = Some(map.next_value::<Nanos>()?),
                TraceKey::Resources => {
                    for attrs in map.next_value::<Vec<Attrs>>()? {
                        let mark = b.attr_mark();
                        attrs.push(b);
                        resources.push(b.resource_since(mark));
                    }
                }
                TraceKey::Spans => map.next_value_seed(Spans(&mut *b, &mut named))?,
                TraceKey::Errors => errors = map.next_value()?,
                TraceKey::Notes => notes = map.next_value()?,
            }
        }
        let trace_id = trace_id.ok_or_else(|| de::Error::missing_field("trace_id"))?;
        let start = start.ok_or_else(|| de::Error::missing_field("start"))?;
        for (span, resource) in named {
            let raw = &mut b.spans_mut()[span];
            raw.resource = *resources.get(resource as usize).ok_or_else(|| {
                de::Error::custom(format!(
                    "span {} names resource {resource}, but the trace lists {} resource(s)",
                    raw.id,
                    resources.len()
                ))
            })?;
        }
        let at = |offset: Nanos| -> Result<Nanos, A::Error> {
            start.checked_add(offset).ok_or_else(|| {
                de::Error::custom(format!("{offset} ns after the trace's start ({start} ns) is past the year 2262"))
            })
        };
        for span in &mut b.spans_mut()[first_span..] {
            if span.trace_id == TRACE_OWN_ID {
                span.trace_id = trace_id;
            }
            span.start = at(span.start)?;
            span.end = span.end.map(at).transpose()?;
        }
        for event in &mut b.events_mut()[first_event..] {
            event.time = at(event.time)?;
        }
        for error in errors {
            let (title, event_id, level) = (b.intern(&error.title), b.intern(&error.event_id), b.intern(&error.level));
            let time = error.time.map(at).transpose()?;
            b.push_error(RawEvent { trace_id, span_id: error.span, time, title, event_id, level });
        }
        for note in notes {
            b.note_trace(trace_id, note);
        }
        Ok(())
    }
}

/// Seed for a trace's spans: each is pushed as soon as it is read, with times relative to the
/// trace's start. Spans that name a resource are noted (builder index, resource number).
struct Spans<'b>(&'b mut TraceBuilder, &'b mut Vec<(usize, u32)>);

impl<'de> DeserializeSeed<'de> for Spans<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Spans<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of spans")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(span) = seq.next_element::<SpanDoc>()? {
            if let Some(resource) = span.resource {
                self.1.push((self.0.spans().len(), resource));
            }
            span.push(self.0).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpanDoc<'a> {
    #[serde(deserialize_with = "json::span_id")]
    id: SpanId,
    #[serde(default, deserialize_with = "json::opt_span_id")]
    parent: Option<SpanId>,
    #[serde(default)]
    trace_id: Option<TraceIdText>,
    start: Nanos,
    #[serde(default, deserialize_with = "duration")]
    duration: Option<Nanos>,
    #[serde(default)]
    end_before_start: bool,
    #[serde(default)]
    untimed: bool,
    #[serde(borrow, default)]
    name: Text<'a>,
    #[serde(borrow, default)]
    op: Text<'a>,
    #[serde(borrow, default)]
    service: Text<'a>,
    #[serde(default)]
    kind: Option<Kind>,
    #[serde(default)]
    status: Option<StatusText>,
    #[serde(borrow, default)]
    status_message: Text<'a>,
    #[serde(borrow, default)]
    transaction: Text<'a>,
    #[serde(borrow, default)]
    attrs: Attrs<'a>,
    #[serde(default)]
    resource: Option<u32>,
    #[serde(borrow, default)]
    events: Vec<EventDoc<'a>>,
}

impl SpanDoc<'_> {
    /// Pushes the span, its attributes and its events, times still relative to the trace.
    fn push(self, b: &mut TraceBuilder) -> Result<(), String> {
        let out_of_range = || format!("span {}: its end is out of range", self.id);
        let end = match (self.end_before_start, self.duration) {
            // The source's end is not kept; any end before the start makes the builder mark
            // the span again and make it zero-length.
            (true, _) => Some(self.start.checked_sub(1).ok_or_else(out_of_range)?),
            (false, Some(duration)) => Some(self.start.checked_add(duration).ok_or_else(out_of_range)?),
            (false, None) => None,
        };
        let trace_id = self.trace_id.map_or(TRACE_OWN_ID, |t| t.0);
        let mut span = RawSpan::new(trace_id, self.id, self.parent, self.start, end);
        span.name = b.intern(&self.name);
        span.op = b.intern(&self.op);
        span.service = b.intern(&self.service);
        span.transaction = b.intern(&self.transaction);
        span.status_message = b.intern(&self.status_message);
        span.kind = self.kind.map_or(SpanKind::Unspecified, Kind::model);
        span.status = self.status.map_or(Status::Unset, StatusText::model);
        if self.untimed {
            span.flags.insert(SpanFlags::UNTIMED);
        }
        let mark = b.attr_mark();
        self.attrs.push(b);
        span.attrs = b.attrs_since(mark);
        let events = b.event_mark();
        for event in self.events {
            let mark = b.attr_mark();
            event.attrs.push(b);
            let (name, attrs) = (b.intern(&event.name), b.attrs_since(mark));
            b.push_event(Event { time: event.time, name, attrs });
        }
        span.events = b.events_since(events);
        b.push_span(span);
        Ok(())
    }
}

/// `deserialize_with` for a duration: nanoseconds, not negative.
fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Nanos>, D::Error> {
    let nanos = Nanos::deserialize(d)?;
    if nanos < 0 {
        return Err(de::Error::custom(format!(
            "expected a duration of zero or more nanoseconds, found {nanos} (a span that ended before it \
             started has \"duration\": 0, \"end_before_start\": true)"
        )));
    }
    Ok(Some(nanos))
}

/// A hex trace id.
#[derive(Deserialize)]
struct TraceIdText(#[serde(deserialize_with = "json::trace_id")] TraceId);

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

impl Kind {
    fn model(self) -> SpanKind {
        match self {
            Kind::Internal => SpanKind::Internal,
            Kind::Server => SpanKind::Server,
            Kind::Client => SpanKind::Client,
            Kind::Producer => SpanKind::Producer,
            Kind::Consumer => SpanKind::Consumer,
        }
    }
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum StatusText {
    Ok,
    Error,
}

impl StatusText {
    fn model(self) -> Status {
        match self {
            StatusText::Ok => Status::Ok,
            StatusText::Error => Status::Error,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventDoc<'a> {
    time: Nanos,
    #[serde(borrow, default)]
    name: Text<'a>,
    #[serde(borrow, default)]
    attrs: Attrs<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorDoc {
    title: String,
    #[serde(default, deserialize_with = "json::opt_span_id")]
    span: Option<SpanId>,
    #[serde(default)]
    time: Option<Nanos>,
    #[serde(default)]
    event_id: String,
    #[serde(default)]
    level: String,
}

/// Attributes in file order, repeated keys kept.
#[derive(Default)]
struct Attrs<'a>(Vec<(Text<'a>, Value<'a>)>);

impl Attrs<'_> {
    fn push(self, b: &mut TraceBuilder) {
        for (key, value) in self.0 {
            let key = b.intern(&key);
            let value = match value {
                Value::Str(text) => AttrValue::Str(b.intern(&text)),
                Value::Int(v) => AttrValue::Int(v),
                Value::Float(v) => AttrValue::Float(v),
                Value::Bool(v) => AttrValue::Bool(v),
            };
            b.push_attr(key, value);
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Attrs<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Attrs<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of attributes")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Attrs<'a>, M::Error> {
                let mut attrs = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(pair) = map.next_entry::<Text, Value>()? {
                    attrs.push(pair);
                }
                Ok(Attrs(attrs))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// An attribute's value, typed by how it is written.
enum Value<'a> {
    Str(Text<'a>),
    Int(i64),
    Float(f64),
    Bool(bool),
}

const VALUE: &str = "a string, a number, true, false, or {\"float\": \"NaN\"} (or \"Infinity\", \"-Infinity\")";

impl<'de: 'a, 'a> Deserialize<'de> for Value<'a> {
    /// Read as raw JSON text first: serde_json's own float parsing may miss the last bit, and
    /// the format promises floats back exactly; the standard library's parsing is exact.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(d)?;
        let text = raw.get();
        let wrong = || de::Error::custom(format!("expected {VALUE}, found {text}"));
        match text.as_bytes().first() {
            Some(b'"') => serde_json::from_str(text).map(Value::Str).map_err(|_| wrong()),
            Some(b't') => Ok(Value::Bool(true)),
            Some(b'f') => Ok(Value::Bool(false)),
            Some(b'{') => {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct NonFinite<'a> {
                    #[serde(borrow)]
                    float: Text<'a>,
                }
                let value = serde_json::from_str::<NonFinite>(text).map_err(|_| wrong())?;
                match &*value.float {
                    "NaN" => Ok(Value::Float(f64::NAN)),
                    "Infinity" => Ok(Value::Float(f64::INFINITY)),
                    "-Infinity" => Ok(Value::Float(f64::NEG_INFINITY)),
                    _ => Err(wrong()),
                }
            }
            Some(b'-' | b'0'..=b'9') if text.contains(['.', 'e', 'E']) => {
                text.parse().map(Value::Float).map_err(|_| wrong())
            }
            Some(b'-' | b'0'..=b'9') => text.parse().map(Value::Int).map_err(|_| {
                de::Error::custom(format!(
                    "the integer {text} does not fit in 64 bits; write it as a float or a string"
                ))
            }),
            _ => Err(wrong()),
        }
    }
}
