//! The arguments of `tracedeck replay`, and what every way of running it (one replay, a
//! `--session`, a `--find-margin` search) reads from them: the capture's name, the wait for the
//! target, and the exit status a report comes to.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::Status;
use super::replay_margin::MarginArgs;
use super::socket_mode::{RetryWaits, parse_retry_waits};
use crate::model::parse_duration;
use crate::receiver;
use crate::replay::demo_app::Mode;
use crate::replay::demo_app::local;
use crate::replay::latency::{ApiLatency, DEFAULT_SEED};
use crate::replay::report::{Injected, Report, ReportFormat};
use crate::replay::verdict::Summary;

/// Arguments of `tracedeck replay`.
#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// The capture file (`*.capture.json`, see `tracedeck capture`).
    #[arg(value_name = "CAPTURE", required_unless_present = "demo")]
    pub capture: Option<PathBuf>,
    /// The app's endpoint, e.g. http://127.0.0.1:3000 (the captured path is used when the URL has none).
    #[arg(
        long,
        value_name = "URL",
        required_unless_present_any = ["socket_mode", "demo"],
        conflicts_with = "socket_mode"
    )]
    pub target: Option<String>,
    /// Try the replay without an app of your own: the built-in demo Slack app, buggy (its queue
    /// sometimes opens the modal after the trigger expired) or fixed (a loading modal at once),
    /// runs in this process and the built-in capture of the incident's click is replayed against
    /// it; no secrets needed.
    #[arg(long, value_enum, value_name = "MODE", conflicts_with_all = ["capture", "target", "socket_mode", "session"])]
    pub demo: Option<Mode>,
    /// Deliver over Socket Mode instead of HTTP: the app (given SLACK_APP_TOKEN and the mock's
    /// Web API URL) calls apps.connections.open and connects to the mock's WebSocket; the replay
    /// waits up to --timeout for it, then sends each interaction as an envelope, round-robin over
    /// the app's connections.
    #[arg(long, conflicts_with_all = ["session", "wait_for_target"])]
    pub socket_mode: bool,
    /// Socket Mode: ask a connection to reconnect (`disconnect`, `refresh_requested`) after every
    /// N envelopes on it, to check the app reconnects without losing one.
    #[arg(long, value_name = "N", requires = "socket_mode", value_parser = clap::value_parser!(u32).range(1..))]
    pub reconnect_every: Option<u32>,
    /// Waits before Slack's retries 1, 2, 3 of an Events API delivery not acked in time (Slack:
    /// about at once, 1 min, 5 min; shortened here), or `none`.
    #[arg(long, value_name = "LIST", default_value = "0s,2s,5s", value_parser = parse_retry_waits)]
    pub retry_waits: RetryWaits,
    /// Where the mock Slack Web API listens; start the app with its base URL http://ADDR/api/.
    /// Port 0 picks a free port (printed on stderr).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub mock_addr: SocketAddr,
    /// How many times to replay each interaction.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub runs: u32,
    /// Pass when at most this share of runs failed (e.g. 5%), instead of only when none did;
    /// like `check --max-miss-rate`: exit 1 above it, 0 at or below.
    #[arg(long, value_name = "P%", value_parser = super::parse_percent)]
    pub max_failure_rate: Option<f64>,
    /// Keep replaying (up to --runs per interaction) until the 95% upper bound on the failure rate
    /// falls under P% with no failure, or a run fails; says how many runs that took.
    #[arg(long, value_name = "P%", value_parser = super::parse_percent)]
    pub runs_until: Option<f64>,
    /// How many replays are in flight at once.
    #[arg(long, value_name = "C", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub concurrency: u32,
    /// How to print the results.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub report: ReportFormat,
    /// Allow a target (or mock address) that is not on this machine.
    #[arg(long)]
    pub allow_remote: bool,
    /// How long to wait after the app's response for its Web API calls.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub wait: crate::model::Nanos,
    /// How long to wait for the app's response before giving up on it (Socket Mode: also for the
    /// app to connect).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub timeout: crate::model::Nanos,
    /// Replay only the interaction with this name.
    #[arg(long, value_name = "NAME")]
    pub interaction: Option<String>,
    /// Save every run's trace (with the app's own spans, under --receive or --sentry) in one tracedeck file
    /// the window and `check` read.
    #[arg(long, value_name = "FILE")]
    pub traces: Option<PathBuf>,
    /// Replace the --traces file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Listen for OTLP/HTTP on this address (the app's exporter sends its spans there, e.g.
    /// 127.0.0.1:4318) and join the app's spans of each run to the run's trace, by the
    /// `traceparent` the replay sends.
    #[arg(long, value_name = "ADDR")]
    pub receive: Option<SocketAddr>,
    /// Start the mock first ("start your app now"), then wait up to DURATION for the target to
    /// accept connections before the first run (in a --session: before each round); exit 2 when
    /// it never does. An app that checks its token at start (Bolt) then finds the mock up.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait_for_target: Option<crate::model::Nanos>,
    /// Replay each interaction N times unjudged before the judged runs (to warm the app up).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub warmup: u32,
    /// An interactive session on a terminal: the mock stays up; Enter replays, `r N` sets the
    /// runs, `q` quits; each round prints its verdicts, and the session ends with every round's
    /// failure rate (exit status: the last round's).
    #[arg(long, conflicts_with_all = ["traces", "receive", "sentry"])]
    pub session: bool,
    /// With --receive: hold at most this many of the app's spans, dropping the oldest traces
    /// whole beyond it.
    #[arg(long, value_name = "N", default_value_t = receiver::DEFAULT_MAX_SPANS)]
    pub max_spans: usize,
    /// Listen for a Sentry SDK on this address (start the app with
    /// SENTRY_DSN=http://public@ADDR/1, or SENTRY_SPOTLIGHT=http://ADDR/stream) and join the
    /// app's Sentry transactions of each run to the run's trace, by the `sentry-trace` the
    /// replay sends.
    #[arg(long, value_name = "ADDR")]
    pub sentry: Option<SocketAddr>,
    /// The deadline every run is judged by (default: slack, 3 s): the ack must arrive within its
    /// limit, and with Slack's profile views.open too (the mock still expires a trigger_id after
    /// Slack's 3 s).
    #[command(flatten)]
    pub deadline: super::DeadlineArgs,
    /// Deliver each interaction this long after its click (a slow network, tunnel or proxy):
    /// the trigger is issued and Slack's deadlines start at the click, as Slack does.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub delivery_latency: crate::model::Nanos,
    /// Answer each Web API call this much later: `800ms`; `200ms..1s` (drawn per call, seeded);
    /// or per method `views.open=800ms,auth.test=200ms` (others at once). The trigger rules
    /// still judge the moment a call arrives.
    #[arg(long, value_name = "LATENCY", value_parser = ApiLatency::parse)]
    pub api_latency: Option<ApiLatency>,
    /// Seeds the --api-latency ranges drawn per call (and the demo app's queue under --demo).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    #[command(flatten)]
    pub margin: MarginArgs,
}

