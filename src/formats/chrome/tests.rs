use super::*;
use crate::model::{AttrValue, Nanos, SpanFlags, SpanId, Status, Trace, TraceId, Warning};
use crate::synth::{SynthParams, generate};

fn read(text: &str) -> Trace {
    let mut traces = parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e:?}")).build().unwrap();
    assert_eq!(traces.len(), 1, "one trace");
    traces.remove(0)
}

fn error(text: &str) -> FormatError {
    match parse(text.as_bytes()) {
        Ok(_) => panic!("read without error: {text}"),
        Err(e) => e,
    }
}

fn path_of(err: &FormatError) -> &str {
    match &err.place {
        Place::At { path, .. } => path,
        Place::Path(path) => path,
        Place::Whole => "",
    }
}

fn names(t: &Trace) -> Vec<(u32, &str)> {
    t.spans().iter().map(|s| (s.depth, t.str(s.name))).collect()
}

fn notes(t: &Trace) -> Vec<String> {
    t.warnings().iter().map(|w| w.to_string()).collect()
}

fn find<'t>(t: &'t Trace, name: &str) -> (u32, &'t crate::model::Span) {
    let i = t.spans().iter().position(|s| t.str(s.name) == name).unwrap_or_else(|| panic!("no span {name}"));
    (i as u32, t.span(i as u32))
}

fn attr(t: &Trace, idx: u32, key: &str) -> Option<AttrValue> {
    t.attrs(idx).iter().find(|a| t.str(a.key) == key).map(|a| a.value)
}

const REFERENCE: &str = r#"{"displayTimeUnit":"ms","traceEvents":[
 {"ph":"M","pid":1,"tid":2,"name":"thread_name","args":{"name":"worker"}},
 {"ph":"X","pid":1,"tid":2,"name":"load","cat":"io","ts":1000.5,"dur":250,"args":{"file":"a.json"}},
 {"ph":"B","pid":1,"tid":2,"name":"parse","ts":1010},{"ph":"E","pid":1,"tid":2,"ts":1200},
 {"ph":"b","pid":1,"tid":3,"cat":"net","name":"fetch","id":"0x1f","ts":900},
 {"ph":"e","pid":1,"tid":3,"cat":"net","name":"fetch","id":"0x1f","ts":1900},
 {"ph":"i","pid":1,"tid":2,"name":"gc","ts":1100,"s":"t"}]}"#;

#[test]
fn reads_the_reference_example() {
    let t = read(REFERENCE);
    assert_eq!(names(&t), vec![(0, "fetch"), (0, "load"), (1, "parse")]);
    assert_eq!(t.trace_id(), SYNTHETIC_TRACE_ID);
    let (load, span) = find(&t, "load");
    assert_eq!((span.start, span.end), (1_000_500, 1_250_500));
    assert_eq!(t.str(span.op), "io");
    assert_eq!(t.str(span.service), "pid 1");
    assert_eq!(span.status, Status::Unset);
    assert!(matches!(attr(&t, load, "file"), Some(AttrValue::Str(v)) if t.str(v) == "a.json"));
    assert!(matches!(attr(&t, load, "thread.name"), Some(AttrValue::Str(v)) if t.str(v) == "worker"));
    let (parse, span) = find(&t, "parse");
    assert_eq!((span.start, span.end), (1_010_000, 1_200_000));
    assert_eq!(t.events(parse).len(), 1, "the instant lands on the innermost slice around it");
    assert_eq!(t.str(t.events(parse)[0].name), "gc");
    let (fetch, span) = find(&t, "fetch");
    assert_eq!((span.start, span.end, t.str(span.op)), (900_000, 1_900_000, "net"));
    assert_eq!(attr(&t, fetch, "thread.name"), None, "thread 3 has no name");
    let mut ids: Vec<u64> = t.spans().iter().map(|s| s.id.get()).collect();
    ids.sort();
    assert_eq!(ids, vec![1, 2, 3]);
    assert!(t.warnings().is_empty(), "{:?}", t.warnings());
}

