//! A big file's events read on every thread of rayon's pool: the event list (found by a
//! structural scan, [`split`]) is shared out in runs, each run read into a [`State`] of its own
//! (a builder holding the run's spans and the tables of its events), and the states merged in
//! file order into what one reading of the whole list makes: the same spans, string ids,
//! thread and track numbers, names and counts. Pairing `B`/`E`, nesting and the rest (the
//! `assemble` module) then run once on the merged tables, as after a reading on one thread.

use std::ops::Range;

use serde::de::DeserializeSeed;

use crate::formats::split;
use crate::model::{Range32, RawSpan, StrId};

use super::read::{AsyncKey, DocSeed, End, IdKey, NONE, ProcKey, Record, State};

/// Event lists of at least this many events are read on every thread of rayon's pool.
pub(super) const PARALLEL_EVENTS: usize = 1 << 13;

/// Reads the `events` (byte ranges) of `bytes` on every thread; `None` if one of them is not
/// an event (reading the whole document then says where).
pub(super) fn read(bytes: &[u8], events: &[Range<usize>]) -> Option<State> {
    split::read_in_parallel(bytes, events, State::new, State::read_event, append)
}

/// Whether `rest`, a complete document with its events taken out ([`split::Nested::rest`]),
/// reads as reading the whole document would read it, the events aside: the top-level
/// object's other members and brackets.
pub(super) fn rest_reads(rest: &[u8]) -> bool {
    let mut de = serde_json::Deserializer::from_slice(rest);
    DocSeed(&mut State::new()).deserialize(&mut de).and_then(|()| de.end()).is_ok()
}

/// Appends `later`, the state of a run of events that follows all of `state`'s, to `state`:
/// its spans and attributes through the builders' own `append`, then its tables, their
/// string ids, thread and track numbers, indices and attribute ranges moved to `state`'s.
fn append(state: &mut State, later: State) {
    let State { builder, parsed, track_index, .. } = later;
    let spans = state.builder.spans().len() as u32;
    let attrs = state.builder.attrs().len() as u32;
    let (ends, instants) = (state.parsed.ends.len() as u32, state.parsed.instants.len() as u32);
    let ids = state.builder.append(builder);
    let id = |s: StrId| ids[s.index() as usize];
    let proc = |key: ProcKey| match key {
        ProcKey::Str(s) => ProcKey::Str(id(s)),
        key => key,
    };
    // Threads and tracks that are new to `state` take the next numbers in the order `later`
    // met them, as they would reading on.
    let threads: Vec<u32> = parsed.threads.iter().map(|&(pid, tid)| state.thread(proc(pid), proc(tid))).collect();
    let mut keys: Vec<(AsyncKey, u32)> = track_index.into_iter().collect();
    keys.sort_unstable_by_key(|&(_, track)| track);
    let tracks: Vec<u32> = keys
        .into_iter()
        .map(|(key, _)| {
            let async_id = match key.id {
                IdKey::Str(s) => IdKey::Str(id(s)),
                key => key,
            };
            state.track(AsyncKey { pid: key.pid.map(proc), cat: id(key.cat), id: async_id, scope: id(key.scope) })
        })
        .collect();
    let moved = |range: Range32| Range32 { start: range.start + attrs, len: range.len };
    let into = &mut state.parsed;
    into.records.reserve_exact(parsed.records.len());
    into.records.extend(parsed.records.iter().map(|rec| {
        // What `item` indexes, as the reader set it.
        let first_item = match rec.ph {
            b'X' | b'B' | b'b' => spans,
            b'E' | b'e' => ends,
            _ => instants,
        };
        let track = if rec.track == NONE { NONE } else { tracks[rec.track as usize] };
        Record { item: first_item + rec.item, thread: threads[rec.thread as usize], track, ..*rec }
    }));
    into.ends.reserve_exact(parsed.ends.len());
    into.ends.extend(parsed.ends.iter().map(|end| End { name: id(end.name), args: moved(end.args) }));
    into.instants.reserve_exact(parsed.instants.len());
    into.instants.extend(parsed.instants.iter().map(|instant| RawSpan {
        name: id(instant.name),
        op: id(instant.op),
        service: id(instant.service),
        transaction: id(instant.transaction),
        status_message: id(instant.status_message),
        attrs: moved(instant.attrs),
        ..*instant
    }));
    for (thread, name) in parsed.thread_names.iter().enumerate() {
        if let Some(name) = name {
            into.thread_names[threads[thread] as usize] = Some(id(*name));
        }
    }
    for (&pid, &name) in &parsed.process_names {
        into.process_names.insert(proc(pid), id(name));
    }
    for (&ph, &count) in &parsed.ignored {
        *into.ignored.entry(ph).or_default() += count;
    }
    into.skipped.without_ts.absorb(&parsed.skipped.without_ts);
    into.skipped.without_dur.absorb(&parsed.skipped.without_dur);
    into.skipped.without_async_id.absorb(&parsed.skipped.without_async_id);
}
