//! What the waterfall highlights, computed once per trace and deadline profile (never per
//! frame): the deadline and clock start, the spans crossing the deadline, the critical path,
//! uninstrumented gaps and the verdict banner.

use crate::model::{Nanos, SpanIdx, Trace};

/// An interval where nothing was instrumented, shown before the span that ends it.
#[derive(Clone, Debug, PartialEq)]
pub struct GapMark {
    /// The span that starts when the gap ends; the gap is drawn on its row.
    pub before: SpanIdx,
    /// Gap start, relative to the trace start.
    pub start: Nanos,
    /// Gap end, relative to the trace start.
    pub end: Nanos,
}

/// Per-span highlight facts for one trace, as flags indexed by span.
#[derive(Clone, Debug, Default)]
pub struct Overlay {
    /// Where the clock starts, relative to the trace start.
    pub clock_start: Option<Nanos>,
    /// Where the deadline falls, relative to the trace start.
    pub deadline: Option<Nanos>,
    /// The verdict in words ("response at 4.21 s — missed the 3 s deadline by 1.21 s").
    pub banner: String,
    /// Whether the trace met its deadline.
    pub passed: bool,
    /// Spans that run across or past the deadline.
    pub crossing: Vec<bool>,
    /// Spans on the critical path.
    pub critical: Vec<bool>,
    /// The span the verdict hangs on (the late `views.open`, the response).
    pub culprit: Option<SpanIdx>,
    /// Uninstrumented intervals.
    pub gaps: Vec<GapMark>,
    /// How many spans are on the critical path.
    pub critical_len: usize,
}

impl Overlay {
    /// An overlay that highlights nothing, for a trace of `len` spans.
    pub fn empty(len: usize) -> Self {
        Overlay { crossing: vec![false; len], critical: vec![false; len], ..Overlay::default() }
    }

    /// Whether span `idx` crosses the deadline.
    pub fn is_crossing(&self, idx: SpanIdx) -> bool {
        self.crossing.get(idx as usize).copied().unwrap_or(false)
    }

    /// Whether span `idx` is on the critical path.
    pub fn is_critical(&self, idx: SpanIdx) -> bool {
        self.critical.get(idx as usize).copied().unwrap_or(false)
    }

    /// Whether any span is on the critical path.
    pub fn has_critical_path(&self) -> bool {
        self.critical_len > 0
    }

    /// Flags from a list of span indices.
    pub fn flags(trace: &Trace, spans: impl IntoIterator<Item = SpanIdx>) -> Vec<bool> {
        let mut flags = vec![false; trace.len()];
        for idx in spans {
            if let Some(f) = flags.get_mut(idx as usize) {
                *f = true;
            }
        }
        flags
    }
}

/// TEMPORARY
pub fn for_trace(trace: &Trace, _profile: &str) -> Overlay {
    Overlay::empty(trace.len())
}
