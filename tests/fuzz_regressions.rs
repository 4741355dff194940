//! Every input that ever made a reader fail (a panic, a hang, a wrong duration), replayed
//! through the fuzz targets' checks: `fuzz/regressions/<target>/` holds them, one file each,
//! named for what they were. A fuzz run that finds a failure adds its input there.

mod fuzz_support;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions").join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "{} holds no inputs", dir.display());
    for input in inputs {
        let bytes = std::fs::read(&input).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&bytes));
        assert!(outcome.is_ok(), "{} fails again", input.display());
    }
}

#[test]
fn importers_hold_on_every_input_that_ever_failed() {
    replay("import", fuzz_support::import);
}

#[test]
fn the_capture_reader_holds_on_every_input_that_ever_failed() {
    replay("capture", fuzz_support::capture);
}

#[test]
fn the_receivers_body_reader_holds_on_every_input_that_ever_failed() {
    replay("receiver_body", fuzz_support::receiver_body);
}
