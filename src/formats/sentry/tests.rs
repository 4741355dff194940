//! Tests of the Sentry importer and writer, on realistic files of every accepted shape
//! (`tests/fixtures/sentry/`), the incident's sample traces and malformed inputs.

use super::parse;
use crate::formats::testkit::{big_trace, loaded_on};
use crate::formats::{Format, FormatError, Place, import};
use crate::model::{AttrValue, Nanos, SpanId, SpanIdx, SpanKind, Status, Trace, TraceId, Warning};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sentry");
const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-traces");
const SECOND: Nanos = 1_000_000_000;

fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fixture(name: &str) -> Vec<Trace> {
    let imported = import(name, &read(&format!("{FIXTURES}/{name}"))).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(imported.format, Format::Sentry, "{name} is detected as Sentry");
    imported.traces
}

fn sample(name: &str) -> Trace {
    let mut traces = import(name, &read(&format!("{SAMPLES}/{name}"))).unwrap_or_else(|e| panic!("{e}")).traces;
    assert_eq!(traces.len(), 1, "{name} holds one trace");
    traces.remove(0)
}

fn sid(hex: &str) -> SpanId {
    SpanId::from_hex(hex).unwrap()
}

/// The span with this id, which must be in the trace.
fn by_id(trace: &Trace, hex: &str) -> SpanIdx {
    trace.find(sid(hex)).unwrap_or_else(|| panic!("no span {hex}"))
}

/// The first span whose name contains `text`.
fn named(trace: &Trace, text: &str) -> SpanIdx {
    (0..trace.len() as SpanIdx)
        .find(|&i| trace.str(trace.span(i).name).contains(text))
        .unwrap_or_else(|| panic!("no span named {text}"))
}

fn attr(trace: &Trace, idx: SpanIdx, key: &str) -> Option<AttrValue> {
    trace.attrs(idx).iter().find(|a| trace.str(a.key) == key).map(|a| a.value)
}

fn str_attr<'t>(trace: &'t Trace, idx: SpanIdx, key: &str) -> Option<&'t str> {
    trace.attr_str(idx, key)
}

fn parse_err(text: &str) -> FormatError {
    match parse(text.as_bytes()) {
        Ok(_) => panic!("expected an error for {text}"),
        Err(e) => e,
    }
}

fn at(err: &FormatError) -> (usize, &str) {
    match &err.place {
        Place::At { line, path, .. } => (*line, path.as_str()),
        other => panic!("expected a line and path, got {other:?}: {}", err.message),
    }
}

// ---- accepted shapes ----

