//! `tracedeck check`: read trace files, judge every trace, print, and say by the exit status.

use std::io::{self, Write};
use std::path::Path;

use super::report::{FileError, Report, TraceReport};
use super::{CheckArgs, Format};
use crate::analysis::{Outcome, analyze};
use crate::formats::{self, Imported};

/// The exit status of `check`, worst wins.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
#[repr(u8)]
pub enum Status {
    /// Every trace met its deadline.
    Met = 0,
    /// At least one trace missed it.
    Missed = 1,
    /// A file could not be read or imported, or a trace could not be judged.
    BadInput = 2,
}

/// Runs `check`: results to `out` (text, or one JSON document `{profile, traces, errors}` with
/// every time as `{ms, ns}` from the clock's start), problems also to `err`.
pub fn check(args: &CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> Status {
    check_files(args, out, err).unwrap_or_else(|e| {
        let _ = writeln!(err, "tracedeck: cannot write the results: {e}");
        Status::BadInput
    })
}

fn check_files(args: &CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<Status> {
    let profile = args.profile();
    let mut report = Report::new(&profile);
    let mut status = Status::Met;
    if args.format == Format::Text {
        report.write_text_header(out)?;
    }
    for path in &args.files {
        let file = path.display().to_string();
        let imported = match load(&file, path) {
            Ok(imported) => imported,
            Err(message) => {
                writeln!(err, "tracedeck: {message}")?;
                report.errors.push(FileError { file, message });
                status = Status::BadInput;
                continue;
            }
        };
        for trace in &imported.traces {
            let verdict = analyze(trace, &profile);
            status = status.max(match verdict.outcome {
                Outcome::Pass => Status::Met,
                Outcome::Miss => Status::Missed,
                Outcome::Undecided => {
                    writeln!(err, "tracedeck: {file}: trace {} {}", trace.trace_id(), verdict.headline())?;
                    Status::BadInput
                }
            });
            let entry = TraceReport::new(&file, imported.format, trace, &verdict);
            match args.format {
                Format::Text => entry.write_text(out)?,
                Format::Json => report.traces.push(entry),
            }
        }
    }
    if args.format == Format::Json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    }
    Ok(status)
}

/// Reads and imports one file; the message names the file.
fn load(file: &str, path: &Path) -> Result<Imported, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{file}: cannot read the file: {e}"))?;
    let (format, builder) = formats::parse(file, &bytes).map_err(|e| e.to_string())?;
    drop(bytes);
    formats::finish(file, format, builder).map_err(|e| e.to_string())
}