#[test]
fn a_bare_array_may_lack_its_closing_bracket() {
    let text = "[{\"ph\":\"X\",\"pid\":1,\"tid\":1,\"name\":\"a\",\"ts\":1,\"dur\":5},\n {\"ph\":\"X\",\"pid\":1,\"tid\":1,\"name\":\"b\",\"ts\":2,\"dur\":1},\n";
    let t = read(text);
    assert_eq!(names(&t), vec![(0, "a"), (1, "b")]);
    assert!(notes(&t).iter().any(|n| n.contains("no closing `]`")), "{:?}", notes(&t));
    let closed = read(&format!("{}]", text.trim_end().trim_end_matches(',')));
    assert!(closed.warnings().is_empty(), "a closed array gets no note");
}

#[test]
fn an_array_cut_inside_an_event_is_called_truncated() {
    let err = error("[{\"ph\":\"X\",\"pid\":1,\"tid\":1,\"name\":\"a\",\"ts\":1,\"dur\":5},\n {\"ph\":\"X\",\"ts\":");
    assert!(err.message.contains("ends inside an event") && err.message.contains("truncated"), "{}", err.message);
    assert!(matches!(err.place, Place::At { line: 2, .. }), "{:?}", err.place);
}

#[test]
fn begin_and_end_merge_args_and_odd_pairs_are_noted() {
    let t = read(
        r#"[{"ph":"B","pid":1,"tid":1,"name":"outer","ts":0,"args":{"a":1,"b":"begin"}},
            {"ph":"E","pid":1,"tid":1,"ts":10,"args":{"b":"end","c":true}},
            {"ph":"E","pid":1,"tid":1,"ts":11},
            {"ph":"B","pid":1,"tid":1,"name":"never","ts":20}]"#,
    );
    let (outer, span) = find(&t, "outer");
    assert_eq!((span.start, span.end), (0, 10_000));
    let args: Vec<(&str, AttrValue)> = t.attrs(outer).iter().map(|a| (t.str(a.key), a.value)).collect();
    assert_eq!(args.len(), 3, "{args:?}");
    assert_eq!(args[0], ("a", AttrValue::Int(1)));
    assert!(matches!(attr(&t, outer, "b"), Some(AttrValue::Str(v)) if t.str(v) == "end"), "the end's args win");
    assert_eq!(attr(&t, outer, "c"), Some(AttrValue::Bool(true)));
    let (_, never) = find(&t, "never");
    assert!(never.flags.contains(SpanFlags::OPEN));
    let notes = notes(&t);
    assert!(
        notes.iter().any(|n| n.contains("1 `E` event(s) had no open `B`") && n.contains("$.traceEvents[2]")),
        "{notes:?}"
    );
    assert!(notes.iter().any(|n| n.contains("1 `B` event(s) have no matching `E`") && n.contains("$.traceEvents[3]")));
    assert!(t.warnings().contains(&Warning::OpenSpans { count: 1 }));
}

#[test]
fn unsorted_slices_nest_by_containment_longer_first_then_file_order() {
    let t = read(
        r#"{"traceEvents":[
            {"ph":"X","pid":1,"tid":1,"name":"late","ts":50,"dur":10},
            {"ph":"X","pid":1,"tid":1,"name":"inner","ts":0,"dur":20},
            {"ph":"X","pid":1,"tid":1,"name":"outer","ts":0,"dur":100},
            {"ph":"X","pid":1,"tid":1,"name":"tie1","ts":60,"dur":5},
            {"ph":"X","pid":1,"tid":1,"name":"tie2","ts":60,"dur":5},
            {"ph":"X","pid":1,"tid":2,"name":"other thread","ts":10,"dur":5}]}"#,
    );
    assert_eq!(
        names(&t),
        vec![(0, "outer"), (1, "inner"), (1, "late"), (1, "tie1"), (2, "tie2"), (0, "other thread")],
        "equal slices nest in file order; other threads are roots of their own"
    );
    assert!(t.warnings().is_empty(), "{:?}", t.warnings());
}

