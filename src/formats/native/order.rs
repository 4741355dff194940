//! The order the writer lists a trace's spans in, so that the builder, which links a parent id
//! to the first span in the file with that id and breaks ties between siblings that start
//! together by file order, rebuilds the same tree in the same order.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use crate::model::{SpanFlags, SpanId, SpanIdx, Trace};

/// The trace's spans depth-first, except that a span repeating an id comes after the span that
/// owns the id (the one without [`SpanFlags::DUPLICATE_ID`]), and siblings that start at the
/// same time keep their order. Without repeated ids that is simply depth-first order.
pub(super) fn write_order(trace: &Trace) -> Vec<SpanIdx> {
    let spans = trace.spans();
    if !spans.iter().any(|s| s.flags.contains(SpanFlags::DUPLICATE_ID)) {
        return (0..spans.len() as SpanIdx).collect();
    }
    let mut graph = Graph { after: vec![Vec::new(); spans.len()], waiting: vec![0; spans.len()] };
    let owners: HashMap<SpanId, SpanIdx> = (0..spans.len() as SpanIdx)
        .filter(|&i| !trace.span(i).flags.contains(SpanFlags::DUPLICATE_ID))
        .map(|i| (trace.span(i).id, i))
        .collect();
    for (i, span) in spans.iter().enumerate() {
        if span.flags.contains(SpanFlags::DUPLICATE_ID)
            && let Some(&owner) = owners.get(&span.id)
        {
            graph.edge(owner, i as SpanIdx);
        }
    }
    graph.tie(trace, trace.roots().iter().copied());
    for i in 0..spans.len() as SpanIdx {
        graph.tie(trace, trace.children(i));
    }
    graph.order()
}

/// Which spans must be written before which.
struct Graph {
    /// The spans that must come after each span.
    after: Vec<Vec<SpanIdx>>,
    /// How many spans must still be written before each span.
    waiting: Vec<u32>,
}

impl Graph {
    fn edge(&mut self, before: SpanIdx, after: SpanIdx) {
        self.after[before as usize].push(after);
        self.waiting[after as usize] += 1;
    }

    /// Keeps siblings (in depth-first order) that start at the same time in that order.
    fn tie(&mut self, trace: &Trace, siblings: impl Iterator<Item = SpanIdx>) {
        let mut previous: Option<SpanIdx> = None;
        for span in siblings {
            if let Some(p) = previous
                && trace.span(p).start == trace.span(span).start
            {
                self.edge(p, span);
            }
            previous = Some(span);
        }
    }

    /// Every span once, each as early in depth-first order as the constraints allow. A trace
    /// not made by the builder (one adjusted for clock skew) may have contradictory
    /// constraints; then the earliest span not yet written goes next.
    fn order(mut self) -> Vec<SpanIdx> {
        let n = self.waiting.len();
        let mut ready: BinaryHeap<Reverse<SpanIdx>> =
            (0..n as SpanIdx).filter(|&i| self.waiting[i as usize] == 0).map(Reverse).collect();
        let mut written = vec![false; n];
        let mut order = Vec::with_capacity(n);
        let mut earliest_unwritten = 0;
        while order.len() < n {
            let next = match ready.pop() {
                Some(Reverse(i)) if written[i as usize] => continue,
                Some(Reverse(i)) => i,
                None => {
                    while written[earliest_unwritten] {
                        earliest_unwritten += 1;
                    }
                    earliest_unwritten as SpanIdx
                }
            };
            written[next as usize] = true;
            order.push(next);
            for after in std::mem::take(&mut self.after[next as usize]) {
                self.waiting[after as usize] -= 1;
                if self.waiting[after as usize] == 0 {
                    ready.push(Reverse(after));
                }
            }
        }
        order
    }
}
