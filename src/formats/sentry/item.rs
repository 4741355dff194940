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

use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};

use super::fields::{Fields, Optional, Struct, Values, got};
use super::keys;
use super::record::{Ctx, List, NONE, Reading, Rec, Run};
use super::schema::{ParentId, SpanIdText, SpanRef, TraceIdText};
use super::spans::{EntriesSeed, SpansSeed};
use super::time::Ts;
use super::values::{AttrsSeed, MeasurementsSeed, OptStr, TagsSeed, ValSeed};
use crate::model::{Nanos, StrId, TraceBuilder};

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

fn ts(t: Option<Ts>) -> Option<Nanos> {
    t.map(|t| t.0)
}

/// Reads one item into a new record of `import`; its index.
pub(super) struct ItemSeed<'r>(pub &'r mut Reading);

impl<'de> DeserializeSeed<'de> for ItemSeed<'_> {
    type Value = u32;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<u32, D::Error> {
        let im = self.0;
        let item = Struct(ItemFields { im: &mut *im, r: Rec { next: NONE, ..Rec::default() } }).deserialize(de)?;
        let rec = item.r;
        im.recs.push(rec);
        Ok(im.recs.len() as u32 - 1)
    }
}

struct ItemFields<'r> {
    im: &'r mut Reading,
    r: Rec,
}

/// A run of what `read` pushed onto the scratch attributes.
fn scratch_run<E>(
    im: &mut Reading,
    read: impl FnOnce(&mut Reading) -> Result<Option<()>, E>,
) -> Result<Option<Option<Run>>, E> {
    let start = im.scratch.len() as u32;
    let given = read(im)?;
    let run = Run { start, len: im.scratch.len() as u32 - start };
    Ok(Some(given.map(|()| run)))
}

