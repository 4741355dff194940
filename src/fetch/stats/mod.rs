//! Figures computed where the traces live: how many root spans of a service (and operation)
//! there were, how many ran past the deadline, and their duration percentiles, counted by the
//! back-end over all it holds rather than over the traces a laptop can download; and the
//! slowest of those traces, fetched to be judged here.
//!
//! - Sentry: Discover's events API over the transactions dataset
//!   (`GET /api/0/organizations/{org}/events/?dataset=transactions&field=count()&field=count_if(transaction.duration,greater,3000)&field=p50(transaction.duration)…`),
//!   its time series from `…/events-stats/?yAxis=…&interval=1h`, and the slowest transactions
//!   (`field=trace&sort=-transaction.duration`). See [`sentry`].
//! - Tempo: TraceQL metrics, `GET /api/metrics/query` (one value over the range) and
//!   `GET /api/metrics/query_range` (a value per step), with `count_over_time()` and
//!   `quantile_over_time(duration, …)` over the root spans (`nestedSetParent < 0`); the slowest
//!   through the TraceQL search. See [`tempo`].
//! - Jaeger and Zipkin keep no aggregates: [`has_aggregates`] says so, and callers search
//!   instead.
//!
//! What the server counts is the ack rule alone: a root whose duration is over the deadline.
//! Rules that need the span structure (the trigger's expiry) can only be judged here, on the
//! traces fetched.

mod sentry;
mod tempo;

use std::time::Duration;

use jiff::Timestamp;
use url::Url;

use super::http::{Http, origin};
use super::search::{gone_text, traces_text};
use super::{Backend, Config, FetchError, Fetched, Progress, Search, Searched, Token};
use crate::model::Nanos;

/// At most this many buckets in a trend.
const MAX_BUCKETS: i128 = 10_000;

/// What to count, and where.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StatsQuery {
    /// Back-end, base URL, service (Sentry: the project slug), operation and time range; its
    /// `limit` is how many of the slowest traces [`slowest`] fetches, and its `min_duration`,
    /// when given, the shortest root Tempo's search for them lists.
    pub search: Search,
    /// Sentry's organization slug.
    pub org: Option<String>,
    /// The deadline a root's duration is held against.
    pub deadline: Nanos,
    /// Also count per bucket of this length (a trend).
    pub step: Option<Duration>,
    /// Also count per endpoint (operation).
    pub by_endpoint: bool,
}

/// What the server counted over some roots.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Figures {
    /// Root spans (Sentry: transactions) that matched.
    pub roots: u64,
    /// Of those, how many lasted longer than the deadline.
    pub missed: u64,
    /// Median root duration, as the server estimates it.
    pub p50: Option<Nanos>,
    /// 95th percentile.
    pub p95: Option<Nanos>,
    /// 99th percentile.
    pub p99: Option<Nanos>,
}

/// One bucket of a trend.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Bucket {
    /// Where it starts.
    pub start: Timestamp,
    /// Roots in it.
    pub roots: u64,
    /// Of those, how many were over the deadline.
    pub missed: u64,
}

/// The server's answer.
#[derive(Clone, PartialEq, Debug)]
pub struct ServerStats {
    /// Who computed it: `Tempo at http://host:3200`.
    pub source: String,
    /// Over every matching root.
    pub whole: Figures,
    /// Per endpoint, busiest first (empty unless asked).
    pub endpoints: Vec<(String, Figures)>,
    /// Per bucket, in time order (empty unless asked).
    pub trend: Vec<Bucket>,
    /// What the answer says of sampling or coverage, for people.
    pub notes: Vec<String>,
    /// Every request sent, as URLs, so a user can send them by hand.
    pub queries: Vec<String>,
}

/// Whether `backend` can count over all it holds (Sentry, Tempo), or only return traces
/// (Jaeger, Zipkin).
pub fn has_aggregates(backend: Backend) -> bool {
    matches!(backend, Backend::Sentry | Backend::Tempo)
}

