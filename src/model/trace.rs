//! A built, immutable trace: spans in depth-first order with everything a view needs to
//! walk, search and time them.

use std::fmt;
use std::sync::Arc;

use super::{Attr, ErrorRef, Event, Nanos, Range32, Span, SpanId, SpanIdx, StrId, Strings, TraceId};

/// Something odd about a trace that did not stop it from loading. Shown to the user.
#[derive(Clone, PartialEq, Debug)]
pub enum Warning {
    /// Spans name a parent that is not in the trace; they are shown as roots.
    Orphans {
        /// How many.
        count: usize,
        /// One of them.
        example: SpanId,
        /// The parent it names.
        missing_parent: SpanId,
    },
    /// Several spans share an id; children of that id hang under the first.
    DuplicateIds {
        /// How many spans repeat an id seen before.
        count: usize,
        /// One repeated id.
        example: SpanId,
    },
    /// Spans start before their parent: the hosts' clocks disagree. Times are shown as recorded.
    ClockSkew {
        /// How many spans.
        count: usize,
        /// The largest gap, in nanoseconds, by which a child starts before its parent.
        worst: Nanos,
        /// The span with the largest gap.
        example: SpanId,
    },
    /// Spans that never ended; they are drawn up to the trace's end.
    OpenSpans {
        /// How many.
        count: usize,
    },
    /// Spans whose end came before their start; they were made zero-length.
    EndBeforeStart {
        /// How many.
        count: usize,
        /// One of them.
        example: SpanId,
    },
    /// A format-specific note from the importer (an `E` without a `B`, ...).
    Import(String),
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Orphans { count, example, missing_parent } => write!(
                f,
                "{count} span(s) name a parent that is not in the trace (e.g. {example} → missing {missing_parent}); shown as roots"
            ),
            Warning::DuplicateIds { count, example } => {
                write!(f, "{count} span(s) repeat an id already used (e.g. {example})")
            }
            Warning::ClockSkew { count, worst, example } => write!(
                f,
                "{count} span(s) start before their parent (clock skew; worst {} at {example}); times shown as recorded",
                crate::model::format_duration(*worst)
            ),
            Warning::OpenSpans { count } => {
                write!(f, "{count} span(s) never ended; drawn up to the end of the trace")
            }
            Warning::EndBeforeStart { count, example } => {
                write!(f, "{count} span(s) end before they start (e.g. {example}); made zero-length")
            }
            Warning::Import(note) => f.write_str(note),
        }
    }
}

/// A whole trace, built by [`TraceBuilder`](super::TraceBuilder). Cheap to share: wrap it in
/// an `Arc` and hand it to any thread.
#[derive(Debug)]
pub struct Trace {
    pub(super) trace_id: TraceId,
    pub(super) spans: Vec<Span>,
    pub(super) attrs: Arc<Vec<Attr>>,
    pub(super) events: Arc<Vec<Event>>,
    pub(super) errors: Vec<ErrorRef>,
    pub(super) strings: Arc<Strings>,
    pub(super) roots: Vec<SpanIdx>,
    /// `(id, index)` sorted by id, for lookups by id.
    pub(super) by_id: Vec<(SpanId, SpanIdx)>,
    pub(super) warnings: Vec<Warning>,
    pub(super) start: Nanos,
    pub(super) end: Nanos,
}

impl Trace {
    /// The trace id (of its first root, when spans disagree under lenient matching).
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// All spans, depth-first: every parent before its children, siblings by start time.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// Number of spans.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether the trace has no spans.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// One span.
    pub fn span(&self, idx: SpanIdx) -> &Span {
        &self.spans[idx as usize]
    }

    /// The spans with no parent in the trace, by start time.
    pub fn roots(&self) -> &[SpanIdx] {
        &self.roots
    }

