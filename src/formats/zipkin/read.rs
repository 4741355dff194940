//! Reading Zipkin v2 JSON into a [`TraceBuilder`]. See the module docs of [`super`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::{DEBUG, LOCAL_ENDPOINT, REMOTE_ENDPOINT, SHARED, shared};
use crate::formats::FormatError;
use crate::formats::json::{self, Id, NamedIds, Scalar, Text};
use crate::formats::semconv::{self, OpHints};
use crate::formats::untimed::{self, Node, Placed};
use crate::model::{
    AttrValue, Event, Nanos, Range32, RawSpan, SpanFlags, SpanId, SpanKind, Status, StrId, TraceBuilder, TraceId,
};

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

const V1: &str = "Zipkin v1 JSON is not supported; export v2 (an array of spans with localEndpoint)";

#[derive(Deserialize)]
struct ZSpan<'a> {
    #[serde(rename = "traceId", borrow)]
    trace_id: Id<'a, TraceId>,
    #[serde(borrow)]
    id: Id<'a, SpanId>,
    #[serde(rename = "parentId", borrow, default, deserialize_with = "json::opt_id")]
    parent_id: Option<Id<'a, SpanId>>,
    #[serde(borrow, default)]
    name: Option<Text<'a>>,
    #[serde(default)]
    kind: Option<Kind>,
    #[serde(default, deserialize_with = "json::opt_micros")]
    timestamp: Option<Nanos>,
    #[serde(default, deserialize_with = "json::opt_micros")]
    duration: Option<Nanos>,
    #[serde(rename = "localEndpoint", borrow, default)]
    local: Option<Endpoint<'a>>,
    #[serde(rename = "remoteEndpoint", borrow, default)]
    remote: Option<Endpoint<'a>>,
    #[serde(borrow, default)]
    annotations: Option<Vec<Annotation<'a>>>,
    #[serde(borrow, default)]
    tags: Option<Tags<'a>>,
    #[serde(default)]
    debug: Option<bool>,
    #[serde(default)]
    shared: Option<bool>,
    #[serde(rename = "binaryAnnotations", default, deserialize_with = "reject_v1")]
    _binary_annotations: (),
}

/// Zipkin's span kinds.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    #[serde(rename = "CLIENT", alias = "client")]
    Client,
    #[serde(rename = "SERVER", alias = "server")]
    Server,
    #[serde(rename = "PRODUCER", alias = "producer")]
    Producer,
    #[serde(rename = "CONSUMER", alias = "consumer")]
    Consumer,
    /// A kind Zipkin does not define (`REQUEST`): shown without a kind, with a note.
    #[serde(other)]
    Unknown,
}

impl Kind {
    fn model(self) -> SpanKind {
        match self {
            Kind::Client => SpanKind::Client,
            Kind::Server => SpanKind::Server,
            Kind::Producer => SpanKind::Producer,
            Kind::Consumer => SpanKind::Consumer,
            Kind::Unknown => SpanKind::Unspecified,
        }
    }
}

#[derive(Deserialize, Default)]
struct Endpoint<'a> {
    #[serde(rename = "serviceName", borrow, default)]
    service: Option<Text<'a>>,
    #[serde(borrow, default)]
    ipv4: Option<Text<'a>>,
    #[serde(borrow, default)]
    ipv6: Option<Text<'a>>,
    #[serde(default)]
    port: Option<i64>,
}

#[derive(Deserialize)]
struct Annotation<'a> {
    #[serde(deserialize_with = "json::micros")]
    timestamp: Nanos,
    #[serde(borrow)]
    value: Text<'a>,
    #[serde(rename = "endpoint", default, deserialize_with = "reject_v1")]
    _endpoint: (),
}

fn reject_v1<'de, D: Deserializer<'de>>(_: D) -> Result<(), D::Error> {
    Err(de::Error::custom(V1))
}

/// Tags in file order (a JSON object of strings), and how many values were numbers or
/// booleans instead (kept as their text).
#[derive(Default)]
struct Tags<'a>(Vec<(Text<'a>, Text<'a>)>, usize);