#[test]
fn a_single_transaction_maps_root_spans_times_status_and_attributes() {
    let traces = fixture("single-transaction.json");
    assert_eq!(traces.len(), 1);
    let t = &traces[0];
    assert_eq!(t.trace_id(), TraceId::from_hex("6cf173d587eb48568a9b2e12dcfbea52").unwrap());
    assert_eq!(t.len(), 4);
    assert_eq!(t.roots(), &[0], "parent 0000000000000000 means root: {:?}", t.warnings());
    assert!(t.warnings().is_empty(), "{:?}", t.warnings());

    let root = t.span(0);
    assert_eq!(t.str(root.name), "GET /api/0/users/{user_id}/");
    assert_eq!(t.str(root.op), "http.server");
    assert_eq!(root.kind, SpanKind::Server);
    assert_eq!((root.status, t.str(root.status_message)), (Status::Error, "internal_error"));
    assert_eq!(t.str(root.service), "web-7f9c6d8b5-2xkqp", "server_name when no project slug");
    assert_eq!(root.start, 1_795_098_127_100_000_000);
    assert_eq!(root.end, 1_795_098_127_350_125_000);
    assert_eq!(attr(t, 0, "http.response.status_code"), Some(AttrValue::Int(500)));
    assert_eq!(attr(t, 0, "thread.id"), Some(AttrValue::Int(140226853840576)));
    assert_eq!(attr(t, 0, "sampled"), Some(AttrValue::Bool(true)));
    assert_eq!(str_attr(t, 0, "region"), Some("eu-west-1"));
    assert_eq!(str_attr(t, 0, "environment"), Some("production"));
    assert_eq!(str_attr(t, 0, "release"), Some("web@2026.11.4"));
    assert_eq!(str_attr(t, 0, "sentry.event_id"), Some("5b1c2a0d9e8f47a6b3c2d1e0f9a8b7c6"));
    assert_eq!(attr(t, 0, "measurements.ttfb"), Some(AttrValue::Float(12.5)));

    // The db span's id lost its leading zeros; it is padded, and its parent comes later in the file.
    let db = by_id(t, "001b9f6349558cd1");
    let middleware = by_id(t, "c7e0f4a1b2d3e4f5");
    assert_eq!(t.span(db).parent, Some(middleware));
    assert_eq!(
        t.str(t.span(db).name),
        "SELECT \"auth_user\".\"id\" FROM \"auth_user\" WHERE \"auth_user\".\"id\" = %s"
    );
    assert_eq!(t.span(db).start, 1_795_098_127_120_000_000, "RFC 3339 start");
    assert_eq!(t.span(db).end, 1_795_098_127_300_000_000, "float end");
    assert_eq!(t.span(db).kind, SpanKind::Client);
    assert_eq!(t.span(db).status, Status::Ok);
    assert_eq!(attr(t, db, "db.rows"), Some(AttrValue::Int(1)));
    assert_eq!(attr(t, db, "db.duration_ratio"), Some(AttrValue::Float(0.25)));
    assert_eq!(str_attr(t, db, "db.params"), Some("[\"42\"]"), "arrays are kept as JSON text");

    let mw = t.span(middleware);
    assert_eq!(mw.status, Status::Unset, "no status is unset, not an error");
    assert_eq!(mw.end, 1_795_098_127_340_000_000, "RFC 3339 end with an offset");
    assert_eq!(str_attr(t, middleware, "middleware"), Some("auth"), "tags as [k, v] pairs");
    assert_eq!(t.str(mw.transaction), "GET /api/0/users/{user_id}/");
    assert_eq!(t.str(mw.service), "web-7f9c6d8b5-2xkqp");

    let client = by_id(t, "d4e5f60718293a4b");
    assert_eq!((t.span(client).status, t.str(t.span(client).status_message)), (Status::Error, "deadline_exceeded"));
    assert_eq!(t.span(client).end - t.span(client).start, 44_000_000);
}

#[test]
fn json_lines_events_are_stitched_across_services() {
    let traces = fixture("stitched-events.jsonl");
    assert_eq!(traces.len(), 1);
    let t = &traces[0];
    assert_eq!(t.roots().len(), 1, "{:?}", t.warnings());
    let server = by_id(t, "bbbbbbbbbbbbbbb1");
    assert_eq!(t.span(server).parent, Some(by_id(t, "aaaaaaaaaaaaaaa2")));
    assert_eq!(t.str(t.span(server).service), "api", "the project slug names the service");
    assert_eq!(t.str(t.span(0).service), "frontend");
    assert_eq!(t.str(t.span(by_id(t, "bbbbbbbbbbbbbbb2")).transaction), "POST /orders");
    assert_eq!(t.span(by_id(t, "bbbbbbbbbbbbbbb2")).depth, 3);
}

#[test]
fn the_event_details_api_shape_is_read() {
    let t = &fixture("event-details-api.json")[0];
    assert_eq!(t.len(), 3);
    let root = t.span(0);
    assert_eq!((root.start, root.end), (1_795_098_600_012_345_000, 1_795_098_600_512_345_000));
    assert_eq!(t.str(root.name), "/api/0/organizations/{organization_id_or_slug}/issues/");
    assert_eq!(t.str(root.service), "api-web-5", "the server_name tag");
    assert_eq!(str_attr(t, 0, "environment"), Some("prod"), "tags as {{key, value}}");
    assert_eq!(str_attr(t, 0, "sentry.event_id"), Some("9f2e1d0c8b7a46e5a4b3c2d1e0f9a8b7"));
    assert_eq!(str_attr(t, 0, "release"), Some("{\"version\":\"backend@26.11.3\"}"));
    let connect = by_id(t, "1000000000000003");
    assert_eq!(t.span(connect).depth, 2);
    assert_eq!(t.str(t.span(connect).op), "db.connection");
}

