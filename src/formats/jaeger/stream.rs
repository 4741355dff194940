//! Streaming Jaeger JSON into the [`Reader`]: each span object is read into one reused
//! [`SpanParts`] (strings borrowed from the input, ids and times parsed as they come) and pushed
//! into the builder at once; no list of the file's spans exists besides the builder's own. What
//! a span's trace says after its spans (`processes`, `traceID`, `warnings`, as Jaeger writes
//! them) is applied when the trace ends, so the result is what reading the whole file first
//! would have made. A trace's spans may also be read apart from the rest of the document, in
//! [`Part`]s, and taken in where its `spans` array is (see `parallel`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::read::{Process, ProcessInfo, QueryError, Reader, SpanParts, query_failed};
use crate::formats::json::{self, Id, Text};
use crate::formats::{FormatError, Place, split};
use crate::model::{Nanos, SpanId, StrId, TraceBuilder};

/// Reads a query answer, or one trace object on its own, whole. Errors name the JSON path (and
/// line and column when the JSON itself is wrong).
pub(super) fn parse_whole(bytes: &[u8]) -> Result<TraceBuilder, FormatError> {
    match read_document(bytes, Split::Whole) {
        Some(read) => read.finish(),
        None => {
            let (mut data, mut bare, mut doc) = (Stream::default(), Stream::default(), DocState::default());
            Err(json::located_error(bytes, Document { data: &mut data, bare: &mut bare, doc: &mut doc }, 0))
        }
    }
}

/// Reads a query answer, or one trace object on its own, into a [`Read`]; `split` says how the
/// reading meets spans read apart from it. `None` when the JSON is wrong.
pub(super) fn read_document(bytes: &[u8], split: Split) -> Option<Read<'_>> {
    let mut read =
        Read { data: Stream { split, ..Stream::default() }, bare: Stream::default(), doc: DocState::default() };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let document = Document { data: &mut read.data, bare: &mut read.bare, doc: &mut read.doc };
    document.deserialize(&mut de).and_then(|()| de.end()).ok()?;
    Some(read)
}

/// What reading a document made.
pub(super) struct Read<'de> {
    /// What its `data` traces were read into.
    pub data: Stream<'de>,
    /// What a trace at its top level was read into.
    bare: Stream<'de>,
    doc: DocState<'de>,
}

impl Read<'_> {
    /// The error the answer's `errors` give, if it has any.
    pub fn query_error(&self) -> Option<FormatError> {
        self.doc.errors.as_deref().and_then(query_failed)
    }

    /// The spans read, or why there are none.
    pub fn finish(self) -> Result<TraceBuilder, FormatError> {
        if let Some(err) = self.query_error() {
            return Err(err);
        }
        let reader = match self.doc.traces {
            Some(0) => {
                return Err(FormatError::at_path("$.data", "no traces: `data` is empty (the query found nothing)"));
            }
            Some(_) => self.data.r,
            None if self.doc.bare_spans => self.bare.r,
            None => {
                return Err(FormatError::new(
                    Place::Whole,
                    "not Jaeger JSON: expected a `data` array of traces or a trace with `spans`",
                ));
            }
        };
        finish(reader)
    }
}

/// A bare array of spans, each with its `process` inline (how Jaeger's own tools and storage
/// back-ends write spans outside a query answer), read as one trace list with a note.
pub(super) fn parse_bare_spans(bytes: &[u8]) -> Result<TraceBuilder, FormatError> {
    let mut stream = Stream::default();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let read = BareSpans(&mut stream).deserialize(&mut de).and_then(|()| de.end());
    if read.is_err() {
        return Err(json::located_error(bytes, BareSpans(&mut Stream::default()), 0));
    }
    stream.r.b.note(
        "the file is a bare array of Jaeger spans (each with its process inline), not a query answer \
         ({\"data\": [...]}); read as such",
    );
    finish(stream.r)
}

