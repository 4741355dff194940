//! The application: tabs of traces, the start screen, menus, and the one place where
//! user actions take effect ([`App::apply`]).

use std::path::PathBuf;
use std::sync::Arc;

use egui::{Color32, RichText, Ui};

use super::action::Action;
use super::fetch_dialog::{DialogRequest, FetchDialog};
use super::help::help_window;
use super::job::Job;
use super::live::{Listening, LiveReceiver};
use super::loader::{Contents, Loading};
use super::menu_bar::{Menu, Saves, menu_bar};
use super::overlay::Overlay;
use super::replay_panel::{ReplayPanel, ReplayRequest};
use super::saving::{save, save_name};
use super::search_run::SearchRun;
use super::settings::{Settings, ThemeChoice};
use super::source::Source;
use super::start_screen::start_screen;
use super::tab_strip::tab_strip;
use super::theme;
use super::trace_tab::{TraceView, trace_screen};
use super::traces_view::{Judged, TracesView};
use crate::analysis::Profile;
use crate::formats::Format;
use crate::model::{SpanId, Trace};

enum TabContent {
    Loading(Loading),
    Failed(String),
    Loaded {
        format: Option<Format>,
        view: Box<TraceView>,
        compare: Option<Box<TraceView>>,
    },
    /// Many traces; the search feeding them, while it runs and after.
    Traces(Box<TracesView>, Option<Box<SearchRun>>),
    Replay(Box<ReplayPanel>),
}

struct Tab {
    title: String,
    content: TabContent,
}

/// The open traces judged under a newly chosen profile: those of the waterfalls with their
/// overlays, those of the traces views with their verdicts.
struct Rejudged {
    overlays: Vec<(Arc<Trace>, Overlay)>,
    verdicts: Vec<(Arc<Trace>, Judged)>,
}

/// The tracedeck window.
pub struct App {
    settings: Settings,
    /// The deadline profile every view judges by: the one chosen in the menu, or given on the
    /// command line (`--profile`, `--deadline`).
    profile: Profile,
    /// Overlays under a newly chosen profile, computed on a worker.
    rejudged: Option<Job<Rejudged>>,
    tabs: Vec<Tab>,
    active: usize,
    actions: Vec<Action>,
    /// The native file or folder dialog while it is open: what to open.
    dialog: Option<Job<Vec<Source>>>,
    runtime: Option<tokio::runtime::Runtime>,
    /// A save: where it asks for a file name, then writes (`None`: the user did not choose one).
    saving: Option<Job<Option<Result<PathBuf, String>>>>,
    notice: Option<String>,
    fetch: FetchDialog,
    receiver: Option<LiveReceiver>,
    /// A listener of the receiver being started, with the receiver.
    listening: Option<Job<Listening>>,
    show_help: bool,
    open_at_span: Option<SpanId>,
    title: String,
    theme_applied: bool,
}

impl App {
    /// The app with remembered settings, opening `files` (and selecting span `span` once loaded),
    /// judging by `profile` when given, else by the remembered profile.
    pub fn new(settings: Settings, files: Vec<PathBuf>, span: Option<SpanId>, profile: Option<Profile>) -> Self {
        let profile = profile.or_else(|| Profile::built_in(&settings.profile)).unwrap_or_else(Profile::default_profile);
        App {
            settings,
            profile,
            rejudged: None,
            tabs: Vec::new(),
            active: 0,
            actions: files.into_iter().map(|f| Action::Open(Source::for_path(f))).collect(),
            dialog: None,
            runtime: None,
            saving: None,
            notice: None,
            fetch: FetchDialog::with_connections(crate::fetch::Connections::default_path()),
            receiver: None,
            listening: None,
            show_help: false,
            open_at_span: span,
            title: String::new(),
            theme_applied: false,
        }
    }

    /// The settings to persist.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The number of spans of the trace the active tab shows, once it is loaded (`None` while
    /// it loads, or when the active tab shows something else).
    pub fn shown_spans(&self) -> Option<usize> {
        match self.tabs.get(self.active).map(|t| &t.content) {
            Some(TabContent::Loaded { view, .. }) => Some(view.trace.len()),
            _ => None,
        }
    }