    /// A span's direct children, by start time. Walks the depth-first layout: O(children).
    pub fn children(&self, idx: SpanIdx) -> Children<'_> {
        let span = self.span(idx);
        Children { spans: &self.spans, next: idx + 1, end: span.subtree_end }
    }

    /// The text of an interned string.
    pub fn str(&self, id: StrId) -> &str {
        self.strings.get(id)
    }

    /// The trace's string table.
    pub fn strings(&self) -> &Strings {
        &self.strings
    }

    /// A span's attributes.
    pub fn attrs(&self, idx: SpanIdx) -> &[Attr] {
        self.attrs_in(self.span(idx).attrs)
    }

    /// The attributes of the resource (process) that recorded a span.
    pub fn resource(&self, idx: SpanIdx) -> &[Attr] {
        self.attrs_in(self.span(idx).resource)
    }

    /// Attributes in a range (a span's or an event's).
    pub fn attrs_in(&self, range: Range32) -> &[Attr] {
        &self.attrs[range.as_range()]
    }

    /// A span's events.
    pub fn events(&self, idx: SpanIdx) -> &[Event] {
        self.events_in(self.span(idx).events)
    }

    /// Events in a range.
    pub fn events_in(&self, range: Range32) -> &[Event] {
        &self.events[range.as_range()]
    }

    /// The string value of a span's attribute, if it has one with that key and it is text.
    pub fn attr_str(&self, idx: SpanIdx, key: &str) -> Option<&str> {
        self.attrs(idx).iter().find_map(|a| match a.value {
            super::AttrValue::Str(v) if self.str(a.key) == key => Some(self.str(v)),
            _ => None,
        })
    }

    /// A span's id as its file wrote it: the text of an id that was not hex
    /// ([`WRITTEN_SPAN_ID`](super::WRITTEN_SPAN_ID)), else 16 hex digits.
    pub fn written_id(&self, idx: SpanIdx) -> String {
        self.attr_str(idx, super::WRITTEN_SPAN_ID).map_or_else(|| self.span(idx).id.to_string(), str::to_owned)
    }

    /// Error events linked to the trace, in the order the format gave them.
    pub fn errors(&self) -> &[ErrorRef] {
        &self.errors
    }

    /// What was odd about the trace.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The earliest span start, absolute.
    pub fn start(&self) -> Nanos {
        self.start
    }

    /// The latest span end, absolute.
    pub fn end(&self) -> Nanos {
        self.end
    }

    /// End minus start.
    pub fn duration(&self) -> Nanos {
        self.end - self.start
    }

    /// A time relative to the trace's start.
    pub fn offset(&self, time: Nanos) -> Nanos {
        time - self.start
    }

    /// The first span (depth-first) with this id.
    pub fn find(&self, id: SpanId) -> Option<SpanIdx> {
        let at = self.by_id.partition_point(|(k, _)| *k < id);
        self.by_id.get(at).filter(|(k, _)| *k == id).map(|(_, i)| *i)
    }

    /// The chain from a span up to its root, the span first.
    pub fn ancestors(&self, idx: SpanIdx) -> impl Iterator<Item = SpanIdx> + '_ {
        std::iter::successors(Some(idx), |&i| self.span(i).parent)
    }
}

/// Iterator over a span's direct children; see [`Trace::children`].
pub struct Children<'a> {
    spans: &'a [Span],
    next: SpanIdx,
    end: SpanIdx,
}

impl Iterator for Children<'_> {
    type Item = SpanIdx;

    fn next(&mut self) -> Option<SpanIdx> {
        if self.next >= self.end {
            return None;
        }
        let child = self.next;
        self.next = self.spans[child as usize].subtree_end;
        Some(child)
    }
}

/// A span moved by [`Trace::skew_adjusted`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SkewShift {
    /// The span that started before its parent.
    pub span: SpanIdx,
    /// How far it (and its subtree) moved later, in nanoseconds.
    pub by: Nanos,
}

impl Trace {
    /// A copy in which every span that starts before its parent is moved, with its subtree and
    /// events, to start with the parent (what clock-skew correction in Zipkin and Jaeger does).
    /// Returns the copy and the spans that moved; times stay raw in `self`.
    pub fn skew_adjusted(&self) -> (Trace, Vec<SkewShift>) {
        let mut spans = self.spans.clone();
        let mut shift = vec![0 as Nanos; spans.len()];
        let mut moved = Vec::new();
        for i in 0..spans.len() {
            let inherited = spans[i].parent.map_or(0, |p| shift[p as usize]);
            let start = spans[i].start + inherited;
            let own = spans[i].parent.map_or(0, |p| (spans[p as usize].start - start).max(0));
            if own > 0 {
                moved.push(SkewShift { span: i as SpanIdx, by: own });
            }
            shift[i] = inherited + own;
            spans[i].start += shift[i];
            spans[i].end += shift[i];
        }
        let mut events = (*self.events).clone();
        for (span, &by) in spans.iter().zip(&shift) {
            for event in &mut events[span.events.as_range()] {
                event.time += by;
            }
        }
        let mut warnings: Vec<Warning> =
            self.warnings.iter().filter(|w| !matches!(w, Warning::ClockSkew { .. })).cloned().collect();
        if !moved.is_empty() {
            warnings.push(Warning::Import(format!(
                "clock skew adjusted: {} span(s) moved later to start with their parent; raw times are in the unadjusted view",
                moved.len()
            )));
        }
        let start = spans.iter().map(|s| s.start).min().unwrap_or(0);
        let end = spans.iter().map(|s| s.end).max().unwrap_or(0);
        let adjusted = Trace {
            trace_id: self.trace_id,
            spans,
            attrs: Arc::clone(&self.attrs),
            events: Arc::new(events),
            errors: self.errors.clone(),
            strings: Arc::clone(&self.strings),
            roots: self.roots.clone(),
            by_id: self.by_id.clone(),
            warnings,
            start,
            end,
        };
        (adjusted, moved)
    }
}
