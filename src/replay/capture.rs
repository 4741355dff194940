//! Capture files: captured Slack interactions to replay.
//!
//! A capture file is one JSON document (UTF-8):
//!
//! ```json
//! {
//!   "format": "tracedeck-capture",
//!   "version": 1,
//!   "platform": "slack",
//!   "captured_at": "2026-03-02T14:07:55Z",
//!   "notes": "free text about where it came from",
//!   "interactions": [
//!     {
//!       "name": "resolve-button",
//!       "captured_at": "2026-03-02T14:07:55Z",
//!       "notes": "",
//!       "request": {
//!         "method": "POST",
//!         "path": "/slack/interactions",
//!         "headers": [["Content-Type", "application/x-www-form-urlencoded"], ["User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)"]],
//!         "body": "payload=%7B%22type%22%3A%22block_actions%22%2C...%7D"
//!       }
//!     }
//!   ]
//! }
//! ```
//!
//! - `format` and `version` are required and must be exactly these; `platform` must be `slack`.
//! - `captured_at` (file and interaction) is optional, RFC 3339; `notes` is optional text.
//! - `interactions` holds at least one request. `name` is required and unique in the file.
//! - `method` is an HTTP method (usually `POST`); `path` starts with `/` and may carry a query.
//! - `headers` is a list of `[name, value]` pairs in the captured order. `X-Slack-Signature`,
//!   `X-Slack-Request-Timestamp`, `Content-Length` and `Host` are ignored at replay: the
//!   request is re-signed, re-measured and sent to the target.
//! - `body` is the raw body text exactly as Slack sent it: for interactions (`block_actions`,
//!   `view_submission`, `shortcut`, `message_action`) a form with one field `payload` holding the
//!   URL-encoded JSON; for slash commands the flat form fields. A form body (by `Content-Type`)
//!   must parse: the `payload` must be a JSON object with a string `type`.
//!
//! Errors name the file and the place (line, column, JSON path) and say what was expected.

use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};

use super::payload::{BodyTemplate, payload_form};
use crate::formats::{FormatError, Place, json};

/// The value of `format`.
pub const FORMAT_TAG: &str = crate::formats::CAPTURE_TAG;
/// The only version so far.
pub const VERSION: u32 = 1;

/// A capture file. See the module docs for the format.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureFile {
    /// Always [`FORMAT_TAG`].
    #[serde(deserialize_with = "format_tag")]
    pub format: String,
    /// Always [`VERSION`].
    #[serde(deserialize_with = "version")]
    pub version: u32,
    /// Always `slack` for now.
    #[serde(deserialize_with = "platform")]
    pub platform: String,
    /// When the file was made, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "timestamp")]
    pub captured_at: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// The captured requests, at least one.
    #[serde(deserialize_with = "non_empty")]
    pub interactions: Vec<Interaction>,
}

/// One captured request and what is known about it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interaction {
    /// A short name, unique in the file (`resolve-button`).
    #[serde(deserialize_with = "name")]
    pub name: String,
    /// When it was captured, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "timestamp")]
    pub captured_at: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// The request as Slack sent it.
    pub request: CapturedRequest,
}

/// An HTTP request as captured.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapturedRequest {
    /// `POST`, usually.
    #[serde(deserialize_with = "method")]
    pub method: String,
    /// The path (and query) it was sent to.
    #[serde(deserialize_with = "path")]
    pub path: String,
    /// Headers in the captured order.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The raw body text.
    #[serde(default)]
    pub body: String,
}

impl CapturedRequest {
    /// The first header with this name (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Whether the body is a form (by `Content-Type`, or by looking like `payload=`/`command=`
    /// when the capture has no `Content-Type`).
    pub fn is_form(&self) -> bool {
        match self.header("content-type") {
            Some(ct) => ct.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"),
            None => !self.body.trim_start().starts_with(['{', '[']),
        }
    }

