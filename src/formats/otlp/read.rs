//! Walking an OTLP document with [`DeserializeSeed`]s that carry the [`Reader`], so every
//! span goes straight into the [`TraceBuilder`] as it is read: no tree of the document and no
//! list of all spans exists besides the builder's own. Strings are interned as they are met;
//! ids, times, kinds and codes become integers without allocating.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::keys::keys;
use super::op::{SENTRY_OP, derive_op};
use super::scalars::{KindSeed, NanosSeed, Nullable, ReadId, SpanIdSeed, StatusCodeSeed, TraceIdSeed};
use super::values::{InternSeed, KeyValueSeed, PlainPair, Pool, object_of};
use crate::formats::json::NamedIds;
use crate::model::{
    Attr, AttrValue, Event, Nanos, Range32, RawEvent, RawSpan, SpanId, SpanKind, Status, StrId, TraceBuilder, TraceId,
    WRITTEN_SPAN_ID,
};

/// Strings the reader compares attribute keys and event names with, interned once.
struct Known {
    service_name: StrId,
    scope_name: StrId,
    scope_version: StrId,
    links: StrId,
    sentry_op: StrId,
    exception: StrId,
    exception_type: StrId,
    exception_message: StrId,
    error: StrId,
}

/// The state of one import: the builder, and what the enclosing objects said.
pub(super) struct Reader {
    pool: Pool,
    known: Known,
    /// The current span's own attributes, gathered apart from its events' attributes so the
    /// span's range in the builder stays contiguous. Reused from span to span.
    span_attrs: Vec<Attr>,
    /// The current scope's name and version.
    scope: (StrId, StrId),
    /// The current span's exception events: time and title.
    exceptions: Vec<(Nanos, StrId)>,
    /// Spans with ids written as names, for the note.
    named: NamedIds,
}

impl Reader {
    /// A reader with an empty builder. `locating` is for the second pass after an error: keys
    /// are then read so that the error's JSON path can name them (see [`super::keys`]).
    pub(super) fn new(locating: bool) -> Self {
        let mut builder = TraceBuilder::new();
        let known = Known {
            service_name: builder.intern(crate::formats::semconv::SERVICE_NAME),
            scope_name: builder.intern("otel.scope.name"),
            scope_version: builder.intern("otel.scope.version"),
            links: builder.intern("links"),
            sentry_op: builder.intern(SENTRY_OP),
            exception: builder.intern("exception"),
            exception_type: builder.intern("exception.type"),
            exception_message: builder.intern("exception.message"),
            error: builder.intern("error"),
        };
        let pool = Pool::new(builder, locating);
        Reader {
            pool,
            known,
            span_attrs: Vec::new(),
            scope: (StrId::EMPTY, StrId::EMPTY),
            exceptions: Vec::new(),
            named: NamedIds::default(),
        }
    }

    /// A seed that reads one whole document (`{"resourceSpans": [...]}`) into this reader.
    pub(super) fn document(&mut self) -> One<'_, Document> {
        One(self, PhantomData)
    }

    /// A seed that reads one `resourceSpans` entry into this reader.
    pub(super) fn resource_spans(&mut self) -> One<'_, ResourceSpans> {
        One(self, PhantomData)
    }

    /// Appends what `other` read (a later part of the same file) after what this reader read.
    pub(super) fn append(&mut self, other: Reader) {
        self.pool.builder.append(other.pool.builder);
        self.named.absorb(other.named);
    }

    /// The builder holding everything read.
    pub(super) fn finish(mut self) -> TraceBuilder {
        self.named.note(&mut self.pool.builder);
        self.pool.builder
    }
}

/// An OTLP JSON object the reader knows how to read.
pub(super) trait Object {
    /// What reading it yields to the enclosing object.
    type Out: Default;
    /// Its name in errors ("expected a span object").
    const WHAT: &'static str;
    /// Reads the object's keys and values.
    fn read<'de, A: MapAccess<'de>>(r: &mut Reader, map: A) -> Result<Self::Out, A::Error>;
}

/// Seed for one object of kind `T`; `null` reads as an empty object.
pub(super) struct One<'r, T>(&'r mut Reader, PhantomData<T>);

impl<'de, T: Object> DeserializeSeed<'de> for One<'_, T> {
    type Value = T::Out;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T::Out, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, T: Object> Visitor<'de> for One<'_, T> {
    type Value = T::Out;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a {} object", T::WHAT)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T::Out, A::Error> {
        T::read(self.0, map)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<T::Out, D::Error> {
        d.deserialize_map(self)
    }

    fn visit_none<E: de::Error>(self) -> Result<T::Out, E> {
        Ok(T::Out::default())
    }
}

