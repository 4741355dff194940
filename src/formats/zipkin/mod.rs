//! Zipkin v2 JSON: an array of spans (what `POST /api/v2/spans` takes and
//! `GET /api/v2/trace/{id}` answers), or an array of such arrays (`/api/v2/traces`).
//!
//! Mapping into the model (see `shared/reference/trace-formats.md` §4):
//! - `name` → name, `localEndpoint.serviceName` → service, `kind` → kind (absent stays
//!   unspecified), `timestamp`/`duration` µs → ns; tags → text attributes (Zipkin tag values
//!   are always strings); the other endpoint fields → `localEndpoint.ipv4`, ...,
//!   `remoteEndpoint.serviceName`, ... attributes; `debug`/`shared` → [`DEBUG`]/[`SHARED`].
//! - A tag `error` marks failure, its value (maybe empty) is the status message; the
//!   `otel.status_code`/`otel.status_description` tags OpenTelemetry's exporter writes are read
//!   too. Annotations → events named by their value.
//! - Spans reported in several parts (same trace, id and `shared` flag, compatible local
//!   service) are merged first, as Zipkin's UI does (`mergeV2ById`): the first part's fields
//!   win, tags and annotations are joined.
//! - A span that still has no `timestamp` is placed at the start of its nearest timed ancestor
//!   (else of its trace), marked [`UNTIMED`](crate::model::SpanFlags::UNTIMED) so verdicts do not
//!   judge by it, and the import names it; only a file with no timestamp at all is refused
//!   (nothing can be placed in time). A span without `duration` is zero-length at its
//!   timestamp, as Zipkin's UI draws it (a sliver with no duration label); the import notes how many.
//! - One span object instead of an array is read as a list of one, with a note. Ids that are not
//!   hex are kept as their text (see [`IdForm::Text`](crate::model::IdForm::Text)), tag values
//!   that are numbers or booleans as their text, and a kind Zipkin does not define is no kind;
//!   each with a note.
//! - Shared span ids (B3: the server half reuses the client's id, with `shared:true`, or, as
//!   Zipkin backfills, a `SERVER` span with the id of a `CLIENT` span): the client half keeps
//!   the id; the server half becomes its child with a derived id (see [`shared`]); children
//!   naming the shared id hang under the server half, unless they belong to the client's
//!   service and not the server's. The writer writes such pairs back as shared halves.
//! - Zipkin v1 JSON (`binaryAnnotations`, annotations with `endpoint`) is refused with an error
//!   asking for v2.

mod part;
mod read;
mod settle;
pub mod shared;
mod tally;
mod write;

#[cfg(test)]
mod tests;

pub use settle::parse;
pub use write::write;

/// Attribute set (to `true`) on spans Zipkin marked `shared`.
pub const SHARED: &str = "zipkin.shared";
/// Attribute set (to `true`) on spans Zipkin marked `debug`.
pub const DEBUG: &str = "zipkin.debug";
/// Prefix of the attributes holding the local endpoint's address and port.
pub const LOCAL_ENDPOINT: &str = "localEndpoint.";
/// Prefix of the attributes holding the remote endpoint's service, address and port.
pub const REMOTE_ENDPOINT: &str = "remoteEndpoint.";
