//! The margin search drawn: the failure rate of each latency tried against the latency (egui_plot),
//! the margin as a green line and the first latency that broke as a red one.

use std::time::Duration;

use egui::Ui;
use egui_plot::{Line, Plot, PlotPoints, Points, VLine};

use super::theme;
use crate::replay::margin::{Knob, Step, human};

/// The label the plot carries (for screen readers and tests), before its points.
pub const PLOT_LABEL: &str = "Failure rate against injected";

/// What the plot says in words: "Failure rate against injected delivery latency: 0 s 0%, 2.50 s 0%, 5.00 s 100%".
pub fn description(knob: Knob, steps: &[Step]) -> String {
    let points: Vec<String> =
        sorted(steps).iter().map(|s| format!("{} {:.0}%", human(s.latency), s.failure_rate() * 100.0)).collect();
    format!("{PLOT_LABEL} {}: {}", knob.words(), points.join(", "))
}

fn sorted(steps: &[Step]) -> Vec<&Step> {
    let mut sorted: Vec<&Step> = steps.iter().collect();
    sorted.sort_by_key(|s| s.latency);
    sorted
}

/// Draws the steps so far; `margin` and `broke` (latencies) are marked when known.
pub fn show(ui: &mut Ui, knob: Knob, steps: &[Step], margin: Option<Duration>, broke: Option<Duration>) {
    let points: Vec<[f64; 2]> =
        sorted(steps).iter().map(|s| [s.latency.as_secs_f64(), s.failure_rate() * 100.0]).collect();
    let shown = Plot::new("margin-plot")
        .height(160.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .include_x(0.0)
        .include_y(0.0)
        .include_y(100.0)
        .x_axis_label(format!("injected {} (s)", knob.words()))
        .y_axis_label("failed %")
        .show(ui, |plot| {
            plot.line(Line::new("failure rate", PlotPoints::from(points.clone())).color(theme::CLOCK));
            plot.points(Points::new("latencies tried", PlotPoints::from(points)).radius(3.5).color(theme::CLOCK));
            if let Some(margin) = margin {
                plot.vline(
                    VLine::new(format!("holds up to {}", human(margin)), margin.as_secs_f64()).color(theme::PASS),
                );
            }
            if let Some(broke) = broke {
                plot.vline(VLine::new(format!("broke at {}", human(broke)), broke.as_secs_f64()).color(theme::MISS));
            }
        });
    let label = description(knob, steps);
    shown.response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, &label));
}
