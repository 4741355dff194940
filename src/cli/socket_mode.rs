//! The Socket Mode and retry options of `tracedeck replay`: the `--retry-waits` list, and the
//! bounded wait for the app to connect.

use std::io::Write;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::analysis::format_limit;
use crate::model::Nanos;
use crate::model::parse_duration;
use crate::replay::mock::MockSlack;

/// The waits before Slack's retries of an Events API delivery (`--retry-waits`); empty: none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryWaits(pub Vec<Duration>);

/// Parses `0s,2s,5s` (at most 3 waits, as Slack retries 3 times) or `none`.
pub fn parse_retry_waits(text: &str) -> Result<RetryWaits, String> {
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok(RetryWaits(Vec::new()));
    }
    let waits = text
        .split(',')
        .map(|part| parse_duration(part).map(crate::model::std_duration))
        .collect::<Result<Vec<_>, _>>()?;
    if waits.len() > 3 {
        return Err(format!("{text:?} has {} waits; Slack retries at most 3 times", waits.len()));
    }
    Ok(RetryWaits(waits))
}

/// Waits up to `timeout` for the app to connect over Socket Mode, saying on `err` what it waits
/// for; the error says how to connect the app.
pub async fn wait_for_app(
    mock: &MockSlack,
    timeout: Duration,
    cancel: &CancellationToken,
    err: &mut dyn Write,
) -> Result<(), String> {
    let hub = mock.socket_mode();
    let within = format_limit(timeout.as_nanos() as Nanos);
    let how = format!(
        "start the app with its Slack client's base URL {} and its app-level token in SLACK_APP_TOKEN: it calls \
         apps.connections.open and opens the WebSocket URL it gets (ws://{}/link/?ticket=...)",
        mock.api_url(),
        mock.addr()
    );
    let _ = writeln!(err, "tracedeck: Socket Mode: waiting up to {within} for the app to connect; {how}");
    let connected = tokio::select! {
        connected = hub.wait_for_connection(timeout) => connected,
        () = cancel.cancelled() => false,
    };
    if connected {
        let _ = writeln!(err, "tracedeck: Socket Mode: the app connected");
        Ok(())
    } else if cancel.is_cancelled() {
        Err("stopped while waiting for the app to connect over Socket Mode".into())
    } else {
        Err(format!("no app connected over Socket Mode within {within} (--timeout); {how}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_waits_are_durations_or_none() {
        let s = Duration::from_secs;
        assert_eq!(parse_retry_waits("0s,2s,5s"), Ok(RetryWaits(vec![s(0), s(2), s(5)])));
        assert_eq!(parse_retry_waits("100ms"), Ok(RetryWaits(vec![Duration::from_millis(100)])));
        assert_eq!(parse_retry_waits("none"), Ok(RetryWaits(Vec::new())));
        assert!(parse_retry_waits("1s,2s,3s,4s").unwrap_err().contains("at most 3"));
        assert!(parse_retry_waits("1s,soon").unwrap_err().contains("not a duration"));
    }
}
