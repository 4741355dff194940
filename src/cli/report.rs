//! What `check` prints: a verdict with span names resolved, as text or JSON.
//!
//! The JSON field names are a contract for scripts. Every time is an offset from the clock's
//! start (the trace's start when no clock started), written `{"ms": 4210.0, "ns": 4210000000}`.

use std::io::{self, Write};

use serde::Serialize;

use super::summary::SummaryReport;
use super::time::Time;
use crate::analysis::{Edge, Outcome, Profile, SegmentKind, Verdict, format_limit};
use crate::model::{Nanos, SpanIdx, Trace, format_duration};

/// How many gaps and crossing spans are listed (the counts are always given).
const LISTED: usize = 5;
/// The text output shows this many critical-path pieces, the latest ones if there are more.
const PATH_SHOWN: usize = 12;

/// The whole JSON document.
#[derive(Serialize)]
pub(crate) struct Report {
    profile: ProfileInfo,
    /// Absent when the per-trace verdicts were silenced (`--quiet`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) traces: Option<Vec<TraceReport>>,
    pub(crate) errors: Vec<FileError>,
    /// Present with `--summary` or `--max-miss-rate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) summary: Option<SummaryReport>,
}

#[derive(Serialize)]
struct ProfileInfo {
    name: String,
    limit: Time,
    source: String,
    clock: Option<String>,
    checks: Vec<String>,
}

/// A file that could not be checked.
#[derive(Serialize)]
pub(crate) struct FileError {
    pub(crate) file: String,
    pub(crate) message: String,
}

impl Report {
    pub(crate) fn new(profile: &Profile) -> Self {
        let checks = profile
            .checks
            .iter()
            .map(|c| match &c.target {
                Some(rule) => format!("{}: first span matching `{rule}`", c.label),
                None => format!("{}: end of the span the clock starts at", c.label),
            })
            .collect();
        Report {
            profile: ProfileInfo {
                name: profile.name.clone(),
                limit: Time(profile.limit),
                source: profile.source.clone(),
                clock: profile.clock.as_ref().map(|r| r.to_string()),
                checks,
            },
            traces: Some(Vec::new()),
            errors: Vec::new(),
            summary: None,
        }
    }

    /// The line text output starts with: the deadline and where it comes from.
    pub(crate) fn write_text_header(&self, out: &mut dyn Write) -> io::Result<()> {
        let p = &self.profile;
        writeln!(out, "deadline {} ({}): {}", format_limit(p.limit.0), p.name, p.source)?;
        for check in &p.checks {
            writeln!(out, "  check {check}")?;
        }
        if let Some(clock) = &p.clock {
            writeln!(out, "  clock starts at the first span matching `{clock}`")?;
        }
        writeln!(out)
    }
}

/// One span, named.
#[derive(Serialize)]
struct SpanRef {
    id: String,
    name: String,
    op: String,
    service: String,
    start: Time,
    end: Time,
    error: bool,
}

#[derive(Serialize)]
struct ClockInfo {
    span: SpanRef,
    edge: Edge,
    unix_ns: Nanos,
}

#[derive(Serialize)]
struct CheckReport {
    name: String,
    label: String,
    rule: Option<String>,
    edge: Edge,
    required: bool,
    passed: Option<bool>,
    span: Option<SpanRef>,
    at: Option<Time>,
    margin: Option<Time>,
    error: Option<String>,
}

#[derive(Serialize)]
struct Piece {
    span: SpanRef,
    kind: SegmentKind,
    start: Time,
    end: Time,
}

#[derive(Serialize)]
struct WorstReport {
    span: SpanRef,
    kind: SegmentKind,
    time: Time,
    crosses_deadline: bool,
}

#[derive(Serialize)]
struct GapReport {
    start: Time,
    end: Time,
    duration: Time,
    kind: SegmentKind,
    parent: SpanRef,
    before: Option<SpanRef>,
    after: Option<SpanRef>,
}

