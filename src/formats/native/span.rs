//! Reading one span, or one span event, straight into the [`TraceBuilder`]: each field is
//! stored as it is read (strings interned, attributes and events pushed), so nothing is
//! collected per span. Times stay relative to the trace's start, which [`super::read`] adds
//! once it knows it.
//!
//! The fields, their types and the errors are those of a struct deserialized by serde's derive
//! with `deny_unknown_fields` (which is what this reader was): unknown, repeated and missing
//! fields are named, and, as a derived struct does, a span may also be written as an array of
//! its fields in order.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::attrs::Attrs;
use crate::formats::json::{self, Text};
use crate::model::{Event, Nanos, Range32, RawSpan, SpanFlags, SpanId, SpanKind, Status, StrId, TraceBuilder, TraceId};

/// Stands for "the trace's id" in spans read before the trace's end; no real id is zero.
pub(super) const TRACE_OWN_ID: TraceId = TraceId(0);

/// Seed for one span: pushes it (times relative to the trace's start) and notes
/// `(builder index, resource number)` in `named` when it names a resource.
pub(super) struct OneSpan<'b> {
    pub b: &'b mut TraceBuilder,
    pub named: &'b mut Vec<(usize, u32)>,
}

/// A span's fields, in the order of the derived struct this reader was (and of its array form).
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(field_identifier, rename_all = "snake_case")]
enum SpanKey {
    Id,
    Parent,
    TraceId,
    Start,
    Duration,
    EndBeforeStart,
    Untimed,
    Name,
    Op,
    Service,
    Kind,
    Status,
    StatusMessage,
    Transaction,
    Attrs,
    Resource,
    Events,
}

/// Every [`SpanKey`] with its name, in order.
const SPAN_KEYS: [(SpanKey, &str); 17] = [
    (SpanKey::Id, "id"),
    (SpanKey::Parent, "parent"),
    (SpanKey::TraceId, "trace_id"),
    (SpanKey::Start, "start"),
    (SpanKey::Duration, "duration"),
    (SpanKey::EndBeforeStart, "end_before_start"),
    (SpanKey::Untimed, "untimed"),
    (SpanKey::Name, "name"),
    (SpanKey::Op, "op"),
    (SpanKey::Service, "service"),
    (SpanKey::Kind, "kind"),
    (SpanKey::Status, "status"),
    (SpanKey::StatusMessage, "status_message"),
    (SpanKey::Transaction, "transaction"),
    (SpanKey::Attrs, "attrs"),
    (SpanKey::Resource, "resource"),
    (SpanKey::Events, "events"),
];

/// The names of [`SPAN_KEYS`], for serde's `deserialize_struct`.
const SPAN_FIELDS: [&str; 17] = {
    let mut names = [""; 17];
    let mut i = 0;
    while i < 17 {
        names[i] = SPAN_KEYS[i].1;
        i += 1;
    }
    names
};

/// What has been read of a span so far.
#[derive(Default)]
struct SpanFields {
    /// The keys read, one bit per [`SpanKey`] (a repeated key is an error).
    seen: u64,
    id: Option<SpanId>,
    parent: Option<SpanId>,
    trace_id: Option<TraceId>,
    start: Option<Nanos>,
    duration: Option<Nanos>,
    end_before_start: bool,
    untimed: bool,
    strings: [StrId; 5],
    kind: Option<Kind>,
    status: Option<StatusText>,
    attrs: Option<Range32>,
    resource: Option<u32>,
    events: Option<Range32>,
}

impl<'de> DeserializeSeed<'de> for OneSpan<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_struct("SpanDoc", &SPAN_FIELDS, self)
    }
}

