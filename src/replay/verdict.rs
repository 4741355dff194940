//! Pass or fail for one replay, with a reason a person can act on, and the statistics of many.
//!
//! A run is judged by its deadline profile ([`RunRecord::profile`]), the same one `check` and
//! the window use: it passes when the app answered 2xx within the profile's limit with a body
//! Slack accepts for the kind of request ([`super::ack_body`]) and, when the interaction carries
//! a trigger id and the profile has a `trigger_id` check, the first `views.open` the app made
//! arrived within the limit, used the minted trigger and succeeded at the mock (which enforces
//! Slack's own trigger lifetime). Events API events are judged by [`super::retry`]'s rules.

use std::time::Duration;

use serde::Serialize;

use super::retry;
use super::run::{Fault, RunRecord};
use crate::analysis::{Interval, MissRate};
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

/// One finished run.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// What was recorded.
    pub record: RunRecord,
    /// Pass or fail, and why.
    pub verdict: RunVerdict,
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
    if let Some(verdict) = judge_event(record) {
        return verdict;
    }
    let ack = match &record.response {
        Some(Ok(ack)) => ack,
        Some(Err(fault)) => return fail(fault.to_string(), None, record),
        None => return fail(Fault::Stopped.to_string(), None, record),
    };
    let ack_time = record.since_start(ack.at);
    let limit = record.profile.limit_phrase();
    if !(200..300).contains(&ack.status) {
        let status = reqwest::StatusCode::from_u16(ack.status).map_or(ack.status.to_string(), |s| s.to_string());
        let why = match ack.status {
            401 | 403 => " — it rejected the request; is SLACK_SIGNING_SECRET the app's signing secret?",
            _ => "; Slack shows the user an error",
        };
        return fail(format!("the app answered {status} at {}{why}", human(ack_time)), Some(ack_time), record);
    }
    if ack_time > record.limit() {
        return fail(
            format!("the ack arrived at {}, after {limit}; Slack shows the user an error", human(ack_time)),
            Some(ack_time),
            record,
        );
    }
    // A body cut short (or unread) cannot be judged.
    if ack.whole
        && let Err(why) = super::ack_body::check(&record.kind, &ack.body)
    {
        return fail(format!("ack at {}, but {why}", human(ack_time)), Some(ack_time), record);
    }
    if !record.expects_modal || !record.judges_trigger() {
        let why = match record.expects_modal {
            false => "the interaction has no trigger_id, so no modal was expected".to_owned(),
            true => format!("the {} profile has no trigger_id check, so views.open is not judged", record.profile.name),
        };
        return RunVerdict {
            pass: true,
            reason: format!("ack at {}; {why}", human(ack_time)),
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
    // A refused token is said as such: the mock did not look at the trigger id.
    if let Some(error) = open.error.as_deref().filter(|e| AUTH_ERRORS.contains(e)) {
        return verdict(
            false,
            format!(
                "views.open arrived at {} but the token was refused: {error}; does the app send the token in SLACK_BOT_TOKEN?",
                human(at)
            ),
        );
    }
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
        // Slack took it, but the profile asks for it sooner (a `--deadline` under Slack's 3 s).
        None if at > record.limit() => verdict(false, format!("views.open arrived at {}, after {limit}", human(at))),
        None => verdict(true, format!("ack at {}, views.open at {} opened the modal", human(ack_time), human(at))),
    }
}

/// Slack's errors for a missing or refused token, which every method can answer.
const AUTH_ERRORS: [&str; 5] = ["not_authed", "invalid_auth", "token_revoked", "token_expired", "account_inactive"];

