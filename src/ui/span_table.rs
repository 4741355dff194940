//! The span table: spans grouped by (op, name) with count, total, self time, p50, p95 and max,
//! sortable by any column; a click highlights the group's spans in the waterfall, and a
//! histogram (egui_plot) shows how the group's durations spread.

use egui::{RichText, Ui};
use egui_plot::{Bar, BarChart, Plot};

use crate::model::{Nanos, SpanIdx, StrId, Trace, format_duration};

/// One (op, name) group.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The op.
    pub op: StrId,
    /// The name.
    pub name: StrId,
    /// Its spans, depth-first.
    pub spans: Vec<SpanIdx>,
    /// Sum of durations.
    pub total: Nanos,
    /// Sum of self times.
    pub self_time: Nanos,
    /// Median duration.
    pub p50: Nanos,
    /// 95th percentile duration.
    pub p95: Nanos,
    /// Longest duration.
    pub max: Nanos,
}

/// Columns the table sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// Op and name.
    Name,
    /// Span count.
    Count,
    /// Total duration.
    Total,
    /// Total self time.
    SelfTime,
    /// Median.
    P50,
    /// 95th percentile.
    P95,
    /// Longest.
    Max,
}

/// The table's groups and view state, built once per trace.
pub struct SpanTable {
    groups: Vec<Group>,
    sort: Column,
    descending: bool,
    /// The group whose spans are highlighted.
    pub selected: Option<usize>,
}

