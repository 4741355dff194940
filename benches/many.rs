//! Many traces: how fast tracedeck imports a file of 100,000 traces in each compact format,
//! judges and sums them up (what `check --summary` does), and loads a folder of many files on
//! one thread and on all of them.
//!
//! `cargo bench --bench many` prints a table. Under `cargo test --all-targets` (no `--bench`
//! argument) it runs the same steps on 2,000 traces as a smoke test. The traces come from the
//! `gen_many` example's generator (the incident endpoint, half before the fix and half after,
//! 6 to 8 spans each).

#[path = "../examples/support/incident_traces.rs"]
mod incident_traces;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use incident_traces::{Era, generate};
use tracedeck::analysis::{Profile, Sample, Summary, analyze};
use tracedeck::corpus;
use tracedeck::formats::{self, Format};

/// How many times each step runs; the best run is reported.
const RUNS: usize = 3;

fn best<T>(mut step: impl FnMut() -> T) -> (Duration, T) {
    let mut fastest = Duration::MAX;
    let mut last = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        let value = step();
        fastest = fastest.min(started.elapsed());
        last = Some(value);
    }
    (fastest, last.expect("RUNS is not zero"))
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let count = if full { 100_000 } else { 2_000 };
    // Half before the fix, half after: a day that spans the deploy.
    let mut traces = generate(Era::Before, count / 2, 1);
    traces.extend(generate(Era::After, count - count / 2, 2));
    let spans: usize = traces.iter().map(|t| t.len()).sum();
    println!("{count} traces, {spans} spans (best of {RUNS} runs)");
    println!("{:<28} {:>10} {:>12} {:>14} {:>14}", "step", "MB", "ms", "spans/s", "× IgnoredAny");

    for format in [Format::Zipkin, Format::Otlp, Format::Jaeger, Format::Tracedeck] {
        let mut bytes = Vec::new();
        format.write(&traces, &mut bytes).expect("writing to memory");
        // The floor: serde_json validating the same bytes and keeping nothing.
        let (floor, ()) = best(|| {
            serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).map(drop).expect("the file is JSON");
        });
        let (time, imported) = best(|| formats::import("bench", &bytes).expect("the written file reads back"));
        assert_eq!(imported.traces.len(), count, "{format}: every trace kept apart");
        let ratio = time.as_secs_f64() / floor.as_secs_f64();
        row(&format!("import {format}"), Some(bytes.len()), time, spans, Some(ratio));
    }

    let profile = Profile::built_in("slack").expect("built in");
    let (time, summary) = best(|| Summary::of(traces.iter().map(|t| Sample::of(&analyze(t, &profile)))));
    assert_eq!(summary.traces, count as u64);
    row("judge and sum up", None, time, spans, None);
    println!("  {}", summary.rate.sentence(profile.limit));

    // A folder of 50 files, each a slice of the traces.
    let dir = std::env::temp_dir().join(format!("tracedeck-bench-many-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let per_file = count.div_ceil(50);
    let mut size = 0;
    for (i, chunk) in traces.chunks(per_file).enumerate() {
        let mut bytes = Vec::new();
        Format::Zipkin.write(chunk, &mut bytes).expect("writing to memory");
        size += bytes.len();
        std::fs::write(dir.join(format!("{i:03}.json")), bytes).expect("writing a file");
    }
    let inputs = [PathBuf::from(&dir)];
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for threads in [1, cores] {
        let (time, loaded) = best(|| corpus::load_on(&inputs, threads, &|_| {}));
        assert_eq!((loaded.traces.len(), loaded.errors.len()), (count, 0));
        row(&format!("folder of 50, {threads} thread(s)"), Some(size), time, spans, None);
    }
    std::fs::remove_dir_all(&dir).expect("removing the temporary folder");
}

fn row(step: &str, bytes: Option<usize>, time: Duration, spans: usize, ratio: Option<f64>) {
    let mb = bytes.map_or_else(String::new, |b| format!("{:.1}", b as f64 / 1e6));
    let rate = spans as f64 / time.as_secs_f64();
    let ratio = ratio.map_or_else(String::new, |r| format!("{r:.2}"));
    println!("{step:<28} {mb:>10} {:>12.1} {rate:>14.0} {ratio:>14}", time.as_secs_f64() * 1e3);
}
