//! The JSON shapes Sentry produces, as serde types that borrow from the input.
//!
//! One recursive [`Item`] covers every object that can stand in a file's list: a stored
//! transaction or error event, the event-details API's camelCase event, a legacy
//! `events-trace` transaction node, a `/trace/` span or issue item, and the legacy
//! `{"transactions", "orphan_errors"}` wrapper. Fields of all of them are optional here;
//! [`super::import`] decides what an item is and says which required field is missing. Ids and
//! timestamps are checked while deserializing, so their errors carry line, column and path.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Unexpected, Visitor};

use super::time::Ts;
pub(super) use crate::formats::json::Text;
use crate::formats::json::optional_span_id;
use crate::model::{IdParseError, SpanId, TraceId};

/// Any JSON value, typed for an attribute: scalars as themselves, arrays and maps as JSON text.
#[derive(Clone, PartialEq, Debug)]
pub(super) enum Value<'a> {
    /// Text.
    Str(Cow<'a, str>),
    /// A whole number that fits an i64.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// true / false.
    Bool(bool),
    /// null.
    Null,
    /// An array or object, as compact JSON text.
    Json(String),
}

impl<'de: 'a, 'a> Deserialize<'de> for Value<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = Value<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Value::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Value::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Value::Str(Cow::Owned(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Value::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Value::Float(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Value::Bool(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Value::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                Value::deserialize(d)
            }
            // Nested values are rare in span data; they are kept as their JSON text.
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                let value = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(Value::Json(value.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let value = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Value::Json(value.to_string()))
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// A JSON object's entries in file order (`data`, `additional_attributes`).
#[derive(Clone, PartialEq, Debug, Default)]
pub(super) struct Attrs<'a>(pub Vec<(Text<'a>, Value<'a>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Attrs<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AttrsVisitor)
    }
}

/// Reads an object's entries, in order; `null` is no entries.
struct AttrsVisitor;

impl<'de> Visitor<'de> for AttrsVisitor {
    type Value = Attrs<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(entry) = map.next_entry::<Text<'de>, Value<'de>>()? {
            out.push(entry);
        }
        Ok(Attrs(out))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Attrs::default())
    }
}

/// Tags in any of Sentry's spellings: `{"k": "v"}`, `[["k", "v"]]` or `[{"key": "k", "value": "v"}]`.
#[derive(Clone, PartialEq, Debug, Default)]
pub(super) struct Tags<'a>(pub Vec<(Text<'a>, Value<'a>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Tags<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TagsVisitor;
        impl<'de> Visitor<'de> for TagsVisitor {
            type Value = Tags<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("tags: an object, a list of [key, value] pairs or a list of {key, value} objects")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                AttrsVisitor.visit_map(map).map(|attrs| Tags(attrs.0))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(TagPair(key, value)) = seq.next_element()? {
                    out.push((key, value));
                }
                Ok(Tags(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Tags::default())
            }
        }
        deserializer.deserialize_any(TagsVisitor)
    }
}

/// One tag of a tag list: `["k", "v"]` or `{"key": "k", "value": "v"}`.
struct TagPair<'a>(Text<'a>, Value<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for TagPair<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairVisitor;
        impl<'de> Visitor<'de> for PairVisitor {
            type Value = TagPair<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a tag: [key, value] or {\"key\": .., \"value\": ..}")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let key: Text = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let value: Value = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
                if seq.next_element::<IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(3, &self));
                }
                Ok(TagPair(key, value))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let (mut key, mut value) = (None, Value::Null);
                while let Some(name) = map.next_key::<Text<'de>>()? {
                    match name.as_str() {
                        "key" => key = Some(map.next_value::<Text<'de>>()?),
                        "value" => value = map.next_value()?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let key = key.ok_or_else(|| de::Error::missing_field("key"))?;
                Ok(TagPair(key, value))
            }
        }
        deserializer.deserialize_any(PairVisitor)
    }
}

