//! The Sentry listener: what a Sentry SDK sends, through a DSN pointed here
//! (`http://public@127.0.0.1:8969/1`: `POST /api/1/envelope/`) or through its Spotlight option
//! (`POST /stream`). Any project id and public key are accepted, and any content type (browser
//! SDKs send `text/plain`); bodies are envelopes ([`crate::formats::sentry::envelope`]), plain
//! or gzip/deflate/Brotli encoded. Answers allow any origin (CORS), as browser SDKs post from a
//! web page; the listener is on loopback, so only pages open on this machine can reach it.
//!
//! Answers are Sentry's: 200 with `{"id": "<event id>"}` (`{}` for envelopes without one), 400
//! with `{"detail": "<why>"}` for a body that is not an envelope, 413 for one too large, 415 for
//! an unknown encoding. Items without spans (sessions, client reports, attachments) are taken
//! and dropped, as a trace viewer has no use for them.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use super::inflate::{InflateError, inflate};
use super::{MAX_BODY, Shared};
use crate::formats::sentry::envelope;

/// The Sentry endpoints. Browser SDKs post from a page's origin, so every answer allows any
/// origin, and the CORS preflight (`OPTIONS`) is answered.
pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/{project}/envelope/", post(receive).options(preflight))
        .route("/api/{project}/envelope", post(receive).options(preflight))
        .route("/stream", post(receive).options(preflight))
        .layer(axum::middleware::map_response(allow_any_origin))
}

/// Adds `Access-Control-Allow-Origin: *` to an answer.
async fn allow_any_origin(mut response: Response) -> Response {
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// The CORS preflight of a browser SDK's post: any method it needs, the headers it asks for.
async fn preflight(headers: HeaderMap) -> Response {
    let asked = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
    let mut response =
        (StatusCode::NO_CONTENT, [(header::ACCESS_CONTROL_ALLOW_METHODS, "POST, OPTIONS")]).into_response();
    if let Some(asked) = asked {
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked);
    }
    response
}

/// Takes one envelope body.
async fn receive(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match read(&shared, &headers, body) {
        Ok(event_id) => {
            let answer = match event_id {
                Some(id) => json!({ "id": id }),
                None => json!({}),
            };
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], answer.to_string()).into_response()
        }
        Err((status, detail)) => {
            shared.refuse(status, "application/json", json!({ "detail": detail }).to_string().into_bytes())
        }
    }
}

/// Decompresses and reads a body, storing its spans; the envelope's event id, or why not.
fn read(
    shared: &Shared,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Option<String>, (StatusCode, String)> {
    let bytes = body.map_err(|e| (e.status(), e.body_text()))?;
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok());
    let bytes = inflate(encoding, &bytes, MAX_BODY).map_err(|e| {
        let status = match e {
            InflateError::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            InflateError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            InflateError::Corrupt { .. } => StatusCode::BAD_REQUEST,
        };
        (status, e.to_string())
    })?;
    let bad = |message: String| (StatusCode::BAD_REQUEST, format!("not a Sentry envelope: {message}"));
    let received = envelope::receive(&bytes).map_err(|e| bad(format!("at {}: {}", e.place, e.message)))?;
    let traces = received.spans.build().map_err(|e| bad(e.to_string()))?;
    shared.store.add(traces);
    Ok(received.event_id)
}