#[test]
fn a_child_ending_after_its_parent_still_nests_with_a_note() {
    let t = read(
        r#"[{"ph":"X","pid":1,"tid":1,"name":"parent","ts":0,"dur":10},
            {"ph":"X","pid":1,"tid":1,"name":"child","ts":5,"dur":10},
            {"ph":"X","pid":1,"tid":1,"name":"after","ts":12,"dur":1}]"#,
    );
    assert_eq!(names(&t), vec![(0, "parent"), (1, "child"), (2, "after")]);
    let notes = notes(&t);
    assert!(
        notes.iter().any(|n| n.contains("1 slice(s) end after the slice they start in") && n.contains("[1]")),
        "{notes:?}"
    );
}

#[test]
fn instants_outside_slices_become_zero_length_spans() {
    let t = read(
        r#"[{"ph":"X","pid":1,"tid":1,"name":"work","ts":10,"dur":10},
            {"ph":"I","pid":1,"tid":1,"name":"legacy","ts":5,"args":{"k":2.5}},
            {"ph":"i","pid":1,"tid":1,"name":"at end","ts":20},
            {"ph":"i","pid":1,"tid":1,"name":"after","ts":21}]"#,
    );
    assert_eq!(names(&t), vec![(0, "legacy"), (0, "work"), (0, "after")]);
    let (legacy, span) = find(&t, "legacy");
    assert_eq!((span.start, span.end), (5_000, 5_000));
    assert_eq!(attr(&t, legacy, "k"), Some(AttrValue::Float(2.5)));
    let (work, _) = find(&t, "work");
    assert_eq!(t.events(work).len(), 1, "a slice's end is inside it");
    assert_eq!(t.events(work)[0].time, 20_000);
}

#[test]
fn string_ids_process_names_and_time_units() {
    let t = read(
        r#"{"displayTimeUnit":"ns","traceEvents":[
            {"ph":"X","pid":"browser","tid":"main","name":"task","ts":1000.25,"dur":0.5},
            {"ph":"M","pid":"browser","name":"process_name","args":{"name":"Browser"}},
            {"ph":"X","pid":7,"tid":1,"name":"bg","ts":1,"dur":1}]}"#,
    );
    let (_, task) = find(&t, "task");
    assert_eq!((task.start, task.end), (1_000_250, 1_000_750), "ts stays in µs whatever displayTimeUnit says");
    assert_eq!(t.str(task.service), "Browser");
    assert_eq!(t.str(find(&t, "bg").1.service), "pid 7");
}

#[test]
fn other_phases_are_counted_in_one_note() {
    let t = read(
        r#"[{"ph":"X","pid":1,"tid":1,"name":"a","ts":0,"dur":1},
            {"ph":"C","pid":1,"name":"heap","ts":0,"args":{"used":5}},
            {"ph":"C","pid":1,"name":"heap","ts":1,"args":{"used":6}},
            {"ph":"s","pid":1,"tid":1,"name":"flow","id":1,"ts":0},
            {"ph":"M","pid":1,"name":"process_sort_index","args":{"sort_index":1}}]"#,
    );
    assert_eq!(t.len(), 1);
    let notes = notes(&t);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].starts_with("3 event(s) that are not slices") && notes[0].contains("C ×2, s ×1"), "{notes:?}");
    assert_eq!(t.attrs(0).len(), 0, "ignored events leave no attributes on spans");
}

