//! [`App::apply`] action by action, on the app's state; and the window polling the jobs of
//! every tab, shown or not (kittest).

use std::time::{Duration, Instant};

use egui_kittest::Harness;

use super::*;
use crate::analysis::Outcome;
use crate::fetch::{Backend, Fetched};
use crate::synth::{SynthParams, generate};
use crate::ui::overlay;
use crate::ui::source::{INCIDENT_AFTER, INCIDENT_BEFORE};

fn app() -> App {
    App::new(Settings::default(), Vec::new(), None, None)
}

/// Applies `action`, then [`settle`]s.
fn apply(app: &mut App, action: Action) {
    app.apply(&egui::Context::default(), action);
    settle(app);
}

/// Polls the jobs until no tab is loading, no re-judge runs and no listener starts (at most
/// 20 s), then runs what they asked for.
fn settle(app: &mut App) {
    let start = Instant::now();
    loop {
        app.poll_jobs();
        let loading = app.tabs.iter().any(|t| matches!(t.content, TabContent::Loading(_)));
        if !loading && app.rejudged.is_none() && app.listening.is_none() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "the jobs never finished");
        std::thread::sleep(Duration::from_millis(10));
    }
    for action in std::mem::take(&mut app.actions) {
        apply(app, action);
    }
}

fn titles(app: &App) -> Vec<&str> {
    app.tabs.iter().map(|t| t.title.as_str()).collect()
}

/// The active tab's trace view.
fn view(app: &App) -> &TraceView {
    match &app.tabs[app.active].content {
        TabContent::Loaded { view, .. } => view,
        _ => panic!("the active tab shows no trace"),
    }
}

fn synthetic(seed: u64) -> Arc<Trace> {
    Arc::new(generated(seed))
}

fn generated(seed: u64) -> Trace {
    generate(&SynthParams { seed, spans: 12, ..SynthParams::default() })
}

#[test]
fn opening_a_trace_adds_a_tab_that_becomes_active_and_shows_it() {
    let mut app = app();
    apply(&mut app, Action::Open(INCIDENT_BEFORE));
    apply(&mut app, Action::Open(INCIDENT_AFTER));
    assert_eq!(titles(&app), ["incident-before.sentry.json", "incident-after.sentry.json"]);
    assert_eq!(app.active, 1);
    assert!(view(&app).overlay.passed && view(&app).overlay.banner.contains("met the 3 s deadline"));
    assert!(app.settings.recent.is_empty(), "a bundled sample is not a recent file");
}

#[test]
fn a_file_that_cannot_be_read_fails_in_its_own_tab_and_is_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, b"{ not json").unwrap();
    let mut app = app();
    apply(&mut app, Action::Open(INCIDENT_BEFORE));
    apply(&mut app, Action::Open(Source::File(path.clone())));
    assert_eq!((app.tabs.len(), app.active), (2, 1));
    let TabContent::Failed(message) = &app.tabs[1].content else { panic!("the broken file's tab failed") };
    assert!(message.contains(&path.display().to_string()), "the error names the file: {message}");
    assert!(matches!(app.tabs[0].content, TabContent::Loaded { .. }), "the other tab is left alone");
    assert_eq!(app.settings.recent, [path]);
}

#[test]
fn closing_and_switching_tabs_keep_the_active_tab_in_range() {
    let mut app = app();
    for (seed, title) in [(1, "a"), (2, "b"), (3, "c")] {
        apply(&mut app, Action::OpenTrace { trace: synthetic(seed), title: title.into() });
    }
    assert_eq!((titles(&app), app.active), (vec!["a", "b", "c"], 2));
    apply(&mut app, Action::SwitchTab(0));
    assert_eq!(app.active, 0);
    apply(&mut app, Action::SwitchTab(7));
    assert_eq!(app.active, 0, "no such tab: nothing changes");
    apply(&mut app, Action::SwitchTab(2));
    apply(&mut app, Action::CloseTab(2));
    assert_eq!((titles(&app), app.active), (vec!["a", "b"], 1));
    apply(&mut app, Action::CloseTab(0));
    assert_eq!((titles(&app), app.active), (vec!["b"], 0));
    apply(&mut app, Action::CloseTab(5));
    assert_eq!(titles(&app), ["b"]);
    apply(&mut app, Action::CloseTab(0));
    assert!(app.tabs.is_empty());
}

