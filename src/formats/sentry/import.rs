//! From Sentry's JSON items to raw spans and errors.
//!
//! Each [`Item`] is classified (transaction event, error event, legacy trace node, `/trace/`
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

use foldhash::HashSet;

use super::keys;
use super::schema::{Attrs, Item, SpanJson, Tags, Text, Value};
use crate::formats::json::optional_span_id;
use crate::formats::{FormatError, Place};
use crate::model::{AttrValue, Nanos, RawEvent, RawSpan, SpanId, SpanKind, Status, StrId, TraceBuilder, TraceId};

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

fn shape(item: &Item) -> Option<Shape> {
    match item.event_type.as_ref().map(Text::as_str) {
        Some("span") => return Some(Shape::TraceSpan),
        Some("uptime_check") => return Some(Shape::Uptime),
        Some("error" | "occurrence") => return Some(Shape::Issue),
        _ => {}
    }
    let has_trace_context = item.contexts.as_ref().is_some_and(|c| c.trace.is_some());
    let looks_like_error = item.title.is_some() || item.exception.is_some() || item.logentry.is_some();
    Some(match item.kind.as_ref().map(Text::as_str) {
        Some("transaction") => Shape::Transaction,
        Some("error" | "default") => Shape::ErrorEvent,
        _ if item.transactions.is_some() || item.orphan_errors.is_some() => Shape::Wrapper,
        _ if item.span_id.is_some() => Shape::LegacyNode,
        _ if has_trace_context && (item.spans.is_some() || item.entries.is_some()) => Shape::Transaction,
        _ if looks_like_error && has_trace_context => Shape::ErrorEvent,
        _ if looks_like_error => Shape::Issue,
        Some(_) => Shape::ProcessingError,
        None => return None,
    })
}

/// Turns items into a [`TraceBuilder`]'s spans and errors.
pub(super) struct Import {
    /// The spans and errors so far (other item shapes, such as envelopes' span v2 items, push here too).
    pub(super) b: TraceBuilder,
    /// Spans pushed inside a trace node's `children`, with the node that holds them.
    nested: Vec<(usize, SpanId)>,
    without_trace_id: bool,
    uptime_checks: usize,
    /// Spans of a transaction that named no `trace_id` of their own (they inherit the transaction's).
    inherited_trace_ids: usize,
}

impl Import {
    pub(super) fn new() -> Self {
        Import {
            b: TraceBuilder::new(),
            nested: Vec::new(),
            without_trace_id: false,
            uptime_checks: 0,
            inherited_trace_ids: 0,
        }
    }

    /// Reads one top-level item.
    pub(super) fn top(&mut self, item: &Item, loc: &Loc) -> Result<(), FormatError> {
        self.item(item, loc, Holder { span: None, trace: TraceId(0) })
    }

    /// Reads an envelope's `event` item: an error event, joined to its trace through
    /// `contexts.trace`, else to `trace`, the trace the envelope's header names.
    pub(super) fn error_event(&mut self, item: &Item, trace: TraceId) {
        self.error(item, Holder { span: None, trace });
    }

    /// Links nested spans whose written parent is missing to their holder; notes what was odd.
    pub(super) fn finish(mut self) -> TraceBuilder {
        if !self.nested.is_empty() {
            let present: HashSet<SpanId> = self.b.spans().iter().map(|s| s.id).collect();
            let spans = self.b.spans_mut();
            for (index, holder) in self.nested {
                if let Some(span) = spans.get_mut(index)
                    && span.parent_id.is_none_or(|p| !present.contains(&p))
                {
                    span.parent_id = Some(holder);
                }
            }
        }
        if self.without_trace_id {
            self.b.note("the trace endpoint's answer does not name its trace id; it is shown as 0");
        }
        if self.inherited_trace_ids > 0 {
            self.b.note(format!(
                "{} span(s) have no trace_id of their own; each belongs to the trace of its transaction \
                 (contexts.trace.trace_id)",
                self.inherited_trace_ids
            ));
        }
        if self.uptime_checks > 0 {
            self.b
                .note(format!("{} uptime check(s) in the trace were skipped: they are not spans", self.uptime_checks));
        }
        self.b
    }

