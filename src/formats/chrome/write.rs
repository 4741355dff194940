//! Writing traces as Chrome trace events: one process (`pid`) per service, named by `M`
//! `process_name` metadata; spans as `X` events (`B` alone for spans that never ended) and
//! span events as `i` instants. Each span's attributes become `args`, with tracedeck's id
//! args (see [`super::ids`]) so the tree survives across threads and services.
//!
//! Threads (`tid`) are lanes laid out so that every thread nests perfectly, as Perfetto
//! requires, and so nesting alone gives each span its true parent whenever the two share a
//! thread: a span goes on its parent's lane when it fits inside the parent after everything
//! already on that lane under the parent has ended, else it starts a lane (or reuses one that
//! is free by then) as a root there.

use std::collections::HashMap;
use std::io::{self, Write};

use crate::model::{Attr, AttrValue, Nanos, Span, SpanFlags, SpanIdx, Trace};

use super::ids::{PREFIX, status_word};

/// Writes `traces` as one Chrome trace file (object form, with `traceEvents`).
pub fn write(traces: &[&Trace], out: &mut dyn Write) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    let layout = Layout::new(traces);
    out.write_all(b"{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n")?;
    let mut first = true;
    for (service, pid) in &layout.services {
        event_separator(&mut out, &mut first)?;
        write!(out, "{{\"ph\":\"M\",\"pid\":{pid},\"tid\":0,\"name\":\"process_name\",\"args\":{{\"name\":")?;
        serde_json::to_writer(&mut out, service)?;
        out.write_all(b"}}")?;
    }
    for (t, trace) in traces.iter().enumerate() {
        for (idx, span) in trace.spans().iter().enumerate() {
            let (pid, tid) = layout.place[t][idx];
            event_separator(&mut out, &mut first)?;
            write_span(&mut out, trace, idx as SpanIdx, span, pid, tid)?;
            for event in trace.events(idx as SpanIdx) {
                event_separator(&mut out, &mut first)?;
                write!(out, "{{\"ph\":\"i\",\"s\":\"t\",\"pid\":{pid},\"tid\":{tid},\"ts\":")?;
                write_micros(&mut out, event.time)?;
                out.write_all(b",\"name\":")?;
                serde_json::to_writer(&mut out, trace.str(event.name))?;
                out.write_all(b",\"args\":{")?;
                let mut first_arg = true;
                write_attrs(&mut out, trace, trace.attrs_in(event.attrs), &mut first_arg)?;
                write_arg(&mut out, &mut first_arg, "span_id", &span.id.to_string())?;
                out.write_all(b"}}")?;
            }
        }
    }
    out.write_all(b"\n]}\n")?;
    out.flush()
}

fn write_span(out: &mut impl Write, trace: &Trace, idx: SpanIdx, span: &Span, pid: u32, tid: u32) -> io::Result<()> {
    let open = span.flags.contains(SpanFlags::OPEN);
    let ph = if open { 'B' } else { 'X' };
    write!(out, "{{\"ph\":\"{ph}\",\"pid\":{pid},\"tid\":{tid},\"ts\":")?;
    write_micros(out, span.start)?;
    if !open {
        out.write_all(b",\"dur\":")?;
        write_micros(out, span.duration())?;
    }
    out.write_all(b",\"name\":")?;
    serde_json::to_writer(&mut *out, trace.str(span.name))?;
    out.write_all(b",\"cat\":")?;
    serde_json::to_writer(&mut *out, trace.str(span.op))?;
    out.write_all(b",\"args\":{")?;
    let mut first = true;
    write_attrs(out, trace, trace.attrs(idx), &mut first)?;
    write_arg(out, &mut first, "trace_id", &span.trace_id.to_string())?;
    write_arg(out, &mut first, "span_id", &span.id.to_string())?;
    if let Some(parent) = span.parent_id {
        write_arg(out, &mut first, "parent_id", &parent.to_string())?;
    }
    if let Some(word) = status_word(span.status) {
        write_arg(out, &mut first, "status", word)?;
    }
    let texts = [("status_message", span.status_message), ("transaction", span.transaction)];
    for (field, text) in texts.into_iter().filter(|(_, t)| !t.is_empty()) {
        write_arg(out, &mut first, field, trace.str(text))?;
    }
    if !span.kind.as_str().is_empty() {
        write_arg(out, &mut first, "kind", span.kind.as_str())?;
    }
    out.write_all(b"}}")
}

fn write_attrs(out: &mut impl Write, trace: &Trace, attrs: &[Attr], first: &mut bool) -> io::Result<()> {
    for attr in attrs {
        comma(out, first)?;
        serde_json::to_writer(&mut *out, trace.str(attr.key))?;
        out.write_all(b":")?;
        match attr.value {
            AttrValue::Str(v) => serde_json::to_writer(&mut *out, trace.str(v))?,
            AttrValue::Int(v) => write!(out, "{v}")?,
            AttrValue::Float(v) => serde_json::to_writer(&mut *out, &v)?,
            AttrValue::Bool(v) => write!(out, "{v}")?,
        }
    }
    Ok(())
}

