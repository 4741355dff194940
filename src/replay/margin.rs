//! How close to the edge a fix is: the margin search (`--find-margin delivery|api`). It replays
//! at injected latencies chosen by bisection on a grid of `resolution` steps between 0 and
//! `max` (0 first, then `max`, then halving the gap between the largest latency at which every
//! run passed and the smallest at which one failed), `runs` replays a step, all within a time
//! budget, and says the largest latency every run survived and what broke first past it.
//!
//! Deterministic for a seed: the latencies tried follow from the verdicts only, each step
//! reseeds the mock's draws of `--api-latency` ranges, and grid points keep probes off the
//! knife's edge of Slack's 3 s.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::capture::Capture;
use super::driver::{ReplayConfig, replay_all};
use super::latency::{ApiLatency, Spread};
use super::mock::MockSlack;
use super::verdict::RunResult;
use crate::analysis::format_limit;
use crate::model::{Nanos, format_duration};

/// Which delay the search injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Knob {
    /// Between the click and the interaction reaching the app (`--delivery-latency`).
    Delivery,
    /// Before the mock answers each Web API call (`--api-latency`).
    Api,
}

impl Knob {
    /// "delivery latency", "Web API latency".
    pub fn words(self) -> &'static str {
        match self {
            Knob::Delivery => "delivery latency",
            Knob::Api => "Web API latency",
        }
    }
}

/// How the search runs.
#[derive(Clone, Debug)]
pub struct Search {
    /// The delay injected.
    pub knob: Knob,
    /// The largest latency tried (`--margin-max`).
    pub max: Duration,
    /// The grid the latencies tried lie on, and how close the search narrows (`--margin-resolution`).
    pub resolution: Duration,
    /// The whole search's time bound (`--margin-budget`): a step still running then is stopped
    /// and not counted.
    pub budget: Duration,
    /// Seeds the draws of latency ranges (`--seed`).
    pub seed: u64,
}

impl Search {
    /// Defaults: up to 5 s, to 50 ms, within 2 minutes, the default seed.
    pub fn new(knob: Knob) -> Search {
        Search {
            knob,
            max: Duration::from_secs(5),
            resolution: Duration::from_millis(50),
            budget: Duration::from_secs(120),
            seed: super::latency::DEFAULT_SEED,
        }
    }

    /// The latency of grid point `k` (the last one is `max`).
    fn latency(&self, k: u64) -> Duration {
        (self.resolution * k as u32).min(self.max)
    }

    /// The last grid point's index.
    fn top(&self) -> u64 {
        let res = self.resolution.as_nanos().max(1);
        self.max.as_nanos().div_ceil(res) as u64
    }
}

/// The first failed run of a step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FirstFailure {
    /// Its number in the step.
    pub run: usize,
    /// Why it failed (the run's verdict).
    pub reason: String,
}

/// One latency tried.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Step {
    /// The latency injected.
    #[serde(rename = "latency_ms", serialize_with = "ms")]
    pub latency: Duration,
    /// Runs replayed.
    pub runs: usize,
    /// Runs that failed.
    pub failed: usize,
    /// Runs that got a response.
    pub answered: usize,
    /// The first failed run, when one did.
    pub first_failure: Option<FirstFailure>,
}

fn ms<S: serde::Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(value.as_secs_f64() * 1e3)
}

impl Step {
    fn of(latency: Duration, results: &[RunResult]) -> Step {
        let failed = results.iter().find(|r| !r.verdict.pass);
        Step {
            latency,
            runs: results.len(),
            failed: results.iter().filter(|r| !r.verdict.pass).count(),
            answered: results.iter().filter(|r| matches!(r.record.response, Some(Ok(_)))).count(),
            first_failure: failed.map(|r| FirstFailure { run: r.record.index, reason: r.verdict.reason.clone() }),
        }
    }

    /// Whether every run passed.
    pub fn passed(&self) -> bool {
        self.runs > 0 && self.failed == 0
    }

    /// Failed over runs, 0 to 1.
    pub fn failure_rate(&self) -> f64 {
        if self.runs == 0 { 0.0 } else { self.failed as f64 / self.runs as f64 }
    }
}

/// Why the search stopped before it was done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cut {
    /// Its time budget ran out.
    Budget,
    /// It was stopped.
    Cancelled,
}

/// What the search found.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// How it ran.
    pub search: Search,
    /// The steps, in the order tried.
    pub steps: Vec<Step>,
    /// Why it stopped early, if it did.
    pub cut: Option<Cut>,
}

impl Outcome {
    /// The smallest latency at which a run failed.
    pub fn broke(&self) -> Option<&Step> {
        self.steps.iter().filter(|s| !s.passed()).min_by_key(|s| s.latency)
    }