    /// Queues an action, as a menu item would.
    pub fn request(&mut self, action: Action) {
        self.actions.push(action);
    }

    /// The whole window, one frame.
    pub fn ui(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        if !self.theme_applied {
            self.apply_theme(&ctx);
            self.theme_applied = true;
        }
        self.poll_jobs();
        self.take_dropped_files(&ctx);
        if ctx.input(|i| i.key_pressed(egui::Key::F1)) {
            self.show_help ^= true;
        }

        let saves = match self.tabs.get(self.active).map(|t| &t.content) {
            Some(TabContent::Loaded { .. }) => Saves::Trace,
            Some(TabContent::Traces(view, _)) => Saves::Traces(!view.is_empty()),
            _ => Saves::Nothing,
        };
        let menu = Menu {
            settings: &mut self.settings,
            profile: &self.profile,
            active: (!self.tabs.is_empty()).then_some(self.active),
            saves,
            receiver: self.receiver.as_ref(),
            notice: self.notice.as_deref(),
        };
        let asked = egui::Panel::top("menu").show(ui, |ui| menu_bar(ui, menu)).inner;
        self.actions.extend(asked);
        if !self.tabs.is_empty() {
            let tabs = self.tabs.iter().map(|t| (t.title.as_str(), matches!(t.content, TabContent::Failed(_))));
            let asked = egui::Panel::top("tabs").show(ui, |ui| tab_strip(ui, tabs, self.active)).inner;
            self.actions.extend(asked);
        }
        let settings = self.settings.clone();
        let mut actions = Vec::new();
        let others: Vec<(usize, String)> = self
            .tabs
            .iter()
            .enumerate()
            .filter(|(i, t)| *i != self.active && matches!(t.content, TabContent::Loaded { .. }))
            .map(|(i, t)| (i, t.title.clone()))
            .collect();
        match self.tabs.get_mut(self.active) {
            None => {
                egui::CentralPanel::default().show(ui, |ui| actions.extend(start_screen(ui, &settings)));
            }
            Some(tab) => match &mut tab.content {
                TabContent::Loading(loading) => {
                    egui::CentralPanel::default().show(ui, |ui| {
                        ui.add_space(40.0);
                        ui.vertical_centered(|ui| {
                            ui.label(format!("Loading {} — {}", loading.source.display(), loading.phase));
                            ui.add(egui::ProgressBar::new(loading.progress).show_percentage().desired_width(400.0));
                            if ui.button("Cancel").clicked() {
                                actions.push(Action::CloseTab(self.active));
                            }
                        });
                    });
                }
                TabContent::Failed(message) => {
                    egui::CentralPanel::default().show(ui, |ui| {
                        ui.add_space(40.0);
                        ui.vertical_centered(|ui| {
                            ui.heading(RichText::new("This file could not be opened").color(theme::MISS));
                            ui.add_space(8.0);
                            ui.label(RichText::new(message.as_str()).monospace());
                            ui.add_space(8.0);
                            if ui.button("Close this tab").clicked() {
                                actions.push(Action::CloseTab(self.active));
                            }
                        });
                    });
                }
                TabContent::Loaded { format, view, compare } => {
                    actions.extend(trace_screen(
                        ui,
                        &settings,
                        &self.profile,
                        *format,
                        view,
                        compare.as_deref_mut(),
                        &others,
                    ));
                }
                TabContent::Replay(panel) => {
                    let active = self.active;
                    let receiver = self.receiver.as_ref().map(|live| &live.server);
                    egui::CentralPanel::default().show(ui, |ui| match panel.ui(ui, &self.profile, receiver) {
                        Some(ReplayRequest::Start) => actions.push(Action::StartReplay(active)),
                        Some(ReplayRequest::OpenTrace(trace)) => {
                            actions.push(Action::OpenTrace { trace, title: "replayed run".into() })
                        }
                        None => {}
                    });
                }
                TabContent::Traces(traces, search) => {
                    egui::CentralPanel::default().show(ui, |ui| {
                        if let Some(search) = search {
                            search.ui(ui, traces.len());
                        }
                        if let Some(i) = traces.ui(ui) {
                            actions.push(Action::OpenTrace {
                                trace: Arc::clone(traces.trace(i)),
                                title: format!("{} #{}", tab.title, i + 1),
                            });
                        }
                    });
                }
            },
        }
        self.actions.extend(actions);
        if self.show_help {
            help_window(&ctx, &mut self.show_help);
        }
        self.fetch_window(&ctx);
        self.paint_drop_hint(&ctx);
        self.update_title(&ctx);
        for action in std::mem::take(&mut self.actions) {
            self.apply(&ctx, action);
        }
    }