#[test]
fn the_legacy_trace_endpoint_nests_transactions_and_links_errors() {
    let t = &fixture("events-trace-legacy.json")[0];
    assert_eq!(t.len(), 2);
    let task = by_id(t, "b000000000000001");
    assert_eq!(t.span(task).parent, Some(0), "nested under the node that holds it");
    assert_eq!(str_attr(t, task, "sentry.parent_span_id"), Some("a0000000000000ff"), "the written parent is kept");
    assert_eq!(t.str(t.span(task).service), "region");
    assert_eq!(t.str(t.span(task).op), "queue.task.celery");
    assert_eq!(t.span(task).end - t.span(task).start, 490_000_000, "start from timestamp - transaction.duration");
    assert_eq!(t.span(task).status, Status::Error);
    assert_eq!(t.trace_id(), TraceId(0));
    assert!(t.warnings().iter().any(|w| w.to_string().contains("does not name its trace id")), "{:?}", t.warnings());

    assert_eq!(t.errors().len(), 2);
    let linked = &t.errors()[0];
    assert_eq!(t.str(linked.title), "SlackApiError: expired_trigger_id");
    assert_eq!(t.str(linked.level), "error");
    assert_eq!(t.str(linked.event_id), "eeee0000eeee0000eeee0000eeee0001");
    assert_eq!(linked.span, None, "its span (b000000000000042) is not in a legacy answer");
    let orphan = &t.errors()[1];
    assert!(t.str(orphan.title).starts_with("TypeError"));
    assert_eq!(orphan.time, Some(1_795_098_130_000_000_000));
}

#[test]
fn the_legacy_flat_list_is_read_too() {
    let text = r#"[{"event_id":"aaaa0000aaaa0000aaaa0000aaaa0001","span_id":"a1","transaction":"GET /","transaction.op":"http.server",
        "project_slug":"web","parent_span_id":null,"start_timestamp":1795098000.5,"timestamp":1795098001.0,
        "errors":[{"event_id":"eeee0000eeee0000eeee0000eeee0009","span":"a1","title":"KeyError: 'view'","level":"error",
        "timestamp":1795098000.9,"event_type":"error"}],"children":[]}]"#;
    let t = &import("flat.json", text.as_bytes()).unwrap().traces[0];
    assert_eq!(t.span(0).id, sid("00000000000000a1"));
    assert_eq!(t.errors()[0].span, Some(0));
    assert_eq!(t.str(t.errors()[0].title), "KeyError: 'view'");
}

#[test]
fn the_trace_endpoint_items_nest_spans_and_errors() {
    let t = &fixture("trace-endpoint.json")[0];
    assert_eq!(t.len(), 4, "the uptime check is not a span");
    assert!(t.warnings().iter().any(|w| w.to_string().contains("1 uptime check")), "{:?}", t.warnings());
    let open = by_id(t, "0000000000000b42");
    assert_eq!(t.str(t.span(open).name), "POST https://slack.com/api/views.open");
    assert_eq!(t.str(t.span(open).op), "http.client");
    assert_eq!(t.span(open).end - t.span(open).start, 209_369_000, "end from duration (ms)");
    assert_eq!(t.span(open).parent, Some(by_id(t, "b000000000000001")));
    assert_eq!(t.span(by_id(t, "a0000000000000ff")).start, 1_795_098_127_491_147_000, "RFC 3339");
    assert_eq!(attr(t, 0, "silo_mode").map(|v| matches!(v, AttrValue::Str(_))), Some(true));
    assert_eq!(
        attr(t, by_id(t, "b000000000000001"), "measurements.messaging.message.receive.latency"),
        Some(AttrValue::Float(2532.3))
    );
    assert_eq!(t.errors().len(), 1);
    assert_eq!(t.errors()[0].span, Some(open));
    assert_eq!(t.str(t.errors()[0].title), "SlackApiError: expired_trigger_id");
}

