//! Importers: bytes in, [`Trace`]s or a precise [`ImportError`] out.
//!
//! One module per format, each with `parse` (bytes to a [`TraceBuilder`]) and `write` (traces
//! back to that format, for the generator, round-trip tests and saving). The format is
//! detected from the content, never from the file name. Parsing borrows from the input and
//! interns strings, so the input can be dropped before the trees are built
//! ([`parse`] then [`finish`]), which keeps peak memory near the file's size.

pub mod chrome;
mod detect;
mod error;
mod input;
pub mod jaeger;
pub(crate) mod json;
pub mod native;
pub mod otlp;
mod semconv;
pub mod sentry;
mod split;
#[cfg(test)]
mod testkit;
mod untimed;
pub mod zipkin;

use std::fmt;

pub use detect::{CAPTURE_TAG, detect};
pub use error::{FormatError, ImportError, Place};
pub use input::Input;

use crate::model::{Trace, TraceBuilder, TraceId};

/// The trace formats tracedeck reads (on command lines: `sentry`, `otlp`, `jaeger`, `zipkin`,
/// `chrome`, `tracedeck`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, clap::ValueEnum)]
pub enum Format {
    /// Sentry transaction events, several of one trace, a trace endpoint's answer, or envelopes.
    Sentry,
    /// OpenTelemetry protobuf-JSON (`resourceSpans`), one document or one per line.
    Otlp,
    /// Jaeger's query/UI JSON (`data[].spans[]`).
    Jaeger,
    /// Zipkin v2 JSON (an array of spans).
    Zipkin,
    /// Chrome's trace event format (`traceEvents`, or a bare array of events).
    Chrome,
    /// tracedeck's own format (`{"tracedeck": 1, "traces": [...]}`), which keeps everything.
    Tracedeck,
}

impl Format {
    /// Every format, in detection order.
    pub const ALL: [Format; 6] =
        [Format::Tracedeck, Format::Otlp, Format::Jaeger, Format::Chrome, Format::Sentry, Format::Zipkin];