/// The builder of what `reader` read, or the first span it could not take.
pub(super) fn finish(mut reader: Reader) -> Result<TraceBuilder, FormatError> {
    match reader.first_error.take() {
        Some(err) => Err(err),
        None => Ok(reader.finish()),
    }
}

/// A reader and the span parts it reuses.
#[derive(Default)]
pub(super) struct Stream<'de> {
    pub r: Reader,
    pub parts: SpanParts<'de>,
    /// Traces begun, for [`OddKey`](super::read::OddKey)s.
    pub traces: u32,
    /// How this reading meets spans read apart from it.
    pub split: Split,
}

/// How the reading of a document meets the spans of its one trace read apart from it, in
/// [`Part`]s.
pub(super) type Split = split::Rest<Outline, Box<Part>>;

/// What reading the spans of a document's one trace apart from it needs, learnt by reading the
/// rest of it before them.
#[derive(Default)]
pub(super) struct Outline {
    /// The reader as it was where the spans are: the first of them read on from it.
    pub reader: Reader,
    /// The ids of the processes the trace lists before its spans, if it does.
    pub listed: Option<Vec<String>>,
}

/// What the top level of a query answer said besides its traces.
#[derive(Default)]
struct DocState<'de> {
    errors: Option<Vec<QueryError<'de>>>,
    /// How many traces `data` held, when it was there (not `null`).
    traces: Option<usize>,
    /// Whether the top level was a trace with `spans` (not `null`).
    bare_spans: bool,
}

