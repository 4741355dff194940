//! Assembling a [`Trace`] from the raw spans an importer read.
//!
//! Importers push spans in whatever order the file has them, with ids and parent ids as
//! written; [`TraceBuilder::build`] groups them by trace id, links parents, orders every
//! tree depth-first and notes what was odd. Only a parent cycle, which has no tree to show,
//! is an error.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use super::span::Range32;
use super::strings::Interner;
use super::{
    Attr, AttrValue, ErrorRef, Event, Nanos, Span, SpanFlags, SpanId, SpanIdx, SpanKind, Status, StrId, Trace, TraceId,
    Warning,
};

/// A span as an importer read it, before the tree is known.
#[derive(Clone, Copy, Debug)]
pub struct RawSpan {
    /// The trace it belongs to.
    pub trace_id: TraceId,
    /// Its id.
    pub id: SpanId,
    /// Its parent's id, as written (may name a span that is not in the file).
    pub parent_id: Option<SpanId>,
    /// Start, absolute nanoseconds.
    pub start: Nanos,
    /// End, absolute nanoseconds; `None` for a span that never ended.
    pub end: Option<Nanos>,
    /// Name or description.
    pub name: StrId,
    /// Operation category.
    pub op: StrId,
    /// Service or process.
    pub service: StrId,
    /// Transaction or root operation.
    pub transaction: StrId,
    /// The format's status text.
    pub status_message: StrId,
    /// Client, server, ...
    pub kind: SpanKind,
    /// Ok, error or unset.
    pub status: Status,
    /// Attributes pushed with [`TraceBuilder::push_attr`].
    pub attrs: Range32,
    /// Attributes of the process or resource that recorded it (OTLP resource attributes,
    /// Jaeger process tags), pushed once with [`TraceBuilder::push_attr`] and shared by every
    /// span of that resource.
    pub resource: Range32,
    /// Events pushed with [`TraceBuilder::push_event`].
    pub events: Range32,
    /// What the importer knows about the span ([`SpanFlags::UNTIMED`]); the builder adds its own.
    pub flags: SpanFlags,
}

impl RawSpan {
    /// A span with the given identity and times and every other field empty.
    pub fn new(trace_id: TraceId, id: SpanId, parent_id: Option<SpanId>, start: Nanos, end: Option<Nanos>) -> Self {
        RawSpan {
            trace_id,
            id,
            parent_id,
            start,
            end,
            name: StrId::EMPTY,
            op: StrId::EMPTY,
            service: StrId::EMPTY,
            transaction: StrId::EMPTY,
            status_message: StrId::EMPTY,
            kind: SpanKind::Unspecified,
            status: Status::Unset,
            attrs: Range32::default(),
            resource: Range32::default(),
            events: Range32::default(),
            flags: SpanFlags::default(),
        }
    }
}

/// An error event as an importer read it.
#[derive(Clone, Copy, Debug)]
pub struct RawEvent {
    /// The trace it belongs to.
    pub trace_id: TraceId,
    /// The span it happened in, if known.
    pub span_id: Option<SpanId>,
    /// When, if known.
    pub time: Option<Nanos>,
    /// Title.
    pub title: StrId,
    /// The back-end's id for it.
    pub event_id: StrId,
    /// Severity.
    pub level: StrId,
}

/// Why spans could not be made into a trace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// Spans are each other's ancestors, so no tree holds them.
    #[error("{}", cycle_text(.spans))]
    Cycle {
        /// The spans on the cycle, each the parent of the one before.
        spans: Vec<SpanId>,
    },
    /// A time lies too far from the epoch for durations to it to be measured (see
    /// [`TIME_LIMIT`](super::TIME_LIMIT)); no verdict can be drawn from a wrapped duration.
    #[error(
        "{what} is {}, outside the times tracedeck can measure ({}): durations that long do not fit in 64-bit nanoseconds",
        super::time::describe(*.value),
        super::time::measurable_range()
    )]
    TimeOutOfRange {
        /// The field: `span 00f067aa0ba902b7's end`, `an event of span ...`.
        what: String,
        /// The time, absolute nanoseconds.
        value: Nanos,
    },
}

/// `spans form a parent cycle: a → b → a`, or for a long cycle the first few and a count.
fn cycle_text(spans: &[SpanId]) -> String {
    if spans.len() > super::listing::SHOWN {
        let count = super::listing::thousands(spans.len());
        return format!("a parent cycle through {count} spans: {}", super::listing::first_few(spans, ", "));
    }
    let mut text: Vec<String> = spans.iter().map(|s| s.to_string()).collect();
    if let Some(first) = text.first().cloned() {
        text.push(first);
    }
    format!("spans form a parent cycle: {}", text.join(" → "))
}

