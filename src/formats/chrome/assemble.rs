//! From the events read to spans: `B`/`E` pairs matched per thread, slices nested by time,
//! instants attached to the slice around them, async `b`/`e` pairs matched per track, then
//! ids, parents, services and thread names filled in. The reader already pushed every `X`,
//! `B` and `b` to the builder as a span, in file order; they are amended where they lie and
//! put in nesting order in place at the end, so no second copy of the spans is ever made.
//!
//! Nesting: on one (pid, tid), slices are sorted by start, longer first on equal starts, then
//! file order, and each slice's parent is the innermost earlier slice still open when it
//! starts (one that ends after the start; a slice that never ended is open for ever). A slice
//! ending after that parent still nests under it and is counted in a note. Slices with no
//! enclosing slice are roots: each thread has its own roots, and nothing nests across threads.
//! Async spans nest only inside their own track (same category, id and scope).
//!
//! Ids: spans without tracedeck's id args (see [`super::ids`]) get sequential span ids from 1,
//! in nesting order, and the fixed trace id 1 (or their nesting parent's trace id).

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};

use crate::model::{Attr, AttrValue, Event, Nanos, Range32, RawSpan, SpanId, StrId, TraceBuilder};

use super::ids::SYNTHETIC_TRACE_ID;
use super::read::{EXPLICIT, EXPLICIT_SPAN_ID, EXPLICIT_TRACE_ID, NONE, Parsed, ProcKey, Record, SLOT};
use super::tally::Tally;

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The notes' counters.
#[derive(Default)]
struct Oddities {
    end_without_begin: Tally,
    begin_without_end: Tally,
    partial_overlap: Tally,
    async_end_without_begin: Tally,
    async_begin_without_end: Tally,
}

/// The slices are the spans the reader pushed to the builder (`X`, `B`, `b`, in file order),
/// then the instants that have no slice around them; the tables below are indexed by slice.
struct Assembler<'p> {
    parsed: &'p Parsed,
    /// The record that named each slice.
    rec_of: Vec<u32>,
    /// Whether each slice's attributes end with a `thread.name` placeholder.
    slot: Vec<bool>,
    /// Each slice's parent by nesting, or [`NONE`].
    parent: Vec<u32>,
    /// Slices in the order they were taken up (threads, each by time; async tracks; loose
    /// instants): the order ties between slices are broken in.
    taken_up: Vec<u32>,
    /// Slices, every parent before its children: the order the spans end up in.
    order: Vec<u32>,
    /// Instants as `(record index, slice it belongs to or NONE)`.
    instants: Vec<(u32, u32)>,
    odd: Oddities,
}

/// Turns the records and the spans the reader pushed into the trace's spans, in nesting
/// order. `thread_name_key` is the interned `thread.name`.
pub(super) fn assemble(parsed: &Parsed, builder: &mut TraceBuilder, thread_name_key: StrId) {
    let slices = builder.spans().len();
    let mut by_thread: Vec<Vec<u32>> = vec![Vec::new(); parsed.threads.len()];
    let mut by_track: Vec<Vec<u32>> = vec![Vec::new(); parsed.async_tracks as usize];
    let mut asm = Assembler {
        parsed,
        rec_of: vec![NONE; slices],
        slot: vec![false; slices],
        parent: vec![NONE; slices],
        taken_up: Vec::with_capacity(slices),
        order: Vec::with_capacity(slices),
        instants: Vec::new(),
        odd: Oddities::default(),
    };
    for (i, rec) in parsed.records.iter().enumerate() {
        if b"XBb".contains(&rec.ph) {
            asm.rec_of[rec.item as usize] = i as u32;
            asm.slot[rec.item as usize] = rec.flags & SLOT != 0;
        }
        if rec.track != NONE {
            by_track[rec.track as usize].push(i as u32);
        } else {
            by_thread[rec.thread as usize].push(i as u32);
        }
    }
    for recs in &mut by_thread {
        asm.thread(recs, builder);
    }
    for recs in &mut by_track {
        asm.track(recs, builder);
    }
    drop((by_thread, by_track));
    asm.finish(builder, thread_name_key);
}

