//! The live receivers: an OTLP/HTTP endpoint (`POST /v1/traces`) and a Sentry endpoint (the
//! envelope endpoint of a DSN, `POST /api/{project}/envelope/`, and Spotlight's `POST /stream`),
//! on loopback, that an app under test sends its spans to, so they show up in tracedeck as they
//! arrive. Both kinds of listener share one [`Store`], so the spans of one trace merge whichever
//! way they came.
//!
//! OTLP bodies are JSON or protobuf; answers follow the OTLP/HTTP spec (200 with an empty
//! `ExportTraceServiceResponse` in the request's content type, 400 with a message for bodies
//! that cannot be read, 415 for other content types or encodings). Sentry bodies are envelopes
//! ([`sentry`]); answers are Sentry's (200 with `{"id": event id}`, 400 with `{"detail": why}`).
//! Bodies may be gzip, deflate or Brotli encoded ([`inflate`]); the limit on a body applies
//! again after decompressing. Refused bodies are counted in [`Status::refused`].
//!
//! Spans of one trace id are merged as they arrive ([`store`]); the replay driver sets a W3C
//! `traceparent` (and Sentry's `sentry-trace`) on its requests, so [`Receiver::trace`] with the
//! replay's trace id gives the app's side of that replay.
//!
//! JSON bodies go through the OTLP JSON importer ([`crate::formats::otlp::parse`]); protobuf
//! bodies are decoded with `opentelemetry-proto`'s prost types, whose serde form is the OTLP
//! JSON encoding, and read by the same importer, so both map onto the model identically.
//!
//! It holds at most [`DEFAULT_MAX_SPANS`] spans (or what [`Receiver::with_max_spans`] says),
//! dropping whole oldest traces first and saying so in [`Status`]; slow, idle and oversized
//! requests are cut off by [`crate::serve`]'s limits.
//!
//! Depends on `formats` and `model`; the GUI reads [`Receiver::status`] and the traces.

mod body;
mod inflate;
mod sentry;
mod store;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub use body::{BodyError, Encoding, read as read_body};
pub use inflate::{InflateError, inflate};
pub use store::{DEFAULT_MAX_SPANS, Dropped, Store};

use crate::model::listing::thousands;
use crate::model::{Trace, TraceId};
use crate::serve::Limits;

/// The OTLP/HTTP default port.
pub const DEFAULT_PORT: u16 = 4318;

/// Spotlight's port, where Sentry SDKs send with `spotlight` on.
pub const SENTRY_DEFAULT_PORT: u16 = 8969;

/// The largest request body accepted (compressed or not), and the largest decompressed body.
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// What a listener speaks.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Protocol {
    /// OTLP/HTTP, JSON or protobuf (`POST /v1/traces`).
    Otlp,
    /// Sentry envelopes (`POST /api/{project}/envelope/`, Spotlight's `POST /stream`).
    Sentry,
}

