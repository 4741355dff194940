//! The command line: argument definitions and the headless commands.
//!
//! `tracedeck [FILE]... [--span ID]` opens the window (the default command);
//! `tracedeck check FILE...` judges traces against a deadline without one, for CI;
//! `tracedeck fetch` and `tracedeck search` get traces from where they are stored;
//! `tracedeck convert` writes trace files in another format. Every
//! behaviour lives in the library so it can be tested without the binary; `main.rs` only parses
//! the arguments and calls [`run`].

mod check;
mod connections;
mod convert;
mod fetch;
mod judged;
mod receive;
mod replay;
mod replay_args;
mod replay_margin;
mod replay_session;
mod report;
mod search;
mod socket_mode;
mod stats;
mod summary;
mod time;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use check::{Status, check, check_with_progress};
pub use connections::connections;
pub use convert::convert;
pub use fetch::fetch;
pub use receive::{ReceiveArgs, receive};
pub use replay::{CaptureArgs, capture, replay};
pub use replay_args::ReplayArgs;
pub use search::search;

use crate::analysis::{Profile, Rule};
use crate::corpus::Progress;
use crate::model::{Nanos, SpanId, parse_duration};

/// tracedeck: see why a webhook missed its deadline, replay it, prove the fix.
#[derive(Parser, Debug)]
#[command(name = "tracedeck", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// A headless command; without one, tracedeck opens its window.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Trace files to open in the window.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Select the span with this hex id when the window opens.
    #[arg(long, value_name = "ID", value_parser = SpanId::from_hex)]
    pub span: Option<SpanId>,
    /// The window's deadline profile (default: the one chosen last) and its limit.
    #[command(flatten)]
    pub deadline: DeadlineArgs,
}

/// `--profile NAME` and `--deadline DURATION`: the deadline the window and `replay` judge by.
#[derive(Args, Debug, Default)]
pub struct DeadlineArgs {
    /// The deadline profile: slack, discord, zoom, teams, github, twilio, google-chat (default:
    /// the window's last choice, slack for replay).
    #[arg(long, value_name = "NAME", value_parser = parse_profile)]
    pub profile: Option<Profile>,
    /// Override the profile's time limit: 2s, 2500ms.
    #[arg(long, value_name = "DURATION", value_parser = parse_positive_duration)]
    pub deadline: Option<Nanos>,
}

impl DeadlineArgs {
    /// The profile with `--deadline` applied; `None` when neither flag was given.
    pub fn given(&self) -> Option<Profile> {
        match (&self.profile, self.deadline) {
            (None, None) => None,
            (profile, deadline) => {
                let profile = profile.clone().unwrap_or_else(Profile::default_profile);
                Some(match deadline {
                    Some(limit) => profile.with_limit(limit),
                    None => profile,
                })
            }
        }
    }

    /// The profile with `--deadline` applied, Slack's when no profile was named.
    pub fn or_default(&self) -> Profile {
        self.given().unwrap_or_else(Profile::default_profile)
    }
}

/// The headless commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Judge traces against a platform's deadline. Exit status: 0 when every trace met it,
    /// 1 when any missed it (with --max-miss-rate: when more than that share missed), 2 when a
    /// file could not be read or a trace could not be judged (unless --keep-going), or when no
    /// trace at all could be judged.
    Check(CheckArgs),
    /// Fetch a trace by id (or by its URL) from Sentry, Jaeger, Tempo or Zipkin; save it with
    /// -o, or print one line per trace. Tokens come from TRACEDECK_TOKEN_<NAME>,
    /// SENTRY_AUTH_TOKEN or the OS keychain, never from the command line.
    Fetch(FetchArgs),
    /// List, add or remove saved connections (back-end, base URL, organization; never tokens),
    /// which `fetch --connection NAME` and the window's Fetch dialog use. The file is
    /// TRACEDECK_CONNECTIONS or tracedeck/connections.json in the user's config folder.
    Connections(ConnectionsArgs),
    /// Search Jaeger, Tempo or Zipkin for a service's traces; print each one's verdict as it
    /// arrives, then the summary `check --summary` prints; save them all with -o (OTLP JSON).
    /// With --stats (Sentry, Tempo) the back-end first counts the misses over all its traffic;
    /// then the exit status follows its figure.
    /// Exit status: 0 when none missed the deadline (also when none was found), 1 when any
    /// missed it (with --max-miss-rate: when more than that share missed), 2 on bad input, a
    /// failed search, or a trace that could not be judged (unless --keep-going).
    Search(SearchArgs),
    /// Replay a captured Slack interaction against an app on this machine, acting as Slack's Web
    /// API for it. Exit status: 0 when every run passed, 1 when any failed, 2 on bad input, a
    /// target that never answered, or one that did not listen within --wait-for-target. Reads
    /// SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN.
    Replay(ReplayArgs),
    /// Make a capture file from a raw HTTP request dump or a Slack payload JSON document.
    Capture(CaptureArgs),
    /// Write the traces of trace files (any format tracedeck reads) in another format, so a
    /// trace from one tool opens in another. Prints what the import warned about. Exit status:
    /// 0 when written, 2 when an input could not be read or the output exists (without --force).
    Convert(ConvertArgs),
    /// Receive spans from apps on this machine without a window: OTLP/HTTP, and Sentry SDKs
    /// (through a DSN or Spotlight). Prints each trace's verdict once it has had no new spans for
    /// --idle; stops after --max-traces, --for or Ctrl-C; saves every trace with -o. Exit status:
    /// 0 when none missed the deadline, 1 when any did, 2 when a listener could not start, a
    /// body was refused, a trace could not be judged, or nothing arrived.
    Receive(ReceiveArgs),
}

