//! The waterfall: one row per span on a shared time axis, with the deadline drawn over it.
//!
//! Drawn by hand for speed (see shared/reference/waterfall-rendering.md): the rows on screen
//! come from [`egui::ScrollArea::show_rows`], bars are painted rectangles, and the list of
//! visible rows is rebuilt only when collapse state or filters change. Nothing here walks all
//! spans per frame. Each visible row still gets an accessible label, so a screen reader (and
//! the tests) can find "views.open" by name.

use egui::{Align2, Color32, CornerRadius, FontId, Id, Pos2, Rangef, Rect, Role, Sense, Stroke, StrokeKind, Ui, Vec2};

use super::axis;
use super::minimap::Minimap;
use super::overlay::Overlay;
use super::theme;
pub use super::time_window::TimeWindow;
use crate::model::{Nanos, SpanFlags, SpanIdx, StrId, Trace, format_duration};

/// Height of one span row, in points.
pub const ROW_HEIGHT: f32 = 20.0;
/// Height of the overview strip above the axis.
const MINIMAP_HEIGHT: f32 = 34.0;
/// Height of the time axis.
const AXIS_HEIGHT: f32 = 22.0;
/// Indentation per tree level.
const INDENT: f32 = 12.0;
/// Deeper levels than this are drawn at this indentation (the depth is still in the label).
const MAX_INDENT_LEVELS: u32 = 24;
/// How many spans the current rows leave out, and why; shown above the rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hidden {
    /// Inside collapsed subtrees.
    pub collapsed: usize,
    /// Left out by the duration or critical-path filter.
    pub filtered: usize,
}

/// The view state of one trace's waterfall: zoom, collapse, selection, filters.
pub struct Waterfall {
    /// The visible time range.
    pub window: TimeWindow,
    collapsed: Vec<bool>,
    rows: Vec<SpanIdx>,
    hidden: Hidden,
    rows_stale: bool,
    /// The selected span, shown in the details panel.
    pub selected: Option<SpanIdx>,
    scroll_to: Option<SpanIdx>,
    min_duration: Nanos,
    critical_only: bool,
    /// Whether the critical path is drawn highlighted.
    pub show_critical: bool,
    /// Width of the name column, in points.
    pub name_width: f32,
    range_drag: Option<f64>,
    minimap: Minimap,
    services: Vec<StrId>,
    ops: Vec<StrId>,
    /// Whether bars are coloured by op instead of by service.
    pub color_by_op: bool,
    /// User-placed markers on the time axis, nanoseconds from the trace start, in time order.
    pub markers: Vec<f64>,
}

impl Waterfall {
    /// A view of the whole trace, everything expanded.
    pub fn new(trace: &Trace, overlay: &Overlay) -> Self {
        Waterfall {
            window: TimeWindow::whole(trace.duration(), overlay.deadline),
            collapsed: vec![false; trace.len()],
            rows: Vec::new(),
            hidden: Hidden::default(),
            rows_stale: true,
            selected: None,
            scroll_to: None,
            min_duration: 0,
            critical_only: false,
            show_critical: true,
            name_width: 380.0,
            range_drag: None,
            minimap: Minimap::new(trace),
            services: theme::ranked(trace, |s| s.service),
            ops: theme::ranked(trace, |s| s.op),
            color_by_op: false,
            markers: Vec::new(),
        }
    }

    /// The rows on display (span indices, depth-first), rebuilt if collapse or filters changed.
    pub fn rows(&mut self, trace: &Trace, overlay: &Overlay) -> &[SpanIdx] {
        if self.rows_stale {
            self.rebuild_rows(trace, overlay);
        }
        &self.rows
    }

    /// Marks the rows for a rebuild: they depend on the verdict (critical and late spans pass
    /// the filters), which a new profile changes.
    pub fn verdict_changed(&mut self) {
        self.rows_stale = true;
    }

    /// What the rows leave out.
    pub fn hidden(&self) -> Hidden {
        self.hidden
    }

