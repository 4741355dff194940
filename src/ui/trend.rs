//! The server's miss rate over time, drawn above a traces view's scatter: what the back-end
//! (Tempo) counted over all its traffic in the search's range, one bar per bucket. A click on
//! a bar asks for that bucket's slowest traces (see [`super::search_run`]).

use std::time::Duration;

use egui::{RichText, Ui};
use egui_plot::{Bar, BarChart, Plot};
use jiff::Timestamp;

use super::theme;
use crate::analysis::MissRate;
use crate::fetch::{ServerStats, StatsQuery, step_text};
use crate::model::Nanos;

/// The label the plot carries (for screen readers and tests).
pub const PLOT_LABEL: &str = "Server miss rate per bucket";

/// The trend of a traces view.
pub enum Trend {
    /// The back-end is counting.
    Counting,
    /// What it counted, and the query it answered.
    Counted(Box<(StatsQuery, ServerStats)>),
    /// Why it could not count (Tempo without TraceQL metrics says so here).
    Failed(String),
}

/// A bucket length for a range of `seconds`: about 24 buckets, in whole minutes.
pub fn step_for(seconds: i64) -> Duration {
    let minutes = (seconds.max(60) as u64).div_ceil(24 * 60).max(1);
    Duration::from_secs(minutes * 60)
}

impl Trend {
    /// Draws the trend; returns the start and end of the bucket the user clicked.
    pub fn ui(&self, ui: &mut Ui, limit: Nanos) -> Option<(Timestamp, Timestamp)> {
        match self {
            Trend::Counting => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("the server is counting the misses over all its traffic…");
                });
                None
            }
            Trend::Failed(why) => {
                ui.label(RichText::new(format!("No miss rate from the server: {why}")).color(theme::GAP));
                None
            }
            Trend::Counted(counted) => counted_ui(ui, &counted.0, &counted.1, limit),
        }
    }
}

fn counted_ui(ui: &mut Ui, query: &StatsQuery, stats: &ServerStats, limit: Nanos) -> Option<(Timestamp, Timestamp)> {
    let whole = MissRate { missed: stats.whole.missed, judged: stats.whole.roots };
    let step = query.step?;
    ui.horizontal_wrapped(|ui| {
        ui.strong(format!("Over all traffic, per {}:", step_text(step)));
        ui.label(format!("{}, computed by {}", whole.sentence(limit), stats.source));
        ui.label(RichText::new("click a bar to search that bucket's slowest traces").weak());
    });
    let buckets = &stats.trend;
    let bars: Vec<Bar> = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let rate = MissRate { missed: b.missed, judged: b.roots }.rate().unwrap_or(0.0) * 100.0;
            let color = if b.missed > 0 { theme::MISS } else { theme::PASS };
            Bar::new(i as f64, rate).width(0.8).fill(color).name(b.start.strftime("%Y-%m-%d %H:%M").to_string())
        })
        .collect();
    let shown = Plot::new("server-trend")
        .height(110.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .include_x(-0.5)
        .include_x(buckets.len() as f64 - 0.5)
        .include_y(0.0)
        .y_axis_label("missed %")
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new("miss rate", bars));
            plot.pointer_coordinate()
        });
    shown.response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, PLOT_LABEL));
    if !shown.response.clicked() {
        return None;
    }
    let x = shown.inner?.x.round();
    let bucket = buckets.get(usize::try_from(x as i64).ok()?)?;
    let end = bucket.start.checked_add(jiff::SignedDuration::try_from(step).ok()?).ok()?;
    Some((bucket.start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn about_24_buckets_in_whole_minutes() {
        assert_eq!(step_for(3600), Duration::from_secs(180));
        assert_eq!(step_for(86_400), Duration::from_secs(3600));
        assert_eq!(step_for(10), Duration::from_secs(60));
        assert_eq!(step_for(7 * 86_400), Duration::from_secs(7 * 3600));
    }
}
