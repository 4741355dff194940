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
    match listing(backend, &body) {
        Listing::Empty => Err(FetchError::new(
            ErrorKind::NotFound,
            format!("{} at {} has no trace {id} (it answered an empty list)", backend.name(), origin(&target.base)),
        )),
        Listing::Traces => {
            let builder = super::import(backend, &target.base, &body)?;
            Ok((body, builder, id.clone()))
        }
        Listing::Other(why) => Err(super::not_a_trace(backend, &target.base, why)),
    }
}

/// What an answer holds, told by its shape alone.
#[derive(PartialEq, Debug)]
enum Listing {
    /// The back-end's list, empty: how these stores say "no such trace".
    Empty,
    /// The back-end's list, with something in it.
    Traces,
    /// Something else; says what was expected.
    Other(String),
}

/// The lists that hold a trace in Jaeger's (`data`) and Tempo's (`batches`, or `resourceSpans`)
/// answers.
#[derive(Deserialize)]
struct Lists {
    data: Option<Vec<IgnoredAny>>,
    batches: Option<Vec<IgnoredAny>>,
    #[serde(rename = "resourceSpans")]
    resource_spans: Option<Vec<IgnoredAny>>,
}

/// Tells an empty answer from a trace and from something that is neither: Jaeger's
/// `{"data": [...]}`, Tempo's `{"batches": [...]}` (or `resourceSpans`), Zipkin's span array.
fn listing(backend: Backend, body: &[u8]) -> Listing {
    let expected = match backend {
        Backend::Zipkin => "expected a JSON array of spans",
        Backend::Tempo => "expected OTLP JSON, an object with a `batches` or `resourceSpans` list",
        Backend::Jaeger | Backend::Sentry => "expected an object with a `data` list of traces",
    };
    let list = match backend {
        Backend::Zipkin => serde_json::from_slice::<Vec<IgnoredAny>>(body).map(Some),
        Backend::Tempo => serde_json::from_slice::<Lists>(body).map(|l| l.batches.or(l.resource_spans)),
        Backend::Jaeger | Backend::Sentry => serde_json::from_slice::<Lists>(body).map(|l| l.data),
    };
    match list {
        Ok(Some(list)) if list.is_empty() => Listing::Empty,
        Ok(Some(_)) => Listing::Traces,
        Ok(None) => Listing::Other(expected.to_owned()),
        Err(e) if e.is_syntax() || e.is_eof() => Listing::Other(format!("{expected}; it is not JSON ({e})")),
        Err(e) => Listing::Other(format!("{expected} ({e})")),
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
    fn empty_answers_are_told_apart_from_traces_and_from_other_things() {
        let cases = [
            (Backend::Jaeger, r#"{"data":[],"total":0}"#, Listing::Empty),
            (Backend::Zipkin, "[]", Listing::Empty),
            (Backend::Tempo, r#"{"batches":[]}"#, Listing::Empty),
            (Backend::Tempo, r#"{"resourceSpans":[]}"#, Listing::Empty),
            (Backend::Jaeger, r#"{"data":[{}]}"#, Listing::Traces),
            (Backend::Zipkin, r#"[{"traceId":"a"}]"#, Listing::Traces),
            (Backend::Tempo, r#"{"batches":[{}]}"#, Listing::Traces),
            (Backend::Tempo, r#"{"resourceSpans":[{}]}"#, Listing::Traces),
        ];
        for (backend, body, expected) in cases {
            assert_eq!(listing(backend, body.as_bytes()), expected, "{backend:?}: {body}");
        }
        let other = [
            (Backend::Jaeger, r#"{"hello":1}"#, "expected an object with a `data` list of traces"),
            (Backend::Jaeger, "{}", "`data` list"),
            (Backend::Jaeger, "[]", "`data` list"),
            (Backend::Tempo, r#"{"data":[{}]}"#, "expected OTLP JSON"),
            (Backend::Tempo, "{}", "`batches` or `resourceSpans`"),
            (Backend::Zipkin, r#"{"hello":1}"#, "expected a JSON array of spans"),
            (Backend::Zipkin, "<html>", "it is not JSON"),
            (Backend::Jaeger, "3", "`data` list"),
        ];
        for (backend, body, expected) in other {
            match listing(backend, body.as_bytes()) {
                Listing::Other(why) => assert!(why.contains(expected), "{backend:?}: {body}: {why}"),
                listed => panic!("{backend:?}: {body} is not {listed:?}"),
            }
        }
    }
}