impl<'de: 'a, 'a> Deserialize<'de> for Tags<'a> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Tags<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of string tags")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Tags<'a>, M::Error> {
                let mut tags = Vec::with_capacity(map.size_hint().unwrap_or(0));
                let mut not_text = 0;
                while let Some((key, value)) = map.next_entry::<Text, Scalar>()? {
                    not_text += usize::from(!matches!(value, Scalar::Str(_)));
                    let written = match value {
                        Scalar::Str(text) => text,
                        Scalar::Int(v) => Cow::Owned(v.to_string()),
                        Scalar::BigUint(v) => Cow::Owned(v.to_string()),
                        Scalar::Float(v) => Cow::Owned(v.to_string()),
                        Scalar::Bool(v) => Cow::Owned(v.to_string()),
                    };
                    tags.push((key, Text(written)));
                }
                Ok(Tags(tags, not_text))
            }
        }
        de.deserialize_map(V(std::marker::PhantomData))
    }
}

/// Where a span was in the file: `$[i]` or `$[i][j]`.
#[derive(Clone, Copy)]
struct Loc(usize, Option<usize>);

/// Every span of the file with its place, read straight into one list: an array of spans, or
/// (`NESTED`) an array of traces that are arrays of spans. Reading into nested vectors first
/// and flattening them would copy every span once more (a file's worth of memory).
struct Located<'a, const NESTED: bool>(Vec<(ZSpan<'a>, Loc)>);

impl<'de: 'a, 'a, const NESTED: bool> Deserialize<'de> for Located<'a, NESTED> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        de.deserialize_seq(Outer::<NESTED>(Vec::new()))
    }
}

/// Visits the top-level array.
struct Outer<'a, const NESTED: bool>(Vec<(ZSpan<'a>, Loc)>);

impl<'de: 'a, 'a, const NESTED: bool> Visitor<'de> for Outer<'a, NESTED> {
    type Value = Located<'a, NESTED>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(if NESTED { "an array of traces (arrays of spans)" } else { "an array of spans" })
    }

    fn visit_seq<S: de::SeqAccess<'de>>(mut self, mut seq: S) -> Result<Self::Value, S::Error> {
        let mut i = 0;
        if NESTED {
            while seq.next_element_seed(Inner { spans: &mut self.0, trace: i })?.is_some() {
                i += 1;
            }
        } else {
            while let Some(span) = seq.next_element::<ZSpan>()? {
                self.0.push((span, Loc(i, None)));
                i += 1;
            }
        }
        Ok(Located(self.0))
    }
}

/// Reads one trace (an array of spans) of a nested file into the shared list.
struct Inner<'v, 'a> {
    spans: &'v mut Vec<(ZSpan<'a>, Loc)>,
    trace: usize,
}

impl<'de: 'a, 'a> de::DeserializeSeed<'de> for Inner<'_, 'a> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for Inner<'_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of spans")
    }

    fn visit_seq<S: de::SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        let mut j = 0;
        while let Some(span) = seq.next_element::<ZSpan>()? {
            self.spans.push((span, Loc(self.trace, Some(j))));
            j += 1;
        }
        Ok(())
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            None => write!(f, "$[{}]", self.0),
            Some(j) => write!(f, "$[{}][{j}]", self.0),
        }
    }
}

