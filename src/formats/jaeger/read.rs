//! Reading Jaeger JSON into a [`TraceBuilder`]. See the module docs of [`super`].

use std::borrow::Cow;
use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::REFERENCES;
use crate::formats::json::{self, Scalar, Text};
use crate::formats::semconv::{self, OpHints};
use crate::formats::{FormatError, Place};
use crate::model::{AttrValue, Event, Nanos, Range32, RawSpan, SpanId, SpanKind, Status, StrId, TraceBuilder, TraceId};

/// The whole file: a query answer (`data`, `errors`), or one trace object on its own.
#[derive(Deserialize)]
struct Document<'a> {
    #[serde(borrow, default)]
    data: Option<Vec<JTrace<'a>>>,
    #[serde(borrow, default)]
    errors: Option<Vec<QueryError<'a>>>,
    /// A bare trace object's fields.
    #[serde(rename = "traceID", borrow, default)]
    trace_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    spans: Option<Vec<JSpan<'a>>>,
    #[serde(borrow, default)]
    processes: Option<HashMap<Text<'a>, Process<'a>>>,
    #[serde(borrow, default)]
    warnings: Option<Vec<Text<'a>>>,
}

/// An entry of the answer's `errors`.
#[derive(Deserialize)]
struct QueryError<'a> {
    #[serde(default)]
    code: Option<i64>,
    #[serde(borrow, default)]
    msg: Option<Text<'a>>,
}

/// One trace.
#[derive(Deserialize)]
struct JTrace<'a> {
    #[serde(rename = "traceID", borrow, default)]
    trace_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    spans: Option<Vec<JSpan<'a>>>,
    #[serde(borrow, default)]
    processes: Option<HashMap<Text<'a>, Process<'a>>>,
    #[serde(borrow, default)]
    warnings: Option<Vec<Text<'a>>>,
}

/// A process: the service and its tags.
#[derive(Deserialize)]
struct Process<'a> {
    #[serde(rename = "serviceName", borrow, default)]
    service: Text<'a>,
    #[serde(borrow, default)]
    tags: Vec<Tag<'a>>,
}

#[derive(Deserialize)]
struct JSpan<'a> {
    #[serde(rename = "traceID", deserialize_with = "json::trace_id")]
    trace_id: TraceId,
    #[serde(rename = "spanID", deserialize_with = "json::span_id")]
    span_id: SpanId,
    #[serde(rename = "parentSpanID", default, deserialize_with = "json::opt_span_id")]
    parent_span_id: Option<SpanId>,
    #[serde(rename = "operationName", borrow, default)]
    name: Text<'a>,
    #[serde(default)]
    references: Option<Vec<Reference>>,
    #[serde(rename = "startTime", deserialize_with = "json::micros")]
    start: Nanos,
    #[serde(deserialize_with = "json::micros")]
    duration: Nanos,
    #[serde(borrow, default)]
    tags: Option<Vec<Tag<'a>>>,
    #[serde(borrow, default)]
    logs: Option<Vec<Log<'a>>>,
    #[serde(rename = "processID", borrow, default)]
    process_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    process: Option<Process<'a>>,
    #[serde(borrow, default)]
    warnings: Option<Vec<Text<'a>>>,
}

/// How a reference relates the span to another.
#[derive(Deserialize, Serialize, Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum RefType {
    /// The other span is the parent.
    #[serde(rename = "CHILD_OF", alias = "child_of")]
    ChildOf,
    /// The other span caused this one but does not wait for it.
    #[serde(rename = "FOLLOWS_FROM", alias = "follows_from")]
    FollowsFrom,
}

/// A reference as read.
#[derive(Deserialize, Clone, Copy)]
pub(super) struct Reference {
    #[serde(rename = "refType")]
    pub ref_type: RefType,
    #[serde(rename = "traceID", deserialize_with = "json::trace_id")]
    pub trace_id: TraceId,
    #[serde(rename = "spanID", deserialize_with = "json::span_id")]
    pub span_id: SpanId,
}

/// A reference as the [`REFERENCES`] attribute keeps it.
#[derive(Serialize, Deserialize)]
pub(super) struct RefText {
    #[serde(rename = "refType")]
    pub ref_type: RefType,
    #[serde(rename = "traceID")]
    pub trace_id: String,
    #[serde(rename = "spanID")]
    pub span_id: String,
}

impl RefText {
    /// The text form of a reference.
    pub fn of(r: &Reference) -> Self {
        RefText { ref_type: r.ref_type, trace_id: r.trace_id.to_string(), span_id: r.span_id.to_string() }
    }
}

/// The parent link among a span's references: the first `CHILD_OF`, else the first `FOLLOWS_FROM`.
pub(super) fn parent_of<T>(refs: &[T], ref_type: impl Fn(&T) -> RefType) -> Option<&T> {
    refs.iter().find(|r| ref_type(r) == RefType::ChildOf).or_else(|| refs.first())
}

