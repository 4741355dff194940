//! From the events read to spans: `B`/`E` pairs matched per thread, slices nested by time,
//! instants attached to the slice around them, async `b`/`e` pairs matched per track, then
//! ids, parents, services and thread names filled in and everything pushed to the builder.
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
use std::collections::HashSet;

use crate::model::{Attr, AttrValue, Event, Nanos, Range32, RawSpan, SpanId, Status, StrId, TraceBuilder, TraceId};

use super::ids::Explicit;
use super::read::{NONE, Parsed, ProcKey, Record};
use super::tally::Tally;

/// The trace id of spans read from a file that has none.
pub const SYNTHETIC_TRACE_ID: TraceId = TraceId(1);

/// A span in the making.
struct Slice {
    /// The record that named it (`X`, `B`, `b`, or an instant with no slice around it).
    rec: u32,
    start: Nanos,
    end: Option<Nanos>,
    attrs: Range32,
    /// Whether `attrs` ends with a `thread.name` placeholder.
    slot: bool,
    name: StrId,
    /// Its parent by nesting, an index into the slices.
    parent: u32,
}

impl Slice {
    fn new(rec: &Record, rec_idx: u32, end: Option<Nanos>) -> Self {
        Slice { rec: rec_idx, start: rec.ts, end, attrs: rec.args, slot: rec.slot, name: rec.name, parent: NONE }
    }

    /// The end used for nesting: never before the start, and never for a slice left open.
    fn nest_end(&self) -> Nanos {
        self.end.map_or(Nanos::MAX, |e| e.max(self.start))
    }
}

/// The notes' counters.
#[derive(Default)]
struct Oddities {
    end_without_begin: Tally,
    begin_without_end: Tally,
    partial_overlap: Tally,
    async_end_without_begin: Tally,
    async_begin_without_end: Tally,
}

struct Assembler<'p> {
    parsed: &'p Parsed,
    slices: Vec<Slice>,
    /// Slice indices, every parent before its children.
    order: Vec<u32>,
    /// Instants as `(record index, slice it belongs to or NONE)`.
    instants: Vec<(u32, u32)>,
    odd: Oddities,
}

/// Turns the records into spans in `builder`. `thread_name_key` is the interned `thread.name`.
pub(super) fn assemble(parsed: &Parsed, builder: &mut TraceBuilder, thread_name_key: StrId) {
    let mut by_thread: Vec<Vec<u32>> = vec![Vec::new(); parsed.threads.len()];
    let mut by_track: Vec<Vec<u32>> = vec![Vec::new(); parsed.async_tracks as usize];
    for (i, rec) in parsed.records.iter().enumerate() {
        if rec.track != NONE {
            by_track[rec.track as usize].push(i as u32);
        } else {
            by_thread[rec.thread as usize].push(i as u32);
        }
    }
    let mut asm =
        Assembler { parsed, slices: Vec::new(), order: Vec::new(), instants: Vec::new(), odd: Oddities::default() };
    for recs in &mut by_thread {
        asm.thread(recs, builder);
    }
    for recs in &mut by_track {
        asm.track(recs, builder);
    }
    asm.finish(builder, thread_name_key);
}