/// One trace's verdict with names resolved.
#[derive(Serialize)]
pub(crate) struct TraceReport {
    /// The (first) file it came from.
    file: String,
    /// Every file it came from: more than one when its parts were in several.
    files: Vec<String>,
    format: String,
    trace_id: String,
    root: String,
    spans: usize,
    profile: String,
    limit: Time,
    outcome: Outcome,
    headline: String,
    clock: Option<ClockInfo>,
    response: Option<Time>,
    /// Spare time when positive, lateness when negative.
    margin: Option<Time>,
    checks: Vec<CheckReport>,
    worst: Vec<WorstReport>,
    critical_path: Vec<Piece>,
    critical_path_complete: bool,
    gaps: Vec<GapReport>,
    gap_count: usize,
    crossing: Vec<SpanRef>,
    crossing_count: usize,
    after_deadline_count: usize,
    notes: Vec<String>,
    warnings: Vec<String>,
}

impl TraceReport {
    pub(crate) fn new(files: Vec<String>, format: &str, trace: &Trace, verdict: &Verdict) -> Self {
        let origin = verdict.clock.map_or(trace.start(), |c| c.time);
        let span = |idx: SpanIdx| {
            let s = trace.span(idx);
            SpanRef {
                id: s.id.to_string(),
                name: trace.str(s.name).to_owned(),
                op: trace.str(s.op).to_owned(),
                service: trace.str(s.service).to_owned(),
                start: Time(s.start - origin),
                end: Time(s.end - origin),
                error: s.is_error(),
            }
        };
        let checks = verdict
            .checks
            .iter()
            .map(|c| CheckReport {
                name: c.name.clone(),
                label: c.label.clone(),
                rule: c.rule.as_ref().map(|r| r.to_string()),
                edge: c.edge,
                required: c.required,
                passed: c.passed(),
                span: c.hit.as_ref().map(|h| span(h.span)),
                at: c.hit.as_ref().map(|h| Time(h.elapsed)),
                margin: c.hit.as_ref().map(|h| Time(h.margin)),
                error: c.hit.as_ref().and_then(|h| h.error.clone()),
            })
            .collect();
        TraceReport {
            file: files.first().cloned().unwrap_or_default(),
            files,
            format: format.to_owned(),
            trace_id: trace.trace_id().to_string(),
            root: trace.roots().first().map(|&r| trace.str(trace.span(r).name).to_owned()).unwrap_or_default(),
            spans: trace.len(),
            profile: verdict.profile.clone(),
            limit: Time(verdict.limit),
            outcome: verdict.outcome,
            headline: verdict.headline(),
            clock: verdict.clock.map(|c| ClockInfo { span: span(c.span), edge: c.edge, unix_ns: c.time }),
            response: verdict.response_time().map(Time),
            margin: verdict.margin().map(Time),
            checks,
            worst: verdict
                .worst
                .iter()
                .map(|w| WorstReport {
                    span: span(w.span),
                    kind: w.kind,
                    time: Time(w.time),
                    crosses_deadline: w.crosses_deadline,
                })
                .collect(),
            critical_path: verdict
                .path
                .segments
                .iter()
                .map(|s| Piece {
                    span: span(s.span),
                    kind: s.kind,
                    start: Time(s.start - origin),
                    end: Time(s.end - origin),
                })
                .collect(),
            critical_path_complete: verdict.path.complete,
            gaps: verdict
                .path
                .gaps
                .iter()
                .take(LISTED)
                .map(|g| GapReport {
                    start: Time(g.start - origin),
                    end: Time(g.end - origin),
                    duration: Time(g.duration()),
                    kind: g.kind,
                    parent: span(g.parent),
                    before: g.before.map(span),
                    after: g.after.map(span),
                })
                .collect(),
            gap_count: verdict.path.gaps.len(),
            crossing: verdict.crossing.iter().take(LISTED).map(|&i| span(i)).collect(),
            crossing_count: verdict.crossing.len(),
            after_deadline_count: verdict.after_deadline.len(),
            notes: verdict.notes.clone(),
            warnings: trace.warnings().iter().map(|w| w.to_string()).collect(),
        }
    }

