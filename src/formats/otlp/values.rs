//! OTLP attribute values (`AnyValue`): an object with one key naming the type. Scalars become
//! typed [`AttrValue`]s with their text interned as it is read; arrays and key-value lists,
//! which the model keeps as text, become plain JSON (`["a",true]`, `{"k":1.5}`).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use crate::model::{AttrValue, StrId, TraceBuilder};

/// The keys of an `AnyValue`, in OTLP's camelCase or protobuf's snake_case.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum ValueKey {
    #[serde(alias = "string_value")]
    StringValue,
    #[serde(alias = "bool_value")]
    BoolValue,
    #[serde(alias = "int_value")]
    IntValue,
    #[serde(alias = "double_value")]
    DoubleValue,
    #[serde(alias = "array_value")]
    ArrayValue,
    #[serde(alias = "kvlist_value")]
    KvlistValue,
    #[serde(alias = "bytes_value")]
    BytesValue,
    #[serde(other)]
    Other,
}

/// The keys of a `KeyValue`.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum PairKey {
    Key,
    Value,
    #[serde(other)]
    Other,
}

/// Deserializes a string (escaped or not) and interns it; `null` is the empty string.
pub(super) struct InternSeed<'b>(pub &'b mut TraceBuilder);

impl<'de> DeserializeSeed<'de> for InternSeed<'_> {
    type Value = StrId;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<StrId, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for InternSeed<'_> {
    type Value = StrId;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<StrId, E> {
        Ok(self.0.intern(text))
    }

    fn visit_unit<E: de::Error>(self) -> Result<StrId, E> {
        Ok(StrId::EMPTY)
    }
}

/// Deserializes one `{"key": ..., "value": AnyValue}` into an interned key and its value.
pub(super) struct KeyValueSeed<'b>(pub &'b mut TraceBuilder);

impl<'de> DeserializeSeed<'de> for KeyValueSeed<'_> {
    type Value = (StrId, AttrValue);

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for KeyValueSeed<'_> {
    type Value = (StrId, AttrValue);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute: {\"key\": ..., \"value\": {...}}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut key, mut value) = (None, AttrValue::Str(StrId::EMPTY));
        while let Some(field) = map.next_key::<PairKey>()? {
            match field {
                PairKey::Key => key = Some(map.next_value_seed(InternSeed(&mut *self.0))?),
                PairKey::Value => value = map.next_value_seed(AnyValueSeed(&mut *self.0))?,
                PairKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let key = key.ok_or_else(|| de::Error::missing_field("key"))?;
        Ok((key, value))
    }
}

/// Deserializes an `AnyValue` into an attribute value; `{}` and `null` are the empty string.
struct AnyValueSeed<'b>(&'b mut TraceBuilder);

impl<'de> DeserializeSeed<'de> for AnyValueSeed<'_> {
    type Value = AttrValue;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<AttrValue, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for AnyValueSeed<'_> {
    type Value = AttrValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute value like {\"stringValue\": \"...\"}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AttrValue, A::Error> {
        let mut value = AttrValue::Str(StrId::EMPTY);
        while let Some(key) = map.next_key::<ValueKey>()? {
            value = match key {
                ValueKey::StringValue | ValueKey::BytesValue => {
                    AttrValue::Str(map.next_value_seed(InternSeed(&mut *self.0))?)
                }
                ValueKey::BoolValue => AttrValue::Bool(map.next_value()?),
                ValueKey::IntValue => AttrValue::Int(map.next_value_seed(IntSeed)?),
                ValueKey::DoubleValue => AttrValue::Float(map.next_value_seed(FloatSeed)?),
                ValueKey::ArrayValue => AttrValue::Str(self.0.intern(&map.next_value::<PlainList>()?.0.to_string())),
                ValueKey::KvlistValue => AttrValue::Str(self.0.intern(&map.next_value::<PlainMap>()?.0.to_string())),
                ValueKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
        }
        Ok(value)
    }

    fn visit_unit<E: de::Error>(self) -> Result<AttrValue, E> {
        Ok(AttrValue::Str(StrId::EMPTY))
    }
}