impl<'de> Visitor<'de> for OneSpan<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct SpanDoc")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut span = SpanFields::default();
        while let Some(key) = map.next_key::<SpanKey>()? {
            json::first_time(&mut span.seen, key as usize, SPAN_FIELDS[key as usize])?;
            map.next_value_seed(SpanField { key, span: &mut span, b: &mut *self.b })?;
        }
        self.push(span)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut span = SpanFields::default();
        for (i, (key, _)) in SPAN_KEYS.into_iter().enumerate() {
            let read = seq.next_element_seed(SpanField { key, span: &mut span, b: &mut *self.b })?;
            if read.is_none() && matches!(key, SpanKey::Id | SpanKey::Start) {
                return Err(de::Error::invalid_length(i, &"struct SpanDoc with 17 elements"));
            }
        }
        self.push(span)
    }
}

impl OneSpan<'_> {
    /// Pushes the span read, its times still relative to the trace.
    fn push<E: de::Error>(self, span: SpanFields) -> Result<(), E> {
        let b = self.b;
        let id = span.id.ok_or_else(|| E::missing_field("id"))?;
        let start = span.start.ok_or_else(|| E::missing_field("start"))?;
        let out_of_range = || E::custom(format!("span {id}: its end is out of range"));
        let end = match (span.end_before_start, span.duration) {
            // The source's end is not kept; any end before the start makes the builder mark
            // the span again and make it zero-length.
            (true, _) => Some(start.checked_sub(1).ok_or_else(out_of_range)?),
            (false, Some(duration)) => Some(start.checked_add(duration).ok_or_else(out_of_range)?),
            (false, None) => None,
        };
        let mut raw = RawSpan::new(span.trace_id.unwrap_or(TRACE_OWN_ID), id, span.parent, start, end);
        [raw.name, raw.op, raw.service, raw.transaction, raw.status_message] = span.strings;
        raw.kind = span.kind.map_or(SpanKind::Unspecified, Kind::model);
        raw.status = span.status.map_or(Status::Unset, StatusText::model);
        if span.untimed {
            raw.flags.insert(SpanFlags::UNTIMED);
        }
        raw.attrs = span.attrs.unwrap_or_else(|| b.attrs_since(b.attr_mark()));
        raw.events = span.events.unwrap_or_else(|| b.events_since(b.event_mark()));
        if let Some(resource) = span.resource {
            self.named.push((b.spans().len(), resource));
        }
        b.push_span(raw);
        Ok(())
    }
}

/// Seed for the value of one field of a span.
struct SpanField<'s, 'b> {
    key: SpanKey,
    span: &'s mut SpanFields,
    b: &'b mut TraceBuilder,
}

impl<'de> DeserializeSeed<'de> for SpanField<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let (span, b) = (self.span, self.b);
        match self.key {
            SpanKey::Id => span.id = Some(json::span_id(d)?),
            SpanKey::Parent => span.parent = json::opt_span_id(d)?,
            SpanKey::TraceId => span.trace_id = Option::<TraceIdText>::deserialize(d)?.map(|t| t.0),
            SpanKey::Start => span.start = Some(Nanos::deserialize(d)?),
            SpanKey::Duration => span.duration = Some(duration(d)?),
            SpanKey::EndBeforeStart => span.end_before_start = bool::deserialize(d)?,
            SpanKey::Untimed => span.untimed = bool::deserialize(d)?,
            SpanKey::Name => span.strings[0] = intern(b, d)?,
            SpanKey::Op => span.strings[1] = intern(b, d)?,
            SpanKey::Service => span.strings[2] = intern(b, d)?,
            SpanKey::Transaction => span.strings[3] = intern(b, d)?,
            SpanKey::StatusMessage => span.strings[4] = intern(b, d)?,
            SpanKey::Kind => span.kind = Option::<Kind>::deserialize(d)?,
            SpanKey::Status => span.status = Option::<StatusText>::deserialize(d)?,
            SpanKey::Attrs => {
                let mark = b.attr_mark();
                Attrs(&mut *b).deserialize(d)?;
                span.attrs = Some(b.attrs_since(mark));
            }
            SpanKey::Resource => span.resource = Option::<u32>::deserialize(d)?,
            SpanKey::Events => {
                let mark = b.event_mark();
                d.deserialize_seq(Events(&mut *b))?;
                span.events = Some(b.events_since(mark));
            }
        }
        Ok(())
    }
}

