//! Finding the real SDK clients (`tests/clients/`) that end-to-end tests drive: the Python
//! virtual environment with `slack_bolt`, `sentry-sdk` and `opentelemetry-sdk`, and Node.js with
//! `@slack/bolt`. A missing client skips the test with a message, unless
//! `TRACEDECK_REAL_CLIENTS=required` (set by `.ci/run`), when the test fails instead.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Whether missing clients fail the test rather than skip it.
fn required() -> bool {
    std::env::var("TRACEDECK_REAL_CLIENTS").is_ok_and(|v| v == "required")
}

/// Skips (returns `None`, printing why) or, when clients are required, panics.
fn missing<T>(what: &str) -> Option<T> {
    assert!(
        !required(),
        "{what} is missing, and TRACEDECK_REAL_CLIENTS=required: run .ci/run's client install (tests/clients/README.md)"
    );
    eprintln!("skipped: {what} is missing (see tests/clients/README.md)");
    None
}

/// The folder of the client test apps and their install files.
pub fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// The virtual environment's Python, if it has `module` importable.
pub fn python_with(module: &str) -> Option<PathBuf> {
    let venv = std::env::var_os("TRACEDECK_CLIENTS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/tracedeck-clients-venv"));
    let python = venv.join("bin/python");
    let ok = python.is_file()
        && std::process::Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success());
    if ok { Some(python) } else { missing(&format!("Python module {module} in {}", venv.display())) }
}

/// `node`, if it runs and `tests/clients/node_modules` has `package` (e.g. `@slack/bolt`).
pub fn node_with(package: &str) -> Option<PathBuf> {
    let modules = clients_dir().join("node_modules");
    let ok = modules.join(package).join("package.json").is_file()
        && std::process::Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if ok {
        Some(PathBuf::from("node"))
    } else {
        missing(&format!("Node.js package {package} in {}", modules.display()))
    }
}