#[test]
fn closing_a_loading_tab_cancels_its_load() {
    let mut app = app();
    app.apply(&egui::Context::default(), Action::Open(INCIDENT_BEFORE));
    assert!(matches!(app.tabs[0].content, TabContent::Loading(_)));
    apply(&mut app, Action::CloseTab(0));
    assert!(app.tabs.is_empty());
}

#[test]
fn a_profile_change_is_remembered_and_rejudges_every_open_trace() {
    let mut app = app();
    apply(&mut app, Action::Open(INCIDENT_BEFORE));
    apply(&mut app, Action::OpenTrace { trace: synthetic(4), title: "synthetic".into() });
    apply(&mut app, Action::Compare { with: 0 });
    apply(&mut app, Action::OpenFetched(Box::new(fetched(vec![generated(12), generated(13)]))));
    let github = Profile::built_in("github").unwrap();
    apply(&mut app, Action::SetProfile(github.clone()));
    assert_eq!((app.profile.name.as_str(), app.settings.profile.as_str()), ("github", "github"));
    let TabContent::Traces(listed, _) = &app.tabs[2].content else { panic!("a traces view") };
    assert_eq!(listed.deadline(), github.limit, "the traces view judges under github");
    let outcomes: Vec<Outcome> = listed.visible_rows().map(|r| r.outcome).collect();
    let expected: Vec<Outcome> =
        listed.visible_rows().map(|r| crate::analysis::analyze(listed.trace(r.index), &github).outcome).collect();
    assert_eq!(outcomes, expected);
    apply(&mut app, Action::CloseTab(2));
    for tab in &app.tabs {
        let TabContent::Loaded { view, compare, .. } = &tab.content else { panic!("two traces are open") };
        for view in std::iter::once(view).chain(compare.as_ref()) {
            let judged = overlay::for_trace(&view.trace, &github);
            assert_eq!(
                (&view.overlay.banner, view.overlay.deadline),
                (&judged.banner, judged.deadline),
                "{}",
                tab.title
            );
        }
    }
    // A custom deadline is used, but the remembered profile stays a built-in one.
    let custom = Profile::default_profile().with_limit(2_000_000_000);
    apply(&mut app, Action::SetProfile(custom.clone()));
    assert_eq!((&app.profile, app.settings.profile.as_str()), (&custom, "github"));
    assert_eq!(view(&app).overlay.deadline, overlay::for_trace(&view(&app).trace, &custom).deadline);
}

#[test]
fn compare_shows_another_tabs_trace_under_the_active_one_until_stopped() {
    let mut app = app();
    let (first, second) = (synthetic(5), synthetic(6));
    apply(&mut app, Action::OpenTrace { trace: Arc::clone(&first), title: "first".into() });
    apply(&mut app, Action::OpenTrace { trace: Arc::clone(&second), title: "second".into() });
    apply(&mut app, Action::Compare { with: 0 });
    let TabContent::Loaded { view, compare: Some(compare), .. } = &app.tabs[1].content else {
        panic!("the second tab compares")
    };
    assert!(Arc::ptr_eq(&view.trace, &second) && Arc::ptr_eq(&compare.trace, &first));
    apply(&mut app, Action::StopComparing);
    assert!(matches!(&app.tabs[1].content, TabContent::Loaded { compare: None, .. }));
}

/// What a fetch of `traces` from Jaeger brings.
fn fetched(traces: Vec<Trace>) -> Fetched {
    Fetched {
        backend: Backend::Jaeger,
        format: Format::Jaeger,
        source: format!("Jaeger, {} trace(s)", traces.len()),
        body: Vec::new(),
        traces,
    }
}

#[test]
fn what_a_fetch_brings_opens_as_one_waterfall_or_a_traces_view() {
    let mut app = app();
    let one = vec![generated(7)];
    apply(&mut app, Action::OpenFetched(Box::new(fetched(one))));
    assert!(matches!(&app.tabs[0].content, TabContent::Loaded { format: Some(Format::Jaeger), .. }));
    let two = vec![generated(8), generated(9)];
    apply(&mut app, Action::OpenFetched(Box::new(fetched(two))));
    let TabContent::Traces(traces, None) = &app.tabs[1].content else { panic!("two traces open a traces view") };
    assert_eq!((traces.len(), app.active), (2, 1));
    assert_eq!(titles(&app), ["Jaeger, 1 trace(s)", "Jaeger, 2 trace(s)"]);
}

