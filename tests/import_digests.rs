//! Every importer keeps reading every bundled file exactly as before: each sample, fixture and
//! fuzz regression (and generated traces in every format) is imported, and what it loaded as
//! (every trace written in tracedeck's own format, which keeps everything, plus its warnings),
//! or the error it gave, is hashed and compared with `tests/fixtures/import-digests.txt`.
//!
//! A change that is meant to change what a file loads as re-blesses the list with
//! `TRACEDECK_BLESS=1 cargo test --test import_digests` and says why in its commit.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tracedeck::formats::{Format, import};
use tracedeck::synth::{SynthParams, generate};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const DIGESTS: &str = "tests/fixtures/import-digests.txt";

/// The folders whose files are checked, from the repository root.
const FOLDERS: &[&str] = &["sample-traces", "tests/fixtures", "fuzz/regressions/import"];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else if !path.ends_with("import-digests.txt") && path.extension().is_none_or(|e| e != "md") {
            out.push(path);
        }
    }
}

/// What `bytes` load as, as text: each trace in tracedeck's format and its warnings, or the error.
fn loaded(name: &str, bytes: &[u8]) -> String {
    let mut text = String::new();
    match import(name, bytes) {
        Ok(imported) => {
            writeln!(text, "{}", imported.format).unwrap();
            for trace in &imported.traces {
                let mut native = Vec::new();
                Format::Tracedeck.write(std::slice::from_ref(trace), &mut native).unwrap();
                text.push_str(&String::from_utf8(native).unwrap());
                for warning in trace.warnings() {
                    writeln!(text, "warning: {warning}").unwrap();
                }
            }
        }
        Err(e) => writeln!(text, "error: {e}").unwrap(),
    }
    text
}

fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Every checked input: (name, bytes).
fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut paths = Vec::new();
    for folder in FOLDERS {
        files(&Path::new(ROOT).join(folder), &mut paths);
    }
    let mut inputs: Vec<(String, Vec<u8>)> = paths
        .iter()
        .map(|p| (p.strip_prefix(ROOT).unwrap().display().to_string(), std::fs::read(p).unwrap()))
        .collect();
    for seed in [1, 2, 3] {
        let trace = generate(&SynthParams { seed, spans: 3_000, services: 4, ..SynthParams::default() });
        for format in Format::ALL {
            let mut bytes = Vec::new();
            format.write(std::slice::from_ref(&trace), &mut bytes).unwrap();
            inputs.push((format!("synth seed {seed}{}", format.extension()), bytes));
        }
    }
    inputs
}

#[test]
fn every_bundled_file_loads_as_it_did() {
    let now: String =
        inputs().iter().map(|(name, bytes)| format!("{} {name}\n", digest(&loaded(name, bytes)))).collect();
    let path = Path::new(ROOT).join(DIGESTS);
    if std::env::var_os("TRACEDECK_BLESS").is_some() {
        std::fs::write(&path, &now).unwrap();
        return;
    }
    let before = std::fs::read_to_string(&path).unwrap();
    let changed: Vec<&str> = now.lines().filter(|line| !before.lines().any(|b| b == *line)).collect();
    assert!(changed.is_empty() && now.lines().count() == before.lines().count(), "loaded differently: {changed:#?}");
}
