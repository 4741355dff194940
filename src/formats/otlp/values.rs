//! OTLP attribute values (`AnyValue`): an object with one key naming the type. Scalars become
//! typed [`AttrValue`]s with their text interned as it is read; arrays and key-value lists,
//! which the model keeps as text, become plain JSON (`["a",true]`, `{"k":1.5}`).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use super::keys::{Key, KeySeed, keys};
use super::scalars::Nullable;
use crate::model::{AttrValue, StrId, TraceBuilder};

keys! {
    /// The keys of an `AnyValue`, in OTLP's camelCase or protobuf's snake_case.
    ValueKey {
        StringValue = [b"stringValue", b"string_value"],
        IntValue = [b"intValue", b"int_value"],
        DoubleValue = [b"doubleValue", b"double_value"],
        BoolValue = [b"boolValue", b"bool_value"],
        ArrayValue = [b"arrayValue", b"array_value"],
        KvlistValue = [b"kvlistValue", b"kvlist_value"],
        BytesValue = [b"bytesValue", b"bytes_value"],
    }
}

keys! {
    /// The keys of a `KeyValue`.
    PairKey {
        Key = [b"key"],
        Value = [b"value"],
    }
}

/// The string side of an import: the builder that interns, and how to read keys.
pub(super) struct Pool {
    /// Where strings are interned (and, for the reader, spans pushed).
    pub(super) builder: TraceBuilder,
    /// Whether keys are read as strings, for serde_path_to_error (see [`super::keys`]).
    pub(super) keys_as_str: bool,
    /// Recently interned strings, by a cheap hash of their text: most strings in a trace file
    /// (attribute keys, methods, services, statements) repeat, and this small table stays in
    /// cache where the interner's big one does not.
    recent: Box<[StrId; RECENT]>,
}

const RECENT: usize = 4096;

impl Pool {
    /// A pool around an empty builder.
    pub(super) fn new(builder: TraceBuilder, keys_as_str: bool) -> Self {
        Pool { builder, keys_as_str, recent: Box::new([StrId::EMPTY; RECENT]) }
    }

    /// Interns `text`, looking in the recent strings first.
    pub(super) fn intern(&mut self, text: &str) -> StrId {
        let bytes = text.as_bytes();
        let word =
            |at: usize| bytes.get(at..at + 8).map_or(0, |w| u64::from_le_bytes(w.try_into().unwrap_or_default()));
        let mix = (bytes.len() as u64 ^ word(0) ^ word(bytes.len().saturating_sub(8)).rotate_left(29))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let slot = (mix >> 52) as usize % RECENT;
        let id = self.recent[slot];
        if self.builder.resolve(id) == text {
            return id;
        }
        let id = self.builder.intern(text);
        self.recent[slot] = id;
        id
    }

    /// A seed for the next key of an object of kind `K`.
    pub(super) fn key<K: Key>(&self) -> KeySeed<K> {
        KeySeed::new(self.keys_as_str)
    }
}

/// Deserializes a string (escaped or not) and interns it; `null` is the empty string.
pub(super) struct InternSeed<'b>(pub &'b mut Pool);

impl<'de> DeserializeSeed<'de> for InternSeed<'_> {
    type Value = StrId;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<StrId, D::Error> {
        d.deserialize_option(self)
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

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<StrId, D::Error> {
        d.deserialize_str(self)
    }

    fn visit_none<E: de::Error>(self) -> Result<StrId, E> {
        Ok(StrId::EMPTY)
    }
}

/// Deserializes one `{"key": ..., "value": AnyValue}` into an interned key and its value.
pub(super) struct KeyValueSeed<'b>(pub &'b mut Pool);

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
        while let Some(field) = map.next_key_seed(self.0.key::<PairKey>())? {
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
struct AnyValueSeed<'b>(&'b mut Pool);

impl<'de> DeserializeSeed<'de> for AnyValueSeed<'_> {
    type Value = AttrValue;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<AttrValue, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for AnyValueSeed<'_> {
    type Value = AttrValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute value like {\"stringValue\": \"...\"}")
    }

    /// A member that is `null` is not set: the value stays what it was.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AttrValue, A::Error> {
        let mut value = AttrValue::Str(StrId::EMPTY);
        while let Some(key) = map.next_key_seed(self.0.key::<ValueKey>())? {
            let set = match key {
                ValueKey::StringValue | ValueKey::BytesValue => {
                    map.next_value_seed(Nullable(InternSeed(&mut *self.0)))?.map(AttrValue::Str)
                }
                ValueKey::BoolValue => map.next_value::<Option<bool>>()?.map(AttrValue::Bool),
                ValueKey::IntValue => map.next_value_seed(Nullable(IntSeed))?.map(AttrValue::Int),
                ValueKey::DoubleValue => map.next_value_seed(Nullable(FloatSeed))?.map(AttrValue::Float),
                ValueKey::ArrayValue => map
                    .next_value::<Option<PlainList>>()?
                    .map(|list| AttrValue::Str(self.0.intern(&list.0.to_string()))),
                ValueKey::KvlistValue => {
                    map.next_value::<Option<PlainMap>>()?.map(|kv| AttrValue::Str(self.0.intern(&kv.0.to_string())))
                }
                ValueKey::Other => map.next_value::<IgnoredAny>().map(|_| None)?,
            };
            value = set.unwrap_or(value);
        }
        Ok(value)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<AttrValue, D::Error> {
        d.deserialize_map(self)
    }

    fn visit_none<E: de::Error>(self) -> Result<AttrValue, E> {
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
        d.deserialize_option(PlainVisitor)
    }
}

struct PlainVisitor;

impl<'de> Visitor<'de> for PlainVisitor {
    type Value = Plain;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute value like {\"stringValue\": \"...\"}")
    }

    /// A member that is `null` is not set, as for [`AnyValueSeed`].
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Plain, A::Error> {
        let mut value = Value::Null;
        // Nested values are rare: read keys as strings, which also gives errors their path.
        while let Some(key) = map.next_key_seed(KeySeed::<ValueKey>::new(true))? {
            let set = match key {
                ValueKey::StringValue | ValueKey::BytesValue => map.next_value::<Option<String>>()?.map(Value::String),
                ValueKey::BoolValue => map.next_value::<Option<bool>>()?.map(Value::Bool),
                ValueKey::IntValue => map.next_value_seed(Nullable(IntSeed))?.map(Value::from),
                ValueKey::DoubleValue => map.next_value_seed(Nullable(FloatSeed))?.map(float_json),
                ValueKey::ArrayValue => map.next_value::<Option<PlainList>>()?.map(|list| list.0),
                ValueKey::KvlistValue => map.next_value::<Option<PlainMap>>()?.map(|kv| kv.0),
                ValueKey::Other => map.next_value::<IgnoredAny>().map(|_| None)?,
            };
            value = set.unwrap_or(value);
        }
        Ok(Plain(value))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Plain, D::Error> {
        d.deserialize_map(self)
    }

    fn visit_none<E: de::Error>(self) -> Result<Plain, E> {
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

/// A `KeyValue` as plain JSON (a `null` key is the empty string, as proto3 has it).
#[derive(Deserialize)]
pub(super) struct PlainPair {
    key: Option<String>,
    #[serde(default)]
    value: Option<Plain>,
}

/// Plain JSON pairs as a JSON object.
pub(super) fn object_of(pairs: Vec<PlainPair>) -> Value {
    Value::Object(
        pairs.into_iter().map(|p| (p.key.unwrap_or_default(), p.value.map_or(Value::Null, |v| v.0))).collect(),
    )
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
