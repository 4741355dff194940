//! The Fetch dialog as a person uses it, against a fake Jaeger on this machine: type the base
//! URL and the trace id, press Fetch, and get the trace; a trace the server does not have is
//! said plainly in the dialog.

mod fetch_support;

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use fetch_support::{Fake, Reply, file};
use tracedeck::ui::FetchDialog;

struct State {
    dialog: FetchDialog,
    runtime: tokio::runtime::Handle,
    fetched: Option<usize>,
}

fn harness(runtime: &tokio::runtime::Runtime) -> Harness<'static, State> {
    let mut dialog = FetchDialog::default();
    dialog.open = true;
    let state = State { dialog, runtime: runtime.handle().clone(), fetched: None };
    Harness::builder().with_size(egui::vec2(900.0, 500.0)).build_ui_state(
        |ui, state: &mut State| {
            egui::CentralPanel::default().show(ui, |ui| {
                if state.dialog.ui(ui) {
                    let handle = state.runtime.clone();
                    state.dialog.start(&handle, || {});
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
