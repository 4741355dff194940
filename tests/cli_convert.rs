//! `tracedeck convert`: every sample through every format is judged by `check` as the original
//! is; end to end through the real binary: the output's name picks the format; nothing is
//! replaced without --force; what the import warned about is printed.

mod cli_support;

use std::path::Path;

use clap::Parser;
use cli_support::{sample, text, tracedeck};
use tracedeck::cli::{Cli, Command, check, convert};

/// Formats as `--to` names them, with the ending `convert` reads the format from.
const FORMATS: [(&str, &str); 6] = [
    ("otlp", ".otlp.json"),
    ("jaeger", ".jaeger.json"),
    ("zipkin", ".zipkin.json"),
    ("chrome", ".chrome.json"),
    ("sentry", ".sentry.json"),
    ("tracedeck", ".tracedeck.json"),
];

/// Runs a command in this process (the matrix below runs over a hundred; the binary is tested
/// by the other tests), returning stdout, stderr and the exit status.
fn run(args: &[&str]) -> (String, String, u8) {
    let cli = Cli::try_parse_from(std::iter::once("tracedeck").chain(args.iter().copied())).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = match cli.command {
        Some(Command::Check(args)) => check(&args, &mut out, &mut err),
        Some(Command::Convert(args)) => convert(&args, &mut out, &mut err),
        other => panic!("not a command this test runs: {other:?}"),
    };
    (text(&out), text(&err), status as u8)
}

/// Each trace's verdict as `check --format json` gives it: outcome, span count and response
/// time to the millisecond (µs formats round nanoseconds), sorted; and the exit status.
fn verdicts(file: &str) -> (u8, Vec<(String, u64, i64)>) {
    let (out, err, status) = run(&["check", "--format", "json", file]);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{file}: {e}\nstderr:\n{err}"));
    let mut traces: Vec<(String, u64, i64)> = doc["traces"]
        .as_array()
        .expect("traces")
        .iter()
        .map(|t| {
            let response = t["response"]["ns"].as_i64().map_or(-1, |ns| (ns + 500_000).div_euclid(1_000_000));
            (t["outcome"].as_str().unwrap_or_default().to_owned(), t["spans"].as_u64().unwrap_or_default(), response)
        })
        .collect();
    traces.sort();
    (status, traces)
}

fn samples() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-traces");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json") || n.ends_with(".jsonl"))
        .filter(|n| !n.ends_with(".capture.json"))
        .collect();
    names.sort();
    names
}

#[test]
fn every_sample_through_every_format_gets_the_same_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let samples = samples();
    assert!(samples.len() >= 8, "{samples:?}");
    for name in samples {
        let original = sample(&name);
        let expected = verdicts(&original);
        assert!(!expected.1.is_empty(), "{name} holds traces");
        for (to, ending) in FORMATS {
            let output = dir.path().join(format!("{name}-as{ending}"));
            let output = output.to_str().unwrap();
            let (out, err, status) = run(&["convert", &original, "-o", output]);
            assert_eq!(status, 0, "{name} to {to}: {err}");
            assert!(out.starts_with(&format!("{output}: {} trace(s)", expected.1.len())), "{name} to {to}: {out}");
            assert_eq!(verdicts(output), expected, "{name} converted to {to}");
        }
    }
}

#[test]
fn the_format_comes_from_to_or_the_name_and_nothing_is_replaced_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let zipkin = sample("checkout.zipkin.json");
    let out_path = dir.path().join("trace.json");
    let out_path = out_path.to_str().unwrap();

    let out = tracedeck(&["convert", &zipkin, "-o", out_path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot tell the output format from"), "{}", text(&out.stderr));
    assert!(!Path::new(out_path).exists(), "nothing written");

    let out = tracedeck(&["convert", &zipkin, "-o", out_path, "--to", "jaeger"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).ends_with("span(s) as Jaeger JSON\n"), "{}", text(&out.stdout));
    let written = std::fs::read(out_path).unwrap();
    assert!(text(&written).contains("\"traceID\""));

    let out = tracedeck(&["convert", &zipkin, "-o", out_path, "--to", "otlp"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("exists; pass --force to replace it"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(out_path).unwrap(), written, "the file is untouched");

    let out = tracedeck(&["convert", &zipkin, "-o", out_path, "--to", "otlp", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&std::fs::read(out_path).unwrap()).contains("resourceSpans"));
}

#[test]
fn warnings_are_printed_and_a_bad_input_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let untimed = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/conformance/zipkin-lens-untimed.json");
    let output = dir.path().join("out.otlp.json");
    let out = tracedeck(&["convert", untimed, "-o", output.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("tracedeck: warning: ") && stderr.contains("2 span(s) have no timestamp"), "{stderr}");

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"resourceSpans\": [").unwrap();
    let output = dir.path().join("never.otlp.json");
    let out = tracedeck(&["convert", untimed, bad.to_str().unwrap(), "-o", output.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("bad.json") && stderr.contains("nothing written to"), "{stderr}");
    assert!(!output.exists());
}
