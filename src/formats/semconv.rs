//! OpenTelemetry-style conventions that several formats share: which tags carry the span kind
//! and status, and how a span's `op` is derived when the format has none.
//!
//! Used by the Jaeger and Zipkin importers and writers (their spans often come from
//! OpenTelemetry exporters, which write these tags). Knows nothing of any one format's layout.

use crate::model::{Attr, Range32, SpanKind, Trace};

/// Tag with the span kind (`client`, `server`, ...), as OpenTelemetry's Jaeger exporter writes it.
pub(crate) const SPAN_KIND: &str = "span.kind";
/// Tag with OpenTelemetry's status code (`OK` or `ERROR`).
pub(crate) const STATUS_CODE: &str = "otel.status_code";
/// Tag with OpenTelemetry's status description.
pub(crate) const STATUS_DESCRIPTION: &str = "otel.status_description";
/// Attribute naming a Sentry op explicitly; it wins over derivation.
pub(crate) const SENTRY_OP: &str = "sentry.op";
/// Resource attribute with the service's name.
pub(crate) const SERVICE_NAME: &str = "service.name";

/// The attributes of the resource `range` but `service.name`: that is the span's service, which
/// formats keep apart (Jaeger's `serviceName`) or write first (OTLP), and an OTLP resource
/// repeats it.
pub(crate) fn resource_besides_service(trace: &Trace, range: Range32) -> impl Iterator<Item = &Attr> {
    trace.attrs_in(range).iter().filter(|a| trace.str(a.key) != SERVICE_NAME)
}

/// Attribute keys that mark an HTTP span (old and new semantic conventions).
const HTTP_KEYS: [&str; 6] =
    ["http.method", "http.request.method", "http.url", "url.full", "http.route", "http.target"];

/// A span kind from its lowercase or uppercase name (`server`, `CLIENT`); `None` if unknown.
pub(crate) fn kind_from_name(name: &str) -> Option<SpanKind> {
    const KINDS: [SpanKind; 5] =
        [SpanKind::Internal, SpanKind::Server, SpanKind::Client, SpanKind::Producer, SpanKind::Consumer];
    KINDS.into_iter().find(|k| k.as_str().eq_ignore_ascii_case(name))
}

/// What [`derive_op`] looks at, gathered while reading a span's attributes.
#[derive(Default, Clone, Copy, Debug)]
pub(crate) struct OpHints {
    /// Some attribute marks the span as HTTP.
    pub http: bool,
    /// `db.system` is set.
    pub db: bool,
}

impl OpHints {
    /// Notes what an attribute key says about the span.
    pub fn see(&mut self, key: &str) {
        self.http |= HTTP_KEYS.contains(&key);
        self.db |= key == "db.system";
    }
}

/// The op for a span without a `sentry.op`: `http.server`/`http.client` for HTTP spans by kind,
/// `db` for database calls, `queue.publish`/`queue.process` for producer/consumer spans,
/// else empty.
pub(crate) fn derive_op(kind: SpanKind, hints: OpHints) -> &'static str {
    match kind {
        SpanKind::Server if hints.http => "http.server",
        SpanKind::Client if hints.http => "http.client",
        _ if hints.db => "db",
        SpanKind::Producer => "queue.publish",
        SpanKind::Consumer => "queue.process",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_ops_from_kind_and_attributes() {
        let mut http = OpHints::default();
        http.see("http.request.method");
        assert_eq!(derive_op(SpanKind::Server, http), "http.server");
        assert_eq!(derive_op(SpanKind::Client, http), "http.client");
        assert_eq!(derive_op(SpanKind::Internal, http), "");
        let mut db = OpHints::default();
        db.see("db.system");
        assert_eq!(derive_op(SpanKind::Client, db), "db");
        assert_eq!(derive_op(SpanKind::Producer, OpHints::default()), "queue.publish");
        assert_eq!(derive_op(SpanKind::Consumer, OpHints::default()), "queue.process");
        assert_eq!(kind_from_name("SERVER"), Some(SpanKind::Server));
        assert_eq!(kind_from_name("sideways"), None);
    }
}
