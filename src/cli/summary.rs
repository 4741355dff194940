//! What `check --summary` prints after the verdicts: how many traces missed, the miss rate with
//! its 95% interval, response-time percentiles, the worst trace and its file, the same per
//! endpoint, and the `--max-miss-rate` gate's decision.
//!
//! JSON field names are a contract for scripts, like the rest of `check`'s JSON: rates are
//! shares from 0 to 1, times are `{ms, ns}`.

use std::io::{self, Write};

use serde::Serialize;

use super::report::Time;
use crate::analysis::{Interval, MissRate, Outcome, Percentiles, Sample, Summary, by_endpoint};
use crate::model::{Nanos, Trace, format_duration};

/// The worst trace, named.
#[derive(Serialize)]
struct WorstTrace {
    trace_id: String,
    /// Where it came from: its (first) file, or the back-end.
    file: String,
    /// Every file it came from (more than one when its parts were in several), or the back-end.
    files: Vec<String>,
    root: String,
    outcome: Outcome,
    response: Time,
}

#[derive(Serialize)]
struct Times {
    p50: Time,
    p95: Time,
    p99: Time,
    max: Time,
}

impl From<Percentiles> for Times {
    fn from(p: Percentiles) -> Self {
        Times { p50: Time(p.p50), p95: Time(p.p95), p99: Time(p.p99), max: Time(p.max) }
    }
}

/// The rate part, shared by the whole and each endpoint.
#[derive(Serialize)]
struct Rate {
    traces: u64,
    judged: u64,
    missed: u64,
    undecided: u64,
    miss_rate: Option<f64>,
    /// 95%: Wilson's score interval, or `[0, 1 − 0.05^(1/n)]` when nothing missed.
    interval: Option<Interval>,
    /// The sentence people read: "22 of 400 missed the 3 s deadline: 5.5% (95% CI 3.7–8.2%)".
    text: String,
    response: Option<Times>,
}

impl Rate {
    fn new(summary: &Summary, limit: Nanos) -> Self {
        Rate {
            traces: summary.traces,
            judged: summary.rate.judged,
            missed: summary.rate.missed,
            undecided: summary.undecided,
            miss_rate: summary.rate.rate(),
            interval: summary.rate.interval(),
            text: summary.rate.sentence(limit),
            response: summary.response.map(Times::from),
        }
    }
}

#[derive(Serialize)]
struct Endpoint {
    endpoint: String,
    #[serde(flatten)]
    rate: Rate,
}

/// The `--max-miss-rate` gate.
#[derive(Serialize)]
pub(crate) struct Gate {
    /// The allowed share, from 0 to 1.
    pub(crate) max_miss_rate: f64,
    /// The allowed percentage as given, to be printed back the same way.
    #[serde(skip)]
    max_percent: f64,
    /// Whether the miss rate stayed at or under it.
    pub(crate) passed: bool,
}

impl Gate {
    /// Judges `rate` against `max_percent` (0 to 100). Nothing judged fails the gate: no evidence
    /// is not a pass.
    pub(crate) fn new(rate: MissRate, max_percent: f64) -> Self {
        let passed = rate.judged > 0 && rate.missed as f64 * 100.0 <= max_percent * rate.judged as f64;
        Gate { max_miss_rate: max_percent / 100.0, max_percent, passed }
    }

    /// "the miss rate 4.792% is above the allowed 4.79%": the limit as given, the rate with at
    /// least one decimal more than the limit has, and more while a rate above the limit would
    /// read as the limit (5.04% against 5% is "5.04", not "5.0").
    fn comparison(&self, rate: f64) -> String {
        let allowed = self.max_percent.to_string();
        let mut decimals = allowed.split_once('.').map_or(0, |(_, d)| d.len()) + 1;
        let pct = rate * 100.0;
        while !self.passed && decimals < 6 && format!("{pct:.decimals$}").parse::<f64>() == Ok(self.max_percent) {
            decimals += 1;
        }
        let verb = if self.passed { "is at most" } else { "is above" };
        format!("the miss rate {pct:.decimals$}% {verb} the allowed {allowed}%")
    }
}

/// Where the summed-up traces came from.
pub(crate) enum Origin {
    /// Files: how many, and how many of them could not be read.
    Files(usize, usize),
    /// A back-end's answer (`Jaeger at http://host:16686`).
    Backend(String),
}

/// The whole summary.
#[derive(Serialize)]
pub(crate) struct SummaryReport {
    #[serde(flatten)]
    rate: Rate,
    files: usize,
    unreadable_files: usize,
    /// The back-end, when the traces came from one rather than from files.
    #[serde(skip)]
    backend: Option<String>,
    worst: Option<WorstTrace>,
    by_endpoint: Vec<Endpoint>,
    gate: Option<Gate>,
}

