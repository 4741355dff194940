//! `tracedeck check` end to end, through the real binary: exit status, what it prints, and how
//! it names bad input.

mod cli_support;

use std::path::PathBuf;

use cli_support::{sample, text, tracedeck};

#[test]
fn the_incident_misses_the_deadline_on_views_open() {
    let out = tracedeck(&["check", &sample("incident-before.sentry.json")]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "stdout:\n{stdout}\nstderr:\n{}", text(&out.stderr));
    assert!(stdout.contains("MISS  views.open sent at"), "{stdout}");
    assert!(stdout.contains("missed the 3 s deadline by"), "{stdout}");
    assert!(stdout.contains("expired_trigger_id"), "the failing call's error is shown:\n{stdout}");
}

#[test]
fn the_fixed_trace_passes() {
    let out = tracedeck(&["check", &sample("incident-after.sentry.json")]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{}", text(&out.stderr));
    assert!(stdout.contains("PASS"), "{stdout}");
    assert!(stdout.contains("to spare"), "{stdout}");
}

#[test]
fn a_trace_saved_as_a_tracedeck_file_checks_the_same_as_the_original() {
    let (sentry, saved) = (sample("incident-after.sentry.json"), sample("incident-after.tracedeck.json"));
    let (original, out) = (tracedeck(&["check", &sentry]), tracedeck(&["check", &saved]));
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{}", text(&out.stderr));
    let expected = text(&original.stdout).replace(&sentry, &saved).replace("Sentry JSON", "tracedeck JSON");
    assert_eq!(stdout, expected);
}

#[test]
fn json_reports_each_trace_with_stable_fields() {
    let before = sample("incident-before.sentry.json");
    let after = sample("incident-after.sentry.json");
    let out = tracedeck(&["check", "--format", "json", &before, &after]);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["profile"]["name"], "slack");
    assert_eq!(doc["profile"]["limit"]["ms"], 3000.0);
    assert_eq!(doc["errors"].as_array().map(Vec::len), Some(0));
    let traces = doc["traces"].as_array().expect("a list of traces");
    // Exactly one trace per file: a trace that dropped out, or came twice, fails here.
    let mut outcomes: Vec<(&str, &str)> =
        traces.iter().map(|t| (t["file"].as_str().unwrap_or("?"), t["outcome"].as_str().unwrap_or("?"))).collect();
    outcomes.sort();
    let mut expected = [(before.as_str(), "miss"), (after.as_str(), "pass")];
    expected.sort();
    assert_eq!(outcomes, expected);
    let missed = traces.iter().find(|t| t["file"] == before.as_str()).expect("the incident trace");
    let views_open = missed["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == "trigger_id" && c["passed"] == false)
        .expect("a failed trigger_id check");
    assert!(views_open["span"]["name"].as_str().unwrap_or_default().contains("views.open"), "{views_open}");
    assert!(views_open["margin"]["ns"].as_i64().is_some_and(|ns| ns < 0), "{views_open}");
}

#[test]
fn a_missing_file_is_bad_input_and_named() {
    let out = tracedeck(&["check", "no-such-trace.json"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("no-such-trace.json: cannot read the file"), "{stderr}");
}

#[test]
fn a_file_of_garbage_is_bad_input_and_named() {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("garbage-trace.bin");
    std::fs::write(&path, b"\x00\x01 this is not a trace {{{").unwrap();
    let path = path.to_str().unwrap();
    let out = tracedeck(&["check", path]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(path), "{stderr}");

    let out = tracedeck(&["check", "--format", "json", path]);
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON even when every file failed");
    assert_eq!(doc["errors"][0]["file"], path);
    assert_eq!(doc["traces"].as_array().map(Vec::len), Some(0));
}

#[test]
fn bad_flag_values_are_bad_input() {
    for (args, expected) in [
        (vec!["check", "t.json", "--deadline", "banana"], "banana"),
        (vec!["check", "t.json", "--profile", "myspace"], "myspace"),
        (vec!["check", "t.json", "--response", "op"], "no `=` or `~`"),
    ] {
        let out = tracedeck(&args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn a_bad_span_id_for_the_window_is_refused_before_any_window_opens() {
    let out = tracedeck(&["trace.json", "--span", "not-hex"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not-hex"), "{}", text(&out.stderr));
}
