//! The verdict for one trace against one deadline profile: when the clock started, whether each
//! check made the deadline, by how much, and where the time went.

use super::path::{CriticalPath, SegmentKind, self_times};
use super::profile::{Check, Profile};
use super::rule::{Edge, Rule};
use crate::model::{AttrValue, Nanos, SpanFlags, SpanIdx, Trace, format_duration};

/// How many spans [`Verdict::worst`] lists.
const WORST: usize = 5;

/// Whether the trace met its deadline.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every check that found its span made the deadline.
    Pass,
    /// At least one check happened after the deadline.
    Miss,
    /// The trace cannot be judged: no span started the clock, or a required check found no span.
    Undecided,
}

/// When and where the clock started.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize)]
pub struct ClockStart {
    /// The span that started it.
    pub span: SpanIdx,
    /// Which edge of that span.
    pub edge: Edge,
    /// The time, absolute.
    pub time: Nanos,
}

/// What one check found.
#[derive(Clone, PartialEq, Debug, serde::Serialize)]
pub struct CheckResult {
    /// The check's stable id (`ack`, `trigger_id`, `response`).
    pub name: String,
    /// What it measures, for sentences ("views.open sent").
    pub label: String,
    /// The rule that finds its span; `None` for the end of the span the clock started at.
    pub rule: Option<Rule>,
    /// Which edge of the span is measured.
    pub edge: Edge,
    /// Whether a trace without the span cannot be judged.
    pub required: bool,
    /// The span and its timing; `None` when no span matched.
    pub hit: Option<Hit>,
}

/// The span a check found and how it timed.
#[derive(Clone, PartialEq, Debug, serde::Serialize)]
pub struct Hit {
    /// The span.
    pub span: SpanIdx,
    /// The measured edge, absolute.
    pub time: Nanos,
    /// Time from the clock's start to the measured edge.
    pub elapsed: Nanos,
    /// Deadline minus the measured time: spare time when positive, lateness when negative.
    pub margin: Nanos,
    /// What the span says went wrong (status text, linked errors, error attributes), if anything.
    pub error: Option<String>,
}

impl CheckResult {
    /// Whether the check made the deadline; `None` when it found no span.
    pub fn passed(&self) -> Option<bool> {
        self.hit.as_ref().map(|h| h.margin >= 0)
    }
}

/// A span that held the critical path for long: where to look first.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize)]
pub struct Contribution {
    /// The span.
    pub span: SpanIdx,
    /// Running, or waiting after it ended for the child it caused.
    pub kind: SegmentKind,
    /// How long it held the path, in total.
    pub time: Nanos,
    /// Whether the span was running when the deadline passed.
    pub crosses_deadline: bool,
}

/// Everything tracedeck concludes about one trace under one profile. Computed once by
/// [`analyze`]; spans are indices into the trace it was computed from.
#[derive(Clone, PartialEq, Debug, serde::Serialize)]
pub struct Verdict {
    /// The profile's name.
    pub profile: String,
    /// The profile's limit.
    pub limit: Nanos,
    /// Where the clock started; `None` when no span started it.
    pub clock: Option<ClockStart>,
    /// When time ran out, absolute (clock start plus limit).
    pub deadline: Option<Nanos>,
    /// Each check of the profile, in the profile's order.
    pub checks: Vec<CheckResult>,
    /// Pass, miss or undecided.
    pub outcome: Outcome,
    /// The check that decides: the one with the least margin (the latest, or the one that
    /// missed by most). Its time is "the response time".
    pub deciding: Option<usize>,
    /// Spans running when the deadline passed (started before it, ended after it).
    pub crossing: Vec<SpanIdx>,
    /// Spans that started at or after the deadline.
    pub after_deadline: Vec<SpanIdx>,
    /// The chain of spans that decided the deciding check's time, with its gaps.
    pub path: CriticalPath,
    /// The spans that held the critical path longest (at most five), longest first.
    pub worst: Vec<Contribution>,
    /// Every span's self time, by span index (not serialized: one number per span).
    #[serde(skip)]
    pub self_time: Vec<Nanos>,
    /// Things the user should know about how the verdict was reached.
    pub notes: Vec<String>,
}

