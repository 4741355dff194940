//! A cheap structural scan that finds the elements of a top-level JSON array, so that a big
//! file's elements can be parsed on several threads. It only tracks strings (skipped with
//! `memchr`) and bracket depth: it does not validate, so each element is parsed (and so
//! checked) on its own, and a file it cannot split is read whole as before.

use std::ops::Range;

/// The byte ranges of the elements of the array `bytes` holds (whitespace around the array
/// and each element trimmed), or `None` when `bytes` is not one array as far as the scan can
/// tell (an object, an unterminated string, an empty element, text after the array).
pub(crate) fn array_elements(bytes: &[u8]) -> Option<Vec<Range<usize>>> {
    let mut i = skip_space(bytes, 0);
    if bytes.get(i) != Some(&b'[') {
        return None;
    }
    i += 1;
    let (mut depth, mut start, mut elements) = (1usize, i, Vec::new());
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = string_end(bytes, i + 1)?;
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
                        return None;
                    }
                    return (skip_space(bytes, i + 1) == bytes.len()).then_some(elements);
                }
            }
            b',' if depth == 1 => {
                let element = trimmed(bytes, start..i);
                if element.is_empty() {
                    return None;
                }
                elements.push(element);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index just after the closing quote of the string whose text starts at `from`.
fn string_end(bytes: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let at = from + memchr::memchr2(b'"', b'\\', &bytes[from..])?;
        if bytes[at] == b'"' {
            return Some(at + 1);
        }
        from = at + 2;
        if from > bytes.len() {
            return None;
        }
    }
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
    fn what_is_not_one_array_is_not_split() {
        for json in [r#"{"a": [1, 2]}"#, r#"[{"a": "unterminated}]"#, "[1,,2]", "[1, 2] 3", "[1, 2", "[1,]"] {
            assert_eq!(texts(json), None, "{json}");
        }
    }
}
