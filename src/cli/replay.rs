//! `tracedeck replay` and `tracedeck capture`: replay a captured Slack interaction against an
//! app on this machine, with a mock Slack Web API, and say whether the fix holds.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use tokio_util::sync::CancellationToken;

use super::Status;
use super::fetch::{refuse_to_replace, save};
use super::replay_args::{ReplayArgs, status_of};
use super::replay_margin as margin;
use super::replay_session as session;
use crate::formats::Format;
use crate::model::{self, Trace};
use crate::receiver::{self, Protocol, Receiver};
use crate::replay::capture::{self, Capture, CaptureError, CaptureFile};
use crate::replay::demo_app::local::{self, Local};
use crate::replay::driver::{self, ReplayConfig};
use crate::replay::margin_report::MarginReport;
use crate::replay::mock::{MockConfig, MockSlack};
use crate::replay::report::Report;
use crate::replay::session::Session;
use crate::replay::signing::Secret;
use crate::replay::verdict::{self, RunResult};

/// Arguments of `tracedeck capture`.
#[derive(Args, Debug)]
pub struct CaptureArgs {
    /// A raw HTTP request dump or a Slack payload JSON document; `-` reads stdin.
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,
    /// Where to write the capture file (default: stdout); an existing file is kept unless
    /// `--force` is given.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace the `-o` file if it exists.
    #[arg(long)]
    pub force: bool,
    /// The interaction's name in the capture.
    #[arg(long, default_value = "interaction")]
    pub name: String,
    /// Notes to keep with the capture.
    #[arg(long, default_value = "")]
    pub notes: String,
    /// The path a payload JSON input is sent to (a request dump has its own).
    #[arg(long, default_value = "/slack/events")]
    pub path: String,
}

/// Runs `tracedeck replay`: results to `out`, problems to `err`; the exit status says whether
/// every run passed (0), any failed (1), or the input was bad or the target never answered (2).
pub fn replay(args: &ReplayArgs, out: &mut dyn Write, err: &mut dyn Write) -> Status {
    match run(args, out, err) {
        Ok(status) => status,
        Err(message) => {
            let _ = writeln!(err, "tracedeck: {message}");
            Status::BadInput
        }
    }
}

