//! `tracedeck search`: find a service's traces in Jaeger, Tempo or Zipkin, print each one's
//! verdict as it arrives (the line `fetch` prints), then the summary `check --summary` prints.
//! With `--stats` the back-end counts first (see [`super::stats`]).
//!
//! With `-o FILE` every trace found is saved as one OTLP JSON document (the answers of the
//! back-ends differ, and Tempo's come one per trace; one format reads back the same everywhere).
//! An existing file is never replaced without `--force`, and nothing is written when nothing was
//! found. Finding nothing is not an error: it is said, and the exit status is 0 (or 1 with
//! `--max-miss-rate`, whose gate needs evidence).

use std::io::{self, Write};

use super::fetch::{Endpoint, Notes, refuse_to_replace, runtime};
use super::judged::Judged;
use super::{Format, SearchArgs, Status};
use crate::analysis::{Gate, Outcome, Summary};
use crate::fetch::{self, Backend, Fetched, Search, Searched};
use crate::model::std_duration;

/// Runs `search`; verdicts and the summary to `out`, notes and problems to `err`.
pub fn search(args: &SearchArgs, out: &mut dyn Write, err: &mut dyn Write) -> Status {
    match run(args, out, err) {
        Ok(status) => status,
        Err(message) => {
            let _ = writeln!(err, "tracedeck: {message}");
            Status::BadInput
        }
    }
}

impl SearchArgs {
    /// The search these arguments ask for at `endpoint`; `now` ends it unless `--end` is given.
    pub(super) fn query(&self, endpoint: &Endpoint, now: jiff::Timestamp) -> Result<Search, String> {
        let end = self.end.unwrap_or(now);
        let start = match self.start {
            Some(start) => start,
            None => {
                end.checked_sub(std_duration(self.since)).map_err(|e| format!("--since reaches too far back: {e}"))?
            }
        };
        let sentry_io = (endpoint.backend == Backend::Sentry).then(|| "https://sentry.io".to_owned());
        Ok(Search {
            backend: endpoint.backend,
            base: endpoint.base.clone().or(sentry_io).ok_or("give the back-end's base URL with --url")?,
            service: self.service.clone(),
            operation: self.operation.clone(),
            start,
            end,
            min_duration: self.min_duration.map(std_duration),
            limit: self.limit as usize,
        })
    }
}

fn run(args: &SearchArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<Status, String> {
    refuse_to_replace(args.remote.output.as_deref(), args.remote.force)?;
    let endpoint = args.remote.network.endpoint(args.org.as_deref())?;
    let fallback = match (args.stats, fetch::has_aggregates(endpoint.backend)) {
        (true, true) => return super::stats::run(args, &endpoint, out, err),
        (true, false) => {
            let note = super::stats::no_aggregates(endpoint.backend, args.step.is_some());
            let _ = writeln!(err, "tracedeck: {note}");
            Some(note)
        }
        (false, _) => None,
    };
    let query = args.query(&endpoint, jiff::Timestamp::now())?;
    query.check().map_err(|e| e.message)?;
    let token = endpoint.token(&query.base, err);
    let json = args.format == Some(Format::Json);
    let notes = Notes::default();
    let mut judged = Judged::default();
    let mut sink = io::sink();
    let verdicts: &mut dyn Write = if json { &mut sink } else { &mut *out };
    let on_found = |fetched: Fetched| {
        notes.write(err);
        judged.take(fetched, verdicts, &args.remote.profile);
    };
    let result = runtime()?.block_on(fetch::search(
        &query,
        token.as_ref(),
        &args.remote.network.config(),
        &|progress| notes.keep(&progress),
        on_found,
    ));
    notes.write(err);
    judged.written()?;
    let searched: Searched = result.map_err(|e| e.message)?;
    let _ = writeln!(err, "tracedeck: {}", searched.message);
    if searched.traces == 0 && searched.gone > 0 {
        return Err(format!("nothing was judged: every trace {} listed was gone when fetched", searched.source));
    }

    let samples = judged.samples();
    let summary = Summary::of(samples.iter().copied());
    let gate = args.max_miss_rate.map(|max| Gate::new(summary.rate, max));
    let undecided = samples.iter().any(|s| s.outcome == Outcome::Undecided);
    let status = match (samples.len(), &gate) {
        (0, Some(_)) => Status::Missed,
        (0, None) => Status::Met,
        _ => Status::of(summary.rate, gate.as_ref(), undecided, args.keep_going),
    };
    let report = judged.report(&summary, &searched.source, args.remote.profile.limit, gate);
    let written = match fallback {
        Some(note) if json => super::stats::write_fallback_json(out, note, &report),
        _ => report.write_text(out),
    };
    written.map_err(|e| format!("cannot write the results: {e}"))?;
    if let Some(path) = &args.remote.output {
        judged.save(path, args.remote.force, err)?;
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use std::time::Duration;

    use super::*;
    use crate::cli::{Cli, Command};

    fn args(extra: &[&str]) -> SearchArgs {
        let base = ["tracedeck", "search", "--from", "tempo", "--url", "http://t:3200", "--service", "api"];
        match Cli::try_parse_from(base.iter().chain(extra)).unwrap().command {
            Some(Command::Search(args)) => args,
            other => panic!("expected search, got {other:?}"),
        }
    }

    fn time(text: &str) -> jiff::Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn the_time_range_ends_now_or_at_end_and_reaches_back_since_or_to_start() {
        let now = time("2026-05-01T12:00:00Z");
        let range = |extra: &[&str]| {
            let args = args(extra);
            let query = args.query(&args.remote.network.endpoint(None).unwrap(), now).unwrap();
            (query.start.to_string(), query.end.to_string())
        };
        assert_eq!(range(&[]), ("2026-05-01T11:00:00Z".into(), "2026-05-01T12:00:00Z".into()), "the last hour");
        assert_eq!(range(&["--since", "90m"]).0, "2026-05-01T10:30:00Z");
        assert_eq!(range(&["--since", "24h"]).0, "2026-04-30T12:00:00Z");
        let until = range(&["--end", "2026-05-01T08:00:00+02:00"]);
        assert_eq!(until, ("2026-05-01T05:00:00Z".into(), "2026-05-01T06:00:00Z".into()));
        assert_eq!(range(&["--start", "2026-04-01T00:00:00Z"]).0, "2026-04-01T00:00:00Z");

        let args = args(&["--operation", "POST /x", "--min-duration", "1.5s", "--limit", "7"]);
        let query = args.query(&args.remote.network.endpoint(None).unwrap(), now).unwrap();
        assert_eq!(query.operation.as_deref(), Some("POST /x"));
        assert_eq!((query.min_duration, query.limit), (Some(Duration::from_millis(1500)), 7));
        assert_eq!((query.backend, query.service.as_str()), (crate::fetch::Backend::Tempo, "api"));
    }
}
