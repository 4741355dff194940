//! The tab strip: one tab per open trace, traces view or replay, a failed one marked, each with
//! its close button. It returns what the user asked for.

use egui::{RichText, Ui};

use super::action::Action;
use super::theme;

/// Draws the tabs, given as (title, whether it failed), with `active` selected; returns the
/// switches and closes asked for.
pub fn tab_strip<'a>(ui: &mut Ui, tabs: impl Iterator<Item = (&'a str, bool)>, active: usize) -> Vec<Action> {
    let mut actions = Vec::new();
    ui.horizontal_wrapped(|ui| {
        for (i, (title, failed)) in tabs.enumerate() {
            let text = match failed {
                true => RichText::new(format!("{title} (failed)")).color(theme::MISS),
                false => RichText::new(title),
            };
            if ui.selectable_label(i == active, text).clicked() {
                actions.push(Action::SwitchTab(i));
            }
            if ui.small_button("×").on_hover_text(format!("Close {title}")).clicked() {
                actions.push(Action::CloseTab(i));
            }
            ui.separator();
        }
    });
    actions
}
