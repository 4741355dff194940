//! Trace and span identifiers, parsed from the hex (or base64) text the formats use.

use std::fmt;
use std::num::NonZeroU64;

/// A trace id: 128 bits, or 64 bits for tracers that use short ids (then the high half is 0).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TraceId(pub u128);

/// A span id: 64 bits, never zero (every format reserves zero for "no id"), so
/// `Option<SpanId>` costs no more than a `u64`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId(NonZeroU64);

/// Why an id's text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdParseError {
    /// The text was empty.
    #[error("the id is empty")]
    Empty,
    /// The text had a character that is not a hex digit.
    #[error("{0:?} is not a hex id")]
    NotHex(String),
    /// The text was longer than the id can hold.
    #[error("{text:?} is longer than {max} hex digits")]
    TooLong {
        /// The id as written.
        text: String,
        /// The most hex digits this kind of id can have.
        max: usize,
    },
    /// The id was all zeros, which every format reserves for "no id".
    #[error("the id is all zeros")]
    Zero,
}

fn parse_hex(text: &str, max: usize) -> Result<u128, IdParseError> {
    if text.is_empty() {
        return Err(IdParseError::Empty);
    }
    if text.len() > max {
        return Err(IdParseError::TooLong { text: text.to_owned(), max });
    }
    let value = u128::from_str_radix(text, 16).map_err(|_| IdParseError::NotHex(text.to_owned()))?;
    if text.starts_with('+') {
        return Err(IdParseError::NotHex(text.to_owned()));
    }
    if value == 0 {
        return Err(IdParseError::Zero);
    }
    Ok(value)
}

impl TraceId {
    /// Parses 1 to 32 hex digits, any case; shorter ids are zero-extended on the left.
    pub fn from_hex(text: &str) -> Result<Self, IdParseError> {
        parse_hex(text, 32).map(TraceId)
    }

    /// The lower 64 bits, which lenient matching (Zipkin, Jaeger) compares.
    pub fn low64(self) -> u64 {
        self.0 as u64
    }
}

impl SpanId {
    /// Parses 1 to 16 hex digits, any case (Sentry's query APIs drop leading zeros).
    pub fn from_hex(text: &str) -> Result<Self, IdParseError> {
        parse_hex(text, 16).map(|v| SpanId(NonZeroU64::new(v as u64).expect("parse_hex rejects zero")))
    }

    /// A span id from its numeric value; `None` for zero.
    pub fn new(value: u64) -> Option<Self> {
        NonZeroU64::new(value).map(SpanId)
    }

    /// The numeric value.
    pub fn get(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for TraceId {
    /// 16 hex digits for a 64-bit id, 32 otherwise, lowercase.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 >> 64 == 0 { write!(f, "{:016x}", self.0) } else { write!(f, "{:032x}", self.0) }
    }
}

impl fmt::Display for SpanId {
    /// 16 lowercase hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0.get())
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_any_case_and_short_ids() {
        assert_eq!(SpanId::from_hex("00ABcd").unwrap(), SpanId::new(0xabcd).unwrap());
        assert_eq!(SpanId::from_hex("abcd").unwrap().to_string(), "000000000000abcd");
        let t = TraceId::from_hex("6cf173d587eb48568a9b2e12dcfbea52").unwrap();
        assert_eq!(t.to_string(), "6cf173d587eb48568a9b2e12dcfbea52");
        assert_eq!(TraceId::from_hex("48485a3953bb6124").unwrap().to_string(), "48485a3953bb6124");
    }

    #[test]
    fn rejects_bad_ids_with_a_reason() {
        assert_eq!(SpanId::from_hex(""), Err(IdParseError::Empty));
        assert_eq!(SpanId::from_hex("0000000000000000"), Err(IdParseError::Zero));
        assert!(matches!(SpanId::from_hex("xyz"), Err(IdParseError::NotHex(_))));
        assert!(matches!(SpanId::from_hex("+abc"), Err(IdParseError::NotHex(_))));
        assert!(matches!(SpanId::from_hex("11112222333344445"), Err(IdParseError::TooLong { max: 16, .. })));
    }
}
