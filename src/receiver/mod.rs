//! The live receiver: an OTLP/HTTP endpoint (`POST /v1/traces`) on loopback that an app under
//! test exports its spans to, so they show up in tracedeck as they arrive.
//!
//! Bodies are OTLP JSON or protobuf, optionally gzip-compressed; answers follow the OTLP/HTTP
//! spec (200 with an empty `ExportTraceServiceResponse` in the request's content type, 400 with
//! a message for bodies that cannot be read, 415 for other content types or encodings). Spans
//! of one trace id are merged as they arrive ([`store`]); the replay driver sets a W3C
//! `traceparent` on its requests, so [`Receiver::trace`] with the replay's trace id gives the
//! app's side of that replay.
//!
//! JSON bodies go through the OTLP JSON importer ([`crate::formats::otlp::parse`]); protobuf
//! bodies are decoded with `opentelemetry-proto`'s prost types, whose serde form is the OTLP
//! JSON encoding, and read by the same importer, so both map onto the model identically.
//!
//! It holds at most [`Config::max_spans`] spans, dropping whole oldest traces first and
//! saying so in [`Status`]; slow, idle and oversized requests are cut off by
//! [`crate::serve`]'s limits.
//!
//! Depends on `formats` and `model`; the GUI reads [`Receiver::status`] and the traces.

mod body;
mod store;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub use body::{BodyError, Encoding, read as read_body};
pub use store::{DEFAULT_MAX_SPANS, Dropped, Store};

use crate::model::listing::thousands;
use crate::model::{Trace, TraceId};
use crate::serve::Limits;

/// The OTLP/HTTP default port.
pub const DEFAULT_PORT: u16 = 4318;

/// The largest request body accepted (compressed or not), and the largest decompressed body.
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// Where to listen.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address; loopback (`127.0.0.1:4318`) unless `allow_remote`.
    pub addr: SocketAddr,
    /// Allow a non-loopback address (other machines could then send spans).
    pub allow_remote: bool,
    /// The most spans held; beyond it the oldest traces are dropped.
    pub max_spans: usize,
    /// Timeouts and sizes for the senders' requests.
    pub limits: Limits,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            allow_remote: false,
            max_spans: DEFAULT_MAX_SPANS,
            limits: Limits::new(MAX_BODY),
        }
    }
}

/// What the GUI shows about a running receiver.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Status {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Spans received so far.
    pub spans: usize,
    /// Distinct trace ids among them.
    pub traces: usize,
    /// The most spans held.
    pub max_spans: usize,
    /// What was dropped to stay under `max_spans`.
    pub dropped: Dropped,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "listening on http://{}/v1/traces, {} spans in {} traces", self.addr, self.spans, self.traces)?;
        if self.dropped.traces > 0 {
            write!(f, "; {}", dropped_text(self.dropped, self.max_spans))?;
        }
        Ok(())
    }
}

/// `dropped 3 oldest traces, 300,000 spans, to stay under 2,000,000`.
pub fn dropped_text(dropped: Dropped, max_spans: usize) -> String {
    format!(
        "dropped {} oldest trace(s), {} spans, to stay under {} spans",
        thousands(dropped.traces),
        thousands(dropped.spans),
        thousands(max_spans)
    )
}

/// A running receiver. Dropping it stops the server.
pub struct Receiver {
    addr: SocketAddr,
    store: Arc<Store>,
    stop: CancellationToken,
}

impl Receiver {
    /// Binds and starts serving on the current tokio runtime.
    pub async fn start(config: &Config) -> Result<Receiver, String> {
        if !config.addr.ip().is_loopback() && !config.allow_remote {
            return Err(format!(
                "{} is not a loopback address; the receiver listens on this machine only unless remote senders are allowed",
                config.addr
            ));
        }
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
        let addr = listener.local_addr().map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
        let store = Arc::new(Store::new(config.max_spans));
        let app = Router::new()
            .route("/v1/traces", post(export))
            .layer(DefaultBodyLimit::max(config.limits.max_body))
            .with_state(store.clone());
        let stop = CancellationToken::new();
        tokio::spawn(crate::serve::serve(listener, app, config.limits, stop.clone().cancelled_owned()));
        Ok(Receiver { addr, store, stop })
    }

    /// Where it listens (with the port picked when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Address and counts.
    pub fn status(&self) -> Status {
        let (spans, traces) = self.store.counts();
        Status { addr: self.addr, spans, traces, max_spans: self.store.max_spans(), dropped: self.store.dropped() }
    }

    /// The spans received for `id`, merged into one trace: `Ok(None)` before any arrived, an
    /// error when they cannot form a tree (a parent cycle across requests).
    pub fn trace(&self, id: TraceId) -> Result<Option<Arc<Trace>>, String> {
        self.store.trace(id)
    }

    /// The trace ids received, in the order they were first seen.
    pub fn trace_ids(&self) -> Vec<TraceId> {
        self.store.trace_ids()
    }

    /// A counter that changes whenever spans arrive; `changed().await` on it to wait for them.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.store.subscribe()
    }

    /// Stops the server.
    pub fn stop(self) {}
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// `POST /v1/traces`.
async fn export(State(store): State<Arc<Store>>, headers: HeaderMap, bytes: Bytes) -> Response {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok());
    let result = read_body(content_type, encoding, &bytes, MAX_BODY).map(|(kind, traces)| {
        store.add(traces);
        kind
    });
    match result {
        Ok(kind) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, kind.content_type())], kind.empty_response()).into_response()
        }
        Err(error) => {
            let status = match error {
                BodyError::UnsupportedType(_) | BodyError::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                BodyError::Bad { .. } => StatusCode::BAD_REQUEST,
            };
            let kind = error.encoding().unwrap_or(Encoding::Json);
            (status, [(header::CONTENT_TYPE, kind.content_type())], kind.status_body(&error.to_string()))
                .into_response()
        }
    }
}
