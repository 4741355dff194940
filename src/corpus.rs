//! Many traces from many files: expand folders, import every file on all cores, keep each
//! trace whole and remember which file it came from.
//!
//! A folder is walked recursively (entries in name order, hidden entries skipped, symbolic
//! links followed once); every file in it is tried, because formats are told apart by content,
//! not by name. A file that cannot be read or imported becomes a [`LoadError`] naming it, and the
//! other files still load. Files are imported by up to [`std::thread::available_parallelism`]
//! worker threads (`std::thread::scope`, no thread pool crate), each taking the next file from a
//! shared counter; results keep the input order whatever order the threads finish in.
//!
//! One file may hold many traces (a Jaeger search result, OTLP batches, a Zipkin array of
//! traces, Sentry events of several transactions): the model's builder splits them by trace id.
//! A trace id seen in more than one file is not merged (each file's spans form their own trace);
//! [`Corpus::split_traces`] names such ids so the caller can say so.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::formats::{self, Format};
use crate::model::{Trace, TraceId};

/// A file that was read.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Its path, as found (the input joined with the folder entries).
    pub path: PathBuf,
    /// The format it was read as.
    pub format: Format,
    /// How many traces it held.
    pub traces: usize,
}

/// A trace and where it came from.
#[derive(Clone, Debug)]
pub struct LoadedTrace {
    /// The trace.
    pub trace: Arc<Trace>,
    /// Index into [`Corpus::files`].
    pub file: usize,
}

/// A path that could not be loaded, and why.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LoadError {
    /// The file or folder.
    pub path: PathBuf,
    /// What went wrong, with the place in the file when known; starts with the path.
    pub message: String,
}

/// Everything loaded from the inputs.
#[derive(Debug, Default)]
pub struct Corpus {
    /// Files read successfully, in input order (folder entries by name).
    pub files: Vec<SourceFile>,
    /// Every trace of every file: by file, then by start time within a file.
    pub traces: Vec<LoadedTrace>,
    /// Inputs that could not be found or listed, then files that could not be read or imported,
    /// each in input order.
    pub errors: Vec<LoadError>,
}

/// How far loading has got, reported after each file.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Progress {
    /// Files finished (read or failed).
    pub done: usize,
    /// Files in all.
    pub total: usize,
    /// Traces loaded so far.
    pub traces: usize,
}

impl Corpus {
    /// The file a trace came from.
    pub fn file_of(&self, trace: &LoadedTrace) -> &Path {
        &self.files[trace.file].path
    }

    /// Trace ids found in more than one file, each with the files; each file's part is its own trace.
    pub fn split_traces(&self) -> Vec<(TraceId, Vec<usize>)> {
        let mut seen: HashMap<TraceId, Vec<usize>> = HashMap::new();
        for t in &self.traces {
            let files = seen.entry(t.trace.trace_id()).or_default();
            if files.last() != Some(&t.file) {
                files.push(t.file);
            }
        }
        let mut split: Vec<(TraceId, Vec<usize>)> = seen.into_iter().filter(|(_, f)| f.len() > 1).collect();
        split.sort_by_key(|(id, files)| (files[0], *id));
        split
    }
}

/// Lists the files the inputs name: files as given, folders expanded recursively. Paths that
/// do not exist or folders that cannot be listed become errors.
pub fn expand(inputs: &[PathBuf]) -> (Vec<PathBuf>, Vec<LoadError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut visited = HashSet::new();
    for input in inputs {
        match std::fs::metadata(input) {
            Ok(meta) if meta.is_dir() => walk(input, &mut visited, &mut files, &mut errors),
            Ok(_) => files.push(input.clone()),
            Err(e) => errors.push(LoadError::new(input, format!("cannot read the file: {e}"))),
        }
    }
    (files, errors)
}

