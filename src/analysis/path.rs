//! Where the time went: the critical path to a moment, self times, and uninstrumented gaps.
//!
//! The critical path is the chain of spans that decided when something happened. It is found
//! the way Jaeger finds it, walking back in time: inside a span, the child that finished last
//! before the current moment is what the span was waiting for, so the path descends into it;
//! before that child started, the span (or an earlier child) was on the path again. When a span
//! has nothing left, the path climbs to its parent at the span's start. The walk stops at the
//! span the clock started at, or at the clock's time.
//!
//! A *gap* is time on the path where nothing instrumented ran: a span with children that was
//! running while none of its children was (code without spans), or the wait after a span ended
//! and before a child it caused began (a task sitting in a queue between its publish span and
//! its consumer span).
//!
//! Everything here is O(spans log spans) with a handful of allocations, whatever the trace size.

use crate::model::{Nanos, SpanIdx, Trace};

/// What a span was doing during a piece of the critical path.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SegmentKind {
    /// The span was running and none of its children on the path was (its self time).
    Own,
    /// The span had ended and the child it caused (a queued task, a callback) had not started.
    Wait,
}

/// One piece of the critical path.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize)]
pub struct Segment {
    /// The span the time belongs to.
    pub span: SpanIdx,
    /// Start, absolute.
    pub start: Nanos,
    /// End, absolute.
    pub end: Nanos,
    /// Running, or waiting for its child to start.
    pub kind: SegmentKind,
}

impl Segment {
    /// End minus start.
    pub fn duration(&self) -> Nanos {
        self.end - self.start
    }
}

/// Time on the critical path where no instrumented work ran.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize)]
pub struct Gap {
    /// Start, absolute.
    pub start: Nanos,
    /// End, absolute.
    pub end: Nanos,
    /// The span whose children leave the gap: it was running with no child running
    /// ([`SegmentKind::Own`]), or it had ended before its child started ([`SegmentKind::Wait`]).
    pub parent: SpanIdx,
    /// Inside the parent, or after it ended.
    pub kind: SegmentKind,
    /// The span whose end opens the gap (a child that finished, or the parent itself for a
    /// wait); `None` when the gap opens at the parent's start.
    pub before: Option<SpanIdx>,
    /// The span whose start closes the gap; `None` when it closes at the parent's end.
    pub after: Option<SpanIdx>,
}

impl Gap {
    /// End minus start.
    pub fn duration(&self) -> Nanos {
        self.end - self.start
    }
}

/// The critical path to a moment, with its gaps.
#[derive(Clone, PartialEq, Debug, Default, serde::Serialize)]
pub struct CriticalPath {
    /// The pieces, in time order, none empty.
    pub segments: Vec<Segment>,
    /// The gaps on the path, longest first.
    pub gaps: Vec<Gap>,
    /// Whether the path reaches back to the clock (it does not when the measured span is not
    /// below the span the clock started at).
    pub complete: bool,
}

impl CriticalPath {
    /// The path that led to `time` (an edge of span `from`), back to `clock_span` or to
    /// `clock_time`, whichever comes first.
    pub fn to(trace: &Trace, from: SpanIdx, time: Nanos, clock_span: SpanIdx, clock_time: Nanos) -> CriticalPath {
        if trace.is_empty() || time <= clock_time {
            return CriticalPath { complete: time <= clock_time, ..CriticalPath::default() };
        }
        Walk::new(trace, clock_span, clock_time).run(from, time)
    }

    /// How long each span held the path (running, or waiting for its child), longest first:
    /// the spans to look at first.
    pub fn totals(&self) -> Vec<(SpanIdx, SegmentKind, Nanos)> {
        let mut pieces: Vec<(SpanIdx, SegmentKind, Nanos)> =
            self.segments.iter().map(|s| (s.span, s.kind, s.duration())).collect();
        pieces.sort_unstable_by_key(|p| (p.0, p.1 == SegmentKind::Wait));
        pieces.dedup_by(|later, kept| {
            let same = later.0 == kept.0 && later.1 == kept.1;
            if same {
                kept.2 += later.2;
            }
            same
        });
        pieces.sort_by_key(|p| std::cmp::Reverse(p.2));
        pieces
    }
}

