//! Searching a back-end for the traces of a service: by operation, time range and minimum
//! duration, up to a limit.
//!
//! - Jaeger: `GET {base}/api/traces?service=&operation=&start=&end=&minDuration=&limit=`, times
//!   in microseconds since the epoch and `minDuration` a Go duration (`1500ms`). The answer,
//!   `{"data":[trace, ...]}`, holds every trace found.
//! - Zipkin: `GET {base}/api/v2/traces?serviceName=&spanName=&minDuration=&endTs=&lookback=&limit=`,
//!   `minDuration` in microseconds, `endTs` and `lookback` in milliseconds. The answer is an array
//!   of traces, each an array of spans.
//! - Tempo: `GET {base}/api/search?q=&start=&end=&limit=` with a TraceQL query,
//!   `{ resource.service.name = "S" && name = "O" && duration >= 3s }`, times in Unix seconds.
//!   TraceQL rather than the older `tags=` search because it matches names exactly (tags match
//!   case-insensitive substrings: `api` would also find `api-gateway`). The answer lists trace
//!   summaries (`{"traces":[{"traceID", ...}], "metrics":{...}}`); each is then fetched like a
//!   one-trace fetch (`/api/traces/{id}`), one after the other; a hit that is gone by then (404)
//!   is skipped and said in the result.
//! - Sentry: not supported (its search API is organization- and project-specific); fetch by id.
//!
//! The minimum duration means, as Jaeger and Zipkin define it, that some span of the service
//! (and operation) lasted at least that long; the Tempo query asks the same.
//!
//! Results stream: each trace is handed over as its own [`Fetched`] — its bytes alone (for
//! Jaeger and Zipkin, cut out of the answer: `{"data":[trace]}`, or the trace's span array),
//! readable by [`crate::formats::import`] — as soon as it is read, so a window can show the list
//! growing and a cancelled search keeps what came. Finding nothing is an answer, not an error.

use std::time::Duration;

use jiff::Timestamp;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::http::{Http, origin};
use super::query::endpoint;
use super::target::{missing_base, parse_url, trace_id};
use super::{Backend, Config, ErrorKind, FetchError, Fetched, Progress, Target, Token};
use crate::analysis::format_limit;

/// What to search for, and where.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Search {
    /// The back-end: Jaeger, Tempo or Zipkin.
    pub backend: Backend,
    /// Its base URL (`http://localhost:16686`); it may end in a path prefix.
    pub base: String,
    /// The service whose traces are wanted.
    pub service: String,
    /// Only traces with a span of this name in the service.
    pub operation: Option<String>,
    /// The time range the traces started in.
    pub start: Timestamp,
    /// Its end.
    pub end: Timestamp,
    /// Only traces with a span of the service (and operation) at least this long.
    pub min_duration: Option<Duration>,
    /// At most this many traces.
    pub limit: usize,
}

/// How a search ended.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Searched {
    /// How many traces were handed over.
    pub traces: usize,
    /// How many traces it listed were gone when fetched (Tempo), so were not handed over.
    pub gone: usize,
    /// The back-end, for people: `Jaeger at http://host:16686`.
    pub source: String,
    /// A sentence for people: what was found where, and whether the limit was reached.
    pub message: String,
}

impl Search {
    /// What is searched for, for sentences: `traces of service "checkout", operation "POST /x",
    /// with a span of at least 3 s, from 2026-05-01T10:00:00Z to 2026-05-01T11:00:00Z`.
    pub fn describe(&self) -> String {
        let mut text = format!("of service {:?}", self.service.trim());
        if let Some(operation) = self.operation() {
            text += &format!(", operation {operation:?}");
        }
        if let Some(min) = self.min_duration {
            text += &format!(", with a span of at least {}", format_limit(nanos(min)));
        }
        text + &format!(
            ", from {} to {}",
            self.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            self.end.strftime("%Y-%m-%dT%H:%M:%SZ")
        )
    }

    /// The operation, unless blank.
    pub(super) fn operation(&self) -> Option<&str> {
        self.operation.as_deref().map(str::trim).filter(|o| !o.is_empty())
    }

