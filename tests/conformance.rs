//! The conformance corpus (`tests/fixtures/conformance/`): files in the shapes other tools write
//! all load, with the traces and spans they hold and a warning for each leniency. Every file in
//! the folder must be listed here and in the folder's README (which says what real-world shape
//! it stands for).

use std::path::Path;

use tracedeck::formats::{Format, import};
use tracedeck::model::{SpanFlags, Trace};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/conformance");

/// What a file must load as.
struct Expect {
    file: &'static str,
    format: Format,
    /// Spans of each trace, in the order the traces load (by start time).
    spans: &'static [usize],
    /// Each must be part of some warning of the first trace.
    warnings: &'static [&'static str],
    /// Spans placed without a time of their own.
    untimed: usize,
}

const CORPUS: &[Expect] = &[
    Expect {
        file: "zipkin-lens-untimed.json",
        format: Format::Zipkin,
        spans: &[4],
        warnings: &[
            "2 span(s) have no timestamp (352bff9a74ca9ad2, 1f0e9d8c7b6a5948); each is placed at the start of its \
             nearest timed parent, marked untimed; verdicts judge by the timed spans",
        ],
        untimed: 2,
    },
    Expect {
        file: "zipkin-single-span.json",
        format: Format::Zipkin,
        spans: &[1],
        warnings: &["the file is one span object rather than an array of spans; read as a list of one"],
        untimed: 0,
    },
    Expect {
        file: "zipkin-shared-skew.json",
        format: Format::Zipkin,
        spans: &[4],
        warnings: &["1 server span(s) share their client's span id", "clock skew"],
        untimed: 0,
    },
    Expect {
        file: "zipkin-text-ids.json",
        format: Format::Zipkin,
        spans: &[3],
        warnings: &["3 span(s) have ids that are not hex (e.g. \"span1234567890ab\"); each id is kept as its text"],
        untimed: 0,
    },
    Expect { file: "zipkin-traces-answer.json", format: Format::Zipkin, spans: &[2, 1], warnings: &[], untimed: 0 },
    Expect {
        file: "jaeger-anonymizer-spans.json",
        format: Format::Jaeger,
        spans: &[3],
        warnings: &["the file is a bare array of Jaeger spans (each with its process inline)"],
        untimed: 0,
    },
    Expect {
        file: "jaeger-query-answer.json",
        format: Format::Jaeger,
        spans: &[3],
        warnings: &[
            "Jaeger warning on span 1a2b3c4d5e6f7081: clock skew adjustment disabled",
            "1 span(s) have only FOLLOWS_FROM references",
        ],
        untimed: 0,
    },
    Expect {
        file: "jaeger-text-ids.json",
        format: Format::Jaeger,
        spans: &[2],
        warnings: &["2 span(s) have ids that are not hex (e.g. \"root-span\")"],
        untimed: 0,
    },
    Expect { file: "otlp-proto-example.json", format: Format::Otlp, spans: &[2], warnings: &[], untimed: 0 },
    Expect { file: "otlp-collector-file.jsonl", format: Format::Otlp, spans: &[3, 1], warnings: &[], untimed: 0 },
    Expect { file: "otlp-tempo-batches.json", format: Format::Otlp, spans: &[2], warnings: &[], untimed: 0 },
    Expect { file: "otlp-legacy-library.json", format: Format::Otlp, spans: &[1], warnings: &[], untimed: 0 },
    Expect {
        file: "otlp-text-ids.json",
        format: Format::Otlp,
        spans: &[2],
        warnings: &["2 span(s) have ids that are not hex (e.g. \"span1234567890ab\")"],
        untimed: 0,
    },
    Expect {
        file: "sentry-spans-without-trace-id.json",
        format: Format::Sentry,
        spans: &[3],
        warnings: &["2 span(s) have no trace_id of their own; each belongs to the trace of its transaction"],
        untimed: 0,
    },
    Expect { file: "sentry-stored-transaction.json", format: Format::Sentry, spans: &[3], warnings: &[], untimed: 0 },
    Expect {
        file: "chrome-devtools-performance.json",
        format: Format::Chrome,
        spans: &[5],
        warnings: &[
            "3 event(s) that are not slices or instants (counters, samples, flows, ...) were ignored: C ×1, O ×1, P ×1",
        ],
        untimed: 0,
    },
    Expect {
        file: "chrome-perfetto-export.json",
        format: Format::Chrome,
        spans: &[5],
        warnings: &["1 event(s) that are not slices or instants (counters, samples, flows, ...) were ignored: C ×1"],
        untimed: 0,
    },
    Expect {
        file: "chrome-tracing-flows-counters.json",
        format: Format::Chrome,
        spans: &[3],
        warnings: &[
            "5 event(s) that are not slices or instants (counters, samples, flows, ...) were ignored: C ×2, f ×1, s ×1, t ×1",
        ],
        untimed: 0,
    },
    Expect {
        file: "chrome-hand-written-gaps.json",
        format: Format::Chrome,
        spans: &[3],
        warnings: &[
            "1 event(s) have no `ts`, so they cannot be placed in time; skipped (e.g. $.traceEvents[2])",
            "1 complete (`X`) event(s) have no `dur`; shown as instants at their `ts` (e.g. $.traceEvents[1])",
            "2 async event(s) have no `id` (nor `id2`) to pair them by; skipped (e.g. $.traceEvents[3])",
        ],
        untimed: 0,
    },
];

