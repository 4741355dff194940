//! Latency injected on purpose, to see how close to Slack's 3 s a fix is: how `--api-latency` is
//! written and read (`800ms`; `200ms..1s` drawn per call; `views.open=800ms,auth.test=200ms` per
//! method), and the seeded draws the mock makes from it for each Web API call.

use std::time::Duration;

use crate::model::{format_duration, parse_duration, std_duration};

/// The seed of the draws when none is given (`--seed`); the demo app's queue uses it too.
pub const DEFAULT_SEED: u64 = 7;

/// One latency: a fixed one, or a range drawn from per call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spread {
    /// Always this long.
    Fixed(Duration),
    /// Uniformly between the two (inclusive), drawn per call.
    Between(Duration, Duration),
}

impl Spread {
    /// Draws one latency.
    pub fn draw(&self, rng: &mut fastrand::Rng) -> Duration {
        match *self {
            Spread::Fixed(d) => d,
            Spread::Between(lo, hi) => {
                let span = hi.saturating_sub(lo).as_micros() as u64;
                lo + Duration::from_micros(rng.u64(0..=span))
            }
        }
    }

    /// `800ms` or `200ms..1s`; the error names the text that is wrong.
    fn parse(text: &str) -> Result<Spread, String> {
        let one = |part: &str| parse_duration(part).map(std_duration);
        match text.split_once("..") {
            None => one(text).map(Spread::Fixed),
            Some((lo, hi)) => {
                let (lo, hi) = (one(lo)?, one(hi)?);
                if lo > hi {
                    return Err(format!("{text:?} is an empty range: its start is after its end"));
                }
                Ok(Spread::Between(lo, hi))
            }
        }
    }
}

impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let human = |d: Duration| format_duration(d.as_nanos() as i64);
        match *self {
            Spread::Fixed(d) => f.write_str(&human(d)),
            Spread::Between(lo, hi) => write!(f, "{}–{}", human(lo), human(hi)),
        }
    }
}

/// How much later the mock answers each Web API call: the same for every method, or per method
/// (methods not named: none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiLatency {
    every: Option<Spread>,
    methods: Vec<(String, Spread)>,
}

impl ApiLatency {
    /// No injected latency.
    pub fn none() -> ApiLatency {
        ApiLatency::default()
    }

    /// The same latency on every call.
    pub fn every(spread: Spread) -> ApiLatency {
        ApiLatency { every: Some(spread), methods: Vec::new() }
    }

    /// Sets the latency of one method (`views.open`; `response_url` for response URLs).
    pub fn set(&mut self, method: &str, spread: Spread) {
        self.methods.retain(|(m, _)| m != method);
        self.methods.push((method.to_owned(), spread));
    }

    /// Parses `800ms`, `200ms..1s` or `views.open=800ms,auth.test=200ms..1s`; the error names
    /// the part that is wrong.
    pub fn parse(text: &str) -> Result<ApiLatency, String> {
        let text = text.trim();
        if !text.contains('=') {
            return Spread::parse(text).map(ApiLatency::every);
        }
        let mut latency = ApiLatency::none();
        for part in text.split(',') {
            let bad = |why: String| format!("in {:?}: {why}", part.trim());
            let Some((method, spread)) = part.split_once('=') else {
                return Err(bad("expected METHOD=DURATION, such as views.open=800ms".into()));
            };
            let method = method.trim();
            if method.is_empty() || !method.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_')) {
                return Err(bad(format!("{method:?} is not a Web API method name, such as views.open")));
            }
            latency.set(method, Spread::parse(spread).map_err(bad)?);
        }
        Ok(latency)
    }

    /// Whether no call is delayed.
    pub fn is_none(&self) -> bool {
        self.every.is_none() && self.methods.is_empty()
    }

    /// The latency of `method`, if it has one.
    pub fn of(&self, method: &str) -> Option<Spread> {
        self.methods.iter().find(|(m, _)| m == method).map(|&(_, s)| s).or(self.every)
    }

    /// The longest latency a call can get.
    pub fn max(&self) -> Duration {
        let spreads = self.every.iter().chain(self.methods.iter().map(|(_, s)| s));
        spreads
            .map(|s| match *s {
                Spread::Fixed(d) | Spread::Between(_, d) => d,
            })
            .max()
            .unwrap_or_default()
    }

    /// Whether some latency is drawn from a range (so the seed matters).
    pub fn is_random(&self) -> bool {
        self.every.iter().chain(self.methods.iter().map(|(_, s)| s)).any(|s| matches!(s, Spread::Between(..)))
    }
}

