//! What `tracedeck replay --find-margin` prints: text for people, JSON for scripts, JUnit XML
//! for CI (one test case per latency tried), as [`super::report`] does for a replay.
//!
//! JSON: `{capture, target, mock, knob, seed, max_ms, resolution_ms, budget_ms, runs_per_step,
//! delivery_latency_ms, api_latency, margin_ms, broke, cut, fails_at_zero, sentence, steps}`;
//! `margin_ms` is the largest latency at which every run passed (`null`: none), `broke` the
//! step that failed first past it, `cut` why the search stopped early (`budget`, `cancelled`,
//! or `null`), each step `{latency_ms, runs, failed, answered, first_failure: {run, reason}}`.

use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;

use super::margin::{Cut, Knob, Outcome, Step, human};
use super::report::xml;

/// Everything a margin report says.
pub struct MarginReport<'a> {
    /// The capture file as named.
    pub capture: &'a str,
    /// The target as given.
    pub target: &'a str,
    /// The mock's Web API base URL.
    pub mock: &'a str,
    /// Replays of each interaction per step.
    pub runs_per_step: usize,
    /// The delivery latency kept while the Web API latency is searched.
    pub delivery_latency: Duration,
    /// The Web API latency kept while the delivery latency is searched, as written for people.
    pub api_latency: String,
    /// What the search found.
    pub outcome: &'a Outcome,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    capture: &'a str,
    target: &'a str,
    mock: &'a str,
    knob: Knob,
    seed: u64,
    max_ms: f64,
    resolution_ms: f64,
    budget_ms: f64,
    runs_per_step: usize,
    delivery_latency_ms: f64,
    api_latency: &'a str,
    margin_ms: Option<f64>,
    broke: Option<&'a Step>,
    cut: Option<Cut>,
    fails_at_zero: bool,
    sentence: String,
    steps: &'a [Step],
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

impl MarginReport<'_> {
    /// Writes the report in a format.
    pub fn write(&self, format: super::report::ReportFormat, out: &mut dyn Write) -> io::Result<()> {
        use super::report::ReportFormat;
        match format {
            ReportFormat::Text => self.write_text(out),
            ReportFormat::Json => {
                serde_json::to_writer_pretty(&mut *out, &self.json())?;
                writeln!(out)
            }
            ReportFormat::Junit => self.write_junit(out),
        }
    }

    fn json(&self) -> JsonReport<'_> {
        let o = self.outcome;
        JsonReport {
            capture: self.capture,
            target: self.target,
            mock: self.mock,
            knob: o.search.knob,
            seed: o.search.seed,
            max_ms: ms(o.search.max),
            resolution_ms: ms(o.search.resolution),
            budget_ms: ms(o.search.budget),
            runs_per_step: self.runs_per_step,
            delivery_latency_ms: ms(self.delivery_latency),
            api_latency: &self.api_latency,
            margin_ms: o.margin().map(ms),
            broke: o.broke(),
            cut: o.cut,
            fails_at_zero: o.fails_at_zero(),
            sentence: o.sentence(),
            steps: &o.steps,
        }
    }

    /// What stays fixed while the knob moves.
    fn fixed(&self) -> String {
        match self.outcome.search.knob {
            Knob::Delivery => format!("Web API latency {}", self.api_latency),
            Knob::Api => format!("delivery latency {}", human(self.delivery_latency)),
        }
    }

    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let o = self.outcome;
        writeln!(
            out,
            "finding the {} margin of {} against {} (mock Slack Web API at {})",
            o.search.knob.words(),
            self.capture,
            self.target,
            self.mock
        )?;
        writeln!(
            out,
            "  {} run(s) a step, 0 to {} by {}, within {}; {}; seed {}",
            self.runs_per_step,
            human(o.search.max),
            human(o.search.resolution),
            human(o.search.budget),
            self.fixed(),
            o.search.seed
        )?;
        for step in &o.steps {
            let word = if step.passed() { "PASS" } else { "FAIL" };
            let why = step.first_failure.as_ref().map(|f| format!("; run {}: {}", f.run, f.reason)).unwrap_or_default();
            writeln!(out, "  +{:<10} {word}  {} of {} runs failed{why}", human(step.latency), step.failed, step.runs)?;
        }
        writeln!(out, "{}", o.sentence())
    }

    fn write_junit(&self, out: &mut dyn Write) -> io::Result<()> {
        let o = self.outcome;
        let failures = o.steps.iter().filter(|s| !s.passed()).count();
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            out,
            r#"<testsuite name="tracedeck find-margin {} {}" tests="{}" failures="{failures}" errors="0">"#,
            o.search.knob.words(),
            xml(self.capture),
            o.steps.len()
        )?;
        writeln!(out, "  <properties>")?;
        writeln!(out, r#"    <property name="margin" value="{}"/>"#, xml(&o.sentence()))?;
        if let Some(margin) = o.margin() {
            writeln!(out, r#"    <property name="margin_ms" value="{:.1}"/>"#, ms(margin))?;
        }
        writeln!(out, r#"    <property name="seed" value="{}"/>"#, o.search.seed)?;
        writeln!(out, "  </properties>")?;
        for step in &o.steps {
            let name = format!("{} {}", o.search.knob.words(), human(step.latency));
            write!(out, r#"  <testcase classname="replay.margin" name="{}""#, xml(&name))?;
            match &step.first_failure {
                None => writeln!(out, "/>")?,
                Some(first) => {
                    writeln!(out, ">")?;
                    let message =
                        format!("{} of {} runs failed; run {}: {}", step.failed, step.runs, first.run, first.reason);
                    writeln!(out, r#"    <failure message="{}"/>"#, xml(&message))?;
                    writeln!(out, "  </testcase>")?;
                }
            }
        }
        writeln!(out, "</testsuite>")
    }
}
