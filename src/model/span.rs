//! One span and the small records hanging off it (attributes, events, errors).

use super::{Nanos, SpanId, StrId, TraceId};

/// A span's position in its [`Trace`](super::Trace): spans are stored depth-first, so a
/// span's subtree is the index range `idx..span.subtree_end`.
pub type SpanIdx = u32;

/// What side of a call a span records (OpenTelemetry's kinds; other formats map onto them).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[repr(u8)]
pub enum SpanKind {
    /// Not said.
    #[default]
    Unspecified,
    /// In-process work.
    Internal,
    /// Handling an incoming request.
    Server,
    /// Making an outgoing request.
    Client,
    /// Sending a message to a queue.
    Producer,
    /// Receiving a message from a queue.
    Consumer,
}

impl SpanKind {
    /// Every kind, unspecified first.
    pub const ALL: [SpanKind; 6] = [
        SpanKind::Unspecified,
        SpanKind::Internal,
        SpanKind::Server,
        SpanKind::Client,
        SpanKind::Producer,
        SpanKind::Consumer,
    ];

    /// The lowercase name (`server`, `client`, ...), empty when unspecified.
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Unspecified => "",
            SpanKind::Internal => "internal",
            SpanKind::Server => "server",
            SpanKind::Client => "client",
            SpanKind::Producer => "producer",
            SpanKind::Consumer => "consumer",
        }
    }
}

/// Whether a span succeeded. The format's own status text (Sentry's `deadline_exceeded`,
/// OTLP's status message) is kept in [`Span::status_message`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[repr(u8)]
pub enum Status {
    /// The format said nothing, or "unknown".
    #[default]
    Unset,
    /// Explicitly fine.
    Ok,
    /// Failed.
    Error,
}

/// Facts about a span the builder found while assembling the tree.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct SpanFlags(u8);

impl SpanFlags {
    /// The span never ended (no end time); it is drawn up to the trace's end.
    pub const OPEN: SpanFlags = SpanFlags(1);
    /// The span names a parent that is not in the trace; it is shown as a root.
    pub const ORPHAN: SpanFlags = SpanFlags(2);
    /// Another span in the trace has the same id.
    pub const DUPLICATE_ID: SpanFlags = SpanFlags(4);
    /// The span starts before its parent does: the two hosts' clocks disagree.
    pub const SKEWED: SpanFlags = SpanFlags(8);
    /// The format gave an end before the start; the span was made zero-length.
    pub const END_BEFORE_START: SpanFlags = SpanFlags(16);
    /// The file gave the span no time; the importer placed it (at its parent's start) so it can
    /// be shown, and verdicts do not judge by it.
    pub const UNTIMED: SpanFlags = SpanFlags(32);

    /// Whether every flag in `other` is set.
    pub fn contains(self, other: SpanFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Sets the flags in `other`.
    pub fn insert(&mut self, other: SpanFlags) {
        self.0 |= other.0;
    }
}

/// A half-open range into one of a trace's flat arrays (attributes, events).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Range32 {
    /// First index.
    pub start: u32,
    /// Number of items.
    pub len: u32,
}

impl Range32 {
    /// As a `usize` range for slicing.
    pub fn as_range(self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

/// An attribute value. Arrays and maps are kept as their JSON text.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum AttrValue {
    /// Text (also arrays, maps and bytes, as text).
    Str(StrId),
    /// A whole number.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

/// A key and its value. Packed (20 bytes instead of 24): a trace holds several per span.
/// Read the fields by value (`attr.value`), not by reference.
#[derive(Clone, Copy, PartialEq, Debug)]
#[repr(C, packed(4))]
pub struct Attr {
    /// The key.
    pub key: StrId,
    /// The value.
    pub value: AttrValue,
}

/// Something that happened at an instant inside a span: an OTLP event, a Jaeger log, a
/// Zipkin annotation.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Event {
    /// When, absolute.
    pub time: Nanos,
    /// What (for exceptions, by convention, `exception`).
    pub name: StrId,
    /// The event's attributes, in [`Trace::attrs_in`](super::Trace::attrs_in).
    pub attrs: Range32,
}

/// An error event linked to the trace (Sentry's errors and orphan errors).
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct ErrorRef {
    /// The span it happened in, when it names one that is in the trace.
    pub span: Option<SpanIdx>,
    /// When, if known.
    pub time: Option<Nanos>,
    /// The error's title (`KeyError: 'view'`).
    pub title: StrId,
    /// The back-end's id for the error event or issue.
    pub event_id: StrId,
    /// Severity (`error`, `warning`, ...), may be empty.
    pub level: StrId,
}

/// One span of a built trace. Times are absolute nanoseconds; see
/// [`Trace::offset`](super::Trace::offset) for times relative to the trace.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Span {
    /// The span's id.
    pub id: SpanId,
    /// The parent id the format gave, whether or not that span is in the trace.
    pub parent_id: Option<SpanId>,
    /// The trace id the span carried.
    pub trace_id: TraceId,
    /// Start, absolute.
    pub start: Nanos,
    /// End, absolute (the trace's end for [`SpanFlags::OPEN`] spans).
    pub end: Nanos,
    /// The parent's index, or `None` for roots and orphans.
    pub parent: Option<SpanIdx>,
    /// Depth below its root (roots are 0).
    pub depth: u32,
    /// One past the last index of this span's subtree.
    pub subtree_end: SpanIdx,
    /// Human-readable name or description (`GET /users`, `SELECT ...`).
    pub name: StrId,
    /// Operation category (`http.server`, `db.query`, `celery.task`).
    pub op: StrId,
    /// The service or process that recorded it.
    pub service: StrId,
    /// The transaction (Sentry) or root operation the span belongs to, may be empty.
    pub transaction: StrId,
    /// The format's status text, may be empty.
    pub status_message: StrId,
    /// The span's attributes, in [`Trace::attrs_in`](super::Trace::attrs_in).
    pub attrs: Range32,
    /// Its resource's (process's) attributes, shared with the other spans of that resource.
    pub resource: Range32,
    /// The span's events, in [`Trace::events_in`](super::Trace::events_in).
    pub events: Range32,
    /// Client, server, ...
    pub kind: SpanKind,
    /// Ok, error or unset.
    pub status: Status,
    /// What the builder noticed.
    pub flags: SpanFlags,
}

impl Span {
    /// End minus start.
    pub fn duration(&self) -> Nanos {
        self.end - self.start
    }

    /// Whether the span failed.
    pub fn is_error(&self) -> bool {
        self.status == Status::Error
    }
}