/// Each span's self time: its duration minus the time any of its children ran inside it.
/// Children running past their parent's end count only inside the parent. O(spans).
pub fn self_times(trace: &Trace) -> Vec<Nanos> {
    let spans = trace.spans();
    let mut out = Vec::with_capacity(spans.len());
    for (i, span) in spans.iter().enumerate() {
        let (mut covered, mut run): (Nanos, Option<(Nanos, Nanos)>) = (0, None);
        for c in trace.children(i as SpanIdx) {
            let c = trace.span(c);
            let (s, e) = (c.start.max(span.start), c.end.min(span.end));
            if e <= s {
                continue;
            }
            run = match run {
                Some((rs, re)) if s <= re => Some((rs, re.max(e))),
                Some((rs, re)) => {
                    covered += re - rs;
                    Some((s, e))
                }
                None => Some((s, e)),
            };
        }
        covered += run.map_or(0, |(s, e)| e - s);
        out.push(span.duration() - covered);
    }
    out
}

/// Every span's children, each list latest-ending first: the order the walk consumes them in.
struct ChildrenByEnd {
    offsets: Vec<u32>,
    list: Vec<SpanIdx>,
}

impl ChildrenByEnd {
    fn new(trace: &Trace) -> Self {
        let n = trace.len();
        let mut offsets = Vec::with_capacity(n + 1);
        let mut list = Vec::with_capacity(n);
        for p in 0..n as SpanIdx {
            offsets.push(list.len() as u32);
            let from = list.len();
            list.extend(trace.children(p));
            list[from..].sort_unstable_by_key(|&c| {
                let s = trace.span(c);
                std::cmp::Reverse((s.end, s.start, c))
            });
        }
        offsets.push(list.len() as u32);
        ChildrenByEnd { offsets, list }
    }

    fn of(&self, p: SpanIdx) -> &[SpanIdx] {
        &self.list[self.offsets[p as usize] as usize..self.offsets[p as usize + 1] as usize]
    }
}

/// A span the walk is inside, with how far through its children it has got.
struct Frame {
    span: SpanIdx,
    /// Next child to consider, in [`ChildrenByEnd`] order.
    cursor: usize,
    /// The earliest start among the children passed so far (all end after the walk's moment),
    /// and which child that is: the time from which some child covers the moment.
    earliest: Option<(Nanos, SpanIdx)>,
    /// The child the walk climbed out of, never to be entered again.
    exclude: Option<SpanIdx>,
}

impl Frame {
    fn new(span: SpanIdx, exclude: Option<SpanIdx>) -> Self {
        Frame { span, cursor: 0, earliest: None, exclude }
    }
}

struct Walk<'t> {
    trace: &'t Trace,
    by_end: ChildrenByEnd,
    clock_span: SpanIdx,
    floor: Nanos,
    segments: Vec<Segment>,
    gaps: Vec<Gap>,
}

impl<'t> Walk<'t> {
    fn new(trace: &'t Trace, clock_span: SpanIdx, floor: Nanos) -> Self {
        Walk { trace, by_end: ChildrenByEnd::new(trace), clock_span, floor, segments: Vec::new(), gaps: Vec::new() }
    }

