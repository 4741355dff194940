//! Placing spans a file gave no time (a Zipkin span without `timestamp`, say), so that they
//! can still be shown: at the start of their nearest ancestor that has a time, else at the start
//! of their trace. Only spans of a trace with no time at all cannot be placed. Importers mark
//! placed spans [`SpanFlags::UNTIMED`](crate::model::SpanFlags::UNTIMED) and say so in a note.

use std::collections::HashMap;

use crate::model::{Nanos, SpanId};

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// What placing needs to know of a span.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node {
    /// Its trace (a key: 64-bit ids and the 128-bit ids they shorten should be given alike).
    pub trace: u64,
    /// Its id.
    pub id: SpanId,
    /// Its parent's id.
    pub parent: Option<SpanId>,
    /// Its start, when the file gave one.
    pub start: Option<Nanos>,
}

/// Where a span goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Placed {
    /// The file gave it a time.
    Timed(Nanos),
    /// At the start of its nearest timed ancestor.
    UnderParent(Nanos),
    /// At the start of its trace: no ancestor has a time.
    AtTraceStart(Nanos),
    /// Nowhere: nothing in its trace has a time.
    Nowhere,
}

/// Places every span; linear in the number of spans (each ancestor chain is walked once).
pub(crate) fn place(nodes: &[Node]) -> Vec<Placed> {
    // The usual file: every span timed, and no map is needed.
    if let Some(starts) = nodes.iter().map(|n| n.start.map(Placed::Timed)).collect::<Option<Vec<_>>>() {
        return starts;
    }
    let mut index: FastMap<(u64, SpanId), usize> = FastMap::default();
    let mut trace_start: FastMap<u64, Nanos> = FastMap::default();
    for (i, n) in nodes.iter().enumerate() {
        index.entry((n.trace, n.id)).or_insert(i);
        if let Some(start) = n.start {
            trace_start.entry(n.trace).and_modify(|s| *s = (*s).min(start)).or_insert(start);
        }
    }
    // For each span: `Some(found)` once its nearest timed ancestor (or none) is known.
    let mut ancestor: Vec<Option<Option<Nanos>>> = vec![None; nodes.len()];
    // Which walk last visited a span, to stop at a parent cycle.
    let mut walk_of = vec![usize::MAX; nodes.len()];
    let mut chain = Vec::new();
    for i in 0..nodes.len() {
        if nodes[i].start.is_some() || ancestor[i].is_some() {
            continue;
        }
        chain.clear();
        let mut at = i;
        let found = loop {
            chain.push(at);
            walk_of[at] = i;
            let parent = nodes[at].parent.and_then(|p| index.get(&(nodes[at].trace, p)).copied());
            match parent {
                None => break None,
                Some(p) if nodes[p].start.is_some() => break nodes[p].start,
                Some(p) if ancestor[p].is_some() => break ancestor[p].flatten(),
                Some(p) if walk_of[p] == i => break None,
                Some(p) => at = p,
            }
        };
        for &c in &chain {
            ancestor[c] = Some(found);
        }
    }
    nodes
        .iter()
        .zip(ancestor)
        .map(|(n, found)| match (n.start, found.flatten(), trace_start.get(&n.trace)) {
            (Some(start), _, _) => Placed::Timed(start),
            (None, Some(start), _) => Placed::UnderParent(start),
            (None, None, Some(&start)) => Placed::AtTraceStart(start),
            (None, None, None) => Placed::Nowhere,
        })
        .collect()
}

/// Up to five spans named as the file wrote them, and how many more, for a note.
pub(crate) fn list(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = names.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(trace: u64, id: u64, parent: Option<u64>, start: Option<Nanos>) -> Node {
        Node { trace, id: SpanId::new(id).unwrap(), parent: parent.and_then(SpanId::new), start }
    }

    #[test]
    fn untimed_spans_go_to_their_nearest_timed_ancestor_else_their_trace_start() {
        let nodes = [
            node(1, 4, Some(3), None),
            node(1, 3, Some(2), None),
            node(1, 2, Some(1), Some(500)),
            node(1, 1, None, Some(100)),
            node(1, 9, Some(99), None),
            node(1, 7, Some(8), None),
            node(1, 8, Some(7), None),
            node(2, 5, None, None),
        ];
        assert_eq!(
            place(&nodes),
            [
                Placed::UnderParent(500),
                Placed::UnderParent(500),
                Placed::Timed(500),
                Placed::Timed(100),
                Placed::AtTraceStart(100),
                Placed::AtTraceStart(100),
                Placed::AtTraceStart(100),
                Placed::Nowhere,
            ]
        );
    }

    #[test]
    fn a_long_untimed_chain_is_placed_in_one_walk() {
        let n = 200_000;
        let mut nodes: Vec<Node> = (2..=n).rev().map(|i| node(1, i, Some(i - 1), None)).collect();
        nodes.push(node(1, 1, None, Some(7)));
        let placed = place(&nodes);
        assert!(placed[..placed.len() - 1].iter().all(|p| *p == Placed::UnderParent(7)));
    }

    #[test]
    fn lists_name_five_and_count_the_rest() {
        let names: Vec<String> = (1..=7).map(|i| format!("s{i}")).collect();
        assert_eq!(list(&names[..2]), "s1, s2");
        assert_eq!(list(&names), "s1, s2, s3, s4, s5 and 2 more");
    }
}
