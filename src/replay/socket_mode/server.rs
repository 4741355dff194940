//! The Socket Mode endpoints on the mock's own address: the `apps.connections.open` Web API
//! method (POST only, the app-level token in `Authorization: Bearer` or a `token` argument;
//! errors as Slack lists them: `not_authed`, `invalid_auth`, `not_allowed_token_type`,
//! `insecure_request`) and the WebSocket endpoint `/link/?ticket=...` its URLs point to. Both
//! are served with the mock's routes under [`crate::serve`]'s limits up to the upgrade; a
//! session then ends when the app closes it or the replay stops.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::SocketHub;

#[derive(Clone)]
struct Ctx {
    hub: Arc<SocketHub>,
    cancel: CancellationToken,
}

/// The routes, served until `cancel` (open WebSockets are closed then too).
pub(crate) fn routes(hub: Arc<SocketHub>, cancel: CancellationToken) -> Router {
    Router::new()
        .route("/api/apps.connections.open", any(open))
        .route("/link/", get(link))
        .with_state(Ctx { hub, cancel })
}

/// The token of a call: the bearer header, else a `token` argument in the query or form body.
fn token(headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Option<String> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let argument = || {
        let find =
            |bytes: &[u8]| form_urlencoded::parse(bytes).find(|(k, _)| k == "token").map(|(_, v)| v.into_owned());
        query.and_then(|q| find(q.as_bytes())).or_else(|| find(body))
    };
    bearer.filter(|t| !t.is_empty()).or_else(argument)
}

async fn open(
    State(ctx): State<Ctx>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = match (token(&headers, query.as_deref(), &body), &ctx.hub.app_token()) {
        _ if method != Method::POST => json!({"ok": false, "error": "insecure_request"}),
        (None, _) => json!({"ok": false, "error": "not_authed"}),
        (Some(given), Some(app)) if given == app.expose() => json!({"ok": true, "url": ctx.hub.issue_url()}),
        // A bot or user token is a real token of the wrong type for this method.
        (Some(given), _) if given.starts_with("xoxb-") || given.starts_with("xoxp-") => {
            json!({"ok": false, "error": "not_allowed_token_type"})
        }
        (Some(_), _) => json!({"ok": false, "error": "invalid_auth"}),
    };
    ([(header::CONTENT_TYPE, "application/json; charset=utf-8")], answer.to_string()).into_response()
}

#[derive(serde::Deserialize)]
struct Ticket {
    ticket: Option<String>,
}

async fn link(State(ctx): State<Ctx>, Query(ticket): Query<Ticket>, upgrade: WebSocketUpgrade) -> Response {
    match ticket.ticket {
        Some(ticket) if ctx.hub.redeem(&ticket) => {
            upgrade.on_upgrade(move |socket| session(ctx.hub, socket, ctx.cancel)).into_response()
        }
        Some(_) => (StatusCode::UNAUTHORIZED, "this ticket was used or never issued; call apps.connections.open")
            .into_response(),
        None => (StatusCode::BAD_REQUEST, "no ticket; call apps.connections.open for a URL").into_response(),
    }
}

/// One connection: `hello`, then envelopes out and acks in until either side closes.
async fn session(hub: Arc<SocketHub>, mut socket: WebSocket, cancel: CancellationToken) {
    let (id, mut outgoing, hello) = hub.connect();
    let why = match socket.send(Message::Text(hello.into())).await {
        Err(e) => format!("it broke before hello: {e}"),
        Ok(()) => loop {
            tokio::select! {
                out = outgoing.recv() => match out {
                    Some(text) => if let Err(e) = socket.send(Message::Text(text.into())).await {
                        break format!("it broke: {e}");
                    },
                    None => break "the replay ended".into(),
                },
                message = socket.recv() => match message {
                    Some(Ok(Message::Text(text))) => hub.received(id, text.as_str()),
                    Some(Ok(Message::Binary(bytes))) => hub.received(id, &String::from_utf8_lossy(&bytes)),
                    Some(Ok(Message::Close(frame))) => break match frame {
                        Some(frame) => format!("close code {}", frame.code),
                        None => "closed".into(),
                    },
                    Some(Ok(_)) => {}
                    Some(Err(e)) => break format!("it broke: {e}"),
                    None => break "closed without a close frame".into(),
                },
                () = cancel.cancelled() => {
                    let _ = socket.send(Message::Close(None)).await;
                    break "the replay ended".into();
                }
            }
        },
    };
    hub.closed(id, &why);
}
