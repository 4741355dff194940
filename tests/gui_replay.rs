//! The Replay panel as a person uses it: type the secrets, press Start, watch the run against a
//! local app (the demo app, fixed mode, in this process) pass and its trace appear, with the
//! app's own spans (exported to tracedeck's OTLP receiver) joined into the run's waterfall.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use tokio_util::sync::CancellationToken;
use tracedeck::receiver::{self, Receiver};
use tracedeck::replay::demo_app::{self, Delays, DemoConfig, Mode};
use tracedeck::replay::signing::Secret;
use tracedeck::ui::ReplayPanel;
use tracedeck::ui::replay_panel::ReplayRequest;

const SECRET: &str = "gui-test-signing-secret";
const TOKEN: &str = "xoxb-gui-test";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn a_replay_against_the_fixed_app_passes_and_draws_its_trace() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mock_addr = format!("127.0.0.1:{}", free_port());
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let app_addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let config = receiver::Config { addr: "127.0.0.1:0".parse().unwrap(), allow_remote: false };
    let receiver = runtime.block_on(Receiver::start(&config)).unwrap();
    let config = DemoConfig {
        mode: Mode::Fixed,
        seed: 3,
        delays: Delays::incident(),
        signing_secret: Secret::new(SECRET),
        bot_token: Secret::new(TOKEN),
        api_url: format!("http://{mock_addr}/api/"),
        log: false,
        otlp_url: Some(format!("http://{}", receiver.addr())),
    };
    runtime.spawn(demo_app::serve(listener, config, stop.clone()));

    let capture = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-traces/resolve-button.capture.json");
    let panel = ReplayPanel::new(capture, format!("http://{app_addr}"), mock_addr);
    let handle = runtime.handle().clone();
    let mut h = Harness::builder().with_size(egui::vec2(1400.0, 900.0)).build_ui_state(
        move |ui, panel: &mut ReplayPanel| {
            egui::CentralPanel::default().show(ui, |ui| {
                if let Some(ReplayRequest::Start) = panel.ui(ui, "slack", Some(&receiver)) {
                    panel.start(&handle, || {});
                }
            });
        },
        panel,
    );
    h.run_steps(2);
    for (field, text) in [("Signing secret", SECRET), ("Bot token", TOKEN)] {
        h.get_by_label(field).click();
        h.run_steps(1);
        h.get_by_label(field).type_text(text);
        h.run_steps(1);
    }
    h.run_steps(2);
    h.get_by_label("Start").click();
    let started = Instant::now();
    // The run is over when the verdict shows and the app's queued task has exported its span.
    let done = |h: &Harness<ReplayPanel>| {
        h.query_all_by_label_contains("runs failed").next().is_some()
            && h.query_all_by_label_contains("celery.task").next().is_some()
    };
    while !done(&h) {
        if started.elapsed() > Duration::from_secs(30) {
            use egui_kittest::kittest::NodeT;
            let shown: Vec<String> = h
                .query_all_by_label_contains("")
                .filter_map(|n| n.accesskit_node().label().or_else(|| n.accesskit_node().value()))
                .collect();
            panic!("the replay did not finish; on screen: {shown:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
    h.run_steps(2);
    // The failure rate with its bound: one passing run says little (below 95% at 95% confidence).
    h.get_by_label_contains("0 of 1 runs failed: below 95.0% at 95% confidence");
    h.get_by_label_contains("PASS");
    assert!(h.query_all_by_label_contains("views.open").next().is_some(), "the run's trace shows the views.open call");
    assert!(h.query_all_by_label_contains("mock Slack Web API at").next().is_some());
    assert!(
        h.query_all_by_label_contains("POST /slack/interactions").next().is_some(),
        "the app's server span joined the run's waterfall"
    );
    h.get_by_label_contains("span(s) the app exported to the OTLP receiver");
    stop.cancel();
}
