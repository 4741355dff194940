//! Helpers for the format modules' tests: fixtures, readable span summaries, error places.

use super::semconv::resource_besides_service;
use super::{Format, FormatError, Imported, Place, import};
use crate::model::{AttrValue, Trace};

/// The bytes of a file under the crate root (`tests/fixtures/...`, `sample-traces/...`).
pub(crate) fn file(path: &str) -> Vec<u8> {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Imports a file under the crate root, panicking with the error if it fails.
pub(crate) fn import_file(path: &str) -> Imported {
    import(path, &file(path)).unwrap_or_else(|e| panic!("{e}"))
}

/// An attribute value as text, with its type: `Int(200)`, `Str("x")`.
pub(crate) fn value_text(trace: &Trace, value: AttrValue) -> String {
    match value {
        AttrValue::Str(s) => format!("Str({:?})", trace.str(s)),
        other => format!("{other:?}"),
    }
}

/// One line per span with everything a writer must keep: ids, parent, times, names, status,
/// attributes and events. Two traces that read the same have equal summaries.
pub(crate) fn summary(trace: &Trace) -> Vec<String> {
    (0..trace.len() as u32)
        .map(|i| {
            let s = trace.span(i);
            let mut attrs: Vec<String> =
                trace.attrs(i).iter().map(|a| format!("{}={}", trace.str(a.key), value_text(trace, a.value))).collect();
            attrs.sort();
            let mut resource: Vec<String> = resource_besides_service(trace, s.resource)
                .map(|a| format!("{}={}", trace.str(a.key), value_text(trace, a.value)))
                .collect();
            resource.sort();
            let events: Vec<String> = trace
                .events(i)
                .iter()
                .map(|e| {
                    let attrs: Vec<String> = trace
                        .attrs_in(e.attrs)
                        .iter()
                        .map(|a| format!("{}={}", trace.str(a.key), value_text(trace, a.value)))
                        .collect();
                    format!("{}@{}{{{}}}", trace.str(e.name), e.time, attrs.join(","))
                })
                .collect();
            format!(
                "{} parent={:?} {}..{} {:?} service={:?} op={:?} kind={:?} status={:?}/{:?} attrs=[{}] resource=[{}] events=[{}]",
                s.id,
                s.parent.map(|p| trace.span(p).id),
                s.start,
                s.end,
                trace.str(s.name),
                trace.str(s.service),
                trace.str(s.op),
                s.kind,
                s.status,
                trace.str(s.status_message),
                attrs.join(", "),
                resource.join(", "),
                events.join(", "),
            )
        })
        .collect()
}

/// The JSON path of an error's place, or "" when it has none.
pub(crate) fn path_of(err: &FormatError) -> &str {
    match &err.place {
        Place::At { path, .. } | Place::Path(path) => path,
        Place::Whole => "",
    }
}

/// The line of an error's place, when it has one.
pub(crate) fn line_of(err: &FormatError) -> Option<usize> {
    match err.place {
        Place::At { line, .. } => Some(line),
        _ => None,
    }
}

/// What a file loaded as: its traces in tracedeck's format, their warnings, their string tables.
pub(crate) type Loaded = (String, Vec<Vec<String>>, Vec<Vec<String>>);

/// What file `name` holding `bytes` loads as, on a rayon pool of `threads` threads: see
/// [`loaded_as`].
pub(crate) fn loaded_on(threads: usize, name: &str, bytes: &[u8]) -> Loaded {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    loaded_as(&pool.install(|| import(name, bytes).unwrap()))
}

/// What a file loaded as: the traces in tracedeck's format, their warnings and their string
/// tables (equal for equal loads, string ids included).
pub(crate) fn loaded_as(imported: &Imported) -> Loaded {
    let mut text = Vec::new();
    Format::Tracedeck.write(&imported.traces, &mut text).unwrap();
    let warnings = imported.traces.iter().map(|t| t.warnings().iter().map(|w| w.to_string()).collect()).collect();
    let strings = imported.traces.iter().map(|t| t.strings().iter().map(|(_, s)| s.to_owned()).collect()).collect();
    (String::from_utf8(text).unwrap(), warnings, strings)
}
