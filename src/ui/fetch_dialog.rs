//! The Fetch dialog: back-end, base URL, organization, token and trace id (or a pasted trace
//! URL); fetches on the app's tokio runtime, shows progress, can be cancelled, and hands the
//! traces back. A typed token lives in memory only and is never shown or logged.
//!
//! Saved connections (the file `tracedeck connections` also edits) fill in back-end, base URL
//! and organization; their tokens come from the environment or the OS keychain, looked up off
//! the UI thread. Saving a connection writes the file without the token; the token goes to the
//! keychain only when the user ticks the box.

use std::path::PathBuf;

use egui::{RichText, Ui};

use super::job::Job;
use super::search_run::SearchRun;
use super::theme;
use crate::fetch::{
    self, Backend, Config, Connection, Connections, FetchError, Fetched, Request, Search, Target, Token,
    delete_token_in_keychain, save_token_in_keychain, spawn_with_token, token_name_for,
};
use crate::model::parse_duration;

/// The fetch in flight and what it said last.
struct Running {
    job: Job<Box<Result<Fetched, FetchError>>, String>,
    progress: String,
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
    saved_note: Option<Job<Result<String, String>>>,
    note: Option<Result<String, String>>,
    /// Why the last fetch went without a saved token.
    token_note: Option<String>,
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
            token_note: None,
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
    fn save_connection(&mut self, ctx: &egui::Context) {
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
        if self.connections_path.is_none() {
            return;
        }
        let token = Token::new(&self.token).filter(|_| self.remember_token);
        let stale = self.connections.upsert(connection.clone(), token.is_some());
        self.chosen = Some(connection.name.clone());
        self.write_connections(ctx, move |text| {
            // A token saved for the connection's old host must not follow it to the new one.
            if let Some(stale) = stale {
                delete_token_in_keychain(&stale)
                    .map_err(|e| format!("saved {} in {text}, but {e}", connection.name))?;
            }
            match token {
                Some(token) => match save_token_in_keychain(&connection.name, &token) {
                    Ok(()) => Ok(format!("saved {} in {text}; its token is in the OS keychain", connection.name)),
                    Err(e) => {
                        Err(format!("saved {} in {text}, but {e}; it is kept for this session only", connection.name))
                    }
                },
                None => Ok(format!("saved {} in {text}", connection.name)),
            }
        });
    }

    /// Forgets the chosen connection and its token in the keychain, and saves the file.
    fn forget_connection(&mut self, ctx: &egui::Context) {
        let Some(removed) = self.chosen.take().and_then(|name| self.connections.remove(&name)) else { return };
        self.write_connections(ctx, move |text| match delete_token_in_keychain(&removed.name) {
            Ok(_) => Ok(format!("forgot {} (removed from {text})", removed.name)),
            Err(e) => Err(format!("forgot {} (removed from {text}), but {e}", removed.name)),
        });
    }

    /// Writes the connections file off the UI thread (the disk and the keychain may take a
    /// moment), then runs `then` with the file's name, for the note saying what was done.
    fn write_connections(
        &mut self,
        ctx: &egui::Context,
        then: impl FnOnce(&str) -> Result<String, String> + Send + 'static,
    ) {
        let Some(path) = self.connections_path.clone() else { return };
        let connections = self.connections.clone();
        let ctx = ctx.clone();
        self.saved_note = Some(Job::thread(
            "save-connections",
            move || ctx.request_repaint(),
            move |_| connections.save(&path).and_then(|()| then(&path.display().to_string())),
        ));
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
        let typed = Token::new(&self.token);
        // Fields that name no URL get no saved token; the fetch says what is wrong with them.
        let name = target.origin().map(|origin| self.token_name(&origin));
        self.token_note = match (&typed, &name) {
            (None, Ok(Err(why))) => Some(format!("fetching without a token: {why}")),
            _ => None,
        };
        let name = name.unwrap_or_else(|e| Err(e.message));
        let (job, worker) = Job::new(repaint);
        spawn_with_token(runtime, typed, self.backend, name, move |token| async move {
            let request = Request { target, token };
            let progress = |p: fetch::Progress| worker.progress(p.to_string());
            let cancel = worker.cancel_token();
            let result = fetch::fetch_cancellable(&request, &Config::default(), &progress, cancel).await;
            worker.finish(Box::new(result));
        });
        self.error = None;
        self.running = Some(Running { job, progress: "starting".into() });
    }

