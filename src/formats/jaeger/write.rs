//! Writing traces as Jaeger JSON: one `data[]` entry per trace, with its processes. The
//! importer reads the output back with the same ids, parents, µs timings, names, services,
//! kinds, status, attributes and events.

use std::io::{self, Write};

use serde::{Serialize, Serializer};

use super::REFERENCES;
use super::read::{RefText, RefType, parent_of};
use crate::formats::json::to_micros;
use crate::formats::semconv::{self, OpHints, resource_besides_service};
use crate::model::{Attr, AttrValue, Range32, Span, SpanId, Status, StrId, Trace};

/// Writes `traces` as one Jaeger query answer.
pub fn write(traces: &[&Trace], out: &mut dyn Write) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    let data: Vec<TraceOut> = traces.iter().map(|trace| TraceOut::new(trace)).collect();
    let doc = DocOut { data, total: traces.len(), limit: 0, offset: 0, errors: None };
    serde_json::to_writer(&mut out, &doc)?;
    out.flush()
}

#[derive(Serialize)]
struct DocOut<'t> {
    data: Vec<TraceOut<'t>>,
    total: usize,
    limit: usize,
    offset: usize,
    errors: Option<()>,
}

/// One trace, its processes found: each distinct (service, resource) is one process.
struct TraceOut<'t> {
    trace: &'t Trace,
    /// Distinct processes: service and resource (whose attributes are the process's tags).
    processes: Vec<(StrId, Range32)>,
    /// Each span's index into `processes`.
    process_of: Vec<usize>,
}

impl<'t> TraceOut<'t> {
    fn new(trace: &'t Trace) -> Self {
        let mut processes: Vec<(StrId, Range32)> = Vec::new();
        let mut process_of = Vec::with_capacity(trace.len());
        for span in trace.spans() {
            let process = (span.service, span.resource);
            let p = match processes.iter().position(|&p| p == process) {
                Some(p) => p,
                None => {
                    processes.push(process);
                    processes.len() - 1
                }
            };
            process_of.push(p);
        }
        TraceOut { trace, processes, process_of }
    }
}

impl Serialize for TraceOut<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let t = self.trace;
        let mut map = ser.serialize_map(Some(4))?;
        map.serialize_entry("traceID", &t.trace_id().to_string())?;
        let spans = t.spans().iter().enumerate().map(|(i, s)| SpanOut {
            trace: t,
            idx: i as u32,
            span: s,
            process: self.process_of[i],
        });
        map.serialize_entry("spans", &Seq(std::cell::Cell::new(Some(spans))))?;
        let processes: std::collections::BTreeMap<String, ProcessOut> = self
            .processes
            .iter()
            .enumerate()
            .map(|(i, &(service, resource))| (process_key(i), ProcessOut { trace: t, service, resource }))
            .collect();
        map.serialize_entry("processes", &processes)?;
        map.serialize_entry("warnings", &None::<()>)?;
        map.end()
    }
}

fn process_key(i: usize) -> String {
    format!("p{}", i + 1)
}

/// Serializes an iterator as a JSON array without collecting it.
struct Seq<I>(std::cell::Cell<Option<I>>);

impl<I: Iterator<Item: Serialize>> Serialize for Seq<I> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_seq(self.0.take().into_iter().flatten())
    }
}

struct ProcessOut<'t> {
    trace: &'t Trace,
    service: StrId,
    /// The resource whose attributes are the tags.
    resource: Range32,
}

impl Serialize for ProcessOut<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let t = self.trace;
        let mut map = ser.serialize_map(Some(2))?;
        map.serialize_entry("serviceName", t.str(self.service))?;
        let tags: Vec<TagOut> =
            resource_besides_service(t, self.resource).map(|a| TagOut::of(t, t.str(a.key), a.value)).collect();
        map.serialize_entry("tags", &tags)?;
        map.end()
    }
}

#[derive(Serialize)]
struct TagOut<'t> {
    key: &'t str,
    #[serde(rename = "type")]
    ty: &'static str,
    value: ValueOut<'t>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ValueOut<'t> {
    Str(&'t str),
    Int(i64),
    Float(f64),
    /// A non-finite float, which JSON numbers cannot hold.
    FloatText(String),
    Bool(bool),
}

impl<'t> TagOut<'t> {
    fn of(trace: &'t Trace, key: &'t str, value: AttrValue) -> Self {
        let (ty, value) = match value {
            AttrValue::Str(s) => ("string", ValueOut::Str(trace.str(s))),
            AttrValue::Int(i) => ("int64", ValueOut::Int(i)),
            AttrValue::Float(f) if f.is_finite() => ("float64", ValueOut::Float(f)),
            AttrValue::Float(f) => ("float64", ValueOut::FloatText(f.to_string())),
            AttrValue::Bool(b) => ("bool", ValueOut::Bool(b)),
        };
        TagOut { key, ty, value }
    }

    fn str(key: &'t str, value: &'t str) -> Self {
        TagOut { key, ty: "string", value: ValueOut::Str(value) }
    }
}

struct SpanOut<'t> {
    trace: &'t Trace,
    idx: u32,
    span: &'t Span,
    process: usize,
}

