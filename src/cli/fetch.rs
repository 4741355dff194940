//! `tracedeck fetch`: fetch one trace from a back-end, then save it or summarize it.
//!
//! With `-o FILE` the answer is saved byte for byte as the back-end sent it (for Sentry, with
//! the trace id added; see [`crate::fetch::Fetched::body`]): nothing the back-end said is lost
//! and every tracedeck command reads it back. An existing file is never replaced without
//! `--force`. Without `-o`, one line per trace says what came back, judged like `check` does.

use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use super::{FetchArgs, Status};
use crate::analysis::analyze;
use crate::fetch::{self, Progress, Request, Target, TokenSource, find_token};
use crate::model::format_duration;

/// Runs `fetch`; messages to `out` and `err`.
pub fn fetch(args: &FetchArgs, out: &mut dyn Write, err: &mut dyn Write) -> Status {
    match run(args, out, err) {
        Ok(()) => Status::Met,
        Err(message) => {
            let _ = writeln!(err, "tracedeck: {message}");
            Status::BadInput
        }
    }
}

fn run(args: &FetchArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), String> {
    if let Some(path) = &args.output
        && path.exists()
        && !args.force
    {
        return Err(format!("{} exists; pass --force to replace it", path.display()));
    }
    let (token, source) = find_token(args.from, args.connection.as_deref(), |k| std::env::var(k).ok());
    if let TokenSource::None(why) = &source {
        let _ = writeln!(err, "tracedeck: fetching without a token ({why})");
    }
    let request = Request {
        target: Target { backend: args.from, base: args.url.clone(), org: args.org.clone(), trace: args.trace.clone() },
        token,
    };
    let config = fetch::Config {
        timeout: Duration::from_nanos(args.timeout.unsigned_abs()),
        retries: args.retries,
        ..fetch::Config::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the network runtime: {e}"))?;
    let notes = std::sync::Mutex::new(Vec::new());
    let fetched = runtime
        .block_on(fetch::fetch(&request, &config, &|progress| {
            if matches!(progress, Progress::Retrying { .. } | Progress::Step { .. }) {
                notes.lock().unwrap_or_else(|e| e.into_inner()).push(progress.to_string());
            }
        }))
        .map_err(|e| e.message)?;
    for note in notes.into_inner().unwrap_or_else(|e| e.into_inner()) {
        let _ = writeln!(err, "tracedeck: {note}");
    }
    match &args.output {
        Some(path) => {
            save(path, &fetched.body, args.force).map_err(|e| format!("{}: cannot write: {e}", path.display()))?
        }
        None => {
            for trace in &fetched.traces {
                let verdict = analyze(trace, &args.profile);
                writeln!(
                    out,
                    "{}: {} spans over {}; {}",
                    fetched.source,
                    trace.len(),
                    format_duration(trace.duration()),
                    verdict.headline()
                )
                .map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

/// Writes `bytes` to a new file, or over an existing one only when `force`.
fn save(path: &Path, bytes: &[u8], force: bool) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
