//! A cheap structural scan that finds the elements of a JSON array (the top-level one, or one
//! nested inside the document by a path of members), so that a big file's elements can be
//! parsed on several threads. It only tracks strings (skipped eight bytes at a time) and
//! bracket depth: it does not validate, so each element is parsed (and so checked) on its own,
//! and a file it cannot split is read whole as before.

use std::ops::Range;

use rayon::prelude::*;

use super::input::{Giver, STEP};

/// The byte ranges of the elements of the array `bytes` holds (whitespace around the array
/// and each element trimmed), or `None` when `bytes` is not one array as far as the scan can
/// tell (an object, an unterminated string, an empty element, text after the array).
pub(crate) fn array_elements(bytes: &[u8]) -> Option<Vec<Range<usize>>> {
    let (elements, end) = elements_at(bytes, skip_space(bytes, 0)).closed()?;
    (skip_space(bytes, end) == bytes.len()).then_some(elements)
}

/// The elements of an array that lacks its closing `]` (a bare array cut off at its end, as
/// `bytes[..kept]` with trailing white space and comma dropped): as [`array_elements`] would
/// find them once a `]` is added, without copying the bytes to add it.
pub(crate) fn unclosed_array_elements(bytes: &[u8]) -> Option<Vec<Range<usize>>> {
    match elements_at(bytes, skip_space(bytes, 0)) {
        Scan::Unclosed(mut elements, last) => {
            let last = trimmed(bytes, last..bytes.len());
            if !last.is_empty() {
                elements.push(last);
            } else if !elements.is_empty() {
                return None;
            }
            Some(elements)
        }
        _ => None,
    }
}

/// The elements of the array that is the value of the one member of the top-level object
/// named by one of `names` (`{"resourceSpans": [...], ...}`), or `None` when `bytes` is not
/// such an object as far as the scan can tell, or names that array more than once.
pub(crate) fn member_elements(bytes: &[u8], names: &[&str]) -> Option<Vec<Range<usize>>> {
    nested(bytes, &[Step::Member(names)]).map(|array| array.elements)
}

/// One step of the way from a document to an array nested in it (see [`nested`]).
#[derive(Clone, Copy)]
pub(crate) enum Step<'a> {
    /// Into the value of the member of an object named by one of these, which must be there
    /// once: `{"data": ...}`.
    Member(&'a [&'a str]),
    /// Into the one element of an array, which must have exactly one: `[...]`.
    Only,
}

/// An array found inside a document by [`nested`].
pub(crate) struct Nested {
    /// Its bytes, from its `[` to its `]`.
    pub array: Range<usize>,
    /// Its elements (white space around each trimmed).
    pub elements: Vec<Range<usize>>,
}

/// The array that `path` leads to from the top of the document `bytes`
/// (`[Member(["data"]), Only, Member(["spans"])]` for the spans of a Jaeger answer of one
/// trace), or `None` when the document is not so shaped as far as the scan can tell: a step
/// that does not fit, a member named twice, text after the document. Only what the path
/// crosses and the values beside it are scanned, each once.
pub(crate) fn nested(bytes: &[u8], path: &[Step]) -> Option<Nested> {
    let (found, end) = nested_at(bytes, skip_space(bytes, 0), path)?;
    (skip_space(bytes, end) == bytes.len()).then_some(found)
}

/// The array `path` leads to from the value at `at`, and the index after that value.
fn nested_at(bytes: &[u8], at: usize, path: &[Step]) -> Option<(Nested, usize)> {
    match path.split_first() {
        None => {
            let (elements, end) = elements_at(bytes, at).closed()?;
            Some((Nested { array: at..end, elements }, end))
        }
        Some((Step::Only, path)) => {
            if bytes.get(at) != Some(&b'[') {
                return None;
            }
            let (found, end) = nested_at(bytes, skip_space(bytes, at + 1), path)?;
            let end = skip_space(bytes, end);
            (bytes.get(end) == Some(&b']')).then_some((found, end + 1))
        }
        Some((Step::Member(names), path)) => {
            if bytes.get(at) != Some(&b'{') {
                return None;
            }
            let (mut i, mut found) = (skip_space(bytes, at + 1), None);
            loop {
                if bytes.get(i) != Some(&b'"') {
                    return None;
                }
                let key_end = string_end(bytes, i + 1)?;
                let key = &bytes[i + 1..key_end - 1];
                i = skip_space(bytes, key_end);
                if bytes.get(i) != Some(&b':') {
                    return None;
                }
                i = skip_space(bytes, i + 1);
                if names.iter().any(|name| name.as_bytes() == key) {
                    if found.is_some() {
                        return None;
                    }
                    let (array, end) = nested_at(bytes, i, path)?;
                    (found, i) = (Some(array), end);
                } else {
                    i = value_end(bytes, i)?;
                }
                i = skip_space(bytes, i);
                match bytes.get(i)? {
                    b',' => i = skip_space(bytes, i + 1),
                    b'}' => return Some((found?, i + 1)),
                    _ => return None,
                }
            }
        }
    }
}