    /// Carries out one action.
    pub fn apply(&mut self, ctx: &egui::Context, action: Action) {
        match action {
            Action::Open(source) => {
                if let Source::File(path) = &source {
                    self.settings.remember(path.clone());
                }
                let loading = Loading::start(source.clone(), self.profile.clone(), wake(ctx));
                self.push_tab(source.name(), TabContent::Loading(loading));
            }
            Action::OpenDialog => {
                self.dialog = Some(Job::thread("file-dialog", wake(ctx), |_| {
                    let files = rfd::FileDialog::new()
                        .set_title("Open trace files")
                        .add_filter("Trace files", &["json", "jsonl", "ndjson"])
                        .add_filter("All files", &["*"])
                        .pick_files();
                    files.unwrap_or_default().into_iter().map(Source::File).collect()
                }));
            }
            Action::OpenFolderDialog => {
                self.dialog = Some(Job::thread("folder-dialog", wake(ctx), |_| {
                    let folder = rfd::FileDialog::new().set_title("Open a folder of traces").pick_folder();
                    folder.into_iter().map(Source::Folder).collect()
                }));
            }
            Action::OpenTrace { trace, title } => {
                let overlay = super::overlay::for_trace(&trace, &self.profile);
                self.push_trace(title, None, trace, overlay);
            }
            // One listener starts at a time: the next once the one starting is up.
            action @ Action::Receive { .. } if self.listening.is_some() => self.actions.push(action),
            Action::Receive { protocol, addr } => {
                let handle = self.runtime().handle().clone();
                self.listening = LiveReceiver::set(&mut self.receiver, protocol, addr, &handle, ctx);
            }
            Action::SaveTrace(format) => {
                // A trace as recorded (no clock-skew adjustment), or every trace of a traces view.
                let traces: Vec<Arc<Trace>> = match self.tabs.get(self.active).map(|t| &t.content) {
                    Some(TabContent::Loaded { view, .. }) => vec![Arc::clone(view.recorded())],
                    Some(TabContent::Traces(view, _)) => view.traces().to_vec(),
                    _ => Vec::new(),
                };
                if !traces.is_empty() {
                    let name = save_name(&self.tabs[self.active].title, format);
                    self.saving = Some(Job::thread("save", wake(ctx), move |_| {
                        // The native dialog asks before replacing a file that exists.
                        let what =
                            if traces.len() == 1 { "the trace".to_owned() } else { format!("{} traces", traces.len()) };
                        let dialog = rfd::FileDialog::new().set_title(format!("Save {what} as {format}"));
                        let path = dialog.set_file_name(name).save_file()?;
                        let refs: Vec<&Trace> = traces.iter().map(|t| &**t).collect();
                        Some(save(&refs, format, &path))
                    }));
                }
            }
            Action::NewReplay => {
                let mut panel = ReplayPanel::new(
                    "sample-traces/resolve-button.capture.json",
                    "http://127.0.0.1:3000",
                    "127.0.0.1:8990",
                );
                panel.open(self.runtime().handle(), wake(ctx));
                self.push_tab("Replay".into(), TabContent::Replay(Box::new(panel)));
            }
            Action::TryDemo => {
                let mut panel = ReplayPanel::new("", "", "127.0.0.1:0");
                let handle = self.runtime().handle().clone();
                panel.open(&handle, wake(ctx));
                panel.use_demo(crate::replay::demo_app::Mode::Buggy);
                panel.start(&handle, &self.profile, wake(ctx));
                self.push_tab("Replay: demo app".into(), TabContent::Replay(Box::new(panel)));
            }
            Action::StartReplay(i) => {
                let handle = self.runtime().handle().clone();
                if let Some(TabContent::Replay(panel)) = self.tabs.get_mut(i).map(|t| &mut t.content) {
                    panel.start(&handle, &self.profile, wake(ctx));
                }
            }
            Action::ShowReceived => {
                if let Some(live) = &self.receiver {
                    let (traces, errors) = live.snapshot();
                    let sources = vec!["received live".to_owned(); traces.len()];
                    let view = TracesView::new(traces, sources, &self.profile, errors);
                    self.push_tab("received traces".into(), TabContent::Traces(Box::new(view), None));
                }
            }
            Action::CloseTab(i) => {
                if i < self.tabs.len() {
                    match &mut self.tabs[i].content {
                        TabContent::Loading(loading) => loading.cancel(),
                        TabContent::Replay(panel) => panel.close(),
                        TabContent::Traces(_, Some(search)) => search.cancel(),
                        _ => {}
                    }
                    self.tabs.remove(i);
                    self.active = self.active.min(self.tabs.len().saturating_sub(1));
                }
            }
            Action::SwitchTab(i) => {
                if i < self.tabs.len() {
                    self.active = i;
                }
            }
            Action::StartFetch => {
                let handle = self.runtime().handle().clone();
                self.fetch.start(&handle, wake(ctx));
            }
            Action::StartSearch => {
                let handle = self.runtime().handle().clone();
                let title = self.fetch.search_title();
                if let Some(run) = self.fetch.start_search(&handle, wake(ctx)) {
                    let view = TracesView::new(Vec::new(), Vec::new(), &self.profile, Vec::new());
                    self.push_tab(title, TabContent::Traces(Box::new(view), Some(Box::new(run))));
                }
            }
            Action::OpenFetched(fetched) => {
                let mut traces: Vec<Arc<Trace>> = fetched.traces.into_iter().map(Arc::new).collect();
                if traces.len() == 1 {
                    let trace = traces.remove(0);
                    let overlay = super::overlay::for_trace(&trace, &self.profile);
                    self.push_trace(fetched.source, Some(fetched.format), trace, overlay);
                } else {
                    let sources = vec![fetched.source.clone(); traces.len()];
                    let view = TracesView::new(traces, sources, &self.profile, Vec::new());
                    self.push_tab(fetched.source, TabContent::Traces(Box::new(view), None));
                }
            }
            Action::ShowFetchDialog => self.fetch.open = true,
            Action::ShowHelp => self.show_help = true,
            Action::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
            Action::SetTheme(theme) => {
                self.settings.theme = theme;
                self.apply_theme(ctx);
            }
            Action::ShowCriticalPath(show) => {
                self.settings.show_critical = show;
                for tab in &mut self.tabs {
                    if let TabContent::Loaded { view, compare, .. } = &mut tab.content {
                        for view in std::iter::once(view).chain(compare.as_mut()) {
                            view.waterfall.show_critical = show;
                        }
                    }
                }
            }
            Action::Compare { with } => {
                let other = match self.tabs.get(with).map(|t| &t.content) {
                    Some(TabContent::Loaded { view, .. }) => Some((Arc::clone(&view.trace), view.overlay.clone())),
                    _ => None,
                };
                if let (Some((trace, overlay)), Some(TabContent::Loaded { compare, .. })) =
                    (other, self.tabs.get_mut(self.active).map(|t| &mut t.content))
                {
                    *compare = Some(Box::new(TraceView::new(trace, overlay)));
                }
            }
            Action::StopComparing => {
                if let Some(TabContent::Loaded { compare, .. }) = self.tabs.get_mut(self.active).map(|t| &mut t.content)
                {
                    *compare = None;
                }
            }
            Action::SetProfile(profile) => {
                if Profile::built_in(&profile.name).as_ref() == Some(&profile) {
                    self.settings.profile = profile.name.clone();
                }
                self.profile = profile;
                let (mut shown, mut listed) = (Vec::new(), Vec::new());
                for tab in &self.tabs {
                    match &tab.content {
                        TabContent::Loaded { view, compare, .. } => {
                            shown.extend(std::iter::once(view).chain(compare).map(|v| Arc::clone(&v.trace)));
                        }
                        TabContent::Traces(view, _) => listed.extend(view.traces().iter().cloned()),
                        _ => {}
                    }
                }
                // Judging a big trace, or many, takes a while: the verdicts come from a worker,
                // and each view keeps its old ones until the new ones arrive.
                let profile = self.profile.clone();
                self.rejudged = Some(Job::thread("rejudge", wake(ctx), move |_| Rejudged {
                    overlays: shown
                        .into_iter()
                        .map(|t| (Arc::clone(&t), super::overlay::for_trace(&t, &profile)))
                        .collect(),
                    verdicts: listed.into_iter().map(|t| (Arc::clone(&t), Judged::of(&t, &profile))).collect(),
                }));
            }
        }
    }

