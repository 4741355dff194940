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

/// How an id's text was read by [`SpanId::from_text`] and [`TraceId::from_text`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IdForm {
    /// Hex digits, read as their value.
    Hex,
    /// Other text (`span1234567890ab`, or more hex digits than the id holds), read as a name:
    /// the id is a digest of the text, so the same text is always the same id and different
    /// texts are different ids (but for a 1 in 2^64 chance).
    Text,
}

/// The attribute that keeps a span's id as the file wrote it, when that was not hex (see
/// [`IdForm::Text`]); views show it in place of the digest.
pub const WRITTEN_SPAN_ID: &str = "tracedeck.span_id.written";

/// FNV-1a over `text` from `seed`: a digest that is the same in every run and on every machine
/// (the standard library's hashers are seeded per process).
fn digest(text: &str, seed: u64) -> u64 {
    text.bytes().fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// `parse_hex`, or, for text that is not a hex id, `name` of the text.
fn hex_or_text<T>(
    text: &str,
    max: usize,
    hex: impl Fn(u128) -> T,
    name: impl Fn(&str) -> T,
) -> Result<(T, IdForm), IdParseError> {
    match parse_hex(text, max) {
        Ok(value) => Ok((hex(value), IdForm::Hex)),
        Err(IdParseError::NotHex(_) | IdParseError::TooLong { .. }) => Ok((name(text), IdForm::Text)),
        Err(e) => Err(e),
    }
}

impl TraceId {
    /// Reads hex as [`from_hex`](Self::from_hex) does and any other text as a name
    /// ([`IdForm::Text`]): a 128-bit digest with a non-zero upper half, so it never joins a
    /// 64-bit id by its lower half. Empty text and all zeros are still errors.
    pub fn from_text(text: &str) -> Result<(Self, IdForm), IdParseError> {
        hex_or_text(text, 32, TraceId, |t| {
            let high = digest(t, FNV_OFFSET ^ 0x0054_5241_4345).max(1);
            TraceId(u128::from(high) << 64 | u128::from(digest(t, FNV_OFFSET)))
        })
    }

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

    /// Reads hex as [`from_hex`](Self::from_hex) does and any other text as a name
    /// ([`IdForm::Text`]): a 64-bit digest of it. Empty text and all zeros are still errors.
    pub fn from_text(text: &str) -> Result<(Self, IdForm), IdParseError> {
        let named = |t: &str| SpanId(NonZeroU64::new(digest(t, FNV_OFFSET)).unwrap_or(NonZeroU64::MIN));
        hex_or_text(text, 16, |v| SpanId(NonZeroU64::new(v as u64).expect("parse_hex rejects zero")), named)
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
    fn text_that_is_not_hex_is_a_name_read_the_same_every_time() {
        let (a, form) = SpanId::from_text("span1234567890ab").unwrap();
        assert_eq!(form, IdForm::Text);
        assert_eq!(SpanId::from_text("span1234567890ab").unwrap().0, a, "the same text, the same id");
        assert_ne!(SpanId::from_text("span1234567890ac").unwrap().0, a, "another text, another id");
        assert_eq!(a.get(), 0xfd73_c15a_0041_d343, "stable across runs and machines");
        assert_eq!(SpanId::from_text("00ab").unwrap(), (SpanId::new(0xab).unwrap(), IdForm::Hex));
        assert_eq!(SpanId::from_text("11112222333344445").unwrap().1, IdForm::Text, "too long for hex");
        assert_eq!(SpanId::from_text(""), Err(IdParseError::Empty));
        assert_eq!(SpanId::from_text("0000"), Err(IdParseError::Zero));
        let (t, form) = TraceId::from_text("trace-1").unwrap();
        assert_eq!(form, IdForm::Text);
        assert_ne!(t.0 >> 64, 0, "a named trace id is never taken for a 64-bit one");
        assert_eq!(TraceId::from_text("48485a3953bb6124").unwrap().0, TraceId(0x4848_5a39_53bb_6124));
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
