//! Attribute keys for the event fields the importer keeps on a transaction's root span, so the
//! writer can put them back where Sentry has them.

/// The event's `event_id`.
pub(super) const EVENT_ID: &str = "sentry.event_id";
/// `environment`.
pub(super) const ENVIRONMENT: &str = "environment";
/// `release`.
pub(super) const RELEASE: &str = "release";
/// `platform`.
pub(super) const PLATFORM: &str = "platform";
/// `sdk.name`.
pub(super) const SDK_NAME: &str = "sdk.name";
/// `sdk.version`.
pub(super) const SDK_VERSION: &str = "sdk.version";
/// `transaction_info.source`.
pub(super) const TRANSACTION_SOURCE: &str = "sentry.transaction.source";
/// A span's `origin` (`auto.http.django`, `manual`).
pub(super) const ORIGIN: &str = "sentry.origin";
/// `contexts.response.status_code`.
pub(super) const RESPONSE_STATUS: &str = "http.response.status_code";
/// The parent a trace node named, when it is not the node that holds it.
pub(super) const WRITTEN_PARENT: &str = "sentry.parent_span_id";
