//! Sentry: Discover's events API over the transactions dataset; a transaction is the root of
//! one service's part of a trace, and `transaction.duration` (milliseconds) its length.
//!
//! - Figures: `GET /api/0/organizations/{org}/events/?dataset=transactions&field=count()`
//!   `&field=count_if(transaction.duration,greater,3000)&field=p50(transaction.duration)`
//!   `&field=p95(transaction.duration)&field=p99(transaction.duration)`
//!   `&query=project:front transaction:"POST /slack/interactions"&start=&end=`; the answer is
//!   `{"data": [{"count()": 52310, …}], "meta": {"fields": {…}, "units": {…}}}`. Per endpoint,
//!   `&field=transaction&sort=-count()&per_page=100` makes a row per transaction name.
//! - Trend: `GET …/events-stats/?dataset=transactions&yAxis=count()&yAxis=count_if(…)&interval=1h`;
//!   with two axes the answer is keyed by axis, each `{"data": [[unix_seconds, [{"count": n}]], …]}`.
//! - Slowest: `GET …/events/?dataset=transactions&field=trace&field=transaction.duration`
//!   `&sort=-transaction.duration&per_page=N` (at most 100), then each trace by id.
//!
//! Times are sent as `start`/`end` in UTC without an offset, as Sentry's own pages send them.
//! A field Sentry does not know is refused with 400 and a `detail`, shown as the server said it.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

use super::super::http::{Http, origin};
use super::super::query::endpoint;
use super::super::search::traceql_string;
use super::super::target::trace_id;
use super::{Bucket, Figures, ServerStats, StatsQuery, count, nanos_of, step_text};
use crate::fetch::{Backend, ErrorKind, FetchError};
use crate::model::Nanos;

const COUNT: &str = "count()";
const QUANTILES: [&str; 3] = ["p50(transaction.duration)", "p95(transaction.duration)", "p99(transaction.duration)"];
/// Discover's largest page.
const MAX_PAGE: usize = 100;

/// `count_if(transaction.duration,greater,3000)`: the deadline in milliseconds.
fn late_field(deadline: Nanos) -> String {
    format!("count_if(transaction.duration,greater,{})", deadline as f64 / 1e6)
}

/// Sentry's search for the service's (project's) transactions, of the operation when given.
/// Its quoting is TraceQL's: `"` around, `\` before `"` and `\`.
fn search_text(query: &StatsQuery) -> String {
    let mut parts = vec![format!("project:{}", query.search.service.trim())];
    if let Some(operation) = query.search.operation() {
        parts.push(format!("transaction:{}", traceql_string(operation)));
    }
    parts.join(" ")
}

/// `{base}/api/0/organizations/{org}/{path}` with the dataset, `pairs`, the search and the range.
fn url(query: &StatsQuery, base: &Url, path: &str, pairs: &[(&str, String)]) -> Url {
    let org = query.org().unwrap_or_default();
    let mut url = endpoint(base, &format!("api/0/organizations/{org}/{path}"));
    let time = |t: Timestamp| t.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    let mut all: Vec<(&str, String)> = vec![("dataset", "transactions".into())];
    all.extend(pairs.iter().cloned());
    all.push(("query", search_text(query)));
    all.push(("start", time(query.search.start)));
    all.push(("end", time(query.search.end)));
    url.query_pairs_mut().extend_pairs(all);
    url
}

async fn get(http: &Http<'_>, query: &StatsQuery, url: Url, queries: &mut Vec<String>) -> Result<Vec<u8>, FetchError> {
    queries.push(url.to_string());
    let what = format!("the Discover query of organization {}", query.org().unwrap_or_default());
    http.get(&url, "application/json", &what).await
}

/// Discover's table answer.
#[derive(Deserialize)]
struct Table {
    data: Vec<Map<String, Value>>,
    #[serde(default)]
    meta: Map<String, Value>,
}

fn not_an_answer(base: &Url, why: impl std::fmt::Display) -> FetchError {
    FetchError::new(
        ErrorKind::NotATrace,
        format!("Sentry at {} answered something that is not a Discover result: {why}", origin(base)),
    )
}

fn table(base: &Url, body: &[u8]) -> Result<Table, FetchError> {
    serde_json::from_slice(body).map_err(|e| not_an_answer(base, e))
}

/// Nanoseconds per unit Discover names in `meta.units` (milliseconds when it names none).
fn per_unit(meta: &Map<String, Value>, field: &str) -> f64 {
    match meta.get("units").and_then(|u| u.get(field)).and_then(Value::as_str) {
        Some("nanosecond") => 1.0,
        Some("microsecond") => 1e3,
        Some("second") => 1e9,
        _ => 1e6,
    }
}

