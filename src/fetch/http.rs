//! One GET with the fetch's policy: timeouts, retries with backoff on 429 and 5xx (honouring
//! `Retry-After`; a server asking for a longer wait than the configured longest is not tried
//! again), progress reports, and reqwest's errors turned into sentences that name the server.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, RETRY_AFTER};
use url::Url;

use super::{Config, ErrorKind, FetchError, Progress, Token};

/// How long to wait before retry `attempt` (from 1) when the server did not say.
fn backoff(config: &Config, attempt: u32) -> Duration {
    let factor = 1u32.checked_shl(attempt.saturating_sub(1)).unwrap_or(u32::MAX);
    config.backoff.saturating_mul(factor).min(config.max_wait)
}

/// `Retry-After` as seconds or an HTTP date. `None` when absent or unreadable.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match text.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let when = jiff::fmt::rfc2822::parse(text).ok()?.timestamp();
            let now = jiff::Timestamp::now();
            Duration::try_from(now.duration_until(when)).unwrap_or(Duration::ZERO)
        }
    };
    Some(wait)
}

/// `http://host:port`, how errors name a server.
pub(crate) fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// An HTTP client for one fetch: its settings, token and progress callback.
pub(crate) struct Http<'a> {
    client: reqwest::Client,
    config: &'a Config,
    token: Option<&'a Token>,
    progress: &'a (dyn Fn(Progress) + Send + Sync),
}

/// A failure of one attempt, and whether trying again could help.
struct Attempt {
    error: FetchError,
    wait: Option<Duration>,
}

impl<'a> Http<'a> {
    /// A client with `config`'s timeouts; `token`, when given, is sent as a bearer token.
    pub(crate) fn new(
        config: &'a Config,
        token: Option<&'a Token>,
        progress: &'a (dyn Fn(Progress) + Send + Sync),
    ) -> Result<Self, FetchError> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("tracedeck/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::input(format!("cannot set up HTTP: {}", innermost(&e))))?;
        Ok(Http { client, config, token, progress })
    }

    /// Reports progress.
    pub(crate) fn report(&self, progress: Progress) {
        (self.progress)(progress);
    }

    /// GETs `url`, retrying 429, 5xx, timeouts and refused connections up to the configured
    /// number of times. `what` names the resource in errors ("trace 4bf9…").
    pub(crate) async fn get(&self, url: &Url, accept: &str, what: &str) -> Result<Vec<u8>, FetchError> {
        self.get_unless(url, accept, what, |_| false).await
    }

    /// [`Self::get`], except that an error answer whose body `lasting` recognizes is not retried
    /// (a server that says a feature is turned off will say it again).
    pub(crate) async fn get_unless(
        &self,
        url: &Url,
        accept: &str,
        what: &str,
        lasting: fn(&str) -> bool,
    ) -> Result<Vec<u8>, FetchError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.report(Progress::Requesting { url: url.to_string(), attempt });
            match self.try_get(url, accept, what, lasting).await {
                Ok(body) => return Ok(body),
                Err(Attempt { error, wait: Some(wait) }) if attempt <= self.config.retries => {
                    let wait = wait.max(backoff(self.config, attempt)).min(self.config.max_wait);
                    self.report(Progress::Retrying { reason: error.message, wait });
                    tokio::time::sleep(wait).await;
                }
                Err(Attempt { error, .. }) => return Err(error),
            }
        }
    }

    async fn try_get(
        &self,
        url: &Url,
        accept: &str,
        what: &str,
        lasting: fn(&str) -> bool,
    ) -> Result<Vec<u8>, Attempt> {
        let mut request = self.client.get(url.clone()).header(ACCEPT, accept);
        if let Some(value) = self.token.and_then(Token::bearer) {
            request = request.header(AUTHORIZATION, value);
        }
        let mut response = request.send().await.map_err(|e| self.transport(&e, url))?;
        let status = response.status();
        if !status.is_success() {
            let wait = retry_after(response.headers());
            let mut body = response.text().await.unwrap_or_default();
            if let Some(token) = self.token {
                body = token.redact(&body);
            }
            let mut attempt = self.status(status, wait, url, what, &body);
            if lasting(&body) {
                attempt.wait = None;
            }
            return Err(attempt);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport(&e, url))? {
            body.extend_from_slice(&chunk);
            self.report(Progress::Downloading { bytes: body.len() });
        }
        Ok(body)
    }

    /// An error status as a sentence; 429 and 5xx may be retried, unless the server asks for a
    /// longer wait (`Retry-After`) than the configured longest.
    fn status(&self, status: StatusCode, wait: Option<Duration>, url: &Url, what: &str, body: &str) -> Attempt {
        let host = origin(url);
        let said = snippet(body);
        let max = self.config.max_wait;
        let mut retry = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
        let later = match wait {
            Some(wait) if retry && wait > max => {
                retry = false;
                format!(
                    ": the server asks to retry in {} s, longer than tracedeck waits ({} s); try again later",
                    wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
                    max.as_secs_f64()
                )
            }
            _ => String::new(),
        };
        let (kind, message) = match status {
            StatusCode::UNAUTHORIZED => (
                ErrorKind::Auth,
                format!("{host} refused the request (401 Unauthorized): the token is missing or not valid{said}"),
            ),
            StatusCode::FORBIDDEN => (
                ErrorKind::Auth,
                format!("{host} refused the request (403 Forbidden): the token may not read {what}{said}"),
            ),
            StatusCode::NOT_FOUND => {
                (ErrorKind::NotFound, format!("{host} has no {what} (404 Not Found at {}){said}", url.path()))
            }
            StatusCode::TOO_MANY_REQUESTS => {
                (ErrorKind::Status, format!("{host} rate limited the request for {what} ({status}){later}{said}"))
            }
            _ => (ErrorKind::Status, format!("{host} answered {status} for {what}{later}{said}")),
        };
        let wait = retry.then(|| wait.unwrap_or(Duration::ZERO));
        Attempt { error: FetchError::new(kind, message), wait }
    }

    /// A transport failure as a sentence; timeouts and refused connections may be retried.
    fn transport(&self, error: &reqwest::Error, url: &Url) -> Attempt {
        let error = classify(error, url, self.config.timeout);
        let wait = matches!(error.kind, ErrorKind::Timeout | ErrorKind::Connect).then_some(Duration::ZERO);
        Attempt { error, wait }
    }
}

