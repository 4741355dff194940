//! Colours with a meaning: the deadline's, the gaps', and one colour per service.

use egui::Color32;
use egui::ecolor::Hsva;

use crate::model::{StrId, Trace};

/// Missed deadlines, crossing spans, errors.
pub const MISS: Color32 = Color32::from_rgb(0xe5, 0x48, 0x4d);
/// Met deadlines.
pub const PASS: Color32 = Color32::from_rgb(0x30, 0xa4, 0x6c);
/// Where the clock starts.
pub const CLOCK: Color32 = Color32::from_rgb(0x3e, 0x93, 0xde);
/// Uninstrumented gaps.
pub const GAP: Color32 = Color32::from_rgb(0xd6, 0x9e, 0x2e);
/// Search matches.
pub const MATCH: Color32 = Color32::from_rgb(0xf5, 0xd0, 0x3b);

/// A stable colour for a service: neighbouring string ids get well-separated hues; spans
/// with no service are grey.
pub fn service_color(service: StrId) -> Color32 {
    if service.is_empty() {
        return Color32::from_gray(140);
    }
    let hue = (service.index() as f32 * 0.618_034 + 0.55).fract();
    Hsva::new(hue, 0.55, 0.78, 1.0).into()
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
    counts.sort_by(|a, b| b.1.cmp(&a.1));
    counts.into_iter().map(|(s, _)| s).collect()
}
