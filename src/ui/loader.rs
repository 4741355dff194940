//! Loading traces off the UI thread: read, parse, build and analyse on a worker, report
//! progress over a channel, and let the user cancel. The window never waits for a file.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use super::overlay::Overlay;
use crate::formats::{self, Format};
use crate::model::Trace;

/// Where a trace comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A file on disk.
    File(PathBuf),
    /// A sample trace built into the binary.
    Bundled {
        /// Its file name.
        name: &'static str,
        /// Its content.
        bytes: &'static [u8],
    },
}

impl Source {
    /// The name shown in tabs and errors.
    pub fn name(&self) -> String {
        match self {
            Source::File(path) => {
                path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
            }
            Source::Bundled { name, .. } => (*name).to_owned(),
        }
    }

    /// The full path or name, for errors and the recent-files list.
    pub fn display(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Bundled { name, .. } => format!("{name} (bundled sample)"),
        }
    }
}

/// The incident trace before the fix, built in so the start screen can always open it.
pub const INCIDENT_BEFORE: Source = Source::Bundled {
    name: "incident-before.sentry.json",
    bytes: include_bytes!("../../sample-traces/incident-before.sentry.json"),
};
/// The incident trace after the fix.
pub const INCIDENT_AFTER: Source = Source::Bundled {
    name: "incident-after.sentry.json",
    bytes: include_bytes!("../../sample-traces/incident-after.sentry.json"),
};

/// What a finished load produced.
#[derive(Debug)]
pub struct LoadedFile {
    /// Where it came from.
    pub source: Source,
    /// The format it was read as.
    pub format: Format,
    /// Its traces, by start time.
    pub traces: Vec<Arc<Trace>>,
    /// The first trace's deadline overlay, computed on the worker.
    pub overlay: Overlay,
}

enum Message {
    Progress(f32, &'static str),
    Done(Box<Result<LoadedFile, String>>),
}

/// A load in progress.
pub struct Loading {
    /// What is being loaded.
    pub source: Source,
    /// From 0 to 1.
    pub progress: f32,
    /// What the worker is doing ("reading", "parsing", ...).
    pub phase: &'static str,
    cancel: Arc<AtomicBool>,
    rx: Receiver<Message>,
}

impl Loading {
    /// Starts loading `source` on a worker thread; `repaint` is called when there is news.
    pub fn start(source: Source, profile: String, repaint: impl Fn() + Send + 'static) -> Self {
        let (tx, rx) = channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let worker_cancel = Arc::clone(&cancel);
        let worker_source = source.clone();
        std::thread::Builder::new()
            .name("trace-loader".into())
            .spawn(move || {
                let progress = |fraction: f32, phase: &'static str| {
                    let _ = tx.send(Message::Progress(fraction, phase));
                    repaint();
                };
                let result = load(&worker_source, &profile, &worker_cancel, progress);
                if !worker_cancel.load(Ordering::Relaxed) {
                    let _ = tx.send(Message::Done(Box::new(result)));
                    repaint();
                }
            })
            .expect("the OS can start a thread");
        Loading { source, progress: 0.0, phase: "starting", cancel, rx }
    }

    /// Takes the worker's news; returns the result once it is done.
    pub fn poll(&mut self) -> Option<Result<LoadedFile, String>> {
        loop {
            match self.rx.try_recv() {
                Ok(Message::Progress(fraction, phase)) => {
                    self.progress = fraction;
                    self.phase = phase;
                }
                Ok(Message::Done(result)) => return Some(*result),
                Err(TryRecvError::Empty) => return None,
                Err(TryRecvError::Disconnected) => {
                    return Some(Err(format!("{}: the loader stopped unexpectedly", self.source.display())));
                }
            }
        }
    }

    /// Asks the worker to stop; its result, if any, is dropped.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

/// Reads, parses, builds and analyses (under deadline profile `profile`), reporting progress;
/// checks `cancel` between steps.
pub fn load(
    source: &Source,
    profile: &str,
    cancel: &AtomicBool,
    progress: impl Fn(f32, &'static str),
) -> Result<LoadedFile, String> {
    let name = source.display();
    let parse = |bytes: &[u8]| {
        progress(0.5, "parsing");
        formats::parse(&name, bytes).map_err(|e| e.to_string())
    };
    // The file's bytes are dropped as soon as they are parsed, before the tree is built.
    let (format, builder) = match source {
        Source::Bundled { bytes, .. } => parse(bytes)?,
        Source::File(path) => parse(&read_with_progress(path, cancel, &progress).map_err(|e| format!("{name}: {e}"))?)?,
    };
    if cancel.load(Ordering::Relaxed) {
        return Err(format!("{name}: cancelled"));
    }
    progress(0.85, "building the tree");
    let imported = formats::finish(&name, format, builder).map_err(|e| e.to_string())?;
    progress(0.95, "checking the deadline");
    let traces: Vec<Arc<Trace>> = imported.traces.into_iter().map(Arc::new).collect();
    let overlay = super::overlay::for_trace(&traces[0], profile);
    Ok(LoadedFile { source: source.clone(), format, traces, overlay })
}

fn read_with_progress(
    path: &PathBuf,
    cancel: &AtomicBool,
    progress: &impl Fn(f32, &'static str),
) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len() as usize;
    let mut bytes = Vec::with_capacity(len);
    let mut chunk = vec![0u8; 4 << 20];
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(std::io::Error::new(std::io::ErrorKind::Interrupted, "cancelled"));
        }
        let n = file.read(&mut chunk)?;
        if n == 0 {
            return Ok(bytes);
        }
        bytes.extend_from_slice(&chunk[..n]);
        progress(0.5 * bytes.len() as f32 / len.max(1) as f32, "reading");
    }
}
