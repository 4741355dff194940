//! Where a trace comes from: a file, a folder, or a sample built into the binary.

use std::path::PathBuf;

/// Where a trace comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A file on disk.
    File(PathBuf),
    /// A folder (searched recursively) or several files, shown together in a traces view.
    Folder(PathBuf),
    /// A sample trace built into the binary.
    Bundled {
        /// Its file name.
        name: &'static str,
        /// Its content.
        bytes: &'static [u8],
    },
}

impl Source {
    /// A folder source for a directory, a file source otherwise.
    pub fn for_path(path: PathBuf) -> Self {
        if path.is_dir() { Source::Folder(path) } else { Source::File(path) }
    }

    /// The name shown in tabs and errors.
    pub fn name(&self) -> String {
        match self {
            Source::File(path) | Source::Folder(path) => {
                path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
            }
            Source::Bundled { name, .. } => (*name).to_owned(),
        }
    }

    /// The full path or name, for errors and the recent-files list.
    pub fn display(&self) -> String {
        match self {
            Source::File(path) | Source::Folder(path) => path.display().to_string(),
            Source::Bundled { name, .. } => format!("{name} (bundled sample)"),
        }
    }
}

/// The incident trace before the fix, built in so the start screen can always open it.
pub const INCIDENT_BEFORE: Source = Source::Bundled {
    name: "incident-before.sentry.json",
    bytes: include_bytes!("../../sample-traces/incident-before.sentry.json"),
};
/// The incident trace after the fix.
pub const INCIDENT_AFTER: Source = Source::Bundled {
    name: "incident-after.sentry.json",
    bytes: include_bytes!("../../sample-traces/incident-after.sentry.json"),
};
