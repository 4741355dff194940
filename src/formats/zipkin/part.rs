//! One Zipkin span object as read, everything in it interned: what the reader turns into a
//! [`RawSpan`](crate::model::RawSpan), and what a span reported in several parts is merged in.
//! The [`PartSeed`] reads an object into a [`Part`] that is reused from span to span, so
//! reading allocates nothing per span.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::formats::json::{self, Id, Scalar, Text};
use crate::model::{Nanos, SpanId, SpanKind, StrId, TraceBuilder, TraceId};

/// The error for a file in Zipkin's first JSON format.
pub(super) const V1: &str = "Zipkin v1 JSON is not supported; export v2 (an array of spans with localEndpoint)";

/// Zipkin's span kinds.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
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
    /// The model's kind.
    pub fn model(self) -> SpanKind {
        match self {
            Kind::Client => SpanKind::Client,
            Kind::Server => SpanKind::Server,
            Kind::Producer => SpanKind::Producer,
            Kind::Consumer => SpanKind::Consumer,
            Kind::Unknown => SpanKind::Unspecified,
        }
    }
}

/// An endpoint's fields, interned.
#[derive(Clone, Copy, Default, PartialEq, Debug)]
pub(super) struct Endpoint {
    pub service: Option<StrId>,
    pub ipv4: Option<StrId>,
    pub ipv6: Option<StrId>,
    pub port: Option<i64>,
}

/// An id: its value and, when it was not hex, its text.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) struct ReadId<T> {
    pub value: T,
    pub text: Option<StrId>,
}

/// Where a span was in the file: `$[i]` or `$[i][j]`.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) struct Loc(pub usize, pub Option<usize>);

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            None => write!(f, "$[{}]", self.0),
            Some(j) => write!(f, "$[{}][{j}]", self.0),
        }
    }
}

/// One span object as read.
#[derive(Clone, Debug)]
pub(super) struct Part {
    pub trace_id: ReadId<TraceId>,
    pub id: ReadId<SpanId>,
    pub parent_id: Option<ReadId<SpanId>>,
    pub name: Option<StrId>,
    pub kind: Option<Kind>,
    pub timestamp: Option<Nanos>,
    pub duration: Option<Nanos>,
    pub local: Option<Endpoint>,
    pub remote: Option<Endpoint>,
    /// Annotations: time and value.
    pub annotations: Vec<(Nanos, StrId)>,
    /// Tags in file order, values as text.
    pub tags: Vec<(StrId, StrId)>,
    /// How many tag values were numbers or booleans (kept as their text).
    pub tags_not_text: usize,
    pub debug: Option<bool>,
    pub shared: Option<bool>,
    pub loc: Loc,
}

impl Part {
    /// An empty part, to read into.
    pub fn new() -> Self {
        let id = ReadId { value: SpanId::new(1).expect("1 is not zero"), text: None };
        Part {
            trace_id: ReadId { value: TraceId(0), text: None },
            id,
            parent_id: None,
            name: None,
            kind: None,
            timestamp: None,
            duration: None,
            local: None,
            remote: None,
            annotations: Vec::new(),
            tags: Vec::new(),
            tags_not_text: 0,
            debug: None,
            shared: None,
            loc: Loc(0, None),
        }
    }

    /// The local endpoint's service.
    pub fn service(&self) -> Option<StrId> {
        self.local.and_then(|e| e.service)
    }

    /// Fills what `self` lacks from `part` and joins annotations and tags (`part`'s tag values
    /// win), as Zipkin's `mergeV2ById` does.
    pub fn merge(&mut self, part: &Part) {
        self.parent_id = self.parent_id.or(part.parent_id);
        if self.name.is_none_or(StrId::is_empty) {
            self.name = part.name.or(self.name);
        }
        self.kind = self.kind.or(part.kind);
        self.timestamp = self.timestamp.or(part.timestamp);
        self.duration = self.duration.or(part.duration);
        for (mine, theirs) in [(&mut self.local, part.local), (&mut self.remote, part.remote)] {
            let Some(theirs) = theirs else { continue };
            let mine = mine.get_or_insert_with(Endpoint::default);
            mine.service = mine.service.or(theirs.service);
            mine.ipv4 = mine.ipv4.or(theirs.ipv4);
            mine.ipv6 = mine.ipv6.or(theirs.ipv6);
            mine.port = mine.port.or(theirs.port);
        }
        self.annotations.extend_from_slice(&part.annotations);
        for &(key, value) in &part.tags {
            match self.tags.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => self.tags.push((key, value)),
            }
        }
        self.debug = self.debug.or(part.debug);
        self.shared = self.shared.or(part.shared);
    }
}

/// Reads one span object into `part`, interning into `b`.
pub(super) struct PartSeed<'r> {
    pub part: &'r mut Part,
    pub b: &'r mut TraceBuilder,
    pub loc: Loc,
}

