//! Slack's retries of Events API deliveries: a delivery not acked with a 2xx within the ack limit
//! is sent again with `X-Slack-Retry-Num` / `X-Slack-Retry-Reason` (Socket Mode: `retry_attempt`
//! / `retry_reason`), up to 3 times. Slack retries almost at once, then after about 1 minute and
//! 5 minutes; the replay uses shortened waits ([`DEFAULT_WAITS`], `--retry-waits`). An
//! `http_timeout` retry does not wait for the slow delivery's answer, which may still come.
//!
//! The verdict of an event ([`super::verdict`]) counts its deliveries and flags a Web API method
//! called more than once for it (the same message posted twice): apps must dedupe on `event_id`.

use std::future::Future;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio_util::sync::CancellationToken;

use super::capture::Prepared;
use super::run::{Ack, Delivery, Fault, RunRecord};

/// The waits before retries 1, 2 and 3: Slack's ~0 s, ~1 min, ~5 min, shortened.
pub const DEFAULT_WAITS: [Duration; 3] = [Duration::ZERO, Duration::from_secs(2), Duration::from_secs(5)];

/// A header Slack puts on a retried delivery: which retry it is.
pub const RETRY_NUM_HEADER: &str = "x-slack-retry-num";
/// A header Slack puts on a retried delivery: why the last one failed.
pub const RETRY_REASON_HEADER: &str = "x-slack-retry-reason";

/// The `event_id` of an Events API `event_callback` body; such captures are retried.
pub fn event_id(prepared: &Prepared) -> Option<String> {
    let request = &prepared.interaction.request;
    if request.is_form() {
        return None;
    }
    let body: serde_json::Value = serde_json::from_str(&request.body).ok()?;
    if body.get("type")?.as_str()? != "event_callback" {
        return None;
    }
    body.get("event_id")?.as_str().map(str::to_owned)
}

/// Why a delivery counts as failed (Slack's retry reason), or `None` when it was acked in time.
pub(super) fn failure(result: &Result<Ack, Fault>, sent: Instant, limit: Duration) -> Option<&'static str> {
    match result {
        Ok(ack) if !(200..300).contains(&ack.status) => Some("http_error"),
        Ok(ack) if ack.at.saturating_duration_since(sent) > limit => Some("http_timeout"),
        Ok(_) => None,
        Err(Fault::Timeout(_)) => Some("http_timeout"),
        Err(Fault::Refused(_)) => Some("connection_failed"),
        Err(Fault::Stopped) => None,
        Err(_) => Some("unknown_error"),
    }
}

async fn tagged<F: Future>(attempt: u32, delivery: F) -> (u32, F::Output) {
    (attempt, delivery.await)
}

/// Delivers an event as Slack would, retrying failed deliveries after `waits`; `deliver(attempt,
/// reason)` sends one delivery. Retries go in `record.retries`; the first delivery's answer is
/// returned. Reports the record whenever it changes.
pub(super) async fn deliver_with_retries<F, Fut>(
    record: &mut RunRecord,
    waits: &[Duration],
    cancel: &CancellationToken,
    report: &(dyn Fn(&RunRecord) + Sync),
    deliver: F,
) -> Result<Ack, Fault>
where
    F: Fn(u32, &'static str) -> Fut,
    Fut: Future<Output = Result<Ack, Fault>>,
{
    let limit = record.limit();
    let mut inflight = FuturesUnordered::new();
    inflight.push(tagged(0, deliver(0, "")));
    let mut first = None;
    let (mut current, mut current_sent) = (0u32, record.start);
    // Whether the current delivery was judged (acked in time, or failed and a retry decided).
    let mut judged = false;
    let mut next: Option<(tokio::time::Instant, &'static str)> = None;
    loop {
        if inflight.is_empty() && judged && next.is_none() {
            break;
        }
        let deadline = tokio::time::Instant::from_std(current_sent + limit);
        let retry_at = next.map(|(at, _)| at);
        tokio::select! {
            Some((attempt, result)) = inflight.next() => {
                let failed = failure(&result, if attempt == 0 { record.start } else { current_sent }, limit);
                if attempt == current && !judged {
                    judged = true;
                    if let Some(reason) = failed {
                        next = schedule(current, waits, reason);
                    }
                }
                match attempt {
                    0 => first = Some(result),
                    n => record.retries[n as usize - 1].response = Some(result),
                }
                report(record);
            }
            () = tokio::time::sleep_until(deadline), if !judged => {
                judged = true;
                next = schedule(current, waits, "http_timeout");
            }
            () = tokio::time::sleep_until(retry_at.unwrap_or(deadline)), if retry_at.is_some() => {
                let reason = next.take().map_or("unknown_error", |(_, r)| r);
                current += 1;
                current_sent = Instant::now();
                judged = false;
                record.retries.push(Delivery { attempt: current, reason, sent: current_sent, response: None });
                inflight.push(tagged(current, deliver(current, reason)));
                report(record);
            }
            () = cancel.cancelled() => break,
        }
    }
    for retry in &mut record.retries {
        retry.response.get_or_insert(Err(Fault::Stopped));
    }
    first.unwrap_or(Err(Fault::Stopped))
}

/// When the retry after delivery `current` goes (none after the last wait).
fn schedule(current: u32, waits: &[Duration], reason: &'static str) -> Option<(tokio::time::Instant, &'static str)> {
    let wait = waits.get(current as usize)?;
    Some((tokio::time::Instant::now() + *wait, reason))
}
