//! Reading a tracedeck document (see [`super`] for the shape). Spans go into the
//! [`TraceBuilder`] one at a time as they are read; their times are made absolute once the
//! trace's `start` is known (it may come after the spans in a hand-edited file).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::VERSION;
use super::attrs::Attrs;
use super::span::{OneSpan, TRACE_OWN_ID, TraceIdText};
use crate::formats::FormatError;
use crate::formats::json::{self, Text};
use crate::model::{Nanos, Range32, RawEvent, SpanId, TraceBuilder};

/// Reads a tracedeck document. Errors name the line, column and JSON path, and what was
/// expected there.
pub fn parse(bytes: &[u8]) -> Result<TraceBuilder, FormatError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut builder = TraceBuilder::new();
    json::from_slice_seed(bytes, Document(&mut builder), Document(&mut TraceBuilder::new()))?;
    Ok(builder)
}

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
                TraceKey::Resources => map.next_value_seed(Resources(&mut *b, &mut resources))?,
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
        while seq.next_element_seed(OneSpan { b: &mut *self.0, named: &mut *self.1 })?.is_some() {}
        Ok(())
    }
}

/// Seed for a trace's resources: each is pushed as it is read, and its range noted.
struct Resources<'b>(&'b mut TraceBuilder, &'b mut Vec<Range32>);

impl<'de> DeserializeSeed<'de> for Resources<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Resources<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let b = self.0;
        loop {
            let mark = b.attr_mark();
            if seq.next_element_seed(Attrs(&mut *b))?.is_none() {
                return Ok(());
            }
            self.1.push(b.resource_since(mark));
        }
    }
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
