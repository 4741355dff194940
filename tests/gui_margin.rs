//! The Replay panel's "Find margin" against the built-in demo app (fixed, in this process): the
//! search runs on the runtime while the window keeps drawing, and ends with its sentence and the
//! plot of the failure rate against the injected latency.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use tracedeck::replay::demo_app::Mode;
use tracedeck::ui::ReplayPanel;
use tracedeck::ui::margin_plot::PLOT_LABEL;

fn labels(h: &Harness<ReplayPanel>) -> Vec<String> {
    h.query_all_by_label_contains("")
        .filter_map(|n| n.accesskit_node().label().or_else(|| n.accesskit_node().value()))
        .collect()
}

#[test]
fn a_margin_search_against_the_demo_app_ends_with_its_sentence_and_plot() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut panel = ReplayPanel::new("", "", "127.0.0.1:0");
    panel.open(runtime.handle(), || {});
    panel.use_demo(Mode::Fixed);
    // A coarse grid keeps the test short: 0, 4 s, 2 s, 3 s.
    (panel.runs, panel.concurrency) = (2, 2);
    panel.margin.search.max = Duration::from_secs(4);
    panel.margin.search.resolution = Duration::from_secs(1);
    let mut h = Harness::builder().with_size(egui::vec2(1400.0, 1000.0)).build_ui_state(
        |ui, panel: &mut ReplayPanel| {
            egui::CentralPanel::default().show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    panel.ui(ui, &tracedeck::analysis::Profile::default_profile(), None);
                });
            });
        },
        panel,
    );
    h.run_steps(2);
    let started = Instant::now();
    while !labels(&h).iter().any(|l| l.starts_with("mock Slack Web API up at")) {
        assert!(started.elapsed() < Duration::from_secs(10), "the mock starts: {:?}", labels(&h));
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    h.get_by_label("Find margin").click();
    h.run_steps(2);
    assert!(labels(&h).iter().any(|l| l.starts_with("finding the delivery latency margin")), "{:?}", labels(&h));
    let started = Instant::now();
    while !labels(&h).iter().any(|l| l.starts_with("holds up to")) {
        let shown = labels(&h);
        assert!(started.elapsed() < Duration::from_secs(120), "no margin within 120 s; on screen: {shown:?}");
        assert!(!shown.iter().any(|l| l.starts_with("no margin")), "the fixed app holds at 0: {shown:?}");
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
    h.run_steps(2);
    let sentence = labels(&h).into_iter().find(|l| l.starts_with("holds up to")).unwrap();
    assert!(sentence.starts_with("holds up to 2.00 s of delivery latency; at 3.00 s "), "{sentence}");
    let plot = h.get_by_label_contains(PLOT_LABEL);
    let described = plot.accesskit_node().label().unwrap_or_default();
    assert_eq!(
        described,
        format!("{PLOT_LABEL} delivery latency: 0 s 0%, 2.00 s 0%, 3.00 s 100%, 4.00 s 100%"),
        "every latency tried, by latency, with its failure rate"
    );
}
