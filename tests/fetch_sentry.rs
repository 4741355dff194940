//! Sentry specifics: the legacy path (events-trace, then each transaction event), pasted event
//! URLs, and forwarded time range parameters.

mod fetch_support;

use fetch_support::{Fake, Reply, file, quick_config, request};
use tracedeck::fetch::{Backend, Progress, Request, Target, fetch};
use tracedeck::model::TraceId;

#[tokio::test]
async fn old_servers_get_the_legacy_path_and_events_are_stitched() {
    let trace = "abcdefabcdefabcdefabcdefabcdef01";
    let legacy = r#"{"transactions":[{"event_id":"9f2e1d0c8b7a46e5a4b3c2d1e0f9a8b7","span_id":"1000000000000001","transaction":"/api/0/organizations/x/issues/","project_slug":"api","project_id":1,"parent_span_id":null,"generation":0,"timestamp":1795098600.512345,"start_timestamp":1795098600.012345,"errors":[],"performance_issues":[],"children":[]}],"orphan_errors":[]}"#;
    let event = file("tests/fixtures/sentry/event-details-api.json");
    let fake =
        Fake::start(vec![Reply::status(404, r#"{"detail":"Not found"}"#), Reply::ok(legacy), Reply::ok(event.clone())])
            .await;
    let steps = std::sync::Mutex::new(Vec::new());
    let fetched = fetch(&request(Backend::Sentry, &fake.base(), Some("acme"), trace), &quick_config(), &|p| {
        if let Progress::Step { .. } = p {
            steps.lock().unwrap().push(p)
        }
    })
    .await
    .unwrap();
    let paths: Vec<String> = fake.seen().into_iter().map(|s| s.path).collect();
    assert_eq!(
        paths,
        [
            format!("/api/0/organizations/acme/trace/{trace}/"),
            format!("/api/0/organizations/acme/events-trace/{trace}/"),
            "/api/0/projects/acme/api/events/9f2e1d0c8b7a46e5a4b3c2d1e0f9a8b7/".to_owned(),
        ]
    );
    assert_eq!(steps.into_inner().unwrap(), [Progress::Step { done: 1, of: 1 }]);
    assert_eq!(fetched.traces[0].trace_id(), TraceId::from_hex(trace).unwrap());
    let direct = tracedeck::formats::import("event", &event).unwrap();
    assert_eq!(fetched.traces[0].len(), direct.traces[0].len(), "all the event's spans");
}

#[tokio::test]
async fn a_pasted_event_url_finds_its_trace() {
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let event = "9f2e1d0c8b7a46e5a4b3c2d1e0f9a8b7";
    let lookup = format!(
        r#"{{"organizationSlug":"acme","projectSlug":"api","groupId":"123","eventId":"{event}","event":{{"contexts":{{"trace":{{"trace_id":"{trace}","span_id":"a000000000000001"}}}}}}}}"#
    );
    let fake = Fake::start(vec![Reply::ok(lookup), Reply::ok(file("tests/fixtures/sentry/trace-endpoint.json"))]).await;
    let page = format!("{}/organizations/acme/issues/123/events/{event}/?statsPeriod=7d&query=x", fake.base());
    let request =
        Request { target: Target { backend: Backend::Sentry, base: None, org: None, trace: page }, token: None };
    let fetched = fetch(&request, &quick_config(), &|_| {}).await.unwrap();
    assert_eq!(fetched.traces[0].trace_id(), TraceId::from_hex(trace).unwrap());
    let seen = fake.seen();
    assert_eq!(seen[0].path, format!("/api/0/organizations/acme/eventids/{event}/"));
    assert_eq!(seen[1].path, format!("/api/0/organizations/acme/trace/{trace}/"));
    assert_eq!(seen[1].query.as_deref(), Some("statsPeriod=7d"));
    assert!(seen[1].headers.get("authorization").is_none(), "no token, no header");
}

#[tokio::test]
async fn an_event_lookup_must_name_a_real_trace_id() {
    let event = "9f2e1d0c8b7a46e5a4b3c2d1e0f9a8b7";
    let lookup =
        |trace: &str| format!(r#"{{"eventId":"{event}","event":{{"contexts":{{"trace":{{"trace_id":"{trace}"}}}}}}}}"#);
    let fake = Fake::start(vec![Reply::ok(lookup("../../../projects/acme/x")), Reply::ok(r#"{"event":{}}"#)]).await;
    let page = format!("{}/organizations/acme/issues/1/events/{event}/", fake.base());
    let request =
        Request { target: Target { backend: Backend::Sentry, base: None, org: None, trace: page }, token: None };
    let error = fetch(&request, &quick_config(), &|_| {}).await.unwrap_err();
    assert_eq!(error.kind, tracedeck::fetch::ErrorKind::NotATrace, "{error}");
    assert!(error.message.contains("is not a Sentry trace id") && error.message.contains(&fake.base()), "{error}");
    assert_eq!(fake.seen().len(), 1, "nothing more was asked");

    let error = fetch(&request, &quick_config(), &|_| {}).await.unwrap_err();
    assert_eq!(error.kind, tracedeck::fetch::ErrorKind::NotFound, "{error}");
    let said = format!("Sentry at {} says event {event} is not part of a trace", fake.base());
    assert!(error.message.contains(&said), "{error}");
}
