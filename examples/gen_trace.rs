//! Writes a synthetic trace in any format, for benchmarks and trying the importers:
//!
//! ```text
//! cargo run --no-default-features --example gen_trace -- --spans 100000 --format otlp -o out.json
//! ```

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Parser;
use tracedeck::formats::Format;
use tracedeck::synth::{SERVICES, SynthParams, generate};

/// Generate a synthetic trace and write it in one of tracedeck's formats.
#[derive(Parser)]
struct Args {
    /// Number of spans.
    #[arg(long, default_value_t = 1000)]
    spans: usize,
    /// Format: otlp, jaeger, zipkin, sentry, chrome or tracedeck.
    #[arg(long, value_enum, default_value = "otlp")]
    format: Format,
    /// Seed; the same seed gives the same trace.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of services (1 to 6).
    #[arg(long, default_value_t = 4)]
    services: usize,
    /// Deepest nesting.
    #[arg(long, default_value_t = 10)]
    max_depth: u32,
    /// Share of failing spans, 0 to 1.
    #[arg(long, default_value_t = 0.05)]
    error_rate: f64,
    /// Output file; standard output when absent.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let format = args.format;
    if !(1..=SERVICES.len()).contains(&args.services) {
        bail!("--services must be from 1 to {}", SERVICES.len());
    }
    let params = SynthParams {
        seed: args.seed,
        spans: args.spans,
        services: args.services,
        max_depth: args.max_depth,
        error_rate: args.error_rate,
    };
    let trace = generate(&params);
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    format.write(std::slice::from_ref(&trace), &mut out).with_context(|| format!("writing {format}"))?;
    out.flush()?;
    Ok(())
}
