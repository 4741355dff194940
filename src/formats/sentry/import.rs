//! From Sentry's items, as read ([`Rec`]), to raw spans and errors.
//!
//! Each item is classified (transaction event, error event, legacy trace node, `/trace/`
//! span, issue, wrapper) and mapped:
//! - a transaction's root span comes from `contexts.trace` (name = `transaction`, op =
//!   `contexts.trace.op`), its other spans from `spans[]` or the `spans` entry (name =
//!   `description`); every span of the event gets the event's `transaction` and service;
//! - service: the project slug (`project_slug`, `projectSlug`, or `project` when it is text),
//!   else `server_name`, else the `server_name` tag, else empty;
//! - status: absent = unset, `"ok"` = ok, any other text = error, kept in `status_message`;
//! - `data`, `tags` and the event's own fields become attributes; see [`super::keys`];
//! - nodes of the trace endpoints nest their children: a child whose written parent is not
//!   in the file (legacy nodes list only transactions) hangs under the node that holds it.

//!
//! The reader ([`super::item`]) calls [`Import::end_item`] once a top-level item has been read:
//! the item is mapped then, with the records of what it nests, and the spans it pushed are put
//! in the order the importer always gave them (the item's root span first, then its `spans[]`,
//! then what it nests, depth first); its records and scratch attributes are then dropped.

use foldhash::HashSet;

use super::keys;
use super::record::{
    CHILDREN, ERRORS, List, NONE, OCCURRENCES, ORPHAN_ERRORS, PERFORMANCE_ISSUES, Reading, Rec, Run, TRANSACTIONS,
    kind_of, status_of,
};
use super::schema::{Text, Value};
use crate::formats::json::optional_span_id;
use crate::formats::{FormatError, Place};
use crate::model::{AttrValue, Nanos, RawEvent, RawSpan, SpanId, Status, StrId, TraceBuilder, TraceId};

/// Where an item is, rendered only when an error is reported.
#[derive(Clone, Copy)]
pub(super) enum Loc<'p> {
    /// The document (a JSON-lines line: its line number).
    Root(Option<usize>),
    /// `parent[index]`.
    Index(&'p Loc<'p>, usize),
    /// `parent.key`.
    Key(&'p Loc<'p>, &'static str),
}

impl<'p> Loc<'p> {
    fn key(&'p self, key: &'static str) -> Loc<'p> {
        Loc::Key(self, key)
    }

    fn path_and_line(&self) -> (String, Option<usize>) {
        match self {
            Loc::Root(line) => ("$".to_owned(), *line),
            Loc::Index(parent, i) => {
                let (path, line) = parent.path_and_line();
                (format!("{path}[{i}]"), line)
            }
            Loc::Key(parent, key) => {
                let (path, line) = parent.path_and_line();
                (format!("{path}.{key}"), line)
            }
        }
    }

    /// An error at this place.
    pub(super) fn err(&self, message: impl Into<String>) -> FormatError {
        let (path, line) = self.path_and_line();
        match line {
            Some(line) => FormatError::new(Place::At { line, column: 1, path }, message),
            None => FormatError::at_path(path, message),
        }
    }
}

/// What holds an item: the span it nests under and the trace it belongs to.
#[derive(Clone, Copy)]
struct Holder {
    span: Option<SpanId>,
    trace: TraceId,
}

/// What to do with a top-level item once read.
#[derive(Clone, Copy)]
pub(super) enum Then {
    /// Map it, whatever it is.
    Top,
    /// An envelope's `event` item: an error event, joined to its trace through
    /// `contexts.trace`, else to this trace (the one the envelope's header names).
    ErrorEvent(TraceId),
}

/// What an item is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Shape {
    Transaction,
    ErrorEvent,
    Issue,
    LegacyNode,
    TraceSpan,
    Uptime,
    Wrapper,
    ProcessingError,
}

