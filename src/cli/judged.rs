//! Traces a back-end handed over, each judged as it came: what `search` and `search --stats`
//! share (the verdict lines, the summary, saving them).

use std::io::{self, Write};
use std::path::Path;

use super::fetch::{save, verdict_line};
use super::summary::{Origin, SummaryReport};
use crate::analysis::{Gate, Profile, Sample, Summary};
use crate::fetch::Fetched;
use crate::formats::Format as TraceFormat;
use crate::model::{Nanos, Trace};

/// The traces a search handed over, each judged as it came.
#[derive(Default)]
pub(super) struct Judged {
    /// Each trace and its verdict's sample, in the order they came.
    pub(super) found: Vec<(Trace, Sample)>,
    failed: Option<io::Error>,
}

impl Judged {
    /// Judges each trace of `fetched`, writing its verdict line to `out`.
    pub(super) fn take(&mut self, fetched: Fetched, out: &mut dyn Write, profile: &Profile) {
        for trace in fetched.traces {
            match verdict_line(out, &fetched.source, &trace, profile) {
                Ok(verdict) => self.found.push((trace, Sample::of(&verdict))),
                Err(e) => self.failed = self.failed.take().or(Some(e)),
            }
        }
    }

    /// Fails when a verdict line could not be written.
    pub(super) fn written(&mut self) -> Result<(), String> {
        match self.failed.take() {
            Some(e) => Err(format!("cannot write the results: {e}")),
            None => Ok(()),
        }
    }

    /// The samples, in order.
    pub(super) fn samples(&self) -> Vec<Sample> {
        self.found.iter().map(|(_, sample)| *sample).collect()
    }

    /// The summary of what was judged, from `source`.
    pub(super) fn report(&self, summary: &Summary, source: &str, limit: Nanos, gate: Option<Gate>) -> SummaryReport {
        let origin = Origin::Backend(source.to_owned());
        let samples = self.samples();
        SummaryReport::of(summary, &samples, |i| &self.found[i].0, |_| vec![source.to_owned()], limit, origin, gate)
    }

    /// Saves every trace to `path` (OTLP JSON), saying so on `err`; nothing when none came.
    pub(super) fn save(self, path: &Path, force: bool, err: &mut dyn Write) -> Result<(), String> {
        let traces: Vec<Trace> = self.found.into_iter().map(|(trace, _)| trace).collect();
        if traces.is_empty() {
            let _ = writeln!(err, "tracedeck: nothing found, so nothing was saved to {}", path.display());
            return Ok(());
        }
        let mut bytes = Vec::new();
        TraceFormat::Otlp.write(&traces, &mut bytes).map_err(|e| format!("cannot encode the traces: {e}"))?;
        save(path, &bytes, force).map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
        let _ = writeln!(err, "tracedeck: saved {} trace(s) to {} as OTLP JSON", traces.len(), path.display());
        Ok(())
    }
}
