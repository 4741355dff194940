//! Streaming Jaeger JSON into the [`Reader`]: each span object is read into one reused
//! [`SpanParts`] (strings borrowed from the input, ids and times parsed as they come) and pushed
//! into the builder at once; no list of the file's spans exists besides the builder's own. What
//! a span's trace says after its spans (`processes`, `traceID`, `warnings`, as Jaeger writes
//! them) is applied when the trace ends, so the result is what reading the whole file first
//! would have made.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::read::{Process, ProcessInfo, QueryError, Reader, SpanParts, query_failed};
use crate::formats::json::{self, Id, Text};
use crate::formats::{FormatError, Place, split};
use crate::model::{Nanos, SpanId, StrId, TraceBuilder};

/// Reads Jaeger JSON. Errors name the JSON path (and line and column when the JSON itself is wrong).
pub fn parse(bytes: &[u8]) -> Result<TraceBuilder, FormatError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return parse_bare_spans(bytes);
    }
    if let Some(parsed) = parse_in_parallel(bytes) {
        return parsed;
    }
    let (mut data, mut bare, mut doc) = (Stream::default(), Stream::default(), DocState::default());
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let read =
        Document { data: &mut data, bare: &mut bare, doc: &mut doc }.deserialize(&mut de).and_then(|()| de.end());
    if read.is_err() {
        let (mut data, mut bare, mut doc) = (Stream::default(), Stream::default(), DocState::default());
        return Err(json::located_error(bytes, Document { data: &mut data, bare: &mut bare, doc: &mut doc }, 0));
    }
    if let Some(err) = doc.errors.as_deref().and_then(query_failed) {
        return Err(err);
    }
    let reader = match doc.traces {
        Some(0) => return Err(FormatError::at_path("$.data", "no traces: `data` is empty (the query found nothing)")),
        Some(_) => data.r,
        None if doc.bare_spans => bare.r,
        None => {
            return Err(FormatError::new(
                Place::Whole,
                "not Jaeger JSON: expected a `data` array of traces or a trace with `spans`",
            ));
        }
    };
    finish(reader)
}

/// Documents of at least this many bytes whose `data` holds several traces are read on every
/// thread of rayon's pool.
const PARALLEL_BYTES: usize = 1 << 22;

/// Reads a big query answer's traces on every thread of rayon's pool, each run of them into a
/// reader of its own, merged in file order into what one reading would have made; the rest of
/// the document (its `errors`, say) is read as a whole-document reading would, with `data`
/// empty. `None` when the file is small, cannot be split, or has an error in its JSON (it is
/// then read whole, to place the error).
fn parse_in_parallel(bytes: &[u8]) -> Option<Result<TraceBuilder, FormatError>> {
    if rayon::current_num_threads() < 2 || bytes.len() < PARALLEL_BYTES {
        return None;
    }
    let traces = split::member_elements(bytes, &["data"]).filter(|t| t.len() > 1)?;
    let open = bytes[..traces[0].start].iter().rposition(|&b| b == b'[')?;
    let last = traces.last()?.end;
    let close = last + bytes[last..].iter().position(|&b| b == b']')?;
    let rest = [&bytes[..=open], &bytes[close..]].concat();
    let (mut data, mut bare, mut doc) = (Stream::default(), Stream::default(), DocState::default());
    let mut de = serde_json::Deserializer::from_slice(&rest);
    Document { data: &mut data, bare: &mut bare, doc: &mut doc }.deserialize(&mut de).and_then(|()| de.end()).ok()?;
    let read = |r: &mut Reader, i: usize, part: &[u8]| {
        let mut s = Stream { r: std::mem::take(r), parts: SpanParts::default(), traces: i as u32 };
        let mut de = serde_json::Deserializer::from_slice(part);
        let read = Trace { s: &mut s, i }.deserialize(&mut de).and_then(|()| de.end()).is_ok();
        *r = s.r;
        read
    };
    let reader = split::read_in_parallel(bytes, &traces, Reader::default, read, Reader::append)?;
    Some(match doc.errors.as_deref().and_then(query_failed) {
        Some(err) => Err(err),
        None => finish(reader),
    })
}