    /// Checks the search (back-end, base URL, service, limit, time range) before any request;
    /// the base URL, parsed.
    pub fn check(&self) -> Result<Url, FetchError> {
        if self.backend == Backend::Sentry {
            return Err(sentry_not_supported());
        }
        self.check_range()
    }

    /// [`Self::check`] for any back-end: base URL, service, limit and time range.
    pub(super) fn check_range(&self) -> Result<Url, FetchError> {
        let base = match self.base.trim() {
            "" => return Err(missing_base(self.backend)),
            base => parse_url(base)?,
        };
        if self.service.trim().is_empty() {
            return Err(FetchError::input(format!("give the service whose {} traces to search", self.backend.name())));
        }
        if self.limit == 0 {
            return Err(FetchError::input("the search's limit must be at least 1"));
        }
        if self.start >= self.end {
            return Err(FetchError::input(format!(
                "the search's start ({}) is not before its end ({})",
                self.start, self.end
            )));
        }
        Ok(base)
    }

    /// The search request's URL.
    fn url(&self, base: &Url) -> Url {
        let service = self.service.trim().to_owned();
        let operation = self.operation().map(str::to_owned);
        let limit = self.limit.to_string();
        let mut pairs: Vec<(&str, String)> = Vec::new();
        let path = match self.backend {
            Backend::Jaeger => {
                pairs.push(("service", service));
                pairs.extend(operation.map(|o| ("operation", o)));
                pairs.push(("start", units(self.start, 1_000, false).to_string()));
                pairs.push(("end", units(self.end, 1_000, true).to_string()));
                pairs.extend(self.min_duration.map(|d| ("minDuration", go_duration(d))));
                "api/traces"
            }
            Backend::Zipkin => {
                let end = units(self.end, 1_000_000, true);
                pairs.push(("serviceName", service));
                pairs.extend(operation.map(|o| ("spanName", o)));
                pairs.extend(self.min_duration.map(|d| ("minDuration", d.as_nanos().div_ceil(1_000).to_string())));
                pairs.push(("endTs", end.to_string()));
                pairs.push(("lookback", (end - units(self.start, 1_000_000, false)).to_string()));
                "api/v2/traces"
            }
            // Sentry never gets here: `check` refuses it.
            Backend::Tempo | Backend::Sentry => {
                pairs.push(("q", self.traceql()));
                pairs.push(("start", units(self.start, 1_000_000_000, false).to_string()));
                pairs.push(("end", units(self.end, 1_000_000_000, true).to_string()));
                "api/search"
            }
        };
        pairs.push(("limit", limit));
        let mut url = endpoint(base, path);
        url.query_pairs_mut().extend_pairs(pairs);
        url
    }

    /// The TraceQL query of a Tempo search.
    fn traceql(&self) -> String {
        let mut conditions = vec![format!("resource.service.name = {}", traceql_string(self.service.trim()))];
        if let Some(operation) = self.operation() {
            conditions.push(format!("name = {}", traceql_string(operation)));
        }
        if let Some(min) = self.min_duration {
            conditions.push(format!("duration >= {}", go_duration(min)));
        }
        format!("{{ {} }}", conditions.join(" && "))
    }
}

/// Searches, handing each trace to `on_found` as soon as it is read. Drop the future to cancel
/// it (traces handed over stay handed over); see also [`search_cancellable`]. The future is
/// `Send` when `on_found` is (a closure that sends into a channel, for a window).
pub async fn search(
    query: &Search,
    token: Option<&Token>,
    config: &Config,
    progress: &(dyn Fn(Progress) + Send + Sync),
    on_found: impl FnMut(Fetched),
) -> Result<Searched, FetchError> {
    let http = Http::new(config, token, progress)?;
    search_with(&http, query, on_found).await.map_err(|e| e.redacted(token))
}

