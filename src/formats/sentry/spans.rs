//! A transaction's `spans[]` (and the event-details API's `spans` entries), each pushed into
//! the builder as soon as it is read. What a span takes from its transaction (service,
//! transaction name, and its trace when it names none) is filled in once the transaction has
//! been read: see [`super::import`].

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::fields::{Fields, Optional, Struct, Values, got};
use super::keys;
use super::record::{Reading, Run, kind_of, status_of};
use super::schema::{ParentId, SpanIdText, Text, TraceIdText};
use super::time::Ts;
use super::values::{AttrsSeed, OptStr, TagsSeed};
use crate::model::{RawSpan, StrId, TraceId};

/// A list of spans (`null` is none): the builder's spans it pushed, (first, count).
pub(super) struct SpansSeed<'r>(pub &'r mut Reading);

impl<'de> DeserializeSeed<'de> for SpansSeed<'_> {
    type Value = Option<(u32, u32)>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        Optional(SpanList(self.0)).deserialize(de)
    }
}

struct SpanList<'r>(&'r mut Reading);

impl<'de> DeserializeSeed<'de> for SpanList<'_> {
    type Value = (u32, u32);

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(u32, u32), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SpanList<'_> {
    type Value = (u32, u32);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(u32, u32), A::Error> {
        read_spans(self.0, seq)
    }
}

fn read_spans<'de, A: SeqAccess<'de>>(im: &mut Reading, mut seq: A) -> Result<(u32, u32), A::Error> {
    let start = im.b.spans().len() as u32;
    while seq.next_element_seed(SpanSeed(&mut *im))?.is_some() {}
    Ok((start, im.b.spans().len() as u32 - start))
}

const SPAN: [&str; 11] = [
    "span_id",
    "trace_id",
    "parent_span_id",
    "op",
    "description",
    "start_timestamp",
    "timestamp",
    "status",
    "tags",
    "data",
    "origin",
];

/// One span of `spans[]`: pushed, with its transaction's service and name to come, and the
/// trace id 0 when it names none (it is then listed in the importer's `inherit`).
struct SpanSeed<'r>(&'r mut Reading);

impl<'de> DeserializeSeed<'de> for SpanSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        self.0.span_data.clear();
        self.0.span_tags.clear();
        let s = Struct(SpanFields { im: &mut *self.0, f: SpanRead::default() }).deserialize(de)?.f;
        // Both are there: `check` refused an object without them, and an array lists them.
        let span_id = s.span_id.ok_or_else(|| de::Error::missing_field("span_id"))?;
        let start = s.start.ok_or_else(|| de::Error::missing_field("start_timestamp"))?;
        let im = self.0;
        let b = &mut im.b;
        let mark = b.attr_mark();
        for &attr in im.span_data.iter().chain(&im.span_tags) {
            b.push_attr(attr.key, attr.value);
        }
        if let Some(origin) = s.origin {
            let key = b.intern(keys::ORIGIN);
            b.push_attr(key, crate::model::AttrValue::Str(origin));
        }
        if s.trace_id.is_none() {
            im.inherit.push(b.spans().len() as u32);
        }
        let mut raw = RawSpan::new(s.trace_id.unwrap_or(TraceId(0)), span_id, s.parent, start, s.end);
        raw.name = s.description.unwrap_or(StrId::EMPTY);
        raw.op = s.op.unwrap_or(StrId::EMPTY);
        raw.kind = kind_of(s.op.map_or("", |op| b.resolve(op)));
        (raw.status, raw.status_message) = status_of(b, s.status);
        raw.attrs = b.attrs_since(mark);
        b.push_span(raw);
        Ok(())
    }
}

/// A span's fields as read (its `data` and `tags` go to the importer's span scratch lists).
#[derive(Default)]
struct SpanRead {
    span_id: Option<crate::model::SpanId>,
    trace_id: Option<TraceId>,
    parent: Option<crate::model::SpanId>,
    start: Option<crate::model::Nanos>,
    end: Option<crate::model::Nanos>,
    op: Option<StrId>,
    description: Option<StrId>,
    status: Option<StrId>,
    origin: Option<StrId>,
}

struct SpanFields<'r> {
    im: &'r mut Reading,
    f: SpanRead,
}

