//! Linking, ordering and indexing the spans of each trace: the second half of
//! [`TraceBuilder::build`](super::TraceBuilder::build), on as many threads as rayon's pool has.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use super::build_error::BuildError;
use super::raw::RawSpan;
use super::{Attr, Event, Span, SpanFlags, SpanId, SpanIdx, Strings, Trace, TraceId, Warning};

/// A hash map with a fast hasher.
pub(super) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

const NONE: u32 = u32::MAX;

/// Groups span indices by trace id, in order of first appearance. Spans of one trace mostly
/// come together, so a span with the same trace id as the one before skips the maps.
pub(super) fn group_by_trace(spans: &[RawSpan]) -> Vec<(TraceId, Vec<u32>)> {
    let mut long_ids: FastMap<u64, TraceId> = FastMap::default();
    let mut last = None;
    for span in spans.iter().filter(|s| s.trace_id.0 >> 64 != 0) {
        if last != Some(span.trace_id) {
            long_ids.insert(span.trace_id.low64(), span.trace_id);
            last = Some(span.trace_id);
        }
    }
    let key = |id: TraceId| if id.0 >> 64 == 0 { long_ids.get(&id.low64()).copied().unwrap_or(id) } else { id };
    let mut slot: FastMap<TraceId, usize> = FastMap::default();
    let mut groups: Vec<(TraceId, Vec<u32>)> = Vec::new();
    let mut last: Option<(TraceId, usize)> = None;
    for (i, span) in spans.iter().enumerate() {
        let g = match last {
            Some((raw_id, g)) if raw_id == span.trace_id => g,
            _ => {
                let id = key(span.trace_id);
                let g = *slot.entry(id).or_insert_with(|| {
                    groups.push((id, Vec::new()));
                    groups.len() - 1
                });
                last = Some((span.trace_id, g));
                g
            }
        };
        groups[g].1.push(i as u32);
    }
    groups
}

/// Traces with at least this many spans sort their id index on another thread; smaller
/// ones are built in two halves instead (a task per small trace would cost more than it saves).
const PARALLEL_SPANS: usize = 1 << 15;

pub(super) struct Shared<'a> {
    pub spans: &'a [RawSpan],
    pub strings: &'a Arc<Strings>,
    pub attrs: &'a Arc<Vec<Attr>>,
    pub events: &'a Arc<Vec<Event>>,
    pub notes: &'a [String],
    pub trace_notes: &'a FastMap<TraceId, Vec<String>>,
}