    fn rebuild_rows(&mut self, trace: &Trace, overlay: &Overlay) {
        self.rows.clear();
        let spans = trace.spans();
        let mut hidden = Hidden::default();
        let mut i = 0usize;
        while i < spans.len() {
            let span = &spans[i];
            let end = span.subtree_end as usize;
            let keep_anyway = overlay.is_critical(i as SpanIdx) || overlay.is_late(i as SpanIdx);
            if span.duration() < self.min_duration && !keep_anyway {
                hidden.filtered += end - i;
                i = end;
                continue;
            }
            if self.critical_only && !overlay.is_critical(i as SpanIdx) {
                hidden.filtered += 1;
                i += 1;
                continue;
            }
            self.rows.push(i as SpanIdx);
            if self.collapsed[i] {
                hidden.collapsed += end - i - 1;
                i = end;
            } else {
                i += 1;
            }
        }
        self.hidden = hidden;
        self.rows_stale = false;
    }

    /// Whether span `idx`'s subtree is collapsed.
    pub fn is_collapsed(&self, idx: SpanIdx) -> bool {
        self.collapsed[idx as usize]
    }

    /// Collapses or expands one subtree.
    pub fn toggle(&mut self, idx: SpanIdx) {
        self.collapsed[idx as usize] ^= true;
        self.rows_stale = true;
    }

    /// Collapses every span at `depth` or deeper that has children; expands those above.
    pub fn collapse_below(&mut self, trace: &Trace, depth: u32) {
        for (i, span) in trace.spans().iter().enumerate() {
            self.collapsed[i] = span.depth >= depth && span.subtree_end as usize > i + 1;
        }
        self.rows_stale = true;
    }

    /// Expands everything.
    pub fn expand_all(&mut self) {
        self.collapsed.fill(false);
        self.rows_stale = true;
    }

    /// Hides spans shorter than `nanos` (and their subtrees), unless on the critical path or
    /// crossing the deadline.
    pub fn set_min_duration(&mut self, nanos: Nanos) {
        if self.min_duration != nanos {
            self.min_duration = nanos;
            self.rows_stale = true;
        }
    }

    /// The duration filter.
    pub fn min_duration(&self) -> Nanos {
        self.min_duration
    }

    /// Shows only spans on the critical path.
    pub fn set_critical_only(&mut self, on: bool) {
        if self.critical_only != on {
            self.critical_only = on;
            self.rows_stale = true;
        }
    }

    /// Whether only critical-path spans are shown.
    pub fn critical_only(&self) -> bool {
        self.critical_only
    }

    /// Selects a span, expands its ancestors and scrolls to it.
    pub fn reveal(&mut self, trace: &Trace, idx: SpanIdx) {
        for ancestor in trace.ancestors(idx).skip(1) {
            if self.collapsed[ancestor as usize] {
                self.collapsed[ancestor as usize] = false;
                self.rows_stale = true;
            }
        }
        self.selected = Some(idx);
        self.scroll_to = Some(idx);
    }

    /// Zooms the time axis to one span.
    pub fn zoom_to(&mut self, trace: &Trace, idx: SpanIdx) {
        let span = trace.span(idx);
        self.window.focus(trace.offset(span.start) as f64, trace.offset(span.end) as f64);
    }

