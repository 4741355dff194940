//! The Sentry receiver against raw requests as Sentry SDKs send them: envelopes through a DSN's
//! endpoint (plain, gzip, deflate, Brotli) and Spotlight's `/stream` merge with each other and
//! with OTLP spans of the same trace; bad, oversized and bomb bodies are refused and counted
//! while the receiver keeps serving and keeps what it had.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tracedeck::model::{SpanId, TraceId};
use tracedeck::receiver::{Config, Protocol, Receiver};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sentry/envelopes");
const T1: &str = "771a43a4192642f0b136d5159a501700";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}/{name}")).unwrap()
}

fn loopback() -> Config {
    Config::at(SocketAddr::from(([127, 0, 0, 1], 0)), false)
}

async fn start() -> (Receiver, SocketAddr) {
    let mut receiver = Receiver::new();
    let addr = receiver.listen(Protocol::Sentry, &loopback()).await.unwrap();
    (receiver, addr)
}

fn encode(encoding: &str, bytes: &[u8]) -> Vec<u8> {
    match encoding {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(bytes).unwrap();
            e.finish().unwrap()
        }
        "deflate" => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(bytes).unwrap();
            e.finish().unwrap()
        }
        "br" => {
            let mut out = Vec::new();
            brotli::BrotliCompress(&mut &bytes[..], &mut out, &Default::default()).unwrap();
            out
        }
        _ => bytes.to_vec(),
    }
}

/// An HTTP client (reqwest is built without a default TLS provider; tracedeck uses ring).
fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Posts `body` to `path`, encoded; returns the status and the answer.
async fn post(addr: SocketAddr, path: &str, encoding: &str, body: &[u8]) -> (u16, serde_json::Value) {
    let mut request = client()
        .post(format!("http://{addr}{path}"))
        .header("content-type", "application/x-sentry-envelope")
        .header("x-sentry-auth", "Sentry sentry_key=anything, sentry_version=7")
        .body(encode(encoding, body));
    if !encoding.is_empty() {
        request = request.header("content-encoding", encoding);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

#[tokio::test]
async fn envelopes_by_dsn_and_spotlight_in_every_encoding_merge_into_one_trace() {
    let (receiver, addr) = start().await;
    let python = fixture("python-django-celery.envelope");
    let (status, answer) = post(addr, "/api/1/envelope/", "gzip", &python).await;
    assert_eq!((status, &answer), (200, &serde_json::json!({"id": "0c9a1f2e3d4b4a5c8e7f6a5b4c3d2e1f"})));
    let trace_id = TraceId::from_hex(T1).unwrap();
    assert_eq!(receiver.trace(trace_id).unwrap().unwrap().len(), 7);

    // The Java service's transaction, by Spotlight, hangs under Django's http.client span.
    let (status, _) = post(addr, "/stream", "", &fixture("java-spring.envelope")).await;
    assert_eq!(status, 200);
    let trace = receiver.trace(trace_id).unwrap().unwrap();
    assert_eq!((trace.len(), trace.roots().len()), (9, 1));
    let java = trace.find(SpanId::from_hex("0f1e2d3c4b5a6978").unwrap()).unwrap();
    assert_eq!(trace.span(java).parent, trace.find(SpanId::from_hex("b1b2c3d4e5f60704").unwrap()));

    // Any project id, with or without the last slash; deflate and Brotli bodies.
    let (status, _) = post(addr, "/api/4507/envelope", "deflate", &fixture("javascript-browser.envelope")).await;
    assert_eq!(status, 200);
    let (status, answer) = post(addr, "/api/2/envelope/", "br", &fixture("python-span-streaming.envelope")).await;
    assert_eq!((status, answer), (200, serde_json::json!({})), "no event id in a span envelope's header");

    let status = receiver.status();
    assert_eq!((status.spans, status.traces, status.refused), (9 + 4 + 3, 3, 0));
    assert_eq!(status.listeners, [(Protocol::Sentry, addr)]);
    assert!(status.to_string().contains(&format!("listening for Sentry on {addr}, 16 spans in 3 traces")), "{status}");
}

#[tokio::test]
async fn otlp_and_sentry_spans_of_one_trace_share_the_store() {
    let mut receiver = Receiver::new();
    let sentry = receiver.listen(Protocol::Sentry, &loopback()).await.unwrap();
    let otlp = receiver.listen(Protocol::Otlp, &loopback()).await.unwrap();
    assert_eq!((receiver.addr_of(Protocol::Sentry), receiver.addr_of(Protocol::Otlp)), (Some(sentry), Some(otlp)));
    post(sentry, "/api/1/envelope/", "", &fixture("python-django-celery.envelope")).await;
    // An OTel-instrumented service called by the Celery task's views.open span.
    let span = format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"slack-proxy"}}}}]}},
        "scopeSpans":[{{"spans":[{{"traceId":"{T1}","spanId":"5555555555555555","parentSpanId":"c1d2e3f4a5b60719",
        "name":"proxy","kind":2,"startTimeUnixNano":"1795000003810000000","endTimeUnixNano":"1795000003940000000"}}]}}]}}]}}"#
    );
    let response = client()
        .post(format!("http://{otlp}/v1/traces"))
        .header("content-type", "application/json")
        .body(span)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let trace = receiver.trace(TraceId::from_hex(T1).unwrap()).unwrap().unwrap();
    assert_eq!(trace.len(), 8);
    let proxy = trace.find(SpanId::from_hex("5555555555555555").unwrap()).unwrap();
    assert_eq!(trace.span(proxy).parent, trace.find(SpanId::from_hex("c1d2e3f4a5b60719").unwrap()));

    receiver.stop_listening(Protocol::Otlp);
    assert_eq!(receiver.status().listeners, [(Protocol::Sentry, sentry)]);
    assert_eq!(receiver.status().spans, 8, "stopping a listener keeps the spans");
}

