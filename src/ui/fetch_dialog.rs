//! The Fetch dialog: back-end, base URL, organization, token and trace id (or a pasted trace
//! URL); fetches on the app's tokio runtime, shows progress, can be cancelled, and hands the
//! traces back. A typed token lives in memory only and is never shown or logged.
//!
//! Saved connections (the file `tracedeck connections` also edits) fill in back-end, base URL
//! and organization; their tokens come from the environment or the OS keychain, looked up off
//! the UI thread. Saving a connection writes the file without the token; the token goes to the
//! keychain only when the user ticks the box.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, channel};

use egui::{RichText, Ui};
use tokio_util::sync::CancellationToken;

use super::search_run::SearchRun;
use super::theme;
use crate::cli::parse_duration;
use crate::fetch::{
    self, Backend, Config, Connection, Connections, FetchError, Fetched, Request, Search, Target, Token, find_token,
    save_token_in_keychain,
};

enum Message {
    Progress(String),
    Done(Box<Result<Fetched, FetchError>>),
}

struct Running {
    rx: Receiver<Message>,
    cancel: CancellationToken,
    progress: String,
}

/// Runs `task` on `runtime` with a token: `typed`, else the one saved for the connection `name`
/// (or for the back-end) in the environment or the OS keychain. The keychain is asked on a
/// thread of its own: it may be slow, and its client may run an async runtime of its own,
/// which cannot start inside tokio's.
pub(super) fn spawn_with_token<F, Fut>(
    runtime: &tokio::runtime::Handle,
    typed: Option<Token>,
    backend: Backend,
    name: Option<String>,
    task: F,
) where
    F: FnOnce(Option<Token>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let runtime = runtime.clone();
    std::thread::spawn(move || {
        let token = typed.or_else(|| find_token(backend, name.as_deref(), |k| std::env::var(k).ok()).0);
        runtime.spawn(task(token));
    });
}

/// What the user asked the dialog for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DialogRequest {
    /// Fetch the trace by id.
    Fetch,
    /// Search the back-end.
    Search,
}

/// The search fields, as typed.
struct SearchFields {
    service: String,
    operation: String,
    /// How far back: `1h`, `30m`.
    since: String,
    /// Optional: `3s`.
    min_duration: String,
    limit: usize,
}

impl Default for SearchFields {
    fn default() -> Self {
        SearchFields {
            service: String::new(),
            operation: String::new(),
            since: "1h".into(),
            min_duration: String::new(),
            limit: 100,
        }
    }
}

impl SearchFields {
    /// The search, checked; an error says which field is wrong.
    fn query(&self, backend: Backend, base: &str) -> Result<Search, String> {
        let since = parse_duration(self.since.trim()).map_err(|e| format!("Started within: {e}"))?;
        if since <= 0 {
            return Err("Started within: give a time span such as 1h or 30m".into());
        }
        let min_duration = match self.min_duration.trim() {
            "" => None,
            text => Some(parse_duration(text).map_err(|e| format!("Min duration: {e}"))?),
        };
        let end = jiff::Timestamp::now();
        let start = end
            .checked_sub(jiff::SignedDuration::from_nanos(since))
            .map_err(|_| format!("Started within: {} reaches too far back", self.since.trim()))?;
        let search = Search {
            backend,
            base: base.trim().to_owned(),
            service: self.service.trim().to_owned(),
            operation: Some(self.operation.trim().to_owned()).filter(|o| !o.is_empty()),
            start,
            end,
            min_duration: min_duration.map(|n| std::time::Duration::from_nanos(n.unsigned_abs())),
            limit: self.limit,
        };
        search.check().map_err(|e| e.message)?;
        Ok(search)
    }
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
    /// Search the back-end instead of fetching one trace.
    searching: bool,
    search: SearchFields,
    running: Option<Running>,
    error: Option<String>,
    /// The saved connections and their file (`None`: nothing is saved).
    connections: Connections,
    connections_path: Option<PathBuf>,
    /// The saved connection in use, by name.
    chosen: Option<String>,
    /// The name to save the fields under.
    save_name: String,
    /// Whether saving also puts the typed token in the OS keychain.
    remember_token: bool,
    /// What the last save did, or why it failed.
    saved_note: Option<Receiver<Result<String, String>>>,
    note: Option<Result<String, String>>,
}

impl Default for FetchDialog {
    /// A dialog without saved connections.
    fn default() -> Self {
        FetchDialog {
            open: false,
            backend: Backend::Jaeger,
            base: String::new(),
            org: String::new(),
            token: String::new(),
            trace: String::new(),
            searching: false,
            search: SearchFields::default(),
            running: None,
            error: None,
            connections: Connections::default(),
            connections_path: None,
            chosen: None,
            save_name: String::new(),
            remember_token: false,
            saved_note: None,
            note: None,
        }
    }
}

