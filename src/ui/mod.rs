//! The desktop window (eframe/egui). Reads traces; never blocks: files load on worker threads
//! and arrive over channels. Model and analysis know nothing of this module.

mod app;
pub mod axis;
mod details;
pub mod fetch_dialog;
mod loader;
pub mod overlay;
pub mod replay_panel;
mod search;
pub mod search_run;
mod settings;
mod span_table;
mod theme;
pub mod traces_view;
pub mod waterfall;

use std::path::PathBuf;

pub use app::{Action, App, TraceView};
pub use fetch_dialog::FetchDialog;
pub use loader::{INCIDENT_AFTER, INCIDENT_BEFORE, Source};
pub use replay_panel::ReplayPanel;
pub use settings::Settings;

use crate::model::SpanId;

/// The eframe wrapper: loads and saves [`Settings`], and hands each frame to [`App`].
struct Window {
    app: App,
}

impl eframe::App for Window {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.app.ui(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, self.app.settings());
    }
}

/// Opens the window with `files` (and span `span` selected once it loads); returns when it closes.
pub fn run(files: Vec<PathBuf>, span: Option<SpanId>) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("tracedeck")
            .with_inner_size([1400.0, 860.0])
            .with_min_inner_size([640.0, 400.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "tracedeck",
        options,
        Box::new(move |cc| {
            let settings: Settings = cc.storage.and_then(|s| eframe::get_value(s, eframe::APP_KEY)).unwrap_or_default();
            Ok(Box::new(Window { app: App::new(settings, files, span) }))
        }),
    )
    .map_err(|e| anyhow::anyhow!("could not open the window: {e}"))
}
