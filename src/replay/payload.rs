//! The body of a captured interaction, ready to be replayed with a fresh `trigger_id` and
//! `response_url`: parsed once, rendered once per replay.
//!
//! Interaction payloads (`payload=<JSON>` forms) keep their JSON members in the captured order
//! and byte for byte, except the two rewritten ones; slash commands keep their form fields in
//! order. Other bodies (Events API JSON) are sent unchanged.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// A JSON object whose members keep their order and their exact text.
#[derive(Debug, Clone)]
pub(crate) struct OrderedObject(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for OrderedObject {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = OrderedObject;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedObject, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(entry);
                }
                Ok(OrderedObject(members))
            }
        }
        de.deserialize_map(Members)
    }
}

impl OrderedObject {
    /// The member's raw JSON text.
    fn raw(&self, key: &str) -> Option<&RawValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| &**v)
    }

    /// The member's value when it is a JSON string.
    pub(crate) fn str(&self, key: &str) -> Option<String> {
        self.raw(key).and_then(|v| serde_json::from_str::<String>(v.get()).ok())
    }

    /// Replaces a member's value, if the member exists.
    fn replace(&mut self, key: &str, value: Box<RawValue>) -> bool {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => {
                slot.1 = value;
                true
            }
            None => false,
        }
    }

    /// Compact JSON text, members in their original order.
    fn to_json(&self) -> String {
        let mut out = String::with_capacity(self.0.iter().map(|(k, v)| k.len() + v.get().len() + 4).sum::<usize>() + 2);
        out.push('{');
        for (i, (key, value)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(key).expect("a string serializes"));
            out.push(':');
            out.push_str(value.get());
        }
        out.push('}');
        out
    }
}

fn json_string(text: &str) -> Box<RawValue> {
    RawValue::from_string(serde_json::to_string(text).expect("a string serializes")).expect("a JSON string is JSON")
}

/// What kind of request a body is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// A form with a `payload` JSON field: the payload's `type` (`block_actions`, `view_submission`,
    /// `shortcut`, `message_action`, ...).
    Interaction(String),
    /// A slash command form (`command=/deploy&...`).
    SlashCommand(String),
    /// Anything else (an Events API envelope, a form of unknown fields); sent unchanged.
    Other,
}

impl fmt::Display for BodyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyKind::Interaction(t) => f.write_str(t),
            BodyKind::SlashCommand(c) => write!(f, "slash command {c}"),
            BodyKind::Other => f.write_str("other request"),
        }
    }
}

/// A parsed body that can be re-rendered with a new trigger and response URL.
#[derive(Debug, Clone)]
pub struct BodyTemplate {
    kind: BodyKind,
    shape: Shape,
    trigger_id: Option<String>,
}

#[derive(Debug, Clone)]
enum Shape {
    /// Form fields; `payload` at index `at`.
    Payload { fields: Vec<(String, String)>, at: usize, payload: OrderedObject },
    /// Form fields, some of which are rewritten.
    Form(Vec<(String, String)>),
    /// Sent as captured.
    Raw(Vec<u8>),
}

impl BodyTemplate {
    /// Reads a captured body; `form` says whether it was sent form-encoded. The error says what
    /// is wrong with the body (the caller adds where the body is).
    pub fn parse(body: &[u8], form: bool) -> Result<BodyTemplate, String> {
        if !form {
            return Ok(BodyTemplate { kind: BodyKind::Other, shape: Shape::Raw(body.to_vec()), trigger_id: None });
        }
        let fields: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
        if let Some(at) = fields.iter().position(|(k, _)| k == "payload") {
            let payload: OrderedObject = serde_json::from_str(&fields[at].1)
                .map_err(|e| format!("the `payload` form field is not a JSON object: {e}"))?;
            let kind = payload
                .str("type")
                .ok_or("the `payload` JSON has no string `type` (expected block_actions, view_submission, ...)")?;
            let trigger_id = payload.str("trigger_id");
            return Ok(BodyTemplate {
                kind: BodyKind::Interaction(kind),
                shape: Shape::Payload { fields, at, payload },
                trigger_id,
            });
        }
        let get = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        match get("command") {
            Some(command) => Ok(BodyTemplate {
                kind: BodyKind::SlashCommand(command),
                trigger_id: get("trigger_id"),
                shape: Shape::Form(fields),
            }),
            None => Ok(BodyTemplate { kind: BodyKind::Other, shape: Shape::Raw(body.to_vec()), trigger_id: None }),
        }
    }

    /// What kind of request it is.
    pub fn kind(&self) -> &BodyKind {
        &self.kind
    }

    /// The captured `trigger_id`, if the request carries one (then a replay expects a modal).
    pub fn trigger_id(&self) -> Option<&str> {
        self.trigger_id.as_deref()
    }

