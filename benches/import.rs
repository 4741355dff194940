//! Import benchmark: how fast, and in how much memory, tracedeck reads a large OTLP JSON file,
//! next to serde_json skipping the same bytes (`IgnoredAny`, the floor for any JSON reader)
//! and building a `serde_json::Value` tree (what a naive importer would do).
//!
//! `cargo bench --bench import` generates a deterministic 1,000,000-span file under the target
//! directory (once; set `TRACEDECK_BENCH_SPANS` for a smaller one) and prints, for each
//! reader, the best wall time of a few runs, the throughput and the peak heap including the
//! input buffer. `cargo bench --bench import -- path/to/file.json` measures a file of yours.
//! `TRACEDECK_BENCH_RUNS` sets the number of runs (default 3); `TRACEDECK_BENCH_ONLY=tracedeck`
//! measures only the readers whose name contains that text (for profiling).

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

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
    let path = std::env::args().skip(1).find(|a| !a.starts_with("--")).map(PathBuf::from);
    let spans = env_number("TRACEDECK_BENCH_SPANS", 1_000_000);
    let runs = env_number("TRACEDECK_BENCH_RUNS", 3).max(1);
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
                let (format, builder) = tracedeck::formats::parse(&file, &b).unwrap_or_else(|e| panic!("{e}"));
                drop(b);
                tracedeck::formats::finish(&file, format, builder).unwrap_or_else(|e| panic!("{e}"))
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
    let path = dir.join(format!("bench-otlp-{spans}-v1.json"));
    if !path.exists() {
        let started = Instant::now();
        let text = generate(spans);
        std::fs::create_dir_all(&dir).expect("target directory");
        let partial = path.with_extension("partial");
        std::fs::File::create(&partial).and_then(|mut f| f.write_all(text.as_bytes())).expect("write the bench file");
        std::fs::rename(&partial, &path).expect("rename the bench file");
        println!("generated {} in {:.1} s", path.display(), started.elapsed().as_secs_f64());
    }
    path
}

/// SplitMix64: a small deterministic generator, enough for a reproducible file.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next() as usize % items.len()]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const SERVICES: [&str; 5] = ["gateway", "orders", "payments", "inventory", "notifications"];
const ROUTES: [&str; 6] =
    ["/api/orders", "/api/orders/{id}", "/api/cart", "/api/checkout", "/api/users/{id}", "/health"];
const TABLES: [&str; 5] = ["orders", "order_items", "users", "stock", "payments"];

/// One span before it is written.
struct GenSpan {
    id: u64,
    parent: u64,
    service: usize,
    depth: u32,
    start: i64,
    end: i64,
}

/// A TracesData document of `total` spans: traces of 20 to 400 spans, 2 to 8 deep, over five
/// services, each span with 3 to 6 attributes of its kind, some with events, a few failing.
fn generate(total: usize) -> String {
    let mut rng = Rng(0x7ace_dec0_0000_0001);
    let mut out = String::with_capacity(total * 480);
    out.push_str("{\"resourceSpans\":[");
    let (mut written, mut first_batch) = (0, true);
    let mut t0: i64 = 1_718_000_000_000_000_000;
    while written < total {
        let size = (rng.range(20, 400) as usize).min(total - written);
        let max_depth = rng.range(2, 8) as u32;
        let trace_id = (u128::from(rng.next()) << 64) | u128::from(rng.next());
        t0 += rng.range(1, 2_000_000_000) as i64;
        let mut spans: Vec<GenSpan> = Vec::with_capacity(size);
        let root_end = t0 + rng.range(5_000_000, 3_000_000_000) as i64;
        spans.push(GenSpan { id: rng.next() | 1, parent: 0, service: 0, depth: 0, start: t0, end: root_end });
        while spans.len() < size {
            // Prefer recent spans as parents: fan-out with depth.
            let back = (rng.next() % 8) as usize;
            let mut p = spans.len().saturating_sub(1 + back);
            while spans[p].depth + 1 >= max_depth {
                p = spans.iter().position(|s| s.id == spans[p].parent).unwrap_or(0);
            }
            let parent = &spans[p];
            let span_len = (parent.end - parent.start).max(2);
            let start = parent.start + (rng.next() % span_len as u64) as i64 / 2;
            let end = start + 1 + (rng.next() % ((parent.end - start).max(1) as u64)) as i64;
            let service = if rng.chance(25) { rng.range(0, 4) as usize } else { parent.service };
            let span = GenSpan { id: rng.next() | 1, parent: parent.id, service, depth: parent.depth + 1, start, end };
            spans.push(span);
        }
        for (service, name) in SERVICES.iter().enumerate() {
            let mine: Vec<&GenSpan> = spans.iter().filter(|s| s.service == service).collect();
            if mine.is_empty() {
                continue;
            }
            if !first_batch {
                out.push(',');
            }
            first_batch = false;
            write!(
                out,
                "\n{{\"resource\":{{\"attributes\":[{{\"key\":\"service.name\",\"value\":{{\"stringValue\":\"{name}\"}}}},\
                 {{\"key\":\"telemetry.sdk.language\",\"value\":{{\"stringValue\":\"python\"}}}}]}},\
                 \"scopeSpans\":[{{\"scope\":{{\"name\":\"opentelemetry.instrumentation.auto\",\"version\":\"0.46b0\"}},\"spans\":["
            )
            .unwrap();
            for (i, span) in mine.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_span(&mut out, &mut rng, trace_id, span);
            }
            out.push_str("]}]}");
        }
        written += spans.len();
    }
    out.push_str("\n]}\n");
    out
}