impl Shared<'_> {
    /// Builds every group's trace, in group order; the first cycle found is the error. Small
    /// traces are shared out between two threads by span count.
    pub(super) fn build_all(&self, groups: &[(TraceId, Vec<u32>)]) -> Result<Vec<Trace>, BuildError> {
        let build = |groups: &[(TraceId, Vec<u32>)]| -> Vec<Result<Trace, BuildError>> {
            groups.iter().map(|(trace_id, members)| self.build_one(*trace_id, members)).collect()
        };
        let total: usize = groups.iter().map(|(_, m)| m.len()).sum();
        let small = groups.iter().all(|(_, m)| m.len() < PARALLEL_SPANS);
        let results = if groups.len() > 1 && small && total >= PARALLEL_SPANS {
            let mut seen = 0;
            let split = groups.partition_point(|(_, m)| {
                seen += m.len();
                seen <= total / 2
            });
            let (head, tail) = groups.split_at(split);
            let (mut first, second) = rayon::join(|| build(head), || build(tail));
            first.extend(second);
            first
        } else {
            build(groups)
        };
        results.into_iter().collect()
    }

    /// Builds the trace made of `members` (indices into `spans`). For a big trace the id
    /// index is sorted on a second thread while this one links and orders the tree.
    fn build_one(&self, trace_id: TraceId, members: &[u32]) -> Result<Trace, BuildError> {
        let ids_by_local = || {
            let mut ids: Vec<(SpanId, u32)> =
                members.iter().enumerate().map(|(local, &i)| (self.spans[i as usize].id, local as u32)).collect();
            ids.sort_unstable();
            ids
        };
        let (assembled, mut by_id) = if members.len() >= PARALLEL_SPANS {
            rayon::join(|| self.assemble(trace_id, members), ids_by_local)
        } else {
            (self.assemble(trace_id, members), ids_by_local())
        };
        let (mut trace, position) = assembled?;
        for (_, idx) in &mut by_id {
            *idx = position[*idx as usize];
        }
        // Spans sharing an id must be ordered by position, so that `find` returns the first.
        if trace.warnings.iter().any(|w| matches!(w, Warning::DuplicateIds { .. })) {
            by_id.sort_unstable();
        }
        trace.by_id = by_id;
        Ok(trace)
    }

    /// Links, orders and copies the spans of one trace, leaving its id index empty; returns
    /// the trace and each member's position in it.
    fn assemble(&self, trace_id: TraceId, members: &[u32]) -> Result<(Trace, Vec<SpanIdx>), BuildError> {
        let raw = |local: u32| &self.spans[members[local as usize] as usize];
        let n = members.len();
        let own_notes = self.trace_notes.get(&trace_id).into_iter().flatten();
        let mut warnings: Vec<Warning> = self.notes.iter().chain(own_notes).cloned().map(Warning::Import).collect();
        let mut flags = vec![SpanFlags::default(); n];

        // Link parents by id; the first span with an id owns it.
        let mut owner: FastMap<SpanId, u32> = FastMap::with_capacity_and_hasher(n, Default::default());
        let mut duplicates = 0;
        for local in 0..n as u32 {
            if let Entry::Vacant(slot) = owner.entry(raw(local).id) {
                slot.insert(local);
                continue;
            }
            flags[local as usize].insert(SpanFlags::DUPLICATE_ID);
            duplicates += 1;
        }
        let mut parent = vec![NONE; n];
        let mut orphans = 0;
        for local in 0..n as u32 {
            let Some(pid) = raw(local).parent_id else { continue };
            match owner.get(&pid) {
                Some(&p) if p != local => parent[local as usize] = p,
                _ => {
                    flags[local as usize].insert(SpanFlags::ORPHAN);
                    orphans += 1;
                }
            }
        }
        drop(owner);

        // Children lists (counting sort), each ordered by start time then file order.
        let mut offsets = vec![0u32; n + 1];
        for &p in &parent {
            if p != NONE {
                offsets[p as usize + 1] += 1;
            }
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut children = vec![0u32; offsets[n] as usize];
        let mut roots = Vec::new();
        for (local, &p) in parent.iter().enumerate() {
            if p == NONE {
                roots.push(local as u32);
            } else {
                children[fill[p as usize] as usize] = local as u32;
                fill[p as usize] += 1;
            }
        }
        drop(fill);
        let by_start = |a: &u32, b: &u32| (raw(*a).start, *a).cmp(&(raw(*b).start, *b));
        roots.sort_unstable_by(by_start);
        for i in 0..n {
            children[offsets[i] as usize..offsets[i + 1] as usize].sort_unstable_by(by_start);
        }

        // Depth-first pre-order from the roots.
        let mut order: Vec<u32> = Vec::with_capacity(n);
        let mut stack: Vec<u32> = roots.iter().rev().copied().collect();
        while let Some(local) = stack.pop() {
            order.push(local);
            let kids = &children[offsets[local as usize] as usize..offsets[local as usize + 1] as usize];
            stack.extend(kids.iter().rev());
        }
        if order.len() < n {
            return Err(BuildError::Cycle { spans: find_cycle(&order, &parent, |l| raw(l).id) });
        }
        // A warning's example is the first such span depth-first (the topmost in the waterfall),
        // whatever the order of the file.
        let first_flagged = |flag| order.iter().find(|&&l| flags[l as usize].contains(flag)).map(|&l| raw(l));
        if let Some(span) = first_flagged(SpanFlags::DUPLICATE_ID) {
            warnings.push(Warning::DuplicateIds { count: duplicates, example: span.id });
        }
        if let Some(span) = first_flagged(SpanFlags::ORPHAN)
            && let Some(missing_parent) = span.parent_id
        {
            warnings.push(Warning::Orphans { count: orphans, example: span.id, missing_parent });
        }
        drop(children);
        drop(offsets);

        let mut position = vec![0u32; n];
        for (pos, &local) in order.iter().enumerate() {
            position[local as usize] = pos as u32;
        }
        let start = order.iter().map(|&l| raw(l).start).min().unwrap_or(0);
        let end = order.iter().map(|&l| raw(l).end.unwrap_or(raw(l).start).max(raw(l).start)).max().unwrap_or(0);

        let mut built: Vec<Span> = Vec::with_capacity(n);
        let (mut open, mut inverted, mut skewed) = (0usize, (0usize, None), (0usize, 0, None));
        for &local in &order {
            let r = raw(local);
            let mut f = flags[local as usize];
            f.insert(r.flags);
            let span_end = match r.end {
                None => {
                    f.insert(SpanFlags::OPEN);
                    open += 1;
                    end.max(r.start)
                }
                Some(e) if e < r.start => {
                    f.insert(SpanFlags::END_BEFORE_START);
                    inverted = (inverted.0 + 1, inverted.1.or(Some(r.id)));
                    r.start
                }
                Some(e) => e,
            };
            let parent_pos = (parent[local as usize] != NONE).then(|| position[parent[local as usize] as usize]);
            let depth = parent_pos.map_or(0, |p| built[p as usize].depth + 1);
            if let Some(p) = parent_pos {
                let gap = built[p as usize].start - r.start;
                if gap > 0 {
                    f.insert(SpanFlags::SKEWED);
                    skewed.0 += 1;
                    if gap > skewed.1 {
                        skewed = (skewed.0, gap, Some(r.id));
                    }
                }
            }
            built.push(Span {
                id: r.id,
                parent_id: r.parent_id,
                trace_id: r.trace_id,
                start: r.start,
                end: span_end,
                parent: parent_pos,
                depth,
                subtree_end: 0,
                name: r.name,
                op: r.op,
                service: r.service,
                transaction: r.transaction,
                status_message: r.status_message,
                attrs: r.attrs,
                resource: r.resource,
                events: r.events,
                kind: r.kind,
                status: r.status,
                flags: f,
            });
        }
        // Subtree ends: a span's subtree ends where the next span at its depth or shallower starts.
        let mut open_stack: Vec<SpanIdx> = Vec::new();
        for pos in 0..n as u32 {
            let depth = built[pos as usize].depth;
            while let Some(&top) = open_stack.last() {
                if built[top as usize].depth < depth {
                    break;
                }
                built[top as usize].subtree_end = pos;
                open_stack.pop();
            }
            open_stack.push(pos);
        }
        for top in open_stack {
            built[top as usize].subtree_end = n as u32;
        }

        if open > 0 {
            warnings.push(Warning::OpenSpans { count: open });
        }
        if let (count, Some(example)) = inverted {
            warnings.push(Warning::EndBeforeStart { count, example });
        }
        if let (count, worst, Some(example)) = skewed {
            warnings.push(Warning::ClockSkew { count, worst, example });
        }
        let roots = roots.iter().map(|&l| position[l as usize]).collect();
        let trace = Trace {
            trace_id,
            spans: built,
            attrs: Arc::clone(self.attrs),
            events: Arc::clone(self.events),
            errors: Vec::new(),
            strings: Arc::clone(self.strings),
            roots,
            by_id: Vec::new(),
            warnings,
            start,
            end,
        };
        Ok((trace, position))
    }
}

