//! Extreme times in every format never wrap into a verdict. A span from 1678 to 2262 (both
//! fit in 64-bit nanoseconds, their difference does not) used to read as lasting -202 days and
//! pass a 3 s deadline. Now every file either is refused with an error that names the field
//! and the value, or loads with durations and offsets that are exactly the differences of its
//! times, and a verdict drawn from those.

use proptest::prelude::*;
use tracedeck::analysis::{Outcome, Profile, analyze};
use tracedeck::formats::{self, Format};
use tracedeck::model::{Nanos, TIME_LIMIT, Trace};

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const ROOT: &str = "b7ad6b7169203331";
const CHILD: &str = "00f067aa0ba902b7";
const SECOND: i128 = 1_000_000_000;

/// Two spans, a root and its child, as `format` writes them; `None` when the format cannot
/// express these times at all (negative times in a format of unsigned ones).
fn file(format: Format, root: (i128, i128), child: (i128, i128)) -> Option<String> {
    let micros = |ns: i128| ns.div_euclid(1_000);
    let unsigned = |ns: i128| (ns >= 0).then_some(ns);
    Some(match format {
        Format::Otlp => {
            let span = |id: &str, parent: &str, (s, e): (i128, i128)| -> Option<String> {
                Some(format!(
                    r#"{{"traceId":"{TRACE}","spanId":"{id}","parentSpanId":"{parent}","name":"{id}","kind":2,"startTimeUnixNano":"{}","endTimeUnixNano":"{}"}}"#,
                    unsigned(s)?,
                    unsigned(e)?
                ))
            };
            format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{},{}]}}]}}]}}"#,
                span(ROOT, "", root)?,
                span(CHILD, ROOT, child)?
            )
        }
        Format::Jaeger => {
            let span = |id: &str, refs: &str, (s, e): (i128, i128)| -> Option<String> {
                Some(format!(
                    r#"{{"traceID":"{TRACE}","spanID":"{id}","operationName":"{id}","references":[{refs}],"startTime":{},"duration":{},"tags":[],"logs":[],"processID":"p1"}}"#,
                    unsigned(micros(s))?,
                    unsigned(micros(e) - micros(s))?
                ))
            };
            let reference = format!(r#"{{"refType":"CHILD_OF","traceID":"{TRACE}","spanID":"{ROOT}"}}"#);
            format!(
                r#"{{"data":[{{"traceID":"{TRACE}","spans":[{},{}],"processes":{{"p1":{{"serviceName":"app","tags":[]}}}}}}]}}"#,
                span(ROOT, "", root)?,
                span(CHILD, &reference, child)?
            )
        }
        Format::Zipkin => {
            let span = |id: &str, parent: &str, (s, e): (i128, i128)| -> Option<String> {
                Some(format!(
                    r#"{{"traceId":"{TRACE}","id":"{id}",{parent}"name":"{id}","kind":"SERVER","timestamp":{},"duration":{},"localEndpoint":{{"serviceName":"app"}}}}"#,
                    unsigned(micros(s))?,
                    unsigned(micros(e) - micros(s))?
                ))
            };
            let parent = format!(r#""parentId":"{ROOT}","#);
            format!("[{},{}]", span(ROOT, "", root)?, span(CHILD, &parent, child)?)
        }
        Format::Chrome => {
            let span = |name: &str, (s, e): (i128, i128)| {
                format!(
                    r#"{{"ph":"X","pid":1,"tid":1,"name":"{name}","ts":{},"dur":{}}}"#,
                    micros(s),
                    micros(e) - micros(s)
                )
            };
            format!("[{},{}]", span("root", root), span("child", child))
        }
        Format::Sentry => {
            let seconds = |ns: i128| ns as f64 / 1e9;
            format!(
                r#"{{"type":"transaction","transaction":"t","start_timestamp":{:?},"timestamp":{:?},
                "contexts":{{"trace":{{"trace_id":"{TRACE}","span_id":"{ROOT}","op":"http.server"}}}},
                "spans":[{{"trace_id":"{TRACE}","span_id":"{CHILD}","parent_span_id":"{ROOT}","op":"db","start_timestamp":{:?},"timestamp":{:?}}}]}}"#,
                seconds(root.0),
                seconds(root.1),
                seconds(child.0),
                seconds(child.1)
            )
        }
        Format::Tracedeck => {
            let start = root.0.min(child.0);
            let fits = |v: i128| i64::try_from(v).ok();
            format!(
                r#"{{"tracedeck":1,"traces":[{{"trace_id":"{TRACE}","start":{},"spans":[
                {{"id":"{ROOT}","start":{},"duration":{}}},
                {{"id":"{CHILD}","parent":"{ROOT}","start":{},"duration":{}}}]}}]}}"#,
                fits(start)?,
                fits(root.0 - start)?,
                fits((root.1 - root.0).max(0))?,
                fits(child.0 - start)?,
                fits((child.1 - child.0).max(0))?
            )
        }
    })
}