#[derive(Deserialize)]
struct Log<'a> {
    #[serde(deserialize_with = "json::micros")]
    timestamp: Nanos,
    #[serde(borrow, default)]
    fields: Option<Vec<Tag<'a>>>,
}

/// A `{key, type, value}` tag with its value checked against its type.
struct Tag<'a> {
    key: Text<'a>,
    value: TagValue<'a>,
}

#[derive(Debug, PartialEq)]
enum TagValue<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl<'de: 'a, 'a> Deserialize<'de> for Tag<'a> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct RawTag<'a> {
            #[serde(borrow)]
            key: Text<'a>,
            #[serde(rename = "type", borrow, default)]
            ty: Option<Text<'a>>,
            #[serde(borrow, default)]
            value: Option<Scalar<'a>>,
        }
        let raw = RawTag::deserialize(de)?;
        let value = typed(&raw.key, raw.ty.as_deref(), raw.value).map_err(serde::de::Error::custom)?;
        Ok(Tag { key: raw.key, value })
    }
}

/// Checks a tag's value against its declared type (any case), or infers the type.
fn typed<'a>(key: &str, ty: Option<&str>, value: Option<Scalar<'a>>) -> Result<TagValue<'a>, String> {
    let Some(value) = value else { return Err(format!("tag {key:?} has no value")) };
    let mismatch = |value: &Scalar| format!("tag {key:?} is declared {} but its value is {value:?}", ty.unwrap_or(""));
    let is = |name: &str| ty.is_some_and(|t| t.eq_ignore_ascii_case(name));
    let out = match value {
        _ if ty.is_none() => match value {
            Scalar::Str(s) => TagValue::Str(s),
            Scalar::Int(i) => TagValue::Int(i),
            Scalar::Float(f) => TagValue::Float(f),
            Scalar::Bool(b) => TagValue::Bool(b),
            Scalar::BigUint(u) => return Err(format!("tag {key:?} value {u} is beyond the int64 range")),
        },
        Scalar::Str(s) if is("string") || is("binary") => TagValue::Str(s),
        Scalar::Bool(b) if is("bool") => TagValue::Bool(b),
        Scalar::Str(s) if is("bool") && (s == "true" || s == "false") => TagValue::Bool(s == "true"),
        Scalar::Int(i) if is("int64") => TagValue::Int(i),
        Scalar::Str(s) if is("int64") => {
            TagValue::Int(s.parse().map_err(|_| format!("tag {key:?} is declared int64 but its value is {s:?}"))?)
        }
        Scalar::BigUint(u) if is("int64") => {
            return Err(format!("tag {key:?} is declared int64 but {u} is beyond the int64 range"));
        }
        Scalar::Int(i) if is("float64") => TagValue::Float(i as f64),
        Scalar::BigUint(u) if is("float64") => TagValue::Float(u as f64),
        Scalar::Float(f) if is("float64") => TagValue::Float(f),
        Scalar::Str(s) if is("float64") => {
            TagValue::Float(s.parse().map_err(|_| format!("tag {key:?} is declared float64 but its value is {s:?}"))?)
        }
        value if ["string", "binary", "bool", "int64", "float64"].iter().any(|t| is(t)) => {
            return Err(mismatch(&value));
        }
        _ => {
            return Err(format!(
                "tag {key:?} has unknown type {:?}; expected string, bool, int64, float64 or binary",
                ty.unwrap_or("")
            ));
        }
    };
    Ok(out)
}

/// Reads Jaeger JSON. Errors name the JSON path (and line and column when the JSON itself is wrong).
pub fn parse(bytes: &[u8]) -> Result<TraceBuilder, FormatError> {
    let doc: Document = json::from_slice(bytes)?;
    if let Some(first) = doc.errors.as_ref().and_then(|e| e.first()) {
        let count = doc.errors.as_ref().map_or(0, Vec::len);
        let more = if count > 1 { format!(" (and {} more)", count - 1) } else { String::new() };
        let code = first.code.map(|c| format!(" (code {c})")).unwrap_or_default();
        let msg = first.msg.as_deref().unwrap_or("no message");
        return Err(FormatError::at_path("$.errors[0]", format!("the Jaeger query failed: {msg}{code}{more}")));
    }
    let traces: Vec<(String, JTrace)> = match doc.data {
        Some(data) if data.is_empty() => {
            return Err(FormatError::at_path("$.data", "no traces: `data` is empty (the query found nothing)"));
        }
        Some(data) => data.into_iter().enumerate().map(|(i, t)| (format!("$.data[{i}]"), t)).collect(),
        None if doc.spans.is_some() => {
            let bare =
                JTrace { trace_id: doc.trace_id, spans: doc.spans, processes: doc.processes, warnings: doc.warnings };
            vec![("$".to_owned(), bare)]
        }
        None => {
            return Err(FormatError::new(
                Place::Whole,
                "not Jaeger JSON: expected a `data` array of traces or a trace with `spans`",
            ));
        }
    };
    let mut reader = Reader::default();
    for (path, trace) in traces {
        reader.trace(&path, trace)?;
    }
    Ok(reader.finish())
}

