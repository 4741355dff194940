//! The demo app in Socket Mode: it calls `apps.connections.open` with its app-level token at
//! [`DemoConfig::api_url`], opens the WebSocket it gets, acks every envelope at once and queues
//! the interaction's work exactly as the HTTP app does ([`super::Mode::AckAfterOpen`]: acks once
//! its `views.open` answered, the other envelopes still read meanwhile). Asked to reconnect
//! (`disconnect`), it opens a new connection before closing the old one; a dropped connection is
//! reopened.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::{App, DemoConfig, Mode, dispatch};
use crate::replay::signing::Secret;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Runs the app in Socket Mode until `shutdown` is cancelled. The error is a connection that
/// cannot be opened for good (a refused token, a URL that is not `ws://`).
pub async fn connect(config: DemoConfig, app_token: Secret, shutdown: CancellationToken) -> std::io::Result<()> {
    let app = App::new(config)?;
    let Some(mut socket) = open(&app, &app_token, &shutdown).await? else { return Ok(()) };
    // Acks sent once their work is done (ack-after-open), by the loop that owns the socket.
    let (late_acks, mut acks) = tokio::sync::mpsc::unbounded_channel::<String>();
    loop {
        let message = tokio::select! {
            message = socket.next() => message,
            Some(ack) = acks.recv() => {
                if let Err(e) = socket.send(Message::Text(ack.into())).await {
                    app.log(format_args!("cannot send a late ack: {e}"));
                }
                continue;
            }
            () = shutdown.cancelled() => {
                let _ = socket.close(None).await;
                return Ok(());
            }
        };
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                app.log(format_args!("the Socket Mode connection closed; reconnecting"));
                match open(&app, &app_token, &shutdown).await? {
                    Some(new) => socket = new,
                    None => return Ok(()),
                }
                continue;
            }
            Some(Ok(_)) => continue,
        };
        let Ok(message) = serde_json::from_str::<Value>(text.as_str()) else {
            app.log(format_args!("ignored a message that is not JSON"));
            continue;
        };
        match (message["type"].as_str(), message["envelope_id"].as_str()) {
            (Some("hello"), _) => app.log(format_args!("Socket Mode: hello")),
            (Some("disconnect"), _) => {
                app.log(format_args!("Socket Mode: asked to reconnect ({})", message["reason"]));
                match open(&app, &app_token, &shutdown).await? {
                    Some(new) => {
                        let mut old = std::mem::replace(&mut socket, new);
                        let _ = old.close(None).await;
                    }
                    None => return Ok(()),
                }
            }
            (kind, Some(envelope_id)) => {
                let ack = json!({"envelope_id": envelope_id}).to_string();
                let work = match kind {
                    Some("interactive" | "slash_commands") => dispatch(&app, &message["payload"], None),
                    _ => {
                        app.log(format_args!("envelope {envelope_id} ({kind:?}) acked; nothing to do"));
                        None
                    }
                };
                match (work, app.config.mode) {
                    (Some(work), Mode::AckAfterOpen) => {
                        let late_acks = late_acks.clone();
                        tokio::spawn(async move {
                            work.run().await;
                            let _ = late_acks.send(ack);
                        });
                    }
                    (work, _) => {
                        if let Err(e) = socket.send(Message::Text(ack.into())).await {
                            app.log(format_args!("cannot ack envelope {envelope_id}: {e}"));
                        }
                        if let Some(work) = work {
                            tokio::spawn(work.run());
                        }
                    }
                }
            }
            _ => app.log(format_args!("ignored a message without an envelope_id")),
        }
    }
}

/// Opens a connection: `apps.connections.open`, then the WebSocket. Connection failures are
/// retried every second until `shutdown` (then `None`); a refusal of the token is an error.
async fn open(app: &Arc<App>, app_token: &Secret, shutdown: &CancellationToken) -> std::io::Result<Option<Socket>> {
    loop {
        match try_open(app, app_token).await {
            Ok(socket) => return Ok(Some(socket)),
            Err(Retry::Never(why)) => return Err(std::io::Error::other(why)),
            Err(Retry::Later(why)) => app.log(format_args!("{why}; retrying in 1 s")),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            () = shutdown.cancelled() => return Ok(None),
        }
    }
}

enum Retry {
    Later(String),
    Never(String),
}

async fn try_open(app: &App, app_token: &Secret) -> Result<Socket, Retry> {
    let url = format!("{}apps.connections.open", app.config.api_url);
    let reply = app
        .client
        .post(&url)
        .bearer_auth(app_token.expose())
        .send()
        .await
        .map_err(|e| Retry::Later(format!("{url}: {e}")))?;
    let reply = reply.bytes().await.map_err(|e| Retry::Later(format!("{url}: {e}")))?;
    let reply: Value =
        serde_json::from_slice(&reply).map_err(|e| Retry::Later(format!("{url}: the reply is not JSON: {e}")))?;
    let Some(link) = reply["url"].as_str().filter(|_| reply["ok"] == true) else {
        let error = reply["error"].as_str().unwrap_or("no url in the reply");
        return Err(Retry::Never(format!(
            "apps.connections.open failed: {error} (is SLACK_APP_TOKEN the app-level token?)"
        )));
    };
    let (socket, _) = tokio_tungstenite::connect_async(link)
        .await
        .map_err(|e| Retry::Later(format!("cannot open the Socket Mode connection: {e}")))?;
    app.log(format_args!("Socket Mode: connected"));
    Ok(socket)
}