impl<'de> Fields<'de> for ItemFields<'_> {
    fn name(&self) -> &'static str {
        "struct Item"
    }
    fn fields(&self) -> &'static [&'static str] {
        &FIELDS
    }
    fn defaults(&self) -> u64 {
        (1 << 27) | (1 << 31)
    }
    fn field<V: Values<'de>>(&mut self, i: usize, v: &mut V) -> Result<bool, V::Error> {
        let (im, r) = (&mut *self.im, &mut self.r);
        let b = &mut im.b;
        match i {
            0 => r.kind = got!(v.value(OptStr(b))),
            1 => r.event_id = got!(v.value(OptStr(b))),
            2 => r.event_id_camel = got!(v.value(OptStr(b))),
            3 => r.transaction = got!(v.value(OptStr(b))),
            4 => r.start_timestamp = ts(got!(v.plain())),
            5 => r.start_timestamp_camel = ts(got!(v.plain())),
            6 => r.timestamp = ts(got!(v.plain())),
            7 => r.end_timestamp_camel = ts(got!(v.plain())),
            8 => {
                let contexts = got!(v.value(Optional(Struct(ContextsFields { im, ctx: None, code: None }))));
                (r.ctx, r.response_code) = contexts.map_or((None, None), |c| (c.ctx, c.code));
            }
            9 => r.spans = got!(v.value(SpansSeed(im))),
            10 => r.entries = got!(v.value(EntriesSeed(im))),
            11 => {
                let server_name = &mut r.tag_server_name;
                r.tags = got!(scratch_run(im, |im| {
                    v.value(Optional(TagsSeed { b: &mut im.b, out: &mut im.scratch, server_name }))
                        .map(|tags| tags.flatten())
                }));
            }
            12 => r.project_slug = got!(v.value(OptStr(b))),
            13 => r.project_slug_camel = got!(v.value(OptStr(b))),
            14 => r.project = got!(v.value(Optional(ValSeed(b)))).and_then(|v| v.text()),
            15 => r.server_name = got!(v.value(OptStr(b))),
            16 => r.environment = got!(v.value(OptStr(b))),
            17 => r.release = got!(v.value(Optional(ValSeed(b)))).and_then(|v| v.attr()),
            18 => r.platform = got!(v.value(OptStr(b))),
            19 => {
                let sdk = got!(v.value(Optional(Struct(Texts::new(&SDK, b)))));
                [r.sdk_name, r.sdk_version] = sdk.map_or([None; 2], |t| t.values);
            }
            20 => r.source = got!(v.value(Optional(Struct(Texts::new(&SOURCE, b))))).and_then(|t| t.values[0]),
            21 => {
                r.measurements = got!(scratch_run(im, |im| {
                    v.value(Optional(MeasurementsSeed { b: &mut im.b, out: &mut im.scratch })).map(Option::flatten)
                }));
            }
            22 => r.title = got!(v.value(OptStr(b))),
            23 => r.level = got!(v.value(OptStr(b))),
            24 => r.message = got!(v.value(Optional(ValSeed(b)))).and_then(|v| v.text()),
            25 => {
                let logentry = got!(v.value(Optional(Struct(Texts::new(&LOGENTRY, b)))));
                r.has_logentry = logentry.is_some();
                [r.log_formatted, r.log_message] = logentry.map_or([None; 2], |t| t.values);
            }
            26 => {
                let exception = got!(v.value(Optional(Struct(ExceptionFields { b, raised: None }))));
                r.has_exception = exception.is_some();
                r.raised = exception.and_then(|e| e.raised);
            }
            27 => r.span = got!(v.plain::<SpanRef>()).0,
            28 => r.event_type = got!(v.value(OptStr(b))),
            29 => r.trace_id = got!(v.plain::<Option<TraceIdText>>()).map(|t| t.0),
            30 => r.span_id = got!(v.plain::<Option<SpanIdText>>()).map(|s| s.0),
            31 => r.parent_span_id = got!(v.plain::<ParentId>()).0,
            32 => r.transaction_op = got!(v.value(OptStr(b))),
            33 => r.transaction_status = got!(v.value(OptStr(b))),
            34 => r.transaction_duration = got!(v.plain()),
            35 => r.op = got!(v.value(OptStr(b))),
            36 => r.description = got!(v.value(OptStr(b))),
            37 => r.name = got!(v.value(OptStr(b))),
            38 => r.end_timestamp = ts(got!(v.plain())),
            39 => r.duration = got!(v.plain()),
            40 => {
                r.additional_attributes = got!(scratch_run(im, |im| {
                    let attrs = AttrsSeed { b: &mut im.b, out: &mut im.scratch, watch: "", saw: &mut false };
                    v.value(Optional(attrs)).map(Option::flatten)
                }));
            }
            _ => r.lists[i - 41] = got!(v.value(Optional(ListSeed(im)))).unwrap_or_default(),
        }
        Ok(true)
    }
}

/// A list of items, linked in file order.
struct ListSeed<'r>(&'r mut Reading);

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
struct ContextsFields<'r> {
    im: &'r mut Reading,
    ctx: Option<Ctx>,
    code: Option<i64>,
}

impl<'de> Fields<'de> for ContextsFields<'_> {
    fn name(&self) -> &'static str {
        "struct Contexts"
    }
    fn fields(&self) -> &'static [&'static str] {
        &["trace", "response"]
    }
    fn field<V: Values<'de>>(&mut self, i: usize, v: &mut V) -> Result<bool, V::Error> {
        match i {
            0 => self.ctx = got!(v.value(Optional(Struct(TraceFields::new(&mut *self.im))))).map(|t| t.c),
            _ => self.code = got!(v.value(Optional(Struct(ResponseFields(None))))).and_then(|r| r.0),
        }
        Ok(true)
    }
}

/// `contexts.trace`: the root span of a transaction, or the span an error happened in.
struct TraceFields<'r> {
    im: &'r mut Reading,
    c: Ctx,
}

impl<'r> TraceFields<'r> {
    fn new(im: &'r mut Reading) -> Self {
        TraceFields { im, c: Ctx::default() }
    }
}

