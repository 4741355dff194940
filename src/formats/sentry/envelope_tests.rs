//! Tests of envelope reading (`tests/fixtures/sentry/envelopes/`: the shapes of Python's, Java's
//! and JavaScript's SDKs and of span streaming, written from the reference) and writing, and of
//! broken envelopes: located errors or notes, never a panic.

use super::envelope::{self, is_envelope};
use super::parse;
use crate::formats::testkit::{file, import_file, summary};
use crate::formats::{Format, Place, import};
use crate::model::{AttrValue, SpanId, SpanIdx, SpanKind, Status, Trace, TraceId, Warning};

const DIR: &str = "tests/fixtures/sentry/envelopes";
const T1: &str = "771a43a4192642f0b136d5159a501700";

fn one(path: &str) -> Trace {
    let imported = import_file(path);
    assert_eq!(imported.format, Format::Sentry, "{path} is read as Sentry");
    let mut traces = imported.traces;
    assert_eq!(traces.len(), 1, "{path} holds one trace");
    traces.remove(0)
}

fn by_id(trace: &Trace, hex: &str) -> SpanIdx {
    trace.find(SpanId::from_hex(hex).unwrap()).unwrap_or_else(|| panic!("no span {hex}"))
}

fn attr(trace: &Trace, idx: SpanIdx, key: &str) -> Option<AttrValue> {
    trace.attrs(idx).iter().find(|a| trace.str(a.key) == key).map(|a| a.value)
}

