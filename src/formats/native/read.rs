//! Reading a tracedeck document (see [`super`] for the shape). Spans go into the
//! [`TraceBuilder`] one at a time as they are read; their times are made absolute once the
//! trace's `start` is known (it may come after the spans in a hand-edited file).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::VERSION;
use super::attrs::Attrs;
use super::span::{OneSpan, TRACE_OWN_ID, TraceIdText};
use crate::formats::json::{self, Text};
use crate::formats::split::{self, Rest, Step};
use crate::formats::{FormatError, Place};
use crate::model::{Nanos, Range32, RawEvent, SpanId, TraceBuilder};

/// Reads a tracedeck document. Errors name the line, column and JSON path, and what was
/// expected there.
pub fn parse(bytes: &[u8]) -> Result<TraceBuilder, FormatError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if rayon::current_num_threads() > 1
        && bytes.len() >= PARALLEL_BYTES
        && let Some(parsed) = parse_in_parallel(bytes)
    {
        return parsed;
    }
    let mut builder = TraceBuilder::new();
    let seed = Document { b: &mut builder, rest: &mut Rest::Whole };
    json::from_slice_seed(bytes, seed, Document { b: &mut TraceBuilder::new(), rest: &mut Rest::Whole })?;
    Ok(builder)
}

/// Documents of at least this many bytes whose one trace has several spans are read on every
/// thread of rayon's pool.
const PARALLEL_BYTES: usize = 1 << 22;

/// Reads the spans of a document of one trace on every thread of rayon's pool, each run of
/// them into a [`Part`], then the rest of the document again (read first, with `spans` empty,
/// to check it and learn what the parts need), taking the parts in where the spans are. `None`
/// when the document is not so shaped or has an error: it is then read whole, to place the
/// error.
pub(super) fn parse_in_parallel(bytes: &[u8]) -> Option<Result<TraceBuilder, FormatError>> {
    let path = [Step::Member(&["traces"]), Step::Only, Step::Member(&["spans"])];
    let spans = split::nested(bytes, &path).filter(|s| s.elements.len() > 1)?;
    let rest = spans.rest(bytes);
    let read_rest = |b: &mut TraceBuilder, rest_of: &mut Split| {
        let mut de = serde_json::Deserializer::from_slice(&rest);
        Document { b, rest: rest_of }.deserialize(&mut de).and_then(|()| de.end())
    };
    let mut before = Split::Before(Outline::default());
    read_rest(&mut TraceBuilder::new(), &mut before).ok()?;
    let Outline { builder, ends } = before.learnt()?;
    let ends = ends?;
    let first = Part { b: builder, named: Vec::new(), ends };
    let new = || Part { b: TraceBuilder::new(), named: Vec::new(), ends };
    let part = spans.read_in_parallel(bytes, first, new, Part::read, Part::append)?;
    let mut builder = TraceBuilder::new();
    // The rest was read without error above, and reads the same now.
    Some(match read_rest(&mut builder, &mut Split::After(Some(Box::new(part)))) {
        Ok(()) => Ok(builder),
        Err(err) => Err(FormatError::new(Place::Whole, format!("the document read differently twice: {err}"))),
    })
}

/// How the reading of a document meets the spans of its one trace read apart from it, in
/// [`Part`]s.
type Split = Rest<Outline, Box<Part>>;

/// What reading the spans of a document's one trace apart from it needs, learnt by reading the
/// rest of it before them.
#[derive(Default)]
struct Outline {
    /// The builder as it was where the spans are: the first of them read on from it.
    builder: TraceBuilder,
    /// What the trace's end checks its spans against.
    ends: Option<Ends>,
}

/// What the end of a trace checks its spans against.
#[derive(Clone, Copy)]
struct Ends {
    /// The trace's start.
    start: Nanos,
    /// How many resources it lists.
    resources: usize,
}

/// A run of a trace's spans read apart from the rest of the document.
struct Part {
    b: TraceBuilder,
    /// The spans that name a resource: builder index, resource number.
    named: Vec<(usize, u32)>,
    ends: Ends,
}