/// Seed for a list of objects of kind `T`; `null` reads as an empty list.
struct Many<'r, T>(&'r mut Reader, PhantomData<T>);

impl<'r, T> Many<'r, T> {
    fn new(r: &'r mut Reader) -> Self {
        Many(r, PhantomData)
    }
}

impl<'de, T: Object> DeserializeSeed<'de> for Many<'_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, T: Object> Visitor<'de> for Many<'_, T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a list of {} objects", T::WHAT)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(One::<T>(&mut *self.0, PhantomData))?.is_some() {}
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Where a list of attributes goes.
#[derive(Clone, Copy)]
enum Target {
    /// The current span's own attributes ([`Reader::span_attrs`]).
    Span,
    /// Straight into the builder (an event's attributes).
    Builder,
    /// Straight into the builder, and `service.name` is returned (a resource's attributes).
    Resource,
}

/// Seed for a list of `KeyValue`s (`null` is none); yields the `service.name` found, for resources.
struct Attributes<'r>(&'r mut Reader, Target);

impl<'de> DeserializeSeed<'de> for Attributes<'_> {
    type Value = StrId;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<StrId, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Attributes<'_> {
    type Value = StrId;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of attributes ({\"key\": ..., \"value\": {...}})")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrId, A::Error> {
        let r = self.0;
        let mut service = StrId::EMPTY;
        while let Some((key, value)) = seq.next_element_seed(KeyValueSeed(&mut r.pool))? {
            match self.1 {
                Target::Span => r.span_attrs.push(Attr { key, value }),
                Target::Builder => r.pool.builder.push_attr(key, value),
                Target::Resource => {
                    if let (true, AttrValue::Str(name)) = (key == r.known.service_name, value) {
                        service = name;
                    }
                    r.pool.builder.push_attr(key, value);
                }
            }
        }
        Ok(service)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<StrId, D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_none<E: de::Error>(self) -> Result<StrId, E> {
        Ok(StrId::EMPTY)
    }
}

/// A whole `TracesData` document (one line of a Collector file).
pub(super) struct Document;

keys! {
    DocumentKey {
        ResourceSpans = [b"resourceSpans", b"resource_spans", b"batches"],
    }
}

impl Object for Document {
    type Out = ();
    const WHAT: &'static str = "TracesData ({\"resourceSpans\": [...]})";

    fn read<'de, A: MapAccess<'de>>(r: &mut Reader, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(r.pool.key())? {
            match key {
                DocumentKey::ResourceSpans => map.next_value_seed(Many::<ResourceSpans>::new(r))?,
                DocumentKey::Other => skip(&mut map)?,
            }
        }
        Ok(())
    }
}

fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>().map(drop)
}

/// The names of a document's list of `resourceSpans` (as [`DocumentKey`] reads them).
pub(super) const RESOURCE_SPANS: [&str; 3] = ["resourceSpans", "resource_spans", "batches"];

/// One `resourceSpans` entry: a resource and its spans, by scope.
pub(super) struct ResourceSpans;

keys! {
    ResourceSpansKey {
        Resource = [b"resource"],
        ScopeSpans = [
            b"scopeSpans",
            b"scope_spans",
            b"instrumentationLibrarySpans",
            b"instrumentation_library_spans"
        ],
    }
}

impl Object for ResourceSpans {
    type Out = ();
    const WHAT: &'static str = "resourceSpans";

    fn read<'de, A: MapAccess<'de>>(r: &mut Reader, mut map: A) -> Result<(), A::Error> {
        let first = r.pool.builder.spans().len();
        let (mut service, mut resource) = (StrId::EMPTY, Range32::default());
        while let Some(key) = map.next_key_seed(r.pool.key())? {
            match key {
                ResourceSpansKey::Resource => {
                    (service, resource) = map.next_value_seed(One::<Resource>(r, PhantomData))?;
                }
                ResourceSpansKey::ScopeSpans => map.next_value_seed(Many::<ScopeSpans>::new(r))?,
                ResourceSpansKey::Other => skip(&mut map)?,
            }
        }
        // The resource may come before or after its spans; set it once all are read.
        for span in &mut r.pool.builder.spans_mut()[first..] {
            span.service = service;
            span.resource = resource;
        }
        Ok(())
    }
}

/// A resource; yields its `service.name` and where its attributes went in the builder (once
/// for all the spans of the batch).
struct Resource;

keys! {
    ResourceKey {
        Attributes = [b"attributes"],
    }
}