/// Turns items into a [`TraceBuilder`]'s spans and errors.
pub(super) struct Import {
    /// The builder, and what the item being read holds (other item shapes, such as envelopes'
    /// span v2 items, push into the builder too).
    pub(super) r: Reading,
    /// Spans pushed inside a trace node's `children`, with the node that holds them.
    nested: Vec<(usize, SpanId)>,
    without_trace_id: bool,
    uptime_checks: usize,
    /// Spans of a transaction that named no `trace_id` of their own (they inherit the transaction's).
    inherited_trace_ids: usize,
    /// The first item that could not be mapped: reading goes on (checking the rest of the
    /// document, whose errors come first, as they did), mapping stops.
    pub(super) failed: Option<FormatError>,
    /// The first of the item's spans in the builder.
    top: usize,
    /// The item's spans, by index in the builder, in the order they are to have.
    order: Vec<u32>,
    /// A reused buffer to put them in that order.
    reordered: Vec<RawSpan>,
}

impl Import {
    pub(super) fn new() -> Self {
        Import {
            r: Reading::new(),
            nested: Vec::new(),
            without_trace_id: false,
            uptime_checks: 0,
            inherited_trace_ids: 0,
            failed: None,
            top: 0,
            order: Vec::new(),
            reordered: Vec::new(),
        }
    }

    /// Called before a top-level item is read.
    pub(super) fn begin_item(&mut self) {
        self.top = self.r.b.spans().len();
    }

    /// Maps the top-level item just read (record `rec`, at `loc`), unless an earlier one failed,
    /// and forgets what it held.
    pub(super) fn end_item(&mut self, rec: u32, loc: &Loc, then: Then) {
        if self.failed.is_none() {
            let mapped = match then {
                Then::Top => self.item(rec, loc, Holder { span: None, trace: TraceId(0) }),
                Then::ErrorEvent(trace) => {
                    self.error(rec, Holder { span: None, trace });
                    Ok(())
                }
            };
            match mapped {
                Ok(()) => self.reorder(),
                Err(e) => self.failed = Some(e),
            }
        }
        self.r.clear_item();
        self.order.clear();
    }

    /// Puts the item's spans in `order`; spans left out (those of items that were not
    /// transactions) are dropped.
    fn reorder(&mut self) {
        let top = self.top;
        let pushed = self.r.b.spans().len() - top;
        if self.order.iter().enumerate().all(|(k, &i)| i as usize == top + k) && self.order.len() == pushed {
            return;
        }
        let spans = self.r.b.spans();
        self.reordered.clear();
        self.reordered.extend(self.order.iter().map(|&i| spans[i as usize]));
        self.r.b.spans_mut()[top..top + self.order.len()].copy_from_slice(&self.reordered);
        if self.order.len() < pushed {
            let keep = top + self.order.len();
            let mut at = 0;
            self.r.b.retain_spans(|_| {
                at += 1;
                at <= keep
            });
        }
    }

    /// Links nested spans whose written parent is missing to their holder; notes what was odd.
    pub(super) fn finish(mut self) -> TraceBuilder {
        if !self.nested.is_empty() {
            let present: HashSet<SpanId> = self.r.b.spans().iter().map(|s| s.id).collect();
            let spans = self.r.b.spans_mut();
            for (index, holder) in self.nested {
                if let Some(span) = spans.get_mut(index)
                    && span.parent_id.is_none_or(|p| !present.contains(&p))
                {
                    span.parent_id = Some(holder);
                }
            }
        }
        if self.without_trace_id {
            self.r.b.note("the trace endpoint's answer does not name its trace id; it is shown as 0");
        }
        if self.inherited_trace_ids > 0 {
            self.r.b.note(format!(
                "{} span(s) have no trace_id of their own; each belongs to the trace of its transaction \
                 (contexts.trace.trace_id)",
                self.inherited_trace_ids
            ));
        }
        if self.uptime_checks > 0 {
            self.r
                .b
                .note(format!("{} uptime check(s) in the trace were skipped: they are not spans", self.uptime_checks));
        }
        self.r.b
    }

    /// Appends what `later`, which read the items after this one's, mapped.
    pub(super) fn append(&mut self, later: Import) {
        let base = self.r.b.spans().len();
        self.r.b.append(later.r.b);
        self.nested.extend(later.nested.into_iter().map(|(i, holder)| (i + base, holder)));
        self.without_trace_id |= later.without_trace_id;
        self.uptime_checks += later.uptime_checks;
        self.inherited_trace_ids += later.inherited_trace_ids;
    }

