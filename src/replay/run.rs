//! What one replay is: its record while it runs (what was sent, when, the app's answer and its
//! calls to the mock, Slack's re-deliveries) and why a request got no answer. The driver fills
//! a record in, [`super::retry`] adds re-deliveries, and [`super::verdict`] judges it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::mock::{ApiCall, Minted};
use crate::analysis::{Profile, TRIGGER_CHECK};
use crate::model::{Nanos, SpanId, TraceId};

/// Why a request got no HTTP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Nothing listens there.
    Refused(String),
    /// No response within the response timeout.
    Timeout(Duration),
    /// The replay was stopped before the response came.
    Stopped,
    /// The request could not be sent for a reason on this side (a request the HTTP client
    /// refuses to build): the target was never contacted.
    Local(String),
    /// Anything else (a reset connection).
    Other(String),
    /// The app broke the Socket Mode protocol (a malformed ack, a closed connection): says how.
    Protocol(String),
}

impl Fault {
    /// Whether the request failed on this side, before the target was contacted.
    pub fn is_local(&self) -> bool {
        matches!(self, Fault::Local(_))
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Refused(why) => write!(f, "the target refused the connection ({why}); is the app running?"),
            Fault::Timeout(after) => write!(
                f,
                "no response within {} (the app hangs); Slack gives up after 3 s and shows the user an error",
                crate::model::format_duration(after.as_nanos() as Nanos)
            ),
            Fault::Stopped => f.write_str("stopped before the app answered"),
            Fault::Local(why) => write!(f, "the request could not be sent (the target was not contacted): {why}"),
            Fault::Other(why) => write!(f, "the request failed: {why}"),
            Fault::Protocol(why) => f.write_str(why),
        }
    }
}

/// The app's HTTP response.
#[derive(Clone, Debug)]
pub struct Ack {
    /// Its status code.
    pub status: u16,
    /// When its status line arrived.
    pub at: Instant,
    /// Its body (the first 4 KiB).
    pub body: String,
    /// Whether `body` is all of it (read to its end, not cut), so it can be judged.
    pub whole: bool,
}

/// Everything recorded about one replay; partial while it runs.
#[derive(Clone, Debug)]
pub struct RunRecord {
    /// The run's number, from 1.
    pub index: usize,
    /// The interaction's name in the capture.
    pub interaction: String,
    /// What kind of request it is (`block_actions`).
    pub kind: String,
    /// HTTP method sent.
    pub method: String,
    /// The URL it was sent to.
    pub url: String,
    /// The trace id sent in `traceparent`.
    pub trace_id: TraceId,
    /// The span id sent in `traceparent` (the inbound request's span).
    pub span_id: SpanId,
    /// The trigger id and response URL the mock minted.
    pub minted: Minted,
    /// Whether the captured request carried a trigger id (so a modal is expected).
    pub expects_modal: bool,
    /// When the interaction was issued (the trigger minted); every time is measured from here.
    pub start: Instant,
    /// The same instant as Unix nanoseconds.
    pub start_unix: Nanos,
    /// The deadline profile the run is judged by (see [`RunRecord::limit`]).
    pub profile: Arc<Profile>,
    /// The mock's trigger lifetime.
    pub trigger_ttl: Duration,
    /// The delay injected between the click and the delivery (`--delivery-latency`).
    pub delivery_delay: Duration,
    /// The response, or why there was none; `None` while in flight.
    pub response: Option<Result<Ack, Fault>>,
    /// The app's calls to the mock for this run, in arrival order.
    pub calls: Vec<ApiCall>,
    /// The `event_id` of an Events API event (those are retried).
    pub event_id: Option<String>,
    /// Slack's re-deliveries of the event, in order.
    pub retries: Vec<Delivery>,
    /// When the run stopped waiting; `None` while it runs.
    pub finished: Option<Instant>,
}

impl RunRecord {
    /// An instant as Unix nanoseconds on this run's clock.
    pub fn unix(&self, at: Instant) -> Nanos {
        self.start_unix + at.saturating_duration_since(self.start).as_nanos() as Nanos
    }

    /// Time from the interaction's issue to `at`.
    pub fn since_start(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.start)
    }

    /// The profile's limit: how long Slack waits for the ack (and for each re-delivery's), and,
    /// when the profile has a `trigger_id` check, by when `views.open` must arrive.
    pub fn limit(&self) -> Duration {
        crate::model::std_duration(self.profile.limit)
    }

    /// Whether the profile judges when `views.open` arrives (Slack's `trigger_id` check).
    pub fn judges_trigger(&self) -> bool {
        self.profile.check(TRIGGER_CHECK).is_some()
    }
}

/// One re-delivery of an event.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// Which retry (1 to 3).
    pub attempt: u32,
    /// Why the previous delivery failed (`http_timeout`, `http_error`, `connection_failed`, ...).
    pub reason: &'static str,
    /// When it was sent.
    pub sent: Instant,
    /// Its answer, or why there was none; `None` while in flight.
    pub response: Option<Result<Ack, Fault>>,
}
