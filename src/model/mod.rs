//! The normalized trace: what every importer produces and every view reads.
//!
//! No I/O and no UI live here. A [`Trace`] is immutable once built: importers fill a
//! [`TraceBuilder`] with raw spans (ids, parent ids, absolute times) and [`TraceBuilder::build`]
//! resolves parents, orders spans depth-first, precomputes children and depths, and records
//! anything odd (orphans, duplicate ids, clock skew, open spans) as [`Warning`]s instead of
//! failing. Built for a million spans: spans are small fixed-size records, strings are
//! interned once per trace, attributes and events live in flat arrays.

mod assemble;
mod build_error;
mod builder;
mod duration;
mod ids;
pub mod listing;
mod merge;
mod raw;
mod span;
mod strings;
mod time;
mod trace;

pub use build_error::BuildError;
pub use builder::TraceBuilder;
pub use duration::{format_duration, parse_duration, std_duration};
pub use ids::{IdForm, IdParseError, SpanId, TraceId, WRITTEN_SPAN_ID};
pub use merge::merge;
pub use raw::{RawEvent, RawSpan};
pub use span::{Attr, AttrValue, ErrorRef, Event, Range32, Span, SpanFlags, SpanIdx, SpanKind, Status};
pub use strings::{StrId, Strings};
pub use time::{TIME_LIMIT, describe as describe_time, measurable};
pub use trace::{Children, SkewShift, Trace, Warning};

/// Time in integer nanoseconds. Absolute times are nanoseconds since the Unix epoch.
pub type Nanos = i64;
