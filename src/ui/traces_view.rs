//! The traces view: many traces at once, to find the one that missed and say how often it
//! happens. A scatter of response time against start time with the deadline drawn across it,
//! a histogram, the miss rate with its confidence interval, per-endpoint figures and a
//! sortable table; a click opens a trace's waterfall. Above them, when the traces came from a
//! back-end that counts ([`Trend`]), the server's miss rate over time.

use std::sync::Arc;

use egui::{Color32, RichText, Ui};
use egui_plot::{Bar, BarChart, HLine, Plot, PlotPoint, PlotPoints, Points, VLine};

use super::theme;
use super::trend::Trend;
use crate::analysis::{EndpointStats, Outcome, Profile, Sample, Summary, analyze, by_endpoint, percent};
use crate::model::{Nanos, Trace, format_duration};

/// The most points the scatter draws; beyond it, points that would overlap are merged.
const MAX_POINTS: usize = 20_000;
/// Bars of the response-time histogram.
const HISTOGRAM_BINS: usize = 40;

/// One trace, as the table and the plots see it.
#[derive(Clone, Debug)]
pub struct TraceRow {
    /// Its index in the view's traces.
    pub index: usize,
    /// Start, absolute.
    pub start: Nanos,
    /// The root span's name (the endpoint).
    pub root: String,
    /// The root span's service.
    pub service: String,
    /// Number of spans.
    pub spans: usize,
    /// Number of failed spans.
    pub errors: usize,
    /// Response time under the profile, when the trace could be judged.
    pub response: Option<Nanos>,
    /// Pass, miss or undecided.
    pub outcome: Outcome,
    /// Where the trace came from (file name), for the table.
    pub source: String,
}

/// A trace's verdict as the traces view keeps it.
#[derive(Clone, Debug)]
pub struct Judged {
    sample: Sample,
    outcome: Outcome,
}

impl Judged {
    /// Judges `trace` under `profile`: O(spans), so many traces are judged on a worker.
    pub fn of(trace: &Trace, profile: &Profile) -> Self {
        let verdict = analyze(trace, profile);
        Judged { sample: Sample::of(&verdict), outcome: verdict.outcome }
    }
}

/// Table columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// Start time.
    Start,
    /// Root operation.
    Root,
    /// Service.
    Service,
    /// Span count.
    Spans,
    /// Failed spans.
    Errors,
    /// Response time.
    Response,
}

/// The traces view's data and state.
pub struct TracesView {
    traces: Vec<Arc<Trace>>,
    rows: Vec<TraceRow>,
    /// Each trace's figures, for the summary.
    samples: Vec<Sample>,
    order: Vec<usize>,
    summary: Summary,
    endpoints: Vec<EndpointStats>,
    profile: Profile,
    first_start: Nanos,
    sort: (Column, bool),
    /// The scatter's points for a plot width, until the traces change.
    scatter_points: Option<(usize, ScatterPoints)>,
    /// The histogram's bin width and counts, until the traces change.
    histogram: Option<(f64, [u32; HISTOGRAM_BINS])>,
    range: Option<(f64, f64)>,
    drag_from: Option<f64>,
    /// Files that could not be read, with their errors.
    pub errors: Vec<String>,
    /// What loading has to say besides errors (traces joined from several files).
    pub notes: Vec<String>,
    /// The server's miss rate over time, drawn above the scatter.
    pub trend: Option<Trend>,
    /// A bucket of the trend the user clicked, until taken.
    asked_bucket: Option<(jiff::Timestamp, jiff::Timestamp)>,
}