/// proto3 JSON's 64-bit integer: a decimal string, or a number.
struct IntSeed;

impl<'de> DeserializeSeed<'de> for IntSeed {
    type Value = i64;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<i64, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for IntSeed {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a 64-bit integer (a decimal string or a number)")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<i64, E> {
        text.parse().map_err(|_| E::invalid_value(de::Unexpected::Str(text), &self))
    }
}

/// proto3 JSON's double: a number, or `"NaN"`, `"Infinity"`, `"-Infinity"` (or a number in a string).
struct FloatSeed;

impl<'de> DeserializeSeed<'de> for FloatSeed {
    type Value = f64;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<f64, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FloatSeed {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, \"NaN\", \"Infinity\" or \"-Infinity\"")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<f64, E> {
        match text {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            _ => text.parse().map_err(|_| E::invalid_value(de::Unexpected::Str(text), &self)),
        }
    }
}

/// An `AnyValue` as plain JSON (for values nested in arrays and lists, and link attributes).
pub(super) struct Plain(pub Value);

impl<'de> Deserialize<'de> for Plain {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(PlainVisitor)
    }
}

struct PlainVisitor;

impl<'de> Visitor<'de> for PlainVisitor {
    type Value = Plain;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute value like {\"stringValue\": \"...\"}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Plain, A::Error> {
        let mut value = Value::Null;
        while let Some(key) = map.next_key::<ValueKey>()? {
            value = match key {
                ValueKey::StringValue | ValueKey::BytesValue => Value::String(map.next_value()?),
                ValueKey::BoolValue => Value::Bool(map.next_value()?),
                ValueKey::IntValue => Value::from(map.next_value_seed(IntSeed)?),
                ValueKey::DoubleValue => float_json(map.next_value_seed(FloatSeed)?),
                ValueKey::ArrayValue => map.next_value::<PlainList>()?.0,
                ValueKey::KvlistValue => map.next_value::<PlainMap>()?.0,
                ValueKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
        }
        Ok(Plain(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Plain, E> {
        Ok(Plain(Value::Null))
    }
}

/// A float as JSON; JSON has no NaN or infinities, so those stay as proto3 spells them.
fn float_json(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or_else(|| Value::String(proto_float_text(v).to_owned()), Value::Number)
}

/// proto3 JSON's text for a float JSON numbers cannot hold (NaN and the infinities).
pub(super) fn proto_float_text(v: f64) -> &'static str {
    if v.is_nan() {
        "NaN"
    } else if v > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

/// `arrayValue`: `{"values": [AnyValue]}` as a JSON array.
struct PlainList(Value);

impl<'de> Deserialize<'de> for PlainList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct List {
            #[serde(default)]
            values: Option<Vec<Plain>>,
        }
        let list = List::deserialize(d)?;
        Ok(PlainList(Value::Array(list.values.unwrap_or_default().into_iter().map(|p| p.0).collect())))
    }
}

/// `kvlistValue`: `{"values": [KeyValue]}` as a JSON object.
struct PlainMap(Value);

/// A `KeyValue` as plain JSON.
#[derive(Deserialize)]
pub(super) struct PlainPair {
    key: String,
    #[serde(default)]
    value: Option<Plain>,
}

/// Plain JSON pairs as a JSON object.
pub(super) fn object_of(pairs: Vec<PlainPair>) -> Value {
    Value::Object(pairs.into_iter().map(|p| (p.key, p.value.map_or(Value::Null, |v| v.0))).collect())
}

impl<'de> Deserialize<'de> for PlainMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct List {
            #[serde(default)]
            values: Option<Vec<PlainPair>>,
        }
        let list = List::deserialize(d)?;
        Ok(PlainMap(object_of(list.values.unwrap_or_default())))
    }
}