/// A span id: 1 to 16 hex digits (query APIs drop leading zeros; they are padded back).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct SpanIdText(pub SpanId);

impl<'de> Deserialize<'de> for SpanIdText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match ParentId::deserialize(deserializer)?.0 {
            Some(id) => Ok(SpanIdText(id)),
            None => Err(de::Error::invalid_value(Unexpected::Str("0000000000000000"), &SPAN_ID)),
        }
    }
}

const SPAN_ID: &str = "a 16-digit hex span id";

/// A parent span id: `null`, `""` and all zeros mean "no parent".
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(super) struct ParentId(pub Option<SpanId>);

impl<'de> Deserialize<'de> for ParentId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl<'de> Visitor<'de> for IdVisitor {
            type Value = ParentId;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(SPAN_ID)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ParentId, E> {
                span_id_from_str(v).map(ParentId)
            }
            fn visit_unit<E: de::Error>(self) -> Result<ParentId, E> {
                Ok(ParentId(None))
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

/// Hex text to a span id, `None` for "no id", or the error a deserializer reports.
fn span_id_from_str<E: de::Error>(v: &str) -> Result<Option<SpanId>, E> {
    optional_span_id(v).map_err(|_| E::invalid_value(Unexpected::Str(v), &SPAN_ID))
}

/// A trace id: 32 hex digits, dashes (UUID style) allowed; all zeros is "unknown" (0).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct TraceIdText(pub TraceId);

impl<'de> Deserialize<'de> for TraceIdText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl<'de> Visitor<'de> for IdVisitor {
            type Value = TraceIdText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a 32-digit hex trace id")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TraceIdText, E> {
                let parsed =
                    if v.contains('-') { TraceId::from_hex(&v.replace('-', "")) } else { TraceId::from_hex(v) };
                match parsed {
                    Ok(id) => Ok(TraceIdText(id)),
                    // All zeros: no trace id known (what the writer puts for such traces).
                    Err(IdParseError::Zero) => Ok(TraceIdText(TraceId(0))),
                    Err(_) => Err(E::invalid_value(Unexpected::Str(v), &self)),
                }
            }
        }
        deserializer.deserialize_str(IdVisitor)
    }
}

/// The span an error happened in: one id, or (performance issues) a list whose first counts.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(super) struct SpanRef(pub Option<SpanId>);