/// A span waiting for its trace's processes: builder index, `processID`, inline process.
type Pending = (usize, Option<StrId>, Option<Box<Process<'static>>>);

/// What taking a trace's spans one at a time keeps: all of the trace's state that its spans'
/// bytes, not the rest of the trace, make.
pub(super) struct SpanList {
    /// The JSON path of the span list, for errors and notes.
    spans_path: String,
    trace: u32,
    /// The trace's `processes`, once read (empty for spans read apart that must not wait for
    /// them, see [`Part::new`]).
    processes: Option<HashMap<StrId, ProcessInfo>>,
    /// The ids of the processes a trace lists before its spans, when its spans are read apart
    /// from it: spans naming one of them wait for the trace's own reading to give it.
    listed: HashSet<StrId>,
    /// Spans read before the `processes` they name.
    pending: Vec<Pending>,
    span_warnings: Vec<(String, SpanId)>,
    /// Spans read (their places in the list), and so the place of the next one.
    spans: usize,
    /// The builder index and the place in the list of the first span taken.
    first_index: usize,
    first_place: usize,
}

impl SpanList {
    fn new(spans_path: String, trace: u32, first_index: usize) -> Self {
        SpanList {
            spans_path,
            trace,
            processes: None,
            listed: HashSet::new(),
            pending: Vec::new(),
            span_warnings: Vec::new(),
            spans: 0,
            first_index,
            first_place: 0,
        }
    }

    /// Gives span `index` its process, now that the trace's processes are known.
    fn attach(&self, r: &mut Reader, index: usize, id: Option<StrId>, inline: Option<&Process>) {
        let i = index - self.first_index + self.first_place;
        r.odd_key = (self.trace, i + 1, 0);
        let none = HashMap::new();
        let at = || format!("{}[{i}]", self.spans_path);
        r.attach(index, id, inline, self.processes.as_ref().unwrap_or(&none), &at);
    }

    /// Gives the spans waiting for the trace's processes theirs.
    fn attach_pending(&mut self, r: &mut Reader) {
        for (index, id, inline) in std::mem::take(&mut self.pending) {
            self.attach(r, index, id, inline.as_deref());
        }
    }

    /// Takes the span just read into `parts`.
    fn take_span(&mut self, r: &mut Reader, parts: &mut SpanParts) {
        let i = self.spans;
        self.spans += 1;
        let (Some(trace_id), Some(span_id)) = (&parts.trace_id, &parts.span_id) else { return };
        let index = r.b.spans().len();
        let at = || format!("{}[{i}]", self.spans_path);
        r.odd_key = (self.trace, i + 1, 1);
        if let Err(err) = r.span(parts, trace_id, span_id, &at) {
            r.first_error.get_or_insert(err);
            return;
        }
        for warning in &parts.warnings {
            self.span_warnings.push((warning.to_string(), span_id.value));
        }
        let id = parts.process_id.as_ref().map(|id| r.b.intern(id));
        let inline = parts.process.take();
        let listed = |id: StrId| !self.listed.is_empty() && self.listed.contains(&id);
        if self.processes.is_some() && !id.is_some_and(listed) {
            self.attach(r, index, id, inline.as_ref());
        } else {
            self.pending.push((index, id, inline.map(|p| Box::new(p.into_owned()))));
        }
    }

    /// Takes in what `later` took after this list's spans, into a reader whose first span is at
    /// builder index `offset` here and whose strings `here` gives the ids of here.
    fn absorb(&mut self, later: SpanList, offset: usize, here: impl Fn(StrId) -> StrId) {
        let pending = later.pending.into_iter().map(|(index, id, inline)| (offset + index, id.map(&here), inline));
        self.pending.extend(pending);
        self.span_warnings.extend(later.span_warnings);
        self.spans = later.spans;
    }
}

/// A run of a trace's spans read apart from the rest of the document (on a thread of its
/// own), to be taken in where the trace's `spans` array is.
pub(super) struct Part {
    r: Reader,
    list: SpanList,
    /// Whether a span has been read.
    begun: bool,
}

impl Part {
    /// A part reading on from `r`, for spans at `spans_path` of the document's first trace;
    /// `listed` are the ids of the processes the trace lists before its spans, if it does
    /// (spans naming one of them wait for the trace's reading, the others take their inline
    /// process, if any, at once, as reading the whole trace would).
    pub fn new(spans_path: &str, listed: Option<&[String]>, mut r: Reader) -> Self {
        let mut list = SpanList::new(spans_path.to_owned(), 0, r.b.spans().len());
        if let Some(listed) = listed {
            list.processes = Some(HashMap::new());
            list.listed = listed.iter().map(|id| r.b.intern(id)).collect();
        }
        Part { r, list, begun: false }
    }

    /// Reads `spans`, the trace's spans from place `first` on; whether their JSON was right.
    pub fn read(&mut self, first: usize, spans: split::Elements) -> bool {
        if !std::mem::replace(&mut self.begun, true) {
            self.list.first_place = first;
        }
        self.list.spans = first;
        let mut parts = SpanParts::default();
        for bytes in spans {
            let mut de = serde_json::Deserializer::from_slice(bytes);
            if SpanSeed(&mut parts).deserialize(&mut de).and_then(|()| de.end()).is_err() {
                return false;
            }
            self.list.take_span(&mut self.r, &mut parts);
        }
        true
    }

    /// Appends the spans `later` read after this part's.
    pub fn append(&mut self, later: Part) {
        let offset = self.r.b.spans().len();
        let ids = self.r.append(later.r);
        self.list.absorb(later.list, offset, |id| ids[id.index() as usize]);
    }
}

/// One trace being read: what must wait for its end.
struct TraceState<'de> {
    list: SpanList,
    trace_id: Option<Text<'de>>,
    warnings: Vec<Text<'de>>,
    /// The fields seen, to refuse one written twice as a whole-object reading does.
    seen: [bool; 4],
    /// Whether `spans` was an array (not `null`).
    has_spans: bool,
}

impl<'de> TraceState<'de> {
    fn new(s: &Stream, spans_path: String) -> Self {
        TraceState {
            list: SpanList::new(spans_path, s.traces, s.r.b.spans().len()),
            trace_id: None,
            warnings: Vec::new(),
            seen: [false; 4],
            has_spans: false,
        }
    }