    fn text(&self, id: Option<StrId>) -> Option<&str> {
        id.map(|id| self.r.b.resolve(id))
    }

    fn shape(&self, item: &Rec) -> Option<Shape> {
        match self.text(item.event_type) {
            Some("span") => return Some(Shape::TraceSpan),
            Some("uptime_check") => return Some(Shape::Uptime),
            Some("error" | "occurrence") => return Some(Shape::Issue),
            _ => {}
        }
        let has_trace_context = item.ctx.is_some();
        let looks_like_error = item.title.is_some() || item.has_exception || item.has_logentry;
        let wrapper = item.lists[TRANSACTIONS].present || item.lists[ORPHAN_ERRORS].present;
        Some(match self.text(item.kind) {
            Some("transaction") => Shape::Transaction,
            Some("error" | "default") => Shape::ErrorEvent,
            _ if wrapper => Shape::Wrapper,
            _ if item.span_id.is_some() => Shape::LegacyNode,
            _ if has_trace_context && (item.spans.is_some() || item.entries.is_some()) => Shape::Transaction,
            _ if looks_like_error && has_trace_context => Shape::ErrorEvent,
            _ if looks_like_error => Shape::Issue,
            Some(_) => Shape::ProcessingError,
            None => return None,
        })
    }

    fn item(&mut self, rec: u32, loc: &Loc, holder: Holder) -> Result<(), FormatError> {
        let item = self.r.recs[rec as usize];
        match self.shape(&item) {
            Some(Shape::Transaction) => self.transaction(&item, loc),
            Some(Shape::ErrorEvent | Shape::Issue) => {
                self.error(rec, holder);
                Ok(())
            }
            Some(Shape::LegacyNode) => self.legacy_node(&item, loc, holder),
            Some(Shape::TraceSpan) => self.trace_span(&item, loc, holder),
            Some(Shape::Uptime) => {
                self.uptime_checks += 1;
                Ok(())
            }
            Some(Shape::Wrapper) => {
                self.list(item.lists[TRANSACTIONS], &loc.key("transactions"), holder)?;
                self.list(item.lists[ORPHAN_ERRORS], &loc.key("orphan_errors"), holder)
            }
            // An event's `errors` list also holds Sentry's processing errors (`invalid_data`, ...).
            Some(Shape::ProcessingError) if holder.span.is_some() => {
                let kind = self.text(item.kind).unwrap_or("");
                let name = self.text(item.name).unwrap_or("");
                let note = format!("Sentry reported a processing error in the event: {kind} {name}");
                self.r.b.note(note);
                Ok(())
            }
            Some(Shape::ProcessingError) | None => {
                let found = match self.text(item.kind) {
                    Some(kind) => format!("found an event of type {kind:?}"),
                    None => "found an object with none of these".to_owned(),
                };
                Err(loc.err(format!(
                    "expected a Sentry transaction event (\"type\": \"transaction\" with contexts.trace), an error \
                     event, or a trace endpoint node (span_id or event_type); {found}"
                )))
            }
        }
    }

    fn list(&mut self, list: List, loc: &Loc, holder: Holder) -> Result<(), FormatError> {
        let (mut rec, mut i) = (list.head, 0);
        while rec != NONE {
            self.item(rec, &Loc::Index(loc, i), holder)?;
            rec = self.r.recs[rec as usize].next;
            i += 1;
        }
        Ok(())
    }

    /// Pushes a run of scratch attributes.
    fn push_run(&mut self, run: Option<Run>) {
        let Some(run) = run else { return };
        for k in run.start..run.start + run.len {
            let attr = self.r.scratch[k as usize];
            self.r.b.push_attr(attr.key, attr.value);
        }
    }

    /// Pushes a span at the end of the item's spans.
    fn push_span(&mut self, raw: RawSpan) -> usize {
        let index = self.r.b.spans().len();
        self.r.b.push_span(raw);
        self.order.push(index as u32);
        self.top + self.order.len() - 1
    }