/// Every duration and offset the trace reports is the exact difference of its times, and a
/// verdict is drawn only from such differences.
fn assert_measured_exactly(format: Format, trace: &Trace) {
    let exact = |a: Nanos, b: Nanos| i128::from(a) - i128::from(b);
    assert!(trace.end() >= trace.start(), "{format}: the trace ends before it starts");
    assert_eq!(i128::from(trace.duration()), exact(trace.end(), trace.start()), "{format}: trace duration");
    for span in trace.spans() {
        assert!(span.end >= span.start, "{format}: a negative duration");
        assert_eq!(i128::from(span.duration()), exact(span.end, span.start), "{format}: span duration");
        assert_eq!(i128::from(trace.offset(span.end)), exact(span.end, trace.start()), "{format}: offset");
    }
    let verdict = analyze(trace, &Profile::custom(3_000_000_000));
    if let (Some(clock), Some(hit)) = (verdict.clock, verdict.response_hit()) {
        assert_eq!(i128::from(hit.elapsed), exact(hit.time, clock.time), "{format}: elapsed");
        if verdict.outcome == Outcome::Pass {
            assert!(exact(hit.time, clock.time) <= 3 * SECOND, "{format}: PASS for a late answer");
        }
    }
}

/// Imports the file; a refusal must name the file and say which time does not fit.
fn check(format: Format, root: (i128, i128), child: (i128, i128)) {
    let Some(text) = file(format, root, child) else { return };
    match formats::import("extreme.json", text.as_bytes()) {
        Ok(imported) => {
            assert_eq!(imported.format, format, "{text}");
            for trace in &imported.traces {
                assert_measured_exactly(format, trace);
            }
        }
        Err(e) => {
            let message = e.to_string();
            assert!(message.starts_with("extreme.json"), "{message}");
            assert!(!message.contains('\n'), "{message}");
        }
    }
}

/// Times in nanoseconds: ordinary ones, ones near the limit tracedeck measures, and ones near
/// the ends of 64-bit nanoseconds (1677 and 2262).
fn time() -> impl Strategy<Value = i128> {
    let limit = i128::from(TIME_LIMIT);
    let (min, max) = (i128::from(i64::MIN), i128::from(i64::MAX));
    prop_oneof![
        (1_700_000_000 * SECOND..1_800_000_000 * SECOND),
        (limit - 10 * SECOND..limit + 10 * SECOND),
        (-limit - 10 * SECOND..-limit + 10 * SECOND),
        (max - 1_000_000 * SECOND..=max),
        (min..min + 1_000_000 * SECOND),
        (min..=max),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn extreme_times_never_wrap_in_any_format(a in time(), b in time(), c in time(), d in time()) {
        for format in Format::ALL {
            check(format, (a, b), (c, d));
        }
    }
}

#[test]
fn a_span_from_1678_to_2262_is_refused_in_every_format_that_can_hold_it() {
    // 1678-01-01 and 2262-01-01, both within 64-bit nanoseconds.
    let (early, late) = (-9_214_560_000 * SECOND, 9_214_646_400 * SECOND);
    let ordinary = (1_795_000_000 * SECOND, 1_795_000_001 * SECOND);
    for format in Format::ALL {
        for (root, child) in [((early, late), ordinary), (ordinary, (late - SECOND, late))] {
            let Some(text) = file(format, root, child) else { continue };
            let err = formats::import("extreme.json", text.as_bytes()).expect_err(&format!("{format}: {text}"));
            let message = err.to_string();
            // Refused where the time is read (a Chrome `dur` past 64-bit nanoseconds), or when
            // the trace is built, naming the span, the field and the value.
            let read = message.contains("microseconds is out of range");
            let built = message.contains("outside the times tracedeck can measure (1823-11-12 to 2116-02-20)")
                && message.contains("ns since 1970");
            assert!(read || built, "{format}: {message}");
        }
    }
}

#[test]
fn a_huge_chrome_ts_is_refused_not_wrapped() {
    let text = r#"[{"ph":"X","pid":1,"tid":1,"name":"a","ts":-9000000000000000,"dur":1},
                  {"ph":"X","pid":1,"tid":1,"name":"b","ts":9000000000000000,"dur":1}]"#;
    let err = formats::import("huge.json", text.as_bytes()).unwrap_err().to_string();
    assert!(err.starts_with("huge.json: Chrome"), "{err}");
    assert!(err.contains("'s start is 1684-") && err.contains("-9000000000000000000 ns since 1970"), "{err}");
}