    /// Headers a replay copies: all but those it sets itself.
    pub fn replayed_headers(&self) -> impl Iterator<Item = (&str, &str)> {
        const SET_BY_REPLAY: [&str; 11] = [
            "x-slack-signature",
            "x-slack-request-timestamp",
            "content-length",
            "host",
            "traceparent",
            "sentry-trace",
            "baggage",
            "connection",
            "transfer-encoding",
            "x-slack-retry-num",
            "x-slack-retry-reason",
        ];
        self.headers
            .iter()
            .filter(|(k, _)| !SET_BY_REPLAY.iter().any(|s| k.eq_ignore_ascii_case(s)))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// An interaction ready to replay: the captured request and its parsed body.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The captured interaction.
    pub interaction: Interaction,
    /// Its body, ready to render with a fresh trigger.
    pub body: BodyTemplate,
}

/// A loaded capture file with every body parsed.
#[derive(Clone, Debug)]
pub struct Capture {
    /// The file's contents.
    pub file: CaptureFile,
    /// One per interaction, in file order.
    pub prepared: Vec<Prepared>,
}

/// Why a capture file could not be used: names the file, the place and the problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: at {}: {}", .error.place, .error.message)]
pub struct CaptureError {
    /// The file as the user named it.
    pub file: String,
    /// Where and what.
    pub error: FormatError,
}

impl Capture {
    /// Reads and checks a capture file.
    pub fn load(path: &Path) -> Result<Capture, CaptureError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| CaptureError {
            file: file.clone(),
            error: FormatError::new(Place::Whole, format!("cannot read the file: {e}")),
        })?;
        Capture::parse(&bytes).map_err(|error| CaptureError { file, error })
    }

    /// Reads and checks a capture document. A trace file given by mistake is named as one.
    pub fn parse(bytes: &[u8]) -> Result<Capture, FormatError> {
        let file: CaptureFile = json::from_slice(bytes).map_err(|error| match crate::formats::detect(bytes) {
            Ok(format) => FormatError::new(
                Place::Whole,
                format!(
                    "this is a {format} trace file, not a capture file; `tracedeck capture` makes one from a \
                     request dump or a payload"
                ),
            ),
            Err(_) => error,
        })?;
        Capture::prepare(file)
    }

    /// Checks a capture document already read: unique names, headers an HTTP request can
    /// carry, and bodies that parse.
    pub fn prepare(file: CaptureFile) -> Result<Capture, FormatError> {
        let mut prepared = Vec::with_capacity(file.interactions.len());
        for (i, interaction) in file.interactions.iter().enumerate() {
            if file.interactions[..i].iter().any(|o| o.name == interaction.name) {
                return Err(FormatError::at_path(
                    format!("$.interactions[{i}].name"),
                    format!("the name {:?} is used by an earlier interaction; names must be unique", interaction.name),
                ));
            }
            let request = &interaction.request;
            check_headers(&request.headers, &format!("$.interactions[{i}].request.headers"))?;
            let body = BodyTemplate::parse(request.body.as_bytes(), request.is_form())
                .map_err(|message| FormatError::at_path(format!("$.interactions[{i}].request.body"), message))?;
            prepared.push(Prepared { interaction: interaction.clone(), body });
        }
        Ok(Capture { file, prepared })
    }

    /// The interaction with this name.
    pub fn find(&self, name: &str) -> Option<&Prepared> {
        self.prepared.iter().find(|p| p.interaction.name == name)
    }
}

/// Header names must be tokens and values hold no line breaks or other control characters,
/// checked as the HTTP client checks them when it sends, so a capture that loads can be sent.
fn check_headers(headers: &[(String, String)], path: &str) -> Result<(), FormatError> {
    use reqwest::header::{HeaderName, HeaderValue};
    for (j, (name, value)) in headers.iter().enumerate() {
        let at = || format!("{path}[{j}]");
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(FormatError::at_path(
                at(),
                format!("{name:?} is not a header name (letters, digits and !#$%&'*+-.^_`|~ only)"),
            ));
        }
        if HeaderValue::from_str(value).is_err() {
            return Err(FormatError::at_path(
                at(),
                format!("the {name} header's value {value:?} holds a line break or another control character"),
            ));
        }
    }
    Ok(())
}

impl CaptureFile {
    /// A file holding one interaction, captured now.
    pub fn single(interaction: Interaction, notes: String) -> CaptureFile {
        CaptureFile {
            format: FORMAT_TAG.into(),
            version: VERSION,
            platform: "slack".into(),
            captured_at: interaction.captured_at.clone(),
            notes,
            interactions: vec![interaction],
        }
    }
}