impl Protocol {
    /// Both, in the order the window lists them.
    pub const ALL: [Protocol; 2] = [Protocol::Otlp, Protocol::Sentry];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Otlp => "OTLP",
            Protocol::Sentry => "Sentry",
        }
    }

    /// The loopback address it listens on by default (OTLP's and Spotlight's usual ports).
    pub fn default_addr(self) -> SocketAddr {
        let port = match self {
            Protocol::Otlp => DEFAULT_PORT,
            Protocol::Sentry => SENTRY_DEFAULT_PORT,
        };
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// Where to point an app at a listener on `addr`: the OTLP endpoint, or a DSN and a
    /// Spotlight URL (any public key and project id do).
    pub fn endpoints(self, addr: SocketAddr) -> String {
        match self {
            Protocol::Otlp => format!("http://{addr}/v1/traces"),
            Protocol::Sentry => format!("SENTRY_DSN=http://public@{addr}/1 or SENTRY_SPOTLIGHT=http://{addr}/stream"),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where to listen.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address; loopback (`127.0.0.1:4318`) unless `allow_remote`.
    pub addr: SocketAddr,
    /// Allow a non-loopback address (other machines could then send spans).
    pub allow_remote: bool,
    /// Timeouts and sizes for the senders' requests.
    pub limits: Limits,
}

impl Default for Config {
    fn default() -> Self {
        Config::of(Protocol::Otlp)
    }
}

impl Config {
    /// A protocol's default address, loopback only.
    pub fn of(protocol: Protocol) -> Config {
        Config::at(protocol.default_addr(), false)
    }

    /// Listening on `addr` (`allow_remote` for one not on loopback), with the usual limits.
    pub fn at(addr: SocketAddr, allow_remote: bool) -> Config {
        Config { addr, allow_remote, limits: Limits::new(MAX_BODY) }
    }
}

/// What the GUI shows about a running receiver.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Status {
    /// Where the first listener listens.
    pub addr: SocketAddr,
    /// Every listener: what it speaks and where.
    pub listeners: Vec<(Protocol, SocketAddr)>,
    /// Spans received so far.
    pub spans: usize,
    /// Distinct trace ids among them.
    pub traces: usize,
    /// Bodies refused (unreadable, too large, of an unknown type or encoding).
    pub refused: usize,
    /// The most spans held.
    pub max_spans: usize,
    /// What was dropped to stay under `max_spans`.
    pub dropped: Dropped,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let listeners: Vec<String> = self.listeners.iter().map(|(p, addr)| format!("{p} on {addr}")).collect();
        write!(f, "listening for {}, {} spans in {} traces", listeners.join(" and "), self.spans, self.traces)?;
        if self.refused > 0 {
            write!(f, ", {} bodies refused", self.refused)?;
        }
        if self.dropped.traces > 0 {
            write!(f, "; {}", dropped_text(self.dropped, self.max_spans))?;
        }
        Ok(())
    }
}

/// `dropped 3 oldest trace(s), 300,000 spans, to stay under 2,000,000 spans`.
pub fn dropped_text(dropped: Dropped, max_spans: usize) -> String {
    format!(
        "dropped {} oldest trace(s), {} spans, to stay under {} spans",
        thousands(dropped.traces),
        thousands(dropped.spans),
        thousands(max_spans)
    )
}

/// What every listener's handlers share.
struct Shared {
    store: Store,
    refused: AtomicUsize,
}

impl Shared {
    /// Counts a refused body and answers `body` with `status`.
    fn refuse(&self, status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
        self.refused.fetch_add(1, Ordering::Relaxed);
        (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
    }
}

/// One listening server; dropping it stops the server.
struct Listener {
    protocol: Protocol,
    addr: SocketAddr,
    stop: CancellationToken,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Running receivers sharing their spans. Dropping it stops every listener.
pub struct Receiver {
    shared: Arc<Shared>,
    listeners: Vec<Listener>,
}

impl Default for Receiver {
    fn default() -> Self {
        Self::new()
    }
}

impl Receiver {
    /// A receiver with no listener yet (see [`Receiver::listen`]), holding at most
    /// [`DEFAULT_MAX_SPANS`] spans.
    pub fn new() -> Receiver {
        Receiver::with_max_spans(DEFAULT_MAX_SPANS)
    }

    /// A receiver with no listener yet, holding at most `max_spans` spans (beyond it the oldest
    /// traces are dropped whole).
    pub fn with_max_spans(max_spans: usize) -> Receiver {
        Receiver {
            shared: Arc::new(Shared { store: Store::new(max_spans), refused: AtomicUsize::new(0) }),
            listeners: Vec::new(),
        }
    }

    /// Binds an OTLP listener and starts serving on the current tokio runtime.
    pub async fn start(config: &Config) -> Result<Receiver, String> {
        let mut receiver = Receiver::new();
        receiver.listen(Protocol::Otlp, config).await?;
        Ok(receiver)
    }