    fn item(&mut self, item: &Item, loc: &Loc, holder: Holder) -> Result<(), FormatError> {
        match shape(item) {
            Some(Shape::Transaction) => self.transaction(item, loc),
            Some(Shape::ErrorEvent | Shape::Issue) => {
                self.error(item, holder);
                Ok(())
            }
            Some(Shape::LegacyNode) => self.legacy_node(item, loc, holder),
            Some(Shape::TraceSpan) => self.trace_span(item, loc, holder),
            Some(Shape::Uptime) => {
                self.uptime_checks += 1;
                Ok(())
            }
            Some(Shape::Wrapper) => {
                self.list(item.transactions.as_deref(), &loc.key("transactions"), holder)?;
                self.list(item.orphan_errors.as_deref(), &loc.key("orphan_errors"), holder)
            }
            // An event's `errors` list also holds Sentry's processing errors (`invalid_data`, ...).
            Some(Shape::ProcessingError) if holder.span.is_some() => {
                let kind = item.kind.as_ref().map_or("", Text::as_str);
                let name = item.name.as_ref().map_or("", Text::as_str);
                self.b.note(format!("Sentry reported a processing error in the event: {kind} {name}"));
                Ok(())
            }
            Some(Shape::ProcessingError) | None => {
                let found = match &item.kind {
                    Some(kind) => format!("found an event of type {:?}", kind.as_str()),
                    None => "found an object with none of these".to_owned(),
                };
                Err(loc.err(format!(
                    "expected a Sentry transaction event (\"type\": \"transaction\" with contexts.trace), an error \
                     event, or a trace endpoint node (span_id or event_type); {found}"
                )))
            }
        }
    }

    fn list(&mut self, items: Option<&[Item]>, loc: &Loc, holder: Holder) -> Result<(), FormatError> {
        for (i, item) in items.unwrap_or_default().iter().enumerate() {
            self.item(item, &Loc::Index(loc, i), holder)?;
        }
        Ok(())
    }

    /// A transaction event: its root span from `contexts.trace`, then `spans[]`.
    fn transaction(&mut self, item: &Item, loc: &Loc) -> Result<(), FormatError> {
        let contexts = loc.key("contexts");
        let trace_loc = contexts.key("trace");
        let ctx = item.contexts.as_ref().and_then(|c| c.trace.as_ref()).ok_or_else(|| {
            trace_loc.err("a transaction needs its root span in contexts.trace (with trace_id and span_id)")
        })?;
        let trace_id = ctx.trace_id.ok_or_else(|| trace_loc.err("missing field `trace_id`"))?.0;
        let span_id = ctx.span_id.ok_or_else(|| trace_loc.err("missing field `span_id`"))?.0;
        let start = item
            .start_timestamp
            .or(item.start_timestamp_camel)
            .ok_or_else(|| loc.err("missing field `start_timestamp` (the transaction's start)"))?
            .0;
        let end = item.timestamp.or(item.end_timestamp_camel).map(|t| t.0);

        let name = text(&item.transaction).or(text(&ctx.description)).unwrap_or("");
        let transaction = self.b.intern(name);
        let service = self.b.intern(service_of(item));
        let mark = self.b.attr_mark();
        self.attrs(&ctx.data);
        self.tags(item.tags.as_ref());
        self.event_fields(item);
        if let Some(origin) = text(&ctx.origin) {
            self.b.push_attr_str(keys::ORIGIN, origin);
        }
        let response_code = item.contexts.as_ref().and_then(|c| c.response.as_ref()).and_then(|r| r.status_code);
        if let Some(code) = response_code
            && !ctx.data.0.iter().any(|(k, _)| k.as_str() == keys::RESPONSE_STATUS)
        {
            let key = self.b.intern(keys::RESPONSE_STATUS);
            self.b.push_attr(key, AttrValue::Int(code));
        }
        let mut root = RawSpan::new(trace_id, span_id, ctx.parent_span_id.0, start, end);
        root.name = transaction;
        root.transaction = transaction;
        root.service = service;
        root.op = self.intern_opt(&ctx.op);
        root.kind = kind_of(root_text(&ctx.op));
        (root.status, root.status_message) = self.status(&ctx.status);
        root.attrs = self.b.attrs_since(mark);
        self.b.push_span(root);

        let from_entries =
            item.entries.iter().flatten().filter(|e| e.kind.as_ref().is_some_and(|k| k.as_str() == "spans"));
        let spans = item.spans.iter().flatten().chain(from_entries.flat_map(|e| e.data.0.iter()));
        for span in spans {
            self.span(span, trace_id, service, transaction);
        }
        self.list(item.errors.as_deref(), &loc.key("errors"), Holder { span: Some(span_id), trace: trace_id })
    }

