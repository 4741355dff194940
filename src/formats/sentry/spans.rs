//! A transaction's `spans[]` (and the event-details API's `spans` entries), each pushed into
//! the builder as soon as it is read. What a span takes from its transaction (service,
//! transaction name, and its trace when it names none) is filled in once the transaction has
//! been read: see [`super::import`].

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::import::{Import, kind_of, status_of};
use super::item::{Optional, Run, no_list, once};
use super::keys;
use super::schema::{ParentId, SpanIdText, Text, TraceIdText};
use super::time::Ts;
use super::values::{AttrsSeed, OptStr, TagsSeed};
use crate::model::{RawSpan, StrId, TraceId};

/// A list of spans (`null` is none): the builder's spans it pushed, (first, count).
pub(super) struct SpansSeed<'r>(pub &'r mut Import);

impl<'de> DeserializeSeed<'de> for SpansSeed<'_> {
    type Value = Option<(u32, u32)>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        Optional(SpanList(self.0)).deserialize(de)
    }
}

struct SpanList<'r>(&'r mut Import);

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

fn read_spans<'de, A: SeqAccess<'de>>(im: &mut Import, mut seq: A) -> Result<(u32, u32), A::Error> {
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
struct SpanSeed<'r>(&'r mut Import);

impl<'de> DeserializeSeed<'de> for SpanSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_struct("SpanJson", &SPAN, self)
    }
}

impl<'de> Visitor<'de> for SpanSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct SpanJson")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        no_list(seq, "struct SpanJson", SPAN.len())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let im = self.0;
        let (mut span_id, mut trace_id, mut parent, mut start, mut end) = (None, None, None, None, None);
        let (mut op, mut description, mut status, mut origin) = (None, None, None, None);
        im.span_data.clear();
        im.span_tags.clear();
        let mut seen = 0u64;
        while let Some(key) = map.next_key::<Text>()? {
            let Some(i) = SPAN.iter().position(|f| *f == key.as_str()) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            once(&mut seen, i, &SPAN)?;
            let b = &mut im.b;
            match i {
                0 => span_id = Some(map.next_value::<SpanIdText>()?.0),
                1 => trace_id = map.next_value::<Option<TraceIdText>>()?.map(|t| t.0),
                2 => parent = map.next_value::<ParentId>()?.0,
                3 => op = map.next_value_seed(OptStr(b))?,
                4 => description = map.next_value_seed(OptStr(b))?,
                5 => start = Some(map.next_value::<Ts>()?.0),
                6 => end = map.next_value::<Option<Ts>>()?.map(|t| t.0),
                7 => status = map.next_value_seed(OptStr(b))?,
                8 => {
                    let mut server_name = None;
                    map.next_value_seed(TagsSeed { b, out: &mut im.span_tags, server_name: &mut server_name })?;
                }
                9 => {
                    let mut saw = false;
                    map.next_value_seed(AttrsSeed { b, out: &mut im.span_data, watch: "", saw: &mut saw })?;
                }
                _ => origin = map.next_value_seed(OptStr(b))?,
            }
        }
        let span_id = span_id.ok_or_else(|| de::Error::missing_field("span_id"))?;
        let start = start.ok_or_else(|| de::Error::missing_field("start_timestamp"))?;
        let b = &mut im.b;
        let mark = b.attr_mark();
        for &attr in im.span_data.iter().chain(&im.span_tags) {
            b.push_attr(attr.key, attr.value);
        }
        if let Some(origin) = origin {
            let key = b.intern(keys::ORIGIN);
            b.push_attr(key, crate::model::AttrValue::Str(origin));
        }
        if trace_id.is_none() {
            im.inherit.push(b.spans().len() as u32);
        }
        let mut raw = RawSpan::new(trace_id.unwrap_or(TraceId(0)), span_id, parent, start, end);
        raw.name = description.unwrap_or(StrId::EMPTY);
        raw.op = op.unwrap_or(StrId::EMPTY);
        raw.kind = kind_of(op.map_or("", |op| b.resolve(op)));
        (raw.status, raw.status_message) = status_of(b, status);
        raw.attrs = b.attrs_since(mark);
        b.push_span(raw);
        Ok(())
    }
}

/// The event-details API's `entries` (`null` is none): the runs of spans its `spans` entries
/// pushed, as a run of the importer's `blocks`. Other entries' data is read (and checked) only.
pub(super) struct EntriesSeed<'r>(pub &'r mut Import);

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_> {
    type Value = Option<Run>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        Optional(EntryList(self.0)).deserialize(de)
    }
}

struct EntryList<'r>(&'r mut Import);

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

const ENTRY: [&str; 2] = ["type", "data"];

/// One entry: `{"type": "spans", "data": [span, ...]}` or any other entry.
struct EntrySeed<'r>(&'r mut Import);

impl<'de> DeserializeSeed<'de> for EntrySeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_struct("Entry", &ENTRY, self)
    }
}

impl<'de> Visitor<'de> for EntrySeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct Entry")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        no_list(seq, "struct Entry", ENTRY.len())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let im = self.0;
        let (mut spans_entry, mut spans, mut seen) = (false, None, 0u64);
        while let Some(key) = map.next_key::<Text>()? {
            match key.as_str() {
                "type" => {
                    once(&mut seen, 0, &ENTRY)?;
                    let kind: Option<Text> = map.next_value()?;
                    spans_entry = kind.is_some_and(|k| k.as_str() == "spans");
                }
                "data" => {
                    once(&mut seen, 1, &ENTRY)?;
                    spans = map.next_value_seed(EntryData(&mut *im))?;
                }
                _ => drop(map.next_value::<IgnoredAny>()?),
            }
        }
        if let (true, Some(run)) = (spans_entry, spans) {
            im.blocks.push(run);
        }
        Ok(())
    }
}

/// An entry's `data`: the spans of a `spans` entry, nothing for other entries (objects).
struct EntryData<'r>(&'r mut Import);

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
