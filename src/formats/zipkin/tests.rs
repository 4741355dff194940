//! Zipkin importer and writer tests, on the checkout sample and the fixtures in
//! `tests/fixtures/zipkin/`.

use super::*;
use crate::formats::testkit::{file, import_file, line_of, path_of, summary, value_text};
use crate::formats::{Format, FormatError, Place, import};
use crate::model::{SpanFlags, SpanId, SpanKind, Status, Trace};

const SAMPLE: &str = "sample-traces/checkout.zipkin.json";

fn find(trace: &Trace, name: &str, service: &str) -> u32 {
    (0..trace.len() as u32)
        .find(|&i| trace.str(trace.span(i).name) == name && trace.str(trace.span(i).service) == service)
        .unwrap_or_else(|| panic!("no {name} in {service}"))
}

fn attr(trace: &Trace, idx: u32, key: &str) -> Option<String> {
    trace.attrs(idx).iter().find(|a| trace.str(a.key) == key).map(|a| value_text(trace, a.value))
}

fn fixture_error(name: &str) -> FormatError {
    match parse(&file(&format!("tests/fixtures/zipkin/{name}"))) {
        Ok(_) => panic!("{name} was read without error"),
        Err(e) => e,
    }
}

#[test]
fn the_checkout_sample_shows_client_then_server_and_the_slow_insert() {
    let imported = import_file(SAMPLE);
    assert_eq!(imported.format, Format::Zipkin);
    let t = &imported.traces[0];
    assert_eq!((imported.traces.len(), t.len()), (1, 11));
    assert!(t.warnings().iter().all(|w| !w.to_string().contains("repeat an id")), "{:?}", t.warnings());

    let root = t.roots()[0];
    assert_eq!(t.roots().len(), 1);
    assert_eq!((t.str(t.span(root).name), t.str(t.span(root).op)), ("post /checkout", "http.server"));
    assert_eq!(attr(t, root, "localEndpoint.port").as_deref(), Some("Int(8080)"));

    // Each shared pair: the client keeps the id, the server half is its child with a derived id.
    for (client_service, server_service, name) in [
        ("web-frontend", "checkout", "post /api/orders"),
        ("checkout", "inventory", "get /v1/stock"),
        ("checkout", "payments", "post /v1/charges"),
    ] {
        let client = find(t, name, client_service);
        let server = find(t, name, server_service);
        let (c, s) = (t.span(client), t.span(server));
        assert_eq!((c.kind, s.kind), (SpanKind::Client, SpanKind::Server));
        assert_eq!(s.parent, Some(client), "{name}: the server half hangs under the client");
        assert_eq!(s.id, shared::half_ids(c.id).next().unwrap(), "{name}: derived id");
        assert_eq!(attr(t, server, SHARED).as_deref(), Some("Bool(true)"));
        assert_eq!(
            attr(t, client, "remoteEndpoint.serviceName").as_deref(),
            Some(&*format!("Str({server_service:?})"))
        );
    }
    // Children of a shared id hang under the server half, in the server's service.
    let orders_server = find(t, "post /api/orders", "checkout");
    let insert = find(t, "insert orders", "checkout");
    assert_eq!(t.span(insert).parent, Some(orders_server));
    assert_eq!(t.span(find(t, "select stock_levels", "inventory")).parent, Some(find(t, "get /v1/stock", "inventory")));

    let slow = t.span(insert);
    assert_eq!((t.str(slow.op), slow.duration()), ("db", 1_822_518_000));
    let slowest_other = (0..t.len() as u32)
        .filter(|&i| i != insert && t.span(i).kind == SpanKind::Client && t.str(t.span(i).op) == "db")
        .map(|i| t.span(i).duration())
        .max()
        .unwrap();
    assert!(slow.duration() > 50 * slowest_other);
    assert_eq!(t.events(insert).iter().map(|e| t.str(e.name)).collect::<Vec<_>>(), ["pool.acquired", "lock.acquired"]);
    assert_eq!(attr(t, root, "http.status_code").as_deref(), Some("Str(\"200\")"), "tags stay strings");
}

