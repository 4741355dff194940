//! The demo app's own spans, exported as OTLP/HTTP JSON (`POST {collector}/v1/traces`) the way
//! an instrumented app would, so a replay's waterfall in tracedeck (which receives them) shows
//! what happened inside the app: the request, the queued task, the Web API calls.

use crate::formats::Format;
use crate::model::{AttrValue, Nanos, RawSpan, SpanId, SpanKind, Status, TraceBuilder, TraceId};

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

/// Sends spans to an OTLP/HTTP collector.
pub(super) struct Exporter {
    client: reqwest::Client,
    url: String,
}

impl Exporter {
    /// An exporter to the collector at `base` (`http://127.0.0.1:4318`).
    pub fn new(client: reqwest::Client, base: &str) -> Self {
        Exporter { client, url: format!("{}/v1/traces", base.trim_end_matches('/')) }
    }

    /// Exports `spans` of `trace_id`; an error says why the collector did not take them.
    pub async fn export(&self, trace_id: TraceId, spans: &[AppSpan]) -> Result<(), String> {
        let body = otlp_json(trace_id, spans)?;
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("cannot export spans to {}: {e}", self.url))?;
        match response.status() {
            status if status.is_success() => Ok(()),
            status => Err(format!("{} refused the spans: {status}", self.url)),
        }
    }
}

/// The spans as one OTLP JSON `ExportTraceServiceRequest`, written by tracedeck's OTLP writer.
fn otlp_json(trace_id: TraceId, spans: &[AppSpan]) -> Result<Vec<u8>, String> {
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
    let traces = builder.build().map_err(|e| e.to_string())?;
    let mut json = Vec::new();
    Format::Otlp.write(&traces, &mut json).map_err(|e| format!("cannot write the spans as OTLP JSON: {e}"))?;
    Ok(json)
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
        let json = otlp_json(trace_id, &spans).unwrap();
        let trace = Format::Otlp.parse(&json).unwrap().build().unwrap().pop().unwrap();
        let span = &trace.spans()[0];
        assert_eq!((trace.trace_id(), span.parent_id, span.duration()), (trace_id, Some(parent), 250_000_000));
        assert_eq!((trace.str(span.name), trace.str(span.service)), ("views.open", SERVICE));
        assert_eq!((span.status, trace.str(span.status_message)), (Status::Error, "expired_trigger_id"));
        let value = trace.attrs(0)[0].value;
        assert_eq!(value, AttrValue::Bool(true));
    }
}
