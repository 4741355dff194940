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
use crate::fetch::{self, Backend, Connections, Progress, Request, Target, TokenSource, find_token};
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
    let target = target(args.from, args.url.as_deref(), args.org.as_deref(), args.connection.as_deref(), &args.trace)?;
    let (token, source) = find_token(target.backend, args.connection.as_deref(), |k| std::env::var(k).ok());
    if let TokenSource::None(why) = &source {
        let _ = writeln!(err, "tracedeck: fetching without a token ({why})");
    }
    let request = Request { target, token };
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

/// The target from the command line, with what a saved connection (`--connection NAME`) gives
/// filling in the back-end, base URL and organization not given on it.
pub(super) fn target(
    from: Option<Backend>,
    url: Option<&str>,
    org: Option<&str>,
    connection: Option<&str>,
    trace: &str,
) -> Result<Target, String> {
    let saved = match connection {
        Some(name) => {
            let path = super::connections::file()?;
            match Connections::load(&path)?.get(name) {
                Some(saved) => Some(saved.clone()),
                None if from.is_some() => None,
                None => {
                    return Err(format!("there is no connection called {name:?} in {}; give --from", path.display()));
                }
            }
        }
        None => None,
    };
    let backend = from.or(saved.as_ref().map(|c| c.backend)).ok_or("give the back-end with --from")?;
    let saved = saved.filter(|c| c.backend == backend);
    Ok(Target {
        backend,
        base: url.map(str::to_owned).or_else(|| saved.as_ref().map(|c| c.base.clone())),
        org: org.map(str::to_owned).or_else(|| saved.and_then(|c| c.org)),
        trace: trace.to_owned(),
    })
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
