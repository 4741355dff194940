//! The back-ends with one request per trace: Jaeger (`GET /api/traces/{id}`, Jaeger UI JSON),
//! Grafana Tempo (`GET /api/traces/{id}` with `Accept: application/json`, OTLP JSON with
//! `batches`) and Zipkin (`GET /api/v2/trace/{id}`, a Zipkin v2 span array). They differ only
//! in path and format, so one table serves them.

use url::Url;

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::http::{Http, origin};
use super::target::{Id, Resolved};
use super::{Backend, ErrorKind, FetchError};
use crate::model::TraceBuilder;

/// The API path of a trace, relative to the base URL.
fn path(backend: Backend, id: &str) -> String {
    match backend {
        Backend::Zipkin => format!("api/v2/trace/{id}"),
        Backend::Jaeger | Backend::Tempo | Backend::Sentry => format!("api/traces/{id}"),
    }
}

/// `base` with `path` appended to its own path (bases may sit under a prefix, as behind
/// Grafana's data source proxy).
pub(super) fn endpoint(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!("{}/{}", base.path().trim_end_matches('/'), path.trim_start_matches('/'));
    url.set_path(&joined);
    url.set_query(None);
    url.set_fragment(None);
    url
}

/// Fetches the trace: its bytes as received, what they hold, and its id.
pub(super) async fn fetch(
    http: &Http<'_>,
    backend: Backend,
    target: &Resolved,
) -> Result<(Vec<u8>, TraceBuilder, String), FetchError> {
    let Id::Trace(id) = &target.id else {
        return Err(FetchError::input(format!("{} fetches traces by trace id, not by event", backend.name())));
    };
    let url = endpoint(&target.base, &path(backend, id));
    let body = http.get(&url, "application/json", &format!("trace {id}")).await?;
    if is_empty_answer(&body) {
        return Err(FetchError::new(
            ErrorKind::NotFound,
            format!("{} at {} has no trace {id} (it answered an empty list)", backend.name(), origin(&target.base)),
        ));
    }
    let builder = super::import(backend, &target.base, &body)?;
    Ok((body, builder, id.clone()))
}

/// The lists that hold a trace in these back-ends' answers.
#[derive(Deserialize)]
#[serde(untagged)]
enum Listing {
    /// Zipkin: the spans.
    Spans(Vec<IgnoredAny>),
    /// Jaeger `data`, Tempo `batches` (or `resourceSpans`).
    Wrapped {
        data: Option<Vec<IgnoredAny>>,
        batches: Option<Vec<IgnoredAny>>,
        #[serde(rename = "resourceSpans")]
        resource_spans: Option<Vec<IgnoredAny>>,
    },
}

/// An answer that is well formed but holds nothing: how some stores say "no such trace".
fn is_empty_answer(body: &[u8]) -> bool {
    match serde_json::from_slice::<Listing>(body) {
        Ok(Listing::Spans(spans)) => spans.is_empty(),
        Ok(Listing::Wrapped { data, batches, resource_spans }) => {
            [data, batches, resource_spans].iter().all(|list| list.as_ref().is_none_or(Vec::is_empty))
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_keep_the_base_path() {
        let base = Url::parse("http://grafana:3000/api/datasources/proxy/uid/tempo/?x=1").unwrap();
        assert_eq!(
            endpoint(&base, &path(Backend::Tempo, "ab")).as_str(),
            "http://grafana:3000/api/datasources/proxy/uid/tempo/api/traces/ab"
        );
        let base = Url::parse("http://zipkin:9411").unwrap();
        assert_eq!(endpoint(&base, &path(Backend::Zipkin, "ab")).as_str(), "http://zipkin:9411/api/v2/trace/ab");
    }

    #[test]
    fn empty_answers_are_told_apart_from_traces() {
        for empty in ["[]", r#"{"data":[],"total":0}"#, r#"{"batches":[]}"#, "{}"] {
            assert!(is_empty_answer(empty.as_bytes()), "{empty}");
        }
        for full in [r#"[{"traceId":"a"}]"#, r#"{"data":[{}]}"#, r#"{"batches":[{}]}"#, "<html>", "3"] {
            assert!(!is_empty_answer(full.as_bytes()), "{full}");
        }
    }
}
