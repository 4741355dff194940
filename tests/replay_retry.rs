//! Slack's retries of Events API deliveries, over HTTP (the binary, as a user runs it) and over
//! Socket Mode; and `tracedeck replay --socket-mode` waiting for an app that connects, or not.

mod replay_support;
mod socket_support;

use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use replay_support::*;
use socket_support::*;
use tokio_util::sync::CancellationToken;
use tracedeck::replay::demo_app::Mode;
use tracedeck::replay::driver::replay_all;

const EVENT: &str = "app-mention.capture.json";

fn tracedeck(args: Vec<String>) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tracedeck"))
        .args(args)
        .env("SLACK_SIGNING_SECRET", SECRET)
        .env("SLACK_BOT_TOKEN", TOKEN)
        .env("SLACK_APP_TOKEN", APP_TOKEN)
        .output()
        .expect("the binary runs")
}

async fn tracedeck_async(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || tracedeck(args)).await.unwrap()
}

fn sample_path(name: &str) -> String {
    format!("{}/sample-traces/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// An Events API app over HTTP that takes 3.2 s per event and posts a message for it (acking
/// only then, too late); with `dedupe` it acks an `event_id` it has seen at once, doing nothing.
/// Returns its URL and the retry headers of every delivery.
async fn event_app(api_url: String, dedupe: bool) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let deliveries = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::new(Mutex::new(std::collections::HashSet::new()));
    let log = deliveries.clone();
    let router = axum::Router::new().fallback(move |headers: HeaderMap, body: axum::body::Bytes| {
        let (api_url, log, seen) = (api_url.clone(), log.clone(), seen.clone());
        async move {
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            log.lock().unwrap().push(format!("{} {}", header("x-slack-retry-num"), header("x-slack-retry-reason")));
            let event: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let id = event["event_id"].as_str().unwrap().to_owned();
            if !seen.lock().unwrap().insert(id) && dedupe {
                return axum::http::StatusCode::OK;
            }
            tokio::time::sleep(Duration::from_millis(3200)).await;
            let post = serde_json::json!({"channel": event["event"]["channel"], "text": "INC-7 is open"});
            client()
                .post(format!("{api_url}chat.postMessage"))
                .bearer_auth(TOKEN)
                .header("content-type", "application/json")
                .body(post.to_string())
                .send()
                .await
                .unwrap();
            axum::http::StatusCode::OK
        }
    });
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, deliveries)
}

async fn replay_event(dedupe: bool) -> (Output, Vec<String>) {
    let port = free_port();
    let (url, deliveries) = event_app(format!("http://127.0.0.1:{port}/api/"), dedupe).await;
    let (capture, mock) = (sample_path(EVENT), format!("127.0.0.1:{port}"));
    let args = ["replay", &capture, "--target", &url, "--mock-addr", &mock, "--retry-waits", "0s", "--wait", "500ms"];
    let out = tracedeck_async(&args).await;
    let deliveries = deliveries.lock().unwrap().clone();
    (out, deliveries)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_event_ack_is_retried_and_the_duplicate_post_fails_the_run() {
    let (out, deliveries) = replay_event(false).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("event Ev08INC7MENTION delivered 2 times; chat.postMessage called 2 times"), "{stdout}");
    assert_eq!(deliveries, [" ", "1 http_timeout"], "the retry carries Slack's headers; the first none");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_that_dedupes_on_event_id_passes() {
    let (out, deliveries) = replay_event(true).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("event Ev08INC7MENTION: first ack at 3."), "{stdout}");
    assert!(stdout.contains("re-delivered 1 time and no Web API call was repeated"), "{stdout}");
    assert_eq!(deliveries.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_mode_retries_carry_retry_attempt_and_reason() {
    let mock = socket_mock(Duration::from_secs(3)).await;
    let got = scripted_app(&mock, Reply::Ack(Duration::from_millis(300), None)).await;
    let mut config = socket_config(&mock, 1, 1, Duration::ZERO);
    config.profile = std::sync::Arc::new(tracedeck::analysis::Profile::default_profile().with_limit(200_000_000));
    config.retry_waits = vec![Duration::ZERO, Duration::from_millis(100)];
    let results = replay_all(mock.clone(), sample(EVENT), Arc::new(config), None, CancellationToken::new()).await;
    let r = &results.unwrap()[0];
    let got = got.lock().unwrap().clone();
    let retries: Vec<(u64, &str)> =
        got.iter().map(|e| (e["retry_attempt"].as_u64().unwrap(), e["retry_reason"].as_str().unwrap())).collect();
    assert_eq!(retries, [(0, ""), (1, "http_timeout"), (2, "http_timeout")]);
    assert!(got.iter().all(|e| e["type"] == "events_api" && e["payload"]["event_id"] == "Ev08INC7MENTION"));
    assert_eq!(r.record.retries.len(), 2);
    let t = tracedeck::replay::trace::build(&r.record, &mock.api_url());
    let retries: Vec<&str> =
        t.spans().iter().map(|s| t.str(s.name)).filter(|name| name.starts_with("retry ")).collect();
    assert_eq!(retries, ["retry 1 (http_timeout) of Ev08INC7MENTION", "retry 2 (http_timeout) of Ev08INC7MENTION"]);
    assert!(!r.verdict.pass);
    assert!(
        r.verdict.reason.starts_with(
            "event Ev08INC7MENTION delivered 3 times, never acked within the slack profile's 200 ms limit"
        ),
        "{}",
        r.verdict.reason
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_mode_replay_waits_for_the_app_then_passes_and_gives_up_on_one_that_never_connects() {
    let port = free_port();
    let (capture, mock) = (sample_path("archive-button.capture.json"), format!("127.0.0.1:{port}"));
    let stop = demo_socket(Mode::Fixed, 3, short_delays(), format!("http://127.0.0.1:{port}/api/"));
    let args = ["replay", &capture, "--socket-mode", "--mock-addr", &mock, "--runs", "3", "--wait", "600ms"];
    let out = tracedeck_async(&args).await;
    stop.cancel();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains(&format!("waiting up to 10 s for the app to connect; start the app with its Slack client's base URL http://{mock}/api/")), "{stderr}");
    assert!(stderr.contains("Socket Mode: the app connected"), "{stderr}");
    assert!(stdout.contains(&format!("Socket Mode (ws://{mock}/link/)")), "{stdout}");
    assert!(!stdout.contains(APP_TOKEN) && !stderr.contains(APP_TOKEN), "the app token is never printed");

    let started = Instant::now();
    let args = ["replay", &capture, "--socket-mode", "--mock-addr", "127.0.0.1:0", "--timeout", "1s"];
    let out = tracedeck_async(&args).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(5), "gave up within the timeout");
    assert!(stderr.contains("no app connected over Socket Mode within 1 s (--timeout)"), "{stderr}");
    assert!(stderr.contains("apps.connections.open"), "{stderr}");
}