    fn run(mut self, from: SpanIdx, time: Nanos) -> CriticalPath {
        let trace = self.trace;
        let mut stack = vec![Frame::new(from, None)];
        // The walk's moment, and the span that starts at it (`None`: the current span ends there).
        let mut bound = time.min(trace.span(from).end);
        let mut next: Option<SpanIdx> = None;
        let complete = loop {
            let Some(frame) = stack.last_mut() else { break false };
            let p = frame.span;
            let kids = self.by_end.of(p);
            while let Some(&c) = kids.get(frame.cursor) {
                let child = trace.span(c);
                if child.end <= bound && Some(c) != frame.exclude {
                    break;
                }
                if frame.earliest.is_none_or(|(s, _)| child.start < s) {
                    frame.earliest = Some((child.start, c));
                }
                frame.cursor += 1;
            }
            let lowest = trace.span(p).start.max(self.floor);
            if let Some(&c) = kids.get(frame.cursor).filter(|&&c| trace.span(c).end > lowest) {
                let child = trace.span(c);
                let earliest = frame.earliest;
                frame.cursor += 1;
                if frame.earliest.is_none_or(|(s, _)| child.start < s) {
                    frame.earliest = Some((child.start, c));
                }
                self.own(p, child.end, bound, Some(c), next, earliest);
                stack.push(Frame::new(c, None));
                bound = child.end;
                next = None;
                continue;
            }
            let earliest = frame.earliest;
            self.own(p, lowest, bound, None, next, earliest);
            let span = trace.span(p);
            if p == self.clock_span || span.start <= self.floor {
                break true;
            }
            let Some(parent) = span.parent else { break false };
            stack.pop();
            bound = bound.min(span.start);
            next = Some(p);
            if stack.last().map(|f| f.span) != Some(parent) {
                stack.push(Frame::new(parent, Some(p)));
            }
            let parent_end = trace.span(parent).end;
            if bound > parent_end {
                let start = parent_end.max(self.floor);
                self.push(Segment { span: parent, start, end: bound, kind: SegmentKind::Wait });
                self.gap(Gap { start, end: bound, parent, kind: SegmentKind::Wait, before: Some(parent), after: next });
                bound = start;
                next = None;
                if start <= self.floor {
                    break true;
                }
            }
        };
        self.segments.reverse();
        self.gaps.sort_by_key(|g| (std::cmp::Reverse(g.duration()), g.start));
        CriticalPath { segments: self.segments, gaps: self.gaps, complete }
    }

    /// Records span `p` running over `[start, end)` with no child on the path, and the part of
    /// that time no child of `p` ran at all (when `p` has children inside it). `earliest` is the first start among `p`'s children
    /// that end after `end`: from there on some child was running.
    fn own(
        &mut self,
        p: SpanIdx,
        start: Nanos,
        end: Nanos,
        before: Option<SpanIdx>,
        after: Option<SpanIdx>,
        earliest: Option<(Nanos, SpanIdx)>,
    ) {
        self.push(Segment { span: p, start, end, kind: SegmentKind::Own });
        // A span whose children all start after it ended (a publish) did its own work; only
        // time not covered inside a span that did hand work to children is a gap.
        let span_end = self.trace.span(p).end;
        if self.trace.children(p).next().is_none_or(|c| self.trace.span(c).start >= span_end) {
            return;
        }
        let (gap_end, after) = match earliest {
            Some((s, c)) if s < end => (s, Some(c)),
            _ => (end, after),
        };
        self.gap(Gap { start, end: gap_end, parent: p, kind: SegmentKind::Own, before, after });
    }

    fn push(&mut self, segment: Segment) {
        if segment.end > segment.start {
            self.segments.push(segment);
        }
    }