    /// Draws the overview, the axis and the rows, and handles their input.
    pub fn show(&mut self, ui: &mut Ui, trace: &Trace, overlay: &Overlay, matches: &[bool]) {
        let id = ui.scope_id().with("waterfall");
        self.rows(trace, overlay);
        let hidden = self.hidden;
        if hidden.collapsed + hidden.filtered > 0 {
            ui.label(
                egui::RichText::new(format!(
                    "{} of {} spans not shown: {} in collapsed subtrees, {} filtered out",
                    hidden.collapsed + hidden.filtered,
                    trace.len(),
                    hidden.collapsed,
                    hidden.filtered
                ))
                .color(theme::GAP),
            );
        }
        let full = ui.available_rect_before_wrap();
        let bars_left = full.left() + self.name_width;
        let bars_x = Rangef::new(bars_left, full.right() - 8.0);

        let (minimap_rect, _) = ui.allocate_exact_size(Vec2::new(full.width(), MINIMAP_HEIGHT), Sense::hover());
        let minimap_rect = Rect::from_x_y_ranges(bars_x, minimap_rect.y_range());
        self.minimap.show(ui, id, minimap_rect, (trace, overlay), &mut self.window);

        let (axis_row, _) = ui.allocate_exact_size(Vec2::new(full.width(), AXIS_HEIGHT), Sense::hover());
        let axis_rect = Rect::from_x_y_ranges(bars_x, axis_row.y_range());
        self.axis(ui, id, axis_rect, overlay);
        self.legend(ui, Rect::from_x_y_ranges(full.left()..=bars_left - 8.0, axis_row.y_range()), trace);

        self.keyboard(ui, full);
        self.name_column_handle(ui, id, full);
        let scroll_offset = self.scroll_to.take().and_then(|target| {
            let row = self.rows.iter().position(|&r| r == target)?;
            Some((row as f32 * ROW_HEIGHT - 3.0 * ROW_HEIGHT).max(0.0))
        });
        let mut area = egui::ScrollArea::vertical().id_salt(id.with("rows")).auto_shrink(false);
        if let Some(offset) = scroll_offset {
            area = area.vertical_scroll_offset(offset);
        }
        let rows = std::mem::take(&mut self.rows);
        ui.spacing_mut().item_spacing.y = 0.0;
        area.show_rows(ui, ROW_HEIGHT, rows.len(), |ui, range| {
            let first = range.start;
            let (rect, _) = ui
                .allocate_exact_size(Vec2::new(ui.available_width(), range.len() as f32 * ROW_HEIGHT), Sense::hover());
            let bars = Rect::from_x_y_ranges(bars_x, rect.y_range());
            let pan = ui.interact(bars, id.with("pan"), Sense::drag());
            if pan.dragged() {
                self.window.pan(-(pan.drag_delta().x as f64) * self.window.width() / bars.width() as f64);
            }
            for (k, &idx) in rows[range].iter().enumerate() {
                let top = rect.top() + k as f32 * ROW_HEIGHT;
                let row = Rect::from_x_y_ranges(rect.x_range(), top..=top + ROW_HEIGHT);
                self.row(ui, id, row, bars_x, trace, overlay, idx, first + k, matches);
            }
            self.deadline_lines(ui, bars, overlay);
        });
        self.rows = rows;
    }

