//! Replay: send a captured Slack interaction to the developer's app exactly as Slack would,
//! act as Slack's Web API for that app, time everything, and say whether the fix holds.
//!
//! - [`ack_body`]: what an app may answer in its ack, by the kind of request.
//! - [`capture`]: the capture file format and `tracedeck capture`.
//! - [`signing`]: `X-Slack-Signature` signing and verification; [`signing::Secret`].
//! - [`mock`]: the mock Web API the app calls (trigger ids, views, response URLs).
//! - [`socket_mode`]: Socket Mode in the mock: connections, envelopes, acks.
//! - [`driver`]: sends the interaction, waits for the app's calls, repeats with concurrency.
//! - [`latency`]: delays injected on purpose: `--api-latency` and its seeded draws.
//! - [`margin`]: the margin search: the most injected latency at which the fix still holds;
//!   [`margin_report`] prints it.
//! - [`retry`]: Slack's re-deliveries of Events API requests, and the duplicates they cause.
//! - [`verdict`]: pass or fail with a plain reason, and the statistics of many runs.
//! - [`trace`]: each run as a [`crate::model::Trace`] for the waterfall and the analysis.
//! - [`traceparent`]: the W3C `traceparent` header that ties the app's spans to a run.
//! - [`report`]: text, JSON and JUnit output.
//! - [`readiness`]: waiting until the app accepts connections (`--wait-for-target`).
//! - [`warmth`]: cold starts named in the summary, and unjudged warm-up runs.
//! - [`session`]: one mock kept up across many replays (rounds), noticing app restarts.
//! - [`demo_app`]: a Slack-style app with the incident's bug and its fix, for trying all this.

pub mod ack_body;
pub mod capture;
pub mod demo_app;
pub mod driver;
pub mod latency;
pub mod margin;
pub mod margin_report;
pub mod mock;
mod payload;
pub mod readiness;
pub mod report;
pub mod retry;
pub mod run;
pub mod session;
pub mod signing;
pub mod socket_mode;
pub mod trace;
pub mod traceparent;
pub mod verdict;
pub mod warmth;

use std::time::Duration;

pub use payload::{BodyKind, BodyTemplate};

/// How long a `trigger_id` can be exchanged for a modal after it is issued.
pub const TRIGGER_TTL: Duration = Duration::from_secs(3);

/// A `reqwest` client builder with the TLS crypto provider installed (once per process), for
/// the driver and the demo app.
pub fn http_client() -> reqwest::ClientBuilder {
    static PROVIDER: std::sync::Once = std::sync::Once::new();
    PROVIDER.call_once(|| {
        // Fails only when another provider was installed first, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
}