/// Arguments of `tracedeck convert`.
#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// Trace files or folders (as `check` takes them); traces found in several files are joined.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub files: Vec<PathBuf>,
    /// Where to write.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// The format to write; without it, the output's name says (`.otlp.json`, `.jaeger.json`,
    /// `.zipkin.json`, `.chrome.json`, `.sentry.json`, `.tracedeck.json`).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub to: Option<crate::formats::Format>,
    /// Replace OUT if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `tracedeck fetch`.
#[derive(Args, Debug)]
#[command(
    mut_arg("output", |a| a.help("Save the answer, as the back-end sent it, to this file")),
    mut_arg("profile", |a| a.help("The platform whose deadline the summary line judges against")),
)]
pub struct FetchArgs {
    /// Sentry organization slug (optional when TRACE is a Sentry URL that names it).
    #[arg(long, value_name = "ORG")]
    pub org: Option<String>,
    /// The trace id, or a trace's URL (a Sentry trace or event page, a Jaeger or Zipkin trace page).
    #[arg(value_name = "TRACE_ID_OR_URL")]
    pub trace: String,
    /// The back-end, where to save, and the deadline.
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// What `fetch` and `search` share: where to save what came back, how to reach the back-end,
/// and the deadline profile to judge it by (each command words the help of `-o` and
/// `--profile` for itself).
#[derive(Args, Debug)]
pub struct RemoteArgs {
    /// Save what came back to this file.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
    /// How to reach the back-end.
    #[command(flatten)]
    pub network: NetworkArgs,
    /// The platform whose deadline the traces are judged against.
    #[arg(long, value_name = "NAME", default_value = Profile::DEFAULT, value_parser = parse_profile)]
    pub profile: Profile,
}

/// How `fetch` and `search` reach a back-end.
#[derive(Args, Debug)]
pub struct NetworkArgs {
    /// The back-end (optional with --connection naming a saved connection; Sentry is fetched
    /// from, not searched).
    #[arg(long, value_enum, value_name = "BACKEND", required_unless_present = "connection")]
    pub from: Option<crate::fetch::Backend>,
    /// Its base URL (http://localhost:16686, http://localhost:3200, http://localhost:9411,
    /// https://sentry.example.com); optional with --connection, for sentry.io, and when
    /// fetching by a trace's URL.
    #[arg(long, value_name = "BASE")]
    pub url: Option<String>,
    /// A saved connection (see `tracedeck connections`) giving the back-end, base URL and
    /// organization unless given here; also names the token: TRACEDECK_TOKEN_<NAME> or the
    /// keychain entry NAME.
    #[arg(long, value_name = "NAME")]
    pub connection: Option<String>,
    /// Limit for each request: 30s, 500ms.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_positive_duration)]
    pub timeout: Nanos,
    /// How many times to retry 429, 5xx, timeouts and refused connections.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,
}

/// Arguments of `tracedeck search`.
#[derive(Args, Debug)]
#[command(mut_arg("output", |a| {
    a.help("Save every trace found to this file, as one OTLP JSON document (`tracedeck check` reads it)")
}))]
pub struct SearchArgs {
    /// The service whose traces to find.
    #[arg(long, value_name = "NAME")]
    pub service: String,
    /// Only traces with a span of this name in the service.
    #[arg(long, value_name = "NAME")]
    pub operation: Option<String>,
    /// How far back from the end to search: 90m, 1h, 24h.
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_positive_duration, conflicts_with = "start")]
    pub since: Nanos,
    /// The start of the time range, RFC 3339 (2026-05-01T10:00:00Z); instead of --since.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub start: Option<jiff::Timestamp>,
    /// The end of the time range, RFC 3339; default now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub end: Option<jiff::Timestamp>,
    /// Only traces with a span of the service (and operation) at least this long: 3s, 500ms.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub min_duration: Option<Nanos>,
    /// At most this many traces.
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
    /// The back-end, where to save, and the deadline.
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// A gate for an intermittent miss: exit 1 only when more than P percent of the judged
    /// traces missed (`5%`, `0.5`), else 0.
    #[arg(long, value_name = "P%", value_parser = parse_percent)]
    pub max_miss_rate: Option<f64>,
    /// Traces that cannot be judged are still reported, but do not make the exit status 2 as
    /// long as some trace was judged.
    #[arg(long)]
    pub keep_going: bool,
    /// Ask the back-end for the miss rate over every matching root span in the range (Sentry's
    /// Discover, Tempo's TraceQL metrics), then fetch the --limit slowest traces and judge them
    /// here with every rule of the profile. --max-miss-rate then gates on the server's figure.
    /// --min-duration is not used: Tempo lists roots of at least its p99 (or the deadline, when
    /// shorter). Jaeger and Zipkin keep no aggregates: they fall back to the search.
    #[arg(long)]
    pub stats: bool,
    /// With --stats: also the miss rate per bucket of this length (1h, 15m), a trend.
    #[arg(long, value_name = "DURATION", value_parser = parse_positive_duration, requires = "stats")]
    pub step: Option<Nanos>,
    /// With --stats: also the figures per endpoint (operation).
    #[arg(long, requires = "stats")]
    pub by_endpoint: bool,
    /// Sentry organization slug (for --stats on Sentry; a saved connection may give it).
    #[arg(long, value_name = "ORG")]
    pub org: Option<String>,
    /// With --stats: how to print the results; json prints one document {server, here,
    /// comparison, gate}, every time as {ms, ns}.
    #[arg(long, value_enum, value_name = "FORMAT", requires = "stats")]
    pub format: Option<Format>,
}