/// [`search`] with its client set up.
async fn search_with(
    http: &Http<'_>,
    query: &Search,
    mut on_found: impl FnMut(Fetched),
) -> Result<Searched, FetchError> {
    let base = query.check()?;
    let body = http.get(&query.url(&base), "application/json", "trace search API").await?;
    // Tempo hits whose trace is gone by the time it is fetched (compacted, retention):
    // skipped and said, not the end of the search.
    let mut gone: Vec<String> = Vec::new();
    let traces = match query.backend {
        Backend::Jaeger | Backend::Zipkin => {
            let pieces = pieces(query.backend, &base, &body)?;
            http.report(Progress::Found { traces: pieces.len() });
            let mut count = 0;
            for (i, piece) in pieces.into_iter().enumerate() {
                let fetched = read_piece(query.backend, &base, piece, i)?;
                count += fetched.traces.len();
                on_found(fetched);
            }
            count
        }
        Backend::Tempo => {
            let hits: Vec<String> = tempo_hits(&base, &body)?.into_iter().map(|(id, _)| id).collect();
            http.report(Progress::Found { traces: hits.len() });
            gone = fetch_each(http, Backend::Tempo, &base, None, &hits, &mut on_found).await?;
            hits.len() - gone.len()
        }
        Backend::Sentry => return Err(sentry_not_supported()),
    };
    let limited = if traces >= query.limit { "; that is the limit, there may be more" } else { "" };
    let source = format!("{} at {}", query.backend.name(), origin(&base));
    let message = format!("{source} found {} {}{limited}{}", traces_text(traces), query.describe(), gone_text(&gone));
    Ok(Searched { traces, gone: gone.len(), source, message })
}

/// "no traces", "1 trace", "3 traces".
pub(super) fn traces_text(traces: usize) -> String {
    match traces {
        0 => "no traces".to_owned(),
        1 => "1 trace".to_owned(),
        n => format!("{n} traces"),
    }
}

/// What a search says of the traces it listed that were gone when fetched.
pub(super) fn gone_text(gone: &[String]) -> String {
    match gone {
        [] => String::new(),
        [id] => format!("; 1 more it listed was gone when fetched (trace {id})"),
        [id, ..] => format!("; {} more it listed were gone when fetched (trace {id}, …)", gone.len()),
    }
}

/// Fetches each trace of `ids` from `backend` at `base` (Sentry: in organization `org`) one
/// after the other, handing each to `on_found`; a trace that is gone (404: compacted, past
/// retention) is skipped. The ids of those gone.
pub(super) async fn fetch_each(
    http: &Http<'_>,
    backend: Backend,
    base: &Url,
    org: Option<&str>,
    ids: &[String],
    on_found: &mut impl FnMut(Fetched),
) -> Result<Vec<String>, FetchError> {
    let mut gone = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        http.report(Progress::Trace { done: i + 1, of: ids.len() });
        let target = Target { backend, base: Some(base.to_string()), org: org.map(str::to_owned), trace: id.clone() };
        match super::fetch_with(http, &target).await {
            Ok(fetched) => on_found(fetched),
            Err(e) if e.kind == ErrorKind::NotFound => gone.push(id.clone()),
            Err(e) => return Err(e),
        }
    }
    Ok(gone)
}

/// [`search`], stopped with [`ErrorKind::Cancelled`] as soon as `cancel` fires; traces handed
/// over before stay handed over.
pub async fn search_cancellable(
    query: &Search,
    token: Option<&Token>,
    config: &Config,
    progress: &(dyn Fn(Progress) + Send + Sync),
    on_found: impl FnMut(Fetched),
    cancel: &CancellationToken,
) -> Result<Searched, FetchError> {
    tokio::select! {
        // Cancelled first: a search cancelled before it starts sends nothing.
        biased;
        () = cancel.cancelled() => Err(FetchError::new(ErrorKind::Cancelled, "the search was cancelled")),
        result = search(query, token, config, progress, on_found) => result,
    }
}

fn sentry_not_supported() -> FetchError {
    FetchError::input("searching Sentry is not supported; fetch by trace id")
}

/// Jaeger's search answer: the traces, or what went wrong.
#[derive(Deserialize)]
struct JaegerAnswer<'a> {
    #[serde(borrow)]
    data: Option<Vec<&'a RawValue>>,
    errors: Option<Vec<JaegerError>>,
}

#[derive(Deserialize)]
struct JaegerError {
    code: Option<i64>,
    msg: Option<String>,
}

