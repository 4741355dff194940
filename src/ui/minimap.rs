//! The overview strip above a waterfall: how many spans run at each moment of the whole trace
//! (failed ones in red), the deadline, and the part the waterfall shows, which can be dragged.
//! Counted once per trace; drawn as a few hundred rectangles.

use egui::{Id, Rect, Role, Sense, Stroke, StrokeKind, Ui};

use super::overlay::Overlay;
use super::theme;
use super::time_window::TimeWindow;
use crate::model::{Nanos, Trace};

/// Buckets in the overview strip.
const MINIMAP_BUCKETS: usize = 512;

/// A trace's overview strip: its span density, counted once.
pub struct Minimap {
    density: Vec<u32>,
    error_density: Vec<u32>,
}

impl Minimap {
    /// Counts `trace`'s spans per bucket.
    pub fn new(trace: &Trace) -> Self {
        let (density, error_density) = minimap_density(trace);
        Minimap { density, error_density }
    }

    /// Draws the strip in `rect`, with `window` marked on it; dragging or clicking moves
    /// `window` there.
    pub fn show(&self, ui: &Ui, id: Id, rect: Rect, (trace, overlay): (&Trace, &Overlay), window: &mut TimeWindow) {
        let painter = ui.painter().with_clip_rect(rect);
        let visuals = ui.visuals();
        painter.rect_filled(rect, 2.0, visuals.extreme_bg_color);
        let whole = TimeWindow::whole(trace.duration(), overlay.deadline);
        let total = trace.duration().max(1) as f64;
        let peak = self.density.iter().copied().max().unwrap_or(1).max(1) as f32;
        let bucket_ns = total / MINIMAP_BUCKETS as f64;
        for (b, (&count, &errors)) in self.density.iter().zip(&self.error_density).enumerate() {
            if count == 0 {
                continue;
            }
            let x0 = whole.x(rect, b as f64 * bucket_ns);
            let x1 = whole.x(rect, (b + 1) as f64 * bucket_ns).max(x0 + 1.0);
            let h = (count as f32 / peak).sqrt() * (rect.height() - 4.0);
            let color =
                if errors > 0 { theme::MISS } else { visuals.widgets.inactive.fg_stroke.color.gamma_multiply(0.7) };
            painter.rect_filled(
                Rect::from_x_y_ranges(x0..=x1, rect.bottom() - 2.0 - h..=rect.bottom() - 2.0),
                0.0,
                color,
            );
        }
        if let Some(deadline) = overlay.deadline {
            painter.vline(whole.x(rect, deadline as f64), rect.y_range(), Stroke::new(1.5, theme::MISS));
        }
        let view = Rect::from_x_y_ranges(
            whole.x(rect, window.start).max(rect.left())
                ..=whole.x(rect, window.end).min(rect.right()).max(rect.left() + 3.0),
            rect.y_range(),
        );
        painter.rect_filled(view, 2.0, visuals.selection.bg_fill.gamma_multiply(0.25));
        painter.rect_stroke(view, 2.0, visuals.selection.stroke, StrokeKind::Inside);

        let response = ui.interact(rect, id.with("minimap"), Sense::click_and_drag());
        response.widget_info(|| egui::WidgetInfo::labeled(Role::ScrollBar, true, "Overview: drag the visible window"));
        if let Some(pos) = response.interact_pointer_pos()
            && (response.dragged() || response.clicked())
        {
            let center = whole.t(rect, pos.x);
            let width = window.width();
            *window = TimeWindow { start: center - width / 2.0, end: center + width / 2.0 };
        }
    }
}

/// How many spans are running in each overview bucket, and how many of those failed.
fn minimap_density(trace: &Trace) -> (Vec<u32>, Vec<u32>) {
    let total = trace.duration().max(1) as f64;
    let mut starts = vec![0i64; MINIMAP_BUCKETS + 1];
    let mut errors = vec![0u32; MINIMAP_BUCKETS];
    let bucket =
        |t: Nanos| ((trace.offset(t) as f64 / total * MINIMAP_BUCKETS as f64) as usize).min(MINIMAP_BUCKETS - 1);
    for span in trace.spans() {
        let (b0, b1) = (bucket(span.start), bucket(span.end));
        starts[b0] += 1;
        starts[b1 + 1] -= 1;
        if span.is_error() {
            errors[b0] += 1;
        }
    }
    let mut running = 0i64;
    let density = starts[..MINIMAP_BUCKETS]
        .iter()
        .map(|d| {
            running += d;
            running.max(0) as u32
        })
        .collect();
    (density, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::test_traces::small_tree as trace;

    #[test]
    fn density_counts_spans_running_per_bucket() {
        let t = trace();
        let (density, errors) = minimap_density(&t);
        assert_eq!(density.len(), MINIMAP_BUCKETS);
        assert_eq!(density[0], 3, "spans 1, 2 and 3 run at the start");
        assert_eq!(*density.last().unwrap(), 2, "spans 1 and 4 run at the end");
        assert!(errors.iter().all(|&e| e == 0));
    }
}