    /// Takes the news of every background job, in every tab whether shown or not: finished
    /// loads become trace tabs, searches and replays collect what arrived, and the results of
    /// the dialogs, a fetch, a save and a re-judge take effect.
    fn poll_jobs(&mut self) {
        for i in 0..self.tabs.len() {
            let loaded = match &mut self.tabs[i].content {
                TabContent::Loading(loading) => loading.poll(),
                TabContent::Traces(view, Some(search)) => {
                    search.poll(view);
                    None
                }
                TabContent::Replay(panel) => {
                    panel.poll();
                    None
                }
                _ => None,
            };
            if let Some(result) = loaded {
                self.tabs[i].content = self.loaded(result);
            }
        }
        if let Some(sources) = self.dialog.as_mut().and_then(|job| job.poll(|()| {})) {
            self.dialog = None;
            // A dialog that failed opened nothing.
            self.actions.extend(sources.unwrap_or_default().into_iter().map(Action::Open));
        }
        if let Some(fetched) = self.fetch.poll() {
            self.actions.push(Action::OpenFetched(Box::new(fetched)));
        }
        if let Some(saved) = self.saving.as_mut().and_then(|job| job.poll(|()| {})) {
            self.saving = None;
            self.notice = match saved {
                Ok(Some(Ok(path))) => Some(format!("saved {}", path.display())),
                Ok(Some(Err(e))) | Err(e) => Some(e),
                Ok(None) => None,
            };
        }
        if let Some(listening) = self.listening.as_mut().and_then(|job| job.poll(|()| {})) {
            self.listening = None;
            match listening {
                Ok(Listening { live, protocol, started }) => {
                    self.receiver = live;
                    if let Err(e) = started {
                        self.push_tab(format!("{protocol} receiver"), TabContent::Failed(e));
                    }
                }
                Err(e) => self.push_tab("receiver".into(), TabContent::Failed(e)),
            }
        }
        if let Some(rejudged) = self.rejudged.as_mut().and_then(|job| job.poll(|()| {})) {
            self.rejudged = None;
            match rejudged {
                Ok(rejudged) => self.put_rejudged(rejudged),
                Err(e) => self.notice = Some(format!("could not judge under {}: {e}", self.profile.name)),
            }
        }
    }