impl Object for Resource {
    type Out = (StrId, Range32);
    const WHAT: &'static str = "resource";

    fn read<'de, A: MapAccess<'de>>(r: &mut Reader, mut map: A) -> Result<(StrId, Range32), A::Error> {
        let (mut service, mut attrs) = (StrId::EMPTY, Range32::default());
        while let Some(key) = map.next_key_seed(r.pool.key())? {
            match key {
                ResourceKey::Attributes => {
                    let mark = r.pool.builder.attr_mark();
                    service = map.next_value_seed(Attributes(r, Target::Resource))?;
                    attrs = r.pool.builder.resource_since(mark);
                }
                ResourceKey::Other => skip(&mut map)?,
            }
        }
        Ok((service, attrs))
    }
}

/// One `scopeSpans` (or legacy `instrumentationLibrarySpans`) entry.
struct ScopeSpans;

keys! {
    ScopeSpansKey {
        Scope = [b"scope", b"instrumentationLibrary", b"instrumentation_library"],
        Spans = [b"spans"],
    }
}

impl Object for ScopeSpans {
    type Out = ();
    const WHAT: &'static str = "scopeSpans";

    fn read<'de, A: MapAccess<'de>>(r: &mut Reader, mut map: A) -> Result<(), A::Error> {
        let first = r.pool.builder.spans().len();
        r.scope = (StrId::EMPTY, StrId::EMPTY);
        while let Some(key) = map.next_key_seed(r.pool.key())? {
            match key {
                ScopeSpansKey::Scope => {
                    let scope = map.next_value_seed(One::<Scope>(r, PhantomData))?;
                    add_scope_to_spans_since(r, first, scope);
                    r.scope = scope;
                }
                ScopeSpansKey::Spans => map.next_value_seed(Many::<Span>::new(r))?,
                ScopeSpansKey::Other => skip(&mut map)?,
            }
        }
        Ok(())
    }
}

/// Pushes the scope's attributes, when it has a name or version.
fn push_scope(r: &mut Reader, (name, version): (StrId, StrId)) {
    if !name.is_empty() {
        r.pool.builder.push_attr(r.known.scope_name, AttrValue::Str(name));
    }
    if !version.is_empty() {
        r.pool.builder.push_attr(r.known.scope_version, AttrValue::Str(version));
    }
}

/// For a scope written after its spans (rare): gives the spans read since `first` the scope's
/// attributes by copying their attributes to the end of the builder's list, followed by it.
fn add_scope_to_spans_since(r: &mut Reader, first: usize, scope: (StrId, StrId)) {
    if scope == (StrId::EMPTY, StrId::EMPTY) {
        return;
    }
    for i in first..r.pool.builder.spans().len() {
        let range = r.pool.builder.spans()[i].attrs;
        let mark = r.pool.builder.attr_mark();
        for j in range.as_range() {
            let attr = r.pool.builder.attrs()[j];
            r.pool.builder.push_attr(attr.key, attr.value);
        }
        push_scope(r, scope);
        r.pool.builder.spans_mut()[i].attrs = r.pool.builder.attrs_since(mark);
    }
}

/// A scope; yields its name and version.
struct Scope;

keys! {
    ScopeKey {
        Name = [b"name"],
        Version = [b"version"],
    }
}

impl Object for Scope {
    type Out = (StrId, StrId);
    const WHAT: &'static str = "scope";

    fn read<'de, A: MapAccess<'de>>(r: &mut Reader, mut map: A) -> Result<(StrId, StrId), A::Error> {
        let mut scope = (StrId::EMPTY, StrId::EMPTY);
        while let Some(key) = map.next_key_seed(r.pool.key())? {
            match key {
                ScopeKey::Name => scope.0 = map.next_value_seed(InternSeed(&mut r.pool))?,
                ScopeKey::Version => scope.1 = map.next_value_seed(InternSeed(&mut r.pool))?,
                ScopeKey::Other => skip(&mut map)?,
            }
        }
        Ok(scope)
    }
}

/// A span.
struct Span;

keys! {
    SpanKey {
        TraceId = [b"traceId", b"trace_id"],
        SpanId = [b"spanId", b"span_id"],
        ParentSpanId = [b"parentSpanId", b"parent_span_id"],
        Name = [b"name"],
        Kind = [b"kind"],
        StartTimeUnixNano = [b"startTimeUnixNano", b"start_time_unix_nano"],
        EndTimeUnixNano = [b"endTimeUnixNano", b"end_time_unix_nano"],
        Attributes = [b"attributes"],
        Events = [b"events"],
        Links = [b"links"],
        Status = [b"status"],
    }
}

