//! Many traces from many files: expand folders, import every file on all cores, keep each
//! trace whole and remember which file it came from.
//!
//! A folder is walked recursively (entries in name order, hidden entries skipped, symbolic
//! links followed once); every file in it is tried, because formats are told apart by content,
//! not by name. What is neither a file nor a folder (a named pipe, a socket, a device) is never
//! opened, since reading it could wait for ever: in a folder it is skipped with a note, named
//! as an input it is an error. A file that cannot be read or imported becomes a [`LoadError`]
//! naming it, and the other files still load. Files are imported by up to [`std::thread::available_parallelism`]
//! worker threads (`std::thread::scope`, no thread pool crate), each taking the next file from a
//! shared counter; results keep the input order whatever order the threads finish in.
//!
//! A file named twice (or named and also found in a folder named) is read once.
//!
//! One file may hold many traces (a Jaeger search result, OTLP batches, a Zipkin array of
//! traces, Sentry events of several transactions): the model's builder splits them by trace id.
//! A trace id found in more than one file (rotated OpenTelemetry Collector exports, or one
//! file per service) is one trace: its parts are joined with [`model::merge`], which keeps
//! once what two files both hold (the same trace saved twice), and [`Corpus::notes`] says which
//! traces were joined from which files.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::formats::{self, Format};
use crate::model::{self, Trace, TraceId};

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
    /// Indices into [`Corpus::files`]: the file that held it, or, for a trace joined from
    /// parts in several files, those files in input order.
    pub files: Vec<usize>,
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
    /// Every trace of every file: by file, then by start time within a file; a trace joined
    /// from several files where its first part was.
    pub traces: Vec<LoadedTrace>,
    /// Inputs that could not be found or listed, then files that could not be read or imported,
    /// each in input order.
    pub errors: Vec<LoadError>,
    /// What the caller should say that is not an error: entries of folders skipped (named
    /// pipes and the like), then traces joined from several files.
    pub notes: Vec<String>,
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
    /// The file a trace came from, or the files joined by ` + `.
    pub fn source_of(&self, trace: &LoadedTrace) -> String {
        self.names(&trace.files)
    }

    /// The paths of the files a trace came from, in order.
    pub fn paths_of(&self, trace: &LoadedTrace) -> Vec<String> {
        self.paths(&trace.files)
    }

    /// The name of the format of the file a trace came from, or the formats of its files
    /// joined by ` + `.
    pub fn format_of(&self, trace: &LoadedTrace) -> String {
        let mut formats: Vec<Format> = Vec::new();
        for &f in &trace.files {
            if !formats.contains(&self.files[f].format) {
                formats.push(self.files[f].format);
            }
        }
        formats.iter().map(|f| f.name()).collect::<Vec<_>>().join(" + ")
    }

    /// The paths of `files` (indices into [`files`](Self::files)), joined by ` + `.
    fn names(&self, files: &[usize]) -> String {
        self.paths(files).join(" + ")
    }

    /// The paths of `files` (indices into [`files`](Self::files)).
    fn paths(&self, files: &[usize]) -> Vec<String> {
        files.iter().map(|&f| self.files[f].path.display().to_string()).collect()
    }

    /// Joins the traces that share a trace id (parts of one trace in several files) into one,
    /// where its first part was, and notes which. Parts that cannot be joined (their spans
    /// would form a parent cycle) stay apart, and a note says why. Ids an importer made up
    /// ([`formats::is_made_up`]) join nothing: two Chrome profiles are two traces.
    fn join_parts(&mut self) {
        let mut parts: HashMap<TraceId, Vec<usize>> = HashMap::new();
        for (i, t) in self.traces.iter().enumerate().filter(|(_, t)| !formats::is_made_up(t.trace.trace_id())) {
            parts.entry(t.trace.trace_id()).or_default().push(i);
        }
        let mut groups: Vec<Vec<usize>> = parts.into_values().filter(|g| g.len() > 1).collect();
        groups.sort_unstable();
        let mut gone = vec![false; self.traces.len()];
        for group in groups {
            let mut files: Vec<usize> = group.iter().flat_map(|&i| self.traces[i].files.iter().copied()).collect();
            files.sort_unstable();
            files.dedup();
            let names = self.names(&files);
            let traces: Vec<&Trace> = group.iter().map(|&i| &*self.traces[i].trace).collect();
            let why = match model::merge(&traces).map(|mut joined| (joined.pop(), joined.len())) {
                Ok((Some(trace), 0)) => {
                    self.notes
                        .push(format!("trace {} is in several files, joined into one: {names}", trace.trace_id()));
                    self.traces[group[0]] = LoadedTrace { trace: Arc::new(trace), files };
                    group[1..].iter().for_each(|&i| gone[i] = true);
                    continue;
                }
                Ok((_, others)) => format!("they make {} traces", others + 1),
                Err(e) => e.to_string(),
            };
            let id = traces[0].trace_id();
            self.notes.push(format!(
                "trace {id} is in several files but cannot be joined ({why}); each file's part is judged apart: {names}"
            ));
        }
        let mut gone = gone.into_iter();
        self.traces.retain(|_| !gone.next().expect("one flag per trace"));
    }
}

