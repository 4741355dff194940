//! `tracedeck receive`: listen for OTLP and Sentry SDKs without a window, judge each trace once
//! it stops growing, and save everything received, for CI and scripts.
//!
//! A trace is complete after `--idle` with no new spans; its verdict is printed then, as `check`
//! prints it. Receiving stops after `--max-traces` complete traces, after `--for`, or on Ctrl-C;
//! traces still growing then are judged too (with a note). Every received trace is then written
//! to `-o FILE`. The exit status is `check`'s: 0 when none missed the deadline, 1 when one did,
//! 2 when a listener could not start, a body was refused, a trace could not be judged, or
//! nothing arrived.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use foldhash::{HashMap, HashSet};
use tokio::time::Instant;

use super::fetch::{refuse_to_replace, save};
use super::report::{Report, TraceReport};
use super::{Status, parse_positive_duration, parse_profile};
use crate::analysis::{Outcome, Profile, Sample, Summary, analyze};
use crate::formats::Format;
use crate::model::{Nanos, Trace, TraceId};
use crate::receiver::{Config, Protocol, Receiver};

/// Arguments of `tracedeck receive`.
#[derive(Args, Debug)]
pub struct ReceiveArgs {
    /// Listen for OTLP/HTTP (`POST /v1/traces`) here. Without --otlp and --sentry, both listen on
    /// their usual ports: 127.0.0.1:4318 and 127.0.0.1:8969.
    #[arg(long, value_name = "ADDR")]
    pub otlp: Option<SocketAddr>,
    /// Listen for Sentry SDKs here: give them SENTRY_DSN=http://public@ADDR/1 (any key and
    /// project) or SENTRY_SPOTLIGHT=http://ADDR/stream.
    #[arg(long, value_name = "ADDR")]
    pub sentry: Option<SocketAddr>,
    /// Allow listening on an address other machines can reach.
    #[arg(long)]
    pub allow_remote: bool,
    /// Write every received trace here when done: OTLP JSON when the name ends in .otlp.json
    /// (likewise .sentry.json, .jaeger.json, .zipkin.json, .chrome.json), else tracedeck's format.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
    /// Stop after this many complete traces.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_traces: Option<u32>,
    /// A trace is complete after this long without new spans: 2s, 500ms.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_positive_duration)]
    pub idle: Nanos,
    /// Stop after this long: 30s, 5m.
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_positive_duration)]
    pub duration: Option<Nanos>,
    /// The platform whose deadline the traces are judged against.
    #[arg(long, value_name = "NAME", default_value = Profile::DEFAULT, value_parser = parse_profile)]
    pub profile: Profile,
    /// Hold at most this many spans; beyond it the oldest traces are dropped whole (and said so).
    #[arg(long, value_name = "N", default_value_t = crate::receiver::DEFAULT_MAX_SPANS)]
    pub max_spans: usize,
}

impl ReceiveArgs {
    /// The listeners asked for: those given, or both at their usual addresses.
    fn listeners(&self) -> Vec<(Protocol, SocketAddr)> {
        let given: Vec<(Protocol, SocketAddr)> = [(Protocol::Otlp, self.otlp), (Protocol::Sentry, self.sentry)]
            .into_iter()
            .filter_map(|(p, a)| Some((p, a?)))
            .collect();
        if given.is_empty() { Protocol::ALL.iter().map(|&p| (p, p.default_addr())).collect() } else { given }
    }

    /// The format of `-o FILE`, by its name's ending.
    fn output_format(path: &Path) -> Format {
        let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
        Format::ALL.into_iter().find(|f| name.ends_with(f.extension())).unwrap_or(Format::Tracedeck)
    }
}

/// Runs `tracedeck receive`: verdicts to `out`, where to send and problems to `err`.
pub fn receive(args: &ReceiveArgs, out: &mut dyn Write, err: &mut dyn Write) -> Status {
    match run(args, out, err) {
        Ok(status) => status,
        Err(message) => {
            let _ = writeln!(err, "tracedeck: {message}");
            Status::BadInput
        }
    }
}