/// Arguments of `tracedeck connections`.
#[derive(Args, Debug)]
pub struct ConnectionsArgs {
    /// What to do; without one, list them.
    #[command(subcommand)]
    pub action: Option<ConnectionsAction>,
}

/// What `tracedeck connections` does.
#[derive(Subcommand, Debug)]
pub enum ConnectionsAction {
    /// List the saved connections and where each one's token would come from.
    List,
    /// Save a connection (replacing one of the same name).
    Add {
        /// What to call it; also names its token (TRACEDECK_TOKEN_<NAME>, keychain entry NAME).
        name: String,
        /// The back-end.
        #[arg(long, value_enum, value_name = "BACKEND")]
        from: crate::fetch::Backend,
        /// Its base URL.
        #[arg(long, value_name = "BASE")]
        url: String,
        /// Sentry organization slug.
        #[arg(long, value_name = "ORG")]
        org: Option<String>,
        /// Read a token from standard input and save it in the OS keychain (never in the file).
        #[arg(long)]
        token_from_stdin: bool,
    },
    /// Forget a connection.
    Remove {
        /// Its name.
        name: String,
    },
}

/// Arguments of `tracedeck check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Trace files (Sentry, OTLP, Jaeger, Zipkin, Chrome or tracedeck JSON; detected from the content), or
    /// folders, searched recursively: every file in them that is not hidden is tried. A file may
    /// hold many traces; each is judged on its own.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub files: Vec<PathBuf>,
    /// The platform whose deadline applies: slack, discord, zoom, teams, github, twilio, google-chat.
    #[arg(long, value_name = "NAME", default_value = Profile::DEFAULT, value_parser = parse_profile)]
    pub profile: Profile,
    /// Override the profile's time limit: 3s, 2500ms, 1.5s, 500us.
    #[arg(long, value_name = "DURATION", value_parser = parse_positive_duration)]
    pub deadline: Option<Nanos>,
    /// What counts as the response, replacing the profile's checks: the first span matching the
    /// rule, at its end (or `at=start`). Example: `op=http.client,name~views.open,at=start`.
    /// Fields: op, name, service, text, attr.KEY; `=` exact, `~` contains, `a|b` either, `;` or.
    #[arg(long, value_name = "RULE", value_parser = Rule::parse)]
    pub response: Option<Rule>,
    /// What starts the clock instead of the root span: the first span matching the rule, at its
    /// start (or `at=end`). Same syntax as --response.
    #[arg(long, value_name = "RULE", value_parser = Rule::parse)]
    pub clock: Option<Rule>,
    /// How to print the results.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// After the verdicts, sum up: traces, misses, the miss rate with its 95% confidence
    /// interval, p50/p95/p99/max response time, the worst trace and its file, per endpoint.
    #[arg(long)]
    pub summary: bool,
    /// Do not print each trace's verdict (errors, the summary and the exit status remain).
    #[arg(long, visible_alias = "no-traces")]
    pub quiet: bool,
    /// A gate for an intermittent miss: exit 1 only when more than P percent of the judged
    /// traces missed (`5%`, `0.5`), else 0. Prints the summary.
    #[arg(long, value_name = "P%", value_parser = parse_percent)]
    pub max_miss_rate: Option<f64>,
    /// Files that cannot be read and traces that cannot be judged are still reported, but do not
    /// make the exit status 2 as long as some trace was judged.
    #[arg(long)]
    pub keep_going: bool,
}

