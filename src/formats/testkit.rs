//! Helpers for the format modules' tests: fixtures, readable span summaries, error places.

use super::semconv::resource_besides_service;
use super::split::{self, Step};
use super::{Format, FormatError, ImportError, Imported, Input, Place, finish, import, parse_file, parse_input};
use crate::model::{AttrValue, Trace, TraceBuilder};
use crate::synth::{SynthParams, generate};

/// The bytes of a file under the crate root (`tests/fixtures/...`, `sample-traces/...`).
pub(crate) fn file(path: &str) -> Vec<u8> {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Imports a file under the crate root, panicking with the error if it fails.
pub(crate) fn import_file(path: &str) -> Imported {
    import(path, &file(path)).unwrap_or_else(|e| panic!("{e}"))
}

/// 60 generated traces of 400 spans in `format`: a file of many traces, big enough (over
/// 6 MB in every format) to be mapped and read in parallel.
pub(crate) fn big_file(format: Format) -> Vec<u8> {
    let traces: Vec<Trace> =
        (0..60).map(|seed| generate(&SynthParams { seed, spans: 400, ..SynthParams::default() })).collect();
    written(format, &traces)
}

/// One generated trace of 20,000 spans over 4 services (`seed` picks it) in `format`.
pub(crate) fn big_trace(format: Format, seed: u64) -> Vec<u8> {
    let trace = generate(&SynthParams { seed, spans: 20_000, services: 4, ..SynthParams::default() });
    written(format, std::slice::from_ref(&trace))
}

fn written(format: Format, traces: &[Trace]) -> Vec<u8> {
    let mut bytes = Vec::new();
    format.write(traces, &mut bytes).unwrap();
    bytes
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

/// `bytes` read into an [`Input`] and imported through [`parse_input`] on a pool of two
/// threads: what it loaded as, and whether pages of it were given back (`None` when the input
/// was spoiled).
pub(crate) fn loaded_from_input(name: &str, bytes: &[u8]) -> Option<(Loaded, bool)> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    pool.install(|| {
        let input = Input::read(&mut &bytes[..], bytes.len(), |_| Ok(())).unwrap();
        let (format, builder) = parse_input(name, &input)?.unwrap();
        // No JSON text holds a zero byte: where the input reads zeros, its pages were given back.
        let given = input.bytes().contains(&0);
        drop(input);
        Some((loaded_as(&finish(name, format, builder).unwrap()), given))
    })
}

/// `bytes` written to a file and imported as the window and `check` do, on two threads.
pub(crate) fn imported_from_file(bytes: &[u8]) -> Result<Imported, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.json");
    std::fs::write(&path, bytes).unwrap();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let file = path.display().to_string();
    let parsed = pool.install(|| parse_file(&path, |_, _| Ok(()))).unwrap();
    let (format, builder) = parsed.map_err(|e| e.to_string())?;
    pool.install(|| finish(&file, format, builder)).map_err(|e| e.to_string())
}

/// What `bytes` load as on one thread ([`loaded_on`]), checked to be what 2, 3 and 8 threads
/// load, and what they load as read into an [`Input`] whose parts are given back, after
/// checking that the big array at `path` in them splits and that `apart` (a reader's way of
/// reading its elements apart) reads it on two threads.
pub(crate) fn loaded_alike(
    name: &str,
    bytes: &[u8],
    path: &[Step],
    apart: impl Fn(&[u8]) -> Option<Result<TraceBuilder, FormatError>> + Sync,
) -> Loaded {
    assert!(bytes.len() > 4 << 20, "{name} is too small to be read in parallel");
    assert!(split::nested(bytes, path).is_some_and(|s| s.elements.len() > 20_000), "{name} splits");
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    assert!(pool.install(|| apart(bytes)).is_some_and(|read| read.is_ok()), "{name} is read apart");
    let one = loaded_on(1, name, bytes);
    for threads in [2, 3, 8] {
        assert!(loaded_on(threads, name, bytes) == one, "{threads} threads read {name} differently");
    }
    let (from_input, given) = loaded_from_input(name, bytes).unwrap_or_else(|| panic!("{name}: spoiled"));
    assert!(from_input == one, "{name} read from an input whose parts are given back loads otherwise");
    assert!(given || !cfg!(target_os = "linux"), "{name}: nothing was given back");
    one
}

/// The error `bytes` give read on one thread, checked to be the one 2, 3 and 8 threads give,
/// and the one a file of them gives on two threads (its input read again when spoiled).
pub(crate) fn failed_alike(bytes: &[u8]) -> ImportError {
    let on = |threads| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let Err(err) = pool.install(|| import("big.json", bytes)) else { panic!("read without error") };
        err
    };
    let one = on(1);
    for threads in [2, 3, 8] {
        assert_eq!(on(threads).to_string(), one.to_string(), "{threads} threads");
    }
    let Err(from_file) = imported_from_file(bytes) else { panic!("a file of them read without error") };
    assert!(from_file.ends_with(&one.to_string()), "{from_file} is not {one}");
    one
}