    #[allow(clippy::too_many_arguments)]
    fn row(
        &mut self,
        ui: &Ui,
        id: Id,
        row: Rect,
        bars_x: Rangef,
        trace: &Trace,
        overlay: &Overlay,
        idx: SpanIdx,
        row_number: usize,
        matches: &[bool],
    ) {
        let span = trace.span(idx);
        let name = trace.str(span.name);
        let painter = ui.painter();
        let visuals = ui.visuals();
        let late = overlay.is_late(idx);
        let critical = self.show_critical && overlay.is_critical(idx);
        let is_match = matches.get(idx as usize).copied().unwrap_or(false);

        let response = ui.interact(row, id.with(("row", idx)), Sense::click());
        let duration = format_duration(span.duration());
        response.widget_info(|| {
            let mut label = format!("{name} {duration}");
            if overlay.is_crossing(idx) {
                label.push_str(", crosses the deadline");
            } else if overlay.is_after(idx) {
                label.push_str(", starts after the deadline");
            }
            if span.is_error() {
                label.push_str(", error");
            }
            egui::WidgetInfo::selected(Role::Row, true, self.selected == Some(idx), label)
        });
        if response.clicked() {
            self.selected = Some(idx);
        }
        if response.double_clicked() {
            self.zoom_to(trace, idx);
        }

        // Background: selection, search match, zebra.
        let background = if self.selected == Some(idx) {
            Some(visuals.selection.bg_fill.gamma_multiply(0.6))
        } else if is_match {
            Some(theme::MATCH.gamma_multiply(0.35))
        } else if response.hovered() {
            Some(visuals.widgets.hovered.weak_bg_fill)
        } else if row_number % 2 == 1 {
            Some(visuals.faint_bg_color)
        } else {
            None
        };
        if let Some(color) = background {
            painter.rect_filled(row, 0.0, color);
        }

        // Name column: indent, toggle, service dot, name.
        let levels = span.depth.min(MAX_INDENT_LEVELS) as f32;
        let mut x = row.left() + 4.0 + levels * INDENT;
        let has_children = span.subtree_end > idx + 1;
        if has_children {
            let toggle = Rect::from_center_size(Pos2::new(x + 6.0, row.center().y), Vec2::splat(14.0));
            let toggle_response = ui.interact(toggle, id.with(("toggle", idx)), Sense::click());
            let collapsed = self.collapsed[idx as usize];
            toggle_response.widget_info(|| {
                let verb = if collapsed { "Expand" } else { "Collapse" };
                egui::WidgetInfo::labeled(Role::Button, true, format!("{verb} {name}"))
            });
            if toggle_response.clicked() {
                self.toggle(idx);
            }
            let arrow = if collapsed { "▶" } else { "▼" };
            painter.text(toggle.center(), Align2::CENTER_CENTER, arrow, FontId::monospace(9.0), visuals.text_color());
        }
        x += 14.0;
        let color = self.span_color(span);
        painter.circle_filled(Pos2::new(x + 3.0, row.center().y), 3.5, color);
        x += 10.0;
        let name_clip = Rect::from_x_y_ranges(x..=bars_x.min - 8.0, row.y_range());
        let name_color = if late || span.is_error() { theme::MISS } else { visuals.text_color() };
        painter.with_clip_rect(name_clip).text(
            Pos2::new(x, row.center().y),
            Align2::LEFT_CENTER,
            name,
            FontId::proportional(13.0),
            name_color,
        );

        // The bar.
        let bars = Rect::from_x_y_ranges(bars_x, row.y_range());
        let bar_painter = painter.with_clip_rect(bars);
        let x0 = self.window.x(bars, trace.offset(span.start) as f64);
        let x1 = self.window.x(bars, trace.offset(span.end) as f64).max(x0 + 2.0);
        let bar = Rect::from_x_y_ranges(x0..=x1, row.top() + 3.0..=row.bottom() - 3.0);
        let fill = if self.show_critical && !critical && overlay.has_critical_path() {
            color.gamma_multiply(0.55)
        } else {
            color
        };
        bar_painter.rect_filled(bar, CornerRadius::same(2), fill);
        if span.flags.contains(SpanFlags::OPEN) {
            bar_painter.text(
                Pos2::new(x1 - 2.0, row.center().y),
                Align2::RIGHT_CENTER,
                "…",
                FontId::proportional(12.0),
                Color32::WHITE,
            );
        }
        if late || span.is_error() {
            bar_painter.rect_stroke(
                bar.expand(1.0),
                CornerRadius::same(2),
                Stroke::new(2.0, theme::MISS),
                StrokeKind::Outside,
            );
        }
        if overlay.culprit == Some(idx) {
            bar_painter.text(
                Pos2::new(x0 - 3.0, row.center().y),
                Align2::RIGHT_CENTER,
                "!",
                FontId::proportional(14.0),
                theme::MISS,
            );
        }

        // Label: inside the bar when it fits, else the duration beside it where it is not cut off.
        let label = format!("{name}  {duration}");
        let galley = painter.layout_no_wrap(label, FontId::proportional(11.5), Color32::WHITE);
        let y = row.center().y - galley.size().y / 2.0;
        let (galley, label_x) = if galley.size().x + 8.0 < bar.width() {
            (galley, bar.left() + 4.0)
        } else {
            let galley = painter.layout_no_wrap(duration, FontId::proportional(11.5), visuals.weak_text_color());
            let left_mark = if overlay.culprit == Some(idx) { 12.0 } else { 0.0 };
            let x = beside_bar(bar.x_range(), bars.x_range(), galley.size().x, left_mark);
            (galley, x)
        };
        // The bar and its label, which a gap's label keeps clear of.
        let taken = Rangef::new(bar.left().min(label_x), bar.right().max(label_x + galley.size().x));

        // Gaps before this span where nothing was instrumented, their labels clear of the span's.
        for gap in overlay.gaps.iter().filter(|g| g.before == idx) {
            let gx0 = self.window.x(bars, gap.start as f64);
            let gx1 = self.window.x(bars, gap.end as f64);
            let y = row.center().y;
            // The line stops short of a label left of the bar, rather than strike it through.
            let line_end = if gx0 < taken.min { gx1.min(taken.min - LABEL_GAP) } else { gx1 };
            bar_painter.extend(egui::Shape::dashed_line(
                &[Pos2::new(gx0, y), Pos2::new(line_end, y)],
                Stroke::new(1.5, theme::GAP),
                4.0,
                3.0,
            ));
            let label = format!("uninstrumented {}", format_duration(gap.end - gap.start));
            let gap_label = painter.layout_no_wrap(label, FontId::proportional(10.0), theme::GAP);
            let x = gap_label_x((gx0 + gx1) / 2.0, gap_label.size().x, taken, bars.x_range());
            bar_painter.galley(Pos2::new(x, row.top()), gap_label, theme::GAP);
        }
        bar_painter.galley(Pos2::new(label_x, y), galley, Color32::WHITE);
    }

