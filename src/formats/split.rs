//! A cheap structural scan that finds the elements of a top-level JSON array, so that a big
//! file's elements can be parsed on several threads. It only tracks strings (skipped eight
//! bytes at a time) and bracket depth: it does not validate, so each element is parsed (and so
//! checked) on its own, and a file it cannot split is read whole as before.

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
    let mut i = skip_space(bytes, 0);
    if bytes.get(i) != Some(&b'{') {
        return None;
    }
    let mut found = None;
    loop {
        i = skip_space(bytes, i + 1);
        match bytes.get(i)? {
            b'}' if found.is_some() || i == skip_space(bytes, 0) + 1 => break,
            b'"' => {}
            _ => return None,
        }
        let key_end = string_end(bytes, i + 1)?;
        let key = &bytes[i + 1..key_end - 1];
        i = skip_space(bytes, key_end);
        if bytes.get(i) != Some(&b':') {
            return None;
        }
        i = skip_space(bytes, i + 1);
        if names.iter().any(|name| name.as_bytes() == key) {
            if found.is_some() || bytes.get(i) != Some(&b'[') {
                return None;
            }
            let (elements, end) = elements_at(bytes, i).closed()?;
            found = Some(elements);
            i = end;
        } else {
            i = value_end(bytes, i)?;
        }
        i = skip_space(bytes, i);
        match bytes.get(i)? {
            b',' => {}
            b'}' => break,
            _ => return None,
        }
    }
    (skip_space(bytes, i + 1) == bytes.len()).then_some(found?)
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

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

fn trimmed(bytes: &[u8], range: Range<usize>) -> Range<usize> {
    let start = skip_space(bytes, range.start).min(range.end);
    let mut end = range.end;
    while end > start && bytes[end - 1].is_ascii_whitespace() {
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
    fn what_is_not_one_array_is_not_split() {
        for json in [r#"{"a": [1, 2]}"#, r#"[{"a": "unterminated}]"#, "[1,,2]", "[1, 2] 3", "[1, 2", "[1,]"] {
            assert_eq!(texts(json), None, "{json}");
        }
    }
}
