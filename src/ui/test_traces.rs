//! Small hand-made traces for the window's unit tests.

use crate::model::{RawSpan, SpanId, Trace, TraceBuilder, TraceId};

/// Five spans: 1 (0–100 ns) with children 2 (0–50, with child 3 at 0–5) and 4 (60–100, with
/// child 5 at 60–61).
pub fn small_tree() -> Trace {
    let mut b = TraceBuilder::new();
    let id = |v| SpanId::new(v).unwrap();
    for (span, parent, start, end) in
        [(1, None, 0, 100), (2, Some(1), 0, 50), (3, Some(2), 0, 5), (4, Some(1), 60, 100), (5, Some(4), 60, 61)]
    {
        b.push_span(RawSpan::new(TraceId(1), id(span), parent.map(id), start, Some(end)));
    }
    b.build().unwrap().remove(0)
}