    /// The deadline line, the shade past it and the clock start, over the rows.
    fn deadline_lines(&self, ui: &Ui, bars: Rect, overlay: &Overlay) {
        let painter = ui.painter().with_clip_rect(bars.intersect(ui.clip_rect()));
        if let Some(deadline) = overlay.deadline {
            let x = self.window.x(bars, deadline as f64);
            let past = Rect::from_x_y_ranges(x.max(bars.left())..=bars.right(), bars.y_range());
            if past.width() > 0.0 {
                painter.rect_filled(past, 0.0, theme::MISS.gamma_multiply(0.08));
            }
            painter.vline(x, bars.y_range(), Stroke::new(2.0, theme::MISS));
        }
        if let Some(clock) = overlay.clock_start {
            let x = self.window.x(bars, clock as f64);
            painter.vline(x, bars.y_range(), Stroke::new(1.0, theme::CLOCK));
        }
        for &marker in &self.markers {
            let x = self.window.x(bars, marker);
            painter.extend(egui::Shape::dashed_line(
                &[Pos2::new(x, bars.top()), Pos2::new(x, bars.bottom())],
                Stroke::new(1.0, theme::MARKER),
                5.0,
                4.0,
            ));
        }
    }

    /// Adds a marker at `t` (nanoseconds from the trace start).
    pub fn add_marker(&mut self, t: f64) {
        let at = self.markers.partition_point(|&m| m < t);
        self.markers.insert(at, t);
    }

    /// Removes the marker nearest to `t` if it is within `tolerance` nanoseconds.
    pub fn remove_marker_near(&mut self, t: f64, tolerance: f64) {
        let nearest = self.markers.iter().enumerate().min_by(|a, b| (a.1 - t).abs().total_cmp(&(b.1 - t).abs()));
        if let Some((i, &m)) = nearest
            && (m - t).abs() <= tolerance
        {
            self.markers.remove(i);
        }
    }

