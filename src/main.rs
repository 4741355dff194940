//! The `tracedeck` command line. Thin: parses arguments and calls the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    tracedeck::cli::run(tracedeck::cli::Cli::parse())
}
