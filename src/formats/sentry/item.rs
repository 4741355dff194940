//! Reading one Sentry item (any object that can stand in a file's list: a transaction or error
//! event, the event-details API's event, a legacy `events-trace` node, a `/trace/` span or issue,
//! the legacy `{"transactions", "orphan_errors"}` wrapper) into a [`Rec`]: every field the
//! importer uses, interned, and nothing else. A transaction's `spans[]` go straight into the
//! builder as they are read ([`super::spans`]); the items an item nests (`children`, `errors`,
//! ...) become records of their own, linked in file order, so that
//! [`super::import`] can map them once the top-level item has been read, in the order it
//! always did. Ids and timestamps are checked while reading, so their errors carry line, column
//! and path; the messages are those of the serde structs this reader replaced.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::import::Import;
use super::keys;
use super::schema::{ParentId, SpanIdText, SpanRef, Text, TraceIdText};
use super::spans::{EntriesSeed, SpansSeed};
use super::time::Ts;
use super::values::{AttrsSeed, MeasurementsSeed, OptStr, TagsSeed, ValSeed};
use crate::model::{AttrValue, Nanos, SpanId, StrId, TraceId};

/// No record: the end of a list.
pub(super) const NONE: u32 = u32::MAX;

/// A run of attributes in the importer's scratch list.
#[derive(Clone, Copy, Default, Debug)]
pub(super) struct Run {
    pub start: u32,
    pub len: u32,
}

/// A list of records (`children`, `errors`, ...): present (not absent nor `null`), its first
/// and last record.
#[derive(Clone, Copy, Debug)]
pub(super) struct List {
    pub present: bool,
    pub head: u32,
    pub tail: u32,
}

impl Default for List {
    fn default() -> Self {
        List { present: false, head: NONE, tail: NONE }
    }
}

/// `contexts.trace`, interned.
#[derive(Clone, Copy, Default, Debug)]
pub(super) struct Ctx {
    pub trace_id: Option<TraceId>,
    pub span_id: Option<SpanId>,
    pub parent: Option<SpanId>,
    pub op: Option<StrId>,
    pub status: Option<StrId>,
    pub description: Option<StrId>,
    pub origin: Option<StrId>,
    pub data: Run,
    /// `data` names the response status code (the response context's code is then not added).
    pub data_has_status: bool,
}

/// The nested lists of an item, by their place in [`Rec::lists`].
pub(super) const CHILDREN: usize = 0;
pub(super) const ERRORS: usize = 1;
pub(super) const OCCURRENCES: usize = 2;
pub(super) const PERFORMANCE_ISSUES: usize = 3;
pub(super) const TRANSACTIONS: usize = 4;
pub(super) const ORPHAN_ERRORS: usize = 5;

/// One item as read. See the module docs.
#[derive(Clone, Copy, Default, Debug)]
pub(super) struct Rec {
    pub kind: Option<StrId>,
    pub event_id: Option<StrId>,
    pub event_id_camel: Option<StrId>,
    pub transaction: Option<StrId>,
    pub start_timestamp: Option<Nanos>,
    pub start_timestamp_camel: Option<Nanos>,
    pub timestamp: Option<Nanos>,
    pub end_timestamp_camel: Option<Nanos>,
    pub end_timestamp: Option<Nanos>,
    pub ctx: Option<Ctx>,
    pub response_code: Option<i64>,
    /// `spans` was given: the builder's spans it pushed (start, count).
    pub spans: Option<(u32, u32)>,
    /// `entries` was given: its `spans` entries' runs of pushed spans in the importer's list.
    pub entries: Option<Run>,
    pub tags: Option<Run>,
    /// The first `server_name` tag with a text value.
    pub tag_server_name: Option<StrId>,
    pub project_slug: Option<StrId>,
    pub project_slug_camel: Option<StrId>,
    /// `project`, when it is text.
    pub project: Option<StrId>,
    pub server_name: Option<StrId>,
    pub environment: Option<StrId>,
    pub release: Option<AttrValue>,
    pub platform: Option<StrId>,
    pub sdk_name: Option<StrId>,
    pub sdk_version: Option<StrId>,
    pub source: Option<StrId>,
    pub measurements: Option<Run>,
    pub title: Option<StrId>,
    pub level: Option<StrId>,
    /// `message`, when it is text.
    pub message: Option<StrId>,
    pub has_logentry: bool,
    pub log_formatted: Option<StrId>,
    pub log_message: Option<StrId>,
    pub has_exception: bool,
    /// The last exception of the chain, when there is one: its type and value.
    pub raised: Option<(Option<StrId>, Option<StrId>)>,
    pub span: Option<SpanId>,
    pub event_type: Option<StrId>,
    pub trace_id: Option<TraceId>,
    pub span_id: Option<SpanId>,
    pub parent_span_id: Option<SpanId>,
    pub transaction_op: Option<StrId>,
    pub transaction_status: Option<StrId>,
    pub transaction_duration: Option<f64>,
    pub op: Option<StrId>,
    pub description: Option<StrId>,
    pub name: Option<StrId>,
    pub duration: Option<f64>,
    pub additional_attributes: Option<Run>,
    pub lists: [List; 6],
    /// The next record of the list this one is in.
    pub next: u32,
}

