//! Reading a struct's fields into a reader's state, the way serde's derived readers did (so
//! that errors read the same): from an object's entries, unknown keys skipped and a key given
//! twice refused, or from an array's elements in field order (a leniency of serde's that a
//! file may rely on), a missing element refused unless its field had a default.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::schema::Text;
use crate::formats::json;

/// Where a struct's field values come from.
pub(super) trait Values<'de> {
    type Error: de::Error;
    /// The next value, read by `seed`; `None` when an array of values ended.
    fn value<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, Self::Error>;

    /// The next value of a type that reads itself.
    fn plain<T: serde::Deserialize<'de>>(&mut self) -> Result<Option<T>, Self::Error> {
        self.value(PhantomData::<T>)
    }
}

struct FromMap<'a, A>(&'a mut A);

impl<'de, A: MapAccess<'de>> Values<'de> for FromMap<'_, A> {
    type Error = A::Error;
    fn value<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, A::Error> {
        self.0.next_value_seed(seed).map(Some)
    }
}

struct FromSeq<'a, A>(&'a mut A);

impl<'de, A: SeqAccess<'de>> Values<'de> for FromSeq<'_, A> {
    type Error = A::Error;
    fn value<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, A::Error> {
        self.0.next_element_seed(seed)
    }
}

/// A struct read field by field.
pub(super) trait Fields<'de> {
    /// `struct Name`, as serde's messages say.
    fn name(&self) -> &'static str;
    /// The fields' names, in declaration order.
    fn fields(&self) -> &'static [&'static str];
    /// The fields with a default (bit `i` for field `i`): an array may end before them.
    fn defaults(&self) -> u64 {
        0
    }
    /// Reads field `i` from `values`; `false` when an array of values ended before it.
    fn field<V: Values<'de>>(&mut self, i: usize, values: &mut V) -> Result<bool, V::Error>;
    /// Once an object's entries are read: refuses it if a required field was missing.
    fn check<E: de::Error>(&self) -> Result<(), E> {
        Ok(())
    }
}

/// The value of a field read by [`Fields::field`], or `false` from it when the values ended.
macro_rules! got {
    ($read:expr) => {
        match $read? {
            Some(value) => value,
            None => return Ok(false),
        }
    };
}
pub(super) use got;

/// Reads a struct (`deserialize_struct`): its fields into `f`.
pub(super) fn read<'de, D: Deserializer<'de>, F: Fields<'de>>(de: D, f: &mut F) -> Result<(), D::Error> {
    let (name, fields) = (f.name(), f.fields());
    de.deserialize_struct(name.trim_start_matches("struct "), fields, StructVisitor(f))
}

struct StructVisitor<'f, F>(&'f mut F);

impl<'de, F: Fields<'de>> Visitor<'de> for StructVisitor<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.0.name())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let fields = self.0.fields();
        let mut seen = 0u64;
        while let Some(key) = map.next_key::<Text>()? {
            let Some(i) = fields.iter().position(|f| *f == key.as_str()) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            json::first_time(&mut seen, i, fields[i])?;
            self.0.field(i, &mut FromMap(&mut map))?;
        }
        self.0.check()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let fields = self.0.fields();
        for i in 0..fields.len() {
            if !self.0.field(i, &mut FromSeq(&mut seq))? && self.0.defaults() & (1 << i) == 0 {
                let expected = format!("{} with {} elements", self.0.name(), fields.len());
                return Err(de::Error::invalid_length(i, &expected.as_str()));
            }
        }
        Ok(())
    }
}

/// `null` is `None`; anything else is read by the inner seed.
pub(super) struct Optional<S>(pub S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Optional<S> {
    type Value = Option<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for Optional<S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("option")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(de).map(Some)
    }
}

/// Reads a struct into `F`, and gives `F` back.
pub(super) struct Struct<F>(pub F);

impl<'de, F: Fields<'de>> DeserializeSeed<'de> for Struct<F> {
    type Value = F;

    fn deserialize<D: Deserializer<'de>>(mut self, de: D) -> Result<F, D::Error> {
        read(de, &mut self.0)?;
        Ok(self.0)
    }
}