impl TracesView {
    /// Judges every trace under `profile` and indexes them. O(total spans): run it on a worker.
    /// `sources` names where each trace came from.
    pub fn new(traces: Vec<Arc<Trace>>, sources: Vec<String>, profile: &Profile, errors: Vec<String>) -> Self {
        let mut view = TracesView {
            traces: Vec::new(),
            rows: Vec::new(),
            samples: Vec::new(),
            order: Vec::new(),
            summary: Summary::of(std::iter::empty()),
            endpoints: Vec::new(),
            profile: profile.clone(),
            first_start: 0,
            sort: (Column::Response, true),
            scatter_points: None,
            histogram: None,
            range: None,
            drag_from: None,
            errors,
            notes: Vec::new(),
            trend: None,
            asked_bucket: None,
        };
        view.extend(traces, sources);
        view
    }

    /// Adds traces (as a search brings them in), judging each and updating the figures, the
    /// plots and the table's order.
    pub fn extend(&mut self, traces: Vec<Arc<Trace>>, sources: Vec<String>) {
        let mut sources = sources.into_iter();
        for trace in traces {
            let Judged { sample, outcome } = Judged::of(&trace, &self.profile);
            let root = trace.roots().first().map(|&r| trace.span(r));
            self.rows.push(TraceRow {
                index: self.traces.len(),
                start: trace.start(),
                root: root.map_or_else(String::new, |s| trace.str(s.name).to_owned()),
                service: root.map_or_else(String::new, |s| trace.str(s.service).to_owned()),
                spans: trace.len(),
                errors: trace.spans().iter().filter(|s| s.is_error()).count(),
                response: sample.judged_response(),
                outcome,
                source: sources.next().unwrap_or_default(),
            });
            self.samples.push(sample);
            self.traces.push(trace);
        }
        self.refresh();
    }

    /// Works the figures, the table's order and the plots out again from the rows.
    fn refresh(&mut self) {
        self.summary = Summary::of(self.samples.iter().cloned());
        self.endpoints = by_endpoint(self.rows.iter().map(|r| r.root.as_str()).zip(self.samples.iter().cloned()));
        self.first_start = self.rows.iter().map(|r| r.start).min().unwrap_or(0);
        self.order = (0..self.rows.len()).collect();
        self.sort_by(self.sort.0, self.sort.1);
        self.scatter_points = None;
        self.histogram = None;
    }

    /// Every trace judged under `profile` (another platform's deadline), keeping the table's
    /// sort and range: the verdicts `judged` has for a trace (worked out on a worker), the rest
    /// (traces a search added since) judged here.
    pub fn set_profile(&mut self, profile: &Profile, judged: impl Fn(&Arc<Trace>) -> Option<Judged>) {
        self.profile = profile.clone();
        for ((trace, row), sample) in self.traces.iter().zip(&mut self.rows).zip(&mut self.samples) {
            let Judged { sample: new, outcome } = judged(trace).unwrap_or_else(|| Judged::of(trace, profile));
            (row.outcome, row.response) = (outcome, new.judged_response());
            *sample = new;
        }
        self.refresh();
    }

    /// Drops every trace (keeping the profile and the trend), for a new search to fill.
    pub fn clear(&mut self) {
        self.traces.clear();
        self.rows.clear();
        self.samples.clear();
        self.range = None;
        self.extend(Vec::new(), Vec::new());
    }

    /// The deadline traces are judged against.
    pub fn deadline(&self) -> Nanos {
        self.profile.limit
    }

    /// The start and end of the trend's bucket the user clicked, once.
    pub fn take_bucket(&mut self) -> Option<(jiff::Timestamp, jiff::Timestamp)> {
        self.asked_bucket.take()
    }

    /// How many traces the view holds.
    pub fn len(&self) -> usize {
        self.traces.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.traces.is_empty()
    }

    /// The summary across all traces.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Every trace, in the order they came.
    pub fn traces(&self) -> &[Arc<Trace>] {
        &self.traces
    }

    /// One trace.
    pub fn trace(&self, index: usize) -> &Arc<Trace> {
        &self.traces[index]
    }