/// Refuses any time a trace may not hold (see [`TIME_LIMIT`](super::TIME_LIMIT)), naming the
/// first such field.
fn check_times(spans: &[RawSpan], events: &[Event], errors: &[RawEvent]) -> Result<(), BuildError> {
    let refuse = |what: String, value| Err(BuildError::TimeOutOfRange { what, value });
    for span in spans {
        if !super::time::measurable(span.start) {
            return refuse(format!("span {}'s start", span.id), span.start);
        }
        if let Some(end) = span.end.filter(|&end| !super::time::measurable(end)) {
            return refuse(format!("span {}'s end", span.id), end);
        }
        let range = span.events.as_range();
        if let Some(event) = events.get(range).into_iter().flatten().find(|e| !super::time::measurable(e.time)) {
            return refuse(format!("an event of span {}", span.id), event.time);
        }
    }
    if let Some(event) = events.iter().find(|e| !super::time::measurable(e.time)) {
        return refuse("an event".to_owned(), event.time);
    }
    match errors.iter().find_map(|e| e.time.filter(|&t| !super::time::measurable(t))) {
        Some(time) => refuse("an error event's time".to_owned(), time),
        None => Ok(()),
    }
}

/// Collects raw spans and builds [`Trace`]s from them. See the module docs.
pub struct TraceBuilder {
    strings: Interner,
    spans: Vec<RawSpan>,
    attrs: Vec<Attr>,
    events: Vec<Event>,
    errors: Vec<RawEvent>,
    notes: Vec<String>,
    trace_notes: FastMap<TraceId, Vec<String>>,
    /// Resources pushed so far, by content, so that equal ones share one range.
    resources: FastMap<Vec<AttrKey>, Range32>,
}

/// An attribute as a key for finding an equal one: key, value kind and value bits.
type AttrKey = (u32, u8, u64);

fn attr_key(attr: &Attr) -> AttrKey {
    let (key, value) = (attr.key.index(), attr.value);
    match value {
        AttrValue::Str(v) => (key, 0, u64::from(v.index())),
        AttrValue::Int(v) => (key, 1, v as u64),
        AttrValue::Float(v) => (key, 2, v.to_bits()),
        AttrValue::Bool(v) => (key, 3, u64::from(v)),
    }
}

impl Default for TraceBuilder {
    fn default() -> Self {
        Self::new()
    }
}

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

const NONE: u32 = u32::MAX;

impl TraceBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        TraceBuilder {
            strings: Interner::new(),
            spans: Vec::new(),
            attrs: Vec::new(),
            events: Vec::new(),
            errors: Vec::new(),
            notes: Vec::new(),
            trace_notes: FastMap::default(),
            resources: FastMap::default(),
        }
    }

    /// Interns a string.
    pub fn intern(&mut self, text: &str) -> StrId {
        self.strings.intern(text)
    }

    /// The id of a string already interned.
    pub fn interned(&self, text: &str) -> Option<StrId> {
        self.strings.get(text)
    }

    /// The text of an interned string.
    pub fn resolve(&self, id: StrId) -> &str {
        self.strings.resolve(id)
    }

    /// Where the next attribute will go; pass it to [`attrs_since`](Self::attrs_since).
    pub fn attr_mark(&self) -> u32 {
        self.attrs.len() as u32
    }

    /// Appends an attribute.
    pub fn push_attr(&mut self, key: StrId, value: AttrValue) {
        push_growing_gently(&mut self.attrs, Attr { key, value });
    }

    /// Appends a text attribute, interning key and value.
    pub fn push_attr_str(&mut self, key: &str, value: &str) {
        let key = self.intern(key);
        let value = AttrValue::Str(self.intern(value));
        self.push_attr(key, value);
    }

    /// The attributes pushed since `mark`.
    pub fn attrs_since(&self, mark: u32) -> Range32 {
        Range32 { start: mark, len: self.attrs.len() as u32 - mark }
    }

    /// The attributes already pushed, for importers that post-process them.
    pub fn attrs(&self) -> &[Attr] {
        &self.attrs
    }

    /// The attributes already pushed, to amend (an importer filling in a value it learns later).
    pub fn attrs_mut(&mut self) -> &mut [Attr] {
        &mut self.attrs
    }

    /// Where the next event will go; pass it to [`events_since`](Self::events_since).
    pub fn event_mark(&self) -> u32 {
        self.events.len() as u32
    }

    /// The attributes pushed since `mark` as a resource ([`RawSpan::resource`]). A resource
    /// equal to one pushed before (every batch of a Collector file repeats its resource) is
    /// taken back, and the earlier range is returned instead, so equal resources are one.
    pub fn resource_since(&mut self, mark: u32) -> Range32 {
        let range = self.attrs_since(mark);
        if range.len == 0 {
            return range;
        }
        let key: Vec<AttrKey> = self.attrs[range.as_range()].iter().map(attr_key).collect();
        match self.resources.get(&key) {
            Some(&earlier) => {
                self.attrs.truncate(mark as usize);
                earlier
            }
            None => {
                self.resources.insert(key, range);
                range
            }
        }
    }

    /// Appends a span event.
    pub fn push_event(&mut self, event: Event) {
        push_growing_gently(&mut self.events, event);
    }

    /// The events already pushed, to amend (an importer that learns their time base later).
    pub fn events_mut(&mut self) -> &mut [Event] {
        &mut self.events
    }

    /// The events pushed since `mark`.
    pub fn events_since(&self, mark: u32) -> Range32 {
        Range32 { start: mark, len: self.events.len() as u32 - mark }
    }

    /// Appends a span.
    pub fn push_span(&mut self, span: RawSpan) {
        push_growing_gently(&mut self.spans, span);
    }

    /// The spans pushed so far.
    pub fn spans(&self) -> &[RawSpan] {
        &self.spans
    }

    /// The spans pushed so far, to amend (an importer closing open spans, say).
    pub fn spans_mut(&mut self) -> &mut [RawSpan] {
        &mut self.spans
    }

    /// Keeps only the spans for which `keep` is true, in order (an importer dropping spans it
    /// could not place; their attributes and events stay in the lists, unused).
    pub fn retain_spans(&mut self, keep: impl FnMut(&RawSpan) -> bool) {
        self.spans.retain(keep);
    }

    /// Appends an error event.
    pub fn push_error(&mut self, error: RawEvent) {
        self.errors.push(error);
    }

    /// Adds a note that every trace built from this builder will carry as a warning.
    pub fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    /// Adds a note that only the trace built with id `trace` will carry as a warning, after
    /// the notes for every trace (a file that records each trace's own notes).
    pub fn note_trace(&mut self, trace: TraceId, text: impl Into<String>) {
        self.trace_notes.entry(trace).or_default().push(text.into());
    }

    /// [`note_trace`](Self::note_trace), unless `trace` already has that note.
    pub(super) fn note_trace_once(&mut self, trace: TraceId, text: &str) {
        let notes = self.trace_notes.entry(trace).or_default();
        if !notes.iter().any(|n| n == text) {
            notes.push(text.to_owned());
        }
    }

    /// Builds one trace per trace id, ordered by start time. A 64-bit trace id joins the
    /// 128-bit id whose lower half it equals (Zipkin's and Jaeger's lenient matching). A parent
    /// cycle, or a time further from the epoch than [`TIME_LIMIT`](super::TIME_LIMIT), is an error.
    pub fn build(self) -> Result<Vec<Trace>, BuildError> {
        let TraceBuilder { strings, spans, attrs, events, errors, notes, trace_notes, resources: _ } = self;
        check_times(&spans, &events, &errors)?;
        let groups = group_by_trace(&spans);
        let strings = Arc::new(strings.freeze());
        let attrs = Arc::new(attrs);
        let events = Arc::new(events);
        let shared = Shared {
            spans: &spans,
            strings: &strings,
            attrs: &attrs,
            events: &events,
            notes: &notes,
            trace_notes: &trace_notes,
        };
        let mut traces = shared.build_all(&groups)?;
        traces.sort_by_key(|t| t.start);
        attach_errors(&mut traces, errors);
        Ok(traces)
    }
}