    /// Writes the report for people.
    pub(crate) fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "{}: trace {} {:?} ({} spans, {})",
            self.files.join(" + "),
            self.trace_id,
            self.root,
            self.spans,
            self.format
        )?;
        let word = match self.outcome {
            Outcome::Pass => "PASS",
            Outcome::Miss => "MISS",
            Outcome::Undecided => "UNDECIDED",
        };
        writeln!(out, "  {word}  {}", self.headline)?;
        if let Some(clock) = &self.clock {
            let edge = match clock.edge {
                Edge::Start => "start",
                Edge::End => "end",
            };
            writeln!(
                out,
                "  deadline: {} ({}) from the {edge} of {}",
                format_limit(self.limit.0),
                self.profile,
                describe(&clock.span)
            )?;
        }
        if !self.checks.is_empty() {
            writeln!(out, "  checks:")?;
        }
        for c in &self.checks {
            let (Some(span), Some(at), Some(margin)) = (&c.span, c.at, c.margin) else {
                let rule = c.rule.as_deref().unwrap_or_default();
                writeln!(out, "    n/a   {}: no span matches `{rule}`", c.label)?;
                continue;
            };
            let (word, how) = if margin.0 >= 0 {
                ("pass", format!("{} to spare", format_duration(margin.0)))
            } else {
                ("MISS", format!("{} late", format_duration(-margin.0)))
            };
            write!(out, "    {word}  {}: {} at {}, {how}", c.label, describe(span), format_duration(at.0))?;
            match &c.error {
                Some(error) => writeln!(out, " — error: {error}")?,
                None => writeln!(out)?,
            }
        }
        if !self.worst.is_empty() {
            writeln!(out, "  worst spans:")?;
        }
        for w in &self.worst {
            let what = match w.kind {
                SegmentKind::Own => describe(&w.span),
                SegmentKind::Wait => format!("waiting after {} ended", describe(&w.span)),
            };
            let crossing = if w.crosses_deadline { ", running at the deadline" } else { "" };
            writeln!(out, "    {:>10}  {what}{crossing}", format_duration(w.time.0))?;
        }
        if !self.critical_path.is_empty() {
            writeln!(out, "  critical path: {}", self.compact_path())?;
        }
        if !self.gaps.is_empty() {
            writeln!(out, "  gaps where nothing instrumented ran ({} in all):", self.gap_count)?;
        }
        for g in &self.gaps {
            let after = g.after.as_ref().map(|a| format!(", before {} started", describe(a))).unwrap_or_default();
            let before = match (g.kind, &g.before) {
                (SegmentKind::Wait, _) => format!("after {} ended", describe(&g.parent)),
                (SegmentKind::Own, Some(b)) => format!("inside {}, after {} ended", describe(&g.parent), describe(b)),
                (SegmentKind::Own, None) => format!("inside {}, from its start", describe(&g.parent)),
            };
            writeln!(
                out,
                "    {:>10}  {}–{} {before}{after}",
                format_duration(g.duration.0),
                format_duration(g.start.0),
                format_duration(g.end.0)
            )?;
        }
        for note in &self.notes {
            writeln!(out, "  note: {note}")?;
        }
        for warning in &self.warnings {
            writeln!(out, "  warning: {warning}")?;
        }
        writeln!(out)
    }

    /// `"a" 0 ns–20.0 ms › "b" 20.0–40.0 ms › (wait 2.78 s) › …`, the latest pieces when long.
    fn compact_path(&self) -> String {
        let skip = self.critical_path.len().saturating_sub(PATH_SHOWN);
        let mut parts: Vec<String> = Vec::with_capacity(PATH_SHOWN + 1);
        if skip > 0 {
            parts.push(format!("… {skip} earlier pieces"));
        }
        parts.extend(self.critical_path[skip..].iter().map(|p| match p.kind {
            SegmentKind::Own => {
                format!("{:?} {}–{}", p.span.name, format_duration(p.start.0), format_duration(p.end.0))
            }
            SegmentKind::Wait => format!("(waiting {})", format_duration(p.end.0 - p.start.0)),
        }));
        parts.join(" › ")
    }
}

