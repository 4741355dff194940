//! Live replay sessions as a user runs them (the binary, the demo app in this process): the
//! mock up before the app with `--wait-for-target`, cold starts named, `--warmup`, and the
//! interactive `--session` on a scripted terminal; and a real Bolt for JavaScript app started
//! after `--wait-for-target`.

mod clients_support;
mod replay_support;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use replay_support::*;
use tokio_util::sync::CancellationToken;
use tracedeck::replay::demo_app::{Delays, Mode};

fn capture() -> String {
    format!("{}/sample-traces/resolve-button.capture.json", env!("CARGO_MANIFEST_DIR"))
}

/// A process whose output is collected as it comes.
struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

fn collect(mut from: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = text.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    text
}

impl Running {
    fn spawn(mut command: Command) -> Running {
        let mut child = command
            .env("SLACK_SIGNING_SECRET", SECRET)
            .env("SLACK_BOT_TOKEN", TOKEN)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the command runs");
        let stdin = child.stdin.take();
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        Running { child, stdin, stdout, stderr }
    }

    /// `tracedeck replay` of the sample capture against `target`, the mock at `mock_addr`.
    fn replay(target: &str, mock_addr: &str, args: &[&str]) -> Running {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tracedeck"));
        command.args(["replay", &capture(), "--target", target, "--mock-addr", mock_addr]).args(args);
        Running::spawn(command)
    }