/// About how many bytes of neighbouring elements [`Nested::read_in_parallel`] hands to one
/// call of its reader.
const RUN_BYTES: usize = 1 << 20;

impl Nested {
    /// The document without this array's elements (`[]` where the array was): all that a reader
    /// needs besides them, to be read before them (their bytes may be given back once read).
    pub(crate) fn rest(&self, bytes: &[u8]) -> Vec<u8> {
        [&bytes[..=self.array.start], &bytes[self.array.end - 1..]].concat()
    }

    /// [`read_in_parallel`] over this array's elements, handed to `read` in runs of neighbours
    /// of about a megabyte each, so that what a reader sets up per call (buffers for the parts
    /// of an element, borrowed from its bytes) is set up once per run:
    /// `read(reader, index of the run's first element, its elements)`. The reader of the first
    /// elements is `first`, the others `new()`.
    pub(crate) fn read_in_parallel<R: Send>(
        &self,
        bytes: &[u8],
        first: R,
        new: impl Fn() -> R + Sync,
        read: impl Fn(&mut R, usize, Elements) -> bool + Sync,
        append: impl Fn(&mut R, R),
    ) -> Option<R> {
        let runs = runs(&self.elements, self.array.len() / RUN_BYTES + 1);
        let spans: Vec<Range<usize>> = runs.iter().map(|(_, run)| run[0].start..run[run.len() - 1].end).collect();
        let first = std::sync::Mutex::new(Some(first));
        let read_run = |reader: &mut Option<R>, k: usize, run_bytes: &[u8]| {
            let (at, run) = runs[k];
            let reader = reader.get_or_insert_with(|| {
                let first = if at == 0 { first.lock().ok().and_then(|mut first| first.take()) } else { None };
                first.unwrap_or_else(&new)
            });
            read(reader, at, Elements { bytes: run_bytes, start: spans[k].start, ranges: run.iter() })
        };
        let append = |reader: &mut Option<R>, later: Option<R>| {
            if let (Some(reader), Some(later)) = (reader, later) {
                append(reader, later);
            }
        };
        read_in_parallel(bytes, &spans, || None, read_run, append)?
    }
}

/// How a reading of the rest of a document ([`Nested::rest`]) meets the elements of its array
/// read apart from it: the rest is read once before them, to check it and learn what reading
/// them needs (`O`: the reader as it is where the array is, which the first run of elements
/// reads on from, say), and once after, taking in what they made (`P`) where the array is.
#[derive(Default)]
pub(crate) enum Rest<O, P> {
    /// No elements are read apart.
    #[default]
    Whole,
    /// Reading before them: what they need, as learnt so far.
    Before(O),
    /// Reading after them: what they made, until it is taken in.
    After(Option<P>),
}

impl<O, P> Rest<O, P> {
    /// What the elements need, to learn, when reading before them.
    pub(crate) fn before(&mut self) -> Option<&mut O> {
        match self {
            Rest::Before(needs) => Some(needs),
            _ => None,
        }
    }

    /// What the elements made, when reading after them and not yet taken.
    pub(crate) fn take(&mut self) -> Option<P> {
        match self {
            Rest::After(made) => made.take(),
            _ => None,
        }
    }

    /// What reading before the elements learnt.
    pub(crate) fn learnt(self) -> Option<O> {
        match self {
            Rest::Before(needs) => Some(needs),
            _ => None,
        }
    }
}

/// The bytes of each element of a run that [`Nested::read_in_parallel`] hands to its reader.
pub(crate) struct Elements<'a> {
    /// The run's bytes, from its first element's start to its last one's end.
    bytes: &'a [u8],
    /// Where they start in the document.
    start: usize,
    ranges: std::slice::Iter<'a, Range<usize>>,
}

impl<'a> Iterator for Elements<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let range = self.ranges.next()?;
        Some(&self.bytes[range.start - self.start..range.end - self.start])
    }
}

