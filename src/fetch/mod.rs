//! Fetching a trace by id from the back-end that stored it: Sentry, Jaeger, Grafana Tempo or
//! Zipkin; searching Jaeger, Tempo or Zipkin for the traces of a service ([`search()`]); and
//! asking Sentry or Tempo for miss rates over all the traces they hold ([`stats()`]).
//!
//! Each back-end is a small module that knows its URL scheme and authentication and hands the
//! bytes it receives to the importer of its format ([`crate::formats`]); nothing here parses
//! trace JSON itself. Fetches are async (tokio) so the window never waits on the network; they
//! report [`Progress`] through a callback, stop when their future is dropped or their
//! [`CancellationToken`] fires, retry 429 and 5xx answers with backoff, and fail with a
//! [`FetchError`] whose message names the server and says what to do.
//!
//! Depends on `formats` and `model` (and `analysis`, to word a duration); the CLI and the GUI
//! depend on it.

mod connections;
mod error;
mod http;
mod query;
mod search;
mod sentry;
mod stats;
mod target;
#[cfg(test)]
pub(crate) mod test_keychain;
mod token;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

pub use connections::{
    Connection, Connections, TokenSource, delete_token_in_keychain, find_token, save_token_in_keychain,
    spawn_with_token, token_name_for,
};
pub use error::{ErrorKind, FetchError};
pub use search::{Search, Searched, search, search_cancellable};
pub use stats::{Bucket, Figures, ServerStats, StatsQuery, has_aggregates, slowest, stats, step_text};
pub use target::Target;
pub use token::Token;

use crate::formats::Format;
use crate::model::{Trace, TraceBuilder};

/// The back-ends tracedeck fetches from.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Sentry (sentry.io or self-hosted): the trace endpoint of an organization.
    Sentry,
    /// Jaeger's query service (`/api/traces/{id}`).
    Jaeger,
    /// Grafana Tempo (`/api/traces/{id}`, OTLP JSON).
    Tempo,
    /// Zipkin (`/api/v2/trace/{id}`).
    Zipkin,
}

impl Backend {
    /// Every back-end, for pickers.
    pub const ALL: [Backend; 4] = [Backend::Sentry, Backend::Jaeger, Backend::Tempo, Backend::Zipkin];

    /// The name people know it by.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sentry => "Sentry",
            Backend::Jaeger => "Jaeger",
            Backend::Tempo => "Tempo",
            Backend::Zipkin => "Zipkin",
        }
    }

    /// The format its answers are in.
    pub fn format(self) -> Format {
        match self {
            Backend::Sentry => Format::Sentry,
            Backend::Jaeger => Format::Jaeger,
            Backend::Tempo => Format::Otlp,
            Backend::Zipkin => Format::Zipkin,
        }
    }
}

/// How patient a fetch is.
#[derive(Clone, Debug)]
pub struct Config {
    /// Limit for one request, from connecting to the last byte of the answer.
    pub timeout: Duration,
    /// Limit for opening the connection.
    pub connect_timeout: Duration,
    /// How many times a 429, 5xx, timeout or refused connection is retried.
    pub retries: u32,
    /// The first wait between tries when the server does not say (`Retry-After`); it doubles.
    pub backoff: Duration,
    /// The longest wait between tries; a server asking (`Retry-After`) for longer is not tried
    /// again.
    pub max_wait: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retries: 3,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(30),
        }
    }
}

/// What a fetch is doing, for a progress line.
#[derive(Clone, PartialEq, Debug)]
pub enum Progress {
    /// Sending a request (attempt from 1).
    Requesting {
        /// Where (never holds a token: tokens travel in headers).
        url: String,
        /// Which try.
        attempt: u32,
    },
    /// Waiting before trying again.
    Retrying {
        /// Why the last try failed.
        reason: String,
        /// For how long.
        wait: Duration,
    },
    /// Bytes of the answer received so far.
    Downloading {
        /// How many.
        bytes: usize,
    },
    /// A step of a fetch that needs several requests (Sentry's legacy path: one per event).
    Step {
        /// This step, from 1.
        done: usize,
        /// Of how many.
        of: usize,
    },
    /// A search's answer was read: it names this many traces.
    Found {
        /// How many (0 is an answer, not an error).
        traces: usize,
    },
    /// Fetching one of the traces a search found (Tempo: one request per trace).
    Trace {
        /// This trace, from 1.
        done: usize,
        /// Of how many.
        of: usize,
    },
    /// Reading the answer into traces.
    Reading,
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Progress::Requesting { url, attempt: 1 } => write!(f, "requesting {url}"),
            Progress::Requesting { url, attempt } => write!(f, "requesting {url} (try {attempt})"),
            Progress::Retrying { reason, wait } => write!(f, "{reason}; trying again in {:.1} s", wait.as_secs_f64()),
            Progress::Downloading { bytes } => write!(f, "received {} KiB", bytes.div_ceil(1024)),
            Progress::Step { done, of } => write!(f, "event {done} of {of}"),
            Progress::Found { traces: 0 } => f.write_str("found no traces"),
            Progress::Found { traces: 1 } => f.write_str("found 1 trace"),
            Progress::Found { traces } => write!(f, "found {traces} traces"),
            Progress::Trace { done, of } => write!(f, "trace {done} of {of}"),
            Progress::Reading => f.write_str("reading the trace"),
        }
    }
}