#[derive(Serialize)]
struct LogOut<'t> {
    timestamp: i64,
    fields: Vec<TagOut<'t>>,
}

impl Serialize for SpanOut<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (t, s) = (self.trace, self.span);
        let attrs = t.attrs(self.idx);
        let mut map = ser.serialize_map(None)?;
        map.serialize_entry("traceID", &s.trace_id.to_string())?;
        map.serialize_entry("spanID", &s.id.to_string())?;
        map.serialize_entry("operationName", t.str(s.name))?;
        map.serialize_entry("flags", &1)?;
        map.serialize_entry("references", &references(t, s, attrs))?;
        let start = to_micros(s.start);
        map.serialize_entry("startTime", &start)?;
        map.serialize_entry("duration", &(to_micros(s.end) - start))?;
        map.serialize_entry("tags", &tags(t, s, attrs))?;
        let logs: Vec<LogOut> = t
            .events(self.idx)
            .iter()
            .map(|e| {
                let mut fields = vec![TagOut::str("event", t.str(e.name))];
                fields.extend(t.attrs_in(e.attrs).iter().map(|a| TagOut::of(t, t.str(a.key), a.value)));
                LogOut { timestamp: to_micros(e.time), fields }
            })
            .collect();
        map.serialize_entry("logs", &logs)?;
        map.serialize_entry("processID", &process_key(self.process))?;
        map.serialize_entry("warnings", &None::<()>)?;
        map.end()
    }
}

/// The span's references: those the import kept when they still agree with the parent,
/// else one `CHILD_OF` to the parent.
fn references(t: &Trace, s: &Span, attrs: &[Attr]) -> Vec<RefText> {
    let kept = attrs.iter().find_map(|a| match a.value {
        AttrValue::Str(v) if t.str(a.key) == REFERENCES => serde_json::from_str::<Vec<RefText>>(t.str(v)).ok(),
        _ => None,
    });
    if let Some(refs) = kept {
        let parent = parent_of(&refs, |r| r.ref_type).and_then(|r| SpanId::from_text(&r.span_id).ok());
        if parent.map(|(id, _)| id) == s.parent_id {
            return refs;
        }
    }
    s.parent_id
        .map(|p| RefText { ref_type: RefType::ChildOf, trace_id: s.trace_id.to_string(), span_id: p.to_string() })
        .into_iter()
        .collect()
}

/// The span's tags: its attributes, then kind, status and op.
fn tags<'t>(t: &'t Trace, s: &Span, attrs: &'t [Attr]) -> Vec<TagOut<'t>> {
    let mut hints = OpHints::default();
    let mut has_sentry_op = false;
    let mut out: Vec<TagOut> = Vec::with_capacity(attrs.len() + 3);
    for a in attrs {
        let key = t.str(a.key);
        if key == REFERENCES {
            continue;
        }
        hints.see(key);
        has_sentry_op |= key == semconv::SENTRY_OP;
        out.push(TagOut::of(t, key, a.value));
    }
    if !s.kind.as_str().is_empty() {
        out.push(TagOut::str(semconv::SPAN_KIND, s.kind.as_str()));
    }
    let message = t.str(s.status_message);
    let code = match s.status {
        Status::Error => {
            out.push(TagOut { key: "error", ty: "bool", value: ValueOut::Bool(true) });
            Some("ERROR").filter(|_| !message.is_empty())
        }
        Status::Ok => Some("OK"),
        Status::Unset => None,
    };
    if let Some(code) = code {
        out.push(TagOut::str(semconv::STATUS_CODE, code));
        if !message.is_empty() {
            out.push(TagOut::str(semconv::STATUS_DESCRIPTION, message));
        }
    }
    let op = t.str(s.op);
    if !has_sentry_op && op != semconv::derive_op(s.kind, hints) {
        out.push(TagOut::str(semconv::SENTRY_OP, op));
    }
    out
}