/// Lists the files the inputs name: files as given, folders expanded recursively, each file
/// once however often it is named or found (compared by canonical path). Paths that do not
/// exist, folders that cannot be listed and inputs that are neither files nor folders become
/// errors; what is neither in a folder is skipped, with a note (the third list).
pub fn expand(inputs: &[PathBuf]) -> (Vec<PathBuf>, Vec<LoadError>, Vec<String>) {
    let mut walk = Walk::default();
    for input in inputs {
        match std::fs::metadata(input) {
            Ok(meta) if meta.is_dir() => walk.folder(input),
            Ok(meta) => match special_file(&meta) {
                None => walk.file(input),
                Some(what) => {
                    walk.errors.push(LoadError::new(input, format!("cannot read {what}, only files and folders")))
                }
            },
            Err(e) => walk.errors.push(LoadError::new(input, format!("cannot read the file: {e}"))),
        }
    }
    (walk.files, walk.errors, walk.notes)
}

/// What a path is when it is neither a regular file nor a folder ("a named pipe"), for messages;
/// `None` for files and folders. Opening such a path may wait for a writer that never comes.
pub fn special_file(meta: &std::fs::Metadata) -> Option<&'static str> {
    if meta.is_file() || meta.is_dir() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = meta.file_type();
        if kind.is_fifo() {
            return Some("a named pipe");
        } else if kind.is_socket() {
            return Some("a socket");
        } else if kind.is_block_device() || kind.is_char_device() {
            return Some("a device");
        }
    }
    Some("something that is not a file")
}

/// What [`expand`] has found so far.
#[derive(Default)]
struct Walk {
    files: Vec<PathBuf>,
    errors: Vec<LoadError>,
    notes: Vec<String>,
    /// Canonical paths of the folders walked and the files listed.
    visited: HashSet<PathBuf>,
}

impl Walk {
    /// Whether `path` (a file or a folder) is met for the first time.
    fn first_visit(&mut self, path: &Path) -> bool {
        self.visited.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
    }

    fn file(&mut self, path: &Path) {
        if self.first_visit(path) {
            self.files.push(path.to_path_buf());
        }
    }

    fn folder(&mut self, dir: &Path) {
        // A folder reached twice through links is walked once.
        if !self.first_visit(dir) {
            return;
        }
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return self.errors.push(LoadError::new(dir, format!("cannot list the folder: {e}"))),
        };
        let mut paths = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) if entry.file_name().to_string_lossy().starts_with('.') => {}
                Ok(entry) => paths.push(entry.path()),
                Err(e) => self.errors.push(LoadError::new(dir, format!("cannot list the folder: {e}"))),
            }
        }
        paths.sort();
        for path in paths {
            match std::fs::metadata(&path) {
                Ok(meta) if meta.is_dir() => self.folder(&path),
                Ok(meta) => match special_file(&meta) {
                    None => self.file(&path),
                    Some(what) => self.notes.push(format!("{}: skipped, {what} is not a file", path.display())),
                },
                Err(e) => self.errors.push(LoadError::new(&path, format!("cannot read the file: {e}"))),
            }
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
    load_until(inputs, threads, &AtomicBool::new(false), progress)
}

/// [`load`], unless `stop` is set (by another thread, or by `progress`): then the workers take
/// no further file, the files being imported are dropped, and the answer is `None`.
pub fn load_or_stop(inputs: &[PathBuf], stop: &AtomicBool, progress: &(dyn Fn(Progress) + Sync)) -> Option<Corpus> {
    let corpus = load_until(inputs, std::thread::available_parallelism().map_or(1, |n| n.get()), stop, progress);
    (!stop.load(Ordering::Relaxed)).then_some(corpus)
}

/// [`load_on`], the workers taking no further file once `stop` is set.
fn load_until(inputs: &[PathBuf], threads: usize, stop: &AtomicBool, progress: &(dyn Fn(Progress) + Sync)) -> Corpus {
    let (paths, mut walk_errors, notes) = expand(inputs);
    let mut corpus = load_files(&paths, threads.min(paths.len()).max(1), stop, progress);
    // Walk errors first: they name inputs that yielded nothing at all.
    walk_errors.append(&mut corpus.errors);
    corpus.errors = walk_errors;
    corpus.notes = notes;
    if !stop.load(Ordering::Relaxed) {
        corpus.join_parts();
    }
    corpus
}

type FileResult = Result<(Format, Vec<Trace>), String>;

