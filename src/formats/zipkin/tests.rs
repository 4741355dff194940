//! Zipkin importer and writer tests, on the checkout sample and the fixtures in
//! `tests/fixtures/zipkin/`.

use super::*;
use crate::formats::testkit::{big_trace, file, import_file, line_of, loaded_on, path_of, summary, value_text};
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
fn a_span_without_a_timestamp_is_placed_at_its_parents_start_and_named() {
    let t = &import_file("tests/fixtures/zipkin/no-timestamp.json").traces[0];
    let child = t.find(SpanId::new(0xb2).unwrap()).unwrap();
    let (root, span) = (t.span(t.roots()[0]), t.span(child));
    assert_eq!((span.start, span.duration()), (root.start, 2_000), "its duration is kept");
    assert!(span.flags.contains(SpanFlags::UNTIMED) && !root.flags.contains(SpanFlags::UNTIMED));
    let notes: Vec<String> = t.warnings().iter().map(|w| w.to_string()).collect();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("1 span(s) have no timestamp (00000000000000b2); each is placed at the start")),
        "{notes:?}"
    );
}

#[test]
fn untimed_spans_without_a_timed_parent_go_to_their_trace_start_and_a_timeless_file_is_refused() {
    let text = br#"[{"traceId":"1","id":"a","name":"root"},
        {"traceId":"1","id":"b","parentId":"a","name":"timed","timestamp":1000,"duration":5},
        {"traceId":"2","id":"c","name":"lost"}]"#;
    let t = &import("t.json", text).unwrap().traces[0];
    assert_eq!(t.len(), 2, "trace 2 has no time at all and is left out");
    let root = t.span(t.roots()[0]);
    assert!(root.flags.contains(SpanFlags::UNTIMED));
    assert_eq!(root.start, 1_000_000);
    let notes: Vec<String> = t.warnings().iter().map(|w| w.to_string()).collect();
    assert!(notes.iter().any(|n| n.contains("no timed parent (000000000000000a); placed at the start of their trace")));
    assert!(
        notes.iter().any(|n| n.contains("1 span(s) are in traces where no span has a timestamp (000000000000000c)"))
    );

    let Err(err) = parse(br#"[{"traceId":"1","id":"a"},{"traceId":"1","id":"b","parentId":"a"}]"#) else {
        panic!("a file with no timestamp at all was read")
    };
    assert_eq!(err.place, Place::Path("$".into()));
    assert!(err.message.contains("no span has a timestamp"), "{err:?}");
}

#[test]
fn one_span_object_is_read_as_a_list_of_one() {
    let t = &import_file("tests/fixtures/zipkin/object.json").traces[0];
    assert_eq!(t.len(), 1);
    assert!(t.warnings().iter().any(|w| w.to_string().contains("one span object rather than an array")));
}

#[test]
fn ids_that_are_not_hex_are_kept_as_their_text() {
    let text = br#"[{"traceId":"trace-checkout","id":"span1234567890ab","name":"root","timestamp":1000,"duration":9},
        {"traceId":"trace-checkout","id":"span-db","parentId":"span1234567890ab","name":"db","timestamp":1002,"duration":2}]"#;
    let imported = import("t.json", text).unwrap();
    assert_eq!(imported.traces.len(), 1);
    let t = &imported.traces[0];
    assert_eq!(t.roots().len(), 1, "the child found its parent by the text");
    assert_eq!((t.written_id(0), t.written_id(1)), ("span1234567890ab".to_owned(), "span-db".to_owned()));
    let notes: Vec<String> = t.warnings().iter().map(|w| w.to_string()).collect();
    assert!(notes.iter().any(|n| n.starts_with("2 span(s) have ids that are not hex (e.g. \"span1234567890ab\")")));
}

#[test]
fn unknown_kinds_and_number_tags_are_read_with_a_note() {
    let t = &import_file("tests/fixtures/zipkin/bad-kind.json").traces[0];
    assert_eq!(t.span(0).kind, SpanKind::Unspecified);
    assert!(t.warnings().iter().any(|w| w.to_string().starts_with("1 span(s) have a kind Zipkin does not define")));
    let t = &import_file("tests/fixtures/zipkin/number-tag.json").traces[0];
    assert_eq!(attr(t, 0, "http.status_code").as_deref(), Some("Str(\"200\")"));
    assert_eq!(attr(t, 0, "http.method").as_deref(), Some("Str(\"GET\")"));
    let notes: Vec<String> = t.warnings().iter().map(|w| w.to_string()).collect();
    let wanted = "1 span(s) have tag values that are numbers or booleans, not strings; kept as their text \
                  (e.g. a2fb4a1d1a96d312)";
    assert!(notes.iter().any(|n| n == wanted), "{notes:?}");
    let Err(err) = parse(br#"[{"traceId":"1","id":"2","timestamp":1,"tags":{"a":{"b":1}}}]"#) else {
        panic!("an object tag value was read")
    };
    assert_eq!(path_of(&err), "$[0].tags.a");
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

#[test]
fn a_big_file_reads_the_same_on_one_thread_and_on_many() {
    // Untimed spans and a shared server half among thousands, split across the threads' runs.
    let mut bytes = big_trace(Format::Zipkin, 9);
    let quirks = br#"{"traceId":"1","id":"a1","kind":"CLIENT","timestamp":10,"duration":50,"localEndpoint":{"serviceName":"web"}},
        {"traceId":"1","id":"a1","kind":"SERVER","shared":true,"timestamp":20,"duration":30,"localEndpoint":{"serviceName":"api"}},
        {"traceId":"1","id":"a2","parentId":"a1","name":"untimed","localEndpoint":{"serviceName":"api"}},"#;
    let at = bytes.len() / 2 + bytes[bytes.len() / 2..].windows(2).position(|w| w == b",{").unwrap() + 1;
    bytes.splice(at..at, quirks.iter().copied());
    assert!(crate::formats::split::array_elements(&bytes).is_some_and(|e| e.len() > 20_000), "the file splits");
    let on = |threads: usize| loaded_on(threads, "big.zipkin.json", &bytes);
    let one = on(1);
    assert!(one.1[0].iter().any(|w| w.contains("1 server span(s) share their client's span id")), "{:?}", one.1);
    assert!(one.1[0].iter().any(|w| w.contains("1 span(s) have no timestamp (00000000000000a2)")), "{:?}", one.1);
    for threads in [2, 3, 8] {
        assert!(on(threads) == one, "{threads} threads read the file differently");
    }
}
