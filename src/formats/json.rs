//! Shared JSON plumbing for the importers: a fast parse that, only when it fails, parses again
//! to find the JSON path of the problem, and deserializers for the value shapes formats share.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, Visitor};

use crate::model::{IdForm, IdParseError, Nanos, SpanId, TraceBuilder, TraceId, WRITTEN_SPAN_ID};

use super::{FormatError, Place};

/// Deserializes `bytes` as `T`. Errors carry line, column and JSON path.
pub(crate) fn from_slice<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, FormatError> {
    serde_json::from_slice(bytes).map_err(|_| located_error(bytes, PhantomData::<T>, 0))
}

/// Like [`from_slice`] for a stateful [`DeserializeSeed`] (an importer that interns and pushes
/// while it reads, instead of collecting a document first). On failure, `retry`, a seed with
/// fresh state, reads the input again to locate the problem.
pub(crate) fn from_slice_seed<'de, S, R>(bytes: &'de [u8], seed: S, retry: R) -> Result<S::Value, FormatError>
where
    S: DeserializeSeed<'de>,
    R: DeserializeSeed<'de>,
{
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match seed.deserialize(&mut de).and_then(|value| de.end().map(|()| value)) {
        Ok(value) => Ok(value),
        Err(_) => Err(located_error(bytes, retry, 0)),
    }
}

/// Like [`from_slice`] for one line of a JSON-lines file: `first_line` is the line number
/// (from 1) of `bytes`' first line within the file.
pub(crate) fn from_line<'de, T: Deserialize<'de>>(bytes: &'de [u8], first_line: usize) -> Result<T, FormatError> {
    serde_json::from_slice(bytes).map_err(|_| located_error(bytes, PhantomData::<T>, first_line.saturating_sub(1)))
}

/// The slow path: parse again, tracking the path, to say where the first problem is.
/// Importers that deserialize with a [`DeserializeSeed`] (to intern as they go) call it after
/// their fast parse failed, with a fresh seed. `line_offset` is added to reported lines (for
/// one line of a JSON-lines file: its line number minus one).
pub(crate) fn located_error<'de, S: DeserializeSeed<'de>>(
    bytes: &'de [u8],
    seed: S,
    line_offset: usize,
) -> FormatError {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut track = serde_path_to_error::Track::new();
    let result = seed.deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track));
    let err = match result.map_err(|e| serde_path_to_error::Error::new(track.path(), e)) {
        Ok(_) => match de.end() {
            Err(inner) => return place_of(&inner, String::new(), line_offset),
            Ok(()) => return FormatError::new(Place::Whole, "the JSON could not be read"),
        },
        Err(err) => err,
    };
    place_of(err.inner(), json_path(err.path()), line_offset)
}

fn place_of(inner: &serde_json::Error, path: String, line_offset: usize) -> FormatError {
    FormatError::new(Place::At { line: inner.line() + line_offset, column: inner.column(), path }, describe(inner))
}

/// `$.spans[3].span_id` from serde_path_to_error's path.
fn json_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::from("$");
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => out.push_str(&format!(".{key}")),
            Segment::Enum { variant } => out.push_str(&format!(".{variant}")),
            Segment::Unknown => out.push_str(".?"),
        }
    }
    out
}

/// serde_json's message without its trailing "at line L column C" (the place says that).
fn describe(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let trimmed = match text.rfind(" at line ") {
        Some(at) => &text[..at],
        None => &text,
    };
    if err.is_eof() { format!("the file ends too early ({trimmed}); is it truncated?") } else { trimmed.to_owned() }
}

/// Notes in `seen` (a bit per field) that field number `index`, `name`, has been read: a field
/// read twice is an error, as in a derived struct. For readers that take a struct's fields one
/// by one as they come.
pub(crate) fn first_time<E: de::Error>(seen: &mut u64, index: usize, name: &'static str) -> Result<(), E> {
    let bit = 1 << index;
    if *seen & bit != 0 {
        return Err(E::duplicate_field(name));
    }
    *seen |= bit;
    Ok(())
}

