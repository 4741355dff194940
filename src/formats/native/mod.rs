//! tracedeck's own format (`.tracedeck.json`): everything a [`Trace`](crate::model::Trace)
//! holds, so that a trace saved from the window reads back exactly as it was, offline.
//!
//! ```json
//! {"tracedeck": 2, "traces": [
//! {"trace_id": "6cf173d587eb48568a9b2e12dcfbea52", "start": 1718000000000000000, "spans": [
//! {"id": "a1b2c3d4e5f60718", "start": 0, "duration": 412500000, "name": "POST /slack/action",
//!  "op": "http.server", "service": "control", "kind": "server", "status": "error",
//!  "status_message": "deadline_exceeded", "transaction": "/slack/action",
//!  "attrs": {"http.status_code": 200, "ratio": 0.5, "cached": false, "method": "POST"},
//!  "events": [{"time": 1200, "name": "exception", "attrs": {"exception.type": "KeyError"}}]},
//! {"id": "0718a1b2c3d4e5f6", "parent": "a1b2c3d4e5f60718", "start": 15000, "duration": 2000}
//! ],
//! "errors": [{"title": "KeyError: 'view'", "span": "a1b2c3d4e5f60718", "time": 1200,
//!             "event_id": "9f0e...", "level": "error"}],
//! "notes": ["2 error event(s) belong to traces that are not in the file; ..."]}
//! ]}
//! ```
//!
//! - `"tracedeck"` is the format version and must be the first key, which is how the format
//!   is recognised; a version this build does not know is refused, naming it.
//! - A trace: `trace_id` (hex), `start` (nanoseconds since the Unix epoch), `spans`, and
//!   optionally `errors` (the error events linked to the trace) and `notes` (what the importer
//!   that first read it noticed, shown as warnings).
//! - Every other time is a whole number of nanoseconds after the trace's `start`, so times are
//!   exact and short. A span without `duration` never ended; `"end_before_start": true` marks
//!   a span whose source gave an end before its start (it is zero-length); `"untimed": true`
//!   a span whose source gave it no time (an importer placed it; verdicts do not judge by it).
//! - A span: `id` and, when it has one, `parent` (16 hex digits each; the parent may be
//!   missing from the trace), `trace_id` only when it differs from the trace's (a 64-bit id
//!   joined to a 128-bit one), `name`, `op`, `service`, `transaction`, `kind` (`internal`,
//!   `server`, `client`, `producer`, `consumer`), `status` (`ok`, `error`), `status_message`,
//!   `attrs` and `events`. Empty fields are left out.
//! - `resources` (version 2): the attribute objects of the processes that recorded the spans
//!   (OTLP resources, Jaeger processes), each listed once; a span names its own by its place
//!   in that list, `"resource": 0`. Version 1 files, which have none, still read.
//! - Attributes keep their order and type: a string, an integer (a number without fraction
//!   or exponent), a float (always with one: `1.0`), `true`/`false`, or `{"float": "NaN"}`
//!   (also `"Infinity"`, `"-Infinity"`). A key may repeat, as in the trace.
//! - Spans are listed depth-first, as the trace shows them; a span repeating another's id is
//!   listed after the span that owns the id, so the tree is rebuilt the same.
//!
//! Unknown keys are errors (they would otherwise be lost silently); a newer tracedeck
//! that adds fields writes a new version.

mod attrs;
mod order;
mod read;
mod span;
mod write;

pub use read::parse;
pub use write::write;

/// The format version this build writes and reads.
pub const VERSION: u64 = 2;

#[cfg(test)]
mod tests;
