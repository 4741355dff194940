//! OTLP's scalar fields: ids (hex or base64), nanosecond timestamps (decimal strings or
//! numbers), span kinds and status codes (integers or enum names). Each is a small
//! [`DeserializeSeed`] that turns the JSON token straight into an integer, without allocating,
//! and says what it expected when the token is wrong.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, Unexpected, Visitor};

use crate::model::{IdForm, Nanos, SpanId, SpanKind, Status, TraceId};

/// Which id a field holds; decides the accepted lengths and the words of errors.
#[derive(Clone, Copy)]
pub(super) enum IdKind {
    /// A 16-byte trace id: 32 hex digits or 24 base64 characters.
    Trace,
    /// An 8-byte span id: 16 hex digits or 12 base64 characters.
    Span,
}

impl IdKind {
    fn bytes(self) -> usize {
        match self {
            IdKind::Trace => 16,
            IdKind::Span => 8,
        }
    }

    fn what(self) -> &'static str {
        match self {
            IdKind::Trace => "a trace id of 32 hex digits (or 24 base64 characters)",
            IdKind::Span => "a span id of 16 hex digits (or 12 base64 characters)",
        }
    }
}

/// Reads an id's text: hex of exactly twice the id's byte length (any case), or standard
/// base64 (`+/`, or URL-safe `-_`) of the id's bytes, which protobuf's own JSON printers
/// write. `Ok(None)` for an empty or all-zero id, which OTLP uses for "none".
pub(super) fn parse_id(text: &[u8], kind: IdKind) -> Result<Option<u128>, String> {
    let value = if text.len() == 2 * kind.bytes() {
        hex_value(text)
    } else if text.len() == kind.bytes().div_ceil(3) * 4 {
        base64_value(text, kind.bytes())
    } else if text.is_empty() {
        return Ok(None);
    } else {
        None
    };
    match value {
        Some(0) => Ok(None),
        Some(v) => Ok(Some(v)),
        None => Err(format!("expected {}, found {:?}", kind.what(), String::from_utf8_lossy(text))),
    }
}

/// Hex digit values; 0x80 marks bytes that are not hex digits.
const HEX: [u8; 256] = {
    let mut table = [0x80u8; 256];
    let mut c = 0;
    while c < 256 {
        table[c] = match c as u8 {
            b @ b'0'..=b'9' => b - b'0',
            b @ b'a'..=b'f' => b - b'a' + 10,
            b @ b'A'..=b'F' => b - b'A' + 10,
            _ => 0x80,
        };
        c += 1;
    }
    table
};

/// The value of up to 32 hex digits, any case; `None` if any byte is not a hex digit.
fn hex_value(text: &[u8]) -> Option<u128> {
    // Two 64-bit halves: cheaper than shifting a u128 per digit.
    let half = |digits: &[u8]| {
        digits.iter().fold((0u64, 0u8), |(acc, bad), &c| {
            let d = HEX[c as usize];
            (acc << 4 | u64::from(d & 0x0f), bad | d)
        })
    };
    let split = text.len().saturating_sub(16);
    let (high, bad_high) = half(&text[..split]);
    let (low, bad_low) = half(&text[split..]);
    ((bad_high | bad_low) & 0x80 == 0).then_some(u128::from(high) << 64 | u128::from(low))
}