impl<'de> Fields<'de> for SpanFields<'_> {
    fn name(&self) -> &'static str {
        "struct SpanJson"
    }
    fn fields(&self) -> &'static [&'static str] {
        &SPAN
    }
    fn defaults(&self) -> u64 {
        (1 << 2) | (1 << 8) | (1 << 9)
    }
    fn check<E: de::Error>(&self) -> Result<(), E> {
        match (self.f.span_id, self.f.start) {
            (None, _) => Err(E::missing_field("span_id")),
            (_, None) => Err(E::missing_field("start_timestamp")),
            _ => Ok(()),
        }
    }
    fn field<V: Values<'de>>(&mut self, i: usize, v: &mut V) -> Result<bool, V::Error> {
        let (im, s) = (&mut *self.im, &mut self.f);
        let b = &mut im.b;
        match i {
            0 => s.span_id = Some(got!(v.plain::<SpanIdText>()).0),
            1 => s.trace_id = got!(v.plain::<Option<TraceIdText>>()).map(|t| t.0),
            2 => s.parent = got!(v.plain::<ParentId>()).0,
            3 => s.op = got!(v.value(OptStr(b))),
            4 => s.description = got!(v.value(OptStr(b))),
            5 => s.start = Some(got!(v.plain::<Ts>()).0),
            6 => s.end = got!(v.plain::<Option<Ts>>()).map(|t| t.0),
            7 => s.status = got!(v.value(OptStr(b))),
            8 => got!(v.value(TagsSeed { b, out: &mut im.span_tags, server_name: &mut None })),
            9 => got!(v.value(AttrsSeed { b, out: &mut im.span_data, watch: "", saw: &mut false })),
            _ => s.origin = got!(v.value(OptStr(b))),
        }
        Ok(true)
    }
}

/// The event-details API's `entries` (`null` is none): the runs of spans its `spans` entries
/// pushed, as a run of the importer's `blocks`. Other entries' data is read (and checked) only.
pub(super) struct EntriesSeed<'r>(pub &'r mut Reading);

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_> {
    type Value = Option<Run>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        Optional(EntryList(self.0)).deserialize(de)
    }
}

struct EntryList<'r>(&'r mut Reading);

impl<'de> DeserializeSeed<'de> for EntryList<'_> {
    type Value = Run;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Run, D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntryList<'_> {
    type Value = Run;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Run, A::Error> {
        let start = self.0.blocks.len() as u32;
        while seq.next_element_seed(EntrySeed(&mut *self.0))?.is_some() {}
        Ok(Run { start, len: self.0.blocks.len() as u32 - start })
    }
}

/// One entry: `{"type": "spans", "data": [span, ...]}` or any other entry.
struct EntrySeed<'r>(&'r mut Reading);

impl<'de> DeserializeSeed<'de> for EntrySeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        let entry = Struct(EntryFields { im: &mut *self.0, spans_entry: false, spans: None }).deserialize(de)?;
        if let (true, Some(run)) = (entry.spans_entry, entry.spans) {
            self.0.blocks.push(run);
        }
        Ok(())
    }
}

struct EntryFields<'r> {
    im: &'r mut Reading,
    spans_entry: bool,
    spans: Option<(u32, u32)>,
}

impl<'de> Fields<'de> for EntryFields<'_> {
    fn name(&self) -> &'static str {
        "struct Entry"
    }
    fn fields(&self) -> &'static [&'static str] {
        &["type", "data"]
    }
    fn defaults(&self) -> u64 {
        2
    }
    fn field<V: Values<'de>>(&mut self, i: usize, v: &mut V) -> Result<bool, V::Error> {
        match i {
            0 => self.spans_entry = got!(v.plain::<Option<Text>>()).is_some_and(|k| k.as_str() == "spans"),
            _ => self.spans = got!(v.value(EntryData(&mut *self.im))),
        }
        Ok(true)
    }
}

/// An entry's `data`: the spans of a `spans` entry, nothing for other entries (objects).
struct EntryData<'r>(&'r mut Reading);

impl<'de> DeserializeSeed<'de> for EntryData<'_> {
    type Value = Option<(u32, u32)>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EntryData<'_> {
    type Value = Option<(u32, u32)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of spans or an entry object")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        read_spans(self.0, seq).map(Some)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        serde::Deserialize::deserialize(de::value::MapAccessDeserializer::new(map)).map(|IgnoredAny| None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}
