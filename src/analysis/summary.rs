//! Many verdicts in one number: how often traces missed the deadline, with a confidence
//! interval, the response-time percentiles, the worst trace, and the same per endpoint.
//!
//! "The modal sometimes does not render" becomes "22 of 400 missed the 3 s deadline: 5.5% (95%
//! CI 3.7–8.2%)". The interval is Wilson's score interval, which stays inside 0–100% and behaves
//! for small counts; with no miss at all it is the exact one-sided bound `1 − 0.05^(1/n)` (the
//! "rule of three" when n is large). Percentiles are nearest-rank: the smallest response time at
//! or above which the given share of judged traces lies, always a time some trace really had.
//!
//! Only traces with a verdict of pass or miss are judged; undecided traces are counted apart and
//! never enter the rate or the percentiles.

use serde::Serialize;

use super::verdict::{Outcome, Verdict, format_limit};
use crate::model::Nanos;

/// The two-sided 95% normal quantile, z = Φ⁻¹(0.975).
const Z95: f64 = 1.959_963_984_540_054;

/// What a summary needs from one trace's verdict.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Sample {
    /// Pass, miss or undecided.
    pub outcome: Outcome,
    /// Time from the clock's start to the deciding check, when there is one.
    pub response: Option<Nanos>,
}

impl Sample {
    /// The part of a verdict a summary counts.
    pub fn of(verdict: &Verdict) -> Self {
        Sample { outcome: verdict.outcome, response: verdict.response_time() }
    }

    /// The response time of a judged trace (pass or miss); `None` for an undecided one.
    pub fn judged_response(&self) -> Option<Nanos> {
        match self.outcome {
            Outcome::Pass | Outcome::Miss => self.response,
            Outcome::Undecided => None,
        }
    }
}

/// A share with lower and upper bounds, each from 0 to 1.
#[derive(Clone, Copy, PartialEq, Debug, Serialize)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

/// Wilson's score interval for `k` successes in `n` trials at normal quantile `z`; `None`
/// when `n` is zero.
pub fn wilson(k: u64, n: u64, z: f64) -> Option<Interval> {
    if n == 0 {
        return None;
    }
    let (k, n) = (k.min(n) as f64, n as f64);
    let p = k / n;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Some(Interval { low: (center - half).max(0.0), high: (center + half).min(1.0) })
}

/// The exact one-sided upper bound on a rate after `n` trials with no success, at the given
/// confidence: `1 − (1 − confidence)^(1/n)`. `None` when `n` is zero.
pub fn zero_events_upper_bound(n: u64, confidence: f64) -> Option<f64> {
    (n > 0).then(|| 1.0 - (1.0 - confidence).powf(1.0 / n as f64))
}

/// How many judged traces missed, and what that says about the rate.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct MissRate {
    /// Traces that missed.
    pub missed: u64,
    /// Traces judged (passed or missed).
    pub judged: u64,
}

impl MissRate {
    /// The observed share that missed; `None` when nothing was judged.
    pub fn rate(&self) -> Option<f64> {
        (self.judged > 0).then(|| self.missed as f64 / self.judged as f64)
    }

    /// The 95% interval: Wilson's when something missed, `[0, exact upper bound]` when nothing did.
    pub fn interval(&self) -> Option<Interval> {
        if self.missed == 0 {
            zero_events_upper_bound(self.judged, 0.95).map(|high| Interval { low: 0.0, high })
        } else {
            wilson(self.missed, self.judged, Z95)
        }
    }

    /// "5.5% (95% CI 3.7–8.2%)", or with no miss "below 1.0% at 95% confidence"; `None` when
    /// nothing was judged.
    pub fn share(&self) -> Option<String> {
        match (self.rate(), self.interval()) {
            (Some(_), Some(i)) if self.missed == 0 => {
                Some(format!("below {}% at 95% confidence", percent_rounded_up(i.high)))
            }
            (Some(rate), Some(i)) => {
                Some(format!("{}% (95% CI {}–{}%)", percent(rate), percent(i.low), percent(i.high)))
            }
            _ => None,
        }
    }