impl StatsQuery {
    /// Checks the query before any request; the base URL, parsed.
    pub fn check(&self) -> Result<Url, FetchError> {
        let backend = self.search.backend;
        if !has_aggregates(backend) {
            return Err(FetchError::input(format!(
                "{} keeps no aggregates to count misses over all traffic; only Sentry and Tempo do",
                backend.name()
            )));
        }
        let base = self.search.check_range()?;
        if backend == Backend::Sentry && self.org().is_none() {
            return Err(FetchError::input("Sentry needs the organization slug (--org)"));
        }
        if let Some(step) = self.step {
            let range = self.search.end.as_nanosecond() - self.search.start.as_nanosecond();
            if step < Duration::from_secs(1) || step.subsec_nanos() != 0 {
                return Err(FetchError::input("the trend's step must be whole seconds, at least 1 s"));
            }
            if range / (step.as_nanos() as i128) > MAX_BUCKETS {
                return Err(FetchError::input(format!(
                    "a step of {} makes more than {MAX_BUCKETS} buckets over this time range; take a longer one",
                    step_text(step)
                )));
            }
        }
        Ok(base)
    }

    fn org(&self) -> Option<&str> {
        self.org.as_deref().map(str::trim).filter(|o| !o.is_empty())
    }

    /// The time range for people: "7 days", "1 hour", or "2026-05-01T10:00:00Z to …".
    pub fn window(&self) -> String {
        let (start, end) = (self.search.start, self.search.end);
        let nanos = end.as_nanosecond() - start.as_nanosecond();
        let seconds = (nanos / 1_000_000_000) as i64;
        let unit = [(86_400, "day"), (3_600, "hour"), (60, "minute")]
            .into_iter()
            .find(|(per, _)| nanos > 0 && nanos % (i128::from(*per) * 1_000_000_000) == 0);
        match unit {
            Some((per, name)) if seconds / per == 1 => format!("1 {name}"),
            Some((per, name)) => format!("{} {name}s", seconds / per),
            None => format!("{} to {}", start.strftime("%Y-%m-%dT%H:%M:%SZ"), end.strftime("%Y-%m-%dT%H:%M:%SZ")),
        }
    }

    /// What was counted, for sentences: `root spans of service "front", operation "POST /x",
    /// over 3 s`.
    pub fn describe(&self) -> String {
        let mut text = format!("root spans of service {:?}", self.search.service.trim());
        if let Some(operation) = self.search.operation() {
            text += &format!(", operation {operation:?}");
        }
        text
    }
}