    /// A transaction event: its root span from `contexts.trace`, then `spans[]`.
    fn transaction(&mut self, item: &Rec, loc: &Loc) -> Result<(), FormatError> {
        let contexts = loc.key("contexts");
        let trace_loc = contexts.key("trace");
        let ctx = item.ctx.ok_or_else(|| {
            trace_loc.err("a transaction needs its root span in contexts.trace (with trace_id and span_id)")
        })?;
        let trace_id = ctx.trace_id.ok_or_else(|| trace_loc.err("missing field `trace_id`"))?;
        let span_id = ctx.span_id.ok_or_else(|| trace_loc.err("missing field `span_id`"))?;
        let start = item
            .start_timestamp
            .or(item.start_timestamp_camel)
            .ok_or_else(|| loc.err("missing field `start_timestamp` (the transaction's start)"))?;
        let end = item.timestamp.or(item.end_timestamp_camel);

        let transaction = item.transaction.or(ctx.description).unwrap_or(StrId::EMPTY);
        let service = self.service_of(item);
        let mark = self.r.b.attr_mark();
        self.push_run(Some(ctx.data));
        self.push_run(item.tags);
        self.event_fields(item);
        if let Some(origin) = ctx.origin {
            let key = self.r.b.intern(keys::ORIGIN);
            self.r.b.push_attr(key, AttrValue::Str(origin));
        }
        if let Some(code) = item.response_code
            && !ctx.data_has_status
        {
            let key = self.r.b.intern(keys::RESPONSE_STATUS);
            self.r.b.push_attr(key, AttrValue::Int(code));
        }
        let mut root = RawSpan::new(trace_id, span_id, ctx.parent, start, end);
        root.name = transaction;
        root.transaction = transaction;
        root.service = service;
        root.op = ctx.op.unwrap_or(StrId::EMPTY);
        root.kind = kind_of(self.text(ctx.op).unwrap_or(""));
        (root.status, root.status_message) = status_of(&self.r.b, ctx.status);
        root.attrs = self.r.b.attrs_since(mark);
        self.push_span(root);

        let entries = item.entries.map_or(0..0, |run| run.start as usize..(run.start + run.len) as usize);
        let blocks = item.spans.into_iter().chain(entries.map(|k| self.r.blocks[k]));
        let blocks: Vec<(u32, u32)> = blocks.collect();
        for &(first, count) in &blocks {
            for index in first..first + count {
                let span = &mut self.r.b.spans_mut()[index as usize];
                span.service = service;
                span.transaction = transaction;
                self.order.push(index);
            }
        }
        for &index in &self.r.inherit {
            if blocks.iter().any(|&(first, count)| (first..first + count).contains(&index)) {
                self.r.b.spans_mut()[index as usize].trace_id = trace_id;
                self.inherited_trace_ids += 1;
            }
        }
        self.list(item.lists[ERRORS], &loc.key("errors"), Holder { span: Some(span_id), trace: trace_id })
    }

    /// A legacy `events-trace` node: one transaction's root span, its errors and child transactions.
    fn legacy_node(&mut self, item: &Rec, loc: &Loc, holder: Holder) -> Result<(), FormatError> {
        let span_id = item.span_id.ok_or_else(|| loc.err("missing field `span_id`"))?;
        let duration = item.transaction_duration.map(millis);
        let (start, end) = times(item.start_timestamp, item.timestamp, duration)
            .ok_or_else(|| loc.err("a trace node needs start_timestamp, or timestamp and transaction.duration"))?;
        let trace = self.trace_of(item, holder);
        let mark = self.r.b.attr_mark();
        self.push_run(item.tags);
        self.event_fields(item);
        let transaction = item.transaction.unwrap_or(StrId::EMPTY);
        let mut raw = RawSpan::new(trace, span_id, item.parent_span_id, start, end);
        raw.name = transaction;
        raw.transaction = transaction;
        raw.op = item.transaction_op.unwrap_or(StrId::EMPTY);
        raw.kind = kind_of(self.text(item.transaction_op).unwrap_or(""));
        raw.service = self.service_of(item);
        (raw.status, raw.status_message) = status_of(&self.r.b, item.transaction_status);
        self.push_nested(raw, mark, holder);
        self.node_lists(item, loc, Holder { span: Some(span_id), trace })
    }