/// What [`elements_at`] found.
enum Scan {
    /// The elements, and the index after the array's `]`.
    Closed(Vec<Range<usize>>, usize),
    /// The bytes end at the array's own level (not inside a string or an element's brackets):
    /// the elements before the last comma, and where the text after it starts.
    Unclosed(Vec<Range<usize>>, usize),
    /// Not an array as far as the scan can tell.
    Unknown,
}

impl Scan {
    fn closed(self) -> Option<(Vec<Range<usize>>, usize)> {
        match self {
            Scan::Closed(elements, end) => Some((elements, end)),
            _ => None,
        }
    }
}

/// The elements of the array whose `[` is at `at`.
fn elements_at(bytes: &[u8], at: usize) -> Scan {
    if bytes.get(at) != Some(&b'[') {
        return Scan::Unknown;
    }
    let mut i = at + 1;
    let (mut depth, mut start, mut elements) = (1usize, i, Vec::new());
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let Some(end) = string_end(bytes, i + 1) else { return Scan::Unknown };
                i = end;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    let element = trimmed(bytes, start..i);
                    if !element.is_empty() {
                        elements.push(element);
                    } else if !elements.is_empty() {
                        return Scan::Unknown;
                    }
                    return Scan::Closed(elements, i + 1);
                }
            }
            b',' if depth == 1 => {
                let element = trimmed(bytes, start..i);
                if element.is_empty() {
                    return Scan::Unknown;
                }
                elements.push(element);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if depth == 1 { Scan::Unclosed(elements, start) } else { Scan::Unknown }
}

/// The index after the value (of any kind) that starts at `at`.
fn value_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = at;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = string_end(bytes, i + 1)?;
                if depth == 0 {
                    return Some(i);
                }
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth == 0 => return Some(i),
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b',' if depth == 0 => return Some(i),
            _ => {}
        }
        i += 1;
    }
    (depth == 0).then_some(i)
}

/// `ranges` cut into at most `parts` runs of neighbours holding about as many bytes each, with
/// the index of each run's first range.
pub(crate) fn runs(ranges: &[Range<usize>], parts: usize) -> Vec<(usize, &[Range<usize>])> {
    let total: usize = ranges.iter().map(|r| r.len()).sum();
    let per_part = total.div_ceil(parts.max(1)).max(1);
    let (mut runs, mut first, mut bytes) = (Vec::new(), 0, 0);
    for (i, range) in ranges.iter().enumerate() {
        bytes += range.len();
        if bytes >= per_part && i + 1 < ranges.len() {
            runs.push((first, &ranges[first..=i]));
            (first, bytes) = (i + 1, 0);
        }
    }
    if first < ranges.len() {
        runs.push((first, &ranges[first..]));
    }
    runs
}

/// Reads the `parts` of `bytes` on every thread of rayon's pool: [`runs`] of parts, one per
/// thread, each into a fresh reader (`new`) by `read(reader, index of the part, its bytes)`,
/// then the readers merged in file order by `append`. `None` if `read` failed on any part.
///
/// When `bytes` are an [`Input`](super::Input) being parsed by
/// [`parse_input`](super::parse_input), each thread gives back the pages of the parts it has
/// read as it goes: once this returns `Some`, the caller must not read the parts' bytes again
/// (what it needs from around them, it reads before). After `None`, it may read them again
/// to place the error: the input is then marked spoiled, and read again by the caller.
pub(crate) fn read_in_parallel<R: Send>(
    bytes: &[u8],
    parts: &[Range<usize>],
    new: impl Fn() -> R + Sync,
    read: impl Fn(&mut R, usize, &[u8]) -> bool + Sync,
    append: impl Fn(&mut R, R),
) -> Option<R> {
    let giver = Giver::for_bytes(bytes);
    let readers: Vec<Option<R>> = runs(parts, rayon::current_num_threads())
        .into_par_iter()
        .map(|(first, run)| {
            let mut reader = new();
            // The start of what this run has read and not given back.
            let mut kept = run.first().map_or(0, |part| part.start);
            for (k, part) in run.iter().enumerate() {
                if !read(&mut reader, first + k, &bytes[part.clone()]) {
                    return None;
                }
                if let Some(giver) = giver.filter(|_| part.end - kept >= STEP || k + 1 == run.len()) {
                    // SAFETY: this run's parts up to this one are read, and nothing reads them
                    // again unless a part fails, which spoils the input (below); the bytes
                    // between parts are white space and commas, which nothing reads either.
                    unsafe { giver.give_back(kept..part.end) };
                    kept = part.end;
                }
            }
            Some(reader)
        })
        .collect();
    let merged = (|| {
        let mut readers = readers.into_iter();
        let mut merged = readers.next()??;
        for reader in readers {
            append(&mut merged, reader?);
        }
        Some(merged)
    })();
    if merged.is_none() {
        giver.inspect(Giver::reading_again);
    }
    merged
}