impl SummaryReport {
    /// Sums up judged traces: `samples[i]` is the verdict of `trace(i)`, which came from
    /// `place(i)` (its files, or a back-end); `summary` is [`Summary::of`] the samples.
    pub(crate) fn of<'t>(
        summary: &Summary,
        samples: &[Sample],
        trace: impl Fn(usize) -> &'t Trace,
        place: impl Fn(usize) -> Vec<String>,
        limit: Nanos,
        origin: Origin,
        gate: Option<Gate>,
    ) -> Self {
        let endpoints = by_endpoint((0..samples.len()).map(|i| root_name(trace(i))).zip(samples.iter().copied()));
        let worst = summary.worst.filter(|&i| i < samples.len()).map(|i| WorstTrace {
            trace_id: trace(i).trace_id().to_string(),
            file: place(i).first().cloned().unwrap_or_default(),
            files: place(i),
            root: root_name(trace(i)).to_owned(),
            outcome: samples[i].outcome,
            response: Time(samples[i].response.unwrap_or_default()),
        });
        let ((files, unreadable_files), backend) = match origin {
            Origin::Files(files, unreadable) => ((files, unreadable), None),
            Origin::Backend(name) => ((0, 0), Some(name)),
        };
        SummaryReport {
            rate: Rate::new(summary, limit),
            files,
            unreadable_files,
            backend,
            worst,
            by_endpoint: endpoints
                .iter()
                .map(|e| Endpoint { endpoint: e.endpoint.clone(), rate: Rate::new(&e.summary, limit) })
                .collect(),
            gate,
        }
    }

    /// Writes the summary for people.
    pub(crate) fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let r = &self.rate;
        let unreadable = match self.unreadable_files {
            0 => String::new(),
            n => format!("; {n} could not be read"),
        };
        let traces = counted(r.traces, "trace");
        match &self.backend {
            Some(backend) => writeln!(out, "summary: {traces} from {backend}")?,
            None => writeln!(out, "summary: {traces} from {}{unreadable}", counted(self.files as u64, "file"))?,
        }
        writeln!(out, "  {}", r.text)?;
        if r.undecided > 0 {
            writeln!(out, "  {} trace(s) could not be judged and are not counted", r.undecided)?;
        }
        if let Some(t) = &r.response {
            writeln!(out, "  response time: {}", times_text(t))?;
        }
        if let Some(w) = &self.worst {
            writeln!(
                out,
                "  worst: trace {} {:?} {} ({}) in {}",
                w.trace_id,
                w.root,
                format_duration(w.response.0),
                outcome_word(w.outcome),
                w.files.join(" + ")
            )?;
        }
        if self.by_endpoint.len() > 1 {
            writeln!(out, "  by endpoint:")?;
            for e in &self.by_endpoint {
                writeln!(out, "    {:?}: {}", e.endpoint, e.rate.text)?;
                if let Some(t) = &e.rate.response {
                    writeln!(out, "      response time: {}", times_text(t))?;
                }
            }
        }
        if let Some(gate) = &self.gate {
            match r.miss_rate {
                None => writeln!(out, "  gate: FAIL, no trace was judged, so the miss rate is unknown")?,
                Some(rate) => {
                    let outcome = if gate.passed { "pass" } else { "FAIL" };
                    writeln!(out, "  gate: {outcome}, {}", gate.comparison(rate))?
                }
            }
        }
        Ok(())
    }
}

/// The endpoint a trace answers: its first root span's name.
fn root_name(trace: &Trace) -> &str {
    trace.roots().first().map_or("", |&r| trace.str(trace.span(r).name))
}

fn times_text(t: &Times) -> String {
    format!(
        "p50 {}, p95 {}, p99 {}, max {}",
        format_duration(t.p50.0),
        format_duration(t.p95.0),
        format_duration(t.p99.0),
        format_duration(t.max.0)
    )
}

fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "met",
        Outcome::Miss => "missed",
        Outcome::Undecided => "undecided",
    }
}

/// "1 trace", "2 traces".
fn counted(n: u64, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_fails_only_above_the_allowed_share() {
        let rate = |missed, judged| MissRate { missed, judged };
        assert!(Gate::new(rate(5, 100), 5.0).passed, "exactly the allowed share passes");
        assert!(!Gate::new(rate(6, 100), 5.0).passed);
        assert!(Gate::new(rate(0, 100), 0.0).passed);
        assert!(!Gate::new(rate(1, 100_000), 0.0).passed, "with 0% any miss fails");
        assert!(!Gate::new(rate(0, 0), 100.0).passed, "nothing judged is no evidence");
        assert_eq!(Gate::new(rate(1, 3), 2.5).max_miss_rate, 0.025);
    }

    #[test]
    fn the_gate_prints_the_rate_finer_than_the_limit() {
        let rate = MissRate { missed: 115, judged: 2400 };
        let gate = |max| Gate::new(rate, max).comparison(rate.rate().unwrap());
        assert_eq!(gate(4.79), "the miss rate 4.792% is above the allowed 4.79%");
        assert_eq!(gate(4.8), "the miss rate 4.79% is at most the allowed 4.8%");
        assert_eq!(gate(5.0), "the miss rate 4.8% is at most the allowed 5%");
        let above = MissRate { missed: 126, judged: 2500 };
        let comparison = Gate::new(above, 5.0).comparison(above.rate().unwrap());
        assert_eq!(comparison, "the miss rate 5.04% is above the allowed 5%");
    }
}