#[test]
fn quirks_mixed_ids_backfilled_shared_flag_merged_parts_and_status() {
    let imported = import_file("tests/fixtures/zipkin/quirks.json");
    assert_eq!(imported.traces.len(), 2, "an array of arrays, mixed 64/128-bit ids joined");
    let t = &imported.traces[0];
    assert_eq!(t.len(), 5, "the two parts of b2 are one span");
    let client = find(t, "get /users", "web");
    let server = find(t, "get /users", "api");
    assert_eq!(t.span(server).parent, Some(client), "SERVER with a CLIENT's id is its shared half");
    assert_eq!((t.span(server).status, t.str(t.span(server).status_message)), (Status::Error, ""));
    assert_eq!(attr(t, server, "http.status_code").as_deref(), Some("Str(\"500\")"));
    assert_eq!(t.events(server).len(), 1);

    let select = find(t, "select users", "api");
    assert_eq!(t.span(select).parent, Some(server));
    assert_eq!(t.span(select).id, SpanId::new(0xb1).unwrap(), "uppercase and unpadded hex are read");
    assert_eq!(attr(t, select, DEBUG).as_deref(), Some("Bool(true)"));

    let flush = find(t, "flush", "api");
    let f = t.span(flush);
    assert_eq!((f.parent, f.duration(), t.offset(f.start)), (Some(server), 0, 190_000_000));
    assert!(!f.flags.contains(SpanFlags::OPEN), "no duration is an instant, as Zipkin's UI draws it");
    assert_eq!(attr(t, flush, "flush.bytes").as_deref(), Some("Str(\"4096\")"));
    assert_eq!(t.events(flush).len(), 1);

    let orphan = find(t, "orphan", "");
    assert!(t.span(orphan).flags.contains(SpanFlags::ORPHAN));
    assert_eq!(t.span(orphan).status, Status::Ok);
    let notes: Vec<String> = t.warnings().iter().map(|w| w.to_string()).collect();
    for expected in [
        "1 span(s) have no duration; shown as instants at their timestamp, as Zipkin's UI does (e.g. 00000000000000b2)",
        "1 span part(s) reported separately under one id were merged, as Zipkin does (e.g. 00000000000000b2)",
        "1 server span(s) share their client's span id; each is shown as a child of its client, with a derived id \
         (e.g. a2fb4a1d1a96d312)",
    ] {
        assert!(notes.iter().any(|n| n.contains(expected)), "{expected}: {notes:?}");
    }

    let cron = &imported.traces[1];
    let c = cron.span(0);
    assert_eq!((c.status, cron.str(c.status_message), cron.str(c.op)), (Status::Error, "timed out", "cron.job"));
}

#[test]
fn a_truncated_file_says_so_with_its_line() {
    let err = fixture_error("truncated.json");
    assert!(err.message.contains("truncated"), "{err:?}");
    assert_eq!(line_of(&err), Some(4));
}

#[test]
fn zipkin_v1_is_refused_with_a_request_for_v2() {
    let err = fixture_error("v1.json");
    assert_eq!(path_of(&err), "$[0].annotations[0].endpoint");
    assert!(err.message.starts_with("Zipkin v1 JSON is not supported; export v2"), "{err:?}");
    let err = fixture_error("v1-binary-only.json");
    assert_eq!(path_of(&err), "$[0].binaryAnnotations");
    assert!(err.message.starts_with("Zipkin v1 JSON is not supported; export v2"), "{err:?}");
}

#[test]
fn a_span_without_a_trace_id_is_refused_at_its_path() {
    let err = fixture_error("missing-trace-id.json");
    assert_eq!(path_of(&err), "$[1]");
    assert_eq!(line_of(&err), Some(2));
    assert!(err.message.contains("missing field `traceId`"), "{err:?}");
}

#[test]
fn bad_timestamps_are_refused_at_their_path() {
    let err = fixture_error("string-timestamp.json");
    assert_eq!(path_of(&err), "$[0].timestamp");
    assert!(err.message.contains("invalid type: string \"1700000000100000\""), "{err:?}");
    let err = fixture_error("negative-duration.json");
    assert_eq!(path_of(&err), "$[0].duration");
    assert!(err.message.contains("-250000") && err.message.contains("non-negative"), "{err:?}");
}