    /// "22 of 400 missed the 3 s deadline: 5.5% (95% CI 3.7–8.2%)", or with no miss
    /// "0 of 300 missed the 3 s deadline: below 1.0% at 95% confidence".
    pub fn sentence(&self, limit: Nanos) -> String {
        match self.share() {
            Some(share) => {
                format!("{} of {} missed the {} deadline: {share}", self.missed, self.judged, format_limit(limit))
            }
            None => format!("no trace could be judged against the {} deadline", format_limit(limit)),
        }
    }
}

/// A gate on a rate (`check --max-miss-rate`, `replay --max-failure-rate`): at or under the
/// allowed share passes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gate {
    /// The allowed share, from 0 to 1.
    pub max_share: f64,
    /// The allowed percentage as given, to be printed back the same way.
    max_percent: f64,
    /// Whether the rate stayed at or under it.
    pub passed: bool,
}

impl Gate {
    /// Judges `rate` against `max_percent` (0 to 100). Nothing judged fails the gate: no evidence
    /// is not a pass.
    pub fn new(rate: MissRate, max_percent: f64) -> Self {
        let passed = rate.judged > 0 && rate.missed as f64 * 100.0 <= max_percent * rate.judged as f64;
        Gate { max_share: max_percent / 100.0, max_percent, passed }
    }

    /// "the miss rate 4.792% is above the allowed 4.79%": the limit as given, the rate with at
    /// least one decimal more than the limit has, and more while a rate above the limit would
    /// read as the limit (5.04% against 5% is "5.04", not "5.0").
    pub fn comparison(&self, rate: f64) -> String {
        self.comparison_of("miss rate", rate)
    }

    /// [`Gate::comparison`] for a rate with another name ("the failure rate 30% is above ...").
    pub fn comparison_of(&self, what: &str, rate: f64) -> String {
        let allowed = self.max_percent.to_string();
        let mut decimals = allowed.split_once('.').map_or(0, |(_, d)| d.len()) + 1;
        let pct = rate * 100.0;
        while !self.passed && decimals < 6 && format!("{pct:.decimals$}").parse::<f64>() == Ok(self.max_percent) {
            decimals += 1;
        }
        let verb = if self.passed { "is at most" } else { "is above" };
        format!("the {what} {pct:.decimals$}% {verb} the allowed {allowed}%")
    }
}

/// A share as a percentage for people: one decimal (`5.5`), or two significant digits below
/// 0.1% (`0.0030`) so small rates do not read as zero.
pub fn percent(share: f64) -> String {
    let pct = share * 100.0;
    if pct == 0.0 || pct >= 0.1 {
        format!("{pct:.1}")
    } else {
        let decimals = (1.0 - pct.log10().floor()) as usize;
        format!("{pct:.decimals$}")
    }
}

/// An upper bound as a percentage, rounded up so that "below" stays true: one decimal from 1%,
/// two significant digits below it (1 − 0.05^(1/2000) = 0.1497% is "0.15", not "0.1").
pub fn percent_rounded_up(share: f64) -> String {
    let pct = share * 100.0;
    let decimals = if pct >= 1.0 || pct <= 0.0 { 1 } else { (1.0 - pct.log10().floor()).min(12.0) as usize };
    let scale = 10f64.powi(decimals as i32);
    // The small allowance keeps a bound that is exactly representable (0.15) from going up a step.
    let up = ((pct * scale) - 1e-6).ceil() / scale;
    // 0.9937 rounds up to 1.00: from 1% on, one decimal.
    let decimals = if up >= 1.0 { 1 } else { decimals };
    format!("{up:.decimals$}")
}