impl<'de> Deserialize<'de> for SpanRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RefVisitor;
        impl<'de> Visitor<'de> for RefVisitor {
            type Value = SpanRef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a 16-digit hex span id or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SpanRef, E> {
                span_id_from_str(v).map(SpanRef)
            }
            fn visit_unit<E: de::Error>(self) -> Result<SpanRef, E> {
                Ok(SpanRef(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SpanRef, A::Error> {
                let first: Option<ParentId> = seq.next_element()?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(SpanRef(first.and_then(|p| p.0)))
            }
        }
        deserializer.deserialize_any(RefVisitor)
    }
}

/// Anything that can stand in a file's list: see the module docs.
#[derive(Deserialize, Debug, Default)]
pub(super) struct Item<'a> {
    // Events (stored and event-details API).
    #[serde(rename = "type", borrow)]
    pub kind: Option<Text<'a>>,
    #[serde(borrow)]
    pub event_id: Option<Text<'a>>,
    #[serde(rename = "eventID", borrow)]
    pub event_id_camel: Option<Text<'a>>,
    #[serde(borrow)]
    pub transaction: Option<Text<'a>>,
    pub start_timestamp: Option<Ts>,
    #[serde(rename = "startTimestamp")]
    pub start_timestamp_camel: Option<Ts>,
    pub timestamp: Option<Ts>,
    #[serde(rename = "endTimestamp")]
    pub end_timestamp_camel: Option<Ts>,
    #[serde(borrow)]
    pub contexts: Option<Contexts<'a>>,
    #[serde(borrow)]
    pub spans: Option<Vec<SpanJson<'a>>>,
    #[serde(borrow)]
    pub entries: Option<Vec<Entry<'a>>>,
    #[serde(borrow)]
    pub tags: Option<Tags<'a>>,
    #[serde(borrow)]
    pub project_slug: Option<Text<'a>>,
    #[serde(rename = "projectSlug", borrow)]
    pub project_slug_camel: Option<Text<'a>>,
    #[serde(borrow)]
    pub project: Option<Value<'a>>,
    #[serde(borrow)]
    pub server_name: Option<Text<'a>>,
    #[serde(borrow)]
    pub environment: Option<Text<'a>>,
    #[serde(borrow)]
    pub release: Option<Value<'a>>,
    #[serde(borrow)]
    pub platform: Option<Text<'a>>,
    #[serde(borrow)]
    pub sdk: Option<Sdk<'a>>,
    #[serde(borrow)]
    pub transaction_info: Option<TransactionInfo<'a>>,
    #[serde(borrow)]
    pub measurements: Option<Measurements<'a>>,
    // Error events and issue nodes.
    #[serde(borrow)]
    pub title: Option<Text<'a>>,
    #[serde(borrow)]
    pub level: Option<Text<'a>>,
    #[serde(borrow)]
    pub message: Option<Value<'a>>,
    #[serde(borrow)]
    pub logentry: Option<LogEntry<'a>>,
    #[serde(borrow)]
    pub exception: Option<Exception<'a>>,
    #[serde(default)]
    pub span: SpanRef,
    // Trace endpoints.
    #[serde(borrow)]
    pub event_type: Option<Text<'a>>,
    pub trace_id: Option<TraceIdText>,
    pub span_id: Option<SpanIdText>,
    #[serde(default)]
    pub parent_span_id: ParentId,
    #[serde(rename = "transaction.op", borrow)]
    pub transaction_op: Option<Text<'a>>,
    #[serde(rename = "transaction.status", borrow)]
    pub transaction_status: Option<Text<'a>>,
    #[serde(rename = "transaction.duration")]
    pub transaction_duration: Option<f64>,
    #[serde(borrow)]
    pub op: Option<Text<'a>>,
    #[serde(borrow)]
    pub description: Option<Text<'a>>,
    #[serde(borrow)]
    pub name: Option<Text<'a>>,
    pub end_timestamp: Option<Ts>,
    pub duration: Option<f64>,
    #[serde(borrow)]
    pub additional_attributes: Option<Attrs<'a>>,
    #[serde(borrow)]
    pub children: Option<Vec<Item<'a>>>,
    #[serde(borrow)]
    pub errors: Option<Vec<Item<'a>>>,
    #[serde(borrow)]
    pub occurrences: Option<Vec<Item<'a>>>,
    #[serde(borrow)]
    pub performance_issues: Option<Vec<Item<'a>>>,
    #[serde(borrow)]
    pub transactions: Option<Vec<Item<'a>>>,
    #[serde(borrow)]
    pub orphan_errors: Option<Vec<Item<'a>>>,
}

/// `contexts`: the transaction's own span and the response it gave.
#[derive(Deserialize, Debug, Default)]
pub(super) struct Contexts<'a> {
    #[serde(borrow)]
    pub trace: Option<TraceContext<'a>>,
    pub response: Option<ResponseContext>,
}

/// `contexts.trace`: the root span of a transaction, or the span an error happened in.
#[derive(Deserialize, Debug, Default)]
pub(super) struct TraceContext<'a> {
    pub trace_id: Option<TraceIdText>,
    pub span_id: Option<SpanIdText>,
    #[serde(default)]
    pub parent_span_id: ParentId,
    #[serde(borrow)]
    pub op: Option<Text<'a>>,
    #[serde(borrow)]
    pub status: Option<Text<'a>>,
    #[serde(borrow)]
    pub description: Option<Text<'a>>,
    #[serde(borrow)]
    pub origin: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub data: Attrs<'a>,
}