impl Verdict {
    /// The deciding check.
    pub fn response(&self) -> Option<&CheckResult> {
        self.deciding.and_then(|i| self.checks.get(i))
    }

    /// The deciding check's span and timing.
    pub fn response_hit(&self) -> Option<&Hit> {
        self.response().and_then(|c| c.hit.as_ref())
    }

    /// Time from the clock's start to the deciding check.
    pub fn response_time(&self) -> Option<Nanos> {
        self.response_hit().map(|h| h.elapsed)
    }

    /// Spare time (positive) or lateness (negative) of the deciding check.
    pub fn margin(&self) -> Option<Nanos> {
        self.response_hit().map(|h| h.margin)
    }

    /// One line for a banner: "views.open sent at 3.42 s — missed the 3 s deadline by 420.0 ms",
    /// "ack at 310.0 ms — met the 3 s deadline with 2.69 s to spare".
    pub fn headline(&self) -> String {
        let limit = format_limit(self.limit);
        match (self.response(), self.response_hit()) {
            (Some(check), Some(hit)) if hit.margin < 0 => format!(
                "{} at {} — missed the {limit} deadline by {}",
                check.label,
                format_duration(hit.elapsed),
                format_duration(-hit.margin)
            ),
            (Some(check), Some(hit)) => format!(
                "{} at {} — met the {limit} deadline with {} to spare",
                check.label,
                format_duration(hit.elapsed),
                format_duration(hit.margin)
            ),
            _ => format!("could not judge the {limit} deadline: {}", self.notes.first().map_or("no check ran", |n| n)),
        }
    }
}

/// A limit as people say it: `3 s`, `2500 ms`, else like [`format_duration`].
pub fn format_limit(nanos: Nanos) -> String {
    match nanos {
        n if n != 0 && n % 1_000_000_000 == 0 => format!("{} s", n / 1_000_000_000),
        n if n != 0 && n % 1_000_000 == 0 => format!("{} ms", n / 1_000_000),
        n => format_duration(n),
    }
}

/// Judges a trace against a profile. One pass per rule plus O(spans log spans) for the critical
/// path; no allocation per span.
pub fn analyze(trace: &Trace, profile: &Profile) -> Verdict {
    let mut verdict = Verdict {
        profile: profile.name.clone(),
        limit: profile.limit,
        clock: None,
        deadline: None,
        checks: Vec::new(),
        outcome: Outcome::Undecided,
        deciding: None,
        crossing: Vec::new(),
        after_deadline: Vec::new(),
        path: CriticalPath::default(),
        worst: Vec::new(),
        self_time: self_times(trace),
        notes: Vec::new(),
    };
    let Some(clock) = start_clock(trace, profile, &mut verdict.notes) else { return verdict };
    let deadline = clock.time.saturating_add(profile.limit);
    verdict.clock = Some(clock);
    verdict.deadline = Some(deadline);
    verdict.checks = profile.checks.iter().map(|c| run_check(trace, c, clock, deadline, &mut verdict.notes)).collect();

    let missing_required = verdict.checks.iter().any(|c| c.required && c.hit.is_none());
    verdict.deciding = (0..verdict.checks.len())
        .filter_map(|i| verdict.checks[i].hit.as_ref().map(|h| (h.margin, i)))
        .min()
        .map(|(_, i)| i);
    verdict.outcome = match verdict.margin() {
        Some(m) if m < 0 => Outcome::Miss,
        Some(_) if !missing_required => Outcome::Pass,
        _ => Outcome::Undecided,
    };

    for (i, span) in trace.spans().iter().enumerate() {
        if span.start >= deadline {
            verdict.after_deadline.push(i as SpanIdx);
        } else if span.end > deadline {
            verdict.crossing.push(i as SpanIdx);
        }
    }

    if let Some((span, time)) = verdict.response_hit().map(|h| (h.span, h.time)) {
        verdict.path = CriticalPath::to(trace, span, time, clock.span, clock.time);
        if !verdict.path.complete {
            verdict.notes.push(format!(
                "{:?} is not below the span the clock started at ({:?}); the critical path stops at its root",
                name(trace, span),
                name(trace, clock.span)
            ));
        }
    }
    verdict.worst = verdict
        .path
        .totals()
        .into_iter()
        .take(WORST)
        .map(|(span, kind, time)| {
            let s = trace.span(span);
            Contribution { span, kind, time, crosses_deadline: s.start < deadline && s.end > deadline }
        })
        .collect();
    verdict
}