    /// The rows in table order, narrowed to the selected time range.
    pub fn visible_rows(&self) -> impl Iterator<Item = &TraceRow> {
        self.order.iter().map(|&i| &self.rows[i]).filter(|r| self.in_range(r))
    }

    fn in_range(&self, row: &TraceRow) -> bool {
        self.range.is_none_or(|(a, b)| (a..=b).contains(&self.seconds(row.start)))
    }

    fn seconds(&self, start: Nanos) -> f64 {
        (start - self.first_start) as f64 / 1e9
    }

    /// Sorts the table (unjudged traces last).
    pub fn sort_by(&mut self, column: Column, descending: bool) {
        self.sort = (column, descending);
        let rows = &self.rows;
        self.order.sort_by(|&a, &b| {
            let (a, b) = (&rows[a], &rows[b]);
            let ord = match column {
                Column::Start => a.start.cmp(&b.start),
                Column::Root => a.root.cmp(&b.root),
                Column::Service => a.service.cmp(&b.service),
                Column::Spans => a.spans.cmp(&b.spans),
                Column::Errors => a.errors.cmp(&b.errors),
                // Unjudged (`None`) sorts after every time, whichever way the times go.
                Column::Response => match (a.response, b.response) {
                    (Some(a), Some(b)) => a.cmp(&b),
                    (a, b) => return a.is_none().cmp(&b.is_none()),
                },
            };
            if descending { ord.reverse() } else { ord }
        });
    }

    /// Narrows the table to traces starting between `from` and `to` seconds after the first.
    pub fn set_range(&mut self, range: Option<(f64, f64)>) {
        self.range = range;
    }

    /// Draws the view; returns the index of a trace the user asked to open.
    pub fn ui(&mut self, ui: &mut Ui) -> Option<usize> {
        let mut open = None;
        let rate = self.summary.rate.sentence(self.profile.limit);
        let color = if self.summary.rate.missed > 0 { theme::MISS } else { theme::PASS };
        ui.label(RichText::new(rate).color(color).size(17.0).strong());
        ui.horizontal_wrapped(|ui| {
            ui.label(format!("{} traces", self.summary.traces));
            if self.summary.undecided > 0 {
                ui.label(RichText::new(format!("{} could not be judged", self.summary.undecided)).color(theme::GAP));
            }
            if let Some(p) = &self.summary.response {
                ui.label(format!(
                    "response p50 {} · p95 {} · p99 {} · max {}",
                    format_duration(p.p50),
                    format_duration(p.p95),
                    format_duration(p.p99),
                    format_duration(p.max)
                ));
            }
            if let Some(worst) = self.summary.worst
                && ui.button("Open the worst trace").clicked()
            {
                open = Some(worst);
            }
        });
        if !self.errors.is_empty() {
            egui::CollapsingHeader::new(
                RichText::new(format!("{} file(s) could not be read", self.errors.len())).color(theme::MISS),
            )
            .id_salt("corpus-errors")
            .show(ui, |ui| {
                for e in &self.errors {
                    ui.label(RichText::new(e).monospace());
                }
            });
        }
        if !self.notes.is_empty() {
            egui::CollapsingHeader::new(format!("{} note(s) on loading", self.notes.len()))
                .id_salt("corpus-notes")
                .show(ui, |ui| {
                    for note in &self.notes {
                        ui.label(RichText::new(note).monospace());
                    }
                });
        }
        ui.separator();
        if let Some(trend) = &self.trend {
            self.asked_bucket = trend.ui(ui, self.profile.limit).or(self.asked_bucket);
            ui.separator();
        }
        ui.columns(2, |cols| {
            if let Some(i) = self.scatter(&mut cols[0]) {
                open = Some(i);
            }
            self.histogram(&mut cols[1]);
            self.endpoint_table(&mut cols[1]);
        });
        ui.separator();
        if let Some(i) = self.table(ui) {
            open = Some(i);
        }
        open
    }