#[test]
fn an_error_event_joins_its_span_by_trace_context() {
    let text = r#"[{"type":"transaction","transaction":"t","start_timestamp":10.0,"timestamp":11.0,
          "contexts":{"trace":{"trace_id":"0123456789abcdef0123456789abcdef","span_id":"00000000000000aa"}},"spans":[]},
        {"type":"error","event_id":"ffff0000ffff0000ffff0000ffff0000","level":"warning","timestamp":10.5,
          "exception":{"values":[{"type":"ValueError","value":"bad input"}]},
          "contexts":{"trace":{"trace_id":"0123456789abcdef0123456789abcdef","span_id":"aa"}}}]"#;
    let t = &import("e.json", text.as_bytes()).unwrap().traces[0];
    let error = &t.errors()[0];
    assert_eq!((error.span, error.time), (Some(0), Some(10_500_000_000)));
    assert_eq!(t.str(error.title), "ValueError: bad input");
    assert_eq!(t.str(error.level), "warning");
}

#[test]
fn processing_errors_of_an_event_become_notes() {
    let text = r#"{"type":"transaction","transaction":"t","start_timestamp":10.0,"timestamp":11.0,
        "contexts":{"trace":{"trace_id":"0123456789abcdef0123456789abcdef","span_id":"00000000000000aa"}},
        "errors":[{"type":"invalid_data","name":"contexts.trace.data","value":{}}]}"#;
    let t = &import("p.json", text.as_bytes()).unwrap().traces[0];
    assert!(t.errors().is_empty());
    assert_eq!(
        t.warnings(),
        &[Warning::Import("Sentry reported a processing error in the event: invalid_data contexts.trace.data".into())]
    );
}

#[test]
fn start_after_end_is_a_warning_not_an_error() {
    let text = r#"{"type":"transaction","transaction":"t","start_timestamp":20.0,"timestamp":19.0,
        "contexts":{"trace":{"trace_id":"0123456789abcdef0123456789abcdef","span_id":"00000000000000aa"}}}"#;
    let t = &import("inverted.json", text.as_bytes()).unwrap().traces[0];
    assert!(matches!(t.warnings(), [Warning::EndBeforeStart { count: 1, .. }]), "{:?}", t.warnings());
    assert_eq!(t.span(0).duration(), 0);
}

#[test]
fn a_parent_cycle_is_an_error_naming_the_spans() {
    let span = |id: &str, parent: &str| {
        format!(
            r#"{{"trace_id":"0123456789abcdef0123456789abcdef","span_id":"{id}","parent_span_id":"{parent}","start_timestamp":10.1,"timestamp":10.2}}"#
        )
    };
    let text = format!(
        r#"{{"type":"transaction","transaction":"t","start_timestamp":10.0,"timestamp":11.0,
        "contexts":{{"trace":{{"trace_id":"0123456789abcdef0123456789abcdef","span_id":"00000000000000aa"}}}},
        "spans":[{},{}]}}"#,
        span("00000000000000b1", "00000000000000b2"),
        span("00000000000000b2", "00000000000000b1")
    );
    let err = import("cycle.json", text.as_bytes()).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("cycle"), "{message}");
    assert!(message.contains("00000000000000b1") && message.contains("00000000000000b2"), "{message}");
    assert!(message.starts_with("cycle.json: Sentry JSON"), "{message}");
}

// ---- malformed input ----

#[test]
fn a_truncated_file_says_so_with_its_place() {
    let text = "[{\"type\":\"transaction\",\n \"spans\": [";
    let err = parse_err(text);
    assert!(err.message.contains("truncated"), "{}", err.message);
    assert_eq!(at(&err).0, 2);
}

#[test]
fn wrong_types_name_the_path_and_the_expectation() {
    let err = parse_err("{\"type\": \"transaction\",\n  \"spans\": 5}");
    assert_eq!(at(&err), (2, "$.spans"));
    assert!(err.message.contains("invalid type: integer `5`, expected a sequence"), "{}", err.message);
}