fn name(trace: &Trace, idx: SpanIdx) -> &str {
    trace.str(trace.span(idx).name)
}

fn start_clock(trace: &Trace, profile: &Profile, notes: &mut Vec<String>) -> Option<ClockStart> {
    match &profile.clock {
        None => {
            let Some(&root) = trace.roots().first() else {
                notes.push("the trace has no spans".into());
                return None;
            };
            if trace.roots().len() > 1 {
                notes.push(format!(
                    "the trace has {} root spans; the clock starts at the earliest, {:?}",
                    trace.roots().len(),
                    name(trace, root)
                ));
            }
            let root = if timed(trace, root) { root } else { earliest_timed(trace, root, notes)? };
            Some(ClockStart { span: root, edge: Edge::Start, time: trace.span(root).start })
        }
        Some(rule) => {
            let Some(span) = rule.first_match(trace) else {
                notes.push(format!("no span matches the clock rule `{rule}`"));
                return None;
            };
            let edge = rule.at().unwrap_or(Edge::Start);
            Some(ClockStart { span, edge, time: edge.of(trace, span) })
        }
    }
}

fn timed(trace: &Trace, idx: SpanIdx) -> bool {
    !trace.span(idx).flags.contains(SpanFlags::UNTIMED)
}

/// Where the clock starts when the root span has no time in the file: the earliest root that
/// has one, else the earliest span that has one; noted.
fn earliest_timed(trace: &Trace, root: SpanIdx, notes: &mut Vec<String>) -> Option<SpanIdx> {
    let earliest = |spans: &mut dyn Iterator<Item = SpanIdx>| {
        spans.filter(|&i| timed(trace, i)).min_by_key(|&i| trace.span(i).start)
    };
    let found = earliest(&mut trace.roots().iter().copied()).or_else(|| earliest(&mut (0..trace.len() as SpanIdx)));
    notes.push(match found {
        Some(span) => format!(
            "the root span {:?} has no time in the file; the clock starts at {:?}, the earliest span that has one",
            name(trace, root),
            name(trace, span)
        ),
        None => "no span of the trace has a time in the file, so it cannot be judged".to_owned(),
    });
    found
}

fn run_check(trace: &Trace, check: &Check, clock: ClockStart, deadline: Nanos, notes: &mut Vec<String>) -> CheckResult {
    let edge = check.edge();
    let span = match &check.target {
        None => Some(clock.span),
        Some(rule) => rule.first_match(trace),
    };
    let hit = span.map(|span| {
        let time = edge.of(trace, span);
        if edge == Edge::End && trace.span(span).flags.contains(SpanFlags::OPEN) {
            notes.push(format!(
                "{}: {:?} never ended; the end of the trace is taken as its end",
                check.label,
                name(trace, span)
            ));
        }
        // Both times are ones a trace may hold, so `elapsed` fits; the deadline may have
        // saturated (a limit of centuries), and the margin saturates with it, keeping its sign.
        let margin = deadline.saturating_sub(time);
        Hit { span, time, elapsed: time - clock.time, margin, error: describe_error(trace, span) }
    });
    if hit.is_none() {
        let rule = check.target.as_ref().map(|r| r.to_string()).unwrap_or_default();
        notes.push(if check.required {
            format!("{}: no span matches `{rule}`, so the trace cannot be judged", check.label)
        } else {
            format!("{}: no span matches `{rule}`; the other checks decide", check.label)
        });
    }
    CheckResult {
        name: check.name.clone(),
        label: check.label.clone(),
        rule: check.target.clone(),
        edge,
        required: check.required,
        hit,
    }
}

