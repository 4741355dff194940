//! Reading Zipkin v2 JSON into a [`TraceBuilder`]. See the module docs of [`super`].
//!
//! Each span object is read into one reused [`Part`] and pushed into the builder at once:
//! no list of the file's spans exists besides the builder's own. What needs the whole file is
//! done afterwards on the builder's spans (see the settle module), with a few bits per span of
//! what the file said besides ([`Said`]): untimed spans placed, shared ids split. Spans reported
//! in several parts are rare; when the file has any, it is read a second time, holding those
//! parts back until they are merged. A big array of spans is split at its elements
//! ([`split`]) and read on every thread of rayon's pool, each run of spans into a reader of its
//! own; the readers are merged in file order into what one reading would have made.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};

use super::part::{Loc, Part, PartSeed};
use super::tally::Tally;
use super::{DEBUG, LOCAL_ENDPOINT, REMOTE_ENDPOINT, SHARED};
use crate::formats::json::{self, NamedIds};
use crate::formats::semconv::{self, OpHints};
use crate::formats::{FormatError, split};
use crate::model::{
    AttrValue, Event, Range32, RawSpan, SpanId, SpanKind, Status, StrId, TraceBuilder, TraceId, WRITTEN_SPAN_ID,
};

pub(super) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;

/// What the file said of a span that its [`RawSpan`] does not hold, as bits.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(super) struct Said(u16);

impl Said {
    /// It had a `timestamp` (else its start is 0 and its end, if any, is its duration).
    pub const TIMED: Said = Said(1);
    /// `timestamp + duration` did not fit; the end is then `None`.
    pub const OVERFLOW: Said = Said(2);
    /// `shared` was written (true or false).
    pub const SHARED_SET: Said = Said(4);
    /// `shared` was `true`.
    pub const SHARED: Said = Said(8);
    /// Its kind was `CLIENT`.
    pub const CLIENT: Said = Said(16);
    /// Its kind was `SERVER`.
    pub const SERVER: Said = Said(32);
    /// Its kind was one Zipkin does not define.
    pub const UNKNOWN_KIND: Said = Said(64);
    /// It had a local service.
    pub const SERVICE: Said = Said(128);
    /// Some tag value was a number or boolean.
    pub const TAGS_NOT_TEXT: Said = Said(256);
    /// It was marked `debug` (the last of its attributes says so).
    pub const DEBUG: Said = Said(512);

    /// Whether every bit of `other` is set.
    pub fn has(self, other: Said) -> bool {
        self.0 & other.0 == other.0
    }

    fn set(&mut self, other: Said, on: bool) {
        if on {
            self.0 |= other.0;
        }
    }

    /// Whether the span is a server half of a shared span (Zipkin unsets `shared` on clients).
    pub fn is_shared(self) -> bool {
        self.has(Said::SHARED) && !self.has(Said::CLIENT)
    }
}

/// Strings the reader compares with or writes, interned once.
pub(super) struct Keys {
    pub written_id: StrId,
    error: StrId,
    status_code: StrId,
    status_description: StrId,
    sentry_op: StrId,
    pub local: [StrId; 4],
    pub remote: [StrId; 4],
    pub shared: StrId,
    debug: StrId,
}

impl Keys {
    fn new(b: &mut TraceBuilder) -> Self {
        let endpoint = |b: &mut TraceBuilder, prefix: &str| {
            ["serviceName", "ipv4", "ipv6", "port"].map(|field| b.intern(&format!("{prefix}{field}")))
        };
        Keys {
            written_id: b.intern(WRITTEN_SPAN_ID),
            error: b.intern("error"),
            status_code: b.intern(semconv::STATUS_CODE),
            status_description: b.intern(semconv::STATUS_DESCRIPTION),
            sentry_op: b.intern(semconv::SENTRY_OP),
            local: endpoint(b, LOCAL_ENDPOINT),
            remote: endpoint(b, REMOTE_ENDPOINT),
            shared: b.intern(SHARED),
            debug: b.intern(DEBUG),
        }
    }
}

/// Which parts of the file are merged into which (found by a first reading).
pub(super) struct Plan {
    /// Part (by its place among all parts of the file) → the earlier part it is merged into.
    absorbed: FastMap<u32, u32>,
    /// The parts others are merged into.
    holders: FastSet<u32>,
    /// The merged-away parts, for the note.
    pub merged: Tally,
}

