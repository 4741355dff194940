//! A back-end search in flight, feeding a traces view: traces are added as they arrive, a
//! status line shows progress with a Cancel button, then what was found (or why it stopped).
//! A cancelled or failed search keeps the traces that came.
//!
//! When the back-end counts (Tempo), the search then asks it for the miss rate over all its
//! traffic in the range, per bucket ([`Trend`], drawn above the view's scatter); a click on a
//! bucket replaces the view's traces with that bucket's slowest ([`fetch::slowest`]).

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use egui::{RichText, Ui};
use tokio_util::sync::CancellationToken;

use super::theme;
use super::traces_view::TracesView;
use super::trend::{Trend, step_for};
use crate::fetch::{
    self, Config, ErrorKind, FetchError, Fetched, Search, Searched, ServerStats, StatsQuery, Token, spawn_with_token,
};

enum Message {
    Progress(String),
    Found(Box<Fetched>),
    Done(Result<Searched, FetchError>),
    /// The trend: the query counted and the server's answer.
    Counted(Box<(StatsQuery, Result<ServerStats, FetchError>)>),
}

/// What a worker is asked to do.
enum Job {
    /// The search.
    Search(Search),
    /// The trend over the search's range.
    Count(StatsQuery),
    /// A bucket's slowest traces.
    Slowest(StatsQuery),
}

/// What starting another job on the same back-end needs.
struct Again {
    search: Search,
    runtime: tokio::runtime::Handle,
    typed: Option<Token>,
    name: Result<Option<String>, String>,
    repaint: Arc<dyn Fn() + Send + Sync>,
}

/// The search and what it said last.
pub struct SearchRun {
    rx: Receiver<Message>,
    tx: Sender<Message>,
    cancel: CancellationToken,
    progress: String,
    /// What the search found, or why it stopped; `None` while it runs.
    outcome: Option<Result<String, String>>,
    /// Why the search went without a saved token, added to the outcome.
    token_note: Option<String>,
    again: Again,
    /// The trend asked for, once the search is done.
    counting: Option<StatsQuery>,
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
        let again = Again { search: search.clone(), runtime: runtime.clone(), typed, name, repaint: Arc::new(repaint) };
        let mut run = SearchRun {
            rx,
            tx,
            cancel: CancellationToken::new(),
            progress: "starting the search".into(),
            outcome: None,
            token_note,
            again,
            counting: None,
        };
        run.spawn(Job::Search(search));
        run
    }

    /// Runs `job` on a worker that reports on this run's channel.
    fn spawn(&mut self, job: Job) {
        let tx = self.tx.clone();
        let cancel = self.cancel.clone();
        let repaint = Arc::clone(&self.again.repaint);
        let again = &self.again;
        let (typed, name) = (again.typed.clone(), again.name.clone());
        spawn_with_token(&again.runtime, typed, again.search.backend, name, move |token| async move {
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
            let token = token.as_ref();
            let config = Config::default();
            match job {
                Job::Search(search) => {
                    let result = fetch::search_cancellable(&search, token, &config, &progress, found, &cancel).await;
                    send(Message::Done(result));
                }
                Job::Slowest(query) => {
                    let result = tokio::select! {
                        biased;
                        () = cancel.cancelled() => Err(FetchError::new(ErrorKind::Cancelled, "the search was cancelled")),
                        result = fetch::slowest(&query, token, &config, &progress, found) => result,
                    };
                    send(Message::Done(result));
                }
                Job::Count(query) => {
                    let result = fetch::stats(&query, token, &config, &|_| {}).await;
                    send(Message::Counted(Box::new((query, result))));
                }
            }
        });
    }

    /// After the search: asks a back-end that counts for the trend over the search's range.
    fn count(&mut self, view: &mut TracesView) {
        let search = &self.again.search;
        if self.counting.is_some() || !fetch::has_aggregates(search.backend) {
            return;
        }
        let seconds = search.end.as_second() - search.start.as_second();
        let query = StatsQuery {
            search: Search { min_duration: None, ..search.clone() },
            org: None,
            deadline: view.deadline(),
            step: Some(step_for(seconds)),
            by_endpoint: false,
        };
        self.counting = Some(query.clone());
        view.trend = Some(Trend::Counting);
        self.spawn(Job::Count(query));
    }

    /// Replaces the view's traces with the slowest of the bucket from `start` to `end`.
    fn open_bucket(&mut self, view: &mut TracesView, (start, end): (jiff::Timestamp, jiff::Timestamp)) {
        let Some(counted) = &self.counting else { return };
        let query =
            StatsQuery { search: Search { start, end, ..counted.search.clone() }, step: None, ..counted.clone() };
        view.clear();
        self.cancel = CancellationToken::new();
        self.outcome = None;
        self.progress = format!("asking for the slowest traces from {start} to {end}");
        self.spawn(Job::Slowest(query));
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
                    let searched = result.is_ok();
                    self.outcome = Some(match result {
                        Ok(searched) => Ok(searched.message + note),
                        Err(e) => Err(e.message + note),
                    });
                    if searched {
                        self.count(view);
                    }
                }
                Message::Counted(counted) => {
                    let (query, result) = *counted;
                    view.trend = Some(match result {
                        Ok(stats) => Trend::Counted(Box::new((query, stats))),
                        Err(e) => Trend::Failed(e.message),
                    });
                }
            }
        }
        if !traces.is_empty() {
            view.extend(traces, sources);
        }
        if let Some(bucket) = view.take_bucket()
            && !self.is_running()
        {
            self.open_bucket(view, bucket);
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
