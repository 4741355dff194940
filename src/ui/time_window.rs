//! The time range a waterfall shows, and the arithmetic of zooming and panning it: a small
//! value the waterfall, its overview strip and the replay's live view share. No drawing here.

use egui::Rect;

use crate::model::Nanos;

/// The narrowest window one can zoom to, in nanoseconds.
const MIN_WINDOW: f64 = 100.0;

/// The visible time range, in nanoseconds from the trace start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeWindow {
    /// Left edge.
    pub start: f64,
    /// Right edge.
    pub end: f64,
}

impl TimeWindow {
    /// The whole trace with a little room on both sides (and room for a deadline past the end).
    pub fn whole(duration: Nanos, deadline: Option<Nanos>) -> Self {
        let end = duration.max(deadline.unwrap_or(0)).max(1) as f64;
        TimeWindow { start: -end * 0.01, end: end * 1.03 }
    }

    /// Width in nanoseconds.
    pub fn width(&self) -> f64 {
        self.end - self.start
    }

    /// Zooms by `factor` (> 1 zooms in) keeping time `around` where it is on screen.
    pub fn zoom(&mut self, factor: f64, around: f64) {
        let width = (self.width() / factor).max(MIN_WINDOW);
        let left = (around - self.start) / self.width();
        self.start = around - left * width;
        self.end = self.start + width;
    }

    /// Moves the window by `delta` nanoseconds.
    pub fn pan(&mut self, delta: f64) {
        self.start += delta;
        self.end += delta;
    }

    /// Shows `start..end` with a margin of a tenth on each side.
    pub fn focus(&mut self, start: f64, end: f64) {
        let width = (end - start).max(MIN_WINDOW);
        self.start = start - width * 0.1;
        self.end = start + width * 1.1;
    }

    /// The x of time `t` when the window spans `rect`'s width.
    pub fn x(&self, rect: Rect, t: f64) -> f32 {
        rect.left() + ((t - self.start) / self.width() * rect.width() as f64) as f32
    }

    /// The time at `x` when the window spans `rect`'s width.
    pub fn t(&self, rect: Rect, x: f32) -> f64 {
        self.start + (x - rect.left()) as f64 / rect.width() as f64 * self.width()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_keeps_the_point_under_the_pointer() {
        let mut window = TimeWindow { start: 0.0, end: 1000.0 };
        window.zoom(2.0, 250.0);
        assert_eq!(window, TimeWindow { start: 125.0, end: 625.0 });
        window.pan(-125.0);
        assert_eq!(window.start, 0.0);
        window.zoom(1e9, 0.0);
        assert_eq!(window.width(), MIN_WINDOW);
    }
}