const ITEM: &str = "struct Item";
const FIELDS: [&str; 47] = [
    "type",
    "event_id",
    "eventID",
    "transaction",
    "start_timestamp",
    "startTimestamp",
    "timestamp",
    "endTimestamp",
    "contexts",
    "spans",
    "entries",
    "tags",
    "project_slug",
    "projectSlug",
    "project",
    "server_name",
    "environment",
    "release",
    "platform",
    "sdk",
    "transaction_info",
    "measurements",
    "title",
    "level",
    "message",
    "logentry",
    "exception",
    "span",
    "event_type",
    "trace_id",
    "span_id",
    "parent_span_id",
    "transaction.op",
    "transaction.status",
    "transaction.duration",
    "op",
    "description",
    "name",
    "end_timestamp",
    "duration",
    "additional_attributes",
    "children",
    "errors",
    "occurrences",
    "performance_issues",
    "transactions",
    "orphan_errors",
];

/// Marks field `i` of `fields` read; a second time is the error serde gave.
pub(super) fn once<E: de::Error>(seen: &mut u64, i: usize, fields: &[&'static str]) -> Result<(), E> {
    if *seen & (1 << i) != 0 {
        return Err(E::duplicate_field(fields[i]));
    }
    *seen |= 1 << i;
    Ok(())
}

/// The error serde gave for a struct written as a JSON array.
pub(super) fn no_list<'de, A: SeqAccess<'de>, T>(mut seq: A, what: &str, fields: usize) -> Result<T, A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Err(de::Error::invalid_length(0, &format!("{what} with {fields} elements").as_str()))
}

fn ts(t: Option<Ts>) -> Option<Nanos> {
    t.map(|t| t.0)
}

/// Reads one item into a new record of `import`; its index.
pub(super) struct ItemSeed<'r>(pub &'r mut Import);

impl<'de> DeserializeSeed<'de> for ItemSeed<'_> {
    type Value = u32;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<u32, D::Error> {
        de.deserialize_struct("Item", &FIELDS, self)
    }
}

