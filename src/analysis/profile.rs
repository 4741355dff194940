//! Deadline profiles: a platform's time limit, when its clock starts and what must happen
//! before it runs out.
//!
//! The built-in profiles come from the platforms' own documentation; each carries a one-line
//! note saying where its limit comes from, to show the user next to a verdict.

use super::rule::{Edge, Rule};
use crate::model::Nanos;

/// One second in nanoseconds.
const SECOND: Nanos = 1_000_000_000;

/// A deadline: how long a platform waits, from when, and for what.
#[derive(Clone, PartialEq, Debug, serde::Serialize)]
pub struct Profile {
    /// The platform's short name (`slack`), or `custom`.
    pub name: String,
    /// How long the platform waits, in nanoseconds.
    pub limit: Nanos,
    /// What starts the clock: `None` for the start of the trace's root span (the request
    /// arriving), or the first span matching a rule (measured at its start unless the rule
    /// says `at=end`).
    pub clock: Option<Rule>,
    /// What must happen before the deadline; every check is judged on its own.
    pub checks: Vec<Check>,
    /// Where the limit comes from, in one line.
    pub source: String,
}

/// One thing that must happen before the deadline.
#[derive(Clone, PartialEq, Debug, serde::Serialize)]
pub struct Check {
    /// A short stable id (`ack`, `trigger_id`, `response`).
    pub name: String,
    /// What the check measures, for sentences: "ack sent", "views.open sent".
    pub label: String,
    /// The span that answers: `None` for the span the clock started at (the root span's end is
    /// the HTTP response), or the first span matching a rule, measured at its end unless the
    /// rule says `at=start`.
    pub target: Option<Rule>,
    /// Whether a trace without a matching span cannot be judged. An optional check with no
    /// span is skipped with a note and the other checks decide.
    pub required: bool,
}

impl Check {
    /// The default response: the end of the span the clock started at.
    pub fn response(label: &str) -> Check {
        Check { name: "response".into(), label: label.into(), target: None, required: true }
    }

    /// A required check for the first span matching `rule` (the `--response` flag).
    pub fn matching(rule: Rule) -> Check {
        Check { name: "response".into(), label: "response".into(), target: Some(rule), required: true }
    }

    /// Which edge of the target span is measured.
    pub fn edge(&self) -> Edge {
        self.target.as_ref().and_then(Rule::at).unwrap_or(Edge::End)
    }
}

/// How the Slack profile recognises a call that spends the `trigger_id`: an HTTP client call
/// (or any span mentioning Slack) whose name or attributes name `views.open`/`views.push`.
pub const SLACK_TRIGGER_RULE: &str =
    "op=http.client,text~views.open|views.push,at=start; text~slack,text~views.open|views.push,at=start";

/// The name of the Slack profile's check that a modal was opened (`views.open` sent) before the
/// `trigger_id` expired.
pub const TRIGGER_CHECK: &str = "trigger_id";

/// The built-in profiles: name, limit in seconds, what the response is called, and the source note.
const BUILT_IN: [(&str, Nanos, &str, &str); 7] = [
    (
        "slack",
        3,
        "ack",
        "Slack: interactions must be acknowledged within 3 s, and a trigger_id expires 3 s after it is issued \
         (docs.slack.dev: handling user interaction; opening modals)",
    ),
    (
        "discord",
        3,
        "first interaction response",
        "Discord: the initial interaction response must be sent within 3 s, or the token is invalidated \
         (discord.com/developers/docs/interactions/receiving-and-responding)",
    ),
    (
        "zoom",
        3,
        "response",
        "Zoom: a webhook endpoint must answer 200/204 within 3 s, or the event is retried \
         (developers.zoom.us: webhooks)",
    ),
    (
        "teams",
        5,
        "submit response",
        "Microsoft Teams: an app has 5 s to answer a message-extension submitAction invoke \
         (learn.microsoft.com: respond to the dialog submit action)",
    ),
    (
        "github",
        10,
        "response",
        "GitHub: a webhook delivery not answered with a 2xx within 10 s is recorded as failed and not retried \
         (docs.github.com: best practices for using webhooks)",
    ),
    (
        "twilio",
        15,
        "response",
        "Twilio: webhooks time out after 15 s by default, error 11200 (twilio.com/docs/usage/webhooks: \
         connection overrides, read timeout)",
    ),
    (
        "google-chat",
        30,
        "response",
        "Google Chat: an app must answer an interaction event synchronously within 30 s \
         (developers.google.com/workspace/chat: receive and respond to interactions)",
    ),
];