/// Says that a reader is about to read `bytes` whole again, after [`read_in_parallel`] read
/// them (a second pass): if parts of them were given back, the input is marked spoiled, the
/// reading fails on the zeros where they were, and the caller reads the file again.
pub(crate) fn reading_again(bytes: &[u8]) {
    Giver::for_bytes(bytes).inspect(Giver::reading_again);
}

/// The index just after the closing quote of the string whose text starts at `from`.
fn string_end(bytes: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let at = quote_or_backslash(bytes, from)?;
        if bytes[at] == b'"' {
            return Some(at + 1);
        }
        from = at + 2;
    }
}

/// The first `"` or `\` at or after `from`, eight bytes at a time: most strings of trace
/// files are short (keys, ids), too short for `memchr`'s set-up to pay.
fn quote_or_backslash(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // High bit set in each byte of `word` equal to `byte`; the lowest one set is never a false one.
    let equal = |word: u64, byte: u8| {
        let x = word ^ (ONES * u64::from(byte));
        x.wrapping_sub(ONES) & !x & HIGH
    };
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let found = equal(word, b'"') | equal(word, b'\\');
        if found != 0 {
            return Some(i + found.trailing_zeros() as usize / 8);
        }
        i += 8;
    }
    bytes.get(i..)?.iter().position(|&b| b == b'"' || b == b'\\').map(|k| i + k)
}

/// Whether `b` is JSON's white space: not a form feed, which `is_ascii_whitespace` lets
/// through and a whole reading refuses; left inside a part, it fails that part's reading too.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && is_space(bytes[i]) {
        i += 1;
    }
    i
}

