//! The `tracedeck` command line. Thin: parses arguments and calls the library.

fn main() {
    eprintln!("tracedeck: not built yet");
    std::process::exit(2);
}