impl Object for Span {
    type Out = ();
    const WHAT: &'static str = "span";

    fn read<'de, A: MapAccess<'de>>(r: &mut Reader, mut map: A) -> Result<(), A::Error> {
        r.span_attrs.clear();
        r.exceptions.clear();
        let events = r.pool.builder.event_mark();
        let (mut trace_id, mut id, mut parent_id, mut start, mut end) = (None, None, None, None, None);
        let (mut name, mut kind, mut status, mut links) = (StrId::EMPTY, SpanKind::Unspecified, None, None);
        while let Some(key) = map.next_key_seed(r.pool.key())? {
            match key {
                SpanKey::TraceId => trace_id = map.next_value_seed(Nullable(TraceIdSeed))?,
                SpanKey::SpanId => id = map.next_value_seed(Nullable(SpanIdSeed { required: true }))?.flatten(),
                SpanKey::ParentSpanId => {
                    parent_id = map.next_value_seed(Nullable(SpanIdSeed { required: false }))?.flatten();
                }
                SpanKey::Name => name = map.next_value_seed(InternSeed(&mut r.pool))?,
                SpanKey::Kind => kind = map.next_value_seed(Nullable(KindSeed))?.unwrap_or_default(),
                SpanKey::StartTimeUnixNano => start = map.next_value_seed(Nullable(NanosSeed))?,
                SpanKey::EndTimeUnixNano => end = map.next_value_seed(Nullable(NanosSeed))?,
                SpanKey::Attributes => drop(map.next_value_seed(Attributes(r, Target::Span))?),
                SpanKey::Events => map.next_value_seed(Many::<SpanEvent>::new(r))?,
                SpanKey::Links => links = map.next_value::<Option<Vec<Link>>>()?,
                SpanKey::Status => status = Some(map.next_value_seed(One::<SpanStatus>(r, PhantomData))?),
                SpanKey::Other => skip(&mut map)?,
            }
        }
        let trace_id = trace_id.ok_or_else(|| de::Error::missing_field("traceId"))?;
        let id = id.ok_or_else(|| de::Error::missing_field("spanId"))?;
        let start = start.ok_or_else(|| de::Error::missing_field("startTimeUnixNano"))?;
        // proto3 leaves out zeros: no end, or an end of 0, is a span that has not ended.
        let end = end.filter(|&e| e != 0);

        let parent_text = parent_id.as_ref().and_then(|p: &ReadId<SpanId>| p.text.as_deref());
        r.named.see(&[id.text.as_deref(), trace_id.text.as_deref(), parent_text]);
        let mut span = RawSpan::new(trace_id.value, id.value, parent_id.map(|p| p.value), start, end);
        span.name = name;
        span.kind = kind;
        (span.status, span.status_message) = status.unwrap_or_default();
        span.op = op_of(r, kind);
        let mark = r.pool.builder.attr_mark();
        if let Some(text) = &id.text {
            r.pool.builder.push_attr_str(WRITTEN_SPAN_ID, text);
        }
        for attr in &r.span_attrs {
            r.pool.builder.push_attr(attr.key, attr.value);
        }
        if let Some(links) = links.filter(|l| !l.is_empty()) {
            let text = serde_json::Value::Array(links.into_iter().map(Link::into_json).collect()).to_string();
            let text = r.pool.builder.intern(&text);
            r.pool.builder.push_attr(r.known.links, AttrValue::Str(text));
        }
        push_scope(r, r.scope);
        span.attrs = r.pool.builder.attrs_since(mark);
        span.events = r.pool.builder.events_since(events);
        r.pool.builder.push_span(span);
        for i in 0..r.exceptions.len() {
            let (time, title) = r.exceptions[i];
            let (event_id, level) = (StrId::EMPTY, r.known.error);
            let (trace_id, span_id) = (trace_id.value, Some(id.value));
            let error = RawEvent { trace_id, span_id, time: Some(time), title, event_id, level };
            r.pool.builder.push_error(error);
        }
        Ok(())
    }
}

/// The span's op: its `sentry.op` attribute, else what the semantic conventions suggest.
fn op_of(r: &mut Reader, kind: SpanKind) -> StrId {
    let sentry_op = r.span_attrs.iter().find_map(|a| match a.value {
        AttrValue::Str(op) if a.key == r.known.sentry_op => Some(op),
        _ => None,
    });
    if let Some(op) = sentry_op {
        return op;
    }
    let derived = derive_op(kind, r.span_attrs.iter().map(|a| r.pool.builder.resolve(a.key)));
    if derived.is_empty() { StrId::EMPTY } else { r.pool.intern(derived) }
}

