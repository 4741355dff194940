//! Jaeger's query/UI JSON: `{"data":[{traceID, spans[], processes{}, warnings}], "errors":...}`,
//! what `GET /api/traces/{id}` answers and what people save from the Jaeger UI.
//!
//! Mapping into the model (see `shared/reference/trace-formats.md` §3):
//! - `operationName` → name; `processes[processID].serviceName` (or an embedded `process`) →
//!   service; the process's tags → span attributes prefixed `process.`.
//! - Parent: the first `CHILD_OF` reference. A span with only `FOLLOWS_FROM` references hangs
//!   under the first of them (the async case: a queued task follows the request that queued it)
//!   and the import notes it. Without references the legacy `parentSpanID` is used. When the
//!   references are more than that one parent link, all of them are kept as JSON text in the
//!   attribute [`REFERENCES`] so the writer can give them back.
//! - `startTime`/`duration` µs → ns; tags keep their declared type (`string`, `bool`, `int64`,
//!   `float64`, `binary` as base64 text; upper-case legacy names too; `int64` as number or string);
//!   a value that does not match its type is kept as written text, with a note.
//! - A bare array of spans (each with its `process` inline, as Jaeger's own tools write them) is
//!   read as one list, with a note; a `processID` missing from `processes` leaves the span
//!   without a service, with a note; ids that are not hex are kept as their text, with a note.
//! - Status: `error=true` (bool or `"true"`) or `otel.status_code=ERROR` → error, with
//!   `otel.status_description` as message; `otel.status_code=OK` → ok. `span.kind` → kind.
//!   Those tags become model fields, not attributes; the writer writes them back.
//! - Logs → events named by their `event` field (else `log`), other fields as event attributes.
//! - Span and trace `warnings` (the query's adjusters' notes) → import notes, counted per text.
//!
//! The 16- and 32-digit spellings of one trace id are joined by the model's builder.
//!
//! Spans stream into the builder as they are read (see `stream`); a big query answer's `data`
//! traces, or the spans of its one trace, are read on every thread of rayon's pool and merged
//! in file order (see `parallel`).

mod parallel;
mod read;
mod stream;
mod write;

#[cfg(test)]
mod tests;

pub use parallel::parse;
pub use write::write;

/// Attribute holding a span's references as Jaeger JSON when they are more than one `CHILD_OF`
/// parent link (a `FOLLOWS_FROM` parent, extra links).
pub const REFERENCES: &str = "jaeger.references";
