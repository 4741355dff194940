//! The span details panel: every field, timing, status, attribute and event of the selected
//! span, with copy buttons and "show in tree" / "zoom to span".

use egui::{RichText, Ui};

use super::overlay::Overlay;
use super::theme;
use crate::model::{AttrValue, SpanFlags, SpanIdx, Trace, format_duration};

/// What the user asked the panel to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DetailsAction {
    /// Expand the tree to the span and scroll to it.
    ShowInTree(SpanIdx),
    /// Zoom the time axis to the span.
    ZoomTo(SpanIdx),
}

/// Draws the details of span `idx`.
pub fn show(ui: &mut Ui, trace: &Trace, overlay: &Overlay, idx: SpanIdx) -> Option<DetailsAction> {
    let span = trace.span(idx);
    let mut action = None;
    ui.add(egui::Label::new(RichText::new(trace.str(span.name)).heading()).wrap());
    ui.horizontal(|ui| {
        if ui.button("Show in tree").clicked() {
            action = Some(DetailsAction::ShowInTree(idx));
        }
        if ui.button("Zoom to span").clicked() {
            action = Some(DetailsAction::ZoomTo(idx));
        }
    });
    if overlay.is_crossing(idx) {
        ui.colored_label(theme::MISS, "Crosses the deadline");
    } else if overlay.is_after(idx) {
        ui.colored_label(theme::MISS, "Starts after the deadline");
    }
    if span.flags.contains(SpanFlags::UNTIMED) {
        ui.colored_label(theme::MISS, "No time in the file: placed at its parent's start, not judged");
    }
    if overlay.culprit == Some(idx) {
        ui.colored_label(theme::MISS, "The verdict hangs on this span");
    }
    ui.separator();
    egui::ScrollArea::vertical().id_salt("details").auto_shrink(false).show(ui, |ui| {
        field(ui, "op", trace.str(span.op));
        field(ui, "service", trace.str(span.service));
        if !span.transaction.is_empty() {
            field(ui, "transaction", trace.str(span.transaction));
        }
        field(ui, "kind", span.kind.as_str());
        field(ui, "span id", &trace.written_id(idx));
        let parent_id = match (span.parent, span.parent_id) {
            (Some(parent), _) => trace.written_id(parent),
            (None, id) => id.map(|p| p.to_string()).unwrap_or_default(),
        };
        field(ui, "parent id", &parent_id);
        field(ui, "trace id", &span.trace_id.to_string());
        field(ui, "start", &format!("+{}", format_duration(trace.offset(span.start))));
        field(ui, "duration", &format_duration(span.duration()));
        if let Some(&own) = overlay.self_time.get(idx as usize) {
            field(ui, "self time", &format_duration(own));
        }
        let status = match span.status {
            crate::model::Status::Unset => "unset",
            crate::model::Status::Ok => "ok",
            crate::model::Status::Error => "error",
        };
        let message = trace.str(span.status_message);
        field(ui, "status", &if message.is_empty() { status.to_owned() } else { format!("{status}: {message}") });
        field(ui, "depth", &span.depth.to_string());
        let attrs = trace.attrs(idx);
        if !attrs.is_empty() {
            ui.add_space(6.0);
            ui.strong(format!("Attributes ({})", attrs.len()));
            for attr in attrs {
                field(ui, trace.str(attr.key), &attr_text(trace, attr.value));
            }
        }
        let resource = trace.resource(idx);
        if !resource.is_empty() {
            ui.add_space(6.0);
            // Shared by every span of the process, so folded away until asked for.
            egui::CollapsingHeader::new(RichText::new(format!("Resource ({})", resource.len())).strong())
                .id_salt("resource")
                .show(ui, |ui| {
                    for attr in resource {
                        field(ui, trace.str(attr.key), &attr_text(trace, attr.value));
                    }
                });
        }
        let events = trace.events(idx);
        if !events.is_empty() {
            ui.add_space(6.0);
            ui.strong(format!("Events ({})", events.len()));
            for event in events {
                ui.label(format!("+{}  {}", format_duration(trace.offset(event.time)), trace.str(event.name)));
                for attr in trace.attrs_in(event.attrs) {
                    ui.label(
                        RichText::new(format!("    {} = {}", trace.str(attr.key), attr_text(trace, attr.value)))
                            .monospace(),
                    );
                }
            }
        }
        let errors: Vec<_> = trace.errors().iter().filter(|e| e.span == Some(idx)).collect();
        if !errors.is_empty() {
            ui.add_space(6.0);
            ui.strong(format!("Errors ({})", errors.len()));
            for error in errors {
                ui.colored_label(theme::MISS, trace.str(error.title));
            }
        }
    });
    action
}

/// Width of the key column.
const KEY_WIDTH: f32 = 120.0;

/// The panel's first width and the narrowest it may be dragged to: wide enough for a 32-digit
/// trace id beside its key.
pub const PANEL_WIDTH: f32 = 440.0;
/// See [`PANEL_WIDTH`]: below this a trace id goes under its key instead.
pub const PANEL_MIN_WIDTH: f32 = 300.0;

/// One key and its value: the key in a fixed-width column and a copy button, the value
/// (monospace) beside them, wrapped between words; a value with a word too long for the room
/// beside the key (an id, a URL) goes whole on the lines below instead of in fragments.
fn field(ui: &mut Ui, key: &str, value: &str) {
    let font = egui::TextStyle::Monospace.resolve(ui.style());
    let longest = value.split_whitespace().max_by_key(|w| w.len()).unwrap_or("");
    let word_width = ui.ctx().fonts_mut(|f| f.layout_no_wrap(longest.to_owned(), font, egui::Color32::WHITE).size().x);
    let value_label = || egui::Label::new(RichText::new(value).monospace()).wrap();
    let beside = ui
        .horizontal_top(|ui| {
            ui.add_sized([KEY_WIDTH, 18.0], egui::Label::new(RichText::new(key).weak()).truncate());
            if ui.small_button("copy").on_hover_text(format!("Copy {key}")).clicked() {
                ui.ctx().copy_text(value.to_owned());
            }
            let beside = word_width <= ui.available_width();
            if beside {
                ui.add(value_label());
            }
            beside
        })
        .inner;
    if !beside {
        ui.indent(key, |ui| ui.add(value_label()));
    }
}

/// An attribute value as text.
pub fn attr_text(trace: &Trace, value: AttrValue) -> String {
    match value {
        AttrValue::Str(s) => trace.str(s).to_owned(),
        AttrValue::Int(i) => i.to_string(),
        AttrValue::Float(f) => f.to_string(),
        AttrValue::Bool(b) => b.to_string(),
    }
}
