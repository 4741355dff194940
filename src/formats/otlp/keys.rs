//! Object keys, matched as raw bytes.
//!
//! Most of an OTLP file's strings are keys. serde_json checks every string it hands out as
//! `&str` for valid UTF-8; keys only need comparing, so the fast pass asks for bytes instead.
//! serde_path_to_error only records keys it sees as strings, so the pass that locates an
//! error (after the fast pass failed) asks for strings, and its paths name every key.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, Visitor};

/// The keys of one kind of OTLP object. Unknown keys are `OTHER` (and skipped).
pub(super) trait Key: Copy + 'static {
    /// Every accepted spelling (camelCase, snake_case, legacy names) and its key.
    const NAMES: &'static [(&'static [u8], Self)];
    /// Any other key.
    const OTHER: Self;
}

/// Declares an enum of keys with their spellings, plus `Other`.
macro_rules! keys {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = [$($text:literal),+]),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub(super) enum $name {
            $($variant,)*
            Other,
        }

        impl $crate::formats::otlp::keys::Key for $name {
            const NAMES: &'static [(&'static [u8], Self)] = &[$($(($text, $name::$variant),)+)*];
            const OTHER: Self = $name::Other;
        }
    };
}
pub(super) use keys;

/// Reads a key of kind `K`: as bytes when `as_str` is false (fast), as a string otherwise
/// (so that serde_path_to_error can record it).
pub(super) struct KeySeed<K> {
    as_str: bool,
    kind: PhantomData<K>,
}

impl<K> KeySeed<K> {
    /// A seed; `as_str` is whether the key must be read as a string.
    pub(super) fn new(as_str: bool) -> Self {
        KeySeed { as_str, kind: PhantomData }
    }
}

impl<'de, K: Key> DeserializeSeed<'de> for KeySeed<K> {
    type Value = K;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<K, D::Error> {
        if self.as_str { d.deserialize_str(self) } else { d.deserialize_bytes(self) }
    }
}

impl<'de, K: Key> Visitor<'de> for KeySeed<K> {
    type Value = K;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_bytes<E: de::Error>(self, key: &[u8]) -> Result<K, E> {
        Ok(K::NAMES.iter().find(|(name, _)| *name == key).map_or(K::OTHER, |&(_, k)| k))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<K, E> {
        self.visit_bytes(key.as_bytes())
    }
}