/// Makes a capture from what a developer has at hand: a raw HTTP request dump (`POST /path
/// HTTP/1.1`, headers, blank line, body) or a Slack payload JSON document (the decoded
/// `payload` of an interaction, as SDKs log it), which is sent to `default_path`.
pub fn from_input(input: &[u8], name: &str, default_path: &str) -> Result<Interaction, FormatError> {
    let text = std::str::from_utf8(input)
        .map_err(|e| FormatError::new(Place::Whole, format!("the input is not UTF-8: {e}")))?;
    let captured_at = Some(jiff::Timestamp::now().to_string());
    let request = if text.trim_start().starts_with('{') {
        from_payload_json(text, default_path)?
    } else {
        from_http_dump(input)?
    };
    // The body must be replayable; say so now rather than at replay time.
    BodyTemplate::parse(request.body.as_bytes(), request.is_form()).map_err(|m| FormatError::new(Place::Whole, m))?;
    Ok(Interaction { name: name.to_owned(), captured_at, notes: String::new(), request })
}

fn from_payload_json(text: &str, path: &str) -> Result<CapturedRequest, FormatError> {
    // Check it is an object with a `type`, then compact it without reordering (Slack sends compact JSON).
    let payload: super::payload::OrderedObject = json::from_slice(text.trim().as_bytes())?;
    if payload.str("type").is_none() {
        return Err(FormatError::at_path("$.type", "expected a Slack payload: a JSON object with a string `type`"));
    }
    let mut compact = Vec::with_capacity(text.len());
    let mut de = serde_json::Deserializer::from_str(text);
    serde_transcode::transcode(&mut de, &mut serde_json::Serializer::new(&mut compact))
        .map_err(|e| FormatError::new(Place::Whole, e.to_string()))?;
    let compact = String::from_utf8(compact).map_err(|e| FormatError::new(Place::Whole, e.to_string()))?;
    Ok(CapturedRequest {
        method: "POST".into(),
        path: path.to_owned(),
        headers: vec![
            ("Content-Type".into(), "application/x-www-form-urlencoded".into()),
            ("User-Agent".into(), SLACK_USER_AGENT.into()),
        ],
        body: String::from_utf8(payload_form(&compact)).map_err(|e| FormatError::new(Place::Whole, e.to_string()))?,
    })
}

/// Reads `METHOD /path HTTP/1.x`, headers and body (by `Content-Length` when given, else the
/// rest of the input).
fn from_http_dump(input: &[u8]) -> Result<CapturedRequest, FormatError> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    let head_len = match request.parse(input) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial)
            if input.split(|&b| b == b'\n').next().is_some_and(|l| l.windows(6).any(|w| w == b" HTTP/")) =>
        {
            return Err(FormatError::new(
                Place::Whole,
                "the request dump ends inside its head; expected `POST /path HTTP/1.1`, headers, then an empty line",
            ));
        }
        Ok(httparse::Status::Partial) => {
            return Err(FormatError::new(
                Place::Whole,
                "not an HTTP request dump (`POST /path HTTP/1.1`, headers, an empty line, the body) nor a Slack payload JSON object",
            ));
        }
        Err(e) => {
            return Err(FormatError::new(
                Place::Whole,
                format!("not an HTTP request dump ({e}) nor a Slack payload JSON object"),
            ));
        }
    };
    let line = |offset: usize| input[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
    let method = request.method.unwrap_or("POST").to_owned();
    let path = request.path.unwrap_or("/").to_owned();
    let mut pairs = Vec::with_capacity(request.headers.len());
    for h in request.headers.iter() {
        let value = std::str::from_utf8(h.value)
            .map_err(|_| FormatError::new(Place::Whole, format!("the {} header is not UTF-8", h.name)))?;
        pairs.push((h.name.to_owned(), value.to_owned()));
    }
    let rest = &input[head_len..];
    let header = |name: &str| pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim());
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        return Err(FormatError::new(Place::Whole, "chunked bodies are not supported; save the decoded body"));
    }
    let body = match header("content-length") {
        Some(len) => {
            let len: usize = len
                .parse()
                .map_err(|_| FormatError::new(Place::Whole, format!("Content-Length {len:?} is not a number")))?;
            rest.get(..len).ok_or_else(|| {
                FormatError::new(
                    Place::At { line: line(input.len()), column: 1, path: String::new() },
                    format!("the body has {} bytes but Content-Length says {len}; is the dump cut off?", rest.len()),
                )
            })?
        }
        None => rest.strip_suffix(b"\n").map(|r| r.strip_suffix(b"\r").unwrap_or(r)).unwrap_or(rest),
    };
    let body = std::str::from_utf8(body)
        .map_err(|_| {
            FormatError::new(
                Place::At { line: line(head_len), column: 1, path: String::new() },
                "the body is not UTF-8",
            )
        })?
        .to_owned();
    Ok(CapturedRequest { method, path, headers: pairs, body })
}

