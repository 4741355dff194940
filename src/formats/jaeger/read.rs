//! Reading Jaeger JSON into a [`TraceBuilder`]. See the module docs of [`super`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use serde::{Deserialize, Deserializer, Serialize};

use super::REFERENCES;
use crate::formats::FormatError;
use crate::formats::json::{self, Id, NamedIds, Scalar, Text};
use crate::formats::semconv::{self, OpHints};
use crate::model::{AttrValue, Event, Nanos, Range32, RawSpan, SpanId, SpanKind, Status, StrId, TraceBuilder, TraceId};

/// An entry of the answer's `errors`.
#[derive(Deserialize)]
pub(super) struct QueryError<'a> {
    #[serde(default)]
    code: Option<i64>,
    #[serde(borrow, default)]
    msg: Option<Text<'a>>,
}

/// The error for a failed query (the answer's `errors`), if it has any.
pub(super) fn query_failed(errors: &[QueryError]) -> Option<FormatError> {
    let first = errors.first()?;
    let count = errors.len();
    let more = if count > 1 { format!(" (and {} more)", count - 1) } else { String::new() };
    let code = first.code.map(|c| format!(" (code {c})")).unwrap_or_default();
    let msg = first.msg.as_deref().unwrap_or("no message");
    Some(FormatError::at_path("$.errors[0]", format!("the Jaeger query failed: {msg}{code}{more}")))
}

/// A process: the service and its tags.
#[derive(Deserialize)]
pub(super) struct Process<'a> {
    #[serde(rename = "serviceName", borrow, default)]
    service: Text<'a>,
    #[serde(borrow, default)]
    tags: Vec<Tag<'a>>,
}

impl Process<'_> {
    /// The process with its strings copied, to outlive the bytes it was read from.
    pub fn into_owned(self) -> Process<'static> {
        let tags =
            self.tags.into_iter().map(|tag| Tag { key: owned(tag.key), value: tag.value.into_owned(), odd: tag.odd });
        Process { service: owned(self.service), tags: tags.collect() }
    }
}

fn owned(text: Text) -> Text<'static> {
    Text(Cow::Owned(text.0.into_owned()))
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
#[derive(Deserialize, Clone)]
pub(super) struct Reference<'a> {
    #[serde(rename = "refType")]
    pub ref_type: RefType,
    #[serde(rename = "traceID", borrow)]
    pub trace_id: Id<'a, TraceId>,
    #[serde(rename = "spanID", borrow)]
    pub span_id: Id<'a, SpanId>,
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
    /// The text form of a reference (ids that were not hex as written).
    pub fn of(r: &Reference) -> Self {
        RefText { ref_type: r.ref_type, trace_id: r.trace_id.written(), span_id: r.span_id.written() }
    }
}

/// The parent link among a span's references: the first `CHILD_OF`, else the first `FOLLOWS_FROM`.
pub(super) fn parent_of<T>(refs: &[T], ref_type: impl Fn(&T) -> RefType) -> Option<&T> {
    refs.iter().find(|r| ref_type(r) == RefType::ChildOf).or_else(|| refs.first())
}

/// A `{key, type, value}` tag with its value checked against its type.
pub(super) struct Tag<'a> {
    key: Text<'a>,
    value: TagValue<'a>,
    /// Why the value was kept as written text: it did not match its declared type.
    odd: Option<String>,
}

#[derive(Debug, PartialEq)]
pub(super) enum TagValue<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl TagValue<'_> {
    fn into_owned(self) -> TagValue<'static> {
        match self {
            TagValue::Str(s) => TagValue::Str(Cow::Owned(s.into_owned())),
            TagValue::Int(i) => TagValue::Int(i),
            TagValue::Float(f) => TagValue::Float(f),
            TagValue::Bool(b) => TagValue::Bool(b),
        }
    }
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
        let written = raw.value.as_ref().map(as_text).unwrap_or_default();
        match typed(&raw.key, raw.ty.as_deref(), raw.value) {
            Ok(value) => Ok(Tag { key: raw.key, value, odd: None }),
            Err(why) => Ok(Tag { key: raw.key, value: TagValue::Str(Cow::Owned(written)), odd: Some(why) }),
        }
    }
}