/// A span event. Exceptions (events named `exception`) are also recorded as the span's errors.
struct SpanEvent;

keys! {
    EventKey {
        TimeUnixNano = [b"timeUnixNano", b"time_unix_nano"],
        Name = [b"name"],
        Attributes = [b"attributes"],
    }
}

impl Object for SpanEvent {
    type Out = ();
    const WHAT: &'static str = "event";

    fn read<'de, A: MapAccess<'de>>(r: &mut Reader, mut map: A) -> Result<(), A::Error> {
        let mark = r.pool.builder.attr_mark();
        let (mut time, mut name) = (None, StrId::EMPTY);
        while let Some(key) = map.next_key_seed(r.pool.key())? {
            match key {
                EventKey::TimeUnixNano => time = map.next_value_seed(Nullable(NanosSeed))?,
                EventKey::Name => name = map.next_value_seed(InternSeed(&mut r.pool))?,
                EventKey::Attributes => drop(map.next_value_seed(Attributes(r, Target::Builder))?),
                EventKey::Other => skip(&mut map)?,
            }
        }
        let time = time.ok_or_else(|| de::Error::missing_field("timeUnixNano"))?;
        let attrs = r.pool.builder.attrs_since(mark);
        r.pool.builder.push_event(Event { time, name, attrs });
        if name == r.known.exception {
            let title = exception_title(r, mark);
            r.exceptions.push((time, title));
        }
        Ok(())
    }
}

/// `Type: message` from an exception event's attributes (those pushed since `mark`).
fn exception_title(r: &mut Reader, mark: u32) -> StrId {
    let text_of = |key: StrId| {
        r.pool.builder.attrs()[mark as usize..].iter().find_map(|a| match a.value {
            AttrValue::Str(v) if a.key == key => Some(r.pool.builder.resolve(v)),
            _ => None,
        })
    };
    let title = match (text_of(r.known.exception_type), text_of(r.known.exception_message)) {
        (Some(kind), Some(message)) => format!("{kind}: {message}"),
        (Some(text), None) | (None, Some(text)) => text.to_owned(),
        (None, None) => "exception".to_owned(),
    };
    r.pool.builder.intern(&title)
}

/// A span's status: yields the model's status and the message.
struct SpanStatus;

keys! {
    StatusKey {
        Code = [b"code"],
        Message = [b"message"],
    }
}

impl Object for SpanStatus {
    type Out = (Status, StrId);
    const WHAT: &'static str = "status";

    fn read<'de, A: MapAccess<'de>>(r: &mut Reader, mut map: A) -> Result<(Status, StrId), A::Error> {
        let mut status = (Status::Unset, StrId::EMPTY);
        while let Some(key) = map.next_key_seed(r.pool.key())? {
            match key {
                StatusKey::Code => status.0 = map.next_value_seed(Nullable(StatusCodeSeed))?.unwrap_or_default(),
                StatusKey::Message => status.1 = map.next_value_seed(InternSeed(&mut r.pool))?,
                StatusKey::Other => skip(&mut map)?,
            }
        }
        Ok(status)
    }
}

/// A link to another span. The model has no links, so a span's links are kept as the JSON
/// text of attribute `links`: `[{"traceId": .., "spanId": .., "attributes": {..}}]`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Link {
    #[serde(alias = "trace_id", deserialize_with = "link_trace_id")]
    trace_id: TraceId,
    #[serde(alias = "span_id", deserialize_with = "link_span_id")]
    span_id: Option<SpanId>,
    #[serde(default)]
    attributes: Option<Vec<PlainPair>>,
}

fn link_trace_id<'de, D: Deserializer<'de>>(d: D) -> Result<TraceId, D::Error> {
    Nullable(TraceIdSeed).deserialize(d)?.map(|t| t.value).ok_or_else(|| de::Error::missing_field("traceId"))
}

fn link_span_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SpanId>, D::Error> {
    let id =
        Nullable(SpanIdSeed { required: true }).deserialize(d)?.ok_or_else(|| de::Error::missing_field("spanId"))?;
    Ok(id.map(|i| i.value))
}

impl Link {
    fn into_json(self) -> serde_json::Value {
        let mut link = serde_json::Map::new();
        link.insert("traceId".into(), format!("{:032x}", self.trace_id.0).into());
        if let Some(id) = self.span_id {
            link.insert("spanId".into(), id.to_string().into());
        }
        if let Some(attributes) = self.attributes.filter(|a| !a.is_empty()) {
            link.insert("attributes".into(), object_of(attributes));
        }
        serde_json::Value::Object(link)
    }
}