impl std::fmt::Display for ApiLatency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts: Vec<String> = self.methods.iter().map(|(m, s)| format!("{m} {s}")).collect();
        match (self.every, parts.is_empty()) {
            (Some(every), true) => return write!(f, "{every} on every call"),
            (Some(every), false) => parts.push(format!("{every} on other calls")),
            (None, true) => return f.write_str("none"),
            (None, false) => {}
        }
        f.write_str(&parts.join(", "))
    }
}

/// The mock's draws: an [`ApiLatency`] and the seeded generator ranges are drawn from, in the
/// order calls arrive.
#[derive(Debug)]
pub struct Draws {
    latency: ApiLatency,
    rng: fastrand::Rng,
}

impl Draws {
    /// Draws from `latency`, seeded.
    pub fn new(latency: ApiLatency, seed: u64) -> Draws {
        Draws { latency, rng: fastrand::Rng::with_seed(seed) }
    }

    /// The latency to inject before answering a call of `method` (zero when none).
    pub fn draw(&mut self, method: &str) -> Duration {
        self.latency.of(method).map_or(Duration::ZERO, |spread| spread.draw(&mut self.rng))
    }

    /// What is drawn from.
    pub fn latency(&self) -> &ApiLatency {
        &self.latency
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn reads_one_latency_a_range_or_one_per_method() {
        assert_eq!(ApiLatency::parse("800ms").unwrap(), ApiLatency::every(Spread::Fixed(ms(800))));
        assert_eq!(ApiLatency::parse("200ms..1s").unwrap(), ApiLatency::every(Spread::Between(ms(200), ms(1000))));
        let per = ApiLatency::parse("views.open=800ms, auth.test=200ms..1.5s").unwrap();
        assert_eq!(per.of("views.open"), Some(Spread::Fixed(ms(800))));
        assert_eq!(per.of("auth.test"), Some(Spread::Between(ms(200), ms(1500))));
        assert_eq!(per.of("chat.postMessage"), None, "methods not named get none");
        assert_eq!(per.to_string(), "views.open 800.0 ms, auth.test 200.0 ms–1.50 s");
        assert_eq!(ApiLatency::parse("200ms..1s").unwrap().to_string(), "200.0 ms–1.00 s on every call");
        assert!(ApiLatency::none().is_none() && !per.is_none());
        assert_eq!((per.max(), ApiLatency::none().max()), (ms(1500), Duration::ZERO));
    }

    #[test]
    fn errors_name_the_part_that_is_wrong() {
        let err = ApiLatency::parse("views.open=800ms,auth.test=soon").unwrap_err();
        assert!(err.contains("\"auth.test=soon\"") && err.contains("\"soon\" is not a duration"), "{err}");
        let err = ApiLatency::parse("views.open=800ms,1s").unwrap_err();
        assert!(err.contains("\"1s\"") && err.contains("METHOD=DURATION"), "{err}");
        let err = ApiLatency::parse("views open=1s").unwrap_err();
        assert!(err.contains("\"views open\" is not a Web API method name"), "{err}");
        let err = ApiLatency::parse("1s..200ms").unwrap_err();
        assert!(err.contains("\"1s..200ms\" is an empty range"), "{err}");
        let err = ApiLatency::parse("200ms..").unwrap_err();
        assert!(err.contains("\"\" is not a duration"), "{err}");
    }

    #[test]
    fn draws_are_the_same_for_a_seed_and_stay_in_the_range() {
        let latency = ApiLatency::parse("100ms..900ms").unwrap();
        let draw = |seed| {
            let mut draws = Draws::new(latency.clone(), seed);
            (0..50).map(|_| draws.draw("views.open")).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        assert!(draw(7).iter().all(|d| (ms(100)..=ms(900)).contains(d)));
        assert_eq!(Draws::new(ApiLatency::none(), 7).draw("views.open"), Duration::ZERO);
    }
}