/// Judges a run of an Events API event: it passes when a delivery was acked in time and no Web
/// API method was called more than once after Slack re-delivered it. `None` for other runs.
fn judge_event(record: &RunRecord) -> Option<RunVerdict> {
    let event = record.event_id.as_deref()?;
    let deliveries = 1 + record.retries.len();
    let first = match &record.response {
        Some(Ok(ack)) => Some(record.since_start(ack.at)),
        _ => None,
    };
    let verdict =
        |pass: bool, reason: String| RunVerdict { pass, reason, ack: first, views_open: None, views_open_error: None };
    let mut repeated: Vec<(&str, usize)> = Vec::new();
    for call in record.calls.iter().filter(|c| c.method != "auth.test") {
        match repeated.iter_mut().find(|(m, _)| *m == call.method) {
            Some((_, n)) => *n += 1,
            None => repeated.push((&call.method, 1)),
        }
    }
    repeated.retain(|(_, n)| *n > 1);
    let times = |n: usize| if n == 1 { "1 time".to_owned() } else { format!("{n} times") };
    if deliveries > 1 && !repeated.is_empty() {
        let calls: Vec<String> = repeated.iter().map(|(m, n)| format!("{m} called {}", times(*n))).collect();
        return Some(verdict(
            false,
            format!("event {event} delivered {}; {} (dedupe on event_id)", times(deliveries), calls.join(", ")),
        ));
    }
    let limit = record.limit();
    let first_ok = record.response.as_ref().is_some_and(|r| retry::failure(r, record.start, limit).is_none());
    let acked = first_ok
        || record
            .retries
            .iter()
            .any(|d| d.response.as_ref().is_some_and(|r| retry::failure(r, d.sent, limit).is_none()));
    if !acked {
        let why = match &record.response {
            Some(Ok(ack)) if (200..300).contains(&ack.status) => {
                format!("the first ack came at {}", human(record.since_start(ack.at)))
            }
            Some(Ok(ack)) => format!("the first answer was HTTP {}", ack.status),
            Some(Err(fault)) => fault.to_string(),
            None => Fault::Stopped.to_string(),
        };
        return Some(verdict(
            false,
            format!(
                "event {event} delivered {}, never acked within {}: {why}",
                times(deliveries),
                record.profile.limit_phrase()
            ),
        ));
    }
    let ack = first.map(|a| format!("first ack at {}", human(a))).unwrap_or_else(|| "no first ack".into());
    let retried = match deliveries {
        1 => String::new(),
        n => format!("; re-delivered {} and no Web API call was repeated", times(n - 1)),
    };
    Some(verdict(true, format!("event {event}: {ack}{retried}")))
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
    /// The 95% interval of the failure rate: Wilson's, or `[0, exact bound]` when none failed.
    pub failure_interval: Option<Interval>,
    /// The same per interaction of the capture, in the capture's order (one entry per name).
    pub interactions: Vec<InteractionRate>,
}

/// How often one interaction's runs failed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InteractionRate {
    /// The interaction's name in the capture.
    pub interaction: String,
    /// How many runs.
    pub runs: usize,
    /// How many failed.
    pub failed: usize,
    /// The 95% interval of its failure rate.
    pub failure_interval: Option<Interval>,
}

impl InteractionRate {
    /// The failures as a rate with its interval.
    pub fn rate(&self) -> MissRate {
        MissRate { missed: self.failed as u64, judged: self.runs as u64 }
    }
}

impl Summary {
    /// Sums up finished runs.
    pub fn of(results: &[RunResult]) -> Summary {
        let runs = results.len();
        let failed = results.iter().filter(|r| !r.verdict.pass).count();
        let mut interactions: Vec<InteractionRate> = Vec::new();
        for r in results {
            let name = &r.record.interaction;
            let entry = match interactions.iter().position(|i| &i.interaction == name) {
                Some(at) => &mut interactions[at],
                None => {
                    interactions.push(InteractionRate {
                        interaction: name.clone(),
                        runs: 0,
                        failed: 0,
                        failure_interval: None,
                    });
                    interactions.last_mut().expect("just pushed")
                }
            };
            entry.runs += 1;
            entry.failed += usize::from(!r.verdict.pass);
        }
        for entry in &mut interactions {
            entry.failure_interval = entry.rate().interval();
        }
        Summary {
            runs,
            failed,
            failure_rate: if runs == 0 { 0.0 } else { failed as f64 / runs as f64 },
            answered: results.iter().filter(|r| matches!(r.record.response, Some(Ok(_)))).count(),
            ack: Percentiles::of(results.iter().filter_map(|r| r.verdict.ack).collect()),
            views_open: Percentiles::of(results.iter().filter_map(|r| r.verdict.views_open).collect()),
            failure_interval: MissRate { missed: failed as u64, judged: runs as u64 }.interval(),
            interactions,
        }
    }

