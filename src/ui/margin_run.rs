//! The Replay panel's "Find margin": the margin search ([`crate::replay::margin`]) run on the
//! app's tokio runtime against the tab's mock, never on the UI thread; its steps arrive over a
//! channel as they finish and are drawn ([`super::margin_plot`]) while it goes.

use std::sync::Arc;
use std::time::Duration;

use egui::{RichText, Ui};

use super::job::Job;
use super::replay_mock::Up;
use super::theme;
use crate::replay::capture::Capture;
use crate::replay::driver::{ReplayConfig, Transport};
use crate::replay::latency::ApiLatency;
use crate::replay::margin::{self, Knob, Outcome, Search, Step};

/// How long the search waits for a Socket Mode app to connect.
const CONNECT_WAIT: Duration = Duration::from_secs(120);

/// The search's settings, the search in flight, and what it found.
pub struct MarginRun {
    /// The knob and bounds the next search uses (defaults: [`Search::new`]).
    pub search: Search,
    /// The search in flight: its steps as they finish, then what it found.
    job: Option<Job<Result<Outcome, String>, Step>>,
    steps: Vec<Step>,
    outcome: Option<Outcome>,
    error: Option<String>,
}

impl Default for MarginRun {
    fn default() -> Self {
        MarginRun { search: Search::new(Knob::Delivery), job: None, steps: Vec::new(), outcome: None, error: None }
    }
}

impl MarginRun {
    /// Whether a search is under way.
    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// Starts a search on `runtime` against `up` (the tab's mock): each step replays `capture`
    /// with `config`, the mock's latency `api` under the delivery knob; `repaint` when there is news.
    pub fn start(
        &mut self,
        runtime: &tokio::runtime::Handle,
        up: Arc<Up>,
        capture: Capture,
        config: ReplayConfig,
        api: ApiLatency,
        repaint: impl Fn() + Send + Sync + 'static,
    ) {
        let search = self.search.clone();
        self.job = Some(Job::spawn(runtime, repaint, |worker| async move {
            let stop = worker.cancel_token().clone();
            if matches!(config.transport, Transport::SocketMode { .. }) {
                let connected = tokio::select! {
                    connected = up.mock.socket_mode().wait_for_connection(CONNECT_WAIT) => connected,
                    () = stop.cancelled() => false,
                };
                if !connected {
                    return Err("no app connected over Socket Mode".into());
                }
            }
            // One replay at a time on the tab's mock: a round waits for the search, and back.
            let _session = up.session.lock().await;
            let on_step = |step: &Step| worker.progress(step.clone());
            let capture = Arc::new(capture);
            margin::find_margin(up.mock.clone(), capture, &config, &api, &search, on_step, stop).await
        }));
        self.steps.clear();
        self.outcome = None;
        self.error = None;
    }

    /// Shows why a search could not start.
    pub fn refuse(&mut self, why: String) {
        self.error = Some(why);
    }

    /// Stops the search in flight (it reports how far it got).
    pub fn stop(&self) {
        if let Some(job) = &self.job {
            job.cancel();
        }
    }

    /// Takes the search's news (the window does it every frame, whether the tab is shown or not).
    pub fn poll(&mut self) {
        let Some(job) = &mut self.job else { return };
        if let Some(result) = job.poll(|step| self.steps.push(step)) {
            match result.and_then(|r| r) {
                Ok(outcome) => self.outcome = Some(outcome),
                Err(e) => self.error = Some(e),
            }
            self.job = None;
        }
    }

    /// Draws the controls, the steps so far and the plot; says whether "Find margin" was pressed
    /// (`idle`: no replay in flight, so a search may start).
    pub fn ui(&mut self, ui: &mut Ui, idle: bool) -> bool {
        let mut pressed = false;
        ui.horizontal(|ui| {
            if self.is_running() {
                ui.spinner();
                ui.label(format!("finding the {} margin…", self.search.knob.words()));
                if ui.button("Stop the search").clicked() {
                    self.stop();
                }
            } else {
                pressed = ui
                    .add_enabled(idle, egui::Button::new("Find margin"))
                    .on_hover_text(
                        "replay at injected latencies chosen by bisection (0 to 5 s, to 50 ms, at most 2 min) and \
                         find the most the fix survives",
                    )
                    .clicked();
                ui.radio_value(&mut self.search.knob, Knob::Delivery, "of delivery latency")
                    .on_hover_text("the interaction reaches the app later than the click");
                ui.radio_value(&mut self.search.knob, Knob::Api, "of Web API latency")
                    .on_hover_text("every Web API call is answered later");
            }
        });
        if let Some(error) = &self.error {
            ui.label(RichText::new(error).color(theme::MISS));
        }
        if let Some(outcome) = &self.outcome {
            let color = if outcome.fails_at_zero() { theme::MISS } else { theme::PASS };
            ui.label(RichText::new(outcome.sentence()).color(color).strong());
        }
        if !self.steps.is_empty() {
            let knob = self.outcome.as_ref().map_or(self.search.knob, |o| o.search.knob);
            let margin = self.outcome.as_ref().and_then(Outcome::margin);
            let broke = self.outcome.as_ref().and_then(|o| o.broke().map(|s| s.latency));
            super::margin_plot::show(ui, knob, &self.steps, margin, broke);
        }
        pressed
    }
}
