//! Counts of oddities in a Chrome trace, each with its first example, for the import's notes.
//! Kept apart so that reading (events skipped) and assembling (unmatched pairs) both count
//! without importing each other.

use crate::model::TraceBuilder;

/// How many events something happened to, and the index of the first, for a note.
#[derive(Default)]
pub(super) struct Tally {
    count: usize,
    example: u32,
}

impl Tally {
    /// How many.
    pub(super) fn count(&self) -> usize {
        self.count
    }

    /// Counts the event at `index` (in `traceEvents`).
    pub(super) fn add(&mut self, index: u32) {
        if self.count == 0 {
            self.example = index;
        }
        self.count += 1;
    }

    /// Adds what `later` counted, events after all of this one's (its example is kept only if
    /// this one has none).
    pub(super) fn absorb(&mut self, later: &Tally) {
        if self.count == 0 {
            self.example = later.example;
        }
        self.count += later.count;
    }

    /// Notes `count text (e.g. $.traceEvents[i])` if anything was counted.
    pub(super) fn note(&self, builder: &mut TraceBuilder, text: &str) {
        if self.count > 0 {
            builder.note(format!("{} {text} (e.g. $.traceEvents[{}])", self.count, self.example));
        }
    }
}
