//! The Replay panel as a person uses it: type the secrets, press Start, watch the run against a
//! local app (the demo app, fixed mode, in this process) pass and its trace appear, with the
//! app's own spans (sent to tracedeck's OTLP or Sentry receiver) joined into the run's waterfall; and
//! the tab's mock, up from when the tab opens until it closes, serving an app started once
//! across several Starts; and the same replay over Socket Mode.

mod replay_support;

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use replay_support::free_port;
use tokio_util::sync::CancellationToken;
use tracedeck::receiver::{self, Protocol, Receiver};
use tracedeck::replay::demo_app::{self, Delays, DemoConfig, Mode};
use tracedeck::replay::signing::Secret;
use tracedeck::ui::ReplayPanel;
use tracedeck::ui::replay_panel::ReplayRequest;

const SECRET: &str = "gui-test-signing-secret";
const TOKEN: &str = "xoxb-gui-test";
const APP_TOKEN: &str = "xapp-1-gui-test";

/// The demo app in fixed mode against the mock at `mock_addr`.
fn fixed_app(mock_addr: &str, otlp_url: Option<String>, verify_token: Option<Duration>) -> DemoConfig {
    DemoConfig {
        mode: Mode::Fixed,
        seed: 3,
        delays: Delays::incident(),
        signing_secret: Secret::new(SECRET),
        bot_token: Secret::new(TOKEN),
        api_url: format!("http://{mock_addr}/api/"),
        log: false,
        otlp_url,
        sentry_dsn: None,
        verify_token,
    }
}

