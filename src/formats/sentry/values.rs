//! Readers for Sentry's attribute-like values that intern as they read: any JSON value
//! ([`ValSeed`]), objects of them (`data`, `additional_attributes`: [`AttrsSeed`]), tags in any
//! of Sentry's spellings ([`TagsSeed`]), `measurements` ([`MeasurementsSeed`]) and optional text
//! ([`OptStr`]). Their messages on bad input are those of the serde types they replaced, so an
//! error reads the same whatever the reader.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::schema::Text;
use crate::model::{Attr, AttrValue, StrId, TraceBuilder};

/// A JSON value as read: text, other JSON text (an array or object), a scalar, or null.
#[derive(Clone, Copy, Debug)]
pub(super) enum Val {
    /// A JSON string.
    Text(StrId),
    /// An array or object, as compact JSON text.
    Json(StrId),
    /// A number or boolean.
    Scalar(AttrValue),
    /// null.
    Null,
}

impl Val {
    /// The attribute value; `None` for null, which is skipped.
    pub fn attr(self) -> Option<AttrValue> {
        match self {
            Val::Text(s) | Val::Json(s) => Some(AttrValue::Str(s)),
            Val::Scalar(v) => Some(v),
            Val::Null => None,
        }
    }

    /// The text of a JSON string.
    pub fn text(self) -> Option<StrId> {
        match self {
            Val::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// Reads any JSON value, interning its text.
pub(super) struct ValSeed<'r>(pub &'r mut TraceBuilder);

impl<'de> DeserializeSeed<'de> for ValSeed<'_> {
    type Value = Val;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Val, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValSeed<'_> {
    type Value = Val;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Val, E> {
        Ok(Val::Text(self.0.intern(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Val, E> {
        Ok(Val::Scalar(AttrValue::Int(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Val, E> {
        Ok(Val::Scalar(i64::try_from(v).map_or(AttrValue::Float(v as f64), AttrValue::Int)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Val, E> {
        Ok(Val::Scalar(AttrValue::Float(v)))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Val, E> {
        Ok(Val::Scalar(AttrValue::Bool(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Val, E> {
        Ok(Val::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Val, E> {
        Ok(Val::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Val, D::Error> {
        d.deserialize_any(self)
    }
    // Nested values are rare in span data; they are kept as their JSON text.
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Val, A::Error> {
        let value = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Val::Json(self.0.intern(&value.to_string())))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Val, A::Error> {
        let value = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Val::Json(self.0.intern(&value.to_string())))
    }
}

/// Reads optional text (`null` is none), interned.
pub(super) struct OptStr<'r>(pub &'r mut TraceBuilder);

impl<'de> DeserializeSeed<'de> for OptStr<'_> {
    type Value = Option<StrId>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Option<StrId>, D::Error> {
        Ok(Option::<Text>::deserialize(de)?.map(|t| self.0.intern(&t)))
    }
}

/// Reads an object's entries (`null` is none) as attributes into `out`, in file order; null
/// values are skipped. `saw` is set when a key equals `watch`, whatever its value.
pub(super) struct AttrsSeed<'r> {
    pub b: &'r mut TraceBuilder,
    pub out: &'r mut Vec<Attr>,
    pub watch: &'static str,
    pub saw: &'r mut bool,
}

impl<'de> DeserializeSeed<'de> for AttrsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AttrsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Text>()? {
            *self.saw |= key.as_str() == self.watch;
            let value = map.next_value_seed(ValSeed(self.b))?;
            push(self.b, self.out, &key, value);
        }
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

fn push(b: &mut TraceBuilder, out: &mut Vec<Attr>, key: &str, value: Val) {
    if let Some(value) = value.attr() {
        out.push(Attr { key: b.intern(key), value });
    }
}

/// Reads tags in any of Sentry's spellings (`{"k": "v"}`, `[["k", "v"]]`, `[{"key": "k",
/// "value": "v"}]`; `null` is none) as attributes into `out`; `server_name` is set to the
/// first `server_name` tag whose value is text.
pub(super) struct TagsSeed<'r> {
    pub b: &'r mut TraceBuilder,
    pub out: &'r mut Vec<Attr>,
    pub server_name: &'r mut Option<StrId>,
}

impl<'de> DeserializeSeed<'de> for TagsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl TagsSeed<'_> {
    fn tag(&mut self, key: &str, value: Val) {
        if key == "server_name" && self.server_name.is_none() {
            *self.server_name = value.text();
        }
        push(self.b, self.out, key, value);
    }
}

impl<'de> Visitor<'de> for TagsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("tags: an object, a list of [key, value] pairs or a list of {key, value} objects")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Text>()? {
            let value = map.next_value_seed(ValSeed(self.b))?;
            self.tag(&key, value);
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some((key, value)) = seq.next_element_seed(PairSeed(self.b))? {
            self.tag(&key, value);
        }
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// One tag of a tag list: `["k", "v"]` or `{"key": "k", "value": "v"}`.
struct PairSeed<'r>(&'r mut TraceBuilder);

impl<'de> DeserializeSeed<'de> for PairSeed<'_> {
    type Value = (Text<'de>, Val);

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PairSeed<'_> {
    type Value = (Text<'de>, Val);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a tag: [key, value] or {\"key\": .., \"value\": ..}")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let key: Text = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let value = match seq.next_element_seed(ValSeed(&mut *self.0))? {
            Some(value) => value,
            None => return Err(de::Error::invalid_length(1, &self)),
        };
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(3, &self));
        }
        Ok((key, value))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut key, mut value) = (None, Val::Null);
        while let Some(name) = map.next_key::<Text<'de>>()? {
            match name.as_str() {
                "key" => key = Some(map.next_value::<Text<'de>>()?),
                "value" => value = map.next_value_seed(ValSeed(&mut *self.0))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let key = key.ok_or_else(|| de::Error::missing_field("key"))?;
        Ok((key, value))
    }
}

/// Reads `measurements` (`{"lcp": {"value": 100, "unit": "millisecond"}}` or, from `/trace/`,
/// plain numbers) as `measurements.<name>` float attributes into `out`.
pub(super) struct MeasurementsSeed<'r> {
    pub b: &'r mut TraceBuilder,
    pub out: &'r mut Vec<Attr>,
}

impl<'de> DeserializeSeed<'de> for MeasurementsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MeasurementsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of measurements")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(name) = map.next_key::<Text>()? {
            let Some(value) = map.next_value_seed(Measurement)? else { continue };
            let key = if name.starts_with("measurements.") {
                self.b.intern(&name)
            } else {
                self.b.intern(&format!("measurements.{}", name.as_str()))
            };
            self.out.push(Attr { key, value: AttrValue::Float(value) });
        }
        Ok(())
    }
}

/// One measurement: `null` (none), a number or `{"value": number, ...}`. Anything else is read
/// whole, then refused the way serde refused it.
struct Measurement;

const NO_MEASUREMENT: &str = "data did not match any variant of untagged enum Measurement";

impl<'de> DeserializeSeed<'de> for Measurement {
    type Value = Option<f64>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Option<f64>, D::Error> {
        de.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Measurement {
    type Value = Option<f64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a measurement")
    }
    fn visit_none<E: de::Error>(self) -> Result<Option<f64>, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<f64>, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<Option<f64>, D::Error> {
        match (Number { measurement: true }).deserialize(de)? {
            Some(value) => Ok(Some(value)),
            None => Err(de::Error::custom(NO_MEASUREMENT)),
        }
    }
}

/// Any JSON value, read whole: the number it is or (`measurement`) holds in its `"value"`;
/// `None` otherwise.
struct Number {
    measurement: bool,
}

impl<'de> DeserializeSeed<'de> for Number {
    type Value = Option<f64>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Option<f64>, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Number {
    type Value = Option<f64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<f64>, E> {
        Ok(Some(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<f64>, E> {
        Ok(Some(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<f64>, E> {
        Ok(Some(v))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Option<f64>, E> {
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<f64>, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<f64>, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<f64>, A::Error> {
        IgnoredAny::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(None)
    }
    /// `{"value": number, ...}` (a second `"value"` is refused, as serde did); any other object is no number.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<f64>, A::Error> {
        let (mut value, mut twice) = (None, false);
        while let Some(key) = map.next_key::<Text>()? {
            if self.measurement && key.as_str() == "value" {
                twice |= value.is_some();
                value = Some(map.next_value_seed(Number { measurement: false })?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(value.flatten().filter(|_| !twice))
    }
}