/// Splits a JSON-lines file into its non-blank lines, with their line numbers (from 1).
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line))
        .filter(|(_, line)| line.iter().any(|b| !b.is_ascii_whitespace()))
}

/// A JSON string, borrowed from the input unless it had escapes.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Text<'a>(pub Cow<'a, str>);

impl Text<'_> {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Text<'_> {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        de.deserialize_str(V)
    }
}

/// A scalar JSON value (string, number or boolean), strings borrowed where possible.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Scalar<'a> {
    /// A string.
    Str(Cow<'a, str>),
    /// A whole number that fits `i64`.
    Int(i64),
    /// A whole number above `i64::MAX`.
    BigUint(u64),
    /// A number with a fraction or exponent.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(i64::try_from(v).map_or(Scalar::BigUint(v), Scalar::Int))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Scalar::Float(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Scalar::Bool(v))
            }
        }
        de.deserialize_any(V)
    }
}

/// `deserialize_with` for a required hex span id (1 to 16 digits, any case).
pub(crate) fn span_id<'de, D: Deserializer<'de>>(de: D) -> Result<SpanId, D::Error> {
    let text = Text::deserialize(de)?;
    SpanId::from_hex(&text).map_err(|e| de::Error::custom(format!("expected a hex span id of 1 to 16 digits: {e}")))
}

/// `deserialize_with` for an optional hex span id: absent, `null`, `""` and all zeros mean none.
pub(crate) fn opt_span_id<'de, D: Deserializer<'de>>(de: D) -> Result<Option<SpanId>, D::Error> {
    let Some(text) = Option::<Text>::deserialize(de)? else { return Ok(None) };
    optional_span_id(&text).map_err(|e| de::Error::custom(format!("expected a hex span id of 1 to 16 digits: {e}")))
}

/// A hex span id (1 to 16 digits, any case) where one may be absent: `""` and all zeros (of
/// any length) mean none.
pub(crate) fn optional_span_id(text: &str) -> Result<Option<SpanId>, IdParseError> {
    if text.bytes().all(|b| b == b'0') {
        return Ok(None);
    }
    SpanId::from_hex(text).map(Some)
}

/// `deserialize_with` for a hex trace id (1 to 32 digits, any case).
pub(crate) fn trace_id<'de, D: Deserializer<'de>>(de: D) -> Result<TraceId, D::Error> {
    let text = Text::deserialize(de)?;
    TraceId::from_hex(&text).map_err(|e| de::Error::custom(format!("expected a hex trace id of 1 to 32 digits: {e}")))
}

/// An id as the file wrote it: its value, and its text when that was not hex ([`IdForm::Text`]:
/// kept as text, matched exactly). Formats read ids this way so that a file whose ids are
/// names (`span1234567890ab`, as test fixtures and some SDKs write) still loads.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Id<'a, T> {
    /// The id.
    pub value: T,
    /// The text, when it was not hex.
    pub text: Option<Text<'a>>,
}

/// The id types [`Id`] reads.
pub(crate) trait IdValue: Sized {
    /// What the id is, for errors.
    const WHAT: &'static str;
    /// [`SpanId::from_text`] or [`TraceId::from_text`].
    fn from_text(text: &str) -> Result<(Self, IdForm), IdParseError>;
}

impl IdValue for SpanId {
    const WHAT: &'static str = "span id";
    fn from_text(text: &str) -> Result<(Self, IdForm), IdParseError> {
        SpanId::from_text(text)
    }
}

impl IdValue for TraceId {
    const WHAT: &'static str = "trace id";
    fn from_text(text: &str) -> Result<(Self, IdForm), IdParseError> {
        TraceId::from_text(text)
    }
}

impl<T: fmt::Display> Id<'_, T> {
    /// The id as the file wrote it: text as it was, hex in the canonical spelling.
    pub fn written(&self) -> String {
        self.text.as_ref().map_or_else(|| self.value.to_string(), |t| t.to_string())
    }
}

