//! `tracedeck replay --find-margin [delivery|api]`: how much injected latency the fix survives
//! ([`crate::replay::margin`]), with its options, its progress on stderr, its report and its exit
//! status: 0 when the replay holds with no added latency (the margin is measured), 1 when it
//! fails there already (no margin), 2 when the target never answered or no step finished.

use std::io::Write;
use std::sync::Arc;

use clap::Args;
use tokio_util::sync::CancellationToken;

use super::Status;
use crate::model::{Nanos, parse_duration, std_duration};
use crate::replay::capture::Capture;
use crate::replay::driver::ReplayConfig;
use crate::replay::latency::ApiLatency;
use crate::replay::margin::{self, Knob, Outcome, Search, human};
use crate::replay::margin_report::MarginReport;
use crate::replay::mock::MockSlack;
use crate::replay::report::ReportFormat;
use crate::replay::warmth;

/// The margin search's options of `tracedeck replay`.
#[derive(Args, Debug)]
pub struct MarginArgs {
    /// Find how much injected latency the replay survives: replays (--runs a step) at latencies
    /// chosen by bisection between 0 and --margin-max, and says the largest at which every run
    /// passed and what broke first past it. `delivery` (the default) delays the interaction,
    /// `api` every Web API answer.
    #[arg(
        long,
        value_enum,
        value_name = "KNOB",
        num_args = 0..=1,
        default_missing_value = "delivery",
        conflicts_with_all = ["session", "runs_until", "max_failure_rate", "traces", "receive", "sentry"]
    )]
    pub find_margin: Option<Knob>,
    /// The largest latency the margin search tries.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration, requires = "find_margin")]
    pub margin_max: Nanos,
    /// How close the margin search narrows the margin (the latencies tried are multiples of it).
    #[arg(long, value_name = "DURATION", default_value = "50ms", value_parser = positive_duration, requires = "find_margin")]
    pub margin_resolution: Nanos,
    /// The margin search's time bound: a step still running then is stopped and not counted,
    /// and the report says how far the search got.
    #[arg(long, value_name = "DURATION", default_value = "2min", value_parser = positive_duration, requires = "find_margin")]
    pub margin_budget: Nanos,
}

fn positive_duration(text: &str) -> Result<Nanos, String> {
    match parse_duration(text)? {
        0 => Err(format!("{text:?} is zero; give a duration above 0")),
        n => Ok(n),
    }
}

/// What stays as given while the search moves its knob.
pub(super) struct Fixed<'a> {
    /// `--api-latency`.
    pub api_latency: &'a ApiLatency,
    /// `--seed`.
    pub seed: u64,
    /// `--warmup`: unjudged replays of each interaction before the search.
    pub warmup: usize,
}

/// Runs the search (`--find-margin`'s knob) against the app through `mock`, each step with
/// `config` (its runs and concurrency), saying each step on `err` as it finishes.
pub(super) async fn search(
    args: &MarginArgs,
    fixed: Fixed<'_>,
    mock: Arc<MockSlack>,
    capture: Arc<Capture>,
    config: &ReplayConfig,
    cancel: &CancellationToken,
    err: &mut dyn Write,
) -> Result<Outcome, String> {
    let knob = args.find_margin.unwrap_or(Knob::Delivery);
    let search = Search {
        knob,
        max: std_duration(args.margin_max),
        resolution: std_duration(args.margin_resolution),
        budget: std_duration(args.margin_budget),
        seed: fixed.seed,
    };
    if fixed.warmup > 0 {
        warmth::warm_up(mock.clone(), capture.clone(), config, fixed.warmup, cancel.clone()).await?;
    }
    let _ = writeln!(
        err,
        "tracedeck: finding the {} margin: up to {} by {}, within {}",
        knob.words(),
        human(search.max),
        human(search.resolution),
        human(search.budget)
    );
    let on_step = |step: &margin::Step| {
        let _ = writeln!(
            err,
            "tracedeck: +{} {}: {} of {} runs failed",
            human(step.latency),
            knob.words(),
            step.failed,
            step.runs
        );
    };
    margin::find_margin(mock, capture, config, fixed.api_latency, &search, on_step, cancel.clone()).await
}

/// Writes the search's report in `format` and says its exit status.
pub(super) fn finish(
    report: MarginReport<'_>,
    format: ReportFormat,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Status, String> {
    report.write(format, out).map_err(|e| format!("cannot write the results: {e}"))?;
    let outcome = report.outcome;
    Ok(if outcome.steps.is_empty() {
        let _ = writeln!(err, "tracedeck: {}", outcome.sentence());
        Status::BadInput
    } else if outcome.answered() == 0 {
        let _ = writeln!(err, "tracedeck: the target {} never answered", report.target);
        Status::BadInput
    } else if outcome.fails_at_zero() {
        Status::Missed
    } else {
        Status::Met
    })
}