fn walk(dir: &Path, visited: &mut HashSet<PathBuf>, files: &mut Vec<PathBuf>, errors: &mut Vec<LoadError>) {
    // A folder reached twice through links is walked once.
    if !visited.insert(std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())) {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return errors.push(LoadError::new(dir, format!("cannot list the folder: {e}"))),
    };
    let mut paths = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) if entry.file_name().to_string_lossy().starts_with('.') => {}
            Ok(entry) => paths.push(entry.path()),
            Err(e) => errors.push(LoadError::new(dir, format!("cannot list the folder: {e}"))),
        }
    }
    paths.sort();
    for path in paths {
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => walk(&path, visited, files, errors),
            Ok(_) => files.push(path),
            Err(e) => errors.push(LoadError::new(&path, format!("cannot read the file: {e}"))),
        }
    }
}

impl LoadError {
    fn new(path: &Path, what: String) -> Self {
        LoadError { path: path.to_path_buf(), message: format!("{}: {what}", path.display()) }
    }
}

/// Loads every trace the inputs hold (files and folders), on all cores. `progress` is called
/// after each file, from the worker threads.
pub fn load(inputs: &[PathBuf], progress: &(dyn Fn(Progress) + Sync)) -> Corpus {
    load_on(inputs, std::thread::available_parallelism().map_or(1, |n| n.get()), progress)
}

/// [`load`] on at most `threads` threads (at least one), for measuring what the threads buy.
pub fn load_on(inputs: &[PathBuf], threads: usize, progress: &(dyn Fn(Progress) + Sync)) -> Corpus {
    let (paths, mut walk_errors) = expand(inputs);
    let mut corpus = load_files(&paths, threads.min(paths.len()).max(1), progress);
    // Walk errors first: they name inputs that yielded nothing at all.
    walk_errors.append(&mut corpus.errors);
    corpus.errors = walk_errors;
    corpus
}

type FileResult = Result<(Format, Vec<Trace>), String>;

/// Imports `paths` on `threads` threads; results in the order of `paths`.
fn load_files(paths: &[PathBuf], threads: usize, progress: &(dyn Fn(Progress) + Sync)) -> Corpus {
    let next = AtomicUsize::new(0);
    let counts = Mutex::new((0usize, 0usize));
    let mut results: Vec<(usize, FileResult)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = paths.get(i) else { break };
                        let result = import_file(path);
                        let loaded = result.as_ref().map_or(0, |(_, t)| t.len());
                        mine.push((i, result));
                        let report = {
                            let mut c = counts.lock().unwrap_or_else(|e| e.into_inner());
                            c.0 += 1;
                            c.1 += loaded;
                            Progress { done: c.0, total: paths.len(), traces: c.1 }
                        };
                        progress(report);
                    }
                    mine
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    results.sort_unstable_by_key(|(i, _)| *i);
    let mut corpus = Corpus::default();
    for (i, result) in results {
        let path = &paths[i];
        match result {
            Ok((format, traces)) => {
                let file = corpus.files.len();
                corpus.files.push(SourceFile { path: path.clone(), format, traces: traces.len() });
                corpus.traces.extend(traces.into_iter().map(|t| LoadedTrace { trace: Arc::new(t), file }));
            }
            Err(message) => corpus.errors.push(LoadError { path: path.clone(), message }),
        }
    }
    corpus
}

