//! The ids given to the server halves of shared (client/server) spans.
//!
//! Zipkin lets a server reuse its client's span id; the model needs unique ids, so the server
//! half gets a derived one: SplitMix64 of the client's id, applied again while the result is
//! zero or already used in the trace (at most [`ATTEMPTS`] times). The writer recognises a
//! server half by its id being one of these candidates for its parent's id, and writes it
//! back with the parent's id and `shared:true`.

use crate::model::SpanId;

/// How many candidates are tried before giving up on uniqueness (then the builder reports
/// the duplicate id; with 64-bit ids this needs about 2^64 / spans bad draws in a row).
pub const ATTEMPTS: usize = 64;

/// The candidate ids for the server half of `client`'s shared span, in order.
pub fn half_ids(client: SpanId) -> impl Iterator<Item = SpanId> {
    std::iter::successors(Some(client.get()), |&x| Some(splitmix64(x))).skip(1).take(ATTEMPTS).filter_map(SpanId::new)
}

/// Sebastiano Vigna's SplitMix64 finaliser step: a bijection on u64 that scatters bits.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_stable_distinct_and_not_the_client() {
        let client = SpanId::new(0xa2fb_4a1d_1a96_d312).unwrap();
        let ids: Vec<SpanId> = half_ids(client).collect();
        assert_eq!(ids.len(), ATTEMPTS);
        assert!(!ids.contains(&client));
        assert_eq!(ids, half_ids(client).collect::<Vec<_>>());
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len());
    }
}