/// Output formats of `check`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// One JSON document for scripts: `{profile, traces, errors}`, every time as `{ms, ns}`.
    Json,
}

impl CheckArgs {
    /// The profile with the command line's overrides applied.
    pub fn profile(&self) -> Profile {
        let mut profile = self.profile.clone();
        if let Some(limit) = self.deadline {
            profile = profile.with_limit(limit);
        }
        if let Some(rule) = &self.response {
            profile.checks = vec![crate::analysis::Check::matching(rule.clone())];
        }
        if let Some(rule) = &self.clock {
            profile.clock = Some(rule.clone());
        }
        profile
    }
}

fn parse_profile(name: &str) -> Result<Profile, String> {
    Profile::built_in(name).ok_or_else(|| {
        format!("unknown profile {name:?}; expected one of {}", Profile::names().collect::<Vec<_>>().join(", "))
    })
}

/// A percentage from 0 to 100, with or without `%`.
fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().strip_suffix('%').unwrap_or(text.trim()).trim();
    match number.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        Ok(_) => Err(format!("{text:?} is outside 0–100%")),
        Err(_) => Err(format!("{text:?} is not a percentage; expected a number like 5% or 0.5")),
    }
}

/// A time in RFC 3339, with its offset: `2026-05-01T10:00:00Z`, `2026-05-01T12:00:00+02:00`.
fn parse_time(text: &str) -> Result<jiff::Timestamp, String> {
    text.trim().parse().map_err(|e| {
        format!("{text:?} is not a time: {e}; expected RFC 3339 with an offset, such as 2026-05-01T10:00:00Z")
    })
}

/// A duration longer than zero: deadlines, timeouts, how far back to search.
fn parse_positive_duration(text: &str) -> Result<Nanos, String> {
    match parse_duration(text)? {
        0 => Err(format!("{text:?} is no time at all; it must be longer than zero")),
        nanos => Ok(nanos),
    }
}