/// The `q` quantile of sorted durations (nearest rank).
fn quantile(sorted: &[Nanos], q: f64) -> Nanos {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

impl SpanTable {
    /// Groups the spans of `trace`; `self_time` is each span's self time (from the analysis).
    pub fn new(trace: &Trace, self_time: &[Nanos]) -> Self {
        let mut order: Vec<SpanIdx> = (0..trace.len() as SpanIdx).collect();
        let key = |i: SpanIdx| (trace.span(i).op, trace.span(i).name);
        order.sort_by_key(|&i| (key(i), i));
        let mut groups = Vec::new();
        for chunk in order.chunk_by(|&a, &b| key(a) == key(b)) {
            let mut durations: Vec<Nanos> = chunk.iter().map(|&i| trace.span(i).duration()).collect();
            durations.sort_unstable();
            let (op, name) = key(chunk[0]);
            groups.push(Group {
                op,
                name,
                spans: chunk.to_vec(),
                total: durations.iter().sum(),
                self_time: chunk.iter().map(|&i| self_time.get(i as usize).copied().unwrap_or(0)).sum(),
                p50: quantile(&durations, 0.5),
                p95: quantile(&durations, 0.95),
                max: durations.last().copied().unwrap_or(0),
            });
        }
        let mut table = SpanTable { groups, sort: Column::Total, descending: true, selected: None };
        table.sort_by(Column::Total, true, trace);
        table
    }

    /// The groups in display order.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// Sorts the rows.
    pub fn sort_by(&mut self, column: Column, descending: bool, trace: &Trace) {
        self.sort = column;
        self.descending = descending;
        let selected = self.selected.map(|i| (self.groups[i].op, self.groups[i].name));
        let key = |g: &Group| match column {
            Column::Count => g.spans.len() as i64,
            Column::Total => g.total,
            Column::SelfTime => g.self_time,
            Column::P50 => g.p50,
            Column::P95 => g.p95,
            Column::Max => g.max,
            Column::Name => 0,
        };
        if column == Column::Name {
            self.groups.sort_by(|a, b| (trace.str(a.op), trace.str(a.name)).cmp(&(trace.str(b.op), trace.str(b.name))));
        } else {
            self.groups.sort_by_key(key);
        }
        if descending {
            self.groups.reverse();
        }
        self.selected = selected.and_then(|(op, name)| self.groups.iter().position(|g| g.op == op && g.name == name));
    }

    /// Per-span flags for the selected group's spans (empty when nothing is selected).
    pub fn highlight(&self, len: usize) -> Vec<bool> {
        let Some(group) = self.selected.map(|i| &self.groups[i]) else { return Vec::new() };
        let mut flags = vec![false; len];
        for &i in &group.spans {
            flags[i as usize] = true;
        }
        flags
    }

    /// Draws the table and, for the selected group, its histogram. Returns the first span of a
    /// group the user clicked, to reveal in the waterfall.
    pub fn ui(&mut self, ui: &mut Ui, trace: &Trace) -> Option<SpanIdx> {
        let mut clicked = None;
        ui.horizontal(|ui| {
            ui.strong(format!("{} groups of spans by op and name", self.groups.len()));
            ui.label(RichText::new("click a header to sort, a row to highlight its spans").weak());
        });
        let histogram_width = if self.selected.is_some() { 320.0 } else { 0.0 };
        ui.horizontal_top(|ui| {
            let table_width = (ui.available_width() - histogram_width).max(200.0);
            ui.allocate_ui(egui::vec2(table_width, ui.available_height()), |ui| {
                egui::ScrollArea::vertical().id_salt("span-table").auto_shrink(false).show(ui, |ui| {
                    egui::Grid::new("span-table-grid").num_columns(7).striped(true).show(ui, |ui| {
                        for (column, title) in [
                            (Column::Name, "op / name"),
                            (Column::Count, "count"),
                            (Column::Total, "total"),
                            (Column::SelfTime, "self"),
                            (Column::P50, "p50"),
                            (Column::P95, "p95"),
                            (Column::Max, "max"),
                        ] {
                            let arrow = if self.sort == column {
                                if self.descending { " (desc)" } else { " (asc)" }
                            } else {
                                ""
                            };
                            if ui.button(format!("{title}{arrow}")).clicked() {
                                let descending =
                                    if self.sort == column { !self.descending } else { column != Column::Name };
                                self.sort_by(column, descending, trace);
                            }
                        }
                        ui.end_row();
                        for (i, g) in self.groups.iter().enumerate() {
                            let name = format!("{}  {}", trace.str(g.op), trace.str(g.name));
                            if ui.selectable_label(self.selected == Some(i), name).clicked() {
                                self.selected = if self.selected == Some(i) { None } else { Some(i) };
                                clicked = g.spans.first().copied();
                            }
                            ui.label(g.spans.len().to_string());
                            for value in [g.total, g.self_time, g.p50, g.p95, g.max] {
                                ui.label(format_duration(value));
                            }
                            ui.end_row();
                        }
                    });
                });
            });
            if let Some(group) = self.selected.and_then(|i| self.groups.get(i)) {
                histogram(ui, trace, group);
            }
        });
        clicked
    }
}

/// Durations of one group, binned.
fn histogram(ui: &mut Ui, trace: &Trace, group: &Group) {
    const BINS: usize = 24;
    let max = group.max.max(1) as f64;
    let mut counts = [0u32; BINS];
    for &i in &group.spans {
        let bin = ((trace.span(i).duration() as f64 / max * BINS as f64) as usize).min(BINS - 1);
        counts[bin] += 1;
    }
    let width_ms = max / 1e6 / BINS as f64;
    let bars = counts
        .iter()
        .enumerate()
        .map(|(b, &c)| Bar::new((b as f64 + 0.5) * width_ms, c as f64).width(width_ms * 0.9))
        .collect();
    ui.vertical(|ui| {
        ui.label(format!("durations of {}", trace.str(group.name)));
        Plot::new("duration-histogram")
            .width(300.0)
            .height(160.0)
            .x_axis_label("ms")
            .y_axis_label("spans")
            .allow_zoom(false)
            .allow_drag(false)
            .allow_scroll(false)
            .show(ui, |plot| plot.bar_chart(BarChart::new("spans", bars)));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RawSpan, SpanId, TraceBuilder, TraceId};

    fn trace() -> Trace {
        let mut b = TraceBuilder::new();
        let db = b.intern("db");
        let http = b.intern("http.client");
        let select = b.intern("SELECT 1");
        let get = b.intern("GET /");
        let id = |v| SpanId::new(v).unwrap();
        let mut root = RawSpan::new(TraceId(1), id(1), None, 0, Some(1000));
        root.op = http;
        root.name = get;
        b.push_span(root);
        for (k, dur) in [(2, 10), (3, 30), (4, 20), (5, 40)] {
            let mut s = RawSpan::new(TraceId(1), id(k), Some(id(1)), 100 * k as i64, Some(100 * k as i64 + dur));
            s.op = db;
            s.name = select;
            b.push_span(s);
        }
        b.build().unwrap().remove(0)
    }

    #[test]
    fn groups_by_op_and_name_with_percentiles() {
        let t = trace();
        let table = SpanTable::new(&t, &vec![1; t.len()]);
        assert_eq!(table.groups().len(), 2);
        let db = table.groups().iter().find(|g| t.str(g.op) == "db").unwrap();
        assert_eq!((db.spans.len(), db.total, db.self_time), (4, 100, 4));
        assert_eq!((db.p50, db.p95, db.max), (20, 40, 40));
    }

    #[test]
    fn sorting_keeps_the_selection_and_highlights_its_spans() {
        let t = trace();
        let mut table = SpanTable::new(&t, &vec![0; t.len()]);
        assert_eq!(t.str(table.groups()[0].name), "GET /", "longest total first");
        table.selected = Some(1);
        table.sort_by(Column::Count, true, &t);
        assert_eq!(t.str(table.groups()[0].op), "db", "most spans first");
        assert_eq!(table.selected, Some(0), "the selection follows its group");
        let flags = table.highlight(t.len());
        assert_eq!(flags.iter().filter(|&&f| f).count(), 4);
    }

    #[test]
    fn quantiles_use_the_nearest_rank() {
        assert_eq!(quantile(&[], 0.5), 0);
        assert_eq!(quantile(&[5], 0.95), 5);
        assert_eq!(quantile(&[1, 2, 3, 4], 0.5), 2);
        assert_eq!(quantile(&(1..=100).collect::<Vec<_>>(), 0.95), 95);
    }
}
