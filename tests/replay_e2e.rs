//! End to end on loopback: the demo app (buggy and fixed) replayed through the driver, with the
//! mock as its Web API; the runs' traces judged by the analysis; the fault cases.

mod replay_support;

use std::sync::Arc;
use std::time::Duration;

use replay_support::*;
use tokio_util::sync::CancellationToken;
use tracedeck::analysis::{Outcome, Profile, analyze};
use tracedeck::replay::demo_app::{Delays, Mode};
use tracedeck::replay::driver::{replay_all, replay_once};
use tracedeck::replay::mock::{MockConfig, MockSlack};
use tracedeck::replay::run::Fault;
use tracedeck::replay::signing::Secret;
use tracedeck::replay::trace;
use tracedeck::replay::verdict::RunResult;
use tracedeck::replay::verdict::Summary;

async fn run(
    mock: &Arc<MockSlack>,
    capture: &str,
    config: Arc<tracedeck::replay::driver::ReplayConfig>,
) -> Vec<RunResult> {
    replay_all(mock.clone(), sample(capture), config, None, CancellationToken::new()).await.unwrap()
}

fn slack() -> Profile {
    Profile::built_in("slack").unwrap()
}

/// Real 3 s semantics: the incident's queue delays (0.1–1.5 s or 3.4–4.5 s, seeded) against the
/// mock's real 3 s trigger lifetime. All 20 runs go at once, so the test takes about 5 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buggy_mode_fails_with_expired_trigger_ids_in_the_seeded_share_of_runs() {
    let mock = mock(Duration::from_secs(3)).await;
    let (url, stop) = demo(Mode::Buggy, 7, Delays::incident(), mock.api_url(), SECRET).await;
    let results = run(&mock, "resolve-button.capture.json", config(&url, 20, 20, Duration::from_millis(4900))).await;
    stop.cancel();

    let summary = Summary::of(&results);
    let failed: Vec<&RunResult> = results.iter().filter(|r| !r.verdict.pass).collect();
    assert_eq!((summary.runs, summary.answered), (20, 20));
    assert_eq!(
        summary.failed,
        EXPECTED_BUGGY_FAILURES,
        "{:#?}",
        results.iter().map(|r| &r.verdict.reason).collect::<Vec<_>>()
    );
    for r in &failed {
        assert_eq!(r.verdict.views_open_error.as_deref(), Some("expired_trigger_id"), "{}", r.verdict.reason);
        assert!(r.verdict.reason.starts_with("views.open arrived at "), "{}", r.verdict.reason);
        assert!(r.verdict.reason.ends_with(": expired_trigger_id"), "{}", r.verdict.reason);
        assert!(r.verdict.views_open.unwrap() > Duration::from_secs(3));
        assert!(r.verdict.ack.unwrap() < Duration::from_millis(500), "the buggy app acks fast");
    }
    for r in results.iter().filter(|r| r.verdict.pass) {
        assert!(r.verdict.views_open.unwrap() < Duration::from_secs(3));
    }

    // The analysis of each run's trace agrees: a miss on views.open for the failures.
    for r in &results {
        let t = trace::build(&r.record, &mock.api_url());
        let v = analyze(&t, &slack());
        let expected = if r.verdict.pass { Outcome::Pass } else { Outcome::Miss };
        assert_eq!(v.outcome, expected, "run {}: {} / {}", r.record.index, r.verdict.reason, v.headline());
        let trigger = &v.checks[1];
        assert_eq!(trigger.name, "trigger_id");
        let hit = trigger.hit.as_ref().expect("the views.open span is found");
        assert!(t.str(t.span(hit.span).name).ends_with("/api/views.open"));
        if !r.verdict.pass {
            assert!(hit.error.as_deref().unwrap().contains("expired_trigger_id"), "{:?}", hit.error);
            assert!(v.headline().starts_with("views.open sent at "), "{}", v.headline());
            assert!(v.headline().contains(" — missed the 3 s deadline by "), "{}", v.headline());
        }
        assert!(t.warnings().is_empty(), "{:?}", t.warnings());
    }
}

