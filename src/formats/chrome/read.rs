//! The streaming pass over the JSON: every `X`, `B` and `b` pushed to the builder as a span as
//! it is read (its ids and parent, if any, from tracedeck's own args), strings interned and
//! `args` pushed as attributes, and one small [`Record`] (32 bytes) kept per event that takes
//! part in nesting, so no event objects or value trees are kept. Metadata (`M`) is folded into
//! process and thread names here.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::model::{AttrValue, Nanos, Range32, RawSpan, SpanId, Status, StrId, TraceBuilder};

use super::ids::{self, Explicit, SYNTHETIC_TRACE_ID};
use super::tally::Tally;

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A process or thread id: a number, or a string from a hand-written generator.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(super) enum ProcKey {
    Num(i64),
    Str(StrId),
}

/// An async id (`id`, `id2.local`, `id2.global`): a number (or `"0x1a"`-style hex), or other text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(super) enum IdKey {
    Num(u64),
    Str(StrId),
}

/// What matches a nestable async `b` with its `e`: category, id and scope, plus the process
/// for process-local ids (`id2.local`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(super) struct AsyncKey {
    pub pid: Option<ProcKey>,
    pub cat: StrId,
    pub id: IdKey,
    pub scope: StrId,
}

/// "No index" in the `u32` index fields below.
pub(super) const NONE: u32 = u32::MAX;

/// One event that can become (part of) a span: `X`, `B`, `E`, `i`/`I`, `b`, `e`, `n`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Record {
    /// `ts`, in nanoseconds.
    pub ts: Nanos,
    /// Position in the file's event list, for messages.
    pub index: u32,
    /// Index into [`Parsed::threads`].
    pub thread: u32,
    /// Index into the async tracks for `b`/`e`/`n`, else [`NONE`].
    pub track: u32,
    /// `X`, `B`, `b`: the span's index in the builder; `E`, `e`: into [`Parsed::ends`];
    /// instants: into [`Parsed::instants`].
    pub item: u32,
    /// Phase letter.
    pub ph: u8,
    /// [`SLOT`], [`EXPLICIT`], [`EXPLICIT_SPAN_ID`], [`EXPLICIT_TRACE_ID`].
    pub flags: u8,
}

/// [`Record::flags`]: the event's attributes end with a `thread.name` placeholder, filled in
/// (or cut off) once thread names are known.
pub(super) const SLOT: u8 = 1;
/// [`Record::flags`]: the event carries some of tracedeck's own id args (see [`ids`]).
pub(super) const EXPLICIT: u8 = 2;
/// [`Record::flags`]: ... among them `tracedeck.span_id`.
pub(super) const EXPLICIT_SPAN_ID: u8 = 4;
/// [`Record::flags`]: ... among them `tracedeck.trace_id`.
pub(super) const EXPLICIT_TRACE_ID: u8 = 8;

/// The name and args of an `E` or `e` event, merged into the slice it ends.
#[derive(Clone, Copy, Debug)]
pub(super) struct End {
    pub name: StrId,
    pub args: Range32,
}

/// Everything the streaming pass collected besides the spans, which went to the builder in
/// file order as they were read (`X`, `B`, `b`; ids, parents and services to be filled in).
pub(super) struct Parsed {
    pub records: Vec<Record>,
    /// Ends (`E`, `e`), by [`Record::item`].
    pub ends: Vec<End>,
    /// Instants (`i`, `I`, `n`), by [`Record::item`], as the zero-length spans they become when
    /// no slice is around them; else they are events of that slice.
    pub instants: Vec<RawSpan>,
    /// `(pid, tid)` of each thread, in order of first appearance.
    pub threads: Vec<(ProcKey, ProcKey)>,
    /// Thread names from `thread_name` metadata, by thread.
    pub thread_names: Vec<Option<StrId>>,
    /// Process names from `process_name` metadata.
    pub process_names: FastMap<ProcKey, StrId>,
    /// Number of distinct async tracks (`b`/`e` keys).
    pub async_tracks: u32,
    /// Events of phases tracedeck does not show, counted by phase letter.
    pub ignored: BTreeMap<char, usize>,
    /// Slice and instant events skipped or made instants for a missing field.
    pub skipped: Skipped,
}

/// Events read leniently, for the notes: real tools' files have a few of each.
#[derive(Default)]
pub(super) struct Skipped {
    /// Events without `ts` (skipped: they cannot be placed in time).
    pub without_ts: Tally,
    /// `X` events without `dur` (read as instants).
    pub without_dur: Tally,
    /// Async events without `id` or `id2` (skipped: they cannot be paired).
    pub without_async_id: Tally,
}

