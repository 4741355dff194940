//! Every format's writer and importer agree: a generated trace written in a format and
//! imported again has the same tree, times, names and services, and whatever else the format
//! carries (ids, status, attributes, events), in depth-first order.
//!
//! tracedeck's own format is held to more: the trace read back is the same in every field
//! ([`exact`]), for generated traces, for messy ones (repeated ids, orphans, unfinished spans,
//! ends before starts, every kind of attribute value, errors, notes) and for every sample.
//!
//! The test iterates [`Format::ALL`]. While formats are being built on separate branches, the
//! environment variable `TRACEDECK_ROUNDTRIP_FORMATS` (e.g. `chrome,otlp`) narrows the run to
//! the named formats; unset, every format is checked.

use proptest::prelude::*;
use tracedeck::formats::{self, Format};
use tracedeck::model::{
    AttrValue, Event, Nanos, RawEvent, RawSpan, SpanId, SpanIdx, SpanKind, Status, Trace, TraceBuilder, TraceId,
    Warning,
};
use tracedeck::synth::{SynthParams, generate};

/// What a format keeps beyond tree shape, times (whole µs), names and services.
struct Fidelity {
    /// Span ids and parent ids (Chrome through tracedeck's own id args).
    ids: bool,
    /// Error vs not.
    status: bool,
    /// Attributes with their types; `false` keeps them as text (Zipkin tags are strings).
    typed_attrs: bool,
    /// Span events with their times and names.
    events: bool,
    /// Attributes the writer adds because the format has no field for something: Sentry
    /// transactions need an event id; OTLP, Jaeger and Zipkin have no op, which travels in
    /// `sentry.op` (the op itself is compared). Left out of the attribute comparison.
    required_extras: &'static [&'static str],
}

/// The attribute that carries the op in formats without an op field.
const OP_CARRIER: &[&str] = &["sentry.op"];

fn fidelity(format: Format) -> Fidelity {
    match format {
        Format::Chrome | Format::Tracedeck => {
            Fidelity { ids: true, status: true, typed_attrs: true, events: true, required_extras: &[] }
        }
        Format::Otlp | Format::Jaeger => {
            Fidelity { ids: true, status: true, typed_attrs: true, events: true, required_extras: OP_CARRIER }
        }
        Format::Zipkin => {
            Fidelity { ids: true, status: true, typed_attrs: false, events: true, required_extras: OP_CARRIER }
        }
        Format::Sentry => Fidelity {
            ids: true,
            status: true,
            typed_attrs: true,
            events: false,
            required_extras: &["sentry.event_id"],
        },
    }
}

/// Attributes as `(key, value as text)`, sorted.
type AttrList = Vec<(String, String)>;

/// One span as compared: everything the format keeps, in a canonical depth-first order.
#[derive(Debug, PartialEq)]
struct Row {
    depth: u32,
    start: Nanos,
    end: Nanos,
    name: String,
    op: String,
    service: String,
    ids: Option<(u64, Option<u64>)>,
    failed: Option<bool>,
    attrs: AttrList,
    events: Vec<(Nanos, String, AttrList)>,
}

fn value_text(trace: &Trace, value: AttrValue, typed: bool) -> String {
    match (value, typed) {
        (AttrValue::Str(s), true) => format!("str {}", trace.str(s)),
        (AttrValue::Str(s), false) => trace.str(s).to_owned(),
        (AttrValue::Int(v), true) => format!("int {v}"),
        (AttrValue::Float(v), true) => format!("float {v:?}"),
        (AttrValue::Bool(v), true) => format!("bool {v}"),
        (AttrValue::Int(v), false) => v.to_string(),
        (AttrValue::Float(v), false) => v.to_string(),
        (AttrValue::Bool(v), false) => v.to_string(),
    }
}

