//! Running the `tracedeck` binary on the bundled samples, for the command-line tests.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs the binary with `args`.
pub fn tracedeck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tracedeck")).args(args).output().expect("the binary runs")
}

/// The path of a file in `sample-traces/`.
pub fn sample(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "sample-traces", name].iter().collect();
    path.to_str().expect("the repository path is UTF-8").to_owned()
}

/// Output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("output is UTF-8")
}