    /// What a tab shows once its load is done.
    fn loaded(&mut self, result: Result<Contents, String>) -> TabContent {
        match result {
            Ok(Contents::Many(traces)) => TabContent::Traces(traces, None),
            Ok(Contents::One { format, mut view }) => {
                self.apply_settings(&mut view);
                if let Some(id) = self.open_at_span.take() {
                    match view.trace.find(id) {
                        Some(idx) => view.waterfall.reveal(&view.trace, idx),
                        None => self.open_at_span = Some(id),
                    }
                }
                TabContent::Loaded { format: Some(format), view, compare: None }
            }
            Err(message) => TabContent::Failed(message),
        }
    }

    /// A view of `trace` with the window's settings.
    fn trace_view(&self, trace: Arc<Trace>, overlay: Overlay) -> TraceView {
        let mut view = TraceView::new(trace, overlay);
        self.apply_settings(&mut view);
        view
    }

    /// Gives a view made elsewhere (by the loader) the window's settings.
    fn apply_settings(&self, view: &mut TraceView) {
        view.waterfall.show_critical = self.settings.show_critical;
    }

    /// Adds a tab and makes it the active one.
    fn push_tab(&mut self, title: String, content: TabContent) {
        self.tabs.push(Tab { title, content });
        self.active = self.tabs.len() - 1;
    }