fn run(args: &ReplayArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<Status, String> {
    if args.session {
        session::check_terminal(args.report)?;
    }
    let mut demo = args.demo.map(Local::bind).transpose()?;
    if let Some(demo) = &mut demo {
        demo.seed = args.seed;
    }
    let mut capture = match &args.capture {
        Some(path) => Capture::load(path).map_err(|e| e.to_string())?,
        None => Capture::parse(local::CAPTURE_JSON.as_bytes())
            .map_err(|error| CaptureError { file: local::BUILT_IN_CAPTURE.into(), error }.to_string())?,
    };
    if let Some(name) = &args.interaction {
        let names: Vec<&str> = capture.prepared.iter().map(|p| p.interaction.name.as_str()).collect();
        let names = names.join(", ");
        capture.prepared.retain(|p| &p.interaction.name == name);
        if capture.prepared.is_empty() {
            return Err(format!("{}: no interaction named {name:?} (it has {names})", args.capture_name()));
        }
    }
    refuse_to_replace(args.traces.as_deref(), args.force)?;
    let target = match (&args.target, &demo) {
        (Some(target), _) => Some(driver::resolve_target(target, args.allow_remote)?),
        (None, Some(demo)) => Some(driver::resolve_target(&demo.url, false)?),
        (None, None) => None,
    };
    let secret = |name: &str, demo_value: &str| match &demo {
        Some(_) => Ok(Secret::new(demo_value)),
        None => Secret::from_env(name),
    };
    if !args.mock_addr.ip().is_loopback() && !args.allow_remote {
        return Err(format!("the mock address {} is not loopback; that needs --allow-remote", args.mock_addr));
    }
    // Over HTTP the replay signs with the signing secret; in Socket Mode the app connects with its app token.
    let (http, app_token) = match target {
        Some(target) => (Some(ReplayConfig::new(target, secret("SLACK_SIGNING_SECRET", local::SECRET)?)), None),
        None => {
            let app_token = Secret::from_env("SLACK_APP_TOKEN")
                .map_err(|e| format!("{e} (the app-level token the app sends to apps.connections.open)"))?;
            (None, Some(app_token))
        }
    };
    let token = secret("SLACK_BOT_TOKEN", local::TOKEN)
        .map_err(|e| format!("{e} (the token the app sends to the mock Web API)"))?;
    let mut mock_config = MockConfig::new(token);
    mock_config.app_token = app_token;
    mock_config.latency = args.api_latency.clone().unwrap_or_default();
    mock_config.seed = args.seed;
    let interactions = capture.prepared.len();
    let profile = Arc::new(args.deadline.or_default());
    let wait = model::std_duration(args.wait);
    let configure = |mut config: ReplayConfig| {
        config.profile = profile.clone();
        config.runs = args.runs as usize;
        config.until = args.runs_until.map(|p| p / 100.0);
        config.concurrency = args.concurrency as usize;
        config.wait = wait;
        config.response_timeout = Duration::from_nanos(args.timeout.max(1) as u64);
        config.retry_waits = args.retry_waits.0.clone();
        config.delivery_latency = model::std_duration(args.delivery_latency);
        config
    };
    let http = http.map(configure);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    if args.session {
        // --session conflicts with --socket-mode, so the target is there.
        let config = http.ok_or("--session replays to a --target")?;
        return runtime.block_on(async {
            let cancel = CancellationToken::new();
            let (mock, _) = start_mock(args, mock_config, &cancel, err).await?;
            let status = session::run(args, mock.clone(), Arc::new(capture), config, out, err).await;
            cancel.cancel();
            status
        });
    }
    let done = runtime.block_on(async {
        let cancel = CancellationToken::new();
        let listeners = [(Protocol::Otlp, args.receive), (Protocol::Sentry, args.sentry)];
        let receiver = match listeners.iter().any(|(_, addr)| addr.is_some()) {
            true => {
                let mut receiver = Receiver::with_max_spans(args.max_spans);
                for (protocol, addr) in listeners {
                    let Some(addr) = addr else { continue };
                    let addr = receiver.listen(protocol, &receiver::Config::at(addr, args.allow_remote)).await?;
                    let _ = writeln!(
                        err,
                        "tracedeck: receiving the app's spans over {protocol}: {}",
                        protocol.endpoints(addr)
                    );
                }
                Some(receiver)
            }
            false => None,
        };
        let (mock, mock_url) = start_mock(args, mock_config, &cancel, err).await?;
        if let Some(demo) = demo {
            let _ = writeln!(err, "tracedeck: the demo app ({:?}) runs at {}", demo.mode, demo.url);
            tokio::spawn(demo.serve(mock_url.clone(), cancel.clone()));
        }
        let stop = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.cancel();
            }
        });
        let config = match http {
            Some(config) => config,
            None => {
                let every = args.reconnect_every.map(|n| n as usize);
                let config = configure(ReplayConfig::socket_mode(&mock, every));
                super::socket_mode::wait_for_app(&mock, config.response_timeout, &cancel, err).await?;
                config
            }
        };
        let target = match (&args.target, &config.transport) {
            (Some(target), _) => target.clone(),
            (None, driver::Transport::Http) => format!("the demo app at {}", config.target),
            (None, driver::Transport::SocketMode { .. }) => format!("Socket Mode ({})", config.target),
        };
        if let Some(limit) = args.wait_limit() {
            session::wait_for_target(&config.target, limit, &cancel, err).await?;
        }
        if args.margin.find_margin.is_some() {
            let api_latency = args.api_latency.clone().unwrap_or_default();
            let fixed = margin::Fixed { api_latency: &api_latency, seed: args.seed, warmup: args.warmup as usize };
            let capture = Arc::new(capture);
            let outcome = margin::search(&args.margin, fixed, mock.clone(), capture, &config, &cancel, err).await;
            cancel.cancel();
            if let Ok(mock) = Arc::try_unwrap(mock) {
                mock.stop().await;
            }
            return Ok(Done::Margin(outcome?, mock_url, target));
        }
        let mut session = Session::new(mock.clone());
        let results =
            session.round(Arc::new(capture), Arc::new(config), args.warmup as usize, None, cancel.clone()).await;
        drop(session);
        for problem in mock.socket_mode().problems() {
            let _ = writeln!(err, "tracedeck: Socket Mode: {problem}");
        }
        cancel.cancel();
        if let Ok(mock) = Arc::try_unwrap(mock) {
            mock.stop().await;
        }
        let (round, results) = results?;
        if round.warmed_up > 0 {
            let _ = writeln!(err, "tracedeck: {} warm-up run(s) went first, not judged", round.warmed_up);
        }
        let app_traces = match &receiver {
            Some(receiver) => {
                let traces = received(receiver, &results, wait).await;
                let status = receiver.status();
                if status.dropped.traces > 0 {
                    let _ = writeln!(
                        err,
                        "tracedeck: receiver {}",
                        receiver::dropped_text(status.dropped, status.max_spans)
                    );
                }
                traces
            }
            None => Vec::new(),
        };
        Ok::<_, String>(Done::Replay(results, mock_url, app_traces, round.notes, target))
    })?;
    let (results, mock_url, app_traces, notes, target) = match done {
        Done::Replay(results, mock_url, app_traces, notes, target) => (results, mock_url, app_traces, notes, target),
        Done::Margin(outcome, mock_url, target) => {
            let capture = args.capture_name();
            let report = MarginReport {
                capture: &capture,
                target: &target,
                mock: &mock_url,
                runs_per_step: args.runs as usize,
                delivery_latency: model::std_duration(args.delivery_latency),
                api_latency: args.api_latency.clone().unwrap_or_default().to_string(),
                outcome: &outcome,
            };
            return margin::finish(report, args.report, out, err);
        }
    };
    if let Some(path) = &args.traces {
        save_traces(path, &results, &mock_url, &app_traces, args.force)?;
        let _ = writeln!(err, "tracedeck: saved {} run trace(s) in {}", results.len(), path.display());
    }
    let file = args.capture_name();
    if let Some(until) = args.runs_until {
        let limit = args.runs as usize * interactions;
        let _ = writeln!(err, "tracedeck: {}", verdict::until_outcome(&results, until / 100.0, limit));
    }
    let report = Report {
        capture: &file,
        target: &target,
        mock: &mock_url,
        profile: &profile,
        results: &results,
        max_failure_rate: args.max_failure_rate,
        notes: &notes,
        injected: args.injected(),
    };
    report.write(args.report, out).map_err(|e| format!("cannot write the results: {e}"))?;
    Ok(status_of(&report, err))
}