    /// Whose saved token may go to `destination` (see [`token_name_for`]): the chosen
    /// connection's when it is for this back-end and that is its host, else the back-end's.
    fn token_name(&self, destination: &str) -> Result<Option<String>, String> {
        let connection =
            self.chosen.as_deref().and_then(|n| self.connections.get(n)).filter(|c| c.backend == self.backend);
        token_name_for(self.backend, connection, Some(&self.base), destination)
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
                let name = self.token_name(&query.base);
                Some(SearchRun::start(query, Token::new(&self.token), name, runtime, repaint))
            }
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }

    /// Stops the fetch. The dialog is free at once, even while the token is still being looked
    /// up (a slow keychain): the fetch then never starts.
    fn cancel(&mut self) {
        if let Some(running) = self.running.take() {
            running.job.cancel();
            self.error = Some("the fetch was cancelled".to_owned());
        }
    }

    /// Takes the fetch's news; returns what it fetched once it is done.
    pub fn poll(&mut self) -> Option<Fetched> {
        if let Some(note) = self.saved_note.as_mut().and_then(|job| job.poll(|()| {})) {
            self.note = Some(note.and_then(|n| n));
            self.saved_note = None;
        }
        let running = self.running.as_mut()?;
        let result = running.job.poll(|text| running.progress = text)?;
        self.running = None;
        match result.map(|r| *r) {
            Ok(Ok(fetched)) => {
                self.open = false;
                Some(fetched)
            }
            Ok(Err(e)) => {
                self.error = Some(e.to_string());
                None
            }
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
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
        let mut cancel = false;
        ui.horizontal(|ui| match &self.running {
            Some(running) => {
                ui.spinner();
                ui.label(&running.progress);
                cancel = ui.button("Cancel").clicked();
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
        if cancel {
            self.cancel();
        }
        if let Some(note) = &self.token_note {
            ui.label(RichText::new(note).weak());
        }
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
                self.save_connection(ui.ctx());
            }
            if self.chosen.is_some() && ui.button("Forget connection").clicked() {
                self.forget_connection(ui.ctx());
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::net::TcpListener;
    use std::time::{Duration, Instant};

    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    use super::*;
    use crate::fetch::test_keychain;

    /// A dialog whose connections file holds `connection`, whose token is in the test keychain;
    /// the connection is chosen.
    fn dialog_with(test: &str, connection: &Connection) -> (FetchDialog, PathBuf) {
        test_keychain::install();
        let dir = std::env::temp_dir().join(format!("tracedeck-fetch-dialog-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("connections.json");
        Connections { list: vec![connection.clone()] }.save(&path).unwrap();
        save_token_in_keychain(&connection.name, &Token::new("tok-of-the-connection").unwrap()).unwrap();
        let mut dialog = FetchDialog::with_connections(Some(path.clone()));
        dialog.choose(Some(connection.name.clone()));
        dialog.trace = "5f3c9a1e7b2d4c8e".into();
        dialog.open = true;
        (dialog, path)
    }

    fn jaeger(name: &str, base: &str) -> Connection {
        Connection { name: name.into(), backend: Backend::Jaeger, base: base.into(), org: None }
    }

    /// A port on this machine that takes connections but never answers.
    fn listener() -> (TcpListener, String) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        (listener, base)
    }

    /// The head of the first request `listener` gets within `within`, if one comes.
    fn request_head(listener: &TcpListener, within: Duration) -> Option<String> {
        let start = Instant::now();
        let (mut stream, _) = loop {
            match listener.accept() {
                Ok(accepted) => break accepted,
                Err(_) if start.elapsed() < within => std::thread::sleep(Duration::from_millis(20)),
                Err(_) => return None,
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        Some(String::from_utf8_lossy(&head).to_ascii_lowercase())
    }

    /// The dialog in a window-like harness that starts a fetch when asked.
    fn harness(dialog: FetchDialog, runtime: &tokio::runtime::Runtime) -> Harness<'static, FetchDialog> {
        let handle = runtime.handle().clone();
        Harness::builder().with_size(egui::vec2(900.0, 500.0)).build_ui_state(
            move |ui, dialog: &mut FetchDialog| {
                if dialog.ui(ui) == Some(DialogRequest::Fetch) {
                    dialog.start(&handle, || {});
                }
                dialog.poll();
            },
            dialog,
        )
    }

    #[test]
    fn a_fetch_dialogs_connection_token_only_goes_to_its_own_base_url() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (home, home_base) = listener();
        let (elsewhere, elsewhere_base) = listener();
        let (mut dialog, path) = dialog_with("origin", &jaeger("home jaeger", &home_base));
        dialog.start(runtime.handle(), || {});
        let head = request_head(&home, Duration::from_secs(10)).expect("the fetch reached its connection's host");
        assert!(head.contains("authorization: bearer tok-of-the-connection"), "{head}");
        assert_eq!(dialog.token_note, None);

        dialog.cancel();
        dialog.base = elsewhere_base.clone();
        dialog.start(runtime.handle(), || {});
        let head = request_head(&elsewhere, Duration::from_secs(10)).expect("the fetch reached the edited host");
        assert!(!head.contains("authorization"), "the token stayed home: {head}");
        let note = dialog.token_note.clone().unwrap_or_default();
        let said = format!("only sent to its base URL {home_base}, not to {elsewhere_base}");
        assert!(
            note.starts_with("fetching without a token: the token of connection") && note.contains(&said),
            "{note}"
        );
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn cancel_frees_the_fetch_dialog_while_the_keychain_is_slow_and_nothing_is_sent() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (server, base) = listener();
        let (dialog, path) = dialog_with("slow", &jaeger("slow jaeger", &base));
        let mut h = harness(dialog, &runtime);
        h.run_steps(2);
        h.get_by_label("Fetch").click();
        h.run_steps(2);
        assert!(h.state().is_running(), "looking up the token");
        h.get_by_label("Cancel").click();
        h.run_steps(2);
        assert!(!h.state().is_running(), "cancelled at once, not when the keychain answers");
        assert!(h.query_by_label("Fetch").is_some(), "the dialog can fetch again, or be closed");
        assert_eq!(request_head(&server, test_keychain::SLOW * 2), None, "the cancelled fetch never starts");
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn forgetting_a_connection_in_the_fetch_dialog_deletes_its_token_off_the_ui_thread() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (dialog, path) = dialog_with("forget", &jaeger("slow to forget", "http://127.0.0.1:9"));
        let mut h = harness(dialog, &runtime);
        h.run_steps(2);
        let clicked = Instant::now();
        h.get_by_label("Forget connection").click();
        h.run_steps(2);
        assert!(clicked.elapsed() < test_keychain::SLOW, "the window did not wait for the keychain");
        while h.state().note.is_none() {
            assert!(clicked.elapsed() < Duration::from_secs(10), "the connection was not forgotten");
            std::thread::sleep(Duration::from_millis(20));
            h.step();
        }
        assert_eq!(h.state().note, Some(Ok(format!("forgot slow to forget (removed from {})", path.display()))));
        assert_eq!(test_keychain::get("slow to forget"), None, "its token is gone too");
        assert!(Connections::load(&path).unwrap().list.is_empty());
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}
