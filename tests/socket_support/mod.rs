//! Shared set-up for the Socket Mode tests: a mock that takes an app-level token, the demo app
//! in Socket Mode, and a scripted Socket Mode app that acks (or misbehaves) as told.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;
use tracedeck::replay::demo_app::{self, Delays, DemoConfig, Mode};
use tracedeck::replay::driver::ReplayConfig;
use tracedeck::replay::mock::{MockConfig, MockSlack};
use tracedeck::replay::signing::Secret;

use crate::replay_support::{TOKEN, client, mock_with};

/// The app-level token the app sends to `apps.connections.open`.
pub const APP_TOKEN: &str = "xapp-1-A0TRACEDECK-tracedeck-test";

/// A mock with Socket Mode on (it takes [`APP_TOKEN`]) and the given trigger lifetime.
pub async fn socket_mock(trigger_ttl: Duration) -> Arc<MockSlack> {
    let mut config = MockConfig::new(Secret::new(TOKEN));
    config.trigger_ttl = trigger_ttl;
    config.app_token = Some(Secret::new(APP_TOKEN));
    mock_with(config).await
}

/// Runs the demo app in Socket Mode against the mock at `api_url`; returns its stop token.
pub fn demo_socket(mode: Mode, seed: u64, delays: Delays, api_url: String) -> CancellationToken {
    let config = DemoConfig::new(mode, seed, delays, Secret::new(""), Secret::new(TOKEN), api_url);
    let stop = CancellationToken::new();
    tokio::spawn(demo_app::socket::connect(config, Secret::new(APP_TOKEN), stop.clone()));
    stop
}

/// A Socket Mode replay configuration with short waits.
pub fn socket_config(mock: &MockSlack, runs: usize, concurrency: usize, wait: Duration) -> ReplayConfig {
    let mut config = ReplayConfig::socket_mode(mock, None);
    config.runs = runs;
    config.concurrency = concurrency;
    config.wait = wait;
    config.response_timeout = Duration::from_secs(5);
    config
}

/// Calls `apps.connections.open` with `token` (none: no header).
pub async fn connections_open(api_url: &str, token: Option<&str>) -> Value {
    let mut request = client().post(format!("{api_url}apps.connections.open"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    serde_json::from_slice(&request.send().await.unwrap().bytes().await.unwrap()).unwrap()
}

/// What the scripted app does with each envelope.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Acks after a delay, with an optional payload.
    Ack(Duration, Option<Value>),
    /// Sends this text instead of an ack.
    Send(String),
    /// Acks an envelope id that was never sent.
    UnknownId,
    /// Closes the connection.
    Close,
}

/// Connects a scripted Socket Mode app to the mock at `api_url`; returns every message it got
/// after `hello` (envelopes), as they come. It waits until the mock has counted the connection.
pub async fn scripted_app(mock: &MockSlack, reply: Reply) -> Arc<Mutex<Vec<Value>>> {
    let before = mock.socket_mode().connections_opened();
    let opened = connections_open(&mock.api_url(), Some(APP_TOKEN)).await;
    let url = opened["url"].as_str().unwrap_or_else(|| panic!("{opened}")).to_owned();
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str()).await.unwrap();
    let hello = socket.next().await.unwrap().unwrap();
    let hello: Value = serde_json::from_str(hello.to_text().unwrap()).unwrap();
    assert_eq!(hello["type"], "hello", "{hello}");
    while mock.socket_mode().connections_opened() == before {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = got.clone();
    tokio::spawn(async move {
        let (mut tx, mut rx) = socket.split();
        let (acks, mut to_send) = tokio::sync::mpsc::unbounded_channel::<Option<String>>();
        loop {
            tokio::select! {
                message = rx.next() => {
                    let Some(Ok(Message::Text(text))) = message else { return };
                    let envelope: Value = serde_json::from_str(text.as_str()).unwrap();
                    if envelope.get("envelope_id").is_none() {
                        continue;
                    }
                    seen.lock().unwrap().push(envelope.clone());
                    let id = envelope["envelope_id"].as_str().unwrap_or("").to_owned();
                    let acks = acks.clone();
                    let reply = reply.clone();
                    tokio::spawn(async move {
                        let text = match reply {
                            Reply::Ack(after, payload) => {
                                tokio::time::sleep(after).await;
                                let mut ack = json!({"envelope_id": id});
                                if let Some(payload) = payload {
                                    ack["payload"] = payload;
                                }
                                Some(ack.to_string())
                            }
                            Reply::Send(text) => Some(text),
                            Reply::UnknownId => Some(json!({"envelope_id": "never-sent"}).to_string()),
                            Reply::Close => None,
                        };
                        let _ = acks.send(text);
                    });
                }
                Some(out) = to_send.recv() => match out {
                    Some(text) => { let _ = tx.send(Message::Text(text.into())).await; }
                    None => { let _ = tx.close().await; return; }
                },
            }
        }
    });
    got
}