/// Appends to one of the builder's big arrays, growing it by an eighth when full rather than
/// doubling it: a doubled array can hold almost twice what it needs when memory peaks (at the
/// end of parsing, with the input still in memory). Large arrays grow in place (`mremap`), so
/// the smaller steps cost little time (measured with `cargo bench --bench import`).
fn push_growing_gently<T>(items: &mut Vec<T>, item: T) {
    if items.len() == items.capacity() {
        items.reserve_exact((items.capacity() / 8).max(1024));
    }
    items.push(item);
}

/// Groups span indices by trace id, in order of first appearance. Spans of one trace mostly
/// come together, so a span with the same trace id as the one before skips the maps.
fn group_by_trace(spans: &[RawSpan]) -> Vec<(TraceId, Vec<u32>)> {
    let mut long_ids: FastMap<u64, TraceId> = FastMap::default();
    let mut last = None;
    for span in spans.iter().filter(|s| s.trace_id.0 >> 64 != 0) {
        if last != Some(span.trace_id) {
            long_ids.insert(span.trace_id.low64(), span.trace_id);
            last = Some(span.trace_id);
        }
    }
    let key = |id: TraceId| if id.0 >> 64 == 0 { long_ids.get(&id.low64()).copied().unwrap_or(id) } else { id };
    let mut slot: FastMap<TraceId, usize> = FastMap::default();
    let mut groups: Vec<(TraceId, Vec<u32>)> = Vec::new();
    let mut last: Option<(TraceId, usize)> = None;
    for (i, span) in spans.iter().enumerate() {
        let g = match last {
            Some((raw_id, g)) if raw_id == span.trace_id => g,
            _ => {
                let id = key(span.trace_id);
                let g = *slot.entry(id).or_insert_with(|| {
                    groups.push((id, Vec::new()));
                    groups.len() - 1
                });
                last = Some((span.trace_id, g));
                g
            }
        };
        groups[g].1.push(i as u32);
    }
    groups
}

/// Traces with at least this many spans sort their id index on a second thread; smaller
/// ones are built two at a time instead (a thread per small trace would cost more than it saves).
const PARALLEL_SPANS: usize = 1 << 15;

/// Runs `a` on this thread and `b` on another, and returns both results.
fn join<A: Send, B: Send>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    std::thread::scope(|scope| {
        let other = scope.spawn(b);
        let a = a();
        (a, other.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    })
}