/// Reads Zipkin v2 JSON. Errors name the JSON path (and line and column when the JSON itself is wrong).
pub fn parse(bytes: &[u8]) -> Result<TraceBuilder, FormatError> {
    let mut b = TraceBuilder::new();
    let mut spans: Vec<(ZSpan, Loc)> = match shape(bytes) {
        Shape::Object => {
            b.note("the file is one span object rather than an array of spans; read as a list of one");
            vec![(json::from_slice::<ZSpan>(bytes)?, Loc(0, None))]
        }
        Shape::Traces => json::from_slice::<Located<true>>(bytes)?.0,
        Shape::Spans => json::from_slice::<Located<false>>(bytes)?.0,
    };
    let merged = merge_parts(&mut spans);
    let placed = place_in_time(&spans, &mut b)?;
    let (local_keys, remote_keys) = (endpoint_keys(&mut b, LOCAL_ENDPOINT), endpoint_keys(&mut b, REMOTE_ENDPOINT));
    let mut reader = Reader {
        b,
        without_duration: Tally::default(),
        unknown_kind: Tally::default(),
        tags_not_text: Tally::default(),
        named: NamedIds::default(),
        local_keys,
        remote_keys,
    };
    let halves = pair_shared(&spans);
    for (i, (span, loc)) in spans.iter().enumerate() {
        let (start, untimed) = match placed[i] {
            Placed::Timed(start) => (start, false),
            Placed::UnderParent(start) | Placed::AtTraceStart(start) => (start, true),
            Placed::Nowhere => continue,
        };
        reader.span(span, *loc, &halves, i, start, untimed)?;
    }
    let mut pairs = Tally::default();
    for (i, _) in halves.derived.iter().enumerate().filter(|(_, d)| d.is_some()) {
        pairs.add(spans[i].0.id.value);
    }
    let b = &mut reader.b;
    pairs.note(
        b,
        "server span(s) share their client's span id; each is shown as a child of its client, with a derived id",
    );
    merged.note(b, "span part(s) reported separately under one id were merged, as Zipkin does");
    reader
        .without_duration
        .note(b, "span(s) have no duration; shown as instants at their timestamp, as Zipkin's UI does");
    reader.unknown_kind.note(
        b,
        "span(s) have a kind Zipkin does not define (it has CLIENT, SERVER, PRODUCER, CONSUMER); shown without one",
    );
    reader
        .tags_not_text
        .note(b, "span(s) have tag values that are numbers or booleans, not strings; kept as their text");
    reader.named.note(b);
    Ok(reader.b)
}

/// Where each span goes in time ([`untimed::place`]), with a note for each kind of leniency.
/// An error only when no span of the file has a timestamp: then nothing can be placed.
fn place_in_time(spans: &[(ZSpan, Loc)], b: &mut TraceBuilder) -> Result<Vec<Placed>, FormatError> {
    let nodes: Vec<Node> = spans
        .iter()
        .map(|(s, _)| Node {
            trace: s.trace_id.value.low64(),
            id: s.id.value,
            parent: s.parent_id.as_ref().map(|p| p.value),
            start: s.timestamp,
        })
        .collect();
    let placed = untimed::place(&nodes);
    if let Some((first, _)) = spans.first().filter(|_| placed.iter().all(|p| *p == Placed::Nowhere)) {
        return Err(FormatError::at_path(
            "$",
            format!(
                "no span has a timestamp (span {} of trace {} has none, nor has any other), so nothing can be placed in time",
                first.id.written(),
                first.trace_id.written()
            ),
        ));
    }
    let names = |kind: fn(&Placed) -> bool| -> Vec<String> {
        spans.iter().zip(&placed).filter(|(_, p)| kind(p)).map(|((s, _), _)| s.id.written()).collect()
    };
    let under = names(|p| matches!(p, Placed::UnderParent(_)));
    let at_start = names(|p| matches!(p, Placed::AtTraceStart(_)));
    let nowhere = names(|p| *p == Placed::Nowhere);
    const JUDGED: &str = "marked untimed; verdicts judge by the timed spans";
    if !under.is_empty() {
        b.note(format!(
            "{} span(s) have no timestamp ({}); each is placed at the start of its nearest timed parent, {JUDGED}",
            under.len(),
            untimed::list(&under)
        ));
    }
    if !at_start.is_empty() {
        b.note(format!(
            "{} span(s) have no timestamp and no timed parent ({}); placed at the start of their trace, {JUDGED}",
            at_start.len(),
            untimed::list(&at_start)
        ));
    }
    if !nowhere.is_empty() {
        b.note(format!(
            "{} span(s) are in traces where no span has a timestamp ({}); they cannot be placed in time and are not shown",
            nowhere.len(),
            untimed::list(&nowhere)
        ));
    }
    Ok(placed)
}

