//! `tracedeck replay --sentry` against an app instrumented only with the real Sentry SDK for
//! Python, which continues traces from `sentry-trace` and `baggage` alone: its transaction lands
//! in the run's trace, under the replayed request.

mod clients_support;

use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::time::{Duration, Instant};

const SECRET: &str = "sentry-sdk-test-secret";

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

#[test]
fn a_sentry_only_apps_transaction_joins_the_replayed_run() {
    let Some(python) = clients_support::python_with("sentry_sdk") else { return };
    let dir = std::env::temp_dir().join(format!("tracedeck-replay-sentry-sdk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (sentry, mock) = (free_addr(), free_addr());
    let port_file = dir.join("port");
    let mut app = Command::new(python)
        .arg(clients_support::clients_dir().join("sentry_slack_app.py"))
        .arg(&port_file)
        .env_remove("SENTRY_SPOTLIGHT")
        .env("SENTRY_DSN", format!("http://public@{sentry}/1"))
        .spawn()
        .unwrap();
    let started = Instant::now();
    let port = loop {
        if let Ok(port) = std::fs::read_to_string(&port_file).map(|p| p.trim().to_owned())
            && !port.is_empty()
        {
            break port;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the app never listened");
        std::thread::sleep(Duration::from_millis(50));
    };

    let traces = dir.join("runs.tracedeck.json");
    let capture = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-traces/resolve-button.capture.json");
    let out = Command::new(env!("CARGO_BIN_EXE_tracedeck"))
        .args(["replay", capture, "--target", &format!("http://127.0.0.1:{port}"), "--mock-addr"])
        .arg(mock.to_string())
        .args(["--sentry", &sentry.to_string(), "--wait", "2s", "--traces"])
        .arg(&traces)
        .env("SLACK_SIGNING_SECRET", SECRET)
        .env("SLACK_BOT_TOKEN", "xoxb-sentry-sdk-test")
        .output()
        .unwrap();
    app.kill().unwrap();
    app.wait().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The app acknowledges but never opens a modal, so the run fails; its trace is saved all the same.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("SENTRY_DSN=http://public@{sentry}/1")), "{stderr}");
    assert!(stderr.contains("saved 1 run trace(s)"), "{stderr}");

    let imported = tracedeck::formats::import("runs", &std::fs::read(&traces).unwrap()).unwrap();
    let trace = &imported.traces[0];
    let find = |name: &str| {
        trace.spans().iter().position(|s| trace.str(s.name) == name).unwrap_or_else(|| {
            panic!("no span {name}: {:?}", trace.spans().iter().map(|s| trace.str(s.name)).collect::<Vec<_>>())
        })
    };
    let (request, queued) = (find("POST /slack/interactions"), find("open_modal"));
    let request_span = trace.span(request as u32);
    assert_eq!(trace.str(request_span.service), "sentry-slack-app");
    assert_eq!(request_span.depth, 1, "the app's transaction hangs under the replayed request");
    assert_eq!(trace.span(queued as u32).parent, Some(request as u32));
    std::fs::remove_dir_all(&dir).unwrap();
}