fn write_span(out: &mut String, rng: &mut Rng, trace_id: u128, span: &GenSpan) {
    let kind = if span.depth == 0 { 2 } else { rng.range(1, 5) };
    let route = rng.pick(&ROUTES);
    let table = rng.pick(&TABLES);
    let (name, attrs): (String, Vec<(&str, String)>) = match kind {
        2 => (
            format!("GET {route}"),
            vec![
                ("http.request.method", "\"GET\"".into()),
                ("http.route", format!("\"{route}\"")),
                ("url.path", format!("\"{}\"", route.replace("{id}", &rng.range(1, 99_999).to_string()))),
                ("http.response.status_code", format!("{}", rng.range(200, 204))),
                ("user_agent.original", "\"python-requests/2.32.3\"".into()),
            ],
        ),
        3 if rng.chance(60) => (
            format!("SELECT {table}"),
            vec![
                ("db.system", "\"postgresql\"".into()),
                ("db.name", "\"shop\"".into()),
                ("db.statement", format!("\"SELECT * FROM {table} WHERE id = %s\"")),
                ("server.address", "\"pg-main.internal\"".into()),
            ],
        ),
        3 => (
            "POST".into(),
            vec![
                ("http.request.method", "\"POST\"".into()),
                ("url.full", format!("\"http://{}:8080{route}\"", rng.pick(&SERVICES))),
                ("http.response.status_code", "200".into()),
            ],
        ),
        4 | 5 => (
            format!("{} orders.events", if kind == 4 { "publish" } else { "process" }),
            vec![
                ("messaging.system", "\"rabbitmq\"".into()),
                ("messaging.destination.name", "\"orders.events\"".into()),
                ("messaging.message.id", format!("\"{:016x}\"", rng.next())),
            ],
        ),
        _ => (
            format!("compute_{table}"),
            vec![
                ("code.function", format!("\"compute_{table}\"")),
                ("code.namespace", "\"shop.services\"".into()),
                ("code.lineno", format!("{}", rng.range(10, 900))),
                ("thread.id", format!("{}", rng.range(1, 64))),
            ],
        ),
    };
    write!(
        out,
        "{{\"traceId\":\"{trace_id:032x}\",\"spanId\":\"{:016x}\",\"parentSpanId\":\"{}\",\"name\":\"{name}\",\"kind\":{kind},\
         \"startTimeUnixNano\":\"{}\",\"endTimeUnixNano\":\"{}\",\"attributes\":[",
        span.id,
        if span.parent == 0 { String::new() } else { format!("{:016x}", span.parent) },
        span.start,
        span.end
    )
    .unwrap();
    for (i, (key, value)) in attrs.iter().enumerate() {
        let typed = if value.starts_with('"') {
            format!("{{\"stringValue\":{value}}}")
        } else {
            format!("{{\"intValue\":\"{value}\"}}")
        };
        write!(out, "{}{{\"key\":\"{key}\",\"value\":{typed}}}", if i > 0 { "," } else { "" }).unwrap();
    }
    if rng.chance(30) {
        write!(out, ",{{\"key\":\"sampling.ratio\",\"value\":{{\"doubleValue\":0.{}}}}}", rng.range(1, 99)).unwrap();
    }
    out.push(']');
    let failed = rng.chance(2);
    if failed || rng.chance(5) {
        let mid = span.start + (span.end - span.start) / 2;
        if failed {
            write!(
                out,
                ",\"events\":[{{\"timeUnixNano\":\"{mid}\",\"name\":\"exception\",\"attributes\":[\
                 {{\"key\":\"exception.type\",\"value\":{{\"stringValue\":\"TimeoutError\"}}}},\
                 {{\"key\":\"exception.message\",\"value\":{{\"stringValue\":\"upstream took too long\"}}}},\
                 {{\"key\":\"exception.stacktrace\",\"value\":{{\"stringValue\":\"Traceback (most recent call last):\\n  File \\\"app.py\\\", line {}, in handle\\nTimeoutError: upstream took too long\"}}}}]}}]",
                rng.range(10, 500)
            )
            .unwrap();
        } else {
            write!(out, ",\"events\":[{{\"timeUnixNano\":\"{mid}\",\"name\":\"cache miss\",\"attributes\":[]}}]")
                .unwrap();
        }
    }
    if failed {
        out.push_str(",\"status\":{\"code\":2,\"message\":\"upstream took too long\"}}");
    } else {
        out.push_str(",\"status\":{}}");
    }
}