    fn scatter(&mut self, ui: &mut Ui) -> Option<usize> {
        // The points change only with the traces and the plot's width: worked out once for
        // them, not every frame (at 100,000 traces that would take most of the frame).
        let width = ui.available_width().max(100.0) as usize;
        if self.scatter_points.as_ref().is_none_or(|(w, _)| *w != width) {
            self.scatter_points = Some((width, self.points(width)));
        }
        let (_, points) = self.scatter_points.take()?;
        let open = self.draw_scatter(ui, &points);
        self.scatter_points = Some((width, points));
        open
    }

    fn draw_scatter(&mut self, ui: &mut Ui, points: &ScatterPoints) -> Option<usize> {
        let limit_s = self.profile.limit as f64 / 1e9;
        ui.horizontal(|ui| {
            ui.strong("Response time by start time");
            if let Some((a, b)) = self.range {
                ui.label(format!("table narrowed to {a:.1}–{b:.1} s"));
                if ui.small_button("Clear range").clicked() {
                    self.range = None;
                }
            } else {
                ui.label(RichText::new("drag across the plot to narrow the table").weak());
            }
        });
        if points.merged > 0 {
            ui.label(
                RichText::new(format!(
                    "{} of {} points drawn: overlapping points merged; every trace counts in the figures",
                    points.met.len() + points.missed.len(),
                    self.rows.len()
                ))
                .color(theme::GAP),
            );
        }
        let rows = &self.rows;
        let first_start = self.first_start;
        let response = Plot::new("traces-scatter")
            .height(240.0)
            .x_axis_label("start (s after the first trace)")
            .y_axis_label("response (s)")
            .include_y(0.0)
            .include_y(limit_s * 1.1)
            .allow_drag(false)
            .allow_boxed_zoom(false)
            .label_formatter(|hover| match hover {
                // On a point: the trace it stands for (the nearest, when points were merged).
                egui_plot::HoverPosition::NearDataPoint { position, .. } => {
                    let distance = |row: &TraceRow| {
                        let y = row.response.map_or(f64::INFINITY, |r| r as f64 / 1e9);
                        let x = (row.start - first_start) as f64 / 1e9;
                        (x - position.x).powi(2) + (y - position.y).powi(2)
                    };
                    let row = rows.iter().min_by(|a, b| distance(a).total_cmp(&distance(b)))?;
                    Some(format!(
                        "{} · {} · {} · start {:+.2} s",
                        row.root,
                        row.response.map_or_else(|| "-".to_owned(), format_duration),
                        verdict_word(row.outcome).0,
                        position.x
                    ))
                }
                egui_plot::HoverPosition::Elsewhere { position } => {
                    Some(format!("start {:+.2} s, response {:.3} s", position.x, position.y))
                }
            })
            .show(ui, |plot| {
                plot.hline(HLine::new("deadline", limit_s).color(theme::MISS).width(1.5));
                plot.points(Points::new("met", PlotPoints::Borrowed(&points.met)).color(theme::PASS).radius(2.5));
                plot.points(Points::new("missed", PlotPoints::Borrowed(&points.missed)).color(theme::MISS).radius(3.0));
                if let Some((a, b)) = self.range {
                    plot.vline(VLine::new("range start", a).color(Color32::GRAY));
                    plot.vline(VLine::new("range end", b).color(Color32::GRAY));
                }
                plot.pointer_coordinate()
            });
        let pointer = response.inner;
        let r = &response.response;
        if r.drag_started() {
            self.drag_from = pointer.map(|p| p.x);
        }
        if r.drag_stopped()
            && let (Some(from), Some(to)) = (self.drag_from.take(), pointer.map(|p| p.x))
            && (to - from).abs() > 1e-9
        {
            self.range = Some((from.min(to), from.max(to)));
        }
        // A click opens the trace whose point is nearest on screen.
        if r.clicked()
            && let Some(click) = r.interact_pointer_pos()
        {
            let transform = response.transform;
            let nearest = rows
                .iter()
                .filter_map(|row| {
                    let y = row.response? as f64 / 1e9;
                    let x = (row.start - first_start) as f64 / 1e9;
                    let at = transform.position_from_point(&egui_plot::PlotPoint::new(x, y));
                    Some((row.index, at.distance(click)))
                })
                .min_by(|a, b| a.1.total_cmp(&b.1));
            if let Some((index, distance)) = nearest
                && distance < 8.0
            {
                return Some(index);
            }
        }
        None
    }

