//! The Fetch dialog as a person uses it, against a fake Jaeger on this machine: type the base
//! URL and the trace id, press Fetch, and get the trace; a trace the server does not have is
//! said plainly in the dialog. Saved connections fill the fields, and saving one writes the
//! connections file without the token. A Tempo search brings the server's trend over all traffic,
//! and a click on a bucket opens its slowest traces.

mod fetch_support;

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use fetch_support::{Fake, Reply, file, sample_traces, tempo_answer, written};
use tracedeck::analysis::Profile;
use tracedeck::formats::Format;
use tracedeck::ui::FetchDialog;
use tracedeck::ui::fetch_dialog::DialogRequest;
use tracedeck::ui::search_run::SearchRun;
use tracedeck::ui::traces_view::TracesView;

struct State {
    dialog: FetchDialog,
    runtime: tokio::runtime::Handle,
    fetched: Option<usize>,
    /// A search the dialog started, and the traces view it feeds (as the window's tab does).
    search: Option<(SearchRun, TracesView)>,
}

fn harness(runtime: &tokio::runtime::Runtime) -> Harness<'static, State> {
    harness_with(runtime, FetchDialog::default())
}

fn harness_with(runtime: &tokio::runtime::Runtime, mut dialog: FetchDialog) -> Harness<'static, State> {
    dialog.open = true;
    let state = State { dialog, runtime: runtime.handle().clone(), fetched: None, search: None };
    Harness::builder().with_size(egui::vec2(900.0, 500.0)).build_ui_state(
        |ui, state: &mut State| {
            egui::CentralPanel::default().show(ui, |ui| {
                let handle = state.runtime.clone();
                match state.dialog.ui(ui) {
                    Some(DialogRequest::Fetch) => state.dialog.start(&handle, || {}),
                    Some(DialogRequest::Search) => {
                        if let Some(run) = state.dialog.start_search(&handle, || {}) {
                            let profile = Profile::built_in("slack").unwrap();
                            state.search = Some((run, TracesView::new(Vec::new(), Vec::new(), &profile, Vec::new())));
                        }
                    }
                    None => {}
                }
                if let Some((run, view)) = &mut state.search {
                    run.poll(view);
                    run.ui(ui, view.len());
                    view.ui(ui);
                }
            });
            if let Some(fetched) = state.dialog.poll() {
                state.fetched = Some(fetched.traces.len());
            }
        },
        state,
    )
}

fn type_into(h: &mut Harness<'_, State>, field: &str, text: &str) {
    h.get_by_label(field).click();
    h.run_steps(1);
    h.get_by_label(field).type_text(text);
    h.run_steps(1);
}

fn wait(h: &mut Harness<'_, State>, done: impl Fn(&Harness<'_, State>) -> bool) {
    let start = Instant::now();
    while !done(h) {
        assert!(start.elapsed() < Duration::from_secs(20), "the fetch did not finish: {:?}", shown(h));
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
}

fn shown(h: &Harness<'_, State>) -> Vec<String> {
    h.query_all_by_label_contains("")
        .filter_map(|n| n.accesskit_node().label().or_else(|| n.accesskit_node().value()))
        .collect()
}

#[test]
fn fetching_from_jaeger_by_id_brings_the_trace() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = runtime.block_on(Fake::start(vec![Reply::ok(file("sample-traces/incident-before.jaeger.json"))]));
    let mut h = harness(&runtime);
    h.run_steps(2);
    type_into(&mut h, "Base URL", &fake.base());
    type_into(&mut h, "Trace id or URL", "5f3c9a1e7b2d4c8e");
    h.get_by_label("Fetch").click();
    wait(&mut h, |h| h.state().fetched.is_some());
    assert_eq!(h.state().fetched, Some(1));
    assert_eq!(fake.seen()[0].path, "/api/traces/5f3c9a1e7b2d4c8e");
}