    /// The largest latency below [`Outcome::broke`] at which every run passed; `None` when
    /// none did (no margin, or nothing finished).
    pub fn margin(&self) -> Option<Duration> {
        let broke = self.broke().map(|s| s.latency);
        self.steps.iter().filter(|s| s.passed() && broke.is_none_or(|b| s.latency < b)).map(|s| s.latency).max()
    }

    /// Whether it fails with no added latency.
    pub fn fails_at_zero(&self) -> bool {
        self.broke().is_some_and(|s| s.latency.is_zero())
    }

    /// Whether the margin was narrowed to the resolution (or reached `max`).
    pub fn narrowed(&self) -> bool {
        match (self.margin(), self.broke()) {
            (Some(m), Some(b)) => b.latency - m <= self.search.resolution,
            (Some(m), None) => m >= self.search.max,
            (None, broke) => broke.is_some(),
        }
    }

    /// Runs that got a response, over every step.
    pub fn answered(&self) -> usize {
        self.steps.iter().map(|s| s.answered).sum()
    }

    /// The failure rate at each latency tried, by latency.
    pub fn rates(&self) -> Vec<(Duration, f64)> {
        let mut rates: Vec<(Duration, f64)> = self.steps.iter().map(|s| (s.latency, s.failure_rate())).collect();
        rates.sort_by_key(|&(latency, _)| latency);
        rates
    }

    /// The finding in a sentence: "holds up to 2.95 s of delivery latency; at 3.00 s views.open
    /// arrived at 3.01 s: expired_trigger_id", "no margin: ...".
    pub fn sentence(&self) -> String {
        let knob = self.search.knob.words();
        let cut = match self.cut {
            Some(Cut::Budget) => {
                format!("the search ran out of its {} budget", format_limit(nanos(self.search.budget)))
            }
            Some(Cut::Cancelled) => "the search was stopped".to_owned(),
            None => String::new(),
        };
        let unfinished = if self.narrowed() || cut.is_empty() {
            String::new()
        } else {
            format!("; {cut} before narrowing it to {}", human(self.search.resolution))
        };
        match (self.margin(), self.broke()) {
            (None, None) => format!("no answer: {cut} before its first step finished"),
            (None, Some(broke)) => {
                let first = broke.first_failure.as_ref().expect("a failed step has a failed run");
                format!(
                    "no margin: it fails with no added {knob}: {} of {} runs failed; run {}: {}",
                    broke.failed, broke.runs, first.run, first.reason
                )
            }
            (Some(margin), Some(broke)) => {
                let first = broke.first_failure.as_ref().expect("a failed step has a failed run");
                let mut line = format!("holds up to {} of {knob}", human(margin));
                if margin.is_zero() {
                    line = format!("holds only with no added {knob}");
                }
                format!("{line}; at {} {}{unfinished}", human(broke.latency), first.reason)
            }
            (Some(margin), None) if margin >= self.search.max => {
                format!(
                    "holds up to at least {} of {knob} (--margin-max): every run passed at every latency tried",
                    human(margin)
                )
            }
            (Some(margin), None) if margin.is_zero() => {
                format!("holds with no added {knob}; {cut} before it tried more")
            }
            (Some(margin), None) => {
                format!("holds up to at least {} of {knob}; {cut} before it tried more", human(margin))
            }
        }
    }
}

/// A latency for people: `0 s`, `850.0 ms`, `2.95 s`.
pub fn human(d: Duration) -> String {
    if d.is_zero() { "0 s".to_owned() } else { format_duration(nanos(d)) }
}

fn nanos(d: Duration) -> Nanos {
    d.as_nanos() as Nanos
}