fn attach_errors(traces: &mut [Trace], errors: Vec<RawEvent>) {
    if traces.is_empty() {
        return;
    }
    // An error goes to the trace of its id, else to the first trace whose id has the same lower
    // half (a 64-bit id for a 128-bit one). Maps built once: a file may hold 100,000 traces.
    let exact: FastMap<TraceId, usize> = traces.iter().enumerate().map(|(i, t)| (t.trace_id, i)).collect();
    let mut by_low: FastMap<u64, usize> = FastMap::default();
    for (i, t) in traces.iter().enumerate() {
        by_low.entry(t.trace_id.low64()).or_insert(i);
    }
    let mut strays = 0usize;
    for error in errors {
        let owner = exact.get(&error.trace_id).or_else(|| by_low.get(&error.trace_id.low64())).copied();
        // An error of a trace that is not in the file is kept, on the first trace, and said.
        strays += usize::from(owner.is_none());
        let trace = &mut traces[owner.unwrap_or(0)];
        let span = error.span_id.and_then(|id| trace.find(id));
        trace.errors.push(ErrorRef {
            span,
            time: error.time,
            title: error.title,
            event_id: error.event_id,
            level: error.level,
        });
    }
    if strays > 0 {
        traces[0].warnings.push(Warning::Import(format!(
            "{strays} error event(s) belong to traces that are not in the file; listed with this trace"
        )));
    }
}

struct Shared<'a> {
    spans: &'a [RawSpan],
    strings: &'a Arc<super::Strings>,
    attrs: &'a Arc<Vec<Attr>>,
    events: &'a Arc<Vec<Event>>,
    notes: &'a [String],
    trace_notes: &'a FastMap<TraceId, Vec<String>>,
}