fn run(args: &ReceiveArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<Status, String> {
    refuse_to_replace(args.output.as_deref(), args.force)?;
    let runtime = super::fetch::runtime()?;
    let (receiver, judged) = runtime.block_on(async {
        let mut receiver = Receiver::with_max_spans(args.max_spans);
        for (protocol, addr) in args.listeners() {
            let addr = receiver.listen(protocol, &Config::at(addr, args.allow_remote)).await?;
            let _ = writeln!(err, "tracedeck: receiving {protocol}: {}", protocol.endpoints(addr));
        }
        let _ = err.flush();
        Report::new(&args.profile).write_text_header(out).map_err(write_error)?;
        let judged = Judge::new(args, out, err).run(&receiver).await.map_err(write_error)?;
        Ok::<_, String>((receiver, judged))
    })?;

    let status = receiver.status();
    let _ = writeln!(err, "tracedeck: received {} spans in {} traces", status.spans, status.traces);
    if status.refused > 0 {
        let _ = writeln!(err, "tracedeck: {} bodies were refused (each got a 400 or 413 saying why)", status.refused);
    }
    if status.dropped.traces > 0 {
        let _ = writeln!(err, "tracedeck: {}", crate::receiver::dropped_text(status.dropped, status.max_spans));
    }
    if let Some(path) = &args.output {
        save_traces(path, &receiver, args.force, err)?;
    }
    let summary = Summary::of(judged.iter().copied());
    let undecided = judged.iter().any(|s| s.outcome == Outcome::Undecided);
    Ok(Status::of(summary.rate, None, undecided || status.refused > 0, false))
}

fn write_error(e: io::Error) -> String {
    format!("cannot write the results: {e}")
}

/// Watches the receiver, judging each trace when it is complete.
struct Judge<'a> {
    args: &'a ReceiveArgs,
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    /// Spans seen of each trace not yet judged, and when that count last changed.
    growing: HashMap<TraceId, (usize, Instant)>,
    judged: HashSet<TraceId>,
    samples: Vec<Sample>,
}

impl<'a> Judge<'a> {
    fn new(args: &'a ReceiveArgs, out: &'a mut dyn Write, err: &'a mut dyn Write) -> Self {
        Judge { args, out, err, growing: HashMap::default(), judged: HashSet::default(), samples: Vec::new() }
    }

    /// Receives until a stop condition, then judges what is still growing; the samples judged.
    async fn run(mut self, receiver: &Receiver) -> io::Result<Vec<Sample>> {
        let idle = Duration::from_nanos(self.args.idle.unsigned_abs());
        let end = self.args.duration.map(|d| Instant::now() + Duration::from_nanos(d.unsigned_abs()));
        let max = self.args.max_traces.map_or(usize::MAX, |n| n as usize);
        let mut changes = receiver.subscribe();
        let interrupted = tokio::signal::ctrl_c();
        tokio::pin!(interrupted);
        loop {
            let now = Instant::now();
            for (id, spans) in receiver.span_counts() {
                if self.judged.contains(&id) {
                    continue;
                }
                let entry = self.growing.entry(id).or_insert((spans, now));
                if entry.0 != spans {
                    *entry = (spans, now);
                }
            }
            let mut complete: Vec<(TraceId, Instant)> =
                self.growing.iter().filter(|(_, (_, at))| now >= *at + idle).map(|(&id, &(_, at))| (id, at)).collect();
            complete.sort_by_key(|&(_, at)| at);
            for (id, _) in complete {
                if self.samples.len() < max {
                    self.judge(receiver, id)?;
                }
            }
            if self.samples.len() >= max || end.is_some_and(|end| now >= end) {
                break;
            }
            let next_idle = self.growing.values().map(|&(_, at)| at + idle).min();
            let wake = [next_idle, end].into_iter().flatten().min().unwrap_or(now + Duration::from_secs(3600));
            tokio::select! {
                _ = changes.changed() => {}
                _ = tokio::time::sleep_until(wake) => {}
                _ = &mut interrupted => break,
            }
        }
        let mut left: Vec<(TraceId, Instant)> = self.growing.iter().map(|(&id, &(_, at))| (id, at)).collect();
        left.sort_by_key(|&(_, at)| at);
        for (id, _) in left {
            writeln!(self.err, "tracedeck: note: trace {id} was still receiving spans when receiving stopped")?;
            self.judge(receiver, id)?;
        }
        Ok(self.samples)
    }

