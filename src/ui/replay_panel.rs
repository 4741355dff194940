//! The Replay panel: pick a capture and the app's endpoint, give the signing secret and the
//! bot token (kept in memory only), and replay; the mock Slack Web API and the driver run on
//! the app's tokio runtime, the run's trace grows live in a waterfall with the deadline line,
//! and a table lists every run's verdict. When a receiver runs (OTLP or Sentry) and the app
//! sends its spans there, the app's spans of the run (same trace id, via the replay's
//! `traceparent` or `sentry-trace`) are merged into that waterfall as they arrive. The mock is up
//! from when the tab opens ([`ReplayPanel::open`]) until it closes ([`ReplayPanel::close`]), so
//! the app is started once against it; each Start is a round of its session, and the rounds are
//! listed side by side.
//!
//! "Socket Mode" instead of "HTTP endpoint" replays to an app with no endpoint: the mock takes
//! the app-level token, waits for the app to connect through `apps.connections.open`, and sends
//! each interaction as an envelope; the waterfall shows the envelope, its ack and the calls.
//!
//! "Delivery latency" and "Web API latency" inject delays (the waterfall draws them as their own
//! spans); "Find margin" runs the margin search on the runtime ([`super::margin_run`]) and plots
//! the failure rate against the latency.

use std::path::PathBuf;
use std::sync::Arc;

use egui::{RichText, Ui};

use super::job::{Job, Worker};
use super::margin_run::MarginRun;
use super::replay_demo::DemoApp;
use super::replay_mock::LiveMock;
use super::theme;
use super::trace_tab::TraceView;
use super::waterfall::TimeWindow;
use crate::analysis::Profile;
use crate::model::{self, Trace};
use crate::receiver::Receiver as SpanReceiver;
use crate::replay::capture::{Capture, CaptureError};
use crate::replay::demo_app::Mode;
use crate::replay::demo_app::local::{self as demo, BUILT_IN_CAPTURE};
use crate::replay::driver::{self, Progress, ReplayConfig};
use crate::replay::latency::{ApiLatency, DEFAULT_SEED};
use crate::replay::mock::MockSlack;
use crate::replay::session::Round;
use crate::replay::signing::Secret;
use crate::replay::verdict::{RunResult, Summary};

enum Message {
    Round(Box<Round>),
    /// Socket Mode: waiting for the app to connect (true) or done waiting (false).
    Waiting(bool),
    Update(Box<Trace>),
    Finished(Box<RunResult>),
}

/// What the user asked the panel for.
pub enum ReplayRequest {
    /// Start replaying.
    Start,
    /// Open this run's trace in its own tab.
    OpenTrace(Arc<Trace>),
}

/// The panel's fields, the run in flight and what came back.
pub struct ReplayPanel {
    /// The capture file.
    pub capture: String,
    /// The app's endpoint.
    pub target: String,
    /// Deliver over Socket Mode rather than to `target`.
    pub socket_mode: bool,
    /// The app-level token the app sends to `apps.connections.open` (Socket Mode).
    app_token: String,
    /// Socket Mode: the app has not connected yet.
    waiting: bool,
    /// Where the mock Web API listens.
    pub mock_addr: String,
    secret: String,
    token: String,
    /// Replays of each interaction.
    pub runs: u32,
    /// Replays in flight at once.
    pub concurrency: u32,
    /// How long after the click each interaction is delivered (a duration; empty: at once).
    pub delivery_latency: String,
    /// How much later the mock answers Web API calls (`--api-latency`'s forms; empty: at once).
    pub api_latency: String,
    /// The margin search.
    pub margin: MarginRun,
    /// The replay in flight.
    job: Option<Job<Result<(), String>, Message>>,
    mock: Option<LiveMock>,
    /// The bot token the mock was last given.
    mock_token: String,
    rounds: Vec<Round>,
    results: Vec<RunResult>,
    /// The latest run as the driver and the mock saw it.
    replayed: Option<Arc<Trace>>,
    /// The app's own spans of that run, from the receiver, as last merged.
    received: Option<Arc<Trace>>,
    /// Whether `live` must be rebuilt from `replayed` and `received`.
    stale: bool,
    live: Option<TraceView>,
    error: Option<String>,
    /// The demo app this tab runs, when it was opened to try the replay on it.
    demo: Option<DemoApp>,
    /// The runtime the tab's mock (and demo app) run on, from [`ReplayPanel::open`].
    runtime: Option<tokio::runtime::Handle>,
}

