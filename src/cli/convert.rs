//! `tracedeck convert`: read trace files (any format tracedeck reads) and write their traces in
//! one format, so a trace from one tool opens in another. The output format comes from `--to`
//! or the output's name (`.otlp.json`, `.zipkin.json`, ...). An existing file is never replaced
//! without `--force`, and nothing is written when an input could not be read. What the import
//! warned about (placed spans, ids kept as text, ...) is printed, since the written file no
//! longer says it.

use std::io::{self, Write};
use std::path::Path;

use super::ConvertArgs;
use super::check::{Status, names};
use super::fetch::{refuse_to_replace, save};
use crate::corpus;
use crate::formats::Format;
use crate::model::Trace;

/// Runs `convert`: a line saying what was written to `out`, warnings and problems to `err`.
pub fn convert(args: &ConvertArgs, out: &mut dyn Write, err: &mut dyn Write) -> Status {
    match run(args, out, err) {
        Ok(status) => status,
        Err(message) => {
            let _ = writeln!(err, "tracedeck: {message}");
            Status::BadInput
        }
    }
}

fn run(args: &ConvertArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<Status, String> {
    let format = match args.to {
        Some(format) => format,
        None => format_of(&args.output)?,
    };
    refuse_to_replace(Some(&args.output), args.force)?;
    let corpus = corpus::load(&args.files, &|_| {});
    let write_err = |e: io::Error| format!("cannot write messages: {e}");
    for error in &corpus.errors {
        writeln!(err, "tracedeck: {}", error.message).map_err(write_err)?;
    }
    if !corpus.errors.is_empty() {
        return Err(format!("nothing written to {}: an input could not be read", args.output.display()));
    }
    if corpus.traces.is_empty() {
        return Err(format!("nothing written: no trace files found in {}", names(&args.files)));
    }
    for note in &corpus.notes {
        writeln!(err, "tracedeck: note: {note}").map_err(write_err)?;
    }
    for loaded in &corpus.traces {
        for warning in loaded.trace.warnings() {
            let (file, id) = (corpus.source_of(loaded), loaded.trace.trace_id());
            writeln!(err, "tracedeck: warning: {file}: trace {id}: {warning}").map_err(write_err)?;
        }
    }
    let traces: Vec<&Trace> = corpus.traces.iter().map(|t| &*t.trace).collect();
    let mut bytes = Vec::new();
    format.write_refs(&traces, &mut bytes).map_err(|e| format!("cannot write {format}: {e}"))?;
    save(&args.output, &bytes, args.force).map_err(|e| format!("{}: cannot write: {e}", args.output.display()))?;
    let spans: usize = traces.iter().map(|t| t.len()).sum();
    writeln!(out, "{}: {} trace(s), {spans} span(s) as {format}", args.output.display(), traces.len())
        .map_err(write_err)?;
    Ok(Status::Met)
}

/// The format an output file's name asks for: `.otlp.json` (or `.jsonl`), `.jaeger.json`, ...
pub(super) fn format_of(path: &Path) -> Result<Format, String> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let by_ending = Format::ALL.into_iter().find(|f| name.ends_with(f.extension()));
    by_ending.or_else(|| name.ends_with(".otlp.jsonl").then_some(Format::Otlp)).ok_or_else(|| {
        let endings: Vec<&str> = Format::ALL.iter().map(|f| f.extension()).collect();
        format!(
            "cannot tell the output format from {:?}; pass --to (otlp, jaeger, zipkin, chrome, sentry, tracedeck) or end \
             the name with one of {}",
            path.display().to_string(),
            endings.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_output_name_gives_the_format() {
        assert_eq!(format_of(Path::new("out/a.zipkin.json")), Ok(Format::Zipkin));
        assert_eq!(format_of(Path::new("A.OTLP.JSON")), Ok(Format::Otlp));
        assert_eq!(format_of(Path::new("batches.otlp.jsonl")), Ok(Format::Otlp));
        assert_eq!(format_of(Path::new("t.tracedeck.json")), Ok(Format::Tracedeck));
        let err = format_of(Path::new("trace.json")).unwrap_err();
        assert!(err.starts_with("cannot tell the output format from \"trace.json\"; pass --to"), "{err}");
    }
}
