//! The demo app's own spans, exported as OTLP/HTTP JSON (`POST {collector}/v1/traces`) or as
//! Sentry envelopes to a DSN (`POST /api/{project}/envelope/`), the way an instrumented app
//! would, so a replay's waterfall in tracedeck (which receives them) shows what happened inside
//! the app: the request, the queued task, the Web API calls.

use crate::formats::{Format, sentry};
use crate::model::{AttrValue, Nanos, RawSpan, SpanId, SpanKind, Status, Trace, TraceBuilder, TraceId};

/// The `service.name` the app's spans carry.
pub const SERVICE: &str = "slack-app";

/// One span the app recorded.
#[derive(Clone, Debug)]
pub(super) struct AppSpan {
    pub id: SpanId,
    pub parent: SpanId,
    pub name: String,
    pub kind: SpanKind,
    pub start: Nanos,
    pub end: Nanos,
    /// The failure, when the work failed (a Web API error code).
    pub error: Option<String>,
    pub attrs: Vec<(&'static str, AttrValue)>,
}

/// Now, in nanoseconds since the Unix epoch.
pub(super) fn now() -> Nanos {
    jiff::Timestamp::now().as_nanosecond() as Nanos
}

/// A fresh span id.
pub(super) fn new_span_id() -> SpanId {
    SpanId::new(fastrand::u64(1..)).expect("the range excludes zero")
}

/// Where spans go, and how.
enum Sink {
    /// An OTLP/HTTP collector: OTLP JSON.
    Otlp,
    /// A Sentry DSN: gzipped envelopes of transactions, as Sentry's SDKs send them.
    Sentry {
        /// The `X-Sentry-Auth` header (the DSN's public key).
        auth: String,
    },
}

/// Sends spans to an OTLP/HTTP collector or a Sentry DSN.
pub(super) struct Exporter {
    client: reqwest::Client,
    url: String,
    sink: Sink,
}

impl Exporter {
    /// An exporter to the collector at `base` (`http://127.0.0.1:4318`).
    pub fn new(client: reqwest::Client, base: &str) -> Self {
        Exporter { client, url: format!("{}/v1/traces", base.trim_end_matches('/')), sink: Sink::Otlp }
    }

    /// An exporter to a Sentry DSN (`http://public@127.0.0.1:8969/1`): envelopes go to
    /// `http://127.0.0.1:8969/api/1/envelope/`.
    pub fn sentry(client: reqwest::Client, dsn: &str) -> Result<Self, String> {
        let parsed = url::Url::parse(dsn).map_err(|e| format!("{dsn:?} is not a Sentry DSN: {e}"))?;
        let project = parsed.path().trim_matches('/').rsplit('/').next().unwrap_or("");
        let (key, host) = (parsed.username(), parsed.host_str().unwrap_or(""));
        if key.is_empty() || project.is_empty() || host.is_empty() {
            return Err(format!("{dsn:?} is not a Sentry DSN: expected http://PUBLIC_KEY@HOST[:PORT]/PROJECT_ID"));
        }
        let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
        let url = format!("{}://{host}{port}/api/{project}/envelope/", parsed.scheme());
        let auth = format!("Sentry sentry_key={key}, sentry_version=7, sentry_client=tracedeck-demo-app/1");
        Ok(Exporter { client, url, sink: Sink::Sentry { auth } })
    }

