//! What the app remembers between runs: one struct, saved by eframe's persistence. Open
//! traces are not in it; recent files, theme and the deadline profile are.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How many recent files are kept.
const RECENT_MAX: usize = 10;

/// Light, dark, or whatever the system says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThemeChoice {
    /// Follow the system.
    #[default]
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

/// Remembered settings. `serde(default)` keeps old files loading when fields are added.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Files opened lately, newest first.
    pub recent: Vec<PathBuf>,
    /// Theme.
    pub theme: ThemeChoice,
    /// The deadline profile's name.
    pub profile: String,
    /// Draw the critical path highlighted.
    pub show_critical: bool,
    /// Show the details panel.
    pub show_details: bool,
    /// Show the span table.
    pub show_table: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            recent: Vec::new(),
            theme: ThemeChoice::System,
            profile: "slack".into(),
            show_critical: true,
            show_details: true,
            show_table: false,
        }
    }
}

impl Settings {
    /// Puts `path` at the top of the recent files.
    pub fn remember(&mut self, path: PathBuf) {
        self.recent.retain(|p| *p != path);
        self.recent.insert(0, path);
        self.recent.truncate(RECENT_MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_files_are_unique_newest_first_and_bounded() {
        let mut s = Settings::default();
        for i in 0..12 {
            s.remember(PathBuf::from(format!("{i}.json")));
        }
        s.remember(PathBuf::from("5.json"));
        assert_eq!(s.recent.len(), RECENT_MAX);
        assert_eq!(s.recent[0], PathBuf::from("5.json"));
        assert_eq!(s.recent.iter().filter(|p| p.as_path() == std::path::Path::new("5.json")).count(), 1);
    }

    #[test]
    fn old_settings_files_still_load() {
        let s: Settings = serde_json::from_str(r#"{"theme":"Dark"}"#).unwrap();
        assert_eq!(s.theme, ThemeChoice::Dark);
        assert_eq!(s.profile, "slack");
    }
}