fn rows(trace: &Trace, fidelity: &Fidelity) -> Vec<Row> {
    let attrs = |range| -> AttrList {
        let mut list: Vec<_> = trace
            .attrs_in(range)
            .iter()
            .filter(|a| !fidelity.required_extras.contains(&trace.str(a.key)))
            .map(|a| (trace.str(a.key).to_owned(), value_text(trace, a.value, fidelity.typed_attrs)))
            .collect();
        list.sort();
        list
    };
    let row = |idx: SpanIdx| {
        let s = trace.span(idx);
        let mut events: Vec<_> = trace
            .events(idx)
            .iter()
            .filter(|_| fidelity.events)
            .map(|e| (e.time, trace.str(e.name).to_owned(), if fidelity.typed_attrs { attrs(e.attrs) } else { vec![] }))
            .collect();
        events.sort();
        Row {
            depth: s.depth,
            start: s.start,
            end: s.end,
            name: trace.str(s.name).to_owned(),
            op: trace.str(s.op).to_owned(),
            service: trace.str(s.service).to_owned(),
            ids: fidelity.ids.then(|| (s.id.get(), s.parent_id.map(|p| p.get()))),
            failed: fidelity.status.then_some(s.status == Status::Error),
            attrs: attrs(s.attrs),
            events,
        }
    };
    // Siblings in a canonical order, since formats may list equal-start siblings differently.
    let sorted = |mut list: Vec<SpanIdx>| {
        list.sort_by_key(|&i| {
            let s = trace.span(i);
            (s.start, s.end, trace.str(s.name), trace.str(s.service), s.id)
        });
        list
    };
    let mut out = Vec::with_capacity(trace.len());
    let mut stack: Vec<SpanIdx> = sorted(trace.roots().to_vec());
    stack.reverse();
    while let Some(idx) = stack.pop() {
        out.push(row(idx));
        stack.extend(sorted(trace.children(idx).collect()).into_iter().rev());
    }
    out
}

/// The formats to check: all, unless narrowed by `TRACEDECK_ROUNDTRIP_FORMATS`.
fn formats_under_test() -> Vec<Format> {
    let wanted = std::env::var("TRACEDECK_ROUNDTRIP_FORMATS").ok();
    Format::ALL
        .into_iter()
        .filter(|f| {
            wanted.as_deref().is_none_or(|w| w.split(',').any(|n| n.trim().eq_ignore_ascii_case(&format!("{f:?}"))))
        })
        .collect()
}

fn round_trip(format: Format, original: &Trace) -> Result<(), TestCaseError> {
    let mut bytes = Vec::new();
    format
        .write(std::slice::from_ref(original), &mut bytes)
        .map_err(|e| TestCaseError::fail(format!("{format}: write: {e}")))?;
    let imported = formats::import("roundtrip", &bytes).map_err(|e| TestCaseError::fail(format!("{format}: {e}")))?;
    prop_assert_eq!(imported.format, format, "detected as the format it was written in");
    prop_assert_eq!(imported.traces.len(), 1, "{}: one trace", format);
    let back = &imported.traces[0];
    prop_assert!(back.warnings().is_empty(), "{}: a clean trace reads back clean: {:?}", format, back.warnings());
    let fidelity = fidelity(format);
    let (want, got) = (rows(original, &fidelity), rows(back, &fidelity));
    prop_assert_eq!(want.len(), got.len(), "{}: span count", format);
    for (w, g) in want.iter().zip(&got) {
        prop_assert_eq!(w, g, "{}", format);
    }
    if format == Format::Tracedeck {
        prop_assert_eq!(exact(original), exact(back));
    }
    Ok(())
}

/// Everything a trace holds, as lines of text: traces equal in every field (ids, tree, order,
/// times, strings, value types, flags, events, errors, warnings) give equal lines. Warnings
/// the importer noted come first when read back, so notes and the builder's own warnings are
/// compared apart, each in order.
fn exact(t: &Trace) -> Vec<String> {
    let value = |v: AttrValue| match v {
        AttrValue::Str(s) => format!("Str({:?})", t.str(s)),
        other => format!("{other:?}"),
    };
    let attrs = |range| -> Vec<String> {
        t.attrs_in(range).iter().map(|a| format!("{:?}={}", t.str(a.key), value(a.value))).collect()
    };
    let (notes, derived): (Vec<&Warning>, Vec<&Warning>) =
        t.warnings().iter().partition(|w| matches!(w, Warning::Import(_)));
    let mut lines = vec![
        format!("trace {} {}..{} roots {:?}", t.trace_id(), t.start(), t.end(), t.roots()),
        format!("notes {notes:?}"),
        format!("warnings {derived:?}"),
    ];
    for (i, s) in t.spans().iter().enumerate() {
        let events: Vec<String> = t
            .events(i as SpanIdx)
            .iter()
            .map(|e| format!("{}:{:?}{:?}", e.time, t.str(e.name), attrs(e.attrs)))
            .collect();
        lines.push(format!(
            "{i}: {} parent {:?}/{:?} trace {} {}..{} depth {} subtree {} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} \
             attrs {:?} events {events:?} found {:?}",
            s.id,
            s.parent_id,
            s.parent,
            s.trace_id,
            s.start,
            s.end,
            s.depth,
            s.subtree_end,
            t.str(s.name),
            t.str(s.op),
            t.str(s.service),
            t.str(s.transaction),
            t.str(s.status_message),
            s.kind,
            s.status,
            s.flags,
            attrs(s.attrs),
            t.find(s.id),
        ));
    }
    for e in t.errors() {
        let text = [e.title, e.event_id, e.level].map(|s| t.str(s));
        lines.push(format!("error {text:?} span {:?} time {:?}", e.span, e.time));
    }
    lines
}