#[test]
fn a_span_without_span_id_or_trace_id_is_named() {
    let no_span_id =
        r#"{"type":"transaction","spans":[{"trace_id":"0123456789abcdef0123456789abcdef","start_timestamp":1.0}]}"#;
    let err = parse_err(no_span_id);
    assert_eq!(at(&err).1, "$.spans[0]");
    assert!(err.message.contains("missing field `span_id`"), "{}", err.message);

    // A span without its own trace id is in its transaction's trace; without one there either, it has none.
    let no_trace_id =
        "[{\"type\":\"transaction\",\"spans\":[\n{\"span_id\":\"00000000000000aa\",\"start_timestamp\":1.0}]}]";
    let err = parse_err(no_trace_id);
    assert_eq!(err.place, Place::Path("$[0].contexts.trace".into()));
    let inherited = r#"{"type":"transaction","start_timestamp":1.0,"timestamp":2.0,
        "contexts":{"trace":{"trace_id":"0123456789abcdef0123456789abcdef","span_id":"00000000000000bb"}},
        "spans":[{"span_id":"00000000000000aa","parent_span_id":"00000000000000bb","start_timestamp":1.5}]}"#;
    let traces = import("t.json", inherited.as_bytes()).unwrap().traces;
    assert_eq!((traces.len(), traces[0].len(), traces[0].roots().len()), (1, 2, 1));
    let notes: Vec<String> = traces[0].warnings().iter().map(|w| w.to_string()).collect();
    assert!(notes.iter().any(|n| n.starts_with("1 span(s) have no trace_id of their own")), "{notes:?}");

    let no_root_trace_id =
        r#"[{"type":"transaction","start_timestamp":1.0,"contexts":{"trace":{"span_id":"00000000000000aa"}}}]"#;
    let err = parse_err(no_root_trace_id);
    assert_eq!(err.place, Place::Path("$[0].contexts.trace".into()));
    assert!(err.message.contains("missing field `trace_id`"), "{}", err.message);
}

