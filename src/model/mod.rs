//! The normalized trace: what every importer produces and every view reads.
//!
//! No I/O and no UI live here. A [`Trace`] is immutable once built: importers fill a
//! [`TraceBuilder`] with raw spans (ids, parent ids, absolute times) and [`TraceBuilder::build`]
//! resolves parents, orders spans depth-first, precomputes children and depths, and records
//! anything odd (orphans, duplicate ids, clock skew, open spans) as [`Warning`]s instead of
//! failing. Built for a million spans: spans are small fixed-size records, strings are
//! interned once per trace, attributes and events live in flat arrays.

mod builder;
mod ids;
mod merge;
mod span;
mod strings;
mod trace;

pub use builder::{BuildError, RawEvent, RawSpan, TraceBuilder};
pub use ids::{IdParseError, SpanId, TraceId};
pub use merge::merge;
pub use span::{Attr, AttrValue, ErrorRef, Event, Range32, Span, SpanFlags, SpanIdx, SpanKind, Status};
pub use strings::{StrId, Strings};
pub use trace::{Children, SkewShift, Trace, Warning};

/// Time in integer nanoseconds. Absolute times are nanoseconds since the Unix epoch.
pub type Nanos = i64;

/// Formats a duration for people: `850 ns`, `12.3 µs`, `4.21 s`, `2 min 05 s`, `3 h 07 min`,
/// `20 d 04 h`.
pub fn format_duration(nanos: Nanos) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    let body = if n < 1_000 {
        format!("{n} ns")
    } else if n < 1_000_000 {
        format!("{:.1} µs", n as f64 / 1e3)
    } else if n < 1_000_000_000 {
        format!("{:.1} ms", n as f64 / 1e6)
    } else if n < 60_000_000_000 {
        format!("{:.2} s", n as f64 / 1e9)
    } else if n < 3_600_000_000_000 {
        let secs = n / 1_000_000_000;
        format!("{} min {:02} s", secs / 60, secs % 60)
    } else if n < 86_400_000_000_000 {
        let mins = n / 60_000_000_000;
        format!("{} h {:02} min", mins / 60, mins % 60)
    } else {
        let hours = n / 3_600_000_000_000;
        format!("{} d {:02} h", hours / 24, hours % 24)
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::format_duration;

    #[test]
    fn durations_read_in_the_unit_that_fits() {
        let s = 1_000_000_000;
        assert_eq!(format_duration(850), "850 ns");
        assert_eq!(format_duration(4_210_000_000), "4.21 s");
        assert_eq!(format_duration(125 * s), "2 min 05 s");
        assert_eq!(format_duration(-125 * s), "-2 min 05 s");
        assert_eq!(format_duration((3 * 3600 + 7 * 60 + 59) * s), "3 h 07 min");
        assert_eq!(format_duration((20 * 86_400 + 4 * 3600) * s), "20 d 04 h");
        assert_eq!(format_duration(i64::MIN), "-106751 d 23 h");
    }
}
