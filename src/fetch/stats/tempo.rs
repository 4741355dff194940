//! Tempo: TraceQL metrics over the root spans (`nestedSetParent < 0`) of a service, and the
//! slowest of its traces through the TraceQL search.
//!
//! Three instant queries (`GET /api/metrics/query?q=&start=&end=`, one value over the range)
//! give the figures:
//! `{ nestedSetParent < 0 && resource.service.name = "S" && name = "O" } | count_over_time()`,
//! the same with `&& duration > 3s`, and `… | quantile_over_time(duration, 0.5, 0.95, 0.99)`
//! (seconds; one series per quantile, labelled `p`). Per endpoint, each gets `by (name)`. The
//! trend asks the two counts of `GET /api/metrics/query_range` with `&step=1h`: series of
//! `samples`, `{"timestampMs": "…", "value": n}`, one per bucket start.
//!
//! TraceQL metrics are a public-preview feature that needs the local-blocks processor; a Tempo
//! without it answers `localblocks processor not found`, which is said as such, not retried.
//!
//! Tempo's search does not rank by duration, so the slowest traces are found by listing more
//! candidates than wanted (five times the limit, at most 1000), ranking them by the duration
//! each hit carries (`durationMs`), and fetching the top.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::super::http::{Http, origin};
use super::super::query::endpoint;
use super::super::search::{go_duration, tempo_hits, traceql_string, units};
use super::{Bucket, Figures, ServerStats, StatsQuery, count, nanos_of, step_text};
use crate::fetch::{ErrorKind, FetchError};
use crate::model::Nanos;

/// The root spans, in TraceQL.
const ROOT: &str = "nestedSetParent < 0";
/// What Tempo answers when TraceQL metrics are turned off.
const METRICS_OFF: &str = "localblocks processor not found";
/// How many candidates to list per trace wanted, and at most.
const CANDIDATES_PER_TRACE: usize = 5;
const MAX_CANDIDATES: usize = 1000;

/// The spanset selector: the roots of the service (and operation), with `extra` conditions.
fn selector(query: &StatsQuery, extra: Option<String>) -> String {
    let search = &query.search;
    let mut conditions =
        vec![ROOT.to_owned(), format!("resource.service.name = {}", traceql_string(search.service.trim()))];
    if let Some(operation) = search.operation() {
        conditions.push(format!("name = {}", traceql_string(operation)));
    }
    conditions.extend(extra);
    format!("{{ {} }}", conditions.join(" && "))
}

/// A metrics query over the roots (those over the deadline when `late`), grouped by name when
/// `by_endpoint`.
fn metrics(query: &StatsQuery, late: bool, function: &str, by_endpoint: bool) -> String {
    let late =
        late.then(|| format!("duration > {}", go_duration(std::time::Duration::from_nanos(query.deadline as u64))));
    let by = if by_endpoint { " by (name)" } else { "" };
    format!("{} | {function}{by}", selector(query, late))
}

/// `{base}/api/metrics/{kind}?q=&start=&end=` (and `step`).
fn metrics_url(query: &StatsQuery, base: &Url, kind: &str, traceql: &str) -> Url {
    let mut url = endpoint(base, &format!("api/metrics/{kind}"));
    url.query_pairs_mut()
        .append_pair("q", traceql)
        .append_pair("start", &units(query.search.start, 1_000_000_000, false).to_string())
        .append_pair("end", &units(query.search.end, 1_000_000_000, true).to_string());
    if let (Some(step), "query_range") = (query.step, kind) {
        url.query_pairs_mut().append_pair("step", &step_text(step));
    }
    url
}