    /// Reads one of a trace's fields; `false` if `key` is none of them.
    fn field<A: MapAccess<'de>>(&mut self, s: &mut Stream<'de>, key: &str, map: &mut A) -> Result<bool, A::Error> {
        const FIELDS: [&str; 4] = ["traceID", "spans", "processes", "warnings"];
        let Some(field) = FIELDS.iter().position(|f| *f == key) else { return Ok(false) };
        if std::mem::replace(&mut self.seen[field], true) {
            return Err(de::Error::duplicate_field(FIELDS[field]));
        }
        match field {
            0 => self.trace_id = map.next_value::<Option<Text>>()?,
            1 => {
                if let Some(outline) = s.split.before() {
                    let ids = self.list.processes.as_ref().map(|p| p.keys().map(|&id| s.r.b.resolve(id).to_owned()));
                    outline.listed = ids.map(Iterator::collect);
                    outline.reader = std::mem::take(&mut s.r);
                }
                self.has_spans = map.next_value_seed(Spans { s: &mut *s, list: &mut self.list })?;
                if let Some(part) = s.split.take() {
                    self.take_in(&mut s.r, *part);
                }
            }
            2 => {
                // By key, not in a hash map's order: the strings are interned in this order.
                let processes: BTreeMap<Text, Process> = map.next_value::<Option<_>>()?.unwrap_or_default();
                s.r.odd_key = (self.list.trace, 0, 0);
                let processes = processes.into_iter().map(|(key, p)| (s.r.b.intern(&key), s.r.process(&p)));
                self.list.processes = Some(processes.collect());
                self.list.attach_pending(&mut s.r);
            }
            _ => self.warnings = map.next_value::<Option<Vec<Text>>>()?.unwrap_or_default(),
        }
        Ok(true)
    }

    /// Takes in the trace's spans read apart from it, where its (emptied) `spans` array is: their
    /// reader read on from one as this reading's is here (see [`Outline`]), and so replaces it.
    fn take_in(&mut self, r: &mut Reader, part: Part) {
        *r = part.r;
        self.list.absorb(part.list, 0, |id| id);
        if self.list.processes.is_some() {
            self.list.attach_pending(r);
        }
    }

    /// Ends the trace: its spans' processes and its warnings.
    fn end(mut self, s: &mut Stream) {
        self.list.processes.get_or_insert_with(HashMap::new);
        self.list.attach_pending(&mut s.r);
        let label = self.trace_id.as_deref().unwrap_or("?");
        for warning in &self.warnings {
            s.r.warn(format!("trace {label}: {}", &**warning), None);
        }
        for (text, span) in self.list.span_warnings {
            s.r.warn(text, Some(span));
        }
        s.traces += 1;
    }
}

/// The whole file: a query answer (`data`, `errors`), or one trace object on its own.
struct Document<'s, 'de> {
    data: &'s mut Stream<'de>,
    bare: &'s mut Stream<'de>,
    doc: &'s mut DocState<'de>,
}

impl<'de> DeserializeSeed<'de> for Document<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        const FIELDS: &[&str] = &["data", "errors", "traceID", "spans", "processes", "warnings"];
        de.deserialize_struct("Document", FIELDS, self)
    }
}