/// The state of one reading: the builder, and per span what it does not hold.
pub(super) struct Reader {
    pub b: TraceBuilder,
    pub keys: Keys,
    part: Part,
    /// Per span of the builder (by index).
    pub said: Vec<Said>,
    /// The texts of ids that were not hex (own, trace, parent), by span index.
    pub texts: FastMap<u32, [Option<StrId>; 3]>,
    /// Where spans whose end is checked later were in the file, by span index.
    pub locs: FastMap<u32, Loc>,
    plan: Option<Plan>,
    /// Parts others are merged into, by their place: the span index kept for them, and the merge so far.
    held: FastMap<u32, (u32, Part)>,
    /// How many parts were read.
    parts: u32,
}

/// Files with at least this many spans are read on every thread of rayon's pool.
const PARALLEL_SPANS: usize = 1 << 13;

/// Reads the file's spans into a reader; with a `plan`, merging the parts it names.
pub(super) fn read(bytes: &[u8], plan: Option<Plan>) -> Result<Reader, FormatError> {
    let shape = shape(bytes);
    if plan.is_none() && matches!(shape, Shape::Spans) && rayon::current_num_threads() > 1 {
        // A file that cannot be split, or has an error, is read whole below (to place the error).
        if let Some(reader) = split::array_elements(bytes)
            .filter(|spans| spans.len() >= PARALLEL_SPANS)
            .and_then(|spans| split::read_in_parallel(bytes, &spans, || Reader::new(None), read_span, Reader::append))
        {
            return Ok(reader);
        }
    }
    let mut reader = Reader::new(plan);
    if matches!(shape, Shape::Object) {
        reader.b.note("the file is one span object rather than an array of spans; read as a list of one");
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let read = Document { r: &mut reader, shape }.deserialize(&mut de).and_then(|()| de.end());
    if read.is_err() {
        return Err(json::located_error(bytes, Document { r: &mut Reader::new(None), shape }, 0));
    }
    reader.settle_held();
    Ok(reader)
}

/// Reads the span object `bytes`, the `i`th of the file's array, into `r`; whether it could.
fn read_span(r: &mut Reader, i: usize, bytes: &[u8]) -> bool {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    SpanSeed { r, loc: Loc(i, None) }.deserialize(&mut de).and_then(|()| de.end()).is_ok()
}

impl Reader {
    /// Appends what `other` read after what this reader read ([`TraceBuilder::append`]).
    fn append(&mut self, other: Reader) {
        let base = self.said.len() as u32;
        let ids = self.b.append(other.b);
        let id = |s: Option<StrId>| s.map(|s| ids[s.index() as usize]);
        self.said.extend(other.said);
        self.texts.extend(other.texts.into_iter().map(|(i, texts)| (i + base, texts.map(id))));
        self.locs.extend(other.locs.into_iter().map(|(i, loc)| (i + base, loc)));
        self.parts += other.parts;
    }

    fn new(plan: Option<Plan>) -> Self {
        let mut b = TraceBuilder::new();
        let keys = Keys::new(&mut b);
        Reader {
            b,
            keys,
            part: Part::new(),
            said: Vec::new(),
            texts: FastMap::default(),
            locs: FastMap::default(),
            plan,
            held: FastMap::default(),
            parts: 0,
        }
    }

    /// The plan of a second reading, if this reading found parts to merge.
    pub fn merge_plan(&self) -> Option<Plan> {
        let spans = self.b.spans();
        let mut first: FastMap<(u64, SpanId, bool), u32> = FastMap::default();
        let mut plan = Plan { absorbed: FastMap::default(), holders: FastSet::default(), merged: Tally::default() };
        let service = |i: usize| self.said[i].has(Said::SERVICE).then_some(spans[i].service);
        for (i, span) in spans.iter().enumerate() {
            let key = (span.trace_id.low64(), span.id, self.said[i].is_shared());
            let into = *first.entry(key).or_insert(i as u32);
            let compatible = match (service(into as usize), service(i)) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            if into != i as u32 && compatible {
                plan.absorbed.insert(i as u32, into);
                plan.holders.insert(into);
                plan.merged.add(span.id);
            }
        }
        (!plan.absorbed.is_empty()).then_some(plan)
    }

    /// The parts merged away, once the plan is done with.
    pub fn take_merged(&mut self) -> Tally {
        self.plan.take().map(|p| p.merged).unwrap_or_default()
    }

    /// Takes the part just read: pushes it, or holds it (or merges it into one held) under a plan.
    fn accept(&mut self) {
        let place = self.parts;
        self.parts += 1;
        if let Some(plan) = &self.plan {
            if let Some(into) = plan.absorbed.get(&place) {
                let held = &mut self.held.get_mut(into).expect("a part is merged into an earlier one").1;
                held.merge(&self.part);
                return;
            }
            if plan.holders.contains(&place) {
                let slot = self.b.spans().len() as u32;
                let id = SpanId::new(1).expect("1 is not zero");
                self.b.push_span(RawSpan::new(TraceId(0), id, None, 0, None));
                self.said.push(Said::default());
                self.held.insert(place, (slot, self.part.clone()));
                return;
            }
        }
        let part = std::mem::replace(&mut self.part, Part::new());
        let index = self.b.spans().len() as u32;
        let (raw, said) = self.emit(&part, index);
        self.b.push_span(raw);
        self.said.push(said);
        self.part = part;
    }

    /// Puts the merged parts in the places kept for them.
    fn settle_held(&mut self) {
        let mut held: Vec<(u32, Part)> = std::mem::take(&mut self.held).into_values().collect();
        held.sort_unstable_by_key(|(slot, _)| *slot);
        for (slot, part) in held {
            let (raw, said) = self.emit(&part, slot);
            self.b.spans_mut()[slot as usize] = raw;
            self.said[slot as usize] = said;
        }
    }

    /// Pushes a part's attributes and events, and returns its span (with its start and end as
    /// the file gave them: see [`Said::TIMED`]) and what else it said.
    fn emit(&mut self, p: &Part, index: u32) -> (RawSpan, Said) {
        let (b, keys) = (&mut self.b, &self.keys);
        let mut said = Said::default();
        said.set(Said::TIMED, p.timestamp.is_some());
        let (start, end) = match (p.timestamp, p.duration) {
            (Some(start), Some(duration)) => {
                let end = start.checked_add(duration);
                said.set(Said::OVERFLOW, end.is_none());
                (start, end)
            }
            (Some(start), None) => (start, None),
            (None, duration) => (0, duration),
        };
        if said.has(Said::OVERFLOW) || (p.timestamp.is_none() && p.duration.is_some()) {
            self.locs.insert(index, p.loc);
        }
        let texts = [p.id.text, p.trace_id.text, p.parent_id.and_then(|p| p.text)];
        if texts.iter().any(Option::is_some) {
            self.texts.insert(index, texts);
        }
        said.set(Said::SHARED_SET, p.shared.is_some());
        said.set(Said::SHARED, p.shared == Some(true));
        said.set(Said::CLIENT, p.kind == Some(super::part::Kind::Client));
        said.set(Said::SERVER, p.kind == Some(super::part::Kind::Server));
        said.set(Said::UNKNOWN_KIND, p.kind == Some(super::part::Kind::Unknown));
        said.set(Said::SERVICE, p.service().is_some());
        said.set(Said::TAGS_NOT_TEXT, p.tags_not_text > 0);
        said.set(Said::DEBUG, p.debug == Some(true));

        let mut raw = RawSpan::new(p.trace_id.value, p.id.value, p.parent_id.map(|p| p.value), start, end);
        raw.name = p.name.unwrap_or(StrId::EMPTY);
        raw.kind = p.kind.map_or(SpanKind::Unspecified, super::part::Kind::model);
        raw.service = p.service().unwrap_or(StrId::EMPTY);

        let find = |key: StrId| p.tags.iter().find(|(k, _)| *k == key).map(|&(_, v)| v);
        let is = |value: StrId, text: &str| b.resolve(value).eq_ignore_ascii_case(text);
        let code = find(keys.status_code).filter(|&c| is(c, "ok") || is(c, "error"));
        let error = find(keys.error);
        let description = code.and(find(keys.status_description));
        (raw.status, raw.status_message) = match (error, code) {
            (Some(message), _) => (Status::Error, message),
            (None, Some(c)) if is(c, "error") => (Status::Error, description.unwrap_or(StrId::EMPTY)),
            (None, Some(_)) => (Status::Ok, description.unwrap_or(StrId::EMPTY)),
            (None, None) => (Status::Unset, StrId::EMPTY),
        };
        let mut hints = OpHints::default();
        let mark = b.attr_mark();
        if let Some(text) = p.id.text {
            b.push_attr(keys.written_id, AttrValue::Str(text));
        }
        for &(key, value) in &p.tags {
            let taken = key == keys.error
                || (key == keys.status_code && code.is_some())
                || (key == keys.status_description && description.is_some());
            if !taken {
                hints.see(b.resolve(key));
                b.push_attr(key, AttrValue::Str(value));
            }
        }
        raw.op = match find(keys.sentry_op) {
            Some(op) => op,
            None => b.intern(semconv::derive_op(raw.kind, hints)),
        };
        if let Some(local) = &p.local {
            endpoint(b, keys.local, local, false);
        }
        if let Some(remote) = &p.remote {
            endpoint(b, keys.remote, remote, true);
        }
        if p.shared == Some(true) && p.kind != Some(super::part::Kind::Client) {
            b.push_attr(keys.shared, AttrValue::Bool(true));
        }
        if p.debug == Some(true) {
            b.push_attr(keys.debug, AttrValue::Bool(true));
        }
        raw.attrs = b.attrs_since(mark);

        let events = b.event_mark();
        for &(time, name) in &p.annotations {
            b.push_event(Event { time, name, attrs: Range32::default() });
        }
        raw.events = b.events_since(events);
        (raw, said)
    }

    /// The written form of span `i`'s own id and trace id.
    pub fn written(&self, i: usize) -> (String, String) {
        let span = &self.b.spans()[i];
        let texts = self.texts.get(&(i as u32)).copied().unwrap_or_default();
        let text = |t: Option<StrId>, hex: String| t.map_or(hex, |t| self.b.resolve(t).to_owned());
        (text(texts[0], span.id.to_string()), text(texts[1], span.trace_id.to_string()))
    }

    /// Counts span `i` for the note on ids that were not hex.
    pub fn see_texts(&self, i: usize, named: &mut NamedIds) {
        if let Some(texts) = self.texts.get(&(i as u32)) {
            let texts = texts.map(|t| t.map(|t| self.b.resolve(t)));
            named.see(&texts);
        }
    }
}

/// Pushes an endpoint's fields as attributes named by `keys` (the service only for the remote one).
fn endpoint(b: &mut TraceBuilder, keys: [StrId; 4], e: &super::part::Endpoint, with_service: bool) {
    for (key, value) in keys.into_iter().zip([e.service.filter(|_| with_service), e.ipv4, e.ipv6]) {
        if let Some(value) = value {
            b.push_attr(key, AttrValue::Str(value));
        }
    }
    if let Some(port) = e.port {
        b.push_attr(keys[3], AttrValue::Int(port));
    }
}

/// What the top level holds.
#[derive(Clone, Copy)]
enum Shape {
    /// An array of spans (or anything else, for serde to complain about).
    Spans,
    /// An array of arrays of spans, as `/api/v2/traces` answers.
    Traces,
    /// An object, not an array.
    Object,
}

fn shape(bytes: &[u8]) -> Shape {
    let mut rest = bytes.iter().copied().filter(|b| !b.is_ascii_whitespace() && !matches!(b, 0xEF | 0xBB | 0xBF));
    match (rest.next(), rest.next()) {
        (Some(b'{'), _) => Shape::Object,
        (Some(b'['), Some(b'[')) => Shape::Traces,
        _ => Shape::Spans,
    }
}

/// Reads a whole file of the given shape.
struct Document<'r> {
    r: &'r mut Reader,
    shape: Shape,
}

