//! What `tracedeck replay` prints: text for people, JSON for scripts, JUnit XML for CI.
//!
//! JSON: `{capture, target, mock, profile, summary, gate, notes, runs}`; every time is in
//! milliseconds from the interaction's issue (a run's `ack` and `views_open`, a call's `at_ms`).
//! `profile` is the deadline profile every run was judged by (`{name, limit_ms, source}`); each
//! run has one verdict (`pass`, `reason`) from it. `summary` holds `runs`,
//! `failed`, `failure_rate`, `failure_interval` (`{low, high}`, 95%: Wilson's, or from 0 to the
//! exact bound when nothing failed), `interactions` (`{interaction, runs, failed,
//! failure_interval}` each), `answered` and `ack`/`views_open` percentiles `{count, p50, p95, max}`.
//! `notes` holds sentences about the replay as a whole (a cold start).

use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;

use super::latency::ApiLatency;
use super::verdict::{RunResult, RunVerdict, Summary};
use crate::analysis::{Gate, Profile};
use crate::model::{Nanos, format_duration};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// For people.
    Text,
    /// One JSON document.
    Json,
    /// JUnit XML, one test case per run.
    Junit,
}

/// Everything a report says.
pub struct Report<'a> {
    /// The capture file as named.
    pub capture: &'a str,
    /// The target as given.
    pub target: &'a str,
    /// The mock's Web API base URL.
    pub mock: &'a str,
    /// The deadline profile the runs were judged by.
    pub profile: &'a Profile,
    /// The runs, in order.
    pub results: &'a [RunResult],
    /// `--max-failure-rate`, as a percentage (0 to 100), when given.
    pub max_failure_rate: Option<f64>,
    /// Notes on the replay as a whole (a cold start, see [`super::warmth`]).
    pub notes: &'a [String],
    /// The latency injected on purpose (`--delivery-latency`, `--api-latency`).
    pub injected: Injected<'a>,
}

/// The latency a replay injected on purpose; its runs' times include it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Injected<'a> {
    /// The wait between the click and the delivery.
    pub delivery: Duration,
    /// The mock's extra time before answering a Web API call.
    pub api: Option<&'a ApiLatency>,
    /// The seed ranges of `api` were drawn with.
    pub seed: u64,
}

impl Injected<'_> {
    /// "delivery latency 800.0 ms; Web API latency 200.0 ms–1.00 s on every call, seed 7";
    /// `None` when nothing was injected.
    pub fn sentence(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.delivery.is_zero() {
            parts.push(format!("delivery latency {}", format_duration(self.delivery.as_nanos() as Nanos)));
        }
        if let Some(api) = self.api.filter(|api| !api.is_none()) {
            let seed = if api.is_random() { format!(", seed {}", self.seed) } else { String::new() };
            parts.push(format!("Web API latency {api}{seed}"));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    capture: &'a str,
    target: &'a str,
    mock: &'a str,
    profile: JsonProfile<'a>,
    injected: Option<JsonInjected>,
    summary: Summary,
    gate: Option<JsonGate>,
    notes: &'a [String],
    runs: Vec<JsonRun<'a>>,
}

/// The profile the runs were judged by.
#[derive(Serialize)]
struct JsonProfile<'a> {
    name: &'a str,
    limit_ms: f64,
    source: &'a str,
}

/// The latency injected on purpose.
#[derive(Serialize)]
struct JsonInjected {
    delivery_latency_ms: f64,
    api_latency: String,
    seed: u64,
}

/// `--max-failure-rate`'s decision.
#[derive(Serialize)]
struct JsonGate {
    /// The allowed share, from 0 to 1.
    max_failure_rate: f64,
    /// Whether the failure rate stayed at or under it.
    passed: bool,
}

#[derive(Serialize)]
struct JsonRun<'a> {
    run: usize,
    interaction: &'a str,
    kind: &'a str,
    url: &'a str,
    trace_id: String,
    trigger_id: &'a str,
    status: Option<u16>,
    #[serde(flatten)]
    verdict: &'a RunVerdict,
    calls: Vec<JsonCall<'a>>,
}

