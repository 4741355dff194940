//! A trace's tab: the view state of one trace ([`TraceView`]) and its screen: the verdict banner,
//! the toolbar, the details panel, the span table and the waterfall, alone or compared.

use std::sync::Arc;

use egui::{RichText, Ui};

use super::action::Action;
use super::details::{self, DetailsAction};
use super::overlay::Overlay;
use super::search::Search;
use super::settings::Settings;
use super::span_table::SpanTable;
use super::theme;
use super::waterfall::Waterfall;
use crate::analysis::Profile;
use crate::formats::Format;
use crate::model::{SkewShift, Trace, format_duration};

/// One trace on screen with its view state.
pub struct TraceView {
    /// The trace.
    pub trace: Arc<Trace>,
    /// Its deadline overlay under the current profile (change it with [`TraceView::set_overlay`]).
    pub overlay: Overlay,
    /// Zoom, collapse, selection.
    pub waterfall: Waterfall,
    /// The search box.
    pub search: Search,
    /// The span table, built the first time it is shown.
    pub table: Option<SpanTable>,
    /// Which spans the table's selected group highlights.
    table_flags: Vec<bool>,
    /// The trace as recorded, while `trace` shows it adjusted for clock skew.
    raw: Option<Arc<Trace>>,
    /// The spans the skew adjustment moved.
    moved: Vec<SkewShift>,
}

impl TraceView {
    /// A fresh view of `trace` with its deadline overlay.
    pub fn new(trace: Arc<Trace>, overlay: Overlay) -> Self {
        let waterfall = Waterfall::new(&trace, &overlay);
        TraceView {
            trace,
            overlay,
            waterfall,
            search: Search::default(),
            table: None,
            table_flags: Vec::new(),
            raw: None,
            moved: Vec::new(),
        }
    }

    /// Works out the waterfall's rows now rather than in the first frame that shows them (a
    /// loader does it on its worker).
    pub fn prepare_rows(&mut self) {
        self.waterfall.rows(&self.trace, &self.overlay);
    }

    /// Shows the trace under another verdict (another profile): the waterfall's rows, which keep
    /// critical and late spans through its filters, are rebuilt.
    pub fn set_overlay(&mut self, overlay: Overlay) {
        self.overlay = overlay;
        self.waterfall.verdict_changed();
    }

    /// Switches between raw times and times adjusted for clock skew (children pulled inside
    /// their parents), re-judging the trace under `profile`.
    pub fn set_skew_adjusted(&mut self, adjusted: bool, profile: &Profile) {
        if adjusted == self.raw.is_some() {
            return;
        }
        let (trace, raw, moved) = match self.raw.take() {
            Some(raw) => (raw, None, Vec::new()),
            None => {
                let (adjusted, moved) = self.trace.skew_adjusted();
                (Arc::new(adjusted), Some(Arc::clone(&self.trace)), moved)
            }
        };
        let window = self.waterfall.window;
        let show_critical = self.waterfall.show_critical;
        *self = TraceView::new(Arc::clone(&trace), super::overlay::for_trace(&trace, profile));
        self.waterfall.window = window;
        self.waterfall.show_critical = show_critical;
        self.raw = raw;
        self.moved = moved;
    }

    /// The trace as recorded: without the clock-skew adjustment, when it is shown adjusted.
    pub fn recorded(&self) -> &Arc<Trace> {
        self.raw.as_ref().unwrap_or(&self.trace)
    }

    /// Whether the trace has clock skew to adjust (in its raw form).
    pub fn has_skew(&self) -> bool {
        self.recorded().warnings().iter().any(|w| matches!(w, crate::model::Warning::ClockSkew { .. }))
    }
}