/// Runs the search: `base` replays (its `delivery_latency` kept under the API knob) against the
/// app through `mock`, whose latency is `base_api` (kept under the delivery knob, reseeded each
/// step) and is restored at the end. `on_step` hears of each step as it finishes. The error is
/// an HTTP client that cannot be made.
pub async fn find_margin(
    mock: Arc<MockSlack>,
    capture: Arc<Capture>,
    base: &ReplayConfig,
    base_api: &ApiLatency,
    search: &Search,
    mut on_step: impl FnMut(&Step),
    cancel: CancellationToken,
) -> Result<Outcome, String> {
    let deadline = tokio::time::Instant::now() + search.budget;
    let mut outcome = Outcome { search: search.clone(), steps: Vec::new(), cut: None };
    let mut step = async |k: u64, outcome: &mut Outcome| -> Result<Option<bool>, String> {
        let latency = search.latency(k);
        let mut config = base.clone();
        match search.knob {
            Knob::Delivery => {
                config.delivery_latency = latency;
                mock.set_latency(base_api.clone(), search.seed);
            }
            Knob::Api => mock.set_latency(ApiLatency::every(Spread::Fixed(latency)), search.seed),
        }
        let stop = cancel.child_token();
        let replay = replay_all(mock.clone(), capture.clone(), Arc::new(config), None, stop.clone());
        tokio::pin!(replay);
        let results = tokio::select! {
            results = &mut replay => results?,
            () = tokio::time::sleep_until(deadline) => {
                stop.cancel();
                replay.await?;
                outcome.cut = Some(Cut::Budget);
                return Ok(None);
            }
        };
        if cancel.is_cancelled() {
            outcome.cut = Some(Cut::Cancelled);
            return Ok(None);
        }
        let done = Step::of(latency, &results);
        on_step(&done);
        let passed = done.passed();
        outcome.steps.push(done);
        Ok(Some(passed))
    };
    let result = async {
        // At 0 first: a fix that fails as it is has no margin to find.
        if step(0, &mut outcome).await? != Some(true) {
            return Ok(());
        }
        let (mut lo, mut hi) = (0, search.top());
        match step(hi, &mut outcome).await? {
            Some(false) => {}
            _ => return Ok(()),
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            match step(mid, &mut outcome).await? {
                Some(true) => lo = mid,
                Some(false) => hi = mid,
                None => return Ok(()),
            }
        }
        Ok::<(), String>(())
    }
    .await;
    mock.set_latency(base_api.clone(), search.seed);
    result.map(|()| outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(latency_ms: u64, failed: usize, reason: &str) -> Step {
        let first_failure = (failed > 0).then(|| FirstFailure { run: 1, reason: reason.to_owned() });
        Step { latency: Duration::from_millis(latency_ms), runs: 10, failed, answered: 10, first_failure }
    }

    fn outcome(steps: Vec<Step>, cut: Option<Cut>) -> Outcome {
        Outcome { search: Search::new(Knob::Delivery), steps, cut }
    }

    #[test]
    fn the_margin_is_the_largest_pass_below_the_smallest_failure() {
        let o = outcome(
            vec![
                step(0, 0, ""),
                step(5000, 10, "views.open arrived at 5.01 s: expired_trigger_id"),
                step(2500, 0, ""),
                step(3750, 10, "x"),
                step(3100, 10, "views.open arrived at 3.11 s: expired_trigger_id"),
                step(2800, 0, ""),
                step(2950, 0, ""),
                step(3000, 3, "views.open arrived at 3.01 s: expired_trigger_id"),
            ],
            None,
        );
        assert_eq!(o.margin(), Some(Duration::from_millis(2950)));
        assert_eq!(
            o.sentence(),
            "holds up to 2.95 s of delivery latency; at 3.00 s views.open arrived at 3.01 s: expired_trigger_id"
        );
        assert!(o.narrowed());
        assert_eq!(o.rates().first(), Some(&(Duration::ZERO, 0.0)));
        assert_eq!(o.rates().last(), Some(&(Duration::from_secs(5), 1.0)));
    }

    #[test]
    fn every_ending_is_said() {
        let none = outcome(vec![step(0, 3, "views.open arrived at 3.52 s: expired_trigger_id")], None);
        assert!(none.fails_at_zero());
        assert_eq!(
            none.sentence(),
            "no margin: it fails with no added delivery latency: 3 of 10 runs failed; run 1: views.open arrived at 3.52 s: expired_trigger_id"
        );
        let all = outcome(vec![step(0, 0, ""), step(5000, 0, "")], None);
        assert!(all.sentence().starts_with("holds up to at least 5.00 s of delivery latency (--margin-max)"));
        let cut = outcome(vec![step(0, 0, ""), step(5000, 10, "late"), step(2500, 0, "")], Some(Cut::Budget));
        assert_eq!(
            cut.sentence(),
            "holds up to 2.50 s of delivery latency; at 5.00 s late; the search ran out of its 120 s budget before narrowing it to 50.0 ms"
        );
        let nothing = outcome(Vec::new(), Some(Cut::Cancelled));
        assert_eq!(nothing.sentence(), "no answer: the search was stopped before its first step finished");
    }

    #[test]
    fn the_grid_ends_at_the_maximum() {
        let mut search = Search::new(Knob::Api);
        search.max = Duration::from_millis(1020);
        assert_eq!(search.top(), 21);
        assert_eq!(search.latency(20), Duration::from_secs(1));
        assert_eq!(search.latency(21), Duration::from_millis(1020));
    }
}
