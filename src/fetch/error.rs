//! Why a fetch failed, in sentences that name the server's host and say what to do.

use std::fmt;

use super::Token;

/// What kind of failure; the message says the rest.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ErrorKind {
    /// The trace id, URL, organization or back-end given cannot work.
    Input,
    /// 401 or 403: the token is missing, wrong or lacks a scope.
    Auth,
    /// 404, or an empty answer: the back-end has no such trace.
    NotFound,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// No connection could be made (refused, unreachable).
    Connect,
    /// The server took longer than the configured timeout.
    Timeout,
    /// The server answered an HTTP error the fetch cannot fix (after retries for 429/5xx).
    Status,
    /// The server answered 200 with something that is not a trace of its kind.
    NotATrace,
    /// The user cancelled.
    Cancelled,
}

/// A failed fetch: its kind and a sentence for people.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FetchError {
    /// What went wrong, for code that reacts to it.
    pub kind: ErrorKind,
    /// What went wrong, for people: names the host and, where it helps, what to do.
    pub message: String,
}

impl FetchError {
    /// An error of `kind` saying `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        FetchError { kind, message: message.into() }
    }

    /// A problem with what the user asked for.
    pub fn input(message: impl Into<String>) -> Self {
        FetchError::new(ErrorKind::Input, message)
    }

    /// The error with `token` hidden wherever a server's words put it in the message.
    pub(crate) fn redacted(self, token: Option<&Token>) -> Self {
        match token {
            Some(token) => FetchError { message: token.redact(&self.message), ..self },
            None => self,
        }
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FetchError {}