impl ReplayArgs {
    /// `--wait-for-target` as a duration.
    pub(super) fn wait_limit(&self) -> Option<Duration> {
        self.wait_for_target.map(crate::model::std_duration)
    }

    /// The latency injected on purpose, for the report.
    pub(super) fn injected(&self) -> Injected<'_> {
        Injected {
            delivery: crate::model::std_duration(self.delivery_latency),
            api: self.api_latency.as_ref(),
            seed: self.seed,
        }
    }

    /// The capture as named: its file, or the built-in one under `--demo`.
    pub(super) fn capture_name(&self) -> String {
        self.capture.as_ref().map_or_else(|| local::BUILT_IN_CAPTURE.to_owned(), |p| p.display().to_string())
    }
}

/// The exit status of a replay: 0 when it passed (every run, or under `--max-failure-rate` the
/// rate), 1 when not, 2 (said on `err`) when the target never answered, or when no request
/// could be sent for a reason on this side (then the capture is named, not the target).
pub(super) fn status_of(report: &Report, err: &mut dyn Write) -> Status {
    let answered = Summary::of(report.results).answered;
    let local = report.results.iter().find_map(|r| match &r.record.response {
        Some(Err(fault)) if fault.is_local() => Some(fault),
        _ => None,
    });
    if let Some(fault) = local.filter(|_| answered == 0) {
        let _ = writeln!(err, "tracedeck: {}: {fault}", report.capture);
        Status::BadInput
    } else if answered == 0 {
        let _ = writeln!(err, "tracedeck: the target {} never answered", report.target);
        Status::BadInput
    } else if report.passed() {
        Status::Met
    } else {
        Status::Missed
    }
}
