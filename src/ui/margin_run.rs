//! The Replay panel's "Find margin": the margin search ([`crate::replay::margin`]) run on the
//! app's tokio runtime against the tab's mock, never on the UI thread; its steps arrive over a
//! channel as they finish and are drawn ([`super::margin_plot`]) while it goes.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use egui::{RichText, Ui};
use tokio_util::sync::CancellationToken;

use super::replay_mock::Up;
use super::theme;
use crate::replay::capture::Capture;
use crate::replay::driver::{ReplayConfig, Transport};
use crate::replay::latency::ApiLatency;
use crate::replay::margin::{self, Knob, Outcome, Search, Step};

enum Message {
    Step(Step),
    Done(Result<Outcome, String>),
}

/// How long the search waits for a Socket Mode app to connect.
const CONNECT_WAIT: Duration = Duration::from_secs(120);

/// The search's settings, the search in flight, and what it found.
pub struct MarginRun {
    /// The knob and bounds the next search uses (defaults: [`Search::new`]).
    pub search: Search,
    rx: Option<Receiver<Message>>,
    cancel: Option<CancellationToken>,
    steps: Vec<Step>,
    outcome: Option<Outcome>,
    error: Option<String>,
}

impl Default for MarginRun {
    fn default() -> Self {
        MarginRun {
            search: Search::new(Knob::Delivery),
            rx: None,
            cancel: None,
            steps: Vec::new(),
            outcome: None,
            error: None,
        }
    }
}

impl MarginRun {
    /// Whether a search is under way.
    pub fn is_running(&self) -> bool {
        self.rx.is_some()
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
        let (tx, rx) = channel();
        let cancel = CancellationToken::new();
        let search = self.search.clone();
        let stop = cancel.clone();
        runtime.spawn(async move {
            let send = |message: Message| {
                let _ = tx.send(message);
                repaint();
            };
            if matches!(config.transport, Transport::SocketMode { .. }) {
                let connected = tokio::select! {
                    connected = up.mock.socket_mode().wait_for_connection(CONNECT_WAIT) => connected,
                    () = stop.cancelled() => false,
                };
                if !connected {
                    return send(Message::Done(Err("no app connected over Socket Mode".into())));
                }
            }
            // One replay at a time on the tab's mock: a round waits for the search, and back.
            let _session = up.session.lock().await;
            let on_step = |step: &Step| send(Message::Step(step.clone()));
            let capture = Arc::new(capture);
            let outcome = margin::find_margin(up.mock.clone(), capture, &config, &api, &search, on_step, stop).await;
            send(Message::Done(outcome));
        });
        self.rx = Some(rx);
        self.cancel = Some(cancel);
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
        if let Some(cancel) = &self.cancel {
            cancel.cancel();
        }
    }

    fn poll(&mut self) {
        let Some(rx) = &self.rx else { return };
        while let Ok(message) = rx.try_recv() {
            match message {
                Message::Step(step) => self.steps.push(step),
                Message::Done(result) => {
                    match result {
                        Ok(outcome) => self.outcome = Some(outcome),
                        Err(e) => self.error = Some(e),
                    }
                    self.rx = None;
                    self.cancel = None;
                    return;
                }
            }
        }
    }

    /// Draws the controls, the steps so far and the plot; says whether "Find margin" was pressed
    /// (`idle`: no replay in flight, so a search may start).
    pub fn ui(&mut self, ui: &mut Ui, idle: bool) -> bool {
        self.poll();
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