fn warnings(trace: &Trace) -> Vec<String> {
    trace.warnings().iter().map(|w| w.to_string()).collect()
}

#[test]
fn every_file_of_the_corpus_loads_with_its_traces_spans_and_warnings() {
    for expect in CORPUS {
        let path = Path::new(DIR).join(expect.file);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let imported = import(expect.file, &bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(imported.format, expect.format, "{}", expect.file);
        let spans: Vec<usize> = imported.traces.iter().map(Trace::len).collect();
        assert_eq!(spans, expect.spans, "{}: spans per trace", expect.file);
        let first = warnings(&imported.traces[0]);
        for wanted in expect.warnings {
            assert!(first.iter().any(|w| w.contains(wanted)), "{}: no warning {wanted:?} in {first:#?}", expect.file);
        }
        if expect.warnings.is_empty() {
            assert!(first.is_empty(), "{}: unexpected warnings {first:#?}", expect.file);
        }
        let untimed: usize = imported
            .traces
            .iter()
            .map(|t| t.spans().iter().filter(|s| s.flags.contains(SpanFlags::UNTIMED)).count())
            .sum();
        assert_eq!(untimed, expect.untimed, "{}: untimed spans", expect.file);
    }
}

#[test]
fn every_file_in_the_folder_is_checked_and_described() {
    let readme = std::fs::read_to_string(Path::new(DIR).join("README.md")).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "README.md")
        .collect();
    files.sort();
    let mut listed: Vec<String> = CORPUS.iter().map(|e| e.file.to_owned()).collect();
    listed.sort();
    assert_eq!(files, listed, "the corpus table and the folder differ");
    for file in &files {
        assert!(readme.contains(&format!("| `{file}` |")), "{file} has no line in the README");
    }
}

#[test]
fn names_written_as_ids_are_shown_as_written_and_link_parents() {
    let bytes = std::fs::read(Path::new(DIR).join("zipkin-text-ids.json")).unwrap();
    let trace = &import("zipkin-text-ids.json", &bytes).unwrap().traces[0];
    assert_eq!(trace.roots().len(), 1, "every child found its parent by the id's text");
    let written: Vec<String> = (0..trace.len() as u32).map(|i| trace.written_id(i)).collect();
    assert_eq!(written, ["span1234567890ab", "span-views-open", "0000000000000abc"]);
}

#[test]
fn spans_placed_without_a_time_stay_untimed_through_zipkin_and_tracedeck_files() {
    let bytes = std::fs::read(Path::new(DIR).join("zipkin-lens-untimed.json")).unwrap();
    let original = import("zipkin-lens-untimed.json", &bytes).unwrap().traces;
    let placed = |traces: &[Trace]| -> Vec<(String, i64, bool)> {
        let t = &traces[0];
        let mut spans: Vec<(String, i64, bool)> = (0..t.len() as u32)
            .map(|i| (t.written_id(i), t.span(i).start, t.span(i).flags.contains(SpanFlags::UNTIMED)))
            .collect();
        spans.sort();
        spans
    };
    for format in [Format::Zipkin, Format::Tracedeck] {
        let mut written = Vec::new();
        format.write(&original, &mut written).unwrap();
        let again = import("again.json", &written).unwrap_or_else(|e| panic!("{format}: {e}")).traces;
        assert_eq!(placed(&again), placed(&original), "{format}");
    }
}

/// The bytes of the `n`th corpus file.
fn corpus_bytes(n: usize) -> Vec<u8> {
    std::fs::read(Path::new(DIR).join(CORPUS[n % CORPUS.len()].file)).unwrap()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Lenient reading must not turn a refusal into a panic: corpus files cut short, with a
    /// stretch removed or a byte changed, load or are refused, never crash.
    #[test]
    fn damaged_corpus_files_load_or_are_refused_without_panicking(
        file in 0usize..64,
        at in 0.0f64..1.0,
        len in 0usize..40,
        byte in proptest::prelude::any::<u8>(),
        how in 0u8..3,
    ) {
        let mut bytes = corpus_bytes(file);
        let at = (at * bytes.len() as f64) as usize;
        match how {
            0 => bytes.truncate(at),
            1 => { bytes.drain(at..(at + len).min(bytes.len())); }
            _ => if let Some(b) = bytes.get_mut(at) { *b = byte },
        }
        if let Ok(imported) = import("damaged.json", &bytes) {
            proptest::prop_assert!(imported.traces.iter().all(|t| !t.is_empty()));
        }
    }
}