impl<'de> Visitor<'de> for Document<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct Document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Document { data, bare, doc } = self;
        let mut trace = TraceState::new(bare, "$.spans".to_owned());
        let (mut seen_data, mut seen_errors) = (false, false);
        while let Some(key) = map.next_key::<Text>()? {
            match &*key {
                "data" if std::mem::replace(&mut seen_data, true) => return Err(de::Error::duplicate_field("data")),
                "data" => doc.traces = map.next_value_seed(Traces(data))?,
                "errors" if std::mem::replace(&mut seen_errors, true) => {
                    return Err(de::Error::duplicate_field("errors"));
                }
                "errors" => doc.errors = map.next_value()?,
                key => {
                    if !trace.field(bare, key, &mut map)? {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
        }
        doc.bare_spans = trace.has_spans;
        trace.end(bare);
        Ok(())
    }
}

/// The answer's `data`: an array of traces (`null` is none); how many.
struct Traces<'s, 'de>(&'s mut Stream<'de>);

impl<'de> DeserializeSeed<'de> for Traces<'_, 'de> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Option<usize>, D::Error> {
        de.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Traces<'_, 'de> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<usize>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<Option<usize>, D::Error> {
        de.deserialize_seq(self)
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Option<usize>, S::Error> {
        let mut i = 0;
        while seq.next_element_seed(Trace { s: &mut *self.0, i })?.is_some() {
            i += 1;
        }
        Ok(Some(i))
    }
}

/// One trace of `data`, the `i`th.
pub(super) struct Trace<'s, 'de> {
    pub s: &'s mut Stream<'de>,
    pub i: usize,
}

impl<'de> DeserializeSeed<'de> for Trace<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_struct("JTrace", &["traceID", "spans", "processes", "warnings"], self)
    }
}

impl<'de> Visitor<'de> for Trace<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct JTrace")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let s = self.s;
        let mut trace = TraceState::new(s, format!("$.data[{}].spans", self.i));
        while let Some(key) = map.next_key::<Text>()? {
            if !trace.field(s, &key, &mut map)? {
                map.next_value::<IgnoredAny>()?;
            }
        }
        trace.end(s);
        Ok(())
    }
}

/// A trace's `spans` (`null` is none), each taken as it is read; whether it was an array.
struct Spans<'s, 't, 'de> {
    s: &'s mut Stream<'de>,
    list: &'t mut SpanList,
}

impl<'de> DeserializeSeed<'de> for Spans<'_, '_, 'de> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<bool, D::Error> {
        de.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Spans<'_, '_, 'de> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_none<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<bool, D::Error> {
        de.deserialize_seq(self)
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<bool, S::Error> {
        while seq.next_element_seed(SpanSeed(&mut self.s.parts))?.is_some() {
            self.list.take_span(&mut self.s.r, &mut self.s.parts);
        }
        Ok(true)
    }
}

/// A bare array of spans: the whole file, one trace list.
struct BareSpans<'s, 'de>(&'s mut Stream<'de>);

impl<'de> DeserializeSeed<'de> for BareSpans<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        let s = self.0;
        let mut trace = TraceState::new(s, "$".to_owned());
        // No `processes` can follow: each span's inline process is taken at once.
        trace.list.processes = Some(HashMap::new());
        de.deserialize_seq(Spans { s: &mut *s, list: &mut trace.list })?;
        trace.end(s);
        Ok(())
    }
}

/// Reads one span object into the reused parts.
struct SpanSeed<'p, 'de>(&'p mut SpanParts<'de>);

/// A span's fields, in the order a whole-object reading checks the required ones.
const SPAN_FIELDS: &[&str] = &[
    "traceID",
    "spanID",
    "parentSpanID",
    "operationName",
    "references",
    "startTime",
    "duration",
    "tags",
    "logs",
    "processID",
    "process",
    "warnings",
];

impl<'de> DeserializeSeed<'de> for SpanSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_struct("JSpan", SPAN_FIELDS, self)
    }
}

/// `deserialize_with` adapters for the fields read with [`json`]'s functions.
#[derive(Deserialize)]
struct Micros(#[serde(deserialize_with = "json::micros")] Nanos);

#[derive(Deserialize)]
struct OptId<'a>(#[serde(borrow, deserialize_with = "json::opt_id")] Option<Id<'a, SpanId>>);

