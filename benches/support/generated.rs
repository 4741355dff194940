//! The benchmarks' big trace files: one deterministic trace of a given size written in a given
//! format under the target directory, generated on first use and kept for later runs.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use tracedeck::formats::Format;
use tracedeck::model::Trace;
use tracedeck::synth::{SynthParams, generate};

/// The generated file of `spans` spans in `format`, written on first use (from `trace`, which is
/// generated on first use).
pub fn generated_file(spans: usize, format: Format, trace: &mut Option<Trace>) -> PathBuf {
    let dir = PathBuf::from(std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into()));
    let path = dir.join(format!("bench-{spans}-v3{}", format.extension()));
    if !path.exists() {
        let started = Instant::now();
        let trace = trace
            .get_or_insert_with(|| generate(&SynthParams { spans, seed: 42, services: 5, ..SynthParams::default() }));
        std::fs::create_dir_all(&dir).expect("target directory");
        let partial = path.with_extension("partial");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&partial).expect("create the bench file"));
        format.write(std::slice::from_ref(trace), &mut out).and_then(|()| out.flush()).expect("write the bench file");
        drop(out);
        std::fs::rename(&partial, &path).expect("rename the bench file");
        println!("generated {} in {:.1} s", path.display(), started.elapsed().as_secs_f64());
    }
    path
}

/// A whole number from the environment variable `name` (`_` allowed between digits), or `default`.
pub fn env_number(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(text) => {
            text.replace('_', "").parse().unwrap_or_else(|_| panic!("{name} must be a whole number, not {text:?}"))
        }
        Err(_) => default,
    }
}
