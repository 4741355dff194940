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
use tracedeck::receiver::{Config, Receiver};

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
    let config = Config { addr: SocketAddr::from(([127, 0, 0, 1], 0)), allow_remote: false };
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
    let config = Config { addr: SocketAddr::from(([0, 0, 0, 0], 0)), allow_remote: false };
    let error = Receiver::start(&config).await.err().unwrap();
    assert!(error.contains("not a loopback address"), "{error}");
}