    /// A span of the `/trace/` endpoint (its id is `event_id`), with its errors and children.
    fn trace_span(&mut self, item: &Rec, loc: &Loc, holder: Holder) -> Result<(), FormatError> {
        let span_id = match (item.span_id, self.text(item.event_id)) {
            (Some(id), _) => id,
            (None, Some(text)) => optional_span_id(text)
                .ok()
                .flatten()
                .ok_or_else(|| loc.key("event_id").err(format!("expected a 16-digit hex span id, found {text:?}")))?,
            (None, None) => return Err(loc.err("missing field `event_id` (the span's id)")),
        };
        let duration = item.duration.map(millis);
        let (start, end) = times(item.start_timestamp, item.end_timestamp.or(item.timestamp), duration)
            .ok_or_else(|| loc.err("a span needs start_timestamp, or end_timestamp and duration"))?;
        let trace = self.trace_of(item, holder);
        let mark = self.r.b.attr_mark();
        self.push_run(item.additional_attributes);
        self.push_run(item.measurements);
        let mut raw = RawSpan::new(trace, span_id, item.parent_span_id, start, end);
        raw.name = item.description.or(item.name).unwrap_or(StrId::EMPTY);
        raw.op = item.op.unwrap_or(StrId::EMPTY);
        raw.kind = kind_of(self.text(item.op).unwrap_or(""));
        raw.transaction = item.transaction.unwrap_or(StrId::EMPTY);
        raw.service = self.service_of(item);
        self.push_nested(raw, mark, holder);
        self.node_lists(item, loc, Holder { span: Some(span_id), trace })
    }

    /// A trace node's `errors`, `occurrences`, `performance_issues` and `children`.
    fn node_lists(&mut self, item: &Rec, loc: &Loc, holder: Holder) -> Result<(), FormatError> {
        self.list(item.lists[ERRORS], &loc.key("errors"), holder)?;
        self.list(item.lists[OCCURRENCES], &loc.key("occurrences"), holder)?;
        self.list(item.lists[PERFORMANCE_ISSUES], &loc.key("performance_issues"), holder)?;
        self.list(item.lists[CHILDREN], &loc.key("children"), holder)
    }

    /// Pushes a trace node's span, remembering the node that holds it.
    fn push_nested(&mut self, mut raw: RawSpan, mark: u32, holder: Holder) {
        if let Some(parent) = holder.span
            && raw.parent_id != Some(parent)
            && let Some(written) = raw.parent_id
        {
            self.r.b.push_attr_str(keys::WRITTEN_PARENT, &written.to_string());
        }
        raw.attrs = self.r.b.attrs_since(mark);
        let index = self.push_span(raw);
        if let Some(parent) = holder.span {
            self.nested.push((index, parent));
        }
    }

    /// An error event, or an error/issue node of a trace endpoint.
    fn error(&mut self, rec: u32, holder: Holder) {
        let item = self.r.recs[rec as usize];
        let ctx = item.ctx;
        let trace_id = ctx.and_then(|c| c.trace_id).unwrap_or_else(|| self.trace_of(&item, holder));
        let span_id = item.span.or(ctx.and_then(|c| c.span_id)).or(holder.span);
        let title = self.error_title(&item);
        let event = RawEvent {
            trace_id,
            span_id,
            time: item.timestamp.or(item.start_timestamp),
            title: self.r.b.intern(&title),
            event_id: item.event_id.or(item.event_id_camel).unwrap_or(StrId::EMPTY),
            level: item.level.unwrap_or(StrId::EMPTY),
        };
        self.r.b.push_error(event);
    }

    fn trace_of(&mut self, item: &Rec, holder: Holder) -> TraceId {
        match item.trace_id {
            Some(id) => id,
            None if holder.trace == TraceId(0) => {
                self.without_trace_id = true;
                holder.trace
            }
            None => holder.trace,
        }
    }