#[test]
fn bad_timestamps_say_what_a_timestamp_is() {
    let err = parse_err("{\"type\":\"transaction\",\n\"start_timestamp\": \"yesterday\"}");
    assert_eq!(at(&err), (2, "$.start_timestamp"));
    assert!(err.message.contains("invalid value: string \"yesterday\""), "{}", err.message);
    assert!(err.message.contains("expected a timestamp: Unix seconds"), "{}", err.message);

    let err = parse_err(r#"{"spans":[{"span_id":"aa","trace_id":"bb","start_timestamp":1.0,"timestamp":true}]}"#);
    assert_eq!(at(&err).1, "$.spans[0].timestamp");
    assert!(err.message.contains("invalid type: boolean `true`, expected a timestamp"), "{}", err.message);
}

#[test]
fn bad_ids_are_named_with_what_was_found() {
    let err =
        parse_err(r#"{"contexts":{"trace":{"trace_id":"0123456789abcdef0123456789abcdef","span_id":"not-hex"}}}"#);
    assert_eq!(at(&err).1, "$.contexts.trace.span_id");
    assert!(err.message.contains("\"not-hex\", expected a 16-digit hex span id"), "{}", err.message);

    let err = parse_err(r#"{"contexts":{"trace":{"trace_id":"xyz"}}}"#);
    assert!(err.message.contains("\"xyz\", expected a 32-digit hex trace id"), "{}", err.message);

    let err =
        parse_err(r#"[{"event_type":"span","event_id":"0123456789abcdef0123456789abcdef","start_timestamp":1.0}]"#);
    assert_eq!(err.place, Place::Path("$[0].event_id".into()));
    assert!(err.message.contains("expected a 16-digit hex span id"), "{}", err.message);
}

#[test]
fn a_bad_json_line_names_its_line() {
    let good = r#"{"type":"transaction","transaction":"t","start_timestamp":1.0,"timestamp":2.0,"contexts":{"trace":{"trace_id":"0123456789abcdef0123456789abcdef","span_id":"00000000000000aa"}}}"#;
    let text = format!("{good}\n\n{}\n", good.replace("\"start_timestamp\":1.0", "\"start_timestamp\":[]"));
    let err = parse_err(&text);
    assert_eq!(at(&err), (3, "$.start_timestamp"));

    let text = format!("{good}\n{{\"hello\": 1}}\n");
    let err = parse_err(&text);
    assert_eq!(err.place, Place::At { line: 2, column: 1, path: "$".into() });
    assert!(err.message.contains("expected a Sentry transaction event"), "{}", err.message);

    let err = parse_err(r#"[{"type":"csp","event_id":"ffff0000ffff0000ffff0000ffff0000"}]"#);
    assert_eq!(err.place, Place::Path("$[0]".into()));
    assert!(err.message.ends_with("found an event of type \"csp\""), "{}", err.message);
}

#[test]
fn a_transaction_without_its_root_span_or_start_is_refused() {
    let err = parse_err(r#"{"type":"transaction","start_timestamp":1.0,"spans":[]}"#);
    assert_eq!(err.place, Place::Path("$.contexts.trace".into()));
    assert!(err.message.contains("needs its root span in contexts.trace"), "{}", err.message);

    let err = parse_err(
        r#"[{"type":"transaction","contexts":{"trace":{"trace_id":"0123456789abcdef0123456789abcdef","span_id":"aa"}}}]"#,
    );
    assert_eq!(err.place, Place::Path("$[0]".into()));
    assert!(err.message.contains("missing field `start_timestamp`"), "{}", err.message);
}

// ---- the incident's samples ----

#[test]
fn the_before_sample_shows_views_open_after_the_deadline_failing() {
    let t = sample("incident-before.sentry.json");
    assert!(t.warnings().is_empty(), "{:?}", t.warnings());
    assert_eq!(t.roots(), &[0]);
    let root = t.span(0);
    assert_eq!(
        (t.str(root.name), t.str(root.op), t.str(root.service)),
        ("POST /extensions/slack/action/", "http.server", "control")
    );
    assert_eq!(attr(&t, 0, "http.response.status_code"), Some(AttrValue::Int(200)));
    assert!(root.duration() > 300_000_000 && root.duration() < 600_000_000, "acked quickly: {}", root.duration());

    // Across processes: the region task's transaction hangs under the control silo's publish span.
    let task = named(&t, "convert_to_async_slack_response");
    let publish = t.span(task);
    assert_eq!(t.str(publish.op), "queue.submit.celery");
    let consumer = t.children(task).next().expect("the task runs under its publish span");
    let consumer_span = t.span(consumer);
    assert_eq!((t.str(consumer_span.op), t.str(consumer_span.service)), ("queue.task.celery", "region"));
    assert!(consumer_span.start - publish.end > 2 * SECOND, "it waited in the queue");

    let open = named(&t, "views.open");
    let span = t.span(open);
    assert_eq!(t.str(span.op), "http.client");
    assert_eq!(t.str(span.name), "POST https://slack.com/api/views.open");
    assert!(t.ancestors(open).any(|a| a == consumer));
    assert!(t.offset(span.start) > 3 * SECOND, "views.open starts at {}", t.offset(span.start));
    assert_eq!((span.status, t.str(span.status_message)), (Status::Error, "failed_precondition"));
    assert_eq!(attr(&t, open, "http.response.status_code"), Some(AttrValue::Int(200)));

    assert_eq!(t.errors().len(), 1);
    assert_eq!(t.errors()[0].span, Some(open));
    assert_eq!(t.str(t.errors()[0].title), "SlackApiError: expired_trigger_id");
}

#[test]
fn the_after_sample_opens_the_modal_in_time_and_updates_it_later() {
    let t = sample("incident-after.sentry.json");
    assert!(t.warnings().is_empty(), "{:?}", t.warnings());
    assert_eq!(t.roots(), &[0]);
    assert!(t.errors().is_empty());
    assert!(t.spans().iter().all(|s| s.status != Status::Error));
    assert_eq!(t.str(t.span(0).service), "control");

    let open = named(&t, "views.open");
    assert_eq!(t.str(t.span(open).op), "http.client");
    assert_eq!(t.str(t.span(open).service), "control", "the front process opens the modal itself");
    assert!(t.offset(t.span(open).start) < SECOND);
    assert!(t.offset(t.span(open).end) < 400_000_000);
    assert!(t.span(0).duration() < 3 * SECOND);

    let update = named(&t, "views.update");
    assert_eq!(t.str(t.span(update).service), "region");
    let consumer = t.ancestors(update).find(|&a| t.str(t.span(a).op) == "queue.task.celery").expect("in the task");
    let publish = t.span(consumer).parent.expect("the task links to its publish span");
    assert_eq!(t.str(t.span(publish).op), "queue.submit.celery");
    assert_eq!(t.str(t.span(publish).service), "control");
}

// ---- the writer ----

/// Everything the writer must keep, per span in depth-first order. Event ids are left out:
/// the writer makes them up for transactions that had none.
fn shape_of(t: &Trace) -> Vec<String> {
    t.spans()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut attrs: Vec<String> = t
                .attrs(i as SpanIdx)
                .iter()
                .filter(|a| t.str(a.key) != "sentry.event_id")
                .map(|a| format!("{}={:?}", t.str(a.key), value_text(t, a.value)))
                .collect();
            attrs.sort();
            format!(
                "{} parent={:?} {}..{} name={:?} op={:?} service={:?} status={:?}/{:?} attrs={attrs:?}",
                s.id,
                s.parent.map(|p| t.span(p).id),
                s.start,
                s.end,
                t.str(s.name),
                t.str(s.op),
                t.str(s.service),
                s.status,
                t.str(s.status_message),
            )
        })
        .collect()
}

fn value_text(t: &Trace, v: AttrValue) -> String {
    match v {
        AttrValue::Str(s) => t.str(s).to_owned(),
        other => format!("{other:?}"),
    }
}

fn round_trip(traces: &[Trace]) -> Vec<Trace> {
    let mut out = Vec::new();
    Format::Sentry.write(traces, &mut out).unwrap();
    import("written.json", &out).unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&out))).traces
}

#[test]
fn the_samples_round_trip_through_the_writer() {
    for name in ["incident-before.sentry.json", "incident-after.sentry.json"] {
        let original = sample(name);
        let back = round_trip(std::slice::from_ref(&original));
        assert_eq!(back.len(), 1, "{name}");
        assert_eq!(shape_of(&back[0]), shape_of(&original), "{name}");
        let event_ids = |t: &Trace| -> Vec<String> {
            (0..t.len() as SpanIdx).filter_map(|i| str_attr(t, i, "sentry.event_id").map(str::to_owned)).collect()
        };
        assert_eq!(event_ids(&back[0]), event_ids(&original), "known event ids are kept");
        assert_eq!(back[0].errors().len(), original.errors().len());
        for (a, b) in back[0].errors().iter().zip(original.errors()) {
            assert_eq!((a.span, a.time), (b.span, b.time));
            assert_eq!(back[0].str(a.title), original.str(b.title));
        }
    }
}

#[test]
fn a_service_change_starts_a_new_transaction_event() {
    let original = sample("incident-before.sentry.json");
    let mut out = Vec::new();
    Format::Sentry.write(std::slice::from_ref(&original), &mut out).unwrap();
    let events: Vec<serde_json::Value> = serde_json::from_slice(&out).unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["transaction", "transaction", "error"]);
    assert_eq!(events[0]["server_name"], "control");
    assert_eq!(events[1]["server_name"], "region");
    let publish = original.span(named(&original, "convert_to_async_slack_response"));
    assert_eq!(events[1]["contexts"]["trace"]["parent_span_id"], publish.id.to_string());
    assert_eq!(events[0]["environment"], "prod");
}