/// A string, interned.
fn intern<'de, D: Deserializer<'de>>(b: &mut TraceBuilder, d: D) -> Result<StrId, D::Error> {
    Ok(b.intern(&Text::deserialize(d)?))
}

/// A duration: nanoseconds, not negative.
fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Nanos, D::Error> {
    let nanos = Nanos::deserialize(d)?;
    if nanos < 0 {
        return Err(de::Error::custom(format!(
            "expected a duration of zero or more nanoseconds, found {nanos} (a span that ended before it \
             started has \"duration\": 0, \"end_before_start\": true)"
        )));
    }
    Ok(nanos)
}

/// A hex trace id.
#[derive(Deserialize)]
pub(super) struct TraceIdText(#[serde(deserialize_with = "json::trace_id")] pub TraceId);

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

/// Visitor for a span's events: each is pushed as it is read.
struct Events<'b>(&'b mut TraceBuilder);

impl<'de> Visitor<'de> for Events<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(OneEvent(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

/// An event's fields, in the order of the derived struct this reader was.
#[derive(Deserialize, Clone, Copy)]
#[serde(field_identifier, rename_all = "snake_case")]
enum EventKey {
    Time,
    Name,
    Attrs,
}

const EVENT_FIELDS: [&str; 3] = ["time", "name", "attrs"];

/// What has been read of an event so far.
#[derive(Default)]
struct EventFields {
    seen: u64,
    time: Option<Nanos>,
    name: StrId,
    attrs: Option<Range32>,
}

/// Seed for one event: pushes it, its time still relative to the trace's start.
struct OneEvent<'b>(&'b mut TraceBuilder);

impl<'de> DeserializeSeed<'de> for OneEvent<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_struct("EventDoc", &EVENT_FIELDS, self)
    }
}

impl<'de> Visitor<'de> for OneEvent<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct EventDoc")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut event = EventFields::default();
        while let Some(key) = map.next_key::<EventKey>()? {
            json::first_time(&mut event.seen, key as usize, EVENT_FIELDS[key as usize])?;
            map.next_value_seed(EventField { key, event: &mut event, b: &mut *self.0 })?;
        }
        push_event(self.0, event)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut event = EventFields::default();
        for key in [EventKey::Time, EventKey::Name, EventKey::Attrs] {
            let read = seq.next_element_seed(EventField { key, event: &mut event, b: &mut *self.0 })?;
            if read.is_none() && matches!(key, EventKey::Time) {
                return Err(de::Error::invalid_length(0, &"struct EventDoc with 3 elements"));
            }
        }
        push_event(self.0, event)
    }
}

fn push_event<E: de::Error>(b: &mut TraceBuilder, event: EventFields) -> Result<(), E> {
    let time = event.time.ok_or_else(|| E::missing_field("time"))?;
    let attrs = event.attrs.unwrap_or_else(|| b.attrs_since(b.attr_mark()));
    b.push_event(Event { time, name: event.name, attrs });
    Ok(())
}

/// Seed for the value of one field of an event.
struct EventField<'s, 'b> {
    key: EventKey,
    event: &'s mut EventFields,
    b: &'b mut TraceBuilder,
}

impl<'de> DeserializeSeed<'de> for EventField<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let (event, b) = (self.event, self.b);
        match self.key {
            EventKey::Time => event.time = Some(Nanos::deserialize(d)?),
            EventKey::Name => event.name = intern(b, d)?,
            EventKey::Attrs => {
                let mark = b.attr_mark();
                Attrs(&mut *b).deserialize(d)?;
                event.attrs = Some(b.attrs_since(mark));
            }
        }
        Ok(())
    }
}
