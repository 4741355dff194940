//! Sentry: transaction events (stored or from the event-details API), several of one trace
//! (a JSON array or JSON lines, stitched across processes through `contexts.trace.parent_span_id`),
//! the answers of the trace endpoints (legacy `events-trace`, newer `/trace/`), and envelopes,
//! what SDKs send ([`envelope`]: transactions, error events and span v2 items).
//!
//! Timestamps are float seconds or RFC 3339 strings (read with `jiff`), kept to the
//! microsecond. See `import` for how fields map onto the model and `write` for the writer.

pub mod envelope;
mod import;
mod keys;
mod schema;
mod span_v2;
mod time;
mod write;

#[cfg(test)]
mod envelope_tests;
#[cfg(test)]
mod tests;

use serde::de::IgnoredAny;

use super::{FormatError, json};
use crate::model::TraceBuilder;
use import::{Import, Loc};
use schema::Item;

pub use write::write;

/// Reads Sentry JSON: one event or trace-endpoint answer, an array of them, JSON lines, or
/// envelopes.
pub fn parse(bytes: &[u8]) -> Result<TraceBuilder, FormatError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut import = Import::new();
    if envelope::is_envelope(bytes) {
        let read = envelope::read(&mut import, bytes)?;
        read.note(&mut import.b)?;
    } else if is_json_lines(bytes) {
        for (line, text) in json::lines(bytes) {
            document(&mut import, text, Some(line))?;
        }
    } else {
        document(&mut import, bytes, None)?;
    }
    Ok(import.finish())
}

/// Reads one document (or one line of JSON lines): an array of items or a single item.
fn document(import: &mut Import, bytes: &[u8], line: Option<usize>) -> Result<(), FormatError> {
    let root = Loc::Root(line);
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        let items: Vec<Item> = deserialize(bytes, line)?;
        for (i, item) in items.iter().enumerate() {
            import.top(item, &Loc::Index(&root, i))?;
        }
        Ok(())
    } else {
        let item: Item = deserialize(bytes, line)?;
        import.top(&item, &root)
    }
}

fn deserialize<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8], line: Option<usize>) -> Result<T, FormatError> {
    match line {
        Some(line) => json::from_line(bytes, line),
        None => json::from_slice(bytes),
    }
}

/// Several lines, the first of them a whole JSON value on its own.
fn is_json_lines(bytes: &[u8]) -> bool {
    let mut lines = json::lines(bytes);
    match (lines.next(), lines.next()) {
        (Some((_, first)), Some(_)) => serde_json::from_slice::<IgnoredAny>(first).is_ok(),
        _ => false,
    }
}