impl<'de> Visitor<'de> for ItemSeed<'_> {
    type Value = u32;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(ITEM)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<u32, A::Error> {
        no_list(seq, ITEM, FIELDS.len())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u32, A::Error> {
        let im = self.0;
        let mut r = Rec { next: NONE, ..Rec::default() };
        let mut seen = 0u64;
        while let Some(key) = map.next_key::<Text>()? {
            let Some(i) = FIELDS.iter().position(|f| *f == key.as_str()) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            once(&mut seen, i, &FIELDS)?;
            let b = &mut im.b;
            match i {
                0 => r.kind = map.next_value_seed(OptStr(b))?,
                1 => r.event_id = map.next_value_seed(OptStr(b))?,
                2 => r.event_id_camel = map.next_value_seed(OptStr(b))?,
                3 => r.transaction = map.next_value_seed(OptStr(b))?,
                4 => r.start_timestamp = ts(map.next_value()?),
                5 => r.start_timestamp_camel = ts(map.next_value()?),
                6 => r.timestamp = ts(map.next_value()?),
                7 => r.end_timestamp_camel = ts(map.next_value()?),
                8 => map.next_value_seed(ContextsSeed { im: &mut *im, r: &mut r })?,
                9 => r.spans = map.next_value_seed(SpansSeed(&mut *im))?,
                10 => r.entries = map.next_value_seed(EntriesSeed(&mut *im))?,
                11 => {
                    let start = im.scratch.len() as u32;
                    let tags = TagsSeed { b, out: &mut im.scratch, server_name: &mut r.tag_server_name };
                    let given = map.next_value_seed(Optional(tags))?;
                    r.tags = given.map(|()| Run { start, len: im.scratch.len() as u32 - start });
                }
                12 => r.project_slug = map.next_value_seed(OptStr(b))?,
                13 => r.project_slug_camel = map.next_value_seed(OptStr(b))?,
                14 => r.project = map.next_value_seed(Optional(ValSeed(b)))?.and_then(|v| v.text()),
                15 => r.server_name = map.next_value_seed(OptStr(b))?,
                16 => r.environment = map.next_value_seed(OptStr(b))?,
                17 => r.release = map.next_value_seed(Optional(ValSeed(b)))?.and_then(|v| v.attr()),
                18 => r.platform = map.next_value_seed(OptStr(b))?,
                19 => map.next_value_seed(Optional(Fields::SDK.seed(b, &mut r)))?.unwrap_or_default(),
                20 => map.next_value_seed(Optional(Fields::SOURCE.seed(b, &mut r)))?.unwrap_or_default(),
                21 => {
                    let start = im.scratch.len() as u32;
                    let given = map.next_value_seed(Optional(MeasurementsSeed { b, out: &mut im.scratch }))?;
                    r.measurements = given.map(|()| Run { start, len: im.scratch.len() as u32 - start });
                }
                22 => r.title = map.next_value_seed(OptStr(b))?,
                23 => r.level = map.next_value_seed(OptStr(b))?,
                24 => r.message = map.next_value_seed(Optional(ValSeed(b)))?.and_then(|v| v.text()),
                25 => {
                    r.has_logentry = map.next_value_seed(Optional(Fields::LOGENTRY.seed(b, &mut r)))?.is_some();
                }
                26 => r.has_exception = map.next_value_seed(Optional(ExceptionSeed { b, r: &mut r }))?.is_some(),
                27 => r.span = map.next_value::<SpanRef>()?.0,
                28 => r.event_type = map.next_value_seed(OptStr(b))?,
                29 => r.trace_id = map.next_value::<Option<TraceIdText>>()?.map(|t| t.0),
                30 => r.span_id = map.next_value::<Option<SpanIdText>>()?.map(|s| s.0),
                31 => r.parent_span_id = map.next_value::<ParentId>()?.0,
                32 => r.transaction_op = map.next_value_seed(OptStr(b))?,
                33 => r.transaction_status = map.next_value_seed(OptStr(b))?,
                34 => r.transaction_duration = map.next_value()?,
                35 => r.op = map.next_value_seed(OptStr(b))?,
                36 => r.description = map.next_value_seed(OptStr(b))?,
                37 => r.name = map.next_value_seed(OptStr(b))?,
                38 => r.end_timestamp = ts(map.next_value()?),
                39 => r.duration = map.next_value()?,
                40 => {
                    let start = im.scratch.len() as u32;
                    let mut saw = false;
                    let attrs = AttrsSeed { b, out: &mut im.scratch, watch: "", saw: &mut saw };
                    let given = map.next_value_seed(Optional(attrs))?;
                    r.additional_attributes = given.map(|()| Run { start, len: im.scratch.len() as u32 - start });
                }
                _ => {
                    let list = map.next_value_seed(Optional(ListSeed(&mut *im)))?;
                    r.lists[i - 41] = list.unwrap_or_default();
                }
            }
        }
        im.recs.push(r);
        Ok(im.recs.len() as u32 - 1)
    }
}