/// A bare array of spans, each with its `process` inline (how Jaeger's own tools and storage
/// back-ends write spans outside a query answer), read as one trace list with a note.
fn parse_bare_spans(bytes: &[u8]) -> Result<TraceBuilder, FormatError> {
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

fn finish(mut reader: Reader) -> Result<TraceBuilder, FormatError> {
    match reader.first_error.take() {
        Some(err) => Err(err),
        None => Ok(reader.finish()),
    }
}

/// A reader and the span parts it reuses.
#[derive(Default)]
struct Stream<'de> {
    r: Reader,
    parts: SpanParts<'de>,
    /// Traces begun, for [`OddKey`]s.
    traces: u32,
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

/// One trace being read: what must wait for its end.
struct TraceState<'de> {
    /// The JSON path of its span list, for errors and notes.
    spans_path: String,
    trace: u32,
    trace_id: Option<Text<'de>>,
    /// Its `processes`, once read.
    processes: Option<HashMap<StrId, ProcessInfo>>,
    /// Spans read before `processes`: builder index, their `processID` and inline process.
    pending: Vec<(usize, Option<StrId>, Option<Box<Process<'de>>>)>,
    warnings: Vec<Text<'de>>,
    span_warnings: Vec<(String, SpanId)>,
    /// Spans read (their places in the list).
    spans: usize,
    /// The first builder index of its spans.
    first_index: usize,
    /// The fields seen, to refuse one written twice as a whole-object reading does.
    seen: [bool; 4],
    /// Whether `spans` was an array (not `null`).
    has_spans: bool,
}

impl<'de> TraceState<'de> {
    fn new(s: &Stream, spans_path: String) -> Self {
        TraceState {
            spans_path,
            trace: s.traces,
            trace_id: None,
            processes: None,
            pending: Vec::new(),
            warnings: Vec::new(),
            span_warnings: Vec::new(),
            spans: 0,
            first_index: s.r.b.spans().len(),
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
            1 => self.has_spans = map.next_value_seed(Spans { s, t: self })?,
            2 => {
                // By key, not in a hash map's order: the strings are interned in this order.
                let processes: Option<BTreeMap<Text, Process>> = map.next_value()?;
                s.r.odd_key = (self.trace, 0, 0);
                let processes = processes.into_iter().flatten().map(|(key, p)| (s.r.b.intern(&key), s.r.process(&p)));
                self.processes = Some(processes.collect());
                for (index, id, inline) in std::mem::take(&mut self.pending) {
                    self.attach(&mut s.r, index, id, inline.as_deref());
                }
            }
            _ => self.warnings = map.next_value::<Option<Vec<Text>>>()?.unwrap_or_default(),
        }
        Ok(true)
    }

    /// Gives span `index` its process, now that the trace's processes are known.
    fn attach(&self, r: &mut Reader, index: usize, id: Option<StrId>, inline: Option<&Process>) {
        let i = index - self.first_index;
        r.odd_key = (self.trace, i + 1, 0);
        let none = HashMap::new();
        let at = || format!("{}[{i}]", self.spans_path);
        r.attach(index, id, inline, self.processes.as_ref().unwrap_or(&none), &at);
    }

    /// Takes the span just read into `s.parts`.
    fn take_span(&mut self, s: &mut Stream<'de>) {
        let i = self.spans;
        self.spans += 1;
        let parts = &mut s.parts;
        let (Some(trace_id), Some(span_id)) = (&parts.trace_id, &parts.span_id) else { return };
        let index = s.r.b.spans().len();
        let at = || format!("{}[{i}]", self.spans_path);
        s.r.odd_key = (self.trace, i + 1, 1);
        if let Err(err) = s.r.span(parts, trace_id, span_id, &at) {
            s.r.first_error.get_or_insert(err);
            return;
        }
        for warning in &parts.warnings {
            self.span_warnings.push((warning.to_string(), span_id.value));
        }
        let id = parts.process_id.as_ref().map(|id| s.r.b.intern(id));
        let inline = parts.process.take();
        if self.processes.is_some() {
            self.attach(&mut s.r, index, id, inline.as_ref());
        } else {
            self.pending.push((index, id, inline.map(Box::new)));
        }
    }

    /// Ends the trace: its spans' processes and its warnings.
    fn end(mut self, s: &mut Stream) {
        self.processes.get_or_insert_with(HashMap::new);
        for (index, id, inline) in std::mem::take(&mut self.pending) {
            self.attach(&mut s.r, index, id, inline.as_deref());
        }
        let label = self.trace_id.as_deref().unwrap_or("?");
        for warning in &self.warnings {
            s.r.warn(format!("trace {label}: {}", &**warning), None);
        }
        for (text, span) in self.span_warnings {
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
struct Trace<'s, 'de> {
    s: &'s mut Stream<'de>,
    i: usize,
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
    t: &'t mut TraceState<'de>,
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
            self.t.take_span(self.s);
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
        trace.processes = Some(HashMap::new());
        de.deserialize_seq(Spans { s: &mut *s, t: &mut trace })?;
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
