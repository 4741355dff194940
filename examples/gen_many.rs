//! Writes many traces of the incident's Slack endpoint, before or after the fix, for the
//! `many-*` sample files and for trying `check --summary` and the traces view:
//!
//! ```text
//! cargo run --no-default-features --example gen_many -- --era before --traces 2400 \
//!     --format zipkin -o sample-traces/many-before.zipkin.json
//! cargo run --no-default-features --example gen_many -- --era after --traces 2000 \
//!     --format zipkin -o sample-traces/many-after.zipkin.json
//! ```
//!
//! The two eras share no trace id, even with one seed, so the files can be checked together.
//!
//! See `support/incident_traces.rs` for the shape and the timing distributions.

#[path = "support/incident_traces.rs"]
mod incident_traces;

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use incident_traces::{Era, generate};
use tracedeck::formats::Format;

/// Which side of the fix.
#[derive(Clone, Copy, ValueEnum)]
enum EraArg {
    /// The worker opens the modal after the queue wait: a few percent miss.
    Before,
    /// The front opens a loading modal first: none miss.
    After,
}

/// Generate many traces of the incident endpoint and write them in one file.
#[derive(Parser)]
struct Args {
    /// Before or after the fix.
    #[arg(long, value_enum)]
    era: EraArg,
    /// Number of traces.
    #[arg(long, default_value_t = 2500)]
    traces: usize,
    /// Format: otlp, jaeger, zipkin, sentry, chrome or tracedeck.
    #[arg(long, value_enum, default_value = "zipkin")]
    format: Format,
    /// Seed; the same seed gives the same traces.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file; standard output when absent.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let format = args.format;
    let era = match args.era {
        EraArg::Before => Era::Before,
        EraArg::After => Era::After,
    };
    let traces = generate(era, args.traces, args.seed);
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    format.write(&traces, &mut out).with_context(|| format!("writing {format}"))?;
    out.flush()?;
    Ok(())
}