impl Shared<'_> {
    /// Builds every group's trace, in group order; the first cycle found is the error. Small
    /// traces are shared out between two threads by span count.
    fn build_all(&self, groups: &[(TraceId, Vec<u32>)]) -> Result<Vec<Trace>, BuildError> {
        let build = |groups: &[(TraceId, Vec<u32>)]| -> Vec<Result<Trace, BuildError>> {
            groups.iter().map(|(trace_id, members)| self.build_one(*trace_id, members)).collect()
        };
        let total: usize = groups.iter().map(|(_, m)| m.len()).sum();
        let small = groups.iter().all(|(_, m)| m.len() < PARALLEL_SPANS);
        let results = if groups.len() > 1 && small && total >= PARALLEL_SPANS {
            let mut seen = 0;
            let split = groups.partition_point(|(_, m)| {
                seen += m.len();
                seen <= total / 2
            });
            let (head, tail) = groups.split_at(split);
            let (mut first, second) = join(|| build(head), || build(tail));
            first.extend(second);
            first
        } else {
            build(groups)
        };
        results.into_iter().collect()
    }

    /// Builds the trace made of `members` (indices into `spans`). For a big trace the id
    /// index is sorted on a second thread while this one links and orders the tree.
    fn build_one(&self, trace_id: TraceId, members: &[u32]) -> Result<Trace, BuildError> {
        let ids_by_local = || {
            let mut ids: Vec<(SpanId, u32)> =
                members.iter().enumerate().map(|(local, &i)| (self.spans[i as usize].id, local as u32)).collect();
            ids.sort_unstable();
            ids
        };
        let (assembled, mut by_id) = if members.len() >= PARALLEL_SPANS {
            join(|| self.assemble(trace_id, members), ids_by_local)
        } else {
            (self.assemble(trace_id, members), ids_by_local())
        };
        let (mut trace, position) = assembled?;
        for (_, idx) in &mut by_id {
            *idx = position[*idx as usize];
        }
        // Spans sharing an id must be ordered by position, so that `find` returns the first.
        if trace.warnings.iter().any(|w| matches!(w, Warning::DuplicateIds { .. })) {
            by_id.sort_unstable();
        }
        trace.by_id = by_id;
        Ok(trace)
    }

    /// Links, orders and copies the spans of one trace, leaving its id index empty; returns
    /// the trace and each member's position in it.
    fn assemble(&self, trace_id: TraceId, members: &[u32]) -> Result<(Trace, Vec<SpanIdx>), BuildError> {
        let raw = |local: u32| &self.spans[members[local as usize] as usize];
        let n = members.len();
        let own_notes = self.trace_notes.get(&trace_id).into_iter().flatten();
        let mut warnings: Vec<Warning> = self.notes.iter().chain(own_notes).cloned().map(Warning::Import).collect();
        let mut flags = vec![SpanFlags::default(); n];

        // Link parents by id; the first span with an id owns it.
        let mut owner: FastMap<SpanId, u32> = FastMap::with_capacity_and_hasher(n, Default::default());
        let mut duplicates = 0;
        for local in 0..n as u32 {
            if let Entry::Vacant(slot) = owner.entry(raw(local).id) {
                slot.insert(local);
                continue;
            }
            flags[local as usize].insert(SpanFlags::DUPLICATE_ID);
            duplicates += 1;
        }
        let mut parent = vec![NONE; n];
        let mut orphans = 0;
        for local in 0..n as u32 {
            let Some(pid) = raw(local).parent_id else { continue };
            match owner.get(&pid) {
                Some(&p) if p != local => parent[local as usize] = p,
                _ => {
                    flags[local as usize].insert(SpanFlags::ORPHAN);
                    orphans += 1;
                }
            }
        }
        drop(owner);

        // Children lists (counting sort), each ordered by start time then file order.
        let mut offsets = vec![0u32; n + 1];
        for &p in &parent {
            if p != NONE {
                offsets[p as usize + 1] += 1;
            }
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut children = vec![0u32; offsets[n] as usize];
        let mut roots = Vec::new();
        for (local, &p) in parent.iter().enumerate() {
            if p == NONE {
                roots.push(local as u32);
            } else {
                children[fill[p as usize] as usize] = local as u32;
                fill[p as usize] += 1;
            }
        }
        drop(fill);
        let by_start = |a: &u32, b: &u32| (raw(*a).start, *a).cmp(&(raw(*b).start, *b));
        roots.sort_unstable_by(by_start);
        for i in 0..n {
            children[offsets[i] as usize..offsets[i + 1] as usize].sort_unstable_by(by_start);
        }

        // Depth-first pre-order from the roots.
        let mut order: Vec<u32> = Vec::with_capacity(n);
        let mut stack: Vec<u32> = roots.iter().rev().copied().collect();
        while let Some(local) = stack.pop() {
            order.push(local);
            let kids = &children[offsets[local as usize] as usize..offsets[local as usize + 1] as usize];
            stack.extend(kids.iter().rev());
        }
        if order.len() < n {
            return Err(BuildError::Cycle { spans: find_cycle(&order, &parent, |l| raw(l).id) });
        }
        // A warning's example is the first such span depth-first (the topmost in the waterfall),
        // whatever the order of the file.
        let first_flagged = |flag| order.iter().find(|&&l| flags[l as usize].contains(flag)).map(|&l| raw(l));
        if let Some(span) = first_flagged(SpanFlags::DUPLICATE_ID) {
            warnings.push(Warning::DuplicateIds { count: duplicates, example: span.id });
        }
        if let Some(span) = first_flagged(SpanFlags::ORPHAN)
            && let Some(missing_parent) = span.parent_id
        {
            warnings.push(Warning::Orphans { count: orphans, example: span.id, missing_parent });
        }
        drop(children);
        drop(offsets);

        let mut position = vec![0u32; n];
        for (pos, &local) in order.iter().enumerate() {
            position[local as usize] = pos as u32;
        }
        let start = order.iter().map(|&l| raw(l).start).min().unwrap_or(0);
        let end = order.iter().map(|&l| raw(l).end.unwrap_or(raw(l).start).max(raw(l).start)).max().unwrap_or(0);

        let mut built: Vec<Span> = Vec::with_capacity(n);
        let (mut open, mut inverted, mut skewed) = (0usize, (0usize, None), (0usize, 0, None));
        for &local in &order {
            let r = raw(local);
            let mut f = flags[local as usize];
            f.insert(r.flags);
            let span_end = match r.end {
                None => {
                    f.insert(SpanFlags::OPEN);
                    open += 1;
                    end.max(r.start)
                }
                Some(e) if e < r.start => {
                    f.insert(SpanFlags::END_BEFORE_START);
                    inverted = (inverted.0 + 1, inverted.1.or(Some(r.id)));
                    r.start
                }
                Some(e) => e,
            };
            let parent_pos = (parent[local as usize] != NONE).then(|| position[parent[local as usize] as usize]);
            let depth = parent_pos.map_or(0, |p| built[p as usize].depth + 1);
            if let Some(p) = parent_pos {
                let gap = built[p as usize].start - r.start;
                if gap > 0 {
                    f.insert(SpanFlags::SKEWED);
                    skewed.0 += 1;
                    if gap > skewed.1 {
                        skewed = (skewed.0, gap, Some(r.id));
                    }
                }
            }
            built.push(Span {
                id: r.id,
                parent_id: r.parent_id,
                trace_id: r.trace_id,
                start: r.start,
                end: span_end,
                parent: parent_pos,
                depth,
                subtree_end: 0,
                name: r.name,
                op: r.op,
                service: r.service,
                transaction: r.transaction,
                status_message: r.status_message,
                attrs: r.attrs,
                resource: r.resource,
                events: r.events,
                kind: r.kind,
                status: r.status,
                flags: f,
            });
        }
        // Subtree ends: a span's subtree ends where the next span at its depth or shallower starts.
        let mut open_stack: Vec<SpanIdx> = Vec::new();
        for pos in 0..n as u32 {
            let depth = built[pos as usize].depth;
            while let Some(&top) = open_stack.last() {
                if built[top as usize].depth < depth {
                    break;
                }
                built[top as usize].subtree_end = pos;
                open_stack.pop();
            }
            open_stack.push(pos);
        }
        for top in open_stack {
            built[top as usize].subtree_end = n as u32;
        }

        if open > 0 {
            warnings.push(Warning::OpenSpans { count: open });
        }
        if let (count, Some(example)) = inverted {
            warnings.push(Warning::EndBeforeStart { count, example });
        }
        if let (count, worst, Some(example)) = skewed {
            warnings.push(Warning::ClockSkew { count, worst, example });
        }
        let roots = roots.iter().map(|&l| position[l as usize]).collect();
        let trace = Trace {
            trace_id,
            spans: built,
            attrs: Arc::clone(self.attrs),
            events: Arc::clone(self.events),
            errors: Vec::new(),
            strings: Arc::clone(self.strings),
            roots,
            by_id: Vec::new(),
            warnings,
            start,
            end,
        };
        Ok((trace, position))
    }
}

