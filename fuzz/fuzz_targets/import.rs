//! Fuzz target: see `tests/fuzz_support/mod.rs` for what is checked.
#![no_main]

#[path = "../../tests/fuzz_support/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::import(data));