/// The end used for nesting: never before the start, and never for a slice left open.
fn nest_end(span: &RawSpan) -> Nanos {
    span.end.map_or(Nanos::MAX, |e| e.max(span.start))
}

impl Assembler<'_> {
    fn rec(&self, i: u32) -> &Record {
        &self.parsed.records[i as usize]
    }

    /// The record that named slice `s`.
    fn rec_of(&self, s: u32) -> &Record {
        self.rec(self.rec_of[s as usize])
    }

    /// Sorts record indices by time, keeping file order on ties.
    fn sort_by_time(&self, recs: &mut [u32]) {
        recs.sort_by_key(|&i| (self.rec(i).ts, i));
    }

    /// One thread's slices and instants.
    fn thread(&mut self, recs: &mut [u32], builder: &mut TraceBuilder) {
        self.sort_by_time(recs);
        let mut sorted: Vec<u32> = Vec::new();
        let mut open: Vec<u32> = Vec::new();
        let mut instants: Vec<u32> = Vec::new();
        for &i in recs.iter() {
            let rec = *self.rec(i);
            match rec.ph {
                b'X' | b'B' => {
                    if rec.ph == b'B' {
                        open.push(rec.item);
                    }
                    self.taken_up.push(rec.item);
                    sorted.push(rec.item);
                }
                b'E' => match open.pop() {
                    Some(s) => self.close(s, &rec, builder),
                    None => self.odd.end_without_begin.add(rec.index),
                },
                _ => instants.push(i),
            }
        }
        for s in open {
            let index = self.rec_of(s).index;
            self.odd.begin_without_end.add(index);
        }
        let spans = builder.spans();
        // Sorted by value, not through the spans: one look at each.
        let mut keyed: Vec<(Nanos, Reverse<Nanos>, u32, u32)> = sorted
            .iter()
            .map(|&s| {
                let span = &spans[s as usize];
                (span.start, Reverse(nest_end(span)), self.rec_of(s).index, s)
            })
            .collect();
        keyed.sort_unstable();
        sorted.clear();
        sorted.extend(keyed.into_iter().map(|(.., s)| s));
        let mut stack: Vec<u32> = Vec::new();
        let mut next_instant = instants.iter().peekable();
        for &s in &sorted {
            let span = &spans[s as usize];
            while let Some(&&i) = next_instant.peek().filter(|&&&i| self.rec(i).ts < span.start) {
                self.instant(i, &mut stack, spans);
                next_instant.next();
            }
            while stack.last().is_some_and(|&top| nest_end(&spans[top as usize]) <= span.start) {
                stack.pop();
            }
            if let Some(&parent) = stack.last() {
                if nest_end(span) > nest_end(&spans[parent as usize]) && self.rec_of(s).flags & EXPLICIT == 0 {
                    let index = self.rec_of(s).index;
                    self.odd.partial_overlap.add(index);
                }
                self.parent[s as usize] = parent;
            }
            stack.push(s);
            self.order.push(s);
        }
        for &i in next_instant {
            self.instant(i, &mut stack, spans);
        }
    }

    /// An instant at its time: it belongs to the innermost slice open then, if any.
    fn instant(&mut self, i: u32, stack: &mut Vec<u32>, spans: &[RawSpan]) {
        let ts = self.rec(i).ts;
        while stack.last().is_some_and(|&top| nest_end(&spans[top as usize]) < ts) {
            stack.pop();
        }
        self.instants.push((i, stack.last().copied().unwrap_or(NONE)));
    }

    /// Ends slice `s` with the end record `end`; their args merge, the end's winning.
    fn close(&mut self, s: u32, end: &Record, builder: &mut TraceBuilder) {
        let ended = self.parsed.ends[end.item as usize];
        let span = &mut builder.spans_mut()[s as usize];
        span.end = Some(end.ts);
        if span.name.is_empty() {
            span.name = ended.name;
        }
        if ended.args.len == 0 {
            return;
        }
        let (attrs, slot) = (span.attrs, self.slot[s as usize]);
        let begin_attrs: Vec<Attr> = builder.attrs()[own_args(attrs, slot).as_range()].to_vec();
        let end_attrs: Vec<Attr> = builder.attrs()[ended.args.as_range()].to_vec();
        let mark = builder.attr_mark();
        for attr in begin_attrs.iter().filter(|a| !end_attrs.iter().any(|e| e.key == a.key)) {
            builder.push_attr(attr.key, attr.value);
        }
        for attr in &end_attrs {
            builder.push_attr(attr.key, attr.value);
        }
        if slot {
            let placeholder = builder.attrs()[attrs.as_range()].last().copied();
            match placeholder {
                Some(p) if !end_attrs.iter().any(|e| e.key == p.key) => builder.push_attr(p.key, p.value),
                _ => self.slot[s as usize] = false,
            }
        }
        builder.spans_mut()[s as usize].attrs = builder.attrs_since(mark);
    }

    /// One async track: `b` opens a span (inside the one open on the track, if any), `e`
    /// closes the latest, `n` is an event on the innermost open one.
    fn track(&mut self, recs: &mut [u32], builder: &mut TraceBuilder) {
        self.sort_by_time(recs);
        let mut stack: Vec<u32> = Vec::new();
        for &i in recs.iter() {
            let rec = *self.rec(i);
            match rec.ph {
                b'b' => {
                    let s = rec.item;
                    self.parent[s as usize] = stack.last().copied().unwrap_or(NONE);
                    self.taken_up.push(s);
                    self.order.push(s);
                    stack.push(s);
                }
                b'e' => match stack.pop() {
                    Some(s) => self.close(s, &rec, builder),
                    None => self.odd.async_end_without_begin.add(rec.index),
                },
                _ => self.instants.push((i, stack.last().copied().unwrap_or(NONE))),
            }
        }
        for s in stack {
            let index = self.rec_of(s).index;
            self.odd.async_begin_without_end.add(index);
        }
    }

    /// Instants aimed by id, ids, events, services, thread names; then the spans are put in
    /// nesting order.
    fn finish(mut self, builder: &mut TraceBuilder, thread_name_key: StrId) {
        let events = self.place_instants(builder);
        self.number(builder);
        self.push_events(builder, events);
        let services = self.services(builder);
        for s in 0..builder.spans().len() {
            let rec = *self.rec_of(s as u32);
            let (pid, _) = self.parsed.threads[rec.thread as usize];
            let service = services.get(&pid).copied().unwrap_or_default();
            let mut attrs = builder.spans()[s].attrs;
            if self.slot[s] {
                match self.parsed.thread_names[rec.thread as usize] {
                    Some(name) => {
                        let last = (attrs.start + attrs.len - 1) as usize;
                        builder.attrs_mut()[last] = Attr { key: thread_name_key, value: AttrValue::Str(name) };
                    }
                    None => attrs = own_args(attrs, true),
                }
            }
            let span = &mut builder.spans_mut()[s];
            span.service = service;
            span.attrs = attrs;
        }
        permute(builder.spans_mut(), &self.order);
        self.note(builder);
    }

    /// Each process's service: its `process_name`, else `pid N`, interned as the spans come in
    /// nesting order (as they are pushed, for the same string ids).
    fn services(&self, builder: &mut TraceBuilder) -> FastMap<ProcKey, StrId> {
        let mut services: FastMap<ProcKey, StrId> = self.parsed.process_names.clone();
        let mut unnamed: HashSet<ProcKey, foldhash::fast::RandomState> =
            self.parsed.threads.iter().map(|&(pid, _)| pid).filter(|pid| !services.contains_key(pid)).collect();
        for &s in &self.order {
            if unnamed.is_empty() {
                break;
            }
            let (pid, _) = self.parsed.threads[self.rec_of(s).thread as usize];
            if unnamed.remove(&pid) {
                let name = match pid {
                    ProcKey::Num(n) => format!("pid {n}"),
                    ProcKey::Str(text) => format!("pid {}", builder.resolve(text)),
                };
                services.insert(pid, builder.intern(&name));
            }
        }
        services
    }

    /// Instants aimed at a slice by id, or inside one, are its events, returned as `(slice,
    /// record)` in the order they are pushed; the others become zero-length slices of their own.
    fn place_instants(&mut self, builder: &mut TraceBuilder) -> Vec<(u32, u32)> {
        let span_id = |rec: &Record, span: &RawSpan| (rec.flags & EXPLICIT_SPAN_ID != 0).then_some(span.id);
        // The slice each aimed id names (the last taken up of those that carry it).
        let mut aimed: FastMap<SpanId, u32> = FastMap::default();
        for &(i, _) in &self.instants {
            let rec = self.rec(i);
            if let Some(id) = span_id(rec, &self.parsed.instants[rec.item as usize]) {
                aimed.insert(id, NONE);
            }
        }
        if !aimed.is_empty() {
            for &s in &self.taken_up {
                if let Some(target) =
                    span_id(self.rec_of(s), &builder.spans()[s as usize]).and_then(|id| aimed.get_mut(&id))
                {
                    *target = s;
                }
            }
        }
        let mut events: Vec<(u32, u32)> = Vec::with_capacity(self.instants.len());
        for (i, owner) in std::mem::take(&mut self.instants) {
            let rec = *self.rec(i);
            let instant = self.parsed.instants[rec.item as usize];
            let by_id = span_id(&rec, &instant).and_then(|id| aimed.get(&id).copied()).filter(|&s| s != NONE);
            match by_id.or((owner != NONE).then_some(owner)) {
                Some(s) => events.push((s, i)),
                None => {
                    let s = builder.spans().len() as u32;
                    builder.push_span(instant);
                    self.rec_of.push(i);
                    self.slot.push(rec.flags & SLOT != 0);
                    self.parent.push(NONE);
                    self.taken_up.push(s);
                    self.order.push(s);
                }
            }
        }
        // In the order `push_events` goes through the slices: nesting order, not the order
        // they were taken up in (a slice taken up later may nest first and lose its events).
        let mut rank = vec![0u32; self.order.len()];
        for (r, &s) in self.order.iter().enumerate() {
            rank[s as usize] = r as u32;
        }
        events.sort_by_key(|&(s, i)| (rank[s as usize], self.rec(i).ts, i));
        events
    }

    /// Ids in nesting order, so a span's parent has its ids before it does: spans without
    /// tracedeck's id args get sequential ids (skipping those the others hold), their nesting
    /// parent's trace id and id as parent.
    fn number(&self, builder: &mut TraceBuilder) {
        let has = |s: u32, flag: u8| self.rec_of(s).flags & flag != 0;
        // The ids the slices read from the file hold (not those of instants made slices).
        let taken: HashSet<SpanId, foldhash::fast::RandomState> =
            if self.order.iter().all(|&s| has(s, EXPLICIT_SPAN_ID)) {
                HashSet::default()
            } else {
                let spans = builder.spans();
                let read = |s: &u32| b"XBb".contains(&self.rec_of(*s).ph) && has(*s, EXPLICIT_SPAN_ID);
                (0..spans.len() as u32).filter(read).map(|s| spans[s as usize].id).collect()
            };
        let spans = builder.spans_mut();
        let mut next_id = 0u64;
        for &s in &self.order {
            let parent = self.parent[s as usize];
            let parent = (parent != NONE).then(|| (spans[parent as usize].trace_id, spans[parent as usize].id));
            let span = &mut spans[s as usize];
            if !has(s, EXPLICIT_SPAN_ID) {
                span.id = loop {
                    next_id += 1;
                    let id = SpanId::new(next_id).expect("counts from 1");
                    if !taken.contains(&id) {
                        break id;
                    }
                };
                span.parent_id = parent.map(|p| p.1);
            }
            if !has(s, EXPLICIT_TRACE_ID) {
                span.trace_id = parent.map_or(SYNTHETIC_TRACE_ID, |p| p.0);
            }
        }
    }

    /// Pushes the events of each slice, in nesting order.
    fn push_events(&self, builder: &mut TraceBuilder, events: Vec<(u32, u32)>) {
        let mut next_event = events.iter().peekable();
        for &s in &self.order {
            let event_mark = builder.event_mark();
            while let Some(&&(_, i)) = next_event.peek().filter(|&&&(owner, _)| owner == s) {
                let rec = *self.rec(i);
                let instant = &self.parsed.instants[rec.item as usize];
                let attrs = own_args(instant.attrs, rec.flags & SLOT != 0);
                builder.push_event(Event { time: rec.ts, name: instant.name, attrs });
                next_event.next();
            }
            builder.spans_mut()[s as usize].events = builder.events_since(event_mark);
        }
    }

    fn note(&self, builder: &mut TraceBuilder) {
        let odd = &self.odd;
        let skipped = &self.parsed.skipped;
        let notes: [(&Tally, &str); 8] = [
            (&skipped.without_ts, "event(s) have no `ts`, so they cannot be placed in time; skipped"),
            (&skipped.without_dur, "complete (`X`) event(s) have no `dur`; shown as instants at their `ts`"),
            (&skipped.without_async_id, "async event(s) have no `id` (nor `id2`) to pair them by; skipped"),
            (&odd.end_without_begin, "`E` event(s) had no open `B` on their thread and were ignored"),
            (&odd.begin_without_end, "`B` event(s) have no matching `E`; their slices are left open"),
            (
                &odd.partial_overlap,
                "slice(s) end after the slice they start in (partial overlap on one thread); nested under it anyway",
            ),
            (&odd.async_end_without_begin, "async `e` event(s) had no open `b` with their id and were ignored"),
            (&odd.async_begin_without_end, "async `b` event(s) have no matching `e`; their spans are left open"),
        ];
        for (tally, text) in notes {
            tally.note(builder, text);
        }
        if !self.parsed.ignored.is_empty() {
            let total: usize = self.parsed.ignored.values().sum();
            let kinds: Vec<String> = self.parsed.ignored.iter().map(|(ph, n)| format!("{ph} ×{n}")).collect();
            builder.note(format!(
                "{total} event(s) that are not slices or instants (counters, samples, flows, ...) were ignored: {}",
                kinds.join(", ")
            ));
        }
    }
}

/// An event's own args, without the `thread.name` placeholder when it has one.
fn own_args(range: Range32, slot: bool) -> Range32 {
    Range32 { start: range.start, len: range.len - u32::from(slot) }
}

/// Reorders `spans` in place so that the `k`th is the one that was at `order[k]`: cycle by
/// cycle, each cycle's positions found first (in `order`, small), so that the moves of the
/// spans, wherever in memory they lie, do not wait on each other.
fn permute(spans: &mut [RawSpan], order: &[u32]) {
    debug_assert_eq!(spans.len(), order.len());
    let mut done = vec![false; spans.len()];
    let mut cycle: Vec<u32> = Vec::new();
    for k in 0..spans.len() {
        if done[k] {
            continue;
        }
        cycle.clear();
        let mut at = k;
        while !done[at] {
            done[at] = true;
            cycle.push(at as u32);
            at = order[at] as usize;
        }
        let first = spans[k];
        for pair in cycle.windows(2) {
            spans[pair[0] as usize] = spans[pair[1] as usize];
        }
        spans[*cycle.last().expect("a cycle holds k") as usize] = first;
    }
}