/// Writes traces as tracedeck files and reads them back; they must be the same in every field.
fn exact_round_trip(traces: &[Trace]) -> Result<(), TestCaseError> {
    let mut bytes = Vec::new();
    Format::Tracedeck.write(traces, &mut bytes).map_err(|e| TestCaseError::fail(format!("write: {e}")))?;
    let imported = formats::import("exact", &bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(imported.format, Format::Tracedeck);
    prop_assert_eq!(imported.traces.len(), traces.len());
    for (original, back) in traces.iter().zip(&imported.traces) {
        prop_assert_eq!(exact(original), exact(back));
    }
    Ok(())
}

/// Texts for names, attribute keys and values: empty, escapes, control characters, non-ASCII.
const TEXTS: [&str; 10] = [
    "",
    "GET /users",
    "db.query",
    "control",
    "é ünïcode 🙂",
    "quote \" backslash \\ line\n",
    "\u{0}nul",
    "exception",
    "a",
    "x",
];

/// A 128-bit trace id, its lower half (which joins it), another trace, and a trace not in the
/// file (for errors that belong elsewhere).
const TRACES: [TraceId; 4] =
    [TraceId(0xaaaa_bbbb_cccc_dddd_0000_0000_0000_0042), TraceId(0x42), TraceId(7), TraceId(999)];

const BASE: Nanos = 1_700_000_000_000_000_000;

#[derive(Debug, Clone)]
enum ValueSpec {
    Str(usize),
    Int(i64),
    Float(u64),
    Bool(bool),
}

fn value_spec() -> impl Strategy<Value = ValueSpec> {
    let special = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 1.0, 5e-324, 0.1].map(f64::to_bits);
    prop_oneof![
        (0..TEXTS.len()).prop_map(ValueSpec::Str),
        any::<i64>().prop_map(ValueSpec::Int),
        any::<u64>().prop_map(ValueSpec::Float),
        prop::sample::select(special.to_vec()).prop_map(ValueSpec::Float),
        any::<bool>().prop_map(ValueSpec::Bool),
    ]
}

type AttrSpec = Vec<(usize, ValueSpec)>;

fn attr_spec() -> impl Strategy<Value = AttrSpec> {
    prop::collection::vec((0..TEXTS.len(), value_spec()), 0..4)
}

/// A span: trace, id (few, so they repeat), parent (an earlier span, or an index past the
/// spans: a parent not in the file), start and duration (few values, so siblings tie; a
/// negative duration ends before the start; none never ended), texts, kind, status,
/// attributes and events.
type SpanSpec =
    (usize, u64, Option<usize>, i64, Option<i64>, [usize; 5], usize, usize, AttrSpec, Vec<(i64, usize, AttrSpec)>);

fn span_spec() -> impl Strategy<Value = SpanSpec> {
    (
        0..3usize,
        1..12u64,
        prop::option::weighted(0.8, 0..40usize),
        0..40i64,
        prop::option::weighted(0.9, -3..60i64),
        [0..TEXTS.len(), 0..TEXTS.len(), 0..TEXTS.len(), 0..TEXTS.len(), 0..TEXTS.len()],
        0..6usize,
        0..3usize,
        attr_spec(),
        prop::collection::vec((-10..100i64, 0..TEXTS.len(), attr_spec()), 0..3),
    )
}

/// An error event: trace, span id (maybe not in the trace), time, and title, id and level.
type ErrorSpec = (usize, Option<u64>, Option<i64>, [usize; 3]);

fn error_spec() -> impl Strategy<Value = ErrorSpec> {
    (
        0..4usize,
        prop::option::of(1..14u64),
        prop::option::of(-10..100i64),
        [0..TEXTS.len(), 0..TEXTS.len(), 0..TEXTS.len()],
    )
}

fn push_attrs(b: &mut TraceBuilder, attrs: &AttrSpec) {
    for (key, value) in attrs {
        let key = b.intern(TEXTS[*key]);
        let value = match *value {
            ValueSpec::Str(s) => AttrValue::Str(b.intern(TEXTS[s])),
            ValueSpec::Int(v) => AttrValue::Int(v),
            ValueSpec::Float(bits) => AttrValue::Float(f64::from_bits(bits)),
            ValueSpec::Bool(v) => AttrValue::Bool(v),
        };
        b.push_attr(key, value);
    }
}

