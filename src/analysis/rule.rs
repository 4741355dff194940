//! A tiny language for picking a span: `op=http.client,name~views.open`.
//!
//! Used by `--response` and `--clock` and by the built-in profiles, so what a profile looks
//! for can be shown to the user in the same words they would type.
//!
//! ```text
//! rule        = alternative *( ";" alternative )     any alternative may match
//! alternative = condition *( "," condition )         every condition must hold
//! condition   = field ( "=" / "~" ) value *( "|" value )
//! field       = op / name / service / text / attr.KEY / at
//! ```
//!
//! `=` is an exact match, `~` a case-insensitive "contains"; `a|b` accepts either value.
//! `text` looks at the name and every text attribute value. `attr.KEY` compares a number or a
//! boolean attribute by value (`attr.http.status_code=500`). `at=start` or `at=end` says which
//! edge of the matched span is measured (a response defaults to its end, a clock to its start).

use std::fmt;

use crate::model::{AttrValue, SpanFlags, SpanIdx, Trace};

/// Which edge of a span a time is taken from.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Edge {
    /// When the span started (for an outgoing call: when the request left).
    Start,
    /// When the span ended (for a server span: when the response was sent).
    End,
}

impl Edge {
    /// This edge of a span.
    pub fn of(self, trace: &Trace, idx: SpanIdx) -> crate::model::Nanos {
        let span = trace.span(idx);
        match self {
            Edge::Start => span.start,
            Edge::End => span.end,
        }
    }
}

/// A parsed rule; see the module docs. Displays as its text.
#[derive(Clone, PartialEq, Debug)]
pub struct Rule {
    text: String,
    alternatives: Vec<Vec<Condition>>,
    at: Option<Edge>,
}

#[derive(Clone, PartialEq, Debug)]
struct Condition {
    field: Field,
    exact: bool,
    values: Vec<String>,
}

#[derive(Clone, PartialEq, Debug)]
enum Field {
    Op,
    Name,
    Service,
    Text,
    Attr(String),
}

/// Why a rule's text could not be read.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("bad rule {rule:?}: {problem}")]
pub struct RuleError {
    /// The rule as written.
    pub rule: String,
    /// What is wrong, naming the offending part.
    pub problem: String,
}

const FIELDS: &str = "op, name, service, text, attr.KEY or at";

impl Rule {
    /// Parses a rule; the error names the part that is wrong and what was expected.
    pub fn parse(text: &str) -> Result<Rule, RuleError> {
        let fail = |problem: String| RuleError { rule: text.to_owned(), problem };
        let mut alternatives = Vec::new();
        let mut at = None;
        for alternative in text.split(';') {
            let mut conditions = Vec::new();
            for part in alternative.split(',') {
                let part = part.trim();
                if part.is_empty() {
                    return Err(fail("an empty condition (expected FIELD=VALUE or FIELD~VALUE)".into()));
                }
                let Some(split) = part.find(['=', '~']) else {
                    return Err(fail(format!("{part:?} has no `=` or `~` (expected FIELD=VALUE or FIELD~VALUE)")));
                };
                let (key, rest) = part.split_at(split);
                let exact = rest.starts_with('=');
                let value = rest[1..].trim();
                let key = key.trim();
                if key == "at" {
                    let edge = match value {
                        "start" if exact => Edge::Start,
                        "end" if exact => Edge::End,
                        _ => return Err(fail(format!("{part:?}: expected at=start or at=end"))),
                    };
                    if at.is_some_and(|a| a != edge) {
                        return Err(fail("`at` is given twice with different edges".into()));
                    }
                    at = Some(edge);
                    continue;
                }
                let field = match key {
                    "op" => Field::Op,
                    "name" => Field::Name,
                    "service" => Field::Service,
                    "text" => Field::Text,
                    _ => match key.strip_prefix("attr.") {
                        Some(k) if !k.is_empty() => Field::Attr(k.to_owned()),
                        _ if key.is_empty() => return Err(fail(format!("{part:?} has no field before the operator"))),
                        _ => return Err(fail(format!("unknown field {key:?} (expected {FIELDS})"))),
                    },
                };
                let values: Vec<String> = value.split('|').map(|v| v.trim().to_owned()).collect();
                if values.iter().any(String::is_empty) {
                    return Err(fail(format!("{part:?} has an empty value")));
                }
                conditions.push(Condition { field, exact, values });
            }
            if conditions.is_empty() {
                return Err(fail("an alternative holds only `at`; add a condition such as op=http.server".into()));
            }
            alternatives.push(conditions);
        }
        Ok(Rule { text: text.trim().to_owned(), alternatives, at })
    }

    /// The edge the rule asks to measure, if it names one with `at=`.
    pub fn at(&self) -> Option<Edge> {
        self.at
    }

    /// Whether the span matches.
    pub fn matches(&self, trace: &Trace, idx: SpanIdx) -> bool {
        self.alternatives.iter().any(|conds| conds.iter().all(|c| c.matches(trace, idx)))
    }