/// Response-time percentiles (nearest-rank) and the maximum.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Percentiles {
    /// Median.
    pub p50: Nanos,
    /// 95th percentile.
    pub p95: Nanos,
    /// 99th percentile.
    pub p99: Nanos,
    /// Slowest.
    pub max: Nanos,
}

impl Percentiles {
    /// Sorts `times` and reads the percentiles; `None` when empty.
    pub fn of(times: &mut [Nanos]) -> Option<Self> {
        times.sort_unstable();
        let max = *times.last()?;
        Some(Percentiles {
            p50: nearest_rank(times, 50),
            p95: nearest_rank(times, 95),
            p99: nearest_rank(times, 99),
            max,
        })
    }
}

/// The `pct`th percentile of sorted, non-empty `times`: the value at rank ⌈pct·n/100⌉.
fn nearest_rank(sorted: &[Nanos], pct: usize) -> Nanos {
    let rank = (pct * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

/// What many verdicts add up to.
#[derive(Clone, PartialEq, Debug)]
pub struct Summary {
    /// Traces seen, judged or not.
    pub traces: u64,
    /// Judged traces and misses.
    pub rate: MissRate,
    /// Traces that could not be judged (not in the rate nor the percentiles).
    pub undecided: u64,
    /// Response-time percentiles of the judged traces.
    pub response: Option<Percentiles>,
    /// Index (in the order given) of the judged trace with the longest response time; the first
    /// such when several tie.
    pub worst: Option<usize>,
}

impl Summary {
    /// Adds up samples.
    pub fn of(samples: impl IntoIterator<Item = Sample>) -> Self {
        let mut summary = Summary { traces: 0, rate: MissRate::default(), undecided: 0, response: None, worst: None };
        let mut times = Vec::new();
        let mut worst: Option<(Nanos, usize)> = None;
        for (i, sample) in samples.into_iter().enumerate() {
            summary.traces += 1;
            match sample.outcome {
                Outcome::Undecided => summary.undecided += 1,
                Outcome::Miss => summary.rate.missed += 1,
                Outcome::Pass => {}
            }
            if sample.outcome != Outcome::Undecided {
                summary.rate.judged += 1;
            }
            if let Some(time) = sample.judged_response() {
                times.push(time);
                if worst.is_none_or(|(t, _)| time > t) {
                    worst = Some((time, i));
                }
            }
        }
        summary.response = Percentiles::of(&mut times);
        summary.worst = worst.map(|(_, i)| i);
        summary
    }
}

/// One endpoint's share of the traces.
#[derive(Clone, PartialEq, Debug)]
pub struct EndpointStats {
    /// The root operation's name.
    pub endpoint: String,
    /// Its traces, summarized.
    pub summary: Summary,
}

/// Groups samples by endpoint (each sample's key, the root operation) and summarizes each
/// group; `worst` indexes refer to the order given. Busiest endpoint first, then by name.
pub fn by_endpoint<'a>(samples: impl IntoIterator<Item = (&'a str, Sample)>) -> Vec<EndpointStats> {
    let mut groups: Vec<(&'a str, Vec<(usize, Sample)>)> = Vec::new();
    let mut slot: std::collections::HashMap<&'a str, usize> = std::collections::HashMap::new();
    for (i, (key, sample)) in samples.into_iter().enumerate() {
        let g = *slot.entry(key).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push((i, sample));
    }
    let mut stats: Vec<EndpointStats> = groups
        .into_iter()
        .map(|(endpoint, members)| {
            let mut summary = Summary::of(members.iter().map(|m| m.1));
            summary.worst = summary.worst.and_then(|local| members.get(local)).map(|m| m.0);
            EndpointStats { endpoint: endpoint.to_owned(), summary }
        })
        .collect();
    stats.sort_by(|a, b| b.summary.traces.cmp(&a.summary.traces).then_with(|| a.endpoint.cmp(&b.endpoint)));
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Nanos = 1_000_000;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-5
    }

    #[test]
    fn wilson_matches_published_values() {
        // 22 of 400: the example; 3.66%–8.19% by the score formula.
        let i = wilson(22, 400, Z95).unwrap();
        assert!(close(i.low, 0.036_59) && close(i.high, 0.081_86), "{i:?}");
        // Newcombe (1998), table I: 81 of 263 → 0.2553–0.3662; 15 of 148 → 0.0624–0.1605.
        let i = wilson(81, 263, Z95).unwrap();
        assert!(close(i.low, 0.2553) && close(i.high, 0.3662), "{i:?}");
        let i = wilson(15, 148, Z95).unwrap();
        assert!(close(i.low, 0.0624) && close(i.high, 0.1605), "{i:?}");
        // Every trial a success: the interval touches 1 and stays inside [0, 1].
        let i = wilson(10, 10, Z95).unwrap();
        assert!(close(i.high, 1.0) && close(i.low, 0.7225), "{i:?}");
        assert_eq!(wilson(0, 0, Z95), None);
    }

    #[test]
    fn zero_misses_give_the_exact_one_sided_bound() {
        assert!(close(zero_events_upper_bound(300, 0.95).unwrap(), 0.009_936), "≈ 3/300");
        assert!(close(zero_events_upper_bound(1, 0.95).unwrap(), 0.95));
        assert!(close(zero_events_upper_bound(100, 0.95).unwrap(), 0.029_513));
        assert_eq!(zero_events_upper_bound(0, 0.95), None);
    }

    #[test]
    fn sentences_say_the_rate_and_its_interval() {
        let limit = 3_000 * MS;
        assert_eq!(
            MissRate { missed: 22, judged: 400 }.sentence(limit),
            "22 of 400 missed the 3 s deadline: 5.5% (95% CI 3.7–8.2%)"
        );
        assert_eq!(
            MissRate { missed: 0, judged: 300 }.sentence(limit),
            "0 of 300 missed the 3 s deadline: below 1.0% at 95% confidence"
        );
        assert_eq!(
            MissRate { missed: 0, judged: 100_000 }.sentence(limit),
            "0 of 100000 missed the 3 s deadline: below 0.0030% at 95% confidence"
        );
        assert_eq!(MissRate::default().sentence(limit), "no trace could be judged against the 3 s deadline");
    }

    #[test]
    fn upper_bounds_round_up() {
        assert_eq!(percent_rounded_up(zero_events_upper_bound(2000, 0.95).unwrap()), "0.15");
        assert_eq!(percent_rounded_up(zero_events_upper_bound(486, 0.95).unwrap()), "0.62");
        assert_eq!(percent_rounded_up(zero_events_upper_bound(8, 0.95).unwrap()), "31.3");
        assert_eq!(percent_rounded_up(0.0015), "0.15");
        assert_eq!(percent_rounded_up(0.009937), "1.0");
        assert_eq!(percent_rounded_up(1.0), "100.0");
    }

    #[test]
    fn percent_keeps_small_rates_visible() {
        assert_eq!(percent(0.055), "5.5");
        assert_eq!(percent(0.0), "0.0");
        assert_eq!(percent(1.0), "100.0");
        assert_eq!(percent(0.00042), "0.042");
        assert_eq!(percent(0.000_003), "0.00030");
    }

    #[test]
    fn nearest_rank_percentiles() {
        let mut times: Vec<Nanos> = (1..=100).rev().map(|i| i * MS).collect();
        let p = Percentiles::of(&mut times).unwrap();
        assert_eq!((p.p50, p.p95, p.p99, p.max), (50 * MS, 95 * MS, 99 * MS, 100 * MS));
        let mut one = [7];
        let p = Percentiles::of(&mut one).unwrap();
        assert_eq!((p.p50, p.p99, p.max), (7, 7, 7));
        // Ranks round up: of 10 values the 95th percentile is the 10th, the median the 5th.
        let mut ten: Vec<Nanos> = (1..=10).collect();
        let p = Percentiles::of(&mut ten).unwrap();
        assert_eq!((p.p50, p.p95, p.p99), (5, 10, 10));
        assert_eq!(Percentiles::of(&mut []), None);
    }

    fn sample(outcome: Outcome, ms: Option<Nanos>) -> Sample {
        Sample { outcome, response: ms.map(|m| m * MS) }
    }

    #[test]
    fn summary_counts_misses_and_leaves_undecided_out() {
        let samples = [
            sample(Outcome::Pass, Some(100)),
            sample(Outcome::Miss, Some(3_400)),
            sample(Outcome::Undecided, Some(9_000)),
            sample(Outcome::Pass, Some(300)),
            sample(Outcome::Miss, Some(3_400)),
            sample(Outcome::Undecided, None),
        ];
        let s = Summary::of(samples);
        assert_eq!((s.traces, s.undecided), (6, 2));
        assert_eq!(s.rate, MissRate { missed: 2, judged: 4 });
        assert_eq!(s.worst, Some(1), "the first of the slowest judged traces; undecided ones never win");
        let p = s.response.unwrap();
        assert_eq!((p.p50, p.max), (300 * MS, 3_400 * MS));
        let empty = Summary::of([sample(Outcome::Undecided, None)]);
        assert_eq!((empty.rate.judged, empty.response, empty.worst), (0, None, None));
    }

    #[test]
    fn endpoints_are_summarized_apart_with_indexes_into_the_whole() {
        let samples = [
            ("POST /slack/events", sample(Outcome::Pass, Some(50))),
            ("POST /slack/interactions", sample(Outcome::Pass, Some(900))),
            ("POST /slack/interactions", sample(Outcome::Miss, Some(3_300))),
            ("POST /slack/interactions", sample(Outcome::Pass, Some(1_200))),
        ];
        let stats = by_endpoint(samples);
        assert_eq!(stats.len(), 2);
        assert_eq!(stats[0].endpoint, "POST /slack/interactions");
        assert_eq!(stats[0].summary.rate, MissRate { missed: 1, judged: 3 });
        assert_eq!(stats[0].summary.worst, Some(2));
        assert_eq!(stats[0].summary.response.unwrap().p50, 1_200 * MS);
        assert_eq!(stats[1].endpoint, "POST /slack/events");
        assert_eq!((stats[1].summary.traces, stats[1].summary.worst), (1, Some(0)));
    }

    #[test]
    fn the_gate_fails_only_above_the_allowed_share() {
        let rate = |missed, judged| MissRate { missed, judged };
        assert!(Gate::new(rate(5, 100), 5.0).passed, "exactly the allowed share passes");
        assert!(!Gate::new(rate(6, 100), 5.0).passed);
        assert!(Gate::new(rate(0, 100), 0.0).passed);
        assert!(!Gate::new(rate(1, 100_000), 0.0).passed, "with 0% any miss fails");
        assert!(!Gate::new(rate(0, 0), 100.0).passed, "nothing judged is no evidence");
        assert_eq!(Gate::new(rate(1, 3), 2.5).max_share, 0.025);
    }

    #[test]
    fn the_gate_prints_the_rate_finer_than_the_limit() {
        let rate = MissRate { missed: 115, judged: 2400 };
        let gate = |max| Gate::new(rate, max).comparison(rate.rate().unwrap());
        assert_eq!(gate(4.79), "the miss rate 4.792% is above the allowed 4.79%");
        assert_eq!(gate(4.8), "the miss rate 4.79% is at most the allowed 4.8%");
        assert_eq!(gate(5.0), "the miss rate 4.8% is at most the allowed 5%");
        let above = MissRate { missed: 126, judged: 2500 };
        let comparison = Gate::new(above, 5.0).comparison(above.rate().unwrap());
        assert_eq!(comparison, "the miss rate 5.04% is above the allowed 5%");
    }
}