/// How many of the first 20 seeded delays (seed 7) are from the backed-up queue.
const EXPECTED_BUGGY_FAILURES: usize = 7;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_mode_passes_every_run_and_updates_the_loading_modal() {
    let mock = mock(Duration::from_secs(3)).await;
    let (url, stop) = demo(Mode::Fixed, 7, short_delays(), mock.api_url(), SECRET).await;
    let results = run(&mock, "archive-button.capture.json", config(&url, 20, 10, Duration::from_millis(600))).await;
    stop.cancel();
    let summary = Summary::of(&results);
    assert!(summary.all_passed(), "{:#?}", results.iter().map(|r| &r.verdict.reason).collect::<Vec<_>>());
    assert_eq!(summary.views_open.unwrap().count, 20);
    for r in &results {
        let methods: Vec<(&str, bool)> = r.record.calls.iter().map(|c| (c.method.as_str(), c.ok)).collect();
        assert_eq!(methods, vec![("views.open", true), ("views.update", true)], "run {}", r.record.index);
        assert!(r.record.calls[0].traceparent.as_deref().unwrap().contains(&format!("{:032x}", r.record.trace_id.0)));
        let t = trace::build(&r.record, &mock.api_url());
        let v = analyze(&t, &slack());
        assert_eq!(v.outcome, Outcome::Pass, "{}", v.headline());
        assert_eq!(t.len(), 4, "request, trigger life, views.open, views.update");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_fails_with_a_clear_reason_and_no_wait() {
    let mock = mock(Duration::from_secs(3)).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let started = std::time::Instant::now();
    let results = run(&mock, "resolve-button.capture.json", config(&url, 2, 1, Duration::from_secs(5))).await;
    assert!(started.elapsed() < Duration::from_secs(2), "no wait after a refusal");
    for r in &results {
        assert!(matches!(r.record.response, Some(Err(Fault::Refused(_)))), "{:?}", r.record.response);
        assert!(r.verdict.reason.contains("refused the connection"), "{}", r.verdict.reason);
    }
    assert_eq!(Summary::of(&results).answered, 0);
}

/// A target that answers with a fixed behaviour: a delay, then a status.
async fn fake_app(delay: Duration, status: u16) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new().fallback(move || async move {
        tokio::time::sleep(delay).await;
        axum::http::StatusCode::from_u16(status).unwrap()
    });
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_hanging_and_failing_apps_each_get_a_verdict() {
    let mock = mock(Duration::from_secs(3)).await;
    // Slow: the ack limit is scaled down to 200 ms so the test need not wait 3 s.
    let slow = fake_app(Duration::from_millis(300), 200).await;
    let mut cfg = (*config(&slow, 1, 1, Duration::ZERO)).clone();
    cfg.profile = std::sync::Arc::new(tracedeck::analysis::Profile::default_profile().with_limit(200_000_000));
    let r = &run(&mock, "resolve-button.capture.json", Arc::new(cfg)).await[0];
    assert!(!r.verdict.pass);
    assert!(r.verdict.reason.starts_with("the ack arrived at 3"), "{}", r.verdict.reason);
    assert!(r.verdict.reason.contains("after the slack profile's 200 ms limit"), "{}", r.verdict.reason);

    // Hanging: no answer within the response timeout.
    let hanging = fake_app(Duration::from_secs(3600), 200).await;
    let mut cfg = (*config(&hanging, 1, 1, Duration::from_secs(5))).clone();
    cfg.response_timeout = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let r = &run(&mock, "resolve-button.capture.json", Arc::new(cfg)).await[0];
    assert!(started.elapsed() < Duration::from_secs(2), "a hanging app does not hang the replay");
    assert!(matches!(r.record.response, Some(Err(Fault::Timeout(_)))), "{:?}", r.record.response);
    assert!(r.verdict.reason.starts_with("no response within 3"), "{}", r.verdict.reason);

    for (status, text) in [(500, "the app answered 500 Internal Server Error"), (404, "the app answered 404 Not Found")]
    {
        let url = fake_app(Duration::ZERO, status).await;
        let r = &run(&mock, "resolve-button.capture.json", config(&url, 1, 1, Duration::ZERO)).await[0];
        assert!(!r.verdict.pass);
        assert!(r.verdict.reason.starts_with(text), "{}", r.verdict.reason);
        assert!(r.verdict.reason.contains("Slack shows the user an error"), "{}", r.verdict.reason);
    }

    // An app that acks but never opens the modal.
    let silent = fake_app(Duration::ZERO, 200).await;
    let r = &run(&mock, "resolve-button.capture.json", config(&silent, 1, 1, Duration::from_millis(100))).await[0];
    assert!(r.verdict.reason.contains("but no views.open arrived within the 1"), "{}", r.verdict.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_signing_secret_is_rejected_by_the_app() {
    let mock = mock(Duration::from_secs(3)).await;
    let (url, stop) = demo(Mode::Fixed, 1, short_delays(), mock.api_url(), "the-apps-real-secret").await;
    let r = &run(&mock, "resolve-button.capture.json", config(&url, 1, 1, Duration::from_millis(100))).await[0];
    stop.cancel();
    assert!(!r.verdict.pass);
    assert!(matches!(&r.record.response, Some(Ok(ack)) if ack.status == 401));
    assert!(r.verdict.reason.contains("401 Unauthorized"), "{}", r.verdict.reason);
    assert!(r.verdict.reason.contains("SLACK_SIGNING_SECRET"), "{}", r.verdict.reason);
    assert!(r.record.calls.is_empty(), "the app did nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_named_as_such_not_as_a_wrong_trigger_id() {
    let mock = mock_with(MockConfig::new(Secret::new("xoxb-not-the-apps-token"))).await;
    let (url, stop) = demo(Mode::Fixed, 1, short_delays(), mock.api_url(), SECRET).await;
    let r = &run(&mock, "resolve-button.capture.json", config(&url, 1, 1, Duration::from_millis(600))).await[0];
    stop.cancel();
    assert!(!r.verdict.pass);
    assert_eq!(r.verdict.views_open_error.as_deref(), Some("invalid_auth"));
    assert!(r.verdict.reason.contains("the token was refused: invalid_auth"), "{}", r.verdict.reason);
    assert!(r.verdict.reason.contains("SLACK_BOT_TOKEN") && !r.verdict.reason.contains("none"), "{}", r.verdict.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_cannot_be_sent_is_not_blamed_on_the_target() {
    let mock = mock(Duration::from_secs(3)).await;
    let (url, stop) = demo(Mode::Fixed, 1, short_delays(), mock.api_url(), SECRET).await;
    // Built in code, past the checks a capture file gets when it is read.
    let mut prepared = sample("resolve-button.capture.json").prepared[0].clone();
    prepared.interaction.request.headers.push(("X-Note".into(), "line\nbreak".into()));
    let config = config(&url, 1, 1, Duration::from_millis(100));
    let client = tracedeck::replay::driver::client(&config).unwrap();
    let r = replay_once(&mock, &client, &prepared, &config, 0, None, &CancellationToken::new()).await;
    stop.cancel();
    assert!(matches!(&r.record.response, Some(Err(f)) if f.is_local()), "{:?}", r.record.response);
    assert!(r.verdict.reason.contains("could not be sent (the target was not contacted)"), "{}", r.verdict.reason);
}