    /// Prints one trace's verdict as `check` does.
    fn judge(&mut self, receiver: &Receiver, id: TraceId) -> io::Result<()> {
        self.growing.remove(&id);
        self.judged.insert(id);
        let trace: Arc<Trace> = match receiver.trace(id) {
            Ok(Some(trace)) => trace,
            Ok(None) => return Ok(()),
            Err(e) => {
                writeln!(self.err, "tracedeck: trace {id}: its spans cannot be assembled: {e}")?;
                self.samples.push(Sample { outcome: Outcome::Undecided, response: None });
                return Ok(());
            }
        };
        let verdict = analyze(&trace, &self.args.profile);
        self.samples.push(Sample::of(&verdict));
        if verdict.outcome == Outcome::Undecided {
            writeln!(self.err, "tracedeck: received: trace {id} {}", verdict.headline())?;
        }
        TraceReport::new(vec!["received".to_owned()], "received live", &trace, &verdict).write_text(self.out)?;
        self.out.flush()
    }
}

/// Writes every received trace to `path`, in the format its name says.
fn save_traces(path: &Path, receiver: &Receiver, force: bool, err: &mut dyn Write) -> Result<(), String> {
    let mut traces = Vec::new();
    for id in receiver.trace_ids() {
        match receiver.trace(id) {
            Ok(Some(trace)) => traces.push(trace),
            Ok(None) => {}
            Err(e) => {
                let _ = writeln!(err, "tracedeck: trace {id} is not saved: its spans cannot be assembled: {e}");
            }
        }
    }
    if traces.is_empty() {
        let _ = writeln!(err, "tracedeck: nothing was received, so nothing was saved to {}", path.display());
        return Ok(());
    }
    let format = ReceiveArgs::output_format(path);
    let refs: Vec<&Trace> = traces.iter().map(|t| &**t).collect();
    let mut bytes = Vec::new();
    format.write_refs(&refs, &mut bytes).map_err(|e| format!("cannot encode the traces: {e}"))?;
    save(path, &bytes, force).map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    let _ = writeln!(err, "tracedeck: saved {} trace(s) to {} as {format}", traces.len(), path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn args(extra: &[&str]) -> ReceiveArgs {
        match Cli::try_parse_from(["tracedeck", "receive"].iter().chain(extra)).unwrap().command {
            Some(Command::Receive(args)) => args,
            other => panic!("expected receive, got {other:?}"),
        }
    }

    #[test]
    fn without_addresses_both_listen_on_their_usual_ports() {
        let both = args(&[]);
        let expected = [(Protocol::Otlp, "127.0.0.1:4318"), (Protocol::Sentry, "127.0.0.1:8969")];
        assert_eq!(both.listeners(), expected.map(|(p, a)| (p, a.parse().unwrap())));
        assert_eq!((both.idle, both.max_traces, both.duration), (2_000_000_000, None, None));
        let one = args(&["--sentry", "127.0.0.1:0", "--idle", "500ms", "--for", "1m", "--max-traces", "3"]);
        assert_eq!(one.listeners(), [(Protocol::Sentry, "127.0.0.1:0".parse().unwrap())]);
        assert_eq!((one.idle, one.max_traces, one.duration), (500_000_000, Some(3), Some(60_000_000_000)));
        for bad in [&["--max-traces", "0"][..], &["--idle", "0s"], &["--sentry", "localhost"]] {
            assert!(Cli::try_parse_from(["tracedeck", "receive"].iter().chain(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_output_format_follows_the_file_name() {
        let format = |name: &str| ReceiveArgs::output_format(Path::new(name));
        assert_eq!(format("out/run.otlp.json"), Format::Otlp);
        assert_eq!(format("RUN.SENTRY.JSON"), Format::Sentry);
        assert_eq!(format("run.tracedeck.json"), Format::Tracedeck);
        assert_eq!(format("run.json"), Format::Tracedeck);
    }
}
