//! Putting built traces back into a [`TraceBuilder`], so fragments of one trace that arrived
//! apart (a replay's own spans and the app's spans from the OTLP receiver, spans of one trace
//! id received in several requests, or parts of one trace in several files) become one trace
//! with parents linked across them.
//!
//! A fragment may repeat what an earlier one brought: the same trace saved twice (in two
//! formats, say) or a batch sent twice. A span of a later fragment with the id of an earlier
//! fragment's span in the same trace, and the same kind (or a kind one of them does not know),
//! is that span again: it is kept once, as the earlier fragment has it, with what only the later
//! one has (a kind, attributes, a resource, events) filled in. An error event is kept
//! once likewise: the same event id, or the same span and title. The trace says how many were
//! dropped. Spans that repeat an id within one fragment are the format's own (Zipkin's client
//! and server halves of a shared span) and are all kept, as the builder keeps them.

use std::collections::{HashMap, HashSet};

use super::{
    AttrValue, BuildError, Event, Range32, RawEvent, RawSpan, SpanFlags, SpanId, SpanKind, StrId, Trace, TraceBuilder,
    TraceId, Warning,
};

/// What the earlier fragments of a merge brought, to know what a later one repeats.
#[derive(Default)]
struct Seen {
    /// Each (trace, span id)'s kinds, with where the span is in the builder.
    spans: HashMap<(TraceId, SpanId), Vec<(SpanKind, usize)>>,
    /// Error events by event id, and by span and title.
    errors: HashSet<(TraceId, ErrorKey)>,
    /// Spans and error events dropped, per trace.
    dropped: HashMap<TraceId, (usize, usize)>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum ErrorKey {
    Event(String),
    InSpan(SpanId, String),
}

impl Seen {
    /// For each span of `trace`, where the builder holds the span an earlier fragment brought
    /// as the same; then remembers `trace`'s other spans, which will be pushed from `first`.
    fn spans_again(&mut self, trace: &Trace, first: usize) -> Vec<Option<usize>> {
        let id = trace.trace_id();
        let again: Vec<Option<usize>> = trace
            .spans()
            .iter()
            .map(|s| {
                let same = |&&(k, _): &&(SpanKind, usize)| {
                    k == s.kind || k == SpanKind::Unspecified || s.kind == SpanKind::Unspecified
                };
                self.spans.get(&(id, s.id)).and_then(|kinds| kinds.iter().find(same)).map(|&(_, at)| at)
            })
            .collect();
        let new = trace.spans().iter().zip(&again).filter(|(_, again)| again.is_none());
        for (n, (s, _)) in new.enumerate() {
            self.spans.entry((id, s.id)).or_default().push((s.kind, first + n));
        }
        self.dropped.entry(id).or_default().0 += again.iter().filter(|a| a.is_some()).count();
        again
    }

