//! Counts of Zipkin spans something happened to, each with its first example, for the import's
//! notes; kept apart so that the reader (parts merged) and the settling (placed, paired) both count.

use crate::model::{SpanId, TraceBuilder};

/// How many spans something happened to, and the first of them, for an import note.
#[derive(Default)]
pub(super) struct Tally {
    count: usize,
    example: Option<SpanId>,
}

impl Tally {
    /// Counts the span `id`.
    pub fn add(&mut self, id: SpanId) {
        self.count += 1;
        self.example.get_or_insert(id);
    }

    /// Notes `count what (e.g. example)` if anything was counted.
    pub fn note(&self, b: &mut TraceBuilder, what: &str) {
        if let Some(example) = self.example {
            b.note(format!("{} {what} (e.g. {example})", self.count));
        }
    }
}