    fn gap(&mut self, gap: Gap) {
        if gap.end > gap.start {
            self.gaps.push(gap);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::{MS, TestSpan, build, idx};

    /// The path as `(span id, start ms, end ms, kind)`.
    fn pieces(trace: &Trace, path: &CriticalPath) -> Vec<(u64, Nanos, Nanos, SegmentKind)> {
        path.segments.iter().map(|s| (trace.span(s.span).id.get(), s.start / MS, s.end / MS, s.kind)).collect()
    }

    fn id(trace: &Trace, i: Option<SpanIdx>) -> Option<u64> {
        i.map(|i| trace.span(i).id.get())
    }

    #[test]
    fn walks_back_through_the_last_finishing_children() {
        // root 0..100: a 10..40 (with a1 15..35), b 20..60 overlapping a, c 70..90; the root's
        // response at 100 waited on c, before that on b, before b started on root itself.
        let t = build(&[
            TestSpan::new(1, None, 0, 100),
            TestSpan::new(2, Some(1), 10, 40),
            TestSpan::new(3, Some(2), 15, 35),
            TestSpan::new(4, Some(1), 20, 60),
            TestSpan::new(5, Some(1), 70, 90),
        ]);
        let root = idx(&t, 1);
        let path = CriticalPath::to(&t, root, 100 * MS, root, 0);
        use SegmentKind::Own;
        assert_eq!(
            pieces(&t, &path),
            vec![(1, 0, 20, Own), (4, 20, 60, Own), (1, 60, 70, Own), (5, 70, 90, Own), (1, 90, 100, Own)]
        );
        assert!(path.complete);
        // Gaps: root with no child running 60..70, 90..100, 0..10 (10..20 had span 2 running).
        let gaps: Vec<_> = path.gaps.iter().map(|g| (g.start / MS, g.end / MS)).collect();
        assert_eq!(gaps, vec![(0, 10), (60, 70), (90, 100)]);
        let first = path.gaps[0];
        assert_eq!((id(&t, first.before), id(&t, first.after)), (None, Some(2)));
        assert_eq!((id(&t, path.gaps[1].before), id(&t, path.gaps[1].after)), (Some(4), Some(5)));
        assert_eq!((id(&t, path.gaps[2].before), id(&t, path.gaps[2].after)), (Some(5), None));
    }

    #[test]
    fn async_children_after_the_parent_ended_are_waits() {
        // The incident's shape: the front span acks at 500 ms; it published a task at 100..120;
        // the task starts in the worker at 2900 and calls views.open at 3200.
        let t = build(&[
            TestSpan::new(1, None, 0, 500).name("POST /slack/interactions"),
            TestSpan::new(2, Some(1), 100, 120).name("publish"),
            TestSpan::new(3, Some(2), 2900, 4000).name("task"),
            TestSpan::new(4, Some(3), 2950, 3000).name("SELECT"),
            TestSpan::new(5, Some(3), 3200, 3300).name("views.open"),
        ]);
        let open = idx(&t, 5);
        let path = CriticalPath::to(&t, open, t.span(open).start, idx(&t, 1), 0);
        use SegmentKind::{Own, Wait};
        assert_eq!(
            pieces(&t, &path),
            vec![
                (1, 0, 100, Own),
                (2, 100, 120, Own),
                (2, 120, 2900, Wait),
                (3, 2900, 2950, Own),
                (4, 2950, 3000, Own),
                (3, 3000, 3200, Own)
            ]
        );
        assert!(path.complete);
        let wait = path.gaps[0];
        assert_eq!((wait.start / MS, wait.end / MS, wait.kind), (120, 2900, Wait));
        assert_eq!((id(&t, wait.before), id(&t, wait.after)), (Some(2), Some(3)));
        // The task had children, so its own time without one running is a gap too.
        assert_eq!((path.gaps[1].start / MS, path.gaps[1].end / MS), (3000, 3200));
        assert_eq!(id(&t, path.gaps[1].after), Some(5));
        let publish = idx(&t, 2);
        assert!(
            !path.gaps.iter().any(|g| g.parent == publish && g.kind == Own),
            "the publish span's own work is no gap"
        );
        let totals = path.totals();
        assert_eq!((t.span(totals[0].0).id.get(), totals[0].1, totals[0].2 / MS), (2, Wait, 2780));
        assert_eq!((t.span(totals[1].0).id.get(), totals[1].2 / MS), (3, 250), "own time summed over pieces");
    }

    #[test]
    fn children_still_running_at_the_moment_are_skipped_and_the_walk_stops_at_the_clock() {
        // Measured at 50: child 2 (ends 80) was still running and cannot have delayed it.
        let t = build(&[
            TestSpan::new(1, None, 0, 100),
            TestSpan::new(2, Some(1), 10, 80),
            TestSpan::new(3, Some(1), 5, 8),
        ]);
        let root = idx(&t, 1);
        let path = CriticalPath::to(&t, root, 50 * MS, root, 0);
        assert_eq!(
            pieces(&t, &path),
            vec![(1, 0, 5, SegmentKind::Own), (3, 5, 8, SegmentKind::Own), (1, 8, 50, SegmentKind::Own)]
        );
        // 8..10 nobody ran; from 10 child 2 did.
        assert_eq!(path.gaps.iter().map(|g| (g.start / MS, g.end / MS)).collect::<Vec<_>>(), vec![(0, 5), (8, 10)]);
        // A clock starting later cuts the path.
        let later = CriticalPath::to(&t, root, 50 * MS, idx(&t, 2), 20 * MS);
        assert_eq!(pieces(&t, &later), vec![(1, 20, 50, SegmentKind::Own)]);
        assert!(later.complete);
        assert!(CriticalPath::to(&t, root, 10 * MS, root, 20 * MS).segments.is_empty());
    }

    #[test]
    fn a_span_outside_the_clock_span_gives_an_incomplete_path() {
        let t = build(&[
            TestSpan::new(1, None, 0, 100),
            TestSpan::new(2, Some(1), 10, 20),
            TestSpan::new(9, Some(77), 50, 60),
        ]);
        let path = CriticalPath::to(&t, idx(&t, 9), 60 * MS, idx(&t, 1), 0);
        assert_eq!(pieces(&t, &path), vec![(9, 50, 60, SegmentKind::Own)]);
        assert!(!path.complete);
    }

    #[test]
    fn zero_length_siblings_do_not_loop() {
        let t = build(&[
            TestSpan::new(1, None, 0, 10),
            TestSpan::new(2, Some(1), 5, 5),
            TestSpan::new(3, Some(1), 5, 5),
            TestSpan::new(4, Some(1), 5, 5),
        ]);
        let path = CriticalPath::to(&t, idx(&t, 3), 5 * MS, idx(&t, 1), 0);
        assert_eq!(pieces(&t, &path), vec![(1, 0, 5, SegmentKind::Own)]);
        assert!(path.complete);
    }

    #[test]
    fn self_time_subtracts_the_union_of_children_inside_the_span() {
        let t = build(&[
            TestSpan::new(1, None, 0, 100),
            TestSpan::new(2, Some(1), 10, 40),
            TestSpan::new(3, Some(1), 30, 50),
            TestSpan::new(4, Some(1), 90, 300), // async: counts only up to the parent's end
            TestSpan::new(5, Some(2), 10, 20),
        ]);
        let own = self_times(&t);
        let ms = |id| own[idx(&t, id) as usize] / MS;
        assert_eq!((ms(1), ms(2), ms(3), ms(4), ms(5)), (100 - 40 - 10, 20, 20, 210, 10));
    }

    #[test]
    fn long_sequences_and_deep_chains_stay_linear() {
        // 200k sequential children all on the path, then a 100k-deep chain: quadratic work
        // here would not finish.
        let n = 200_000u64;
        let mut spans = vec![TestSpan::new(1, None, 0, 3 * n as Nanos)];
        spans.extend((0..n).map(|i| TestSpan::new(i + 2, Some(1), i as Nanos, i as Nanos + 1)));
        let t = build(&spans);
        let path = CriticalPath::to(&t, 0, t.span(0).end, 0, 0);
        assert_eq!(path.segments.len() as u64, n + 1);
        assert_eq!(self_times(&t)[0], 2 * n as Nanos * MS);

        let depth = 100_000u64;
        let chain: Vec<TestSpan> = (1..=depth)
            .map(|i| TestSpan::new(i, (i > 1).then(|| i - 1), i as Nanos, 3 * depth as Nanos - i as Nanos))
            .collect();
        let t = build(&chain);
        let leaf = idx(&t, depth);
        let path = CriticalPath::to(&t, leaf, t.span(leaf).end, 0, t.span(0).start);
        assert_eq!(path.segments.len() as u64, depth);
        assert!(path.complete);
    }
}