/// Reading state across the file's traces.
#[derive(Default)]
struct Reader {
    b: TraceBuilder,
    /// Distinct warning texts with how many spans carried them and the first span.
    warnings: Vec<(String, usize, Option<SpanId>)>,
    /// Index into `warnings` by text.
    warning_index: HashMap<String, usize>,
    follows_from_parents: usize,
}

/// A process resolved once per trace: its service, and its tags pushed once as the resource of
/// its spans.
struct ProcessInfo {
    service: StrId,
    resource: Range32,
}

/// What the special tags of a span said.
#[derive(Default)]
struct Specials<'t> {
    kind: Option<SpanKind>,
    error: bool,
    status_code: Option<Status>,
    description: Option<&'t str>,
    sentry_op: Option<&'t str>,
}

impl<'t> Specials<'t> {
    /// Reads the special tags among `tags`.
    fn of(tags: &'t [Tag]) -> Self {
        let mut out = Specials::default();
        for tag in tags {
            match (&*tag.key, &tag.value) {
                (semconv::SPAN_KIND, TagValue::Str(s)) => out.kind = out.kind.or(semconv::kind_from_name(s)),
                ("error", TagValue::Bool(true)) => out.error = true,
                ("error", TagValue::Str(s)) if s == "true" => out.error = true,
                (semconv::STATUS_CODE, TagValue::Str(s)) if s.eq_ignore_ascii_case("error") => {
                    out.status_code = Some(Status::Error)
                }
                (semconv::STATUS_CODE, TagValue::Str(s)) if s.eq_ignore_ascii_case("ok") => {
                    out.status_code = Some(Status::Ok)
                }
                (semconv::STATUS_DESCRIPTION, TagValue::Str(s)) => out.description = Some(s),
                (semconv::SENTRY_OP, TagValue::Str(s)) => out.sentry_op = Some(s),
                _ => {}
            }
        }
        out
    }

    /// Whether the tag is one the span's fields took over (and so not an attribute). A status
    /// description without a status code stays an attribute.
    fn took(&self, tag: &Tag) -> bool {
        match (&*tag.key, &tag.value) {
            (semconv::SPAN_KIND, TagValue::Str(s)) => semconv::kind_from_name(s).is_some(),
            ("error", TagValue::Bool(b)) => *b,
            ("error", TagValue::Str(s)) => s == "true",
            (semconv::STATUS_CODE, TagValue::Str(s)) => s.eq_ignore_ascii_case("error") || s.eq_ignore_ascii_case("ok"),
            (semconv::STATUS_DESCRIPTION, TagValue::Str(_)) => self.status_code.is_some(),
            _ => false,
        }
    }
}

impl Reader {
    fn trace(&mut self, path: &str, trace: JTrace) -> Result<(), FormatError> {
        let trace_label = trace.trace_id.as_deref().unwrap_or("?").to_owned();
        for warning in trace.warnings.iter().flatten() {
            self.warn(format!("trace {trace_label}: {}", &**warning), None);
        }
        let processes: HashMap<Text, ProcessInfo> =
            trace.processes.into_iter().flatten().map(|(key, p)| (key, self.process(&p))).collect();
        for (i, span) in trace.spans.into_iter().flatten().enumerate() {
            let at = || format!("{path}.spans[{i}]");
            let embedded;
            let process = match (&span.process_id, &span.process) {
                (Some(id), _) if processes.contains_key(&**id) => processes.get(&**id),
                (Some(id), None) => {
                    let mut known: Vec<&str> = processes.keys().map(|k| &**k).collect();
                    known.sort_unstable();
                    return Err(FormatError::at_path(
                        format!("{}.processID", at()),
                        format!(
                            "processID {:?} is not in the trace's processes ({})",
                            &**id,
                            crate::model::listing::first_few(&known, ", ")
                        ),
                    ));
                }
                (_, Some(p)) => {
                    embedded = self.process(p);
                    Some(&embedded)
                }
                (None, None) => None,
            };
            self.span(span, process, &at)?;
        }
        Ok(())
    }

