//! Colours with a meaning: the deadline's, the gaps', and one colour per service.

use egui::Color32;

use std::collections::HashMap;

use crate::model::{Span, StrId, Trace};

/// Missed deadlines, crossing spans, errors.
pub const MISS: Color32 = Color32::from_rgb(0xe5, 0x48, 0x4d);
/// Met deadlines.
pub const PASS: Color32 = Color32::from_rgb(0x30, 0xa4, 0x6c);
/// Where the clock starts.
pub const CLOCK: Color32 = Color32::from_rgb(0x3e, 0x93, 0xde);
/// Uninstrumented gaps.
pub const GAP: Color32 = Color32::from_rgb(0xd6, 0x9e, 0x2e);
/// User-placed time markers.
pub const MARKER: Color32 = Color32::from_rgb(0x9b, 0x7b, 0xe8);
/// Search matches.
pub const MATCH: Color32 = Color32::from_rgb(0xf5, 0xd0, 0x3b);

/// Well-separated colours, given out in the order of [`ranked`].
const PALETTE: [Color32; 10] = [
    Color32::from_rgb(0x4e, 0x8e, 0xd8),
    Color32::from_rgb(0xb0, 0x7a, 0xd9),
    Color32::from_rgb(0x3f, 0xaf, 0x9a),
    Color32::from_rgb(0xd9, 0x8a, 0x3d),
    Color32::from_rgb(0xd1, 0x6b, 0xa5),
    Color32::from_rgb(0x7f, 0xa8, 0x3a),
    Color32::from_rgb(0x5b, 0xb5, 0xd6),
    Color32::from_rgb(0xa9, 0x8d, 0x5b),
    Color32::from_rgb(0x8c, 0x8f, 0xe0),
    Color32::from_rgb(0xc9, 0x6f, 0x5d),
];

/// The colour of the `rank`-th service (or op) of a trace by span count; `None` is grey.
pub fn rank_color(rank: Option<usize>) -> Color32 {
    match rank {
        Some(rank) => PALETTE[rank % PALETTE.len()],
        None => Color32::from_gray(140),
    }
}

/// The distinct values of `key` over the trace's spans, most spans first (services, ops).
/// O(spans): call once per trace.
pub fn ranked(trace: &Trace, key: impl Fn(&Span) -> StrId) -> Vec<StrId> {
    let mut counts: HashMap<StrId, usize> = HashMap::new();
    for span in trace.spans() {
        *counts.entry(key(span)).or_default() += 1;
    }
    let mut ranked: Vec<(StrId, usize)> = counts.into_iter().collect();
    ranked.sort_by_key(|&(id, n)| (std::cmp::Reverse(n), id));
    ranked.into_iter().map(|(s, _)| s).collect()
}