#[test]
fn the_other_fixtures_round_trip_too() {
    for name in ["single-transaction.json", "stitched-events.jsonl", "event-details-api.json", "trace-endpoint.json"] {
        let original = fixture(name);
        let back = round_trip(&original);
        assert_eq!(back.len(), original.len(), "{name}");
        for (b, o) in back.iter().zip(&original) {
            assert_eq!(shape_of(b), shape_of(o), "{name}");
        }
    }
}

#[test]
fn open_spans_stay_open() {
    let text = r#"{"type":"transaction","transaction":"t","start_timestamp":10.0,"timestamp":11.0,
        "contexts":{"trace":{"trace_id":"0123456789abcdef0123456789abcdef","span_id":"00000000000000aa"}},
        "spans":[{"trace_id":"0123456789abcdef0123456789abcdef","span_id":"00000000000000bb","parent_span_id":"00000000000000aa","start_timestamp":10.5}]}"#;
    let traces = import("open.json", text.as_bytes()).unwrap().traces;
    assert!(matches!(traces[0].warnings(), [Warning::OpenSpans { count: 1 }]));
    let back = round_trip(&traces);
    assert_eq!(back[0].warnings(), traces[0].warnings());
}

#[test]
fn a_big_file_reads_the_same_on_one_thread_and_on_many() {
    let mut bytes = big_trace(Format::Sentry, 9);
    // Items whose mapping needs what others hold, in the middle of the file: a span without a
    // trace id, an error, a processing error, a trace node nesting a child it is not the parent of.
    let quirks = br#"{"type":"transaction","transaction":"q","start_timestamp":1.0,"timestamp":2.0,
        "contexts":{"trace":{"trace_id":"0123456789abcdef0123456789abcdef","span_id":"00000000000000aa"}},
        "spans":[{"span_id":"00000000000000ab","parent_span_id":"00000000000000aa","start_timestamp":1.5}],
        "errors":[{"type":"invalid_data","name":"x"}]},
        {"type":"error","title":"boom","contexts":{"trace":{"trace_id":"0123456789abcdef0123456789abcdef","span_id":"00000000000000ab"}}},
        {"span_id":"00000000000000c1","transaction":"node","start_timestamp":1.0,"timestamp":1.5,
         "children":[{"span_id":"00000000000000c2","parent_span_id":"00000000000000ff","start_timestamp":1.1,"timestamp":1.2}]},"#;
    let at = bytes.len() / 2 + bytes[bytes.len() / 2..].windows(2).position(|w| w == b"\n{").unwrap() + 1;
    bytes.splice(at..at, quirks.iter().copied());
    assert!(crate::formats::split::array_elements(&bytes).is_some_and(|e| e.len() > 2_000), "the file splits");
    let on = |threads: usize| loaded_on(threads, "big.sentry.json", &bytes);
    let one = on(1);
    let notes = one.1.concat();
    assert!(notes.iter().any(|w| w.starts_with("1 span(s) have no trace_id of their own")), "{notes:?}");
    assert!(notes.iter().any(|w| w.contains("processing error in the event: invalid_data x")), "{notes:?}");
    assert!(notes.iter().any(|w| w.contains("does not name its trace id")), "{notes:?}");
    for threads in [2, 3, 8] {
        assert!(on(threads) == one, "{threads} threads read the file differently");
    }
}

