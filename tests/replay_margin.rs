//! Injected latency and the margin search (#17) against the demo app: the fixed app fails with
//! 3.5 s of delivery latency and holds up to between 2 and 3 s of it; the buggy app has no margin
//! at 0; the app that acks after `views.open` fails under 3.5 s of Web API latency with a late
//! ack (over HTTP and Socket Mode); the search is the same for a seed, keeps to its time bound,
//! and a dead or hanging app gets the usual verdicts.

mod replay_support;
mod socket_support;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use replay_support::*;
use serde_json::Value;
use socket_support::*;
use tokio_util::sync::CancellationToken;
use tracedeck::replay::demo_app::Mode;
use tracedeck::replay::driver::replay_all;
use tracedeck::replay::latency::ApiLatency;

/// Runs `tracedeck replay ARGS` (secrets from the environment for a target of our own), killing
/// it and failing when it runs past `limit`; returns its exit code, stdout and stderr.
fn replay(args: &[&str], limit: Duration) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tracedeck"))
        .arg("replay")
        .args(args)
        .env("SLACK_SIGNING_SECRET", SECRET)
        .env("SLACK_BOT_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let started = Instant::now();
    while child.try_wait().expect("the child can be waited for").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("tracedeck replay {args:?} ran past {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A command line's words.
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

const LIMIT: Duration = Duration::from_secs(150);

#[test]
fn the_fixed_app_fails_with_3_5_s_of_delivery_latency_and_holds_up_to_between_2_and_3_s() {
    let (late, search) = std::thread::scope(|s| {
        let late = s.spawn(|| {
            let args = ["--demo", "fixed", "--runs", "3", "--concurrency", "3", "--delivery-latency", "3500ms"];
            replay(&[&args[..], &["--wait", "1s"]].concat(), LIMIT)
        });
        let search = s.spawn(|| {
            let args = ["--demo", "fixed", "--runs", "3", "--concurrency", "3", "--wait", "1s", "--find-margin"];
            replay(&[&args[..], &["--report", "json"]].concat(), LIMIT)
        });
        (late.join().unwrap(), search.join().unwrap())
    });
    let (code, stdout, stderr) = late;
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("3 of 3 runs failed")
            && (stdout.contains("3 s limit") || stdout.contains("expired_trigger_id")),
        "judged from the click, the ack (or the modal) is late: {stdout}"
    );
    assert!(stdout.contains("  injected: delivery latency 3.50 s\n"), "the report says what was injected: {stdout}");

    let (code, stdout, stderr) = search;
    assert_eq!(code, Some(0), "it holds with no added latency: {stdout}{stderr}");
    let report = json(&stdout);
    assert_eq!(report["knob"], "delivery");
    let margin = report["margin_ms"].as_f64().unwrap();
    assert!((2000.0..3000.0).contains(&margin), "the margin is {margin} ms: {stdout}");
    let broke = &report["broke"];
    assert!(broke["latency_ms"].as_f64().unwrap() > margin, "{stdout}");
    let sentence = report["sentence"].as_str().unwrap();
    assert!(sentence.starts_with("holds up to 2.") && sentence.contains(" of delivery latency; at "), "{sentence}");
    assert_eq!(report["steps"][0]["latency_ms"], 0.0, "0 is tried first");
    assert_eq!(report["cut"], Value::Null);
    assert!(stderr.contains("tracedeck: +0 s delivery latency: 0 of 3 runs failed"), "progress as it goes: {stderr}");
}

#[test]
fn the_buggy_app_has_no_margin_at_0_added_latency_and_says_why() {
    for report in ["text", "junit"] {
        let args = ["--demo", "buggy", "--runs", "10", "--concurrency", "10", "--find-margin", "--report", report];
        let (code, stdout, stderr) = replay(&args, LIMIT);
        assert_eq!(code, Some(1), "{stdout}{stderr}");
        assert!(stdout.contains("expired_trigger_id"), "{stdout}");
        match report {
            "text" => {
                let last = stdout.lines().last().unwrap();
                assert!(
                    last.starts_with("no margin: it fails with no added delivery latency: 3 of 10 runs failed; run "),
                    "the seeded runs fail 3 of 10, so no latency is tried: {stdout}"
                );
                assert!(last.contains("views.open arrived at") && last.ends_with(": expired_trigger_id"), "{last}");
            }
            _ => {
                assert!(stdout.contains(r#"tests="1" failures="1""#), "one step, at 0, failed: {stdout}");
                assert!(stdout.contains(r#"<property name="margin" value="no margin: "#), "{stdout}");
                assert!(stdout.contains(r#"<testcase classname="replay.margin" name="delivery latency 0 s">"#));
            }
        }
    }
}

#[test]
fn an_app_that_acks_after_views_open_fails_under_3_5_s_of_api_latency_with_a_late_ack() {
    let args = ["--demo", "ack-after-open", "--runs", "3", "--concurrency", "3", "--wait", "1s"];
    let (code, stdout, stderr) = replay(&[&args[..], &["--api-latency", "3500ms", "--report", "json"]].concat(), LIMIT);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let report = json(&stdout);
    assert_eq!(report["injected"]["api_latency"], "3.50 s on every call", "{stdout}");
    assert_eq!(report["injected"]["delivery_latency_ms"], 0.0);
    for run in report["runs"].as_array().unwrap() {
        let reason = run["reason"].as_str().unwrap();
        assert!(reason.starts_with("the ack arrived at 3.5") && reason.contains("3 s limit"), "{reason}");
        assert!(run["views_open"].as_f64().unwrap() < 1000.0, "views.open arrived in time: {run}");
        assert_eq!(run["views_open_error"], Value::Null, "judged when it arrived, it opened the modal");
    }
    // Only views.open slowed, and by less: it holds.
    let (code, stdout, _) =
        replay(&[&args[..], &["--api-latency", "views.open=1s,auth.test=200ms..400ms", "--seed", "3"]].concat(), LIMIT);
    assert_eq!(code, Some(0), "{stdout}");
}

/// The fixed app opens its loading modal at once: a slow Web API delays the answers, not the
/// moment views.open arrives, so it holds up to the search's maximum. The wait after the ack is
/// lengthened by the injected latency, so a call that arrived in time counts though it is
/// answered after the plain wait (1 s here).
#[test]
fn the_fixed_app_holds_up_to_the_maximum_web_api_latency() {
    let args = ["--demo", "fixed", "--runs", "2", "--concurrency", "2", "--wait", "1s", "--find-margin", "api"];
    let (code, stdout, stderr) = replay(&[&args[..], &["--margin-max", "2s"]].concat(), LIMIT);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let last = stdout.lines().last().unwrap();
    assert_eq!(
        last,
        "holds up to at least 2.00 s of Web API latency (--margin-max): every run passed at every latency tried"
    );
}

/// The search judges by the replay's deadline profile: with `--deadline 2s` the ack must come
/// within 2 s of the click, so the fixed app's delivery margin shrinks below 2 s.
#[test]
fn the_margin_is_judged_by_the_deadline_profile() {
    let args = words(
        "--demo fixed --runs 2 --concurrency 2 --wait 500ms --find-margin --margin-max 3s --margin-resolution 500ms --deadline 2s --report json",
    );
    let (code, stdout, stderr) = replay(&args, LIMIT);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report = json(&stdout);
    assert_eq!(report["margin_ms"], 1500.0, "{stdout}");
    assert_eq!(report["broke"]["latency_ms"], 2000.0, "{stdout}");
    assert!(report["broke"]["first_failure"]["reason"].as_str().unwrap().contains("2 s"), "{stdout}");
}

#[test]
fn the_search_is_the_same_for_a_seed_and_keeps_to_its_time_bound() {
    let coarse = words(
        "--demo fixed --runs 2 --concurrency 2 --wait 500ms --find-margin --margin-max 4s --margin-resolution 250ms --api-latency 0ms..200ms --seed 11 --report json",
    );
    let (first, second, bounded) = std::thread::scope(|s| {
        let first = s.spawn(|| replay(&coarse, LIMIT));
        let second = s.spawn(|| replay(&coarse, LIMIT));
        let bounded = s.spawn(|| {
            let started = Instant::now();
            let args = ["--demo", "fixed", "--wait", "500ms", "--find-margin", "--margin-budget", "3s"];
            (replay(&args, LIMIT), started.elapsed())
        });
        (first.join().unwrap(), second.join().unwrap(), bounded.join().unwrap())
    });
    let steps = |out: &(Option<i32>, String, String)| {
        let report = json(&out.1);
        assert_eq!(report["seed"], 11);
        let steps: Vec<(f64, u64)> = report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["latency_ms"].as_f64().unwrap(), s["failed"].as_u64().unwrap()))
            .collect();
        (steps, report["margin_ms"].as_f64())
    };
    let (a, b) = (steps(&first), steps(&second));
    assert_eq!(a, b, "the same latencies tried, the same verdicts, the same margin");
    assert_eq!(a.1, Some(2750.0), "{}", first.1);
    assert_eq!(a.0.len(), 6, "0, 4 s, then halving to 250 ms: {:?}", a.0);

    let ((code, stdout, stderr), took) = bounded;
    assert!(took < Duration::from_secs(6), "a 3 s budget took {took:?}: {stdout}{stderr}");
    assert_eq!(code, Some(0), "it held at 0 before the budget ran out: {stdout}{stderr}");
    assert!(stdout.contains("the search ran out of its 3 s budget before it tried more"), "{stdout}");
}

#[test]
fn a_dead_or_hanging_app_gets_the_usual_verdicts_never_a_hang() {
    let capture = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-traces/resolve-button.capture.json");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dead = format!("http://127.0.0.1:{port}");
    // Accepts connections and never answers.
    let hanging = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hanging_url = format!("http://{}", hanging.local_addr().unwrap());
    for (target, verdict) in [(&dead, "refused the connection"), (&hanging_url, "no response within 1.00 s")] {
        let args = [capture, "--target", target, "--find-margin", "--timeout", "1s", "--margin-budget", "20s"];
        let (code, stdout, stderr) = replay(&args, Duration::from_secs(40));
        assert_eq!(code, Some(2), "{stdout}{stderr}");
        assert!(
            stdout.contains("no margin: it fails with no added delivery latency") && stdout.contains(verdict),
            "{stdout}"
        );
        assert!(stderr.contains("never answered"), "{stderr}");
    }
    drop(hanging);
}

/// Socket Mode: the envelope goes out after the delivery delay, and the app that acks after
/// `views.open` acks late when the Web API is slow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_mode_delivers_late_and_an_ack_after_views_open_is_late_under_api_latency() {
    let mock = socket_mock(Duration::from_secs(3)).await;
    let stop = demo_socket(Mode::AckAfterOpen, 7, short_delays(), mock.api_url());
    assert!(mock.socket_mode().wait_for_connection(Duration::from_secs(5)).await, "the app connects");
    let run = |config| {
        replay_all(
            mock.clone(),
            sample("resolve-button.capture.json"),
            Arc::new(config),
            None,
            CancellationToken::new(),
        )
    };

    let mut config = socket_config(&mock, 2, 2, Duration::from_millis(300));
    config.delivery_latency = Duration::from_millis(700);
    let results = run(config).await.unwrap();
    for r in &results {
        assert!(r.verdict.pass, "{}", r.verdict.reason);
        assert!(r.verdict.ack.unwrap() >= Duration::from_millis(700), "judged from the click: {:?}", r.verdict.ack);
        let trace = tracedeck::replay::trace::build(&r.record, &mock.api_url());
        let names: Vec<&str> = trace.spans().iter().map(|s| trace.str(s.name)).collect();
        assert!(names.contains(&"delivery delay 700.0 ms"), "the delay is drawn as its own span: {names:?}");
    }

    mock.set_latency(ApiLatency::parse("views.open=3500ms").unwrap(), 7);
    let results = run(socket_config(&mock, 2, 2, Duration::from_millis(300))).await.unwrap();
    stop.cancel();
    for r in &results {
        assert!(!r.verdict.pass && r.verdict.reason.contains("3 s limit"), "{}", r.verdict.reason);
        let trace = tracedeck::replay::trace::build(&r.record, &mock.api_url());
        let names: Vec<&str> = trace.spans().iter().map(|s| trace.str(s.name)).collect();
        assert!(names.contains(&"mock latency 3.50 s"), "the mock's delay is drawn as its own span: {names:?}");
    }
}
