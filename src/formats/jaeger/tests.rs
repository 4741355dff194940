//! Jaeger importer and writer tests, on the incident sample and the fixtures in
//! `tests/fixtures/jaeger/`.

use super::*;
use crate::formats::testkit::{file, import_file, line_of, path_of, summary, value_text};
use crate::formats::{Format, Place, import};
use crate::model::{SpanKind, Status, Trace, Warning};

const SAMPLE: &str = "sample-traces/incident-before.jaeger.json";

fn by_name(trace: &Trace, name: &str) -> u32 {
    (0..trace.len() as u32).find(|&i| trace.str(trace.span(i).name) == name).unwrap_or_else(|| panic!("no {name}"))
}

fn attr(trace: &Trace, idx: u32, key: &str) -> Option<String> {
    trace.attrs(idx).iter().find(|a| trace.str(a.key) == key).map(|a| value_text(trace, a.value))
}

/// A tag of the span's process (its resource).
fn process_tag(trace: &Trace, idx: u32, key: &str) -> Option<String> {
    trace.resource(idx).iter().find(|a| trace.str(a.key) == key).map(|a| value_text(trace, a.value))
}

fn fixture_error(name: &str) -> crate::formats::FormatError {
    match parse(&file(&format!("tests/fixtures/jaeger/{name}"))) {
        Ok(_) => panic!("{name} was read without error"),
        Err(e) => e,
    }
}

#[test]
fn the_incident_sample_tells_the_slack_story() {
    let imported = import_file(SAMPLE);
    assert_eq!(imported.format, Format::Jaeger);
    assert_eq!(imported.traces.len(), 1);
    let t = &imported.traces[0];
    assert_eq!(t.len(), 7);

    let root = t.roots()[0];
    assert_eq!(t.roots().len(), 1);
    let r = t.span(root);
    assert_eq!(t.str(r.name), "POST /extensions/slack/action/");
    assert_eq!((t.str(r.service), r.kind, t.str(r.op)), ("control", SpanKind::Server, "http.server"));
    assert_eq!(r.duration(), 486_212_000);
    assert_eq!(attr(t, root, "http.status_code").as_deref(), Some("Int(200)"));
    assert_eq!(process_tag(t, root, "hostname").as_deref(), Some("Str(\"control-web-7d9f8c6b5-x2lqp\")"));
    assert_eq!(attr(t, root, "hostname"), None, "process tags are the process's, not the span's");
    assert_eq!(attr(t, root, "span.kind"), None, "span.kind became the kind, not an attribute");

    let producer = by_name(t, "apply_async/sentry.integrations.slack.tasks.open_modal");
    assert_eq!((t.span(producer).kind, t.str(t.span(producer).op)), (SpanKind::Producer, "queue.publish"));
    let task = by_name(t, "run/sentry.integrations.slack.tasks.open_modal");
    let task_span = t.span(task);
    assert_eq!(task_span.parent, Some(producer), "the FOLLOWS_FROM reference is the task's parent");
    assert_eq!((t.str(task_span.service), task_span.kind), ("region", SpanKind::Consumer));
    assert!(t.offset(task_span.start) > 2_500_000_000);
    assert!(attr(t, task, REFERENCES).is_some_and(|r| r.contains("FOLLOWS_FROM")));
    assert!(t.warnings().iter().any(|w| matches!(w, Warning::Import(n) if n.contains("FOLLOWS_FROM"))));
    assert_eq!(attr(t, task, "celery.queue.wait_seconds").as_deref(), Some("Float(2.421)"));

    let open = by_name(t, "POST https://slack.com/api/views.open");
    let o = t.span(open);
    assert_eq!(o.parent, Some(task));
    assert!(t.offset(o.start) > 3_000_000_000, "views.open starts after the 3 s trigger_id expiry");
    assert_eq!((o.status, t.str(o.status_message)), (Status::Error, "SlackApiError: expired_trigger_id"));
    assert_eq!((o.kind, t.str(o.op)), (SpanKind::Client, "http.client"));
    assert_eq!(attr(t, open, "slack.ok").as_deref(), Some("Bool(false)"));
    assert_eq!(attr(t, open, "error"), None);
    let events = t.events(open);
    assert_eq!(events.len(), 2);
    assert_eq!(t.str(events[0].name), "slack.api.response");
    assert_eq!(t.offset(events[0].time), 3_361_020_000);
    let fields: Vec<String> =
        t.attrs_in(events[0].attrs).iter().map(|a| format!("{}={}", t.str(a.key), value_text(t, a.value))).collect();
    assert_eq!(fields, ["slack.ok=Bool(false)", "slack.error=Str(\"expired_trigger_id\")"]);
    assert_eq!(t.str(events[1].name), "exception");
    assert_eq!(t.str(t.span(by_name(t, "SELECT sentry_integration")).op), "db");
}

