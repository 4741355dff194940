//! `tracedeck search --stats`: the miss rate over all traffic, computed by the back-end that
//! holds the traces (Sentry's Discover, Tempo's TraceQL metrics) and printed in `check
//! --summary`'s shape with its interval; then the slowest traces, fetched and judged here with
//! every rule of the profile; then how the two differ. `--max-miss-rate` gates on the server's
//! figure, which also sets the exit status.
//!
//! The server counts one rule, the ack deadline: a root span (Sentry: a transaction) longer
//! than the profile's limit. Rules that need the span structure (the trigger's expiry) are only
//! judged here, on the traces fetched; the output says which figure came from where.

use std::io::{self, Write};

use serde::Serialize;

use super::fetch::{Endpoint, Notes, runtime};
use super::judged::Judged;
use super::summary::{SummaryReport, gate_json};
use super::time::Time;
use super::{Format, SearchArgs, Status};
use crate::analysis::{Gate, Interval, MissRate, Summary, format_limit};
use crate::fetch::{self, Backend, Figures, Search, ServerStats, StatsQuery};
use crate::model::{Nanos, Trace, format_duration, std_duration};

/// What a back-end without aggregates makes of `--stats`.
pub(super) fn no_aggregates(backend: Backend, step: bool) -> String {
    let trend = if step { " (and no trend per --step)" } else { "" };
    format!(
        "{} keeps no aggregates, so it cannot count misses over all traffic{trend}: falling back to the search, \
         whose traces are judged here",
        backend.name()
    )
}