/// What the top level holds.
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

/// Whether a span is a server half of a shared span (Zipkin unsets `shared` on clients).
fn is_shared(span: &ZSpan) -> bool {
    span.shared == Some(true) && span.kind != Some(Kind::Client)
}

fn service<'s>(span: &'s ZSpan) -> Option<&'s str> {
    span.local.as_ref().and_then(|e| e.service.as_deref())
}

/// Merges spans reported in several parts into their first part, as Zipkin's `mergeV2ById`
/// does; returns which parts were merged away.
fn merge_parts(spans: &mut Vec<(ZSpan, Loc)>) -> Tally {
    let mut first: FastMap<(u64, SpanId, bool), usize> = FastMap::default();
    let mut absorbed = vec![None; spans.len()];
    for i in 0..spans.len() {
        let key = (spans[i].0.trace_id.value.low64(), spans[i].0.id.value, is_shared(&spans[i].0));
        match first.entry(key) {
            Entry::Vacant(slot) => {
                slot.insert(i);
            }
            Entry::Occupied(slot) => {
                let into = *slot.get();
                let compatible = match (service(&spans[into].0), service(&spans[i].0)) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                };
                if compatible {
                    absorbed[i] = Some(into);
                }
            }
        }
    }
    let mut merged = Tally::default();
    for (i, _) in absorbed.iter().enumerate().filter(|(_, a)| a.is_some()) {
        merged.add(spans[i].0.id.value);
    }
    if merged.count == 0 {
        return merged;
    }
    let mut kept: Vec<(ZSpan, Loc)> = Vec::with_capacity(spans.len() - merged.count);
    let mut new_index = vec![usize::MAX; spans.len()];
    for (i, (span, loc)) in std::mem::take(spans).into_iter().enumerate() {
        match absorbed[i] {
            None => {
                new_index[i] = kept.len();
                kept.push((span, loc));
            }
            // `into` comes before `i`, so it is already in `kept`.
            Some(into) => merge(&mut kept[new_index[into]].0, span),
        }
    }
    *spans = kept;
    merged
}

/// How many spans something happened to, and the first of them, for an import note.
#[derive(Default)]
struct Tally {
    count: usize,
    example: Option<SpanId>,
}

impl Tally {
    fn add(&mut self, id: SpanId) {
        self.count += 1;
        self.example.get_or_insert(id);
    }

    /// Notes `count what (e.g. example)` if anything was counted.
    fn note(&self, b: &mut TraceBuilder, what: &str) {
        if let Some(example) = self.example {
            b.note(format!("{} {what} (e.g. {example})", self.count));
        }
    }
}

/// Fills what `into` lacks from `part`; joins annotations and tags (`part`'s tag values win).
fn merge<'a>(into: &mut ZSpan<'a>, part: ZSpan<'a>) {
    into.parent_id = into.parent_id.take().or(part.parent_id);
    if into.name.as_deref().is_none_or(str::is_empty) {
        into.name = part.name.or(into.name.take());
    }
    into.kind = into.kind.or(part.kind);
    into.timestamp = into.timestamp.or(part.timestamp);
    into.duration = into.duration.or(part.duration);
    for (mine, theirs) in [(&mut into.local, part.local), (&mut into.remote, part.remote)] {
        let Some(theirs) = theirs else { continue };
        let mine = mine.get_or_insert_with(Endpoint::default);
        mine.service = mine.service.take().or(theirs.service);
        mine.ipv4 = mine.ipv4.take().or(theirs.ipv4);
        mine.ipv6 = mine.ipv6.take().or(theirs.ipv6);
        mine.port = mine.port.or(theirs.port);
    }
    into.annotations.get_or_insert_with(Vec::new).extend(part.annotations.into_iter().flatten());
    let tags = &mut into.tags.get_or_insert_with(Tags::default).0;
    for (key, value) in part.tags.into_iter().flat_map(|t| t.0) {
        match tags.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => tags.push((key, value)),
        }
    }
    into.debug = into.debug.or(part.debug);
    into.shared = into.shared.or(part.shared);
}