/// Runs parsed arguments; the result is the process's exit status.
pub fn run(cli: Cli) -> ExitCode {
    let window_profile = cli.deadline.given();
    match cli.command {
        Some(Command::Check(args)) => {
            let status = if std::io::stderr().is_terminal() {
                check_with_progress(&args, &mut std::io::stdout().lock(), &mut std::io::stderr(), &show_progress())
            } else {
                check(&args, &mut std::io::stdout().lock(), &mut std::io::stderr().lock())
            };
            ExitCode::from(status as u8)
        }
        Some(Command::Fetch(args)) => {
            let status = fetch(&args, &mut std::io::stdout().lock(), &mut std::io::stderr().lock());
            ExitCode::from(status as u8)
        }
        Some(Command::Connections(args)) => {
            let (mut input, mut out) = (std::io::stdin().lock(), std::io::stdout().lock());
            let status = connections(&args, &mut input, &mut out, &mut std::io::stderr().lock());
            ExitCode::from(status as u8)
        }
        Some(Command::Search(args)) => {
            let status = search(&args, &mut std::io::stdout().lock(), &mut std::io::stderr().lock());
            ExitCode::from(status as u8)
        }
        Some(Command::Replay(args)) => {
            ExitCode::from(replay(&args, &mut std::io::stdout().lock(), &mut std::io::stderr().lock()) as u8)
        }
        Some(Command::Capture(args)) => {
            ExitCode::from(capture(&args, &mut std::io::stdout().lock(), &mut std::io::stderr().lock()) as u8)
        }
        Some(Command::Convert(args)) => {
            ExitCode::from(convert(&args, &mut std::io::stdout().lock(), &mut std::io::stderr().lock()) as u8)
        }
        Some(Command::Receive(args)) => {
            ExitCode::from(receive(&args, &mut std::io::stdout().lock(), &mut std::io::stderr().lock()) as u8)
        }
        None => match missing_files(&cli.files) {
            Some(message) => {
                eprintln!("tracedeck: {message}");
                ExitCode::from(Status::BadInput as u8)
            }
            None => open_window(cli.files, cli.span, window_profile),
        },
    }
}

/// Says which of the files to open do not exist, before a window opens for nothing; a word
/// that is no file and looks like a command gets the list of commands.
fn missing_files(files: &[std::path::PathBuf]) -> Option<String> {
    let missing = files.iter().find(|f| !f.exists())?;
    let word = missing.to_str().filter(|w| !w.contains(['/', '\\', '.']));
    let commands: Vec<String> =
        <Cli as clap::CommandFactory>::command().get_subcommands().map(|c| c.get_name().to_owned()).collect();
    Some(match word {
        Some(word) => format!(
            "{word:?} is neither a file nor a command; the commands are {} (see tracedeck --help)",
            commands.join(", ")
        ),
        None => format!("{}: no such file or folder", missing.display()),
    })
}

/// Progress on a terminal's standard error, at most every 100 ms, overwriting one line that is
/// cleared when the last file is done. Silent for a single file.
fn show_progress() -> impl Fn(Progress) + Sync {
    let last = Mutex::new(None::<Instant>);
    move |p: Progress| {
        if p.total < 2 {
            return;
        }
        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
        let finished = p.done == p.total;
        if !finished && last.is_some_and(|t| t.elapsed() < Duration::from_millis(100)) {
            return;
        }
        *last = Some(Instant::now());
        let mut err = std::io::stderr().lock();
        let _ = if finished {
            write!(err, "\r\x1b[2K")
        } else {
            write!(err, "\rloading: {}/{} files, {} traces", p.done, p.total, p.traces)
        };
        let _ = err.flush();
    }
}

#[cfg(feature = "gui")]
fn open_window(files: Vec<std::path::PathBuf>, span: Option<SpanId>, profile: Option<Profile>) -> ExitCode {
    match crate::ui::run(files, span, profile) {
        Ok(()) => ExitCode::SUCCESS,
        // On Linux and the BSDs a window needs X11 or Wayland; macOS and Windows have neither variable.
        Err(_)
            if cfg!(all(unix, not(target_os = "macos")))
                && std::env::var_os("DISPLAY").is_none()
                && std::env::var_os("WAYLAND_DISPLAY").is_none() =>
        {
            eprintln!(
                "tracedeck: could not open the window: there is no display (DISPLAY and WAYLAND_DISPLAY are unset); \
                 without one, `tracedeck check FILE...` judges traces on the command line"
            );
            ExitCode::from(Status::BadInput as u8)
        }
        Err(e) => {
            eprintln!("tracedeck: {e:#}");
            ExitCode::from(Status::BadInput as u8)
        }
    }
}