/// The figures of one row.
fn row_figures(
    base: &Url,
    row: &Map<String, Value>,
    late: &str,
    meta: &Map<String, Value>,
) -> Result<Figures, FetchError> {
    let number = |field: &str| row.get(field).and_then(Value::as_f64);
    let required =
        |field: &str| number(field).ok_or_else(|| not_an_answer(base, format!("a row has no number {field}")));
    let quantile = |i: usize| number(QUANTILES[i]).and_then(|v| nanos_of(v, per_unit(meta, QUANTILES[i])));
    Ok(Figures {
        roots: count(required(COUNT)?),
        missed: count(required(late)?),
        p50: quantile(0),
        p95: quantile(1),
        p99: quantile(2),
    })
}

/// Asks for the figures (and the trend, per endpoint, when asked).
pub(super) async fn stats(http: &Http<'_>, query: &StatsQuery, base: &Url) -> Result<ServerStats, FetchError> {
    let mut queries = Vec::new();
    let late = late_field(query.deadline);
    let mut fields: Vec<(&str, String)> = vec![("field", COUNT.into()), ("field", late.clone())];
    fields.extend(QUANTILES.iter().map(|q| ("field", q.to_string())));

    let answer = table(base, &get(http, query, url(query, base, "events/", &fields), &mut queries).await?)?;
    let whole = match answer.data.first() {
        Some(row) => row_figures(base, row, &late, &answer.meta)?,
        None => Figures::default(),
    };
    let notes = sampling_notes(&answer.meta);

    let mut endpoints = Vec::new();
    if query.by_endpoint {
        let mut grouped = fields.clone();
        grouped.push(("field", "transaction".into()));
        grouped.push(("sort", format!("-{COUNT}")));
        grouped.push(("per_page", MAX_PAGE.to_string()));
        let answer = table(base, &get(http, query, url(query, base, "events/", &grouped), &mut queries).await?)?;
        for row in &answer.data {
            let name = row.get("transaction").and_then(Value::as_str).unwrap_or_default().to_owned();
            endpoints.push((name, row_figures(base, row, &late, &answer.meta)?));
        }
    }

    let trend = match query.step {
        Some(step) => {
            let axes = [("yAxis", COUNT.to_owned()), ("yAxis", late.clone()), ("interval", step_text(step))];
            let body = get(http, query, url(query, base, "events-stats/", &axes), &mut queries).await?;
            series(base, &body, &late)?
        }
        None => Vec::new(),
    };
    Ok(ServerStats { source: format!("Sentry at {}", origin(base)), whole, endpoints, trend, notes, queries })
}

/// What the answer's `meta` says of sampling; Sentry counts what it stored.
fn sampling_notes(meta: &Map<String, Value>) -> Vec<String> {
    let mut notes = Vec::new();
    if meta.get("isMetricsData").and_then(Value::as_bool) == Some(true) {
        notes.push("Sentry answered from its metrics, extrapolated over the sampled transactions".to_owned());
    } else {
        notes.push(
            "Sentry counts the transactions it stored: with a traces sample rate below 1 these are the sample's counts (a random sample's miss rate still estimates everyone's)"
                .to_owned(),
        );
    }
    if let Some(scanned) = meta.get("dataScanned").and_then(Value::as_str).filter(|s| *s != "full") {
        notes.push(format!("Sentry says it scanned {scanned} data (dataScanned: {scanned})"));
    }
    notes
}

/// The per-bucket counts of an events-stats answer with the two axes.
fn series(base: &Url, body: &[u8], late: &str) -> Result<Vec<Bucket>, FetchError> {
    let answer: Map<String, Value> = serde_json::from_slice(body).map_err(|e| not_an_answer(base, e))?;
    let mut buckets: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    for (axis, is_late) in [(COUNT, false), (late, true)] {
        let points = answer
            .get(axis)
            .and_then(|a| a.get("data"))
            .and_then(Value::as_array)
            .ok_or_else(|| not_an_answer(base, format!("the time series has no `{axis}` with `data`")))?;
        for (i, point) in points.iter().enumerate() {
            let bad = || not_an_answer(base, format!("point {} of `{axis}` is not [time, [{{\"count\": n}}]]", i + 1));
            let (Some(time), Some(values)) =
                (point.get(0).and_then(Value::as_i64), point.get(1).and_then(Value::as_array))
            else {
                return Err(bad());
            };
            let total: f64 = values.iter().filter_map(|v| v.get("count").and_then(Value::as_f64)).sum();
            let bucket = buckets.entry(time).or_default();
            if is_late { bucket.1 += count(total) } else { bucket.0 += count(total) }
        }
    }
    buckets
        .into_iter()
        .map(|(seconds, (roots, missed))| {
            let start = Timestamp::from_second(seconds).map_err(|e| not_an_answer(base, e))?;
            Ok(Bucket { start, roots, missed })
        })
        .collect()
}

