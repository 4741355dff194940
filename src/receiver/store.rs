//! Received spans, kept per trace id and merged on demand.
//!
//! Each request's spans arrive as [`Trace`] fragments (one per trace id in the request). A trace
//! id keeps its fragments; asking for the trace merges them ([`model::merge`]: parents that
//! arrived in another request are linked and warnings are recomputed) and caches the result
//! until more spans arrive. Merging costs time linear in
//! the trace's spans, once per change: cheap for the traces a replay produces.

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
    order: Vec<TraceId>,
    spans: usize,
}

/// The receiver's spans by trace id.
pub struct Store {
    inner: Mutex<Inner>,
    changes: watch::Sender<u64>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Store { inner: Mutex::new(Inner::default()), changes: watch::channel(0).0 }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (every update is one push).
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds fragments and tells subscribers.
    pub fn add(&self, fragments: Vec<Trace>) {
        if fragments.is_empty() {
            return;
        }
        {
            let mut inner = self.lock();
            for fragment in fragments {
                let id = fragment.trace_id();
                let count = fragment.len();
                if !inner.traces.contains_key(&id) {
                    inner.order.push(id);
                }
                let entry = inner.traces.entry(id).or_default();
                entry.spans += count;
                entry.merged = None;
                entry.fragments.push(fragment);
                inner.spans += count;
            }
        }
        self.changes.send_modify(|generation| *generation += 1);
    }

    /// Spans and distinct traces received.
    pub fn counts(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.spans, inner.order.len())
    }

    /// Trace ids in the order first seen.
    pub fn trace_ids(&self) -> Vec<TraceId> {
        self.lock().order.clone()
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