#[cfg(not(feature = "gui"))]
fn open_window(_files: Vec<std::path::PathBuf>, _span: Option<SpanId>, _profile: Option<Profile>) -> ExitCode {
    eprintln!("tracedeck: this build has no window (built without the `gui` feature); use `tracedeck check FILE...`");
    ExitCode::from(Status::BadInput as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("tracedeck").chain(args.iter().copied()))
    }

    #[test]
    fn files_without_a_subcommand_open_the_window() {
        let cli = parse(&["a.json", "b.json", "--span", "00ab"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.files, vec![PathBuf::from("a.json"), PathBuf::from("b.json")]);
        assert_eq!(cli.span, SpanId::new(0xab));
        assert!(parse(&[]).unwrap().files.is_empty());
        assert!(parse(&["--span", "xyz"]).is_err());
    }

    #[test]
    fn the_window_takes_a_profile_and_a_deadline() {
        assert_eq!(parse(&["a.json"]).unwrap().deadline.given(), None, "the remembered profile applies");
        let custom = parse(&["a.json", "--deadline", "2s"]).unwrap().deadline.given().unwrap();
        assert_eq!((custom.name.as_str(), custom.limit), ("slack", 2_000_000_000));
        let teams = parse(&["--profile", "teams"]).unwrap().deadline.given().unwrap();
        assert_eq!((teams.name.as_str(), teams.limit), ("teams", 5_000_000_000));
        assert!(parse(&["--deadline", "0s"]).is_err());
    }

    #[test]
    fn a_missing_file_or_a_mistyped_command_is_named_before_any_window() {
        let dir = tempfile::tempdir().unwrap();
        let here = dir.path().join("here.json");
        std::fs::write(&here, "[]").unwrap();
        assert_eq!(missing_files(std::slice::from_ref(&here)), None);
        let gone = dir.path().join("gone.json");
        assert_eq!(missing_files(&[here, gone.clone()]), Some(format!("{}: no such file or folder", gone.display())));
        let word = missing_files(&[PathBuf::from("summary")]).unwrap();
        assert!(word.starts_with("\"summary\" is neither a file nor a command; the commands are check, "), "{word}");
    }

    #[test]
    fn check_reads_its_flags_into_a_profile() {
        let cli = parse(&["check", "t.json", "--deadline", "2500ms", "--response", "op=http.client,at=start"]).unwrap();
        let Some(Command::Check(args)) = cli.command else { panic!("expected check") };
        assert_eq!(args.files, vec![PathBuf::from("t.json")]);
        assert_eq!(args.format, Format::Text);
        let profile = args.profile();
        assert_eq!((profile.name.as_str(), profile.limit), ("slack", 2_500_000_000));
        assert_eq!(profile.checks.len(), 1);
        assert_eq!(profile.checks[0].target.as_ref().unwrap().to_string(), "op=http.client,at=start");

        let cli =
            parse(&["check", "t.json", "--profile", "github", "--format", "json", "--clock", "op=queue"]).unwrap();
        let Some(Command::Check(args)) = cli.command else { panic!("expected check") };
        let profile = args.profile();
        assert_eq!((profile.name.as_str(), profile.limit, args.format), ("github", 10_000_000_000, Format::Json));
        assert!(profile.clock.is_some());
    }

    #[test]
    fn summary_flags() {
        let cli =
            parse(&["check", "dir/", "--summary", "--no-traces", "--max-miss-rate", "2.5%", "--keep-going"]).unwrap();
        let Some(Command::Check(args)) = cli.command else { panic!("expected check") };
        assert!(args.summary && args.quiet && args.keep_going);
        assert_eq!(args.max_miss_rate, Some(2.5));
        assert_eq!(parse_percent("0.5"), Ok(0.5));
        assert_eq!(parse_percent(" 5 % "), Ok(5.0));
        let Some(Command::Check(args)) = parse(&["check", "t.json"]).unwrap().command else { panic!("check") };
        assert!(!args.summary && !args.quiet && !args.keep_going && args.max_miss_rate.is_none());
    }

    #[test]
    fn bad_flag_values_are_usage_errors_that_say_why() {
        let cases = [
            (vec!["check", "t.json", "--deadline", "banana"], "not a duration"),
            (vec!["check", "t.json", "--deadline", "0s"], "longer than zero"),
            (vec!["check", "t.json", "--profile", "myspace"], "expected one of slack, discord"),
            (vec!["check", "t.json", "--response", "nme~x"], "unknown field"),
            (vec!["check", "t.json", "--format", "xml"], "xml"),
            (vec!["check"], "FILE"),
            (vec!["check", "t.json", "--max-miss-rate", "lots"], "not a percentage"),
            (vec!["check", "t.json", "--max-miss-rate", "120%"], "outside 0–100%"),
        ];
        for (args, expected) in cases {
            let err = parse(&args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
            assert!(err.to_string().contains(expected), "{args:?} → {err}");
        }
    }
}
