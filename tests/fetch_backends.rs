//! Each back-end against a local fake server shaped like its real API: the right request, the
//! answer read into traces, and every failure turned into a plain error.

mod fetch_support;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use fetch_support::{Fake, Reply, file, quick_config, request};
use tracedeck::fetch::{Backend, Config, ErrorKind, FetchError, Fetched, Progress, fetch, fetch_cancellable};
use tracedeck::formats;
use tracedeck::model::TraceId;

const JAEGER_ID: &str = "5f3c9a1e7b2d4c8e9a0b1c2d3e4f5a6b";
const TEMPO_ID: &str = "5b8efff798038103d269b633813fc60c";
const ZIPKIN_ID: &str = "6b221d5bc9e6496c8a3c4e2f1d0b7a95";
const SENTRY_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// Each back-end with a trace id, its real-API-shaped answer and the path it must ask for.
fn cases() -> Vec<(Backend, &'static str, Vec<u8>, String)> {
    vec![
        (
            Backend::Jaeger,
            JAEGER_ID,
            file("sample-traces/incident-before.jaeger.json"),
            format!("/api/traces/{JAEGER_ID}"),
        ),
        (Backend::Tempo, TEMPO_ID, file("tests/fixtures/otlp/tempo.json"), format!("/api/traces/{TEMPO_ID}")),
        (Backend::Zipkin, ZIPKIN_ID, file("sample-traces/checkout.zipkin.json"), format!("/api/v2/trace/{ZIPKIN_ID}")),
        (
            Backend::Sentry,
            SENTRY_ID,
            file("tests/fixtures/sentry/trace-endpoint.json"),
            format!("/api/0/organizations/acme/trace/{SENTRY_ID}/"),
        ),
    ]
}

async fn run(fake: &Fake, backend: Backend, id: &str, config: &Config) -> (Result<Fetched, FetchError>, Vec<Progress>) {
    let seen = Mutex::new(Vec::new());
    let request = request(backend, &fake.base(), Some("acme"), id);
    let result = fetch(&request, config, &|p| seen.lock().unwrap().push(p)).await;
    (result, seen.into_inner().unwrap())
}

fn span_count(body: &[u8]) -> usize {
    formats::import("fixture", body).unwrap().traces.iter().map(|t| t.len()).sum()
}

#[tokio::test]
async fn each_backend_fetches_and_reads_its_trace() {
    for (backend, id, body, path) in cases() {
        let fake = Fake::start(vec![Reply::ok(body.clone())]).await;
        let (result, progress) = run(&fake, backend, id, &quick_config()).await;
        let fetched = result.unwrap_or_else(|e| panic!("{backend:?}: {e}"));
        assert_eq!(fetched.format, backend.format());
        assert_eq!(fetched.traces.len(), 1, "{backend:?}");
        let trace = &fetched.traces[0];
        assert_eq!(trace.trace_id(), TraceId::from_hex(id).unwrap(), "{backend:?}");
        assert_eq!(trace.len(), span_count(&body), "{backend:?}: every span of the answer");
        assert!(fetched.source.contains(&fake.base()) && fetched.source.contains(id), "{}", fetched.source);
        // The saved body reads back to the same trace.
        let again = formats::import("saved", &fetched.body).unwrap();
        assert_eq!((again.traces[0].trace_id(), again.traces[0].len()), (trace.trace_id(), trace.len()));

        let seen = fake.seen();
        assert_eq!(seen.len(), 1, "{backend:?}");
        assert_eq!(seen[0].path, path);
        assert_eq!(seen[0].headers["authorization"], "Bearer test-token-123");
        assert_eq!(seen[0].headers["accept"], "application/json");
        assert!(progress.contains(&Progress::Reading), "{progress:?}");
        assert!(progress.iter().any(|p| matches!(p, Progress::Downloading { bytes } if *bytes == body.len())));
    }
}

