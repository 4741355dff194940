//! The command line: argument definitions and the headless commands.
//!
//! `tracedeck [FILE]... [--span ID]` opens the window (the default command);
//! `tracedeck check FILE...` judges traces against a deadline without one, for CI. Every
//! behaviour lives in the library so it can be tested without the binary; `main.rs` only parses
//! the arguments and calls [`run`].

mod check;
mod duration;
mod replay;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use check::{Status, check};
pub use duration::parse_duration;
pub use replay::{CaptureArgs, ReplayArgs, capture, replay};

use crate::analysis::{Profile, Rule};
use crate::model::{Nanos, SpanId};

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
}

/// The headless commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Judge traces against a platform's deadline. Exit status: 0 when every trace met it,
    /// 1 when any missed it, 2 when a trace could not be read or judged.
    Check(CheckArgs),
    /// Replay a captured Slack interaction against an app on this machine, acting as Slack's Web
    /// API for it. Exit status: 0 when every run passed, 1 when any failed, 2 on bad input or a
    /// target that never answered. Reads SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN.
    Replay(ReplayArgs),
    /// Make a capture file from a raw HTTP request dump or a Slack payload JSON document.
    Capture(CaptureArgs),
}

/// Arguments of `tracedeck check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Trace files (Sentry, OTLP, Jaeger, Zipkin or Chrome JSON; detected from the content).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The platform whose deadline applies: slack, discord, zoom, teams, github, twilio, google-chat.
    #[arg(long, value_name = "NAME", default_value = Profile::DEFAULT, value_parser = parse_profile)]
    pub profile: Profile,
    /// Override the profile's time limit: 3s, 2500ms, 1.5s, 500us.
    #[arg(long, value_name = "DURATION", value_parser = parse_deadline)]
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
            profile.limit = limit;
            profile.source = format!("{} — limit overridden on the command line", profile.source);
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

fn parse_deadline(text: &str) -> Result<Nanos, String> {
    match parse_duration(text)? {
        0 => Err("the deadline must be longer than zero".into()),
        nanos => Ok(nanos),
    }
}

/// Runs parsed arguments; the result is the process's exit status.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Some(Command::Check(args)) => {
            let status = check(&args, &mut std::io::stdout().lock(), &mut std::io::stderr().lock());
            ExitCode::from(status as u8)
        }
        Some(Command::Replay(args)) => {
            ExitCode::from(replay(&args, &mut std::io::stdout().lock(), &mut std::io::stderr().lock()) as u8)
        }
        Some(Command::Capture(args)) => {
            ExitCode::from(capture(&args, &mut std::io::stdout().lock(), &mut std::io::stderr().lock()) as u8)
        }
        None => open_window(cli.files, cli.span),
    }
}

#[cfg(feature = "gui")]
fn open_window(files: Vec<std::path::PathBuf>, span: Option<SpanId>) -> ExitCode {
    match crate::ui::run(files, span) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tracedeck: {e:#}");
            ExitCode::from(Status::BadInput as u8)
        }
    }
}

#[cfg(not(feature = "gui"))]
fn open_window(_files: Vec<std::path::PathBuf>, _span: Option<SpanId>) -> ExitCode {
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
    fn bad_flag_values_are_usage_errors_that_say_why() {
        let cases = [
            (vec!["check", "t.json", "--deadline", "banana"], "not a duration"),
            (vec!["check", "t.json", "--deadline", "0s"], "longer than zero"),
            (vec!["check", "t.json", "--profile", "myspace"], "expected one of slack, discord"),
            (vec!["check", "t.json", "--response", "nme~x"], "unknown field"),
            (vec!["check", "t.json", "--format", "xml"], "xml"),
            (vec!["check"], "FILE"),
        ];
        for (args, expected) in cases {
            let err = parse(&args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
            assert!(err.to_string().contains(expected), "{args:?} → {err}");
        }
    }
}
