//! Many traces at once: files holding many traces, folders, `check --summary`, the
//! `--max-miss-rate` gate, and bad files among good ones. Through the real binary where the
//! exit status matters.

mod cli_support;
#[path = "../examples/support/incident_traces.rs"]
mod incident_traces;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use cli_support::{sample, text, tracedeck};
use incident_traces::{Era, generate};
use tracedeck::formats::{self, Format};

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: stderr {}", text(&out.stderr)))
}

/// A fresh folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("check-summary-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

const BEFORE: &str = "many-before.zipkin.json";
const AFTER: &str = "many-after.zipkin.json";

#[test]
fn the_before_sample_gets_a_miss_rate_with_its_interval() {
    let out = tracedeck(&["check", &sample(BEFORE), "--summary", "--quiet"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("summary: 2400 traces from 1 file\n"), "{stdout}");
    assert!(stdout.contains("115 of 2400 missed the 3 s deadline: 4.8% (95% CI 4.0–5.7%)"), "{stdout}");
    assert!(stdout.contains("response time: p50 "), "{stdout}");
    assert!(stdout.contains("worst: trace ") && stdout.contains(BEFORE), "{stdout}");
    assert!(stdout.contains("\"POST /slack/interactions\": 115 of 1914 missed"), "{stdout}");
    assert!(!stdout.contains("MISS  "), "--quiet silences the verdicts:\n{stdout}");
}

#[test]
fn the_summary_agrees_with_the_verdicts_it_sums() {
    let out = tracedeck(&["check", &sample(BEFORE), "--summary", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    let traces = doc["traces"].as_array().expect("verdicts are listed without --quiet");
    let summary = &doc["summary"];
    let misses = traces.iter().filter(|t| t["outcome"] == "miss").count();
    assert_eq!(summary["traces"], traces.len());
    assert_eq!(summary["missed"], misses);
    assert_eq!(summary["judged"], traces.len());
    let rate = summary["miss_rate"].as_f64().unwrap();
    let (low, high) = (summary["interval"]["low"].as_f64().unwrap(), summary["interval"]["high"].as_f64().unwrap());
    assert!(low < rate && rate < high, "{summary}");
    let slowest = traces.iter().max_by_key(|t| t["response"]["ns"].as_i64().unwrap()).unwrap();
    assert_eq!(summary["worst"]["trace_id"], slowest["trace_id"]);
    assert_eq!(summary["worst"]["response"], slowest["response"]);
    assert_eq!(summary["worst"]["file"], sample(BEFORE));
    let max = summary["response"]["max"]["ns"].as_i64().unwrap();
    assert_eq!(max, slowest["response"]["ns"].as_i64().unwrap());
    let endpoints = summary["by_endpoint"].as_array().unwrap();
    let per_endpoint: u64 = endpoints.iter().map(|e| e["traces"].as_u64().unwrap()).sum();
    assert_eq!(per_endpoint, traces.len() as u64);

    let quiet = json(&tracedeck(&["check", &sample(BEFORE), "--quiet", "--summary", "--format", "json"]));
    assert!(quiet.get("traces").is_none(), "--quiet leaves the verdicts out of the JSON");
    assert_eq!(quiet["summary"], doc["summary"]);
}

#[test]
fn max_miss_rate_gates_on_the_rate_not_on_any_miss() {
    let before = sample(BEFORE);
    let gate = |p: &str| tracedeck(&["check", &before, "--quiet", "--max-miss-rate", p]);
    let loose = gate("10%");
    assert_eq!(loose.status.code(), Some(0), "4.8% is under 10%:\n{}", text(&loose.stdout));
    assert!(text(&loose.stdout).contains("gate: pass, the miss rate 4.8% is at most the allowed 10%"));
    let tight = gate("2");
    assert_eq!(tight.status.code(), Some(1));
    assert!(text(&tight.stdout).contains("gate: FAIL, the miss rate 4.8% is above the allowed 2%"));
    assert!(text(&tight.stdout).contains("summary: 2400 traces"), "the gate prints the summary");
    // 115 / 2400 = 4.79…%: just above 4.79, under 4.8.
    assert_eq!(gate("4.8").status.code(), Some(0));
    let above = gate("4.79");
    assert_eq!(above.status.code(), Some(1));
    assert!(text(&above.stdout).contains("gate: FAIL, the miss rate 4.792% is above the allowed 4.79%"));

    let after = tracedeck(&["check", &sample(AFTER), "--summary", "--quiet"]);
    let stdout = text(&after.stdout);
    assert_eq!(after.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("0 of 2000 missed the 3 s deadline: below 0.15% at 95% confidence"), "{stdout}");
    assert_eq!(tracedeck(&["check", &sample(AFTER), "--max-miss-rate", "0%"]).status.code(), Some(0));
}

#[test]
fn the_two_eras_share_no_trace_id_even_made_with_one_seed() {
    let ids = |era| generate(era, 2400, 1).iter().map(|t| t.trace_id()).collect::<HashSet<_>>();
    let (before, after) = (ids(Era::Before), ids(Era::After));
    assert_eq!((before.len(), after.len()), (2400, 2400));
    assert!(before.is_disjoint(&after), "{} shared", before.intersection(&after).count());

    // And so the samples, checked together, are 4400 traces, none of them in both files.
    let out = tracedeck(&["check", &sample(BEFORE), &sample(AFTER), "--summary", "--quiet"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(stdout.contains("summary: 4400 traces from 2 files"), "{stdout}");
    assert!(!stderr.contains("note:"), "{stderr}");
}

#[test]
fn a_folder_loads_every_file_and_lists_the_bad_ones() {
    let dir = scratch("folder");
    std::fs::create_dir_all(dir.join("fixed/more")).unwrap();
    std::fs::copy(sample(BEFORE), dir.join("before.json")).unwrap();
    std::fs::copy(sample(AFTER), dir.join("fixed/more/after.json")).unwrap();
    std::fs::write(dir.join("fixed/cut.json"), b"[{\"traceId\":\"ab\",\"id\":").unwrap();
    std::fs::write(dir.join("fixed/readme.txt"), b"traces from the incident").unwrap();
    let folder = path_str(&dir);

    let out = tracedeck(&["check", folder, "--summary", "--quiet"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "bad files make it exit 2 without --keep-going:\n{stderr}");
    assert!(stderr.contains("cut.json") && stderr.contains("line 1"), "{stderr}");
    assert!(stderr.contains("readme.txt") && stderr.contains("not JSON"), "{stderr}");
    assert!(stdout.contains("summary: 4400 traces from 2 files; 2 could not be read"), "{stdout}");
    assert!(stdout.contains("115 of 4400 missed"), "{stdout}");

    // The rest still decides with --keep-going: 2.6% of all traces missed.
    let keep = tracedeck(&["check", folder, "--quiet", "--keep-going", "--max-miss-rate", "3%"]);
    assert_eq!(keep.status.code(), Some(0), "{}", text(&keep.stdout));
    assert!(text(&keep.stderr).contains("readme.txt"), "bad files are still listed");
    let keep = tracedeck(&["check", folder, "--quiet", "--keep-going"]);
    assert_eq!(keep.status.code(), Some(1), "without a gate any miss fails");

    let doc = json(&tracedeck(&["check", folder, "--quiet", "--summary", "--format", "json"]));
    let errors: Vec<&str> = doc["errors"].as_array().unwrap().iter().map(|e| e["file"].as_str().unwrap()).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].ends_with("cut.json") && errors[1].ends_with("readme.txt"), "{errors:?}");
    assert_eq!(doc["summary"]["files"], 2);
    assert_eq!(doc["summary"]["unreadable_files"], 2);
}

#[test]
fn a_trace_cut_across_two_files_counts_once_and_names_both() {
    // Rotated exports: the file is cut in the middle of a trace's spans.
    let traces = generate(Era::Before, 30, 11);
    let mut bytes = Vec::new();
    Format::Zipkin.write(&traces, &mut bytes).unwrap();
    let spans: Vec<serde_json::Value> = serde_json::from_slice(&bytes).unwrap();
    let cut = spans.len() / 2;
    let cut_trace = spans[cut]["traceId"].as_str().unwrap().to_owned();
    assert_eq!(spans[cut - 1]["traceId"], cut_trace, "the cut falls inside a trace");
    let dir = scratch("rotated");
    let (older, newer) = (dir.join("spans-1.json"), dir.join("spans-2.json"));
    std::fs::write(&older, serde_json::to_vec(&spans[..cut]).unwrap()).unwrap();
    std::fs::write(&newer, serde_json::to_vec(&spans[cut..]).unwrap()).unwrap();

    let out = tracedeck(&["check", path_str(&older), path_str(&newer), "--summary"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(stdout.contains("summary: 30 traces from 2 files"), "{stdout}");
    let both = format!("{} + {}", older.display(), newer.display());
    assert!(stdout.contains(&format!("{both}: trace {cut_trace} ")), "{stdout}");
    assert!(
        stderr.contains(&format!("note: trace {cut_trace} is in several files, joined into one: {both}")),
        "{stderr}"
    );
    assert!(!stdout.contains("orphan"), "the parts link up:\n{stdout}");

    // In JSON, `file` stays one path and `files` lists them all.
    let doc = json(&tracedeck(&["check", path_str(&older), path_str(&newer), "--summary", "--format", "json"]));
    let cut = doc["traces"].as_array().unwrap().iter().find(|t| t["trace_id"] == cut_trace.as_str()).unwrap();
    assert_eq!(cut["file"], path_str(&older));
    assert_eq!(cut["files"], serde_json::json!([path_str(&older), path_str(&newer)]));
}

#[test]
fn a_file_named_twice_or_within_a_folder_named_counts_once() {
    let dir = scratch("named-twice");
    let file = dir.join("before.json");
    std::fs::copy(sample(BEFORE), &file).unwrap();
    for inputs in [[path_str(&file), path_str(&file)], [path_str(&dir), path_str(&file)]] {
        let out = tracedeck(&["check", inputs[0], inputs[1], "--summary", "--quiet"]);
        let stdout = text(&out.stdout);
        assert!(stdout.contains("summary: 2400 traces from 1 file\n"), "{inputs:?}: {stdout}");
        assert!(stdout.contains("115 of 2400 missed"), "{stdout}");
        assert_eq!(text(&out.stderr), "", "{inputs:?}");
    }
}

#[test]
fn an_empty_folder_is_bad_input() {
    let dir = scratch("empty");
    let out = tracedeck(&["check", path_str(&dir), "--summary"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no trace files found"), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("no trace could be judged"), "{}", text(&out.stdout));
}

#[test]
fn a_jaeger_search_result_loads_as_many_traces() {
    let traces = generate(Era::Before, 40, 5);
    let mut bytes = Vec::new();
    Format::Jaeger.write(&traces, &mut bytes).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["data"].as_array().map(Vec::len), Some(40), "one data[] entry per trace, as a search answers");

    let imported = formats::import("search.json", &bytes).unwrap();
    assert_eq!(imported.traces.len(), 40);
    for (got, want) in imported.traces.iter().zip(&traces) {
        assert_eq!((got.trace_id(), got.len(), got.roots().len()), (want.trace_id(), want.len(), 1));
    }

    let dir = scratch("jaeger");
    let file = dir.join("search.json");
    std::fs::write(&file, &bytes).unwrap();
    let doc = json(&tracedeck(&["check", path_str(&file), "--quiet", "--summary", "--format", "json"]));
    assert_eq!(doc["summary"]["traces"], 40);
}

#[test]
fn otlp_json_lines_mixing_trace_ids_load_as_many_traces() {
    // One line per service batch: every line mixes all trace ids, and every trace spans lines.
    let traces = generate(Era::Before, 30, 9);
    let mut bytes = Vec::new();
    Format::Otlp.write(&traces, &mut bytes).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let batches = doc["resourceSpans"].as_array().unwrap();
    assert_eq!(batches.len(), 2, "front and worker");
    let lines: Vec<String> = batches.iter().map(|b| serde_json::json!({ "resourceSpans": [b] }).to_string()).collect();
    let jsonl = lines.join("\n") + "\n";

    let imported = formats::import("batches.jsonl", jsonl.as_bytes()).unwrap();
    assert_eq!(imported.format, Format::Otlp);
    assert_eq!(imported.traces.len(), 30);
    let mut want: Vec<_> = traces.iter().map(|t| (t.trace_id(), t.len())).collect();
    let mut got: Vec<_> = imported.traces.iter().map(|t| (t.trace_id(), t.len())).collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    assert!(imported.traces.iter().all(|t| t.roots().len() == 1 && t.warnings().is_empty()));
}

#[test]
fn sentry_events_of_different_traces_stay_apart() {
    let traces = generate(Era::After, 12, 3);
    let mut bytes = Vec::new();
    Format::Sentry.write(&traces, &mut bytes).unwrap();
    let imported = formats::import("events.json", &bytes).unwrap();
    assert_eq!(imported.traces.len(), 12);
    let mut want: Vec<_> = traces.iter().map(|t| (t.trace_id(), t.len())).collect();
    let mut got: Vec<_> = imported.traces.iter().map(|t| (t.trace_id(), t.len())).collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    assert!(imported.traces.iter().all(|t| t.roots().len() == 1));
}