/// The reader's state while the JSON streams past: the builder the spans go to, and the rest.
pub(super) struct State {
    pub builder: TraceBuilder,
    pub parsed: Parsed,
    thread_index: FastMap<(ProcKey, ProcKey), u32>,
    /// Each async track's index, by key.
    pub track_index: FastMap<AsyncKey, u32>,
    next_index: u32,
    keys: Keys,
}

/// Strings the reader compares against, interned once.
struct Keys {
    name: StrId,
    thread_name_attr: StrId,
    process_name: StrId,
    thread_name: StrId,
}

impl State {
    /// A state with an empty builder.
    pub fn new() -> Self {
        let mut builder = TraceBuilder::new();
        let keys = Keys {
            name: builder.intern("name"),
            thread_name_attr: builder.intern("thread.name"),
            process_name: builder.intern("process_name"),
            thread_name: builder.intern("thread_name"),
        };
        State {
            builder,
            parsed: Parsed {
                records: Vec::new(),
                ends: Vec::new(),
                instants: Vec::new(),
                threads: Vec::new(),
                thread_names: Vec::new(),
                process_names: FastMap::default(),
                async_tracks: 0,
                ignored: BTreeMap::new(),
                skipped: Skipped::default(),
            },
            thread_index: FastMap::default(),
            track_index: FastMap::default(),
            next_index: 0,
            keys,
        }
    }

    /// What was read, and the builder the spans went to.
    pub fn finish(self) -> (Parsed, TraceBuilder) {
        (self.parsed, self.builder)
    }

    /// Reads one event, the `index`th of the file's list, `bytes` holding it alone (an element
    /// of the list found by a structural scan); `false` if it is not one.
    pub fn read_event(&mut self, index: usize, bytes: &[u8]) -> bool {
        self.next_index = index as u32;
        let mut de = serde_json::Deserializer::from_slice(bytes);
        EventSeed(self).deserialize(&mut de).and_then(|()| de.end()).is_ok()
    }

    /// The key under which `thread.name` attributes are stored.
    pub fn thread_name_key(&self) -> StrId {
        self.keys.thread_name_attr
    }

    /// The index of thread `(pid, tid)`, given it at its first appearance.
    pub fn thread(&mut self, pid: ProcKey, tid: ProcKey) -> u32 {
        let parsed = &mut self.parsed;
        *self.thread_index.entry((pid, tid)).or_insert_with(|| {
            parsed.threads.push((pid, tid));
            parsed.thread_names.push(None);
            parsed.threads.len() as u32 - 1
        })
    }

    /// The index of async track `key`, given it at its first appearance.
    pub fn track(&mut self, key: AsyncKey) -> u32 {
        let parsed = &mut self.parsed;
        *self.track_index.entry(key).or_insert_with(|| {
            parsed.async_tracks += 1;
            parsed.async_tracks - 1
        })
    }
}

/// The whole document: `{"traceEvents": [...], ...}` or a bare array of events.
pub(super) struct DocSeed<'s>(pub &'s mut State);

impl<'de> DeserializeSeed<'de> for DocSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DocSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Chrome trace: an object with `traceEvents`, or an array of events")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<Text<'de>>()? {
            if key.0 == "traceEvents" {
                map.next_value_seed(EventsSeed(&mut *self.0))?;
                found = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if !found {
            return Err(de::Error::custom("expected `traceEvents`, the list of trace events, in the top-level object"));
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        EventsSeed(self.0).visit_seq(seq)
    }
}

/// The list of events.
struct EventsSeed<'s>(&'s mut State);

impl<'de> DeserializeSeed<'de> for EventsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EventsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of trace events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(EventSeed(&mut *self.0))?.is_some() {
            self.0.next_index += 1;
        }
        Ok(())
    }
}

/// The event fields tracedeck reads; the rest are skipped.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum Field {
    Name,
    Cat,
    Ph,
    Ts,
    Dur,
    Pid,
    Tid,
    Id,
    Id2,
    Scope,
    Args,
    #[serde(other)]
    Other,
}

/// One event.
struct EventSeed<'s>(&'s mut State);

impl<'de> DeserializeSeed<'de> for EventSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_map(self)
    }
}

/// Phases kept as records.
const SPAN_PHASES: &[u8] = b"XBEiIben";
/// Phases that may become a span and so get a `thread.name` slot after their args.
const SLOT_PHASES: &[u8] = b"XBiIb";