impl FetchDialog {
    /// A dialog with the connections saved in `path` (see [`Connections::default_path`]); a file
    /// that cannot be read is said in the dialog and never written over.
    pub fn with_connections(path: Option<PathBuf>) -> Self {
        let mut dialog = FetchDialog::default();
        match path.as_deref().map(Connections::load) {
            Some(Ok(connections)) => {
                dialog.connections = connections;
                dialog.connections_path = path;
            }
            Some(Err(e)) => dialog.note = Some(Err(format!("{e}; saved connections are not available"))),
            None => {}
        }
        dialog
    }

    /// Fills the fields from the saved connection `name`.
    fn choose(&mut self, name: Option<String>) {
        if let Some(c) = name.as_deref().and_then(|n| self.connections.get(n)) {
            self.backend = c.backend;
            self.base = c.base.clone();
            self.org = c.org.clone().unwrap_or_default();
            self.save_name = c.name.clone();
        }
        self.token.clear();
        self.chosen = name;
    }

    /// Saves the fields as a connection, and the typed token in the keychain when asked, off
    /// the UI thread (the keychain may take a moment).
    fn save_connection(&mut self) {
        let org = Some(self.org.trim().to_owned()).filter(|o| !o.is_empty() && self.backend == Backend::Sentry);
        let connection = Connection {
            name: self.save_name.trim().to_owned(),
            backend: self.backend,
            base: self.base.trim().into(),
            org,
        };
        if let Err(e) = connection.check() {
            self.note = Some(Err(e));
            return;
        }
        let Some(path) = self.connections_path.clone() else { return };
        self.connections.upsert(connection.clone());
        self.chosen = Some(connection.name.clone());
        let connections = self.connections.clone();
        let token = Token::new(&self.token).filter(|_| self.remember_token);
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let saved = connections.save(&path).map(|()| format!("saved {} in {}", connection.name, path.display()));
            let result = match (saved, token) {
                (Ok(text), Some(token)) => match save_token_in_keychain(&connection.name, &token) {
                    Ok(()) => Ok(format!("{text}; its token is in the OS keychain")),
                    Err(e) => Err(format!("{text}, but {e}")),
                },
                (result, _) => result,
            };
            let _ = tx.send(result);
        });
        self.saved_note = Some(rx);
    }

    /// Forgets the chosen connection and saves the file.
    fn forget_connection(&mut self) {
        let (Some(name), Some(path)) = (self.chosen.take(), self.connections_path.as_ref()) else { return };
        self.connections.remove(&name);
        self.note = Some(self.connections.save(path).map(|()| format!("forgot {name}")));
    }

    /// Whether a fetch is under way.
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Starts fetching on `runtime`; `repaint` is called when there is news.
    pub fn start(&mut self, runtime: &tokio::runtime::Handle, repaint: impl Fn() + Send + Sync + 'static) {
        let target = Target {
            backend: self.backend,
            base: Some(self.base.clone()).filter(|b| !b.trim().is_empty()),
            org: Some(self.org.clone()).filter(|o| !o.trim().is_empty()),
            trace: self.trace.clone(),
        };
        let (tx, rx) = channel();
        let cancel = CancellationToken::new();
        let worker_cancel = cancel.clone();
        let repaint = std::sync::Arc::new(repaint);
        spawn_with_token(runtime, Token::new(&self.token), self.backend, self.token_name(), move |token| async move {
            let request = Request { target, token };
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

    /// The saved connection whose token to use: the chosen one, when it is for this back-end.
    fn token_name(&self) -> Option<String> {
        self.chosen.clone().filter(|n| self.connections.get(n).is_some_and(|c| c.backend == self.backend))
    }

    /// A tab title for the search the fields describe.
    pub fn search_title(&self) -> String {
        format!("{} search: {}", self.backend.name(), self.search.service.trim())
    }

    /// Starts the search the fields describe, feeding a traces view; an error in the fields is
    /// said in the dialog. The dialog closes when the search starts.
    pub fn start_search(
        &mut self,
        runtime: &tokio::runtime::Handle,
        repaint: impl Fn() + Send + Sync + 'static,
    ) -> Option<SearchRun> {
        match self.search.query(self.backend, &self.base) {
            Ok(query) => {
                self.error = None;
                self.open = false;
                Some(SearchRun::start(query, Token::new(&self.token), self.token_name(), runtime, repaint))
            }
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }

    /// Takes the fetch's news; returns what it fetched once it is done.
    pub fn poll(&mut self) -> Option<Fetched> {
        if let Some(note) = self.saved_note.as_ref().and_then(|rx| rx.try_recv().ok()) {
            self.note = Some(note);
            self.saved_note = None;
        }
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

    /// The dialog's contents; returns what the user asked for.
    pub fn ui(&mut self, ui: &mut Ui) -> Option<DialogRequest> {
        let mut go = None;
        let mut chosen = None;
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.searching, false, "Fetch one trace");
            ui.selectable_value(&mut self.searching, true, "Search traces");
        });
        egui::Grid::new("fetch-fields").num_columns(2).show(ui, |ui| {
            if !self.connections.list.is_empty() {
                let label = ui.label("Saved connection");
                let shown = self.chosen.as_deref().unwrap_or("none");
                egui::ComboBox::from_id_salt("fetch-connection")
                    .selected_text(shown)
                    .show_ui(ui, |ui| {
                        if ui.selectable_label(self.chosen.is_none(), "none").clicked() {
                            chosen = Some(None);
                        }
                        for c in &self.connections.list {
                            let text = format!("{} ({})", c.name, c.backend.name());
                            if ui.selectable_label(self.chosen.as_deref() == Some(&c.name), text).clicked() {
                                chosen = Some(Some(c.name.clone()));
                            }
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
            }
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
            let hint = match &self.chosen {
                Some(name) => format!("from TRACEDECK_TOKEN_… or the keychain entry {name:?} if empty"),
                None => "kept in memory only".to_owned(),
            };
            ui.add(egui::TextEdit::singleline(&mut self.token).password(true).hint_text(hint)).labelled_by(token.id);
            ui.end_row();
            if self.searching {
                self.search_fields(ui);
            } else {
                let trace = ui.label("Trace id or URL");
                ui.add(
                    egui::TextEdit::singleline(&mut self.trace)
                        .hint_text("hex id, or a pasted trace page URL")
                        .desired_width(360.0),
                )
                .labelled_by(trace.id);
                ui.end_row();
            }
        });
        ui.horizontal(|ui| match &self.running {
            Some(running) => {
                ui.spinner();
                ui.label(&running.progress);
                if ui.button("Cancel").clicked() {
                    running.cancel.cancel();
                }
            }
            None if self.searching => {
                let can = self.backend != Backend::Sentry;
                if ui.add_enabled(can, egui::Button::new("Search")).clicked() {
                    go = Some(DialogRequest::Search);
                }
                if !can {
                    ui.label(RichText::new("searching Sentry is not supported; fetch by trace id").weak());
                }
            }
            None => {
                if ui.button("Fetch").clicked() {
                    go = Some(DialogRequest::Fetch);
                }
            }
        });
        if let Some(error) = &self.error {
            ui.label(RichText::new(error).color(theme::MISS));
        }
        if self.connections_path.is_some() {
            self.connection_row(ui);
        }
        match &self.note {
            Some(Ok(text)) => {
                ui.label(RichText::new(text).weak());
            }
            Some(Err(text)) => {
                ui.label(RichText::new(text).color(theme::MISS));
            }
            None => {}
        }
        if let Some(name) = chosen {
            self.choose(name);
        }
        go
    }

    /// The search's own fields, in the dialog's grid.
    fn search_fields(&mut self, ui: &mut Ui) {
        let fields = &mut self.search;
        let text = |ui: &mut Ui, label: &str, value: &mut String, hint: &str| {
            let label = ui.label(label);
            ui.add(egui::TextEdit::singleline(value).hint_text(hint).desired_width(360.0)).labelled_by(label.id);
            ui.end_row();
        };
        text(ui, "Service", &mut fields.service, "the service whose traces to find, e.g. slack-app");
        text(ui, "Operation", &mut fields.operation, "optional: a span name, e.g. POST /slack/interactions");
        text(ui, "Started within", &mut fields.since, "how far back: 15m, 1h, 24h");
        text(ui, "Min duration", &mut fields.min_duration, "optional: only traces with a span this long, e.g. 3s");
        let label = ui.label("Limit");
        ui.add(egui::DragValue::new(&mut fields.limit).range(1..=10_000)).labelled_by(label.id);
        ui.end_row();
    }

    /// Save the fields as a connection, or forget the chosen one.
    fn connection_row(&mut self, ui: &mut Ui) {
        ui.separator();
        ui.horizontal(|ui| {
            let label = ui.label("Save as");
            ui.add(egui::TextEdit::singleline(&mut self.save_name).hint_text("connection name").desired_width(160.0))
                .labelled_by(label.id);
            let has_token = !self.token.trim().is_empty();
            ui.add_enabled(
                has_token,
                egui::Checkbox::new(&mut self.remember_token, "and the token in the OS keychain"),
            );
            if ui.button("Save connection").clicked() {
                self.save_connection();
            }
            if self.chosen.is_some() && ui.button("Forget connection").clicked() {
                self.forget_connection();
            }
        });
    }
}
