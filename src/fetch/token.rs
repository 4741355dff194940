//! A secret that can be used but never shown: `Debug` prints `Token(***)`, there is no
//! `Display` or `Serialize`, and the header built from it is marked sensitive.

use std::fmt;

/// An API token (Sentry auth token, bearer token of a tracing back-end).
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token; surrounding whitespace (from a pasted value or a file) is dropped.
    /// `None` when nothing is left.
    pub fn new(text: &str) -> Option<Token> {
        let text = text.trim();
        (!text.is_empty()).then(|| Token(text.to_owned()))
    }

    /// The secret itself, for the one place that sends or stores it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with the token replaced by `***` wherever it appears, for repeating what a server
    /// said.
    pub(crate) fn redact(&self, text: &str) -> String {
        text.replace(&self.0, "***")
    }

    /// An `Authorization: Bearer ...` header value, marked sensitive so it is never logged.
    pub(crate) fn bearer(&self) -> Option<reqwest::header::HeaderValue> {
        let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", self.0)).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let token = Token::new("  sntrys_secret123\n").unwrap();
        assert_eq!(token.expose(), "sntrys_secret123");
        assert_eq!(format!("{token:?}"), "Token(***)");
        assert_eq!(format!("{:?}", Some(token.clone())), "Some(Token(***))");
        assert!(token.bearer().unwrap().is_sensitive());
        assert_eq!(Token::new("   "), None);
        assert_eq!(token.redact("bad token: Bearer sntrys_secret123."), "bad token: Bearer ***.");
    }
}