/// A tag value as it was written, as text.
fn as_text(value: &Scalar) -> String {
    match value {
        Scalar::Str(s) => s.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::BigUint(u) => u.to_string(),
        Scalar::Float(f) => f.to_string(),
        Scalar::Bool(b) => b.to_string(),
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

/// Where a tag kept as written text was counted, so that the note names the first one in the
/// order a whole-file reading meets them: (trace, 0 for the trace's processes or 1 + the span's
/// place, 0 for the span's inline process or 1 for its tags and logs).
pub(super) type OddKey = (u32, usize, u8);

/// Reading state across the file's traces.
#[derive(Default)]
pub(super) struct Reader {
    pub b: TraceBuilder,
    /// Distinct warning texts with how many spans carried them and the first span.
    warnings: Vec<(String, usize, Option<SpanId>)>,
    /// Index into `warnings` by text.
    warning_index: HashMap<String, usize>,
    follows_from_parents: usize,
    named: NamedIds,
    /// Tags kept as written text because they did not match their type: how many, and the first reason.
    odd_tags: (usize, Option<(OddKey, String)>),
    /// Where the tags counted next are.
    pub odd_key: OddKey,
    /// Spans whose `processID` is not in their trace's processes: how many, and the first id.
    unknown_processes: (usize, Option<String>),
    /// The first span that could not be taken (its JSON was fine), in file order.
    pub first_error: Option<FormatError>,
}

/// A process resolved once per trace: its service, and its tags pushed once as the resource of
/// its spans.
#[derive(Clone, Copy)]
pub(super) struct ProcessInfo {
    service: StrId,
    resource: Range32,
}

/// One span object as read, reused from span to span (strings borrowed from the input).
#[derive(Default)]
pub(super) struct SpanParts<'a> {
    pub trace_id: Option<Id<'a, TraceId>>,
    pub span_id: Option<Id<'a, SpanId>>,
    pub parent_span_id: Option<Id<'a, SpanId>>,
    pub name: Text<'a>,
    pub references: Vec<Reference<'a>>,
    pub start: Nanos,
    pub duration: Nanos,
    pub tags: Vec<Tag<'a>>,
    /// Logs: their time and the range of their fields in `log_fields`.
    pub logs: Vec<(Nanos, Range<usize>)>,
    pub log_fields: Vec<Tag<'a>>,
    pub process_id: Option<Text<'a>>,
    pub process: Option<Process<'a>>,
    pub warnings: Vec<Text<'a>>,
}

impl SpanParts<'_> {
    /// Empties the parts for the next span, keeping their room.
    pub fn clear(&mut self) {
        (self.trace_id, self.span_id, self.parent_span_id) = (None, None, None);
        self.name = Text::default();
        (self.start, self.duration, self.process_id, self.process) = (0, 0, None, None);
        self.references.clear();
        self.tags.clear();
        self.logs.clear();
        self.log_fields.clear();
        self.warnings.clear();
    }
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
    /// Appends what `other` read after what this reader read (a later run of the file's
    /// traces or of a trace's spans), as if this reader had read it; the ids in this reader of
    /// `other`'s strings, by their ids there.
    pub fn append(&mut self, other: Reader) -> Vec<StrId> {
        let ids = self.b.append(other.b);
        for (text, count, span) in other.warnings {
            match self.warning_index.get(&text) {
                Some(&i) => self.warnings[i].1 += count,
                None => {
                    self.warning_index.insert(text.clone(), self.warnings.len());
                    self.warnings.push((text, count, span));
                }
            }
        }
        self.follows_from_parents += other.follows_from_parents;
        self.named.absorb(other.named);
        self.odd_tags.0 += other.odd_tags.0;
        if let Some((key, why)) = other.odd_tags.1
            && self.odd_tags.1.as_ref().is_none_or(|(first, _)| key < *first)
        {
            self.odd_tags.1 = Some((key, why));
        }
        self.unknown_processes.0 += other.unknown_processes.0;
        self.unknown_processes.1 = self.unknown_processes.1.take().or(other.unknown_processes.1);
        self.first_error = self.first_error.take().or(other.first_error);
        ids
    }

    /// Pushes a process's tags as a resource.
    pub fn process(&mut self, p: &Process) -> ProcessInfo {
        let service = self.b.intern(&p.service);
        let mark = self.b.attr_mark();
        for tag in &p.tags {
            let (key, value) = (self.b.intern(&tag.key), self.value(tag));
            self.b.push_attr(key, value);
        }
        ProcessInfo { service, resource: self.b.resource_since(mark) }
    }

    /// Gives span `index` (the `i`th of its trace, at `at`) its process: the one its
    /// `processID` names among `processes`, else its inline one.
    pub fn attach(
        &mut self,
        index: usize,
        process_id: Option<StrId>,
        inline: Option<&Process>,
        processes: &HashMap<StrId, ProcessInfo>,
        at: &dyn Fn() -> String,
    ) {
        let process = match (process_id, inline) {
            (Some(id), _) if processes.contains_key(&id) => processes.get(&id).copied(),
            (Some(id), None) => {
                self.unknown_processes.0 += 1;
                if self.unknown_processes.1.is_none() {
                    self.unknown_processes.1 = Some(format!("{:?} at {}.processID", self.b.resolve(id), at()));
                }
                None
            }
            (_, Some(p)) => {
                self.odd_key.2 = 0;
                Some(self.process(p))
            }
            (None, None) => None,
        };
        if let Some(p) = process {
            let span = &mut self.b.spans_mut()[index];
            (span.service, span.resource) = (p.service, p.resource);
        }
    }

    /// A tag's value as an attribute value; a tag kept as written text is counted for the note.
    fn value(&mut self, tag: &Tag) -> AttrValue {
        if let Some(why) = &tag.odd {
            self.odd_tags.0 += 1;
            if self.odd_tags.1.as_ref().is_none_or(|(key, _)| self.odd_key < *key) {
                self.odd_tags.1 = Some((self.odd_key, why.clone()));
            }
        }
        match &tag.value {
            TagValue::Str(s) => AttrValue::Str(self.b.intern(s)),
            TagValue::Int(i) => AttrValue::Int(*i),
            TagValue::Float(f) => AttrValue::Float(*f),
            TagValue::Bool(b) => AttrValue::Bool(*b),
        }
    }

    /// Pushes a span read whole (its ids given), without its process: see [`attach`](Self::attach).
    pub fn span(
        &mut self,
        span: &SpanParts,
        trace_id: &Id<TraceId>,
        span_id: &Id<SpanId>,
        at: &dyn Fn() -> String,
    ) -> Result<(), FormatError> {
        let refs = &span.references[..];
        let parent_ref = parent_of(refs, |r| r.ref_type);
        let parent_id = parent_ref.map(|r| r.span_id.value).or(span.parent_span_id.as_ref().map(|p| p.value));
        let end = span.start.checked_add(span.duration).ok_or_else(|| {
            FormatError::at_path(format!("{}.duration", at()), "startTime + duration is past the year 2262")
        })?;
        let mut raw = RawSpan::new(trace_id.value, span_id.value, parent_id, span.start, Some(end));
        let parent_text = parent_ref.and_then(|r| r.span_id.text.as_deref());
        let parent_text = parent_text.or(span.parent_span_id.as_ref().and_then(|p| p.text.as_deref()));
        self.named.see(&[span_id.text.as_deref(), trace_id.text.as_deref(), parent_text]);
        raw.name = self.b.intern(&span.name);

        let specials = Specials::of(&span.tags);
        let mark = self.b.attr_mark();
        json::push_written_id(&mut self.b, span_id);
        let mut hints = OpHints::default();
        self.odd_key.2 = 1;
        for tag in span.tags.iter().filter(|t| !specials.took(t)) {
            hints.see(&tag.key);
            let key = self.b.intern(&tag.key);
            let value = self.value(tag);
            self.b.push_attr(key, value);
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
        for (time, fields) in &span.logs {
            self.log(*time, &span.log_fields[fields.clone()]);
        }
        raw.events = self.b.events_since(event_mark);
        self.b.push_span(raw);
        Ok(())
    }

    fn log(&mut self, timestamp: Nanos, fields: &[Tag]) {
        let mut name = "log";
        let mark = self.b.attr_mark();
        for field in fields {
            match (&*field.key, &field.value) {
                ("event", TagValue::Str(s)) if name == "log" => name = s,
                _ => {
                    let key = self.b.intern(&field.key);
                    let value = self.value(field);
                    self.b.push_attr(key, value);
                }
            }
        }
        let attrs = self.b.attrs_since(mark);
        let name = self.b.intern(name);
        self.b.push_event(Event { time: timestamp, name, attrs });
    }

    /// Counts a warning of the trace (`span` none) or of a span.
    pub fn warn(&mut self, text: String, span: Option<SpanId>) {
        match self.warning_index.get(&text) {
            Some(&i) => self.warnings[i].1 += 1,
            None => {
                self.warning_index.insert(text.clone(), self.warnings.len());
                self.warnings.push((text, 1, span));
            }
        }
    }

    /// The builder, with the notes of what the reading met.
    pub fn finish(mut self) -> TraceBuilder {
        for (text, count, span) in std::mem::take(&mut self.warnings) {
            let note = match (span, count) {
                (Some(id), 1) => format!("Jaeger warning on span {id}: {text}"),
                (Some(id), n) => format!("Jaeger warning on {n} spans (e.g. {id}): {text}"),
                (None, _) => format!("Jaeger warning on {text}"),
            };
            self.b.note(note);
        }
        self.named.note(&mut self.b);
        if let (count, Some((_, first))) = &self.odd_tags {
            self.b.note(format!("{count} tag(s) do not match their declared type ({first}); kept as written text"));
        }
        if let (count, Some(first)) = &self.unknown_processes {
            self.b.note(format!(
                "{count} span(s) name a processID that is not in their trace's processes (e.g. {first}); shown \
                 without a service"
            ));
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