impl Profile {
    /// The profile used when none is named.
    pub const DEFAULT: &'static str = "slack";

    /// The names of the built-in profiles.
    pub fn names() -> impl Iterator<Item = &'static str> {
        BUILT_IN.iter().map(|p| p.0)
    }

    /// A built-in profile by name (`slack`, `discord`, `zoom`, `teams`, `github`, `twilio`,
    /// `google-chat`).
    pub fn built_in(name: &str) -> Option<Profile> {
        let &(name, seconds, label, source) = BUILT_IN.iter().find(|p| p.0 == name)?;
        let mut checks = vec![Check::response(label)];
        if name == "slack" {
            checks.push(Check {
                name: TRIGGER_CHECK.into(),
                label: "views.open sent".into(),
                target: Some(Rule::parse(SLACK_TRIGGER_RULE).expect("the built-in rule parses")),
                required: false,
            });
        }
        Some(Profile { name: name.into(), limit: seconds * SECOND, clock: None, checks, source: source.into() })
    }

    /// The same profile with its time limit overridden (`--deadline`), saying so in its source.
    pub fn with_limit(mut self, limit: Nanos) -> Profile {
        self.limit = limit;
        self.source = format!("{} — limit overridden on the command line", self.source);
        self
    }

    /// The check of that name, if the profile has one.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// "the slack profile's 3 s limit".
    pub fn limit_phrase(&self) -> String {
        format!("the {} profile's {} limit", self.name, super::format_limit(self.limit))
    }

    /// The profile shown when nothing else was chosen: Slack's.
    pub fn default_profile() -> Profile {
        Profile::built_in(Profile::DEFAULT).expect("the default profile is built in")
    }

    /// A profile with no platform: the given limit, the root span's response.
    pub fn custom(limit: Nanos) -> Profile {
        Profile {
            name: "custom".into(),
            limit,
            clock: None,
            checks: vec![Check::response("response")],
            source: "a deadline given on the command line".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_profile_has_its_documented_limit_and_a_source() {
        let expected = [
            ("slack", 3),
            ("discord", 3),
            ("zoom", 3),
            ("teams", 5),
            ("github", 10),
            ("twilio", 15),
            ("google-chat", 30),
        ];
        assert_eq!(Profile::names().collect::<Vec<_>>(), expected.iter().map(|e| e.0).collect::<Vec<_>>());
        for (name, seconds) in expected {
            let p = Profile::built_in(name).unwrap();
            assert_eq!(p.name, name);
            assert_eq!(p.limit, seconds * SECOND, "{name}");
            assert!(p.source.contains(&format!("{seconds} s")), "{name}: {}", p.source);
            assert!(p.clock.is_none());
            assert_eq!(p.checks[0].target, None, "{name} answers with the root span's end");
            assert!(p.checks[0].required);
        }
        assert!(Profile::built_in("myspace").is_none());
        assert!(Profile::built_in(Profile::DEFAULT).is_some());
    }

    #[test]
    fn slack_also_checks_the_trigger_id_at_the_call_start() {
        let slack = Profile::built_in("slack").unwrap();
        assert_eq!(slack.checks.len(), 2);
        let trigger = &slack.checks[1];
        assert_eq!(trigger.name, "trigger_id");
        assert!(!trigger.required, "a trace that never opens a modal is judged by its ack");
        assert_eq!(trigger.edge(), Edge::Start);
        assert_eq!(slack.checks[0].edge(), Edge::End);
        assert_eq!(Profile::built_in("discord").unwrap().checks.len(), 1);
    }

    #[test]
    fn custom_and_rule_checks() {
        let p = Profile::custom(2_500_000_000);
        assert_eq!((p.name.as_str(), p.limit, p.checks.len()), ("custom", 2_500_000_000, 1));
        let check = Check::matching(Rule::parse("op=http.client,at=start").unwrap());
        assert_eq!(check.edge(), Edge::Start);
        assert!(check.required);
        assert_eq!(Check::matching(Rule::parse("op=x").unwrap()).edge(), Edge::End);
    }
}