/// Reads and imports one file; the message names the file.
pub fn import_file(path: &Path) -> FileResult {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| format!("{file}: cannot read the file: {e}"))?;
    let (format, builder) = formats::parse(&file, &bytes).map_err(|e| e.to_string())?;
    drop(bytes);
    let imported = formats::finish(&file, format, builder).map_err(|e| e.to_string())?;
    Ok((imported.format, imported.traces))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{SynthParams, generate};

    /// A fresh folder in the system's temporary directory.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tracedeck-corpus-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn traces(seeds: std::ops::Range<u64>, spans: usize) -> Vec<Trace> {
        seeds.map(|seed| generate(&SynthParams { seed, spans, ..SynthParams::default() })).collect()
    }

    fn write(path: &Path, format: Format, traces: &[Trace]) {
        let mut out = Vec::new();
        format.write(traces, &mut out).unwrap();
        std::fs::write(path, out).unwrap();
    }

    #[test]
    fn every_writer_keeps_distinct_trace_ids_apart() {
        let originals = traces(1..6, 12);
        let mut ids: Vec<TraceId> = originals.iter().map(|t| t.trace_id()).collect();
        ids.sort();
        for format in [Format::Otlp, Format::Jaeger, Format::Zipkin, Format::Sentry] {
            let mut out = Vec::new();
            format.write(&originals, &mut out).unwrap();
            let imported = formats::import("many", &out).unwrap();
            let mut got: Vec<TraceId> = imported.traces.iter().map(|t| t.trace_id()).collect();
            got.sort();
            assert_eq!(got, ids, "{format}");
            assert!(imported.traces.iter().all(|t| t.len() == 12 && t.roots().len() == 1), "{format}");
        }
    }

    #[test]
    fn a_folder_loads_recursively_in_order_and_lists_bad_files() {
        let dir = scratch("folder");
        std::fs::create_dir_all(dir.join("b/deeper")).unwrap();
        write(&dir.join("a.json"), Format::Jaeger, &traces(1..4, 5));
        write(&dir.join("b/deeper/c.json"), Format::Zipkin, &traces(10..12, 5));
        std::fs::write(dir.join("b/broken.json"), b"{\"data\": [{\"traceID\": 12").unwrap();
        std::fs::write(dir.join("b/notes.txt"), b"not a trace").unwrap();
        std::fs::write(dir.join(".hidden.json"), b"ignored").unwrap();
        let calls = Mutex::new(Vec::new());
        let corpus = load(std::slice::from_ref(&dir), &|p| calls.lock().unwrap().push(p));

        let names: Vec<String> =
            corpus.files.iter().map(|f| f.path.strip_prefix(&dir).unwrap().display().to_string()).collect();
        assert_eq!(names, ["a.json", "b/deeper/c.json"]);
        assert_eq!(corpus.files.iter().map(|f| f.traces).collect::<Vec<_>>(), [3, 2]);
        assert_eq!(corpus.traces.len(), 5);
        assert_eq!(corpus.traces.iter().map(|t| t.file).collect::<Vec<_>>(), [0, 0, 0, 1, 1]);
        assert!(corpus.file_of(&corpus.traces[4]).ends_with("b/deeper/c.json"));

        let errors: Vec<&str> = corpus.errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("broken.json") && errors[0].contains("line 1"), "{errors:?}");
        assert!(errors[1].contains("notes.txt") && errors[1].contains("not JSON"), "{errors:?}");

        let mut calls = calls.into_inner().unwrap();
        calls.sort_by_key(|p| p.done);
        assert_eq!(calls.iter().map(|p| p.done).collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert!(calls.iter().all(|p| p.total == 4));
        assert_eq!(calls.last().map(|p| p.traces), Some(5));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn threads_do_not_change_the_result() {
        let dir = scratch("threads");
        let paths: Vec<PathBuf> = (0..7u64)
            .map(|i| {
                let path = dir.join(format!("{i}.json"));
                write(&path, Format::Jaeger, &traces(i * 10..i * 10 + 1 + i % 3, 4));
                path
            })
            .collect();
        let one = load_files(&paths, 1, &|_| {});
        let two = load_files(&paths, 2, &|_| {});
        let ids = |c: &Corpus| c.traces.iter().map(|t| (t.file, t.trace.trace_id())).collect::<Vec<_>>();
        assert_eq!(ids(&one), ids(&two));
        assert_eq!(one.traces.len(), 1 + 2 + 3 + 1 + 2 + 3 + 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_inputs_and_repeated_trace_ids_are_reported() {
        let dir = scratch("split");
        let same = traces(1..2, 6);
        write(&dir.join("front.json"), Format::Jaeger, &same);
        write(&dir.join("worker.json"), Format::Zipkin, &same);
        let corpus = load(&[dir.clone(), dir.join("nope.json")], &|_| {});
        assert_eq!(corpus.traces.len(), 2);
        assert_eq!(corpus.split_traces(), vec![(same[0].trace_id(), vec![0, 1])]);
        assert_eq!(corpus.errors.len(), 1);
        assert!(corpus.errors[0].message.contains("nope.json: cannot read the file"), "{:?}", corpus.errors);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