    /// Scatter points, merged per pixel-sized cell when there are too many to draw.
    fn points(&self, width_px: usize) -> ScatterPoints {
        let all = self.rows.iter().filter_map(|r| Some((self.seconds(r.start), r.response? as f64 / 1e9, r.outcome)));
        if self.rows.len() <= MAX_POINTS {
            let (mut met, mut missed) = (Vec::new(), Vec::new());
            for (x, y, outcome) in all {
                if outcome == Outcome::Miss {
                    missed.push(PlotPoint::new(x, y))
                } else {
                    met.push(PlotPoint::new(x, y))
                }
            }
            return ScatterPoints { met, missed, merged: 0 };
        }
        let max_x = self.rows.iter().map(|r| self.seconds(r.start)).fold(0.0, f64::max).max(1e-9);
        let max_y = self.rows.iter().filter_map(|r| r.response).max().unwrap_or(1) as f64 / 1e9;
        let mut seen = std::collections::HashSet::new();
        let (mut met, mut missed, mut merged) = (Vec::new(), Vec::new(), 0);
        for (x, y, outcome) in all {
            let cell =
                ((x / max_x * width_px as f64) as u32, (y / max_y.max(1e-9) * 240.0) as u32, outcome == Outcome::Miss);
            if !seen.insert(cell) {
                merged += 1;
                continue;
            }
            if cell.2 { missed.push(PlotPoint::new(x, y)) } else { met.push(PlotPoint::new(x, y)) }
        }
        ScatterPoints { met, missed, merged }
    }

    /// The histogram's bin width (s) and counts, over every judged trace.
    fn histogram_counts(&self) -> (f64, [u32; HISTOGRAM_BINS]) {
        let times = || self.rows.iter().filter_map(|r| r.response).map(|t| t as f64 / 1e9);
        let max = times().fold(self.profile.limit as f64 / 1e9, f64::max) * 1.02;
        let width = max / HISTOGRAM_BINS as f64;
        let mut counts = [0u32; HISTOGRAM_BINS];
        for t in times() {
            counts[((t / width) as usize).min(HISTOGRAM_BINS - 1)] += 1;
        }
        (width, counts)
    }

    fn histogram(&mut self, ui: &mut Ui) {
        let (width, counts) = match self.histogram {
            Some(cached) => cached,
            None => *self.histogram.insert(self.histogram_counts()),
        };
        let limit_s = self.profile.limit as f64 / 1e9;
        let bars: Vec<Bar> = counts
            .iter()
            .enumerate()
            .map(|(b, &c)| {
                let center = (b as f64 + 0.5) * width;
                let color = if center > limit_s { theme::MISS } else { theme::PASS };
                Bar::new(center, c as f64).width(width * 0.9).fill(color)
            })
            .collect();
        ui.strong("Response times");
        Plot::new("traces-histogram")
            .height(140.0)
            .x_axis_label("response (s)")
            .y_axis_label("traces")
            .allow_drag(false)
            .allow_zoom(false)
            .allow_scroll(false)
            .show(ui, |plot| {
                plot.bar_chart(BarChart::new("traces", bars));
                plot.vline(VLine::new("deadline", limit_s).color(theme::MISS).width(1.5));
            });
    }