/// reqwest's error as a plain sentence naming `url`'s host.
fn classify(error: &reqwest::Error, url: &Url, timeout: Duration) -> FetchError {
    let host = url.host_str().unwrap_or("the server");
    let detail = innermost(error);
    // The causes only: reqwest's own message repeats the URL, whose words say nothing of the
    // failure (`https://tls-proxy/…`, `?q=handshake`).
    let chain: Vec<String> = chain_text(error).into_iter().skip(1).collect();
    let is_tls = chain.iter().any(|text| {
        let text = text.to_ascii_lowercase();
        text.contains("tls") || text.contains("certificate") || text.contains("handshake") || text.contains("ssl")
    }) || causes(error).iter().any(|e| e.is::<rustls::Error>());
    let is_dns = chain.iter().any(|text| text.contains("dns error") || text.contains("failed to lookup address"));
    if error.is_timeout() {
        FetchError::new(
            ErrorKind::Timeout,
            format!("{} did not answer within {:.1} s (timeout)", origin(url), timeout.as_secs_f64()),
        )
    } else if is_dns {
        FetchError::new(
            ErrorKind::Dns,
            format!("cannot find the host {host} (DNS lookup failed: {detail}); check the URL"),
        )
    } else if is_tls {
        FetchError::new(
            ErrorKind::Tls,
            format!(
                "the secure connection (TLS) to {host} failed: {detail}; check the URL's scheme (https or http) and the server's certificate"
            ),
        )
    } else if error.is_connect() {
        FetchError::new(
            ErrorKind::Connect,
            format!("cannot connect to {}: {detail}; is the server running at that address?", origin(url)),
        )
    } else {
        FetchError::new(ErrorKind::Status, format!("the request to {} failed: {detail}", origin(url)))
    }
}

/// The error and its causes, outermost first. `io::Error`'s own `source` skips the error it
/// wraps (where rustls puts its handshake errors), so it is looked into directly.
fn causes<'e>(error: &'e (dyn std::error::Error + 'static)) -> Vec<&'e (dyn std::error::Error + 'static)> {
    let mut causes = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        causes.push(e);
        next = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    causes
}

fn chain_text(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
    causes(error).iter().map(|e| e.to_string()).collect()
}

/// The deepest cause's message: the one that says what happened.
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    chain_text(error).pop().unwrap_or_default()
}

/// What a server said with an error status, shortened to one line for a message.
fn snippet(body: &str) -> String {
    const MAX: usize = 200;
    let line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        return String::new();
    }
    let cut: String = line.chars().take(MAX).collect();
    let more = if cut.len() < line.len() { "…" } else { "" };
    format!("; it said: {cut}{more}")
}

/// rustls needs a process-wide crypto provider; tracedeck uses ring (no C build of aws-lc).
fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err means another part of the process installed one first, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn config() -> Config {
        Config { backoff: Duration::from_millis(100), max_wait: Duration::from_secs(5), ..Config::default() }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3600"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3600)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&headers), Some(Duration::ZERO), "a date in the past");
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = config();
        let waits: Vec<u128> = (1..=8).map(|a| backoff(&config, a).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        assert_eq!(backoff(&config, 200), Duration::from_secs(5));
    }

    #[test]
    fn snippets_are_one_short_line() {
        assert_eq!(snippet(""), "");
        assert_eq!(snippet("{\"detail\":\n \"Invalid token\"}"), "; it said: {\"detail\": \"Invalid token\"}");
        assert!(snippet(&"x".repeat(500)).ends_with('…'));
    }
}
