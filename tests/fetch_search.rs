//! Searching each back-end against a local fake server shaped like its real API: the query
//! parameters in the back-end's units, every trace handed over as it arrives (Tempo: one
//! request per hit, each delivered before the next is asked for), cancelling, and every failure
//! turned into a plain error.

mod fetch_support;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use fetch_support::{Fake, Reply, jaeger_answer, quick_config, sample_traces, tempo_answer, written, zipkin_answer};
use jiff::Timestamp;
use tokio_util::sync::CancellationToken;
use tracedeck::fetch::{
    Backend, Config, ErrorKind, FetchError, Fetched, Progress, Search, Searched, Token, search, search_cancellable,
};
use tracedeck::formats::{self, Format};
use tracedeck::model::Trace;

const START: i64 = 1_731_420_000;
const END: i64 = START + 3600;
const TRACEQL: &str = r#"{ resource.service.name = "front" && name = "POST /slack/interactions" && duration >= 3s }"#;

fn query(backend: Backend, fake: &Fake) -> Search {
    Search {
        backend,
        base: fake.base(),
        service: "front".into(),
        operation: Some("POST /slack/interactions".into()),
        start: Timestamp::from_second(START).unwrap(),
        end: Timestamp::from_second(END).unwrap(),
        min_duration: Some(Duration::from_secs(3)),
        limit: 5,
    }
}

/// What a search handed over, and how many requests the server had seen at each delivery.
struct Outcome {
    result: Result<Searched, FetchError>,
    found: Vec<Fetched>,
    seen_at_delivery: Vec<usize>,
    progress: Vec<Progress>,
}

async fn run(search_for: &Search, fake: &Fake, config: &Config) -> Outcome {
    let progress = Mutex::new(Vec::new());
    let (mut found, mut seen_at_delivery) = (Vec::new(), Vec::new());
    let token = Token::new("test-token-123");
    let result = search(search_for, token.as_ref(), config, &|p| progress.lock().unwrap().push(p), |fetched| {
        seen_at_delivery.push(fake.seen().len());
        found.push(fetched);
    })
    .await;
    Outcome { result, found, seen_at_delivery, progress: progress.into_inner().unwrap() }
}

/// Each back-end's expected path and parameters, and its scripted replies for `traces`.
fn script(backend: Backend, traces: &[Trace]) -> (&'static str, Vec<(&'static str, String)>, Vec<Reply>) {
    let op = "POST /slack/interactions".to_owned();
    match backend {
        Backend::Jaeger => (
            "/api/traces",
            vec![
                ("service", "front".into()),
                ("operation", op),
                ("start", format!("{START}000000")),
                ("end", format!("{END}000000")),
                ("minDuration", "3s".into()),
                ("limit", "5".into()),
            ],
            vec![Reply::ok(jaeger_answer(traces))],
        ),
        Backend::Zipkin => (
            "/api/v2/traces",
            vec![
                ("serviceName", "front".into()),
                ("spanName", op),
                ("minDuration", "3000000".into()),
                ("endTs", format!("{END}000")),
                ("lookback", "3600000".into()),
                ("limit", "5".into()),
            ],
            vec![Reply::ok(zipkin_answer(traces))],
        ),
        _ => {
            let ids: Vec<String> = traces.iter().map(|t| t.trace_id().to_string()).collect();
            let mut replies = vec![Reply::ok(tempo_answer(&ids))];
            replies.extend(traces.iter().map(|t| Reply::ok(written(Format::Otlp, std::slice::from_ref(t)))));
            (
                "/api/search",
                vec![
                    ("q", TRACEQL.into()),
                    ("start", START.to_string()),
                    ("end", END.to_string()),
                    ("limit", "5".into()),
                ],
                replies,
            )
        }
    }
}

const SEARCHED: [Backend; 3] = [Backend::Jaeger, Backend::Tempo, Backend::Zipkin];