    /// Waits (at most 30 s) until stdout or stderr holds `text`.
    async fn wait_for(&self, text: &str) {
        let started = Instant::now();
        loop {
            let (out, err) = (self.stdout.lock().unwrap().clone(), self.stderr.lock().unwrap().clone());
            if out.contains(text) || err.contains(text) {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "no {text:?} within 30 s in:\n{out}\n{err}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Ends the process (one this test started).
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// Waits for the exit; its code, stdout and stderr.
    async fn finish(mut self) -> (Option<i32>, String, String) {
        drop(self.stdin.take());
        let status = tokio::task::spawn_blocking(move || (self.child.wait().unwrap(), self.stdout, self.stderr));
        let (status, stdout, stderr) = status.await.unwrap();
        // The reader threads end with the pipes; give them a moment to take the last bytes.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let text = |t: Arc<Mutex<String>>| t.lock().unwrap().clone();
        (status.code(), text(stdout), text(stderr))
    }
}

/// Starts the demo app on `addr`, checking its token at start (first retry after `pause`).
async fn demo_app_at(
    addr: SocketAddr,
    mode: Mode,
    delays: Delays,
    mock_port: u16,
    pause: Duration,
) -> CancellationToken {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let api = format!("http://127.0.0.1:{mock_port}/api/");
    let config = tracedeck::replay::demo_app::DemoConfig {
        verify_token: Some(pause),
        ..demo_config(mode, 3, delays, api, SECRET)
    };
    serve_demo(listener, config)
}

fn ack_ms(run: &serde_json::Value) -> f64 {
    run["ack"].as_f64().unwrap_or_else(|| panic!("no ack in {run}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_wait_for_target_the_mock_is_up_first_and_a_token_checking_app_acks_fast_at_once() {
    let (mock_port, app_port) = (free_port(), free_port());
    let app: SocketAddr = format!("127.0.0.1:{app_port}").parse().unwrap();
    let (mock_addr, target) = (format!("127.0.0.1:{mock_port}"), format!("http://{app}"));
    let replay = Running::replay(
        &target,
        &mock_addr,
        &["--wait-for-target", "30s", "--runs", "3", "--wait", "500ms", "--report", "json"],
    );
    replay.wait_for(&format!("mock Slack Web API up at http://{mock_addr}/api/; start your app now")).await;
    // The app starts only now, and its auth.test at start finds the mock.
    let stop = demo_app_at(app, Mode::Fixed, short_delays(), mock_port, Duration::from_secs(1)).await;
    let (code, stdout, stderr) = replay.finish().await;
    stop.cancel();
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let runs = report["runs"].as_array().unwrap();
    assert!(ack_ms(&runs[0]) < 500.0, "the first run's ack is fast: {}", runs[0]);
    assert_eq!(report["notes"], serde_json::json!([]), "no cold start: {stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_started_before_a_plain_replay_gets_a_cold_start_note_and_warmup_absorbs_it() {
    for (warmup, report) in [("0", "text"), ("0", "junit"), ("1", "text")] {
        let (mock_port, app_port) = (free_port(), free_port());
        let app: SocketAddr = format!("127.0.0.1:{app_port}").parse().unwrap();
        // The app starts first: its auth.test fails (no mock yet) and is retried after 1.5 s.
        let stop = demo_app_at(app, Mode::Fixed, short_delays(), mock_port, Duration::from_millis(1500)).await;
        // Let it start (and fail its first auth.test) before the replay does.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (mock_addr, target) = (format!("127.0.0.1:{mock_port}"), format!("http://{app}"));
        let args = ["--runs", "4", "--wait", "300ms", "--warmup", warmup, "--report", report];
        let replay = Running::replay(&target, &mock_addr, &args);
        let (code, stdout, stderr) = replay.finish().await;
        stop.cancel();
        assert_eq!(code, Some(0), "slow but within 3 s: {stdout}\n{stderr}");
        let note =
            stdout.lines().map(|l| l.trim_start().trim_start_matches("<system-out>")).find(|l| l.starts_with("note: "));
        if report == "junit" {
            let note = note.unwrap_or_else(|| panic!("no cold-start note in:\n{stdout}"));
            assert!(note.starts_with("note: the first ack took ") && note.ends_with("N)</system-out>"), "{stdout}");
        } else if warmup == "0" {
            let note = note.unwrap_or_else(|| panic!("no cold-start note in:\n{stdout}"));
            assert!(note.contains("note: the first ack took "), "{note}");
            assert!(
                note.ends_with("the app may have started before the mock; use --wait-for-target (or --warmup N)"),
                "{note}"
            );
            assert!(stderr.contains(&format!("mock Slack Web API at http://{mock_addr}/api/")), "{stderr}");
        } else {
            assert_eq!(note, None, "the warm-up run took the cold start:\n{stdout}");
            assert!(stderr.contains("1 warm-up run(s) went first, not judged"), "{stderr}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_target_gives_up_on_an_app_that_never_listens_with_exit_two() {
    let target = format!("http://127.0.0.1:{}", free_port());
    let started = Instant::now();
    let mock_addr = format!("127.0.0.1:{}", free_port());
    let replay = Running::replay(&target, &mock_addr, &["--wait-for-target", "400ms"]);
    let (code, stdout, stderr) = replay.finish().await;
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(stderr.contains("; start your app now"), "{stderr}");
    assert!(stderr.contains(&format!("waiting up to 400 ms for the app at {target}/")), "{stderr}");
    assert!(stderr.contains(&format!("the target {target}/ did not accept connections within 400 ms")), "{stderr}");
    assert!(stdout.is_empty(), "no runs, no report: {stdout}");
}

#[test]
fn a_session_refuses_without_a_terminal() {
    let out = Command::new(env!("CARGO_BIN_EXE_tracedeck"))
        .args(["replay", &capture(), "--target", "http://127.0.0.1:9", "--session"])
        .env("SLACK_SIGNING_SECRET", SECRET)
        .env("SLACK_BOT_TOKEN", TOKEN)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--session reads its commands from a terminal, and stdin is not one"), "{stderr}");
}

/// The session on a terminal (`script` gives it one): round 1 against the buggy app, the app
/// restarted fixed, round 2 with more runs, quit, and both rounds side by side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_on_a_terminal_replays_rounds_and_sums_them_up() {
    let (mock_port, app_port) = (free_port(), free_port());
    let app: SocketAddr = format!("127.0.0.1:{app_port}").parse().unwrap();
    let (mock_addr, target) = (format!("127.0.0.1:{mock_port}"), format!("http://{app}"));
    let tracedeck = env!("CARGO_BIN_EXE_tracedeck");
    let line = format!(
        "'{tracedeck}' replay '{}' --target {target} --mock-addr {mock_addr} --session --wait-for-target 20s \
         --runs 2 --concurrency 2 --wait 3500ms",
        capture()
    );
    let mut command = Command::new("script");
    command.args(["-qfec", &line, "/dev/null"]);
    let mut session = Running::spawn(command);
    session.wait_for("start your app now").await;
    session.wait_for("\"q\" quits").await;
    // Every queued views.open comes after the 3 s trigger life.
    let late = Delays {
        fast: (Duration::from_millis(3100), Duration::from_millis(3200)),
        slow: (Duration::ZERO, Duration::ZERO),
        slow_percent: 0,
    };
    let buggy = demo_app_at(app, Mode::Buggy, late, mock_port, Duration::from_secs(1)).await;
    session.type_line("");
    session.wait_for("round 1: failed 2 of 2 (100%)").await;

    session.type_line("r 3");
    session.wait_for("Enter replays (3 run(s) of each interaction)").await;
    buggy.cancel();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let fixed = demo_app_at(app, Mode::Fixed, short_delays(), mock_port, Duration::from_secs(1)).await;
    session.type_line("");
    session.wait_for("round 2 (after restart): failed 0 of 3 (0%)").await;
    session.type_line("q");
    let (code, stdout, stderr) = session.finish().await;
    fixed.cancel();
    assert_eq!(code, Some(0), "the last round passed:\n{stdout}\n{stderr}");
    let summary = stdout.split("session over after 2 round(s):").nth(1).unwrap_or_else(|| panic!("{stdout}"));
    let lines: Vec<&str> = summary.lines().map(str::trim).filter(|l| l.starts_with("round ")).collect();
    assert_eq!(lines.len(), 2, "{summary}");
    assert!(lines[0].starts_with("round 1: failed 2 of 2 (100%)"), "{summary}");
    assert!(lines[1].starts_with("round 2 (after restart): failed 0 of 3 (0%)"), "{summary}");
    assert!(stdout.contains("views.open arrived at 3."), "round 1's verdicts are printed:\n{stdout}");
}

/// A real Bolt for JavaScript app (default settings, `slackApiUrl` at the mock) started after
/// `replay --wait-for-target`: buggy exits 1 with expired triggers, fixed exits 0, and the first
/// run's ack is fast because Bolt's `auth.test` at start found the mock up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_bolt_js_app_started_after_the_mock_fails_buggy_passes_fixed_and_acks_fast() {
    let Some(node) = clients_support::node_with("@slack/bolt") else { return };
    for (mode, expected) in [("buggy", 1), ("fixed", 0)] {
        let (mock_port, app_port) = (free_port(), free_port());
        let mock_addr = format!("127.0.0.1:{mock_port}");
        let target = format!("http://127.0.0.1:{app_port}/slack/events");
        let args = ["--wait-for-target", "60s", "--runs", "2", "--wait", "3700ms", "--report", "json"];
        let replay = Running::replay(&target, &mock_addr, &args);
        replay.wait_for("start your app now").await;
        let mut command = Command::new(&node);
        command
            .arg("bolt_app.js")
            .current_dir(clients_support::clients_dir())
            .env("MODE", mode)
            .env("PORT", app_port.to_string())
            .env("SLACK_API_URL", format!("http://{mock_addr}/api/"));
        let app = Running::spawn(command);
        let app_log = app.stderr.clone();
        let (code, stdout, stderr) = replay.finish().await;
        app.kill();
        let app_log = app_log.lock().unwrap().clone();
        assert_eq!(code, Some(expected), "{mode}: {stdout}\n{stderr}\napp: {app_log}");
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        for run in report["runs"].as_array().unwrap() {
            // Started before the mock, Bolt's first acks take 1.6-2.1 s (its auth.test retried with
            // back-off); started after it, the first ack includes only Bolt's own first-request
            // work (510 ms once on a loaded 2-core CI machine, ~150 ms idle), so the bound has room.
            assert!(ack_ms(run) < 1000.0, "{mode}: acks are fast from the first run on: {run}");
            if mode == "buggy" {
                assert_eq!(run["views_open_error"], "expired_trigger_id", "{run}");
            } else {
                assert_eq!(run["pass"], true, "{run}");
            }
        }
        assert_eq!(report["notes"], serde_json::json!([]), "{mode}: no cold start: {stdout}");
    }
}

/// A round is "after restart" when the app called `auth.test` since the last round (as an app
/// does when it starts), even if the watch never saw it down; otherwise not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_after_the_app_checked_its_token_again_is_marked_after_restart() {
    let mock = mock(Duration::from_secs(3)).await;
    let (url, stop) = demo(Mode::Fixed, 1, short_delays(), mock.api_url(), SECRET).await;
    let mut session = tracedeck::replay::session::Session::new(mock.clone());
    let config = config(&url, 2, 1, Duration::from_millis(200));
    let mut headlines = Vec::new();
    for round in 1..=3 {
        if round == 3 {
            let reply = client().post(format!("{}auth.test", mock.api_url())).bearer_auth(TOKEN).send().await.unwrap();
            assert_eq!(reply.status(), 200);
        }
        let capture = sample("resolve-button.capture.json");
        let (round, results) = session.round(capture, config.clone(), 0, None, CancellationToken::new()).await.unwrap();
        assert_eq!(results.len(), 2);
        headlines.push(round.headline());
    }
    stop.cancel();
    assert!(headlines[0].starts_with("round 1: failed 0 of 2 (0%), ack p50 "), "{headlines:?}");
    assert!(headlines[1].starts_with("round 2: failed 0 of 2 (0%)"), "{headlines:?}");
    assert!(headlines[2].starts_with("round 3 (after restart): failed 0 of 2 (0%)"), "{headlines:?}");
    assert_eq!(session.rounds().len(), 3);
}