    /// One of a transaction's `spans[]`; without its own `trace_id` it is in `trace_id`, the
    /// transaction's.
    fn span(&mut self, span: &SpanJson, trace_id: TraceId, service: StrId, transaction: StrId) {
        self.inherited_trace_ids += usize::from(span.trace_id.is_none());
        let mark = self.b.attr_mark();
        self.attrs(&span.data);
        self.tags(Some(&span.tags));
        if let Some(origin) = text(&span.origin) {
            self.b.push_attr_str(keys::ORIGIN, origin);
        }
        let mut raw = RawSpan::new(
            span.trace_id.map_or(trace_id, |t| t.0),
            span.span_id.0,
            span.parent_span_id.0,
            span.start_timestamp.0,
            span.timestamp.map(|t| t.0),
        );
        raw.name = self.intern_opt(&span.description);
        raw.op = self.intern_opt(&span.op);
        raw.kind = kind_of(root_text(&span.op));
        raw.service = service;
        raw.transaction = transaction;
        (raw.status, raw.status_message) = self.status(&span.status);
        raw.attrs = self.b.attrs_since(mark);
        self.b.push_span(raw);
    }

    /// A legacy `events-trace` node: one transaction's root span, its errors and child transactions.
    fn legacy_node(&mut self, item: &Item, loc: &Loc, holder: Holder) -> Result<(), FormatError> {
        let span_id = item.span_id.ok_or_else(|| loc.err("missing field `span_id`"))?.0;
        let duration = item.transaction_duration.map(millis);
        let (start, end) = times(item.start_timestamp, item.timestamp, duration)
            .ok_or_else(|| loc.err("a trace node needs start_timestamp, or timestamp and transaction.duration"))?;
        let trace = self.trace_of(item, holder);
        let mark = self.b.attr_mark();
        self.tags(item.tags.as_ref());
        self.event_fields(item);
        let transaction = self.intern_opt(&item.transaction);
        let mut raw = RawSpan::new(trace, span_id, item.parent_span_id.0, start, end);
        raw.name = transaction;
        raw.transaction = transaction;
        raw.op = self.intern_opt(&item.transaction_op);
        raw.kind = kind_of(root_text(&item.transaction_op));
        raw.service = self.b.intern(service_of(item));
        (raw.status, raw.status_message) = self.status(&item.transaction_status);
        self.push_nested(raw, mark, holder);
        self.node_lists(item, loc, Holder { span: Some(span_id), trace })
    }

    /// A span of the `/trace/` endpoint (its id is `event_id`), with its errors and children.
    fn trace_span(&mut self, item: &Item, loc: &Loc, holder: Holder) -> Result<(), FormatError> {
        let span_id = match (item.span_id, &item.event_id) {
            (Some(id), _) => id.0,
            (None, Some(text)) => optional_span_id(text.as_str()).ok().flatten().ok_or_else(|| {
                loc.key("event_id").err(format!("expected a 16-digit hex span id, found {:?}", text.as_str()))
            })?,
            (None, None) => return Err(loc.err("missing field `event_id` (the span's id)")),
        };
        let duration = item.duration.map(millis);
        let (start, end) = times(item.start_timestamp, item.end_timestamp.or(item.timestamp), duration)
            .ok_or_else(|| loc.err("a span needs start_timestamp, or end_timestamp and duration"))?;
        let trace = self.trace_of(item, holder);
        let mark = self.b.attr_mark();
        if let Some(attrs) = &item.additional_attributes {
            self.attrs(attrs);
        }
        self.measurements(item);
        let mut raw = RawSpan::new(trace, span_id, item.parent_span_id.0, start, end);
        raw.name = match item.description.as_ref().or(item.name.as_ref()) {
            Some(name) => self.b.intern(name.as_str()),
            None => StrId::EMPTY,
        };
        raw.op = self.intern_opt(&item.op);
        raw.kind = kind_of(root_text(&item.op));
        raw.transaction = self.intern_opt(&item.transaction);
        raw.service = self.b.intern(service_of(item));
        self.push_nested(raw, mark, holder);
        self.node_lists(item, loc, Holder { span: Some(span_id), trace })
    }