    fn process(&mut self, p: &Process) -> ProcessInfo {
        let service = self.b.intern(&p.service);
        let mark = self.b.attr_mark();
        for tag in &p.tags {
            let (key, value) = (self.b.intern(&tag.key), self.value(&tag.value));
            self.b.push_attr(key, value);
        }
        ProcessInfo { service, resource: self.b.resource_since(mark) }
    }

    fn value(&mut self, value: &TagValue) -> AttrValue {
        match value {
            TagValue::Str(s) => AttrValue::Str(self.b.intern(s)),
            TagValue::Int(i) => AttrValue::Int(*i),
            TagValue::Float(f) => AttrValue::Float(*f),
            TagValue::Bool(b) => AttrValue::Bool(*b),
        }
    }

    fn span(&mut self, span: JSpan, process: Option<&ProcessInfo>, at: &dyn Fn() -> String) -> Result<(), FormatError> {
        let refs = span.references.as_deref().unwrap_or_default();
        let parent_ref = parent_of(refs, |r| r.ref_type);
        let parent_id = parent_ref.map(|r| r.span_id).or(span.parent_span_id);
        let end = span.start.checked_add(span.duration).ok_or_else(|| {
            FormatError::at_path(format!("{}.duration", at()), "startTime + duration is past the year 2262")
        })?;
        let mut raw = RawSpan::new(span.trace_id, span.span_id, parent_id, span.start, Some(end));
        raw.name = self.b.intern(&span.name);

        let tags = span.tags.as_deref().unwrap_or_default();
        let specials = Specials::of(tags);
        let mark = self.b.attr_mark();
        let mut hints = OpHints::default();
        for tag in tags.iter().filter(|t| !specials.took(t)) {
            hints.see(&tag.key);
            let key = self.b.intern(&tag.key);
            let value = self.value(&tag.value);
            self.b.push_attr(key, value);
        }
        if let Some(p) = process {
            raw.service = p.service;
            raw.resource = p.resource;
        }
        if parent_ref.is_some_and(|r| r.ref_type == RefType::FollowsFrom) {
            self.follows_from_parents += 1;
        }
        if refs.len() > 1 || parent_ref.is_some_and(|r| r.ref_type == RefType::FollowsFrom) {
            let text: Vec<RefText> = refs.iter().map(RefText::of).collect();
            let text = serde_json::to_string(&text).unwrap_or_default();
            self.b.push_attr_str(REFERENCES, &text);
        }
        raw.attrs = self.b.attrs_since(mark);

        raw.kind = specials.kind.unwrap_or_default();
        raw.status = match specials.status_code {
            _ if specials.error => Status::Error,
            Some(code) => code,
            None => Status::Unset,
        };
        if specials.status_code.is_some() {
            raw.status_message = self.b.intern(specials.description.unwrap_or(""));
        }
        raw.op = self.b.intern(specials.sentry_op.unwrap_or_else(|| semconv::derive_op(raw.kind, hints)));

        let event_mark = self.b.event_mark();
        for log in span.logs.iter().flatten() {
            self.log(log);
        }
        raw.events = self.b.events_since(event_mark);
        for warning in span.warnings.iter().flatten() {
            self.warn(warning.to_string(), Some(span.span_id));
        }
        self.b.push_span(raw);
        Ok(())
    }

    fn log(&mut self, log: &Log) {
        let fields = log.fields.as_deref().unwrap_or_default();
        let mut name = "log";
        let mark = self.b.attr_mark();
        for field in fields {
            match (&*field.key, &field.value) {
                ("event", TagValue::Str(s)) if name == "log" => name = s,
                _ => {
                    let key = self.b.intern(&field.key);
                    let value = self.value(&field.value);
                    self.b.push_attr(key, value);
                }
            }
        }
        let attrs = self.b.attrs_since(mark);
        let name = self.b.intern(name);
        self.b.push_event(Event { time: log.timestamp, name, attrs });
    }

    fn warn(&mut self, text: String, span: Option<SpanId>) {
        match self.warning_index.get(&text) {
            Some(&i) => self.warnings[i].1 += 1,
            None => {
                self.warning_index.insert(text.clone(), self.warnings.len());
                self.warnings.push((text, 1, span));
            }
        }
    }

    fn finish(mut self) -> TraceBuilder {
        for (text, count, span) in std::mem::take(&mut self.warnings) {
            let note = match (span, count) {
                (Some(id), 1) => format!("Jaeger warning on span {id}: {text}"),
                (Some(id), n) => format!("Jaeger warning on {n} spans (e.g. {id}): {text}"),
                (None, _) => format!("Jaeger warning on {text}"),
            };
            self.b.note(note);
        }
        if self.follows_from_parents > 0 {
            self.b.note(format!(
                "{} span(s) have only FOLLOWS_FROM references; each is shown under the span it follows from \
                 (async work, e.g. a queued task)",
                self.follows_from_parents
            ));
        }
        self.b
    }
}
