//! Import benchmark: how fast, and in how much memory, tracedeck reads a large file in every
//! format, next to serde_json skipping the same bytes (`IgnoredAny`, the floor for any JSON
//! reader).
//!
//! `cargo bench --bench import --no-default-features` generates one deterministic
//! 1,000,000-span trace (with [`tracedeck::synth`]), writes it once in every format under the
//! target directory (set `TRACEDECK_BENCH_SPANS` for a smaller one), and prints for each
//! format the best wall time of a few runs of `IgnoredAny`, and of tracedeck's path of the
//! window and `check` (parse, drop the input, build) on one thread and on every core, with the
//! peak heap including the input, and the peak resident memory of a fresh process of this
//! binary that reads the file whole and imports it (Linux's `VmHWM`; the larger of one thread
//! and every core). `cargo bench --bench import -- path/to/file.json` measures a
//! file of yours. `TRACEDECK_BENCH_RUNS` sets the number of runs (default 3);
//! `TRACEDECK_BENCH_ONLY=zipkin` measures only the formats whose name contains that text (any
//! case). Under `cargo test` (no `--bench` argument) it runs once on 2,000 spans, as a smoke test.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tracedeck::formats::Format;

#[path = "support/generated.rs"]
mod generated;
use generated::{env_number, generated_file};

/// The system allocator, counting the bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = IN_USE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(n: usize) {
    IN_USE.fetch_sub(n, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged; only counters are updated around it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The best time and the peak heap of one way of reading a file.
#[derive(Clone, Copy)]
struct Measured {
    best: Duration,
    /// Peak heap during the run, counting the input buffer.
    peak: usize,
}

/// Runs `read` `runs` times on a fresh copy of `input` (made before timing starts and counted
/// in the peak) and keeps the best time and the largest peak. `read` returns what it built so
/// that freeing it is not timed.
fn measure<T>(runs: usize, input: &[u8], mut read: impl FnMut(Vec<u8>) -> T) -> Measured {
    let (mut best, mut peak) = (Duration::MAX, 0);
    for _ in 0..runs {
        let copy = input.to_vec();
        let others = IN_USE.load(Ordering::Relaxed) - copy.len();
        PEAK.store(IN_USE.load(Ordering::Relaxed), Ordering::Relaxed);
        let started = Instant::now();
        let built = black_box(read(copy));
        best = best.min(started.elapsed());
        peak = peak.max(PEAK.load(Ordering::Relaxed) - others);
        drop(built);
    }
    Measured { best, peak }
}

/// What the window and `check` do with a file: detect and parse, drop the input, build.
fn tracedeck_import(file: &str, bytes: Vec<u8>) -> tracedeck::formats::Imported {
    let (format, builder) = tracedeck::formats::parse(file, &bytes).unwrap_or_else(|e| panic!("{e}"));
    drop(bytes);
    tracedeck::formats::finish(file, format, builder).unwrap_or_else(|e| panic!("{e}"))
}

/// The argument that makes this binary a child that reads one file (`--resident FILE THREADS`)
/// and prints its own peak resident memory.
const RESIDENT: &str = "--resident";

/// The peak resident memory of this process so far, in KiB (`VmHWM`; Linux only).
fn peak_resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The peak resident memory, in bytes, of a fresh process that reads `file` whole and imports
/// it on `threads` threads, as `check` does (`None` where `/proc` is not there).
fn resident_peak(file: &str, threads: usize) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let out = std::process::Command::new(exe).args([RESIDENT, file, &threads.to_string()]).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    text.trim().parse::<u64>().ok().filter(|_| out.status.success()).map(|kib| kib * 1024)
}

/// [`tracedeck_import`] on a rayon pool of `threads` threads.
fn on_threads(threads: usize, file: &str, bytes: Vec<u8>) -> tracedeck::formats::Imported {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool");
    pool.install(|| tracedeck_import(file, bytes))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, file, threads] = &args[..]
        && flag == RESIDENT
    {
        let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("cannot read {file}: {e}"));
        drop(black_box(on_threads(threads.parse().expect("a thread count"), file, bytes)));
        println!("{}", peak_resident_kib().expect("VmHWM in /proc/self/status"));
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it,
    // and then it only checks, on small files, that every reader runs.
    let full = std::env::args().any(|a| a == "--bench");
    let path = std::env::args().skip(1).find(|a| !a.starts_with("--")).map(PathBuf::from);
    let spans = env_number("TRACEDECK_BENCH_SPANS", if full { 1_000_000 } else { 2_000 });
    let runs = env_number("TRACEDECK_BENCH_RUNS", if full { 3 } else { 1 }).max(1);
    let only = std::env::var("TRACEDECK_BENCH_ONLY").unwrap_or_default().to_lowercase();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut trace = None;
    let files = match path {
        Some(path) => vec![path],
        None => Format::ALL
            .into_iter()
            .filter(|f| f.name().to_lowercase().contains(&only))
            .map(|format| generated_file(spans, format, &mut trace))
            .collect(),
    };
    println!(
        "best of {runs} run(s); all cores = {cores}; times in ms; peak heap (allocated, input included) and \
         peak resident memory (of a process that reads the file and imports it) in MB"
    );
    println!(
        "{:<20} {:>8} {:>10} {:>10} {:>6} {:>10} {:>6} {:>9} {:>6} {:>9} {:>6}",
        "format", "MB", "IgnoredAny", "1 thread", "x", "all cores", "x", "heap MB", "x file", "RSS MB", "x file"
    );
    for path in files {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let file = path.display().to_string();
        let format = tracedeck::formats::detect(&bytes).unwrap_or_else(|e| panic!("{file}: {e:?}"));
        let floor = measure(runs, &bytes, |b| json_values::<serde::de::IgnoredAny>(&b).count());
        let one = measure(runs, &bytes, |b| on_threads(1, &file, b));
        let all = measure(runs, &bytes, |b| on_threads(cores, &file, b));
        let ms = |m: Measured| m.best.as_secs_f64() * 1e3;
        let peak = one.peak.max(all.peak);
        let resident = resident_peak(&file, 1).zip(resident_peak(&file, cores)).map(|(a, b)| a.max(b) as f64);
        let (rss, rss_ratio) = match resident {
            Some(r) => (format!("{:.0}", r / 1e6), format!("{:.2}", r / bytes.len() as f64)),
            None => ("-".to_owned(), "-".to_owned()),
        };
        println!(
            "{:<20} {:>8.1} {:>10.0} {:>10.0} {:>6.2} {:>10.0} {:>6.2} {:>9.0} {:>6.2} {:>9} {:>6}",
            format.name(),
            bytes.len() as f64 / 1e6,
            ms(floor),
            ms(one),
            ms(one) / ms(floor),
            ms(all),
            ms(all) / ms(floor),
            peak as f64 / 1e6,
            peak as f64 / bytes.len() as f64,
            rss,
            rss_ratio
        );
    }
}

/// The JSON values of a file: one document, or one per line (a Collector file, Sentry events).
fn json_values<'a, T: serde::Deserialize<'a> + 'a>(bytes: &'a [u8]) -> impl Iterator<Item = T> + 'a {
    serde_json::Deserializer::from_slice(bytes).into_iter::<T>().map(|value| value.expect("valid JSON"))
}