/// `contexts.response`.
#[derive(Deserialize, Debug, Default)]
pub(super) struct ResponseContext {
    pub status_code: Option<i64>,
}

/// One of `spans[]`.
#[derive(Deserialize, Debug)]
pub(super) struct SpanJson<'a> {
    pub span_id: SpanIdText,
    /// Absent in some SDKs' events: the span is then in its transaction's trace.
    pub trace_id: Option<TraceIdText>,
    #[serde(default)]
    pub parent_span_id: ParentId,
    #[serde(borrow)]
    pub op: Option<Text<'a>>,
    #[serde(borrow)]
    pub description: Option<Text<'a>>,
    pub start_timestamp: Ts,
    pub timestamp: Option<Ts>,
    #[serde(borrow)]
    pub status: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub tags: Tags<'a>,
    #[serde(default, borrow)]
    pub data: Attrs<'a>,
    #[serde(borrow)]
    pub origin: Option<Text<'a>>,
}

/// One of the event-details API's `entries`; only `spans` entries (a list) are read.
#[derive(Deserialize, Debug)]
pub(super) struct Entry<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub data: EntryData<'a>,
}

/// An entry's `data`: the spans of a `spans` entry, nothing for other entries (objects).
#[derive(Debug, Default)]
pub(super) struct EntryData<'a>(pub Vec<SpanJson<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for EntryData<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DataVisitor;
        impl<'de> Visitor<'de> for DataVisitor {
            type Value = EntryData<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of spans or an entry object")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut spans = Vec::new();
                while let Some(span) = seq.next_element()? {
                    spans.push(span);
                }
                Ok(EntryData(spans))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                IgnoredAny::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(EntryData::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(EntryData::default())
            }
        }
        deserializer.deserialize_any(DataVisitor)
    }
}

/// `sdk`.
#[derive(Deserialize, Debug, Default)]
pub(super) struct Sdk<'a> {
    #[serde(borrow)]
    pub name: Option<Text<'a>>,
    #[serde(borrow)]
    pub version: Option<Text<'a>>,
}

/// `transaction_info`.
#[derive(Deserialize, Debug, Default)]
pub(super) struct TransactionInfo<'a> {
    #[serde(borrow)]
    pub source: Option<Text<'a>>,
}

/// `measurements`: `{"lcp": {"value": 100, "unit": "millisecond"}}` or (`/trace/`) plain numbers.
#[derive(Debug, Default)]
pub(super) struct Measurements<'a>(pub Vec<(Text<'a>, f64)>);

impl<'de: 'a, 'a> Deserialize<'de> for Measurements<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Measurement {
            Plain(f64),
            Object { value: f64 },
        }
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = Measurements<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of measurements")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((name, m)) = map.next_entry::<Text<'de>, Option<Measurement>>()? {
                    match m {
                        Some(Measurement::Plain(value)) | Some(Measurement::Object { value }) => {
                            out.push((name, value))
                        }
                        None => {}
                    }
                }
                Ok(Measurements(out))
            }
        }
        deserializer.deserialize_map(MapVisitor)
    }
}

/// `logentry`.
#[derive(Deserialize, Debug, Default)]
pub(super) struct LogEntry<'a> {
    #[serde(borrow)]
    pub formatted: Option<Text<'a>>,
    #[serde(borrow)]
    pub message: Option<Text<'a>>,
}

/// `exception`: the last value is the one raised.
#[derive(Deserialize, Debug, Default)]
pub(super) struct Exception<'a> {
    #[serde(default, borrow)]
    pub values: Vec<ExceptionValue<'a>>,
}

/// One exception of a chain.
#[derive(Deserialize, Debug, Default)]
pub(super) struct ExceptionValue<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Option<Text<'a>>,
    #[serde(borrow)]
    pub value: Option<Text<'a>>,
}