    /// A trace node's `errors`, `occurrences`, `performance_issues` and `children`.
    fn node_lists(&mut self, item: &Item, loc: &Loc, holder: Holder) -> Result<(), FormatError> {
        self.list(item.errors.as_deref(), &loc.key("errors"), holder)?;
        self.list(item.occurrences.as_deref(), &loc.key("occurrences"), holder)?;
        self.list(item.performance_issues.as_deref(), &loc.key("performance_issues"), holder)?;
        self.list(item.children.as_deref(), &loc.key("children"), holder)
    }

    /// Pushes a trace node's span, remembering the node that holds it.
    fn push_nested(&mut self, mut raw: RawSpan, mark: u32, holder: Holder) {
        if let Some(parent) = holder.span {
            if raw.parent_id != Some(parent)
                && let Some(written) = raw.parent_id
            {
                self.b.push_attr_str(keys::WRITTEN_PARENT, &written.to_string());
            }
            self.nested.push((self.b.spans().len(), parent));
        }
        raw.attrs = self.b.attrs_since(mark);
        self.b.push_span(raw);
    }

    /// An error event, or an error/issue node of a trace endpoint.
    fn error(&mut self, item: &Item, holder: Holder) {
        let ctx = item.contexts.as_ref().and_then(|c| c.trace.as_ref());
        let trace_id = ctx.and_then(|c| c.trace_id).map(|t| t.0).unwrap_or_else(|| self.trace_of(item, holder));
        let span_id = item.span.0.or(ctx.and_then(|c| c.span_id).map(|s| s.0)).or(holder.span);
        let title = error_title(item);
        let event = RawEvent {
            trace_id,
            span_id,
            time: item.timestamp.or(item.start_timestamp).map(|t| t.0),
            title: self.b.intern(&title),
            event_id: self.intern_opt(item.event_id.as_ref().or(item.event_id_camel.as_ref())),
            level: self.intern_opt(&item.level),
        };
        self.b.push_error(event);
    }

    fn trace_of(&mut self, item: &Item, holder: Holder) -> TraceId {
        match item.trace_id {
            Some(id) => id.0,
            None if holder.trace == TraceId(0) => {
                self.without_trace_id = true;
                holder.trace
            }
            None => holder.trace,
        }
    }

    /// The event's own fields that become the root span's attributes.
    fn event_fields(&mut self, item: &Item) {
        if let Some(id) = item.event_id.as_ref().or(item.event_id_camel.as_ref()) {
            self.b.push_attr_str(keys::EVENT_ID, id.as_str());
        }
        for (key, value) in [(keys::ENVIRONMENT, &item.environment), (keys::PLATFORM, &item.platform)] {
            if let Some(value) = text(value) {
                self.b.push_attr_str(key, value);
            }
        }
        if let Some(release) = &item.release {
            self.value(keys::RELEASE, release);
        }
        if let Some(sdk) = &item.sdk {
            for (key, value) in [(keys::SDK_NAME, &sdk.name), (keys::SDK_VERSION, &sdk.version)] {
                if let Some(value) = text(value) {
                    self.b.push_attr_str(key, value);
                }
            }
        }
        if let Some(source) = item.transaction_info.as_ref().and_then(|t| text(&t.source)) {
            self.b.push_attr_str(keys::TRANSACTION_SOURCE, source);
        }
        self.measurements(item);
    }

    /// `measurements`, as `measurements.<name>` attributes.
    fn measurements(&mut self, item: &Item) {
        for (name, value) in item.measurements.iter().flat_map(|m| m.0.iter()) {
            let name = name.as_str();
            let key = if name.starts_with("measurements.") { name.to_owned() } else { format!("measurements.{name}") };
            let key = self.b.intern(&key);
            self.b.push_attr(key, AttrValue::Float(*value));
        }
    }