impl<'de> DeserializeSeed<'de> for PartSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_map(self)
    }
}

/// `deserialize_with` adapters for the fields read with [`json`]'s functions.
#[derive(Deserialize)]
struct OptMicros(#[serde(deserialize_with = "json::opt_micros")] Option<Nanos>);

#[derive(Deserialize)]
struct OptId<'a>(#[serde(borrow, deserialize_with = "json::opt_id")] Option<Id<'a, SpanId>>);

#[derive(Deserialize)]
struct RawEndpoint<'a> {
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

/// A field that only Zipkin v1 has.
struct RejectV1;

impl<'de> DeserializeSeed<'de> for RejectV1 {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        reject_v1(de)
    }
}

fn intern_id<T>(b: &mut TraceBuilder, id: Id<'_, T>) -> ReadId<T> {
    ReadId { value: id.value, text: id.text.map(|t| b.intern(&t)) }
}

fn intern_endpoint(b: &mut TraceBuilder, e: RawEndpoint) -> Endpoint {
    let mut text = |t: Option<Text>| t.map(|t| b.intern(&t));
    Endpoint { service: text(e.service), ipv4: text(e.ipv4), ipv6: text(e.ipv6), port: e.port }
}

impl<'de> Visitor<'de> for PartSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct ZSpan")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let PartSeed { part: p, b, loc } = self;
        let (mut trace_id, mut id) = (None, None);
        (p.parent_id, p.name, p.kind, p.timestamp, p.duration) = (None, None, None, None, None);
        (p.local, p.remote, p.debug, p.shared, p.tags_not_text, p.loc) = (None, None, None, None, 0, loc);
        p.annotations.clear();
        p.tags.clear();
        while let Some(key) = map.next_key::<Text>()? {
            match &*key {
                "traceId" => trace_id = Some(intern_id(b, map.next_value::<Id<TraceId>>()?)),
                "id" => id = Some(intern_id(b, map.next_value::<Id<SpanId>>()?)),
                "parentId" => p.parent_id = map.next_value::<OptId>()?.0.map(|i| intern_id(b, i)),
                "name" => p.name = map.next_value::<Option<Text>>()?.map(|t| b.intern(&t)),
                "kind" => p.kind = map.next_value()?,
                "timestamp" => p.timestamp = map.next_value::<OptMicros>()?.0,
                "duration" => p.duration = map.next_value::<OptMicros>()?.0,
                "localEndpoint" => p.local = map.next_value::<Option<RawEndpoint>>()?.map(|e| intern_endpoint(b, e)),
                "remoteEndpoint" => {
                    p.remote = map.next_value::<Option<RawEndpoint>>()?.map(|e| intern_endpoint(b, e));
                }
                "annotations" => map.next_value_seed(Annotations { part: p, b })?,
                "tags" => map.next_value_seed(Tags { part: p, b })?,
                "debug" => p.debug = map.next_value()?,
                "shared" => p.shared = map.next_value()?,
                "binaryAnnotations" => map.next_value_seed(RejectV1)?,
                _ => drop(map.next_value::<IgnoredAny>()?),
            }
        }
        p.trace_id = trace_id.ok_or_else(|| de::Error::missing_field("traceId"))?;
        p.id = id.ok_or_else(|| de::Error::missing_field("id"))?;
        Ok(())
    }
}

/// Reads a span's `annotations` (`null` is none) into its part.
struct Annotations<'r> {
    part: &'r mut Part,
    b: &'r mut TraceBuilder,
}

impl<'de> DeserializeSeed<'de> for Annotations<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Annotations<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while let Some(a) = seq.next_element::<Annotation>()? {
            let value = self.b.intern(&a.value);
            self.part.annotations.push((a.timestamp, value));
        }
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Reads a span's `tags` (an object of strings; `null` is none) into its part; numbers and
/// booleans are kept as their text, and counted.
struct Tags<'r> {
    part: &'r mut Part,
    b: &'r mut TraceBuilder,
}

impl<'de> DeserializeSeed<'de> for Tags<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Tags<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of string tags")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while let Some((key, value)) = map.next_entry::<Text, Scalar>()? {
            let key = self.b.intern(&key);
            let not_text = |text: String, part: &mut Part| {
                part.tags_not_text += 1;
                text
            };
            let value = match value {
                Scalar::Str(text) => self.b.intern(&text),
                Scalar::Int(v) => self.b.intern(&not_text(v.to_string(), self.part)),
                Scalar::BigUint(v) => self.b.intern(&not_text(v.to_string(), self.part)),
                Scalar::Float(v) => self.b.intern(&not_text(v.to_string(), self.part)),
                Scalar::Bool(v) => self.b.intern(&not_text(v.to_string(), self.part)),
            };
            self.part.tags.push((key, value));
        }
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_map(self)
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}