impl Part {
    /// Reads `spans`; whether they could be, and would pass the trace's end.
    fn read(&mut self, _first: usize, spans: split::Elements) -> bool {
        let (first_span, first_event, first_named) = (self.b.spans().len(), self.b.event_mark(), self.named.len());
        for bytes in spans {
            let mut de = serde_json::Deserializer::from_slice(bytes);
            let span = OneSpan { b: &mut self.b, named: &mut self.named };
            if span.deserialize(&mut de).and_then(|()| de.end()).is_err() {
                return false;
            }
        }
        let Ends { start, resources } = self.ends;
        let at = |offset| absolute(start, offset).is_ok();
        self.named[first_named..].iter().all(|&(_, resource)| (resource as usize) < resources)
            && self.b.spans()[first_span..].iter().all(|s| at(s.start) && s.end.is_none_or(at))
            && self.b.events_mut()[first_event as usize..].iter().all(|e| at(e.time))
    }

    /// Appends the spans `later` read after this part's.
    fn append(&mut self, later: Part) {
        let offset = self.b.spans().len();
        self.b.append(later.b);
        self.named.extend(later.named.into_iter().map(|(index, resource)| (offset + index, resource)));
    }
}

/// The time `offset` after a trace's `start`, or why there is none.
fn absolute(start: Nanos, offset: Nanos) -> Result<Nanos, String> {
    start
        .checked_add(offset)
        .ok_or_else(|| format!("{offset} ns after the trace's start ({start} ns) is past the year 2262"))
}

/// Seed for the whole document.
struct Document<'b> {
    b: &'b mut TraceBuilder,
    /// How it meets spans read apart from it.
    rest: &'b mut Split,
}

impl<'de> DeserializeSeed<'de> for Document<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum DocumentKey {
    Traces,
}

impl<'de> Visitor<'de> for Document<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a tracedeck document ({{\"tracedeck\": {VERSION}, \"traces\": [...]}})")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        match map.next_key::<Text>()? {
            Some(key) if &*key == "tracedeck" => map.next_value::<Version>().map(drop)?,
            Some(key) => {
                return Err(de::Error::custom(format!(
                    "expected the format version first ({{\"tracedeck\": {VERSION}, ...}}), found the key {:?}",
                    &*key
                )));
            }
            None => return Err(de::Error::custom(format!("expected {{\"tracedeck\": {VERSION}, ...}}, found {{}}"))),
        }
        while let Some(key) = map.next_key::<DocumentKey>()? {
            match key {
                DocumentKey::Traces => map.next_value_seed(Traces { b: &mut *self.b, rest: &mut *self.rest })?,
            }
        }
        Ok(())
    }
}

/// The format version: [`VERSION`] or an older one (version 1 had no resources).
struct Version;

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Version;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "the format version, 1 to {VERSION}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Version, E> {
                match v {
                    1..=VERSION => Ok(Version),
                    newer if newer > VERSION => Err(E::custom(format!(
                        "this file is tracedeck format version {newer}, newer than this tracedeck reads \
                         ({VERSION}); open it with a newer tracedeck"
                    ))),
                    other => Err(E::invalid_value(de::Unexpected::Unsigned(other), &self)),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Version, E> {
                Err(E::invalid_value(de::Unexpected::Signed(v), &self))
            }
        }
        d.deserialize_u64(V)
    }
}

/// Seed for the list of traces.
struct Traces<'b> {
    b: &'b mut TraceBuilder,
    rest: &'b mut Split,
}

impl<'de> DeserializeSeed<'de> for Traces<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Traces<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of traces")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(OneTrace { b: &mut *self.b, rest: &mut *self.rest })?.is_some() {}
        Ok(())
    }
}

/// Seed for one trace.
struct OneTrace<'b> {
    b: &'b mut TraceBuilder,
    rest: &'b mut Split,
}

impl<'de> DeserializeSeed<'de> for OneTrace<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum TraceKey {
    TraceId,
    Start,
    Resources,
    Spans,
    Errors,
    Notes,
}

