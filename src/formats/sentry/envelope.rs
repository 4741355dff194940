//! Sentry envelopes (`application/x-sentry-envelope`): what SDKs send to Sentry and to Spotlight,
//! and what they write to files.
//!
//! An envelope is a header line (JSON: `event_id`, `sent_at`, `dsn`, `sdk`, and `trace`, the
//! dynamic sampling context with the `trace_id`), then items: an item-header line (JSON with a
//! `type`, and optionally the payload's `length` in bytes) and the payload: exactly `length`
//! bytes, which may hold line breaks, or else the rest of the line. A payload may be empty and the
//! last line break may be missing. Several envelopes may follow each other: a line without a
//! `type` where an item header is due starts the next one.
//!
//! Items read: `transaction` (a transaction event), `event` (an error event, joined to its trace
//! by `contexts.trace`, else by the envelope header's `trace.trace_id`) and `span` (span v2,
//! [`super::span_v2`]). Every other type (attachments, sessions, client reports, profiles,
//! replays, logs; binary or not) is skipped, and a file's traces say so in a note. A payload that
//! runs past the end or is not followed by a line break (a truncated envelope, a wrong `length`)
//! is an error at its line.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::import::{Import, Then};
use super::schema::Text;
use super::span_v2::{self, Batch};
use crate::formats::{FormatError, Place, json};
use crate::model::{Trace, TraceBuilder, TraceId};

/// An envelope or item header: an item header has a `type`, an envelope header does not.
#[derive(Deserialize)]
struct Header<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Text<'a>>,
    length: Option<u64>,
    #[serde(borrow)]
    event_id: Option<Text<'a>>,
    #[serde(borrow)]
    trace: Option<SamplingContext<'a>>,
}

/// The envelope header's `trace` (the dynamic sampling context); only its trace id is used.
#[derive(Deserialize)]
struct SamplingContext<'a> {
    #[serde(borrow)]
    trace_id: Option<Text<'a>>,
}

/// Just enough of a line's JSON object to tell an envelope's lines from an event's.
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "type")]
    kind: Option<String>,
    contexts: Option<IgnoredAny>,
    spans: Option<IgnoredAny>,
    start_timestamp: Option<IgnoredAny>,
    timestamp: Option<IgnoredAny>,
    exception: Option<IgnoredAny>,
    transaction: Option<IgnoredAny>,
}

impl Probe {
    /// Reads one line as a JSON object; `None` when it is not one.
    fn of(line: &[u8]) -> Option<Probe> {
        if line.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return None;
        }
        serde_json::from_slice(line).ok()
    }

    /// Keys events have and headers do not.
    fn is_event(&self) -> bool {
        self.contexts.is_some()
            || self.spans.is_some()
            || self.start_timestamp.is_some()
            || self.timestamp.is_some()
            || self.exception.is_some()
            || self.transaction.is_some()
    }
}

/// Whether `bytes` are an envelope: a first line that is a header (a JSON object without `type`
/// or event fields) and a second that is an item header (a JSON object with a text `type`).
pub fn is_envelope(bytes: &[u8]) -> bool {
    let mut lines = json::lines(bytes).map(|(_, line)| line);
    let (Some(first), Some(second)) = (lines.next(), lines.next()) else { return false };
    let header = Probe::of(first).is_some_and(|p| p.kind.is_none() && !p.is_event());
    header && Probe::of(second).is_some_and(|p| p.kind.is_some() && !p.is_event())
}

/// What an envelope body held, for a receiver.
pub struct Received {
    /// Its spans and errors.
    pub spans: TraceBuilder,
    /// The first envelope's `event_id` (Sentry answers with it).
    pub event_id: Option<String>,
}

/// Reads a body sent to a Sentry endpoint: one or more envelopes. Items without spans are
/// skipped without a note (SDKs send sessions and client reports all the time).
pub fn receive(bytes: &[u8]) -> Result<Received, FormatError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FormatError::new(Place::Whole, "the body is empty; an envelope has at least its header line"));
    }
    let mut import = Import::new();
    let read = read(&mut import, bytes)?;
    Ok(Received { spans: import.finish(), event_id: read.event_id })
}

/// What reading skipped, and the first envelope's event id.
#[derive(Default)]
pub(super) struct Read {
    /// Item types skipped, with how many of each.
    skipped: BTreeMap<String, usize>,
    /// Items of a type read whose payload was empty.
    empty: usize,
    event_id: Option<String>,
}

impl Read {
    /// Notes what was skipped on every trace of the file; when nothing was read, says why as an
    /// error instead.
    pub(super) fn note(&self, builder: &mut TraceBuilder) -> Result<(), FormatError> {
        let kinds: Vec<String> = self.skipped.iter().map(|(kind, n)| format!("{n} {kind}")).collect();
        if builder.spans().is_empty() && !kinds.is_empty() {
            return Err(FormatError::new(
                Place::Whole,
                format!(
                    "the envelopes hold no spans, only items of other kinds: {} (tracedeck reads transaction, \
                     event and span items)",
                    kinds.join(", ")
                ),
            ));
        }
        if !kinds.is_empty() {
            builder.note(format!(
                "skipped envelope items that hold no spans: {} (tracedeck reads transaction, event and span items)",
                kinds.join(", ")
            ));
        }
        if self.empty > 0 {
            builder.note(format!("skipped {} envelope item(s) with an empty payload", self.empty));
        }
        Ok(())
    }
}