/// Finds one cycle among the spans the depth-first walk did not reach.
fn find_cycle(reached: &[u32], parent: &[u32], id: impl Fn(u32) -> SpanId) -> Vec<SpanId> {
    let mut seen = vec![false; parent.len()];
    for &l in reached {
        seen[l as usize] = true;
    }
    let start = (0..parent.len() as u32).find(|&l| !seen[l as usize]).expect("some span was not reached");
    // Walk up from an unreached span; every unreached span's chain ends in a cycle.
    let mut step = vec![NONE; parent.len()];
    let mut at = start;
    let mut k = 0;
    while step[at as usize] == NONE {
        step[at as usize] = k;
        k += 1;
        at = parent[at as usize];
    }
    let mut cycle = vec![id(at)];
    let mut next = parent[at as usize];
    while next != at {
        cycle.push(id(next));
        next = parent[next as usize];
    }
    cycle
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid(v: u64) -> SpanId {
        SpanId::new(v).unwrap()
    }

    fn push(b: &mut TraceBuilder, id: u64, parent: Option<u64>, start: Nanos, end: Option<Nanos>) {
        let name = b.intern(&format!("span {id}"));
        let mut raw = RawSpan::new(TraceId(7), sid(id), parent.map(sid), start, end);
        raw.name = name;
        b.push_span(raw);
    }

    fn ids(trace: &Trace) -> Vec<u64> {
        trace.spans().iter().map(|s| s.id.get()).collect()
    }

    #[test]
    fn orders_depth_first_with_siblings_by_start() {
        let mut b = TraceBuilder::new();
        push(&mut b, 3, Some(1), 50, Some(60));
        push(&mut b, 2, Some(1), 10, Some(40));
        push(&mut b, 4, Some(2), 20, Some(30));
        push(&mut b, 1, None, 0, Some(100));
        let traces = b.build().unwrap();
        assert_eq!(traces.len(), 1);
        let t = &traces[0];
        assert_eq!(ids(t), vec![1, 2, 4, 3]);
        assert_eq!(t.spans().iter().map(|s| s.depth).collect::<Vec<_>>(), vec![0, 1, 2, 1]);
        assert_eq!(t.spans().iter().map(|s| s.subtree_end).collect::<Vec<_>>(), vec![4, 3, 3, 4]);
        assert_eq!(t.children(0).collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(t.roots(), &[0]);
        assert_eq!(t.find(sid(4)), Some(2));
        assert_eq!(t.ancestors(2).collect::<Vec<_>>(), vec![2, 1, 0]);
        assert_eq!(t.str(t.span(3).name), "span 3");
        assert!(t.warnings().is_empty());
        assert_eq!((t.start(), t.end()), (0, 100));
    }

    #[test]
    fn orphans_become_roots_with_a_warning() {
        let mut b = TraceBuilder::new();
        push(&mut b, 1, None, 0, Some(10));
        push(&mut b, 2, Some(99), 5, Some(8));
        let t = &b.build().unwrap()[0];
        assert_eq!(t.roots().len(), 2);
        assert!(t.span(1).flags.contains(SpanFlags::ORPHAN));
        assert_eq!(t.warnings(), &[Warning::Orphans { count: 1, example: sid(2), missing_parent: sid(99) }]);
        assert!(t.warnings()[0].to_string().contains("0000000000000063"));
    }

    #[test]
    fn duplicates_open_spans_skew_and_inverted_times_are_warned_not_fatal() {
        let mut b = TraceBuilder::new();
        push(&mut b, 1, None, 100, Some(200));
        push(&mut b, 1, None, 100, Some(150));
        push(&mut b, 2, Some(1), 90, None);
        push(&mut b, 3, Some(1), 120, Some(110));
        let t = &b.build().unwrap()[0];
        let kinds: Vec<String> = t.warnings().iter().map(|w| w.to_string()).collect();
        assert!(kinds.iter().any(|w| w.contains("repeat an id")), "{kinds:?}");
        assert!(kinds.iter().any(|w| w.contains("never ended")), "{kinds:?}");
        assert!(kinds.iter().any(|w| w.contains("clock skew")), "{kinds:?}");
        assert!(kinds.iter().any(|w| w.contains("end before they start")), "{kinds:?}");
        let open = t.span(t.find(sid(2)).unwrap());
        assert!(open.flags.contains(SpanFlags::OPEN) && open.flags.contains(SpanFlags::SKEWED));
        assert_eq!(open.end, 200);
        let inverted = t.span(t.find(sid(3)).unwrap());
        assert_eq!(inverted.duration(), 0);
    }

    #[test]
    fn a_parent_cycle_is_an_error_naming_its_spans() {
        let mut b = TraceBuilder::new();
        push(&mut b, 1, None, 0, Some(10));
        push(&mut b, 2, Some(3), 0, Some(10));
        push(&mut b, 3, Some(2), 0, Some(10));
        let err = b.build().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("cycle"), "{text}");
        assert!(text.contains("0000000000000002") && text.contains("0000000000000003"), "{text}");

        // A long cycle names the first few spans and counts the rest, on one short line.
        let mut b = TraceBuilder::new();
        let n = 200_000;
        for id in 1..=n {
            push(&mut b, id, Some(id % n + 1), 0, Some(10));
        }
        let text = b.build().unwrap_err().to_string();
        assert!(text.starts_with("a parent cycle through 200,000 spans: "), "{text}");
        assert!(text.ends_with("… (199,995 more)") && text.len() < 200, "{text}");
    }

    #[test]
    fn groups_by_trace_id_and_joins_short_ids_to_long_ones() {
        let mut b = TraceBuilder::new();
        let long = TraceId(0xaaaa_0000_0000_0000_0000_0000_0000_0001 | (1 << 64));
        b.push_span(RawSpan::new(long, sid(1), None, 0, Some(10)));
        b.push_span(RawSpan::new(TraceId(long.low64() as u128), sid(2), Some(sid(1)), 1, Some(5)));
        b.push_span(RawSpan::new(TraceId(42), sid(3), None, 50, Some(60)));
        let traces = b.build().unwrap();
        assert_eq!(traces.len(), 2);
        assert_eq!(traces[0].len(), 2);
        assert_eq!(traces[0].trace_id(), long);
        assert_eq!(traces[1].trace_id(), TraceId(42));
    }

    #[test]
    fn errors_of_traces_not_in_the_file_are_kept_and_said() {
        let mut b = TraceBuilder::new();
        push(&mut b, 1, None, 0, Some(10));
        let title = b.intern("stray");
        b.push_error(RawEvent {
            trace_id: TraceId(99),
            span_id: None,
            time: None,
            title,
            event_id: StrId::EMPTY,
            level: StrId::EMPTY,
        });
        let t = &b.build().unwrap()[0];
        assert_eq!(t.errors().len(), 1);
        assert!(
            t.warnings()
                .iter()
                .any(|w| w.to_string().contains("1 error event(s) belong to traces that are not in the file"))
        );
    }

    #[test]
    fn examples_are_the_first_such_spans_depth_first_whatever_the_file_order() {
        let mut b = TraceBuilder::new();
        push(&mut b, 1, None, 0, Some(100));
        // In the file, the later orphan and the later repeat come first.
        push(&mut b, 5, Some(98), 50, Some(60));
        push(&mut b, 4, Some(99), 10, Some(20));
        push(&mut b, 7, None, 30, Some(40));
        push(&mut b, 7, Some(1), 5, Some(6));
        push(&mut b, 6, Some(1), 60, Some(70));
        push(&mut b, 6, Some(1), 2, Some(3));
        let t = &b.build().unwrap()[0];
        assert_eq!(ids(t), vec![1, 6, 7, 6, 4, 7, 5]);
        assert_eq!(
            t.warnings(),
            &[
                Warning::DuplicateIds { count: 2, example: sid(6) },
                Warning::Orphans { count: 2, example: sid(4), missing_parent: sid(99) },
            ]
        );
    }

    #[test]
    fn a_trace_note_goes_to_its_trace_only_after_the_notes_for_all() {
        let mut b = TraceBuilder::new();
        b.push_span(RawSpan::new(TraceId(1), sid(1), None, 0, Some(10)));
        b.push_span(RawSpan::new(TraceId(2), sid(2), None, 20, Some(30)));
        b.note_trace(TraceId(2), "only two");
        b.note("every trace");
        let traces = b.build().unwrap();
        let notes = |t: &Trace| t.warnings().iter().map(|w| w.to_string()).collect::<Vec<_>>();
        assert_eq!(notes(&traces[0]), ["every trace"]);
        assert_eq!(notes(&traces[1]), ["every trace", "only two"]);
    }

    #[test]
    fn an_error_goes_to_the_trace_of_its_exact_id_before_one_sharing_the_lower_half() {
        let low = 0x0123_4567_89ab_cdef_u128;
        let (first, second) = (TraceId(1 << 64 | low), TraceId(2 << 64 | low));
        let mut b = TraceBuilder::new();
        b.push_span(RawSpan::new(first, sid(1), None, 0, Some(10)));
        b.push_span(RawSpan::new(second, sid(2), None, 20, Some(30)));
        for trace_id in [second, TraceId(low)] {
            let title = b.intern("KeyError");
            b.push_error(RawEvent {
                trace_id,
                span_id: None,
                time: None,
                title,
                event_id: StrId::EMPTY,
                level: StrId::EMPTY,
            });
        }
        let traces = b.build().unwrap();
        assert_eq!(traces.iter().map(Trace::trace_id).collect::<Vec<_>>(), [first, second]);
        assert_eq!(traces[1].errors().len(), 1, "the exact id wins over the earlier trace sharing its lower half");
        assert_eq!(traces[0].errors().len(), 1, "a 64-bit id goes to the first trace with that lower half");
        assert!(traces.iter().all(|t| t.warnings().is_empty()), "no error is a stray");
    }

    #[test]
    fn errors_attach_to_their_span() {
        let mut b = TraceBuilder::new();
        push(&mut b, 1, None, 0, Some(10));
        let title = b.intern("KeyError");
        b.push_error(RawEvent {
            trace_id: TraceId(7),
            span_id: Some(sid(1)),
            time: Some(5),
            title,
            event_id: StrId::EMPTY,
            level: StrId::EMPTY,
        });
        let t = &b.build().unwrap()[0];
        assert_eq!(t.errors().len(), 1);
        assert_eq!(t.errors()[0].span, Some(0));
    }
}