    fn axis(&mut self, ui: &Ui, id: Id, rect: Rect, overlay: &Overlay) {
        let painter = ui.painter().with_clip_rect(rect.expand2(Vec2::new(40.0, 0.0)));
        let visuals = ui.visuals();
        painter.hline(rect.x_range(), rect.bottom() - 0.5, visuals.widgets.noninteractive.bg_stroke);
        for tick in axis::ticks(self.window.start, self.window.end, rect.width(), 90.0) {
            let x = self.window.x(rect, tick.at);
            painter.vline(x, rect.bottom() - 5.0..=rect.bottom(), visuals.widgets.noninteractive.fg_stroke);
            painter.text(
                Pos2::new(x + 2.0, rect.top() + 2.0),
                Align2::LEFT_TOP,
                tick.label,
                FontId::monospace(10.5),
                visuals.weak_text_color(),
            );
        }
        if let Some(deadline) = overlay.deadline {
            let x = self.window.x(rect, deadline as f64);
            if rect.x_range().contains(x) {
                painter.text(
                    Pos2::new(x + 3.0, rect.center().y + 2.0),
                    Align2::LEFT_CENTER,
                    format!("deadline {}", format_duration(deadline - overlay.clock_start.unwrap_or(0))),
                    FontId::proportional(11.0),
                    theme::MISS,
                );
                painter.vline(x, rect.y_range(), Stroke::new(2.0, theme::MISS));
            }
        }
        let mut previous: Option<f64> = None;
        for (k, &marker) in self.markers.iter().enumerate() {
            let x = self.window.x(rect, marker);
            painter.vline(x, rect.y_range(), Stroke::new(1.5, theme::MARKER));
            let since = previous.map_or(String::new(), |p| format!(" (+{})", format_duration((marker - p) as Nanos)));
            painter.text(
                Pos2::new(x + 3.0, rect.bottom() - 2.0),
                Align2::LEFT_BOTTOM,
                format!("M{} {}{since}", k + 1, format_duration(marker as Nanos)),
                FontId::proportional(10.5),
                theme::MARKER,
            );
            previous = Some(marker);
        }
        // Drag on the axis selects a time range to zoom to; double-click places a marker,
        // right-click removes the nearest one.
        let response = ui.interact(rect, id.with("axis"), Sense::click_and_drag());
        response.widget_info(|| {
            egui::WidgetInfo::labeled(
                Role::Slider,
                true,
                "Time axis: drag to zoom to a range, double-click to place a marker",
            )
        });
        if let Some(pos) = response.interact_pointer_pos() {
            let t = self.window.t(rect, pos.x);
            if response.double_clicked() {
                self.add_marker(t);
            } else if response.secondary_clicked() {
                self.remove_marker_near(t, 8.0 * self.window.width() / rect.width() as f64);
            }
        }
        if let Some(pos) = response.interact_pointer_pos() {
            let t = self.window.t(rect, pos.x);
            if response.drag_started() {
                self.range_drag = Some(t);
            }
            if let Some(from) = self.range_drag {
                let (a, b) = (self.window.x(rect, from), pos.x);
                let sel = Rect::from_x_y_ranges(a.min(b)..=a.max(b), rect.y_range());
                painter.rect_filled(sel, 0.0, visuals.selection.bg_fill.gamma_multiply(0.4));
            }
            if response.drag_stopped()
                && let Some(from) = self.range_drag.take()
                && (t - from).abs() > self.window.width() * 0.002
            {
                self.window = TimeWindow { start: from.min(t), end: from.max(t) };
            }
        }
    }

    /// The values bars are coloured by (services or ops), most spans first.
    fn color_keys(&self) -> &[StrId] {
        if self.color_by_op { &self.ops } else { &self.services }
    }

    /// A span's colour: its service's (or op's) rank in this trace, so the few services a
    /// trace has get clearly different colours.
    fn span_color(&self, span: &crate::model::Span) -> Color32 {
        self.key_color(if self.color_by_op { span.op } else { span.service })
    }

    fn key_color(&self, key: StrId) -> Color32 {
        if key.is_empty() {
            return theme::rank_color(None);
        }
        theme::rank_color(self.color_keys().iter().position(|&s| s == key))
    }

    fn legend(&self, ui: &Ui, rect: Rect, trace: &Trace) {
        let painter = ui.painter().with_clip_rect(rect);
        let mut x = rect.left() + 4.0;
        for &key in self.color_keys().iter().take(8) {
            let text = trace.str(key);
            let text = if text.is_empty() { if self.color_by_op { "(no op)" } else { "(no service)" } } else { text };
            painter.circle_filled(Pos2::new(x + 4.0, rect.center().y), 4.0, self.key_color(key));
            let r = painter.text(
                Pos2::new(x + 11.0, rect.center().y),
                Align2::LEFT_CENTER,
                text,
                FontId::proportional(11.0),
                ui.visuals().text_color(),
            );
            x = r.right() + 10.0;
        }
    }

