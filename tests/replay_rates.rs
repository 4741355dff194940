//! `tracedeck replay`'s failure rate with its interval, the `--max-failure-rate` gate and
//! `--runs-until`, as a user runs them: the binary against the demo app in this process.

mod replay_support;

use std::process::{Command, Output};

use replay_support::*;
use tracedeck::analysis::wilson;
use tracedeck::replay::demo_app::{Delays, Mode};

/// Runs `tracedeck replay` on the sample capture against `url`, with a mock on a free port.
async fn replay(url: &str, mock_port: u16, extra: &[&str]) -> Output {
    let capture = format!("{}/sample-traces/resolve-button.capture.json", env!("CARGO_MANIFEST_DIR"));
    let mut args: Vec<String> = ["replay", &capture, "--target", url, "--mock-addr", &format!("127.0.0.1:{mock_port}")]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_tracedeck"))
            .args(&args)
            .env("SLACK_SIGNING_SECRET", SECRET)
            .env("SLACK_BOT_TOKEN", TOKEN)
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap()
}

fn text(out: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The buggy app (the incident's queue: a third of the runs expire the trigger) under a gate: at
/// or under the allowed rate exits 0 though runs failed, above it exits 1; the JSON carries the
/// rate's Wilson interval and the gate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gate_passes_at_or_under_the_allowed_failure_rate_and_fails_above() {
    let port = free_port();
    let (url, stop) = demo(Mode::Buggy, 7, Delays::incident(), format!("http://127.0.0.1:{port}/api/"), SECRET).await;
    let runs = ["--runs", "10", "--concurrency", "10", "--wait", "5s", "--report", "json"];
    let lenient = replay(&url, port, &[&runs[..], &["--max-failure-rate", "100%"]].concat()).await;
    stop.cancel();
    assert_eq!(lenient.status.code(), Some(0), "{}", text(&lenient));
    let report: serde_json::Value = serde_json::from_slice(&lenient.stdout).unwrap();
    let (failed, total) = (report["summary"]["failed"].as_u64().unwrap(), report["summary"]["runs"].as_u64().unwrap());
    assert_eq!(total, 10);
    assert!(failed > 0, "the seeded buggy app fails some runs: {}", text(&lenient));
    let interval = wilson(failed, total, 1.959_963_984_540_054).unwrap();
    assert!((report["summary"]["failure_interval"]["low"].as_f64().unwrap() - interval.low).abs() < 1e-9);
    assert!((report["summary"]["failure_interval"]["high"].as_f64().unwrap() - interval.high).abs() < 1e-9);
    assert_eq!(report["gate"]["max_failure_rate"], 1.0);
    assert_eq!(report["gate"]["passed"], true);

    let port = free_port();
    let (url, stop) = demo(Mode::Buggy, 7, Delays::incident(), format!("http://127.0.0.1:{port}/api/"), SECRET).await;
    let allowed = format!("{}%", (failed as f64 * 10.0) - 1.0);
    let strict =
        replay(&url, port, &["--runs", "10", "--concurrency", "10", "--wait", "5s", "--max-failure-rate", &allowed])
            .await;
    stop.cancel();
    let out = text(&strict);
    assert_eq!(strict.status.code(), Some(1), "{out}");
    assert!(out.contains(&format!("{failed} of 10 runs failed: ")) && out.contains("(95% CI "), "{out}");
    assert!(out.contains(&format!("gate: FAIL, the failure rate {}", failed * 10)), "{out}");
}

/// The fixed app never fails: the text gives the one-sided bound, and `--runs-until 5%` stops
/// once the bound is under 5% (59 runs, plus those already in flight), saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_until_stops_when_the_bound_falls_under_the_target() {
    let port = free_port();
    let (url, stop) = demo(Mode::Fixed, 3, short_delays(), format!("http://127.0.0.1:{port}/api/"), SECRET).await;
    let out =
        replay(&url, port, &["--runs", "500", "--concurrency", "4", "--wait", "200ms", "--runs-until", "5%"]).await;
    stop.cancel();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let line = all.lines().find(|l| l.contains("--runs-until 5.0%:")).expect("the outcome is said");
    let n: usize = line.split("after ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!((59..59 + 4).contains(&n), "{line}");
    let bound = 100.0 * (1.0 - 0.05f64.powf(1.0 / n as f64));
    assert!(
        all.contains(&format!("0 of {n} runs failed: below {:.1}% at 95% confidence", (bound * 10.0).ceil() / 10.0)),
        "{all}"
    );
}

/// The buggy app: `--runs-until` stops at the first failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_until_stops_at_the_first_failure() {
    let port = free_port();
    let (url, stop) = demo(Mode::Buggy, 7, Delays::incident(), format!("http://127.0.0.1:{port}/api/"), SECRET).await;
    let out = replay(&url, port, &["--runs", "200", "--concurrency", "4", "--wait", "5s", "--runs-until", "1%"]).await;
    stop.cancel();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    let line = all.lines().find(|l| l.contains("--runs-until 1.0%: run ")).unwrap_or_else(|| panic!("{all}"));
    assert!(line.contains(" failed: stopped after "), "{line}");
    let n: usize = line.rsplit("after ").next().unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(n < 200, "stopped early: {line}");
}
