//! Envelopes as Slack sends them over Socket Mode, made from a captured request, and the app's
//! acks read back.
//!
//! `{"envelope_id", "type", "payload", "accepts_response_payload", "retry_attempt",
//! "retry_reason"}`: `type` is `interactive` for interaction payloads, `slash_commands` for a
//! slash command's form (its fields as a JSON object of strings) and `events_api` for an Events
//! API body. Only slash commands, `view_submission` and `block_suggestion` accept a response
//! payload in the ack.

use serde_json::{Map, Value, json};

use crate::replay::BodyKind;
use crate::replay::ack_body::quoted_start;
use crate::replay::payload::payload_of;

/// An envelope ready to send.
#[derive(Clone, Debug)]
pub struct Envelope {
    /// Its `envelope_id`.
    pub id: String,
    /// The whole message.
    pub message: Value,
}

/// Makes the envelope of a rendered request body (with its fresh `trigger_id` and
/// `response_url`); `retry` is Slack's `retry_attempt` and `retry_reason` (0 and `""` for the
/// first delivery). The error says why the body cannot go over Socket Mode.
pub fn make(kind: &BodyKind, body: &[u8], retry: (u32, &str)) -> Result<Envelope, String> {
    let (kind, payload, accepts) = match kind {
        BodyKind::Interaction(t) => {
            let text = payload_of(body).ok_or("the interaction has no `payload` form field")?;
            let payload: Value =
                serde_json::from_str(&text).map_err(|e| format!("the `payload` form field is not JSON: {e}"))?;
            ("interactive", payload, matches!(t.as_str(), "view_submission" | "block_suggestion"))
        }
        BodyKind::SlashCommand(_) => {
            let fields: Map<String, Value> =
                form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), Value::String(v.into_owned()))).collect();
            ("slash_commands", Value::Object(fields), true)
        }
        BodyKind::Other => match serde_json::from_slice::<Value>(body) {
            Ok(payload @ Value::Object(_)) => ("events_api", payload, false),
            _ => {
                return Err("the request is neither an interaction, a slash command nor an Events API JSON \
                            body, so it has no Socket Mode envelope"
                    .into());
            }
        },
    };
    let id = new_id();
    let message = json!({
        "envelope_id": id,
        "type": kind,
        "payload": payload,
        "accepts_response_payload": accepts,
        "retry_attempt": retry.0,
        "retry_reason": retry.1,
    });
    Ok(Envelope { id, message })
}

/// An envelope id shaped like Slack's (a UUID).
fn new_id() -> String {
    let n = fastrand::u128(..);
    let h = format!("{n:032x}");
    format!("{}-{}-4{}-a{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}

/// An ack as read: its envelope and its payload (or why the payload is unusable).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ReadAck {
    pub envelope_id: String,
    pub payload: Result<Option<String>, String>,
}

/// Reads a message from the app as an ack; the error says what was wrong with it.
pub(crate) fn read_ack(text: &str) -> Result<ReadAck, String> {
    let shown = quoted_start(text);
    let Ok(Value::Object(message)) = serde_json::from_str::<Value>(text) else {
        return Err(format!("the app sent a message that is not a JSON object: {shown}"));
    };
    let Some(Value::String(envelope_id)) = message.get("envelope_id") else {
        return Err(format!("the app sent a message without a string envelope_id: {shown}"));
    };
    let payload = match message.get("payload") {
        None | Some(Value::Null) => Ok(None),
        Some(payload @ Value::Object(_)) => Ok(Some(payload.to_string())),
        Some(_) => Err(format!("the ack of envelope {envelope_id} has a payload that is not a JSON object: {shown}")),
    };
    Ok(ReadAck { envelope_id: envelope_id.clone(), payload })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::payload::payload_form;

    #[test]
    fn interactions_slash_commands_and_events_get_their_envelope_types() {
        let body = payload_form(r#"{"type":"view_submission","trigger_id":"1.2.ab"}"#);
        let e = make(&BodyKind::Interaction("view_submission".into()), &body, (0, "")).unwrap();
        assert_eq!(e.message["type"], "interactive");
        assert_eq!(e.message["payload"]["trigger_id"], "1.2.ab");
        assert_eq!(e.message["accepts_response_payload"], true);
        assert_eq!(e.message["envelope_id"], e.id.as_str());
        assert_eq!(e.id.len(), 36);

        let e = make(&BodyKind::SlashCommand("/deploy".into()), b"command=%2Fdeploy&text=now", (0, "")).unwrap();
        assert_eq!(e.message["type"], "slash_commands");
        assert_eq!(e.message["payload"], json!({"command": "/deploy", "text": "now"}));

        let event = br#"{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}"#;
        let e = make(&BodyKind::Other, event, (2, "http_timeout")).unwrap();
        assert_eq!(
            (e.message["type"].as_str(), e.message["accepts_response_payload"].as_bool()),
            (Some("events_api"), Some(false))
        );
        assert_eq!(
            (e.message["retry_attempt"].as_u64(), e.message["retry_reason"].as_str()),
            (Some(2), Some("http_timeout"))
        );
        assert!(make(&BodyKind::Other, b"a=b", (0, "")).unwrap_err().contains("no Socket Mode envelope"));
    }

    #[test]
    fn acks_are_read_and_bad_ones_say_what_came() {
        let ack = read_ack(r#"{"envelope_id":"e1","payload":{"text":"hi"}}"#).unwrap();
        assert_eq!(ack, ReadAck { envelope_id: "e1".into(), payload: Ok(Some(r#"{"text":"hi"}"#.into())) });
        assert_eq!(read_ack(r#"{"envelope_id":"e2"}"#).unwrap().payload, Ok(None));
        assert!(read_ack("ack!").unwrap_err().contains("not a JSON object: \"ack!\""));
        assert!(read_ack(r#"{"id":"e1"}"#).unwrap_err().contains("without a string envelope_id"));
        let bad = read_ack(r#"{"envelope_id":"e3","payload":"text"}"#).unwrap().payload.unwrap_err();
        assert!(bad.contains("envelope e3 has a payload that is not a JSON object"), "{bad}");
    }
}
