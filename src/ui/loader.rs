//! Loading traces off the UI thread: read, parse, build and analyse on a worker, report
//! progress over a channel, and let the user cancel. The window never waits for a file.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::job::Job;
use super::source::Source;
use super::trace_tab::TraceView;
use super::traces_view::TracesView;
use crate::analysis::{Profile, analyze};
use crate::corpus;
use crate::formats::{self, Format};
use crate::model::Trace;

/// What a finished load produced: one trace for a waterfall, or many for the traces view,
/// judged on the worker.
pub enum Contents {
    /// A file holding one trace.
    One {
        /// The format it was read as.
        format: Format,
        /// The trace with its deadline overlay, its view's rows already laid out (so the UI
        /// thread does no work in proportion to the spans when the load ends).
        view: Box<TraceView>,
    },
    /// A file holding many traces, or a folder.
    Many(Box<TracesView>),
}

/// A load in progress.
pub struct Loading {
    /// What is being loaded.
    pub source: Source,
    /// From 0 to 1.
    pub progress: f32,
    /// What the worker is doing ("reading", "parsing", ...).
    pub phase: &'static str,
    job: Job<Result<Contents, String>, (f32, &'static str)>,
}

impl Loading {
    /// Starts loading `source` on a worker thread; `repaint` is called when there is news.
    pub fn start(source: Source, profile: Profile, repaint: impl Fn() + Send + Sync + 'static) -> Self {
        let worker_source = source.clone();
        let job = Job::thread("trace-loader", repaint, move |worker| {
            load(&worker_source, &profile, worker.stop_flag(), |fraction, phase| worker.progress((fraction, phase)))
        });
        Loading { source, progress: 0.0, phase: "starting", job }
    }

    /// Takes the worker's news; returns the result once it is done.
    pub fn poll(&mut self) -> Option<Result<Contents, String>> {
        let result = self.job.poll(|(fraction, phase)| {
            self.progress = fraction;
            self.phase = phase;
        })?;
        Some(result.unwrap_or_else(|failed| Err(format!("{}: {failed}", self.source.display()))))
    }

