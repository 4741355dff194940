//! The OTLP importer and writer on realistic files of every shape, on bad input, and
//! round-tripping.

use super::*;
use crate::formats::testkit::{big_trace, loaded_on};
use crate::formats::{Format, FormatError, Place, import};
use crate::model::{AttrValue, SpanFlags, SpanId, SpanKind, Status, Trace, TraceId, Warning};

const PLAIN: &[u8] = include_bytes!("../../../tests/fixtures/otlp/plain.json");
const LEGACY: &[u8] = include_bytes!("../../../tests/fixtures/otlp/legacy.json");
const TEMPO: &[u8] = include_bytes!("../../../tests/fixtures/otlp/tempo.json");
const COLLECTOR: &[u8] = include_bytes!("../../../tests/fixtures/otlp/collector.jsonl");
const INCIDENT: &[u8] = include_bytes!("../../../sample-traces/incident-before.otlp.jsonl");

fn read(name: &str, bytes: &[u8]) -> Vec<Trace> {
    let imported = import(name, bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(imported.format, Format::Otlp);
    imported.traces
}

fn sid(hex: &str) -> SpanId {
    SpanId::from_hex(hex).unwrap()
}

/// The span with this id, by index.
fn by_id(trace: &Trace, hex: &str) -> u32 {
    trace.find(sid(hex)).unwrap_or_else(|| panic!("no span {hex}"))
}

/// A span's attributes as `key=value` text, in order.
fn attrs(trace: &Trace, idx: u32) -> Vec<String> {
    trace.attrs(idx).iter().map(|a| format!("{}={}", trace.str(a.key), value_text(trace, a.value))).collect()
}

fn value_text(trace: &Trace, value: AttrValue) -> String {
    match value {
        AttrValue::Str(v) => format!("{:?}", trace.str(v)),
        AttrValue::Int(v) => format!("{v}i"),
        AttrValue::Float(v) => format!("{v}f"),
        AttrValue::Bool(v) => format!("{v}"),
    }
}

const T_PLAIN: i64 = 1_718_000_000_000_000_000;

#[test]
fn a_plain_document_maps_services_ops_status_attributes_events_and_links() {
    let traces = read("plain.json", PLAIN);
    assert_eq!(traces.len(), 1);
    let t = &traces[0];
    assert_eq!(t.trace_id(), TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap());
    assert_eq!(t.len(), 4);
    assert!(t.warnings().is_empty(), "{:?}", t.warnings());

    let root = t.span(0);
    assert_eq!(
        (t.str(root.name), t.str(root.service), t.str(root.op)),
        ("POST /api/checkout", "checkout", "http.server")
    );
    assert_eq!(
        (root.kind, root.status, t.str(root.status_message)),
        (SpanKind::Server, Status::Error, "upstream payment failed")
    );
    assert_eq!((root.start, root.end), (T_PLAIN, T_PLAIN + 412_500_000));
    assert_eq!(
        attrs(t, 0),
        [
            "http.request.method=\"POST\"",
            "url.path=\"/api/checkout\"",
            "http.route=\"/api/checkout\"",
            "http.response.status_code=502i",
            "client.address=\"10.0.3.17\"",
            "http.request.header.accept=\"[\\\"application/json\\\",\\\"text/html\\\"]\"",
            "otel.scope.name=\"opentelemetry.instrumentation.flask\"",
            "otel.scope.version=\"0.45b0\"",
        ]
    );

    let db = by_id(t, "a3ce929d0e0e4736");
    assert_eq!((t.str(t.span(db).op), t.span(db).status, t.span(db).parent), ("db", Status::Unset, Some(0)));
    let client = by_id(t, "b7ad6b7169203331");
    assert_eq!((t.str(t.span(client).op), t.span(client).kind), ("http.client", SpanKind::Client));

    let charge = by_id(t, "e457b5a2e4d86bd1");
    let span = t.span(charge);
    assert_eq!((t.str(span.service), t.str(span.op), span.parent), ("payments", "http.server.charge", Some(client)));
    assert_eq!((span.start, span.end), (T_PLAIN + 31_125_000, T_PLAIN + 398_000_001));
    assert_eq!((span.status, t.str(span.status_message)), (Status::Error, "Read timed out"));
    assert_eq!(
        attrs(t, charge)[3..],
        [
            "thread.id=87i",
            "retry.ratio=0.25f",
            "feature.enabled=true",
            "sentry.op=\"http.server.charge\"",
            "request.digest=\"3q2+7w==\"",
            "limits=\"{\\\"burst\\\":\\\"Infinity\\\",\\\"per_minute\\\":60}\"",
            "unset=\"\"",
            "links=\"[{\\\"attributes\\\":{\\\"link.reason\\\":\\\"retry of\\\"},\\\"spanId\\\":\\\"b9c7c989f97918e1\\\",\\\"traceId\\\":\\\"0af7651916cd43dd8448eb211c80319c\\\"}]\"",
            "otel.scope.name=\"io.opentelemetry.spring-webmvc-6.0\"",
            "otel.scope.version=\"2.3.0-alpha\"",
        ]
    );
    let events = t.events(charge);
    assert_eq!(events.len(), 1);
    assert_eq!((t.str(events[0].name), events[0].time), ("exception", T_PLAIN + 396_500_000));
    let event_attrs: Vec<&str> = t.attrs_in(events[0].attrs).iter().map(|a| t.str(a.key)).collect();
    assert_eq!(event_attrs, ["exception.type", "exception.message", "exception.stacktrace", "exception.escaped"]);
    assert_eq!(t.errors().len(), 1);
    let error = &t.errors()[0];
    assert_eq!((error.span, error.time), (Some(charge), Some(T_PLAIN + 396_500_000)));
    assert_eq!(t.str(error.title), "java.net.SocketTimeoutException: Read timed out");
}

#[test]
fn legacy_names_snake_case_uppercase_ids_numeric_times_and_open_spans() {
    let traces = read("legacy.json", LEGACY);
    let t = &traces[0];
    assert_eq!(t.trace_id(), TraceId::from_hex("6e0c63257de34c926f9efcd03927272e").unwrap());
    let names: Vec<(&str, &str, &str)> =
        t.spans().iter().map(|s| (t.str(s.name), t.str(s.service), t.str(s.op))).collect();
    assert_eq!(
        names,
        [
            ("GET /stock", "inventory", "http.server"),
            ("SELECT stock", "inventory", "db"),
            ("refresh_cache", "inventory-worker", "queue.process")
        ]
    );
    assert_eq!((t.span(0).kind, t.span(0).status), (SpanKind::Server, Status::Ok));
    assert_eq!(t.span(0).end - t.span(0).start, 87_000_000);
    assert_eq!(
        attrs(t, 0),
        [
            "http.method=\"GET\"",
            "http.status_code=200i",
            "otel.scope.name=\"io.opentelemetry.jdbc\"",
            "otel.scope.version=\"1.5.3\""
        ]
    );
    assert_eq!(attrs(t, 2), ["messaging.system=\"rabbitmq\"", "otel.scope.name=\"celery\""]);
    let worker = t.span(2);
    assert!(worker.flags.contains(SpanFlags::OPEN));
    assert!(t.warnings().contains(&Warning::OpenSpans { count: 1 }), "{:?}", t.warnings());
}

#[test]
fn tempo_batches_with_base64_ids_and_enum_names() {
    let traces = read("tempo.json", TEMPO);
    let t = &traces[0];
    assert_eq!(t.trace_id(), TraceId::from_hex("5b8efff798038103d269b633813fc60c").unwrap());
    let ids: Vec<String> = t.spans().iter().map(|s| s.id.to_string()).collect();
    assert_eq!(ids, ["eee19b7ec3c1b173", "eee19b7ec3c1b174", "0123456789abcdef"]);
    assert_eq!(t.spans().iter().map(|s| s.depth).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(t.span(1).status, Status::Ok);
    assert_eq!((t.str(t.span(2).service), t.str(t.span(2).op)), ("backend", ""), "no HTTP attributes, no op");
    assert!(attrs(t, 2).is_empty(), "an empty scope adds no attributes");
    assert_eq!(t.str(t.events(2)[0].name), "cache miss");
    assert!(t.warnings().is_empty(), "{:?}", t.warnings());
}

#[test]
fn a_collector_file_joins_a_trace_spread_over_lines_and_warns_of_repeats() {
    let traces = read("collector.jsonl", COLLECTOR);
    assert_eq!(traces.len(), 1);
    let t = &traces[0];
    let names: Vec<(&str, &str, u32)> = t.spans().iter().map(|s| (t.str(s.name), t.str(s.service), s.depth)).collect();
    assert_eq!(
        names,
        [("GET /orders", "api", 0), ("SELECT", "api", 1), ("SELECT", "api", 1), ("send receipt", "mailer", 1)]
    );
    assert!(t.warnings().contains(&Warning::DuplicateIds { count: 1, example: sid("1111111111111111") }));
}

#[test]
fn the_incident_sample_shows_the_late_views_open() {
    let traces = read("incident-before.otlp.jsonl", INCIDENT);
    assert_eq!(traces.len(), 1);
    let t = &traces[0];
    assert!(t.warnings().is_empty(), "{:?}", t.warnings());
    assert_eq!(t.roots(), &[0]);
    let root = t.span(0);
    assert_eq!((t.str(root.name), t.str(root.service)), ("POST /extensions/slack/action/", "control"));
    assert!(root.duration() < 500_000_000, "the interaction was answered in time");
    let task = t.spans().iter().position(|s| t.str(s.op) == "queue.process").unwrap() as u32;
    assert_eq!(t.str(t.span(task).service), "region");
    assert!(t.span(task).start - root.end > 2_400_000_000, "the task ran about 2.5 s after the answer");
    let views = t.spans().iter().position(|s| t.str(s.status_message) == "expired_trigger_id");
    let views = views.expect("the failing views.open span") as u32;
    let span = t.span(views);
    assert_eq!((t.str(span.op), span.status, span.parent), ("http.client", Status::Error, Some(task)));
    assert_eq!(t.attr_str(views, "url.full"), Some("https://slack.com/api/views.open"));
    assert!(t.offset(span.start) > 3_000_000_000, "views.open started after the trigger id expired");
    assert_eq!(t.errors().len(), 1);
    assert!(t.str(t.errors()[0].title).starts_with("slack_sdk.errors.SlackApiError: "));
}

#[test]
fn a_scope_written_after_its_spans_still_tags_them() {
    let doc = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
        {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"a","startTimeUnixNano":"5",
         "attributes":[{"key":"k","value":{"intValue":-3}}]}],
        "scope":{"name":"late","version":"1"}}],
        "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]}}]}"#;
    let t = &read("late.json", doc.as_bytes())[0];
    assert_eq!(attrs(t, 0), ["k=-3i", "otel.scope.name=\"late\"", "otel.scope.version=\"1\""]);
    assert_eq!(t.str(t.span(0).service), "svc");
}

