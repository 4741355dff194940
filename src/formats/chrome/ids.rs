//! tracedeck's own extension to the format: span identity in `args`.
//!
//! Chrome trace events carry no span ids, and their nesting only works within one thread, so a
//! trace that spans services cannot survive a trip through the format by nesting alone. The
//! writer therefore adds `tracedeck.trace_id`, `tracedeck.span_id`, `tracedeck.parent_id` and,
//! when set, `tracedeck.status`, `tracedeck.status_message`, `tracedeck.kind` and
//! `tracedeck.transaction` to each event's `args` (viewers show them as ordinary args). The
//! reader takes them back instead of synthesizing ids and parents; files from elsewhere do not
//! have them and are read by nesting.

use crate::model::{SpanId, SpanKind, Status, StrId, TraceBuilder, TraceId};

/// The trace id of spans read from a file that has none.
pub const SYNTHETIC_TRACE_ID: TraceId = TraceId(1);

/// The prefix of the extension's arg keys.
pub(super) const PREFIX: &str = "tracedeck.";

/// The extension's fields as read from one event's `args`; all absent for foreign files.
#[derive(Clone, Copy, Default, Debug)]
pub(super) struct Explicit {
    pub trace_id: Option<TraceId>,
    pub span_id: Option<SpanId>,
    pub parent_id: Option<SpanId>,
    pub status: Option<Status>,
    pub status_message: StrId,
    pub kind: SpanKind,
    pub transaction: StrId,
}

impl Explicit {
    /// Whether no extension field was present.
    pub fn is_empty(&self) -> bool {
        self.trace_id.is_none()
            && self.span_id.is_none()
            && self.parent_id.is_none()
            && self.status.is_none()
            && self.status_message.is_empty()
            && self.kind == SpanKind::Unspecified
            && self.transaction.is_empty()
    }

    /// Sets the field named `field` (the key without [`PREFIX`]) from its text.
    pub fn set(&mut self, field: &str, text: &str, builder: &mut TraceBuilder) -> Result<(), String> {
        match field {
            "trace_id" => {
                self.trace_id =
                    Some(TraceId::from_hex(text).map_err(|e| {
                        format!("expected a hex trace id in `tracedeck.trace_id`, found {text:?} ({e})")
                    })?)
            }
            "span_id" => self.span_id = Some(span_id(field, text)?),
            "parent_id" => self.parent_id = Some(span_id(field, text)?),
            "status" => self.status = Some(status(text)?),
            "status_message" => self.status_message = builder.intern(text),
            "kind" => self.kind = kind(text)?,
            "transaction" => self.transaction = builder.intern(text),
            _ => {
                return Err(format!(
                    "unknown arg `{PREFIX}{field}`: the `{PREFIX}` prefix is reserved for span identity \
                     (trace_id, span_id, parent_id, status, status_message, kind, transaction)"
                ));
            }
        }
        Ok(())
    }
}

fn span_id(field: &str, text: &str) -> Result<SpanId, String> {
    SpanId::from_hex(text).map_err(|e| format!("expected a hex span id in `{PREFIX}{field}`, found {text:?} ({e})"))
}

/// The status word the writer uses; `None` for [`Status::Unset`], which is left out.
pub(super) fn status_word(status: Status) -> Option<&'static str> {
    match status {
        Status::Unset => None,
        Status::Ok => Some("ok"),
        Status::Error => Some("error"),
    }
}

fn status(text: &str) -> Result<Status, String> {
    match text {
        "ok" => Ok(Status::Ok),
        "error" => Ok(Status::Error),
        "unset" => Ok(Status::Unset),
        _ => Err(format!("expected `{PREFIX}status` to be \"ok\", \"error\" or \"unset\", found {text:?}")),
    }
}

fn kind(text: &str) -> Result<SpanKind, String> {
    SpanKind::ALL.into_iter().find(|k| !text.is_empty() && k.as_str() == text).ok_or_else(|| {
        format!("expected `{PREFIX}kind` to be internal, server, client, producer or consumer, found {text:?}")
    })
}