#[tokio::test]
async fn refused_tokens_missing_traces_and_foreign_answers_are_plain_errors() {
    let failures: [(Reply, ErrorKind, &str); 5] = [
        (
            Reply::status(401, r#"{"detail":"Invalid token"}"#),
            ErrorKind::Auth,
            "token is missing or not valid; it said: {\"detail\":\"Invalid token\"}",
        ),
        (Reply::status(403, ""), ErrorKind::Auth, "403 Forbidden"),
        (Reply::status(404, ""), ErrorKind::NotFound, "has no trace"),
        (Reply::ok("<html><body>Grafana</body></html>"), ErrorKind::NotATrace, "answered something that is not a"),
        (Reply::status(400, "bad request"), ErrorKind::Status, "400 Bad Request"),
    ];
    for (backend, id, _, _) in cases() {
        for (reply, kind, text) in failures.clone() {
            // Sentry falls back to its legacy endpoint on 404; that 404s too (script ran out).
            let fake = Fake::start(vec![reply]).await;
            let (result, _) = run(&fake, backend, id, &quick_config()).await;
            let error = result.unwrap_err();
            assert_eq!(error.kind, kind, "{backend:?}: {error}");
            assert!(error.message.contains(text), "{backend:?}: {error}");
            assert!(error.message.contains(&fake.base()), "names the server: {error}");
            assert!(!error.message.contains("test-token-123"), "never shows the token");
            if kind == ErrorKind::NotATrace {
                let name = backend.name();
                assert!(
                    error.message.starts_with(&format!(
                        "{name} at {} answered something that is not a {name} trace: ",
                        fake.base()
                    )),
                    "{error}"
                );
            }
        }
    }
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_retried() {
    let (backend, id, body, _) = cases().remove(0);
    let fake = Fake::start(vec![
        Reply::status(500, "oops"),
        Reply::Answer(429, vec![("retry-after", "1".into())], b"slow down".to_vec()),
        Reply::ok(body),
    ])
    .await;
    let started = Instant::now();
    let (result, progress) = run(&fake, backend, id, &quick_config()).await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(fake.seen().len(), 3);
    assert!(started.elapsed() >= Duration::from_secs(1), "honours Retry-After");
    let waits: Vec<Duration> = progress
        .iter()
        .filter_map(|p| if let Progress::Retrying { wait, .. } = p { Some(*wait) } else { None })
        .collect();
    assert_eq!(waits, [Duration::from_millis(10), Duration::from_secs(1)]);
    assert!(progress.contains(&Progress::Requesting { url: format!("{}/api/traces/{id}", fake.base()), attempt: 3 }));
}

#[tokio::test]
async fn retries_run_out() {
    let (backend, id, _, _) = cases().remove(0);
    let config = Config { retries: 1, ..quick_config() };
    let fake = Fake::start(vec![Reply::status(503, "down"), Reply::status(503, "still down")]).await;
    let (result, progress) = run(&fake, backend, id, &config).await;
    let error = result.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Status);
    assert!(error.message.contains("503 Service Unavailable") && error.message.contains("still down"), "{error}");
    assert_eq!(fake.seen().len(), 2);
    assert_eq!(progress.iter().filter(|p| matches!(p, Progress::Retrying { .. })).count(), 1);
}

#[tokio::test]
async fn a_longer_retry_after_than_the_longest_wait_stops_at_once() {
    let (backend, id, _, _) = cases().remove(0);
    let config = Config { max_wait: Duration::from_secs(2), retries: 3, ..quick_config() };
    for (status, said) in [(429, "rate limited the request for trace"), (503, "answered 503 Service Unavailable")] {
        let fake =
            Fake::start(vec![Reply::Answer(status, vec![("retry-after", "3600".into())], b"later".to_vec())]).await;
        let started = Instant::now();
        let (result, progress) = run(&fake, backend, id, &config).await;
        let error = result.unwrap_err();
        assert_eq!(error.kind, ErrorKind::Status);
        assert!(error.message.contains(said), "{error}");
        assert!(
            error.message.contains("the server asks to retry in 3600 s, longer than tracedeck waits (2 s)"),
            "{error}"
        );
        assert_eq!(fake.seen().len(), 1, "not tried again early");
        assert!(!progress.iter().any(|p| matches!(p, Progress::Retrying { .. })), "{progress:?}");
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}

#[tokio::test]
async fn a_hanging_server_times_out() {
    let (backend, id, _, _) = cases().remove(1);
    let config = Config { timeout: Duration::from_millis(200), retries: 1, ..quick_config() };
    let fake = Fake::start(vec![Reply::Hang, Reply::Hang]).await;
    let started = Instant::now();
    let (result, _) = run(&fake, backend, id, &config).await;
    let error = result.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Timeout, "{error}");
    assert!(error.message.contains(&fake.base()) && error.message.contains("0.2 s"), "{error}");
    assert_eq!(fake.seen().len(), 2, "a timeout is retried");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn cancelling_stops_a_fetch_at_once() {
    let fake = Fake::start(vec![Reply::Hang]).await;
    let request = request(Backend::Zipkin, &fake.base(), None, ZIPKIN_ID);
    let config = Config { timeout: Duration::from_secs(30), ..quick_config() };
    let cancel = tokio_util::sync::CancellationToken::new();
    let canceller = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        canceller.cancel();
    });
    let started = Instant::now();
    let error = fetch_cancellable(&request, &config, &|_| {}, &cancel).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Cancelled);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn what_a_server_says_never_repeats_the_token() {
    let (backend, id, _, _) = cases().remove(0);
    let echo = r#"{"detail":"bad token: Bearer test-token-123"}"#;
    let fake = Fake::start(vec![Reply::status(503, echo), Reply::status(401, echo)]).await;
    let (result, progress) = run(&fake, backend, id, &Config { retries: 1, ..quick_config() }).await;
    let error = result.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(error.message.ends_with(r#"it said: {"detail":"bad token: Bearer ***"}"#), "{error}");
    let said: Vec<String> = progress.iter().map(|p| p.to_string()).collect();
    assert!(said.iter().any(|p| p.contains("Bearer ***")), "{said:?}");
    assert!(!said.iter().any(|p| p.contains("test-token-123")), "{said:?}");
}

#[tokio::test]
async fn tls_and_refused_connections_name_the_host() {
    // A plain-HTTP server asked for TLS.
    let fake = Fake::start(vec![Reply::ok("[]")]).await;
    let https = format!("https://{}", fake.addr);
    let tls = request(Backend::Jaeger, &https, None, JAEGER_ID);
    let error = fetch(&tls, &Config { retries: 0, ..quick_config() }, &|_| {}).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Tls, "{error}");
    assert!(error.message.contains("127.0.0.1") && error.message.contains("TLS"), "{error}");

    // Nothing listening.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let request = request(Backend::Jaeger, &format!("http://{closed}"), None, JAEGER_ID);
    let error = fetch(&request, &Config { retries: 0, ..quick_config() }, &|_| {}).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Connect, "{error}");
    assert!(error.message.contains(&closed.to_string()), "{error}");

    // Words of the URL are not the failure's.
    let base = format!("http://{closed}/tls-ssl/handshake-certificate/");
    let worded = fetch_support::request(Backend::Jaeger, &base, None, JAEGER_ID);
    let error = fetch(&worded, &Config { retries: 0, ..quick_config() }, &|_| {}).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Connect, "{error}");
}

