//! Sentry's ids as serde types (checked while deserializing, so their errors carry line,
//! column and path), and any JSON value as an attribute value ([`Value`], for span v2 items).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Unexpected, Visitor};

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