    /// Which error events of `trace` an earlier fragment brought; then remembers `trace`'s.
    fn errors_again(&mut self, trace: &Trace) -> Vec<bool> {
        let id = trace.trace_id();
        let keys: Vec<Vec<ErrorKey>> = trace
            .errors()
            .iter()
            .map(|e| {
                let event =
                    Some(trace.str(e.event_id)).filter(|t| !t.is_empty()).map(|t| ErrorKey::Event(t.to_owned()));
                let in_span = e.span.map(|idx| ErrorKey::InSpan(trace.span(idx).id, trace.str(e.title).to_owned()));
                event.into_iter().chain(in_span).collect()
            })
            .collect();
        let again: Vec<bool> =
            keys.iter().map(|keys| keys.iter().any(|k| self.errors.contains(&(id, k.clone())))).collect();
        self.errors.extend(keys.into_iter().flatten().map(|k| (id, k)));
        self.dropped.entry(id).or_default().1 += again.iter().filter(|&&a| a).count();
        again
    }
}

impl TraceBuilder {
    /// Adds the spans of `trace` (with their attributes and events), its error events and its
    /// import notes as if an importer had read them, leaving out the spans and error events
    /// `seen` says an earlier fragment brought. Spans that never ended are added open again,
    /// so the built trace draws them to its own end; warnings the builder computes (orphans,
    /// skew, duplicate ids) are computed afresh by [`build`](Self::build).
    fn push_trace(&mut self, trace: &Trace, seen: &mut Seen) {
        let copy = |builder: &mut TraceBuilder, text: StrId| builder.intern(trace.str(text));
        // Resources are shared by many spans: each is copied once (and is one with an equal
        // resource of another fragment).
        let mut resources: HashMap<Range32, Range32> = HashMap::new();
        let spans_again = seen.spans_again(trace, self.spans().len());
        for (span, again) in trace.spans().iter().zip(spans_again) {
            if let Some(kept) = again {
                self.fill_in(kept, trace, span);
                continue;
            }
            let resource = match resources.get(&span.resource) {
                Some(&to) => to,
                None => {
                    let to = self.copy_resource(trace, span.resource);
                    resources.insert(span.resource, to);
                    to
                }
            };
            let attrs = self.copy_attrs(trace, span.attrs);
            let events = self.copy_events(trace, span.events);
            let end = (!span.flags.contains(SpanFlags::OPEN)).then_some(span.end);
            let mut raw = RawSpan::new(span.trace_id, span.id, span.parent_id, span.start, end);
            raw.name = copy(self, span.name);
            raw.op = copy(self, span.op);
            raw.service = copy(self, span.service);
            raw.transaction = copy(self, span.transaction);
            raw.status_message = copy(self, span.status_message);
            raw.kind = span.kind;
            raw.status = span.status;
            raw.attrs = attrs;
            raw.resource = resource;
            raw.events = events;
            self.push_span(raw);
        }
        let errors_again = seen.errors_again(trace);
        for (error, _) in trace.errors().iter().zip(&errors_again).filter(|(_, again)| !**again) {
            let event = RawEvent {
                trace_id: trace.trace_id(),
                span_id: error.span.map(|idx| trace.span(idx).id),
                time: error.time,
                title: copy(self, error.title),
                event_id: copy(self, error.event_id),
                level: copy(self, error.level),
            };
            self.push_error(event);
        }
        // A trace's notes stay with its trace id: merged fragments share them once, and a
        // trace merged beside others of other ids does not lend them its notes.
        for warning in trace.warnings() {
            if let Warning::Import(note) = warning {
                self.note_trace_once(trace.trace_id(), note);
            }
        }
    }

    /// Gives the span at `kept` what its repeat `span` (of `trace`) has and it lacks: a kind,
    /// attributes, a resource, events. (The same trace from Sentry and from OTLP: Sentry's
    /// spans have no kind or resource.)
    fn fill_in(&mut self, kept: usize, trace: &Trace, span: &super::Span) {
        let had = self.spans()[kept];
        let attrs = if had.attrs.len == 0 { self.copy_attrs(trace, span.attrs) } else { had.attrs };
        let resource = if had.resource.len == 0 { self.copy_resource(trace, span.resource) } else { had.resource };
        let events = if had.events.len == 0 { self.copy_events(trace, span.events) } else { had.events };
        let raw = &mut self.spans_mut()[kept];
        if raw.kind == SpanKind::Unspecified {
            raw.kind = span.kind;
        }
        (raw.attrs, raw.resource, raw.events) = (attrs, resource, events);
    }

    /// Copies the events `range` of `trace` with their attributes, returning where they went.
    fn copy_events(&mut self, trace: &Trace, range: Range32) -> Range32 {
        let mark = self.event_mark();
        for event in trace.events_in(range) {
            let attrs = self.copy_attrs(trace, event.attrs);
            let name = self.intern(trace.str(event.name));
            self.push_event(Event { time: event.time, name, attrs });
        }
        self.events_since(mark)
    }

    /// Copies the resource `range` of `trace`, returning where it went (to an equal resource
    /// already in the builder, if there is one: [`TraceBuilder::resource_since`]).
    fn copy_resource(&mut self, trace: &Trace, range: Range32) -> Range32 {
        let mark = self.attr_mark();
        self.copy_attrs(trace, range);
        self.resource_since(mark)
    }

