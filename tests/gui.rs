//! The window as a person uses it: egui_kittest drives the real app headlessly and finds
//! what is on screen by the labels a person reads.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::Node;
use egui_kittest::kittest::{NodeT, Queryable};
use tracedeck::ui::{App, Settings};

fn harness(files: Vec<std::path::PathBuf>) -> Harness<'static, App> {
    harness_at(files, None)
}

fn harness_at(files: Vec<std::path::PathBuf>, span: Option<tracedeck::model::SpanId>) -> Harness<'static, App> {
    let app = App::new(Settings::default(), files, span, None);
    let mut harness =
        Harness::builder().with_size(egui::vec2(1500.0, 950.0)).build_ui_state(|ui, app: &mut App| app.ui(ui), app);
    harness.run_steps(2);
    harness
}

/// Steps the app until `done` holds (files load on worker threads), for at most 20 s.
fn wait_for(harness: &mut Harness<'_, App>, what: &str, done: impl Fn(&Harness<'_, App>) -> bool) {
    let start = Instant::now();
    while !done(harness) {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
        harness.step();
    }
    harness.run_steps(2);
}

fn label(node: &Node<'_>) -> String {
    let node = node.accesskit_node();
    node.label().or_else(|| node.value()).unwrap_or_default()
}

fn shows(harness: &Harness<'_, App>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

fn open_incident() -> Harness<'static, App> {
    let mut h = harness(Vec::new());
    h.get_by_label("Open the incident trace").click();
    h.run_steps(2);
    wait_for(&mut h, "the verdict banner", |h| shows(h, "MISS:") || shows(h, "PASS:"));
    h
}

/// Opens a sample trace (one that misses) with the span `span` selected.
fn open_at(sample: &str, span: &str) -> Harness<'static, App> {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-traces").join(sample);
    let span = tracedeck::model::SpanId::from_hex(span).unwrap();
    let mut h = harness_at(vec![file], Some(span));
    wait_for(&mut h, "the trace", |h| shows(h, "MISS:"));
    h
}

#[test]
fn the_incident_trace_shows_the_missed_deadline_and_the_late_views_open() {
    let h = open_incident();
    let banner = h.get_by_label_contains("missed the 3");
    assert!(label(&banner).contains("views.open"), "{}", label(&banner));
    let rows: Vec<String> =
        h.query_all_by_label_contains("POST https://slack.com/api/views.open").map(|n| label(&n)).collect();
    assert!(rows.iter().any(|r| r.contains("starts after the deadline")), "{rows:?}");
}

#[test]
fn collapsing_the_task_hides_its_children_and_expanding_brings_them_back() {
    let mut h = open_incident();
    assert!(shows(&h, "views.open"));
    let task = "sentry.integrations.slack.tasks.convert_to_async_slack_response";
    h.query_all_by_label_contains(&format!("Collapse {task}")).next().expect("the task can be collapsed").click();
    h.run_steps(2);
    assert!(!h.query_all_by_label_contains("views.open").any(|n| label(&n).contains("after the deadline")));
    let all: Vec<String> = h.query_all_by_label_contains("").map(|n| label(&n)).collect();
    assert!(shows(&h, "not shown"), "the hidden spans are counted on screen: {all:?}");
    h.get_by_label_contains(&format!("Expand {task}")).click();
    h.run_steps(2);
    assert!(h.query_all_by_label_contains("views.open").any(|n| label(&n).contains("after the deadline")));
}

#[test]
fn search_finds_and_selects_the_span() {
    let mut h = open_incident();
    h.get_by_label("Search spans").click();
    h.run_steps(1);
    h.get_by_label("Search spans").type_text("expired_trigger");
    h.run_steps(2);
    assert!(shows(&h, "matches"));
    h.get_by_label("Next match").click();
    h.run_steps(2);
    assert!(shows(&h, "1 of"), "the first match is current");
    assert!(shows(&h, "Show in tree"), "the details panel shows the selected span");
}