#[test]
fn a_span_that_cannot_be_placed_in_time_is_refused() {
    let err = fixture_error("no-timestamp.json");
    assert_eq!(err.place, Place::Path("$[1]".into()));
    assert_eq!(
        err.message,
        "span 00000000000000b2 of trace 48485a3953bb6124 has no timestamp (nor has any other part of it), \
         so it cannot be placed in time"
    );
}

#[test]
fn unknown_kinds_number_tags_and_objects_are_refused() {
    let err = fixture_error("bad-kind.json");
    assert_eq!(path_of(&err), "$[0].kind");
    assert!(err.message.contains("unknown variant `REQUEST`, expected one of `CLIENT`"), "{err:?}");
    let err = fixture_error("number-tag.json");
    assert_eq!(path_of(&err), "$[0].tags.http.status_code");
    assert!(err.message.contains("invalid type: integer `200`, expected a string"), "{err:?}");
    let err = fixture_error("object.json");
    assert_eq!(err.place, Place::At { line: 1, column: 1, path: "$".into() });
    assert!(err.message.contains("array of spans"), "{err:?}");
}

#[test]
fn a_parent_cycle_is_a_model_error_naming_the_spans() {
    let path = "tests/fixtures/zipkin/cycle.json";
    let err = import(path, &file(path)).unwrap_err();
    assert_eq!((err.format, &err.error.place), (Some(Format::Zipkin), &Place::Whole));
    let text = err.to_string();
    assert!(text.contains("cycle") && text.contains("0000000000000002") && text.contains("0000000000000003"), "{text}");
}

fn write_and_read(traces: &[Trace]) -> (String, Vec<Trace>) {
    let mut out = Vec::new();
    Format::Zipkin.write(traces, &mut out).expect("write");
    let text = String::from_utf8(out).expect("UTF-8");
    let again = import("written.json", text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(again.format, Format::Zipkin);
    (text, again.traces)
}

#[test]
fn the_writer_round_trips_the_sample_with_shared_halves() {
    let first = import_file(SAMPLE).traces;
    let (text, again) = write_and_read(&first);
    assert_eq!(first.iter().map(summary).collect::<Vec<_>>(), again.iter().map(summary).collect::<Vec<_>>());
    let spans: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let shared: Vec<&serde_json::Value> = spans.iter().filter(|s| s["shared"] == true).collect();
    assert_eq!(shared.len(), 3);
    for half in shared {
        let twins = spans.iter().filter(|s| s["id"] == half["id"]).count();
        assert_eq!(twins, 2, "written back with its client's id: {half}");
        assert_eq!(half["kind"], "SERVER");
    }
}

#[test]
fn the_writer_round_trips_the_quirks() {
    let first = import_file("tests/fixtures/zipkin/quirks.json").traces;
    let (text, again) = write_and_read(&first);
    assert_eq!(first.iter().map(summary).collect::<Vec<_>>(), again.iter().map(summary).collect::<Vec<_>>());
    let spans: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let halves: Vec<&serde_json::Value> = spans.iter().filter(|s| s["id"] == "a2fb4a1d1a96d312").collect();
    assert_eq!(halves.len(), 2, "the backfilled server half is written with its client's id");
    assert_eq!((&halves[1]["kind"], &halves[1]["shared"]), (&"SERVER".into(), &true.into()));
}

#[test]
fn jaeger_traces_written_as_zipkin_keep_tree_timing_and_status() {
    let jaeger = import_file("sample-traces/incident-before.jaeger.json").traces;
    let (_, again) = write_and_read(&jaeger);
    let (a, b) = (&jaeger[0], &again[0]);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.spans().iter().zip(b.spans()) {
        assert_eq!((x.id, x.parent, x.start, x.end, x.status), (y.id, y.parent, y.start, y.end, y.status));
        assert_eq!((a.str(x.name), a.str(x.service), a.str(x.op)), (b.str(y.name), b.str(y.service), b.str(y.op)));
        assert_eq!(a.str(x.status_message), b.str(y.status_message));
    }
}