    /// The name people know the format by.
    pub fn name(self) -> &'static str {
        match self {
            Format::Sentry => "Sentry JSON",
            Format::Otlp => "OTLP JSON",
            Format::Jaeger => "Jaeger JSON",
            Format::Zipkin => "Zipkin v2 JSON",
            Format::Chrome => "Chrome trace events",
            Format::Tracedeck => "tracedeck JSON",
        }
    }

    /// The conventional ending of a file name in this format (`.otlp.json`), as the samples
    /// are named; detection never relies on it.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Sentry => ".sentry.json",
            Format::Otlp => ".otlp.json",
            Format::Jaeger => ".jaeger.json",
            Format::Zipkin => ".zipkin.json",
            Format::Chrome => ".chrome.json",
            Format::Tracedeck => ".tracedeck.json",
        }
    }

    /// Reads `bytes` as this format (after a UTF-8 byte-order mark, if any).
    pub fn parse(self, bytes: &[u8]) -> Result<TraceBuilder, FormatError> {
        let bytes = without_bom(bytes);
        match self {
            Format::Sentry => sentry::parse(bytes),
            Format::Otlp => otlp::parse(bytes),
            Format::Jaeger => jaeger::parse(bytes),
            Format::Zipkin => zipkin::parse(bytes),
            Format::Chrome => chrome::parse(bytes),
            Format::Tracedeck => native::parse(bytes),
        }
    }

    /// Writes traces in this format.
    pub fn write(self, traces: &[Trace], out: &mut dyn std::io::Write) -> std::io::Result<()> {
        self.write_refs(&traces.iter().collect::<Vec<_>>(), out)
    }

    /// Writes traces held elsewhere (behind `Arc`s, say) in this format.
    pub fn write_refs(self, traces: &[&Trace], out: &mut dyn std::io::Write) -> std::io::Result<()> {
        match self {
            Format::Sentry => sentry::write(traces, out),
            Format::Otlp => otlp::write(traces, out),
            Format::Jaeger => jaeger::write(traces, out),
            Format::Zipkin => zipkin::write(traces, out),
            Format::Chrome => chrome::write(traces, out),
            Format::Tracedeck => native::write(traces, out),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `bytes` without the UTF-8 byte-order mark some editors (on Windows) put first. The mark
/// holds no line break and editors do not show it, so lines and columns counted after it are
/// the ones people see.
fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Whether `id` is one an importer made up for spans whose file named no trace id (Sentry
/// events without one, Chrome profiles): such traces of different files are not one trace.
pub fn is_made_up(id: TraceId) -> bool {
    id == TraceId(0) || id == chrome::SYNTHETIC_TRACE_ID
}

/// What one file held.
#[derive(Debug)]
pub struct Imported {
    /// The format it was read as.
    pub format: Format,
    /// One trace per trace id, by start time.
    pub traces: Vec<Trace>,
}

/// Detects the format of `bytes` and reads them. `file` names the input in errors.
pub fn import(file: &str, bytes: &[u8]) -> Result<Imported, ImportError> {
    let (format, builder) = parse(file, bytes)?;
    finish(file, format, builder)
}

/// The first half of [`import`]: detect and parse. The input may be dropped afterwards.
pub fn parse(file: &str, bytes: &[u8]) -> Result<(Format, TraceBuilder), ImportError> {
    let format = detect(bytes).map_err(|e| ImportError::new(file, None, e))?;
    let builder = format.parse(bytes).map_err(|e| ImportError::new(file, Some(format), e))?;
    Ok((format, builder))
}

/// [`parse`] of an [`Input`], giving back to the system the parts of it read on several
/// threads as they are read, so that the input and what is built from it are not both held
/// whole. `None` when the input was spoiled (a part failed after others were given back):
/// read the file again and call [`parse`], which then says where the error is.
pub fn parse_input(file: &str, input: &Input) -> Option<Result<(Format, TraceBuilder), ImportError>> {
    let parsed = input::parsing(input, || parse(file, input.bytes()));
    (!input.spoiled()).then_some(parsed)
}

/// Reads the file at `path` into an [`Input`] and parses it ([`parse_input`]): the parts of a
/// big file are given back to the system as they are parsed and the rest is dropped before
/// this returns, so the tree can be built without the file in memory; a spoiled input is read
/// again from the file and parsed whole. `after_each_read` is called with the bytes read so far
/// and the file's size; an error it returns (a cancellation) stops the reading. The outer error
/// is the reading's; the inner one names `path`.
pub fn parse_file(
    path: &std::path::Path,
    mut after_each_read: impl FnMut(usize, usize) -> std::io::Result<()>,
) -> std::io::Result<Result<(Format, TraceBuilder), ImportError>> {
    let mut read = || {
        let mut opened = std::fs::File::open(path)?;
        let size = usize::try_from(opened.metadata()?.len()).unwrap_or(usize::MAX);
        Input::read(&mut opened, size, |done| after_each_read(done, size))
    };
    let file = path.display().to_string();
    let input = read()?;
    let parsed = parse_input(&file, &input);
    drop(input);
    match parsed {
        Some(parsed) => Ok(parsed),
        // A part failed after others were given back: read it all again to place the error.
        None => Ok(parse(&file, read()?.bytes())),
    }
}

/// The second half of [`import`]: link, order and index the spans.
pub fn finish(file: &str, format: Format, builder: TraceBuilder) -> Result<Imported, ImportError> {
    let traces = builder
        .build()
        .map_err(|e| ImportError::new(file, Some(format), FormatError::new(Place::Whole, e.to_string())))?;
    if traces.is_empty() {
        return Err(ImportError::new(file, Some(format), FormatError::new(Place::Whole, "the file holds no spans")));
    }
    Ok(Imported { format, traces })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{SynthParams, generate};
    use testkit::{big_file, imported_from_file, loaded_from_input};

    #[test]
    fn a_big_file_loads_the_same_when_its_parts_are_given_back() {
        for format in Format::ALL {
            let bytes = big_file(format);
            assert!(bytes.len() > 6 << 20, "{format}: {} bytes is too small to be read in parallel", bytes.len());
            let (loaded, given) = loaded_from_input("big", &bytes).unwrap_or_else(|| panic!("{format}: spoiled"));
            assert!(loaded == testkit::loaded_on(2, "big", &bytes), "{format}: loads otherwise");
            let parallel = [Format::Otlp, Format::Jaeger, Format::Chrome, Format::Sentry, Format::Zipkin];
            if cfg!(target_os = "linux") && parallel.contains(&format) {
                assert!(given, "{format}: nothing was given back");
            }
        }
    }

    #[test]
    fn an_error_in_a_late_part_spoils_the_input_and_the_file_is_read_again() {
        let mut bytes = big_file(Format::Zipkin);
        // A stray letter before the last span's first key (the structural scan still splits it).
        let last = bytes.windows(2).rposition(|w| w == b"{\"").unwrap();
        bytes.insert(last + 1, b'x');
        if cfg!(target_os = "linux") {
            assert!(loaded_from_input("bad", &bytes).is_none(), "the input is spoiled");
        }
        let error = imported_from_file(&bytes).unwrap_err();
        let whole = import("big.json", &bytes).unwrap_err().to_string();
        assert!(error.ends_with(&whole), "{error} is not {whole}");
        assert!(error.contains("line 1, column"), "{error}");
    }

    #[test]
    fn a_zipkin_file_read_twice_is_read_again_whole() {
        let mut bytes = big_file(Format::Zipkin);
        // The last span comes again in a record of its own: the reader merges the two in a second pass.
        let last = split::array_elements(&bytes).unwrap().pop().unwrap();
        let record = bytes[last].to_vec();
        bytes.pop();
        bytes.extend([b",".as_slice(), &record, b"]"].concat());
        if cfg!(target_os = "linux") {
            assert!(loaded_from_input("twice", &bytes).is_none(), "the input is spoiled");
        }
        let whole = testkit::loaded_on(2, "twice", &bytes);
        assert!(testkit::loaded_as(&imported_from_file(&bytes).unwrap()) == whole);
        assert!(whole.1.iter().flatten().any(|w| w.contains("merged")), "the parts were merged: {:?}", whole.1);
    }

    fn with_bom(bytes: &[u8]) -> Vec<u8> {
        [b"\xEF\xBB\xBF".as_slice(), bytes].concat()
    }

    #[test]
    fn a_byte_order_mark_first_is_skipped_in_every_format() {
        let trace = generate(&SynthParams { seed: 4, spans: 15, ..SynthParams::default() });
        for format in Format::ALL {
            let mut bytes = Vec::new();
            format.write(std::slice::from_ref(&trace), &mut bytes).unwrap();
            let plain = import("plain.json", &bytes).unwrap();
            let marked = import("bom.json", &with_bom(&bytes)).unwrap_or_else(|e| panic!("{format}: {e}"));
            assert_eq!(marked.format, format);
            assert_eq!(testkit::summary(&marked.traces[0]), testkit::summary(&plain.traces[0]), "{format}");
        }
        // OTLP JSON lines, as the collector's file exporter writes them.
        let line = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"a","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}"#;
        let jsonl = [line.as_slice(), b"\n", line.as_slice(), b"\n"].concat();
        assert_eq!(import("bom.jsonl", &with_bom(&jsonl)).unwrap().traces[0].len(), 2);
    }

    #[test]
    fn after_a_byte_order_mark_errors_are_placed_as_an_editor_shows_them() {
        for text in [&br#"[{"traceId": 12, "id": "a", "timestamp": 1}]"#[..], b"[{\"traceId\": \"ab\",\n  \"id\": 7}]"]
        {
            let plain = import("plain.json", text).unwrap_err();
            let marked = import("bom.json", &with_bom(text)).unwrap_err();
            assert!(matches!(plain.error.place, Place::At { .. }), "{plain}");
            assert_eq!(marked.error, plain.error);
        }
    }
}