/// Imports `paths` on `threads` threads, until `stop` is set; results in the order of `paths`.
fn load_files(paths: &[PathBuf], threads: usize, stop: &AtomicBool, progress: &(dyn Fn(Progress) + Sync)) -> Corpus {
    let next = AtomicUsize::new(0);
    let counts = Mutex::new((0usize, 0usize));
    let mut results: Vec<(usize, FileResult)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
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
                corpus.traces.extend(traces.into_iter().map(|t| LoadedTrace { trace: Arc::new(t), files: vec![file] }));
            }
            Err(message) => corpus.errors.push(LoadError { path: path.clone(), message }),
        }
    }
    corpus
}

/// Reads and imports one file; the message names the file.
pub fn import_file(path: &Path) -> FileResult {
    let file = path.display().to_string();
    let parsed = read_and_parse(path, |_, _| Ok(())).map_err(|e| format!("{file}: cannot read the file: {e}"))?;
    let (format, builder) = parsed.map_err(|e| e.to_string())?;
    let imported = formats::finish(&file, format, builder).map_err(|e| e.to_string())?;
    Ok((imported.format, imported.traces))
}

/// [`formats::parse_file`], refusing what is not a file: a named pipe, say, whose opening would
/// wait for a writer. The outer error is the reading's; the inner one names `path`.
pub fn read_and_parse(
    path: &Path,
    after_each_read: impl FnMut(usize, usize) -> std::io::Result<()>,
) -> std::io::Result<Result<(Format, model::TraceBuilder), formats::ImportError>> {
    if let Some(what) = special_file(&std::fs::metadata(path)?) {
        let message = format!("cannot read {what}, only files");
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, message));
    }
    formats::parse_file(path, after_each_read)
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
        assert_eq!(corpus.traces.iter().map(|t| t.files.clone()).collect::<Vec<_>>(), [[0], [0], [0], [1], [1]]);
        assert!(corpus.source_of(&corpus.traces[4]).ends_with("b/deeper/c.json"));
        assert!(corpus.notes.is_empty(), "{:?}", corpus.notes);

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
        let go = AtomicBool::new(false);
        let one = load_files(&paths, 1, &go, &|_| {});
        let two = load_files(&paths, 2, &go, &|_| {});
        let ids = |c: &Corpus| c.traces.iter().map(|t| (t.files.clone(), t.trace.trace_id())).collect::<Vec<_>>();
        assert_eq!(ids(&one), ids(&two));
        assert_eq!(one.traces.len(), 1 + 2 + 3 + 1 + 2 + 3 + 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_inputs_are_reported_and_the_rest_loads() {
        let dir = scratch("missing");
        write(&dir.join("a.json"), Format::Jaeger, &traces(1..3, 6));
        let corpus = load(&[dir.clone(), dir.join("nope.json")], &|_| {});
        assert_eq!(corpus.traces.len(), 2);
        assert_eq!(corpus.errors.len(), 1);
        assert!(corpus.errors[0].message.contains("nope.json: cannot read the file"), "{:?}", corpus.errors);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_trace_cut_across_rotated_files_is_one_trace_naming_both() {
        let dir = scratch("rotated");
        let whole = traces(7..8, 40).remove(0);
        // The collector rotated its file in the middle of the trace: the spans that ended
        // first are in the older file, the rest in the newer, with other traces around them.
        let mut by_end: Vec<usize> = (0..whole.len()).collect();
        by_end.sort_by_key(|&i| whole.span(i as u32).end);
        let part = |range: std::ops::Range<usize>| {
            let mut b = crate::model::TraceBuilder::new();
            for &i in &by_end[range] {
                let s = whole.span(i as u32);
                b.push_span(crate::model::RawSpan::new(s.trace_id, s.id, s.parent_id, s.start, Some(s.end)));
            }
            b.build().unwrap().remove(0)
        };
        let (older, newer) = (part(0..25), part(25..40));
        let mut first = traces(1..3, 5);
        first.push(older);
        let mut second = vec![newer];
        second.extend(traces(3..4, 5));
        write(&dir.join("traces-1.json"), Format::Otlp, &first);
        write(&dir.join("traces-2.json"), Format::Otlp, &second);

        let corpus = load(std::slice::from_ref(&dir), &|_| {});
        assert_eq!(corpus.traces.len(), 4, "the cut trace counts once");
        let joined: Vec<&LoadedTrace> = corpus.traces.iter().filter(|t| t.files.len() > 1).collect();
        assert_eq!(joined.len(), 1);
        let trace = &joined[0].trace;
        assert_eq!((trace.trace_id(), trace.len(), trace.roots().len()), (whole.trace_id(), 40, 1));
        assert!(!trace.warnings().iter().any(|w| matches!(w, crate::model::Warning::Orphans { .. })));
        assert_eq!(joined[0].files, [0, 1]);
        let source = corpus.source_of(joined[0]);
        assert_eq!(
            source,
            format!("{} + {}", dir.join("traces-1.json").display(), dir.join("traces-2.json").display())
        );
        assert_eq!(corpus.format_of(joined[0]), "OTLP JSON");
        assert_eq!(
            corpus.notes,
            [format!("trace {} is in several files, joined into one: {source}", whole.trace_id())]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_same_trace_saved_in_two_formats_keeps_its_spans_once() {
        let dir = scratch("twice");
        let same = traces(1..2, 6);
        write(&dir.join("front.json"), Format::Jaeger, &same);
        write(&dir.join("worker.json"), Format::Zipkin, &same);
        let corpus = load(std::slice::from_ref(&dir), &|_| {});
        assert_eq!(corpus.traces.len(), 1);
        let trace = &corpus.traces[0];
        assert_eq!((trace.files.as_slice(), trace.trace.len()), ([0, 1].as_slice(), 6));
        assert_eq!(corpus.format_of(trace), "Jaeger JSON + Zipkin v2 JSON");
        let warnings: Vec<String> = trace.trace.warnings().iter().map(|w| w.to_string()).collect();
        assert!(warnings.iter().any(|w| w.starts_with("6 span(s) came again")), "{warnings:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn two_profiles_without_trace_ids_stay_two_traces() {
        let dir = scratch("chrome");
        let profile = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/sample-traces/worker-profile.chrome.json"));
        let profile = profile.unwrap();
        std::fs::write(dir.join("a.json"), &profile).unwrap();
        std::fs::write(dir.join("b.json"), &profile).unwrap();
        let corpus = load(std::slice::from_ref(&dir), &|_| {});
        assert_eq!(corpus.traces.len(), 2, "a made-up trace id joins nothing");
        assert!(corpus.notes.is_empty(), "{:?}", corpus.notes);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_named_twice_or_also_in_a_folder_named_is_read_once() {
        let dir = scratch("twice-named");
        let file = dir.join("a.json");
        write(&file, Format::Jaeger, &traces(1..3, 4));
        let again = dir.join(".").join("a.json");
        for inputs in [vec![file.clone(), file.clone()], vec![dir.clone(), again], vec![file.clone(), dir.clone()]] {
            let corpus = load(&inputs, &|_| {});
            assert_eq!((corpus.files.len(), corpus.traces.len()), (1, 2), "{inputs:?}");
            assert!(corpus.notes.is_empty(), "{:?}", corpus.notes);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_named_pipe_is_skipped_in_a_folder_and_refused_when_named() {
        let dir = scratch("fifo");
        write(&dir.join("a.json"), Format::Jaeger, &traces(1..2, 4));
        let pipe = dir.join("pipe.json");
        let made = std::process::Command::new("mkfifo").arg(&pipe).status().expect("mkfifo runs");
        assert!(made.success());
        // Opening the pipe would wait for a writer for ever; a watchdog fails the test instead.
        let (done, finished) = std::sync::mpsc::channel();
        let (folder, named) = (dir.clone(), pipe.clone());
        std::thread::spawn(move || {
            let _ = done.send((load(std::slice::from_ref(&folder), &|_| {}), load(&[named], &|_| {})));
        });
        let (corpus, refused) = finished.recv_timeout(std::time::Duration::from_secs(20)).expect("loading returns");
        assert_eq!((corpus.files.len(), corpus.traces.len()), (1, 1));
        assert!(corpus.errors.is_empty(), "{:?}", corpus.errors);
        assert_eq!(corpus.notes, [format!("{}: skipped, a named pipe is not a file", pipe.display())]);
        assert!(refused.traces.is_empty());
        let messages: Vec<&str> = refused.errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, [format!("{}: cannot read a named pipe, only files and folders", pipe.display())]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_stopped_load_takes_no_further_file() {
        let dir = scratch("stop");
        for i in 0..12u64 {
            write(&dir.join(format!("{i:02}.json")), Format::Jaeger, &traces(i + 1..i + 2, 4));
        }
        let inputs = [dir.clone()];
        let stop = AtomicBool::new(false);
        let done = Mutex::new(Vec::new());
        let corpus = load_until(&inputs, 2, &stop, &|p| {
            done.lock().unwrap().push(p.done);
            stop.store(true, Ordering::Relaxed);
        });
        let done = done.into_inner().unwrap();
        assert!(!done.is_empty() && done.len() <= 2, "each thread finishes the file it has, then stops: {done:?}");
        assert_eq!(corpus.files.len(), done.len());
        assert!(load_or_stop(&inputs, &stop, &|_| panic!("no file is read once stopped")).is_none());
        let go = AtomicBool::new(false);
        assert_eq!(load_or_stop(&inputs, &go, &|_| {}).map(|c| c.traces.len()), Some(12));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