impl ReplayPanel {
    /// A panel for `capture` against `target`, the mock on `mock_addr`.
    pub fn new(capture: impl Into<String>, target: impl Into<String>, mock_addr: impl Into<String>) -> Self {
        ReplayPanel {
            capture: capture.into(),
            target: target.into(),
            socket_mode: false,
            app_token: String::new(),
            waiting: false,
            mock_addr: mock_addr.into(),
            secret: String::new(),
            token: String::new(),
            runs: 1,
            concurrency: 1,
            delivery_latency: String::new(),
            api_latency: String::new(),
            margin: MarginRun::default(),
            job: None,
            mock: None,
            mock_token: String::new(),
            rounds: Vec::new(),
            results: Vec::new(),
            replayed: None,
            received: None,
            stale: false,
            live: None,
            error: None,
            demo: None,
            runtime: None,
        }
    }

    /// Fills the panel to replay the built-in capture against the demo app, started in this
    /// process in `mode` on a free port (the tab's mock as its Web API), ten runs at once; then
    /// [`ReplayPanel::start`] replays.
    pub fn use_demo(&mut self, mode: Mode) {
        let Some(runtime) = self.runtime.clone() else {
            self.error = Some("the tab's mock is not started".into());
            return;
        };
        let started = self.live_mock(&runtime, || {}).and_then(|live| DemoApp::start(&runtime, mode, live));
        match started {
            Ok(demo) => {
                self.capture = BUILT_IN_CAPTURE.into();
                self.target = demo.url.clone();
                self.socket_mode = false;
                self.secret = demo::SECRET.into();
                self.token = demo::TOKEN.into();
                (self.runs, self.concurrency) = (10, 10);
                self.demo = Some(demo);
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// The capture to replay: the built-in one, or the file the field names.
    fn load_capture(&self) -> Result<Capture, String> {
        match self.capture.trim() {
            BUILT_IN_CAPTURE => Capture::parse(demo::CAPTURE_JSON.as_bytes())
                .map_err(|error| CaptureError { file: BUILT_IN_CAPTURE.into(), error }.to_string()),
            path => Capture::load(&PathBuf::from(path)).map_err(|e| e.to_string()),
        }
    }

    /// Whether a replay is under way.
    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// Starts the mock Web API at the address field's address on `runtime` (a tab does it when it
    /// opens); `repaint` is called when it is up. A mock already up there is kept.
    pub fn open(&mut self, runtime: &tokio::runtime::Handle, repaint: impl Fn() + Send + Sync + 'static) {
        self.runtime = Some(runtime.clone());
        if let Err(e) = self.live_mock(runtime, repaint) {
            self.error = Some(e);
        }
    }

    /// The mock at the address field's address: the one up, else a new one (the old one stopped).
    fn live_mock(
        &mut self,
        runtime: &tokio::runtime::Handle,
        repaint: impl Fn() + Send + Sync + 'static,
    ) -> Result<LiveMock, String> {
        let addr: std::net::SocketAddr = self
            .mock_addr
            .trim()
            .parse()
            .map_err(|_| format!("{:?} is not an address like 127.0.0.1:8990", self.mock_addr))?;
        if !addr.ip().is_loopback() {
            return Err(format!("the mock address {addr} is not on this machine"));
        }
        if let Some(live) = &self.mock
            && live.requested == addr
            && !matches!(live.state(), Some(Err(_)))
        {
            return Ok(live.clone());
        }
        if let Some(old) = self.mock.take() {
            old.close();
        }
        self.mock_token.clear();
        let live = LiveMock::open(runtime, addr, repaint);
        self.mock = Some(live.clone());
        Ok(live)
    }

    /// Stops the replay and the margin search in flight, the demo app and the mock: the tab is
    /// closing.
    pub fn close(&mut self) {
        self.stop();
        self.margin.stop();
        self.demo = None;
        if let Some(live) = self.mock.take() {
            live.close();
        }
    }

    /// Starts replaying on `runtime` (a round of the mock's session), judging each run by
    /// `profile`; `repaint` is called when there is news.
    pub fn start(
        &mut self,
        runtime: &tokio::runtime::Handle,
        profile: &Profile,
        repaint: impl Fn() + Send + Sync + 'static,
    ) {
        self.error = None;
        self.results.clear();
        self.replayed = None;
        self.received = None;
        self.live = None;
        let prepared = self.prepare();
        let repaint: Arc<dyn Fn() + Send + Sync> = Arc::new(repaint);
        let wake = repaint.clone();
        let prepared =
            prepared.and_then(|(capture, delivery)| Ok((capture, delivery, self.live_mock(runtime, move || wake())?)));
        let (capture, delivery, live) = match prepared {
            Ok(p) => p,
            Err(e) => {
                self.error = Some(e);
                return;
            }
        };
        let token = Secret::new(self.token.trim());
        let profile = Arc::new(profile.clone());
        let wake = move || repaint();
        self.job = Some(Job::spawn(runtime, wake, |worker| run(capture, delivery, profile, live, token, worker)));
    }

    /// The capture and how to reach the app, from the fields; the error says what is missing.
    fn prepare(&self) -> Result<(Capture, Delivery), String> {
        let capture = self.load_capture()?;
        let runs = (self.runs.max(1) as usize, self.concurrency.max(1) as usize);
        let delivery_latency = match self.delivery_latency.trim() {
            "" => std::time::Duration::ZERO,
            text => {
                model::parse_duration(text).map(model::std_duration).map_err(|e| format!("Delivery latency: {e}"))?
            }
        };
        self.api()?;
        let delivery = if self.socket_mode {
            if self.app_token.trim().is_empty() || self.token.trim().is_empty() {
                return Err("give the app-level token and the bot token the app sends".to_owned());
            }
            Delivery::SocketMode { app_token: Secret::new(self.app_token.trim()), runs, delivery_latency }
        } else {
            let target = driver::resolve_target(self.target.trim(), false)?;
            if self.secret.trim().is_empty() || self.token.trim().is_empty() {
                return Err("give the app's signing secret and the bot token it sends".to_owned());
            }
            let mut config = ReplayConfig::new(target, Secret::new(self.secret.trim()));
            (config.runs, config.concurrency) = runs;
            config.delivery_latency = delivery_latency;
            Delivery::Http(Box::new(config))
        };
        Ok((capture, delivery))
    }

    /// The Web API latency field as the mock takes it.
    fn api(&self) -> Result<ApiLatency, String> {
        match self.api_latency.trim() {
            "" => Ok(ApiLatency::none()),
            text => ApiLatency::parse(text).map_err(|e| format!("Web API latency: {e}")),
        }
    }

    /// Starts the margin search on the tab's runtime, with the fields as for Start, judging each
    /// run by `profile`; `repaint` is called when there is news.
    pub fn find_margin(&mut self, profile: &Profile, repaint: impl Fn() + Send + Sync + 'static) {
        let up = match self.mock.as_ref().map(LiveMock::state) {
            Some(Some(Ok(up))) => up,
            Some(Some(Err(e))) => return self.margin.refuse(e),
            _ => return self.margin.refuse("the mock Slack Web API is not up yet".into()),
        };
        let (Some(runtime), Ok(api)) = (self.runtime.clone(), self.api()) else {
            return self.margin.refuse("the tab's mock is not started".into());
        };
        match self.prepare() {
            Ok((capture, delivery)) => {
                up.mock.set_token(Secret::new(self.token.trim()));
                let config = ReplayConfig { profile: Arc::new(profile.clone()), ..delivery.config(&up.mock) };
                self.margin.start(&runtime, up, capture, config, api, repaint);
            }
            Err(e) => self.margin.refuse(e),
        }
    }

    /// Stops the replay in flight.
    pub fn stop(&self) {
        if let Some(job) = &self.job {
            job.cancel();
        }
    }

    /// Takes the replay's news (the window does it every frame, whether the tab is shown or not).
    pub fn poll(&mut self) {
        self.margin.poll();
        let Some(job) = &mut self.job else { return };
        let done = job.poll(|message| match message {
            Message::Round(round) => self.rounds.push(*round),
            Message::Waiting(waiting) => self.waiting = waiting,
            Message::Update(trace) => {
                self.replayed = Some(Arc::new(*trace));
                self.stale = true;
            }
            Message::Finished(result) => self.results.push(*result),
        });
        if let Some(result) = done {
            if let Err(e) = result.and_then(|r| r) {
                self.error = Some(e);
            }
            self.job = None;
            self.waiting = false;
        }
    }

    /// Gives the running mock the Web API latency typed in the field, when it changed (not while
    /// the margin search sets its own).
    fn apply_latency(&mut self) {
        let Some(Some(Ok(up))) = self.mock.as_ref().map(LiveMock::state) else { return };
        if let Ok(api) = self.api()
            && !self.margin.is_running()
            && up.mock.latency() != api
        {
            up.mock.set_latency(api, DEFAULT_SEED);
        }
    }

    /// Gives the running mock the bot token typed in the field, when it changed.
    fn apply_token(&mut self) {
        let Some(Some(Ok(up))) = self.mock.as_ref().map(LiveMock::state) else { return };
        if self.mock_token != self.token.trim() {
            self.mock_token = self.token.trim().to_owned();
            up.mock.set_token(Secret::new(self.mock_token.as_str()));
        }
    }

    /// Takes the receiver's spans of the latest run, if new ones arrived.
    fn poll_received(&mut self, receiver: Option<&SpanReceiver>) {
        let Some(replayed) = &self.replayed else { return };
        let received = receiver.and_then(|r| r.trace(replayed.trace_id()).ok().flatten());
        let same = match (&received, &self.received) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if !same {
            self.received = received;
            self.stale = true;
        }
    }

    /// Rebuilds the live waterfall from the run and the app's spans, keeping the user's zoom
    /// while the same run grows (an unzoomed view keeps showing the whole run).
    fn refresh_live(&mut self, profile: &Profile) {
        let Some(replayed) = self.replayed.as_ref().filter(|_| self.stale) else { return };
        self.stale = false;
        let trace = match &self.received {
            Some(received) => match model::merge(&[replayed, received]) {
                Ok(mut merged) if merged.len() == 1 => Arc::new(merged.remove(0)),
                Ok(_) => Arc::clone(replayed),
                Err(e) => {
                    self.error = Some(format!("the app's spans could not be joined to the run: {e}"));
                    Arc::clone(replayed)
                }
            },
            None => Arc::clone(replayed),
        };
        let overlay = super::overlay::for_trace(&trace, profile);
        let zoomed = |v: &&TraceView| v.waterfall.window != TimeWindow::whole(v.trace.duration(), v.overlay.deadline);
        let window = self
            .live
            .as_ref()
            .filter(|v| v.trace.trace_id() == trace.trace_id())
            .filter(zoomed)
            .map(|v| v.waterfall.window);
        let mut view = TraceView::new(trace, overlay);
        if let Some(window) = window {
            view.waterfall.window = window;
        }
        self.live = Some(view);
    }

    /// Draws the panel; `profile` names the deadline profile the live trace is judged under;
    /// `receiver` is tracedeck's receiver, when it runs, whose spans of the run join its waterfall.
    pub fn ui(&mut self, ui: &mut Ui, profile: &Profile, receiver: Option<&SpanReceiver>) -> Option<ReplayRequest> {
        // The window polls every tab's panel each frame; this is for a panel shown on its own.
        self.poll();
        self.apply_token();
        self.apply_latency();
        self.poll_received(receiver);
        self.refresh_live(profile);
        let mut request = None;
        if let Some(demo) = &self.demo {
            let mut fixed = demo.mode == Mode::Fixed;
            ui.label(RichText::new("Replaying the incident's click against tracedeck's demo Slack app.").strong());
            let toggle = ui.checkbox(&mut fixed, "Fix the app").on_hover_text(
                "the fix: open a small loading modal at once, then update it from the queued task; \
                 the app restarts, and the next Start replays against it",
            );
            if toggle.changed() && !self.is_running() {
                self.use_demo(if fixed { Mode::Fixed } else { Mode::Buggy });
            }
        }
        ui.horizontal(|ui| {
            ui.radio_value(&mut self.socket_mode, false, "HTTP endpoint")
                .on_hover_text("POST each interaction, signed, to the app's endpoint");
            ui.radio_value(&mut self.socket_mode, true, "Socket Mode")
                .on_hover_text("the app connects to the mock with its app-level token; interactions go as envelopes");
        });
        egui::Grid::new("replay-fields").num_columns(2).show(ui, |ui| {
            let field = |ui: &mut Ui, label: &str, value: &mut String, password: bool| {
                let l = ui.label(label);
                ui.add(egui::TextEdit::singleline(value).password(password).desired_width(380.0)).labelled_by(l.id);
                ui.end_row();
            };
            field(ui, "Capture file", &mut self.capture, false);
            if !self.socket_mode {
                field(ui, "App endpoint", &mut self.target, false);
            }
            field(ui, "Mock Web API address", &mut self.mock_addr, false);
            if self.socket_mode {
                field(ui, "App-level token", &mut self.app_token, true);
            } else {
                field(ui, "Signing secret", &mut self.secret, true);
            }
            field(ui, "Bot token", &mut self.token, true);
            let l = ui.label("Runs");
            ui.add(egui::DragValue::new(&mut self.runs).range(1..=10_000)).labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Concurrency");
            ui.add(egui::DragValue::new(&mut self.concurrency).range(1..=256)).labelled_by(l.id);
            ui.end_row();
            let latency = |ui: &mut Ui, label: &str, value: &mut String, hint: &str, hover: &str| {
                let l = ui.label(label);
                ui.add(egui::TextEdit::singleline(value).hint_text(hint).desired_width(380.0))
                    .labelled_by(l.id)
                    .on_hover_text(hover);
                ui.end_row();
            };
            latency(
                ui,
                "Delivery latency",
                &mut self.delivery_latency,
                "0 ms, or e.g. 800ms",
                "deliver each interaction this long after its click (a slow network or tunnel); the 3 s still start at the click",
            );
            latency(
                ui,
                "Web API latency",
                &mut self.api_latency,
                "0 ms, or 800ms, 200ms..1s, views.open=800ms",
                "answer Web API calls this much later; the trigger rules still judge when a call arrives",
            );
        });
        ui.horizontal(|ui| {
            if self.is_running() {
                ui.spinner();
                if ui.button("Stop").clicked() {
                    self.stop();
                }
            } else if ui.button("Start").clicked() {
                request = Some(ReplayRequest::Start);
            }
            if let Some(view) = &self.live
                && ui
                    .button("Open the run's trace in a tab")
                    .on_hover_text("to save it or compare it with another")
                    .clicked()
            {
                request = Some(ReplayRequest::OpenTrace(Arc::clone(&view.trace)));
            }
            match self.mock.as_ref().map(LiveMock::state) {
                Some(Some(Ok(up))) => ui.label(
                    RichText::new(format!("mock Slack Web API up at {} (point the app's Slack client there)", up.url))
                        .weak(),
                ),
                Some(Some(Err(e))) => ui.label(RichText::new(e).color(theme::MISS)),
                Some(None) => ui.label(RichText::new("starting the mock Slack Web API…").weak()),
                None => ui.label(RichText::new("the mock Slack Web API starts with the first replay").weak()),
            };
        });
        if self.margin.ui(ui, !self.is_running()) {
            let ctx = ui.ctx().clone();
            self.find_margin(profile, move || ctx.request_repaint());
        }
        for round in &self.rounds {
            ui.label(round.headline());
            for note in &round.notes {
                ui.label(RichText::new(format!("note: {note}")).color(theme::MISS));
            }
        }
        if self.waiting {
            ui.label(RichText::new(
                "waiting for the app to connect over Socket Mode: start it with the mock Web API URL above as its \
                 Slack client's base URL and its app-level token",
            ));
        }
        if let Some(error) = &self.error {
            ui.label(RichText::new(error).color(theme::MISS));
        }
        if !self.results.is_empty() {
            let summary = Summary::of(&self.results);
            let color = if summary.failed > 0 { theme::MISS } else { theme::PASS };
            ui.horizontal(|ui| {
                ui.label(RichText::new(Summary::failure_sentence(summary.rate())).color(color).strong());
                // The round was judged by the profile of its Start, which a later switch does not change.
                ui.label(RichText::new(format!("judged by {}", self.results[0].record.profile.limit_phrase())).weak());
            });
            if summary.interactions.len() > 1 {
                for i in &summary.interactions {
                    ui.label(format!("{}: {}", i.interaction, Summary::failure_sentence(i.rate())));
                }
            }
            egui::ScrollArea::vertical().id_salt("replay-results").max_height(150.0).show(ui, |ui| {
                for r in &self.results {
                    let (word, color) = if r.verdict.pass { ("PASS", theme::PASS) } else { ("FAIL", theme::MISS) };
                    ui.label(
                        RichText::new(format!("run {} {word}: {}", r.record.index, r.verdict.reason)).color(color),
                    );
                }
            });
        }
        if let Some(view) = &mut self.live {
            ui.separator();
            ui.label(RichText::new(&view.overlay.banner).strong());
            let app_spans = match (&self.received, receiver) {
                (Some(received), _) => format!("with {} span(s) the app sent to tracedeck's receiver", received.len()),
                (None, Some(receiver)) => format!(
                    "no spans from the app yet: send them to tracedeck's receiver ({}) to see them here",
                    receiver
                        .status()
                        .listeners
                        .iter()
                        .map(|&(p, addr)| p.endpoints(addr))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                (None, None) => "to see the app's own spans here, turn on a receiver in the Live menu (OTLP, or \
                                 Sentry for an app with a Sentry SDK) and send them there"
                    .to_owned(),
            };
            ui.label(RichText::new(app_spans).weak());
            let TraceView { trace, overlay, waterfall, .. } = view;
            waterfall.show(ui, trace, overlay, &[]);
        }
        request
    }
}

/// How a replay reaches the app.
enum Delivery {
    /// POSTed to the app's endpoint.
    Http(Box<ReplayConfig>),
    /// Over Socket Mode: the mock takes this app-level token; replays of each interaction and
    /// how many at once; the delay between each click and its envelope.
    SocketMode { app_token: Secret, runs: (usize, usize), delivery_latency: std::time::Duration },
}

impl Delivery {
    /// The replay's configuration against `mock` (in Socket Mode, the mock takes the app token).
    fn config(self, mock: &MockSlack) -> ReplayConfig {
        match self {
            Delivery::Http(config) => *config,
            Delivery::SocketMode { app_token, runs, delivery_latency } => {
                mock.socket_mode().set_app_token(Some(app_token));
                let mut config = ReplayConfig::socket_mode(mock, None);
                (config.runs, config.concurrency) = runs;
                config.delivery_latency = delivery_latency;
                config
            }
        }
    }
}

/// How long the panel waits for a Socket Mode app to connect.
const CONNECT_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Replays a round against the tab's mock, first waiting for a Socket Mode app to connect, and
/// reports to `worker`.
async fn run(
    capture: Capture,
    delivery: Delivery,
    profile: Arc<Profile>,
    live: LiveMock,
    token: Secret,
    worker: Worker<Result<(), String>, Message>,
) -> Result<(), String> {
    let send = |message: Message| worker.progress(message);
    let cancel = worker.cancel_token().clone();
    let up = live.up().await?;
    up.mock.set_token(token);
    let mock_url = up.url.clone();
    let socket_mode = matches!(delivery, Delivery::SocketMode { .. });
    let config = delivery.config(&up.mock);
    if socket_mode {
        let hub = up.mock.socket_mode();
        send(Message::Waiting(true));
        let connected = tokio::select! {
            connected = hub.wait_for_connection(CONNECT_WAIT) => connected,
            () = cancel.cancelled() => false,
        };
        send(Message::Waiting(false));
        if !connected {
            let message = match cancel.is_cancelled() {
                true => "stopped while waiting for the app to connect".to_owned(),
                false => format!("no app connected over Socket Mode within {} s", CONNECT_WAIT.as_secs()),
            };
            return Err(message);
        }
    }
    let config = ReplayConfig { profile, ..config };
    let (progress_tx, mut progress_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut session = up.session.lock().await;
    let replay = session.round(Arc::new(capture), Arc::new(config), 0, Some(progress_tx), cancel.clone());
    let forward = async {
        while let Some(progress) = progress_rx.recv().await {
            match progress {
                Progress::Update(record) => {
                    send(Message::Update(Box::new(crate::replay::trace::build(&record, &mock_url))))
                }
                Progress::Finished(record, verdict) => {
                    send(Message::Update(Box::new(crate::replay::trace::build(&record, &mock_url))));
                    send(Message::Finished(Box::new(RunResult { record, verdict })));
                }
            }
        }
    };
    let (result, ()) = tokio::join!(replay, forward);
    let (round, _) = result?;
    send(Message::Round(Box::new(round)));
    Ok(())
}
