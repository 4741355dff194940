//! Frame cost of the waterfall: egui layout (our code plus egui's) and tessellation, no GPU,
//! for 1k, 100k and 1M spans, at rest, while scrolling, and while zooming into a 1 ms window;
//! and of the traces view (scatter, histogram, summary, per-endpoint and trace tables) for
//! 100,000 traces.
//!
//! `cargo bench --bench frame` prints a table. Under `cargo test --all-targets` (no `--bench`
//! argument) it runs a few frames of the smallest sizes only, as a smoke test.

#[path = "../examples/support/incident_traces.rs"]
mod incident_traces;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tracedeck::analysis::Profile;
use tracedeck::synth::{SynthParams, generate};
use tracedeck::ui::overlay;
use tracedeck::ui::traces_view::TracesView;
use tracedeck::ui::waterfall::Waterfall;

#[derive(Clone, Copy, Debug)]
enum Scenario {
    Rest,
    Scrolling,
    Zooming,
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if full { &[1_000, 100_000, 1_000_000] } else { &[1_000] };
    let frames = if full { 60 } else { 3 };
    println!("waterfall frame cost, 1600×1000 points, {frames} frames per row (median / p95 / max)");
    println!("{:>9}  {:<10} {:>24}  {:>24}", "spans", "scenario", "layout (ms)", "tessellation (ms)");
    for &spans in sizes {
        let trace = generate(&SynthParams { spans, seed: 7, ..SynthParams::default() });
        let overlay = overlay::for_trace(&trace, &tracedeck::analysis::Profile::default_profile());
        for scenario in [Scenario::Rest, Scenario::Scrolling, Scenario::Zooming] {
            let mut waterfall = Waterfall::new(&trace, &overlay);
            let ctx = egui::Context::default();
            let rows = waterfall.rows(&trace, &overlay).to_vec();
            let mut layout = Vec::with_capacity(frames);
            let mut tessellation = Vec::with_capacity(frames);
            for frame in 0..frames + 2 {
                match scenario {
                    Scenario::Rest => {}
                    Scenario::Scrolling => {
                        // Jump through the trace: each frame shows a different stretch of rows.
                        let row = rows[(frame * 7919 * rows.len() / (frames + 2)) % rows.len()];
                        waterfall.reveal(&trace, row);
                    }
                    Scenario::Zooming => {
                        let mid = trace.duration() as f64 / 2.0;
                        let width = 1e6 * (1.0 + frame as f64 / frames as f64);
                        waterfall.window.start = mid - width / 2.0;
                        waterfall.window.end = mid + width / 2.0;
                    }
                }
                let (laid_out, tessellated, vertices) =
                    time_frame(&ctx, |ui| waterfall.show(ui, &trace, &overlay, &[]));
                // A frame that drew nothing would time nothing: make sure rows were painted.
                assert!(vertices > 2_000, "{spans} spans, {scenario:?}: only {vertices} vertices drawn");
                if frame >= 2 {
                    layout.push(laid_out);
                    tessellation.push(tessellated);
                }
            }
            println!(
                "{spans:>9}  {:<10} {:>24}  {:>24}",
                format!("{scenario:?}"),
                stats(&mut layout),
                stats(&mut tessellation)
            );
        }
    }
    traces_view(if full { 100_000 } else { 2_000 }, frames);
}

/// Lays out one 1600×1000 frame drawn by `draw` and tessellates it: the two times and the
/// vertices drawn.
fn time_frame(ctx: &egui::Context, mut draw: impl FnMut(&mut egui::Ui)) -> (Duration, Duration, usize) {
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1600.0, 1000.0))),
        ..Default::default()
    };
    let start = Instant::now();
    let mut output = ctx.run_ui(input, |ui| {
        egui::CentralPanel::default().show(ui, |ui| draw(ui));
    });
    let laid_out = start.elapsed();
    output.textures_delta.clear(); // no GPU here: nothing uploads the font atlas
    let start = Instant::now();
    let meshes = ctx.tessellate(output.shapes, output.pixels_per_point);
    let tessellated = start.elapsed();
    let vertices = meshes
        .iter()
        .map(|m| match &m.primitive {
            egui::epaint::Primitive::Mesh(mesh) => mesh.vertices.len(),
            egui::epaint::Primitive::Callback(_) => 0,
        })
        .sum();
    (laid_out, tessellated, vertices)
}

/// The traces view at rest over `count` traces of the incident endpoint (plots decimated to
/// what can be seen, statistics over all of them).
fn traces_view(count: usize, frames: usize) {
    let mut traces = incident_traces::generate(incident_traces::Era::Before, count / 2, 1);
    traces.extend(incident_traces::generate(incident_traces::Era::After, count - count / 2, 2));
    let traces: Vec<_> = traces.into_iter().map(Arc::new).collect();
    let profile = Profile::built_in("slack").expect("built in");
    let started = Instant::now();
    let mut view = TracesView::new(traces, vec![String::new(); count], &profile, Vec::new());
    println!(
        "traces view over {count} traces: built (judged and indexed) in {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    let ctx = egui::Context::default();
    let (mut layout, mut tessellation) = (Vec::new(), Vec::new());
    for frame in 0..frames + 2 {
        let (laid_out, tessellated, vertices) = time_frame(&ctx, |ui| {
            view.ui(ui);
        });
        assert!(vertices > 2_000, "the traces view drew only {vertices} vertices");
        if frame >= 2 {
            layout.push(laid_out);
            tessellation.push(tessellated);
        }
    }
    println!("{count:>9}  {:<10} {:>24}  {:>24}", "traces", stats(&mut layout), stats(&mut tessellation));
}

fn stats(samples: &mut [Duration]) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    format!("{:.2} / {:.2} / {:.2}", ms(at(0.5)), ms(at(0.95)), ms(samples[samples.len() - 1]))
}