/// Reads envelopes into `import`.
pub(super) fn read(import: &mut Import, bytes: &[u8]) -> Result<Read, FormatError> {
    let mut cursor = Cursor { bytes, pos: 0, line: 1 };
    let mut read = Read::default();
    let mut envelope_trace: Option<TraceId> = None;
    // The last item's header line and type, to explain a line that is no header.
    let mut previous: Option<(usize, String, bool)> = None;
    while !cursor.at_end() {
        let (line, text) = cursor.line();
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let header = header(text, line, previous.as_ref())?;
        let Some(kind) = header.kind else {
            let trace = header.trace.and_then(|t| t.trace_id).and_then(|t| TraceId::from_hex(t.as_str()).ok());
            envelope_trace = Some(trace.unwrap_or(TraceId(0)));
            if read.event_id.is_none() {
                read.event_id = header.event_id.map(|id| id.as_str().to_owned());
            }
            continue;
        };
        let Some(trace) = envelope_trace else {
            return Err(at(
                line,
                1,
                "an envelope starts with its header (a JSON object without \"type\"), not an item",
            ));
        };
        let (payload_line, payload) = match header.length {
            Some(length) => cursor.payload(length, line)?,
            None => {
                let (payload_line, payload) = cursor.line();
                (payload_line, payload)
            }
        };
        let kind = kind.as_str();
        let wanted = matches!(kind, "transaction" | "event" | "span");
        if !wanted {
            *read.skipped.entry(kind.to_owned()).or_default() += 1;
        } else if payload.iter().all(u8::is_ascii_whitespace) {
            read.empty += 1;
        } else if kind == "span" {
            let batch: Batch = json::from_line(payload, payload_line)?;
            span_v2::import(import, &batch);
        } else {
            let then = if kind == "transaction" { Then::Top } else { Then::ErrorEvent(trace) };
            super::read::payload(import, payload, payload_line, then)?;
        }
        previous = Some((line, kind.to_owned(), header.length.is_some()));
    }
    Ok(read)
}

/// Reads a header line, or says why it is none.
fn header<'a>(
    text: &'a [u8],
    line: usize,
    previous: Option<&(usize, String, bool)>,
) -> Result<Header<'a>, FormatError> {
    let hint = match previous {
        Some((at, kind, false)) => format!(
            "; the {kind} item at line {at} gives no `length`, so its payload ended at the first line break \
             (a binary or multi-line payload needs a `length`)"
        ),
        _ => String::new(),
    };
    if text.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(at(line, 1, format!("expected an envelope or item header (a JSON object on one line){hint}")));
    }
    json::from_line(text, line).map_err(|e| FormatError {
        place: e.place,
        message: format!("not an envelope or item header: {}{hint}", e.message),
    })
}

fn at(line: usize, column: usize, message: impl Into<String>) -> FormatError {
    FormatError::new(Place::At { line, column, path: String::new() }, message)
}

/// A position in the input, with its line (from 1).
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> Cursor<'a> {
    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// The rest of the current line, without its line break, and its line number; moves to the next line.
    fn line(&mut self) -> (usize, &'a [u8]) {
        let (start, line) = (self.pos, self.line);
        let rest = &self.bytes[start..];
        match rest.iter().position(|&b| b == b'\n') {
            Some(end) => {
                self.pos = start + end + 1;
                self.line += 1;
                (line, &rest[..end])
            }
            None => {
                self.pos = self.bytes.len();
                (line, rest)
            }
        }
    }

    /// Exactly `length` bytes, which must end the input or be followed by a line break; `header`
    /// is the item header's line, for errors.
    fn payload(&mut self, length: u64, header: usize) -> Result<(usize, &'a [u8]), FormatError> {
        let rest = &self.bytes[self.pos..];
        let Some(payload) = usize::try_from(length).ok().and_then(|n| rest.get(..n)) else {
            return Err(FormatError::new(
                Place::At { line: header, column: 1, path: "$.length".into() },
                format!(
                    "the item's `length` is {length} bytes, but only {} follow its header: the envelope is \
                     truncated, or the length is wrong",
                    rest.len()
                ),
            ));
        };
        let line = self.line;
        self.pos += payload.len();
        self.line += payload.iter().filter(|&&b| b == b'\n').count();
        let after = &self.bytes[self.pos..];
        if after.is_empty() {
            return Ok((line, payload));
        }
        let Some(skip) = [&b"\n"[..], b"\r\n"].iter().find(|end| after.starts_with(end)).map(|end| end.len()) else {
            let column = match payload.iter().rposition(|&b| b == b'\n') {
                Some(newline) => payload.len() - newline,
                None => payload.len() + 1,
            };
            let shown = String::from_utf8_lossy(&after[..after.len().min(16)]).into_owned();
            return Err(FormatError::new(
                Place::At { line: self.line, column, path: String::new() },
                format!(
                    "the item at line {header} says its payload is {length} bytes (its `length`), but no line break \
                     follows them ({shown:?} does): the length is wrong"
                ),
            ));
        };
        self.pos += skip;
        self.line += 1;
        Ok((line, payload))
    }
}

/// Writes each trace's transactions and errors as envelopes, one event per envelope, the way
/// SDKs send them (`length` given, the trace id in the header's `trace`).
pub fn write(traces: &[&Trace], out: &mut dyn Write) -> io::Result<()> {
    for trace in traces {
        for event in super::write::events(trace)? {
            let header = serde_json::json!({
                "event_id": event.event_id,
                "trace": {"trace_id": trace.trace_id().to_string()},
            });
            serde_json::to_writer(&mut *out, &header)?;
            out.write_all(b"\n")?;
            let item = serde_json::json!({
                "type": event.item_type,
                "length": event.json.len(),
                "content_type": "application/json",
            });
            serde_json::to_writer(&mut *out, &item)?;
            out.write_all(b"\n")?;
            out.write_all(&event.json)?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}