    /// Binds a listener for `protocol` (replacing one for it already running) and starts serving
    /// on the current tokio runtime; returns where it listens (with the port picked when 0 was
    /// asked for).
    pub async fn listen(&mut self, protocol: Protocol, config: &Config) -> Result<SocketAddr, String> {
        if !config.addr.ip().is_loopback() && !config.allow_remote {
            return Err(format!(
                "{} is not a loopback address; the receiver listens on this machine only unless remote senders are allowed",
                config.addr
            ));
        }
        self.stop_listening(protocol);
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|e| format!("cannot listen on {} for {protocol}: {e}", config.addr))?;
        let addr = listener.local_addr().map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
        let routes = match protocol {
            Protocol::Otlp => Router::new().route("/v1/traces", post(export)),
            Protocol::Sentry => sentry::routes(),
        };
        let app = routes.layer(DefaultBodyLimit::max(config.limits.max_body)).with_state(self.shared.clone());
        let stop = CancellationToken::new();
        tokio::spawn(crate::serve::serve(listener, app, config.limits, stop.clone().cancelled_owned()));
        self.listeners.push(Listener { protocol, addr, stop });
        Ok(addr)
    }

    /// Stops the listener for `protocol`, if one runs; the spans received stay.
    pub fn stop_listening(&mut self, protocol: Protocol) {
        self.listeners.retain(|l| l.protocol != protocol);
    }

    /// Where the first listener listens (the OTLP one, for a receiver made by [`Receiver::start`];
    /// port 0 when none runs).
    pub fn addr(&self) -> SocketAddr {
        self.listeners.first().map_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)), |l| l.addr)
    }

    /// Where the listener for `protocol` listens, if one runs.
    pub fn addr_of(&self, protocol: Protocol) -> Option<SocketAddr> {
        self.listeners.iter().find(|l| l.protocol == protocol).map(|l| l.addr)
    }

    /// Listeners and counts.
    pub fn status(&self) -> Status {
        let (spans, traces) = self.shared.store.counts();
        Status {
            addr: self.addr(),
            listeners: self.listeners.iter().map(|l| (l.protocol, l.addr)).collect(),
            spans,
            traces,
            refused: self.shared.refused.load(Ordering::Relaxed),
            max_spans: self.shared.store.max_spans(),
            dropped: self.shared.store.dropped(),
        }
    }

    /// The spans received for `id`, merged into one trace: `Ok(None)` before any arrived, an
    /// error when they cannot form a tree (a parent cycle across requests).
    pub fn trace(&self, id: TraceId) -> Result<Option<Arc<Trace>>, String> {
        self.shared.store.trace(id)
    }

    /// The trace ids received, in the order they were first seen.
    pub fn trace_ids(&self) -> Vec<TraceId> {
        self.shared.store.trace_ids()
    }

    /// The store's spans per trace id, in the order first seen (for telling when a trace has
    /// stopped growing).
    pub fn span_counts(&self) -> Vec<(TraceId, usize)> {
        self.shared.store.span_counts()
    }

    /// A counter that changes whenever spans arrive; `changed().await` on it to wait for them.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.shared.store.subscribe()
    }

    /// Stops every listener.
    pub fn stop(self) {}
}

/// `POST /v1/traces`.
async fn export(State(shared): State<Arc<Shared>>, headers: HeaderMap, bytes: Bytes) -> Response {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok());
    let result = body::read(content_type, encoding, &bytes, MAX_BODY).map(|(kind, traces)| {
        shared.store.add(traces);
        kind
    });
    match result {
        Ok(kind) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, kind.content_type())], kind.empty_response()).into_response()
        }
        Err(error) => {
            let status = match error {
                BodyError::UnsupportedType(_) | BodyError::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                BodyError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
                BodyError::Bad { .. } => StatusCode::BAD_REQUEST,
            };
            let kind = error.encoding().unwrap_or(Encoding::Json);
            shared.refuse(status, kind.content_type(), kind.status_body(&error.to_string()))
        }
    }
}
