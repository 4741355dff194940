//! The empty window: the bundled samples, a file dialog and recent files.

use egui::{RichText, Ui};

use super::action::Action;
use super::settings::Settings;
use super::source::{INCIDENT_AFTER, INCIDENT_BEFORE, Source};

/// The empty window: the way into the bundled samples and recent files.
pub fn start_screen(ui: &mut Ui, settings: &Settings) -> Vec<Action> {
    let mut actions = Vec::new();
    ui.add_space(60.0);
    ui.vertical_centered(|ui| {
        ui.heading(RichText::new("tracedeck").size(32.0));
        ui.label("See why an integration missed its deadline.");
        ui.add_space(24.0);
        if ui.button(RichText::new("Open the incident trace").size(18.0)).clicked() {
            actions.push(Action::Open(INCIDENT_BEFORE));
        }
        ui.add_space(6.0);
        if ui.button("Open the fixed trace").clicked() {
            actions.push(Action::Open(INCIDENT_AFTER));
        }
        ui.add_space(6.0);
        if ui
            .button("Try the replay on the demo app")
            .on_hover_text("replay the incident's click against a built-in buggy app, then fix it")
            .clicked()
        {
            actions.push(Action::TryDemo);
        }
        ui.add_space(6.0);
        if ui.button("Open a trace file…").clicked() {
            actions.push(Action::OpenDialog);
        }
        ui.add_space(6.0);
        ui.label(RichText::new("or drop Sentry, OTLP, Jaeger, Zipkin, Chrome or tracedeck trace files here").weak());
        if !settings.recent.is_empty() {
            ui.add_space(24.0);
            ui.strong("Recent files");
            for path in &settings.recent {
                if ui.link(path.display().to_string()).clicked() {
                    actions.push(Action::Open(Source::File(path.clone())));
                }
            }
        }
    });
    actions
}