fn base64_digit(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

/// Decodes padded base64 of exactly `len` (at most 16) bytes, big-endian, into an integer.
fn base64_value(text: &[u8], len: usize) -> Option<u128> {
    let padding = text.iter().rev().take_while(|&&c| c == b'=').count();
    let digits = &text[..text.len() - padding];
    if padding != (3 - len % 3) % 3 {
        return None;
    }
    let mut bits: u128 = 0;
    let mut carried = 0u32;
    let mut out = 0u128;
    for &c in digits {
        bits = bits << 6 | u128::from(base64_digit(c)?);
        carried += 6;
        if carried >= 8 {
            carried -= 8;
            out = out << 8 | (bits >> carried) & 0xff;
            bits &= (1 << carried) - 1;
        }
    }
    // Canonical base64 leaves the unused low bits of the last digit zero.
    (bits == 0).then_some(out)
}

/// Base64 of an id's big-endian bytes, as protobuf's JSON printers write it.
#[cfg(test)]
pub(super) fn base64_of(value: u128, len: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = &value.to_be_bytes()[16 - len..];
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// proto3 JSON lets any field be written `null`, meaning the field is not set (protobuf's
/// own printers leave such fields out; serde-based encoders, like the prost types the receiver
/// re-encodes protobuf with, write `null`). Wraps a seed: `null` reads as `None`, anything else
/// goes to the seed, whose errors keep their place.
pub(super) struct Nullable<S>(pub S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Nullable<S> {
    type Value = Option<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for Nullable<S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(d).map(Some)
    }
}

/// Deserializes a trace id; an empty or all-zero id is an error.
pub(super) struct TraceIdSeed;

/// Deserializes a span id. An empty or all-zero id is an error when `required` (a span's
/// own id), else `Ok(None)` (a root's parent).
pub(super) struct SpanIdSeed {
    /// Whether the id must be present.
    pub required: bool,
}

/// An id as read: its value, and its text when that was neither hex nor base64 (kept as a
/// name: see [`IdForm::Text`]).
pub(super) struct ReadId<T> {
    /// The id.
    pub value: T,
    /// The text, when it was a name.
    pub text: Option<String>,
}

struct IdVisitor(IdKind);

impl<'de> Visitor<'de> for IdVisitor {
    type Value = Option<(u128, Option<String>)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.0.what())
    }

    fn visit_bytes<E: de::Error>(self, text: &[u8]) -> Result<Self::Value, E> {
        let strict = match parse_id(text, self.0) {
            Ok(value) => return Ok(value.map(|v| (v, None))),
            Err(e) => e,
        };
        // Neither hex of the id's length nor base64: an id written as a name (`span1234567890ab`).
        let named = std::str::from_utf8(text).ok().and_then(|t| match self.0 {
            IdKind::Trace => TraceId::from_text(t).ok().map(|(id, form)| (id.0, form, t)),
            IdKind::Span => SpanId::from_text(t).ok().map(|(id, form)| (u128::from(id.get()), form, t)),
        });
        match named {
            Some((value, form, t)) => Ok(Some((value, (form == IdForm::Text).then(|| t.to_owned())))),
            None => Err(E::custom(strict)),
        }
    }
}

impl<'de> DeserializeSeed<'de> for TraceIdSeed {
    type Value = ReadId<TraceId>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        match d.deserialize_bytes(IdVisitor(IdKind::Trace))? {
            Some((v, text)) => Ok(ReadId { value: TraceId(v), text }),
            None => Err(de::Error::custom("the trace id is empty or all zeros, which OTLP forbids")),
        }
    }
}

impl<'de> DeserializeSeed<'de> for SpanIdSeed {
    type Value = Option<ReadId<SpanId>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let read = d.deserialize_bytes(IdVisitor(IdKind::Span))?;
        match read.and_then(|(v, text)| SpanId::new(v as u64).map(|value| ReadId { value, text })) {
            None if self.required => Err(de::Error::custom("the span id is empty or all zeros, which OTLP forbids")),
            id => Ok(id),
        }
    }
}

/// Deserializes nanoseconds since the epoch from a decimal string (proto3's form of 64-bit
/// integers) or a JSON integer, reading the digits straight into an `i64`.
pub(super) struct NanosSeed;

const NANOS: &str = "nanoseconds since the Unix epoch as a string of decimal digits";

struct NanosVisitor;

/// A time too large for 64-bit nanoseconds.
fn past_2262<E: de::Error>(nanos: impl fmt::Display) -> E {
    E::custom(format!("{nanos} nanoseconds is past the year 2262, the last a 64-bit time can hold"))
}

