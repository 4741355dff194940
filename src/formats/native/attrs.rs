//! Reading an object of attributes straight into the [`TraceBuilder`]: each key and value is
//! pushed as it is read, in file order, repeated keys kept.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::formats::json::Text;
use crate::model::{AttrValue, TraceBuilder};

/// Seed for an object of attributes: pushes them (the caller takes them with
/// [`TraceBuilder::attrs_since`]).
pub(super) struct Attrs<'b>(pub &'b mut TraceBuilder);

impl<'de> DeserializeSeed<'de> for Attrs<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Attrs<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of attributes")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        let b = self.0;
        while let Some(key) = map.next_key::<Text>()? {
            let key = b.intern(&key);
            let value = map.next_value_seed(Value(&mut *b))?;
            b.push_attr(key, value);
        }
        Ok(())
    }
}

const VALUE: &str = "a string, a number, true, false, or {\"float\": \"NaN\"} (or \"Infinity\", \"-Infinity\")";

/// Seed for an attribute's value, typed by how it is written; a string is interned.
struct Value<'b>(&'b mut TraceBuilder);

impl<'de> DeserializeSeed<'de> for Value<'_> {
    type Value = AttrValue;

    /// The value's JSON text is borrowed from the input (serde_json has checked it), then read
    /// here: a float must read back exactly, and serde_json's own float parsing (without its
    /// `float_roundtrip` feature, which would change every format's floats) may miss the last
    /// bit, while the standard library's parsing is exact. A string without escapes is the text
    /// between its quotes; only one with escapes is parsed again.
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<AttrValue, D::Error> {
        let b = self.0;
        let text = <&'de RawValue>::deserialize(d)?.get();
        let wrong = || de::Error::custom(format!("expected {VALUE}, found {text}"));
        match text.as_bytes().first() {
            Some(b'"') if !text.contains('\\') => Ok(AttrValue::Str(b.intern(&text[1..text.len() - 1]))),
            Some(b'"') => serde_json::from_str::<Text>(text).map(|t| AttrValue::Str(b.intern(&t))).map_err(|_| wrong()),
            Some(b't') => Ok(AttrValue::Bool(true)),
            Some(b'f') => Ok(AttrValue::Bool(false)),
            Some(b'{') => {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct NonFinite<'a> {
                    #[serde(borrow)]
                    float: Text<'a>,
                }
                let value = serde_json::from_str::<NonFinite>(text).map_err(|_| wrong())?;
                match &*value.float {
                    "NaN" => Ok(AttrValue::Float(f64::NAN)),
                    "Infinity" => Ok(AttrValue::Float(f64::INFINITY)),
                    "-Infinity" => Ok(AttrValue::Float(f64::NEG_INFINITY)),
                    _ => Err(wrong()),
                }
            }
            Some(b'-' | b'0'..=b'9') if text.contains(['.', 'e', 'E']) => {
                text.parse().map(AttrValue::Float).map_err(|_| wrong())
            }
            Some(b'-' | b'0'..=b'9') => text.parse().map(AttrValue::Int).map_err(|_| {
                de::Error::custom(format!(
                    "the integer {text} does not fit in 64 bits; write it as a float or a string"
                ))
            }),
            _ => Err(wrong()),
        }
    }
}