    /// The earliest-starting span that matches (the first in depth-first order on a tie).
    /// Spans the file gave no time ([`SpanFlags::UNTIMED`]) are not judged by. One pass over
    /// the trace.
    pub fn first_match(&self, trace: &Trace) -> Option<SpanIdx> {
        let mut best: Option<SpanIdx> = None;
        for (i, span) in trace.spans().iter().enumerate() {
            let i = i as SpanIdx;
            if span.flags.contains(SpanFlags::UNTIMED) {
                continue;
            }
            if best.is_none_or(|b| span.start < trace.span(b).start) && self.matches(trace, i) {
                best = Some(i);
            }
        }
        best
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl Condition {
    fn matches(&self, trace: &Trace, idx: SpanIdx) -> bool {
        let span = trace.span(idx);
        match &self.field {
            Field::Op => self.matches_str(trace.str(span.op)),
            Field::Name => self.matches_str(trace.str(span.name)),
            Field::Service => self.matches_str(trace.str(span.service)),
            Field::Text => {
                self.matches_str(trace.str(span.name))
                    || trace
                        .attrs(idx)
                        .iter()
                        .any(|a| matches!(a.value, AttrValue::Str(v) if self.matches_str(trace.str(v))))
            }
            Field::Attr(key) => {
                trace.attrs(idx).iter().filter(|a| trace.str(a.key) == key).any(|a| self.matches_value(trace, a.value))
            }
        }
    }

    fn matches_str(&self, text: &str) -> bool {
        self.values.iter().any(|v| if self.exact { text == v } else { contains_ignore_case(text, v) })
    }

    fn matches_value(&self, trace: &Trace, value: AttrValue) -> bool {
        match value {
            AttrValue::Str(s) => self.matches_str(trace.str(s)),
            AttrValue::Int(n) => self.values.iter().any(|v| v.parse::<i64>() == Ok(n)),
            AttrValue::Float(x) => self.values.iter().any(|v| v.parse::<f64>() == Ok(x)),
            AttrValue::Bool(b) => self.values.iter().any(|v| v.parse::<bool>() == Ok(b)),
        }
    }
}

/// Whether `needle` occurs in `hay`, ignoring ASCII case. No allocation.
fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
    needle.is_empty() || hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::{TestSpan, build, idx};

    #[test]
    fn parses_alternatives_values_and_edges() {
        let rule = Rule::parse(" op=http.client , name~views.open|views.push ; text~slack,at=start").unwrap();
        assert_eq!(rule.alternatives.len(), 2);
        assert_eq!(rule.alternatives[0][1].values, vec!["views.open", "views.push"]);
        assert!(!rule.alternatives[0][1].exact);
        assert_eq!(rule.at(), Some(Edge::Start));
        assert_eq!(rule.to_string(), "op=http.client , name~views.open|views.push ; text~slack,at=start");
        assert_eq!(
            Rule::parse("attr.http.status_code=500").unwrap().alternatives[0][0].field,
            Field::Attr("http.status_code".into())
        );
    }

    #[test]
    fn errors_name_the_bad_part() {
        let cases = [
            ("nme~x", "unknown field \"nme\""),
            ("op", "has no `=` or `~`"),
            ("op=a,,name~b", "an empty condition"),
            ("op=", "empty value"),
            ("op=a|", "empty value"),
            ("=x", "no field before"),
            ("attr.=x", "unknown field \"attr.\""),
            ("op=a,at=middle", "expected at=start or at=end"),
            ("op=a,at~start", "expected at=start or at=end"),
            ("op=a,at=start,at=end", "given twice"),
            ("at=end", "holds only `at`"),
            ("", "an empty condition"),
        ];
        for (text, expected) in cases {
            let err = Rule::parse(text).unwrap_err();
            assert_eq!(err.rule, text);
            assert!(err.to_string().contains(expected), "{text:?} → {err}");
        }
    }

    #[test]
    fn matches_fields_exactly_or_by_substring() {
        let trace = build(&[
            TestSpan::new(1, None, 0, 100).name("POST /slack/interactions").op("http.server").service("front"),
            TestSpan::new(2, Some(1), 10, 20).name("POST https://slack.com/api/Views.Open").op("http.client"),
            TestSpan::new(3, Some(1), 5, 30)
                .name("POST")
                .op("http.client")
                .attr("url.full", "https://slack.com/api/views.push"),
            TestSpan::new(4, Some(1), 40, 50).name("SELECT 1").op("db").int_attr("rows", 500),
        ]);
        let check = |rule: &str, id| Rule::parse(rule).unwrap().matches(&trace, idx(&trace, id));
        assert!(check("op=http.server", 1));
        assert!(!check("op=http", 1), "= is exact");
        assert!(check("op~http", 1));
        assert!(check("service=front", 1));
        assert!(check("name~views.open", 2), "~ ignores case");
        assert!(!check("name=post https://slack.com/api/views.open", 2), "= keeps case");
        assert!(!check("name~views.push", 3));
        assert!(check("text~views.push", 3), "text looks at attribute values");
        assert!(check("attr.url.full~slack.com", 3));
        assert!(check("attr.rows=500", 4));
        assert!(!check("attr.rows=501", 4));
        assert!(check("op=db,name~select;op=nope", 4));
        assert!(!check("op=db,name~insert", 4));
        assert!(check("op=nope;name~select", 4));
    }

    #[test]
    fn first_match_is_the_earliest_start() {
        let trace = build(&[
            TestSpan::new(1, None, 0, 100).op("http.server"),
            TestSpan::new(2, Some(1), 50, 60).op("http.client").name("late"),
            TestSpan::new(3, Some(1), 20, 90).op("queue"),
            TestSpan::new(4, Some(3), 30, 40).op("http.client").name("early, deeper"),
        ]);
        let found = Rule::parse("op=http.client").unwrap().first_match(&trace).unwrap();
        assert_eq!(trace.str(trace.span(found).name), "early, deeper");
        assert_eq!(Rule::parse("op=missing").unwrap().first_match(&trace), None);
    }
}
