//! A back-end search in flight, feeding a traces view: traces are added as they arrive, a
//! status line shows progress with a Cancel button, then what was found (or why it stopped).
//! A cancelled or failed search keeps the traces that came.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};

use egui::{RichText, Ui};
use tokio_util::sync::CancellationToken;

use super::fetch_dialog::spawn_with_token;
use super::theme;
use super::traces_view::TracesView;
use crate::fetch::{self, Config, FetchError, Fetched, Search, Searched, Token};

enum Message {
    Progress(String),
    Found(Box<Fetched>),
    Done(Result<Searched, FetchError>),
}

/// The search and what it said last.
pub struct SearchRun {
    rx: Receiver<Message>,
    cancel: CancellationToken,
    progress: String,
    /// What the search found, or why it stopped; `None` while it runs.
    outcome: Option<Result<String, String>>,
    /// Why the search went without a saved token, added to the outcome.
    token_note: Option<String>,
}

impl SearchRun {
    /// Starts `search` on `runtime`, with the typed token or else the saved one `name` allows
    /// (see [`spawn_with_token`]; when none may go, the outcome says why); `repaint` is called
    /// when there is news.
    pub fn start(
        search: Search,
        typed: Option<Token>,
        name: Result<Option<String>, String>,
        runtime: &tokio::runtime::Handle,
        repaint: impl Fn() + Send + Sync + 'static,
    ) -> Self {
        let token_note = match (&typed, &name) {
            (None, Err(why)) => Some(format!("; searched without a token: {why}")),
            _ => None,
        };
        let (tx, rx) = channel();
        let cancel = CancellationToken::new();
        let worker_cancel = cancel.clone();
        let repaint = Arc::new(repaint);
        spawn_with_token(runtime, typed, search.backend, name, move |token| async move {
            let send = |message: Message| {
                let _ = tx.send(message);
                repaint();
            };
            let progress_tx = std::sync::Mutex::new(tx.clone());
            let progress_repaint = Arc::clone(&repaint);
            let progress = move |p: fetch::Progress| {
                if let Ok(tx) = progress_tx.lock() {
                    let _ = tx.send(Message::Progress(p.to_string()));
                }
                progress_repaint();
            };
            let found = |fetched: Fetched| send(Message::Found(Box::new(fetched)));
            let result = fetch::search_cancellable(
                &search,
                token.as_ref(),
                &Config::default(),
                &progress,
                found,
                &worker_cancel,
            )
            .await;
            send(Message::Done(result));
        });
        SearchRun { rx, cancel, progress: "starting the search".into(), outcome: None, token_note }
    }

    /// Whether the search is still running.
    pub fn is_running(&self) -> bool {
        self.outcome.is_none()
    }

    /// Stops the search; what came stays.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Adds the traces that arrived to `view`.
    pub fn poll(&mut self, view: &mut TracesView) {
        let mut traces = Vec::new();
        let mut sources = Vec::new();
        while let Ok(message) = self.rx.try_recv() {
            match message {
                Message::Progress(text) => self.progress = text,
                Message::Found(fetched) => {
                    sources.extend(std::iter::repeat_n(fetched.source.clone(), fetched.traces.len()));
                    traces.extend(fetched.traces.into_iter().map(Arc::new));
                }
                Message::Done(result) => {
                    let note = self.token_note.as_deref().unwrap_or_default();
                    self.outcome = Some(match result {
                        Ok(searched) => Ok(searched.message + note),
                        Err(e) => Err(e.message + note),
                    });
                }
            }
        }
        if !traces.is_empty() {
            view.extend(traces, sources);
        }
    }

    /// The status line: progress and Cancel while running, then the outcome.
    pub fn ui(&mut self, ui: &mut Ui, found: usize) {
        ui.horizontal_wrapped(|ui| match &self.outcome {
            None => {
                ui.spinner();
                ui.label(format!("searching: {} · {found} trace(s) so far", self.progress));
                if ui.button("Cancel the search").clicked() {
                    self.cancel();
                }
            }
            Some(Ok(message)) => {
                ui.label(RichText::new(message).weak());
            }
            Some(Err(message)) => {
                let kept =
                    if found > 0 { format!(" (the {found} trace(s) found before are kept)") } else { String::new() };
                ui.label(RichText::new(format!("{message}{kept}")).color(theme::MISS));
            }
        });
    }
}
