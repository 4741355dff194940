//! What the mock remembers and the rules it answers by: trigger ids (3 s, single use), views
//! it issued (for `views.update`), response URLs (5 uses, 30 min), and which replay a call
//! belongs to.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::args::Args;
use super::{Answer, MockConfig, RunId};
use crate::replay::traceparent::TraceParent;

/// How long a response URL lives.
const RESPONSE_URL_TTL: Duration = Duration::from_secs(30 * 60);
/// How many times a response URL may be used.
const RESPONSE_URL_USES: u32 = 5;
/// The team every mocked object belongs to.
const TEAM: &str = "T0TRACEDECK";

#[derive(Debug)]
struct Trigger {
    run: RunId,
    issued: Instant,
    used: bool,
}

#[derive(Debug)]
struct View {
    run: Option<RunId>,
    hash: String,
    external_id: String,
}

#[derive(Debug)]
struct ResponseUrl {
    run: RunId,
    issued: Instant,
    uses: u32,
}

/// Everything the mock remembers, behind one lock.
#[derive(Debug, Default)]
pub(super) struct State {
    triggers: HashMap<String, Trigger>,
    views: HashMap<String, View>,
    response_urls: HashMap<String, ResponseUrl>,
    /// Trace id (as sent in `traceparent`) to run.
    traces: HashMap<u128, RunId>,
    active: Vec<RunId>,
    rate_limited: HashMap<String, u32>,
    next: u64,
}

/// A call's verdict before it is recorded.
pub(super) struct Decision {
    pub answer: Answer,
    pub run: Option<RunId>,
    pub trigger_id: Option<String>,
    pub view_id: Option<String>,
}

