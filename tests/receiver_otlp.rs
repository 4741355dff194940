//! The live receiver against raw OTLP/HTTP requests: JSON, protobuf and gzip bodies with spans
//! of one trace arriving in separate requests merge into one tree; bad requests get the answers
//! the OTLP spec asks for.

use std::io::Write;
use std::net::SocketAddr;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status as SpanStatus, span::SpanKind};
use prost::Message;
use tracedeck::model::{SpanId, Status, TraceId};
use tracedeck::receiver::{Config, Protocol, Receiver};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const ROOT: &str = "00f067aa0ba902b7";
const CHILD: &str = "b7ad6b7169203331";
const GRANDCHILD: &str = "c1c2c3c4c5c6c7c8";

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

/// The app's root span, as OTLP JSON.
fn root_json() -> String {
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"front"}}}}]}},
        "scopeSpans":[{{"spans":[{{"traceId":"{TRACE}","spanId":"{ROOT}","name":"POST /slack/actions","kind":2,
        "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000400000000",
        "attributes":[{{"key":"http.request.method","value":{{"stringValue":"POST"}}}}]}}]}}]}}]}}"#
    )
}

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(value.into())) }),
        ..Default::default()
    }
}

/// The worker's spans (child of the root, and its own child), as protobuf.
fn worker_proto() -> Vec<u8> {
    let span = |id: &str, parent: &str, name: &str, start: u64, end: u64, kind: SpanKind| Span {
        trace_id: hex(TRACE),
        span_id: hex(id),
        parent_span_id: hex(parent),
        name: name.into(),
        kind: kind as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        ..Default::default()
    };
    let mut call =
        span(GRANDCHILD, CHILD, "views.open", 1_700_000_000_300_000_000, 1_700_000_000_350_000_000, SpanKind::Client);
    call.attributes = vec![kv("http.request.method", "POST"), kv("url.full", "https://slack.com/api/views.open")];
    call.status = Some(SpanStatus { message: "expired_trigger_id".into(), code: 2 });
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource { attributes: vec![kv("service.name", "worker")], ..Default::default() }),
            scope_spans: vec![ScopeSpans {
                spans: vec![
                    span(
                        CHILD,
                        ROOT,
                        "handle_action",
                        1_700_000_000_100_000_000,
                        1_700_000_000_380_000_000,
                        SpanKind::Internal,
                    ),
                    call,
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    request.encode_to_vec()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

async fn post(addr: SocketAddr, content_type: &str, gzipped: bool, body: Vec<u8>) -> (u16, String, Vec<u8>) {
    // reqwest is built without a default TLS provider; tracedeck uses ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut request =
        reqwest::Client::new().post(format!("http://{addr}/v1/traces")).header("content-type", content_type).body(body);
    if gzipped {
        request = request.header("content-encoding", "gzip");
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, content_type, response.bytes().await.unwrap().to_vec())
}

async fn start() -> Receiver {
    let config = Config { addr: SocketAddr::from(([127, 0, 0, 1], 0)), ..Config::default() };
    Receiver::start(&config).await.unwrap()
}

#[tokio::test]
async fn spans_of_one_trace_from_json_and_gzipped_protobuf_merge_into_one_tree() {
    let receiver = start().await;
    let addr = receiver.addr();
    let mut changes = receiver.subscribe();
    let trace_id = TraceId::from_hex(TRACE).unwrap();

    let (status, content_type, body) = post(addr, "application/json", false, root_json().into_bytes()).await;
    assert_eq!((status, content_type.as_str(), body.as_slice()), (200, "application/json", &b"{}"[..]));
    assert!(changes.has_changed().unwrap());
    changes.mark_unchanged();
    let first = receiver.trace(trace_id).unwrap().unwrap();
    assert_eq!(first.len(), 1);

    let (status, content_type, body) = post(addr, "application/x-protobuf", true, gzip(&worker_proto())).await;
    assert_eq!((status, content_type.as_str()), (200, "application/x-protobuf"), "{}", String::from_utf8_lossy(&body));
    assert!(body.is_empty(), "an empty ExportTraceServiceResponse is zero protobuf bytes");
    assert!(changes.has_changed().unwrap(), "subscribers hear of new spans");

    let status = receiver.status();
    assert_eq!((status.addr, status.spans, status.traces), (addr, 3, 1));
    assert!(status.to_string().contains("3 spans in 1 traces"));
    assert_eq!(receiver.trace_ids(), [trace_id]);

    let trace = receiver.trace(trace_id).unwrap().unwrap();
    assert_eq!(trace.len(), 3);
    assert_eq!(trace.roots().len(), 1, "one tree: {:?}", trace.warnings());
    assert!(trace.warnings().is_empty(), "{:?}", trace.warnings());
    let by_id = |id: &str| trace.find(SpanId::from_hex(id).unwrap()).unwrap();
    let (root, child, call) = (by_id(ROOT), by_id(CHILD), by_id(GRANDCHILD));
    assert_eq!(trace.span(child).parent, Some(root));
    assert_eq!(trace.span(call).parent, Some(child));
    assert_eq!(trace.str(trace.span(root).service), "front");
    assert_eq!(trace.str(trace.span(call).service), "worker");
    assert_eq!(trace.str(trace.span(call).name), "views.open");
    assert_eq!(trace.str(trace.span(call).op), "http.client", "ops derived as for OTLP files");
    assert_eq!(trace.span(call).status, Status::Error);
    assert_eq!(trace.str(trace.span(call).status_message), "expired_trigger_id");
    assert_eq!(trace.span(call).start, 1_700_000_000_300_000_000);
    assert!(matches!(receiver.trace(TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap()), Ok(None)));
}

#[tokio::test]
async fn bad_requests_get_400_and_unknown_types_415() {
    let receiver = start().await;
    let addr = receiver.addr();

    let (status, content_type, body) = post(addr, "application/json", false, b"{\"resourceSpans\":[{".to_vec()).await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!((status, content_type.as_str()), (400, "application/json"));
    assert!(text.contains("\"message\"") && text.contains("line 1"), "{text}");

    let (status, content_type, body) = post(addr, "application/x-protobuf", false, vec![0xff, 0xff, 0xff]).await;
    assert_eq!((status, content_type.as_str()), (400, "application/x-protobuf"));
    assert!(String::from_utf8_lossy(&body).contains("not an OTLP ExportTraceServiceRequest"));

    let (status, _, body) = post(addr, "application/json", true, b"not gzip".to_vec()).await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("gzip"));

    let (status, _, body) = post(addr, "text/plain", false, root_json().into_bytes()).await;
    assert_eq!(status, 415);
    assert!(String::from_utf8_lossy(&body).contains("application/x-protobuf"));

    assert_eq!(receiver.status().spans, 0, "nothing was stored");
}

#[tokio::test]
async fn listens_on_loopback_unless_told_otherwise() {
    let config = Config { addr: SocketAddr::from(([0, 0, 0, 0], 0)), ..Config::default() };
    let error = Receiver::start(&config).await.err().unwrap();
    assert!(error.contains("not a loopback address"), "{error}");
}

/// `traces` protobuf requests' worth of spans: trace `first + t` holds `per_trace` spans, a
/// root and its children.
fn flood_proto(first: u128, traces: u128, per_trace: u64) -> Vec<u8> {
    let spans = (first..first + traces)
        .flat_map(|t| {
            (1..=per_trace).map(move |i| Span {
                trace_id: t.to_be_bytes().to_vec(),
                span_id: i.to_be_bytes().to_vec(),
                parent_span_id: if i == 1 { Vec::new() } else { 1u64.to_be_bytes().to_vec() },
                name: format!("span {i}"),
                start_time_unix_nano: 1_700_000_000_000_000_000 + i,
                end_time_unix_nano: 1_700_000_001_000_000_000,
                ..Default::default()
            })
        })
        .collect();
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    };
    request.encode_to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_past_max_spans_keeps_the_newest_traces_and_says_what_was_dropped() {
    let mut receiver = Receiver::with_max_spans(2_000);
    receiver.listen(Protocol::Otlp, &Config::at(SocketAddr::from(([127, 0, 0, 1], 0)), false)).await.unwrap();
    let oldest = std::sync::Arc::downgrade(&{
        let (status, _, _) = post(receiver.addr(), "application/x-protobuf", false, flood_proto(1, 1, 200)).await;
        assert_eq!(status, 200);
        receiver.trace(TraceId(1)).unwrap().unwrap()
    });
    // 20 requests of 5 traces of 200 spans: ten times what the receiver holds.
    for request in 0..20 {
        let body = flood_proto(2 + request * 5, 5, 200);
        let (status, _, _) = post(receiver.addr(), "application/x-protobuf", false, body).await;
        assert_eq!(status, 200);
        let held = receiver.status().spans;
        assert!(held <= 2_000, "{held} spans held after request {request}");
    }
    let status = receiver.status();
    assert_eq!((status.spans, status.traces), (2_000, 10));
    let newest: Vec<TraceId> = (92..=101).map(TraceId).collect();
    assert_eq!(receiver.trace_ids(), newest, "the newest ten traces are kept, whole");
    assert_eq!(receiver.trace(TraceId(101)).unwrap().unwrap().len(), 200);
    assert!(receiver.trace(TraceId(1)).unwrap().is_none());
    assert!(oldest.upgrade().is_none(), "the dropped traces' spans are freed");
    assert_eq!((status.dropped.traces, status.dropped.spans), (91, 18_200));
    let line = status.to_string();
    assert!(line.ends_with("dropped 91 oldest trace(s), 18,200 spans, to stay under 2,000 spans"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_sender_is_cut_off_within_the_body_timeout_while_others_are_served() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut config = Config { addr: SocketAddr::from(([127, 0, 0, 1], 0)), ..Config::default() };
    config.limits.body_timeout = Duration::from_millis(500);
    let receiver = Receiver::start(&config).await.unwrap();
    let addr = receiver.addr();
    let stalled = tokio::spawn(async move {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head =
            "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{";
        stream.write_all(head.as_bytes()).await.unwrap();
        let sent = Instant::now();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await.expect("closed").unwrap();
        (String::from_utf8_lossy(&answer).into_owned(), sent.elapsed())
    });
    let (status, _, _) = post(addr, "application/json", false, root_json().into_bytes()).await;
    assert_eq!(status, 200, "another sender is served meanwhile");
    let (answer, took) = stalled.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(took < Duration::from_secs(5), "{took:?}");

    // A claimed 10 GB body is refused at once.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head =
        "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await.expect("closed").unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 413"));
}
