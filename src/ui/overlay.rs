//! What the waterfall highlights, computed once per trace and deadline profile (never per
//! frame): the deadline and clock start, the spans crossing the deadline, the critical path,
//! uninstrumented gaps and the verdict banner.

use crate::analysis::{Outcome, Profile, Verdict, analyze};
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
    /// Spans running when the deadline passed.
    pub crossing: Vec<bool>,
    /// Spans that started after the deadline.
    pub after: Vec<bool>,
    /// Spans on the critical path.
    pub critical: Vec<bool>,
    /// The span the verdict hangs on (the late `views.open`, the response).
    pub culprit: Option<SpanIdx>,
    /// Uninstrumented intervals.
    pub gaps: Vec<GapMark>,
    /// How many spans are on the critical path.
    pub critical_len: usize,
    /// Each span's self time (its duration less its children's), by index.
    pub self_time: Vec<Nanos>,
}

impl Overlay {
    /// An overlay that highlights nothing, for a trace of `len` spans.
    pub fn empty(len: usize) -> Self {
        Overlay {
            crossing: vec![false; len],
            after: vec![false; len],
            critical: vec![false; len],
            ..Overlay::default()
        }
    }

    /// Whether span `idx` was running when the deadline passed.
    pub fn is_crossing(&self, idx: SpanIdx) -> bool {
        self.crossing.get(idx as usize).copied().unwrap_or(false)
    }

    /// Whether span `idx` started after the deadline.
    pub fn is_after(&self, idx: SpanIdx) -> bool {
        self.after.get(idx as usize).copied().unwrap_or(false)
    }

    /// Whether span `idx` ran past the deadline (crossing it or starting after it).
    pub fn is_late(&self, idx: SpanIdx) -> bool {
        self.is_crossing(idx) || self.is_after(idx)
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

/// The overlay for `trace` under `profile`. O(spans log spans): run it off the UI thread for big
/// traces.
pub fn for_trace(trace: &Trace, profile: &Profile) -> Overlay {
    from_verdict(trace, &analyze(trace, profile))
}

/// Gaps shorter than this share of the trace are not drawn (they would be invisible anyway).
const GAP_MIN_SHARE: f64 = 0.01;

/// The overlay that draws a verdict.
pub fn from_verdict(trace: &Trace, verdict: &Verdict) -> Overlay {
    let offset = |t: Nanos| trace.offset(t);
    let critical: Vec<SpanIdx> = verdict.path.segments.iter().map(|s| s.span).collect();
    let min_gap = (trace.duration() as f64 * GAP_MIN_SHARE) as Nanos;
    Overlay {
        clock_start: verdict.clock.map(|c| offset(c.time)),
        deadline: verdict.deadline.map(offset),
        banner: verdict.headline(),
        passed: verdict.outcome == Outcome::Pass,
        crossing: Overlay::flags(trace, verdict.crossing.iter().copied()),
        after: Overlay::flags(trace, verdict.after_deadline.iter().copied()),
        critical_len: critical.len(),
        critical: Overlay::flags(trace, critical),
        self_time: verdict.self_time.clone(),
        culprit: (verdict.outcome == Outcome::Miss).then(|| verdict.response_hit().map(|h| h.span)).flatten(),
        gaps: verdict
            .path
            .gaps
            .iter()
            .filter(|g| g.duration() > min_gap)
            .map(|g| GapMark { before: g.after.unwrap_or(g.parent), start: offset(g.start), end: offset(g.end) })
            .collect(),
    }
}