#[test]
fn a_malformed_file_shows_its_error_and_the_app_keeps_running() {
    let dir = std::env::temp_dir().join(format!("tracedeck-gui-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("broken-trace.json");
    std::fs::write(&bad, br#"{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": 5}]}]}]}"#).unwrap();
    let mut h = harness(vec![bad]);
    wait_for(&mut h, "the error", |h| shows(h, "could not be opened"));
    let message = h.get_by_label_contains("broken-trace.json:");
    let text = label(&message);
    assert!(text.contains("OTLP"), "names the format: {text}");
    assert!(text.contains("traceId") || text.contains("line 1"), "names the place: {text}");
    h.get_by_label("Close this tab").click();
    h.run_steps(2);
    assert!(shows(&h, "Open the incident trace"), "back on the start screen");
}

#[test]
fn the_fixed_trace_meets_the_deadline() {
    let mut h = harness(Vec::new());
    h.get_by_label("Open the fixed trace").click();
    h.run_steps(2);
    wait_for(&mut h, "the verdict banner", |h| shows(h, "MISS:") || shows(h, "PASS:"));
    assert!(shows(&h, "met the 3"), "the banner says it met the deadline");
}

#[test]
fn the_span_table_groups_spans_and_a_click_selects_them_in_the_waterfall() {
    let mut h = open_incident();
    h.get_by_label("View").click();
    h.run_steps(2);
    h.get_by_label("Span table").click();
    h.run_steps(3);
    assert!(shows(&h, "groups of spans by op and name"));
    h.query_all_by_label_contains("http.client  POST https://slack.com/api/views.open")
        .next()
        .expect("a row for views.open")
        .click();
    h.run_steps(3);
    assert!(shows(&h, "durations of POST https://slack.com/api/views.open"), "the histogram names the group");
    assert!(shows(&h, "Show in tree"), "the group's first span is selected");
}

#[test]
fn the_file_menu_saves_an_open_trace_as_otlp_or_as_a_tracedeck_file() {
    let mut h = harness(Vec::new());
    h.get_by_label("File").click();
    h.run_steps(2);
    let enabled = |h: &Harness<'_, App>, text: &str| !h.get_by_label(text).accesskit_node().is_disabled();
    assert!(!enabled(&h, "Save trace as tracedeck file…"), "nothing to save yet");
    let mut h = open_incident();
    h.get_by_label("File").click();
    h.run_steps(2);
    assert!(enabled(&h, "Save trace as OTLP JSON…") && enabled(&h, "Save trace as tracedeck file…"));
}

#[test]
fn before_and_after_compare_on_one_axis_with_both_verdicts() {
    let mut h = open_incident();
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Open the fixed trace").click();
    h.run_steps(2);
    wait_for(&mut h, "the fixed trace", |h| shows(h, "PASS:"));
    h.get_by_label("incident-before.sentry.json").click();
    h.run_steps(2);
    h.get_by_label("Compare with").click();
    h.run_steps(2);
    h.query_all_by_label("incident-after.sentry.json").last().expect("the other tab is offered").click();
    h.run_steps(3);
    assert!(shows(&h, "MISS:") && shows(&h, "PASS:"), "both verdicts are shown");
    assert!(shows(&h, "Compared with trace"));
    h.get_by_label("Stop comparing").click();
    h.run_steps(2);
    assert!(!shows(&h, "PASS:"));
}

#[test]
fn clock_skew_can_be_adjusted_and_the_moved_spans_are_listed() {
    let dir = std::env::temp_dir().join(format!("tracedeck-gui-skew-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("skewed.zipkin.json");
    std::fs::write(
        &file,
        br#"[{"traceId":"463ac35c9f6413ad","id":"a2fb4a1d1a96d312","name":"get /users","timestamp":1700000000100000,"duration":250000,"localEndpoint":{"serviceName":"web"}},
             {"traceId":"463ac35c9f6413ad","id":"b2fb4a1d1a96d313","parentId":"a2fb4a1d1a96d312","name":"select users","timestamp":1700000000050000,"duration":20000,"localEndpoint":{"serviceName":"db"}}]"#,
    )
    .unwrap();
    let mut h = harness(vec![file]);
    wait_for(&mut h, "the trace", |h| shows(h, "spans not shown") || shows(h, "select users"));
    h.get_by_label_contains("warning(s) about this trace").click();
    h.run_steps(3);
    assert!(shows(&h, "start before their parent"), "the skew is a visible warning");
    h.get_by_label_contains("Adjust for clock skew").click();
    h.run_steps(3);
    assert!(shows(&h, "1 span(s) moved by the skew adjustment"));
    h.get_by_label_contains("Adjust for clock skew").click();
    h.run_steps(3);
    assert!(!shows(&h, "moved by the skew adjustment"), "back to raw times");
}

#[test]
fn opening_at_a_span_selects_it_and_shows_its_details() {
    let h = open_at("incident-before.sentry.json", "ed5cb1cc1bc67f3d");
    assert!(shows(&h, "The verdict hangs on this span"), "the late views.open is selected");
    assert!(shows(&h, "ed5cb1cc1bc67f3d"));
}

#[test]
fn a_spans_resource_attributes_unfold_in_its_details() {
    let mut h = open_at("incident-before.otlp.jsonl", "c0a1b2c3d4e5f603");
    assert!(!shows(&h, "control-web-5c8d9"), "the resource is folded at first");
    h.get_by_label("Resource (8)").click();
    h.run_steps(3);
    assert!(shows(&h, "control-web-5c8d9"), "host.name of the front process");
    assert!(shows(&h, "deployment.environment"));
}

#[test]
fn the_traces_view_says_how_often_it_misses_and_opens_the_worst_trace() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-traces/many-before.zipkin.json");
    let mut h = harness(vec![file]);
    wait_for(&mut h, "the traces view", |h| shows(h, "missed the 3 s deadline"));
    let summary = label(&h.get_by_label_contains("missed the 3 s deadline"));
    assert!(summary.starts_with("115 of 2400 missed the 3 s deadline: 4.8% (95% CI 4.0–5.7%)"), "{summary}");
    // Another platform's deadline judges every trace again.
    h.get_by_label("Deadline profile").click();
    h.run_steps(2);
    h.get_by_label_contains("github —").click();
    // Judged again on a worker.
    wait_for(&mut h, "the traces re-judged under github's 10 s", |h| shows(h, "of 2400 missed the 10 s deadline"));
    h.get_by_label("Deadline profile").click();
    h.run_steps(2);
    h.get_by_label_contains("slack —").click();
    wait_for(&mut h, "the traces re-judged under slack", |h| shows(h, "115 of 2400 missed the 3 s deadline"));
    assert!(shows(&h, "By endpoint"));
    h.get_by_label("File").click();
    h.run_steps(2);
    let save = h.get_by_label("Save trace as tracedeck file…");
    assert!(!save.accesskit_node().is_disabled(), "the traces view's traces can be saved in one file");
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    h.get_by_label("Open the worst trace").click();
    h.run_steps(3);
    assert!(shows(&h, "MISS:"), "the worst trace opens in a waterfall tab with its verdict");
}

/// The labels of the waterfall's rows, in order.
fn rows(harness: &Harness<'_, App>) -> Vec<String> {
    harness.query_all_by_role(egui::accesskit::Role::Row).map(|n| label(&n)).collect()
}

/// The names of the spans on `profile`'s critical path of the incident trace, in order.
fn critical_names(profile: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-traces/incident-before.sentry.json");
    let trace = tracedeck::formats::import("incident", &std::fs::read(path).unwrap()).unwrap().traces.remove(0);
    let profile = tracedeck::analysis::Profile::built_in(profile).unwrap();
    let overlay = tracedeck::ui::overlay::for_trace(&trace, &profile);
    (0..trace.len() as u32)
        .filter(|&i| overlay.is_critical(i))
        .map(|i| trace.str(trace.span(i).name).to_owned())
        .collect()
}

#[test]
fn switching_the_profile_with_critical_path_only_shows_the_new_critical_path() {
    let (slack, github) = (critical_names("slack"), critical_names("github"));
    assert_ne!(slack, github, "the two profiles' responses lie on different paths");
    let mut h = open_incident();
    h.get_by_label("Critical path only").click();
    h.run_steps(2);
    let names =
        |h: &Harness<'_, App>| rows(h).into_iter().map(|r| r.split(' ').next().unwrap().to_owned()).collect::<Vec<_>>();
    let first_word =
        |names: &[String]| names.iter().map(|n| n.split(' ').next().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(names(&h), first_word(&slack));
    h.get_by_label("Deadline profile").click();
    h.run_steps(2);
    h.get_by_label_contains("github").click();
    wait_for(&mut h, "the github verdict", |h| shows(h, "10 s deadline"));
    assert_eq!(names(&h), first_word(&github), "the rows follow the new critical path");
}

#[test]
fn the_window_judges_by_the_deadline_it_was_started_with() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-traces/incident-before.sentry.json");
    let profile = tracedeck::analysis::Profile::default_profile().with_limit(2_000_000_000);
    let app = App::new(Settings::default(), vec![file], None, Some(profile));
    let mut h =
        Harness::builder().with_size(egui::vec2(1500.0, 950.0)).build_ui_state(|ui, app: &mut App| app.ui(ui), app);
    wait_for(&mut h, "the verdict banner", |h| shows(h, "MISS:"));
    assert!(
        shows(&h, "missed the 2 s deadline"),
        "{:?}",
        h.query_all_by_label_contains("MISS").map(|n| label(&n)).collect::<Vec<_>>()
    );
}

/// Opens a conformance fixture with the span written `span` (hex or a name) selected.
fn open_fixture_at(fixture: &str, span: &str) -> Harness<'static, App> {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conformance").join(fixture);
    let (span, _) = tracedeck::model::SpanId::from_text(span).unwrap();
    let mut h = harness_at(vec![file], Some(span));
    wait_for(&mut h, "the trace", |h| shows(h, "MISS:") || shows(h, "PASS:"));
    h
}

#[test]
fn an_id_written_as_a_name_is_shown_as_written_and_an_untimed_span_says_so() {
    let h = open_fixture_at("zipkin-text-ids.json", "span-views-open");
    assert!(shows(&h, "span-views-open"), "the span id as the file wrote it");
    assert!(shows(&h, "span1234567890ab"), "its parent's id as the file wrote it");
    let h = open_fixture_at("zipkin-lens-untimed.json", "352bff9a74ca9ad2");
    assert!(shows(&h, "No time in the file: placed at its parent's start, not judged"));
}

/// Steps the app until `done` holds, for at most `limit` (replays wait for the app's calls).
fn wait_long(harness: &mut Harness<'_, App>, what: &str, limit: Duration, done: impl Fn(&Harness<'_, App>) -> bool) {
    let start = Instant::now();
    while !done(harness) {
        let shown: Vec<String> = harness.query_all_by_label_contains("runs").map(|n| label(&n)).collect();
        assert!(start.elapsed() < limit, "timed out waiting for {what}; on screen: {shown:?}");
        std::thread::sleep(Duration::from_millis(50));
        harness.step();
    }
    harness.run_steps(2);
}

#[test]
fn the_demo_replay_fails_from_the_start_screen_then_passes_once_the_app_is_fixed() {
    let mut h = harness(Vec::new());
    h.get_by_label("Try the replay on the demo app").click();
    h.run_steps(2);
    // Ten runs against the buggy app: its queue sometimes opens the modal after the trigger expired.
    wait_long(&mut h, "the buggy app's verdict", Duration::from_secs(60), |h| shows(h, "of 10 runs failed"));
    let verdict = label(&h.get_by_label_contains("of 10 runs failed"));
    assert!(!verdict.starts_with("0 of"), "the buggy app fails some runs: {verdict}");
    assert!(verdict.contains("(95% CI "), "the rate comes with its interval: {verdict}");
    assert!(shows(&h, "expired_trigger_id"), "a failed run says why");

    h.get_by_label("Fix the app").click();
    h.run_steps(2);
    h.get_by_label("Start").click();
    h.run_steps(2);
    wait_long(&mut h, "the fixed app's verdict", Duration::from_secs(60), |h| shows(h, "0 of 10 runs failed"));
    assert!(shows(&h, "0 of 10 runs failed: below 25.9% at 95% confidence"));
}

#[test]
fn a_window_started_with_a_deadline_judges_its_replays_by_it() {
    // `tracedeck --deadline 1us`: no ack can be that fast, so every run fails by that rule.
    let profile = tracedeck::analysis::Profile::default_profile().with_limit(1_000);
    let app = App::new(Settings::default(), Vec::new(), None, Some(profile));
    let mut h =
        Harness::builder().with_size(egui::vec2(1500.0, 950.0)).build_ui_state(|ui, app: &mut App| app.ui(ui), app);
    h.run_steps(2);
    h.get_by_label("Try the replay on the demo app").click();
    h.run_steps(2);
    wait_long(&mut h, "the demo replay's verdict", Duration::from_secs(60), |h| shows(h, "of 10 runs failed"));
    assert!(shows(&h, "10 of 10 runs failed"), "every run misses a 1 µs deadline");
    assert!(shows(&h, "after the slack profile's 1.0 µs limit"), "a run names the window's deadline");
    assert!(shows(&h, "judged by the slack profile's 1.0 µs limit"), "the round says what it was judged by");
}