/// Whether following parent links (`links`: each id to the parents it was given) from `from`
/// reaches `to`.
fn reaches(links: &[(SpanId, SpanId)], from: SpanId, to: SpanId) -> bool {
    let (mut seen, mut next) = (vec![from], vec![from]);
    while let Some(at) = next.pop() {
        if at == to {
            return true;
        }
        for &(_, parent) in links.iter().filter(|(id, _)| *id == at) {
            if !seen.contains(&parent) {
                seen.push(parent);
                next.push(parent);
            }
        }
    }
    false
}

/// Builds traces from the specs. Parents name earlier spans, or spans not in the trace; a
/// parent that would close a cycle (ids repeat, so an earlier span's id may be this span's
/// own) names a span not in the trace instead, so there is no cycle.
fn messy(spans: &[SpanSpec], errors: &[ErrorSpec], notes: &[usize]) -> Vec<Trace> {
    let mut b = TraceBuilder::new();
    for &note in notes {
        b.note(format!("note {}", TEXTS[note]));
    }
    let mut ids: Vec<SpanId> = Vec::new();
    let mut links: Vec<(SpanId, SpanId)> = Vec::new();
    for (trace, id, parent, start, duration, texts, kind, status, attrs, events) in spans {
        let id = SpanId::new(*id).unwrap();
        let missing = |p: usize| SpanId::new(100 + p as u64).unwrap();
        let parent = parent.map(|p| match ids.get(p) {
            Some(&earlier) if !reaches(&links, earlier, id) => earlier,
            _ => missing(p),
        });
        if let Some(parent) = parent {
            links.push((id, parent));
        }
        ids.push(id);
        let start = BASE + start;
        let mut raw = RawSpan::new(TRACES[*trace], id, parent, start, duration.map(|d| start + d));
        [raw.name, raw.op, raw.service, raw.transaction, raw.status_message] = texts.map(|t| b.intern(TEXTS[t]));
        raw.kind = SpanKind::ALL[*kind];
        raw.status = [Status::Unset, Status::Ok, Status::Error][*status];
        let mark = b.attr_mark();
        push_attrs(&mut b, attrs);
        raw.attrs = b.attrs_since(mark);
        let first_event = b.event_mark();
        for (time, name, attrs) in events {
            let mark = b.attr_mark();
            push_attrs(&mut b, attrs);
            let (name, attrs) = (b.intern(TEXTS[*name]), b.attrs_since(mark));
            b.push_event(Event { time: BASE + time, name, attrs });
        }
        raw.events = b.events_since(first_event);
        b.push_span(raw);
    }
    for (trace, span, time, texts) in errors {
        let [title, event_id, level] = texts.map(|t| b.intern(TEXTS[t]));
        let span_id = span.and_then(SpanId::new);
        let time = time.map(|t| BASE + t);
        b.push_error(RawEvent { trace_id: TRACES[*trace], span_id, time, title, event_id, level });
    }
    b.build().expect("parents name earlier spans, so there is no cycle")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn every_format_writes_and_reads_back_the_same_trace(
        seed in any::<u64>(),
        spans in 1usize..300,
        services in 1usize..=6,
    ) {
        let formats = formats_under_test();
        prop_assert!(!formats.is_empty(), "TRACEDECK_ROUNDTRIP_FORMATS names no format");
        let original = generate(&SynthParams { seed, spans, services, ..SynthParams::default() });
        for format in formats {
            round_trip(format, &original)?;
        }
    }

    #[test]
    fn tracedeck_files_keep_messy_traces_exactly(
        spans in prop::collection::vec(span_spec(), 1..30),
        errors in prop::collection::vec(error_spec(), 0..4),
        notes in prop::collection::vec(0..TEXTS.len(), 0..3),
    ) {
        exact_round_trip(&messy(&spans, &errors, &notes))?;
    }
}

#[test]
fn tracedeck_files_keep_every_sample_exactly() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-traces");
    let mut read = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".capture.json") || !(name.ends_with(".json") || name.ends_with(".jsonl")) {
            continue;
        }
        let imported = formats::import(&name, &std::fs::read(&path).unwrap()).unwrap_or_else(|e| panic!("{e}"));
        exact_round_trip(&imported.traces).unwrap_or_else(|e| panic!("{name}: {e}"));
        read += 1;
    }
    assert!(read >= 8, "only {read} samples");
}