impl Assembler<'_> {
    fn rec(&self, i: u32) -> &Record {
        &self.parsed.records[i as usize]
    }

    /// Sorts record indices by time, keeping file order on ties.
    fn sort_by_time(&self, recs: &mut [u32]) {
        recs.sort_by_key(|&i| (self.rec(i).ts, i));
    }

    /// One thread's slices and instants.
    fn thread(&mut self, recs: &mut [u32], builder: &mut TraceBuilder) {
        self.sort_by_time(recs);
        let first = self.slices.len();
        let mut open: Vec<u32> = Vec::new();
        let mut instants: Vec<u32> = Vec::new();
        for &i in recs.iter() {
            let rec = *self.rec(i);
            match rec.ph {
                b'X' => self.slices.push(Slice::new(&rec, i, Some(rec.ts.saturating_add(rec.dur)))),
                b'B' => {
                    open.push(self.slices.len() as u32);
                    self.slices.push(Slice::new(&rec, i, None));
                }
                b'E' => match open.pop() {
                    Some(s) => self.close(s, &rec, builder),
                    None => self.odd.end_without_begin.add(rec.index),
                },
                _ => instants.push(i),
            }
        }
        for s in open {
            let index = self.rec(self.slices[s as usize].rec).index;
            self.odd.begin_without_end.add(index);
        }
        let mut sorted: Vec<u32> = (first as u32..self.slices.len() as u32).collect();
        sorted.sort_by_key(|&s| {
            let slice = &self.slices[s as usize];
            (slice.start, Reverse(slice.nest_end()), self.rec(slice.rec).index)
        });
        let mut stack: Vec<u32> = Vec::new();
        let mut next_instant = instants.iter().peekable();
        for &s in &sorted {
            let start = self.slices[s as usize].start;
            while let Some(&&i) = next_instant.peek().filter(|&&&i| self.rec(i).ts < start) {
                self.instant(i, &mut stack);
                next_instant.next();
            }
            while stack.last().is_some_and(|&top| self.slices[top as usize].nest_end() <= start) {
                stack.pop();
            }
            if let Some(&parent) = stack.last() {
                let slice = &self.slices[s as usize];
                if slice.nest_end() > self.slices[parent as usize].nest_end() && self.rec(slice.rec).explicit == NONE {
                    let index = self.rec(slice.rec).index;
                    self.odd.partial_overlap.add(index);
                }
                self.slices[s as usize].parent = parent;
            }
            stack.push(s);
            self.order.push(s);
        }
        for &i in next_instant {
            self.instant(i, &mut stack);
        }
    }

    /// An instant at its time: it belongs to the innermost slice open then, if any.
    fn instant(&mut self, i: u32, stack: &mut Vec<u32>) {
        let ts = self.rec(i).ts;
        while stack.last().is_some_and(|&top| self.slices[top as usize].nest_end() < ts) {
            stack.pop();
        }
        self.instants.push((i, stack.last().copied().unwrap_or(NONE)));
    }

    /// Ends slice `s` with the end record `end`; their args merge, the end's winning.
    fn close(&mut self, s: u32, end: &Record, builder: &mut TraceBuilder) {
        let slice = &mut self.slices[s as usize];
        slice.end = Some(end.ts);
        if slice.name.is_empty() {
            slice.name = end.name;
        }
        if end.args.len == 0 {
            return;
        }
        let begin_attrs: Vec<Attr> = builder.attrs()[own_args(slice.attrs, slice.slot).as_range()].to_vec();
        let end_attrs: Vec<Attr> = builder.attrs()[end.args.as_range()].to_vec();
        let mark = builder.attr_mark();
        for attr in begin_attrs.iter().filter(|a| !end_attrs.iter().any(|e| e.key == a.key)) {
            builder.push_attr(attr.key, attr.value);
        }
        for attr in &end_attrs {
            builder.push_attr(attr.key, attr.value);
        }
        if slice.slot {
            let placeholder = builder.attrs()[slice.attrs.as_range()].last().copied();
            match placeholder {
                Some(p) if !end_attrs.iter().any(|e| e.key == p.key) => builder.push_attr(p.key, p.value),
                _ => slice.slot = false,
            }
        }
        slice.attrs = builder.attrs_since(mark);
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
                    let s = self.slices.len() as u32;
                    let mut slice = Slice::new(&rec, i, None);
                    slice.parent = stack.last().copied().unwrap_or(NONE);
                    self.slices.push(slice);
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
            let index = self.rec(self.slices[s as usize].rec).index;
            self.odd.async_begin_without_end.add(index);
        }
    }

    /// Instants aimed by id, ids, events, services, thread names; then the spans are pushed.
    fn finish(mut self, builder: &mut TraceBuilder, thread_name_key: StrId) {
        let explicit = |asm: &Self, s: u32| -> Explicit {
            let e = asm.rec(asm.slices[s as usize].rec).explicit;
            if e == NONE { Explicit::default() } else { asm.parsed.explicit[e as usize] }
        };
        // Instants with no slice around them become zero-length spans of their own.
        let mut events: Vec<(u32, u32)> = Vec::with_capacity(self.instants.len());
        let by_explicit_id: std::collections::HashMap<SpanId, u32, foldhash::fast::RandomState> =
            (0..self.slices.len() as u32).filter_map(|s| explicit(&self, s).span_id.map(|id| (id, s))).collect();
        for (i, owner) in std::mem::take(&mut self.instants) {
            let rec = *self.rec(i);
            let aimed = (rec.explicit != NONE)
                .then(|| self.parsed.explicit[rec.explicit as usize].span_id)
                .flatten()
                .and_then(|id| by_explicit_id.get(&id).copied());
            match aimed.or((owner != NONE).then_some(owner)) {
                Some(s) => events.push((s, i)),
                None => {
                    let s = self.slices.len() as u32;
                    self.slices.push(Slice::new(&rec, i, Some(rec.ts)));
                    self.order.push(s);
                }
            }
        }
        events.sort_by_key(|&(s, i)| (s, self.rec(i).ts, i));

        // Ids in nesting order, so a span's parent has its ids before it does.
        let taken: HashSet<SpanId, foldhash::fast::RandomState> = by_explicit_id.keys().copied().collect();
        let mut next_id = 0u64;
        let mut ids: Vec<(TraceId, Option<SpanId>)> = vec![(SYNTHETIC_TRACE_ID, None); self.slices.len()];
        for &s in &self.order {
            let slice = &self.slices[s as usize];
            let ex = explicit(&self, s);
            let parent = (slice.parent != NONE).then(|| ids[slice.parent as usize]);
            let id = ex.span_id.unwrap_or_else(|| {
                loop {
                    next_id += 1;
                    let id = SpanId::new(next_id).expect("counts from 1");
                    if !taken.contains(&id) {
                        break id;
                    }
                }
            });
            let trace_id = ex.trace_id.or(parent.map(|p| p.0)).unwrap_or(SYNTHETIC_TRACE_ID);
            ids[s as usize] = (trace_id, Some(id));
        }

        let mut services: std::collections::HashMap<ProcKey, StrId, foldhash::fast::RandomState> = Default::default();
        let mut next_event = events.iter().peekable();
        for &s in &self.order {
            let slice = &self.slices[s as usize];
            let rec = *self.rec(slice.rec);
            let ex = explicit(&self, s);
            let event_mark = builder.event_mark();
            while let Some(&&(_, i)) = next_event.peek().filter(|&&&(owner, _)| owner == s) {
                let r = *self.rec(i);
                builder.push_event(Event { time: r.ts, name: r.name, attrs: own_args(r.args, r.slot) });
                next_event.next();
            }
            let (pid, _) = self.parsed.threads[rec.thread as usize];
            let service = *services.entry(pid).or_insert_with(|| match self.parsed.process_names.get(&pid) {
                Some(&name) => name,
                None => builder.intern(&match pid {
                    ProcKey::Num(n) => format!("pid {n}"),
                    ProcKey::Str(text) => format!("pid {}", builder.resolve(text)),
                }),
            });
            let mut attrs = slice.attrs;
            if slice.slot {
                match self.parsed.thread_names[rec.thread as usize] {
                    Some(name) => {
                        let last = (attrs.start + attrs.len - 1) as usize;
                        builder.attrs_mut()[last] = Attr { key: thread_name_key, value: AttrValue::Str(name) };
                    }
                    None => attrs = own_args(attrs, true),
                }
            }
            let (trace_id, id) = ids[s as usize];
            let parent_id = match ex.span_id {
                Some(_) => ex.parent_id,
                None => (slice.parent != NONE).then(|| ids[slice.parent as usize].1).flatten(),
            };
            let mut raw = RawSpan::new(trace_id, id.expect("every slice got an id"), parent_id, slice.start, slice.end);
            raw.name = slice.name;
            raw.op = rec.cat;
            raw.service = service;
            raw.transaction = ex.transaction;
            raw.status = ex.status.unwrap_or(Status::Unset);
            raw.status_message = ex.status_message;
            raw.kind = ex.kind;
            raw.attrs = attrs;
            raw.events = builder.events_since(event_mark);
            builder.push_span(raw);
        }
        self.note(builder);
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
