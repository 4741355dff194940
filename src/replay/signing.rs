//! Slack request signing: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{body}">`.
//!
//! The harness signs every replayed request with the developer's signing secret and a fresh
//! timestamp, over the exact bytes it sends; the demo app verifies the same way Slack's SDKs do
//! (constant-time comparison, five-minute window in both directions, like python `slack_sdk`).
//! Secrets live in [`Secret`], whose `Debug` never shows them.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-slack-signature";
/// The header carrying the Unix time (seconds) the signature was made at.
pub const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
/// How far a request's timestamp may be from now, in seconds, before it is refused as a replay.
pub const MAX_AGE_SECS: i64 = 300;

type HmacSha256 = Hmac<Sha256>;

/// A signing secret or a token: kept in memory only, never printed. `Debug` shows `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Box<str>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<Box<str>>) -> Self {
        Secret(value.into())
    }

    /// Reads a secret from an environment variable; the error names the variable, never a value.
    pub fn from_env(var: &str) -> Result<Self, String> {
        match std::env::var(var) {
            Ok(value) if !value.trim().is_empty() => Ok(Secret::new(value.trim())),
            Ok(_) => Err(format!("the environment variable {var} is empty")),
            Err(std::env::VarError::NotPresent) => Err(format!("the environment variable {var} is not set")),
            Err(std::env::VarError::NotUnicode(_)) => Err(format!("the environment variable {var} is not UTF-8")),
        }
    }

    /// The value, for the one place that needs it (an HMAC key, an `Authorization` header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The `X-Slack-Signature` value for a body sent at `timestamp` (Unix seconds).
pub fn sign(secret: &Secret, timestamp: i64, body: &[u8]) -> String {
    format!("v0={}", hex::encode(mac(secret, timestamp, body).finalize().into_bytes()))
}

fn mac(secret: &Secret, timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes keys of any length");
    mac.update(b"v0:");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b":");
    mac.update(body);
    mac
}

/// Why a request's signature was refused.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum SignatureError {
    /// A header is absent.
    #[error("the {0} header is missing")]
    Missing(&'static str),
    /// The timestamp is not a whole number of seconds.
    #[error("the timestamp {0:?} is not a Unix time in seconds")]
    BadTimestamp(String),
    /// The timestamp is more than five minutes from now.
    #[error("the timestamp is {0} s away from now (more than 300 s: a replayed or stale request)")]
    Stale(i64),
    /// The signature does not match the body.
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Checks a request's signature headers against its raw body at `now` (Unix seconds).
pub fn verify(
    secret: &Secret,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let timestamp = timestamp.ok_or(SignatureError::Missing(TIMESTAMP_HEADER))?;
    let signature = signature.ok_or(SignatureError::Missing(SIGNATURE_HEADER))?;
    let ts: i64 = timestamp
        .parse()
        .ok()
        .filter(|_| timestamp.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| SignatureError::BadTimestamp(timestamp.to_owned()))?;
    let age = now.saturating_sub(ts);
    if age.abs() > MAX_AGE_SECS {
        return Err(SignatureError::Stale(age));
    }
    let expected = signature.strip_prefix("v0=").and_then(|h| hex::decode(h).ok()).ok_or(SignatureError::Mismatch)?;
    mac(secret, ts, body).verify_slice(&expected).map_err(|_| SignatureError::Mismatch)
}

/// The current Unix time in whole seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectors of slack-platform.md §4.
    const SECRET: &str = "tracedeck-signing-secret-0001";
    const TS: i64 = 1_700_000_000;
    const BODY: &str = "payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A%7B%22id%22%3A%22U0TEST%22%7D%2C%22actions%22%3A%5B%7B%22action_id%22%3A%22approve%22%2C%22value%22%3A%2242%22%7D%5D%7D";

    #[test]
    fn signs_the_reference_vectors() {
        let secret = Secret::new(SECRET);
        assert_eq!(BODY.len(), 178);
        assert_eq!(
            sign(&secret, TS, BODY.as_bytes()),
            "v0=14cd0aa1243e66c3e37e81c487a06c95bb9247712302463de3c499601c4a5917"
        );
        assert_eq!(
            sign(&secret, TS, b"hello=world"),
            "v0=9f6b7b5d689c23fad1a506f731e17d4cba1d3443534ceb4901b0426d8c1d00d1"
        );
        assert_eq!(sign(&secret, TS, b""), "v0=66bd6d69b34d3ed06f971be8de6afd5c9b98be4955b11d94e9976e122d68daea");
    }

    #[test]
    fn signs_slacks_documented_example() {
        let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let secret = Secret::new("8f742231b10e8888abcd99yyyzzz85a5");
        assert_eq!(
            sign(&secret, 1_531_420_618, body.as_bytes()),
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        );
    }

    #[test]
    fn verifies_good_signatures_and_refuses_bad_ones() {
        let secret = Secret::new(SECRET);
        let good = "v0=14cd0aa1243e66c3e37e81c487a06c95bb9247712302463de3c499601c4a5917";
        let ts = TS.to_string();
        assert_eq!(verify(&secret, Some(&ts), Some(good), BODY.as_bytes(), TS + 10), Ok(()));
        assert_eq!(verify(&secret, Some(&ts), Some(good), BODY.as_bytes(), TS - 300), Ok(()));
        let wrong = Secret::new("another-secret");
        assert_eq!(verify(&wrong, Some(&ts), Some(good), BODY.as_bytes(), TS), Err(SignatureError::Mismatch));
        assert_eq!(verify(&secret, Some(&ts), Some(good), b"payload=%7B%7D", TS), Err(SignatureError::Mismatch));
        assert_eq!(verify(&secret, Some(&ts), Some("v1=abc"), BODY.as_bytes(), TS), Err(SignatureError::Mismatch));
        assert_eq!(verify(&secret, Some(&ts), Some(good), BODY.as_bytes(), TS + 301), Err(SignatureError::Stale(301)));
        assert_eq!(verify(&secret, Some(&ts), Some(good), BODY.as_bytes(), TS - 301), Err(SignatureError::Stale(-301)));
        assert_eq!(
            verify(&secret, None, Some(good), BODY.as_bytes(), TS),
            Err(SignatureError::Missing(TIMESTAMP_HEADER))
        );
        assert_eq!(
            verify(&secret, Some(&ts), None, BODY.as_bytes(), TS),
            Err(SignatureError::Missing(SIGNATURE_HEADER))
        );
        assert_eq!(
            verify(&secret, Some("-17"), Some(good), BODY.as_bytes(), TS),
            Err(SignatureError::BadTimestamp("-17".into()))
        );
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let secret = Secret::new("s3cr3t-value");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert!(!format!("{:?}", Some(&secret)).contains("s3cr3t"));
    }
}
