//! Pass or fail for one replay, with a reason a person can act on, and the statistics of many.
//!
//! A run passes when the app answered 2xx within the ack limit and, if the interaction carries a
//! trigger id, the first `views.open` the app made for it used the minted trigger and succeeded.

use std::time::Duration;

use serde::Serialize;

use super::driver::{Fault, RunRecord, RunResult};
use crate::model::{Nanos, format_duration};

/// The judgement of one run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunVerdict {
    /// Whether the fix holds for this run.
    pub pass: bool,
    /// One sentence: why it failed, or what it did in time.
    pub reason: String,
    /// Time from issue to the response status; `None` without a response.
    #[serde(serialize_with = "opt_ms")]
    pub ack: Option<Duration>,
    /// Time from issue to the first `views.open` arriving; `None` when there was none.
    #[serde(serialize_with = "opt_ms")]
    pub views_open: Option<Duration>,
    /// The first `views.open`'s error code, when it failed.
    pub views_open_error: Option<String>,
}

fn opt_ms<S: serde::Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(d) => s.serialize_some(&(d.as_secs_f64() * 1e3)),
        None => s.serialize_none(),
    }
}

fn human(d: Duration) -> String {
    format_duration(d.as_nanos() as Nanos)
}

/// Judges a finished run.
pub fn judge(record: &RunRecord) -> RunVerdict {
    let ack = match &record.response {
        Some(Ok(ack)) => ack,
        Some(Err(fault)) => return fail(fault.to_string(), None, record),
        None => return fail(Fault::Stopped.to_string(), None, record),
    };
    let ack_time = record.since_start(ack.at);
    let limit = crate::analysis::format_limit(record.ack_limit.as_nanos() as Nanos);
    if !(200..300).contains(&ack.status) {
        let status = reqwest::StatusCode::from_u16(ack.status).map_or(ack.status.to_string(), |s| s.to_string());
        let why = match ack.status {
            401 | 403 => " — it rejected the request; is SLACK_SIGNING_SECRET the app's signing secret?",
            _ => "; Slack shows the user an error",
        };
        return fail(format!("the app answered {status} at {}{why}", human(ack_time)), Some(ack_time), record);
    }
    if ack_time > record.ack_limit {
        return fail(
            format!(
                "the ack arrived at {}, after Slack's {limit} limit; Slack shows the user an error",
                human(ack_time)
            ),
            Some(ack_time),
            record,
        );
    }
    if !record.expects_modal {
        return RunVerdict {
            pass: true,
            reason: format!("ack at {}; the interaction has no trigger_id, so no modal was expected", human(ack_time)),
            ack: Some(ack_time),
            views_open: None,
            views_open_error: None,
        };
    }
    let Some(open) = record.calls.iter().find(|c| c.method == "views.open") else {
        let waited = record.finished.map(|f| human(f.saturating_duration_since(ack.at))).unwrap_or_default();
        return fail(
            format!("ack at {}, but no views.open arrived within the {waited} wait", human(ack_time)),
            Some(ack_time),
            record,
        );
    };
    let at = record.since_start(open.arrived);
    let verdict = |pass: bool, reason: String| RunVerdict {
        pass,
        reason,
        ack: Some(ack_time),
        views_open: Some(at),
        views_open_error: open.error.clone(),
    };
    if open.trigger_id.as_deref() != Some(record.minted.trigger_id.as_str()) {
        let used = open.trigger_id.as_deref().unwrap_or("none");
        let error = open.error.as_deref().unwrap_or("ok");
        return verdict(
            false,
            format!("views.open arrived at {} with trigger_id {used:?}, not the one Slack sent: {error}", human(at)),
        );
    }
    match &open.error {
        Some(error) => verdict(false, format!("views.open arrived at {}: {error}", human(at))),
        None if !open.ok => verdict(false, format!("views.open arrived at {}: HTTP {}", human(at), open.http_status)),
        None => verdict(true, format!("ack at {}, views.open at {} opened the modal", human(ack_time), human(at))),
    }
}

fn fail(reason: String, ack: Option<Duration>, record: &RunRecord) -> RunVerdict {
    let open = record.calls.iter().find(|c| c.method == "views.open");
    RunVerdict {
        pass: false,
        reason,
        ack,
        views_open: open.map(|c| record.since_start(c.arrived)),
        views_open_error: open.and_then(|c| c.error.clone()),
    }
}

/// p50, p95 and the maximum of some durations (nearest rank).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Percentiles {
    /// How many values.
    pub count: usize,
    /// The median.
    #[serde(serialize_with = "ms")]
    pub p50: Duration,
    /// The 95th percentile.
    #[serde(serialize_with = "ms")]
    pub p95: Duration,
    /// The largest.
    #[serde(serialize_with = "ms")]
    pub max: Duration,
}

fn ms<S: serde::Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(value.as_secs_f64() * 1e3)
}

impl Percentiles {
    /// The percentiles of `values`; `None` when there are none.
    pub fn of(mut values: Vec<Duration>) -> Option<Percentiles> {
        if values.is_empty() {
            return None;
        }
        values.sort_unstable();
        let rank = |p: usize| values[(values.len() * p).div_ceil(100).saturating_sub(1)];
        Some(Percentiles { count: values.len(), p50: rank(50), p95: rank(95), max: values[values.len() - 1] })
    }
}

impl std::fmt::Display for Percentiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "p50 {}, p95 {}, max {}", human(self.p50), human(self.p95), human(self.max))
    }
}

/// The statistics of many runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// How many runs.
    pub runs: usize,
    /// How many failed.
    pub failed: usize,
    /// Failed over runs, 0 to 1.
    pub failure_rate: f64,
    /// How many runs got any HTTP response.
    pub answered: usize,
    /// Time to the response status, over runs that got one.
    pub ack: Option<Percentiles>,
    /// Time to the first `views.open`, over runs that made one.
    pub views_open: Option<Percentiles>,
}

impl Summary {
    /// Sums up finished runs.
    pub fn of(results: &[RunResult]) -> Summary {
        let runs = results.len();
        let failed = results.iter().filter(|r| !r.verdict.pass).count();
        Summary {
            runs,
            failed,
            failure_rate: if runs == 0 { 0.0 } else { failed as f64 / runs as f64 },
            answered: results.iter().filter(|r| matches!(r.record.response, Some(Ok(_)))).count(),
            ack: Percentiles::of(results.iter().filter_map(|r| r.verdict.ack).collect()),
            views_open: Percentiles::of(results.iter().filter_map(|r| r.verdict.views_open).collect()),
        }
    }

    /// Whether every run passed (and there was at least one).
    pub fn all_passed(&self) -> bool {
        self.runs > 0 && self.failed == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let ms = |v: u64| Duration::from_millis(v);
        let p = Percentiles::of((1..=20).map(ms).collect()).unwrap();
        assert_eq!((p.count, p.p50, p.p95, p.max), (20, ms(10), ms(19), ms(20)));
        let p = Percentiles::of(vec![ms(7)]).unwrap();
        assert_eq!((p.p50, p.p95, p.max), (ms(7), ms(7), ms(7)));
        assert_eq!(Percentiles::of(Vec::new()), None);
        assert_eq!(p.to_string(), "p50 7.0 ms, p95 7.0 ms, max 7.0 ms");
    }
}