/// Tempo's search answer: the hits (absent when there are none) and the cost.
#[derive(Deserialize)]
struct TempoAnswer {
    traces: Option<Vec<TempoHit>>,
    metrics: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct TempoHit {
    #[serde(rename = "traceID")]
    trace_id: String,
    /// The trace's duration; absent when under a millisecond.
    #[serde(rename = "durationMs", default)]
    duration_ms: u64,
}

/// The bytes of each trace of a Jaeger or Zipkin answer, each readable on its own:
/// `{"data":[trace]}` for Jaeger, the span array for Zipkin.
fn pieces(backend: Backend, base: &Url, body: &[u8]) -> Result<Vec<Vec<u8>>, FetchError> {
    let not_an_answer = |why: String| not_a_search_answer(backend, base, why);
    if backend == Backend::Jaeger {
        let answer: JaegerAnswer = serde_json::from_slice(body).map_err(|e| not_an_answer(e.to_string()))?;
        if let Some(first) = answer.errors.as_ref().and_then(|e| e.first()) {
            let code = first.code.map(|c| format!(" (code {c})")).unwrap_or_default();
            return Err(FetchError::new(
                ErrorKind::Status,
                format!(
                    "Jaeger at {} could not search: {}{code}",
                    origin(base),
                    first.msg.as_deref().unwrap_or("no message")
                ),
            ));
        }
        let data = answer.data.ok_or_else(|| not_an_answer("it has no `data` list of traces".into()))?;
        Ok(data.iter().map(|trace| format!(r#"{{"data":[{}]}}"#, trace.get()).into_bytes()).collect())
    } else {
        let traces: Vec<&RawValue> = serde_json::from_slice(body)
            .map_err(|e| not_an_answer(format!("expected an array of traces, each an array of spans: {e}")))?;
        traces
            .iter()
            .enumerate()
            .map(|(i, trace)| match trace.get().starts_with('[') {
                true => Ok(trace.get().as_bytes().to_vec()),
                false => Err(not_an_answer(format!("item {} of the answer is not an array of spans", i + 1))),
            })
            .collect()
    }
}

/// One trace of a Jaeger or Zipkin answer (the `index`th, from 0), read.
fn read_piece(backend: Backend, base: &Url, body: Vec<u8>, index: usize) -> Result<Fetched, FetchError> {
    let wrong = |why: String| super::not_a_trace(backend, base, format!("trace {} of the answer: {why}", index + 1));
    let builder = backend.format().parse(&body).map_err(|e| wrong(format!("at {}: {}", e.place, e.message)))?;
    let traces = builder.build().map_err(|e| wrong(e.to_string()))?;
    let Some(first) = traces.first() else {
        return Err(wrong("it has no spans".into()));
    };
    let source = format!("{} at {}, trace {}", backend.name(), origin(base), first.trace_id());
    Ok(Fetched { backend, format: backend.format(), source, body, traces })
}

/// The trace ids of Tempo's search answer, each with its duration in milliseconds, in its order.
pub(super) fn tempo_hits(base: &Url, body: &[u8]) -> Result<Vec<(String, u64)>, FetchError> {
    let not_an_answer = |why: String| not_a_search_answer(Backend::Tempo, base, why);
    let answer: TempoAnswer = serde_json::from_slice(body).map_err(|e| not_an_answer(e.to_string()))?;
    if answer.traces.is_none() && answer.metrics.is_none() {
        return Err(not_an_answer("it has neither `traces` nor `metrics`".into()));
    }
    let hits = answer.traces.unwrap_or_default();
    hits.iter()
        .enumerate()
        .map(|(i, hit)| {
            trace_id(Backend::Tempo, &hit.trace_id)
                .map(|id| (id, hit.duration_ms))
                .map_err(|e| not_an_answer(format!("hit {} of the answer: {}", i + 1, e.message)))
        })
        .collect()
}

fn not_a_search_answer(backend: Backend, base: &Url, why: impl std::fmt::Display) -> FetchError {
    let name = backend.name();
    FetchError::new(
        ErrorKind::NotATrace,
        format!("{name} at {} answered something that is not a {name} search result: {why}", origin(base)),
    )
}

/// `time` in units of `per` nanoseconds since the epoch, rounded down, or up when `up`.
pub(super) fn units(time: Timestamp, per: i128, up: bool) -> i128 {
    let ns = time.as_nanosecond();
    if up { -(-ns).div_euclid(per) } else { ns.div_euclid(per) }
}

fn nanos(duration: Duration) -> crate::model::Nanos {
    crate::model::Nanos::try_from(duration.as_nanos()).unwrap_or(crate::model::Nanos::MAX)
}

/// A duration as Go writes it for Jaeger's and Tempo's parsers, in the largest exact unit:
/// `3s`, `1500ms`, `250us`, `7ns`.
pub(super) fn go_duration(duration: Duration) -> String {
    let ns = duration.as_nanos();
    [("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)]
        .into_iter()
        .find(|(_, per)| ns.is_multiple_of(*per))
        .map_or_else(|| format!("{ns}ns"), |(unit, per)| format!("{}{unit}", ns / per))
}

/// A TraceQL string literal: quoted, with `\` and `"` escaped.
pub(super) fn traceql_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(backend: Backend) -> Search {
        Search {
            backend,
            base: "http://host:9/prefix/".into(),
            service: " checkout ".into(),
            operation: Some("POST /slack \"x\"".into()),
            start: Timestamp::new(1_700_000_000, 250_000_000).unwrap(),
            end: Timestamp::new(1_700_003_600, 1).unwrap(),
            min_duration: Some(Duration::from_millis(1500)),
            limit: 20,
        }
    }

    fn pairs(url: &Url) -> Vec<(String, String)> {
        url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    }

    fn strings(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn each_backend_gets_its_parameters_in_its_units() {
        let jaeger = query(Backend::Jaeger);
        let url = jaeger.url(&jaeger.check().unwrap());
        assert_eq!(url.path(), "/prefix/api/traces");
        assert_eq!(
            pairs(&url),
            strings(&[
                ("service", "checkout"),
                ("operation", "POST /slack \"x\""),
                ("start", "1700000000250000"),
                ("end", "1700003600000001"),
                ("minDuration", "1500ms"),
                ("limit", "20"),
            ])
        );

        let zipkin = query(Backend::Zipkin);
        let url = zipkin.url(&zipkin.check().unwrap());
        assert_eq!(url.path(), "/prefix/api/v2/traces");
        assert_eq!(
            pairs(&url),
            strings(&[
                ("serviceName", "checkout"),
                ("spanName", "POST /slack \"x\""),
                ("minDuration", "1500000"),
                ("endTs", "1700003600001"),
                ("lookback", "3599751"),
                ("limit", "20"),
            ])
        );

        let tempo = query(Backend::Tempo);
        let url = tempo.url(&tempo.check().unwrap());
        assert_eq!(url.path(), "/prefix/api/search");
        assert_eq!(
            pairs(&url),
            strings(&[
                ("q", r#"{ resource.service.name = "checkout" && name = "POST /slack \"x\"" && duration >= 1500ms }"#),
                ("start", "1700000000"),
                ("end", "1700003601"),
                ("limit", "20"),
            ])
        );

        let bare = Search { operation: Some("  ".into()), min_duration: None, ..query(Backend::Tempo) };
        assert_eq!(bare.traceql(), r#"{ resource.service.name = "checkout" }"#);
        assert!(!pairs(&bare.url(&bare.check().unwrap())).iter().any(|(k, _)| k == "minDuration"));
    }

    #[test]
    fn go_durations_use_the_largest_exact_unit() {
        let cases = [(Duration::from_secs(3), "3s"), (Duration::from_millis(1500), "1500ms")];
        let more = [(Duration::from_micros(250), "250us"), (Duration::from_nanos(7), "7ns"), (Duration::ZERO, "0s")];
        for (duration, text) in cases.into_iter().chain(more) {
            assert_eq!(go_duration(duration), text);
        }
        assert_eq!(traceql_string(r#"a\b"c"#), r#""a\\b\"c""#);
    }

    #[test]
    fn bad_searches_say_what_is_wrong() {
        let cases = [
            (Search { backend: Backend::Sentry, ..query(Backend::Jaeger) }, "searching Sentry is not supported"),
            (Search { base: " ".into(), ..query(Backend::Zipkin) }, "give Zipkin's base URL"),
            (Search { base: "jaeger:16686".into(), ..query(Backend::Jaeger) }, "not an http:// or https:// URL"),
            (Search { service: "".into(), ..query(Backend::Tempo) }, "give the service"),
            (Search { limit: 0, ..query(Backend::Tempo) }, "at least 1"),
            (Search { end: query(Backend::Tempo).start, ..query(Backend::Tempo) }, "is not before its end"),
        ];
        for (search, expected) in cases {
            let error = search.check().unwrap_err();
            assert_eq!(error.kind, ErrorKind::Input);
            assert!(error.message.contains(expected), "{error}");
        }
    }

    #[test]
    fn descriptions_name_what_was_asked() {
        assert_eq!(
            query(Backend::Jaeger).describe(),
            "of service \"checkout\", operation \"POST /slack \\\"x\\\"\", with a span of at least 1500 ms, \
             from 2023-11-14T22:13:20Z to 2023-11-14T23:13:20Z"
        );
    }

    #[test]
    fn answers_are_cut_into_traces_or_refused() {
        let base = Url::parse("http://h:1").unwrap();
        let jaeger = br#"{"data":[{"traceID":"a","spans":[]} , {"traceID":"b"}],"total":0,"errors":null}"#;
        let cut = pieces(Backend::Jaeger, &base, jaeger).unwrap();
        assert_eq!(
            cut,
            [br#"{"data":[{"traceID":"a","spans":[]}]}"#.to_vec(), br#"{"data":[{"traceID":"b"}]}"#.to_vec()]
        );
        assert!(pieces(Backend::Jaeger, &base, br#"{"data":[]}"#).unwrap().is_empty());
        let zipkin = pieces(Backend::Zipkin, &base, br#"[[{"traceId":"1"}], []]"#).unwrap();
        assert_eq!(zipkin, [br#"[{"traceId":"1"}]"#.to_vec(), b"[]".to_vec()]);

        let refused = [
            (Backend::Jaeger, &b"<html>"[..], "not a Jaeger search result"),
            (Backend::Jaeger, br#"{"total":0}"#, "no `data` list"),
            (Backend::Zipkin, br#"[{"traceId":"1"}]"#, "item 1 of the answer is not an array of spans"),
            (Backend::Zipkin, br#"{"a":1}"#, "expected an array of traces"),
        ];
        for (backend, body, expected) in refused {
            let error = pieces(backend, &base, body).unwrap_err();
            assert_eq!(error.kind, ErrorKind::NotATrace, "{error}");
            assert!(error.message.contains(expected) && error.message.contains("http://h:1"), "{error}");
        }
        let failed = pieces(Backend::Jaeger, &base, br#"{"data":null,"errors":[{"code":400,"msg":"bad service"}]}"#);
        assert_eq!(failed.unwrap_err().message, "Jaeger at http://h:1 could not search: bad service (code 400)");
    }

    #[test]
    fn tempo_hits_are_checked_ids() {
        let base = Url::parse("http://t:3200").unwrap();
        let body =
            br#"{"traces":[{"traceID":"2F3E0CEE77AE5DC9","rootServiceName":"x"},{"traceID":"1b"}],"metrics":{}}"#;
        let hits = tempo_hits(&base, body).unwrap();
        assert_eq!(hits, [("2f3e0cee77ae5dc9".to_owned(), 0), ("1b".to_owned(), 0)]);
        let timed = tempo_hits(&base, br#"{"traces":[{"traceID":"ab","durationMs":3400}]}"#).unwrap();
        assert_eq!(timed, [("ab".to_owned(), 3400)]);
        assert!(tempo_hits(&base, br#"{"metrics":{"inspectedTraces":0}}"#).unwrap().is_empty());
        for (body, expected) in [
            (&br#"{"status":"ok"}"#[..], "neither `traces` nor `metrics`"),
            (br#"{"traces":[{"traceID":"xyz"}]}"#, "hit 1 of the answer"),
            (b"not json", "not a Tempo search result"),
        ] {
            let error = tempo_hits(&base, body).unwrap_err();
            assert_eq!(error.kind, ErrorKind::NotATrace);
            assert!(error.message.contains(expected), "{error}");
        }
    }
}
