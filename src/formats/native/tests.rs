//! The tracedeck format: every field read as written, errors that say where and what, the
//! version check, the sample file, and size. Exact round trips of generated, messy and sample
//! traces are in `tests/roundtrip.rs`.

use super::*;
use crate::formats::testkit::{self, line_of, path_of, summary};
use crate::formats::{Format, FormatError, import};
use crate::model::{AttrValue, SpanFlags, SpanId, SpanKind, Status, Trace, TraceId, Warning};
use crate::synth::{SynthParams, generate};

const T0: i64 = 1_718_000_000_000_000_000;

const FULL: &str = r#"{"tracedeck": 1, "traces": [
{"trace_id": "6cf173d587eb48568a9b2e12dcfbea52", "start": 1718000000000000000, "spans": [
{"id": "00000000000000a1", "start": 0, "duration": 500, "name": "POST /slack/action", "op": "http.server",
 "service": "control", "kind": "server", "status": "error", "status_message": "deadline_exceeded",
 "transaction": "/slack/action",
 "attrs": {"code": 200, "ratio": 1.0, "tiny": 4.9406564584124654e-324, "cached": false, "nan": {"float": "NaN"},
           "inf": {"float": "-Infinity"}, "method": "POST", "method": "GET\n"},
 "events": [{"time": 100, "name": "exception", "attrs": {"exception.type": "KeyError"}}, {"time": 120}]},
{"id": "00000000000000a2", "parent": "00000000000000a1", "start": 10, "service": "region",
 "trace_id": "8a9b2e12dcfbea52"},
{"id": "00000000000000a3", "parent": "00000000000000ff", "start": 300, "duration": 0, "end_before_start": true}
],
"errors": [{"title": "KeyError: 'view'", "span": "00000000000000a1", "time": 100, "event_id": "e1", "level": "error"},
           {"title": "somewhere"}],
"notes": ["a note from the first import"]}
]}"#;