    fn endpoint_table(&self, ui: &mut Ui) {
        ui.strong("By endpoint");
        egui::ScrollArea::vertical().id_salt("endpoints").max_height(120.0).show(ui, |ui| {
            egui::Grid::new("endpoint-grid").striped(true).show(ui, |ui| {
                for title in ["endpoint", "traces", "missed", "miss rate", "p50", "p95", "p99", "max"] {
                    ui.strong(title);
                }
                ui.end_row();
                for e in &self.endpoints {
                    let s = &e.summary;
                    ui.label(&e.endpoint);
                    ui.label(s.traces.to_string());
                    let missed = RichText::new(s.rate.missed.to_string());
                    ui.label(if s.rate.missed > 0 { missed.color(theme::MISS) } else { missed });
                    ui.label(s.rate.rate().map_or("-".to_owned(), |r| format!("{}%", percent(r))));
                    for value in
                        s.response.as_ref().map_or([None; 4], |p| [Some(p.p50), Some(p.p95), Some(p.p99), Some(p.max)])
                    {
                        ui.label(value.map_or("-".to_owned(), format_duration));
                    }
                    ui.end_row();
                }
            });
        });
    }

    fn table(&mut self, ui: &mut Ui) -> Option<usize> {
        let mut open = None;
        let widths = [110.0, 260.0, 110.0, 60.0, 60.0, 110.0, 80.0];
        ui.horizontal(|ui| {
            for (i, (column, title)) in [
                (Some(Column::Start), "start"),
                (Some(Column::Root), "root operation"),
                (Some(Column::Service), "service"),
                (Some(Column::Spans), "spans"),
                (Some(Column::Errors), "errors"),
                (Some(Column::Response), "response"),
                (None, "verdict"),
            ]
            .into_iter()
            .enumerate()
            {
                let marker =
                    if column == Some(self.sort.0) { if self.sort.1 { " (desc)" } else { " (asc)" } } else { "" };
                let button = ui.add_sized([widths[i], 18.0], egui::Button::new(format!("{title}{marker}")));
                if let Some(column) = column
                    && button.clicked()
                {
                    let descending = if self.sort.0 == column { !self.sort.1 } else { true };
                    self.sort_by(column, descending);
                }
            }
        });
        let visible: Vec<usize> = self.order.iter().copied().filter(|&i| self.in_range(&self.rows[i])).collect();
        egui::ScrollArea::vertical().id_salt("traces-table").auto_shrink(false).show_rows(
            ui,
            20.0,
            visible.len(),
            |ui, range| {
                for &i in &visible[range] {
                    let row = &self.rows[i];
                    ui.horizontal(|ui| {
                        let cells = [
                            format!("+{:.2} s", self.seconds(row.start)),
                            row.root.clone(),
                            row.service.clone(),
                            row.spans.to_string(),
                            row.errors.to_string(),
                            row.response.map_or("-".to_owned(), format_duration),
                        ];
                        for (k, text) in cells.into_iter().enumerate() {
                            let label = if k == 1 {
                                ui.add_sized([widths[k], 18.0], egui::Button::new(text).frame(false))
                                    .on_hover_text(format!("Open this trace ({})", row.source))
                            } else {
                                ui.add_sized([widths[k], 18.0], egui::Label::new(text).truncate())
                            };
                            if label.clicked() {
                                open = Some(row.index);
                            }
                        }
                        let (text, color) = verdict_word(row.outcome);
                        ui.add_sized([widths[6], 18.0], egui::Label::new(RichText::new(text).color(color)));
                    });
                }
            },
        );
        open
    }
}

/// How the table and the hover say a trace's verdict, and its colour.
fn verdict_word(outcome: Outcome) -> (&'static str, Color32) {
    match outcome {
        Outcome::Pass => ("met", theme::PASS),
        Outcome::Miss => ("missed", theme::MISS),
        Outcome::Undecided => ("not judged", theme::GAP),
    }
}

