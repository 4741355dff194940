//! Durations for people: read as they type them (`3s`, `2500ms`, `1.5s`, `500us`, `1h`) and
//! written in the unit that fits (`4.21 s`, `2 min 05 s`).
//!
//! Written here rather than taken from `humantime`, which does not accept fractions (`1.5s`)
//! that deadlines often have. Exact: the number is read as decimal text, not as a float.

use super::Nanos;

/// Parses a number (optionally with a fraction) and a unit: `ns`, `us`/`µs`, `ms`, `s`, `m`/`min`, `h`.
pub fn parse_duration(text: &str) -> Result<Nanos, String> {
    let trimmed = text.trim();
    let expected = "expected a number and a unit, such as 3s, 2500ms, 1.5s or 500us";
    let split = trimmed.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let unit_nanos: i128 = match unit.trim() {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "" if !number.is_empty() => return Err(format!("{text:?} has no unit; {expected}")),
        _ => return Err(format!("{text:?} is not a duration; {expected}")),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
        return Err(format!("{text:?} is not a duration; {expected}"));
    }
    let too_long = || format!("{text:?} is too long a duration");
    // 18 fraction digits are far below a nanosecond for every unit and keep the product in range.
    let fraction = &fraction[..fraction.len().min(18)];
    let whole: i128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| too_long())? };
    let scale = 10i128.pow(fraction.len() as u32);
    let parts: i128 = if fraction.is_empty() { 0 } else { fraction.parse().map_err(|_| too_long())? };
    if parts * unit_nanos % scale != 0 {
        return Err(format!("{text:?} is finer than a nanosecond"));
    }
    let total = whole.checked_mul(unit_nanos).and_then(|w| w.checked_add(parts * unit_nanos / scale));
    total.and_then(|t| Nanos::try_from(t).ok()).ok_or_else(too_long)
}

/// Formats a duration for people: `850 ns`, `12.3 µs`, `4.21 s`, `2 min 05 s`, `3 h 07 min`,
/// `20 d 04 h`.
pub fn format_duration(nanos: Nanos) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    let body = if n < 1_000 {
        format!("{n} ns")
    } else if n < 1_000_000 {
        format!("{:.1} µs", n as f64 / 1e3)
    } else if n < 1_000_000_000 {
        format!("{:.1} ms", n as f64 / 1e6)
    } else if n < 60_000_000_000 {
        format!("{:.2} s", n as f64 / 1e9)
    } else if n < 3_600_000_000_000 {
        let secs = n / 1_000_000_000;
        format!("{} min {:02} s", secs / 60, secs % 60)
    } else if n < 86_400_000_000_000 {
        let mins = n / 60_000_000_000;
        format!("{} h {:02} min", mins / 60, mins % 60)
    } else {
        let hours = n / 3_600_000_000_000;
        format!("{} d {:02} h", hours / 24, hours % 24)
    };
    format!("{sign}{body}")
}

/// A duration in nanoseconds as the standard library's (its magnitude: a negative one is as long
/// as its opposite).
pub fn std_duration(nanos: Nanos) -> std::time::Duration {
    std::time::Duration::from_nanos(nanos.unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_units_and_fractions_exactly() {
        let cases = [
            ("3s", 3_000_000_000),
            ("2500ms", 2_500_000_000),
            ("1.5s", 1_500_000_000),
            ("500us", 500_000),
            ("500µs", 500_000),
            ("250ns", 250),
            ("2m", 120_000_000_000),
            ("1min", 60_000_000_000),
            ("1.5h", 5_400_000_000_000),
            (" 0.001s ", 1_000_000),
            (".5s", 500_000_000),
            ("3 s", 3_000_000_000),
            ("2.s", 2_000_000_000),
        ];
        for (text, nanos) in cases {
            assert_eq!(parse_duration(text), Ok(nanos), "{text}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        let cases = [
            ("banana", "not a duration"),
            ("3", "has no unit"),
            ("3d", "not a duration"),
            ("", "not a duration"),
            ("s", "not a duration"),
            ("1.2.3s", "not a duration"),
            ("-3s", "not a duration"),
            ("1.5ns", "finer than a nanosecond"),
            ("99999999999999999999s", "too long"),
            ("999999999999999999999999999999999999999999s", "too long"),
        ];
        for (text, expected) in cases {
            let err = parse_duration(text).unwrap_err();
            assert!(err.contains(expected), "{text:?} → {err}");
        }
    }

    #[test]
    fn durations_read_in_the_unit_that_fits() {
        let s = 1_000_000_000;
        assert_eq!(format_duration(850), "850 ns");
        assert_eq!(format_duration(4_210_000_000), "4.21 s");
        assert_eq!(format_duration(125 * s), "2 min 05 s");
        assert_eq!(format_duration(-125 * s), "-2 min 05 s");
        assert_eq!(format_duration((3 * 3600 + 7 * 60 + 59) * s), "3 h 07 min");
        assert_eq!(format_duration((20 * 86_400 + 4 * 3600) * s), "20 d 04 h");
        assert_eq!(format_duration(i64::MIN), "-106751 d 23 h");
    }
}
