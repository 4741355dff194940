//! Why raw spans could not be made into traces.

use super::{Nanos, SpanId};

/// Why spans could not be made into a trace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// Spans are each other's ancestors, so no tree holds them.
    #[error("{}", cycle_text(.spans))]
    Cycle {
        /// The spans on the cycle, each the parent of the one before.
        spans: Vec<SpanId>,
    },
    /// A time lies too far from the epoch for durations to it to be measured (see
    /// [`TIME_LIMIT`](super::TIME_LIMIT)); no verdict can be drawn from a wrapped duration.
    #[error(
        "{what} is {}, outside the times tracedeck can measure ({}): durations that long do not fit in 64-bit nanoseconds",
        super::time::describe(*.value),
        super::time::measurable_range()
    )]
    TimeOutOfRange {
        /// The field: `span 00f067aa0ba902b7's end`, `an event of span ...`.
        what: String,
        /// The time, absolute nanoseconds.
        value: Nanos,
    },
}

/// `spans form a parent cycle: a → b → a`, or for a long cycle the first few and a count.
fn cycle_text(spans: &[SpanId]) -> String {
    if spans.len() > super::listing::SHOWN {
        let count = super::listing::thousands(spans.len());
        return format!("a parent cycle through {count} spans: {}", super::listing::first_few(spans, ", "));
    }
    let mut text: Vec<String> = spans.iter().map(|s| s.to_string()).collect();
    if let Some(first) = text.first().cloned() {
        text.push(first);
    }
    format!("spans form a parent cycle: {}", text.join(" → "))
}
