//! The menu bar: File, View, Replay and Live, what the receiver and the last save say, and the
//! deadline profile. It draws from what the app shows and returns what the user asked for; only
//! the plain view preferences (the details panel, the span table) are set here.

use egui::{RichText, Ui};

use super::action::Action;
use super::live::{self, LiveReceiver, LiveRequest};
use super::settings::{Settings, ThemeChoice};
use super::source::{INCIDENT_AFTER, INCIDENT_BEFORE, Source};
use super::theme;
use crate::analysis::Profile;
use crate::formats::Format;
use crate::model::format_duration;

/// What the active tab can save.
pub enum Saves {
    /// No trace: a start screen, a loading or failed tab, a replay.
    Nothing,
    /// One trace.
    Trace,
    /// A traces view's traces; whether there are any.
    Traces(bool),
}

/// What the menu bar shows.
pub struct Menu<'a> {
    /// The settings (the view preferences are set here).
    pub settings: &'a mut Settings,
    /// The profile every view judges by.
    pub profile: &'a Profile,
    /// The active tab, if any.
    pub active: Option<usize>,
    /// What the active tab can save.
    pub saves: Saves,
    /// The receiver, while it runs.
    pub receiver: Option<&'a LiveReceiver>,
    /// What the last save said.
    pub notice: Option<&'a str>,
}

/// Draws the menu bar; returns what the user asked for.
pub fn menu_bar(ui: &mut Ui, menu: Menu<'_>) -> Vec<Action> {
    let mut actions = Vec::new();
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            if ui.button("Open…").clicked() {
                actions.push(Action::OpenDialog);
            }
            if ui.button("Open folder…").clicked() {
                actions.push(Action::OpenFolderDialog);
            }
            if ui.button("Fetch or search traces…").clicked() {
                actions.push(Action::ShowFetchDialog);
            }
            let (can_save, hover) = match menu.saves {
                Saves::Trace => (true, "The trace as recorded (without any clock-skew adjustment)"),
                Saves::Traces(any) => (any, "Every trace of this view, in one file"),
                Saves::Nothing => (false, "Open a trace first"),
            };
            for (format, text) in
                [(Format::Otlp, "Save trace as OTLP JSON…"), (Format::Tracedeck, "Save trace as tracedeck file…")]
            {
                let button = ui.add_enabled(can_save, egui::Button::new(text));
                if button.on_hover_text(hover).clicked() {
                    actions.push(Action::SaveTrace(format));
                }
            }
            ui.menu_button("Open recent", |ui| {
                if menu.settings.recent.is_empty() {
                    ui.label("No recent files");
                }
                for path in menu.settings.recent.clone() {
                    if ui.button(path.display().to_string()).clicked() {
                        actions.push(Action::Open(Source::File(path)));
                    }
                }
            });
            ui.separator();
            if ui.button("Open the incident trace").clicked() {
                actions.push(Action::Open(INCIDENT_BEFORE));
            }
            if ui.button("Open the fixed trace").clicked() {
                actions.push(Action::Open(INCIDENT_AFTER));
            }
            ui.separator();
            if ui.add_enabled(menu.active.is_some(), egui::Button::new("Close tab")).clicked()
                && let Some(active) = menu.active
            {
                actions.push(Action::CloseTab(active));
            }
            if ui.button("Quit").clicked() {
                actions.push(Action::Quit);
            }
        });
        ui.menu_button("View", |ui| {
            ui.label("Theme");
            let mut theme = menu.settings.theme;
            ui.radio_value(&mut theme, ThemeChoice::System, "Follow the system");
            ui.radio_value(&mut theme, ThemeChoice::Light, "Light");
            ui.radio_value(&mut theme, ThemeChoice::Dark, "Dark");
            if theme != menu.settings.theme {
                actions.push(Action::SetTheme(theme));
            }
            ui.separator();
            ui.checkbox(&mut menu.settings.show_details, "Span details panel");
            ui.checkbox(&mut menu.settings.show_table, "Span table");
            let mut critical = menu.settings.show_critical;
            if ui.checkbox(&mut critical, "Highlight the critical path").changed() {
                actions.push(Action::ShowCriticalPath(critical));
            }
            ui.separator();
            if ui.button("Keyboard shortcuts (F1)").clicked() {
                actions.push(Action::ShowHelp);
            }
        });
        ui.menu_button("Replay", |ui| {
            if ui.button("Replay a captured interaction…").clicked() {
                actions.push(Action::NewReplay);
            }
            if ui.button("Try the replay on the demo app").clicked() {
                actions.push(Action::TryDemo);
            }
        });
        ui.menu_button("Live", |ui| match live::menu(ui, menu.receiver) {
            Some(LiveRequest::Receive { protocol, addr }) => actions.push(Action::Receive { protocol, addr }),
            Some(LiveRequest::ShowReceived) => actions.push(Action::ShowReceived),
            None => {}
        });
        if let Some(live) = menu.receiver {
            ui.label(RichText::new(live.status_line()).color(theme::CLOCK));
        }
        if let Some(notice) = menu.notice {
            ui.label(RichText::new(notice).weak());
        }
        ui.separator();
        let current = format!("{} — {}", menu.profile.name, format_duration(menu.profile.limit));
        egui::ComboBox::from_label("Deadline profile")
            .selected_text(current)
            .show_ui(ui, |ui| {
                for profile in Profile::names().filter_map(Profile::built_in) {
                    let label = format!("{} — {}", profile.name, format_duration(profile.limit));
                    if ui.selectable_label(&profile == menu.profile, label).on_hover_text(&profile.source).clicked() {
                        actions.push(Action::SetProfile(profile));
                    }
                }
            })
            .response
            .on_hover_text(&menu.profile.source);
    });
    actions
}