impl<'a, T: IdValue> Id<'a, T> {
    /// Reads `text` (hex, or else a name).
    pub fn read(text: Text<'a>) -> Result<Self, IdParseError> {
        let (value, form) = T::from_text(&text)?;
        Ok(Id { value, text: (form == IdForm::Text).then_some(text) })
    }
}

impl<'de: 'a, 'a, T: IdValue> Deserialize<'de> for Id<'a, T> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        Id::read(Text::deserialize(de)?).map_err(|e| de::Error::custom(format!("expected a {}: {e}", T::WHAT)))
    }
}

/// `deserialize_with` for an optional span [`Id`]: absent, `null`, `""` and all zeros mean none.
pub(crate) fn opt_id<'de: 'a, 'a, D: Deserializer<'de>>(de: D) -> Result<Option<Id<'a, SpanId>>, D::Error> {
    let Some(text) = Option::<Text>::deserialize(de)? else { return Ok(None) };
    if text.is_empty() || text.bytes().all(|b| b == b'0') {
        return Ok(None);
    }
    Id::read(text).map(Some).map_err(|e| de::Error::custom(format!("expected a span id: {e}")))
}

/// Spans whose ids a file wrote as text rather than hex, for the one note that says so.
#[derive(Default)]
pub(crate) struct NamedIds {
    count: usize,
    example: Option<String>,
}

impl NamedIds {
    /// Counts a span if any of its ids (own, trace, parent) was text.
    pub fn see(&mut self, texts: &[Option<&str>]) {
        if let Some(text) = texts.iter().flatten().next() {
            self.count += 1;
            self.example.get_or_insert_with(|| text.to_string());
        }
    }

    /// Counts what `later` counted (in a later part of the same file).
    pub fn absorb(&mut self, later: NamedIds) {
        self.count += later.count;
        self.example = self.example.take().or(later.example);
    }

    /// Notes the count, if any.
    pub fn note(&self, b: &mut TraceBuilder) {
        if let Some(example) = &self.example {
            b.note(format!(
                "{} span(s) have ids that are not hex (e.g. {example:?}); each id is kept as its text: matched \
                 exactly, and shown as written (attribute {WRITTEN_SPAN_ID})",
                self.count
            ));
        }
    }
}

/// Pushes the [`WRITTEN_SPAN_ID`] attribute for a span whose id was text.
pub(crate) fn push_written_id(b: &mut TraceBuilder, id: &Id<SpanId>) {
    if let Some(text) = &id.text {
        b.push_attr_str(WRITTEN_SPAN_ID, text);
    }
}