impl<'de> Visitor<'de> for SpanSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct JSpan")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let p = self.0;
        p.clear();
        let (mut seen, mut start, mut duration) = (0u64, None, None);
        while let Some(key) = map.next_key::<Text>()? {
            let Some(field) = SPAN_FIELDS.iter().position(|f| *f == &*key) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            json::first_time(&mut seen, field, SPAN_FIELDS[field])?;
            match field {
                0 => p.trace_id = Some(map.next_value()?),
                1 => p.span_id = Some(map.next_value()?),
                2 => p.parent_span_id = map.next_value::<OptId>()?.0,
                3 => p.name = map.next_value()?,
                4 => map.next_value_seed(OptSeq(&mut p.references))?,
                5 => start = Some(map.next_value::<Micros>()?.0),
                6 => duration = Some(map.next_value::<Micros>()?.0),
                7 => map.next_value_seed(OptSeq(&mut p.tags))?,
                8 => map.next_value_seed(OptSeq(Logs(p)))?,
                9 => p.process_id = map.next_value()?,
                10 => p.process = map.next_value()?,
                _ => map.next_value_seed(OptSeq(&mut p.warnings))?,
            }
        }
        let missing = |field: &'static str| de::Error::missing_field(field);
        if p.trace_id.is_none() {
            return Err(missing("traceID"));
        }
        if p.span_id.is_none() {
            return Err(missing("spanID"));
        }
        p.start = start.ok_or_else(|| missing("startTime"))?;
        p.duration = duration.ok_or_else(|| missing("duration"))?;
        Ok(())
    }
}

/// What takes the elements of an optional array, one at a time.
trait Elements<'de> {
    /// Reads the next element; `false` at the end.
    fn next<S: SeqAccess<'de>>(&mut self, seq: &mut S) -> Result<bool, S::Error>;
}

/// Elements pushed onto a list.
impl<'de, T: Deserialize<'de>> Elements<'de> for &mut Vec<T> {
    fn next<S: SeqAccess<'de>>(&mut self, seq: &mut S) -> Result<bool, S::Error> {
        let item = seq.next_element()?;
        Ok(item.map(|item| self.push(item)).is_some())
    }
}

/// A span's `logs`, each log's fields pushed onto the parts' field list.
struct Logs<'p, 'de>(&'p mut SpanParts<'de>);

impl<'de> Elements<'de> for Logs<'_, 'de> {
    fn next<S: SeqAccess<'de>>(&mut self, seq: &mut S) -> Result<bool, S::Error> {
        Ok(seq.next_element_seed(Log(&mut *self.0))?.is_some())
    }
}

/// An optional array (`null` is none), its elements taken by `E`.
struct OptSeq<E>(E);

impl<'de, E: Elements<'de>> DeserializeSeed<'de> for OptSeq<E> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_option(self)
    }
}

impl<'de, E: Elements<'de>> Visitor<'de> for OptSeq<E> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_none<Er: de::Error>(self) -> Result<(), Er> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }

    fn visit_seq<S: SeqAccess<'de>>(mut self, mut seq: S) -> Result<(), S::Error> {
        while self.0.next(&mut seq)? {}
        Ok(())
    }
}

/// One log object: its time, and its fields onto the parts' field list.
struct Log<'p, 'de>(&'p mut SpanParts<'de>);

impl<'de> DeserializeSeed<'de> for Log<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_struct("Log", &["timestamp", "fields"], self)
    }
}

impl<'de> Visitor<'de> for Log<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct Log")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let p = self.0;
        let first = p.log_fields.len();
        let (mut timestamp, mut seen_fields) = (None, false);
        while let Some(key) = map.next_key::<Text>()? {
            match &*key {
                "timestamp" if timestamp.is_some() => return Err(de::Error::duplicate_field("timestamp")),
                "timestamp" => timestamp = Some(map.next_value::<Micros>()?.0),
                "fields" if std::mem::replace(&mut seen_fields, true) => {
                    return Err(de::Error::duplicate_field("fields"));
                }
                "fields" => map.next_value_seed(OptSeq(&mut p.log_fields))?,
                _ => drop(map.next_value::<IgnoredAny>()?),
            }
        }
        let timestamp = timestamp.ok_or_else(|| de::Error::missing_field("timestamp"))?;
        p.logs.push((timestamp, first..p.log_fields.len()));
        Ok(())
    }
}
