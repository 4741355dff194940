//! Colours with a meaning: the deadline's, the gaps', and one colour per service.

use egui::Color32;

use crate::model::{StrId, Trace};

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

/// Well-separated colours for services, in the order of [`services`].
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

/// The colour of the `rank`-th service of a trace (by span count); spans with no service are grey.
pub fn service_color(rank: Option<usize>) -> Color32 {
    match rank {
        Some(rank) => PALETTE[rank % PALETTE.len()],
        None => Color32::from_gray(140),
    }
}

/// The trace's services, most spans first. O(spans): call once per trace.
pub fn services(trace: &Trace) -> Vec<StrId> {
    let mut counts: Vec<(StrId, usize)> = Vec::new();
    for span in trace.spans() {
        match counts.iter_mut().find(|(s, _)| *s == span.service) {
            Some((_, n)) => *n += 1,
            None => counts.push((span.service, 1)),
        }
    }
    counts.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    counts.into_iter().map(|(s, _)| s).collect()
}
