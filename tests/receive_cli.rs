//! `tracedeck receive` as CI runs it: the binary listening, apps sending (the real Sentry SDK for
//! Python through a DSN, through Spotlight and with span streaming; raw envelopes and OTLP),
//! verdicts printed as traces complete, the saved file judged again by `tracedeck check`.

mod clients_support;

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tracedeck::formats;

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

fn tracedeck() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tracedeck"))
}

/// A fresh folder for one test's files.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tracedeck-receive-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts `tracedeck receive ARGS` and waits until `addr` takes connections.
fn start(args: &[&str], addr: SocketAddr) -> Child {
    let mut child = tracedeck()
        .arg("receive")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let started = Instant::now();
    while TcpStream::connect(addr).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            let mut stderr = String::new();
            child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
            panic!("receive exited with {status}: {stderr}");
        }
        assert!(started.elapsed() < Duration::from_secs(20), "receive never listened on {addr}");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// Waits for the process to end by itself (it stops on --max-traces or --for).
fn finish(mut child: Child) -> Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!("receive did not stop: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The names of every span saved in `file`, sorted.
fn span_names(file: &Path) -> Vec<String> {
    let imported = formats::import("saved", &std::fs::read(file).unwrap()).unwrap_or_else(|e| panic!("{e}"));
    let mut names: Vec<String> =
        imported.traces.iter().flat_map(|t| t.spans().iter().map(|s| t.str(s.name).to_owned())).collect();
    names.sort();
    names
}

#[test]
fn the_real_sentry_sdk_sends_by_dsn_and_by_spotlight_and_check_judges_what_was_received() {
    let Some(python) = clients_support::python_with("sentry_sdk") else { return };
    let app = clients_support::clients_dir().join("sentry_transaction.py");
    let dir = folder("sdk");
    // How the app is pointed here, what it records, and the verdict (check's exit status).
    let cases = [
        ("dsn", "SENTRY_DSN", &["miss"][..], 1, "MISS"),
        ("spotlight", "SENTRY_SPOTLIGHT", &["pass"][..], 0, "PASS"),
        ("stream", "SENTRY_DSN", &["pass", "stream"][..], 0, "PASS"),
    ];
    for (case, variable, app_args, verdict, word) in cases {
        let addr = free_addr();
        let file = dir.join(format!("{case}.tracedeck.json"));
        let file_arg = file.display().to_string();
        let args =
            ["--sentry", &addr.to_string(), "-o", &file_arg, "--max-traces", "1", "--idle", "500ms", "--for", "50s"];
        let receiving = start(&args, addr);
        let url = match variable {
            "SENTRY_DSN" => format!("http://public@{addr}/1"),
            _ => format!("http://{addr}/stream"),
        };
        let sent = Command::new(&python)
            .arg(&app)
            .args(app_args)
            .env_remove("SENTRY_DSN")
            .env_remove("SENTRY_SPOTLIGHT")
            .env(variable, &url)
            .output()
            .unwrap();
        assert!(sent.status.success(), "{case}: {}", text(&sent.stderr));
        let trace_id = text(&sent.stdout).trim().to_owned();
        assert_eq!(trace_id.len(), 32, "{case}: the app prints its trace id: {}", text(&sent.stdout));

        let out = finish(receiving);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(verdict), "{case}: {stdout}\n{stderr}");
        assert!(stdout.contains(&format!("received: trace {trace_id}")), "{case}: {stdout}");
        assert!(stdout.contains(&format!("  {word}  ")), "{case}: {stdout}");
        assert!(stderr.contains("saved 1 trace(s)"), "{case}: {stderr}");

        let mut expected = vec!["POST /slack/interactions", "POST https://slack.com/api/views.open", "SELECT incident"];
        if case != "stream" {
            expected.push("open_modal");
        }
        expected.sort();
        assert_eq!(span_names(&file), expected, "{case}: every span is saved");
        let check = tracedeck().arg("check").arg(&file).output().unwrap();
        assert_eq!(check.status.code(), Some(verdict), "{case}: {}", text(&check.stdout));
        assert!(text(&check.stdout).contains(&format!("trace {trace_id}")), "{case}: {}", text(&check.stdout));
        if case == "dsn" {
            assert!(text(&check.stdout).contains("views.open sent at 3.40 s"), "{}", text(&check.stdout));
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Posts `body` with `content_type` to `url` over a bare HTTP/1.1 connection; the status.
fn post(url_addr: SocketAddr, path: &str, content_type: &str, body: &[u8]) -> u16 {
    use std::io::Write;
    let mut stream = TcpStream::connect(url_addr).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {url_addr}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status in {answer:?}"))
}

#[test]
fn receiving_both_protocols_for_a_while_saves_otlp_json_and_counts_refused_bodies() {
    let dir = folder("both");
    let (otlp, sentry) = (free_addr(), free_addr());
    let file = dir.join("received.otlp.json");
    let file_arg = file.display().to_string();
    let args = [
        "--otlp",
        &otlp.to_string(),
        "--sentry",
        &sentry.to_string(),
        "-o",
        &file_arg,
        "--idle",
        "300ms",
        "--for",
        "3s",
    ];
    let receiving = start(&args, sentry);
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sentry/envelopes");
    let envelope = std::fs::read(format!("{fixtures}/python-django-celery.envelope")).unwrap();
    assert_eq!(post(sentry, "/api/1/envelope/", "application/x-sentry-envelope", &envelope), 200);
    let span = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"771a43a4192642f0b136d5159a501700",
        "spanId":"5555555555555555","parentSpanId":"c1d2e3f4a5b60719","name":"proxy",
        "startTimeUnixNano":"1795000003810000000","endTimeUnixNano":"1795000003940000000"}]}]}]}"#;
    assert_eq!(post(otlp, "/v1/traces", "application/json", span.as_bytes()), 200);
    assert_eq!(post(sentry, "/stream", "text/plain", b"not an envelope"), 400);
    let out = finish(receiving);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "a refused body is bad input: {stdout}\n{stderr}");
    assert!(stderr.contains(&format!("receiving OTLP: http://{otlp}/v1/traces")), "{stderr}");
    assert!(
        stderr.contains(&format!("SENTRY_DSN=http://public@{sentry}/1 or SENTRY_SPOTLIGHT=http://{sentry}/stream"))
    );
    assert!(stderr.contains("1 bodies were refused"), "{stderr}");
    assert!(stderr.contains("received 8 spans in 1 traces"), "{stderr}");
    assert!(stdout.contains("received: trace 771a43a4192642f0b136d5159a501700"), "{stdout}");
    assert!(stderr.contains("as OTLP JSON"), "{stderr}");
    let saved = formats::import("saved", &std::fs::read(&file).unwrap()).unwrap();
    assert_eq!((saved.format, saved.traces.len(), saved.traces[0].len()), (formats::Format::Otlp, 1, 8));

    // The file is not replaced without --force, and nothing listens.
    let again = tracedeck().args(["receive", "--sentry", &free_addr().to_string(), "-o", &file_arg]).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("exists; pass --force"), "{}", text(&again.stderr));

    // An address in use is said, with exit status 2.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let busy = tracedeck().args(["receive", "--sentry", &addr, "--for", "1s"]).output().unwrap();
    assert_eq!(busy.status.code(), Some(2));
    assert!(text(&busy.stderr).contains(&format!("cannot listen on {addr} for Sentry")), "{}", text(&busy.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}
