//! What the fuzz targets (`fuzz/`) check on any bytes, shared with the regression test
//! (`tests/fuzz_regressions.rs`) that replays every input that ever failed. Each check reads
//! the bytes as a user's file or a sender's request would be read, and panics only when
//! tracedeck does something it must not: panic itself, or load a trace whose durations are not
//! the differences of its times.
#![allow(dead_code)]

use tracedeck::analysis::{Profile, analyze};
use tracedeck::formats::{self, Format};
use tracedeck::model::{Nanos, Trace};
use tracedeck::replay::capture::Capture;

/// Every importer: by detection, and the format the first byte picks on the rest.
pub fn import(data: &[u8]) {
    if let Ok(imported) = formats::import("fuzz.json", data) {
        imported.traces.iter().for_each(measured_exactly);
    }
    if let Some((&pick, rest)) = data.split_first() {
        let format = Format::ALL[usize::from(pick) % Format::ALL.len()];
        if let Ok(traces) = format.parse(rest).map(|builder| builder.build()) {
            traces.iter().flatten().for_each(measured_exactly);
        }
    }
}

/// Capture files: read and checked; a capture that loads can be sent (its method and headers
/// are ones an HTTP request can carry) and every interaction renders as a replay would.
pub fn capture(data: &[u8]) {
    use reqwest::header::{HeaderName, HeaderValue};
    if let Ok(capture) = Capture::parse(data) {
        for prepared in &capture.prepared {
            let request = &prepared.interaction.request;
            assert!(reqwest::Method::from_bytes(request.method.as_bytes()).is_ok(), "{:?}", request.method);
            for (name, value) in &request.headers {
                assert!(HeaderName::from_bytes(name.as_bytes()).is_ok() && HeaderValue::from_str(value).is_ok());
            }
            prepared.body.render("1337.42.abcdef", "http://127.0.0.1:1/response/1");
        }
    }
}

/// OTLP/HTTP request bodies: the first byte picks the content type and encoding.
pub fn receiver_body(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else { return };
    let content_type = ["application/json", "application/x-protobuf", "text/plain"][usize::from(pick % 3)];
    let encoding = [None, Some("gzip"), Some("identity")][usize::from(pick / 3 % 3)];
    if let Ok((_, traces)) = tracedeck::receiver::read_body(content_type, encoding, rest, 1 << 20) {
        traces.iter().for_each(measured_exactly);
    }
}

/// Durations and offsets are exact differences of the trace's times, and a verdict can be
/// drawn without overflow.
fn measured_exactly(trace: &Trace) {
    let exact = |a: Nanos, b: Nanos| i128::from(a) - i128::from(b);
    assert_eq!(i128::from(trace.duration()), exact(trace.end(), trace.start()));
    for span in trace.spans() {
        assert!(span.end >= span.start);
        assert_eq!(i128::from(span.duration()), exact(span.end, span.start));
        assert_eq!(i128::from(trace.offset(span.start)), exact(span.start, trace.start()));
    }
    analyze(trace, &Profile::custom(3_000_000_000));
}
