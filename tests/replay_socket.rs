//! Socket Mode end to end on loopback: the demo app connected over the mock's WebSocket (buggy
//! and fixed), several connections and reconnects, and apps that ack late, badly or not at all.

mod replay_support;
mod socket_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use replay_support::*;
use serde_json::json;
use socket_support::*;
use tokio_util::sync::CancellationToken;
use tracedeck::replay::demo_app::{Delays, Mode};
use tracedeck::replay::driver::{ReplayConfig, Transport, replay_all};
use tracedeck::replay::mock::MockSlack;
use tracedeck::replay::run::Fault;
use tracedeck::replay::verdict::RunResult;
use tracedeck::replay::verdict::Summary;

async fn run(mock: &Arc<MockSlack>, capture: &str, config: ReplayConfig) -> Vec<RunResult> {
    replay_all(mock.clone(), sample(capture), Arc::new(config), None, CancellationToken::new()).await.unwrap()
}

fn reasons(results: &[RunResult]) -> Vec<&str> {
    results.iter().map(|r| r.verdict.reason.as_str()).collect()
}

async fn connected(mock: &MockSlack) {
    assert!(mock.socket_mode().wait_for_connection(Duration::from_secs(5)).await, "the app connects");
}

/// Real 3 s semantics, as in replay_e2e's HTTP test: the same seeded queue, so the same share fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buggy_app_in_socket_mode_fails_with_expired_trigger_ids_in_the_seeded_share() {
    let mock = socket_mock(Duration::from_secs(3)).await;
    let stop = demo_socket(Mode::Buggy, 7, Delays::incident(), mock.api_url());
    connected(&mock).await;
    let results =
        run(&mock, "resolve-button.capture.json", socket_config(&mock, 20, 20, Duration::from_millis(4900))).await;
    stop.cancel();
    let summary = Summary::of(&results);
    assert_eq!((summary.runs, summary.answered), (20, 20), "{:#?}", reasons(&results));
    assert_eq!(summary.failed, 7, "seed 7 draws 7 backed-up delays of 20: {:#?}", reasons(&results));
    for r in results.iter().filter(|r| !r.verdict.pass) {
        assert_eq!(r.verdict.views_open_error.as_deref(), Some("expired_trigger_id"), "{}", r.verdict.reason);
        assert!(r.verdict.ack.unwrap() < Duration::from_millis(500), "the app acks its envelope at once");
    }
    assert!(results.iter().all(|r| r.record.url.starts_with("ws://127.0.0.1:") && r.record.method == "WS"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_app_in_socket_mode_passes_every_run_and_reconnects_when_asked() {
    let mock = socket_mock(Duration::from_secs(3)).await;
    let stop = demo_socket(Mode::Fixed, 7, short_delays(), mock.api_url());
    connected(&mock).await;
    let mut config = socket_config(&mock, 12, 3, Duration::from_millis(600));
    config.transport = Transport::SocketMode { reconnect_every: Some(4) };
    let results = run(&mock, "archive-button.capture.json", config).await;
    stop.cancel();
    assert!(Summary::of(&results).all_passed(), "{:#?}", reasons(&results));
    for r in &results {
        let methods: Vec<&str> = r.record.calls.iter().map(|c| c.method.as_str()).collect();
        assert_eq!(methods, ["views.open", "views.update"], "run {}", r.record.index);
    }
    assert!(mock.socket_mode().connections_opened() >= 3, "asked every 4 envelopes, the app reconnected");
    assert!(mock.socket_mode().problems().is_empty(), "{:?}", mock.socket_mode().problems());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelopes_go_round_robin_and_carry_what_slack_sends() {
    let mock = socket_mock(Duration::from_secs(3)).await;
    let ack = Reply::Ack(Duration::ZERO, None);
    let (first, second) = (scripted_app(&mock, ack.clone()).await, scripted_app(&mock, ack).await);
    let results = run(&mock, "resolve-button.capture.json", socket_config(&mock, 4, 1, Duration::ZERO)).await;
    let (first, second) = (first.lock().unwrap().clone(), second.lock().unwrap().clone());
    assert_eq!((first.len(), second.len()), (2, 2), "two connections, two envelopes each");
    for (envelope, r) in first.iter().chain(&second).zip([0, 2, 1, 3].map(|i| &results[i])) {
        assert_eq!(envelope["type"], "interactive");
        assert_eq!(envelope["accepts_response_payload"], false);
        assert_eq!(envelope["retry_attempt"], 0);
        assert_eq!(envelope["payload"]["type"], "block_actions");
        assert_eq!(envelope["payload"]["trigger_id"], r.record.minted.trigger_id.as_str(), "a fresh trigger id");
        assert_eq!(envelope["payload"]["response_url"], r.record.minted.response_url.as_str());
        assert!(r.verdict.ack.unwrap() < Duration::from_secs(1));
        assert!(r.verdict.reason.contains("no views.open arrived"), "{}", r.verdict.reason);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_ack_fails_naming_its_time_and_an_ack_payload_is_kept() {
    let mock = socket_mock(Duration::from_secs(3)).await;
    let payload = json!({"response_action": "errors", "errors": {"b": "no"}});
    scripted_app(&mock, Reply::Ack(Duration::from_millis(300), Some(payload.clone()))).await;
    let mut config = socket_config(&mock, 1, 1, Duration::ZERO);
    config.profile = std::sync::Arc::new(tracedeck::analysis::Profile::default_profile().with_limit(200_000_000));
    let r = &run(&mock, "resolve-button.capture.json", config).await[0];
    assert!(!r.verdict.pass);
    assert!(r.verdict.reason.starts_with("the ack arrived at 3"), "{}", r.verdict.reason);
    assert!(r.verdict.reason.contains("after the slack profile's 200 ms limit"), "{}", r.verdict.reason);
    let Some(Ok(ack)) = &r.record.response else { panic!("{:?}", r.record.response) };
    assert_eq!(serde_json::from_str::<serde_json::Value>(&ack.body).unwrap(), payload);
}

/// Every bad ack ends its run at once with a message; nothing waits for the response timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_unknown_acks_and_a_closed_socket_each_get_a_verdict_without_a_wait() {
    let cases = [
        (Reply::Send("ok thanks".into()), "the app sent a message that is not a JSON object: \"ok thanks\""),
        (Reply::Send(r#"{"type":"ack"}"#.into()), "the app sent a message without a string envelope_id"),
        (Reply::Send(r#"{"envelope_id":7}"#.into()), "without a string envelope_id"),
        (Reply::UnknownId, "the app acked envelope_id \"never-sent\", which was never sent"),
        (Reply::Close, "the app closed its Socket Mode connection ("),
    ];
    for (reply, expected) in cases {
        let mock = socket_mock(Duration::from_secs(3)).await;
        scripted_app(&mock, reply.clone()).await;
        let started = Instant::now();
        let r = &run(&mock, "resolve-button.capture.json", socket_config(&mock, 1, 1, Duration::from_secs(5))).await[0];
        assert!(started.elapsed() < Duration::from_secs(2), "{reply:?}: no wait for the 5 s timeout");
        assert!(!r.verdict.pass);
        assert!(matches!(r.record.response, Some(Err(Fault::Protocol(_)))), "{:?}", r.record.response);
        assert!(r.verdict.reason.contains(expected), "{reply:?}: {}", r.verdict.reason);
    }
    // With the app gone, the next run says so rather than waiting forever.
    let mock = socket_mock(Duration::from_secs(3)).await;
    scripted_app(&mock, Reply::Close).await;
    let mut config = socket_config(&mock, 2, 1, Duration::ZERO);
    config.response_timeout = Duration::from_millis(300);
    let results = run(&mock, "resolve-button.capture.json", config).await;
    assert!(results[1].verdict.reason.contains("no Socket Mode connection is open"), "{}", results[1].verdict.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apps_connections_open_needs_the_app_token_and_tickets_are_single_use() {
    let mock = socket_mock(Duration::from_secs(3)).await;
    let api = mock.api_url();
    assert_eq!(connections_open(&api, None).await, json!({"ok": false, "error": "not_authed"}));
    assert_eq!(connections_open(&api, Some("xapp-wrong")).await, json!({"ok": false, "error": "invalid_auth"}));
    assert_eq!(connections_open(&api, Some(TOKEN)).await["error"], "not_allowed_token_type");
    let get = client().get(format!("{api}apps.connections.open")).bearer_auth(APP_TOKEN).send().await.unwrap();
    let get: serde_json::Value = serde_json::from_slice(&get.bytes().await.unwrap()).unwrap();
    assert_eq!(get["error"], "insecure_request");
    let opened = connections_open(&api, Some(APP_TOKEN)).await;
    let url = opened["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("ws://{}/link/?ticket=", mock.addr())), "{url}");
    let (socket, _) = tokio_tungstenite::connect_async(url).await.expect("the first use connects");
    let again = tokio_tungstenite::connect_async(url).await.expect_err("a ticket is single use");
    assert!(again.to_string().contains("401"), "{again}");
    drop(socket);
    // Over the ordinary Web API route the bot token still works.
    let reply = client().post(format!("{api}auth.test")).bearer_auth(TOKEN).send().await.unwrap();
    let reply: serde_json::Value = serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap();
    assert_eq!(reply["ok"], true);
}

/// A view submission's ack payload is judged like an HTTP ack body: a response_action Slack does
/// not know fails the run; a valid one passes the ack check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_submission_ack_payload_is_checked_like_an_http_ack_body() {
    let capture = r#"{"format":"tracedeck-capture","version":1,"platform":"slack","interactions":[{"name":"submit",
        "request":{"method":"POST","path":"/slack/events","headers":[["Content-Type","application/x-www-form-urlencoded"]],
        "body":"payload=%7B%22type%22%3A%22view_submission%22%2C%22view%22%3A%7B%22id%22%3A%22V1%22%7D%7D"}}]}"#;
    let capture = Arc::new(tracedeck::replay::capture::Capture::parse(capture.as_bytes()).unwrap());
    for (payload, expected) in [
        (
            json!({"response_action": "close"}),
            Some("response_action \"close\"; Slack knows errors, update, push and clear"),
        ),
        (json!({"response_action": "errors"}), Some("has response_action errors but no `errors` object")),
        (json!({"response_action": "clear"}), None),
    ] {
        let mock = socket_mock(Duration::from_secs(3)).await;
        let got = scripted_app(&mock, Reply::Ack(Duration::ZERO, Some(payload.clone()))).await;
        let config = Arc::new(socket_config(&mock, 1, 1, Duration::ZERO));
        let results = replay_all(mock.clone(), capture.clone(), config, None, CancellationToken::new()).await.unwrap();
        let r = &results[0];
        assert_eq!(got.lock().unwrap()[0]["accepts_response_payload"], true, "a view submission accepts a payload");
        match expected {
            Some(text) => {
                assert!(!r.verdict.pass);
                assert!(r.verdict.reason.starts_with("ack at "), "{}", r.verdict.reason);
                assert!(r.verdict.reason.contains(text), "{payload}: {}", r.verdict.reason);
            }
            None => assert!(r.verdict.pass, "{payload}: {}", r.verdict.reason),
        }
    }
}