#[tokio::test]
async fn an_empty_answer_means_no_such_trace() {
    let empty: [(Backend, &str, &str); 6] = [
        (Backend::Jaeger, JAEGER_ID, r#"{"data":[],"total":0,"limit":0,"offset":0,"errors":null}"#),
        (Backend::Zipkin, ZIPKIN_ID, "[]"),
        (Backend::Tempo, TEMPO_ID, r#"{"batches":[]}"#),
        (Backend::Tempo, TEMPO_ID, r#"{"resourceSpans":[]}"#),
        (Backend::Tempo, TEMPO_ID, ""),
        (Backend::Sentry, SENTRY_ID, "[]"),
    ];
    for (backend, id, body) in empty {
        // An empty body stands for Tempo's 404.
        let reply = if body.is_empty() { Reply::status(404, "trace not found") } else { Reply::ok(body) };
        let fake = Fake::start(vec![reply]).await;
        let (result, _) = run(&fake, backend, id, &quick_config()).await;
        let error = result.unwrap_err();
        assert_eq!(error.kind, ErrorKind::NotFound, "{backend:?}: {error}");
        assert!(error.message.contains(id), "{error}");
    }
}

#[tokio::test]
async fn an_answer_of_another_shape_is_not_a_missing_trace() {
    let jaeger_shaped = String::from_utf8(file("sample-traces/incident-before.jaeger.json")).unwrap();
    let foreign: [(Backend, &str, &str, &str); 6] = [
        (Backend::Jaeger, JAEGER_ID, r#"{"hello": 1}"#, "expected an object with a `data` list of traces"),
        (Backend::Tempo, TEMPO_ID, r#"{"hello": 1}"#, "expected OTLP JSON"),
        (Backend::Tempo, TEMPO_ID, &jaeger_shaped, "an object with a `batches` or `resourceSpans` list"),
        (Backend::Zipkin, ZIPKIN_ID, r#"{"hello": 1}"#, "expected a JSON array of spans"),
        (Backend::Jaeger, JAEGER_ID, "{}", "`data` list"),
        (Backend::Zipkin, ZIPKIN_ID, "{}", "array of spans"),
    ];
    for (backend, id, body, expected) in foreign {
        let fake = Fake::start(vec![Reply::ok(body)]).await;
        let (result, _) = run(&fake, backend, id, &quick_config()).await;
        let error = result.unwrap_err();
        assert_eq!(error.kind, ErrorKind::NotATrace, "{backend:?}: {error}");
        let name = backend.name();
        let head = format!("{name} at {} answered something that is not a {name} trace: ", fake.base());
        assert!(error.message.starts_with(&head) && error.message.contains(expected), "{backend:?}: {error}");
    }
}