    /// Adds a tab showing `trace` (read as `format`, when it was read from a file) and makes it
    /// the active one.
    fn push_trace(&mut self, title: String, format: Option<Format>, trace: Arc<Trace>, overlay: Overlay) {
        let view = Box::new(self.trace_view(trace, overlay));
        self.push_tab(title, TabContent::Loaded { format, view, compare: None });
    }

    /// Puts what was judged under a new profile in place, in every view still showing its trace.
    fn put_rejudged(&mut self, Rejudged { overlays, verdicts }: Rejudged) {
        // By address: each trace is held here, so no other can have its address meanwhile.
        let verdicts: std::collections::HashMap<*const Trace, (Arc<Trace>, Judged)> =
            verdicts.into_iter().map(|(trace, judged)| (Arc::as_ptr(&trace), (trace, judged))).collect();
        for tab in &mut self.tabs {
            if let TabContent::Traces(view, _) = &mut tab.content {
                view.set_profile(&self.profile, |trace| verdicts.get(&Arc::as_ptr(trace)).map(|(_, j)| j.clone()));
            }
        }
        for (trace, overlay) in overlays {
            for tab in &mut self.tabs {
                if let TabContent::Loaded { view, compare, .. } = &mut tab.content {
                    for view in std::iter::once(view).chain(compare.as_mut()) {
                        if Arc::ptr_eq(&view.trace, &trace) {
                            view.set_overlay(overlay.clone());
                        }
                    }
                }
            }
        }
    }

    /// The tokio runtime for network work (fetching, receiving), started on first use.
    fn runtime(&mut self) -> &tokio::runtime::Runtime {
        self.runtime.get_or_insert_with(network_runtime)
    }

    fn fetch_window(&mut self, ctx: &egui::Context) {
        if !self.fetch.open {
            return;
        }
        let mut open = true;
        let mut go = None;
        egui::Window::new("Fetch or search traces")
            .open(&mut open)
            .collapsible(false)
            .show(ctx, |ui| go = self.fetch.ui(ui));
        if !open && !self.fetch.is_running() {
            self.fetch.open = false;
        }
        match go {
            Some(DialogRequest::Fetch) => self.actions.push(Action::StartFetch),
            Some(DialogRequest::Search) => self.actions.push(Action::StartSearch),
            None => {}
        }
    }

    fn take_dropped_files(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).filter(|p| !p.as_os_str().is_empty()).collect()
        });
        self.actions.extend(dropped.into_iter().map(|p| Action::Open(Source::for_path(p))));
    }

    fn paint_drop_hint(&self, ctx: &egui::Context) {
        if ctx.input(|i| i.raw.hovered_files.is_empty()) {
            return;
        }
        let painter = ctx.layer_painter(egui::LayerId::new(egui::Order::Foreground, egui::Id::NULL.with("drop")));
        let rect = ctx.content_rect();
        painter.rect_filled(rect, 0.0, Color32::from_black_alpha(160));
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            "Drop trace files to open them",
            egui::FontId::proportional(24.0),
            Color32::WHITE,
        );
    }

    fn update_title(&mut self, ctx: &egui::Context) {
        let title = match self.tabs.get(self.active) {
            Some(tab) => format!("{} — tracedeck", tab.title),
            None => "tracedeck".to_owned(),
        };
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
    }

    fn apply_theme(&self, ctx: &egui::Context) {
        ctx.set_theme(match self.settings.theme {
            ThemeChoice::System => egui::ThemePreference::System,
            ThemeChoice::Light => egui::ThemePreference::Light,
            ThemeChoice::Dark => egui::ThemePreference::Dark,
        });
    }
}

/// The runtime of the window's network work (fetches, replays, the receivers).
fn network_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("tracedeck-net")
        .enable_all()
        .build()
        .expect("the OS can start the network threads")
}

/// Wakes the window from a worker.
fn wake(ctx: &egui::Context) -> impl Fn() + Send + Sync + 'static {
    let ctx = ctx.clone();
    move || ctx.request_repaint()
}

#[cfg(test)]
mod tests;