#[tokio::test]
async fn each_backend_is_asked_in_its_units_and_hands_over_every_trace_as_it_arrives() {
    let traces = sample_traces(3);
    for backend in SEARCHED {
        let (path, params, replies) = script(backend, &traces);
        let fake = Fake::start(replies).await;
        let outcome = run(&query(backend, &fake), &fake, &quick_config()).await;
        let searched = outcome.result.unwrap_or_else(|e| panic!("{backend:?}: {e}"));

        let seen = fake.seen();
        assert_eq!(seen[0].path, path, "{backend:?}");
        let expected: Vec<(String, String)> = params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        assert_eq!(seen[0].params(), expected, "{backend:?}");
        assert!(seen.iter().all(|s| s.headers["authorization"] == "Bearer test-token-123"));

        assert_eq!(searched.traces, 3, "{backend:?}");
        assert_eq!(outcome.found.len(), 3, "{backend:?}: one delivery per trace");
        for (fetched, trace) in outcome.found.iter().zip(&traces) {
            let id = trace.trace_id().to_string();
            assert_eq!(fetched.traces.len(), 1);
            assert_eq!((fetched.traces[0].trace_id(), fetched.traces[0].len()), (trace.trace_id(), trace.len()));
            assert_eq!(fetched.source, format!("{} at {}, trace {id}", backend.name(), fake.base()));
            // Each delivery's bytes read back alone to that trace.
            let again = formats::import("delivered", &fetched.body).unwrap();
            assert_eq!((again.traces.len(), again.traces[0].trace_id()), (1, trace.trace_id()), "{backend:?}");
        }
        assert!(outcome.progress.contains(&Progress::Found { traces: 3 }), "{:?}", outcome.progress);
        let expected_message = format!(
            "{} at {} found 3 traces of service \"front\", operation \"POST /slack/interactions\", \
             with a span of at least 3 s, from 2024-11-12T14:00:00Z to 2024-11-12T15:00:00Z",
            backend.name(),
            fake.base()
        );
        assert_eq!(searched.message, expected_message);

        if backend == Backend::Tempo {
            let paths: Vec<String> = seen.iter().skip(1).map(|s| s.path.clone()).collect();
            let expected: Vec<String> = traces.iter().map(|t| format!("/api/traces/{}", t.trace_id())).collect();
            assert_eq!(paths, expected, "each hit fetched by id");
            assert_eq!(outcome.seen_at_delivery, [2, 3, 4], "each trace handed over before the next is asked for");
            let steps: Vec<String> = outcome
                .progress
                .iter()
                .filter(|p| matches!(p, Progress::Trace { .. }))
                .map(|p| p.to_string())
                .collect();
            assert_eq!(steps, ["trace 1 of 3", "trace 2 of 3", "trace 3 of 3"]);
        } else {
            assert_eq!(seen.len(), 1, "{backend:?}: one answer holds every trace");
        }
    }
}

#[tokio::test]
async fn reaching_the_limit_is_said() {
    let traces = sample_traces(2);
    let fake = Fake::start(vec![Reply::ok(jaeger_answer(&traces))]).await;
    let search_for = Search { limit: 2, ..query(Backend::Jaeger, &fake) };
    let searched = run(&search_for, &fake, &quick_config()).await.result.unwrap();
    assert!(
        searched.message.contains("found 2 traces")
            && searched.message.ends_with("that is the limit, there may be more")
    );
}

#[tokio::test]
async fn cancelling_a_tempo_search_keeps_what_came_and_stops_the_rest() {
    let traces = sample_traces(3);
    let ids: Vec<String> = traces.iter().map(|t| t.trace_id().to_string()).collect();
    let first = Reply::ok(written(Format::Otlp, &traces[..1]));
    let fake = Fake::start(vec![Reply::ok(tempo_answer(&ids)), first, Reply::Hang, Reply::Hang]).await;
    let config = Config { timeout: Duration::from_secs(30), ..quick_config() };
    let cancel = CancellationToken::new();
    let mut found = Vec::new();
    let started = Instant::now();
    let result = search_cancellable(
        &query(Backend::Tempo, &fake),
        None,
        &config,
        &|_| {},
        |fetched: Fetched| {
            found.push(fetched);
            // The user cancels once the first trace shows; the second request hangs.
            let canceller = cancel.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                canceller.cancel();
            });
        },
        &cancel,
    )
    .await;
    let error = result.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Cancelled, "{error}");
    assert_eq!(found.len(), 1, "the trace that came is kept");
    assert_eq!(found[0].traces[0].trace_id(), traces[0].trace_id());
    assert_eq!(fake.seen().len(), 3, "the search, the first trace, the hanging second; never the third");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn refused_tokens_and_foreign_answers_are_plain_errors() {
    for backend in SEARCHED {
        let name = backend.name();
        let failures: [(Reply, ErrorKind, String); 3] = [
            (Reply::status(401, "no"), ErrorKind::Auth, "refused the request (401 Unauthorized)".into()),
            (
                Reply::ok("<html><body>Grafana</body></html>"),
                ErrorKind::NotATrace,
                format!("{name} at {{base}} answered something that is not a {name} search result: "),
            ),
            (Reply::status(404, ""), ErrorKind::NotFound, "has no trace search API (404 Not Found at /api/".into()),
        ];
        for (reply, kind, text) in failures {
            let fake = Fake::start(vec![reply]).await;
            let outcome = run(&query(backend, &fake), &fake, &quick_config()).await;
            let error = outcome.result.unwrap_err();
            assert_eq!(error.kind, kind, "{backend:?}: {error}");
            assert!(error.message.contains(&text.replace("{base}", &fake.base())), "{backend:?}: {error}");
            assert!(error.message.contains(&fake.base()), "names the server: {error}");
            assert!(!error.message.contains("test-token-123"));
            assert!(outcome.found.is_empty());
        }
    }
}