/// The shared ids of the file: (trace, client id) → the server half's derived id and the
/// services of both halves.
struct Halves<'a> {
    by_client: FastMap<(u64, SpanId), Half<'a>>,
    /// For each span (by index), its derived id if it is a server half with a client twin.
    derived: Vec<Option<SpanId>>,
}

struct Half<'a> {
    id: SpanId,
    server_service: Option<&'a str>,
    client_service: Option<&'a str>,
}

/// Finds server halves that share their client's id and gives each a derived id.
fn pair_shared<'a>(spans: &'a [(ZSpan<'a>, Loc)]) -> Halves<'a> {
    let mut used: FastMap<(u64, SpanId), ()> = FastMap::default();
    // The twin of an id: its first non-shared span, a CLIENT one if there is one.
    let mut twin: FastMap<(u64, SpanId), usize> = FastMap::default();
    for (i, (s, _)) in spans.iter().enumerate() {
        let key = (s.trace_id.value.low64(), s.id.value);
        used.insert(key, ());
        if is_shared(s) {
            continue;
        }
        let slot = twin.entry(key).or_insert(i);
        if spans[*slot].0.kind != Some(Kind::Client) && s.kind == Some(Kind::Client) {
            *slot = i;
        }
    }
    let mut halves = Halves { by_client: FastMap::default(), derived: vec![None; spans.len()] };
    for (i, (s, _)) in spans.iter().enumerate() {
        let key = (s.trace_id.value.low64(), s.id.value);
        let Some(&t) = twin.get(&key).filter(|&&t| t != i) else { continue };
        let client = &spans[t].0;
        let backfilled = client.kind == Some(Kind::Client) && s.kind == Some(Kind::Server);
        if !is_shared(s) && !backfilled {
            continue;
        }
        let mut id = s.id.value;
        for candidate in shared::half_ids(s.id.value) {
            id = candidate;
            if !used.contains_key(&(key.0, candidate)) {
                break;
            }
        }
        used.insert((key.0, id), ());
        halves.derived[i] = Some(id);
        halves.by_client.entry(key).or_insert(Half { id, server_service: service(s), client_service: service(client) });
    }
    halves
}

struct Reader {
    b: TraceBuilder,
    without_duration: Tally,
    unknown_kind: Tally,
    tags_not_text: Tally,
    named: NamedIds,
    local_keys: [StrId; 4],
    remote_keys: [StrId; 4],
}

impl Reader {
    /// Reads one span, at `start` (its timestamp, or where an untimed span was placed).
    fn span(
        &mut self,
        span: &ZSpan,
        loc: Loc,
        halves: &Halves,
        i: usize,
        start: Nanos,
        untimed: bool,
    ) -> Result<(), FormatError> {
        let end = match span.duration {
            Some(d) => start.checked_add(d),
            None if untimed => Some(start),
            None => {
                self.without_duration.add(span.id.value);
                Some(start)
            }
        };
        let Some(end) = end else {
            return Err(FormatError::at_path(format!("{loc}.duration"), "timestamp + duration is past the year 2262"));
        };
        let derived = halves.derived.get(i).copied().flatten();
        let id = derived.unwrap_or(span.id.value);
        let parent_id = match derived {
            Some(_) => Some(span.id.value),
            None => span.parent_id.as_ref().map(|p| {
                let p = p.value;
                let own = service(span);
                match halves.by_client.get(&(span.trace_id.value.low64(), p)) {
                    Some(h) if !(own.is_some() && own == h.client_service && own != h.server_service) => h.id,
                    _ => p,
                }
            }),
        };
        let mut raw = RawSpan::new(span.trace_id.value, id, parent_id, start, Some(end));
        if untimed {
            raw.flags.insert(SpanFlags::UNTIMED);
        }
        let parent_text = span.parent_id.as_ref().and_then(|p| p.text.as_deref());
        self.named.see(&[span.id.text.as_deref(), span.trace_id.text.as_deref(), parent_text]);
        raw.name = self.b.intern(span.name.as_deref().unwrap_or(""));
        raw.kind = span.kind.map_or(SpanKind::Unspecified, Kind::model);
        if span.kind == Some(Kind::Unknown) {
            self.unknown_kind.add(span.id.value);
        }
        if span.tags.as_ref().is_some_and(|t| t.1 > 0) {
            self.tags_not_text.add(span.id.value);
        }
        raw.service = self.b.intern(service(span).unwrap_or(""));

        let tags = span.tags.as_ref().map_or(&[][..], |t| &t.0[..]);
        let find = |key: &str| tags.iter().find(|(k, _)| &**k == key).map(|(_, v)| &**v);
        let code =
            find(semconv::STATUS_CODE).filter(|c| c.eq_ignore_ascii_case("ok") || c.eq_ignore_ascii_case("error"));
        let error = find("error");
        let description = code.and(find(semconv::STATUS_DESCRIPTION));
        (raw.status, raw.status_message) = match (error, code) {
            (Some(message), _) => (Status::Error, self.b.intern(message)),
            (None, Some(c)) if c.eq_ignore_ascii_case("error") => {
                (Status::Error, self.b.intern(description.unwrap_or("")))
            }
            (None, Some(_)) => (Status::Ok, self.b.intern(description.unwrap_or(""))),
            (None, None) => (Status::Unset, StrId::EMPTY),
        };
        let mut hints = OpHints::default();
        let mark = self.b.attr_mark();
        json::push_written_id(&mut self.b, &span.id);
        for (key, value) in tags {
            let taken = match &**key {
                "error" => true,
                semconv::STATUS_CODE => code.is_some(),
                semconv::STATUS_DESCRIPTION => description.is_some(),
                _ => false,
            };
            if !taken {
                hints.see(key);
                self.b.push_attr_str(key, value);
            }
        }
        let sentry_op = find(semconv::SENTRY_OP);
        raw.op = self.b.intern(sentry_op.unwrap_or_else(|| semconv::derive_op(raw.kind, hints)));
        if let Some(local) = &span.local {
            self.endpoint(self.local_keys, local, false);
        }
        if let Some(remote) = &span.remote {
            self.endpoint(self.remote_keys, remote, true);
        }
        // A server half Zipkin would backfill as shared is marked shared too.
        let shared = span.shared.filter(|_| span.kind != Some(Kind::Client)).or(derived.map(|_| true));
        for (key, flag) in [(SHARED, shared), (DEBUG, span.debug)] {
            if flag == Some(true) {
                let key = self.b.intern(key);
                self.b.push_attr(key, AttrValue::Bool(true));
            }
        }
        raw.attrs = self.b.attrs_since(mark);

        let events = self.b.event_mark();
        for a in span.annotations.iter().flatten() {
            let name = self.b.intern(&a.value);
            self.b.push_event(Event { time: a.timestamp, name, attrs: Range32::default() });
        }
        raw.events = self.b.events_since(events);
        self.b.push_span(raw);
        Ok(())
    }

    /// Pushes an endpoint's fields as `prefix`-named attributes (the service only for the remote one).
    fn endpoint(&mut self, keys: [StrId; 4], e: &Endpoint, with_service: bool) {
        let texts = [e.service.as_deref().filter(|_| with_service), e.ipv4.as_deref(), e.ipv6.as_deref()];
        for (key, value) in keys.into_iter().zip(texts) {
            if let Some(value) = value {
                let value = AttrValue::Str(self.b.intern(value));
                self.b.push_attr(key, value);
            }
        }
        if let Some(port) = e.port {
            self.b.push_attr(keys[3], AttrValue::Int(port));
        }
    }
}

/// The attribute keys of an endpoint's `serviceName`, `ipv4`, `ipv6` and `port`, interned.
fn endpoint_keys(b: &mut TraceBuilder, prefix: &str) -> [StrId; 4] {
    ["serviceName", "ipv4", "ipv6", "port"].map(|field| b.intern(&format!("{prefix}{field}")))
}