#[test]
fn quirks_unpadded_ids_legacy_parents_typed_tags_and_warnings() {
    let imported = import_file("tests/fixtures/jaeger/quirks.json");
    assert_eq!(imported.traces.len(), 2);
    let t = &imported.traces[0];
    assert_eq!(t.len(), 3, "the 16- and 32-digit trace ids are one trace");
    let root = by_name(t, "GET /users");
    let tags: Vec<String> = ["big", "bignum", "ratio", "cached", "blob"]
        .iter()
        .map(|k| attr(t, root, k).unwrap_or_else(|| panic!("no {k}")))
        .collect();
    assert_eq!(tags, ["Int(9007199254740993)", "Int(9007199254740995)", "Float(0.25)", "Bool(false)", "Str(\"AAEC\")"]);
    assert_eq!(t.span(root).status, Status::Error, "error tag \"true\" as a string");
    assert_eq!(process_tag(t, root, "hostname").as_deref(), Some("Str(\"api-1\")"));

    let legacy = by_name(t, "legacy child");
    assert_eq!(t.span(legacy).parent, Some(root), "parentSpanID links when there are no references");
    assert_eq!(t.span(legacy).id.to_string(), "0000000000000abc");
    assert_eq!(t.str(t.span(legacy).service), "worker", "embedded process");
    assert_eq!(t.span(legacy).duration(), 0);

    let notes: Vec<String> = t.warnings().iter().map(|w| w.to_string()).collect();
    assert!(notes.iter().any(|n| n.contains("trace too big; truncated")), "{notes:?}");
    assert!(
        notes.iter().any(|n| n.contains("on 2 spans") && n.contains("clock skew adjustment disabled")),
        "{notes:?}"
    );
    assert!(notes.iter().any(|n| n.contains("missing 1111111111111111")), "{notes:?}");

    let cron = &imported.traces[1];
    assert_eq!(cron.trace_id().to_string(), "0000000000000077");
    assert_eq!(cron.span(0).status, Status::Ok);
    let event = cron.events(0)[0];
    assert_eq!((cron.str(event.name), cron.offset(event.time)), ("log", 500_000));
}

#[test]
fn a_truncated_file_says_so_with_its_line() {
    let err = fixture_error("truncated.json");
    assert!(err.message.contains("truncated"), "{err:?}");
    assert_eq!(line_of(&err), Some(4));
}

#[test]
fn a_duration_given_as_a_string_is_refused_at_its_path() {
    let err = fixture_error("string-duration.json");
    assert_eq!(path_of(&err), "$.data[0].spans[0].duration");
    assert_eq!(line_of(&err), Some(4));
    assert!(
        err.message.contains("invalid type: string \"250000\", expected a non-negative integer count of microseconds")
    );
}

#[test]
fn a_span_without_an_id_is_refused_at_its_path() {
    let err = fixture_error("missing-span-id.json");
    assert_eq!(path_of(&err), "$.data[0].spans[1]");
    assert!(err.message.contains("missing field `spanID`"), "{err:?}");
}

#[test]
fn a_negative_start_time_is_refused() {
    let err = fixture_error("negative-start.json");
    assert_eq!(path_of(&err), "$.data[0].spans[0].startTime");
    assert!(err.message.contains("-1700000000000000") && err.message.contains("non-negative"), "{err:?}");
}

