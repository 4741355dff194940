//! Reading a big Jaeger file on every thread of rayon's pool: a query answer's `data` traces,
//! each run of them into a reader of its own, or the spans of its one trace, each run of them
//! into a [`Part`]; either way merged in file order into what one reading would have made.

use super::read::Reader;
use super::stream::{self, Outline, Part, Split, Trace};
use crate::formats::FormatError;
use crate::formats::split::{self, Nested, Step};
use crate::model::TraceBuilder;

/// Reads Jaeger JSON. Errors name the JSON path (and line and column when the JSON itself is wrong).
pub fn parse(bytes: &[u8]) -> Result<TraceBuilder, FormatError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return stream::parse_bare_spans(bytes);
    }
    if rayon::current_num_threads() > 1 && bytes.len() >= PARALLEL_BYTES {
        // A file that cannot be split, or has an error in its JSON, is read whole (to place the error).
        let parsed = match split::nested(bytes, &ONE_TRACE_SPANS).filter(|s| s.elements.len() > 1) {
            Some(spans) => parse_spans_in_parallel(bytes, &spans),
            None => parse_traces_in_parallel(bytes),
        };
        if let Some(parsed) = parsed {
            return parsed;
        }
    }
    stream::parse_whole(bytes)
}

/// Documents of at least this many bytes are read on every thread of rayon's pool.
const PARALLEL_BYTES: usize = 1 << 22;

/// Where the spans of a query answer of one trace are.
pub(super) const ONE_TRACE_SPANS: [Step; 3] = [Step::Member(&["data"]), Step::Only, Step::Member(&["spans"])];

/// Reads the traces of a query answer whose `data` holds several, each run of them into a
/// reader of its own; the rest of the document (its `errors`, say) is read as a
/// whole-document reading would, with `data` empty. `None` when it is not such an answer, or
/// has an error in its JSON.
fn parse_traces_in_parallel(bytes: &[u8]) -> Option<Result<TraceBuilder, FormatError>> {
    let traces = split::nested(bytes, &[Step::Member(&["data"])]).filter(|t| t.elements.len() > 1)?;
    let rest = traces.rest(bytes);
    let query_error = stream::read_document(&rest, Split::Whole)?.query_error();
    let read = |r: &mut Reader, i: usize, part: &[u8]| {
        let mut s = stream::Stream { r: std::mem::take(r), traces: i as u32, ..stream::Stream::default() };
        let mut de = serde_json::Deserializer::from_slice(part);
        let read = serde::de::DeserializeSeed::deserialize(Trace { s: &mut s, i }, &mut de).and_then(|()| de.end());
        *r = s.r;
        read.is_ok()
    };
    let append = |r: &mut Reader, later| drop(r.append(later));
    let reader = split::read_in_parallel(bytes, &traces.elements, Reader::default, read, append)?;
    Some(match query_error {
        Some(err) => Err(err),
        None => stream::finish(reader),
    })
}

/// Reads the `spans` of a query answer of one trace, each run of them into a [`Part`], then
/// the rest of the document (read first, with `spans` empty, to check it and learn what the
/// parts need) again, taking the parts in where the spans are. `None` when it has an error in
/// its JSON.
pub(super) fn parse_spans_in_parallel(bytes: &[u8], spans: &Nested) -> Option<Result<TraceBuilder, FormatError>> {
    let rest = spans.rest(bytes);
    let outline = stream::read_document(&rest, Split::Before(Outline::default()))?.data.split.learnt()?;
    let Outline { reader, listed } = outline;
    let (path, listed) = ("$.data[0].spans", listed.as_deref());
    let first = Part::new(path, listed, reader);
    let new = || Part::new(path, listed, Reader::default());
    let part = spans.read_in_parallel(bytes, first, new, Part::read, Part::append)?;
    // The rest read without error above; it reads the same now.
    Some(stream::read_document(&rest, Split::After(Some(Box::new(part)))).map_or_else(
        || Err(FormatError::new(crate::formats::Place::Whole, "the Jaeger answer could not be read twice the same")),
        stream::Read::finish,
    ))
}