/// What a span says went wrong: its status text when it failed, the titles of errors linked to
/// it, and text attributes named like errors (`error`, `*.error`, `error.message`,
/// `exception.message`), without repeats.
fn describe_error(trace: &Trace, idx: SpanIdx) -> Option<String> {
    let span = trace.span(idx);
    let mut parts: Vec<&str> = Vec::new();
    if span.is_error() {
        parts.push(match trace.str(span.status_message) {
            "" => "error",
            text => text,
        });
    }
    parts.extend(trace.errors().iter().filter(|e| e.span == Some(idx)).map(|e| trace.str(e.title)));
    for attr in trace.attrs(idx) {
        let key = trace.str(attr.key);
        let named_like_error =
            key == "error" || key.ends_with(".error") || key == "error.message" || key == "exception.message";
        if let (true, AttrValue::Str(v)) = (named_like_error, attr.value) {
            parts.push(trace.str(v));
        }
    }
    let mut unique: Vec<&str> = Vec::with_capacity(parts.len());
    for part in parts {
        if !part.is_empty() && !unique.contains(&part) {
            unique.push(part);
        }
    }
    (!unique.is_empty()).then(|| unique.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::{MS, TestSpan, build, idx, incident};

    fn slack() -> Profile {
        Profile::built_in("slack").unwrap()
    }

    #[test]
    fn the_longest_deadline_with_a_check_before_the_clock_saturates_instead_of_wrapping() {
        // The clock starts just after 1970; the checked span (clock skew) ends just before it.
        let t = build(&[TestSpan::new(1, None, 1, 10), TestSpan::new(2, Some(1), -5, -1).name("ack")]);
        let rule = crate::analysis::Rule::parse("name~ack").unwrap();
        let profile = Profile { checks: vec![crate::analysis::Check::matching(rule)], ..Profile::custom(Nanos::MAX) };
        let v = analyze(&t, &profile);
        assert_eq!((v.outcome, v.response_time()), (Outcome::Pass, Some(-2 * MS)));
        assert_eq!(v.margin(), Some(Nanos::MAX), "{}", v.headline());
    }

    #[test]
    fn the_incident_misses_on_views_open_though_the_ack_was_fast() {
        let t = incident();
        let v = analyze(&t, &slack());
        assert_eq!(v.outcome, Outcome::Miss);
        let ack = &v.checks[0];
        assert_eq!((ack.name.as_str(), ack.passed()), ("response", Some(true)));
        assert_eq!(ack.hit.as_ref().unwrap().elapsed, 500 * MS);
        let trigger = v.response().unwrap();
        assert_eq!(trigger.name, "trigger_id");
        let hit = trigger.hit.as_ref().unwrap();
        assert_eq!(name(&t, hit.span), "POST https://slack.com/api/views.open");
        assert_eq!(hit.elapsed, 3200 * MS, "measured when the request left");
        assert_eq!(hit.margin, -200 * MS);
        assert_eq!(hit.error.as_deref(), Some("internal_error; expired_trigger_id"));
        assert_eq!(v.headline(), "views.open sent at 3.20 s — missed the 3 s deadline by 200.0 ms");
        assert_eq!((v.clock.unwrap().time, v.deadline), (0, Some(3000 * MS)));

        // Where the time went: the task waited in the queue from 120 ms to 2.9 s.
        let worst = v.worst[0];
        assert_eq!((worst.span, worst.kind, worst.time), (idx(&t, 3), SegmentKind::Wait, 2780 * MS));
        let gap = v.path.gaps[0];
        assert_eq!((gap.before, gap.after), (Some(idx(&t, 3)), Some(idx(&t, 4))));
        let path_spans: Vec<u64> = v.path.segments.iter().map(|s| t.span(s.span).id.get()).collect();
        assert_eq!(path_spans, vec![1, 2, 1, 3, 3, 4, 5, 4]);
        // The worker task was running at the deadline; views.open started after it.
        assert_eq!(v.crossing, vec![idx(&t, 4), idx(&t, 5)]);
        assert_eq!(v.after_deadline, vec![idx(&t, 6)]);
        assert!(!worst.crosses_deadline);
        assert!(v.worst.iter().any(|w| w.span == idx(&t, 4) && w.crosses_deadline));
    }

    #[test]
    fn the_fix_opens_the_modal_early_and_passes() {
        let t = build(&[
            TestSpan::new(1, None, 0, 450).name("POST /slack/interactions").op("http.server"),
            TestSpan::new(2, Some(1), 30, 280).name("POST https://slack.com/api/views.open").op("http.client"),
            TestSpan::new(3, Some(1), 300, 320).name("update_modal").op("queue.publish"),
            TestSpan::new(4, Some(3), 2900, 3600).name("update_modal").op("queue.process"),
            TestSpan::new(5, Some(4), 3200, 3500).name("POST https://slack.com/api/views.update").op("http.client"),
        ]);
        let v = analyze(&t, &slack());
        assert_eq!(v.outcome, Outcome::Pass);
        assert_eq!(v.checks[1].hit.as_ref().unwrap().span, idx(&t, 2));
        assert_eq!(v.deciding, Some(0), "the ack is nearer the deadline than views.open");
        assert_eq!(v.headline(), "ack at 450.0 ms — met the 3 s deadline with 2.55 s to spare");
        assert_eq!(v.margin(), Some(2550 * MS));
        assert!(v.notes.is_empty(), "{:?}", v.notes);
    }

    #[test]
    fn a_slow_ack_misses_with_the_root_crossing_the_deadline() {
        let t = build(&[
            TestSpan::new(1, None, 1000, 5210).name("POST /slack/interactions").op("http.server"),
            TestSpan::new(2, Some(1), 1100, 5100).name("SELECT slow").op("db"),
        ]);
        let v = analyze(&t, &slack());
        assert_eq!(v.outcome, Outcome::Miss);
        assert_eq!(v.response().unwrap().name, "response");
        assert_eq!(v.response_time(), Some(4210 * MS));
        assert_eq!(v.headline(), "ack at 4.21 s — missed the 3 s deadline by 1.21 s");
        assert_eq!(v.crossing, vec![0, 1]);
        assert!(v.after_deadline.is_empty());
        assert_eq!(v.worst[0].span, idx(&t, 2));
        assert!(v.worst[0].crosses_deadline);
        assert!(v.notes.iter().any(|n| n.contains("views.open sent: no span matches")), "{:?}", v.notes);
    }

    #[test]
    fn without_views_open_the_ack_alone_decides_with_a_note() {
        let t = build(&[TestSpan::new(1, None, 0, 800).op("http.server"), TestSpan::new(2, Some(1), 10, 20).op("db")]);
        let v = analyze(&t, &slack());
        assert_eq!(v.outcome, Outcome::Pass);
        assert_eq!(v.checks[1].hit, None);
        assert_eq!(v.checks[1].passed(), None);
        assert_eq!(v.notes.len(), 1);
        assert!(v.notes[0].contains("the other checks decide"), "{}", v.notes[0]);
    }

    #[test]
    fn a_required_check_without_a_span_is_undecided_unless_another_missed() {
        let t = build(&[TestSpan::new(1, None, 0, 800).op("http.server")]);
        let mut p = Profile::custom(3000 * MS);
        p.checks = vec![Check::matching(Rule::parse("op=http.client").unwrap())];
        let v = analyze(&t, &p);
        assert_eq!(v.outcome, Outcome::Undecided);
        assert!(v.headline().contains("cannot be judged"), "{}", v.headline());
        assert!(v.path.segments.is_empty());

        p.checks.insert(0, Check::response("response"));
        p.limit = 500 * MS;
        assert_eq!(analyze(&t, &p).outcome, Outcome::Miss);
    }

    #[test]
    fn the_clock_can_start_at_a_matching_span() {
        let t = incident();
        let mut p = Profile::custom(500 * MS);
        p.clock = Some(Rule::parse("op=queue.process").unwrap());
        p.checks = vec![Check::matching(Rule::parse("name~views.open,at=start").unwrap())];
        let v = analyze(&t, &p);
        assert_eq!(v.clock, Some(ClockStart { span: idx(&t, 4), edge: Edge::Start, time: 2900 * MS }));
        assert_eq!(v.outcome, Outcome::Pass);
        assert_eq!(v.margin(), Some(200 * MS));
        assert!(v.path.complete);
        assert_eq!(v.path.segments.first().unwrap().start, 2900 * MS, "the path stops at the clock");

        p.clock = Some(Rule::parse("op=nothing").unwrap());
        let v = analyze(&t, &p);
        assert_eq!((v.outcome, v.clock, v.checks.len()), (Outcome::Undecided, None, 0));
        assert!(v.headline().contains("no span matches the clock rule `op=nothing`"), "{}", v.headline());
    }

    #[test]
    fn open_spans_and_extra_roots_are_noted() {
        let t = build(&[TestSpan::new(1, None, 0, 100).open(), TestSpan::new(2, Some(99), 50, 4000)]);
        let v = analyze(&t, &Profile::built_in("github").unwrap());
        assert_eq!(v.response_time(), Some(4000 * MS), "an open span ends with the trace");
        assert_eq!(v.outcome, Outcome::Pass);
        assert!(v.notes.iter().any(|n| n.contains("2 root spans")), "{:?}", v.notes);
        assert!(v.notes.iter().any(|n| n.contains("never ended")), "{:?}", v.notes);
    }

    #[test]
    fn spans_without_a_time_in_the_file_are_not_judged_by() {
        // The root had no time (placed at the trace's start, zero-length); so had one views.open.
        let t = build(&[
            TestSpan::new(1, None, 0, 0).name("handler").untimed(),
            TestSpan::new(2, Some(1), 0, 400).name("POST /slack/interactions").op("http.server"),
            TestSpan::new(3, Some(2), 0, 0).name("views.open").op("http.client").untimed(),
            TestSpan::new(4, Some(2), 3100, 3300).name("views.open").op("http.client"),
        ]);
        let v = analyze(&t, &slack());
        let clock = v.clock.unwrap();
        assert_eq!(t.str(t.span(clock.span).name), "POST /slack/interactions");
        assert!(
            v.notes.iter().any(|n| n.contains("the root span \"handler\" has no time in the file")),
            "{:?}",
            v.notes
        );
        assert_eq!(v.checks[1].hit.as_ref().map(|h| h.span), Some(idx(&t, 4)), "the timed views.open");
        assert_eq!(v.outcome, Outcome::Miss);

        let all_untimed = build(&[TestSpan::new(1, None, 0, 0).untimed()]);
        let v = analyze(&all_untimed, &slack());
        assert_eq!(v.outcome, Outcome::Undecided);
        assert!(v.notes.iter().any(|n| n.contains("no span of the trace has a time in the file")), "{:?}", v.notes);
    }

    #[test]
    fn self_times_are_kept_per_span() {
        let t = incident();
        let v = analyze(&t, &slack());
        assert_eq!(v.self_time.len(), t.len());
        assert_eq!(v.self_time[idx(&t, 1) as usize], (500 - 20 - 20) * MS);
        assert_eq!(v.self_time[idx(&t, 4) as usize], (700 - 200 - 300) * MS);
    }

    #[test]
    fn verdicts_serialize_without_the_per_span_table() {
        let v = analyze(&incident(), &slack());
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["outcome"], "miss");
        assert_eq!(json["checks"][1]["rule"], crate::analysis::SLACK_TRIGGER_RULE);
        assert_eq!(json["path"]["segments"][4]["kind"], "wait");
        assert!(json.get("self_time").is_none());
    }

    #[test]
    fn limits_read_as_people_say_them() {
        assert_eq!(format_limit(3_000_000_000), "3 s");
        assert_eq!(format_limit(2_500_000_000), "2500 ms");
        assert_eq!(format_limit(500_000), "500.0 µs");
    }
}