/// What the replay came to: runs (with the mock's URL, the app's traces, notes and the target
/// as named), or a margin search's outcome.
enum Done {
    Replay(Vec<RunResult>, String, Vec<Option<Arc<Trace>>>, Vec<String>, String),
    Margin(crate::replay::margin::Outcome, String, String),
}

/// Starts the mock Web API at `--mock-addr` and says where it is: with `--wait-for-target` or
/// `--session` as the first step ("start your app now"), else as the place the app must call.
async fn start_mock(
    args: &ReplayArgs,
    config: MockConfig,
    cancel: &CancellationToken,
    err: &mut dyn Write,
) -> Result<(Arc<MockSlack>, String), String> {
    let mock = MockSlack::start(args.mock_addr, config, cancel.clone())
        .await
        .map_err(|e| format!("cannot listen on {} for the mock Web API: {e}", args.mock_addr))?;
    let url = mock.api_url();
    if args.wait_for_target.is_some() || args.session {
        let _ = writeln!(err, "tracedeck: mock Slack Web API up at {url}; start your app now");
    } else {
        let _ = writeln!(err, "tracedeck: mock Slack Web API at {url} (point the app's Slack client there)");
    }
    Ok((Arc::new(mock), url))
}

/// The app's spans of each run, from the receiver, waiting up to `wait` for every run's spans
/// to arrive (exporters send in batches).
async fn received(receiver: &Receiver, results: &[RunResult], wait: Duration) -> Vec<Option<Arc<Trace>>> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let traces: Vec<Option<Arc<Trace>>> =
            results.iter().map(|r| receiver.trace(r.record.trace_id).ok().flatten()).collect();
        if traces.iter().all(Option::is_some) || tokio::time::Instant::now() >= deadline {
            return traces;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Writes every run's trace, joined with the app's spans of it when there are any, as one
/// tracedeck file.
fn save_traces(
    path: &Path,
    results: &[RunResult],
    mock_url: &str,
    app: &[Option<Arc<Trace>>],
    force: bool,
) -> Result<(), String> {
    let mut runs = Vec::with_capacity(results.len());
    for (i, result) in results.iter().enumerate() {
        let replayed = crate::replay::trace::build(&result.record, mock_url);
        match app.get(i).cloned().flatten() {
            Some(app) => runs.extend(model::merge(&[&replayed, &app]).map_err(|e| {
                format!("run {}: the app's spans cannot be joined to the run: {e}", result.record.index)
            })?),
            None => runs.push(replayed),
        }
    }
    let mut bytes = Vec::new();
    Format::Tracedeck.write(&runs, &mut bytes).map_err(|e| e.to_string())?;
    save(path, &bytes, force).map_err(|e| format!("{}: cannot write: {e}", path.display()))
}

/// Runs `tracedeck capture`: writes a capture file made from a request dump or payload JSON.
pub fn capture(args: &CaptureArgs, out: &mut dyn Write, err: &mut dyn Write) -> Status {
    let source = args.input.display().to_string();
    let result = (|| {
        refuse_to_replace(args.output.as_deref(), args.force)?;
        let mut input = Vec::new();
        if source == "-" {
            std::io::stdin().read_to_end(&mut input).map_err(|e| format!("cannot read stdin: {e}"))?;
        } else {
            input = std::fs::read(&args.input).map_err(|e| format!("{source}: cannot read the file: {e}"))?;
        }
        let interaction = capture::from_input(&input, &args.name, &args.path)
            .map_err(|e| format!("{source}: at {}: {}", e.place, e.message))?;
        let file = CaptureFile::single(interaction, args.notes.clone());
        let mut text = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?;
        text.push('\n');
        match &args.output {
            Some(path) => {
                save(path, text.as_bytes(), args.force).map_err(|e| format!("{}: cannot write: {e}", path.display()))
            }
            None => out.write_all(text.as_bytes()).map_err(|e| format!("cannot write: {e}")),
        }
    })();
    match result {
        Ok(()) => Status::Met,
        Err(message) => {
            let _ = writeln!(err, "tracedeck: {message}");
            Status::BadInput
        }
    }
}
