//! Lists in messages kept short: a parent cycle through 200,000 spans names the first few and
//! counts the rest, so an error stays one readable line.

use std::fmt::Display;

/// How many items a message names before it counts the rest.
pub const SHOWN: usize = 5;

/// The first [`SHOWN`] items joined by `separator`, then `…` and how many more there are
/// (`a, b, c, d, e, … (199,995 more)`).
pub fn first_few<T: Display>(items: &[T], separator: &str) -> String {
    let mut text: Vec<String> = items.iter().take(SHOWN).map(ToString::to_string).collect();
    if items.len() > SHOWN {
        text.push(format!("… ({} more)", thousands(items.len() - SHOWN)));
    }
    text.join(separator)
}

/// A count with thousands separators (`199,995`).
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lists_are_whole_and_long_ones_name_the_first_few_and_count_the_rest() {
        assert_eq!(first_few(&[1, 2, 3], ", "), "1, 2, 3");
        assert_eq!(first_few(&[1, 2, 3, 4, 5], ", "), "1, 2, 3, 4, 5");
        let many: Vec<u32> = (0..200_000).collect();
        assert_eq!(first_few(&many, ", "), "0, 1, 2, 3, 4, … (199,995 more)");
        assert_eq!(first_few::<u8>(&[], ", "), "");
    }

    #[test]
    fn counts_read_with_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(2_000_000), "2,000,000");
    }
}
