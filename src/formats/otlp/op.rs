//! A span's `op` from OpenTelemetry's semantic conventions, for spans that do not carry
//! Sentry's own `sentry.op` attribute. Only the obvious cases; anything else stays empty.

use crate::model::SpanKind;

/// The attribute that, when present as text, is the op itself.
pub(super) const SENTRY_OP: &str = "sentry.op";

/// The op the attribute keys and kind of a span suggest: `db` when a database system is
/// named, `queue.publish`/`queue.process` for messaging producers/consumers, `http.server`/
/// `http.client` for server/client spans with HTTP attributes, else empty.
pub(super) fn derive_op<'s>(kind: SpanKind, keys: impl IntoIterator<Item = &'s str>) -> &'static str {
    let (mut db, mut messaging, mut http) = (false, false, false);
    for key in keys {
        db |= key == "db.system" || key == "db.system.name";
        messaging |= key == "messaging.system";
        http |= key.starts_with("http.") || key == "url.full";
    }
    match kind {
        _ if db => "db",
        SpanKind::Producer if messaging => "queue.publish",
        SpanKind::Consumer if messaging => "queue.process",
        _ if messaging => "queue",
        SpanKind::Server if http => "http.server",
        SpanKind::Client if http => "http.client",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_follow_the_conventions_and_kind() {
        assert_eq!(derive_op(SpanKind::Server, ["http.request.method", "url.path"]), "http.server");
        assert_eq!(derive_op(SpanKind::Client, ["url.full"]), "http.client");
        assert_eq!(derive_op(SpanKind::Internal, ["http.method"]), "");
        assert_eq!(derive_op(SpanKind::Client, ["db.system", "db.statement"]), "db");
        assert_eq!(derive_op(SpanKind::Producer, ["messaging.system"]), "queue.publish");
        assert_eq!(derive_op(SpanKind::Consumer, ["messaging.system"]), "queue.process");
        assert_eq!(derive_op(SpanKind::Internal, ["messaging.system"]), "queue");
        assert_eq!(derive_op(SpanKind::Server, ["code.function"]), "");
    }
}
