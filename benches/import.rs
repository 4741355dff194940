//! Import benchmark: how fast, and in how much memory, tracedeck reads a large file in every
//! format, next to serde_json skipping the same bytes (`IgnoredAny`, the floor for any JSON
//! reader).
//!
//! `cargo bench --bench import --no-default-features` generates one deterministic
//! 1,000,000-span trace (with [`tracedeck::synth`]), writes it once in every format under the
//! target directory (set `TRACEDECK_BENCH_SPANS` for a smaller one), and prints for each
//! format the best wall time of a few runs of `IgnoredAny`, and of tracedeck's path of the
//! window and `check` (parse, giving back the parts read in parallel, drop the rest, build) on
//! one thread and on every core, from the file's bytes in memory; and the peak resident memory
//! (Linux's `VmHWM`) of a fresh process of this binary that reads the file and imports it as
//! `check` does, on one thread and on every core. `cargo bench --bench import -- path/to/file.json`
//! measures a file of yours. `TRACEDECK_BENCH_RUNS` sets the number of runs (default 3);
//! `TRACEDECK_BENCH_ONLY=zipkin` measures only the formats whose name contains that text (any
//! case). Under `cargo test` (no `--bench` argument) it runs once on 2,000 spans, as a smoke test.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tracedeck::formats::{Format, Imported, Input};

#[path = "support/generated.rs"]
mod generated;
use generated::{env_number, generated_file};

/// Runs `read` `runs` times on a fresh input made by `prepare` (before timing starts) and
/// returns the best time. `read` returns what it built so that freeing it is not timed.
fn best_of<I, T>(runs: usize, prepare: impl Fn() -> I, mut read: impl FnMut(I) -> T) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let input = prepare();
        let started = Instant::now();
        let built = black_box(read(input));
        best = best.min(started.elapsed());
        drop(built);
    }
    best
}

/// What the window and `check` do with a file read whole: detect and parse, giving back the
/// parts read in parallel as they are read, drop the rest, build.
fn tracedeck_import(file: &str, input: Input) -> Imported {
    let parsed = tracedeck::formats::parse_input(file, &input).expect("the input is not spoiled");
    drop(input);
    let (format, builder) = parsed.unwrap_or_else(|e| panic!("{e}"));
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

/// The peak resident memory, in bytes, of a fresh process that reads `file` and imports it on
/// `threads` threads, as `check` does (`None` where `/proc` is not there).
fn resident_peak(file: &str, threads: usize) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let out = std::process::Command::new(exe).args([RESIDENT, file, &threads.to_string()]).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    text.trim().parse::<u64>().ok().filter(|_| out.status.success()).map(|kib| kib * 1024)
}

/// Runs `work` on a rayon pool of `threads` threads.
fn on_threads<T: Send>(threads: usize, work: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool").install(work)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, file, threads] = &args[..]
        && flag == RESIDENT
    {
        let imported =
            on_threads(threads.parse().expect("a thread count"), || tracedeck::corpus::import_file(Path::new(file)));
        drop(black_box(imported.unwrap_or_else(|e| panic!("{e}"))));
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
        "best of {runs} run(s); all cores = {cores}; times in ms; peak resident memory (of a process that \
         reads the file and imports it, on one thread and on all cores) in MB"
    );
    println!(
        "{:<20} {:>8} {:>10} {:>10} {:>6} {:>10} {:>6} {:>9} {:>6} {:>9} {:>6}",
        "format", "MB", "IgnoredAny", "1 thread", "x", "all cores", "x", "RSS 1", "x file", "RSS all", "x file"
    );
    for path in files {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let file = path.display().to_string();
        let format = tracedeck::formats::detect(&bytes).unwrap_or_else(|e| panic!("{file}: {e:?}"));
        let floor = best_of(runs, || bytes.clone(), |b| json_values::<serde::de::IgnoredAny>(&b).count());
        let input = || Input::read(&mut &bytes[..], bytes.len(), |_| Ok(())).expect("an anonymous map");
        let one = best_of(runs, input, |i| on_threads(1, || tracedeck_import(&file, i)));
        let all = best_of(runs, input, |i| on_threads(cores, || tracedeck_import(&file, i)));
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let resident = |threads| match resident_peak(&file, threads) {
            Some(r) => (format!("{:.0}", r as f64 / 1e6), format!("{:.2}", r as f64 / bytes.len() as f64)),
            None => ("-".to_owned(), "-".to_owned()),
        };
        let ((rss_one, one_ratio), (rss_all, all_ratio)) = (resident(1), resident(cores));
        println!(
            "{:<20} {:>8.1} {:>10.0} {:>10.0} {:>6.2} {:>10.0} {:>6.2} {:>9} {:>6} {:>9} {:>6}",
            format.name(),
            bytes.len() as f64 / 1e6,
            ms(floor),
            ms(one),
            ms(one) / ms(floor),
            ms(all),
            ms(all) / ms(floor),
            rss_one,
            one_ratio,
            rss_all,
            all_ratio
        );
    }
}

/// The JSON values of a file: one document, or one per line (a Collector file, Sentry events).
fn json_values<'a, T: serde::Deserialize<'a> + 'a>(bytes: &'a [u8]) -> impl Iterator<Item = T> + 'a {
    serde_json::Deserializer::from_slice(bytes).into_iter::<T>().map(|value| value.expect("valid JSON"))
}