/// Every fact about every span, as text, for comparing imports.
fn describe(traces: &[Trace]) -> Vec<String> {
    let mut out = Vec::new();
    for t in traces {
        for (i, s) in t.spans().iter().enumerate() {
            let i = i as u32;
            let events: Vec<String> = t
                .events(i)
                .iter()
                .map(|e| {
                    format!(
                        "{}@{} {:?}",
                        t.str(e.name),
                        e.time,
                        t.attrs_in(e.attrs).iter().map(|a| value_text(t, a.value)).collect::<Vec<_>>()
                    )
                })
                .collect();
            out.push(format!(
                "{:?} {} {:?} {:?} {}..{} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                s.trace_id,
                s.id,
                s.parent_id,
                s.parent,
                s.start,
                s.end,
                t.str(s.name),
                t.str(s.op),
                t.str(s.service),
                s.kind,
                s.status,
                t.str(s.status_message),
                s.flags,
                attrs(t, i),
                events
            ));
        }
        for e in t.errors() {
            out.push(format!("error {:?} {:?} {:?}", e.span, e.time, t.str(e.title)));
        }
    }
    out
}

#[test]
fn writing_and_reading_back_keeps_every_span_exactly() {
    for (name, bytes) in
        [("plain", PLAIN), ("legacy", LEGACY), ("tempo", TEMPO), ("collector", COLLECTOR), ("incident", INCIDENT)]
    {
        let traces = read(name, bytes);
        let mut written = Vec::new();
        Format::Otlp.write(&traces, &mut written).unwrap();
        let again = read(name, &written);
        assert_eq!(describe(&again), describe(&traces), "{name}");
    }
}