#[test]
fn a_negative_dur_makes_a_zero_length_span_with_a_warning() {
    let t = read(r#"[{"ph":"X","pid":1,"tid":1,"name":"odd","ts":10,"dur":-3}]"#);
    let span = t.span(0);
    assert_eq!((span.start, span.end), (10_000, 10_000));
    assert!(span.flags.contains(SpanFlags::END_BEFORE_START));
    assert!(matches!(t.warnings(), [Warning::EndBeforeStart { count: 1, .. }]), "{:?}", t.warnings());
}

#[test]
fn async_pairs_match_by_category_id_and_scope_and_nest() {
    let t = read(
        r#"[{"ph":"b","pid":1,"tid":1,"cat":"net","name":"request","id":26,"ts":0},
            {"ph":"b","pid":1,"tid":2,"cat":"net","name":"dns","id":"0x1a","ts":1},
            {"ph":"n","pid":1,"tid":2,"cat":"net","name":"resolved","id":"0x1a","ts":2},
            {"ph":"e","pid":1,"tid":2,"cat":"net","id":"0x1a","ts":3},
            {"ph":"b","pid":1,"tid":1,"cat":"disk","name":"other","id2":{"local":"0x1a"},"ts":1},
            {"ph":"e","pid":1,"tid":1,"cat":"disk","id2":{"local":"0x1a"},"ts":9},
            {"ph":"e","pid":1,"tid":1,"cat":"net","id":26,"ts":30},
            {"ph":"e","pid":1,"tid":1,"cat":"net","id":99,"ts":31}]"#,
    );
    assert_eq!(names(&t), vec![(0, "request"), (1, "dns"), (0, "other")]);
    let (dns, span) = find(&t, "dns");
    assert_eq!((span.start, span.end), (1_000, 3_000));
    assert_eq!(t.str(t.events(dns)[0].name), "resolved");
    assert_eq!(find(&t, "request").1.end, 30_000);
    let notes = notes(&t);
    assert!(notes.iter().any(|n| n.contains("1 async `e` event(s) had no open `b`") && n.contains("[7]")), "{notes:?}");
}

#[test]
fn events_missing_a_time_or_an_async_id_are_skipped_with_a_note_and_only_a_file_of_them_is_refused() {
    let t = read(
        r#"[{"ph":"X","ts":1,"name":"no dur"},{"ph":"B","name":"no ts"},{"ph":"b","ts":1,"cat":"x"},
        {"ph":"X","ts":5,"dur":2,"name":"whole"}]"#,
    );
    assert_eq!(names(&t), vec![(0, "no dur"), (0, "whole")]);
    assert_eq!(find(&t, "no dur").1.duration(), 0);
    let notes = notes(&t);
    for wanted in
        ["1 event(s) have no `ts`", "1 complete (`X`) event(s) have no `dur`", "1 async event(s) have no `id`"]
    {
        assert!(notes.iter().any(|n| n.starts_with(wanted)), "{wanted}: {notes:?}");
    }
    let err = error(r#"[{"ph":"B","name":"a"},{"ph":"X","dur":3}]"#);
    assert_eq!(err.place, Place::Whole);
    assert_eq!(err.message, "no slice or instant event has a `ts`, so nothing can be placed in time");
}