/// A step as both back-ends read it: `1h`, `15m`, `90s`.
pub fn step_text(step: Duration) -> String {
    let seconds = step.as_secs();
    match seconds {
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Asks the back-end for the figures: over the whole range, per endpoint and per bucket when
/// asked. Drop the future to cancel it.
pub async fn stats(
    query: &StatsQuery,
    token: Option<&Token>,
    config: &Config,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<ServerStats, FetchError> {
    let http = Http::new(config, token, progress)?;
    let run = async {
        let base = query.check()?;
        match query.search.backend {
            Backend::Sentry => sentry::stats(&http, query, &base).await,
            _ => tempo::stats(&http, query, &base).await,
        }
    };
    run.await.map_err(|e: FetchError| e.redacted(token))
}

/// Fetches the slowest traces (at most the search's limit), slowest first as far as the
/// back-end ranks them, handing each to `on_found` as it is read.
pub async fn slowest(
    query: &StatsQuery,
    token: Option<&Token>,
    config: &Config,
    progress: &(dyn Fn(Progress) + Send + Sync),
    mut on_found: impl FnMut(Fetched),
) -> Result<Searched, FetchError> {
    let http = Http::new(config, token, progress)?;
    let run = async {
        let base = query.check()?;
        let backend = query.search.backend;
        let (ids, listing) = match backend {
            Backend::Sentry => sentry::slowest(&http, query, &base).await?,
            _ => tempo::slowest(&http, query, &base).await?,
        };
        http.report(Progress::Found { traces: ids.len() });
        let gone = super::search::fetch_each(&http, backend, &base, query.org(), &ids, &mut on_found).await?;
        let traces = ids.len() - gone.len();
        let source = format!("{} at {}", backend.name(), origin(&base));
        let message = format!("{source} {listing}; fetched {}{}", traces_text(traces), gone_text(&gone));
        Ok(Searched { traces, gone: gone.len(), source, message })
    };
    run.await.map_err(|e: FetchError| e.redacted(token))
}

/// A count the server sent as a number (possibly a float, as Tempo's are).
fn count(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 { value.round() as u64 } else { 0 }
}

/// A duration in `per` nanoseconds (1e9 for seconds), as the server sent it.
fn nanos_of(value: f64, per: f64) -> Option<Nanos> {
    (value.is_finite() && value >= 0.0).then(|| (value * per).round() as Nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn query(backend: Backend) -> StatsQuery {
        StatsQuery {
            search: Search {
                backend,
                base: "http://host:9/prefix/".into(),
                service: " front ".into(),
                operation: Some("POST /slack/interactions".into()),
                start: Timestamp::from_second(1_700_000_000).unwrap(),
                end: Timestamp::from_second(1_700_000_000 + 7 * 86_400).unwrap(),
                min_duration: None,
                limit: 20,
            },
            org: Some("acme".into()),
            deadline: 3_000_000_000,
            step: None,
            by_endpoint: false,
        }
    }

    #[test]
    fn windows_and_steps_read_as_people_say_them() {
        let mut q = query(Backend::Tempo);
        assert_eq!(q.window(), "7 days");
        q.search.end = Timestamp::from_second(1_700_003_600).unwrap();
        assert_eq!(q.window(), "1 hour");
        let now = Timestamp::new(1_700_003_600, 123_456_789).unwrap();
        let two_hours_back = Timestamp::new(1_699_996_400, 123_456_789).unwrap();
        let since = StatsQuery { search: Search { start: two_hours_back, end: now, ..q.search.clone() }, ..q.clone() };
        assert_eq!(since.window(), "2 hours", "--since from now, between fractions of a second");
        q.search.end = Timestamp::from_second(1_700_000_090).unwrap();
        assert_eq!(q.window(), "2023-11-14T22:13:20Z to 2023-11-14T22:14:50Z");
        let steps = [(3600, "1h"), (7200, "2h"), (900, "15m"), (90, "90s")];
        for (seconds, text) in steps {
            assert_eq!(step_text(Duration::from_secs(seconds)), text);
        }
        assert_eq!(q.describe(), "root spans of service \"front\", operation \"POST /slack/interactions\"");
    }

    #[test]
    fn bad_queries_say_what_is_wrong() {
        let cases = [
            (StatsQuery { org: None, ..query(Backend::Sentry) }, "organization slug"),
            (query(Backend::Jaeger), "Jaeger keeps no aggregates"),
            (StatsQuery { step: Some(Duration::from_millis(1500)), ..query(Backend::Tempo) }, "whole seconds"),
            (StatsQuery { step: Some(Duration::from_secs(1)), ..query(Backend::Tempo) }, "more than 10000 buckets"),
        ];
        for (q, expected) in cases {
            let error = q.check().unwrap_err();
            assert!(error.message.contains(expected), "{error}");
        }
        assert!(query(Backend::Sentry).check().is_ok());
        assert!(StatsQuery { step: Some(Duration::from_secs(3600)), ..query(Backend::Tempo) }.check().is_ok());
    }

    #[test]
    fn counts_and_durations_from_server_numbers() {
        assert_eq!((count(52310.0), count(2.6), count(f64::NAN), count(-1.0)), (52310, 3, 0, 0));
        assert_eq!(nanos_of(0.212, 1e9), Some(212_000_000));
        assert_eq!(nanos_of(212.5, 1e6), Some(212_500_000));
        assert_eq!(nanos_of(f64::NAN, 1e9), None);
    }
}
