//! Import benchmark: how fast, and in how much memory, tracedeck reads a large OTLP JSON file,
//! next to serde_json skipping the same bytes (`IgnoredAny`, the floor for any JSON reader)
//! and building a `serde_json::Value` tree (what a naive importer would do).
//!
//! `cargo bench --bench import` generates a deterministic 1,000,000-span file (with
//! [`tracedeck::synth`], written by the OTLP writer) under the target
//! directory (once; set `TRACEDECK_BENCH_SPANS` for a smaller one) and prints, for each
//! reader, the best wall time of a few runs, the throughput and the peak heap including the
//! input buffer. `cargo bench --bench import -- path/to/file.json` measures a file of yours.
//! `TRACEDECK_BENCH_RUNS` sets the number of runs (default 3); `TRACEDECK_BENCH_ONLY=tracedeck`
//! measures only the readers whose name contains that text (for profiling). Under `cargo test`
//! (no `--bench` argument) it runs once on a 2,000-span file, as a smoke test.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tracedeck::formats::Format;
use tracedeck::synth::{SynthParams, generate};

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

/// The best time and the peak heap of one way of reading the file.
struct Measured {
    name: &'static str,
    best: Duration,
    /// Peak heap during the run, counting the input buffer.
    peak: usize,
}

/// Runs `read` `runs` times on `input` and keeps the best time and the largest peak. `read`
/// returns what it built so that freeing it is not timed.
fn measure<T>(name: &'static str, runs: usize, input: &[u8], mut read: impl FnMut(&[u8]) -> T) -> Measured {
    let (mut best, mut peak) = (Duration::MAX, 0);
    for _ in 0..runs {
        let others = IN_USE.load(Ordering::Relaxed) - input.len();
        PEAK.store(IN_USE.load(Ordering::Relaxed), Ordering::Relaxed);
        let started = Instant::now();
        let built = black_box(read(black_box(input)));
        best = best.min(started.elapsed());
        peak = peak.max(PEAK.load(Ordering::Relaxed) - others);
        drop(built);
    }
    Measured { name, best, peak }
}

/// Like [`measure`] for a reader that owns (and drops early) its input: each run gets a fresh
/// copy, made before timing starts and counted in the peak.
fn measure_owned<T>(name: &'static str, runs: usize, input: &[u8], mut read: impl FnMut(Vec<u8>) -> T) -> Measured {
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
    Measured { name, best, peak }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it,
    // and then it only checks, on a small file, that every reader runs.
    let full = std::env::args().any(|a| a == "--bench");
    let path = std::env::args().skip(1).find(|a| !a.starts_with("--")).map(PathBuf::from);
    let spans = env_number("TRACEDECK_BENCH_SPANS", if full { 1_000_000 } else { 2_000 });
    let runs = env_number("TRACEDECK_BENCH_RUNS", if full { 3 } else { 1 }).max(1);
    let path = match path {
        Some(path) => path,
        None => generated_file(spans),
    };
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let file = path.display().to_string();
    println!("{file}: {:.1} MB, best of {runs} run(s)", bytes.len() as f64 / 1e6);

    let only = std::env::var("TRACEDECK_BENCH_ONLY").unwrap_or_default();
    let wanted = |name: &str| if name.contains(only.as_str()) { runs } else { 0 };
    let results = [
        measure("serde_json IgnoredAny", wanted("serde_json IgnoredAny"), &bytes, |b| {
            json_values::<serde::de::IgnoredAny>(b).count()
        }),
        measure("serde_json Value", wanted("serde_json Value"), &bytes, |b| {
            json_values::<serde_json::Value>(b).collect::<Vec<_>>()
        }),
        measure("tracedeck formats::import", wanted("tracedeck formats::import"), &bytes, |b| {
            tracedeck::formats::import(&file, b).unwrap_or_else(|e| panic!("{e}"))
        }),
        measure_owned(
            "tracedeck parse, drop input, finish",
            wanted("tracedeck parse, drop input, finish"),
            &bytes,
            |b| {
                let (others, started) = (IN_USE.load(Ordering::Relaxed) - b.len(), Instant::now());
                let (format, builder) = tracedeck::formats::parse(&file, &b).unwrap_or_else(|e| panic!("{e}"));
                let (parsed, parse_peak) = (started.elapsed(), PEAK.load(Ordering::Relaxed) - others);
                drop(b);
                PEAK.store(IN_USE.load(Ordering::Relaxed), Ordering::Relaxed);
                let imported = tracedeck::formats::finish(&file, format, builder).unwrap_or_else(|e| panic!("{e}"));
                let finish_peak = PEAK.load(Ordering::Relaxed) - others;
                PEAK.store(parse_peak.max(finish_peak) + others, Ordering::Relaxed);
                println!(
                    "  phases: parse {:.0} ms (peak {:.0} MB), finish {:.0} ms (peak {:.0} MB)",
                    parsed.as_secs_f64() * 1e3,
                    parse_peak as f64 / 1e6,
                    (started.elapsed() - parsed).as_secs_f64() * 1e3,
                    finish_peak as f64 / 1e6
                );
                imported
            },
        ),
    ];
    let floor = results[0].best.as_secs_f64();
    println!("{:<38} {:>9} {:>9} {:>10} {:>9} {:>10}", "reader", "time ms", "MB/s", "peak MB", "x time", "x file");
    for r in results.iter().filter(|r| r.best != Duration::MAX) {
        let secs = r.best.as_secs_f64();
        println!(
            "{:<38} {:>9.0} {:>9.0} {:>10.0} {:>9.2} {:>10.2}",
            r.name,
            secs * 1e3,
            bytes.len() as f64 / 1e6 / secs,
            r.peak as f64 / 1e6,
            secs / floor,
            r.peak as f64 / bytes.len() as f64
        );
    }
}

/// The JSON values of a file: one document, or one per line (a Collector file).
fn json_values<'a, T: serde::Deserialize<'a> + 'a>(bytes: &'a [u8]) -> impl Iterator<Item = T> + 'a {
    serde_json::Deserializer::from_slice(bytes).into_iter::<T>().map(|value| value.expect("valid JSON"))
}

fn env_number(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(text) => {
            text.replace('_', "").parse().unwrap_or_else(|_| panic!("{name} must be a whole number, not {text:?}"))
        }
        Err(_) => default,
    }
}

/// The generated file for `spans` spans, written on first use.
fn generated_file(spans: usize) -> PathBuf {
    let dir = PathBuf::from(std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into()));
    let path = dir.join(format!("bench-otlp-{spans}-v2.json"));
    if !path.exists() {
        let started = Instant::now();
        let trace = generate(&SynthParams { spans, seed: 42, services: 5, ..SynthParams::default() });
        std::fs::create_dir_all(&dir).expect("target directory");
        let partial = path.with_extension("partial");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&partial).expect("create the bench file"));
        Format::Otlp.write(&[trace], &mut out).and_then(|()| out.flush()).expect("write the bench file");
        drop(out);
        std::fs::rename(&partial, &path).expect("rename the bench file");
        println!("generated {} in {:.1} s", path.display(), started.elapsed().as_secs_f64());
    }
    path
}