    /// The failures as a rate with its interval.
    pub fn rate(&self) -> MissRate {
        MissRate { missed: self.failed as u64, judged: self.runs as u64 }
    }

    /// "3 of 10 runs failed: 30.0% (95% CI 10.8–60.3%)", or with no failure "0 of 50 runs
    /// failed: below 5.9% at 95% confidence".
    pub fn failure_sentence(rate: MissRate) -> String {
        match rate.share() {
            Some(share) => format!("{} of {} runs failed: {share}", rate.missed, rate.judged),
            None => "no run finished".to_owned(),
        }
    }

    /// Whether every run passed (and there was at least one).
    pub fn all_passed(&self) -> bool {
        self.runs > 0 && self.failed == 0
    }
}

/// Whether `--runs-until` has seen enough after `runs` runs of which `failed` failed: a run
/// failed, or none did and the 95% upper bound on the failure rate is under `until` (a share).
pub fn enough_runs(failed: usize, runs: usize, until: f64) -> bool {
    let rate = MissRate { missed: failed as u64, judged: runs as u64 };
    failed > 0 || rate.interval().is_some_and(|i| i.high < until)
}

/// What `--runs-until` came to after `results` out of at most `limit` runs: "the failure rate's
/// 95% upper bound fell under 5.0% after 59 runs", "run 7 failed: stopped after 8 runs", or
/// "100 runs (the --runs limit) did not bring the 95% upper bound under 1.0%".
pub fn until_outcome(results: &[RunResult], until: f64, limit: usize) -> String {
    let pct = crate::analysis::percent(until);
    let n = results.len();
    let head = format!("--runs-until {pct}%:");
    match results.iter().find(|r| !r.verdict.pass) {
        Some(failed) => format!("{head} run {} failed: stopped after {n} runs", failed.record.index),
        None if enough_runs(0, n, until) => {
            format!("{head} the failure rate's 95% upper bound fell under {pct}% after {n} runs")
        }
        None if n >= limit => {
            format!("{head} {n} runs (the --runs limit) did not bring the 95% upper bound under {pct}%")
        }
        None => format!("{head} stopped after {n} runs (cancelled)"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Instant;

    use super::*;
    use crate::analysis::Profile;
    use crate::model::{SpanId, TraceId};
    use crate::replay::mock::{ApiCall, Minted, RunId};
    use crate::replay::run::Ack;

    const TRIGGER: &str = "1.2.minted";

    /// A block_actions run judged by `profile`, acked at `ack_ms` (status 200, empty body), with
    /// these `(method, at_ms, error, trigger_id)` calls.
    fn record(profile: Profile, ack_ms: Option<u64>, calls: &[(&str, u64, Option<&str>, &str)]) -> RunRecord {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        RunRecord {
            index: 1,
            interaction: "resolve".into(),
            kind: "block_actions".into(),
            method: "POST".into(),
            url: "http://127.0.0.1:3000/slack/events".into(),
            trace_id: TraceId(1),
            span_id: SpanId::new(1).unwrap(),
            minted: Minted { run: RunId(1), trigger_id: TRIGGER.into(), response_url: String::new() },
            expects_modal: true,
            start,
            start_unix: 0,
            profile: Arc::new(profile),
            trigger_ttl: crate::replay::TRIGGER_TTL,
            delivery_delay: Duration::ZERO,
            response: ack_ms.map(|ms| Ok(Ack { status: 200, at: at(ms), body: String::new(), whole: true })),
            calls: calls
                .iter()
                .map(|&(method, ms, error, trigger)| ApiCall {
                    method: method.into(),
                    arrived: at(ms),
                    answered: at(ms + 20),
                    injected: Duration::ZERO,
                    http_status: 200,
                    ok: error.is_none(),
                    error: error.map(str::to_owned),
                    run: Some(RunId(1)),
                    trigger_id: Some(trigger.into()),
                    view_id: None,
                    traceparent: None,
                    request: String::new(),
                    response: String::new(),
                })
                .collect(),
            event_id: None,
            retries: Vec::new(),
            finished: Some(at(5000)),
        }
    }

    fn slack() -> Profile {
        Profile::default_profile()
    }

    #[test]
    fn a_prompt_ack_and_a_modal_in_time_pass() {
        let v = judge(&record(slack(), Some(40), &[("views.open", 60, None, TRIGGER)]));
        assert!(v.pass, "{}", v.reason);
        assert_eq!(v.reason, "ack at 40.0 ms, views.open at 60.0 ms opened the modal");
        assert_eq!((v.ack, v.views_open), (Some(Duration::from_millis(40)), Some(Duration::from_millis(60))));
    }

    #[test]
    fn the_ack_is_judged_by_the_profiles_limit() {
        let v = judge(&record(slack(), Some(3100), &[("views.open", 60, None, TRIGGER)]));
        assert!(!v.pass);
        assert!(v.reason.starts_with("the ack arrived at 3.10 s, after the slack profile's 3 s limit"), "{}", v.reason);
        let strict = slack().with_limit(2_000_000_000);
        let v = judge(&record(strict, Some(2500), &[("views.open", 60, None, TRIGGER)]));
        assert!(v.reason.contains("after the slack profile's 2 s limit"), "{}", v.reason);
    }

    #[test]
    fn a_modal_slack_accepted_still_fails_a_shorter_deadline() {
        let strict = slack().with_limit(2_000_000_000);
        let v = judge(&record(strict, Some(40), &[("views.open", 2500, None, TRIGGER)]));
        assert!(!v.pass);
        assert_eq!(v.reason, "views.open arrived at 2.50 s, after the slack profile's 2 s limit");
        let v = judge(&record(slack(), Some(40), &[("views.open", 2500, None, TRIGGER)]));
        assert!(v.pass, "{}", v.reason);
    }

    #[test]
    fn the_mocks_refusal_of_the_trigger_is_the_reason() {
        let v = judge(&record(slack(), Some(40), &[("views.open", 3040, Some("expired_trigger_id"), TRIGGER)]));
        assert!(!v.pass);
        assert_eq!(v.reason, "views.open arrived at 3.04 s: expired_trigger_id");
        assert_eq!(v.views_open_error.as_deref(), Some("expired_trigger_id"));
        let v = judge(&record(slack(), Some(40), &[("views.open", 100, Some("invalid_trigger_id"), "1.2.other")]));
        assert!(v.reason.contains("with trigger_id \"1.2.other\", not the one Slack sent"), "{}", v.reason);
    }

    #[test]
    fn a_missing_modal_or_response_fails_and_a_profile_without_the_trigger_check_skips_it() {
        let v = judge(&record(slack(), Some(40), &[]));
        assert!(!v.pass);
        assert!(v.reason.starts_with("ack at 40.0 ms, but no views.open arrived"), "{}", v.reason);
        let v = judge(&record(slack(), None, &[]));
        assert!(!v.pass && v.ack.is_none(), "{}", v.reason);
        let github = Profile::built_in("github").unwrap();
        let v = judge(&record(github, Some(40), &[("views.open", 3040, Some("expired_trigger_id"), TRIGGER)]));
        assert!(v.pass, "{}", v.reason);
        assert!(v.reason.contains("the github profile has no trigger_id check"), "{}", v.reason);
    }

    #[test]
    fn runs_until_stops_at_a_failure_or_when_the_bound_is_under_the_target() {
        // 1 - 0.05^(1/59) = 4.95% < 5%, while 58 runs give 5.03%.
        assert!(!enough_runs(0, 58, 0.05));
        assert!(enough_runs(0, 59, 0.05));
        assert!(enough_runs(1, 2, 0.05), "a failure ends it at once");
        assert!(!enough_runs(0, 0, 0.5), "no run is no evidence");
    }

    #[test]
    fn the_failure_sentence_gives_the_interval_or_the_bound() {
        let rate = |missed, judged| MissRate { missed, judged };
        assert_eq!(Summary::failure_sentence(rate(3, 10)), "3 of 10 runs failed: 30.0% (95% CI 10.8–60.3%)");
        assert_eq!(
            Summary::failure_sentence(rate(0, 50)),
            "0 of 50 runs failed: below 5.9% at 95% confidence",
            "5.82% rounded up, so below stays true"
        );
        assert_eq!(Summary::failure_sentence(rate(0, 0)), "no run finished");
    }

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