#[test]
fn the_writer_keeps_an_op_the_attributes_do_not_imply() {
    let doc = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c",
        "spanId":"b7ad6b7169203331","name":"render","kind":1,"startTimeUnixNano":"5","endTimeUnixNano":"9"}]}]}]}"#;
    let mut builder = parse(doc.as_bytes()).unwrap();
    let op = builder.intern("template.render");
    builder.spans_mut()[0].op = op;
    let traces = builder.build().unwrap();
    let mut written = Vec::new();
    Format::Otlp.write(&traces, &mut written).unwrap();
    let t = &read("written", &written)[0];
    assert_eq!(t.str(t.span(0).op), "template.render");
    assert_eq!(attrs(t, 0), ["sentry.op=\"template.render\""]);
    assert_eq!(t.span(0).end, 9);
}

// ---- bad input: each error says what was expected and where ----

/// A one-line document holding one span with the given fields.
fn one_span(fields: &str) -> String {
    format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{{fields}}}]}}]}}]}}"#)
}

const IDS: &str = r#""traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331""#;
const SPAN0: &str = "$.resourceSpans[0].scopeSpans[0].spans[0]";

fn error_of(text: &str) -> FormatError {
    match parse(text.as_bytes()) {
        Ok(_) => panic!("{text} was accepted"),
        Err(e) => e,
    }
}