fn read(bytes: &[u8]) -> Vec<Trace> {
    let imported = import("test.tracedeck.json", bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(imported.format, Format::Tracedeck);
    imported.traces
}

fn sid(v: u64) -> SpanId {
    SpanId::new(v).unwrap()
}

#[test]
fn every_field_reads_as_written() {
    let traces = read(FULL.as_bytes());
    assert_eq!(traces.len(), 1);
    let t = &traces[0];
    assert_eq!(t.trace_id(), TraceId(0x6cf173d587eb48568a9b2e12dcfbea52));
    let root = t.span(0);
    assert_eq!((root.id, root.start, root.end, root.parent), (sid(0xa1), T0, T0 + 500, None));
    assert_eq!(
        [root.name, root.op, root.service, root.status_message, root.transaction].map(|s| t.str(s)),
        ["POST /slack/action", "http.server", "control", "deadline_exceeded", "/slack/action"]
    );
    assert_eq!((root.kind, root.status), (SpanKind::Server, Status::Error));
    let attrs: Vec<String> =
        t.attrs(0).iter().map(|a| format!("{}={}", t.str(a.key), testkit::value_text(t, a.value))).collect();
    assert_eq!(
        attrs,
        [
            "code=Int(200)",
            "ratio=Float(1.0)",
            "tiny=Float(5e-324)",
            "cached=Bool(false)",
            "nan=Float(NaN)",
            "inf=Float(-inf)",
            "method=Str(\"POST\")",
            "method=Str(\"GET\\n\")",
        ]
    );
    let events: Vec<(i64, &str, usize)> =
        t.events(0).iter().map(|e| (e.time, t.str(e.name), t.attrs_in(e.attrs).len())).collect();
    assert_eq!(events, [(T0 + 100, "exception", 1), (T0 + 120, "", 0)]);

    let open = t.span(t.find(sid(0xa2)).unwrap());
    assert!(open.flags.contains(SpanFlags::OPEN), "no duration: never ended");
    assert_eq!((open.start, open.end, open.parent), (T0 + 10, T0 + 500, Some(0)));
    assert_eq!(open.trace_id, TraceId(0x8a9b2e12dcfbea52), "a span's own 64-bit trace id is kept");
    assert_eq!((open.kind, open.status, t.str(open.service)), (SpanKind::Unspecified, Status::Unset, "region"));

    let inverted = t.span(t.find(sid(0xa3)).unwrap());
    assert!(inverted.flags.contains(SpanFlags::END_BEFORE_START) && inverted.flags.contains(SpanFlags::ORPHAN));
    assert_eq!((inverted.start, inverted.end), (T0 + 300, T0 + 300));

    let errors: Vec<_> =
        t.errors().iter().map(|e| (t.str(e.title), e.span, e.time, t.str(e.event_id), t.str(e.level))).collect();
    assert_eq!(
        errors,
        [("KeyError: 'view'", Some(0), Some(T0 + 100), "e1", "error"), ("somewhere", None, None, "", "")]
    );
    assert_eq!(t.warnings()[0], Warning::Import("a note from the first import".into()));
    assert!(t.warnings().iter().any(|w| matches!(w, Warning::OpenSpans { count: 1 })), "{:?}", t.warnings());
}

#[test]
fn keys_may_come_in_any_order_after_the_version() {
    let doc = r#"{"tracedeck":1,"traces":[{"spans":[{"start":5,"duration":1,"id":"1"}],"start":100,"trace_id":"2"}]}"#;
    let t = &read(doc.as_bytes())[0];
    assert_eq!((t.trace_id(), t.span(0).start, t.span(0).end), (TraceId(2), 105, 106));
}

#[test]
fn the_writer_writes_floats_so_they_read_back_as_floats_and_leaves_out_empty_fields() {
    let t = &read(FULL.as_bytes())[0];
    let mut out = Vec::new();
    Format::Tracedeck.write(std::slice::from_ref(t), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("{\"tracedeck\":2,\"traces\":[\n"), "{text}");
    assert!(text.contains(r#""ratio":1.0,"#), "{text}");
    assert!(text.contains(r#""nan":{"float":"NaN"},"inf":{"float":"-Infinity"}"#), "{text}");
    assert!(text.contains(r#""method":"POST","method":"GET\n""#), "repeated keys are kept: {text}");
    assert!(text.contains(r#"{"id":"00000000000000a2","parent":"00000000000000a1","start":10,"service":"region","#));
    assert!(!text.contains("\"name\":\"\""), "{text}");
    assert_eq!(summary(&read(text.as_bytes())[0]), summary(t));
}

#[test]
fn it_is_smaller_than_otlp_json() {
    let trace = generate(&SynthParams { seed: 7, spans: 2_000, ..SynthParams::default() });
    let size = |format: Format| {
        let mut out = Vec::new();
        format.write(std::slice::from_ref(&trace), &mut out).unwrap();
        out.len()
    };
    let (native, otlp) = (size(Format::Tracedeck), size(Format::Otlp));
    assert!(native < otlp * 3 / 4, "tracedeck {native} bytes, OTLP {otlp} bytes");
}

/// The sample is what the writer makes of the Sentry sample. `TRACEDECK_BLESS=1` rewrites it
/// after a deliberate change to the writer.
#[test]
fn the_sample_is_the_sentry_incident_written_by_the_writer_and_reads_back_the_same() {
    let sentry = testkit::import_file("sample-traces/incident-after.sentry.json").traces;
    let mut written = Vec::new();
    Format::Tracedeck.write(&sentry, &mut written).unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-traces/incident-after.tracedeck.json");
    if std::env::var_os("TRACEDECK_BLESS").is_some() {
        std::fs::write(path, &written).unwrap();
    }
    let sample = testkit::import_file("sample-traces/incident-after.tracedeck.json");
    assert_eq!(sample.format, Format::Tracedeck);
    assert!(testkit::file("sample-traces/incident-after.tracedeck.json") == written, "run with TRACEDECK_BLESS=1");
    assert_eq!(sample.traces.len(), sentry.len());
    for (back, original) in sample.traces.iter().zip(&sentry) {
        assert_eq!(summary(back), summary(original));
        assert_eq!(back.warnings(), original.warnings());
    }
}

fn error(doc: &str) -> FormatError {
    match parse(doc.as_bytes()) {
        Ok(_) => panic!("read without error: {doc}"),
        Err(e) => e,
    }
}

/// A document of one trace whose one span has `fields` besides its id and start.
fn with_span(fields: &str) -> String {
    format!(
        "{{\"tracedeck\": 1, \"traces\": [{{\"trace_id\": \"1\", \"start\": 0, \"spans\": [\n{{\"id\": \"1\", \"start\": 0{fields}}}]}}]}}"
    )
}

#[test]
fn a_newer_version_is_named_and_refused() {
    let err = error(r#"{"tracedeck": 3, "traces": [{"what": "new"}]}"#);
    assert_eq!(path_of(&err), "$.tracedeck");
    assert_eq!(line_of(&err), Some(1));
    assert!(err.message.contains("version 3, newer than this tracedeck reads (2)"), "{}", err.message);
    assert!(error(r#"{"tracedeck": 0}"#).message.contains("expected the format version, 1 to 2"));
    assert!(error(r#"{"tracedeck": "1"}"#).message.contains("expected the format version, 1 to 2"));
}

#[test]
fn the_version_must_come_first() {
    let err = error(r#"{"traces": [], "tracedeck": 1}"#);
    assert!(err.message.contains("expected the format version first"), "{}", err.message);
    assert!(err.message.contains("\"traces\""), "{}", err.message);
    assert!(error("{}").message.contains("expected {\"tracedeck\": 2, ...}"));
}

#[test]
fn errors_name_the_line_the_path_and_what_was_expected() {
    let cases: [(&str, &str, &str); 8] = [
        (", \"parent\": \"xyz\"", "$.traces[0].spans[0].parent", "expected a hex span id"),
        (", \"colour\": \"red\"", "$.traces[0].spans[0].colour", "unknown field `colour`"),
        (", \"kind\": \"SERVER\"", "$.traces[0].spans[0].kind", "unknown variant `SERVER`, expected one of `internal`"),
        (", \"duration\": -5", "$.traces[0].spans[0].duration", "expected a duration of zero or more nanoseconds"),
        (", \"duration\": 1.5", "$.traces[0].spans[0].duration", "invalid type: floating point"),
        (", \"attrs\": {\"tags\": [\"a\"]}", "$.traces[0].spans[0].attrs.tags", "expected a string, a number"),
        (", \"attrs\": {\"big\": 9223372036854775808}", "$.traces[0].spans[0].attrs.big", "does not fit in 64 bits"),
        (", \"events\": [{\"name\": \"x\"}]", "$.traces[0].spans[0].events[0]", "missing field `time`"),
    ];
    for (fields, path, message) in cases {
        let err = error(&with_span(fields));
        assert_eq!((path_of(&err), line_of(&err)), (path, Some(2)), "{fields}: {err:?}");
        assert!(err.message.contains(message), "{fields}: {}", err.message);
    }
}

#[test]
fn a_trace_without_its_id_or_start_and_a_truncated_file_are_said_plainly() {
    let err = error(r#"{"tracedeck": 1, "traces": [{"start": 0, "spans": []}]}"#);
    assert_eq!(path_of(&err), "$.traces[0]");
    assert!(err.message.contains("missing field `trace_id`"), "{}", err.message);
    assert!(error(r#"{"tracedeck": 1, "traces": [{"trace_id": "1", "spans": []}]}"#).message.contains("`start`"));
    assert!(error(&with_span("")[..60]).message.contains("truncated"));
    let far =
        r#"{"tracedeck":1,"traces":[{"trace_id":"1","start":9223372036854775000,"spans":[{"id":"1","start":900}]}]}"#;
    assert!(error(far).message.contains("past the year 2262"), "{}", error(far).message);
}

#[test]
fn import_errors_name_the_file_and_the_format() {
    let err = import("saved.tracedeck.json", with_span(", \"status\": \"bad\"").as_bytes()).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("saved.tracedeck.json: tracedeck JSON, at line 2, column"), "{text}");
    assert!(text.contains("($.traces[0].spans[0].status)"), "{text}");
}

#[test]
fn floats_read_back_bit_for_bit() {
    // serde_json without its `float_roundtrip` feature reads this (the shortest text of the
    // float, as the writer writes it) one bit off, as 1.1362275116276525e-8.
    let exact: f64 = "1.1362275116276523e-8".parse().unwrap();
    let t = &read(with_span(r#", "attrs": {"f": 1.1362275116276523e-8}"#).as_bytes())[0];
    let value = t.attrs(0)[0].value;
    assert!(matches!(value, AttrValue::Float(f) if f.to_bits() == exact.to_bits()), "{value:?}");
}

#[test]
fn attribute_values_keep_their_type() {
    let t = &read(with_span(r#", "attrs": {"i": -3, "f": -0.0, "e": 1e300, "s": "1", "b": true}"#).as_bytes())[0];
    let values: Vec<AttrValue> = t.attrs(0).iter().map(|a| a.value).collect();
    assert!(
        matches!(values[..], [AttrValue::Int(-3), AttrValue::Float(z), AttrValue::Float(e), AttrValue::Str(_), AttrValue::Bool(true)]
        if z.to_bits() == (-0.0f64).to_bits() && e == 1e300)
    );
}

#[test]
fn resources_are_listed_once_and_named_by_their_spans() {
    // Version 1 files (no resources) still read; resources may follow the spans naming them.
    let doc = r#"{"tracedeck": 2, "traces": [{"trace_id": "1", "start": 0, "spans": [
{"id": "1", "start": 0, "duration": 5, "resource": 1},
{"id": "2", "parent": "1", "start": 1, "duration": 1, "resource": 1},
{"id": "3", "parent": "1", "start": 2, "duration": 1, "resource": 0},
{"id": "4", "parent": "1", "start": 3, "duration": 1}],
"resources": [{"host.name": "web-1"}, {"host.name": "web-2", "process.pid": 42}]}]}"#;
    let t = &read(doc.as_bytes())[0];
    let host = |id: u64| {
        t.resource(t.find(sid(id)).unwrap()).first().map(|a| match a.value {
            AttrValue::Str(v) => t.str(v),
            _ => "not text",
        })
    };
    assert_eq!([host(1), host(2), host(3), host(4)], [Some("web-2"), Some("web-2"), Some("web-1"), None]);
    assert_eq!(t.resource(t.find(sid(1)).unwrap()).len(), 2);

    let mut written = Vec::new();
    Format::Tracedeck.write(std::slice::from_ref(t), &mut written).unwrap();
    let text = String::from_utf8(written.clone()).unwrap();
    assert_eq!(text.matches("web-2").count(), 1, "each resource is written once:\n{text}");
    let back = &read(&written)[0];
    assert_eq!(summary(back), summary(t), "resources read back as they were");

    let err = error(&with_span(", \"resource\": 2"));
    assert!(err.message.contains("names resource 2, but the trace lists 0 resource(s)"), "{}", err.message);
}

#[test]
fn a_span_or_event_written_as_an_array_of_its_fields_reads_as_the_object_and_repeats_are_named() {
    // As the derived structs this reader was made of accepted: the fields in order.
    let as_object =
        with_span(r#", "duration": 4, "name": "n", "events": [{"time": 1, "name": "e", "attrs": {"a": 1}}]"#);
    let as_array = r#"{"tracedeck": 1, "traces": [{"trace_id": "1", "start": 0, "spans": [
["1", null, null, 0, 4, false, false, "n", "", "", null, null, "", "", {}, null, [[1, "e", {"a": 1}]]]]}]}"#;
    assert_eq!(summary(&read(as_array.as_bytes())[0]), summary(&read(as_object.as_bytes())[0]));
    let err = error(r#"{"tracedeck": 1, "traces": [{"trace_id": "1", "start": 0, "spans": [["1", null]]}]}"#);
    assert!(err.message.contains("invalid length 3, expected struct SpanDoc with 17 elements"), "{}", err.message);
    let err = error(&with_span(r#", "name": "a", "name": "b""#));
    assert_eq!(path_of(&err), "$.traces[0].spans[0]");
    assert!(err.message.contains("duplicate field `name`"), "{}", err.message);
    let err = error(&with_span(r#", "events": [{"time": 1, "time": 2}]"#));
    assert!(err.message.contains("duplicate field `time`"), "{}", err.message);
}

/// A document of one trace over 4 MiB: its `resources` (and `start`) before or after its
/// spans; spans with parents, attributes, events and resources; errors and notes. The span ten
/// before the end is `late` when given.
fn one_big_trace(resources_first: bool, late: Option<&str>) -> String {
    let n = (6 << 20) / 200;
    let span = |s: usize| {
        if let Some(late) = late.filter(|_| s == n - 10) {
            return late.to_owned();
        }
        let parent = if s == 0 { String::new() } else { format!(r#""parent":"{:016x}","#, s / 3 + 1) };
        let resource = if s % 5 == 4 { String::new() } else { format!(r#","resource":{}"#, s % 4) };
        let events = if s.is_multiple_of(11) {
            format!(r#","events":[{{"time":{s},"name":"e{}"}}]"#, s % 7)
        } else {
            String::new()
        };
        format!(
            r#"{{"id":"{:016x}",{parent}"start":{s},"duration":{},"name":"op{}","service":"svc{}","attrs":{{"k{}":"v{}","n":{s}}}{resource}{events}}}"#,
            s + 1,
            s % 100,
            s % 13,
            s % 3,
            s % 9,
            s % 17
        )
    };
    let spans: Vec<String> = (0..n).map(span).collect();
    let spans = format!("\"spans\":[\n{}\n]", spans.join(",\n"));
    let resources =
        r#""start":1718000000000000000,"resources":[{"host":"a"},{"host":"b","pid":2},{"host":"c"},{"z":1.5}]"#;
    let (a, b) = if resources_first { (resources, spans.as_str()) } else { (spans.as_str(), resources) };
    format!(
        r#"{{"tracedeck":2,"traces":[
{{"trace_id":"6cf173d587eb48568a9b2e12dcfbea52",{a},{b},
"errors":[{{"title":"KeyError","span":"0000000000000001","time":5,"event_id":"e1","level":"error"}}],
"notes":["a note"]}}
]}}"#
    )
}

#[test]
fn the_spans_of_one_big_trace_load_the_same_on_any_number_of_threads() {
    use crate::formats::split::Step;
    let path = [Step::Member(&["traces"]), Step::Only, Step::Member(&["spans"])];
    for resources_first in [true, false] {
        let doc = one_big_trace(resources_first, None);
        let one = testkit::loaded_alike("big.tracedeck.json", doc.as_bytes(), &path, read::parse_in_parallel);
        assert_eq!(one.1, [["a note"]]);
        assert!(one.0.contains(r#""z":1.5"#) && one.0.contains("KeyError"), "{}", &one.0[..2000]);
    }
    // A trace with two span lists reads both, as one thread does.
    let doc = one_big_trace(true, None).replace(r#""notes":"#, r#""spans":[{"id":"ab","start":0}],"notes":"#);
    let one = testkit::loaded_on(1, "big.tracedeck.json", doc.as_bytes());
    assert!(one.0.contains(r#""id":"00000000000000ab""#));
    assert!(testkit::loaded_on(2, "big.tracedeck.json", doc.as_bytes()) == one);
}

#[test]
fn an_error_in_the_spans_of_one_big_trace_is_the_one_a_single_thread_finds() {
    let late = [
        r#"{"id":"00000000000000ff","id":"00000000000000fe","start":1}"#,
        r#"{"id":"00000000000000ff","start":1,"resource":4}"#,
        r#"{"id":"00000000000000ff","start":9223372036854775000}"#,
        r#"{"id":"00000000000000ff","start":1,"duration":1,"events":[{"time":9223372036854775000}]}"#,
        r#"{"id":"00000000000000ff","start":1,"kind":"sideways"}"#,
    ];
    for resources_first in [true, false] {
        let mut docs: Vec<String> = late.iter().map(|late| one_big_trace(resources_first, Some(late))).collect();
        docs.push(one_big_trace(resources_first, None).replace(r#"{"tracedeck":2"#, r#"{"tracedeck":9"#));
        docs.push(one_big_trace(resources_first, None).replace(r#""time":5"#, r#""time":9223372036854775000"#));
        for doc in docs {
            let one = testkit::failed_alike(doc.as_bytes());
            assert!(line_of(&one.error).is_some(), "{one}");
        }
    }
}