/// The trace ids of the slowest transactions, slowest first, and what was listed, for people.
pub(super) async fn slowest(
    http: &Http<'_>,
    query: &StatsQuery,
    base: &Url,
) -> Result<(Vec<String>, String), FetchError> {
    let page = query.search.limit.min(MAX_PAGE);
    let pairs = [
        ("field", "trace".to_owned()),
        ("field", "transaction.duration".to_owned()),
        ("sort", "-transaction.duration".to_owned()),
        ("per_page", page.to_string()),
    ];
    let answer = table(base, &get(http, query, url(query, base, "events/", &pairs), &mut Vec::new()).await?)?;
    let mut ids: Vec<String> = Vec::new();
    for (i, row) in answer.data.iter().enumerate() {
        let text = row.get("trace").and_then(Value::as_str).unwrap_or_default();
        let id = trace_id(Backend::Sentry, text)
            .map_err(|e| not_an_answer(base, format!("row {} of the slowest transactions: {}", i + 1, e.message)))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let capped = if query.search.limit > MAX_PAGE {
        format!(" (Discover gives at most {MAX_PAGE} a page)")
    } else {
        String::new()
    };
    let of = match query.search.operation() {
        Some(operation) => format!("project {:?}, transaction {operation:?}", query.search.service.trim()),
        None => format!("project {:?}", query.search.service.trim()),
    };
    let listing =
        format!("listed the {} slowest transaction(s) of {of}{capped}, in {} trace(s)", answer.data.len(), ids.len());
    Ok((ids, listing))
}

#[cfg(test)]
mod tests {
    use super::super::tests::query;
    use super::*;

    #[test]
    fn the_discover_query_is_the_documented_one() {
        let q = query(Backend::Sentry);
        let base = Url::parse("https://sentry.example.com").unwrap();
        let url = url(&q, &base, "events/", &[("field", COUNT.into()), ("field", late_field(q.deadline))]);
        assert_eq!(url.path(), "/api/0/organizations/acme/events/");
        let pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let expected = [
            ("dataset", "transactions"),
            ("field", "count()"),
            ("field", "count_if(transaction.duration,greater,3000)"),
            ("query", r#"project:front transaction:"POST /slack/interactions""#),
            ("start", "2023-11-14T22:13:20"),
            ("end", "2023-11-21T22:13:20"),
        ];
        assert_eq!(pairs, expected.map(|(k, v)| (k.to_owned(), v.to_owned())));
        assert_eq!(late_field(2_500_500_000), "count_if(transaction.duration,greater,2500.5)");
    }

    #[test]
    fn rows_and_series_are_read_with_their_units() {
        let base = Url::parse("https://s").unwrap();
        let late = late_field(3_000_000_000);
        let body = format!(
            r#"{{"data":[{{"count()":52310,"{late}":1284,"p50(transaction.duration)":212.5,"p95(transaction.duration)":2.1,"p99(transaction.duration)":null}}],
               "meta":{{"fields":{{}},"units":{{"p95(transaction.duration)":"second"}},"isMetricsData":false}}}}"#
        );
        let t = table(&base, body.as_bytes()).unwrap();
        let f = row_figures(&base, &t.data[0], &late, &t.meta).unwrap();
        assert_eq!(
            f,
            Figures { roots: 52310, missed: 1284, p50: Some(212_500_000), p95: Some(2_100_000_000), p99: None }
        );
        assert_eq!(sampling_notes(&t.meta).len(), 1);
        let missing = row_figures(&base, &Map::new(), &late, &t.meta).unwrap_err();
        assert!(missing.message.contains("a row has no number count()"), "{missing}");

        let stats = format!(
            r#"{{"count()":{{"data":[[1700000000,[{{"count":10}}]],[1700003600,[{{"count":8}}]]],"order":0}},
               "{late}":{{"data":[[1700000000,[{{"count":2}}]],[1700003600,[{{"count":0}}]]],"order":1}}}}"#
        );
        let buckets = series(&base, stats.as_bytes(), &late).unwrap();
        let read: Vec<(i64, u64, u64)> = buckets.iter().map(|b| (b.start.as_second(), b.roots, b.missed)).collect();
        assert_eq!(read, [(1_700_000_000, 10, 2), (1_700_003_600, 8, 0)]);
        let single = series(&base, br#"{"data":[[1700000000,[{"count":1}]]]}"#, &late).unwrap_err();
        assert!(single.message.contains("has no `count()` with `data`"), "{single}");
    }
}