#[test]
fn malformed_files_get_located_errors() {
    let cases: [(&str, &str, &str); 8] = [
        (r#"{"traceEvents":[{"ph":"X","ts":1,"dur":1}"#, "$.traceEvents", "truncated"),
        (r#"{"traceEvents":5}"#, "$.traceEvents", "expected a list of trace events"),
        (r#"{"traceEvents":[{"ph":"X","ts":1,"dur":1},{"ts":2,"name":"a"}]}"#, "$.traceEvents[1]", "needs `ph`"),
        (r#"[{"ph":"X","ts":"12","dur":1}]"#, "$[0].ts", "string \"12\", expected a number of microseconds"),
        (r#"[{"ph":"X","ts":true,"dur":1}]"#, "$[0].ts", "boolean `true`, expected a number of microseconds"),
        (r#"[{"ph":"XX","ts":1}]"#, "$[0].ph", "one phase letter"),
        (r#"{"displayTimeUnit":"ms"}"#, "$", "expected `traceEvents`"),
        (
            r#"[{"ph":"X","ts":1,"dur":1,"args":{"tracedeck.span_id":"xyz"}}]"#,
            "$[0].args.tracedeck.span_id",
            "hex span id",
        ),
    ];
    for (text, path, message) in cases {
        let err = error(text);
        assert!(err.message.contains(message), "{text}: {}", err.message);
        assert_eq!(path_of(&err), path, "{text}: {err:?}");
        assert!(matches!(err.place, Place::At { line: 1, .. }), "{text}: {err:?}");
    }
    let err =
        error("{\"traceEvents\":[\n{\"ph\":\"X\",\"ts\":1,\"dur\":1},\n{\"ph\":\"X\",\"pid\":{},\"ts\":1,\"dur\":1}]}");
    assert!(matches!(err.place, Place::At { line: 3, .. }), "{err:?}");
    assert_eq!(path_of(&err), "$.traceEvents[1].pid");
    assert!(err.message.contains("a process or thread id"), "{}", err.message);
}

fn write_to_string(traces: &[Trace]) -> String {
    let mut out = Vec::new();
    crate::formats::Format::Chrome.write(traces, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn written_traces_read_back_with_ids_status_and_events() {
    let mut b = crate::model::TraceBuilder::new();
    let sid = |v| SpanId::new(v).unwrap();
    let trace_id = TraceId(0xabc);
    let spans = [
        (1, None, 0, Some(10_000_000), "root", "web"),
        (2, Some(1), 1_000_000, Some(2_500_500), "call", "web"),
        (3, Some(2), 1_200_000, Some(2_000_000), "handle", "api"),
        (4, Some(1), 3_000_000, None, "task", "worker"),
    ];
    for (id, parent, start, end, name, service) in spans {
        let mark = b.attr_mark();
        b.push_attr_str("note", "say \"hi\"\n");
        let key = b.intern("n");
        b.push_attr(key, AttrValue::Float(2.0));
        let attrs = b.attrs_since(mark);
        let events = b.event_mark();
        if id == 3 {
            let name = b.intern("exception");
            b.push_event(crate::model::Event { time: 1_500_000, name, attrs: b.attrs_since(b.attr_mark()) });
        }
        let mut raw = crate::model::RawSpan::new(trace_id, sid(id), parent.map(sid), start, end);
        raw.name = b.intern(name);
        raw.service = b.intern(service);
        raw.op = b.intern("op");
        raw.attrs = attrs;
        raw.events = b.events_since(events);
        if id == 3 {
            raw.status = Status::Error;
            raw.status_message = b.intern("deadline_exceeded");
            raw.kind = crate::model::SpanKind::Server;
        }
        b.push_span(raw);
    }
    let original = b.build().unwrap();
    let text = write_to_string(&original);
    assert!(text.contains("\"dur\":1500.5,"), "sub-µs times are written exactly: {text}");
    assert_eq!(text.lines().count(), 2 + 3 + 4 + 1, "one event per line");
    let back = read(&text);
    type Summary = (u64, Option<u64>, u32, Nanos, Nanos, String, String);
    let summary = |t: &Trace| -> Vec<Summary> {
        t.spans()
            .iter()
            .map(|s| {
                let names = (t.str(s.name).to_owned(), t.str(s.service).to_owned());
                (s.id.get(), s.parent_id.map(SpanId::get), s.depth, s.start, s.end, names.0, names.1)
            })
            .collect()
    };
    assert_eq!(summary(&back), summary(&original[0]));
    assert_eq!(back.trace_id(), trace_id);
    let (handle, span) = find(&back, "handle");
    assert_eq!((span.status, back.str(span.status_message)), (Status::Error, "deadline_exceeded"));
    assert_eq!(span.kind, crate::model::SpanKind::Server);
    assert_eq!(back.events(handle).len(), 1);
    assert!(matches!(attr(&back, handle, "note"), Some(AttrValue::Str(v)) if back.str(v) == "say \"hi\"\n"));
    assert_eq!(attr(&back, handle, "n"), Some(AttrValue::Float(2.0)));
    assert!(find(&back, "task").1.flags.contains(SpanFlags::OPEN));
}

/// Drops tracedeck's id args, leaving what any other tool would write.
fn without_tracedeck_args(text: &str) -> String {
    let mut doc: serde_json::Value = serde_json::from_str(text).unwrap();
    for event in doc["traceEvents"].as_array_mut().unwrap() {
        if let Some(args) = event.get_mut("args").and_then(|a| a.as_object_mut()) {
            args.retain(|k, _| !k.starts_with("tracedeck."));
        }
    }
    doc.to_string()
}

#[test]
fn written_threads_nest_perfectly_and_nesting_alone_finds_true_parents() {
    for seed in 0..20 {
        let original = generate(&SynthParams { seed, spans: 400, ..SynthParams::default() });
        let back = read(&without_tracedeck_args(&write_to_string(std::slice::from_ref(&original))));
        assert_eq!(back.len(), original.len());
        assert!(back.warnings().is_empty(), "seed {seed}: no partial overlap on any thread: {:?}", back.warnings());
        let key = |t: &Trace, i: u32| {
            let s = t.span(i);
            (s.start, s.end, t.str(s.name).to_owned(), t.str(s.service).to_owned())
        };
        let mut true_parent = std::collections::HashMap::new();
        for i in 0..original.len() as u32 {
            true_parent.insert(key(&original, i), original.span(i).parent.map(|p| key(&original, p)));
        }
        let mut nested = 0;
        for i in 0..back.len() as u32 {
            let Some(p) = back.span(i).parent else { continue };
            nested += 1;
            assert_eq!(true_parent[&key(&back, i)], Some(key(&back, p)), "seed {seed}: nesting invented a parent");
        }
        assert!(nested > original.len() / 3, "seed {seed}: most same-service children share their parent's thread");
    }
}

#[test]
fn the_worker_profile_sample_shows_the_expired_trigger() {
    let bytes = include_bytes!("../../../sample-traces/worker-profile.chrome.json");
    let imported = crate::formats::import("worker-profile.chrome.json", bytes).unwrap();
    assert_eq!(imported.format, crate::formats::Format::Chrome);
    let t = &imported.traces[0];
    assert_eq!(
        names(t),
        vec![
            (0, "kombu.drain_events"),
            (1, "task.received tasks.process_interaction"),
            (0, "tasks.process_interaction"),
            (1, "verify_slack_signature"),
            (1, "SELECT * FROM teams WHERE slack_team_id = %s"),
            (1, "render_modal"),
            (2, "jinja2.render modal/create_ticket.json"),
            (1, "POST https://slack.com/api/views.open"),
            (1, "INSERT INTO audit_log (actor, action) VALUES (%s, %s)"),
            (0, "tasks.sync_user"),
            (1, "GET user:{id}"),
        ]
    );
    assert!(t.spans().iter().all(|s| t.str(s.service) == "celery-worker"));
    let (task, span) = find(t, "tasks.process_interaction");
    assert_eq!(span.duration(), 693_000_000);
    assert!(matches!(attr(t, task, "celery.state"), Some(AttrValue::Str(v)) if t.str(v) == "FAILURE"));
    assert!(matches!(attr(t, task, "thread.name"), Some(AttrValue::Str(v)) if t.str(v) == "ForkPoolWorker-1"));
    let (open, _) = find(t, "POST https://slack.com/api/views.open");
    assert_eq!(t.str(t.events(open)[0].name), "slack_api_error");
    assert!(matches!(attr(t, open, "slack.error"), Some(AttrValue::Str(v)) if t.str(v) == "expired_trigger_id"));
    assert_eq!(find(t, "task.received tasks.process_interaction").1.duration(), 28_250);
    assert_eq!(
        notes(t),
        vec!["2 event(s) that are not slices or instants (counters, samples, flows, ...) were ignored: C ×2"]
    );
}

#[test]
fn a_cut_off_file_reads_with_its_open_slices_flagged() {
    let bytes = include_bytes!("../../../tests/fixtures/chrome/cut-off-array.json");
    let imported = crate::formats::import("cut-off-array.json", bytes).unwrap();
    let t = &imported.traces[0];
    assert_eq!(
        names(t),
        vec![
            (0, "POST /slack/interactions"),
            (1, "verify_slack_signature"),
            (1, "celery.send_task tasks.process_interaction"),
            (1, "serialize_response"),
        ]
    );
    let open: Vec<&str> =
        t.spans().iter().filter(|s| s.flags.contains(SpanFlags::OPEN)).map(|s| t.str(s.name)).collect();
    assert_eq!(open, vec!["POST /slack/interactions", "serialize_response"]);
    let notes = notes(t);
    assert!(notes.iter().any(|n| n.contains("no closing `]`")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("2 `B` event(s) have no matching `E`")), "{notes:?}");
    assert!(t.warnings().contains(&Warning::OpenSpans { count: 2 }));
    assert_eq!(t.str(t.span(0).service), "pid 77");
}

#[test]
fn a_cut_off_array_reads_as_the_closed_one_and_a_bad_event_in_it_is_located_the_same() {
    let text = "[{\"ph\":\"M\",\"pid\":1,\"tid\":1,\"name\":\"thread_name\",\"args\":{\"name\":\"main, ]\"}},\n \
                {\"ph\":\"B\",\"pid\":1,\"tid\":1,\"name\":\"a ],[\",\"ts\":1,\"args\":{\"x\":[1,{\"y\":\"}\\\"\"}]}},\n \
                {\"ph\":\"i\",\"pid\":1,\"tid\":1,\"name\":\"i\",\"ts\":2} ,  \n";
    let native = |t: &Trace| {
        let mut out = Vec::new();
        crate::formats::Format::Tracedeck.write(std::slice::from_ref(t), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let (cut, closed) = (read(text), read(&format!("{}]", text.trim_end().trim_end_matches(','))));
    let spans = |t: &Trace| native(t).split("\"notes\"").next().unwrap().to_owned();
    assert_eq!(spans(&cut), spans(&closed));
    assert_eq!(notes(&cut).len(), notes(&closed).len() + 1, "{:?}", notes(&cut));
    assert_eq!(names(&cut), [(0, "a ],[")]);
    let bad = "[{\"ph\":\"X\",\"pid\":1,\"ts\":1},\n {\"ph\":\"X\",\"ts\":\"soon\"}";
    let (cut, closed) = (error(bad), error(&format!("{bad}]")));
    assert_eq!((&cut.message, &cut.place), (&closed.message, &closed.place));
    assert_eq!(path_of(&cut), "$[1].ts");
}

#[test]
fn instants_stay_with_their_slices_when_a_later_slice_nests_first() {
    // Both start at 0: the longer, later in the file, nests first and holds the shorter one.
    let t = read(
        r#"[{"ph":"X","name":"short","ts":0,"dur":5,"pid":1,"tid":1},
            {"ph":"X","name":"long","ts":0,"dur":10,"pid":1,"tid":1},
            {"ph":"i","name":"ev","ts":1,"pid":1,"tid":1},
            {"ph":"i","name":"ev2","ts":7,"pid":1,"tid":1}]"#,
    );
    assert_eq!(names(&t), vec![(0, "long"), (1, "short")]);
    let events = |name: &str| -> Vec<String> {
        let (idx, _) = find(&t, name);
        t.events(idx).iter().map(|e| t.str(e.name).to_owned()).collect()
    };
    assert_eq!(events("short"), vec!["ev"]);
    assert_eq!(events("long"), vec!["ev2"]);
}