#[test]
fn a_reference_by_a_text_id_is_kept_as_text_and_an_empty_one_is_refused() {
    let t = &import_file("tests/fixtures/jaeger/bad-span-id.json").traces[0];
    let notes: Vec<String> = t.warnings().iter().map(|w| w.to_string()).collect();
    assert!(notes.iter().any(|n| n.starts_with("1 span(s) have ids that are not hex (e.g. \"xyz\")")), "{notes:?}");
    assert!(t.span(0).flags.contains(crate::model::SpanFlags::ORPHAN), "xyz is not in the file");
    let empty = String::from_utf8(file("tests/fixtures/jaeger/bad-span-id.json")).unwrap().replace("\"xyz\"", "\"\"");
    let Err(err) = parse(empty.as_bytes()) else { panic!("an empty reference id was read") };
    assert_eq!(path_of(&err), "$.data[0].spans[0].references[0].spanID");
    assert!(err.message.contains("expected a span id: the id is empty"), "{err:?}");
}

#[test]
fn a_bare_array_of_spans_with_inline_processes_is_read() {
    let text = br#"[{"traceID":"2be38093ead7a083","spanID":"7606ddfe69932d34","operationName":"a","references":[],
        "startTime":1605223981761425,"duration":267037,"tags":[],"process":{"serviceName":"front","tags":[]}},
       {"traceID":"2be38093ead7a083","spanID":"7bd66f09ba90ea3d","operationName":"b",
        "references":[{"refType":"CHILD_OF","traceID":"2be38093ead7a083","spanID":"7606ddfe69932d34"}],
        "startTime":1605223981965074,"duration":32782,"tags":[{"key":"error","type":"bool","value":"true"}],
        "process":{"serviceName":"back","tags":[]}}]"#;
    let imported = import("spans.json", text).unwrap();
    assert_eq!(imported.format, Format::Jaeger);
    let t = &imported.traces[0];
    assert_eq!((t.len(), t.roots().len()), (2, 1));
    assert_eq!((t.str(t.span(0).service), t.str(t.span(1).service)), ("front", "back"));
    assert_eq!(t.span(1).status, Status::Error);
    assert!(t.warnings()[0].to_string().starts_with("the file is a bare array of Jaeger spans"));
    let Err(err) = parse(br#"[{"traceID":"1","spanID":"2","startTime":1,"duration":1},{"spanID":"3"}]"#) else {
        panic!("a span without its fields was read")
    };
    assert_eq!(path_of(&err), "$[1]");
}

#[test]
fn a_tag_whose_value_does_not_match_its_type_is_kept_as_written_text() {
    let t = &import_file("tests/fixtures/jaeger/bad-tag.json").traces[0];
    assert_eq!(attr(t, 0, "http.status_code").as_deref(), Some("Str(\"two hundred\")"));
    let notes: Vec<String> = t.warnings().iter().map(|w| w.to_string()).collect();
    let wanted = "1 tag(s) do not match their declared type (tag \"http.status_code\" is declared int64 but its value \
                  is \"two hundred\"); kept as written text";
    assert!(notes.iter().any(|n| n == wanted), "{notes:?}");
}

#[test]
fn a_process_id_not_in_processes_leaves_the_span_without_a_service() {
    let t = &import_file("tests/fixtures/jaeger/unknown-process.json").traces[0];
    assert_eq!(t.str(t.span(0).service), "");
    let notes: Vec<String> = t.warnings().iter().map(|w| w.to_string()).collect();
    let wanted = "1 span(s) name a processID that is not in their trace's processes (e.g. \"p2\" at \
                  $.data[0].spans[0].processID); shown without a service";
    assert!(notes.iter().any(|n| n == wanted), "{notes:?}");
}

#[test]
fn query_errors_and_empty_answers_are_errors() {
    let err = fixture_error("query-error.json");
    assert_eq!(err.place, Place::Path("$.errors[0]".into()));
    assert_eq!(err.message, "the Jaeger query failed: trace not found (code 404)");
    let err = fixture_error("empty-data.json");
    assert_eq!(err.place, Place::Path("$.data".into()));
    assert!(err.message.contains("no traces"), "{err:?}");
}

