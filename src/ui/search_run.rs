//! A back-end search in flight, feeding a traces view: traces are added as they arrive, a
//! status line shows progress with a Cancel button, then what was found (or why it stopped).
//! A cancelled or failed search keeps the traces that came.
//!
//! When the back-end counts (Tempo), the search then asks it for the miss rate over all its
//! traffic in the range, per bucket ([`Trend`], drawn above the view's scatter); a click on a
//! bucket replaces the view's traces with that bucket's slowest ([`fetch::slowest`]).

use std::sync::Arc;

use egui::{RichText, Ui};

use super::job::{Job, Worker};
use super::theme;
use super::traces_view::TracesView;
use super::trend::{Trend, step_for};
use crate::fetch::{
    self, Config, ErrorKind, FetchError, Fetched, Search, Searched, ServerStats, StatsQuery, Token, spawn_with_token,
};

/// What a search reports while it runs.
enum News {
    Progress(String),
    Found(Box<Fetched>),
}

/// What finding traces means.
enum Find {
    /// The search.
    Search(Search),
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
    /// The search, or a bucket's slowest traces, while it runs.
    finding: Option<Job<Result<Searched, FetchError>, News>>,
    /// The trend, while the back-end counts.
    counting_job: Option<Job<Result<ServerStats, FetchError>>>,
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
        let again = Again { search: search.clone(), runtime: runtime.clone(), typed, name, repaint: Arc::new(repaint) };
        let mut run = SearchRun {
            finding: None,
            counting_job: None,
            progress: "starting the search".into(),
            outcome: None,
            token_note,
            again,
            counting: None,
        };
        run.find(Find::Search(search));
        run
    }

    /// Runs `work` with the back-end's token on a job of the runtime.
    fn spawn<T, P, Fut>(&self, work: impl FnOnce(Option<Token>, Worker<T, P>) -> Fut + Send + 'static) -> Job<T, P>
    where
        T: Send + 'static,
        P: Send + 'static,
        Fut: Future<Output = T> + Send,
    {
        let again = &self.again;
        let repaint = Arc::clone(&again.repaint);
        let (job, worker) = Job::new(move || repaint());
        let (typed, name) = (again.typed.clone(), again.name.clone());
        spawn_with_token(&again.runtime, typed, again.search.backend, name, move |token| async move {
            let result = work(token, worker.clone()).await;
            worker.finish(result);
        });
        job
    }

    /// Starts finding traces, which arrive in the view as they are read.
    fn find(&mut self, find: Find) {
        self.finding = Some(self.spawn(|token, worker: Worker<_, News>| async move {
            let progress = |p: fetch::Progress| worker.progress(News::Progress(p.to_string()));
            let found = |fetched: Fetched| worker.progress(News::Found(Box::new(fetched)));
            let (token, config, cancel) = (token.as_ref(), Config::default(), worker.cancel_token());
            match find {
                Find::Search(search) => {
                    fetch::search_cancellable(&search, token, &config, &progress, found, cancel).await
                }
                Find::Slowest(query) => tokio::select! {
                    biased;
                    () = cancel.cancelled() => Err(FetchError::new(ErrorKind::Cancelled, "the search was cancelled")),
                    result = fetch::slowest(&query, token, &config, &progress, found) => result,
                },
            }
        }));
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
        self.counting_job =
            Some(self.spawn(|token, _| async move {
                fetch::stats(&query, token.as_ref(), &Config::default(), &|_| {}).await
            }));
    }

    /// Replaces the view's traces with the slowest of the bucket from `start` to `end`.
    fn open_bucket(&mut self, view: &mut TracesView, (start, end): (jiff::Timestamp, jiff::Timestamp)) {
        let Some(counted) = &self.counting else { return };
        let query =
            StatsQuery { search: Search { start, end, ..counted.search.clone() }, step: None, ..counted.clone() };
        view.clear();
        self.outcome = None;
        self.progress = format!("asking for the slowest traces from {start} to {end}");
        self.find(Find::Slowest(query));
    }

    /// Whether the search is still running.
    pub fn is_running(&self) -> bool {
        self.outcome.is_none()
    }

    /// Stops the search; what came stays.
    pub fn cancel(&self) {
        if let Some(job) = &self.finding {
            job.cancel();
        }
        if let Some(job) = &self.counting_job {
            job.cancel();
        }
    }

    /// Adds the traces that arrived to `view` (the window does it every frame, whether the view
    /// is shown or not).
    pub fn poll(&mut self, view: &mut TracesView) {
        let mut traces = Vec::new();
        let mut sources = Vec::new();
        let done = self.finding.as_mut().and_then(|job| {
            job.poll(|news| match news {
                News::Progress(text) => self.progress = text,
                News::Found(fetched) => {
                    sources.extend(std::iter::repeat_n(fetched.source.clone(), fetched.traces.len()));
                    traces.extend(fetched.traces.into_iter().map(Arc::new));
                }
            })
        });
        if !traces.is_empty() {
            view.extend(traces, sources);
        }
        if let Some(result) = done {
            self.finding = None;
            let note = self.token_note.as_deref().unwrap_or_default();
            let outcome = match result {
                Ok(Ok(searched)) => Ok(searched.message + note),
                Ok(Err(e)) => Err(e.message + note),
                Err(failed) => Err(failed),
            };
            let searched = outcome.is_ok();
            self.outcome = Some(outcome);
            if searched {
                self.count(view);
            }
        }
        if let Some(counted) = self.counting_job.as_mut().and_then(|job| job.poll(|()| {})) {
            self.counting_job = None;
            let query = self.counting.clone().expect("a count is asked for with its query");
            view.trend = Some(match counted.and_then(|r| r.map_err(|e| e.message)) {
                Ok(stats) => Trend::Counted(Box::new((query, stats))),
                Err(e) => Trend::Failed(e),
            });
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