/// `deserialize_with` for microseconds (since the epoch, or a duration) as nanoseconds: a
/// non-negative integer, or a float that is converted to the nearest nanosecond.
pub(crate) fn micros<'de, D: Deserializer<'de>>(de: D) -> Result<Nanos, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = Nanos;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a non-negative integer count of microseconds")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Nanos, E> {
            if v < 0 {
                return Err(E::invalid_value(de::Unexpected::Signed(v), &self));
            }
            v.checked_mul(1_000).ok_or_else(|| too_many_micros(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Nanos, E> {
            i64::try_from(v).ok().and_then(|v| v.checked_mul(1_000)).ok_or_else(|| too_many_micros(v))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Nanos, E> {
            match float_micros(v) {
                Some(nanos) if nanos >= 0 => Ok(nanos),
                None if v > 0.0 => Err(too_many_micros(format_args!("{v:e}"))),
                _ => Err(E::invalid_value(de::Unexpected::Float(v), &self)),
            }
        }
    }
    de.deserialize_any(V)
}

/// Microseconds written with a fraction (or as a float), as whole nanoseconds: the nearest
/// nanosecond to the float's exact value, halves away from zero. This is the one rounding rule
/// of every format that writes microseconds (Zipkin, Jaeger, Chrome). The whole microseconds
/// convert exactly and the fraction is rounded on its own, so a time since the epoch (about
/// 1.7e15 µs, where an f64 resolves 0.25 µs) keeps every digit the float holds; multiplying
/// by 1,000 first would round it to a multiple of 128 or 256 ns. `None` when the result does not
/// fit 64-bit nanoseconds, or `v` is not a number.
pub(crate) fn float_micros(v: f64) -> Option<Nanos> {
    let whole = v.trunc();
    if !whole.is_finite() || whole.abs() >= (i64::MAX / 1_000) as f64 {
        return None;
    }
    (whole as i64).checked_mul(1_000)?.checked_add(((v - whole) * 1_000.0).round() as i64)
}

/// Microseconds beyond 64-bit nanoseconds, whether a time or a duration.
fn too_many_micros<E: de::Error>(v: impl fmt::Display) -> E {
    E::custom(format!("{v} µs is too large: as a time it is past the year 2262, as a duration over 292 years"))
}

/// `deserialize_with` for optional microseconds: absent or `null` is `None`.
pub(crate) fn opt_micros<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Nanos>, D::Error> {
    #[derive(Deserialize)]
    struct Micros(#[serde(deserialize_with = "micros")] Nanos);
    Ok(Option::<Micros>::deserialize(de)?.map(|m| m.0))
}

/// Rounds absolute nanoseconds to the nearest microsecond, for writers of µs formats.
pub(crate) fn to_micros(nanos: Nanos) -> i64 {
    nanos.saturating_add(500).div_euclid(1_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Doc {
        spans: Vec<Item>,
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        id: u32,
    }

    #[test]
    fn errors_name_line_column_and_path() {
        let err = from_slice::<Doc>(b"{\"spans\": [{\"id\": 1},\n {\"id\": \"x\"}]}").unwrap_err();
        let Place::At { line, path, .. } = &err.place else { panic!("{err:?}") };
        assert_eq!((*line, path.as_str()), (2, "$.spans[1].id"));
        assert!(err.message.contains("invalid type: string \"x\", expected u32"), "{}", err.message);
    }

    #[test]
    fn truncation_is_called_truncation() {
        let err = from_slice::<Doc>(b"{\"spans\": [{\"id\": 1}").unwrap_err();
        assert!(err.message.contains("truncated"), "{}", err.message);
    }

    #[test]
    fn microseconds_too_large_say_so_as_integers() {
        #[derive(Deserialize, Debug)]
        struct Time(#[serde(deserialize_with = "micros")] Nanos);
        assert_eq!(serde_json::from_str::<Time>("1.5").unwrap().0, 1_500);
        for (text, shown) in [("99999999999999999999999999", "1e26 µs"), ("9223372036854776", "9223372036854776 µs")]
        {
            let message = serde_json::from_str::<Time>(text).unwrap_err().to_string();
            assert!(
                message.starts_with(&format!("{shown} is too large: as a time it is past the year 2262")),
                "{message}"
            );
        }
        let message = serde_json::from_str::<Time>("-1.5").unwrap_err().to_string();
        assert!(message.contains("invalid value: floating point `-1.5`"), "{message}");
    }

    #[test]
    fn float_microseconds_round_to_the_nearest_nanosecond_of_the_floats_value() {
        assert_eq!(float_micros(1.5), Some(1_500));
        assert_eq!(float_micros(0.0005), Some(1), "a half rounds away from zero");
        assert_eq!(float_micros(-2.25), Some(-2_250));
        // An epoch-sized time with a fraction: 1,000,000,000,000,000.5 µs is exact in an f64, and
        // multiplying by 1,000 first would give ...000,512 ns.
        assert_eq!(float_micros(1_000_000_000_000_000.5), Some(1_000_000_000_000_000_500));
        assert_eq!(float_micros(f64::NAN), None);
        assert_eq!(float_micros(1e17), None);
    }

    #[test]
    fn line_numbers_of_json_lines_are_file_lines() {
        let err = from_line::<Doc>(b"{\"spans\": 5}", 7).unwrap_err();
        assert!(matches!(err.place, Place::At { line: 7, .. }), "{err:?}");
    }
}
