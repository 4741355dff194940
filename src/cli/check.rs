//! `tracedeck check`: read trace files and folders, judge every trace, print, optionally sum
//! up, and say by the exit status.

use std::io::{self, Write};

use super::report::{FileError, Report, TraceReport};
use super::summary::{Gate, SummaryReport, WorstTrace};
use super::{CheckArgs, Format};
use crate::analysis::{Outcome, Sample, Summary, analyze, by_endpoint};
use crate::corpus::{self, Progress};
use crate::model::Trace;

/// The exit status of `check`, worst wins.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
#[repr(u8)]
pub enum Status {
    /// Every trace met its deadline (or, with `--max-miss-rate`, few enough missed).
    Met = 0,
    /// At least one trace missed it (or, with `--max-miss-rate`, too many did).
    Missed = 1,
    /// A file could not be read or imported, or a trace could not be judged (unless
    /// `--keep-going`), or no trace was judged at all.
    BadInput = 2,
}

/// Runs `check`: results to `out` (text, or one JSON document `{profile, traces, errors,
/// summary}` with every time as `{ms, ns}` from the clock's start), problems also to `err`.
pub fn check(args: &CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> Status {
    check_with_progress(args, out, err, &|_| {})
}

/// [`check`], calling `progress` after each file is loaded (from the loading threads).
pub fn check_with_progress(
    args: &CheckArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
    progress: &(dyn Fn(Progress) + Sync),
) -> Status {
    check_files(args, out, err, progress).unwrap_or_else(|e| {
        let _ = writeln!(err, "tracedeck: cannot write the results: {e}");
        Status::BadInput
    })
}

fn check_files(
    args: &CheckArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
    progress: &(dyn Fn(Progress) + Sync),
) -> io::Result<Status> {
    let profile = args.profile();
    let mut report = Report::new(&profile);
    if args.quiet {
        report.traces = None;
    }
    if args.format == Format::Text {
        report.write_text_header(out)?;
    }
    let corpus = corpus::load(&args.files, progress);
    for error in &corpus.errors {
        writeln!(err, "tracedeck: {}", error.message)?;
        report.errors.push(FileError { file: error.path.display().to_string(), message: error.message.clone() });
    }
    for (id, files) in corpus.split_traces() {
        let names: Vec<String> = files.iter().map(|&f| corpus.files[f].path.display().to_string()).collect();
        writeln!(err, "tracedeck: note: trace {id} is in several files, judged apart in each: {}", names.join(", "))?;
    }

    let mut samples = Vec::with_capacity(corpus.traces.len());
    let mut undecided = false;
    for loaded in &corpus.traces {
        let (trace, source) = (&loaded.trace, &corpus.files[loaded.file]);
        let file = source.path.display().to_string();
        let verdict = analyze(trace, &profile);
        samples.push(Sample::of(&verdict));
        if verdict.outcome == Outcome::Undecided {
            undecided = true;
            writeln!(err, "tracedeck: {file}: trace {} {}", trace.trace_id(), verdict.headline())?;
        }
        if args.quiet {
            continue;
        }
        let entry = TraceReport::new(&file, source.format, trace, &verdict);
        match &mut report.traces {
            Some(traces) if args.format == Format::Json => traces.push(entry),
            _ => entry.write_text(out)?,
        }
    }

    if corpus.traces.is_empty() && corpus.errors.is_empty() {
        writeln!(err, "tracedeck: no trace files found in {}", names(&args.files))?;
    }
    let summary = Summary::of(samples.iter().copied());
    let gate = args.max_miss_rate.map(|max| Gate::new(summary.rate, max));
    let missed = match &gate {
        Some(gate) => !gate.passed,
        None => summary.rate.missed > 0,
    };
    let bad = !corpus.errors.is_empty() || undecided;
    let status = if summary.rate.judged == 0 || (bad && !args.keep_going) {
        Status::BadInput
    } else if missed {
        Status::Missed
    } else {
        Status::Met
    };

    if args.summary || gate.is_some() {
        let endpoints = by_endpoint(corpus.traces.iter().map(|t| root_name(&t.trace)).zip(samples.iter().copied()));
        let worst =
            summary.worst.and_then(|i| corpus.traces.get(i).map(|t| (t, samples[i]))).map(|(t, s)| WorstTrace {
                trace_id: t.trace.trace_id().to_string(),
                file: corpus.file_of(t).display().to_string(),
                root: root_name(&t.trace).to_owned(),
                outcome: s.outcome,
                response: super::report::Time(s.response.unwrap_or_default()),
            });
        let files = (corpus.files.len(), corpus.errors.len());
        let summary = SummaryReport::new(&summary, &endpoints, profile.limit, files, worst, gate);
        match args.format {
            Format::Text => summary.write_text(out)?,
            Format::Json => report.summary = Some(summary),
        }
    }
    if args.format == Format::Json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    }
    Ok(status)
}

fn names(paths: &[std::path::PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// The endpoint a trace answers: its first root span's name.
fn root_name(trace: &Trace) -> &str {
    trace.roots().first().map_or("", |&r| trace.str(trace.span(r).name))
}