#[tokio::test]
async fn server_errors_are_retried() {
    let traces = sample_traces(2);
    for backend in SEARCHED {
        let (path, _, replies) = script(backend, &traces);
        let mut script = vec![Reply::status(500, "oops"), Reply::status(503, "busy")];
        script.extend(replies);
        let fake = Fake::start(script).await;
        let outcome = run(&query(backend, &fake), &fake, &quick_config()).await;
        assert_eq!(outcome.result.unwrap_or_else(|e| panic!("{backend:?}: {e}")).traces, 2);
        assert!(fake.seen()[..3].iter().all(|s| s.path == path), "{backend:?}: the search is asked again");
        let retries = outcome.progress.iter().filter(|p| matches!(p, Progress::Retrying { .. })).count();
        assert_eq!(retries, 2, "{backend:?}");
    }
}

#[tokio::test]
async fn finding_nothing_is_an_answer_not_an_error() {
    let empty: [(Backend, &str); 3] = [
        (Backend::Jaeger, r#"{"data":[],"total":0,"limit":0,"offset":0,"errors":null}"#),
        (Backend::Zipkin, "[]"),
        (Backend::Tempo, r#"{"traces":[],"metrics":{"inspectedTraces":120,"totalBlocks":2}}"#),
    ];
    for (backend, body) in empty {
        let fake = Fake::start(vec![Reply::ok(body)]).await;
        let outcome = run(&query(backend, &fake), &fake, &quick_config()).await;
        let searched = outcome.result.unwrap_or_else(|e| panic!("{backend:?}: {e}"));
        assert_eq!(searched.traces, 0);
        assert!(outcome.found.is_empty());
        let expected = format!("{} at {} found no traces of service \"front\"", backend.name(), fake.base());
        assert!(searched.message.starts_with(&expected), "{}", searched.message);
        assert!(outcome.progress.contains(&Progress::Found { traces: 0 }));
        assert_eq!(Progress::Found { traces: 0 }.to_string(), "found no traces");
    }
}

#[tokio::test]
async fn a_broken_trace_stops_the_search_a_tempo_hit_that_is_gone_does_not() {
    let traces = sample_traces(2);
    let good = String::from_utf8(jaeger_answer(&traces[..1])).unwrap();
    let data = good.split_once("\"data\":[").unwrap().1.rsplit_once("],\"total\"").unwrap().0.to_owned();
    let broken = format!(r#"{{"data":[{data},{{"traceID":"ab","spans":[{{"spanID":"01"}}],"processes":{{}}}}]}}"#);
    let fake = Fake::start(vec![Reply::ok(broken)]).await;
    let outcome = run(&query(Backend::Jaeger, &fake), &fake, &quick_config()).await;
    let error = outcome.result.unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotATrace);
    assert!(error.message.contains("not a Jaeger trace: trace 2 of the answer: at line 1, column 49 ($.data[0].spans[0]): missing field `traceID`"), "{error}");
    assert_eq!(outcome.found.len(), 1, "the good trace before it was handed over");

    let ids: Vec<String> = traces.iter().map(|t| t.trace_id().to_string()).collect();
    let first = Reply::ok(written(Format::Otlp, &traces[..1]));
    let fake = Fake::start(vec![Reply::ok(tempo_answer(&ids)), first, Reply::status(404, "trace not found")]).await;
    let outcome = run(&query(Backend::Tempo, &fake), &fake, &Config { retries: 0, ..quick_config() }).await;
    let searched = outcome.result.expect("a hit that is gone is skipped, not the end of the search");
    assert_eq!((searched.traces, searched.gone, outcome.found.len()), (1, 1, 1));
    let said = format!("1 more it listed was gone when fetched (trace {})", ids[1]);
    assert!(searched.message.contains(&said), "{}", searched.message);

    // A hit whose answer is not a trace is not a hit that is gone: the search fails.
    let first = Reply::ok(written(Format::Otlp, &traces[..1]));
    let fake = Fake::start(vec![Reply::ok(tempo_answer(&ids)), first, Reply::ok(r#"{"hello": 1}"#)]).await;
    let outcome = run(&query(Backend::Tempo, &fake), &fake, &Config { retries: 0, ..quick_config() }).await;
    let error = outcome.result.unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotATrace, "{error}");
    assert!(error.message.contains("not a Tempo trace: expected OTLP JSON"), "{error}");
    assert_eq!(outcome.found.len(), 1);

    // Any other failure of a hit ends the search, keeping what came.
    let first = Reply::ok(written(Format::Otlp, &traces[..1]));
    let fake = Fake::start(vec![Reply::ok(tempo_answer(&ids)), first, Reply::status(401, "")]).await;
    let outcome = run(&query(Backend::Tempo, &fake), &fake, &Config { retries: 0, ..quick_config() }).await;
    assert_eq!(outcome.result.unwrap_err().kind, ErrorKind::Auth);
    assert_eq!(outcome.found.len(), 1);
}

#[tokio::test]
async fn sentry_is_refused_before_any_request() {
    let fake = Fake::start(Vec::new()).await;
    let outcome = run(&query(Backend::Sentry, &fake), &fake, &quick_config()).await;
    let error = outcome.result.unwrap_err();
    assert_eq!(
        (error.kind, error.message.as_str()),
        (ErrorKind::Input, "searching Sentry is not supported; fetch by trace id")
    );
    assert!(fake.seen().is_empty());
}