fn notes(trace: &Trace) -> Vec<String> {
    trace
        .warnings()
        .iter()
        .filter_map(|w| match w {
            Warning::Import(text) => Some(text.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn python_envelopes_with_lengths_give_both_transactions_and_the_error_of_one_trace() {
    let t = one(&format!("{DIR}/python-django-celery.envelope"));
    assert_eq!(t.trace_id(), TraceId::from_hex(T1).unwrap());
    assert_eq!(t.len(), 7, "Django's root and 4 spans, Celery's root and its call");
    let django = by_id(&t, "a1b2c3d4e5f60718");
    assert_eq!(t.roots(), &[django]);
    assert_eq!((t.str(t.span(django).name), t.str(t.span(django).op)), ("/slack/interactions", "http.server"));
    assert_eq!(t.str(t.span(django).service), "web-1");
    assert_eq!(t.span(django).start, 1_795_000_000_100_000_000);
    let task = by_id(&t, "c1d2e3f4a5b60718");
    assert_eq!(t.span(task).parent, Some(by_id(&t, "b1b2c3d4e5f60703")), "the task hangs under its queue.submit");
    assert_eq!(t.span(task).kind, SpanKind::Consumer);
    let call = by_id(&t, "c1d2e3f4a5b60719");
    assert_eq!((t.span(call).status, t.str(t.span(call).status_message)), (Status::Error, "internal_error"));
    assert_eq!(t.attr_str(call, "slack.error"), Some("expired_trigger_id"));

    // The error event's payload runs over many lines: its `length` keeps it whole.
    assert_eq!(t.errors().len(), 1);
    let error = &t.errors()[0];
    assert_eq!(error.span, Some(call));
    assert!(
        t.str(error.title).starts_with("SlackApiError: The request to the Slack API failed."),
        "{}",
        t.str(error.title)
    );
    let notes = notes(&t);
    assert_eq!(
        notes,
        ["skipped envelope items that hold no spans: 1 attachment, 1 client_report (tracedeck reads transaction, \
          event and span items)"]
    );
}

#[test]
fn java_envelopes_with_text_times_an_empty_payload_and_no_last_line_break() {
    let bytes = file(&format!("{DIR}/java-spring.envelope"));
    assert!(bytes.ends_with(b"\"length\":0}\n"), "the last item's empty payload ends the file, no line break after it");
    let t = one(&format!("{DIR}/java-spring.envelope"));
    assert_eq!(t.len(), 2);
    let root = by_id(&t, "0f1e2d3c4b5a6978");
    assert_eq!(t.span(root).parent_id, SpanId::from_hex("b1b2c3d4e5f60704").ok(), "Django's http.client span");
    assert_eq!((t.span(root).start, t.span(root).end), (1_795_000_000_152_000_000, 1_795_000_000_172_000_000));
    assert_eq!(t.attr_str(root, "sdk.name"), Some("sentry.java.spring-boot.jakarta"));
    let db = by_id(&t, "0f1e2d3c4b5a6979");
    assert_eq!(t.span(db).end, 1_795_000_000_168_000_000, "an RFC 3339 end after a numeric start");
    assert_eq!(
        notes(&t),
        [
            "skipped envelope items that hold no spans: 1 attachment (tracedeck reads transaction, event and span items)",
            "skipped 1 envelope item(s) with an empty payload",
        ]
    );
}

#[test]
fn javascript_envelopes_without_lengths_and_with_a_binary_replay_recording() {
    let t = one(&format!("{DIR}/javascript-browser.envelope"));
    assert_eq!(t.len(), 4);
    let root = t.roots()[0];
    assert_eq!((t.str(t.span(root).name), t.str(t.span(root).op)), ("/incidents/:id", "pageload"));
    assert_eq!(attr(&t, root, "measurements.lcp"), Some(AttrValue::Float(812.5)));
    let fetch = by_id(&t, "9a8b7c6d5e4f3023");
    assert_eq!((t.span(fetch).kind, t.str(t.span(fetch).name)), (SpanKind::Client, "GET /api/incidents/42"));
    assert_eq!(
        notes(&t),
        ["skipped envelope items that hold no spans: 1 replay_event, 1 replay_recording, 1 session (tracedeck \
             reads transaction, event and span items)"]
    );
}

#[test]
fn span_v2_items_map_name_op_status_service_and_typed_attributes() {
    let t = one(&format!("{DIR}/python-span-streaming.envelope"));
    assert_eq!(t.len(), 3);
    let segment = by_id(&t, "d1e2f3a4b5c60718");
    assert_eq!(t.roots(), &[segment]);
    let s = t.span(segment);
    assert_eq!(
        (t.str(s.name), t.str(s.op), s.kind, s.status),
        ("POST /slack/interactions", "http.server", SpanKind::Server, Status::Ok)
    );
    assert_eq!((s.start, s.end), (1_795_000_020_000_000_000, 1_795_000_020_310_000_000));
    assert_eq!(t.str(s.transaction), "POST /slack/interactions");
    let call = by_id(&t, "d1e2f3a4b5c60719");
    let c = t.span(call);
    assert_eq!(
        (c.parent, c.kind, c.status, t.str(c.status_message)),
        (Some(segment), SpanKind::Client, Status::Error, "error")
    );
    assert_eq!(t.str(c.service), "web-2", "the segment's server.address, not the peer's");
    assert_eq!(attr(&t, call, "http.response.status_code"), Some(AttrValue::Int(200)));
    assert_eq!(attr(&t, call, "slack.retry"), Some(AttrValue::Bool(false)));
    let db = by_id(&t, "d1e2f3a4b5c6071a");
    assert_eq!(attr(&t, db, "db.duration_ratio"), Some(AttrValue::Float(0.25)));
    assert_eq!(t.attr_str(db, "tags"), Some(r#"["a","b"]"#), "arrays are kept as JSON text");
    assert!(notes(&t).is_empty(), "{:?}", t.warnings());
}

#[test]
fn a_folder_of_envelopes_joins_the_services_of_one_trace() {
    let folder = std::path::PathBuf::from(format!("{}/{DIR}", env!("CARGO_MANIFEST_DIR")));
    let corpus = crate::corpus::load(&[folder], &|_| {});
    assert!(corpus.errors.is_empty(), "{:?}", corpus.errors.iter().map(|e| &e.message).collect::<Vec<_>>());
    assert_eq!(corpus.traces.len(), 3, "Django+Celery+Java joined, the browser's, the streamed one");
    let joined = corpus.traces.iter().find(|t| t.trace.trace_id() == TraceId::from_hex(T1).unwrap()).unwrap();
    let t = &joined.trace;
    assert_eq!((t.len(), joined.files.len()), (9, 2));
    let java = by_id(t, "0f1e2d3c4b5a6978");
    assert_eq!(t.span(java).parent, Some(by_id(t, "b1b2c3d4e5f60704")));
    assert_eq!(t.roots().len(), 1);
}

#[test]
fn broken_envelopes_are_errors_at_their_line() {
    let cases = [
        ("envelope-truncated.envelope", 2, "the item's `length` is 1874 bytes, but only 937 follow its header"),
        (
            "envelope-wrong-length.envelope",
            3,
            "says its payload is 1867 bytes (its `length`), but no line break follows",
        ),
        ("envelope-binary-without-length.envelope", 6, "the attachment item at line 4 gives no `length`"),
    ];
    for (name, line, expected) in cases {
        let path = format!("tests/fixtures/sentry/{name}");
        let err = import(&path, &file(&path)).unwrap_err();
        assert_eq!(err.format, Some(Format::Sentry), "{err}");
        let Place::At { line: at, .. } = err.error.place else { panic!("{name}: no line in {err}") };
        assert_eq!(at, line, "{err}");
        assert!(err.error.message.contains(expected), "{name}: {err}");
    }
}

#[test]
fn no_cut_or_damage_of_an_envelope_makes_a_panic() {
    let bytes = file(&format!("{DIR}/python-django-celery.envelope"));
    for end in 0..bytes.len() {
        let _ = parse(&bytes[..end]);
        let _ = envelope::receive(&bytes[..end]);
    }
    let mut rng = fastrand::Rng::with_seed(12);
    for _ in 0..2000 {
        let mut damaged = bytes.clone();
        for _ in 0..rng.usize(1..4) {
            let at = rng.usize(..damaged.len());
            damaged[at] = *rng.choice(b"{}\n\"0:9 ,x\xff".iter()).unwrap();
        }
        let _ = parse(&damaged);
    }
}

#[test]
fn envelopes_are_told_from_event_lines() {
    assert!(is_envelope(b"{}\n{\"type\":\"session\"}\n{}"));
    assert!(is_envelope(b"{\"event_id\":\"ab\",\"dsn\":\"x\"}\r\n{\"type\":\"transaction\",\"length\":2}\r\n{}"));
    let events = file("tests/fixtures/sentry/stitched-events.jsonl");
    assert!(!is_envelope(&events));
    assert!(!is_envelope(b"{\"type\":\"transaction\",\"contexts\":{}}\n{\"type\":\"transaction\",\"contexts\":{}}"));
    assert!(!is_envelope(b"{}\n"));
    assert!(!is_envelope(b"[{}]\n{\"type\":\"x\"}"));
}

#[test]
fn envelopes_without_spans_say_what_they_held() {
    let err =
        import("s.envelope", b"{}\n{\"type\":\"session\"}\n{\"sid\":\"a\"}\n{}\n{\"type\":\"client_report\"}\n{}")
            .unwrap_err();
    assert_eq!(
        err.to_string(),
        "s.envelope: Sentry JSON, at the whole file: the envelopes hold no spans, only items of other kinds: 1 \
         client_report, 1 session (tracedeck reads transaction, event and span items)"
    );
}

#[test]
fn an_item_before_any_envelope_header_is_an_error() {
    let err = envelope::receive(b"{\"event_id\":\"a\"}\n").map(|r| r.event_id);
    assert_eq!(err.unwrap(), Some("a".to_owned()), "a header alone is an empty envelope");
    let err = envelope::receive(b"{\"type\":\"transaction\"}\n{}\n").err().unwrap();
    assert!(err.message.contains("starts with its header"), "{}", err.message);
}

#[test]
fn received_envelopes_give_their_event_id_and_no_notes() {
    let received = envelope::receive(&file(&format!("{DIR}/python-django-celery.envelope"))).unwrap();
    assert_eq!(received.event_id.as_deref(), Some("0c9a1f2e3d4b4a5c8e7f6a5b4c3d2e1f"));
    let traces = received.spans.build().unwrap();
    assert_eq!(traces.len(), 1);
    assert!(notes(&traces[0]).is_empty(), "{:?}", traces[0].warnings());
}

#[test]
fn written_envelopes_read_back_as_the_sentry_json_of_the_same_traces() {
    let traces = import_file("tests/fixtures/sentry/stitched-events.jsonl").traces;
    let refs: Vec<&Trace> = traces.iter().collect();
    let mut envelopes = Vec::new();
    envelope::write(&refs, &mut envelopes).unwrap();
    assert!(is_envelope(&envelopes));
    let mut json = Vec::new();
    super::write(&refs, &mut json).unwrap();
    let (from_envelopes, from_json) = (import("e", &envelopes).unwrap().traces, import("j", &json).unwrap().traces);
    assert_eq!(from_envelopes.len(), from_json.len());
    for (a, b) in from_envelopes.iter().zip(&from_json) {
        assert_eq!(summary(a), summary(b));
    }
}

#[test]
fn what_the_real_python_sdk_sent_loads_with_every_span() {
    // Recorded from sentry-sdk 2.76 running tests/clients/sentry_transaction.py (`miss`, then
    // `pass stream`), the gzip taken off.
    let t = one("tests/fixtures/sentry/sdk/sentry-python-2.76-transaction.envelope");
    assert_eq!(t.trace_id(), TraceId::from_hex("e80fa0642a9f45e0ad19286c9df9eb48").unwrap());
    let mut names: Vec<&str> = t.spans().iter().map(|s| t.str(s.name)).collect();
    names.sort();
    assert_eq!(
        names,
        ["POST /slack/interactions", "POST https://slack.com/api/views.open", "SELECT incident", "open_modal"]
    );
    let call = (0..t.len() as SpanIdx).find(|&i| t.str(t.span(i).op) == "http.client").unwrap();
    assert_eq!((t.span(call).status, t.str(t.span(call).status_message)), (Status::Error, "internal_error"));
    assert_eq!(t.attr_str(call, "slack.error"), Some("expired_trigger_id"));
    assert_eq!(t.str(t.span(t.roots()[0]).service), "incident-bot");
    assert!(notes(&t).is_empty(), "{:?}", t.warnings());

    let t = one("tests/fixtures/sentry/sdk/sentry-python-2.76-span-streaming.envelope");
    assert_eq!(t.len(), 3);
    let root = t.roots()[0];
    assert_eq!((t.str(t.span(root).name), t.str(t.span(root).op)), ("POST /slack/interactions", "http.server"));
    assert!(
        t.spans()
            .iter()
            .all(|s| t.str(s.service) == "incident-bot" && t.str(s.transaction) == "POST /slack/interactions")
    );
}