    /// The divider between names and bars can be dragged.
    fn name_column_handle(&mut self, ui: &Ui, id: Id, area: Rect) {
        let x = area.left() + self.name_width - 4.0;
        let handle = Rect::from_x_y_ranges(x - 3.0..=x + 3.0, area.y_range());
        let response = ui.interact(handle, id.with("name-divider"), Sense::drag());
        response.widget_info(|| egui::WidgetInfo::labeled(Role::Splitter, true, "Name column width"));
        if response.hovered() || response.dragged() {
            ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeHorizontal);
        }
        if response.dragged() {
            self.name_width = (self.name_width + response.drag_delta().x).clamp(120.0, area.width() * 0.8);
        }
        ui.painter().vline(x, area.y_range(), ui.visuals().widgets.noninteractive.bg_stroke);
    }

    /// Zoom and pan from the keyboard (W/S/A/D) and the wheel (ctrl: zoom, shift: pan).
    fn keyboard(&mut self, ui: &Ui, area: Rect) {
        let typing = ui.ctx().memory(|m| m.focused().is_some());
        let bars = Rect::from_x_y_ranges(area.left() + self.name_width..=area.right() - 8.0, area.y_range());
        let (zoom, scroll, pointer, keys) = ui.input(|i| {
            let keys = if typing {
                [false; 4]
            } else {
                [i.key_down(egui::Key::W), i.key_down(egui::Key::S), i.key_down(egui::Key::A), i.key_down(egui::Key::D)]
            };
            (i.zoom_delta(), i.smooth_scroll_delta, i.pointer.hover_pos(), keys)
        });
        let hovered = pointer.is_some_and(|p| area.contains(p));
        let center = (self.window.start + self.window.end) / 2.0;
        if hovered && zoom != 1.0 {
            let around = pointer.map_or(center, |p| self.window.t(bars, p.x));
            self.window.zoom(zoom as f64, around);
        }
        if hovered && scroll.x != 0.0 {
            self.window.pan(-(scroll.x as f64) * self.window.width() / bars.width().max(1.0) as f64);
        }
        let step = ui.input(|i| i.stable_dt).min(0.1) as f64;
        if keys[0] {
            self.window.zoom(1.0 + 3.0 * step, center);
        }
        if keys[1] {
            self.window.zoom(1.0 / (1.0 + 3.0 * step), center);
        }
        if keys[2] {
            self.window.pan(-self.window.width() * step);
        }
        if keys[3] {
            self.window.pan(self.window.width() * step);
        }
        if keys.iter().any(|&k| k) {
            ui.ctx().request_repaint();
        }
    }
}

/// Gap between a bar and a label beside it.
const LABEL_GAP: f32 = 4.0;

/// Where a gap's label `width` wide starts: centred on the gap at `centre` when that keeps it
/// clear of the row's bar and its label (which together take `taken`), else right of them, else
/// left of them, within `area` when it can be.
fn gap_label_x(centre: f32, width: f32, taken: Rangef, area: Rangef) -> f32 {
    let centred = centre - width / 2.0;
    let right = taken.max + LABEL_GAP;
    let left = taken.min - LABEL_GAP - width;
    if (centred + width <= taken.min || centred >= taken.max) && centred >= area.min && centred + width <= area.max {
        centred
    } else if right + width <= area.max || left < area.min {
        right
    } else {
        left
    }
}