/// `"name" (op, service)`, leaving out what is empty.
fn describe(span: &SpanRef) -> String {
    let detail: Vec<&str> = [span.op.as_str(), span.service.as_str()].into_iter().filter(|s| !s.is_empty()).collect();
    if detail.is_empty() { format!("{:?}", span.name) } else { format!("{:?} ({})", span.name, detail.join(", ")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::incident;
    use crate::analysis::{Profile, analyze};
    use crate::formats::Format;

    fn incident_report() -> TraceReport {
        let trace = incident();
        let verdict = analyze(&trace, &Profile::built_in("slack").unwrap());
        TraceReport::new(vec!["incident.json".into()], Format::Sentry.name(), &trace, &verdict)
    }

    #[test]
    fn text_names_the_failing_call_its_error_and_the_queue_wait() {
        let mut out = Vec::new();
        incident_report().write_text(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let expected = [
            "incident.json: trace 0000000000000007 \"POST /slack/interactions\" (6 spans, Sentry JSON)",
            "  MISS  views.open sent at 3.20 s — missed the 3 s deadline by 200.0 ms",
            "  deadline: 3 s (slack) from the start of \"POST /slack/interactions\" (http.server, front)",
            "    pass  ack: \"POST /slack/interactions\" (http.server, front) at 500.0 ms, 2.50 s to spare",
            "    MISS  views.open sent: \"POST https://slack.com/api/views.open\" (http.client, worker) at 3.20 s, \
             200.0 ms late — error: internal_error; expired_trigger_id",
            "        2.78 s  waiting after \"open_modal\" (queue.publish, front) ended",
            "      100.0 ms  \"open_modal\" (queue.process, worker), running at the deadline",
            "(waiting 2.78 s)",
            "        2.78 s  120.0 ms–2.90 s after \"open_modal\" (queue.publish, front) ended, before \"open_modal\" \
             (queue.process, worker) started",
        ];
        for line in expected {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn json_has_stable_fields_in_ms_and_ns() {
        let value = serde_json::to_value(incident_report()).unwrap();
        assert_eq!(value["outcome"], "miss");
        assert_eq!(value["response"]["ms"], 3200.0);
        assert_eq!(value["response"]["ns"], 3_200_000_000i64);
        assert_eq!(value["margin"]["ms"], -200.0);
        let trigger = &value["checks"][1];
        assert_eq!(trigger["name"], "trigger_id");
        assert_eq!(trigger["passed"], false);
        assert_eq!(trigger["edge"], "start");
        assert_eq!(trigger["span"]["name"], "POST https://slack.com/api/views.open");
        assert_eq!(trigger["span"]["id"], "0000000000000006");
        assert_eq!(trigger["error"], "internal_error; expired_trigger_id");
        assert_eq!(value["gaps"][0]["kind"], "wait");
        assert_eq!(value["gaps"][0]["duration"]["ns"], 2_780_000_000i64);
        assert_eq!(value["worst"][0]["span"]["op"], "queue.publish");
        assert_eq!(value["crossing_count"], 2);
        assert_eq!(value["critical_path"].as_array().unwrap().len(), 8);
        assert_eq!(value["critical_path_complete"], true);
    }

    #[test]
    fn the_header_says_where_the_deadline_comes_from() {
        let mut out = Vec::new();
        Report::new(&Profile::built_in("slack").unwrap()).write_text_header(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("deadline 3 s (slack): Slack: interactions must be acknowledged within 3 s"),
            "{text}"
        );
        assert!(text.contains("  check ack: end of the span the clock starts at\n"), "{text}");
        assert!(text.contains("  check views.open sent: first span matching `op=http.client,"), "{text}");
    }

    #[test]
    fn long_paths_show_their_latest_pieces() {
        let mut report = incident_report();
        let piece = |i: Nanos| Piece {
            span: SpanRef {
                id: String::new(),
                name: format!("s{i}"),
                op: String::new(),
                service: String::new(),
                start: Time(0),
                end: Time(0),
                error: false,
            },
            kind: SegmentKind::Own,
            start: Time(i),
            end: Time(i + 1),
        };
        report.critical_path = (0..20).map(piece).collect();
        let text = report.compact_path();
        assert!(text.starts_with("… 8 earlier pieces › \"s8\""), "{text}");
        assert!(text.ends_with("\"s19\" 19 ns–20 ns"), "{text}");
    }
}
