//! Chrome's Trace Event Format (chrome://tracing, Perfetto, speedscope): read and write.
//!
//! The format has no span ids: a file is a list of events on (pid, tid) threads, and spans are
//! slices that nest by time on their thread. Reading maps:
//! - `X` (complete) and `B`/`E` pairs (per-thread stack; `E` closes the latest `B`, args merge
//!   with `E` winning) to spans; a `B` never ended stays open, an `E` with no `B` is ignored,
//!   both with a note;
//! - `i`/`I` instants to events on the innermost slice around them on their thread, or to a
//!   zero-length span when none is;
//! - nestable async `b`/`e` pairs, matched by category, id and scope, to spans on their own
//!   track (`n` instants to events on them);
//! - `M` metadata `process_name` to the service (else `pid N`), `thread_name` to the
//!   attribute `thread.name`;
//! - `name` to name, `cat` to op, `args` to typed attributes; `ts`/`dur` (microseconds,
//!   fractions allowed) to integer nanoseconds; a negative `dur` is kept, and the builder makes
//!   the span zero-length with a warning;
//! - counters, samples, flows and other phases are skipped, counted in one note; so are events
//!   real tools' files sometimes lack a field of (an event without `ts`, an async event without
//!   `id`); an `X` without `dur` is an instant. Only a file where no slice has a `ts` is refused.
//! - DevTools' Performance export (`metadata` beside `traceEvents`) and Perfetto's JSON export
//!   (`displayTimeUnit`, `systemTraceEvents`, `bind_id`/`flow_in`/`flow_out`) read the same way:
//!   the keys that are not events are skipped.
//!
//! Parents and ids come from nesting (see the `assemble` module) unless the file carries tracedeck's
//! own id args (see the `ids` module), which the writer adds so traces that cross threads and services
//! keep their tree. A bare array may lack its closing `]` (a trace cut off when its process
//! died): that is read, with a note.
//!
//! A big list of events is read on every thread of rayon's pool (see the `parts` module): runs
//! of events into tables of their own, merged in file order, then paired and nested once, so
//! the trace is the same, string ids, notes and errors included, on any number of threads.

mod assemble;
mod ids;
mod parts;
mod read;
mod tally;
mod write;

use crate::model::TraceBuilder;

use std::ops::Range;

use super::split::{self, Step};
use super::{FormatError, Place, json};

pub use ids::SYNTHETIC_TRACE_ID;
pub use write::write;

/// Reads a Chrome trace: `{"traceEvents": [...]}` or a bare array of events. A big list of
/// events is read on every thread of rayon's pool (see the `parts` module).
pub fn parse(bytes: &[u8]) -> Result<TraceBuilder, FormatError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Some(kept) = unclosed_array(bytes) else {
        return parse_complete(bytes);
    };
    let array = &bytes[..kept];
    let read = split::unclosed_array_elements(array)
        .and_then(|events| if parallel(&events) { parts::read(array, &events) } else { read_events(array, &events) });
    let mut builder = match read {
        Some(state) => assemble(state)?,
        // Not events, or not an array the scan can split: read again with the `]` added, for
        // the error and its place (or whatever that reading makes of it).
        None => {
            let mut closed = Vec::with_capacity(kept + 1);
            closed.extend_from_slice(array);
            closed.push(b']');
            parse_whole(&closed).map_err(|e| cut_inside_event(e, &closed))?
        }
    };
    builder.note("the event array has no closing `]` (the trace was probably cut off); read up to the end of the file");
    Ok(builder)
}

/// Reads a complete document, its events on every thread when it is big.
fn parse_complete(bytes: &[u8]) -> Result<TraceBuilder, FormatError> {
    match in_parallel(bytes) {
        Some(state) => assemble(state),
        None => parse_whole(bytes),
    }
}

/// Reads a complete document on this thread.
fn parse_whole(bytes: &[u8]) -> Result<TraceBuilder, FormatError> {
    let mut state = read::State::new();
    json::from_slice_seed(bytes, read::DocSeed(&mut state), read::DocSeed(&mut read::State::new()))?;
    assemble(state)
}

/// Whether a list of `events` is read on every thread of rayon's pool.
fn parallel(events: &[Range<usize>]) -> bool {
    events.len() >= parts::PARALLEL_EVENTS && rayon::current_num_threads() > 1
}

/// The events of a big complete document read on every thread; `None` when it is not one
/// (or has an error: the whole document is then read on one thread, which says where).
fn in_parallel(bytes: &[u8]) -> Option<read::State> {
    if rayon::current_num_threads() < 2 {
        return None;
    }
    let events = split::nested(bytes, &[]).or_else(|| split::nested(bytes, &[Step::Member(&["traceEvents"])]))?;
    // Everything but the events is checked first: the parts' bytes are not read again.
    if !parallel(&events.elements) || !parts::rest_reads(&events.rest(bytes)) {
        return None;
    }
    parts::read(bytes, &events.elements)
}

/// Reads the `events` (byte ranges) of `array` one by one: `None` if one is not an event.
fn read_events(array: &[u8], events: &[Range<usize>]) -> Option<read::State> {
    let mut state = read::State::new();
    events.iter().enumerate().all(|(i, event)| state.read_event(i, &array[event.clone()])).then_some(state)
}

/// Turns what was read into spans in its builder.
fn assemble(state: read::State) -> Result<TraceBuilder, FormatError> {
    let key = state.thread_name_key();
    let (parsed, mut builder) = state.finish();
    if parsed.records.is_empty() && parsed.skipped.without_ts.count() > 0 {
        return Err(FormatError::new(
            Place::Whole,
            "no slice or instant event has a `ts`, so nothing can be placed in time",
        ));
    }
    assemble::assemble(&parsed, &mut builder, key);
    Ok(builder)
}

/// For a bare array without its closing `]`: how many bytes to keep before adding one
/// (trailing white space and a trailing comma dropped). `None` for anything else.
fn unclosed_array(bytes: &[u8]) -> Option<usize> {
    let first = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    if bytes[first] != b'[' {
        return None;
    }
    let mut end = bytes.iter().rposition(|b| !b.is_ascii_whitespace())? + 1;
    if bytes[end - 1] == b']' {
        return None;
    }
    if bytes[end - 1] == b',' {
        end -= 1;
    }
    Some(end)
}

/// An error at the `]` added to close the array means the file stops inside an event.
fn cut_inside_event(err: FormatError, closed: &[u8]) -> FormatError {
    let last_line = closed.iter().filter(|&&b| b == b'\n').count() + 1;
    let bracket_column = closed.len() - closed.iter().rposition(|&b| b == b'\n').map_or(0, |at| at + 1);
    match &err.place {
        Place::At { line, column, .. } if *line == last_line && *column >= bracket_column => FormatError::new(
            err.place.clone(),
            format!(
                "the file ends inside an event ({}); a bare array may leave out its closing `]`, \
                 but not half an event: is the file truncated?",
                err.message
            ),
        ),
        _ => err,
    }
}

#[cfg(test)]
mod parts_tests;
#[cfg(test)]
mod tests;