#[tokio::test]
async fn bad_bodies_bombs_and_slow_clients_are_refused_and_counted_and_nothing_is_lost() {
    let (receiver, addr) = start().await;
    post(addr, "/api/1/envelope/", "", &fixture("java-spring.envelope")).await;

    let truncated =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sentry/envelope-truncated.envelope"));
    let (status, answer) = post(addr, "/api/1/envelope/", "gzip", &truncated.unwrap()).await;
    let detail = answer["detail"].as_str().unwrap_or_default().to_owned();
    assert_eq!(status, 400, "{answer}");
    assert!(detail.starts_with("not a Sentry envelope: at line 2"), "{detail}");
    assert!(detail.contains("truncated"), "{detail}");

    let (status, answer) = post(addr, "/stream", "", b"GET / HTTP/1.1").await;
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = post(addr, "/stream", "", b"").await;
    assert_eq!(
        (status, answer["detail"].as_str().unwrap()),
        (400, "not a Sentry envelope: at the whole file: the body is empty; an envelope has at least its header line")
    );
    let (status, answer) = post(addr, "/stream", "gzip", b"").await;
    assert_eq!(status, 400, "an empty gzip body is no gzip: {answer}");
    let (status, answer) = post(addr, "/stream", "zstd", b"{}\n").await;
    assert_eq!(status, 415, "{answer}");
    assert!(answer["detail"].as_str().unwrap().contains("send gzip, deflate, br or no encoding"), "{answer}");

    // A gzip bomb: 80 KiB that would inflate to 100 MiB, past the 64 MiB limit.
    let bomb = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1024 * 1024];
        for _ in 0..100 {
            e.write_all(&zeros).unwrap();
        }
        e.finish().unwrap()
    };
    assert!(bomb.len() < 200 * 1024, "{}", bomb.len());
    let (status, answer) = post_raw_encoded(addr, "gzip", bomb).await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(answer["detail"], "the decompressed body is larger than 64 MiB");

    // Too large before decompressing.
    let (status, answer) = post(addr, "/stream", "", &vec![b'{'; 64 * 1024 * 1024 + 1]).await;
    assert_eq!(status, 413, "{answer}");

    // A client that sends half a body and stalls does not hold up the others.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST /stream HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n{\"event_id\":").await.unwrap();
    let (status, _) = tokio::time::timeout(
        Duration::from_secs(10),
        post(addr, "/api/1/envelope/", "", &fixture("python-span-streaming.envelope")),
    )
    .await
    .expect("served while another client stalls");
    assert_eq!(status, 200);
    drop(slow);

    // The body too large by its Content-Length is refused by the server's limits (crate::serve)
    // before the receiver reads it, so the receiver counts the other six.
    let status = receiver.status();
    assert_eq!(status.refused, 6, "{status}");
    assert_eq!((status.spans, status.traces), (2 + 3, 2), "what was received before is kept");
    assert!(status.to_string().ends_with(", 6 bodies refused"), "{status}");
}

/// Posts an already-encoded body with its `Content-Encoding`.
async fn post_raw_encoded(addr: SocketAddr, encoding: &str, body: Vec<u8>) -> (u16, serde_json::Value) {
    let response = client()
        .post(format!("http://{addr}/api/1/envelope/"))
        .header("content-encoding", encoding)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, serde_json::from_slice(&response.bytes().await.unwrap()).unwrap())
}

#[tokio::test]
async fn browser_sdks_pass_the_cors_preflight() {
    let (receiver, addr) = start().await;
    let client = client();
    let preflight = client
        .request(reqwest::Method::OPTIONS, format!("http://{addr}/stream"))
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    let header = |name: &str| preflight.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(header("access-control-allow-origin").as_deref(), Some("*"));
    assert_eq!(header("access-control-allow-headers").as_deref(), Some("content-type"));
    assert!(header("access-control-allow-methods").unwrap().contains("POST"));
    let posted = client
        .post(format!("http://{addr}/api/1/envelope/"))
        .header("origin", "http://localhost:5173")
        .header("content-type", "text/plain;charset=UTF-8")
        .body(fixture("javascript-browser.envelope"))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    assert_eq!(posted.headers().get("access-control-allow-origin").unwrap(), "*");
    assert_eq!(receiver.status().spans, 4);
}

#[tokio::test]
async fn listens_on_loopback_unless_told_otherwise() {
    let mut receiver = Receiver::new();
    let remote = Config::at(SocketAddr::from(([0, 0, 0, 0], 0)), false);
    let error = receiver.listen(Protocol::Sentry, &remote).await.unwrap_err();
    assert!(error.contains("not a loopback address"), "{error}");
    assert_eq!(Protocol::Sentry.default_addr(), SocketAddr::from(([127, 0, 0, 1], 8969)));
}