    /// Copies the attributes `range` of `trace`, returning where they went.
    fn copy_attrs(&mut self, trace: &Trace, range: Range32) -> Range32 {
        let mark = self.attr_mark();
        for attr in trace.attrs_in(range) {
            let (key, value) = (attr.key, attr.value);
            let key = self.intern(trace.str(key));
            let value = match value {
                AttrValue::Str(text) => AttrValue::Str(self.intern(trace.str(text))),
                other => other,
            };
            self.push_attr(key, value);
        }
        self.attrs_since(mark)
    }
}

/// One trace from several traces of the same trace id (or fragments of it), with parents
/// linked across them. Spans of different trace ids come out as separate traces, ordered by
/// start like [`TraceBuilder::build`]'s. What a fragment repeats of an earlier one is kept
/// once (see the module docs).
pub fn merge(traces: &[&Trace]) -> Result<Vec<Trace>, BuildError> {
    let mut builder = TraceBuilder::new();
    let mut seen = Seen::default();
    for trace in traces {
        builder.push_trace(trace, &mut seen);
    }
    for (id, dropped) in seen.dropped {
        let what = match dropped {
            (0, 0) => continue,
            (spans, 0) => format!("{spans} span(s)"),
            (0, errors) => format!("{errors} error event(s)"),
            (spans, errors) => format!("{spans} span(s) and {errors} error event(s)"),
        };
        let note = format!("{what} came again in another part of the trace (the same ids); kept once");
        builder.note_trace(id, note);
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::super::{SpanId, SpanKind, Status, TraceId};
    use super::*;

    const TRACE: TraceId = TraceId(0xabc);

    fn id(n: u64) -> SpanId {
        SpanId::new(n).unwrap()
    }

    /// A fragment with one span `n` under `parent`, named `name`, with an attribute, an event and
    /// a resource (host `host-n`).
    fn fragment(n: u64, parent: Option<u64>, start: i64, end: Option<i64>, name: &str) -> Trace {
        let mut b = TraceBuilder::new();
        let mark = b.attr_mark();
        b.push_attr_str("service.version", name);
        let attrs = b.attrs_since(mark);
        let event_mark = b.event_mark();
        let event_name = b.intern("exception");
        let attr_mark = b.attr_mark();
        let key = b.intern("exception.type");
        b.push_attr(key, AttrValue::Int(7));
        let event_attrs = b.attrs_since(attr_mark);
        b.push_event(Event { time: start + 1, name: event_name, attrs: event_attrs });
        let events = b.events_since(event_mark);
        let resource_mark = b.attr_mark();
        b.push_attr_str("host.name", &format!("host-{n}"));
        let resource = b.attrs_since(resource_mark);
        let mut span = RawSpan::new(TRACE, id(n), parent.map(id), start, end);
        span.resource = resource;
        span.name = b.intern(name);
        span.service = b.intern("app");
        span.kind = SpanKind::Server;
        span.status = Status::Error;
        span.attrs = attrs;
        span.events = events;
        b.push_span(span);
        let title = b.intern("KeyError");
        b.push_error(RawEvent {
            trace_id: TRACE,
            span_id: Some(id(n)),
            time: Some(start),
            title,
            event_id: StrId::EMPTY,
            level: StrId::EMPTY,
        });
        b.note("read from a test");
        b.build().unwrap().pop().unwrap()
    }

    #[test]
    fn fragments_merge_into_one_tree_keeping_everything() {
        let root = fragment(1, None, 100, Some(1_000), "replay");
        let child = fragment(2, Some(1), 200, Some(500), "POST /slack");
        let grandchild = fragment(3, Some(2), 300, None, "celery.task");
        assert!(child.warnings().iter().any(|w| matches!(w, Warning::Orphans { .. })), "alone, the child is an orphan");

        let mut merged = merge(&[&grandchild, &root, &child]).unwrap();
        assert_eq!(merged.len(), 1);
        let trace = merged.pop().unwrap();
        let names: Vec<(&str, u32)> = trace.spans().iter().map(|s| (trace.str(s.name), s.depth)).collect();
        assert_eq!(names, [("replay", 0), ("POST /slack", 1), ("celery.task", 2)]);
        assert!(!trace.warnings().iter().any(|w| matches!(w, Warning::Orphans { .. })), "{:?}", trace.warnings());
        assert!(trace.warnings().iter().any(|w| matches!(w, Warning::OpenSpans { count: 1 })), "still open");
        assert_eq!(
            trace.warnings().iter().filter(|w| **w == Warning::Import("read from a test".into())).count(),
            1,
            "a note shared by the fragments is said once"
        );
        let task = trace.span(2);
        assert_eq!((task.start, task.end, task.kind, task.status), (300, 1_000, SpanKind::Server, Status::Error));
        assert_eq!(trace.attr_str(2, "service.version"), Some("celery.task"));
        let host = |idx: u32| match trace.resource(idx) {
            [attr] if trace.str(attr.key) == "host.name" => match attr.value {
                AttrValue::Str(v) => trace.str(v),
                _ => "not text",
            },
            other => panic!("{other:?}"),
        };
        assert_eq!([host(0), host(1), host(2)], ["host-1", "host-2", "host-3"], "each keeps its resource");
        let event = trace.events(2)[0];
        assert_eq!((trace.str(event.name), event.time), ("exception", 301));
        let attr = trace.attrs_in(event.attrs)[0];
        assert_eq!((trace.str(attr.key), attr.value), ("exception.type", AttrValue::Int(7)));
        assert_eq!(trace.errors().len(), 3);
        assert!(trace.errors().iter().all(|e| e.span.is_some() && trace.str(e.title) == "KeyError"));
    }

    #[test]
    fn a_second_copy_adds_nothing_but_a_note() {
        let root = fragment(1, None, 100, Some(1_000), "replay");
        let child = fragment(2, Some(1), 200, Some(500), "POST /slack");
        let whole = merge(&[&root, &child]).unwrap().pop().unwrap();
        let twice = merge(&[&whole, &child, &whole]).unwrap().pop().unwrap();
        assert_eq!(twice.len(), 2);
        assert_eq!(twice.errors().len(), 2, "one error event per span, as in one copy");
        assert!(!twice.warnings().iter().any(|w| matches!(w, Warning::DuplicateIds { .. })), "{:?}", twice.warnings());
        let notes: Vec<String> = twice.warnings().iter().map(|w| w.to_string()).collect();
        assert!(
            notes.contains(
                &"3 span(s) and 3 error event(s) came again in another part of the trace (the same ids); kept once"
                    .to_owned()
            ),
            "{notes:?}"
        );
        assert!(!whole.warnings().iter().any(|w| w.to_string().contains("came again")), "one copy has no such note");
    }

    #[test]
    fn a_second_copy_gives_the_first_what_it_lacks() {
        // The first copy knows nothing but the span (as Sentry tells it); the second has a
        // kind, attributes, a resource and an event (as OTLP tells it).
        let mut b = TraceBuilder::new();
        b.push_span(RawSpan::new(TRACE, id(1), None, 100, Some(1_000)));
        let bare = b.build().unwrap().pop().unwrap();
        let full = fragment(1, None, 100, Some(1_000), "replay");
        let joined = merge(&[&bare, &full]).unwrap().pop().unwrap();
        assert_eq!(joined.len(), 1);
        let span = joined.span(0);
        assert_eq!(span.kind, SpanKind::Server);
        assert_eq!(joined.attr_str(0, "service.version"), Some("replay"));
        assert_eq!(joined.resource(0).len(), 1);
        assert_eq!(joined.events(0).len(), 1);
        assert_eq!(joined.str(span.name), "", "what the first copy has stays as it was");
    }

    #[test]
    fn the_two_halves_of_a_shared_span_are_not_a_copy() {
        let half = |kind, start, end| {
            let mut b = TraceBuilder::new();
            let mut span = RawSpan::new(TRACE, id(2), Some(id(1)), start, Some(end));
            span.kind = kind;
            b.push_span(span);
            b.build().unwrap().pop().unwrap()
        };
        let (client, server) = (half(SpanKind::Client, 200, 500), half(SpanKind::Server, 210, 490));
        let both = merge(&[&client, &server]).unwrap().pop().unwrap();
        assert_eq!(both.len(), 2, "a client and a server span sharing an id are both kept");
        assert!(both.warnings().iter().any(|w| matches!(w, Warning::DuplicateIds { .. })));
        let unknown = half(SpanKind::Unspecified, 200, 500);
        let once = merge(&[&client, &unknown]).unwrap().pop().unwrap();
        assert_eq!(once.len(), 1, "a format that does not know the kind saved the client span again");
        assert_eq!(once.span(0).kind, SpanKind::Client, "as the first part has it");
    }

    #[test]
    fn different_trace_ids_stay_apart_with_their_own_notes() {
        let a = fragment(1, None, 100, Some(200), "a");
        let mut b = TraceBuilder::new();
        b.push_span(RawSpan::new(TraceId(0xdef), id(9), None, 50, Some(60)));
        let other = b.build().unwrap().pop().unwrap();
        let merged = merge(&[&a, &other]).unwrap();
        assert_eq!(merged.iter().map(Trace::trace_id).collect::<Vec<_>>(), [TraceId(0xdef), TRACE]);
        let note = Warning::Import("read from a test".into());
        assert!(!merged[0].warnings().contains(&note), "{:?}", merged[0].warnings());
        assert!(merged[1].warnings().contains(&note));
    }
}