/// `null` is `None`; anything else is read by the inner seed.
pub(super) struct Optional<S>(pub S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Optional<S> {
    type Value = Option<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for Optional<S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("option")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(de).map(Some)
    }
}

/// A list of items, linked in file order.
struct ListSeed<'r>(&'r mut Import);

impl<'de> DeserializeSeed<'de> for ListSeed<'_> {
    type Value = List;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<List, D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_> {
    type Value = List;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List, A::Error> {
        let mut list = List { present: true, ..List::default() };
        while let Some(rec) = seq.next_element_seed(ItemSeed(&mut *self.0))? {
            match list.tail {
                NONE => list.head = rec,
                tail => self.0.recs[tail as usize].next = rec,
            }
            list.tail = rec;
        }
        Ok(list)
    }
}

/// `contexts`: the transaction's own span (`trace`) and the response it gave.
struct ContextsSeed<'r> {
    im: &'r mut Import,
    r: &'r mut Rec,
}

const CONTEXTS: [&str; 2] = ["trace", "response"];

impl<'de> DeserializeSeed<'de> for ContextsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for ContextsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct Contexts")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_struct("Contexts", &CONTEXTS, self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        no_list(seq, "struct Contexts", CONTEXTS.len())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ContextsSeed { im, r } = self;
        let mut seen = 0u64;
        while let Some(key) = map.next_key::<Text>()? {
            match key.as_str() {
                "trace" => {
                    once(&mut seen, 0, &CONTEXTS)?;
                    r.ctx = map.next_value_seed(Optional(TraceSeed(&mut *im)))?;
                }
                "response" => {
                    once(&mut seen, 1, &CONTEXTS)?;
                    r.response_code = map.next_value_seed(Optional(ResponseSeed))?.flatten();
                }
                _ => drop(map.next_value::<IgnoredAny>()?),
            }
        }
        Ok(())
    }
}

/// `contexts.trace`: the root span of a transaction, or the span an error happened in.
struct TraceSeed<'r>(&'r mut Import);

const TRACE: [&str; 8] = ["trace_id", "span_id", "parent_span_id", "op", "status", "description", "origin", "data"];

impl<'de> DeserializeSeed<'de> for TraceSeed<'_> {
    type Value = Ctx;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Ctx, D::Error> {
        de.deserialize_struct("TraceContext", &TRACE, self)
    }
}

impl<'de> Visitor<'de> for TraceSeed<'_> {
    type Value = Ctx;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct TraceContext")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Ctx, A::Error> {
        no_list(seq, "struct TraceContext", TRACE.len())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ctx, A::Error> {
        let im = self.0;
        let mut c = Ctx::default();
        let mut seen = 0u64;
        let start = im.scratch.len() as u32;
        while let Some(key) = map.next_key::<Text>()? {
            let Some(i) = TRACE.iter().position(|f| *f == key.as_str()) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            once(&mut seen, i, &TRACE)?;
            let b = &mut im.b;
            match i {
                0 => c.trace_id = map.next_value::<Option<TraceIdText>>()?.map(|t| t.0),
                1 => c.span_id = map.next_value::<Option<SpanIdText>>()?.map(|s| s.0),
                2 => c.parent = map.next_value::<ParentId>()?.0,
                3 => c.op = map.next_value_seed(OptStr(b))?,
                4 => c.status = map.next_value_seed(OptStr(b))?,
                5 => c.description = map.next_value_seed(OptStr(b))?,
                6 => c.origin = map.next_value_seed(OptStr(b))?,
                _ => {
                    let saw = &mut c.data_has_status;
                    map.next_value_seed(AttrsSeed { b, out: &mut im.scratch, watch: keys::RESPONSE_STATUS, saw })?;
                }
            }
        }
        c.data = Run { start, len: im.scratch.len() as u32 - start };
        Ok(c)
    }
}

/// `contexts.response`: its status code.
struct ResponseSeed;

impl<'de> DeserializeSeed<'de> for ResponseSeed {
    type Value = Option<i64>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Option<i64>, D::Error> {
        de.deserialize_struct("ResponseContext", &["status_code"], self)
    }
}

