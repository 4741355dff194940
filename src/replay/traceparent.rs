//! The W3C Trace Context `traceparent` header (`00-<trace id>-<span id>-<flags>`): the replay
//! driver sends one with each interaction, the mock reads it to attribute Web API calls to a
//! run, and the demo app passes it on, so all their spans join one trace.

use std::fmt;

use crate::model::{SpanId, TraceId};

/// A parsed `traceparent`: whose trace, and which span is the parent of the receiver's work.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TraceParent {
    /// The trace (32 hex digits on the wire).
    pub trace_id: TraceId,
    /// The caller's span (16 hex digits on the wire).
    pub span_id: SpanId,
    /// Trace flags (`01`: sampled).
    pub flags: u8,
}

impl TraceParent {
    /// A sampled context.
    pub fn new(trace_id: TraceId, span_id: SpanId) -> Self {
        TraceParent { trace_id, span_id, flags: 1 }
    }

    /// Reads a header value; `None` unless it is a well-formed version-00 (or later, read the
    /// same way) value with non-zero ids.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('-');
        let (version, trace, span, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex(version, 2) || version.eq_ignore_ascii_case("ff") || !hex(trace, 32) || !hex(span, 16) || !hex(flags, 2)
        {
            return None;
        }
        if version == "00" && parts.next().is_some() {
            return None;
        }
        let trace_id = TraceId(u128::from_str_radix(trace, 16).ok()?);
        let span_id = SpanId::new(u64::from_str_radix(span, 16).ok()?)?;
        (trace_id.0 != 0).then_some(TraceParent { trace_id, span_id, flags: u8::from_str_radix(flags, 16).ok()? })
    }

    /// The same trace with `span_id` as the parent: what a service sends on for its own call.
    pub fn child(self, span_id: SpanId) -> Self {
        TraceParent { span_id, ..self }
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "00-{:032x}-{}-{:02x}", self.trace_id.0, self.span_id, self.flags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_example_reads_and_writes_back() {
        let text = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parent = TraceParent::parse(text).unwrap();
        assert_eq!(parent.trace_id, TraceId(0x4bf92f3577b34da6a3ce929d0e0e4736));
        assert_eq!(parent.span_id, SpanId::new(0x00f067aa0ba902b7).unwrap());
        assert_eq!(parent.to_string(), text);
        let child = parent.child(SpanId::new(0xab).unwrap());
        assert_eq!(child.to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00000000000000ab-01");
    }

    #[test]
    fn malformed_values_are_refused() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473x-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad}");
        }
        assert!(TraceParent::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more").is_some());
    }
}
