//! Every format's writer and importer agree: a generated trace written in a format and
//! imported again has the same tree, times, names and services, and whatever else the format
//! carries (ids, status, attributes, events), in depth-first order.
//!
//! The test iterates [`Format::ALL`]. While formats are being built on separate branches, the
//! environment variable `TRACEDECK_ROUNDTRIP_FORMATS` (e.g. `chrome,otlp`) narrows the run to
//! the named formats; unset, every format is checked.

use proptest::prelude::*;
use tracedeck::formats::{self, Format};
use tracedeck::model::{AttrValue, Nanos, SpanIdx, Status, Trace};
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
        Format::Chrome => Fidelity { ids: true, status: true, typed_attrs: true, events: true, required_extras: &[] },
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
    Ok(())
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
}
