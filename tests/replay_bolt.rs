//! `tracedeck replay --socket-mode` against a real Slack SDK app: Bolt for Python with its
//! `SocketModeHandler` (slack_sdk's built-in WebSocket client) and `WebClient(base_url=...)`
//! pointed at the mock (tests/clients/bolt_socket_app.py). Buggy exits 1, fixed exits 0.

mod clients_support;
mod replay_support;
mod socket_support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

use replay_support::{SECRET, TOKEN};
use socket_support::APP_TOKEN;

/// Kills the app when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Replays the resolve button twice over Socket Mode against the Bolt app in `mode`; returns
/// the exit code, the report and tracedeck's messages.
fn replay_against_bolt(python: &std::path::Path, mode: &str) -> (Option<i32>, String, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let capture = format!("{}/sample-traces/resolve-button.capture.json", env!("CARGO_MANIFEST_DIR"));
    let mock = format!("127.0.0.1:{port}");
    let args =
        ["replay", &capture, "--socket-mode", "--mock-addr", &mock, "--runs", "2", "--timeout", "30s", "--wait", "4s"];
    let mut replay = Running(
        Command::new(env!("CARGO_BIN_EXE_tracedeck"))
            .args(args)
            .env("SLACK_BOT_TOKEN", TOKEN)
            .env("SLACK_APP_TOKEN", APP_TOKEN)
            .env_remove("SLACK_SIGNING_SECRET")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs"),
    );
    // Bolt calls auth.test when it starts: start it once the mock listens.
    let mut messages = BufReader::new(replay.0.stderr.take().unwrap());
    let mut said = String::new();
    while !said.contains("waiting up to") {
        assert!(messages.read_line(&mut said).unwrap() > 0, "tracedeck ended before waiting: {said}");
    }
    let app = Running(
        Command::new(python)
            .arg(clients_support::clients_dir().join("bolt_socket_app.py"))
            .arg(mode)
            .env("SLACK_API_URL", format!("http://{mock}/api/"))
            .env("SLACK_BOT_TOKEN", TOKEN)
            .env("SLACK_APP_TOKEN", APP_TOKEN)
            .env("SLACK_SIGNING_SECRET", SECRET)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python runs"),
    );
    messages.read_to_string(&mut said).unwrap();
    let mut report = String::new();
    replay.0.stdout.take().unwrap().read_to_string(&mut report).unwrap();
    let code = replay.0.wait().unwrap().code();
    drop(app);
    (code, report, said)
}

#[test]
fn bolt_for_python_in_socket_mode_buggy_fails_and_fixed_passes() {
    let Some(python) = clients_support::python_with("slack_bolt") else { return };
    let (code, report, said) = replay_against_bolt(&python, "buggy");
    assert_eq!(code, Some(1), "{report}\n{said}");
    assert!(said.contains("Socket Mode: the app connected"), "{said}");
    let expired = report.lines().filter(|l| l.contains("  FAIL  ") && l.ends_with(": expired_trigger_id")).count();
    assert_eq!(expired, 2, "both runs open the modal too late: {report}");

    let (code, report, said) = replay_against_bolt(&python, "fixed");
    assert_eq!(code, Some(0), "{report}\n{said}");
    assert!(report.contains("0 of 2 runs failed"), "{report}");
    assert_eq!(report.matches("  PASS  ").count(), 2, "{report}");
}