/// Runs `search --stats` on a back-end with aggregates.
pub(super) fn run(
    args: &SearchArgs,
    endpoint: &Endpoint,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Status, String> {
    let search = Search { min_duration: None, ..args.query(endpoint, jiff::Timestamp::now())? };
    let query = StatsQuery {
        search,
        org: endpoint.org.clone(),
        deadline: args.remote.profile.limit,
        step: args.step.map(std_duration),
        by_endpoint: args.by_endpoint,
    };
    query.check().map_err(|e| e.message)?;
    let token = endpoint.token(&query.search.base, err);
    let config = args.remote.network.config();
    let runtime = runtime()?;
    let notes = Notes::default();
    let server = runtime.block_on(fetch::stats(&query, token.as_ref(), &config, &|p| notes.keep(&p)));
    notes.write(err);
    let server = server.map_err(|e| e.message)?;
    let rate = MissRate { missed: server.whole.missed, judged: server.whole.roots };
    let gate = args.max_miss_rate.map(|max| Gate::new(rate, max));
    let json = args.format == Some(Format::Json);
    if !json {
        write_server(out, &query, &server).map_err(write_error)?;
    }

    // The slowest: Tempo lists roots of at least the server's p99 (or the deadline, when shorter).
    let shortest = server.whole.p99.map(|p99| p99.min(query.deadline)).filter(|&t| t > 0);
    let slow = StatsQuery {
        search: Search { min_duration: shortest.map(std_duration), ..query.search.clone() },
        ..query.clone()
    };
    let mut judged = Judged::default();
    let mut sink = io::sink();
    let verdicts: &mut dyn Write = if json { &mut sink } else { &mut *out };
    let result = runtime.block_on(fetch::slowest(&slow, token.as_ref(), &config, &|p| notes.keep(&p), |fetched| {
        notes.write(err);
        judged.take(fetched, verdicts, &args.remote.profile);
    }));
    notes.write(err);
    judged.written()?;
    let searched = result.map_err(|e| e.message)?;
    let _ = writeln!(err, "tracedeck: {}", searched.message);

    let samples = judged.samples();
    let summary = Summary::of(samples.iter().copied());
    let here = judged.report(&summary, &searched.source, args.remote.profile.limit, None);
    let traces: Vec<&Trace> = judged.found.iter().map(|(trace, _)| trace).collect();
    let comparison = Comparison::of(&traces, &samples, query.deadline);
    let status = match (rate.judged, &gate) {
        (0, Some(_)) => Status::Missed,
        (0, None) => Status::Met,
        _ => Status::of(rate, gate.as_ref(), false, args.keep_going),
    };
    if json {
        let document = Document {
            server: Some(ServerJson::of(&query, &server)),
            fallback: None,
            here: &here,
            comparison: Some(comparison),
            gate,
        };
        write_json(out, &document)
    } else {
        here.write_text(out)
            .and_then(|()| comparison.write_text(out, &args.remote.profile.name, &server, query.deadline))
            .and_then(|()| write_gate(out, gate.as_ref(), rate))
    }
    .map_err(write_error)?;
    if let Some(path) = &args.remote.output {
        judged.save(path, args.remote.force, err)?;
    }
    Ok(status)
}

fn write_error(e: io::Error) -> String {
    format!("cannot write the results: {e}")
}

/// "no root" for an empty bucket, else the summary's sentence.
fn sentence(figures: MissRate, limit: Nanos) -> String {
    match figures.judged {
        0 => "no root spans".to_owned(),
        _ => figures.sentence(limit),
    }
}

fn rate_of(figures: &Figures) -> MissRate {
    MissRate { missed: figures.missed, judged: figures.roots }
}

fn write_server(out: &mut dyn Write, query: &StatsQuery, server: &ServerStats) -> io::Result<()> {
    let limit = query.deadline;
    let name = query.search.backend.name();
    writeln!(out, "server: {}, computed by {name} over {}", sentence(rate_of(&server.whole), limit), query.window())?;
    let rule = format!("a root over {} misses the ack deadline", format_limit(limit));
    writeln!(out, "  counted: {} in {}; {rule}", query.describe(), server.source)?;
    if let Some(times) = percentiles_text(&server.whole) {
        writeln!(out, "  root duration ({name}'s estimate): {times}")?;
    }
    if !server.endpoints.is_empty() {
        writeln!(out, "  by endpoint:")?;
        for (endpoint, figures) in &server.endpoints {
            writeln!(out, "    {endpoint:?}: {}", sentence(rate_of(figures), limit))?;
        }
    }
    for note in &server.notes {
        writeln!(out, "  note: {note}")?;
    }
    if let Some(step) = query.step {
        writeln!(out, "trend per {}, computed by {name}:", fetch::step_text(step))?;
        for bucket in &server.trend {
            let rate = MissRate { missed: bucket.missed, judged: bucket.roots };
            writeln!(out, "  {}  {}", bucket.start.strftime("%Y-%m-%dT%H:%M:%SZ"), sentence(rate, limit))?;
        }
        if server.trend.is_empty() {
            writeln!(out, "  no buckets: {name} found no root spans in the range")?;
        }
    }
    Ok(())
}

fn percentiles_text(figures: &Figures) -> Option<String> {
    let parts: Vec<String> = [("p50", figures.p50), ("p95", figures.p95), ("p99", figures.p99)]
        .into_iter()
        .filter_map(|(name, time)| time.map(|t| format!("{name} {}", format_duration(t))))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn write_gate(out: &mut dyn Write, gate: Option<&Gate>, rate: MissRate) -> io::Result<()> {
    match (gate, rate.rate()) {
        (None, _) => Ok(()),
        (Some(_), None) => writeln!(out, "gate: FAIL, the server counted no root spans, so the miss rate is unknown"),
        (Some(gate), Some(share)) => {
            let outcome = if gate.passed { "pass" } else { "FAIL" };
            writeln!(out, "gate: {outcome}, {} (the server's figure)", gate.comparison(share))
        }
    }
}

/// How the slowest traces, judged here, stand against the server's rule.
#[derive(Serialize)]
struct Comparison {
    /// Traces judged here.
    traces: usize,
    /// Of those, how many had a root longer than the deadline: what the server counts.
    root_over_deadline: usize,
    /// How many missed here, by every rule of the profile.
    missed_here: usize,
    /// Missed here although the root was within the deadline: a rule the server cannot judge.
    missed_here_only: usize,
    /// A root over the deadline, yet every rule met here (work after an on-time ack).
    counted_by_server_only: usize,
}

impl Comparison {
    fn of(traces: &[&Trace], samples: &[crate::analysis::Sample], deadline: Nanos) -> Self {
        let mut c = Comparison {
            traces: traces.len(),
            root_over_deadline: 0,
            missed_here: 0,
            missed_here_only: 0,
            counted_by_server_only: 0,
        };
        for (trace, sample) in traces.iter().zip(samples) {
            let over = trace.roots().first().is_some_and(|&r| trace.span(r).duration() > deadline);
            let missed = sample.outcome == crate::analysis::Outcome::Miss;
            let met = sample.outcome == crate::analysis::Outcome::Pass;
            c.root_over_deadline += usize::from(over);
            c.missed_here += usize::from(missed);
            c.missed_here_only += usize::from(missed && !over);
            c.counted_by_server_only += usize::from(over && met);
        }
        c
    }

    fn write_text(&self, out: &mut dyn Write, profile: &str, server: &ServerStats, deadline: Nanos) -> io::Result<()> {
        let limit = format_limit(deadline);
        if self.traces == 0 {
            return writeln!(
                out,
                "server vs here: the server judged the ack rule (a root over {limit}) over {} root spans; no trace \
                 was fetched to judge here",
                server.whole.roots
            );
        }
        writeln!(
            out,
            "server vs here: the server judged the ack rule (a root over {limit}) over {} root spans; here every rule of \
             the {profile} profile was judged over the {} slowest traces",
            server.whole.roots, self.traces
        )?;
        writeln!(
            out,
            "  of those {}: {} had a root over {limit} (what the server counts), {} missed here; {} missed here by a \
             rule the server cannot judge; {} the server counts met every rule here",
            self.traces, self.root_over_deadline, self.missed_here, self.missed_here_only, self.counted_by_server_only
        )
    }
}

/// The rate part of the server's JSON, for the whole, an endpoint and a bucket.
#[derive(Serialize)]
struct RateJson {
    roots: u64,
    missed: u64,
    miss_rate: Option<f64>,
    /// 95%: Wilson's score interval, or `[0, 1 − 0.05^(1/n)]` when nothing missed.
    interval: Option<Interval>,
    text: String,
}

impl RateJson {
    fn of(roots: u64, missed: u64, limit: Nanos) -> Self {
        let rate = MissRate { missed, judged: roots };
        RateJson { roots, missed, miss_rate: rate.rate(), interval: rate.interval(), text: sentence(rate, limit) }
    }
}

#[derive(Serialize)]
struct EndpointJson {
    endpoint: String,
    #[serde(flatten)]
    rate: RateJson,
}

#[derive(Serialize)]
struct BucketJson {
    start: String,
    #[serde(flatten)]
    rate: RateJson,
}

#[derive(Serialize)]
struct PercentilesJson {
    p50: Option<Time>,
    p95: Option<Time>,
    p99: Option<Time>,
}

#[derive(Serialize)]
struct ServerJson {
    backend: Backend,
    source: String,
    start: String,
    end: String,
    deadline: Time,
    counted: String,
    #[serde(flatten)]
    rate: RateJson,
    root_duration: PercentilesJson,
    by_endpoint: Vec<EndpointJson>,
    step: Option<Time>,
    trend: Vec<BucketJson>,
    notes: Vec<String>,
    /// Every request sent, to repeat by hand.
    queries: Vec<String>,
}

impl ServerJson {
    fn of(query: &StatsQuery, server: &ServerStats) -> Self {
        let limit = query.deadline;
        let time = |t: jiff::Timestamp| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let whole = &server.whole;
        ServerJson {
            backend: query.search.backend,
            source: server.source.clone(),
            start: time(query.search.start),
            end: time(query.search.end),
            deadline: Time(limit),
            counted: query.describe(),
            rate: RateJson::of(whole.roots, whole.missed, limit),
            root_duration: PercentilesJson {
                p50: whole.p50.map(Time),
                p95: whole.p95.map(Time),
                p99: whole.p99.map(Time),
            },
            by_endpoint: server
                .endpoints
                .iter()
                .map(|(endpoint, f)| EndpointJson {
                    endpoint: endpoint.clone(),
                    rate: RateJson::of(f.roots, f.missed, limit),
                })
                .collect(),
            step: query.step.map(|s| Time(s.as_nanos() as Nanos)),
            trend: server
                .trend
                .iter()
                .map(|b| BucketJson { start: time(b.start), rate: RateJson::of(b.roots, b.missed, limit) })
                .collect(),
            notes: server.notes.clone(),
            queries: server.queries.clone(),
        }
    }
}

/// The JSON document of `search --stats --format json`.
#[derive(Serialize)]
struct Document<'a> {
    /// The server's figures; null when the back-end keeps no aggregates.
    server: Option<ServerJson>,
    /// Why there are no server figures.
    #[serde(skip_serializing_if = "Option::is_none")]
    fallback: Option<String>,
    /// The traces judged here.
    here: &'a SummaryReport,
    comparison: Option<Comparison>,
    /// `--max-miss-rate` on the server's figure.
    #[serde(serialize_with = "gate_json")]
    gate: Option<Gate>,
}

fn write_json(out: &mut dyn Write, document: &Document) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, document)?;
    writeln!(out)
}

/// The JSON document when the back-end keeps no aggregates: no server figures, and why; the
/// search's traces judged here, with their own gate.
pub(super) fn write_fallback_json(out: &mut dyn Write, fallback: String, here: &SummaryReport) -> io::Result<()> {
    write_json(out, &Document { server: None, fallback: Some(fallback), here, comparison: None, gate: None })
}
