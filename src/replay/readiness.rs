//! Waiting for the app: with `--wait-for-target` the harness starts its mock first (so an app
//! that calls `auth.test` at start finds it), then waits until the app's endpoint accepts TCP
//! connections before the first replay.

use std::time::{Duration, Instant};

use reqwest::Url;
use tokio_util::sync::CancellationToken;

use crate::analysis::format_limit;
use crate::model::Nanos;

/// How often the target is tried while waiting.
const POLL: Duration = Duration::from_millis(100);

/// Whether something accepts TCP connections at the target's host and port now (within a second).
pub async fn accepts(target: &Url) -> Result<(), String> {
    let host = target.host_str().ok_or_else(|| format!("the target {target} has no host"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = target.port_or_known_default().ok_or_else(|| format!("the target {target} has no port"))?;
    match tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect((host, port))).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer to the connection within 1 s".to_owned()),
    }
}

/// Waits until the target accepts TCP connections, trying every 100 ms, for at most `limit`;
/// returns how long it waited. The error says the target never did (with the last reason), or
/// that `cancel` fired first.
pub async fn wait_for_target(target: &Url, limit: Duration, cancel: &CancellationToken) -> Result<Duration, String> {
    let started = Instant::now();
    loop {
        let why = match accepts(target).await {
            Ok(()) => return Ok(started.elapsed()),
            Err(why) => why,
        };
        let waited = started.elapsed();
        if waited >= limit {
            return Err(format!(
                "the target {target} did not accept connections within {} ({why}); start the app there \
                 (its Slack client pointed at the mock), or give --wait-for-target more time",
                format_limit(limit.as_nanos() as Nanos)
            ));
        }
        tokio::select! {
            () = tokio::time::sleep(POLL.min(limit - waited)) => {}
            () = cancel.cancelled() => return Err(format!("stopped while waiting for the target {target}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waits_for_a_listener_that_comes_later_and_gives_up_on_one_that_never_does() {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = probe.local_addr().unwrap();
        drop(probe);
        let url = Url::parse(&format!("http://{addr}/slack/events")).unwrap();
        let cancel = CancellationToken::new();

        let err = wait_for_target(&url, Duration::from_millis(250), &cancel).await.unwrap_err();
        assert!(err.contains("did not accept connections within 250 ms"), "{err}");
        assert!(err.contains(&addr.to_string()), "{err}");

        let late = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            tokio::net::TcpListener::bind(addr).await.unwrap()
        });
        let waited = wait_for_target(&url, Duration::from_secs(5), &cancel).await.unwrap();
        assert!(waited >= Duration::from_millis(250), "{waited:?}");
        drop(late.await.unwrap());

        cancel.cancel();
        let err = wait_for_target(&url, Duration::from_secs(5), &cancel).await.unwrap_err();
        assert!(err.starts_with("stopped while waiting"), "{err}");
    }
}