#[test]
fn a_trace_the_server_does_not_have_is_an_error_in_the_dialog() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake =
        runtime.block_on(Fake::start(vec![Reply::status(404, r#"{"errors":[{"code":404,"msg":"trace not found"}]}"#)]));
    let mut h = harness(&runtime);
    h.run_steps(2);
    type_into(&mut h, "Base URL", &fake.base());
    type_into(&mut h, "Trace id or URL", "0123456789abcdef");
    h.get_by_label("Fetch").click();
    wait(&mut h, |h| shown(h).iter().any(|t| t.contains("has no trace")));
    let error = shown(&h).into_iter().find(|t| t.contains("has no trace")).unwrap();
    assert!(error.contains("0123456789abcdef"), "the error names the trace: {error}");
    assert_eq!(h.state().fetched, None);
    assert!(h.query_all_by_label("Fetch").next().is_some(), "the dialog can fetch again");
}

/// A connections file of its own for one test.
fn connections_file(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tracedeck-gui-fetch-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("connections.json")
}

#[test]
fn a_saved_connection_fills_the_fields_and_fetches() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fake = runtime.block_on(Fake::start(vec![Reply::ok(file("sample-traces/incident-before.jaeger.json"))]));
    let path = connections_file("choose");
    let saved =
        format!(r#"{{"connections": [{{"name": "local jaeger", "backend": "jaeger", "base": "{}"}}]}}"#, fake.base());
    std::fs::write(&path, saved).unwrap();
    let mut h = harness_with(&runtime, FetchDialog::with_connections(Some(path.clone())));
    h.run_steps(2);
    h.get_by_label("Saved connection").click();
    h.run_steps(2);
    h.get_by_label("local jaeger (Jaeger)").click();
    h.run_steps(2);
    let base = h.get_by_label("Base URL").accesskit_node().value();
    assert_eq!(base.as_deref(), Some(fake.base().as_str()), "the connection filled in the base URL");
    type_into(&mut h, "Trace id or URL", "5f3c9a1e7b2d4c8e");
    h.get_by_label("Fetch").click();
    wait(&mut h, |h| h.state().fetched.is_some());
    assert_eq!(fake.seen()[0].path, "/api/traces/5f3c9a1e7b2d4c8e");
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[test]
fn saving_a_connection_writes_the_file_without_the_token() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let path = connections_file("save");
    let mut h = harness_with(&runtime, FetchDialog::with_connections(Some(path.clone())));
    h.run_steps(2);
    type_into(&mut h, "Base URL", "http://127.0.0.1:16686");
    type_into(&mut h, "Token", "tok-do-not-write");
    type_into(&mut h, "Save as", "staging jaeger");
    h.get_by_label("Save connection").click();
    wait(&mut h, |h| shown(h).iter().any(|t| t.contains("saved staging jaeger")));
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.contains("staging jaeger") && written.contains("http://127.0.0.1:16686"), "{written}");
    assert!(!written.contains("tok-do-not-write"), "no token in the file: {written}");
    assert!(h.query_all_by_label("Forget connection").next().is_some(), "the saved connection is chosen");
    h.get_by_label("Forget connection").click();
    wait(&mut h, |h| shown(h).iter().any(|t| t.contains("forgot staging jaeger")));
    assert!(!std::fs::read_to_string(&path).unwrap().contains("staging jaeger"), "forgotten");
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[test]
fn a_connections_file_that_cannot_be_read_is_said_and_left_alone() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let path = connections_file("broken");
    std::fs::write(&path, "{ not json").unwrap();
    let mut h = harness_with(&runtime, FetchDialog::with_connections(Some(path.clone())));
    h.run_steps(2);
    let note = shown(&h).into_iter().find(|t| t.contains("saved connections are not available"));
    let note = note.expect("the broken file is said");
    assert!(note.contains("connections.json") && note.contains("line 1"), "{note}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{ not json", "the file is left as it was");
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[test]
fn searching_zipkin_fills_a_traces_view_as_the_traces_arrive() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // Zipkin answers a search with an array of traces, each an array of spans.
    let spans: Vec<serde_json::Value> = serde_json::from_slice(&file("sample-traces/many-before.zipkin.json")).unwrap();
    let mut traces: Vec<Vec<serde_json::Value>> = Vec::new();
    for span in spans {
        match traces.iter_mut().find(|t| t[0]["traceId"] == span["traceId"]) {
            Some(trace) => trace.push(span),
            None => traces.push(vec![span]),
        }
    }
    let fake = runtime.block_on(Fake::start(vec![Reply::ok(serde_json::to_vec(&traces).unwrap())]));
    let mut h = harness(&runtime);
    h.run_steps(2);
    h.get_by_label("Search traces").click();
    h.run_steps(2);
    h.get_by_label("Zipkin").click();
    h.run_steps(1);
    type_into(&mut h, "Base URL", &fake.base());
    type_into(&mut h, "Service", "slack-app");
    type_into(&mut h, "Min duration", "3s");
    h.get_by_label("Search").click();
    wait(&mut h, |h| shown(h).iter().any(|t| t.contains("found 2400 traces of service")));
    let seen = &fake.seen()[0];
    assert_eq!(seen.path, "/api/v2/traces");
    let query = seen.query.clone().unwrap_or_default();
    assert!(query.contains("serviceName=slack-app") && query.contains("minDuration=3000000"), "{query}");
    h.run_steps(2);
    assert!(
        shown(&h).iter().any(|t| t.contains("of 2400 missed the 3 s deadline")),
        "the traces view sums up every trace found: {:?}",
        shown(&h).iter().take(20).collect::<Vec<_>>()
    );
}

/// Types `fields` into the dialog's search form, presses Search, and returns what is shown;
/// asserts no search started.
fn refused_search(fields: &[(&str, &str)]) -> Vec<String> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut h = harness(&runtime);
    h.run_steps(2);
    h.get_by_label("Search traces").click();
    h.run_steps(2);
    for (field, text) in fields {
        type_into(&mut h, field, text);
    }
    h.get_by_label("Search").click();
    h.run_steps(2);
    assert!(h.state().search.is_none(), "nothing started");
    shown(&h)
}

#[test]
fn a_search_with_a_bad_field_is_refused_in_the_dialog_saying_which() {
    let base = ("Base URL", "http://127.0.0.1:9");
    let shown = refused_search(&[base, ("Service", "front"), ("Min duration", "soon")]);
    assert!(shown.iter().any(|t| t.starts_with("Min duration:")), "{shown:?}");
    // What the back-end could not take is refused too, before any request.
    let shown = refused_search(&[base]);
    assert!(shown.iter().any(|t| t.contains("give the service")), "{shown:?}");
}

#[test]
fn a_tempo_search_shows_the_servers_trend_and_a_bucket_opens_its_slowest_traces() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let traces = sample_traces(2);
    let ids: Vec<String> = traces.iter().map(|t| t.trace_id().to_string()).collect();
    let otlp = |t: &tracedeck::model::Trace| Reply::ok(written(Format::Otlp, std::slice::from_ref(t)));
    let instant = |value: &str| Reply::ok(format!(r#"{{"series":[{{"labels":[],"value":{value}}}]}}"#));
    // Three 3-minute buckets (a 1 h search gets about 24 of them; the fake answers three).
    let series = |values: [u32; 3]| {
        let samples: Vec<String> = (0..3)
            .map(|i| {
                format!(r#"{{"timestampMs":"{}","value":{}}}"#, 1_777_593_600_000u64 + i * 180_000, values[i as usize])
            })
            .collect();
        Reply::ok(format!(r#"{{"series":[{{"labels":[],"samples":[{}]}}]}}"#, samples.join(",")))
    };
    let fake = runtime.block_on(Fake::start(vec![
        Reply::ok(tempo_answer(&ids[..1])),
        otlp(&traces[0]),
        instant("35"),
        instant("4"),
        Reply::ok(r#"{"series":[]}"#),
        series([10, 20, 5]),
        series([0, 4, 0]),
        Reply::ok(tempo_answer(&ids[1..])),
        otlp(&traces[1]),
    ]));
    let mut h = harness(&runtime);
    h.run_steps(2);
    h.get_by_label("Search traces").click();
    h.run_steps(2);
    h.get_by_label("Tempo").click();
    h.run_steps(1);
    type_into(&mut h, "Base URL", &fake.base());
    type_into(&mut h, "Service", "front");
    h.get_by_label("Search").click();
    wait(&mut h, |h| shown(h).iter().any(|t| t.starts_with("Over all traffic, per 3m")));
    assert!(
        shown(&h)
            .iter()
            .any(|t| t.starts_with("4 of 35 missed the 3 s deadline") && t.contains("computed by Tempo at")),
        "{:?}",
        shown(&h)
    );
    let seen = fake.seen();
    assert_eq!(seen[2].path, "/api/metrics/query");
    assert_eq!(
        seen[2].param("q").unwrap(),
        r#"{ nestedSetParent < 0 && resource.service.name = "front" } | count_over_time()"#
    );
    assert_eq!((seen[5].path.as_str(), seen[5].param("step").as_deref()), ("/api/metrics/query_range", Some("3m")));

    // The plot's middle is the second bucket: its slowest traces replace the view's.
    h.get_by_label(tracedeck::ui::trend::PLOT_LABEL).click();
    wait(&mut h, |h| fake.seen().len() == 9 && !h.state().search.as_ref().unwrap().0.is_running());
    let bucket = &fake.seen()[7];
    assert_eq!(bucket.path, "/api/search");
    assert_eq!(
        (bucket.param("start").as_deref(), bucket.param("end").as_deref()),
        (Some("1777593780"), Some("1777593960"))
    );
    assert_eq!(bucket.param("q").unwrap(), r#"{ nestedSetParent < 0 && resource.service.name = "front" }"#);
    h.run_steps(2);
    let view = &h.state().search.as_ref().unwrap().1;
    assert_eq!(view.len(), 1);
    assert_eq!(view.trace(0).trace_id().to_string(), ids[1]);
    assert!(shown(&h).iter().any(|t| t.starts_with("Over all traffic")), "the trend stays");
}