impl<'de> Visitor<'de> for EventSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a trace event (an object with `ph`, `ts`, `name`, ...)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let state = self.0;
        let (mut ph, mut ts, mut dur) = (None, None, None);
        let (mut name, mut cat, mut scope) = (StrId::EMPTY, StrId::EMPTY, StrId::EMPTY);
        let (mut pid, mut tid, mut id, mut id2) = (None, None, None, None);
        let mut args: Option<ArgsOut> = None;
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Ph => ph = Some(map.next_value::<Phase>()?.0),
                Field::Ts => ts = Some(map.next_value::<Micros>()?.0),
                Field::Dur => dur = Some(map.next_value::<Micros>()?.0),
                Field::Name => name = intern_opt(&mut state.builder, map.next_value::<Option<Text<'de>>>()?),
                Field::Cat => cat = intern_opt(&mut state.builder, map.next_value::<Option<Text<'de>>>()?),
                Field::Scope => scope = intern_opt(&mut state.builder, map.next_value::<Option<Text<'de>>>()?),
                Field::Pid => pid = Some(map.next_value::<ProcText<'de>>()?),
                Field::Tid => tid = Some(map.next_value::<ProcText<'de>>()?),
                Field::Id => id = Some(map.next_value::<IdText<'de>>()?),
                Field::Id2 => id2 = Some(map.next_value::<Id2<'de>>()?),
                // Args of events tracedeck ignores are skipped unread when `ph` came first.
                Field::Args if ph.is_some_and(|p| !SPAN_PHASES.contains(&p) && p != b'M') => {
                    map.next_value::<IgnoredAny>()?;
                }
                Field::Args => args = Some(map.next_value_seed(ArgsSeed(&mut state.builder))?),
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let Some(ph) = ph else {
            return Err(de::Error::custom("an event needs `ph`, its phase letter (X, B, E, i, b, e, M, ...)"));
        };
        let pid = pid.map_or(ProcKey::Num(0), |p| p.intern(&mut state.builder));
        let tid = tid.map_or(ProcKey::Num(0), |t| t.intern(&mut state.builder));
        if ph == b'M' {
            let value = args.and_then(|a| metadata_name(state, a.range));
            if let Some(value) = value {
                if name == state.keys.process_name {
                    state.parsed.process_names.insert(pid, value);
                } else if name == state.keys.thread_name {
                    let thread = state.thread(pid, tid) as usize;
                    state.parsed.thread_names[thread] = Some(value);
                }
            }
            return Ok(());
        }
        if !SPAN_PHASES.contains(&ph) {
            *state.parsed.ignored.entry(ph as char).or_default() += 1;
            return Ok(());
        }
        let Some(ts) = ts else {
            state.parsed.skipped.without_ts.add(state.next_index);
            return Ok(());
        };
        if ph == b'X' && dur.is_none() {
            state.parsed.skipped.without_dur.add(state.next_index);
        }
        let track = if b"ben".contains(&ph) {
            let (id, local) = match (id, id2) {
                (Some(id), _) => (id, false),
                (None, Some(Id2 { local: Some(id), .. })) => (id, true),
                (None, Some(Id2 { global: Some(id), .. })) => (id, false),
                _ => {
                    state.parsed.skipped.without_async_id.add(state.next_index);
                    return Ok(());
                }
            };
            let id = id.intern(&mut state.builder);
            state.track(AsyncKey { pid: local.then_some(pid), cat, id, scope })
        } else {
            NONE
        };
        let mut args = args.unwrap_or_else(|| ArgsOut::empty(&state.builder));
        let slot = SLOT_PHASES.contains(&ph) && !args.has_thread_name;
        if slot {
            // A placeholder right after the args keeps the span's attributes contiguous.
            state.builder.push_attr(state.keys.thread_name_attr, AttrValue::Str(StrId::EMPTY));
            args.range.len += 1;
        }
        let ex = args.explicit;
        let flags = [
            (slot, SLOT),
            (!ex.is_empty(), EXPLICIT),
            (ex.span_id.is_some(), EXPLICIT_SPAN_ID),
            (ex.trace_id.is_some(), EXPLICIT_TRACE_ID),
        ]
        .into_iter()
        .fold(0, |flags, (set, flag)| if set { flags | flag } else { flags });
        let span = |end| {
            let id = ex.span_id.unwrap_or_else(placeholder_id);
            let mut raw = RawSpan::new(ex.trace_id.unwrap_or(SYNTHETIC_TRACE_ID), id, ex.parent_id, ts, end);
            raw.name = name;
            raw.op = cat;
            raw.transaction = ex.transaction;
            raw.status = ex.status.unwrap_or(Status::Unset);
            raw.status_message = ex.status_message;
            raw.kind = ex.kind;
            raw.attrs = args.range;
            raw
        };
        let item = match ph {
            b'X' | b'B' | b'b' => {
                let end = (ph == b'X').then(|| ts.saturating_add(dur.unwrap_or(0)));
                state.builder.push_span(span(end));
                state.builder.spans().len() - 1
            }
            b'E' | b'e' => {
                push_gently(&mut state.parsed.ends, End { name, args: args.range });
                state.parsed.ends.len() - 1
            }
            _ => {
                state.parsed.instants.push(span(Some(ts)));
                state.parsed.instants.len() - 1
            }
        };
        let thread = state.thread(pid, tid);
        let record = Record { ts, index: state.next_index, thread, track, item: item as u32, ph, flags };
        push_gently(&mut state.parsed.records, record);
        Ok(())
    }
}

/// The span id a span read without `tracedeck.span_id` holds until it gets its own.
fn placeholder_id() -> SpanId {
    SpanId::new(1).expect("not zero")
}

/// Pushes growing by an eighth, not double: a 1M-event file's tables stay close to their size.
fn push_gently<T>(items: &mut Vec<T>, item: T) {
    if items.len() == items.capacity() {
        items.reserve_exact((items.capacity() / 8).max(1024));
    }
    items.push(item);
}

/// The `name` arg of a metadata event.
fn metadata_name(state: &State, range: Range32) -> Option<StrId> {
    state.builder.attrs()[range.as_range()].iter().find_map(|a| match a.value {
        AttrValue::Str(v) if a.key == state.keys.name => Some(v),
        _ => None,
    })
}

fn intern_opt(builder: &mut TraceBuilder, text: Option<Text>) -> StrId {
    text.map_or(StrId::EMPTY, |t| builder.intern(&t.0))
}

/// A string, borrowed from the input unless it had escapes.
pub(super) struct Text<'de>(pub Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
        }
        de.deserialize_str(V)
    }
}

/// `ph`: one letter.
struct Phase(u8);

impl<'de> Deserialize<'de> for Phase {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let text = Text::deserialize(de)?;
        match text.0.as_bytes() {
            [letter] => Ok(Phase(*letter)),
            _ => Err(de::Error::custom(format!(
                "expected `ph` to be one phase letter (X, B, E, i, b, e, M, ...), found {:?}",
                text.0
            ))),
        }
    }
}

/// A time in microseconds (`ts`, `dur`), fractions allowed, read as integer nanoseconds.
/// Whole numbers convert exactly; fractions as [`float_micros`](crate::formats::json::float_micros) says.
struct Micros(Nanos);

impl<'de> Deserialize<'de> for Micros {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Micros;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number of microseconds")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Micros, E> {
                v.checked_mul(1000).map(Micros).ok_or_else(|| out_of_range(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Micros, E> {
                i64::try_from(v).map_err(|_| out_of_range(v)).and_then(|v| self.visit_i64(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Micros, E> {
                crate::formats::json::float_micros(v).map(Micros).ok_or_else(|| out_of_range(v))
            }
        }
        de.deserialize_any(V)
    }
}

fn out_of_range<E: de::Error>(v: impl fmt::Display) -> E {
    E::custom(format!("{v} microseconds is out of range (at most about 292 years either side of 1970)"))
}

/// `pid`/`tid` as read: a whole number or a string.
enum ProcText<'de> {
    Num(i64),
    Str(Cow<'de, str>),
}

impl ProcText<'_> {
    fn intern(self, builder: &mut TraceBuilder) -> ProcKey {
        match self {
            ProcText::Num(n) => ProcKey::Num(n),
            ProcText::Str(s) => ProcKey::Str(builder.intern(&s)),
        }
    }
}

impl<'de> Deserialize<'de> for ProcText<'de> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ProcText<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a process or thread id (a whole number or a string)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ProcText<'de>, E> {
                Ok(ProcText::Num(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ProcText<'de>, E> {
                i64::try_from(v).map(ProcText::Num).or_else(|_| Ok(ProcText::Str(Cow::Owned(v.to_string()))))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<ProcText<'de>, E> {
                Ok(ProcText::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ProcText<'de>, E> {
                Ok(ProcText::Str(Cow::Owned(v.to_owned())))
            }
        }
        de.deserialize_any(V)
    }
}

/// An async id as read: a number, or a string (hex `"0x1a"` is read as its number).
enum IdText<'de> {
    Num(u64),
    Str(Cow<'de, str>),
}

impl IdText<'_> {
    fn intern(self, builder: &mut TraceBuilder) -> IdKey {
        match self {
            IdText::Num(n) => IdKey::Num(n),
            IdText::Str(s) => {
                let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"));
                match hex.and_then(|h| u64::from_str_radix(h, 16).ok()) {
                    Some(n) => IdKey::Num(n),
                    None => IdKey::Str(builder.intern(&s)),
                }
            }
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for IdText<'a> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = IdText<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an async id (a number or a string such as \"0x1f\")")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IdText<'a>, E> {
                Ok(IdText::Num(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IdText<'a>, E> {
                Ok(IdText::Num(v as u64))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<IdText<'a>, E> {
                Ok(IdText::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IdText<'a>, E> {
                Ok(IdText::Str(Cow::Owned(v.to_owned())))
            }
        }
        de.deserialize_any(V(std::marker::PhantomData))
    }
}

/// `id2`: `{"local": id}` or `{"global": id}`.
#[derive(Deserialize)]
struct Id2<'a> {
    #[serde(borrow)]
    local: Option<IdText<'a>>,
    #[serde(borrow)]
    global: Option<IdText<'a>>,
}

/// What reading `args` produced.
struct ArgsOut {
    range: Range32,
    has_thread_name: bool,
    explicit: Explicit,
}

impl ArgsOut {
    fn empty(builder: &TraceBuilder) -> Self {
        ArgsOut {
            range: builder.attrs_since(builder.attr_mark()),
            has_thread_name: false,
            explicit: Explicit::default(),
        }
    }
}

/// `args`: pushed as typed attributes, except tracedeck's own `tracedeck.*` keys (see [`ids`]).
struct ArgsSeed<'b>(&'b mut TraceBuilder);

impl<'de> DeserializeSeed<'de> for ArgsSeed<'_> {
    type Value = ArgsOut;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<ArgsOut, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ArgsSeed<'_> {
    type Value = ArgsOut;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`args` as an object")
    }

    fn visit_unit<E: de::Error>(self) -> Result<ArgsOut, E> {
        Ok(ArgsOut::empty(self.0))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ArgsOut, A::Error> {
        let builder = self.0;
        let mark = builder.attr_mark();
        let mut out = ArgsOut::empty(builder);
        while let Some(key) = map.next_key::<Text<'de>>()? {
            if let Some(field) = key.0.strip_prefix(ids::PREFIX) {
                map.next_value_seed(ExplicitSeed { field, explicit: &mut out.explicit, builder: &mut *builder })?;
                continue;
            }
            out.has_thread_name |= key.0 == "thread.name";
            let value = map.next_value_seed(ValueSeed(&mut *builder))?;
            let key = builder.intern(&key.0);
            builder.push_attr(key, value);
        }
        out.range = builder.attrs_since(mark);
        Ok(out)
    }
}

/// One of tracedeck's own args, checked as it is read so an error names its key.
struct ExplicitSeed<'f, 'b> {
    field: &'f str,
    explicit: &'b mut Explicit,
    builder: &'b mut TraceBuilder,
}

impl<'de> DeserializeSeed<'de> for ExplicitSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        let text = Text::deserialize(de)?;
        self.explicit.set(self.field, &text.0, self.builder).map_err(de::Error::custom)
    }
}

/// One arg value: text, whole number, float or bool; arrays, maps and `null` as JSON text.
struct ValueSeed<'b>(&'b mut TraceBuilder);

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = AttrValue;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<AttrValue, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = AttrValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an arg value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<AttrValue, E> {
        Ok(AttrValue::Str(self.0.intern(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<AttrValue, E> {
        Ok(AttrValue::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<AttrValue, E> {
        // Past i64, keep the exact digits as text rather than round to a float.
        Ok(i64::try_from(v).map_or_else(|_| AttrValue::Str(self.0.intern(&v.to_string())), AttrValue::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<AttrValue, E> {
        Ok(AttrValue::Float(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<AttrValue, E> {
        Ok(AttrValue::Bool(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<AttrValue, E> {
        Ok(AttrValue::Str(self.0.intern("null")))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<AttrValue, A::Error> {
        let value = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(AttrValue::Str(self.0.intern(&value.to_string())))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<AttrValue, A::Error> {
        let value = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(AttrValue::Str(self.0.intern(&value.to_string())))
    }
}
