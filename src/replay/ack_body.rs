//! What an app may put in its ack (the HTTP 200's body, or a Socket Mode ack's `payload`), by
//! the kind of request, as Slack reads it: a `view_submission` may answer a `response_action`
//! (`errors` with an `errors` object, `update`/`push` with a `view`, `clear`), a slash command a
//! message (`text`, `blocks` or `attachments`, or plain text over HTTP), a `block_suggestion` its
//! `options` or `option_groups`. Other requests' bodies are ignored by Slack, so not checked.

use serde_json::Value;

/// Checks an ack body (empty: nothing to check) for a request of `kind` (a payload `type` or
/// `slash command /x`); the error says what Slack would make of it.
pub fn check(kind: &str, body: &str) -> Result<(), String> {
    let body = body.trim();
    if body.is_empty() {
        return Ok(());
    }
    let json = || serde_json::from_str::<Value>(body).ok().filter(Value::is_object);
    match kind {
        "view_submission" => {
            let Some(ack) = json() else {
                return Err(format!("the view_submission ack {} is not a JSON object", quoted_start(body)));
            };
            let has = |key: &str| ack.get(key).is_some_and(Value::is_object);
            match ack.get("response_action").and_then(Value::as_str) {
                Some("errors") if has("errors") => Ok(()),
                Some("errors") => {
                    Err("the view_submission ack has response_action errors but no `errors` object".into())
                }
                Some("update" | "push") if has("view") => Ok(()),
                Some(action @ ("update" | "push")) => {
                    Err(format!("the view_submission ack has response_action {action} but no `view` object"))
                }
                Some("clear") => Ok(()),
                Some(other) => Err(format!(
                    "the view_submission ack has response_action {other:?}; Slack knows errors, update, push and clear"
                )),
                None => Err(format!("the view_submission ack {} has no response_action", quoted_start(body))),
            }
        }
        "block_suggestion" => match json() {
            Some(ack) if ack.get("options").is_some_and(Value::is_array) => Ok(()),
            Some(ack) if ack.get("option_groups").is_some_and(Value::is_array) => Ok(()),
            _ => {
                Err(format!("the block_suggestion ack {} has no `options` or `option_groups` list", quoted_start(body)))
            }
        },
        slash if slash.starts_with("slash command") => match json() {
            Some(ack) if ["text", "blocks", "attachments"].iter().any(|k| ack.get(k).is_some()) => Ok(()),
            Some(_) => Err(format!("the slash command ack {} has no text, blocks or attachments", quoted_start(body))),
            // Plain text over HTTP is shown as the message.
            None if !body.starts_with(['{', '[']) => Ok(()),
            None => Err(format!("the slash command ack {} is not valid JSON", quoted_start(body))),
        },
        _ => Ok(()),
    }
}

/// The start of a body or message (120 characters), quoted, for an error.
pub(crate) fn quoted_start(text: &str) -> String {
    let cut: String = text.chars().take(120).collect();
    if cut.len() < text.len() { format!("{cut:?}…") } else { format!("{cut:?}") }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn view_submission_acks_need_a_known_response_action() {
        assert_eq!(check("view_submission", ""), Ok(()));
        assert_eq!(check("view_submission", r#"{"response_action":"errors","errors":{"b":"no"}}"#), Ok(()));
        assert_eq!(check("view_submission", r#"{"response_action":"update","view":{"type":"modal"}}"#), Ok(()));
        assert_eq!(check("view_submission", r#"{"response_action":"clear"}"#), Ok(()));
        let bad = |body: &str| check("view_submission", body).unwrap_err();
        assert!(bad(r#"{"response_action":"errors"}"#).contains("no `errors` object"));
        assert!(bad(r#"{"response_action":"push"}"#).contains("push but no `view` object"));
        assert!(bad(r#"{"response_action":"close"}"#).contains("Slack knows errors, update, push and clear"));
        assert!(bad("ok").contains("\"ok\" is not a JSON object"));
        assert!(bad(r#"{"text":"hi"}"#).contains("has no response_action"));
    }

    #[test]
    fn slash_commands_and_suggestions_and_other_kinds() {
        assert_eq!(check("slash command /deploy", r#"{"text":"deploying","response_type":"in_channel"}"#), Ok(()));
        assert_eq!(check("slash command /deploy", "deploying now"), Ok(()));
        assert!(check("slash command /deploy", r#"{"response_type":"in_channel"}"#).unwrap_err().contains("no text"));
        assert!(check("slash command /deploy", "{broken").unwrap_err().contains("not valid JSON"));
        assert_eq!(check("block_suggestion", r#"{"options":[]}"#), Ok(()));
        assert!(check("block_suggestion", "{}").unwrap_err().contains("no `options`"));
        assert_eq!(check("block_actions", "anything at all"), Ok(()), "Slack ignores it");
    }
}
