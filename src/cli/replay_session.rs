//! `tracedeck replay --session`: a live replay session on a terminal. The mock stays up while
//! the developer changes code and restarts the app; Enter replays a round, `r N` sets the runs,
//! `q` (or Ctrl-C, or end of input) quits. Each round prints its report and a one-line headline;
//! the session ends with every round's headline, one under the other, to compare them.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Status;
use super::replay_args::{ReplayArgs, status_of};
use crate::analysis::format_limit;
use crate::model::{Nanos, format_duration};
use crate::replay::capture::Capture;
use crate::replay::driver::ReplayConfig;
use crate::replay::mock::MockSlack;
use crate::replay::readiness;
use crate::replay::report::{Report, ReportFormat};
use crate::replay::session::Session;

/// Refuses a session without a terminal to read commands from, or with a machine report format.
pub(super) fn check_terminal(report: ReportFormat) -> Result<(), String> {
    if !std::io::stdin().is_terminal() {
        return Err("--session reads its commands from a terminal, and stdin is not one; \
                    in a script, replay with --runs N (and --wait-for-target)"
            .to_owned());
    }
    if report != ReportFormat::Text {
        return Err("--session prints text; --report json and junit are for a single replay".to_owned());
    }
    Ok(())
}

/// Waits (at most `limit`) for the target to accept connections, saying so when it does not yet.
pub(super) async fn wait_for_target(
    target: &Url,
    limit: Duration,
    cancel: &CancellationToken,
    err: &mut dyn Write,
) -> Result<(), String> {
    if readiness::accepts(target).await.is_ok() {
        return Ok(());
    }
    let _ = writeln!(
        err,
        "tracedeck: waiting up to {} for the app at {target} to accept connections",
        format_limit(limit.as_nanos() as Nanos)
    );
    let waited = readiness::wait_for_target(target, limit, cancel).await?;
    let waited = format_duration(waited.as_nanos() as Nanos);
    let _ = writeln!(err, "tracedeck: the app accepts connections (after {waited}); replaying");
    Ok(())
}

/// A line typed in the session.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Replay,
    Runs(usize),
    Quit,
}

fn parse(line: &str) -> Result<Command, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        [] => Ok(Command::Replay),
        ["q" | "quit"] => Ok(Command::Quit),
        ["r" | "runs", n] => match n.parse::<usize>() {
            Ok(n @ 1..=100_000) => Ok(Command::Runs(n)),
            _ => Err(format!("{n:?} is not a number of runs from 1 to 100000")),
        },
        _ => Err(format!("{line:?} is not a command")),
    }
}

fn help(out: &mut dyn Write, runs: usize) {
    let _ =
        writeln!(out, "session: Enter replays ({runs} run(s) of each interaction), \"r N\" sets the runs, \"q\" quits");
}

/// Runs the session on the terminal until `q`; the status is the last round's (0 without one).
pub(super) async fn run(
    args: &ReplayArgs,
    mock: Arc<MockSlack>,
    capture: Arc<Capture>,
    mut config: ReplayConfig,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Status, String> {
    let (tx, mut lines) = mpsc::unbounded_channel();
    // Reading a terminal blocks; the thread ends with the input (or the process).
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let file = args.capture_name();
    let mock_url = mock.api_url();
    let mut session = Session::new(mock);
    let mut status = Status::Met;
    help(out, config.runs);
    loop {
        let _ = write!(out, "> ");
        let _ = out.flush();
        let line = tokio::select! {
            line = lines.recv() => line,
            _ = tokio::signal::ctrl_c() => None,
        };
        let Some(Ok(line)) = line else {
            let _ = writeln!(out);
            break;
        };
        match parse(&line) {
            Ok(Command::Quit) => break,
            Ok(Command::Runs(n)) => {
                config.runs = n;
                help(out, n);
            }
            Err(message) => {
                let _ = writeln!(out, "{message}");
                help(out, config.runs);
            }
            Ok(Command::Replay) => {
                let cancel = CancellationToken::new();
                let stop = cancel.clone();
                let interrupt = tokio::spawn(async move {
                    if tokio::signal::ctrl_c().await.is_ok() {
                        stop.cancel();
                    }
                });
                let waited = match args.wait_limit() {
                    Some(limit) => wait_for_target(&config.target, limit, &cancel, err).await,
                    None => Ok(()),
                };
                let round = match waited {
                    Ok(()) => {
                        let round = Arc::new(config.clone());
                        session.round(capture.clone(), round, args.warmup as usize, None, cancel).await.map(Some)
                    }
                    Err(message) => {
                        let _ = writeln!(err, "tracedeck: {message}");
                        Ok(None)
                    }
                };
                interrupt.abort();
                let Some((round, results)) = round? else { continue };
                if round.warmed_up > 0 {
                    let _ = writeln!(err, "tracedeck: {} warm-up run(s) went first, not judged", round.warmed_up);
                }
                let report = Report {
                    capture: &file,
                    target: args.target.as_deref().unwrap_or_default(),
                    mock: &mock_url,
                    profile: &config.profile,
                    results: &results,
                    max_failure_rate: args.max_failure_rate,
                    notes: &round.notes,
                    injected: args.injected(),
                };
                report.write(ReportFormat::Text, out).map_err(|e| format!("cannot write the results: {e}"))?;
                let _ = writeln!(out, "{}", round.headline());
                status = status_of(&report, err);
            }
        }
    }
    let _ = writeln!(out, "session over after {} round(s):", session.rounds().len());
    for round in session.rounds() {
        let _ = writeln!(out, "  {}", round.headline());
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_and_bad_ones_say_why() {
        assert_eq!(parse(""), Ok(Command::Replay));
        assert_eq!(parse("  "), Ok(Command::Replay));
        assert_eq!(parse("r 5"), Ok(Command::Runs(5)));
        assert_eq!(parse("runs 100000"), Ok(Command::Runs(100_000)));
        assert_eq!(parse("q"), Ok(Command::Quit));
        assert!(parse("r 0").unwrap_err().contains("not a number of runs"));
        assert!(parse("r x").unwrap_err().contains("not a number of runs"));
        assert!(parse("go").unwrap_err().contains("not a command"));
    }
}