#[test]
fn a_reference_cycle_is_a_model_error_naming_the_spans() {
    let path = "tests/fixtures/jaeger/cycle.json";
    let err = import(path, &file(path)).unwrap_err();
    assert_eq!((err.format, &err.error.place), (Some(Format::Jaeger), &Place::Whole));
    let text = err.to_string();
    assert!(text.contains("cycle") && text.contains("0000000000000002") && text.contains("0000000000000003"), "{text}");
}

fn round_trip(path: &str) {
    let first = import_file(path).traces;
    let mut out = Vec::new();
    Format::Jaeger.write(&first, &mut out).expect("write");
    let again = import("written.json", &out).unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&out)));
    assert_eq!(again.format, Format::Jaeger);
    let before: Vec<Vec<String>> = first.iter().map(summary).collect();
    let after: Vec<Vec<String>> = again.traces.iter().map(summary).collect();
    assert_eq!(before, after);
}

#[test]
fn the_writer_round_trips_the_incident_sample() {
    round_trip(SAMPLE);
}

#[test]
fn the_writer_round_trips_the_quirks() {
    round_trip("tests/fixtures/jaeger/quirks.json");
}

#[test]
fn otlp_resource_attributes_become_process_tags() {
    let otlp = import_file("sample-traces/incident-before.otlp.jsonl").traces;
    let mut written = Vec::new();
    Format::Jaeger.write(&otlp, &mut written).unwrap();
    let back = &import("back.json", &written).unwrap().traces[0];
    let front = by_name(back, "POST /extensions/slack/action/");
    assert_eq!(process_tag(back, front, "host.name").as_deref(), Some("Str(\"control-web-5c8d9\")"));
    assert_eq!(process_tag(back, front, "deployment.environment").as_deref(), Some("Str(\"production\")"));
    assert_eq!(process_tag(back, front, "service.name"), None, "the service is the process's serviceName");
    let written = String::from_utf8(written).unwrap();
    assert_eq!(written.matches("control-web-5c8d9").count(), 1, "a process's tags are written once");
}

/// What a Jaeger document loads as: every trace in tracedeck's format, and its warnings.
fn loaded(json: &str) -> String {
    let imported = import("t.json", json.as_bytes()).expect("the document is read");
    let mut out = Vec::new();
    let traces: Vec<&Trace> = imported.traces.iter().collect();
    crate::formats::native::write(&traces, &mut out).expect("written");
    let notes: Vec<String> = imported.traces.iter().flat_map(|t| t.warnings().iter().map(|w| w.to_string())).collect();
    format!("{}\n{notes:?}", String::from_utf8(out).expect("utf-8"))
}