/// One of tracedeck's own args.
fn write_arg(out: &mut impl Write, first: &mut bool, field: &str, value: &str) -> io::Result<()> {
    comma(out, first)?;
    write!(out, "\"{PREFIX}{field}\":")?;
    serde_json::to_writer(&mut *out, value)?;
    Ok(())
}

/// Separates list items (events get [`event_separator`], args this).
fn comma(out: &mut impl Write, first: &mut bool) -> io::Result<()> {
    separator(out, first, b",")
}

/// Separates events: one per line.
fn event_separator(out: &mut impl Write, first: &mut bool) -> io::Result<()> {
    separator(out, first, b",\n")
}

fn separator(out: &mut impl Write, first: &mut bool, text: &[u8]) -> io::Result<()> {
    if !std::mem::take(first) {
        out.write_all(text)?;
    }
    Ok(())
}

/// Nanoseconds as decimal microseconds, exact: `1500` → `1.5`, `2000` → `2`, `1` → `0.001`.
fn write_micros(out: &mut impl Write, ns: Nanos) -> io::Result<()> {
    let sign = if ns < 0 { "-" } else { "" };
    let abs = ns.unsigned_abs();
    match abs % 1000 {
        0 => write!(out, "{sign}{}", abs / 1000),
        frac => write!(out, "{sign}{}.{}", abs / 1000, format!("{frac:03}").trim_end_matches('0')),
    }
}

/// Where each span goes: its service's `pid` and a lane's `tid`.
struct Layout {
    /// Services with their pids, in order of first appearance.
    services: Vec<(String, u32)>,
    /// `(pid, tid)` per trace, per span index.
    place: Vec<Vec<(u32, u32)>>,
}

/// A span on a lane's stack of open spans.
#[derive(Clone, Copy)]
struct Open {
    /// Which trace and which span.
    id: (u32, SpanIdx),
    start: Nanos,
    nest_end: Nanos,
}

impl Layout {
    fn new(traces: &[&Trace]) -> Self {
        let mut pids: HashMap<&str, u32> = HashMap::new();
        let mut services = Vec::new();
        let mut lanes: Vec<Vec<Vec<Open>>> = Vec::new();
        let mut place = Vec::with_capacity(traces.len());
        for (t, trace) in traces.iter().enumerate() {
            // A span's position on its lane's stack when it was placed.
            let mut trace_place = Vec::with_capacity(trace.len());
            let mut depth_on_lane: Vec<u32> = Vec::with_capacity(trace.len());
            for (idx, span) in trace.spans().iter().enumerate() {
                let service = trace.str(span.service);
                let pid = *pids.entry(service).or_insert_with(|| {
                    services.push((service.to_owned(), services.len() as u32 + 1));
                    lanes.push(Vec::new());
                    services.len() as u32
                });
                let open = Open {
                    id: (t as u32, idx as SpanIdx),
                    start: span.start,
                    nest_end: if span.flags.contains(SpanFlags::OPEN) { Nanos::MAX } else { span.end.max(span.start) },
                };
                let pid_lanes = &mut lanes[pid as usize - 1];
                let under_parent = span.parent.and_then(|p| {
                    let (parent_pid, parent_tid) = trace_place[p as usize];
                    let lane = parent_tid as usize - 1;
                    let depth = depth_on_lane[p as usize] as usize;
                    (parent_pid == pid && fits_under(&pid_lanes[lane], depth, (t as u32, p), open))
                        .then_some((lane, depth + 1))
                });
                let (lane, depth) = under_parent.unwrap_or_else(|| {
                    let free = pid_lanes.iter().position(|lane| fits_under(lane, usize::MAX, (0, 0), open));
                    let lane = free.unwrap_or_else(|| {
                        pid_lanes.push(Vec::new());
                        pid_lanes.len() - 1
                    });
                    (lane, 0)
                });
                let stack = &mut pid_lanes[lane];
                stack.truncate(depth);
                stack.push(open);
                trace_place.push((pid, lane as u32 + 1));
                depth_on_lane.push(depth as u32);
            }
            place.push(trace_place);
        }
        Layout { services, place }
    }
}

/// Whether `span` can go on `lane` directly under the entry at `depth` (which must be span
/// `parent`), or, with `depth == usize::MAX`, as a root: a reader nesting by time must pop
/// every entry above that depth and keep the parent.
fn fits_under(lane: &[Open], depth: usize, parent: (u32, SpanIdx), span: Open) -> bool {
    let above = if depth == usize::MAX {
        lane
    } else {
        match lane.get(depth) {
            Some(p)
                if p.id == parent
                    && p.start <= span.start
                    && span.start < p.nest_end
                    && span.nest_end <= p.nest_end =>
            {
                &lane[depth + 1..]
            }
            _ => return false,
        }
    };
    // Entries above form a chain, each inside the one below: the lowest ends last, the top starts last.
    match (above.first(), above.last()) {
        (Some(low), Some(top)) => low.nest_end <= span.start && (top.start < span.start || span.nest_end == span.start),
        _ => true,
    }
}
