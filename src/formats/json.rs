//! Shared JSON plumbing for the importers: a fast parse that, only when it fails, parses again
//! to find the JSON path of the problem, and deserializers for the value shapes formats share.

use serde::Deserialize;
use serde::de::DeserializeSeed;

use super::{FormatError, Place};

/// Deserializes `bytes` as `T`. Errors carry line, column and JSON path.
pub(crate) fn from_slice<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, FormatError> {
    serde_json::from_slice(bytes).map_err(|_| located_error::<T>(bytes, 0))
}

/// Like [`from_slice`] for one line of a JSON-lines file: `first_line` is the line number
/// (from 1) of `bytes`' first line within the file.
pub(crate) fn from_line<'de, T: Deserialize<'de>>(bytes: &'de [u8], first_line: usize) -> Result<T, FormatError> {
    serde_json::from_slice(bytes).map_err(|_| located_error::<T>(bytes, first_line.saturating_sub(1)))
}

/// The slow path: parse again, tracking the path, to say where the first problem is.
fn located_error<'de, T: Deserialize<'de>>(bytes: &'de [u8], line_offset: usize) -> FormatError {
    located_seed_error(bytes, line_offset + 1, std::marker::PhantomData::<T>)
}

/// The slow path for importers that deserialize with a [`DeserializeSeed`] (to intern as they
/// go): after their fast parse of `bytes` failed, parse again with a fresh `seed`, tracking the
/// path, to say where the first problem is. `first_line` is the file line (from 1) of `bytes`'
/// first line.
pub(crate) fn located_seed_error<'de, S: DeserializeSeed<'de>>(
    bytes: &'de [u8],
    first_line: usize,
    seed: S,
) -> FormatError {
    let line_offset = first_line.saturating_sub(1);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut track = serde_path_to_error::Track::new();
    let result = seed.deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track));
    let err = match result {
        Ok(_) => match de.end() {
            Err(inner) => return place_of(&inner, String::new(), line_offset),
            Ok(()) => return FormatError::new(Place::Whole, "the JSON could not be read"),
        },
        Err(err) => err,
    };
    place_of(&err, json_path(&track.path()), line_offset)
}

fn place_of(inner: &serde_json::Error, path: String, line_offset: usize) -> FormatError {
    FormatError::new(Place::At { line: inner.line() + line_offset, column: inner.column(), path }, describe(inner))
}

/// `$.spans[3].span_id` from serde_path_to_error's path.
fn json_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::from("$");
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => out.push_str(&format!(".{key}")),
            Segment::Enum { variant } => out.push_str(&format!(".{variant}")),
            Segment::Unknown => out.push_str(".?"),
        }
    }
    out
}

/// serde_json's message without its trailing "at line L column C" (the place says that).
fn describe(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let trimmed = match text.rfind(" at line ") {
        Some(at) => &text[..at],
        None => &text,
    };
    if err.is_eof() { format!("the file ends too early ({trimmed}); is it truncated?") } else { trimmed.to_owned() }
}

/// Splits a JSON-lines file into its non-blank lines, with their line numbers (from 1).
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line))
        .filter(|(_, line)| line.iter().any(|b| !b.is_ascii_whitespace()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Doc {
        spans: Vec<Item>,
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        id: u32,
    }

    #[test]
    fn errors_name_line_column_and_path() {
        let err = from_slice::<Doc>(b"{\"spans\": [{\"id\": 1},\n {\"id\": \"x\"}]}").unwrap_err();
        let Place::At { line, path, .. } = &err.place else { panic!("{err:?}") };
        assert_eq!((*line, path.as_str()), (2, "$.spans[1].id"));
        assert!(err.message.contains("invalid type: string \"x\", expected u32"), "{}", err.message);
    }

    #[test]
    fn truncation_is_called_truncation() {
        let err = from_slice::<Doc>(b"{\"spans\": [{\"id\": 1}").unwrap_err();
        assert!(err.message.contains("truncated"), "{}", err.message);
    }

    #[test]
    fn line_numbers_of_json_lines_are_file_lines() {
        let err = from_line::<Doc>(b"{\"spans\": 5}", 7).unwrap_err();
        assert!(matches!(err.place, Place::At { line: 7, .. }), "{err:?}");
    }
}
