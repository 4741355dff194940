//! The time axis: tick positions and labels that stay readable from nanoseconds to minutes.

/// One tick on the axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    /// Time relative to the trace start, in nanoseconds.
    pub at: f64,
    /// What to print under it.
    pub label: String,
}

/// Units below a minute a tick label can use, largest first: (nanoseconds per unit, suffix).
const UNITS: [(f64, &str); 4] = [(1e9, "s"), (1e6, "ms"), (1e3, "µs"), (1.0, "ns")];
const MINUTE: f64 = 60e9;

/// The tick step, in nanoseconds, so that ticks are at least `min_spacing_px` apart when
/// `ns_per_px` nanoseconds fill a pixel: {1, 2, 5} × 10^k below a minute, whole minutes above.
pub fn tick_step(ns_per_px: f64, min_spacing_px: f64) -> f64 {
    let min_step = (ns_per_px * min_spacing_px).max(1.0);
    if min_step > MINUTE {
        let minutes = (min_step / MINUTE).ceil();
        let nice =
            [1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0].into_iter().find(|&m| m >= minutes).unwrap_or(minutes.ceil());
        return nice * MINUTE;
    }
    let mut decade = 10f64.powf(min_step.log10().floor());
    loop {
        for mult in [1.0, 2.0, 5.0] {
            if decade * mult >= min_step {
                return decade * mult;
            }
        }
        decade *= 10.0;
    }
}

/// Ticks covering `start..=end` (nanoseconds from the trace start) on an axis `width_px` wide.
/// Labels use the unit of the largest time shown, with as many decimals as the step needs
/// (`2.50005 ms`), and whole minutes once the step is a minute or more.
pub fn ticks(start: f64, end: f64, width_px: f32, min_spacing_px: f32) -> Vec<Tick> {
    if end <= start || end.is_nan() || start.is_nan() || width_px <= 0.0 {
        return Vec::new();
    }
    let step = tick_step((end - start) / width_px as f64, min_spacing_px as f64);
    let magnitude = start.abs().max(end.abs());
    let label = |at: f64| {
        if step >= MINUTE {
            return format!("{} min", (at / MINUTE).round());
        }
        let (unit, suffix) = UNITS.iter().copied().find(|(unit, _)| magnitude >= *unit).unwrap_or(UNITS[3]);
        let decimals = ((unit / step).log10().ceil().clamp(0.0, 9.0)) as usize;
        format!("{:.*} {suffix}", decimals, at / unit)
    };
    let first = (start / step).ceil() as i64;
    let last = (end / step).floor() as i64;
    (first..=last)
        .map(|k| {
            let at = k as f64 * step;
            Tick { at, label: label(at) }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_one_two_five_times_a_power_of_ten() {
        assert_eq!(tick_step(1.0, 80.0), 100.0);
        assert_eq!(tick_step(1e6 / 80.0, 80.0), 1e6);
        assert_eq!(tick_step(1.1e6 / 80.0, 80.0), 2e6);
        assert_eq!(tick_step(3e6 / 80.0, 80.0), 5e6);
        assert_eq!(tick_step(0.001, 80.0), 1.0, "never below a nanosecond");
        assert_eq!(tick_step(100e9 / 80.0, 80.0), 2.0 * MINUTE, "whole minutes past a minute");
    }

    #[test]
    fn labels_use_the_unit_that_fits_the_step() {
        let t = ticks(0.0, 4e9, 800.0, 80.0);
        assert_eq!(t.first().unwrap().label, "0.0 s");
        assert!(t.iter().any(|t| t.label == "3.0 s"), "{t:?}");
        let t = ticks(1_000.0, 1_800.0, 800.0, 80.0);
        assert!(t.iter().all(|t| t.label.ends_with("µs") || t.label.ends_with("ns")), "{t:?}");
        let t = ticks(0.0, 600e9, 800.0, 80.0);
        assert!(t.iter().any(|t| t.label.ends_with("min")), "{t:?}");
        let t = ticks(2_500_000.0, 2_500_400.0, 800.0, 80.0);
        assert!(t.iter().any(|t| t.label == "2.50010 ms"), "{t:?}");
    }

    #[test]
    fn ticks_are_at_least_the_spacing_apart_and_inside_the_range() {
        for (start, end) in [(0.0, 1e3), (5e5, 5e5 + 37.0), (0.0, 3.7e9), (1e12, 1e12 + 1e9)] {
            let t = ticks(start, end, 1000.0, 80.0);
            assert!(!t.is_empty());
            let px = 1000.0 / (end - start);
            for pair in t.windows(2) {
                assert!((pair[1].at - pair[0].at) * px >= 79.9);
            }
            assert!(t.iter().all(|t| t.at >= start && t.at <= end));
        }
    }

    #[test]
    fn an_empty_range_has_no_ticks() {
        assert!(ticks(5.0, 5.0, 100.0, 80.0).is_empty());
        assert!(ticks(0.0, 5.0, 0.0, 80.0).is_empty());
    }
}