/// Finds one cycle among the spans the depth-first walk did not reach.
fn find_cycle(reached: &[u32], parent: &[u32], id: impl Fn(u32) -> SpanId) -> Vec<SpanId> {
    let mut seen = vec![false; parent.len()];
    for &l in reached {
        seen[l as usize] = true;
    }
    let start = (0..parent.len() as u32).find(|&l| !seen[l as usize]).expect("some span was not reached");
    // Walk up from an unreached span; every unreached span's chain ends in a cycle.
    let mut step = vec![NONE; parent.len()];
    let mut at = start;
    let mut k = 0;
    while step[at as usize] == NONE {
        step[at as usize] = k;
        k += 1;
        at = parent[at as usize];
    }
    let mut cycle = vec![id(at)];
    let mut next = parent[at as usize];
    while next != at {
        cycle.push(id(next));
        next = parent[next as usize];
    }
    cycle
}

#[cfg(test)]
mod parallel_tests {
    use super::*;
    use crate::model::{Nanos, TraceBuilder};

    fn id(v: u64) -> SpanId {
        SpanId::new(v).unwrap()
    }

    /// A chain of `n` spans (each the parent of the next) in trace `trace`, ids from `first`.
    fn chain(b: &mut TraceBuilder, trace: u128, first: u64, n: u64) {
        for i in 0..n {
            let parent = (i > 0).then(|| id(first + i - 1));
            b.push_span(RawSpan::new(TraceId(trace), id(first + i), parent, i as Nanos, Some(1_000_000)));
        }
    }

