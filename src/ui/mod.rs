//! The desktop window (eframe/egui). Reads traces; never blocks: files load on worker threads
//! and arrive over channels. Model and analysis know nothing of this module.

mod action;
mod app;
pub mod axis;
mod details;
pub mod fetch_dialog;
mod help;
mod job;
mod live;
mod loader;
pub mod margin_plot;
pub mod margin_run;
mod menu_bar;
mod minimap;
pub mod overlay;
pub mod replay_demo;
pub mod replay_mock;
pub mod replay_panel;
mod saving;
mod search;
pub mod search_run;
mod settings;
mod source;
mod span_table;
mod start_screen;
mod tab_strip;
#[cfg(test)]
mod test_traces;
mod theme;
mod time_window;
mod trace_tab;
pub mod traces_view;
pub mod trend;
pub mod waterfall;

use std::path::PathBuf;

pub use action::Action;
pub use app::App;
pub use fetch_dialog::FetchDialog;
pub use replay_panel::ReplayPanel;
pub use settings::Settings;
pub use source::{INCIDENT_AFTER, INCIDENT_BEFORE, Source};
pub use trace_tab::TraceView;

use crate::analysis::Profile;
use crate::model::SpanId;

/// The eframe wrapper: loads and saves [`Settings`], and hands each frame to [`App`].
struct Window {
    app: App,
    /// Whether the window has been fitted to its monitor (done once, on the first frame that
    /// knows the monitor's size).
    fitted: bool,
}

impl eframe::App for Window {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        if !self.fitted {
            self.fitted = fit_to_monitor(ui.ctx());
        }
        self.app.ui(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, self.app.settings());
    }
}

/// Shrinks a window larger than its monitor (the first size suits a laptop's 1400 px and up) to
/// fit it, at its top left; returns whether the monitor's size was known yet.
fn fit_to_monitor(ctx: &egui::Context) -> bool {
    let (monitor, inner) = ctx.input(|i| (i.viewport().monitor_size, i.viewport().inner_rect));
    let (Some(monitor), Some(inner)) = (monitor, inner) else { return false };
    if inner.width() > monitor.x || inner.height() > monitor.y {
        let size = inner.size().min(monitor - egui::vec2(0.0, 40.0));
        ctx.send_viewport_cmd(egui::ViewportCommand::InnerSize(size));
        ctx.send_viewport_cmd(egui::ViewportCommand::OuterPosition(egui::pos2(0.0, 0.0)));
    }
    true
}

/// The window's icon (`assets/icon.svg`, rendered at 256 px), built into the binary so an
/// installed tracedeck has it wherever it runs.
fn icon() -> egui::IconData {
    eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icon-256.png"))
        .expect("the icon built into the binary is a valid PNG")
}

/// Opens the window with `files` (and span `span` selected once it loads), judging by `profile`
/// when given (else by the one chosen last); returns when it closes.
pub fn run(files: Vec<PathBuf>, span: Option<SpanId>, profile: Option<Profile>) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("tracedeck")
            .with_inner_size([1400.0, 860.0])
            .with_min_inner_size([640.0, 400.0])
            .with_drag_and_drop(true)
            .with_app_id("tracedeck")
            .with_icon(icon()),
        ..Default::default()
    };
    eframe::run_native(
        "tracedeck",
        options,
        Box::new(move |cc| {
            let settings: Settings = cc.storage.and_then(|s| eframe::get_value(s, eframe::APP_KEY)).unwrap_or_default();
            Ok(Box::new(Window { app: App::new(settings, files, span, profile), fitted: false }))
        }),
    )
    .map_err(|e| anyhow::anyhow!("could not open the window: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_built_in_icon_decodes_at_its_size() {
        let icon = super::icon();
        assert_eq!((icon.width, icon.height), (256, 256));
        assert_eq!(icon.rgba.len(), 256 * 256 * 4);
    }
}
