//! The Live menu as a person uses it: start the Sentry receiver, read where to point the SDK,
//! see spans arrive in the status line, open the received traces.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use tracedeck::receiver::Protocol;
use tracedeck::ui::{Action, App, Settings};

fn shows(h: &Harness<'_, App>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

fn wait_for(h: &mut Harness<'_, App>, what: &str, done: impl Fn(&Harness<'_, App>) -> bool) {
    let start = Instant::now();
    while !done(h) {
        if start.elapsed() > Duration::from_secs(20) {
            let shown: Vec<String> = h
                .query_all_by_label_contains("")
                .filter_map(|n| n.accesskit_node().label().or_else(|| n.accesskit_node().value()))
                .collect();
            panic!("timed out waiting for {what}; on screen: {shown:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    h.run_steps(2);
}

/// Posts an envelope to the Sentry endpoint at `addr`; the status.
fn post(addr: SocketAddr, body: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST /api/1/envelope/ HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn the_sentry_receiver_says_where_to_point_the_sdk_and_shows_what_arrives() {
    let app = App::new(Settings::default(), Vec::new(), None, None);
    let mut h =
        Harness::builder().with_size(egui::vec2(1500.0, 950.0)).build_ui_state(|ui, app: &mut App| app.ui(ui), app);
    h.run_steps(2);
    h.get_by_label("Live").click();
    h.run_steps(2);
    assert!(shows(&h, "Receive Sentry on 127.0.0.1:8969"), "the default address is offered");
    assert!(shows(&h, "SENTRY_DSN=http://public@127.0.0.1:8969/1"));
    assert!(shows(&h, "or SENTRY_SPOTLIGHT=http://127.0.0.1:8969/stream"));
    assert!(shows(&h, "Receive OTLP on 127.0.0.1:4318"));
    assert!(shows(&h, "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318"));
    h.key_press(egui::Key::Escape);
    h.run_steps(2);

    // The menu's switch starts it on the default port; a test asks for a free one, as the menu would.
    h.state_mut().request(Action::Receive { protocol: Protocol::Sentry, addr: Some("127.0.0.1:0".parse().unwrap()) });
    wait_for(&mut h, "the status line", |h| shows(h, "receiving Sentry on 127.0.0.1:"));
    let node = h.query_all_by_label_contains("receiving Sentry on").next().unwrap().accesskit_node();
    let line = node.label().or_else(|| node.value()).unwrap();
    let addr: SocketAddr = line.split_whitespace().nth(3).unwrap().parse().unwrap();
    assert!(line.ends_with("· 0 spans in 0 traces"), "{line}");

    h.get_by_label("Live").click();
    h.run_steps(2);
    assert!(shows(&h, &format!("SENTRY_DSN=http://public@{addr}/1")), "the instructions name the port in use");
    h.key_press(egui::Key::Escape);
    h.run_steps(2);

    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sentry/envelopes");
    for name in ["python-django-celery.envelope", "java-spring.envelope"] {
        let status = post(addr, &std::fs::read(format!("{fixtures}/{name}")).unwrap());
        assert!(status.starts_with("HTTP/1.1 200"), "{name}: {status}");
    }
    assert!(post(addr, b"garbage").starts_with("HTTP/1.1 400"));
    wait_for(&mut h, "the spans", |h| shows(h, "· 9 spans in 1 traces · 1 bodies refused"));

    h.get_by_label("Live").click();
    h.run_steps(2);
    h.get_by_label("Show received traces").click();
    wait_for(&mut h, "the received traces", |h| shows(h, "/slack/interactions"));
    assert!(shows(&h, "received traces"), "a tab of the received traces opens");

    // Turning the receiver off stops it.
    h.state_mut().request(Action::Receive { protocol: Protocol::Sentry, addr: None });
    wait_for(&mut h, "the status line to go", |h| !shows(h, "receiving Sentry on"));
    let start = Instant::now();
    while TcpStream::connect(addr).is_ok() {
        assert!(start.elapsed() < Duration::from_secs(5), "{addr} still takes connections");
        std::thread::sleep(Duration::from_millis(20));
    }
}
