//! `tracedeck replay` and `tracedeck capture` as a user runs them: the binary, with the secrets
//! in its environment, against the demo app in this process.

mod replay_support;

use std::process::{Command, Output};

use replay_support::*;
use tracedeck::replay::demo_app::Mode;

fn tracedeck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tracedeck"))
        .args(args)
        .env("SLACK_SIGNING_SECRET", SECRET)
        .env("SLACK_BOT_TOKEN", TOKEN)
        .output()
        .expect("the binary runs")
}

fn sample_path(name: &str) -> String {
    format!("{}/sample-traces/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_passes_against_the_fixed_app_and_exits_zero() {
    let port = free_port();
    let (url, stop) = demo(Mode::Fixed, 3, short_delays(), format!("http://127.0.0.1:{port}/api/"), SECRET).await;
    let mock_addr = format!("127.0.0.1:{port}");
    let capture = sample_path("resolve-button.capture.json");
    let args: Vec<String> = [
        "replay",
        &capture,
        "--target",
        &url,
        "--mock-addr",
        &mock_addr,
        "--runs",
        "3",
        "--concurrency",
        "3",
        "--wait",
        "600ms",
        "--report",
        "json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = tokio::task::spawn_blocking(move || tracedeck(&args.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .unwrap();
    stop.cancel();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET) && !stdout.contains(TOKEN), "secrets never printed");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["summary"]["runs"], 3);
    assert_eq!(report["summary"]["failed"], 0);
    assert_eq!(report["runs"][0]["url"], format!("{url}/extensions/slack/action/"), "the captured path is used");
    assert_eq!(report["runs"][0]["calls"][0]["method"], "views.open");
    assert_eq!(report["profile"]["name"], "slack", "judged by the default profile");
    assert_eq!(report["profile"]["limit_ms"], 3000.0);
    assert!(report["runs"][0].get("analysis").is_none(), "one verdict per run: {stdout}");
    assert_eq!(report["injected"], serde_json::Value::Null, "nothing injected");
    assert!(stderr.contains(&format!("mock Slack Web API at http://{mock_addr}/api/")), "{stderr}");
}

