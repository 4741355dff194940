//! OTLP JSON (OpenTelemetry's protobuf-JSON encoding): one `TracesData` document, or one per
//! line as the Collector's file exporter writes them.
//!
//! This is the importer built for size: the document is walked with seeds that push every
//! span into the [`TraceBuilder`] as it is read ([`read`]), so memory is the input plus the
//! builder. A big file is read on every thread of rayon's pool: a document's `resourceSpans`
//! entries (found by a structural scan, [`split`]) or a Collector file's lines are shared out
//! in runs, each read into a builder of its own, and the builders merged in file order. A field written `null` is a field not set, as proto3's JSON mapping has it (the
//! receiver's protobuf bodies, re-encoded through the prost types, have many). Accepted
//! besides the specification: snake_case keys, the legacy `instrumentationLibrarySpans`,
//! Tempo's `batches`, base64 ids, ids written as names (kept as their text, with a note),
//! enum names, nanoseconds as numbers.
//!
//! Mapping: resource `service.name` is the service, and the resource's attributes are kept once
//! for all its spans ([`crate::model::Span::resource`]); scope name and version become span attributes
//! `otel.scope.name`/`otel.scope.version`; links become attribute `links`, the JSON text of
//! `[{"traceId","spanId","attributes"}]`; events become model events, and `exception`
//! events also the span's errors (`Type: message`). The op is attribute `sentry.op`, else
//! derived ([`op`]). An end time of 0 or none is a span that never ended.

mod keys;
mod op;
mod read;
mod scalars;
mod values;
mod write;

use std::ops::Range;

use serde::de::DeserializeSeed;

pub use write::write;

use super::{FormatError, json, split};
use crate::model::TraceBuilder;
use read::{RESOURCE_SPANS, Reader};

/// Files of at least this many bytes are read on every thread of rayon's pool, when they split
/// into parts (a document's `resourceSpans` entries, a Collector file's lines).
const PARALLEL_BYTES: usize = 1 << 22;

/// Reads an OTLP JSON document, or a file of one document per line. Errors name the line,
/// column and JSON path.
pub fn parse(bytes: &[u8]) -> Result<TraceBuilder, FormatError> {
    let parallel = rayon::current_num_threads() > 1 && bytes.len() >= PARALLEL_BYTES;
    if let Some(entries) = split::member_elements(bytes, &RESOURCE_SPANS).filter(|e| parallel && e.len() > 1) {
        // A part that cannot be read is read again below, whole, to say where the error is.
        let read = |r: &mut Reader, _, part: &[u8]| {
            let mut de = serde_json::Deserializer::from_slice(part);
            r.resource_spans().deserialize(&mut de).and_then(|()| de.end()).is_ok()
        };
        if let Some(reader) = split::read_in_parallel(bytes, &entries, || Reader::new(false), read, Reader::append) {
            return Ok(reader.finish());
        }
    }
    let mut reader = Reader::new(false);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match reader.document().deserialize(&mut de) {
        Ok(()) if de.end().is_ok() => Ok(reader.finish()),
        // One whole document, then more: a file of one document per line.
        Ok(()) => parse_lines(bytes, parallel),
        Err(_) => Err(json::located_error(bytes, Reader::new(true).document(), 0)),
    }
}

/// Reads a Collector file: one document per line, all into one builder.
fn parse_lines(bytes: &[u8], parallel: bool) -> Result<TraceBuilder, FormatError> {
    if parallel {
        let lines: Vec<Range<usize>> = json::lines(bytes)
            .map(|(_, line)| {
                let start = line.as_ptr() as usize - bytes.as_ptr() as usize;
                start..start + line.len()
            })
            .collect();
        let read = |r: &mut Reader, _, line: &[u8]| {
            let mut de = serde_json::Deserializer::from_slice(line);
            r.document().deserialize(&mut de).and_then(|()| de.end()).is_ok()
        };
        if let Some(reader) = split::read_in_parallel(bytes, &lines, || Reader::new(false), read, Reader::append) {
            return Ok(reader.finish());
        }
    }
    let mut reader = Reader::new(false);
    for (line, text) in json::lines(bytes) {
        let mut de = serde_json::Deserializer::from_slice(text);
        if reader.document().deserialize(&mut de).and_then(|()| de.end()).is_err() {
            return Err(json::located_error(text, Reader::new(true).document(), line - 1));
        }
    }
    Ok(reader.finish())
}

#[cfg(test)]
mod tests;
