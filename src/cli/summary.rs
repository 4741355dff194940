//! What `check --summary` prints after the verdicts: how many traces missed, the miss rate with
//! its 95% interval, response-time percentiles, the worst trace and its file, the same per
//! endpoint, and the `--max-miss-rate` gate's decision.
//!
//! JSON field names are a contract for scripts, like the rest of `check`'s JSON: rates are
//! shares from 0 to 1, times are `{ms, ns}`.

use std::io::{self, Write};

use serde::Serialize;

use super::time::Time;
use crate::analysis::{Gate, Interval, Outcome, Percentiles, Sample, Summary, by_endpoint};
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

/// The `--max-miss-rate` gate as `check`'s JSON has it: `{max_miss_rate, passed}`.
pub(crate) fn gate_json<S: serde::Serializer>(gate: &Option<Gate>, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Json {
        max_miss_rate: f64,
        passed: bool,
    }
    gate.as_ref().map(|g| Json { max_miss_rate: g.max_share, passed: g.passed }).serialize(s)
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
    #[serde(serialize_with = "gate_json")]
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
