//! What an importer hands the [`TraceBuilder`](super::TraceBuilder): spans and error events
//! as the file has them, before any tree is known.

use super::{Nanos, Range32, SpanFlags, SpanId, SpanKind, Status, StrId, TraceId};

/// A span as an importer read it, before the tree is known.
#[derive(Clone, Copy, Debug)]
pub struct RawSpan {
    /// The trace it belongs to.
    pub trace_id: TraceId,
    /// Its id.
    pub id: SpanId,
    /// Its parent's id, as written (may name a span that is not in the file).
    pub parent_id: Option<SpanId>,
    /// Start, absolute nanoseconds.
    pub start: Nanos,
    /// End, absolute nanoseconds; `None` for a span that never ended.
    pub end: Option<Nanos>,
    /// Name or description.
    pub name: StrId,
    /// Operation category.
    pub op: StrId,
    /// Service or process.
    pub service: StrId,
    /// Transaction or root operation.
    pub transaction: StrId,
    /// The format's status text.
    pub status_message: StrId,
    /// Client, server, ...
    pub kind: SpanKind,
    /// Ok, error or unset.
    pub status: Status,
    /// Attributes pushed with [`TraceBuilder::push_attr`].
    pub attrs: Range32,
    /// Attributes of the process or resource that recorded it (OTLP resource attributes,
    /// Jaeger process tags), pushed once with [`TraceBuilder::push_attr`] and shared by every
    /// span of that resource.
    pub resource: Range32,
    /// Events pushed with [`TraceBuilder::push_event`].
    pub events: Range32,
    /// What the importer knows about the span ([`SpanFlags::UNTIMED`]); the builder adds its own.
    pub flags: SpanFlags,
}

impl RawSpan {
    /// A span with the given identity and times and every other field empty.
    pub fn new(trace_id: TraceId, id: SpanId, parent_id: Option<SpanId>, start: Nanos, end: Option<Nanos>) -> Self {
        RawSpan {
            trace_id,
            id,
            parent_id,
            start,
            end,
            name: StrId::EMPTY,
            op: StrId::EMPTY,
            service: StrId::EMPTY,
            transaction: StrId::EMPTY,
            status_message: StrId::EMPTY,
            kind: SpanKind::Unspecified,
            status: Status::Unset,
            attrs: Range32::default(),
            resource: Range32::default(),
            events: Range32::default(),
            flags: SpanFlags::default(),
        }
    }
}

/// An error event as an importer read it.
#[derive(Clone, Copy, Debug)]
pub struct RawEvent {
    /// The trace it belongs to.
    pub trace_id: TraceId,
    /// The span it happened in, if known.
    pub span_id: Option<SpanId>,
    /// When, if known.
    pub time: Option<Nanos>,
    /// Title.
    pub title: StrId,
    /// The back-end's id for it.
    pub event_id: StrId,
    /// Severity.
    pub level: StrId,
}
