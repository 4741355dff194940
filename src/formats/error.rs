//! Import errors that say which file, which format, where, and what was wrong.

use std::fmt;

use super::Format;

/// Where in the input a problem is.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Place {
    /// A line and column (1-based), and the JSON path there when known (`$.spans[3].span_id`).
    At {
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
        /// JSON path, empty when unknown.
        path: String,
    },
    /// A JSON path, when the line is not known.
    Path(String),
    /// The input as a whole (it is empty, it has no spans, its spans form a cycle).
    Whole,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::At { line, column, path } if path.is_empty() => write!(f, "line {line}, column {column}"),
            Place::At { line, column, path } => write!(f, "line {line}, column {column} ({path})"),
            Place::Path(path) => f.write_str(path),
            Place::Whole => f.write_str("the whole file"),
        }
    }
}

/// A problem a format's parser found, before the file's name is known.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FormatError {
    /// Where.
    pub place: Place,
    /// What was expected and what was found.
    pub message: String,
}

impl FormatError {
    /// A problem at a place.
    pub fn new(place: Place, message: impl Into<String>) -> Self {
        FormatError { place, message: message.into() }
    }

    /// A problem at a JSON path.
    pub fn at_path(path: impl Into<String>, message: impl Into<String>) -> Self {
        FormatError::new(Place::Path(path.into()), message)
    }
}

/// Why a file could not be imported: names the file, the format tried, the place and the problem.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub struct ImportError {
    /// The file (or other source) as the user named it.
    pub file: String,
    /// The format it was read as; `None` when no format was recognised.
    pub format: Option<Format>,
    /// Where and what.
    pub error: FormatError,
}

impl ImportError {
    /// Puts a format's error in the context of a file.
    pub fn new(file: &str, format: Option<Format>, error: FormatError) -> Self {
        ImportError { file: file.to_owned(), format, error }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.format {
            Some(format) => write!(f, "{}: {format}, at {}: {}", self.file, self.error.place, self.error.message),
            None => write!(f, "{}: {}", self.file, self.error.message),
        }
    }
}