/// Where a label `width` wide that does not fit inside its bar starts: right of the bar, or left
/// of it (clear of a `left_mark` drawn there) when the right edge of `area` would cut it off;
/// when neither side has room, the side that shows more of it.
fn beside_bar(bar: Rangef, area: Rangef, width: f32, left_mark: f32) -> f32 {
    let right = bar.max + LABEL_GAP;
    let left = bar.min - LABEL_GAP - left_mark - width;
    if right + width <= area.max || area.max - right >= bar.min - LABEL_GAP - left_mark - area.min {
        right
    } else {
        left
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::test_traces::small_tree as trace;

    #[test]
    fn collapsing_hides_the_subtree_and_says_so() {
        let t = trace();
        let overlay = Overlay::empty(t.len());
        let mut w = Waterfall::new(&t, &overlay);
        assert_eq!(w.rows(&t, &overlay), &[0, 1, 2, 3, 4]);
        w.toggle(1);
        assert_eq!(w.rows(&t, &overlay), &[0, 1, 3, 4]);
        assert_eq!(w.hidden(), Hidden { collapsed: 1, filtered: 0 });
        w.collapse_below(&t, 1);
        assert_eq!(w.rows(&t, &overlay), &[0, 1, 3]);
        w.reveal(&t, 4);
        assert_eq!(w.rows(&t, &overlay), &[0, 1, 3, 4]);
        w.expand_all();
        assert_eq!(w.rows(&t, &overlay).len(), 5);
    }

    #[test]
    fn the_duration_filter_keeps_critical_spans_and_counts_the_rest() {
        let t = trace();
        let mut overlay = Overlay::empty(t.len());
        overlay.critical[4] = true;
        let mut w = Waterfall::new(&t, &overlay);
        w.set_min_duration(10);
        assert_eq!(w.rows(&t, &overlay), &[0, 1, 3, 4]);
        assert_eq!(w.hidden().filtered, 1);
        w.set_min_duration(0);
        w.set_critical_only(true);
        assert_eq!(w.rows(&t, &overlay), &[4]);
    }

    #[test]
    fn markers_stay_in_time_order_and_are_removed_by_proximity() {
        let t = trace();
        let overlay = Overlay::empty(t.len());
        let mut w = Waterfall::new(&t, &overlay);
        w.add_marker(50.0);
        w.add_marker(10.0);
        w.add_marker(30.0);
        assert_eq!(w.markers, vec![10.0, 30.0, 50.0]);
        w.remove_marker_near(33.0, 2.0);
        assert_eq!(w.markers.len(), 3, "too far from any marker");
        w.remove_marker_near(31.0, 2.0);
        assert_eq!(w.markers, vec![10.0, 50.0]);
    }

    #[test]
    fn a_gap_label_keeps_clear_of_the_bar_and_its_label() {
        let area = Rangef::new(100.0, 1000.0);
        // A gap before the bar, with room: centred on it.
        assert_eq!(gap_label_x(300.0, 100.0, Rangef::new(400.0, 600.0), area), 250.0);
        // A gap inside the bar (its parent's row): right of the bar and its label.
        assert_eq!(gap_label_x(500.0, 100.0, Rangef::new(400.0, 600.0), area), 600.0 + LABEL_GAP);
        // No room on the right: left of them.
        assert_eq!(gap_label_x(850.0, 100.0, Rangef::new(800.0, 950.0), area), 800.0 - LABEL_GAP - 100.0);
        // Centred would be cut off at the left edge: right of them.
        assert_eq!(gap_label_x(120.0, 100.0, Rangef::new(200.0, 300.0), area), 300.0 + LABEL_GAP);
    }

    #[test]
    fn a_label_cut_off_at_the_right_edge_goes_left_of_its_bar() {
        let area = Rangef::new(100.0, 1000.0);
        // Room on the right: right of the bar.
        assert_eq!(beside_bar(Rangef::new(200.0, 300.0), area, 40.0, 0.0), 300.0 + LABEL_GAP);
        // A bar ending near the right edge: the label ends left of it, clear of the culprit mark.
        let x = beside_bar(Rangef::new(800.0, 990.0), area, 40.0, 12.0);
        assert_eq!(x, 800.0 - LABEL_GAP - 12.0 - 40.0);
        assert!(x >= area.min && x + 40.0 <= 800.0);
        // A bar spanning everything: the right side, which shows more, wins.
        assert_eq!(beside_bar(Rangef::new(101.0, 990.0), area, 40.0, 0.0), 990.0 + LABEL_GAP);
    }
}