#[derive(Serialize)]
struct JsonCall<'a> {
    method: &'a str,
    at_ms: f64,
    duration_ms: f64,
    http_status: u16,
    ok: bool,
    error: Option<&'a str>,
}

impl Report<'_> {
    /// Writes the report in a format.
    pub fn write(&self, format: ReportFormat, out: &mut dyn Write) -> io::Result<()> {
        let summary = Summary::of(self.results);
        match format {
            ReportFormat::Text => self.write_text(out, &summary),
            ReportFormat::Json => {
                serde_json::to_writer_pretty(&mut *out, &self.json(summary))?;
                writeln!(out)
            }
            ReportFormat::Junit => self.write_junit(out, &summary),
        }
    }

    fn json(&self, summary: Summary) -> JsonReport<'_> {
        let runs = self
            .results
            .iter()
            .map(|r| {
                let rec = &r.record;
                JsonRun {
                    run: rec.index,
                    interaction: &rec.interaction,
                    kind: &rec.kind,
                    url: &rec.url,
                    trace_id: format!("{:032x}", rec.trace_id.0),
                    trigger_id: &rec.minted.trigger_id,
                    status: match &rec.response {
                        Some(Ok(ack)) => Some(ack.status),
                        _ => None,
                    },
                    verdict: &r.verdict,
                    calls: rec
                        .calls
                        .iter()
                        .map(|c| JsonCall {
                            method: &c.method,
                            at_ms: rec.since_start(c.arrived).as_secs_f64() * 1e3,
                            duration_ms: c.answered.saturating_duration_since(c.arrived).as_secs_f64() * 1e3,
                            http_status: c.http_status,
                            ok: c.ok,
                            error: c.error.as_deref(),
                        })
                        .collect(),
                }
            })
            .collect();
        JsonReport {
            capture: self.capture,
            target: self.target,
            mock: self.mock,
            profile: JsonProfile {
                name: &self.profile.name,
                limit_ms: self.profile.limit as f64 / 1e6,
                source: &self.profile.source,
            },
            injected: self.injected.sentence().map(|_| JsonInjected {
                delivery_latency_ms: self.injected.delivery.as_secs_f64() * 1e3,
                api_latency: self.injected.api.map_or_else(|| "none".to_owned(), ToString::to_string),
                seed: self.injected.seed,
            }),
            gate: self.gate(&summary).map(|g| JsonGate { max_failure_rate: g.max_share, passed: g.passed }),
            summary,
            notes: self.notes,
            runs,
        }
    }

    fn write_text(&self, out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
        writeln!(out, "replaying {} against {} (mock Slack Web API at {})", self.capture, self.target, self.mock)?;
        writeln!(out, "  judged by {}", self.profile.limit_phrase())?;
        if let Some(injected) = self.injected.sentence() {
            writeln!(out, "  injected: {injected}")?;
        }
        for r in self.results {
            let word = if r.verdict.pass { "PASS" } else { "FAIL" };
            writeln!(out, "  run {:>3}  {word}  {}: {}", r.record.index, r.record.interaction, r.verdict.reason)?;
        }
        if let Some(ack) = &summary.ack {
            writeln!(out, "  ack:        {ack} ({} answered)", ack.count)?;
        }
        if let Some(open) = &summary.views_open {
            writeln!(out, "  views.open: {open} ({} of {} runs called it)", open.count, summary.runs)?;
        }
        if summary.interactions.len() > 1 {
            for i in &summary.interactions {
                writeln!(out, "  {}: {}", i.interaction, Summary::failure_sentence(i.rate()))?;
            }
        }
        writeln!(out, "  {}", Summary::failure_sentence(summary.rate()))?;
        if let (Some(gate), Some(rate)) = (self.gate(summary), summary.rate().rate()) {
            let outcome = if gate.passed { "pass" } else { "FAIL" };
            writeln!(out, "  gate: {outcome}, {}", gate.comparison_of("failure rate", rate))?;
        }
        for note in self.notes {
            writeln!(out, "  note: {note}")?;
        }
        writeln!(out, "{}", if self.passed_with(summary) { "PASS" } else { "FAIL" })
    }

    /// `--max-failure-rate` judged on these runs.
    fn gate(&self, summary: &Summary) -> Option<Gate> {
        self.max_failure_rate.map(|max| Gate::new(summary.rate(), max))
    }

    /// Whether the replay passed: every run did, or under a gate, the failure rate is at or under
    /// the allowed one.
    pub fn passed(&self) -> bool {
        self.passed_with(&Summary::of(self.results))
    }

    fn passed_with(&self, summary: &Summary) -> bool {
        match self.gate(summary) {
            Some(gate) => gate.passed,
            None => summary.all_passed(),
        }
    }

    fn write_junit(&self, out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
        let total: f64 = self.results.iter().map(run_seconds).sum();
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            out,
            r#"<testsuite name="tracedeck replay {}" tests="{}" failures="{}" errors="0" time="{total:.3}">"#,
            xml(self.capture),
            summary.runs,
            summary.failed
        )?;
        writeln!(out, "  <properties>")?;
        writeln!(
            out,
            r#"    <property name="failures" value="{}"/>"#,
            xml(&Summary::failure_sentence(summary.rate()))
        )?;
        if let Some(injected) = self.injected.sentence() {
            writeln!(out, r#"    <property name="injected" value="{}"/>"#, xml(&injected))?;
        }
        if let Some(i) = summary.failure_interval {
            writeln!(out, r#"    <property name="failure_rate_95ci" value="{:.4}-{:.4}"/>"#, i.low, i.high)?;
        }
        if let (Some(gate), Some(rate)) = (self.gate(summary), summary.rate().rate()) {
            let comparison = gate.comparison_of("failure rate", rate);
            writeln!(
                out,
                r#"    <property name="gate" value="{}: {}"/>"#,
                if gate.passed { "pass" } else { "FAIL" },
                xml(&comparison)
            )?;
        }
        writeln!(out, "  </properties>")?;
        for r in self.results {
            let name = format!("run {} ({})", r.record.index, r.record.interaction);
            write!(
                out,
                r#"  <testcase classname="replay.{}" name="{}" time="{:.3}""#,
                xml(&r.record.interaction),
                xml(&name),
                run_seconds(r)
            )?;
            if r.verdict.pass {
                writeln!(out, "/>")?;
            } else {
                writeln!(out, ">")?;
                writeln!(out, r#"    <failure message="{}">{}</failure>"#, xml(&r.verdict.reason), xml(&calls(r)))?;
                writeln!(out, "  </testcase>")?;
            }
        }
        if !self.notes.is_empty() {
            let notes: Vec<String> = self.notes.iter().map(|n| format!("note: {}", xml(n))).collect();
            writeln!(out, "  <system-out>{}</system-out>", notes.join("\n"))?;
        }
        writeln!(out, "</testsuite>")
    }
}

/// The app's Web API calls in a run, one line each: "views.open at 3.04 s: expired_trigger_id".
fn calls(r: &RunResult) -> String {
    let lines: Vec<String> = r
        .record
        .calls
        .iter()
        .map(|c| {
            let at = crate::model::format_duration(r.record.since_start(c.arrived).as_nanos() as crate::model::Nanos);
            match &c.error {
                Some(error) => format!("{} at {at}: {error}", c.method),
                None => format!("{} at {at}: ok", c.method),
            }
        })
        .collect();
    match lines.is_empty() {
        true => "the app made no Web API call".to_owned(),
        false => lines.join("\n"),
    }
}

fn run_seconds(r: &RunResult) -> f64 {
    r.record.finished.map_or(0.0, |f| r.record.since_start(f).as_secs_f64())
}

/// Escapes text for an XML attribute or element.
pub(super) fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}
