//! The keyboard shortcuts window (F1).

/// Shows the shortcuts while `open`.
pub fn help_window(ctx: &egui::Context, open: &mut bool) {
    egui::Window::new("Keyboard shortcuts").open(open).collapsible(false).show(ctx, |ui| {
        egui::Grid::new("shortcuts").num_columns(2).show(ui, |ui| {
            for (keys, what) in [
                ("W / S", "zoom in / out"),
                ("A / D", "pan left / right"),
                ("Ctrl + wheel", "zoom at the pointer"),
                ("Shift + wheel", "pan"),
                ("Drag on the bars", "pan"),
                ("Drag on the time axis", "zoom to that range"),
                ("Drag on the overview", "move the visible window"),
                ("Double-click a span", "zoom to it"),
                ("Double-click the time axis", "place a marker"),
                ("Right-click the time axis", "remove the nearest marker"),
                ("Enter / Shift+Enter", "next / previous search match"),
                ("F1", "this help"),
            ] {
                ui.strong(keys);
                ui.label(what);
                ui.end_row();
            }
        });
    });
}