/// The User-Agent Slack sends.
pub const SLACK_USER_AGENT: &str = "Slackbot 1.0 (+https://api.slack.com/robots)";

fn format_tag<'de, D: Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    let tag = String::deserialize(de)?;
    if tag != FORMAT_TAG {
        return Err(serde::de::Error::custom(format!("expected \"{FORMAT_TAG}\", found {tag:?}")));
    }
    Ok(tag)
}

fn version<'de, D: Deserializer<'de>>(de: D) -> Result<u32, D::Error> {
    let v = u32::deserialize(de)?;
    if v != VERSION {
        return Err(serde::de::Error::custom(format!("capture version {v} is not supported; expected {VERSION}")));
    }
    Ok(v)
}

fn platform<'de, D: Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    let p = String::deserialize(de)?;
    if p != "slack" {
        return Err(serde::de::Error::custom(format!("platform {p:?} is not supported; expected \"slack\"")));
    }
    Ok(p)
}

fn timestamp<'de, D: Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    let Some(text) = Option::<String>::deserialize(de)? else { return Ok(None) };
    text.parse::<jiff::Timestamp>().map_err(|e| {
        serde::de::Error::custom(format!(
            "expected an RFC 3339 time such as 2026-03-02T14:07:55Z, found {text:?} ({e})"
        ))
    })?;
    Ok(Some(text))
}

fn non_empty<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<Interaction>, D::Error> {
    let list = Vec::<Interaction>::deserialize(de)?;
    if list.is_empty() {
        return Err(serde::de::Error::custom("expected at least one interaction"));
    }
    Ok(list)
}

fn name<'de, D: Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    let name = String::deserialize(de)?;
    if name.trim().is_empty() {
        return Err(serde::de::Error::custom("expected a non-empty name"));
    }
    Ok(name)
}

fn method<'de, D: Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    let m = String::deserialize(de)?;
    if m.is_empty() || m.len() > 32 || !m.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(serde::de::Error::custom(format!("expected an HTTP method such as \"POST\", found {m:?}")));
    }
    Ok(m)
}

