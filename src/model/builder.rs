//! Assembling a [`Trace`] from the raw spans an importer read.
//!
//! Importers push spans in whatever order the file has them, with ids and parent ids as
//! written; [`TraceBuilder::build`] groups them by trace id, links parents, orders every
//! tree depth-first and notes what was odd. Only a parent cycle, which has no tree to show,
//! is an error.

use std::sync::Arc;

use super::assemble::{FastMap, Shared, group_by_trace};
use super::build_error::BuildError;
use super::raw::{RawEvent, RawSpan};
use super::span::Range32;
use super::strings::Interner;
use super::{Attr, AttrValue, ErrorRef, Event, StrId, Trace, TraceId, Warning};

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

    /// Appends everything `other` collected, as if it had been pushed here after what this
    /// builder holds: an importer that reads the parts of one file on several threads merges
    /// their builders in file order, and gets the traces (string ids included) one reading
    /// would have built. A resource equal to one here becomes that one. Returns, for each of
    /// `other`'s string ids (by [`StrId::index`]), its id here, for the importer's own tables.
    pub fn append(&mut self, other: TraceBuilder) -> Vec<StrId> {
        let TraceBuilder { strings, spans, attrs, events, errors, notes, trace_notes, resources } = other;
        let ids: Vec<StrId> = strings.iter().map(|text| self.strings.intern(text)).collect();
        drop(strings);
        let id = |s: StrId| ids[s.index() as usize];
        let (attr_base, event_base) = (self.attrs.len() as u32, self.events.len() as u32);
        // Empty ranges hold nothing and stay as they are.
        let shift = |r: Range32, base: u32| if r.len == 0 { r } else { Range32 { start: r.start + base, len: r.len } };
        for attr in attrs {
            let value = match attr.value {
                AttrValue::Str(s) => AttrValue::Str(id(s)),
                value => value,
            };
            push_growing_gently(&mut self.attrs, Attr { key: id(attr.key), value });
        }
        for event in events {
            push_growing_gently(
                &mut self.events,
                Event { name: id(event.name), attrs: shift(event.attrs, attr_base), ..event },
            );
        }
        let mut same_resource: FastMap<Range32, Range32> = FastMap::default();
        for range in resources.into_values() {
            let here = shift(range, attr_base);
            let key: Vec<AttrKey> = self.attrs[here.as_range()].iter().map(attr_key).collect();
            same_resource.insert(range, *self.resources.entry(key).or_insert(here));
        }
        for span in spans {
            let resource = if span.resource.len == 0 { span.resource } else { same_resource[&span.resource] };
            push_growing_gently(
                &mut self.spans,
                RawSpan {
                    name: id(span.name),
                    op: id(span.op),
                    service: id(span.service),
                    transaction: id(span.transaction),
                    status_message: id(span.status_message),
                    attrs: shift(span.attrs, attr_base),
                    resource,
                    events: shift(span.events, event_base),
                    ..span
                },
            );
        }
        for error in errors {
            let (title, event_id, level) = (id(error.title), id(error.event_id), id(error.level));
            self.errors.push(RawEvent { title, event_id, level, ..error });
        }
        self.notes.extend(notes);
        for (trace, notes) in trace_notes {
            self.trace_notes.entry(trace).or_default().extend(notes);
        }
        ids
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Nanos, SpanFlags, SpanId};

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

    /// Pushes spans `ids` of trace 7 (each under the one before), each with a resource equal to
    /// every other's, an attribute, an event and an error, and a note.
    fn push_part(b: &mut TraceBuilder, ids: std::ops::Range<u64>) {
        let first = ids.start;
        for id in ids {
            let mark = b.attr_mark();
            b.push_attr_str("service.name", "api");
            let resource = b.resource_since(mark);
            push(b, id, (id > 1).then(|| id - 1), id as Nanos, Some(100));
            let mark = b.attr_mark();
            b.push_attr_str("http.route", &format!("/r{}", id % 3));
            let (attrs, events) = (b.attrs_since(mark), b.event_mark());
            let name = b.intern("retry");
            b.push_event(Event { time: id as Nanos, name, attrs: Range32::default() });
            let span = b.spans_mut().last_mut().unwrap();
            (span.resource, span.attrs, span.events) = (resource, attrs, Range32 { start: events, len: 1 });
            let title = b.intern(&format!("KeyError {id}"));
            let error = RawEvent {
                trace_id: TraceId(7),
                span_id: Some(sid(id)),
                time: None,
                title,
                event_id: StrId::EMPTY,
                level: StrId::EMPTY,
            };
            b.push_error(error);
        }
        b.note_trace(TraceId(7), format!("part from {first}"));
    }

    #[test]
    fn appended_builders_build_what_one_builder_builds() {
        let mut one = TraceBuilder::new();
        push_part(&mut one, 1..6);
        push_part(&mut one, 6..11);
        let mut first = TraceBuilder::new();
        push_part(&mut first, 1..6);
        let mut second = TraceBuilder::new();
        push_part(&mut second, 6..11);
        first.append(second);
        let (one, appended) = (one.build().unwrap().remove(0), first.build().unwrap().remove(0));
        let strings = |t: &Trace| t.strings().iter().map(|(id, s)| (id, s.to_owned())).collect::<Vec<_>>();
        assert_eq!(strings(&appended), strings(&one), "the same strings with the same ids");
        assert_eq!(appended.warnings(), one.warnings());
        assert_eq!(appended.errors(), one.errors());
        for (a, o) in appended.spans().iter().zip(one.spans()) {
            assert_eq!((a.id, a.parent, a.name, a.start, a.end), (o.id, o.parent, o.name, o.start, o.end));
            assert_eq!(appended.attrs_in(a.attrs), one.attrs_in(o.attrs));
            assert_eq!(appended.attrs_in(a.resource), one.attrs_in(o.resource));
            assert_eq!(appended.events(appended.find(a.id).unwrap()), one.events(one.find(o.id).unwrap()));
        }
        assert_eq!(appended.len(), 10);
        let resources: std::collections::HashSet<Range32> = appended.spans().iter().map(|s| s.resource).collect();
        assert_eq!(resources.len(), 1, "equal resources are one");
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
mod skew_tests {
    use super::*;
    use crate::model::SpanId;

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