struct ScatterPoints {
    met: Vec<PlotPoint>,
    missed: Vec<PlotPoint>,
    merged: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{Check, Rule};
    use crate::model::{RawSpan, SpanId, TraceBuilder, TraceId};

    const MS: Nanos = 1_000_000;

    /// A one-span trace named `name`, lasting `ms`.
    fn trace(id: u128, name: &str, ms: Nanos) -> Arc<Trace> {
        trace_at(id, name, 0, ms)
    }

    /// A one-span trace named `name`, starting `start_s` seconds in and lasting `ms`.
    fn trace_at(id: u128, name: &str, start_s: Nanos, ms: Nanos) -> Arc<Trace> {
        let mut builder = TraceBuilder::new();
        let start = start_s * 1_000 * MS;
        let mut span = RawSpan::new(TraceId(id), SpanId::new(id as u64).unwrap(), None, start, Some(start + ms * MS));
        span.name = builder.intern(name);
        builder.push_span(span);
        Arc::new(builder.build().unwrap().remove(0))
    }

    /// Three traces a second apart under Slack's 3 s: `POST /slow` (4 s, missed), `GET /fast`
    /// (20 ms) and `POST /ok` (1 s).
    fn three() -> TracesView {
        let traces = vec![
            trace_at(1, "POST /slow", 0, 4_000),
            trace_at(2, "GET /fast", 1, 20),
            trace_at(3, "POST /ok", 2, 1_000),
        ];
        let sources = ["a.json", "b.json", "c.json"].map(String::from).to_vec();
        TracesView::new(traces, sources, &Profile::default_profile(), Vec::new())
    }

    fn order(view: &TracesView) -> Vec<usize> {
        view.visible_rows().map(|r| r.index).collect()
    }

    #[test]
    fn unjudged_traces_sort_last_both_ways() {
        // The profile judges spans named POST…; the GET trace cannot be judged.
        let mut profile = Profile::custom(3_000 * MS);
        profile.checks = vec![Check::matching(Rule::parse("name~POST").unwrap())];
        let traces = vec![trace(1, "POST /a", 2_000), trace(2, "GET /b", 50), trace(3, "POST /c", 100)];
        let mut view = TracesView::new(traces, vec![String::new(); 3], &profile, Vec::new());
        assert_eq!(view.rows[1].response, None, "the GET trace is not judged");
        view.sort_by(Column::Response, false);
        assert_eq!(order(&view), [2, 0, 1]);
        view.sort_by(Column::Response, true);
        assert_eq!(order(&view), [0, 2, 1]);
    }

    #[test]
    fn the_table_sorts_by_each_column_both_ways() {
        let mut view = three();
        assert_eq!(order(&view), [0, 2, 1], "slowest first at the start");
        view.sort_by(Column::Root, false);
        assert_eq!(order(&view), [1, 2, 0], "GET /fast, POST /ok, POST /slow");
        view.sort_by(Column::Start, true);
        assert_eq!(order(&view), [2, 1, 0]);
        view.sort_by(Column::Start, false);
        assert_eq!(order(&view), [0, 1, 2]);
        view.sort_by(Column::Response, false);
        assert_eq!(order(&view), [1, 2, 0]);
    }

    #[test]
    fn a_time_range_narrows_the_table_and_clearing_it_brings_every_trace_back() {
        let mut view = three();
        view.sort_by(Column::Start, false);
        view.set_range(Some((0.5, 2.5)));
        assert_eq!(order(&view), [1, 2], "the traces starting 1 s and 2 s after the first");
        view.set_range(None);
        assert_eq!(order(&view), [0, 1, 2]);
        view.set_range(Some((0.5, 2.5)));
        view.clear();
        assert!(view.is_empty() && order(&view).is_empty());
        view.extend(vec![trace(9, "POST /new", 10)], vec!["d.json".into()]);
        assert_eq!(order(&view), [0], "a cleared view drops its range with its traces");
    }