    /// The body with `trigger_id` and `response_url` (and `response_urls[].response_url`)
    /// replaced where the captured body had them, encoded as a form again.
    pub fn render(&self, trigger_id: &str, response_url: &str) -> Vec<u8> {
        match &self.shape {
            Shape::Raw(bytes) => bytes.clone(),
            Shape::Form(fields) => encode(fields.iter().map(|(k, v)| {
                let value = match k.as_str() {
                    "trigger_id" => trigger_id,
                    "response_url" => response_url,
                    _ => v.as_str(),
                };
                (k.as_str(), value)
            })),
            Shape::Payload { fields, at, payload } => {
                let mut payload = payload.clone();
                payload.replace("trigger_id", json_string(trigger_id));
                payload.replace("response_url", json_string(response_url));
                if let Some(urls) = payload.raw("response_urls").and_then(|v| rewrite_urls(v.get(), response_url)) {
                    payload.replace("response_urls", urls);
                }
                let json = payload.to_json();
                encode(
                    fields.iter().enumerate().map(|(i, (k, v))| (k.as_str(), if i == *at { json.as_str() } else { v })),
                )
            }
        }
    }
}

/// `response_urls` of a view submission with every `response_url` pointed at the mock.
fn rewrite_urls(raw: &str, response_url: &str) -> Option<Box<RawValue>> {
    let mut urls: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(raw).ok()?;
    for entry in &mut urls {
        if entry.contains_key("response_url") {
            entry.insert("response_url".into(), response_url.into());
        }
    }
    serde_json::value::to_raw_value(&urls).ok()
}

fn encode<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<u8> {
    let mut out = form_urlencoded::Serializer::new(String::new());
    out.extend_pairs(pairs);
    out.finish().into_bytes()
}

/// Encodes a payload JSON document as Slack sends it: `payload=<url-encoded JSON>`.
pub fn payload_form(json: &str) -> Vec<u8> {
    encode(std::iter::once(("payload", json)))
}

/// Reads the `payload` JSON text out of a form body.
pub fn payload_of(body: &[u8]) -> Option<String> {
    form_urlencoded::parse(body).find(|(k, _)| k == "payload").map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(body: &[u8]) -> serde_json::Value {
        serde_json::from_str(&payload_of(body).unwrap()).unwrap()
    }

    #[test]
    fn rewrites_trigger_and_response_url_keeping_everything_else() {
        let json = r#"{"type":"block_actions","user":{"id":"U1"},"trigger_id":"1.2.ab","response_url":"https://hooks.slack.com/actions/T1/1/x","actions":[{"action_id":"resolve","value":"INC-7 é"}]}"#;
        let t = BodyTemplate::parse(&payload_form(json), true).unwrap();
        assert_eq!(t.kind(), &BodyKind::Interaction("block_actions".into()));
        assert_eq!(t.trigger_id(), Some("1.2.ab"));
        let body = t.render("9.9.ff", "http://127.0.0.1:1/response/r1");
        let text = payload_of(&body).unwrap();
        assert_eq!(
            text,
            json.replace("1.2.ab", "9.9.ff")
                .replace("https://hooks.slack.com/actions/T1/1/x", "http://127.0.0.1:1/response/r1"),
            "members keep their order and text"
        );
    }

    #[test]
    fn does_not_add_a_response_url_the_capture_lacked() {
        let t = BodyTemplate::parse(&payload_form(r#"{"type":"shortcut","trigger_id":"1.2.ab"}"#), true).unwrap();
        let v = decode(&t.render("3.4.cd", "http://x/response/1"));
        assert_eq!(v, serde_json::json!({"type": "shortcut", "trigger_id": "3.4.cd"}));
    }

    #[test]
    fn view_submissions_get_their_response_urls_rewritten() {
        let json = r#"{"type":"view_submission","trigger_id":"1.2.ab","response_urls":[{"block_id":"b","response_url":"https://hooks.slack.com/x"}]}"#;
        let t = BodyTemplate::parse(&payload_form(json), true).unwrap();
        let v = decode(&t.render("3.4.cd", "http://m/response/1"));
        assert_eq!(v["response_urls"][0]["response_url"], "http://m/response/1");
        assert_eq!(v["response_urls"][0]["block_id"], "b");
    }

    #[test]
    fn slash_commands_rewrite_their_form_fields_in_place() {
        let body =
            b"token=t&command=%2Fresolve&text=INC-7&response_url=https%3A%2F%2Fhooks.slack.com%2Fc&trigger_id=1.2.ab";
        let t = BodyTemplate::parse(body, true).unwrap();
        assert_eq!(t.kind(), &BodyKind::SlashCommand("/resolve".into()));
        let out = String::from_utf8(t.render("5.6.ef", "http://m/response/2")).unwrap();
        assert_eq!(
            out,
            "token=t&command=%2Fresolve&text=INC-7&response_url=http%3A%2F%2Fm%2Fresponse%2F2&trigger_id=5.6.ef"
        );
    }

    #[test]
    fn other_bodies_are_sent_unchanged_and_bad_payloads_say_why() {
        let t = BodyTemplate::parse(br#"{"type":"event_callback"}"#, false).unwrap();
        assert_eq!(t.render("a", "b"), br#"{"type":"event_callback"}"#);
        assert_eq!(t.trigger_id(), None);
        let err = BodyTemplate::parse(b"payload=%7Bnope", true).unwrap_err();
        assert!(err.contains("not a JSON object"), "{err}");
        let err = BodyTemplate::parse(b"payload=%7B%7D", true).unwrap_err();
        assert!(err.contains("no string `type`"), "{err}");
    }
}