#[test]
fn a_trace_loads_the_same_whatever_the_order_of_its_fields() {
    let process = r#""processes":{"p1":{"serviceName":"api","tags":[{"key":"host","type":"int64","value":"h1"}]},
        "p2":{"serviceName":"db","tags":[]}}"#;
    let trace_fields = format!(r#""traceID":"abc",{process},"warnings":["clock skew adjusted"]"#);
    let span = |id: &str, pid: &str, tags_first: bool| {
        let tags = r#""tags":[{"key":"n","type":"bool","value":"maybe"},{"key":"span.kind","value":"server"}]"#;
        let logs = r#""logs":[{"timestamp":2,"fields":[{"key":"event","value":"retry"},
            {"key":"k","type":"float64","value":"x"}]}]"#;
        let (a, b) = if tags_first { (tags, logs) } else { (logs, tags) };
        // Span 2's process is nowhere; span 3's is only inline.
        let inline = r#","process":{"serviceName":"inline","tags":[{"key":"z","type":"int64","value":"q"}]}"#;
        let inline = if pid == "p9" { "" } else { inline };
        format!(
            r#"{{"traceID":"abc","spanID":"{id}","operationName":"op{id}","startTime":1,"duration":5,{a},{b},
            "processID":"{pid}"{inline},"warnings":["w{id}"]}}"#
        )
    };
    let spans = format!(r#""spans":[{},{},{}]"#, span("1", "p1", true), span("2", "p9", true), span("3", "p8", true));
    let shuffled =
        format!(r#""spans":[{},{},{}]"#, span("1", "p1", false), span("2", "p9", false), span("3", "p8", false));
    let before = format!(r#"{{"data":[{{{trace_fields},{spans}}}]}}"#);
    let after = format!(r#"{{"data":[{{{shuffled},{trace_fields}}}]}}"#);
    assert_eq!(loaded(&before), loaded(&after));
    let bare_before = format!(r#"{{{trace_fields},{spans}}}"#);
    let bare_after = format!(r#"{{{shuffled},{trace_fields}}}"#);
    assert_eq!(loaded(&bare_before), loaded(&bare_after));
    let notes = loaded(&after);
    assert!(notes.contains("8 tag(s) do not match"), "{notes}");
    assert!(notes.contains(r#"(tag \"host\" is declared int64"#), "{notes}");
    assert!(notes.contains("e.g. \\\"p9\\\" at $.data[0].spans[1].processID"), "{notes}");
}

#[test]
fn a_span_field_written_twice_is_refused_at_its_path() {
    let Err(err) =
        parse(br#"{"data":[{"spans":[{"traceID":"1","spanID":"2","spanID":"3","startTime":1,"duration":1}]}]}"#)
    else {
        panic!("a duplicate field was read")
    };
    assert!(err.message.contains("duplicate field `spanID`"), "{err:?}");
    assert_eq!(path_of(&err), "$.data[0].spans[0]");
}

/// A query answer of `traces` traces over 4 MB, with odd tags, unknown processes, warnings and
/// inline processes spread over them, and what follows `data`.
fn big_answer(traces: usize, after_data: &str) -> String {
    let spans_per_trace = (5 << 20) / 200 / traces;
    let trace = |t: usize| {
        let spans: Vec<String> = (0..spans_per_trace)
            .map(|s| {
                let pid = ["p1", "p2", "p9"][(t + s) % 3];
                let odd = if (t * 7 + s).is_multiple_of(50) { "int64" } else { "string" };
                let inline = if s.is_multiple_of(97) { r#","process":{"serviceName":"inline","tags":[]}"# } else { "" };
                format!(
                    r#"{{"traceID":"{:x}","spanID":"{:x}","operationName":"op{}","startTime":{},"duration":7,
                    "tags":[{{"key":"k","type":"{odd}","value":"v{t}"}}],"processID":"{pid}"{inline},
                    "warnings":["w{}"]}}"#,
                    t + 1,
                    s + 1,
                    s % 13,
                    1_000 + s,
                    s % 5
                )
            })
            .collect();
        format!(
            r#"{{"traceID":"{:x}","spans":[{}],"processes":{{"p1":{{"serviceName":"api","tags":[{{"key":"h",
            "type":"bool","value":"t{t}"}}]}},"p2":{{"serviceName":"db"}}}},"warnings":["trace-level"]}}"#,
            t + 1,
            spans.join(",")
        )
    };
    let data: Vec<String> = (0..traces).map(trace).collect();
    format!(r#"{{"data":[{}]{after_data}}}"#, data.join(",\n"))
}

fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a pool").install(f)
}