/// What to fetch, and the token to fetch it with.
#[derive(Clone, Debug)]
pub struct Request {
    /// Where and which trace.
    pub target: Target,
    /// Sent as `Authorization: Bearer ...` when present. Never printed (see [`Token`]).
    pub token: Option<Token>,
}

/// A fetched trace: the bytes as the back-end sent them and the traces read from them.
#[derive(Debug)]
pub struct Fetched {
    /// The back-end it came from.
    pub backend: Backend,
    /// The format of `body`.
    pub format: Format,
    /// Where it came from, for people: `Jaeger at http://host:16686, trace 4bf9…`.
    pub source: String,
    /// The answer's bytes, as received, readable again by `formats::import`. For Sentry: the
    /// trace endpoint's answer with the trace id added to each top-level item (the endpoint does
    /// not name it), or, on servers without that endpoint, a JSON array of the transaction
    /// events.
    pub body: Vec<u8>,
    /// The traces in it (usually one).
    pub traces: Vec<Trace>,
}

/// Fetches one trace. Drop the future to cancel it; see also [`fetch_cancellable`].
pub async fn fetch(
    request: &Request,
    config: &Config,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Fetched, FetchError> {
    let http = http::Http::new(config, request.token.as_ref(), progress)?;
    fetch_with(&http, &request.target).await.map_err(|e| e.redacted(request.token.as_ref()))
}

/// [`fetch`] with a client already set up (a search fetches its hits on one client).
async fn fetch_with(http: &http::Http<'_>, target: &Target) -> Result<Fetched, FetchError> {
    let resolved = target.resolve()?;
    let backend = target.backend;
    let (body, builder, trace_id) = match backend {
        Backend::Sentry => sentry::fetch(http, &resolved).await?,
        _ => query::fetch(http, backend, &resolved).await?,
    };
    let source = format!("{} at {}, trace {trace_id}", backend.name(), http::origin(&resolved.base));
    http.report(Progress::Reading);
    let traces = builder.build().map_err(|e| not_a_trace(backend, &resolved.base, e))?;
    if traces.is_empty() {
        return Err(FetchError::new(
            ErrorKind::NotFound,
            format!("{} at {} has no spans for trace {trace_id}", backend.name(), http::origin(&resolved.base)),
        ));
    }
    Ok(Fetched { backend, format: backend.format(), source, body, traces })
}

/// [`fetch`], stopped with [`ErrorKind::Cancelled`] as soon as `cancel` fires.
pub async fn fetch_cancellable(
    request: &Request,
    config: &Config,
    progress: &(dyn Fn(Progress) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<Fetched, FetchError> {
    tokio::select! {
        // Cancelled first: a fetch cancelled before it starts sends nothing.
        biased;
        () = cancel.cancelled() => Err(FetchError::new(ErrorKind::Cancelled, "the fetch was cancelled")),
        result = fetch(request, config, progress) => result,
    }
}

/// Reads `body` with `backend`'s importer; a failure says the server sent something else.
fn import(backend: Backend, base: &url::Url, body: &[u8]) -> Result<TraceBuilder, FetchError> {
    backend.format().parse(body).map_err(|e| not_a_trace(backend, base, format!("at {}: {}", e.place, e.message)))
}

fn not_a_trace(backend: Backend, base: &url::Url, why: impl std::fmt::Display) -> FetchError {
    let name = backend.name();
    FetchError::new(
        ErrorKind::NotATrace,
        format!("{name} at {} answered something that is not a {name} trace: {why}", http::origin(base)),
    )
}