#[test]
fn errors_and_leniencies_stay_what_they_were_when_items_are_mapped_as_read() {
    // An item that cannot be mapped, then one that does not read: the reading error is said,
    // with its place, as when the whole document was read before any item was mapped.
    let err = parse_err("[{\"type\":\"csp\"},\n{\"type\":\"transaction\",\"spans\":5}]");
    assert_eq!(at(&err), (2, "$[1].spans"));
    // Structs written as arrays (a leniency of serde's derived readers) are still read...
    let text = r#"{"type":"transaction","start_timestamp":1,"sdk":["python","1.0"],"contexts":{"trace":
        ["0123456789abcdef0123456789abcdef","00000000000000aa",null,"http.server","ok","d","manual",{}]}}"#;
    let t = &import("array.json", text.as_bytes()).unwrap().traces[0];
    assert_eq!((str_attr(t, 0, "sdk.version"), t.str(t.span(0).op)), (Some("1.0"), "http.server"));
    // ... and refused when short, naming the first missing element.
    let err = parse_err(r#"{"type":"transaction","contexts":{"trace":["0123456789abcdef0123456789abcdef"]}}"#);
    assert!(err.message.contains("invalid length 1, expected struct TraceContext with 8 elements"), "{}", err.message);
    // A measurement is a number or {"value": number}; anything else is refused as it was.
    let err = parse_err(r#"{"type":"transaction","measurements":{"lcp":[5]}}"#);
    assert_eq!(at(&err).1, "$.measurements.lcp");
    assert!(err.message.contains("did not match any variant of untagged enum Measurement"), "{}", err.message);
}
