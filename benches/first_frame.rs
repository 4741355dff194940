//! How long a big file takes to show in the window, next to `tracedeck check` on the same file:
//! the target is the first waterfall frame within 1.2× of `check`'s time.
//!
//! `cargo bench --bench first_frame` writes (once) a 1,000,000-span trace in every format under
//! the target directory (the same files as `cargo bench --bench import`; set
//! `TRACEDECK_BENCH_SPANS` for a smaller one, `TRACEDECK_BENCH_ONLY=otlp` for some formats,
//! `TRACEDECK_BENCH_RUNS` for the number of runs, default 3) and prints, best of the runs:
//! - `check`: the wall time of the `tracedeck check FILE --quiet` process;
//! - `window`: from creating the window's [`App`] with the file (as `tracedeck FILE` does) to
//!   the end of the first frame that shows its waterfall, frames laid out and tessellated
//!   headlessly (no GPU, no window system: what those add is the same for any file) and run
//!   every 4 ms while the worker loads, as a window woken by the loader's progress would;
//! - `last frame`: the frame in which the UI thread took the loaded trace and laid out its
//!   view (what the window cannot draw meanwhile).
//!
//! Under `cargo test` (no `--bench` argument) it runs once on 2,000 spans, as a smoke test.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tracedeck::formats::Format;
use tracedeck::ui::{App, Settings};

#[path = "support/generated.rs"]
mod generated;
use generated::{env_number, generated_file};

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let spans = env_number("TRACEDECK_BENCH_SPANS", if full { 1_000_000 } else { 2_000 });
    let runs = env_number("TRACEDECK_BENCH_RUNS", if full { 3 } else { 1 }).max(1);
    let only = std::env::var("TRACEDECK_BENCH_ONLY").unwrap_or_default().to_lowercase();
    let mut trace = None;
    println!("best of {runs} run(s); times in ms");
    println!(
        "{:<20} {:>8} {:>10} {:>10} {:>7} {:>8} {:>11}",
        "format", "MB", "check", "window", "x", "frames", "last frame"
    );
    for format in Format::ALL.into_iter().filter(|f| f.name().to_lowercase().contains(&only)) {
        let path = generated_file(spans, format, &mut trace);
        let check = (0..runs).map(|_| check_time(&path)).min().expect("one run");
        let shown = (0..runs).map(|_| first_frame(&path, spans)).min().expect("one run");
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{:<20} {:>8.1} {:>10.0} {:>10.0} {:>7.2} {:>8} {:>11.1}",
            format.name(),
            std::fs::metadata(&path).map_or(0, |m| m.len()) as f64 / 1e6,
            ms(check),
            ms(shown.took),
            ms(shown.took) / ms(check),
            shown.frames,
            ms(shown.last)
        );
    }
}

/// The wall time of `tracedeck check FILE --quiet` (which exits 1 when the trace misses).
fn check_time(path: &Path) -> Duration {
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_tracedeck"))
        .args(["check", "--quiet"])
        .arg(path)
        .stdout(Stdio::null())
        .status()
        .expect("run tracedeck check");
    let took = started.elapsed();
    assert!(matches!(status.code(), Some(0 | 1)), "tracedeck check {} failed: {status}", path.display());
    took
}

/// How a file came to show in the window's app.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Shown {
    /// From opening the file to the end of the first frame showing its waterfall.
    took: Duration,
    /// How many frames that was.
    frames: usize,
    /// The last of them, in which the UI thread took the loaded trace and laid its view out.
    last: Duration,
}

/// How opening `path` in the window's app came to show its `spans` spans.
fn first_frame(path: &Path, spans: usize) -> Shown {
    let started = Instant::now();
    let mut app = App::new(Settings::default(), vec![path.to_owned()], None, None);
    let ctx = egui::Context::default();
    for frame in 1.. {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1600.0, 1000.0))),
            ..Default::default()
        };
        let frame_started = Instant::now();
        let mut output = ctx.run_ui(input, |ui| app.ui(ui));
        output.textures_delta.clear(); // no GPU here: nothing uploads the font atlas
        drop(ctx.tessellate(output.shapes, output.pixels_per_point));
        if let Some(shown) = app.shown_spans() {
            assert_eq!(shown, spans, "{} shows the wrong trace", path.display());
            return Shown { took: started.elapsed(), frames: frame, last: frame_started.elapsed() };
        }
        assert!(started.elapsed() < Duration::from_secs(300), "{} did not show in 5 minutes", path.display());
        std::thread::sleep(Duration::from_millis(4));
    }
    unreachable!("the frames never end")
}