fn assert_error(err: &FormatError, line: usize, path: &str, message: &str) {
    let Place::At { line: l, path: p, .. } = &err.place else { panic!("no line in {err:?}") };
    assert_eq!((*l, p.as_str()), (line, path), "{err:?}");
    assert!(err.message.contains(message), "{:?} does not say {message:?}", err.message);
}

#[test]
fn a_truncated_file_is_called_truncated() {
    let text = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[\n{\"traceId\":\"0af7651916cd43dd8448eb211c80319c\"";
    let err = error_of(text);
    assert_error(&err, 2, &format!("{SPAN0}.?"), "truncated");
}

#[test]
fn a_list_of_the_wrong_type_names_its_path() {
    let err = error_of(r#"{"resourceSpans":[{"scopeSpans":[{"spans":{}}]}]}"#);
    assert_error(
        &err,
        1,
        "$.resourceSpans[0].scopeSpans[0].spans",
        "invalid type: map, expected a list of span objects",
    );
}

#[test]
fn ids_written_as_names_are_kept_as_their_text() {
    let doc = one_span(
        r#""traceId":"trace12345678901234567890123456","spanId":"span1234567890ab","parentSpanId":"span-parent",
        "startTimeUnixNano":"1","endTimeUnixNano":"2""#,
    );
    let t = &import("named.json", doc.as_bytes()).unwrap().traces[0];
    assert_eq!(t.written_id(0), "span1234567890ab");
    assert!(t.span(0).flags.contains(crate::model::SpanFlags::ORPHAN), "its parent is not in the file");
    let notes: Vec<String> = t.warnings().iter().map(|w| w.to_string()).collect();
    assert!(notes.iter().any(|n| n.starts_with("1 span(s) have ids that are not hex (e.g. \"span1234567890ab\")")));
}

#[test]
fn zero_and_missing_ids_are_errors_at_the_id() {
    let err = error_of(&one_span(r#""traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"000""#));
    assert_error(
        &err,
        1,
        &format!("{SPAN0}.spanId"),
        "expected a span id of 16 hex digits (or 12 base64 characters), found \"000\"",
    );
    let err = error_of(&one_span(r#""traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"0000000000000000""#));
    assert_error(&err, 1, &format!("{SPAN0}.spanId"), "the span id is empty or all zeros");
    let err = error_of(&one_span(r#""traceId":"","spanId":"b7ad6b7169203331""#));
    assert_error(&err, 1, &format!("{SPAN0}.traceId"), "the trace id is empty or all zeros");
    let err = error_of(&one_span(r#""spanId":"b7ad6b7169203331","startTimeUnixNano":"1""#));
    assert_error(&err, 1, SPAN0, "missing field `traceId`");
}

#[test]
fn bad_timestamps_are_errors_at_the_time() {
    let err = error_of(&one_span(&format!(r#"{IDS},"startTimeUnixNano":"12abc""#)));
    assert_error(&err, 1, &format!("{SPAN0}.startTimeUnixNano"), "found \"12abc\"");
    let err = error_of(&one_span(&format!(r#"{IDS},"startTimeUnixNano":"5","endTimeUnixNano":-5"#)));
    assert_error(&err, 1, &format!("{SPAN0}.endTimeUnixNano"), "found the negative number -5");
    for huge in [r#""99999999999999999999999""#, "18446744073709551615"] {
        let err = error_of(&one_span(&format!(r#"{IDS},"startTimeUnixNano":{huge}"#)));
        assert_error(&err, 1, &format!("{SPAN0}.startTimeUnixNano"), "nanoseconds is past the year 2262");
    }
}

#[test]
fn out_of_range_kinds_and_status_codes_are_errors() {
    let err = error_of(&one_span(&format!(r#"{IDS},"startTimeUnixNano":"5","kind":9"#)));
    assert_error(&err, 1, &format!("{SPAN0}.kind"), "invalid value: integer `9`, expected a span kind (0 to 5");
    let err = error_of(&one_span(&format!(r#"{IDS},"startTimeUnixNano":"5","status":{{"code":"STATUS_CODE_BAD"}}"#)));
    assert_error(&err, 1, &format!("{SPAN0}.status.code"), "expected a status code");
}

#[test]
fn a_bad_line_in_a_collector_file_is_named_by_its_line() {
    let good = one_span(&format!(r#"{IDS},"startTimeUnixNano":"5""#));
    let bad =
        one_span(&format!(r#"{IDS},"startTimeUnixNano":"5","attributes":[{{"key":"a","value":{{"intValue":"x"}}}}]"#));
    let text = format!("{good}\n\n{good}\n{bad}\n{good}\n");
    let err = error_of(&text);
    assert_error(
        &err,
        4,
        &format!("{SPAN0}.attributes[0].value.intValue"),
        "invalid value: string \"x\", expected a 64-bit integer",
    );
    let text = format!("{good}\n{{\"resourceSpans\":[\n");
    assert_error(&error_of(&text), 2, "$.resourceSpans", "truncated");
}

// ---- proto3 JSON's null: a field written as `null` is a field left out ----

/// Spans with `null` for every kind of field: ids, times, kind, name, lists, objects, scalar
/// and nested attribute values, status code, dropped counts, links' fields.
const NULLS: &str = r#"{"resourceSpans":[
{"resource":null,"scopeSpans":[{"scope":null,"spans":[
 {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","parentSpanId":null,"name":"root",
  "kind":null,"startTimeUnixNano":"1000","endTimeUnixNano":"2000","attributes":null,"droppedAttributesCount":null,
  "events":null,"droppedEventsCount":null,"links":null,"status":null,"traceState":null,"flags":null}]}],
 "schemaUrl":null},
{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc","intValue":null}}],
  "droppedAttributesCount":null},
 "scopeSpans":[{"scope":{"name":"lib","version":null,"attributes":null},"schemaUrl":null,"spans":[
 {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","parentSpanId":"eee19b7ec3c1b174",
  "name":null,"kind":"SPAN_KIND_CLIENT","startTimeUnixNano":"1100","endTimeUnixNano":null,
  "attributes":[{"key":"a","value":{"boolValue":null,"intValue":"3","doubleValue":null}},{"key":"b","value":null},
   {"key":"c","value":{"arrayValue":{"values":[{"stringValue":"x"},{"boolValue":null,"doubleValue":1.5},
    {"kvlistValue":{"values":[{"key":"k","value":{"intValue":null,"stringValue":null}}]}}]}}},
   {"key":"d","value":{"kvlistValue":null,"arrayValue":null,"bytesValue":null}},{"key":"e","value":{"stringValue":null}}],
  "events":[{"timeUnixNano":"1200","name":"e","attributes":null,"droppedAttributesCount":null}],
  "links":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","attributes":null,
   "traceState":null,"flags":null}],
  "status":{"code":null,"message":"fine"}}]}]}]}"#;

/// `value` with every object member that is `null` left out.
fn without_nulls(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect()
        }
        serde_json::Value::Array(items) => items.into_iter().map(without_nulls).collect(),
        other => other,
    }
}

#[test]
fn null_fields_read_as_if_they_were_left_out() {
    let with_nulls = read("nulls.json", NULLS.as_bytes());
    let left_out = without_nulls(serde_json::from_str(NULLS).unwrap()).to_string();
    assert!(!left_out.contains("null"), "{left_out}");
    assert_eq!(describe(&with_nulls), describe(&read("left-out.json", left_out.as_bytes())));
    let t = &with_nulls[0];
    assert_eq!((t.span(0).parent_id, t.span(0).status, t.span(0).kind), (None, Status::Unset, SpanKind::Unspecified));
    assert!(t.attrs(0).is_empty() && t.events(0).is_empty());
    let child = by_id(t, "eee19b7ec3c1b175");
    assert!(t.span(child).flags.contains(SpanFlags::OPEN));
    assert_eq!(t.str(t.span(child).service), "svc");
    assert_eq!(attrs(t, child)[..5], ["a=3i", "b=\"\"", "c=\"[\\\"x\\\",1.5,{\\\"k\\\":null}]\"", "d=\"\"", "e=\"\""]);
}

#[test]
fn a_required_field_that_is_null_is_missing() {
    for (fields, missing) in [
        (r#""traceId":null,"spanId":"b7ad6b7169203331","startTimeUnixNano":"1""#, "traceId"),
        (r#""traceId":"0af7651916cd43dd8448eb211c80319c","spanId":null,"startTimeUnixNano":"1""#, "spanId"),
        (&format!(r#"{IDS},"startTimeUnixNano":null"#), "startTimeUnixNano"),
        (&format!(r#"{IDS},"startTimeUnixNano":"1","events":[{{"timeUnixNano":null}}]"#), "timeUnixNano"),
    ] {
        let err = error_of(&one_span(fields));
        assert!(err.message.contains(&format!("missing field `{missing}`")), "{fields}: {err:?}");
    }
}

/// A resource's attributes as `key=value` text, in order.
fn resource(trace: &Trace, idx: u32) -> Vec<String> {
    trace.resource(idx).iter().map(|a| format!("{}={}", trace.str(a.key), value_text(trace, a.value))).collect()
}

#[test]
fn resource_attributes_are_kept_once_per_resource_and_written_back() {
    let span = |id: &str| {
        format!(
            r#"{{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"{id}","name":"s","startTimeUnixNano":"1","endTimeUnixNano":"2"}}"#
        )
    };
    let entry = |host: &str, ids: &[&str]| {
        let spans: Vec<String> = ids.iter().map(|id| span(id)).collect();
        format!(
            r#"{{"scopeSpans":[{{"spans":[{}]}}],"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"front"}}}},{{"key":"host.name","value":{{"stringValue":"{host}"}}}},{{"key":"process.pid","value":{{"intValue":"42"}}}}]}}}}"#,
            spans.join(",")
        )
    };
    // Two resources of one service on two hosts; the resource comes after its spans.
    let text = format!(
        r#"{{"resourceSpans":[{},{}]}}"#,
        entry("web-1", &["00000000000000a1", "00000000000000a2"]),
        entry("web-2", &["00000000000000b1"])
    );
    let traces = read("resources.json", text.as_bytes());
    let t = &traces[0];
    let on =
        |host: &str| vec!["service.name=\"front\"".to_owned(), format!("host.name={host:?}"), "process.pid=42i".into()];
    assert_eq!(resource(t, by_id(t, "00000000000000a1")), on("web-1"));
    assert_eq!(resource(t, by_id(t, "00000000000000a2")), on("web-1"));
    assert_eq!(resource(t, by_id(t, "00000000000000b1")), on("web-2"));
    assert_eq!(t.span(by_id(t, "00000000000000a1")).resource, t.span(by_id(t, "00000000000000a2")).resource);
    assert!(attrs(t, by_id(t, "00000000000000a1")).is_empty(), "resource attributes are not the span's own");

    let mut out = Vec::new();
    write(&[t], &mut out).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["resourceSpans"].as_array().unwrap().len(), 2, "one entry per resource");
    let again = read("again.json", &out);
    let t2 = &again[0];
    for id in ["00000000000000a1", "00000000000000a2", "00000000000000b1"] {
        assert_eq!(resource(t2, by_id(t2, id)), resource(t, by_id(t, id)), "{id}");
    }
}

#[test]
fn a_resource_repeated_by_every_batch_is_kept_once() {
    let batch = |id: &str| {
        format!(
            r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"front"}}}},{{"key":"host.name","value":{{"stringValue":"web-1"}}}}]}},"scopeSpans":[{{"spans":[{{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"{id}","name":"s","startTimeUnixNano":"1","endTimeUnixNano":"2"}}]}}]}}]}}"#
        )
    };
    let lines = format!("{}\n{}\n", batch("00000000000000a1"), batch("00000000000000a2"));
    let t = &read("collector.jsonl", lines.as_bytes())[0];
    let (a, b) = (t.span(by_id(t, "00000000000000a1")), t.span(by_id(t, "00000000000000a2")));
    assert_eq!(a.resource, b.resource, "one range for the two batches' equal resources");
    assert_eq!(resource(t, by_id(t, "00000000000000a2")), ["service.name=\"front\"", "host.name=\"web-1\""]);
    let mut jaeger = Vec::new();
    Format::Jaeger.write(std::slice::from_ref(t), &mut jaeger).unwrap();
    assert_eq!(String::from_utf8(jaeger).unwrap().matches("\"serviceName\"").count(), 1, "one Jaeger process");
}

#[test]
fn a_big_document_and_a_big_collector_file_read_the_same_on_one_thread_and_on_many() {
    let document = big_trace(Format::Otlp, 11);
    let entries = crate::formats::split::member_elements(&document, &["resourceSpans"]).unwrap();
    assert!(entries.len() > 1 && document.len() >= super::PARALLEL_BYTES, "the document splits");
    // The same entries as a Collector file, one document per line, and a line with text ids.
    let mut lines: Vec<u8> = Vec::new();
    for entry in &entries {
        lines.extend_from_slice(b"{\"resourceSpans\": [");
        // The writer breaks lines between spans; a JSON string holds no raw line break.
        lines.extend(document[entry.clone()].iter().filter(|&&b| b != b'\n'));
        lines.extend_from_slice(b"]}\n");
    }
    lines.extend_from_slice(
        br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"trace-one","spanId":"span-one","name":"named","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}"#,
    );
    for bytes in [&document, &lines] {
        let one = loaded_on(1, "big.otlp.json", bytes);
        for threads in [2, 3, 8] {
            assert!(loaded_on(threads, "big.otlp.json", bytes) == one, "{threads} threads read the file differently");
        }
    }
    assert!(
        loaded_on(2, "big.otlp.json", &lines)
            .1
            .concat()
            .iter()
            .any(|w| w.contains("ids that are not hex (e.g. \"span-one\")"))
    );
}
