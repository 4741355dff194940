//! Saving what the window shows: a file name for a tab's trace in another format, and writing
//! traces so that a failed save leaves whatever was there.

use std::path::{Path, PathBuf};

use crate::formats::Format;
use crate::model::Trace;

/// A file name for the trace of the tab titled `title`: the title without its format's ending,
/// then the ending of `format` (`incident-before.sentry.json` → `incident-before.tracedeck.json`).
pub fn save_name(title: &str, format: Format) -> String {
    let title = title.replace(['/', ' '], "_");
    let stem = [".jsonl", ".json"].iter().find_map(|ending| title.strip_suffix(ending)).unwrap_or(&title);
    let stem = Format::ALL
        .iter()
        .filter_map(|f| f.extension().strip_suffix(".json"))
        .find_map(|name| stem.strip_suffix(name))
        .unwrap_or(stem);
    format!("{stem}{}", format.extension())
}

/// Writes `traces` in `format` to `path` ([`crate::files::replace`]: a failed save leaves
/// whatever was there intact). The error names the file and says what went wrong.
pub fn save(traces: &[&Trace], format: Format, path: &Path) -> Result<PathBuf, String> {
    crate::files::replace(path, |out| format.write_refs(traces, out))
        .map(|()| path.to_path_buf())
        .map_err(|e| format!("could not save {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::import;
    use crate::synth::{SynthParams, generate};

    /// A fresh directory under the system's temporary directory.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tracedeck-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_saved_trace_reads_back_in_the_format_it_was_saved_in() {
        let dir = scratch("save");
        let trace = generate(&SynthParams { seed: 3, spans: 40, ..SynthParams::default() });
        for format in [Format::Otlp, Format::Tracedeck] {
            let path = dir.join(save_name("checkout trace.zipkin.json", format));
            assert_eq!(save(&[&trace], format, &path), Ok(path.clone()));
            let back = import("saved", &std::fs::read(&path).unwrap()).unwrap();
            assert_eq!((back.format, back.traces.len(), back.traces[0].len()), (format, 1, trace.len()));
            assert_eq!(back.traces[0].trace_id(), trace.trace_id());
        }
        // A traces view saves every trace in one file.
        let other = generate(&SynthParams { seed: 9, spans: 12, ..SynthParams::default() });
        let many = dir.join("many.tracedeck.json");
        assert_eq!(save(&[&trace, &other], Format::Tracedeck, &many), Ok(many.clone()));
        let back = import("saved", &std::fs::read(&many).unwrap()).unwrap();
        let mut ids: Vec<_> = back.traces.iter().map(|t| (t.trace_id(), t.len())).collect();
        ids.sort();
        let mut expected = vec![(trace.trace_id(), trace.len()), (other.trace_id(), other.len())];
        expected.sort();
        assert_eq!(ids, expected);
        std::fs::remove_file(&many).unwrap();
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(names, ["checkout_trace.otlp.json", "checkout_trace.tracedeck.json"], "no partial file is left");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_save_says_which_file_and_leaves_what_was_there() {
        let dir = scratch("save-fails");
        let trace = generate(&SynthParams { seed: 4, spans: 5, ..SynthParams::default() });
        let missing = dir.join("no-such-dir").join("t.tracedeck.json");
        let err = save(&[&trace], Format::Tracedeck, &missing).unwrap_err();
        assert!(err.starts_with(&format!("could not save {}: ", missing.display())), "{err}");
        // A directory where the file should go: the write succeeds, the rename cannot replace it.
        let occupied = dir.join("occupied.tracedeck.json");
        std::fs::create_dir(&occupied).unwrap();
        std::fs::write(occupied.join("kept"), b"x").unwrap();
        assert!(save(&[&trace], Format::Tracedeck, &occupied).is_err());
        assert_eq!(std::fs::read(occupied.join("kept")).unwrap(), b"x");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["occupied.tracedeck.json"], "the partial file is removed");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn save_names_swap_the_format_ending() {
        assert_eq!(save_name("incident-before.sentry.json", Format::Tracedeck), "incident-before.tracedeck.json");
        assert_eq!(save_name("batch.otlp.jsonl", Format::Otlp), "batch.otlp.json");
        assert_eq!(save_name("a/b c.json", Format::Otlp), "a_b_c.otlp.json");
        assert_eq!(save_name("jaeger abc123", Format::Tracedeck), "jaeger_abc123.tracedeck.json");
    }
}