/// Asks for the figures (and the trend, per endpoint, when asked).
pub(super) async fn stats(http: &Http<'_>, query: &StatsQuery, base: &Url) -> Result<ServerStats, FetchError> {
    let mut queries = Vec::new();
    let whole = figures(http, query, base, false, &mut queries).await?.into_iter().next().map(|(_, f)| f);
    let endpoints = match query.by_endpoint {
        true => figures(http, query, base, true, &mut queries).await?,
        false => Vec::new(),
    };
    let trend = match query.step {
        Some(_) => trend(http, query, base, &mut queries).await?,
        None => Vec::new(),
    };
    Ok(ServerStats {
        source: format!("Tempo at {}", origin(base)),
        whole: whole.unwrap_or_default(),
        endpoints,
        trend,
        notes: vec![
            "Tempo counts the spans it still holds: its retention bounds how far back this reaches, and spans dropped by sampling before Tempo are not counted".to_owned(),
        ],
        queries,
    })
}

/// The figures, one entry per endpoint (`by_endpoint`) or one for the whole (named "").
async fn figures(
    http: &Http<'_>,
    query: &StatsQuery,
    base: &Url,
    by_endpoint: bool,
    queries: &mut Vec<String>,
) -> Result<Vec<(String, Figures)>, FetchError> {
    let mut out: Vec<(String, Figures)> = Vec::new();
    let count_query = metrics(query, false, "count_over_time()", by_endpoint);
    for series in instant(http, query, base, &count_query, queries).await? {
        entry(&mut out, series.name).roots += count(series.value);
    }
    let late_query = metrics(query, true, "count_over_time()", by_endpoint);
    for series in instant(http, query, base, &late_query, queries).await? {
        entry(&mut out, series.name).missed += count(series.value);
    }
    let quantiles = metrics(query, false, "quantile_over_time(duration, 0.5, 0.95, 0.99)", by_endpoint);
    for series in instant(http, query, base, &quantiles, queries).await? {
        let value = nanos_of(series.value, 1e9);
        let figures = entry(&mut out, series.name);
        match series.quantile.map(|p| (p * 100.0).round() as u32) {
            Some(50) => figures.p50 = value,
            Some(95) => figures.p95 = value,
            Some(99) => figures.p99 = value,
            _ => {}
        }
    }
    out.sort_by(|a, b| b.1.roots.cmp(&a.1.roots).then_with(|| a.0.cmp(&b.0)));
    Ok(out)
}

fn entry(list: &mut Vec<(String, Figures)>, name: String) -> &mut Figures {
    let at = match list.iter().position(|(n, _)| *n == name) {
        Some(at) => at,
        None => {
            list.push((name, Figures::default()));
            list.len() - 1
        }
    };
    &mut list[at].1
}

/// The two counts per bucket.
async fn trend(
    http: &Http<'_>,
    query: &StatsQuery,
    base: &Url,
    queries: &mut Vec<String>,
) -> Result<Vec<Bucket>, FetchError> {
    let mut buckets: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    for late in [false, true] {
        let url = metrics_url(query, base, "query_range", &metrics(query, late, "count_over_time()", false));
        let body = get(http, base, url, queries).await?;
        for (ms, value) in samples(base, &body)? {
            let bucket = buckets.entry(ms).or_default();
            if late { bucket.1 += count(value) } else { bucket.0 += count(value) }
        }
    }
    buckets
        .into_iter()
        .map(|(ms, (roots, missed))| {
            let start = Timestamp::from_millisecond(ms)
                .map_err(|e| not_an_answer(base, format!("a sample's timestampMs {ms} is not a time: {e}")))?;
            Ok(Bucket { start, roots, missed })
        })
        .collect()
}

/// One series of an instant answer: its group (endpoint) name, quantile and value.
struct Instant {
    name: String,
    quantile: Option<f64>,
    value: f64,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    series: Vec<Series>,
}

#[derive(Deserialize)]
struct Series {
    #[serde(default)]
    labels: Vec<Label>,
    value: Option<Value>,
    #[serde(default)]
    samples: Vec<Sample>,
}

#[derive(Deserialize)]
struct Label {
    key: String,
    value: Option<Value>,
}

#[derive(Deserialize)]
struct Sample {
    #[serde(rename = "timestampMs")]
    timestamp_ms: Option<Value>,
    value: Option<Value>,
}