fn trimmed(bytes: &[u8], range: Range<usize>) -> Range<usize> {
    let start = skip_space(bytes, range.start).min(range.end);
    let mut end = range.end;
    while end > start && is_space(bytes[end - 1]) {
        end -= 1;
    }
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(json: &str) -> Option<Vec<&str>> {
        array_elements(json.as_bytes()).map(|e| e.into_iter().map(|r| &json[r]).collect())
    }

    #[test]
    fn finds_each_element_whatever_its_strings_hold() {
        let json = r#" [ {"a": "x,]}\"\\", "b": [1, {"c": 2}]} ,
            [3, 4], "s,t" , 5 ]
        "#;
        assert_eq!(texts(json).unwrap(), [r#"{"a": "x,]}\"\\", "b": [1, {"c": 2}]}"#, "[3, 4]", r#""s,t""#, "5"]);
        assert_eq!(texts("[]").unwrap(), Vec::<&str>::new());
    }

    #[test]
    fn finds_the_elements_of_one_member_of_an_object() {
        let json = r#"{"a": {"resourceSpans": [9]}, "b": "x", "resourceSpans": [ {"r": 1} , {"r": [2]} ], "c": 3.5}"#;
        let elements = member_elements(json.as_bytes(), &["resourceSpans", "batches"]).unwrap();
        assert_eq!(elements.into_iter().map(|r| &json[r]).collect::<Vec<_>>(), [r#"{"r": 1}"#, r#"{"r": [2]}"#]);
        for json in [r#"{"batches": [1], "resourceSpans": [2]}"#, r#"{"resourceSpans": 5}"#, r#"{"x": 1} 2"#, "[1]"] {
            assert_eq!(member_elements(json.as_bytes(), &["resourceSpans", "batches"]), None, "{json}");
        }
    }

    #[test]
    fn finds_an_array_nested_by_a_path_and_what_is_around_it() {
        let json = r#" {"errors": null, "data" : [ {"traceID": "a]", "spans": [ {"s": "[1"}, 2 ,[3]], "p": {"spans": 4}} ] } "#;
        let path = [Step::Member(&["data"]), Step::Only, Step::Member(&["spans"])];
        let spans = nested(json.as_bytes(), &path).unwrap();
        assert_eq!(spans.elements.iter().map(|r| &json[r.clone()]).collect::<Vec<_>>(), [r#"{"s": "[1"}"#, "2", "[3]"]);
        let rest = String::from_utf8(spans.rest(json.as_bytes())).unwrap();
        assert_eq!(rest, r#" {"errors": null, "data" : [ {"traceID": "a]", "spans": [], "p": {"spans": 4}} ] } "#);
        for json in [
            r#"{"data": [{"spans": [1]}, {"spans": [2]}]}"#,
            r#"{"data": []}"#,
            r#"{"data": [{"spans": [1], "spans": [2]}]}"#,
            r#"{"data": [{"spans": 1}]}"#,
            r#"{"data": [{"other": [1]}]}"#,
            r#"{"data": [{"spans": [1]}], "data": []}"#,
            r#"{"data": [{"spans": [1]},]}"#,
            r#"{"data": [{"spans": [1],}]}"#,
            r#"{"data": [{"spans": [1]}]} x"#,
            r#"[{"data": [{"spans": [1]}]}]"#,
        ] {
            assert!(nested(json.as_bytes(), &path).is_none(), "{json}");
        }
    }

    #[test]
    fn the_elements_of_a_nested_array_are_read_in_runs_in_order() {
        let json = format!(
            r#"{{"a": 1, "list": [{}]}}"#,
            (0..3000).map(|i| format!("\"{i:0500}\"")).collect::<Vec<_>>().join(", ")
        );
        let list = nested(json.as_bytes(), &[Step::Member(&["list"])]).unwrap();
        let read = |texts: &mut Vec<(usize, String)>, first: usize, elements: Elements| {
            texts.extend(elements.enumerate().map(|(k, e)| (first + k, String::from_utf8(e.to_vec()).unwrap())));
            true
        };
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let first = vec![(usize::MAX, "first".to_owned())];
        let texts = pool.install(|| list.read_in_parallel(json.as_bytes(), first, Vec::new, read, |a, b| a.extend(b)));
        let mut expected: Vec<(usize, String)> = (0..3000).map(|i| (i, format!("\"{i:0500}\""))).collect();
        expected.insert(0, (usize::MAX, "first".to_owned()));
        assert!(texts.unwrap() == expected, "every element once, in order, with its index, after the first reader's");
    }

    #[test]
    fn runs_hold_about_as_many_bytes_each() {
        let ranges = [0..10, 10..20, 20..70, 70..80, 80..90];
        let runs = runs(&ranges, 2);
        assert_eq!(runs.iter().map(|(first, run)| (*first, run.len())).collect::<Vec<_>>(), [(0, 3), (3, 2)]);
        assert_eq!(super::runs(&ranges, 8).len(), 3, "no run smaller than an eighth, but the last");
    }

    #[test]
    fn quotes_and_backslashes_are_found_wherever_they_fall_in_a_word() {
        for at in 0..20 {
            let mut text = vec![b'a'; 24];
            text[at] = b'"';
            assert_eq!(quote_or_backslash(&text, 0), Some(at));
            text[at] = b'\\';
            assert_eq!(quote_or_backslash(&text, at.min(3)), Some(at));
            // A byte just above '"' or '\\' after a match is not mistaken for one before it.
            text[at] = b'#';
            assert_eq!(quote_or_backslash(&text, 0), None);
        }
    }

    #[test]
    fn an_array_without_its_closing_bracket_splits_as_if_it_had_one() {
        fn unclosed(json: &str) -> Option<Vec<&str>> {
            unclosed_array_elements(json.as_bytes()).map(|e| e.into_iter().map(|r| &json[r]).collect())
        }
        assert_eq!(unclosed(r#"[ {"a": "],"}, [1, 2] , 3"#).unwrap(), [r#"{"a": "],"}"#, "[1, 2]", "3"]);
        assert_eq!(unclosed("[ ").unwrap(), Vec::<&str>::new());
        for json in ["[1, 2]", r#"[{"a": 1"#, r#"[{"a": "x"#, "[1,,2", "[1, ", "{}"] {
            assert_eq!(unclosed(json), None, "{json}");
        }
    }

    #[test]
    fn only_json_white_space_is_trimmed_from_elements() {
        assert_eq!(texts("[1,\u{c} 2]").unwrap(), ["1", "\u{c} 2"], "a form feed stays in its element");
        assert_eq!(texts("[1]\u{c}"), None, "nor is it white space after the array");
    }

    #[test]
    fn what_is_not_one_array_is_not_split() {
        for json in [r#"{"a": [1, 2]}"#, r#"[{"a": "unterminated}]"#, "[1,,2]", "[1, 2] 3", "[1, 2", "[1,]"] {
            assert_eq!(texts(json), None, "{json}");
        }
    }
}