    /// Asks the worker to stop.
    pub fn cancel(&self) {
        self.job.cancel();
    }
}

/// Reads, parses, builds and analyses (under deadline profile `profile`), reporting progress;
/// checks `cancel` between steps.
pub fn load(
    source: &Source,
    profile: &Profile,
    cancel: &AtomicBool,
    progress: impl Fn(f32, &'static str) + Sync,
) -> Result<Contents, String> {
    let name = source.display();
    if let Source::Folder(path) = source {
        let cancelled = || format!("{name}: cancelled");
        let corpus = corpus::load_or_stop(std::slice::from_ref(path), cancel, &|p: corpus::Progress| {
            progress(0.9 * p.done as f32 / p.total.max(1) as f32, "reading files")
        })
        .ok_or_else(cancelled)?;
        // Each message starts with its file.
        let errors: Vec<String> = corpus.errors.iter().map(|e| e.message.clone()).collect();
        if corpus.traces.is_empty() {
            return Err(match errors.first() {
                Some(first) => {
                    format!("{name}: no trace could be read ({} file(s) failed; first: {first})", errors.len())
                }
                None => format!("{name}: no trace files found"),
            });
        }
        // Judging every trace takes a while: not for a load nobody waits for.
        if cancel.load(Ordering::Relaxed) {
            return Err(cancelled());
        }
        progress(0.95, "checking the deadline");
        let sources = corpus.traces.iter().map(|t| corpus.source_of(t)).collect();
        let traces = corpus.traces.into_iter().map(|t| t.trace).collect();
        let mut view = TracesView::new(traces, sources, profile, errors);
        view.notes = corpus.notes;
        return Ok(Contents::Many(Box::new(view)));
    }
    // The file's bytes are given back as they are parsed, before the tree is built.
    let (format, builder) = match source {
        Source::Bundled { bytes, .. } => {
            progress(0.5, "parsing");
            formats::parse(&name, bytes)
        }
        Source::File(path) | Source::Folder(path) => {
            let read = corpus::read_and_parse(path, |done, size| {
                if cancel.load(Ordering::Relaxed) {
                    return Err(std::io::Error::new(std::io::ErrorKind::Interrupted, "cancelled"));
                }
                let step = if done >= size { "parsing" } else { "reading" };
                progress(0.5 * (done as f32 / size.max(1) as f32).min(1.0), step);
                Ok(())
            });
            read.map_err(|e| format!("{name}: {e}"))?
        }
    }
    .map_err(|e| e.to_string())?;
    if cancel.load(Ordering::Relaxed) {
        return Err(format!("{name}: cancelled"));
    }
    progress(0.85, "building the tree");
    let imported = formats::finish(&name, format, builder).map_err(|e| e.to_string())?;
    progress(0.95, "checking the deadline");
    let mut traces: Vec<Arc<Trace>> = imported.traces.into_iter().map(Arc::new).collect();
    let contents = if traces.len() == 1 {
        let trace = traces.remove(0);
        let overlay = super::overlay::from_verdict(&trace, &analyze(&trace, profile));
        let mut view = Box::new(TraceView::new(trace, overlay));
        view.prepare_rows();
        Contents::One { format, view }
    } else {
        let sources = vec![source.name(); traces.len()];
        Contents::Many(Box::new(TracesView::new(traces, sources, profile, Vec::new())))
    };
    Ok(contents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{SynthParams, generate};

    /// A folder holding one trace saved twice, in two formats.
    fn folder_of_one_trace_twice() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let trace = generate(&SynthParams { seed: 3, spans: 9, ..SynthParams::default() });
        for (file, format) in [("a.json", Format::Otlp), ("b.json", Format::Jaeger)] {
            let mut out = Vec::new();
            format.write(std::slice::from_ref(&trace), &mut out).unwrap();
            std::fs::write(dir.path().join(file), out).unwrap();
        }
        dir
    }

    #[test]
    fn a_folder_shows_a_trace_in_two_files_once_and_says_so() {
        let tmp = folder_of_one_trace_twice();
        let dir = tmp.path();
        let contents =
            load(&Source::Folder(dir.to_owned()), &Profile::default_profile(), &AtomicBool::new(false), |_, _| {});
        let Ok(Contents::Many(view)) = contents else { panic!("a folder opens as a traces view") };
        assert_eq!(view.len(), 1);
        assert_eq!(view.trace(0).len(), 9);
        let row = view.visible_rows().next().unwrap();
        assert_eq!(row.source, format!("{} + {}", dir.join("a.json").display(), dir.join("b.json").display()));
        assert_eq!(view.notes.len(), 1);
        assert!(view.notes[0].contains("joined into one"), "{:?}", view.notes);
    }

    #[test]
    fn a_cancelled_folder_load_stops() {
        let dir = folder_of_one_trace_twice();
        let cancel = AtomicBool::new(true);
        let result = load(&Source::Folder(dir.path().to_owned()), &Profile::default_profile(), &cancel, |_, _| {});
        assert_eq!(result.err(), Some(format!("{}: cancelled", dir.path().display())));
    }

    #[cfg(unix)]
    #[test]
    fn a_named_pipe_is_refused_not_waited_on() {
        let dir = tempfile::tempdir().unwrap();
        let pipe = dir.path().join("pipe.json");
        assert!(std::process::Command::new("mkfifo").arg(&pipe).status().expect("mkfifo runs").success());
        let (done, finished) = std::sync::mpsc::channel();
        let source = Source::File(pipe.clone());
        std::thread::spawn(move || {
            let _ = done.send(load(&source, &Profile::default_profile(), &AtomicBool::new(false), |_, _| {}).err());
        });
        let error = finished.recv_timeout(std::time::Duration::from_secs(20)).expect("loading returns");
        assert_eq!(error, Some(format!("{}: cannot read a named pipe, only files", pipe.display())));
    }
}
