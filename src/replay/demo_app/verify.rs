//! Token verification at start, as Bolt does it (`tokenVerificationEnabled`, on by default): the
//! app calls `auth.test` with its bot token as soon as it starts and retries with back-off
//! while the Web API cannot be reached; interactions wait for the answer before they are
//! handled. An app started before the mock therefore acks its first interactions late.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;

/// How many times a failed `auth.test` is retried (Bolt's default policy retries ten times).
const RETRIES: u32 = 10;
/// The longest pause between tries.
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// The outcome of the start-up `auth.test`, once known.
#[derive(Clone)]
pub(super) struct Verification(watch::Receiver<Option<Result<(), String>>>);

impl Verification {
    /// Starts verifying on the runtime: `auth.test` at `api_url` with `token`, retried after
    /// `first_pause`, then twice as long each time (at most 30 s). `log` is told each try.
    pub(super) fn start(
        client: reqwest::Client,
        api_url: String,
        token: String,
        first_pause: Duration,
        log: impl Fn(std::fmt::Arguments) + Send + 'static,
    ) -> Verification {
        let (tx, rx) = watch::channel(None);
        tokio::spawn(async move {
            let mut pause = first_pause;
            let mut attempt = 0;
            let outcome = loop {
                attempt += 1;
                match auth_test(&client, &api_url, &token).await {
                    Ok(Ok(())) => {
                        log(format_args!("auth.test ok on try {attempt}: the token is valid"));
                        break Ok(());
                    }
                    Ok(Err(code)) => {
                        log(format_args!("auth.test failed: {code}"));
                        break Err(code);
                    }
                    Err(why) if attempt <= RETRIES => {
                        log(format_args!("auth.test failed ({why}); retrying in {} ms", pause.as_millis()));
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(MAX_PAUSE);
                    }
                    Err(why) => break Err(why),
                }
            };
            let _ = tx.send(Some(outcome));
        });
        Verification(rx)
    }

    /// Waits for the verification; the error says why the token could not be verified.
    pub(super) async fn done(&self) -> Result<(), String> {
        let mut rx = self.0.clone();
        match rx.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone().unwrap_or(Ok(())),
            Err(_) => Err("the token check stopped".to_owned()),
        }
    }
}

/// One `auth.test`: `Err` when the Web API could not be reached (retry), `Ok(Err(code))` when it
/// answered that the token is not valid (no retry), `Ok(Ok(()))` when it is.
async fn auth_test(client: &reqwest::Client, api_url: &str, token: &str) -> Result<Result<(), String>, String> {
    let response = client
        .post(format!("{api_url}auth.test"))
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| crate::replay::driver::root_cause(&e))?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()));
    }
    let bytes = response.bytes().await.map_err(|e| format!("unreadable reply: {e}"))?;
    let reply: Value = serde_json::from_slice(&bytes).map_err(|e| format!("the reply is not JSON: {e}"))?;
    Ok(match reply.get("ok").and_then(Value::as_bool) {
        Some(true) => Ok(()),
        _ => Err(reply.get("error").and_then(Value::as_str).unwrap_or("no ok in reply").to_owned()),
    })
}
