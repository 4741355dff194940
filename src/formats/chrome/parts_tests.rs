//! A big file read on one thread and on many gives the same traces, string ids, warnings and
//! errors (see the `parts` module).

use super::*;
use crate::formats::testkit::{big_file, loaded_on};

/// The events of a big trace with everything the reader keeps apart from the spans, spread
/// so that every run of them on 2, 3 or 8 threads holds some: `B`/`E` pairs that cross runs,
/// instants inside slices and on their own, async `b`/`e`/`n` across runs, metadata that
/// names threads and processes late (and renames them), string and escaped pids, tids and
/// ids, events missing a field, ignored phases, odd pairs, and tracedeck's own id args.
fn events() -> Vec<String> {
    let mut events = vec![
        r#"{"ph":"M","pid":1,"tid":0,"name":"process_name","args":{"name":"browser"}}"#.to_owned(),
        r#"{"ph":"B","pid":1,"tid":1,"ts":0,"name":"outer","cat":"top","args":{"a":1,"b":"begin"}}"#.to_owned(),
        r#"{"ph":"b","pid":1,"tid":1,"ts":1,"name":"fetch","cat":"net","id":"0x10","args":{"url":"/x"}}"#.to_owned(),
        r#"{"ph":"b","pid":2,"tid":7,"ts":2,"name":"local","cat":"net","id2":{"local":"a\"b"},"scope":"s"}"#.to_owned(),
        r#"{"ph":"X","pid":1,"tid":5,"ts":3,"dur":1,"name":"aimed","args":{"tracedeck.span_id":"00000000000000aa"}}"#
            .to_owned(),
    ];
    for k in 0..3_000u64 {
        let (ts, tid) = (10 + k * 10, 1 + k % 3);
        events.push(format!(
            r#"{{"ph":"X","pid":1,"tid":{tid},"ts":{ts},"dur":8,"name":"x{}","cat":"c{}","args":{{"k":{k},"s":"v{}","f":{}.5,"o":{{"n":[1,null]}}}}}}"#,
            k % 50,
            k % 7,
            k % 13,
            k % 5
        ));
        events.push(format!(
            r#"{{"ph":"B","pid":1,"tid":{tid},"ts":{},"name":"b{}","args":{{"in":true}}}}"#,
            ts + 1,
            k % 11
        ));
        events.push(format!(
            r#"{{"ph":"i","s":"t","pid":1,"tid":{tid},"ts":{},"name":"tick","args":{{"k":{k}}}}}"#,
            ts + 2
        ));
        events.push(format!(
            r#"{{"ph":"E","pid":1,"tid":{tid},"ts":{},"args":{{"in":false,"r":"e{}"}}}}"#,
            ts + 3,
            k % 4
        ));
        if k % 100 == 0 {
            events.push(format!(r#"{{"ph":"C","pid":1,"ts":{ts},"name":"mem","args":{{"v":{k}}}}}"#));
            events.push(format!(r#"{{"ph":"s","pid":1,"tid":1,"ts":{ts},"id":{k},"name":"flow"}}"#));
            events.push(format!(r#"{{"ph":"n","pid":1,"tid":1,"ts":{ts},"cat":"net","id":16,"name":"progress {k}"}}"#));
        }
        if k % 500 == 0 {
            events.push(format!(r#"{{"ph":"M","pid":1,"tid":{tid},"name":"thread_name","args":{{"name":"T{k}"}}}}"#));
        }
        if k % 1_000 == 0 {
            // Opened here, closed a thousand iterations on: in another run of events.
            events.push(format!(r#"{{"ph":"B","pid":1,"tid":9,"ts":{ts},"name":"long {k}","cat":"long"}}"#));
        }
        if k % 1_000 == 999 {
            events.push(format!(r#"{{"ph":"E","pid":1,"tid":9,"ts":{ts},"args":{{"closed":{k}}}}}"#));
        }
        if k % 250 == 0 {
            events.push(format!(
                r#"{{"ph":"X","pid":"gpu","tid":"main\u00e9","ts":{ts},"dur":4,"name":"draw \"{k}\"","cat":"gpu"}}"#
            ));
        }
        if k % 777 == 0 {
            events.push(format!(r#"{{"ph":"X","pid":1,"tid":1,"name":"no ts {k}"}}"#));
            events.push(format!(r#"{{"ph":"X","pid":1,"tid":4,"ts":{ts},"name":"no dur {k}"}}"#));
            events.push(format!(r#"{{"ph":"b","pid":1,"tid":1,"ts":{ts},"cat":"net","name":"no id {k}"}}"#));
        }
        if k == 1_500 {
            events.push(r#"{"ph":"E","pid":3,"tid":3,"ts":5}"#.to_owned());
            events.push(r#"{"ph":"B","pid":3,"tid":3,"ts":6,"name":"never ended"}"#.to_owned());
            events.push(r#"{"ph":"e","pid":3,"tid":3,"ts":7,"cat":"net","id":99}"#.to_owned());
        }
    }
    events.extend([
        r#"{"ph":"i","s":"g","pid":4,"tid":1,"ts":20,"name":"aiming","args":{"tracedeck.span_id":"00000000000000aa"}}"#,
        r#"{"ph":"i","s":"p","pid":4,"tid":2,"ts":30,"name":"alone"}"#,
        r#"{"ph":"M","pid":2,"tid":0,"name":"process_name","args":{"name":"renderer"}}"#,
        r#"{"ph":"M","pid":1,"tid":1,"name":"thread_name","args":{"name":"CrBrowserMain"}}"#,
        r#"{"ph":"e","pid":2,"tid":7,"ts":40000,"cat":"net","id2":{"local":"a\"b"},"scope":"s","args":{"done":1}}"#,
        r#"{"ph":"e","pid":1,"tid":1,"ts":40001,"cat":"net","id":16,"args":{"status":200}}"#,
        r#"{"ph":"E","pid":1,"tid":1,"ts":40002,"args":{"b":"end"}}"#,
    ]
    .map(str::to_owned));
    events
}

/// `events` as a `traceEvents` object with other members before and after the list.
fn object(events: &[String]) -> Vec<u8> {
    format!(
        "{{\"displayTimeUnit\": \"ns\", \"metadata\": {{\"source\": \"DevTools\", \"n\": [1, 2]}},\n\"traceEvents\": [\n{}\n],\n\"systemTraceEvents\": \"a,b]\"}}\n",
        events.join(",\n")
    )
    .into_bytes()
}

/// `events` as a bare array, cut off before its `]` when `cut`.
fn array(events: &[String], cut: bool) -> Vec<u8> {
    let close = if cut { ",\n" } else { "\n]\n" };
    format!("[{}{close}", events.join(",")).into_bytes()
}

fn on_threads<T: Send>(threads: usize, read: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(read)
}

#[test]
fn a_big_file_reads_the_same_on_one_thread_and_on_many() {
    let events = events();
    assert!(events.len() >= parts::PARALLEL_EVENTS);
    for (name, bytes) in [("object", object(&events)), ("array", array(&events, false)), ("cut", array(&events, true))]
    {
        if name == "cut" {
            let kept = unclosed_array(&bytes).unwrap();
            assert!(split::unclosed_array_elements(&bytes[..kept]).is_some_and(|e| parallel(&e)), "{name} splits");
        } else {
            assert!(on_threads(3, || in_parallel(&bytes).is_some()), "{name} is read on several threads");
        }
        let one = loaded_on(1, "big.chrome.json", &bytes);
        let warnings = one.1.concat().join("\n");
        for expected in [
            "`E` event(s) had no open `B`",
            "`B` event(s) have no matching `E`",
            "async `e` event(s) had no open `b`",
            "event(s) have no `ts`",
            "have no `dur`",
            "async event(s) have no `id`",
            "C ×30, s ×30",
        ] {
            assert!(warnings.contains(expected), "{name}: no {expected:?} in {warnings}");
        }
        assert_eq!(warnings.contains("no closing `]`"), name == "cut", "{name}: {warnings}");
        for threads in [2, 3, 8] {
            assert!(
                loaded_on(threads, "big.chrome.json", &bytes) == one,
                "{name}: {threads} threads read it differently"
            );
        }
    }
}

/// What `parse` makes of `bytes` on `threads` threads: the error, or the builder's spans
/// (the traces themselves are compared by the test above).
fn parsed_on(threads: usize, bytes: &[u8]) -> Result<usize, FormatError> {
    on_threads(threads, || parse(bytes).map(|b| b.spans().len()))
}

#[test]
fn an_error_in_a_late_part_or_around_the_events_is_the_one_one_thread_finds() {
    let mut events = events();
    let late = events.len() - 100;
    let good = events[late].clone();
    events[late] = r#"{"ph":"X","pid":1,"tid":1,"ts":"soon","dur":1}"#.to_owned();
    let broken = [
        ("object", object(&events)),
        ("array", array(&events, false)),
        ("cut", array(&events, true)),
        ("cut inside an event", {
            let mut bytes = array(&events, true);
            bytes.truncate(bytes.len() - 20);
            bytes
        }),
    ];
    events[late] = good;
    let around = [
        ("a bad member after the events", object(&events).replace_tail(b"\"a,b]\"}\n", b"tru}\n")),
        ("a form feed between events", {
            let mut events = events.clone();
            events[late] = format!("\x0c{}", events[late]);
            array(&events, false)
        }),
        ("text after the array", array(&events, false).replace_tail(b"\n]\n", b"]]")),
    ];
    for (name, bytes) in broken.into_iter().chain(around) {
        let one = parsed_on(1, &bytes).expect_err(name);
        assert!(matches!(one.place, Place::At { .. }), "{name}: {one:?}");
        for threads in [2, 3, 8] {
            assert_eq!(parsed_on(threads, &bytes).as_ref().expect_err(name), &one, "{name} on {threads} threads");
        }
    }
}

#[test]
fn a_late_error_in_a_big_file_read_from_disk_is_placed_as_one_reading_places_it() {
    // Big enough to be mapped and given back as it is read (see `formats::Input`).
    let written = big_file(crate::formats::Format::Chrome);
    let mut events: Vec<String> = split::member_elements(&written, &["traceEvents"])
        .unwrap()
        .into_iter()
        .map(|event| String::from_utf8(written[event].to_vec()).unwrap())
        .collect();
    let late = events.len() - 10;
    events[late] = events[late].replacen("\"ts\":", "\"ts\":\"x\",\"dur\":", 1);
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [("object", object(&events)), ("cut", array(&events, true))] {
        assert!(bytes.len() > 6 << 20, "{name}: {} bytes is too small to be mapped", bytes.len());
        if cfg!(target_os = "linux") {
            let input = crate::formats::Input::read(&mut &bytes[..], bytes.len(), |_| Ok(())).unwrap();
            let parsed = on_threads(2, || crate::formats::parse_input("big.json", &input).map(|p| p.is_err()));
            assert_eq!(parsed, None, "{name}: parts were given back, then read again: the input is spoiled");
        }
        let path = dir.path().join(format!("{name}.json"));
        std::fs::write(&path, &bytes).unwrap();
        let Err(from_disk) = on_threads(2, || crate::formats::parse_file(&path, |_, _| Ok(()))).unwrap() else {
            panic!("{name}: read without error")
        };
        let whole = on_threads(1, || crate::formats::import(&path.display().to_string(), &bytes)).unwrap_err();
        assert_eq!(from_disk.to_string(), whole.to_string(), "{name}");
        assert!(matches!(whole.error.place, Place::At { .. }), "{name}: {whole}");
    }
}

/// Replacing the end of a test file.
trait ReplaceTail {
    fn replace_tail(self, tail: &[u8], with: &[u8]) -> Vec<u8>;
}

impl ReplaceTail for Vec<u8> {
    fn replace_tail(mut self, tail: &[u8], with: &[u8]) -> Vec<u8> {
        assert!(self.ends_with(tail), "{:?}", String::from_utf8_lossy(&self[self.len() - 20..]));
        self.truncate(self.len() - tail.len());
        self.extend_from_slice(with);
        self
    }
}