#[test]
fn a_big_answer_loads_the_same_on_any_number_of_threads() {
    let doc = big_answer(9, r#","total":9,"errors":null"#);
    assert!(doc.len() > 4 << 20, "{}", doc.len());
    let one = on_threads(1, || loaded(&doc));
    assert_eq!(on_threads(2, || loaded(&doc)), one);
    assert_eq!(on_threads(3, || loaded(&doc)), one);
    assert!(one.contains("tag(s) do not match"), "{}", &one[one.len() - 2000..]);

    let failed = big_answer(3, r#","errors":[{"code":500,"msg":"boom"}]"#);
    let err = |threads| on_threads(threads, || parse(failed.as_bytes()).err().expect("a query error"));
    assert_eq!(err(3).message, err(1).message);
    assert_eq!(err(3).place, Place::Path("$.errors[0]".into()));
    let broken = big_answer(3, r#","errors":[oops]"#);
    let err = |threads| on_threads(threads, || parse(broken.as_bytes()).err().expect("a JSON error"));
    assert_eq!(err(3), err(1));
}

/// A query answer of one trace over 4 MB: its `processes` (six) before or after its spans;
/// spans naming a listed process, an unlisted one, with and without an inline process; odd
/// tags; span and trace warnings. The span ten before the end is `late` when given.
fn one_big_trace(processes_first: bool, late: Option<&str>) -> String {
    let n = (5 << 20) / 230;
    let span = |s: usize| {
        if let Some(late) = late.filter(|_| s == n - 10) {
            return late.to_owned();
        }
        let pid = ["p1", "p2", "p3", "p4", "p5", "p6", "p9"][s % 7];
        let odd = if s % 50 == 3 { "int64" } else { "string" };
        let inline = if s.is_multiple_of(97) {
            format!(r#","process":{{"serviceName":"inline{}","tags":[{{"key":"i{}","value":"x"}}]}}"#, s % 5, s % 3)
        } else {
            String::new()
        };
        format!(
            r#"{{"traceID":"abc","spanID":"{:x}","operationName":"op{}","startTime":{},"duration":7,
            "tags":[{{"key":"k{}","type":"{odd}","value":"v{}"}}],"processID":"{pid}"{inline},"warnings":["w{}"]}}"#,
            s + 1,
            s % 13,
            1_000 + s,
            s % 11,
            s % 17,
            s % 5
        )
    };
    let spans: Vec<String> = (0..n).map(span).collect();
    let spans = format!(r#""spans":[{}]"#, spans.join(",\n"));
    let processes: Vec<String> = (1..=6)
        .map(|p| format!(r#""p{p}":{{"serviceName":"svc{p}","tags":[{{"key":"host{p}","type":"bool","value":"t"}}]}}"#))
        .collect();
    let processes = format!(r#""processes":{{{}}}"#, processes.join(","));
    let (a, b) = if processes_first { (processes, spans) } else { (spans, processes) };
    format!(r#"{{"data":[{{"traceID":"abc",{a},{b},"warnings":["trace-level"]}}],"total":1,"errors":null}}"#)
}

#[test]
fn the_spans_of_one_big_trace_load_the_same_on_any_number_of_threads() {
    use crate::formats::split::nested;
    use crate::formats::testkit::{loaded_alike, loaded_on};
    let path = parallel::ONE_TRACE_SPANS;
    let apart = |bytes: &[u8]| parallel::parse_spans_in_parallel(bytes, &nested(bytes, &path)?);
    for processes_first in [false, true] {
        let doc = one_big_trace(processes_first, None);
        let one = loaded_alike("big.json", doc.as_bytes(), &path, apart);
        assert!(loaded_on(1, "big.json", doc.as_bytes()) == one, "one thread reads the same twice");
        let notes = one.1.concat().join("\n");
        for note in
            ["trace abc: trace-level", "on 4", "e.g. \"p9\" at $.data[0].spans[6].processID", "tag(s) do not match"]
        {
            assert!(notes.contains(note), "{note} in {notes}");
        }
        let strings = one.2.concat();
        assert!(strings.iter().any(|s| s == "inline3") && strings.iter().any(|s| s == "svc6"), "{strings:?}");
    }
}

#[test]
fn an_error_in_the_spans_of_one_big_trace_is_the_one_a_single_thread_finds() {
    let late = [
        r#"{"traceID":"abc","spanID":"ff","spanID":"fe","startTime":1,"duration":1}"#,
        r#"{"traceID":"abc","spanID":"ff","startTime":9223372036854775,"duration":9223372036854775}"#,
        r#"{"traceID":"abc","spanID":"ff","startTime":1,"duration":1,"logs":[{"fields":[]}]}"#,
    ];
    for processes_first in [false, true] {
        let mut docs: Vec<String> = late.iter().map(|late| one_big_trace(processes_first, Some(late))).collect();
        let twice = one_big_trace(processes_first, None).replace(r#""warnings":["trace-level"]"#, r#""processes":{}"#);
        docs.push(twice);
        for doc in docs {
            let one = crate::formats::testkit::failed_alike(doc.as_bytes());
            assert!(path_of(&one.error).starts_with("$.data[0]"), "{one}");
        }
    }
}