#[test]
fn bad_input_and_a_target_that_never_answers_exit_two() {
    let dir = std::env::temp_dir().join(format!("tracedeck-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.capture.json");
    std::fs::write(&bad, r#"{"format":"tracedeck-capture","version":2,"platform":"slack","interactions":[]}"#).unwrap();
    let out = tracedeck(&["replay", bad.to_str().unwrap(), "--target", "http://127.0.0.1:9"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("bad.capture.json: at line 1, column") && stderr.contains("$.version"), "{stderr}");
    assert!(stderr.contains("capture version 2 is not supported"), "{stderr}");

    // A header no HTTP request can carry is refused when the capture is read, naming the file
    // and the field, not blamed on a target that was never contacted.
    let sample = std::fs::read_to_string(sample_path("archive-button.capture.json")).unwrap();
    let odd = dir.join("odd-header.capture.json");
    std::fs::write(&odd, sample.replacen("\"Content-Type\"", "\"Content Type\"", 1)).unwrap();
    let out = tracedeck(&["replay", odd.to_str().unwrap(), "--target", "http://127.0.0.1:9"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("odd-header.capture.json: at $.interactions[0].request.headers[0]"), "{stderr}");
    assert!(stderr.contains("\"Content Type\" is not a header name") && !stderr.contains("never answered"), "{stderr}");

    let capture = sample_path("archive-button.capture.json");
    let out = tracedeck(&["replay", &capture, "--target", "http://10.1.2.3:3000"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs --allow-remote"));

    let port = free_port();
    let target = format!("http://127.0.0.1:{port}");
    let out = tracedeck(&["replay", &capture, "--target", &target, "--report", "junit"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains(r#"<testsuite name="tracedeck replay"#) && stdout.contains("failures=\"1\""), "{stdout}");
    assert!(stdout.contains("refused the connection"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("never answered"));

    let out = Command::new(env!("CARGO_BIN_EXE_tracedeck"))
        .args(["replay", &capture, "--target", &target])
        .env_remove("SLACK_SIGNING_SECRET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SLACK_SIGNING_SECRET is not set"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn capture_turns_a_request_dump_into_a_capture_file_that_replays() {
    let dir = std::env::temp_dir().join(format!("tracedeck-capture-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dump = dir.join("request.http");
    std::fs::write(&dump, "POST /slack/events HTTP/1.1\nContent-Type: application/x-www-form-urlencoded\n\npayload=%7B%22type%22%3A%22shortcut%22%2C%22trigger_id%22%3A%221.2.ab%22%7D\n").unwrap();
    let out_file = dir.join("out.capture.json");
    let out = tracedeck(&["capture", dump.to_str().unwrap(), "-o", out_file.to_str().unwrap(), "--name", "shortcut"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let capture = tracedeck::replay::capture::Capture::load(&out_file).unwrap();
    assert_eq!(capture.prepared[0].interaction.name, "shortcut");
    assert_eq!(capture.prepared[0].interaction.request.path, "/slack/events");
    assert_eq!(capture.prepared[0].body.trigger_id(), Some("1.2.ab"));
    assert!(capture.file.captured_at.is_some());

    // Capturing again over that file needs --force; without it the file is kept as it was.
    let before = std::fs::read(&out_file).unwrap();
    let again = ["capture", dump.to_str().unwrap(), "-o", out_file.to_str().unwrap(), "--name", "other"];
    let out = tracedeck(&again);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists; pass --force to replace it"));
    assert_eq!(std::fs::read(&out_file).unwrap(), before);
    let out = tracedeck(&[&again[..], &["--force"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let capture = tracedeck::replay::capture::Capture::load(&out_file).unwrap();
    assert_eq!(capture.prepared[0].interaction.name, "other");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Replays twice against the fixed demo app sending its spans by `protocol` (`--receive` for
/// OTLP, `--sentry`) with `--traces FILE`; checks the app's spans are joined to each run and
/// returns the replay's arguments (to run again) and the file.
async fn runs_saved_with_the_apps_spans(protocol: &str) -> (Vec<String>, std::path::PathBuf) {
    let (port, receive_port) = (free_port(), free_port());
    let api = format!("http://127.0.0.1:{port}/api/");
    let (otlp, dsn, flag) = match protocol {
        "otlp" => (Some(format!("http://127.0.0.1:{receive_port}")), None, "--receive"),
        _ => (None, Some(format!("http://public@127.0.0.1:{receive_port}/1")), "--sentry"),
    };
    let (url, stop) = demo_sending(Mode::Fixed, 3, short_delays(), api, SECRET, otlp, dsn).await;
    let dir = std::env::temp_dir().join(format!("tracedeck-replay-traces-{protocol}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("runs.tracedeck.json");
    let args: Vec<String> = [
        "replay",
        &sample_path("resolve-button.capture.json"),
        "--target",
        &url,
        "--mock-addr",
        &format!("127.0.0.1:{port}"),
        flag,
        &format!("127.0.0.1:{receive_port}"),
        "--runs",
        "2",
        "--wait",
        "1s",
        "--traces",
        &file.display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let run = args.clone();
    let out = tokio::task::spawn_blocking(move || tracedeck(&run.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .unwrap();
    stop.cancel();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("saved 2 run trace(s)"), "{stderr}");

    let imported = tracedeck::formats::import("runs", &std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(imported.traces.len(), 2, "one trace per run");
    for trace in &imported.traces {
        let names: Vec<&str> = trace.spans().iter().map(|s| trace.str(s.name)).collect();
        let task = names.iter().position(|n| n.starts_with("celery.task")).unwrap_or_else(|| panic!("{names:?}"));
        let span = &trace.spans()[task];
        assert!(span.depth >= 2, "the app's task hangs under its request, under the replayed request: {names:?}");
        assert!(trace.spans().iter().any(|s| trace.str(s.service) == "slack-app"));
    }
    (args, file)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apps_sentry_transactions_are_joined_to_the_runs() {
    let (_, file) = runs_saved_with_the_apps_spans("sentry").await;
    std::fs::remove_dir_all(file.parent().unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runs_traces_are_saved_with_the_apps_own_spans_joined() {
    let (args, file) = runs_saved_with_the_apps_spans("otlp").await;
    let dir = file.parent().unwrap().to_path_buf();

    // The file is not replaced without --force.
    let again = tokio::task::spawn_blocking(move || tracedeck(&args.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists; pass --force"));
    std::fs::remove_dir_all(&dir).unwrap();
}