    fn attrs(&mut self, attrs: &Attrs) {
        for (key, value) in &attrs.0 {
            self.value(key.as_str(), value);
        }
    }

    fn tags(&mut self, tags: Option<&Tags>) {
        for (key, value) in tags.iter().flat_map(|t| t.0.iter()) {
            self.value(key.as_str(), value);
        }
    }

    /// Pushes one typed attribute; `null` values are skipped.
    pub(super) fn value(&mut self, key: &str, value: &Value) {
        let value = match value {
            Value::Str(s) => AttrValue::Str(self.b.intern(s)),
            Value::Json(s) => AttrValue::Str(self.b.intern(s)),
            Value::Int(i) => AttrValue::Int(*i),
            Value::Float(f) => AttrValue::Float(*f),
            Value::Bool(b) => AttrValue::Bool(*b),
            Value::Null => return,
        };
        let key = self.b.intern(key);
        self.b.push_attr(key, value);
    }

    /// `"ok"` is ok, absent is unset, any other text is an error that keeps the text.
    pub(super) fn status(&mut self, status: &Option<Text>) -> (Status, StrId) {
        match text(status) {
            None => (Status::Unset, StrId::EMPTY),
            Some("ok") => (Status::Ok, StrId::EMPTY),
            Some(other) => (Status::Error, self.b.intern(other)),
        }
    }

    pub(super) fn intern_opt<'t>(&mut self, value: impl Into<Option<&'t Text<'t>>>) -> StrId {
        match value.into() {
            Some(t) => self.b.intern(t.as_str()),
            None => StrId::EMPTY,
        }
    }
}

fn text<'t>(value: &'t Option<Text>) -> Option<&'t str> {
    value.as_ref().map(Text::as_str)
}

fn root_text<'t>(value: &'t Option<Text>) -> &'t str {
    text(value).unwrap_or("")
}

/// The service chain documented in the module docs.
fn service_of<'t>(item: &'t Item) -> &'t str {
    let project = match &item.project {
        Some(Value::Str(name)) => Some(name.as_ref()),
        _ => None,
    };
    let tag = || {
        item.tags.as_ref()?.0.iter().find_map(|(k, v)| match v {
            Value::Str(s) if k.as_str() == "server_name" => Some(s.as_ref()),
            _ => None,
        })
    };
    text(&item.project_slug)
        .or(text(&item.project_slug_camel))
        .or(project)
        .or(text(&item.server_name))
        .or_else(tag)
        .unwrap_or("")
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

/// An error's title: `title`, else the raised exception (`Type: value`), else its message.
fn error_title(item: &Item) -> String {
    if let Some(title) = text(&item.title).or(text(&item.description)) {
        return title.to_owned();
    }
    if let Some(last) = item.exception.as_ref().and_then(|e| e.values.last()) {
        return match (text(&last.kind), text(&last.value)) {
            (Some(kind), Some(value)) => format!("{kind}: {value}"),
            (Some(only), None) | (None, Some(only)) => only.to_owned(),
            (None, None) => "exception".to_owned(),
        };
    }
    let logentry = item.logentry.as_ref().and_then(|l| text(&l.formatted).or(text(&l.message)));
    match (logentry, &item.message) {
        (Some(message), _) => message.to_owned(),
        (None, Some(Value::Str(message))) => message.to_string(),
        _ => "error".to_owned(),
    }
}

/// Milliseconds (trace endpoints' durations) to nanoseconds, rounded to the microsecond.
fn millis(ms: f64) -> Nanos {
    super::time::from_seconds(ms / 1e3).unwrap_or(0)
}

/// Start and end from whichever two of start, end and duration a node gives.
fn times(
    start: Option<super::time::Ts>,
    end: Option<super::time::Ts>,
    duration: Option<Nanos>,
) -> Option<(Nanos, Option<Nanos>)> {
    match (start.map(|t| t.0), end.map(|t| t.0), duration) {
        (Some(start), Some(end), _) => Some((start, Some(end))),
        (Some(start), None, duration) => Some((start, duration.map(|d| start + d))),
        (None, Some(end), Some(duration)) => Some((end - duration, Some(end))),
        _ => None,
    }
}