/// A number as protobuf's JSON writes it: a number, or text for 64-bit integers and NaN.
fn number(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A label's value: `{"stringValue": "…"}`, `{"doubleValue": 0.5}`, `{"intValue": "3"}`.
fn label_text(label: &Label) -> Option<String> {
    let typed = label.value.as_ref()?.as_object()?.values().next()?;
    Some(match typed {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

fn read(base: &Url, body: &[u8]) -> Result<Answer, FetchError> {
    serde_json::from_slice(body).map_err(|e| not_an_answer(base, e))
}

async fn instant(
    http: &Http<'_>,
    query: &StatsQuery,
    base: &Url,
    traceql: &str,
    queries: &mut Vec<String>,
) -> Result<Vec<Instant>, FetchError> {
    let body = get(http, base, metrics_url(query, base, "query", traceql), queries).await?;
    read(base, &body)?
        .series
        .into_iter()
        .enumerate()
        .map(|(i, series)| {
            let value = number(series.value.as_ref())
                .ok_or_else(|| not_an_answer(base, format!("series {} has no number `value`", i + 1)))?;
            let quantile =
                series.labels.iter().find(|l| l.key == "p").and_then(label_text).and_then(|p| p.parse().ok());
            // The group: the first label that is neither the quantile nor Tempo's own (`__name__`).
            let name = series.labels.iter().find(|l| l.key != "p" && !l.key.starts_with("__")).and_then(label_text);
            Ok(Instant { name: name.unwrap_or_default(), quantile, value })
        })
        .collect()
}

/// Every sample of a range answer, as (bucket start in ms, value).
fn samples(base: &Url, body: &[u8]) -> Result<Vec<(i64, f64)>, FetchError> {
    let mut out = Vec::new();
    for (i, series) in read(base, body)?.series.into_iter().enumerate() {
        for (j, sample) in series.samples.iter().enumerate() {
            let place = format!("sample {} of series {}", j + 1, i + 1);
            let ms = number(sample.timestamp_ms.as_ref())
                .ok_or_else(|| not_an_answer(base, format!("{place} has no `timestampMs`")))?;
            out.push((ms as i64, number(sample.value.as_ref()).unwrap_or(0.0)));
        }
    }
    Ok(out)
}

/// GETs a metrics URL, keeping it in `queries`; Tempo's "metrics are off" said as such.
async fn get(http: &Http<'_>, base: &Url, url: Url, queries: &mut Vec<String>) -> Result<Vec<u8>, FetchError> {
    queries.push(url.to_string());
    let what = "TraceQL metrics query";
    http.get_unless(&url, "application/json", what, |body| body.contains(METRICS_OFF)).await.map_err(|e| {
        if e.message.contains(METRICS_OFF) {
            FetchError::new(
                ErrorKind::Status,
                format!(
                    "Tempo at {} has TraceQL metrics turned off (it answered \"{METRICS_OFF}\"): they need the \
                     local-blocks processor (overrides: defaults: metrics_generator: processors: [local-blocks]); \
                     searching and judging the traces fetched works without them",
                    origin(base)
                ),
            )
        } else if e.kind == ErrorKind::NotFound {
            FetchError::new(
                ErrorKind::NotFound,
                format!(
                    "Tempo at {} has no TraceQL metrics API ({} answered 404): it needs a Tempo with TraceQL \
                     metrics; searching and judging the traces fetched works without them",
                    origin(base),
                    url.path()
                ),
            )
        } else {
            e
        }
    })
}

fn not_an_answer(base: &Url, why: impl std::fmt::Display) -> FetchError {
    FetchError::new(
        ErrorKind::NotATrace,
        format!("Tempo at {} answered something that is not a TraceQL metrics result: {why}", origin(base)),
    )
}

/// The ids of the slowest traces, slowest first, and what was listed, for people.
pub(super) async fn slowest(
    http: &Http<'_>,
    query: &StatsQuery,
    base: &Url,
) -> Result<(Vec<String>, String), FetchError> {
    let limit = query.search.limit;
    let candidates = (limit.saturating_mul(CANDIDATES_PER_TRACE)).min(MAX_CANDIDATES).max(limit);
    let shortest = query.search.min_duration;
    let q = selector(query, shortest.map(|d| format!("duration >= {}", go_duration(d))));
    let mut url = endpoint(base, "api/search");
    url.query_pairs_mut()
        .append_pair("q", &q)
        .append_pair("start", &units(query.search.start, 1_000_000_000, false).to_string())
        .append_pair("end", &units(query.search.end, 1_000_000_000, true).to_string())
        .append_pair("limit", &candidates.to_string());
    let body = http.get(&url, "application/json", "trace search API").await?;
    let mut hits = tempo_hits(base, &body)?;
    let listed = hits.len();
    // Stable: equal durations keep Tempo's order.
    hits.sort_by_key(|hit| std::cmp::Reverse(hit.1));
    hits.truncate(limit);
    let at_least = shortest.map(|d| format!(" of at least {}", crate::analysis::format_limit(d.as_nanos() as Nanos)));
    let listing = format!(
        "listed {listed} trace(s) with {}{} (Tempo's search does not rank by duration: tracedeck ranked its \
         list by each trace's duration)",
        query.describe(),
        at_least.unwrap_or_default()
    );
    Ok((hits.into_iter().map(|(id, _)| id).collect(), listing))
}

#[cfg(test)]
mod tests {
    use super::super::tests::query;
    use super::*;
    use crate::fetch::Backend;

    fn pairs(url: &Url) -> Vec<(String, String)> {
        url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    }

    #[test]
    fn the_queries_count_roots_and_late_roots() {
        let q = query(Backend::Tempo);
        let root = r#"{ nestedSetParent < 0 && resource.service.name = "front" && name = "POST /slack/interactions""#;
        assert_eq!(metrics(&q, false, "count_over_time()", false), format!("{root} }} | count_over_time()"));
        assert_eq!(
            metrics(&q, true, "count_over_time()", true),
            format!("{root} && duration > 3s }} | count_over_time() by (name)")
        );
        let base = Url::parse("http://t:3200/tempo/").unwrap();
        let url = metrics_url(&q, &base, "query", "Q");
        assert_eq!(url.path(), "/tempo/api/metrics/query");
        let expected = [("q", "Q"), ("start", "1700000000"), ("end", "1700604800")];
        assert_eq!(pairs(&url), expected.map(|(k, v)| (k.to_owned(), v.to_owned())));
        let stepped = StatsQuery { step: Some(std::time::Duration::from_secs(3600)), ..q };
        let url = metrics_url(&stepped, &base, "query_range", "Q");
        assert_eq!(pairs(&url).last().unwrap(), &("step".to_owned(), "1h".to_owned()));
    }

    #[test]
    fn answers_are_read_as_protobuf_json_writes_them() {
        let base = Url::parse("http://t:3200").unwrap();
        let body = br#"{"series":[{"labels":[{"key":"name","value":{"stringValue":"POST /x"}},{"key":"p","value":{"doubleValue":0.95}}],"value":"NaN"},
            {"labels":[],"samples":[{"timestampMs":"1700000000000","value":4},{"timestampMs":1700003600000}]}]}"#;
        let answer = read(&base, body).unwrap();
        assert_eq!(label_text(&answer.series[0].labels[0]).as_deref(), Some("POST /x"));
        assert_eq!(label_text(&answer.series[0].labels[1]).as_deref(), Some("0.95"));
        assert!(number(answer.series[0].value.as_ref()).unwrap().is_nan());
        assert_eq!(samples(&base, body).unwrap(), [(1_700_000_000_000, 4.0), (1_700_003_600_000, 0.0)]);
        assert!(read(&base, b"{}").unwrap().series.is_empty(), "protobuf JSON leaves out empty lists");
        let bad = read(&base, b"<html>").err().unwrap();
        assert!(bad.message.contains("not a TraceQL metrics result"), "{bad}");
        let no_time = samples(&base, br#"{"series":[{"samples":[{"value":1}]}]}"#).unwrap_err();
        assert!(no_time.message.contains("sample 1 of series 1 has no `timestampMs`"), "{no_time}");
    }
}
