//! Telling formats apart by their content.

use super::{Format, FormatError, Place, without_bom};

/// The `format` of tracedeck's capture files ([`crate::replay::capture`]): not traces, but
/// detection names them so that one given by mistake is not called an unknown format.
pub const CAPTURE_TAG: &str = "tracedeck-capture";

/// How far into the file detection looks for a format's marks.
const WINDOW: usize = 64 * 1024;

/// Names the format of `bytes` from marks near their start (keys only that format uses), after
/// a UTF-8 byte-order mark, if any.
pub fn detect(bytes: &[u8]) -> Result<Format, FormatError> {
    let bytes = without_bom(bytes);
    let text = &bytes[..bytes.len().min(WINDOW)];
    let first = text.iter().copied().find(|b| !b.is_ascii_whitespace());
    let has = |mark: &str| memmem(text, mark.as_bytes());
    match first {
        None => return Err(FormatError::new(Place::Whole, "the file is empty")),
        Some(b'{') | Some(b'[') => {}
        Some(_) => {
            return Err(FormatError::new(
                Place::At { line: 1, column: 1, path: String::new() },
                "not JSON: every format tracedeck reads is JSON, starting with '{' or '['",
            ));
        }
    }
    let format = if starts_with_version_key(text) {
        Format::Tracedeck
    } else if super::sentry::envelope::is_envelope(text) {
        // Before the keys: an envelope's items (attachments, say) may hold any text.
        Format::Sentry
    } else if has("\"source\":\"DevTools\"") || has("\"source\": \"DevTools\"") {
        // DevTools' Performance export puts its `metadata` first, which can hold source maps
        // longer than the window (and any key at all), before `traceEvents`.
        Format::Chrome
    } else if has("\"resourceSpans\"") || has("\"resource_spans\"") || has("\"batches\"") {
        Format::Otlp
    } else if has("\"traceID\"") || has("\"processes\"") {
        Format::Jaeger
    } else if has("\"traceEvents\"") || has("\"ph\"") {
        Format::Chrome
    } else if has("\"start_timestamp\"")
        || has("\"startTimestamp\"")
        || has("\"event_id\"")
        || has("\"transactions\"")
        || has("\"contexts\"")
    {
        Format::Sentry
    } else if has("\"traceId\"") {
        Format::Zipkin
    } else if let Some(empty) = empty_list(bytes) {
        return Err(FormatError::new(Place::Whole, format!("the file holds no spans: {empty}")));
    } else if has(&format!("\"{CAPTURE_TAG}\"")) {
        return Err(FormatError::new(
            Place::Whole,
            "a tracedeck capture file (an interaction for `tracedeck replay`), not a trace",
        ));
    } else {
        return Err(FormatError::new(
            Place::Whole,
            "not a trace format tracedeck knows: found none of the keys of Sentry (start_timestamp, \
             contexts), OTLP (resourceSpans), Jaeger (traceID), Zipkin (traceId) or Chrome (traceEvents, ph), \
             and it does not start like tracedeck's own files ({\"tracedeck\": 2, ...})",
        ));
    };
    Ok(format)
}

/// For a small document that is an empty list (`[]`, a Zipkin answer) or an object whose
/// lists are all empty (`{"data": [], "errors": null}`, a Jaeger answer): what it is. Such a file has none of
/// the keys detection looks for, yet it is no stranger to any format.
fn empty_list(bytes: &[u8]) -> Option<&'static str> {
    if bytes.len() > 4096 {
        return None;
    }
    match serde_json::from_slice::<serde_json::Value>(bytes).ok()? {
        serde_json::Value::Array(items) if items.is_empty() => Some("it is an empty list"),
        serde_json::Value::Object(fields)
            if fields.values().any(|v| v.is_array())
                && fields.values().filter_map(|v| v.as_array()).all(Vec::is_empty) =>
        {
            Some("its lists are empty")
        }
        _ => None,
    }
}

/// Whether the text opens with `{"tracedeck":`, the version key tracedeck's own format puts
/// first (a key or value `"tracedeck"` elsewhere, in any format, does not count).
fn starts_with_version_key(text: &[u8]) -> bool {
    fn after<'a>(text: &'a [u8], token: &[u8]) -> Option<&'a [u8]> {
        let at = text.iter().position(|b| !b.is_ascii_whitespace())?;
        text[at..].strip_prefix(token)
    }
    after(text, b"{").and_then(|t| after(t, b"\"tracedeck\"")).and_then(|t| after(t, b":")).is_some()
}

fn memmem(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format_by_its_keys() {
        let cases: [(&str, Format); 9] = [
            ("\u{feff} {\n  \"tracedeck\" : 1, \"traces\": []}", Format::Tracedeck),
            (r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"tracedeck","value":{}}]}}]}"#, Format::Otlp),
            (r#"{"resourceSpans":[]}"#, Format::Otlp),
            (r#"{"data":[{"traceID":"1","spans":[],"processes":{}}]}"#, Format::Jaeger),
            (r#"{"displayTimeUnit":"ms","traceEvents":[]}"#, Format::Chrome),
            (r#"[{"ph":"X","ts":1,"dur":2,"pid":1,"tid":1,"name":"a"}"#, Format::Chrome),
            (r#"{"type":"transaction","start_timestamp":1.0,"contexts":{}}"#, Format::Sentry),
            (r#"[{"traceId":"a","id":"b","timestamp":1}]"#, Format::Zipkin),
            ("{}\n{\"type\":\"attachment\",\"length\":16}\n{\"resourceSpans\"}\n", Format::Sentry),
        ];
        for (text, format) in cases {
            assert_eq!(detect(text.as_bytes()), Ok(format), "{text}");
        }
    }

    #[test]
    fn a_devtools_export_is_chrome_whatever_its_metadata_holds() {
        let maps = format!("{{\"processes\": \"{}\"}}", "x".repeat(WINDOW));
        let text =
            format!("{{\"metadata\": {{\"source\": \"DevTools\", \"sourceMaps\": [{maps}]}},\n\"traceEvents\": []}}");
        assert_eq!(detect(text.as_bytes()), Ok(Format::Chrome));
    }

    #[test]
    fn says_why_it_knows_nothing() {
        assert!(detect(b"   ").unwrap_err().message.contains("empty"));
        assert!(detect(b"hello").unwrap_err().message.contains("not JSON"));
        assert!(detect(b"{\"a\":1}").unwrap_err().message.contains("not a trace format"));
        assert!(detect(b"{}").unwrap_err().message.contains("not a trace format"));
        let capture = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/sample-traces/resolve-button.capture.json"));
        let capture = detect(&capture.unwrap()).unwrap_err().message;
        assert_eq!(capture, "a tracedeck capture file (an interaction for `tracedeck replay`), not a trace");
        assert!(detect(b"{\"a\":[1]}").unwrap_err().message.contains("not a trace format"));
        assert_eq!(detect(b" [ ]\n").unwrap_err().message, "the file holds no spans: it is an empty list");
        let jaeger = detect("\u{feff}{\"data\": [], \"total\": 0, \"errors\": null}".as_bytes()).unwrap_err();
        assert_eq!(jaeger.message, "the file holds no spans: its lists are empty");
    }
}