#[cfg(test)]
mod parallel_tests {
    use super::*;

    fn id(v: u64) -> SpanId {
        SpanId::new(v).unwrap()
    }

    /// A chain of `n` spans (each the parent of the next) in trace `trace`, ids from `first`.
    fn chain(b: &mut TraceBuilder, trace: u128, first: u64, n: u64) {
        for i in 0..n {
            let parent = (i > 0).then(|| id(first + i - 1));
            b.push_span(RawSpan::new(TraceId(trace), id(first + i), parent, i as Nanos, Some(1_000_000)));
        }
    }

    #[test]
    fn a_big_trace_indexes_ids_by_position_and_finds_the_first_of_a_repeated_id() {
        let n = PARALLEL_SPANS as u64 + 10;
        let mut b = TraceBuilder::new();
        // First in the file, so it owns id 1 (and the chain's second span hangs under it), but
        // it starts after the chain's root, which comes first depth-first.
        b.push_span(RawSpan::new(TraceId(1), id(1), None, 5, Some(6)));
        chain(&mut b, 1, 1, n);
        let t = b.build().unwrap().remove(0);
        assert_eq!(t.len() as u64, n + 1);
        assert_eq!(t.find(id(1)), Some(0), "the first span with the id, depth-first");
        assert!(t.span(0).flags.contains(SpanFlags::DUPLICATE_ID));
        assert_eq!(t.span(1).start, 5);
        for v in [2, n / 2, n] {
            let at = t.find(id(v)).unwrap();
            assert_eq!((t.span(at).id, t.span(at).depth as u64), (id(v), v - 1));
        }
        assert_eq!(t.find(id(n + 1)), None);
    }