    /// Exports `spans` of `trace_id`; an error says why the collector did not take them.
    pub async fn export(&self, trace_id: TraceId, spans: &[AppSpan]) -> Result<(), String> {
        let traces = build(trace_id, spans)?;
        let mut body = Vec::new();
        let request = self.client.post(&self.url);
        let request = match &self.sink {
            Sink::Otlp => {
                Format::Otlp
                    .write(&traces, &mut body)
                    .map_err(|e| format!("cannot write the spans as OTLP JSON: {e}"))?;
                request.header("content-type", "application/json")
            }
            Sink::Sentry { auth } => {
                let refs: Vec<&Trace> = traces.iter().collect();
                let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                sentry::envelope::write(&refs, &mut gzip)
                    .and_then(|()| gzip.finish())
                    .map(|zipped| body = zipped)
                    .map_err(|e| format!("cannot write the spans as Sentry envelopes: {e}"))?;
                request
                    .header("content-type", "application/x-sentry-envelope")
                    .header("content-encoding", "gzip")
                    .header("x-sentry-auth", auth)
            }
        };
        let response =
            request.body(body).send().await.map_err(|e| format!("cannot export spans to {}: {e}", self.url))?;
        match response.status() {
            status if status.is_success() => Ok(()),
            status => Err(format!("{} refused the spans: {status}", self.url)),
        }
    }
}

/// The spans as traces: one, or none when there are no spans.
fn build(trace_id: TraceId, spans: &[AppSpan]) -> Result<Vec<Trace>, String> {
    let mut builder = TraceBuilder::new();
    let service = builder.intern(SERVICE);
    for span in spans {
        let mark = builder.attr_mark();
        for (key, value) in &span.attrs {
            let key = builder.intern(key);
            builder.push_attr(key, *value);
        }
        let mut raw = RawSpan::new(trace_id, span.id, Some(span.parent), span.start, Some(span.end));
        raw.attrs = builder.attrs_since(mark);
        raw.name = builder.intern(&span.name);
        raw.service = service;
        raw.kind = span.kind;
        if let Some(error) = &span.error {
            raw.status = Status::Error;
            raw.status_message = builder.intern(error);
        }
        builder.push_span(raw);
    }
    builder.build().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_written_as_otlp_json_that_reads_back() {
        let trace_id = TraceId(0x4bf92f3577b34da6a3ce929d0e0e4736);
        let parent = SpanId::new(0xfeed).unwrap();
        let spans = [AppSpan {
            id: SpanId::new(0xbeef).unwrap(),
            parent,
            name: "views.open".into(),
            kind: SpanKind::Client,
            start: 1_700_000_000_000_000_000,
            end: 1_700_000_000_250_000_000,
            error: Some("expired_trigger_id".into()),
            attrs: vec![("slack.method", AttrValue::Bool(true))],
        }];
        let mut json = Vec::new();
        Format::Otlp.write(&build(trace_id, &spans).unwrap(), &mut json).unwrap();
        let trace = Format::Otlp.parse(&json).unwrap().build().unwrap().pop().unwrap();
        let span = &trace.spans()[0];
        assert_eq!((trace.trace_id(), span.parent_id, span.duration()), (trace_id, Some(parent), 250_000_000));
        assert_eq!((trace.str(span.name), trace.str(span.service)), ("views.open", SERVICE));
        assert_eq!((span.status, trace.str(span.status_message)), (Status::Error, "expired_trigger_id"));
        let value = trace.attrs(0)[0].value;
        assert_eq!(value, AttrValue::Bool(true));
    }

    #[test]
    fn a_dsn_names_the_envelope_endpoint_and_the_key() {
        let client = crate::replay::http_client().build().unwrap();
        let exporter = Exporter::sentry(client.clone(), "http://abc123@127.0.0.1:8969/42").unwrap();
        assert_eq!(exporter.url, "http://127.0.0.1:8969/api/42/envelope/");
        let Sink::Sentry { auth } = &exporter.sink else { panic!("a Sentry sink") };
        assert!(auth.starts_with("Sentry sentry_key=abc123, sentry_version=7"), "{auth}");
        let hosted = Exporter::sentry(client.clone(), "https://key@o1.ingest.sentry.io/7").unwrap();
        assert_eq!(hosted.url, "https://o1.ingest.sentry.io/api/7/envelope/");
        for bad in ["http://127.0.0.1:8969/1", "http://key@127.0.0.1:8969/", "not a url"] {
            let err = Exporter::sentry(client.clone(), bad).err().unwrap();
            assert!(err.contains("is not a Sentry DSN"), "{bad}: {err}");
        }
    }
}
