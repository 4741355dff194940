//! What the readers of a top-level item fill ([`Reading`]): the builder, the records of the
//! items read ([`Rec`]: every field the importer uses, interned), and the attributes and spans
//! they set aside until the item is mapped ([`super::import`]).

use crate::model::{Attr, AttrValue, Nanos, SpanId, SpanKind, Status, StrId, TraceBuilder, TraceId};

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

/// The builder, and what the top-level item being read holds until it is mapped.
pub(super) struct Reading {
    /// The spans and errors so far.
    pub b: TraceBuilder,
    /// The records of the item and of the items it nests.
    pub recs: Vec<Rec>,
    /// Attributes read before the item is mapped (`data`, `tags`, `measurements` of records).
    pub scratch: Vec<Attr>,
    /// Runs of pushed spans (first, count) of `spans` entries.
    pub blocks: Vec<(u32, u32)>,
    /// Pushed spans without a `trace_id` of their own.
    pub inherit: Vec<u32>,
    /// The `data` of the span being read.
    pub span_data: Vec<Attr>,
    /// The `tags` of the span being read.
    pub span_tags: Vec<Attr>,
}

impl Reading {
    pub fn new() -> Self {
        Reading {
            b: TraceBuilder::new(),
            recs: Vec::new(),
            scratch: Vec::new(),
            blocks: Vec::new(),
            inherit: Vec::new(),
            span_data: Vec::new(),
            span_tags: Vec::new(),
        }
    }

    /// Forgets what the item held, once it is mapped.
    pub fn clear_item(&mut self) {
        self.recs.clear();
        self.scratch.clear();
        self.blocks.clear();
        self.inherit.clear();
    }
}

/// `"ok"` is ok, absent is unset, any other text is an error that keeps the text.
pub(super) fn status_of(b: &TraceBuilder, status: Option<StrId>) -> (Status, StrId) {
    match status {
        None => (Status::Unset, StrId::EMPTY),
        Some(s) if b.resolve(s) == "ok" => (Status::Ok, StrId::EMPTY),
        Some(other) => (Status::Error, other),
    }
}

/// The span kind an op implies, when it is obvious.
pub(super) fn kind_of(op: &str) -> SpanKind {
    let family = |prefix: &str| op == prefix || op.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('.'));
    if family("http.server") || family("websocket.server") || family("rpc.server") {
        SpanKind::Server
    } else if family("http.client") || family("db") || family("cache") || family("rpc.client") {
        SpanKind::Client
    } else if family("queue.publish") || family("queue.submit") {
        SpanKind::Producer
    } else if family("queue.task") || family("queue.process") || family("queue.receive") {
        SpanKind::Consumer
    } else {
        SpanKind::Unspecified
    }
}