    #[test]
    fn many_small_traces_are_all_built_in_start_order_whichever_thread_built_them() {
        let (traces, per) = (PARALLEL_SPANS as u64 / 50 + 7, 64);
        let mut b = TraceBuilder::new();
        for t in (0..traces).rev() {
            chain(&mut b, u128::from(t) + 1, t * per + 1, per);
            b.spans_mut().iter_mut().rev().take(per as usize).for_each(|s| s.start += t as Nanos);
        }
        let built = b.build().unwrap();
        assert_eq!(built.len() as u64, traces);
        for (t, trace) in built.iter().enumerate() {
            assert_eq!(trace.trace_id(), TraceId(t as u128 + 1));
            assert_eq!(trace.len() as u64, per);
            assert_eq!(trace.find(id(t as u64 * per + per)), Some(per as SpanIdx - 1));
            assert!(trace.warnings().is_empty(), "{:?}", trace.warnings());
        }
    }

    #[test]
    fn a_cycle_in_one_of_many_traces_is_still_the_error() {
        let mut b = TraceBuilder::new();
        for t in 0..PARALLEL_SPANS as u64 / 16 {
            chain(&mut b, u128::from(t) + 1, t * 32 + 1, 32);
        }
        b.push_span(RawSpan::new(TraceId(999_999), id(1 << 40), Some(id((1 << 40) + 1)), 0, Some(1)));
        b.push_span(RawSpan::new(TraceId(999_999), id((1 << 40) + 1), Some(id(1 << 40)), 0, Some(1)));
        assert!(matches!(b.build(), Err(BuildError::Cycle { .. })));
    }
}

#[cfg(test)]
mod skew_tests {
    use super::*;

    #[test]
    fn skew_adjustment_moves_early_children_with_their_subtrees() {
        let mut b = TraceBuilder::new();
        let id = |v| SpanId::new(v).unwrap();
        b.push_span(RawSpan::new(TraceId(1), id(1), None, 100, Some(500)));
        b.push_span(RawSpan::new(TraceId(1), id(2), Some(id(1)), 60, Some(160)));
        b.push_span(RawSpan::new(TraceId(1), id(3), Some(id(2)), 70, Some(80)));
        b.push_span(RawSpan::new(TraceId(1), id(4), Some(id(1)), 200, Some(300)));
        let t = b.build().unwrap().remove(0);
        assert!(t.warnings().iter().any(|w| matches!(w, Warning::ClockSkew { .. })));
        let (adjusted, moved) = t.skew_adjusted();
        assert_eq!(moved, vec![crate::model::SkewShift { span: t.find(id(2)).unwrap(), by: 40 }]);
        let at = |id| adjusted.span(adjusted.find(id).unwrap());
        assert_eq!((at(id(2)).start, at(id(2)).end), (100, 200));
        assert_eq!((at(id(3)).start, at(id(3)).end), (110, 120), "the subtree moves along");
        assert_eq!((at(id(4)).start, at(id(4)).end), (200, 300), "others stay");
        assert!(!adjusted.warnings().iter().any(|w| matches!(w, Warning::ClockSkew { .. })));
        assert!(adjusted.warnings().iter().any(|w| w.to_string().contains("1 span(s) moved")));
        assert_eq!(t.span(t.find(id(2)).unwrap()).start, 60, "the raw trace is untouched");
    }
}
