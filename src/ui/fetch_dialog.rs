//! The Fetch dialog: back-end, base URL, organization, token and trace id (or a pasted trace
//! URL); fetches on the app's tokio runtime, shows progress, can be cancelled, and hands the
//! traces back. The token lives in memory only and is never shown or logged.

use std::sync::mpsc::{Receiver, channel};

use egui::{RichText, Ui};
use tokio_util::sync::CancellationToken;

use super::theme;
use crate::fetch::{self, Backend, Config, FetchError, Fetched, Request, Target, Token};

enum Message {
    Progress(String),
    Done(Box<Result<Fetched, FetchError>>),
}

struct Running {
    rx: Receiver<Message>,
    cancel: CancellationToken,
    progress: String,
}

/// The dialog's fields and the fetch in flight.
pub struct FetchDialog {
    /// Whether the window is shown.
    pub open: bool,
    backend: Backend,
    base: String,
    org: String,
    token: String,
    trace: String,
    running: Option<Running>,
    error: Option<String>,
}

impl Default for FetchDialog {
    fn default() -> Self {
        FetchDialog {
            open: false,
            backend: Backend::Jaeger,
            base: String::new(),
            org: String::new(),
            token: String::new(),
            trace: String::new(),
            running: None,
            error: None,
        }
    }
}

impl FetchDialog {
    /// Whether a fetch is under way.
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Starts fetching on `runtime`; `repaint` is called when there is news.
    pub fn start(&mut self, runtime: &tokio::runtime::Handle, repaint: impl Fn() + Send + Sync + 'static) {
        let token = Token::new(&self.token).or_else(|| self.backend_token_from_env());
        let request = Request {
            target: Target {
                backend: self.backend,
                base: Some(self.base.clone()).filter(|b| !b.trim().is_empty()),
                org: Some(self.org.clone()).filter(|o| !o.trim().is_empty()),
                trace: self.trace.clone(),
            },
            token,
        };
        let (tx, rx) = channel();
        let cancel = CancellationToken::new();
        let worker_cancel = cancel.clone();
        let repaint = std::sync::Arc::new(repaint);
        runtime.spawn(async move {
            let progress_tx = std::sync::Mutex::new(tx.clone());
            let progress_repaint = std::sync::Arc::clone(&repaint);
            let progress = move |p: fetch::Progress| {
                if let Ok(tx) = progress_tx.lock() {
                    let _ = tx.send(Message::Progress(p.to_string()));
                }
                progress_repaint();
            };
            let result = fetch::fetch_cancellable(&request, &Config::default(), &progress, &worker_cancel).await;
            let _ = tx.send(Message::Done(Box::new(result)));
            repaint();
        });
        self.error = None;
        self.running = Some(Running { rx, cancel, progress: "starting".into() });
    }

    /// The token for Sentry from the environment, when none was typed.
    fn backend_token_from_env(&self) -> Option<Token> {
        match self.backend {
            Backend::Sentry => std::env::var("SENTRY_AUTH_TOKEN").ok().and_then(|t| Token::new(&t)),
            _ => None,
        }
    }

    /// Takes the fetch's news; returns what it fetched once it is done.
    pub fn poll(&mut self) -> Option<Fetched> {
        let running = self.running.as_mut()?;
        while let Ok(message) = running.rx.try_recv() {
            match message {
                Message::Progress(text) => running.progress = text,
                Message::Done(result) => {
                    self.running = None;
                    match *result {
                        Ok(fetched) => {
                            self.open = false;
                            return Some(fetched);
                        }
                        Err(e) => self.error = Some(e.to_string()),
                    }
                    return None;
                }
            }
        }
        None
    }

    /// The dialog's contents; returns true when the user asked to fetch.
    pub fn ui(&mut self, ui: &mut Ui) -> bool {
        let mut go = false;
        egui::Grid::new("fetch-fields").num_columns(2).show(ui, |ui| {
            ui.label("Back-end");
            ui.horizontal(|ui| {
                for backend in Backend::ALL {
                    ui.radio_value(&mut self.backend, backend, backend.name());
                }
            });
            ui.end_row();
            let base = ui.label("Base URL");
            let hint = match self.backend {
                Backend::Sentry => "https://sentry.io (default) or your server",
                Backend::Jaeger => "http://localhost:16686",
                Backend::Tempo => "http://localhost:3200",
                Backend::Zipkin => "http://localhost:9411",
            };
            ui.add(egui::TextEdit::singleline(&mut self.base).hint_text(hint)).labelled_by(base.id);
            ui.end_row();
            if self.backend == Backend::Sentry {
                let org = ui.label("Organization");
                ui.add(egui::TextEdit::singleline(&mut self.org).hint_text("slug, e.g. acme")).labelled_by(org.id);
                ui.end_row();
            }
            let token = ui.label("Token");
            ui.add(egui::TextEdit::singleline(&mut self.token).password(true).hint_text("kept in memory only"))
                .labelled_by(token.id);
            ui.end_row();
            let trace = ui.label("Trace id or URL");
            ui.add(
                egui::TextEdit::singleline(&mut self.trace)
                    .hint_text("hex id, or a pasted trace page URL")
                    .desired_width(360.0),
            )
            .labelled_by(trace.id);
            ui.end_row();
        });
        ui.horizontal(|ui| match &self.running {
            Some(running) => {
                ui.spinner();
                ui.label(&running.progress);
                if ui.button("Cancel").clicked() {
                    running.cancel.cancel();
                }
            }
            None => {
                if ui.button("Fetch").clicked() {
                    go = true;
                }
            }
        });
        if let Some(error) = &self.error {
            ui.label(RichText::new(error).color(theme::MISS));
        }
        go
    }
}
