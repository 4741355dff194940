//! `tracedeck check`: read trace files and folders, judge every trace, print, optionally sum
//! up, and say by the exit status.

use std::io::{self, Write};

use super::report::{FileError, Report, TraceReport};
use super::summary::{Origin, SummaryReport};
use super::{CheckArgs, Format};
use crate::analysis::{Gate, MissRate, Outcome, Sample, Summary, analyze};
use crate::corpus::{self, Progress};

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

impl Status {
    /// The status of judged traces: missed by `rate` or, when given, by the `gate`; `bad` when
    /// some input failed, which counts unless `keep_going`. Nothing judged is bad input.
    pub(crate) fn of(rate: MissRate, gate: Option<&Gate>, bad: bool, keep_going: bool) -> Status {
        let missed = match gate {
            Some(gate) => !gate.passed,
            None => rate.missed > 0,
        };
        if rate.judged == 0 || (bad && !keep_going) {
            Status::BadInput
        } else if missed {
            Status::Missed
        } else {
            Status::Met
        }
    }
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
    for note in &corpus.notes {
        writeln!(err, "tracedeck: note: {note}")?;
    }

    let mut samples = Vec::with_capacity(corpus.traces.len());
    let mut undecided = false;
    for loaded in &corpus.traces {
        let (trace, file) = (&loaded.trace, corpus.source_of(loaded));
        let verdict = analyze(trace, &profile);
        samples.push(Sample::of(&verdict));
        if verdict.outcome == Outcome::Undecided {
            undecided = true;
            writeln!(err, "tracedeck: {file}: trace {} {}", trace.trace_id(), verdict.headline())?;
        }
        if args.quiet {
            continue;
        }
        let entry = TraceReport::new(corpus.paths_of(loaded), &corpus.format_of(loaded), trace, &verdict);
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
    let bad = !corpus.errors.is_empty() || undecided;
    let status = Status::of(summary.rate, gate.as_ref(), bad, args.keep_going);

    if args.summary || gate.is_some() {
        let summary = SummaryReport::of(
            &summary,
            &samples,
            |i| &corpus.traces[i].trace,
            |i| corpus.paths_of(&corpus.traces[i]),
            profile.limit,
            Origin::Files(corpus.files.len(), corpus.errors.len()),
            gate,
        );
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

/// The inputs named on the command line, for messages.
pub(super) fn names(paths: &[std::path::PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}