#[test]
fn the_critical_path_setting_reaches_every_waterfall_and_new_ones() {
    let mut app = app();
    apply(&mut app, Action::OpenTrace { trace: synthetic(10), title: "a".into() });
    apply(&mut app, Action::Compare { with: 0 });
    let show = !app.settings.show_critical;
    apply(&mut app, Action::ShowCriticalPath(show));
    assert_eq!(app.settings.show_critical, show);
    let TabContent::Loaded { view, compare: Some(compare), .. } = &app.tabs[0].content else { panic!() };
    assert_eq!((view.waterfall.show_critical, compare.waterfall.show_critical), (show, show));
    apply(&mut app, Action::OpenTrace { trace: synthetic(11), title: "b".into() });
    assert_eq!(view_of(&app, 1).waterfall.show_critical, show);
}

fn view_of(app: &App, tab: usize) -> &TraceView {
    match &app.tabs[tab].content {
        TabContent::Loaded { view, .. } => view,
        _ => panic!("tab {tab} shows no trace"),
    }
}

#[test]
fn listeners_start_off_the_ui_thread_one_after_the_other_and_a_taken_port_fails_in_a_tab() {
    use crate::receiver::Protocol;
    let mut app = app();
    let ctx = egui::Context::default();
    let any = Some("127.0.0.1:0".parse().unwrap());
    app.apply(&ctx, Action::Receive { protocol: Protocol::Otlp, addr: any });
    app.apply(&ctx, Action::Receive { protocol: Protocol::Sentry, addr: any });
    settle(&mut app);
    let listeners = |app: &App| app.receiver.as_ref().map(|l| l.server.status().listeners.len());
    assert_eq!(listeners(&app), Some(2), "both listen, on one receiver");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    apply(&mut app, Action::Receive { protocol: Protocol::Otlp, addr: None });
    apply(&mut app, Action::Receive { protocol: Protocol::Otlp, addr: Some(taken.local_addr().unwrap()) });
    assert_eq!(listeners(&app), Some(1), "the Sentry listener still runs");
    assert_eq!(titles(&app), [format!("{} receiver", Protocol::Otlp)]);
    assert!(matches!(app.tabs[0].content, TabContent::Failed(_)));
    apply(&mut app, Action::Receive { protocol: Protocol::Sentry, addr: None });
    assert!(app.receiver.is_none(), "stopping the last listener drops the receiver");
}

#[test]
fn a_replay_finishing_in_a_hidden_tab_is_collected() {
    let mut h =
        Harness::builder().with_size(egui::vec2(1400.0, 900.0)).build_ui_state(|ui, app: &mut App| app.ui(ui), app());
    h.state_mut().request(Action::TryDemo);
    h.run_steps(2);
    h.state_mut().request(Action::Open(INCIDENT_BEFORE));
    h.run_steps(2);
    let replay_tab = |app: &App| match &app.tabs[0].content {
        TabContent::Replay(panel) => panel.is_running(),
        _ => panic!("the first tab is the replay"),
    };
    assert!(replay_tab(h.state()), "the demo replay runs");
    let start = Instant::now();
    while replay_tab(h.state()) {
        assert_eq!(h.state().active, 1, "the replay's tab stays hidden");
        assert!(start.elapsed() < Duration::from_secs(60), "the replay in the hidden tab was never collected");
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
}

#[test]
fn the_tab_strip_switches_and_closes_tabs_through_actions() {
    use egui_kittest::kittest::Queryable;
    let mut app = app();
    for (seed, title) in [(14, "first"), (15, "second")] {
        apply(&mut app, Action::OpenTrace { trace: synthetic(seed), title: title.into() });
    }
    let mut h =
        Harness::builder().with_size(egui::vec2(1400.0, 900.0)).build_ui_state(|ui, app: &mut App| app.ui(ui), app);
    h.run_steps(2);
    h.get_by_label("first").click();
    h.run_steps(2);
    assert_eq!(h.state().active, 0);
    h.get_all_by_label("×").nth(1).expect("the second tab's close button").click();
    h.run_steps(2);
    assert_eq!(titles(h.state()), ["first"]);
}