impl<'de> Fields<'de> for TraceFields<'_> {
    fn name(&self) -> &'static str {
        "struct TraceContext"
    }
    fn fields(&self) -> &'static [&'static str] {
        &["trace_id", "span_id", "parent_span_id", "op", "status", "description", "origin", "data"]
    }
    fn defaults(&self) -> u64 {
        (1 << 2) | (1 << 7)
    }
    fn field<V: Values<'de>>(&mut self, i: usize, v: &mut V) -> Result<bool, V::Error> {
        let (im, c) = (&mut *self.im, &mut self.c);
        let b = &mut im.b;
        match i {
            0 => c.trace_id = got!(v.plain::<Option<TraceIdText>>()).map(|t| t.0),
            1 => c.span_id = got!(v.plain::<Option<SpanIdText>>()).map(|s| s.0),
            2 => c.parent = got!(v.plain::<ParentId>()).0,
            3 => c.op = got!(v.value(OptStr(b))),
            4 => c.status = got!(v.value(OptStr(b))),
            5 => c.description = got!(v.value(OptStr(b))),
            6 => c.origin = got!(v.value(OptStr(b))),
            _ => {
                let start = im.scratch.len() as u32;
                let saw = &mut c.data_has_status;
                got!(v.value(AttrsSeed { b, out: &mut im.scratch, watch: keys::RESPONSE_STATUS, saw }));
                c.data = Run { start, len: im.scratch.len() as u32 - start };
            }
        }
        Ok(true)
    }
}

/// `contexts.response`: its status code.
struct ResponseFields(Option<i64>);

impl<'de> Fields<'de> for ResponseFields {
    fn name(&self) -> &'static str {
        "struct ResponseContext"
    }
    fn fields(&self) -> &'static [&'static str] {
        &["status_code"]
    }
    fn field<V: Values<'de>>(&mut self, _: usize, v: &mut V) -> Result<bool, V::Error> {
        self.0 = got!(v.plain());
        Ok(true)
    }
}

/// A struct of optional texts.
struct TextsOf {
    name: &'static str,
    fields: &'static [&'static str],
}

const SDK: TextsOf = TextsOf { name: "struct Sdk", fields: &["name", "version"] };
const SOURCE: TextsOf = TextsOf { name: "struct TransactionInfo", fields: &["source"] };
const LOGENTRY: TextsOf = TextsOf { name: "struct LogEntry", fields: &["formatted", "message"] };
const EXCEPTION_VALUE: TextsOf = TextsOf { name: "struct ExceptionValue", fields: &["type", "value"] };

/// Reads a struct of (up to two) optional texts, interned.
struct Texts<'r> {
    of: &'static TextsOf,
    b: &'r mut TraceBuilder,
    values: [Option<StrId>; 2],
}

impl<'r> Texts<'r> {
    fn new(of: &'static TextsOf, b: &'r mut TraceBuilder) -> Self {
        Texts { of, b, values: [None; 2] }
    }
}

impl<'de> Fields<'de> for Texts<'_> {
    fn name(&self) -> &'static str {
        self.of.name
    }
    fn fields(&self) -> &'static [&'static str] {
        self.of.fields
    }
    fn field<V: Values<'de>>(&mut self, i: usize, v: &mut V) -> Result<bool, V::Error> {
        self.values[i] = got!(v.value(OptStr(&mut *self.b)));
        Ok(true)
    }
}

/// `exception`: only the last value of the chain, the one raised, is kept.
struct ExceptionFields<'r> {
    b: &'r mut TraceBuilder,
    raised: Raised,
}

type Raised = Option<(Option<StrId>, Option<StrId>)>;

impl<'de> Fields<'de> for ExceptionFields<'_> {
    fn name(&self) -> &'static str {
        "struct Exception"
    }
    fn fields(&self) -> &'static [&'static str] {
        &["values"]
    }
    fn defaults(&self) -> u64 {
        1
    }
    fn field<V: Values<'de>>(&mut self, _: usize, v: &mut V) -> Result<bool, V::Error> {
        self.raised = got!(v.value(ValuesSeed(&mut *self.b)));
        Ok(true)
    }
}

/// `exception.values`: the last one's type and value.
struct ValuesSeed<'r>(&'r mut TraceBuilder);

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
        while let Some(value) = seq.next_element_seed(Struct(Texts::new(&EXCEPTION_VALUE, &mut *self.0)))? {
            last = Some((value.values[0], value.values[1]));
        }
        Ok(last)
    }
}