fn path<'de, D: Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    let p = String::deserialize(de)?;
    if !p.starts_with('/') || p.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(serde::de::Error::custom(format!(
            "expected a path starting with `/`, without spaces or control characters, found {p:?}"
        )));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(interactions: &str) -> String {
        format!(r#"{{"format":"tracedeck-capture","version":1,"platform":"slack","interactions":{interactions}}}"#)
    }

    const GOOD: &str = r#"[{"name":"a","request":{"method":"POST","path":"/slack/interactions","headers":[["Content-Type","application/x-www-form-urlencoded"]],"body":"payload=%7B%22type%22%3A%22block_actions%22%2C%22trigger_id%22%3A%221.2.ab%22%7D"}}]"#;

    #[test]
    fn reads_a_capture_and_prepares_its_bodies() {
        let c = Capture::parse(doc(GOOD).as_bytes()).unwrap();
        assert_eq!(c.prepared.len(), 1);
        assert_eq!(c.prepared[0].body.trigger_id(), Some("1.2.ab"));
        assert!(c.find("a").is_some() && c.find("b").is_none());
    }

    #[test]
    fn a_trace_file_is_not_taken_for_a_capture() {
        let zipkin = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/sample-traces/checkout.zipkin.json")).unwrap();
        let err = Capture::parse(&zipkin).unwrap_err();
        assert_eq!(err.place, Place::Whole);
        assert!(err.message.starts_with("this is a Zipkin v2 JSON trace file, not a capture file"), "{}", err.message);
    }

    #[test]
    fn errors_name_the_place_and_what_was_expected() {
        let cases = [
            (
                r#"{"format":"har","version":1,"platform":"slack","interactions":[]}"#.to_owned(),
                "$.format",
                "expected \"tracedeck-capture\"",
            ),
            (doc("[]"), "$.interactions", "at least one interaction"),
            (doc(&GOOD.replace("\"POST\"", "\"post\"")), "$.interactions[0].request.method", "HTTP method"),
            (doc(&GOOD.replace("/slack/interactions", "slack")), "$.interactions[0].request.path", "starting with `/`"),
            (doc(&GOOD.replace("%7B%22type", "%7Btype")), "$.interactions[0].request.body", "not a JSON object"),
            (
                doc(&GOOD.replace("\"name\":\"a\"", "\"name\":\"a\",\"captured_at\":\"yesterday\"")),
                "$.interactions[0].captured_at",
                "RFC 3339",
            ),
            (doc(&GOOD.replace("\"name\":\"a\"", "\"nme\":\"a\"")), "$.interactions[0].nme", "unknown field"),
            (
                doc(&GOOD.replace("\"Content-Type\",", "\"Content Type\",")),
                "$.interactions[0].request.headers[0]",
                "\"Content Type\" is not a header name",
            ),
            (
                doc(&GOOD.replace("\"application/x-www-form-urlencoded\"", "\"text/plain\\r\\nX-Evil: 1\"")),
                "$.interactions[0].request.headers[0]",
                "the Content-Type header's value \"text/plain\\r\\nX-Evil: 1\" holds a line break",
            ),
            (
                doc(&GOOD.replace("/slack/interactions", "/slack\\u0000x")),
                "$.interactions[0].request.path",
                "starting with",
            ),
            (
                doc(&format!("{},{}]", &GOOD[..GOOD.len() - 1], &GOOD[1..GOOD.len() - 1])),
                "$.interactions[1].name",
                "used by an earlier",
            ),
        ];
        for (text, path, message) in cases {
            let err = Capture::parse(text.as_bytes()).unwrap_err();
            let place = err.place.to_string();
            assert!(place.contains(path), "{path}: {place} / {}", err.message);
            assert!(err.message.contains(message), "{path}: {}", err.message);
        }
        let err = Capture::parse(&doc(GOOD).as_bytes()[..60]).unwrap_err();
        assert!(matches!(err.place, Place::At { line: 1, .. }), "{err:?}");
        assert!(err.message.contains("truncated"), "{}", err.message);
    }

    #[test]
    fn load_names_the_file() {
        let dir = std::env::temp_dir().join(format!("tracedeck-capture-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("bad.capture.json");
        std::fs::write(&file, doc("[]")).unwrap();
        let err = Capture::load(&file).unwrap_err().to_string();
        assert!(err.starts_with(&file.display().to_string()), "{err}");
        assert!(err.contains("$.interactions") && err.contains("at least one"), "{err}");
        let err = Capture::load(&dir.join("missing.json")).unwrap_err().to_string();
        assert!(err.contains("missing.json: at the whole file: cannot read the file"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn captures_from_an_http_dump() {
        let dump = b"POST /slack/interactions HTTP/1.1\r\nHost: app.example\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Slack-Signature: v0=old\r\nContent-Length: 55\r\n\r\npayload=%7B%22type%22%3A%22shortcut%22%2C%22a%22%3A1%7D";
        let i = from_input(dump, "dump", "/unused").unwrap();
        assert_eq!((i.request.method.as_str(), i.request.path.as_str()), ("POST", "/slack/interactions"));
        assert_eq!(i.request.body, "payload=%7B%22type%22%3A%22shortcut%22%2C%22a%22%3A1%7D");
        let replayed: Vec<&str> = i.request.replayed_headers().map(|(k, _)| k).collect();
        assert_eq!(replayed, vec!["Content-Type"], "signature, host and length are set by the replay");
        let err = from_input(&dump[..dump.len() - 5], "dump", "/").unwrap_err();
        assert!(err.message.contains("Content-Length says 55"), "{}", err.message);
        let err = from_input(b"hello there", "x", "/").unwrap_err();
        assert!(err.message.contains("not an HTTP request dump"), "{}", err.message);
    }

    #[test]
    fn captures_from_a_payload_json_keeping_member_order() {
        let i = from_input(
            b"{\n  \"type\": \"block_actions\",\n  \"trigger_id\": \"1.2.ab\", \"a\": [1, 2]\n}\n",
            "p",
            "/slack/events",
        )
        .unwrap();
        assert_eq!(i.request.path, "/slack/events");
        assert!(i.request.is_form());
        let json = super::super::payload::payload_of(i.request.body.as_bytes()).unwrap();
        assert_eq!(json, r#"{"type":"block_actions","trigger_id":"1.2.ab","a":[1,2]}"#);
        let err = from_input(b"{\"user\": 1}", "p", "/").unwrap_err();
        assert!(err.message.contains("string `type`"), "{}", err.message);
    }
}