impl<'de> Visitor<'de> for ResponseSeed {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct ResponseContext")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<i64>, A::Error> {
        no_list(seq, "struct ResponseContext", 1)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<i64>, A::Error> {
        let (mut code, mut seen) = (None, 0u64);
        while let Some(key) = map.next_key::<Text>()? {
            if key.as_str() == "status_code" {
                once(&mut seen, 0, &["status_code"])?;
                code = map.next_value()?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(code)
    }
}

/// Structs of two optional texts: which fields of a [`Rec`] they fill.
#[derive(Clone, Copy)]
struct Fields {
    name: &'static str,
    fields: &'static [&'static str],
    slots: fn(&mut Rec) -> [&mut Option<StrId>; 2],
}

impl Fields {
    const SDK: Fields =
        Fields { name: "Sdk", fields: &["name", "version"], slots: |r| [&mut r.sdk_name, &mut r.sdk_version] };
    const SOURCE: Fields =
        Fields { name: "TransactionInfo", fields: &["source"], slots: |r| [&mut r.source, &mut r.sdk_version] };
    const LOGENTRY: Fields = Fields {
        name: "LogEntry",
        fields: &["formatted", "message"],
        slots: |r| [&mut r.log_formatted, &mut r.log_message],
    };

    fn seed<'r>(self, b: &'r mut crate::model::TraceBuilder, r: &'r mut Rec) -> TextsSeed<'r> {
        TextsSeed { of: self, b, r }
    }
}

/// Reads a struct of optional texts into the record's slots.
struct TextsSeed<'r> {
    of: Fields,
    b: &'r mut crate::model::TraceBuilder,
    r: &'r mut Rec,
}

impl<'de> DeserializeSeed<'de> for TextsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_struct(self.of.name, self.of.fields, self)
    }
}

impl<'de> Visitor<'de> for TextsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "struct {}", self.of.name)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        no_list(seq, &format!("struct {}", self.of.name), self.of.fields.len())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let TextsSeed { of, b, r } = self;
        let mut seen = 0u64;
        while let Some(key) = map.next_key::<Text>()? {
            let Some(i) = of.fields.iter().position(|f| *f == key.as_str()) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            once(&mut seen, i, of.fields)?;
            let value = map.next_value_seed(OptStr(&mut *b))?;
            *(of.slots)(r).into_iter().nth(i).expect("a slot per field") = value;
        }
        Ok(())
    }
}

/// `exception`: only the last value of the chain, the one raised, is kept.
struct ExceptionSeed<'r> {
    b: &'r mut crate::model::TraceBuilder,
    r: &'r mut Rec,
}

impl<'de> DeserializeSeed<'de> for ExceptionSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_struct("Exception", &["values"], self)
    }
}

impl<'de> Visitor<'de> for ExceptionSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct Exception")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        no_list(seq, "struct Exception", 1)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = 0u64;
        while let Some(key) = map.next_key::<Text>()? {
            if key.as_str() == "values" {
                once(&mut seen, 0, &["values"])?;
                self.r.raised = map.next_value_seed(ValuesSeed(&mut *self.b))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// `exception.values`: the last one's type and value.
struct ValuesSeed<'r>(&'r mut crate::model::TraceBuilder);

type Raised = Option<(Option<StrId>, Option<StrId>)>;

impl<'de> DeserializeSeed<'de> for ValuesSeed<'_> {
    type Value = Raised;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Raised, D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ValuesSeed<'_> {
    type Value = Raised;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raised, A::Error> {
        let mut last = None;
        let mut r = Rec::default();
        const VALUE: Fields = Fields {
            name: "ExceptionValue",
            fields: &["type", "value"],
            slots: |r| [&mut r.log_formatted, &mut r.log_message],
        };
        loop {
            (r.log_formatted, r.log_message) = (None, None);
            if seq.next_element_seed(TextsSeed { of: VALUE, b: &mut *self.0, r: &mut r })?.is_none() {
                return Ok(last);
            }
            last = Some((r.log_formatted, r.log_message));
        }
    }
}
