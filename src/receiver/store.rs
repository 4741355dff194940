//! Received spans, kept per trace id and merged on demand.
//!
//! Each request's spans arrive as [`Trace`] fragments (one per trace id in the request). A trace
//! id keeps its fragments; asking for the trace merges them ([`model::merge`]: parents that
//! arrived in another request are linked and warnings are recomputed) and caches the result
//! until more spans arrive. Merging costs time linear in
//! the trace's spans, once per change: cheap for the traces a replay produces.
//!
//! The store holds at most [`Store::max_spans`] spans, whatever sent them: when more arrive,
//! whole traces are dropped, the one first seen longest ago first, and [`Store::dropped`]
//! counts what went. A trace is never kept in part.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use foldhash::HashMap;
use tokio::sync::watch;

use crate::model::{self, Trace, TraceId};

#[derive(Default)]
struct Entry {
    fragments: Vec<Trace>,
    spans: usize,
    merged: Option<Arc<Trace>>,
}

#[derive(Default)]
struct Inner {
    traces: HashMap<TraceId, Entry>,
    order: VecDeque<TraceId>,
    spans: usize,
    dropped: Dropped,
}

/// How many spans a store holds unless told otherwise.
pub const DEFAULT_MAX_SPANS: usize = 2_000_000;

/// What a store dropped to stay under its bound, since it started.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Dropped {
    /// Whole traces dropped.
    pub traces: usize,
    /// The spans they held.
    pub spans: usize,
}

/// The receiver's spans by trace id.
pub struct Store {
    inner: Mutex<Inner>,
    changes: watch::Sender<u64>,
    max_spans: usize,
}

impl Default for Store {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_SPANS)
    }
}

impl Store {
    /// An empty store that holds at most `max_spans` spans.
    pub fn new(max_spans: usize) -> Self {
        Store { inner: Mutex::new(Inner::default()), changes: watch::channel(0).0, max_spans }
    }

    /// The most spans it holds.
    pub fn max_spans(&self) -> usize {
        self.max_spans
    }

    /// What it dropped so far to stay under [`max_spans`](Self::max_spans).
    pub fn dropped(&self) -> Dropped {
        self.lock().dropped
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (every update is one push).
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds fragments, drops the oldest traces while it holds more than
    /// [`max_spans`](Self::max_spans), and tells subscribers. Returns what this call dropped.
    pub fn add(&self, fragments: Vec<Trace>) -> Dropped {
        if fragments.is_empty() {
            return Dropped::default();
        }
        let mut dropped = Dropped::default();
        let evicted = {
            let mut inner = self.lock();
            for fragment in fragments {
                let id = fragment.trace_id();
                let count = fragment.len();
                if !inner.traces.contains_key(&id) {
                    inner.order.push_back(id);
                }
                let entry = inner.traces.entry(id).or_default();
                entry.spans += count;
                entry.merged = None;
                entry.fragments.push(fragment);
                inner.spans += count;
            }
            let mut evicted = Vec::new();
            while inner.spans > self.max_spans {
                let Some(id) = inner.order.pop_front() else { break };
                let Some(entry) = inner.traces.remove(&id) else { continue };
                inner.spans -= entry.spans;
                dropped.traces += 1;
                dropped.spans += entry.spans;
                evicted.push(entry);
            }
            inner.dropped.traces += dropped.traces;
            inner.dropped.spans += dropped.spans;
            evicted
        };
        // Freed outside the lock: dropping a million spans takes a moment.
        drop(evicted);
        self.changes.send_modify(|generation| *generation += 1);
        dropped
    }

    /// Spans and distinct traces received.
    pub fn counts(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.spans, inner.order.len())
    }

    /// Trace ids held, in the order first seen.
    pub fn trace_ids(&self) -> Vec<TraceId> {
        self.lock().order.iter().copied().collect()
    }

    /// Spans held per trace id, in the order first seen.
    pub fn span_counts(&self) -> Vec<(TraceId, usize)> {
        let inner = self.lock();
        inner.order.iter().map(|id| (*id, inner.traces.get(id).map_or(0, |e| e.spans))).collect()
    }

    /// A counter bumped on every change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// The merged trace of `id`: `Ok(None)` before any of its spans arrived, an error when its
    /// spans cannot form a tree (a parent cycle across requests).
    pub fn trace(&self, id: TraceId) -> Result<Option<Arc<Trace>>, String> {
        let mut inner = self.lock();
        let Some(entry) = inner.traces.get_mut(&id) else { return Ok(None) };
        if entry.merged.is_none() {
            entry.merged = Some(merge(&entry.fragments)?);
        }
        Ok(entry.merged.clone())
    }
}

/// One trace from fragments of the same trace id.
fn merge(fragments: &[Trace]) -> Result<Arc<Trace>, String> {
    let fragments: Vec<&Trace> = fragments.iter().collect();
    let mut traces = model::merge(&fragments).map_err(|e| e.to_string())?;
    match (traces.pop(), traces.is_empty()) {
        (Some(trace), true) => Ok(Arc::new(trace)),
        _ => Err("the received spans did not merge into one trace".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RawSpan, SpanId, TraceBuilder};

    /// One trace of `spans` spans (a root and its children), id `trace`.
    fn trace(trace: u128, spans: u64) -> Trace {
        more_of(trace, 1, spans)
    }

    /// Spans `first..first + spans` of trace `trace`, children of span 1.
    fn more_of(trace: u128, first: u64, spans: u64) -> Trace {
        let mut b = TraceBuilder::new();
        let id = |v: u64| SpanId::new(v).unwrap();
        for i in first..first + spans {
            b.push_span(RawSpan::new(TraceId(trace), id(i), (i > 1).then(|| id(1)), i as i64, Some(1_000)));
        }
        b.build().unwrap().remove(0)
    }

    #[test]
    fn a_flood_past_the_bound_keeps_the_newest_whole_traces_and_frees_the_rest() {
        let store = Store::new(1_000);
        let first = Arc::downgrade(&{
            store.add(vec![trace(1, 300)]);
            store.trace(TraceId(1)).unwrap().unwrap()
        });
        for t in 2..=50 {
            store.add(vec![trace(t, 300)]);
            let (spans, _) = store.counts();
            assert!(spans <= 1_000, "{spans} spans held after trace {t}");
        }
        assert_eq!(store.trace_ids(), vec![TraceId(48), TraceId(49), TraceId(50)], "the newest three fit");
        assert_eq!(store.counts(), (900, 3));
        assert_eq!(store.dropped(), Dropped { traces: 47, spans: 47 * 300 });
        assert!(store.trace(TraceId(1)).unwrap().is_none());
        assert!(first.upgrade().is_none(), "a dropped trace's memory is given back");

        // More spans of a held trace keep it whole; the oldest goes instead.
        let dropped = store.add(vec![more_of(49, 301, 200)]);
        assert_eq!(dropped, Dropped { traces: 1, spans: 300 });
        assert_eq!(store.trace_ids(), vec![TraceId(49), TraceId(50)]);
        assert_eq!(store.trace(TraceId(49)).unwrap().unwrap().len(), 500);
    }

    #[test]
    fn a_trace_larger_than_the_bound_is_not_kept_in_part() {
        let store = Store::new(100);
        assert_eq!(store.add(vec![trace(1, 50)]), Dropped::default());
        assert_eq!(store.add(vec![trace(2, 150)]), Dropped { traces: 2, spans: 200 });
        assert_eq!(store.counts(), (0, 0));
    }
}
