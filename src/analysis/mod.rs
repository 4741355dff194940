//! Deadline analysis: did a trace answer in time, and if not, why.
//!
//! Depends only on [`model`](crate::model); no I/O, no UI. A [`Profile`] says how long a
//! platform waits, from when, and for what ([`Check`]s, whose spans are found with [`Rule`]s);
//! [`analyze`] judges one trace against it and returns a [`Verdict`]: plain data the command
//! line prints and the GUI draws (the deadline line, crossing spans, the critical path, gaps
//! where nothing was instrumented, and a [`Verdict::headline`] for the banner). Many verdicts add
//! up to a [`Summary`]: the miss rate with its confidence interval and response-time percentiles.

mod path;
mod profile;
mod rule;
mod summary;
#[cfg(test)]
pub(crate) mod testing;
mod verdict;

pub use path::{CriticalPath, Gap, Segment, SegmentKind, self_times};
pub use profile::{Check, Profile, SLACK_TRIGGER_RULE, TRIGGER_CHECK};
pub use rule::{Edge, Rule, RuleError};
pub use summary::{
    EndpointStats, Gate, Interval, MissRate, Percentiles, Sample, Summary, by_endpoint, percent, wilson,
    zero_events_upper_bound,
};
pub use verdict::{CheckResult, ClockStart, Contribution, Hit, Outcome, Verdict, analyze, format_limit};