impl<'de> Visitor<'de> for NanosVisitor {
    type Value = Nanos;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(NANOS)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Nanos, E> {
        Nanos::try_from(v).map_err(|_| past_2262(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Nanos, E> {
        Err(E::custom(format!("expected {NANOS}, found the negative number {v}")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Nanos, E> {
        Err(E::invalid_type(Unexpected::Float(v), &self))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Nanos, E> {
        let digits = text.as_bytes();
        let value = if digits.is_empty() {
            None
        } else {
            digits.iter().try_fold(0i64, |acc, &c| {
                if c.is_ascii_digit() { acc.checked_mul(10)?.checked_add(i64::from(c - b'0')) } else { None }
            })
        };
        value.ok_or_else(|| {
            if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
                past_2262(text)
            } else {
                E::custom(format!("expected {NANOS}, found {text:?}"))
            }
        })
    }
}

impl<'de> DeserializeSeed<'de> for NanosSeed {
    type Value = Nanos;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Nanos, D::Error> {
        d.deserialize_any(NanosVisitor)
    }
}

/// A protobuf enum written as its number or its name (`2` or `"SPAN_KIND_SERVER"`).
struct EnumVisitor<T: 'static> {
    what: &'static str,
    /// Name and value, in number order.
    values: &'static [(&'static str, T)],
}

impl<'de, T: Copy> Visitor<'de> for EnumVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{} (0 to {} or its name, like {:?})", self.what, self.values.len() - 1, self.values[1].0)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        match usize::try_from(v).ok().and_then(|i| self.values.get(i)) {
            Some(&(_, value)) => Ok(value),
            None => Err(E::invalid_value(Unexpected::Unsigned(v), &self)),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Err(E::invalid_value(Unexpected::Signed(v), &self))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        match self.values.iter().find(|(name, _)| *name == text) {
            Some(&(_, value)) => Ok(value),
            None => Err(E::invalid_value(Unexpected::Str(text), &self)),
        }
    }
}

/// Deserializes `kind`.
pub(super) struct KindSeed;

impl<'de> DeserializeSeed<'de> for KindSeed {
    type Value = SpanKind;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<SpanKind, D::Error> {
        d.deserialize_any(EnumVisitor {
            what: "a span kind",
            values: &[
                ("SPAN_KIND_UNSPECIFIED", SpanKind::Unspecified),
                ("SPAN_KIND_INTERNAL", SpanKind::Internal),
                ("SPAN_KIND_SERVER", SpanKind::Server),
                ("SPAN_KIND_CLIENT", SpanKind::Client),
                ("SPAN_KIND_PRODUCER", SpanKind::Producer),
                ("SPAN_KIND_CONSUMER", SpanKind::Consumer),
            ],
        })
    }
}

/// Deserializes `status.code`.
pub(super) struct StatusCodeSeed;

impl<'de> DeserializeSeed<'de> for StatusCodeSeed {
    type Value = Status;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Status, D::Error> {
        d.deserialize_any(EnumVisitor {
            what: "a status code",
            values: &[
                ("STATUS_CODE_UNSET", Status::Unset),
                ("STATUS_CODE_OK", Status::Ok),
                ("STATUS_CODE_ERROR", Status::Error),
            ],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_hex_of_any_case_and_in_base64_read_the_same() {
        let hex = "5b8efff798038103d269b633813fc60c";
        let value = parse_id(hex.as_bytes(), IdKind::Trace).unwrap().unwrap();
        assert_eq!(parse_id(hex.to_uppercase().as_bytes(), IdKind::Trace), Ok(Some(value)));
        assert_eq!(parse_id(b"W47/95gDgQPSabYzgT/GDA==", IdKind::Trace), Ok(Some(value)));
        assert_eq!(base64_of(value, 16), "W47/95gDgQPSabYzgT/GDA==");
        let span = parse_id(b"eee19b7ec3c1b174", IdKind::Span).unwrap().unwrap();
        assert_eq!(parse_id(base64_of(span, 8).as_bytes(), IdKind::Span), Ok(Some(span)));
        assert_eq!(parse_id(b"7uGbfsPBsXQ=", IdKind::Span), Ok(Some(0xeee19b7ec3c1b174)));
    }

    #[test]
    fn empty_and_zero_ids_are_none_and_others_say_what_was_expected() {
        assert_eq!(parse_id(b"", IdKind::Span), Ok(None));
        assert_eq!(parse_id(b"0000000000000000", IdKind::Span), Ok(None));
        assert_eq!(parse_id(b"AAAAAAAAAAA=", IdKind::Span), Ok(None));
        let err = parse_id(b"xyz", IdKind::Span).unwrap_err();
        assert_eq!(err, "expected a span id of 16 hex digits (or 12 base64 characters), found \"xyz\"");
        assert!(parse_id(b"eee19b7ec3c1b17g", IdKind::Span).is_err());
        assert!(parse_id(b"7uGbfsPBsXQ", IdKind::Span).is_err(), "unpadded base64 of the wrong length");
        assert!(parse_id(b"7uGbfsPBsXR=", IdKind::Span).is_err(), "non-canonical trailing bits");
        assert!(parse_id(b"W47/95gDgQPSabYzgT/GD===", IdKind::Trace).is_err());
    }

    fn nanos(json: &str) -> Result<Nanos, String> {
        NanosSeed.deserialize(&mut serde_json::Deserializer::from_str(json)).map_err(|e| e.to_string())
    }

    #[test]
    fn nanos_from_strings_and_numbers_keep_every_digit() {
        assert_eq!(nanos("\"1700000000123456789\""), Ok(1_700_000_000_123_456_789));
        assert_eq!(nanos("1700000000123456789"), Ok(1_700_000_000_123_456_789));
        assert_eq!(nanos("\"0\""), Ok(0));
        assert!(nanos("\"12abc\"").unwrap_err().contains("found \"12abc\""));
        assert!(nanos("\"-5\"").is_err());
        assert!(nanos("-5").unwrap_err().contains("negative"));
        assert!(nanos("\"99999999999999999999\"").is_err());
        assert!(nanos("1.5e18").is_err());
    }
}
