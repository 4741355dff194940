//! Sentry: transaction events (stored or from the event-details API), several of one trace
//! (a JSON array or JSON lines, stitched across processes through `contexts.trace.parent_span_id`),
//! the answers of the trace endpoints (legacy `events-trace`, newer `/trace/`), and envelopes,
//! what SDKs send ([`envelope`]: transactions, error events and span v2 items).
//!
//! Timestamps are float seconds or RFC 3339 strings (read with `jiff`), kept to the
//! microsecond. See `import` for how fields map onto the model and `write` for the writer.

pub mod envelope;
mod fields;
mod import;
mod item;
mod keys;
mod read;
mod record;
mod schema;
mod span_v2;
mod spans;
mod time;
mod values;
mod write;

#[cfg(test)]
mod envelope_tests;
#[cfg(test)]
mod tests;

use serde::de::IgnoredAny;

use super::{FormatError, json};
use crate::model::TraceBuilder;
use import::Import;
use read::document;

pub use write::write;

/// Reads Sentry JSON: one event or trace-endpoint answer, an array of them, JSON lines, or
/// envelopes. Items are mapped as they are read (see [`read`]); a big array is read on every
/// thread.
pub fn parse(bytes: &[u8]) -> Result<TraceBuilder, FormatError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut import = Import::new();
    if envelope::is_envelope(bytes) {
        let read = envelope::read(&mut import, bytes)?;
        read.note(&mut import.r.b)?;
    } else if is_json_lines(bytes) {
        for (line, text) in json::lines(bytes) {
            document(&mut import, text, Some(line))?;
        }
    } else if let Some(read) = read::in_parallel(bytes) {
        import = read;
    } else {
        document(&mut import, bytes, None)?;
    }
    Ok(import.finish())
}

/// Several lines, the first of them a whole JSON value on its own.
fn is_json_lines(bytes: &[u8]) -> bool {
    let mut lines = json::lines(bytes);
    match (lines.next(), lines.next()) {
        (Some((_, first)), Some(_)) => serde_json::from_slice::<IgnoredAny>(first).is_ok(),
        _ => false,
    }
}
