//! Sentry's timestamps: Unix seconds as a JSON number (`1795000000.123456`), as a decimal
//! string, or an RFC 3339 string (`"2026-11-20T09:13:20.123456Z"`, `+00:00` offsets, or no
//! offset at all, which Sentry's APIs mean as UTC). All become integer nanoseconds rounded to
//! whole microseconds, the precision Sentry records.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Unexpected, Visitor};

use crate::model::Nanos;

const NANOS_PER_MICRO: i64 = 1_000;
const MICROS_PER_SECOND: f64 = 1e6;

/// A timestamp, in nanoseconds since the Unix epoch (a whole number of microseconds).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Ts(pub Nanos);

/// Float seconds to nanoseconds, rounded to the microsecond. An f64 near today's epoch
/// resolves about 0.24 µs, so rounding to whole microseconds recovers the written value.
pub(super) fn from_seconds(seconds: f64) -> Option<Nanos> {
    let micros = (seconds * MICROS_PER_SECOND).round();
    // i64 nanoseconds reach to the year 2262; refuse what does not fit.
    if !micros.is_finite() || micros.abs() >= (i64::MAX / NANOS_PER_MICRO) as f64 {
        return None;
    }
    Some(micros as i64 * NANOS_PER_MICRO)
}

/// Nanoseconds as the float seconds Sentry writes (shortest text that reads back the same).
pub(super) fn to_seconds(nanos: Nanos) -> f64 {
    let micros = nanos.div_euclid(NANOS_PER_MICRO) + i64::from(nanos.rem_euclid(NANOS_PER_MICRO) >= 500);
    micros as f64 / MICROS_PER_SECOND
}

/// Reads a timestamp string: decimal seconds (exactly, from the digits) or RFC 3339.
pub(super) fn parse_text(text: &str) -> Option<Nanos> {
    parse_decimal_seconds(text).or_else(|| parse_rfc3339(text))
}

/// `"1795000000.1234567"` → nanoseconds, rounded half up to the microsecond, with no float
/// arithmetic. `None` unless the text is an optionally signed decimal number.
fn parse_decimal_seconds(text: &str) -> Option<Nanos> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) {
        return None;
    }
    let seconds: i64 = whole.parse().ok()?;
    let mut micros: i64 = 0;
    for i in 0..6 {
        micros = micros * 10 + fraction.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
    }
    if fraction.as_bytes().get(6).is_some_and(|&b| b >= b'5') {
        micros += 1;
    }
    let total = seconds.checked_mul(1_000_000_000)?.checked_add(micros * NANOS_PER_MICRO)?;
    Some(if negative { -total } else { total })
}

/// RFC 3339 (jiff's parser); a date-time without an offset is read as UTC.
fn parse_rfc3339(text: &str) -> Option<Nanos> {
    let timestamp = match text.parse::<jiff::Timestamp>() {
        Ok(ts) => ts,
        Err(_) => {
            let civil = text.parse::<jiff::civil::DateTime>().ok()?;
            jiff::tz::Offset::UTC.to_timestamp(civil).ok()?
        }
    };
    let nanos = i64::try_from(timestamp.as_nanosecond()).ok()?;
    // Round to the microsecond, as for numbers.
    let micros = nanos.div_euclid(NANOS_PER_MICRO) + i64::from(nanos.rem_euclid(NANOS_PER_MICRO) >= 500);
    Some(micros * NANOS_PER_MICRO)
}

impl<'de> Deserialize<'de> for Ts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TsVisitor)
    }
}

struct TsVisitor;

impl<'de> Visitor<'de> for TsVisitor {
    type Value = Ts;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(
            "a timestamp: Unix seconds as a number (1795000000.123456) or an RFC 3339 string \
             (\"2026-11-20T09:13:20.123456Z\")",
        )
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Ts, E> {
        from_seconds(v).map(Ts).ok_or_else(|| E::invalid_value(Unexpected::Float(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Ts, E> {
        v.checked_mul(1_000_000_000).map(Ts).ok_or_else(|| E::invalid_value(Unexpected::Signed(v), &self))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Ts, E> {
        i64::try_from(v)
            .ok()
            .and_then(|v| v.checked_mul(1_000_000_000))
            .map(Ts)
            .ok_or_else(|| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Ts, E> {
        parse_text(v).map(Ts).ok_or_else(|| E::invalid_value(Unexpected::Str(v), &self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_seconds_keep_their_microseconds() {
        assert_eq!(from_seconds(1795000000.123456), Some(1_795_000_000_123_456_000));
        assert_eq!(from_seconds(1588601261.481961), Some(1_588_601_261_481_961_000));
        assert_eq!(from_seconds(f64::NAN), None);
        assert_eq!(from_seconds(1e300), None);
        // Every microsecond of a late-2026 second survives the float round trip.
        for micros in (0..1_000_000).step_by(997) {
            let nanos = 1_795_000_000_000_000_000 + micros * 1_000;
            assert_eq!(from_seconds(to_seconds(nanos)), Some(nanos), "{micros}");
        }
    }

    #[test]
    fn decimal_strings_are_read_exactly() {
        assert_eq!(parse_text("1795000000.1234565"), Some(1_795_000_000_123_457_000));
        assert_eq!(parse_text("1795000000"), Some(1_795_000_000_000_000_000));
        assert_eq!(parse_text("-1.5"), Some(-1_500_000_000));
        assert_eq!(parse_text("1.2.3"), None);
        assert_eq!(parse_text(""), None);
    }

    #[test]
    fn rfc3339_with_and_without_offsets() {
        let utc = 1_795_000_000_123_456_000;
        assert_eq!(parse_text("2026-11-18T11:06:40.123456Z"), Some(utc));
        assert_eq!(parse_text("2026-11-18T12:06:40.123456+01:00"), Some(utc));
        assert_eq!(parse_text("2026-11-18T11:06:40.123456"), Some(utc));
        assert_eq!(parse_text("2026-11-18T11:06:40.1234564Z"), Some(utc));
        assert_eq!(parse_text("yesterday"), None);
    }
}