impl<'de> Visitor<'de> for OneTrace<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a trace ({\"trace_id\": ..., \"start\": ..., \"spans\": [...]})")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let b = self.b;
        let (first_span, first_event) = (b.spans().len(), b.event_mark() as usize);
        let (mut trace_id, mut start) = (None, None);
        let (mut errors, mut notes): (Vec<ErrorDoc>, Vec<String>) = (Vec::new(), Vec::new());
        // Resources may come before or after the spans that name them.
        let (mut resources, mut named) = (Vec::new(), Vec::new());
        while let Some(key) = map.next_key::<TraceKey>()? {
            match key {
                TraceKey::TraceId => trace_id = Some(map.next_value::<TraceIdText>()?.0),
                TraceKey::Start => start = Some(map.next_value::<Nanos>()?),
                TraceKey::Resources => map.next_value_seed(Resources(&mut *b, &mut resources))?,
                TraceKey::Spans => {
                    if let Some(outline) = self.rest.before() {
                        outline.builder = std::mem::take(b);
                    }
                    map.next_value_seed(Spans(&mut *b, &mut named))?;
                    // The spans read apart read on from a builder as this one is here.
                    if let Some(part) = self.rest.take() {
                        *b = part.b;
                        named.extend(part.named);
                    }
                }
                TraceKey::Errors => errors = map.next_value()?,
                TraceKey::Notes => notes = map.next_value()?,
            }
        }
        let trace_id = trace_id.ok_or_else(|| de::Error::missing_field("trace_id"))?;
        let start = start.ok_or_else(|| de::Error::missing_field("start"))?;
        if let Some(outline) = self.rest.before() {
            outline.ends = Some(Ends { start, resources: resources.len() });
        }
        for (span, resource) in named {
            let raw = &mut b.spans_mut()[span];
            raw.resource = *resources.get(resource as usize).ok_or_else(|| {
                de::Error::custom(format!(
                    "span {} names resource {resource}, but the trace lists {} resource(s)",
                    raw.id,
                    resources.len()
                ))
            })?;
        }
        let at = |offset: Nanos| -> Result<Nanos, A::Error> { absolute(start, offset).map_err(de::Error::custom) };
        for span in &mut b.spans_mut()[first_span..] {
            if span.trace_id == TRACE_OWN_ID {
                span.trace_id = trace_id;
            }
            span.start = at(span.start)?;
            span.end = span.end.map(at).transpose()?;
        }
        for event in &mut b.events_mut()[first_event..] {
            event.time = at(event.time)?;
        }
        for error in errors {
            let (title, event_id, level) = (b.intern(&error.title), b.intern(&error.event_id), b.intern(&error.level));
            let time = error.time.map(at).transpose()?;
            b.push_error(RawEvent { trace_id, span_id: error.span, time, title, event_id, level });
        }
        for note in notes {
            b.note_trace(trace_id, note);
        }
        Ok(())
    }
}

/// Seed for a trace's spans: each is pushed as soon as it is read, with times relative to the
/// trace's start. Spans that name a resource are noted (builder index, resource number).
struct Spans<'b>(&'b mut TraceBuilder, &'b mut Vec<(usize, u32)>);

impl<'de> DeserializeSeed<'de> for Spans<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Spans<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of spans")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(OneSpan { b: &mut *self.0, named: &mut *self.1 })?.is_some() {}
        Ok(())
    }
}

/// Seed for a trace's resources: each is pushed as it is read, and its range noted.
struct Resources<'b>(&'b mut TraceBuilder, &'b mut Vec<Range32>);

impl<'de> DeserializeSeed<'de> for Resources<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Resources<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let b = self.0;
        loop {
            let mark = b.attr_mark();
            if seq.next_element_seed(Attrs(&mut *b))?.is_none() {
                return Ok(());
            }
            self.1.push(b.resource_since(mark));
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorDoc {
    title: String,
    #[serde(default, deserialize_with = "json::opt_span_id")]
    span: Option<SpanId>,
    #[serde(default)]
    time: Option<Nanos>,
    #[serde(default)]
    event_id: String,
    #[serde(default)]
    level: String,
}