/// The panel in a window, started on `runtime` when asked; with the secrets typed in.
fn harness(
    runtime: &tokio::runtime::Runtime,
    panel: ReplayPanel,
    receiver: Option<Receiver>,
) -> Harness<'static, ReplayPanel> {
    let handle = runtime.handle().clone();
    let mut h = Harness::builder().with_size(egui::vec2(1400.0, 900.0)).build_ui_state(
        move |ui, panel: &mut ReplayPanel| {
            egui::CentralPanel::default().show(ui, |ui| {
                let profile = tracedeck::analysis::Profile::default_profile();
                if let Some(ReplayRequest::Start) = panel.ui(ui, &profile, receiver.as_ref()) {
                    panel.start(&handle, &profile, || {});
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
    h
}

/// Waits (at most 30 s, stepping the UI) until `done`, else fails showing what is on screen.
fn wait_until(h: &mut Harness<ReplayPanel>, what: &str, done: impl Fn(&Harness<ReplayPanel>) -> bool) {
    let started = Instant::now();
    while !done(h) {
        if started.elapsed() > Duration::from_secs(30) {
            use egui_kittest::kittest::NodeT;
            let shown: Vec<String> = h
                .query_all_by_label_contains("")
                .filter_map(|n| n.accesskit_node().label().or_else(|| n.accesskit_node().value()))
                .collect();
            panic!("no {what} within 30 s; on screen: {shown:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
}

#[test]
fn a_replay_against_the_fixed_app_passes_and_draws_its_trace() {
    replay_joining_the_apps_spans(Protocol::Otlp);
}

#[test]
fn the_apps_sentry_transactions_join_the_replays_waterfall() {
    replay_joining_the_apps_spans(Protocol::Sentry);
}

/// Replays against the demo app, which sends its own spans to tracedeck's receiver by `protocol`
/// (OTLP, or Sentry envelopes to a DSN), and checks the run passes with them in its waterfall.
fn replay_joining_the_apps_spans(protocol: Protocol) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mock_addr = format!("127.0.0.1:{}", free_port());
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let app_addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let config = receiver::Config::at("127.0.0.1:0".parse().unwrap(), false);
    let mut receiver = Receiver::new();
    let addr = runtime.block_on(receiver.listen(protocol, &config)).unwrap();
    let config = match protocol {
        Protocol::Otlp => fixed_app(&mock_addr, Some(format!("http://{addr}")), None),
        Protocol::Sentry => {
            DemoConfig { sentry_dsn: Some(format!("http://public@{addr}/1")), ..fixed_app(&mock_addr, None, None) }
        }
    };
    runtime.spawn(demo_app::serve(listener, config, stop.clone()));

    let capture = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-traces/resolve-button.capture.json");
    let panel = ReplayPanel::new(capture, format!("http://{app_addr}"), mock_addr);
    let mut h = harness(&runtime, panel, Some(receiver));
    h.get_by_label("Start").click();
    // The run is over when the verdict shows and the app's queued task has exported its span.
    wait_until(&mut h, "finished replay", |h| {
        h.query_all_by_label_contains("runs failed").next().is_some()
            && h.query_all_by_label_contains("celery.task").next().is_some()
    });
    h.run_steps(2);
    // The failure rate with its bound: one passing run says little (below 95% at 95% confidence).
    h.get_by_label_contains("0 of 1 runs failed: below 95.0% at 95% confidence");
    h.get_by_label_contains("PASS");
    assert!(h.query_all_by_label_contains("views.open").next().is_some(), "the run's trace shows the views.open call");
    assert!(h.query_all_by_label_contains("mock Slack Web API up at").next().is_some());
    assert!(
        h.query_all_by_label_contains("POST /slack/interactions").next().is_some(),
        "the app's server span joined the run's waterfall"
    );
    h.get_by_label_contains("span(s) the app sent to tracedeck's receiver");
    stop.cancel();
}

#[test]
fn the_tabs_mock_is_up_from_opening_to_closing_and_serves_one_app_across_several_starts() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mock_addr = format!("127.0.0.1:{}", free_port());
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let app_addr = listener.local_addr().unwrap();
    let capture = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-traces/resolve-button.capture.json");
    let mut panel = ReplayPanel::new(capture, format!("http://{app_addr}"), mock_addr.clone());
    panel.open(runtime.handle(), || {});
    let mut h = harness(&runtime, panel, None);
    let up = format!("mock Slack Web API up at http://{mock_addr}/api/");
    wait_until(&mut h, "mock", |h| h.query_all_by_label_contains(&up).next().is_some());

    // The app starts once, against the mock already up: its token check at start passes.
    let stop = CancellationToken::new();
    let config = fixed_app(&mock_addr, None, Some(Duration::from_secs(1)));
    runtime.spawn(demo_app::serve(listener, config, stop.clone()));
    for round in 1..=3 {
        h.get_by_label("Start").click();
        let headline = format!("round {round}: failed 0 of 1 (0%)");
        wait_until(&mut h, &headline, |h| {
            h.query_all_by_label_contains(&headline).next().is_some() && h.query_all_by_label("Start").next().is_some()
        });
        assert!(std::net::TcpStream::connect(&mock_addr).is_ok(), "the mock is still up after round {round}");
        h.get_by_label_contains(&up);
    }
    assert!(h.query_all_by_label_contains("note: ").next().is_none(), "no cold start: the app found the mock");
    assert!(h.query_all_by_label_contains("after restart").next().is_none(), "the app ran throughout");

    h.state_mut().close();
    let closed = Instant::now();
    while std::net::TcpStream::connect(&mock_addr).is_ok() {
        assert!(closed.elapsed() < Duration::from_secs(5), "the mock stops when the tab closes");
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.cancel();
}

/// "Socket Mode": no endpoint or signing secret but the app-level token; Start waits for the app
/// (the demo app, fixed mode) to connect, then the run passes and its waterfall shows the
/// envelope up to its ack, and the calls.
#[test]
fn a_socket_mode_replay_waits_for_the_app_then_passes() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mock_addr = format!("127.0.0.1:{}", free_port());
    let capture = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-traces/resolve-button.capture.json");
    let mut h = harness(&runtime, ReplayPanel::new(capture, "", mock_addr.clone()), None);
    assert!(h.query_by_label("App endpoint").is_some());
    h.get_by_label("Socket Mode").click();
    h.run_steps(2);
    assert!(h.query_by_label("App endpoint").is_none(), "Socket Mode needs no endpoint");
    assert!(h.query_by_label("Signing secret").is_none(), "nor a signing secret");
    h.get_by_label("App-level token").click();
    h.run_steps(1);
    h.get_by_label("App-level token").type_text(APP_TOKEN);
    h.run_steps(2);
    h.get_by_label("Start").click();
    wait_until(&mut h, "wait for the app", |h| {
        h.query_all_by_label_contains("waiting for the app to connect over Socket Mode").next().is_some()
    });

    let stop = CancellationToken::new();
    runtime.spawn(demo_app::socket::connect(fixed_app(&mock_addr, None, None), Secret::new(APP_TOKEN), stop.clone()));
    wait_until(&mut h, "passing round", |h| h.query_all_by_label_contains("round 1: failed 0 of 1").next().is_some());
    h.run_steps(2);
    assert!(h.query_all_by_label_contains("waiting for the app").next().is_none());
    assert!(h.query_all_by_label_contains("views.open").next().is_some(), "the run's trace shows the views.open call");
    assert!(h.query_all_by_label_contains("WS /link/").next().is_some(), "the envelope is the run's root span");
    stop.cancel();
}
