//! The W3C Trace Context `traceparent` header (`00-<trace id>-<span id>-<flags>`): the replay
//! driver sends one with each interaction (and the same context as Sentry's `sentry-trace` and
//! `baggage`), the mock reads it to attribute Web API calls to a run, and the demo app passes it
//! on, so all their spans join one trace.

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

    /// Reads Sentry's `sentry-trace` header (`<32 hex>-<16 hex>[-<0|1>]`); no sampling flag
    /// means sampled, as the SDK that sends it records the trace.
    pub fn from_sentry_trace(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('-');
        let (trace, span, sampled) = (parts.next()?, parts.next()?, parts.next());
        if parts.next().is_some() || !matches!(sampled, None | Some("0" | "1")) {
            return None;
        }
        let flags = u8::from(sampled != Some("0"));
        Self::parse(&format!("00-{trace}-{span}-0{flags}"))
    }

    /// Sentry's `sentry-trace` header for this context (`<trace id>-<span id>-<sampled>`), which
    /// Sentry SDKs continue; older ones read only it, not `traceparent`.
    pub fn sentry_trace(&self) -> String {
        format!("{:032x}-{}-{}", self.trace_id.0, self.span_id, self.flags & 1)
    }

    /// The `baggage` header Sentry SDKs read with `sentry-trace`: the trace id and the sampling
    /// decision (sampled contexts are kept whole: rate 1).
    pub fn sentry_baggage(&self) -> String {
        let sampled = self.flags & 1 == 1;
        format!(
            "sentry-trace_id={:032x},sentry-sampled={sampled},sentry-sample_rate={}",
            self.trace_id.0,
            u8::from(sampled)
        )
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
    fn sentry_headers_carry_the_same_trace_and_span() {
        let parent =
            TraceParent::new(TraceId(0x4bf92f3577b34da6a3ce929d0e0e4736), SpanId::new(0xf067aa0ba902b7).unwrap());
        assert_eq!(parent.sentry_trace(), "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1");
        assert_eq!(
            parent.sentry_baggage(),
            "sentry-trace_id=4bf92f3577b34da6a3ce929d0e0e4736,sentry-sampled=true,sentry-sample_rate=1"
        );
        let unsampled = TraceParent { flags: 0, ..parent };
        assert!(unsampled.sentry_trace().ends_with("-0"));
        assert!(unsampled.sentry_baggage().contains("sentry-sampled=false"));
        for context in [parent, unsampled] {
            assert_eq!(TraceParent::from_sentry_trace(&context.sentry_trace()), Some(context));
        }
        let unflagged = TraceParent::from_sentry_trace("4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7");
        assert_eq!(unflagged, Some(parent));
        for bad in
            ["", "4bf92f3577b34da6a3ce929d0e0e4736", "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-2", "x-y-1"]
        {
            assert_eq!(TraceParent::from_sentry_trace(bad), None, "{bad}");
        }
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