impl State {
    fn serial(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// Registers a replay: a fresh trigger id and response URL id, remembered from `issued`.
    pub(super) fn begin_run(&mut self, trace_id: u128, issued: Instant) -> (RunId, String, String) {
        let run = RunId(self.serial());
        let trigger = format!("{}.{}.{:032x}", 1_000_000_000_000 + run.0, 47_445_629_121u64, fastrand::u128(..));
        let response = format!("R{:06}{:016x}", run.0, fastrand::u64(..));
        self.triggers.insert(trigger.clone(), Trigger { run, issued, used: false });
        self.response_urls.insert(response.clone(), ResponseUrl { run, issued, uses: 0 });
        self.traces.insert(trace_id, run);
        self.active.push(run);
        (run, trigger, response)
    }

    /// The replay is over: calls no longer default to it.
    pub(super) fn end_run(&mut self, run: RunId) {
        self.active.retain(|&r| r != run);
    }

    /// The run a call belongs to: by its `traceparent`, else the only replay in flight.
    fn run_of(&self, traceparent: Option<&str>) -> Option<RunId> {
        let by_trace =
            traceparent.and_then(TraceParent::parse).and_then(|parent| self.traces.get(&parent.trace_id.0).copied());
        by_trace.or(match self.active.as_slice() {
            [only] => Some(*only),
            _ => None,
        })
    }

    /// Answers a Web API call that passed authentication.
    pub(super) fn api(
        &mut self,
        config: &MockConfig,
        method: &str,
        args: &Args,
        traceparent: Option<&str>,
        now: Instant,
    ) -> Decision {
        let mut decision =
            Decision { answer: Answer::ok(json!({})), run: self.run_of(traceparent), trigger_id: None, view_id: None };
        if let Some(&limit) = config.rate_limited.get(method) {
            let count = self.rate_limited.entry(method.to_owned()).or_insert(0);
            if *count < limit {
                *count += 1;
                decision.answer = Answer::rate_limited();
                return decision;
            }
        }
        decision.answer = match method {
            "auth.test" => Answer::ok(json!({
                "url": "https://tracedeck-mock.slack.com/", "team": "tracedeck mock", "user": "app",
                "team_id": TEAM, "user_id": "U0TRACEDECK", "bot_id": "B0TRACEDECK", "is_enterprise_install": false
            })),
            "views.open" | "views.push" => self.open_view(config, method, args, now, &mut decision),
            "views.update" => self.update_view(args, &mut decision),
            "chat.postMessage" => match (
                args.str("channel"),
                ["text", "blocks", "attachments"]
                    .iter()
                    .any(|k| args.str(k).is_some() || matches!(args.json(k), Ok(Some(_)))),
            ) {
                (None, _) => Answer::error("channel_not_found"),
                (Some(_), false) => Answer::error("no_text"),
                (Some(channel), true) => {
                    let ts = self.message_ts();
                    Answer::ok(
                        json!({"channel": channel, "ts": ts, "message": {"type": "message", "ts": ts, "text": args.str("text").unwrap_or_default()}}),
                    )
                }
            },
            "chat.update" => match (args.str("channel"), args.str("ts")) {
                (Some(channel), Some(ts)) => {
                    Answer::ok(json!({"channel": channel, "ts": ts, "text": args.str("text").unwrap_or_default()}))
                }
                (None, _) => Answer::error("channel_not_found"),
                (Some(_), None) => Answer::error("message_not_found"),
            },
            "chat.postEphemeral" => match (args.str("channel"), args.str("user")) {
                (Some(_), Some(_)) => Answer::ok(json!({"message_ts": self.message_ts()})),
                (None, _) => Answer::error("channel_not_found"),
                (Some(_), None) => Answer::error("user_not_in_channel"),
            },
            _ => Answer::error("unknown_method"),
        };
        decision
    }

    fn message_ts(&mut self) -> String {
        format!("{}.{:06}", crate::replay::signing::unix_now(), self.serial() % 1_000_000)
    }

    fn open_view(
        &mut self,
        config: &MockConfig,
        method: &str,
        args: &Args,
        now: Instant,
        decision: &mut Decision,
    ) -> Answer {
        let Some(trigger_id) = args.str("trigger_id").or_else(|| args.str("interactivity_pointer")) else {
            return Answer::invalid_arguments("missing required field: trigger_id");
        };
        decision.trigger_id = Some(trigger_id.clone());
        let view = match args.json("view") {
            Ok(Some(Value::Object(view))) => view,
            Ok(_) => return Answer::invalid_arguments("missing required field: view"),
            Err(()) => return Answer::invalid_arguments("the view is not JSON"),
        };
        let Some(trigger) = self.triggers.get_mut(&trigger_id) else {
            return Answer::error("invalid_trigger_id");
        };
        decision.run = Some(trigger.run);
        if trigger.used {
            return Answer::error("exchanged_trigger_id");
        }
        if now.duration_since(trigger.issued) > config.trigger_ttl {
            return Answer::error("expired_trigger_id");
        }
        trigger.used = true;
        let run = trigger.run;
        let id = format!("V{:010X}", fastrand::u64(..0xFF_FFFF_FFFF));
        let hash = self.hash();
        let external_id = view.get("external_id").and_then(Value::as_str).unwrap_or("").to_owned();
        if !external_id.is_empty() && self.views.values().any(|v| v.external_id == external_id) {
            return Answer::error("duplicate_external_id");
        }
        decision.view_id = Some(id.clone());
        let reply = view_reply(view, &id, &hash, &external_id, method);
        self.views.insert(id, View { run: Some(run), hash, external_id });
        Answer::ok(json!({ "view": reply }))
    }

    fn update_view(&mut self, args: &Args, decision: &mut Decision) -> Answer {
        let id = match (args.str("view_id"), args.str("external_id")) {
            (Some(id), None) => Some(id),
            (None, Some(ext)) => {
                let found = self.views.iter().find(|(_, v)| v.external_id == ext).map(|(id, _)| id.clone());
                match found {
                    Some(id) => Some(id),
                    None => return Answer::error("not_found"),
                }
            }
            _ => return Answer::invalid_arguments("exactly one of view_id and external_id is required"),
        };
        let Some(id) = id else { return Answer::error("not_found") };
        decision.view_id = Some(id.clone());
        let view = match args.json("view") {
            Ok(Some(Value::Object(view))) => view,
            Ok(_) => return Answer::invalid_arguments("missing required field: view"),
            Err(()) => return Answer::invalid_arguments("the view is not JSON"),
        };
        let hash = self.hash();
        let Some(known) = self.views.get_mut(&id) else { return Answer::error("not_found") };
        decision.run = decision.run.or(known.run);
        if args.str("hash").is_some_and(|h| h != known.hash) {
            return Answer::error("hash_conflict");
        }
        known.hash = hash.clone();
        let reply = view_reply(view, &id, &hash, &known.external_id.clone(), "views.update");
        Answer::ok(json!({ "view": reply }))
    }

    fn hash(&mut self) -> String {
        format!("{}.{:08x}", crate::replay::signing::unix_now(), fastrand::u32(..))
    }

    /// A POST to a response URL the mock handed out.
    pub(super) fn response_url(&mut self, id: &str, body: &[u8], now: Instant, decision: &mut Decision) -> Answer {
        let Some(url) = self.response_urls.get_mut(id) else {
            return Answer::http(404, "invalid_url");
        };
        decision.run = Some(url.run);
        if now.duration_since(url.issued) > RESPONSE_URL_TTL {
            return Answer::http(410, "expired_url");
        }
        if url.uses >= RESPONSE_URL_USES {
            return Answer::http(410, "used_url");
        }
        if serde_json::from_slice::<serde_json::Map<String, Value>>(body).is_err() {
            return Answer::http(400, "invalid_payload");
        }
        url.uses += 1;
        Answer::ok(json!({}))
    }

    /// Attributes an unauthenticated call (it gets no further).
    pub(super) fn attribute(&self, traceparent: Option<&str>) -> Option<RunId> {
        self.run_of(traceparent)
    }
}

/// The view as Slack returns it: what the app sent plus the ids Slack adds.
fn view_reply(
    mut view: serde_json::Map<String, Value>,
    id: &str,
    hash: &str,
    external_id: &str,
    method: &str,
) -> Value {
    let defaults = [
        ("type", json!("modal")),
        ("callback_id", json!("")),
        ("private_metadata", json!("")),
        ("blocks", json!([])),
        ("clear_on_close", json!(false)),
        ("notify_on_close", json!(false)),
    ];
    for (key, value) in defaults {
        view.entry(key).or_insert(value);
    }
    view.insert("id".into(), json!(id));
    view.insert("team_id".into(), json!(TEAM));
    view.insert("hash".into(), json!(hash));
    view.insert("external_id".into(), json!(external_id));
    view.insert("state".into(), json!({"values": {}}));
    view.insert("root_view_id".into(), json!(id));
    view.insert("previous_view_id".into(), Value::Null);
    view.insert("app_id".into(), json!("A0TRACEDECK"));
    view.insert("bot_id".into(), json!("B0TRACEDECK"));
    if method == "views.push" {
        view.insert("previous_view_id".into(), json!(""));
    }
    Value::Object(view)
}