    #[test]
    fn a_big_trace_indexes_ids_by_position_and_finds_the_first_of_a_repeated_id() {
        let n = PARALLEL_SPANS as u64 + 10;
        let mut b = TraceBuilder::new();
        // First in the file, so it owns id 1 (and the chain's second span hangs under it), but
        // it starts after the chain's root, which comes first depth-first.
        b.push_span(RawSpan::new(TraceId(1), id(1), None, 5, Some(6)));
        chain(&mut b, 1, 1, n);
        let t = b.build().unwrap().remove(0);
        assert_eq!(t.len() as u64, n + 1);
        assert_eq!(t.find(id(1)), Some(0), "the first span with the id, depth-first");
        assert!(t.span(0).flags.contains(SpanFlags::DUPLICATE_ID));
        assert_eq!(t.span(1).start, 5);
        for v in [2, n / 2, n] {
            let at = t.find(id(v)).unwrap();
            assert_eq!((t.span(at).id, t.span(at).depth as u64), (id(v), v - 1));
        }
        assert_eq!(t.find(id(n + 1)), None);
    }

    #[test]
    fn many_small_traces_are_all_built_in_start_order_whichever_thread_built_them() {
        let (traces, per) = (PARALLEL_SPANS as u64 / 50 + 7, 64);
        let mut b = TraceBuilder::new();
        for t in (0..traces).rev() {
            chain(&mut b, u128::from(t) + 1, t * per + 1, per);
            b.spans_mut().iter_mut().rev().take(per as usize).for_each(|s| s.start += t as Nanos);
        }
        let built = b.build().unwrap();
        assert_eq!(built.len() as u64, traces);
        for (t, trace) in built.iter().enumerate() {
            assert_eq!(trace.trace_id(), TraceId(t as u128 + 1));
            assert_eq!(trace.len() as u64, per);
            assert_eq!(trace.find(id(t as u64 * per + per)), Some(per as SpanIdx - 1));
            assert!(trace.warnings().is_empty(), "{:?}", trace.warnings());
        }
    }

    #[test]
    fn a_cycle_in_one_of_many_traces_is_still_the_error() {
        let mut b = TraceBuilder::new();
        for t in 0..PARALLEL_SPANS as u64 / 16 {
            chain(&mut b, u128::from(t) + 1, t * 32 + 1, 32);
        }
        b.push_span(RawSpan::new(TraceId(999_999), id(1 << 40), Some(id((1 << 40) + 1)), 0, Some(1)));
        b.push_span(RawSpan::new(TraceId(999_999), id((1 << 40) + 1), Some(id(1 << 40)), 0, Some(1)));
        assert!(matches!(b.build(), Err(BuildError::Cycle { .. })));
    }
}
