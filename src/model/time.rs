//! The times a trace may hold. Absolute times are 64-bit nanoseconds, which reach from 1677 to
//! 2262; but the difference of two such times (a span from 1678 to 2262) does not fit, and a
//! wrapped difference is a negative duration, or a deadline met that was missed. So the
//! builder accepts only times within [`TIME_LIMIT`] of the epoch (1823 to 2116): then every
//! duration and offset between two of them, and every time plus such a duration, fits.

use super::Nanos;

/// The largest distance from the Unix epoch, either way, of a time a trace may hold: just under
/// 2^62 ns, about 146 years, so that the difference of any two is below 2^63 and fits.
pub const TIME_LIMIT: Nanos = (1 << 62) - 1;

/// Whether a trace may hold `time` (see [`TIME_LIMIT`]).
pub fn measurable(time: Nanos) -> bool {
    (-TIME_LIMIT..=TIME_LIMIT).contains(&time)
}

/// A time for messages: the UTC date and time, and the raw count
/// (`2262-04-11T23:47:16.854775807Z (9223372036854775807 ns since 1970)`).
pub fn describe(time: Nanos) -> String {
    match jiff::Timestamp::from_nanosecond(i128::from(time)) {
        Ok(at) => format!("{at} ({time} ns since 1970)"),
        Err(_) => format!("{time} ns since 1970"),
    }
}

/// The range [`measurable`] accepts, as dates (`1823-11-12 to 2116-02-20`).
pub fn measurable_range() -> String {
    let date = |time: Nanos| {
        jiff::Timestamp::from_nanosecond(i128::from(time))
            .map_or_else(|_| time.to_string(), |t| t.strftime("%Y-%m-%d").to_string())
    };
    format!("{} to {}", date(-TIME_LIMIT), date(TIME_LIMIT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_keeps_every_difference_in_range() {
        let (lo, hi) = (-TIME_LIMIT, TIME_LIMIT);
        assert!(measurable(lo) && measurable(hi) && !measurable(hi + 1) && !measurable(lo - 1));
        let widest = hi.checked_sub(lo).expect("the widest duration fits");
        assert_eq!(lo.checked_add(widest), Some(hi), "a time plus a duration that ends in range fits");
        assert!(measurable(0) && !measurable(Nanos::MAX) && !measurable(Nanos::MIN));
    }

    #[test]
    fn times_are_described_as_dates_and_counts() {
        assert_eq!(describe(0), "1970-01-01T00:00:00Z (0 ns since 1970)");
        assert_eq!(measurable_range(), "1823-11-12 to 2116-02-20");
    }
}