/// A loaded trace: verdict banner, toolbar, details panel and the waterfall.
pub fn trace_screen(
    ui: &mut Ui,
    settings: &Settings,
    profile: &Profile,
    format: Option<Format>,
    view: &mut TraceView,
    compare: Option<&mut TraceView>,
    others: &[(usize, String)],
) -> Vec<Action> {
    let mut actions = Vec::new();
    egui::Panel::top("verdict").show(ui, |ui| {
        banner(ui, &view.overlay);
        ui.horizontal(|ui| {
            let trace = &view.trace;
            ui.label(
                RichText::new(format!(
                    "{} · {} spans · {} · trace {}",
                    format.map_or("", Format::name),
                    trace.len(),
                    format_duration(trace.duration()),
                    trace.trace_id()
                ))
                .weak(),
            );
            if !others.is_empty() {
                egui::ComboBox::from_label("Compare with").selected_text("another tab").show_ui(ui, |ui| {
                    for (i, title) in others {
                        if ui.selectable_label(false, title).clicked() {
                            actions.push(Action::Compare { with: *i });
                        }
                    }
                });
            }
        });
        toolbar(ui, view);
        if view.has_skew() {
            let mut adjusted = view.raw.is_some();
            if ui.checkbox(&mut adjusted, "Adjust for clock skew (pull children inside their parents)").changed() {
                view.set_skew_adjusted(adjusted, profile);
            }
            if !view.moved.is_empty() {
                egui::CollapsingHeader::new(
                    RichText::new(format!("{} span(s) moved by the skew adjustment", view.moved.len()))
                        .color(theme::GAP),
                )
                .id_salt("moved")
                .show(ui, |ui| {
                    for shift in view.moved.iter().take(200) {
                        ui.label(format!(
                            "{}  moved {} later",
                            view.trace.str(view.trace.span(shift.span).name),
                            format_duration(shift.by)
                        ));
                    }
                    if view.moved.len() > 200 {
                        ui.label(format!("… and {} more", view.moved.len() - 200));
                    }
                });
            }
        }
        let warnings = view.trace.warnings();
        if !warnings.is_empty() {
            egui::CollapsingHeader::new(
                RichText::new(format!("{} warning(s) about this trace", warnings.len())).color(theme::GAP),
            )
            .id_salt("warnings")
            .show(ui, |ui| {
                for w in warnings {
                    ui.label(w.to_string());
                }
            });
        }
    });
    if settings.show_details {
        egui::Panel::right("details")
            .default_size(details::PANEL_WIDTH)
            .size_range(details::PANEL_MIN_WIDTH..=900.0)
            .resizable(true)
            .show(ui, |ui| match view.waterfall.selected {
                None => {
                    ui.label(RichText::new("Click a span to see its details.").weak());
                }
                Some(idx) => match details::show(ui, &view.trace, &view.overlay, idx) {
                    Some(DetailsAction::ShowInTree(i)) => view.waterfall.reveal(&view.trace, i),
                    Some(DetailsAction::ZoomTo(i)) => view.waterfall.zoom_to(&view.trace, i),
                    None => {}
                },
            });
    }
    if settings.show_table {
        egui::Panel::bottom("span-table").default_size(260.0).resizable(true).show(ui, |ui| {
            let TraceView { trace, overlay, waterfall, table, table_flags, .. } = view;
            let table = table.get_or_insert_with(|| SpanTable::new(trace, &overlay.self_time));
            if let Some(first) = table.ui(ui, trace) {
                *table_flags = table.highlight(trace.len());
                waterfall.reveal(trace, first);
            }
        });
    }
    if let Some(other) = compare {
        // Both traces on one axis, aligned where their clocks start.
        let shift = (other.overlay.clock_start.unwrap_or(0) - view.overlay.clock_start.unwrap_or(0)) as f64;
        other.waterfall.window.start = view.waterfall.window.start + shift;
        other.waterfall.window.end = view.waterfall.window.end + shift;
        other.waterfall.name_width = view.waterfall.name_width;
        egui::Panel::bottom("compare").default_size(ui.available_height() / 2.0).resizable(true).show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.strong(format!("Compared with trace {}", other.trace.trace_id()));
                if ui.button("Stop comparing").clicked() {
                    actions.push(Action::StopComparing);
                }
            });
            banner(ui, &other.overlay);
            let TraceView { trace, overlay, waterfall, .. } = other;
            waterfall.show(ui, trace, overlay, &[]);
        });
    }
    egui::CentralPanel::default().show(ui, |ui| {
        let TraceView { trace, overlay, waterfall, search, table_flags, .. } = view;
        let highlight = if search.matches().is_empty() { table_flags.as_slice() } else { search.matches() };
        waterfall.show(ui, trace, overlay, highlight);
    });
    actions
}

/// The verdict in one coloured line.
fn banner(ui: &mut Ui, overlay: &Overlay) {
    if !overlay.banner.is_empty() {
        let (color, mark) = if overlay.passed { (theme::PASS, "PASS:") } else { (theme::MISS, "MISS:") };
        ui.label(RichText::new(format!("{mark} {}", overlay.banner)).color(color).size(17.0).strong());
    }
}

fn toolbar(ui: &mut Ui, view: &mut TraceView) {
    ui.horizontal(|ui| {
        let TraceView { trace, waterfall, search, .. } = view;
        let label = ui.label("Search spans");
        let response = ui
            .add(
                egui::TextEdit::singleline(&mut search.query)
                    .hint_text("name, op, service, attribute, id")
                    .desired_width(220.0),
            )
            .labelled_by(label.id);
        search.refresh(trace);
        let enter = response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let backwards = ui.input(|i| i.modifiers.shift);
        if enter {
            response.request_focus();
        }
        let mut step = enter.then_some(!backwards);
        if ui.small_button("Previous match").on_hover_text("shift+Enter").clicked() {
            step = Some(false);
        }
        if ui.small_button("Next match").on_hover_text("Enter").clicked() {
            step = Some(true);
        }
        if let Some(forward) = step
            && let Some(idx) = search.step(forward)
        {
            waterfall.reveal(trace, idx);
        }
        if !search.query.trim().is_empty() {
            let text = match search.position() {
                Some(p) => format!("{p} of {} matches", search.hit_count()),
                None => format!("{} matches", search.hit_count()),
            };
            ui.label(text);
        }
        ui.separator();
        ui.label("Hide shorter than");
        let mut ms = waterfall.min_duration() as f64 / 1e6;
        if ui.add(egui::DragValue::new(&mut ms).range(0.0..=1e6).speed(0.1).suffix(" ms")).changed() {
            waterfall.set_min_duration((ms * 1e6) as i64);
        }
        ui.checkbox(&mut waterfall.color_by_op, "Colour by op");
        let mut critical_only = waterfall.critical_only();
        if ui.checkbox(&mut critical_only, "Critical path only").changed() {
            waterfall.set_critical_only(critical_only);
        }
        ui.separator();
        ui.menu_button("Collapse", |ui| {
            for depth in 1..=4 {
                if ui.button(format!("Collapse below depth {depth}")).clicked() {
                    waterfall.collapse_below(trace, depth);
                }
            }
            if ui.button("Expand all").clicked() {
                waterfall.expand_all();
            }
        });
    });
}
