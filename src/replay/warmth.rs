//! Cold starts, named rather than hidden: an app that started before the mock (or is still
//! verifying its token) acks its first interactions late, and that says nothing about the fix.
//! [`cold_start_notes`] spots it in a replay's results; [`warm_up`] replays unjudged runs first.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::capture::Capture;
use super::driver::{ReplayConfig, replay_all};
use super::mock::{ApiCall, MockSlack};
use super::verdict::RunResult;
use crate::model::{Nanos, format_duration};

/// A first ack at least this many times the others' median is a cold start...
const SLOWER_BY: u32 = 4;
/// ...when it is also at least this much later than the median: a runtime's first-request
/// warm-up (Node compiling handlers, some 100–300 ms) is not what a start before the mock costs
/// (an SDK's retry back-off of a second or more).
const SLOWER_THAN: Duration = Duration::from_millis(500);
/// What every note suggests.
const ADVICE: &str = "the app may have started before the mock; use --wait-for-target (or --warmup N)";

fn human(d: Duration) -> String {
    format_duration(d.as_nanos() as Nanos)
}

/// Sentences saying the replay met an app that was still starting, empty when it did not:
/// the first run's ack far slower than the others' median; `auth.test` called more than once
/// within a run; or (when every run was slow) `auth.test` arriving well after the first
/// interaction was sent and before it was acked. `calls` are the mock's calls during the replay.
pub fn cold_start_notes(results: &[RunResult], calls: &[ApiCall]) -> Vec<String> {
    let mut notes = Vec::new();
    let first = results.iter().min_by_key(|r| r.record.index);
    let mut others: Vec<Duration> = results
        .iter()
        .filter(|r| Some(r.record.index) != first.map(|f| f.record.index))
        .filter_map(|r| r.verdict.ack)
        .collect();
    others.sort_unstable();
    let median = others.get(others.len().saturating_sub(1) / 2).copied();
    let first_ack = first.and_then(|f| f.verdict.ack.map(|ack| (f, ack)));
    match (first_ack, median) {
        (Some((_, ack)), Some(median)) if ack >= median * SLOWER_BY && ack >= median + SLOWER_THAN => {
            notes.push(format!("the first ack took {}, the others {}: {ADVICE}", human(ack), human(median)));
        }
        (Some((first, ack)), _) if ack >= SLOWER_THAN => {
            // Every ack slow: an auth.test well after the first send and before its ack shows
            // the interaction waited for the app's token check.
            let sent = first.record.start;
            let late = calls.iter().filter(|c| c.method == "auth.test").find(|c| {
                let at = first.record.since_start(c.arrived);
                c.arrived >= sent && at >= SLOWER_THAN && at <= ack
            });
            if let Some(call) = late {
                notes.push(format!(
                    "the app called auth.test {} after the first interaction was sent and acked it only at {}: {ADVICE}",
                    human(first.record.since_start(call.arrived)),
                    human(ack)
                ));
            }
        }
        _ => {}
    }
    if let Some((run, count)) = results
        .iter()
        .map(|r| (r.record.index, r.record.calls.iter().filter(|c| c.method == "auth.test").count()))
        .find(|&(_, count)| count > 1)
    {
        notes.push(format!("the app called auth.test {count} times in run {run}: {ADVICE}"));
    }
    notes
}