    #[test]
    fn judged_traces_show_their_verdicts_the_miss_rate_and_where_they_came_from() {
        let view = three();
        let rows: Vec<(&str, Outcome, Option<Nanos>, &str)> =
            view.rows.iter().map(|r| (r.root.as_str(), r.outcome, r.response, r.source.as_str())).collect();
        assert_eq!(
            rows,
            [
                ("POST /slow", Outcome::Miss, Some(4_000 * MS), "a.json"),
                ("GET /fast", Outcome::Pass, Some(20 * MS), "b.json"),
                ("POST /ok", Outcome::Pass, Some(1_000 * MS), "c.json"),
            ]
        );
        assert_eq!((view.summary().traces, view.summary().rate.missed, view.summary().worst), (3, 1, Some(0)));
        let points = view.points(800);
        assert_eq!((points.met.len(), points.missed.len(), points.merged), (2, 1, 0));
        let (_, counts) = view.histogram_counts();
        assert_eq!(counts.iter().sum::<u32>(), 3, "every judged trace is in the histogram");
    }

    #[test]
    fn another_profile_judges_every_trace_again_and_keeps_the_sort() {
        let mut view = three();
        view.sort_by(Column::Root, false);
        let profile = Profile::default_profile().with_limit(500 * MS);
        // The first trace judged on a worker, the others here.
        let (first, judged) = (Arc::clone(view.trace(0)), Judged::of(view.trace(0), &profile));
        view.set_profile(&profile, |t| Arc::ptr_eq(t, &first).then(|| judged.clone()));
        assert_eq!(view.deadline(), 500 * MS);
        let outcomes: Vec<Outcome> = view.rows.iter().map(|r| r.outcome).collect();
        assert_eq!(outcomes, [Outcome::Miss, Outcome::Pass, Outcome::Miss], "POST /ok now misses");
        assert_eq!(view.summary().rate.missed, 2);
        assert_eq!(order(&view), [1, 2, 0], "still by root operation");
        assert_eq!(view.rows[2].source, "c.json", "sources stay with their traces");
    }

    /// The view in a window; the state keeps the last trace the view asked to open.
    fn harness(view: TracesView) -> egui_kittest::Harness<'static, (TracesView, Option<usize>)> {
        egui_kittest::Harness::builder().with_size(egui::vec2(1300.0, 900.0)).build_ui_state(
            |ui, (view, opened): &mut (TracesView, Option<usize>)| {
                egui::CentralPanel::default().show(ui, |ui| {
                    if let Some(i) = view.ui(ui) {
                        *opened = Some(i);
                    }
                });
            },
            (view, None),
        )
    }

    #[test]
    fn the_view_says_the_miss_rate_and_opens_the_trace_a_person_clicks() {
        use egui_kittest::kittest::Queryable;
        let mut h = harness(three());
        h.run_steps(2);
        assert!(h.query_by_label_contains("1 of 3 missed the 3 s deadline").is_some());
        // The endpoints' "missed" column, and the one trace that missed.
        assert_eq!(h.query_all_by_label("missed").count(), 2);
        assert_eq!(h.query_all_by_label("met").count(), 2);
        h.get_by_role_and_label(egui::accesskit::Role::Button, "POST /ok").click();
        h.run_steps(2);
        assert_eq!(h.state().1, Some(2));
        h.get_by_label("Open the worst trace").click();
        h.run_steps(2);
        assert_eq!(h.state().1, Some(0), "the worst is the 4 s trace");
        h.get_by_label("root operation").click();
        h.run_steps(2);
        assert!(h.query_by_label("root operation (desc)").is_some(), "a header click sorts by it, descending first");
        assert_eq!(order(&h.state().0), [0, 2, 1]);
        h.get_by_label("root operation (desc)").click();
        h.run_steps(2);
        assert_eq!(order(&h.state().0), [1, 2, 0], "a second click turns the order");
        assert!(h.query_by_label("root operation (asc)").is_some());
    }
}