impl<'de> DeserializeSeed<'de> for Document<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        match self.shape {
            Shape::Object => SpanSeed { r: self.r, loc: Loc(0, None) }.deserialize(de),
            Shape::Spans => de.deserialize_seq(Spans { r: self.r, trace: None }),
            Shape::Traces => de.deserialize_seq(Traces(self.r)),
        }
    }
}

/// Reads one span object and takes it.
struct SpanSeed<'r> {
    r: &'r mut Reader,
    loc: Loc,
}

impl<'de> DeserializeSeed<'de> for SpanSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        let r = self.r;
        PartSeed { part: &mut r.part, b: &mut r.b, loc: self.loc }.deserialize(de)?;
        r.accept();
        Ok(())
    }
}

/// An array of spans: the whole file, or (`trace` given) one trace of an array of traces.
struct Spans<'r> {
    r: &'r mut Reader,
    trace: Option<usize>,
}

impl<'de> DeserializeSeed<'de> for Spans<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Spans<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of spans")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        let mut i = 0;
        loop {
            let loc = match self.trace {
                None => Loc(i, None),
                Some(trace) => Loc(trace, Some(i)),
            };
            if seq.next_element_seed(SpanSeed { r: &mut *self.r, loc })?.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }
}

/// An array of traces, each an array of spans.
struct Traces<'r>(&'r mut Reader);

impl<'de> Visitor<'de> for Traces<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of traces (arrays of spans)")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        let mut trace = 0;
        while seq.next_element_seed(Spans { r: &mut *self.0, trace: Some(trace) })?.is_some() {
            trace += 1;
        }
        Ok(())
    }
}