/// Replays every interaction `runs` times without judging, to bring the app up to speed.
pub async fn warm_up(
    mock: Arc<MockSlack>,
    capture: Arc<Capture>,
    config: &ReplayConfig,
    runs: usize,
    cancel: CancellationToken,
) -> Result<Vec<RunResult>, String> {
    if runs == 0 {
        return Ok(Vec::new());
    }
    // Every warm-up run goes: no early stop (`until`) on the way to warm.
    let config = ReplayConfig { runs, until: None, ..config.clone() };
    replay_all(mock, capture, Arc::new(config), None, cancel).await
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::model::{SpanId, TraceId};
    use crate::replay::mock::{Minted, RunId};
    use crate::replay::run::{Ack, RunRecord};
    use crate::replay::verdict::judge;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    fn call(method: &str, at: Instant) -> ApiCall {
        ApiCall {
            method: method.into(),
            arrived: at,
            answered: at,
            injected: Duration::ZERO,
            http_status: 200,
            ok: true,
            error: None,
            run: None,
            trigger_id: None,
            view_id: None,
            traceparent: None,
            request: String::new(),
            response: String::new(),
        }
    }

    /// A run acked after `ack`, with `auth_tests` calls to auth.test attributed to it.
    fn run(index: usize, start: Instant, ack: Duration, auth_tests: usize) -> RunResult {
        let record = RunRecord {
            index,
            interaction: "button".into(),
            kind: "block_actions".into(),
            method: "POST".into(),
            url: "http://127.0.0.1:3000/".into(),
            trace_id: TraceId(1),
            span_id: SpanId::new(1).unwrap(),
            minted: Minted { run: RunId(index as u64), trigger_id: "1.2.a".into(), response_url: String::new() },
            expects_modal: false,
            start,
            start_unix: 0,
            profile: std::sync::Arc::new(crate::analysis::Profile::default_profile()),
            trigger_ttl: crate::replay::TRIGGER_TTL,
            delivery_delay: Duration::ZERO,
            response: Some(Ok(Ack { status: 200, at: start + ack, body: String::new(), whole: true })),
            calls: (0..auth_tests).map(|_| call("auth.test", start)).collect(),
            event_id: None,
            retries: Vec::new(),
            finished: Some(start + ack),
        };
        let verdict = judge(&record);
        RunResult { record, verdict }
    }

    #[test]
    fn a_first_ack_far_slower_than_the_rest_is_named() {
        let t = Instant::now();
        let results = [run(1, t, ms(2110), 1), run(2, t, ms(28), 0), run(3, t, ms(30), 0), run(4, t, ms(25), 0)];
        let notes = cold_start_notes(&results, &[]);
        assert_eq!(notes, vec![format!("the first ack took 2.11 s, the others 28.0 ms: {ADVICE}")]);
    }

    #[test]
    fn a_warm_app_gets_no_note_even_with_some_spread() {
        let t = Instant::now();
        // Many times slower, but only 280 ms later: a first-request warm-up, not a cold start.
        let results = [run(1, t, ms(300), 1), run(2, t, ms(20), 0), run(3, t, ms(22), 0)];
        assert!(cold_start_notes(&results, &[]).is_empty());
        // 600 ms later but not four times slower: a slow app, not a cold one.
        let results = [run(1, t, ms(1000), 0), run(2, t, ms(400), 0)];
        assert!(cold_start_notes(&results, &[]).is_empty());
        // One run alone cannot be compared.
        assert!(cold_start_notes(&[run(1, t, ms(900), 0)], &[]).is_empty());
    }

    #[test]
    fn auth_test_twice_in_a_run_is_named() {
        let t = Instant::now();
        let results = [run(1, t, ms(20), 0), run(2, t, ms(21), 3)];
        assert_eq!(
            cold_start_notes(&results, &[]),
            vec![format!("the app called auth.test 3 times in run 2: {ADVICE}")]
        );
    }

    #[test]
    fn every_ack_slow_behind_a_late_auth_test_is_named() {
        let t = Instant::now();
        let results = [run(1, t, ms(1800), 0), run(2, t, ms(1790), 0)];
        let late = [call("chat.postMessage", t + ms(100)), call("auth.test", t + ms(1600))];
        let notes = cold_start_notes(&results, &late);
        assert_eq!(
            notes,
            vec![format!(
                "the app called auth.test 1.60 s after the first interaction was sent and acked it only at 1.80 s: {ADVICE}"
            )]
        );
        // An auth.test at once (an app checking its token per request) says nothing of a cold start.
        assert!(cold_start_notes(&results, &[call("auth.test", t + ms(5))]).is_empty());
        assert!(cold_start_notes(&results, &[call("auth.test", t + ms(400))]).is_empty());
    }
}