    /// The event's own fields that become the root span's attributes.
    fn event_fields(&mut self, item: &Rec) {
        let texts = [
            (keys::EVENT_ID, item.event_id.or(item.event_id_camel)),
            (keys::ENVIRONMENT, item.environment),
            (keys::PLATFORM, item.platform),
        ];
        self.push_texts(&texts);
        if let Some(release) = item.release {
            let key = self.r.b.intern(keys::RELEASE);
            self.r.b.push_attr(key, release);
        }
        let texts = [
            (keys::SDK_NAME, item.sdk_name),
            (keys::SDK_VERSION, item.sdk_version),
            (keys::TRANSACTION_SOURCE, item.source),
        ];
        self.push_texts(&texts);
        self.push_run(item.measurements);
    }

    fn push_texts(&mut self, texts: &[(&str, Option<StrId>)]) {
        for &(key, value) in texts {
            if let Some(value) = value {
                let key = self.r.b.intern(key);
                self.r.b.push_attr(key, AttrValue::Str(value));
            }
        }
    }

    /// The service chain documented in the module docs.
    fn service_of(&self, item: &Rec) -> StrId {
        item.project_slug
            .or(item.project_slug_camel)
            .or(item.project)
            .or(item.server_name)
            .or(item.tag_server_name)
            .unwrap_or(StrId::EMPTY)
    }

    /// An error's title: `title`, else the raised exception (`Type: value`), else its message.
    fn error_title(&self, item: &Rec) -> String {
        if let Some(title) = self.text(item.title.or(item.description)) {
            return title.to_owned();
        }
        if let Some((kind, value)) = item.raised {
            return match (self.text(kind), self.text(value)) {
                (Some(kind), Some(value)) => format!("{kind}: {value}"),
                (Some(only), None) | (None, Some(only)) => only.to_owned(),
                (None, None) => "exception".to_owned(),
            };
        }
        let logentry = if item.has_logentry { item.log_formatted.or(item.log_message) } else { None };
        match self.text(logentry.or(item.message)) {
            Some(message) => message.to_owned(),
            None => "error".to_owned(),
        }
    }

    /// Pushes one typed attribute; `null` values are skipped.
    pub(super) fn value(&mut self, key: &str, value: &Value) {
        let value = match value {
            Value::Str(s) => AttrValue::Str(self.r.b.intern(s)),
            Value::Json(s) => AttrValue::Str(self.r.b.intern(s)),
            Value::Int(i) => AttrValue::Int(*i),
            Value::Float(f) => AttrValue::Float(*f),
            Value::Bool(b) => AttrValue::Bool(*b),
            Value::Null => return,
        };
        let key = self.r.b.intern(key);
        self.r.b.push_attr(key, value);
    }

    /// `"ok"` is ok, absent is unset, any other text is an error that keeps the text.
    pub(super) fn status(&mut self, status: &Option<Text>) -> (Status, StrId) {
        let status = status.as_ref().map(|s| self.r.b.intern(s));
        status_of(&self.r.b, status)
    }

    pub(super) fn intern_opt<'t>(&mut self, value: impl Into<Option<&'t Text<'t>>>) -> StrId {
        match value.into() {
            Some(t) => self.r.b.intern(t.as_str()),
            None => StrId::EMPTY,
        }
    }
}

/// Milliseconds (trace endpoints' durations) to nanoseconds, rounded to the microsecond.
fn millis(ms: f64) -> Nanos {
    super::time::from_seconds(ms / 1e3).unwrap_or(0)
}

/// Start and end from whichever two of start, end and duration a node gives.
fn times(start: Option<Nanos>, end: Option<Nanos>, duration: Option<Nanos>) -> Option<(Nanos, Option<Nanos>)> {
    match (start, end, duration) {
        (Some(start), Some(end), _) => Some((start, Some(end))),
        (Some(start), None, duration) => Some((start, duration.map(|d| start + d))),
        (None, Some(end), Some(duration)) => Some((end - duration, Some(end))),
        _ => None,
    }
}
