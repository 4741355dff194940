//! `tracedeck search --stats` through the real binary, against fake Tempo and Sentry servers
//! answering the documented shapes: the exact queries sent, the server's figures in `check
//! --summary`'s shape, the slowest traces judged here, the gate on the server's figure, the
//! trend, the errors of a Tempo without TraceQL metrics and of a field Sentry refuses, and the
//! fallback of back-ends without aggregates.

mod fetch_support;

use fetch_support::{Fake, Reply, file, jaeger_answer, sample_traces, tracedeck, tracedeck_with_env, written};
use tracedeck::analysis::{Outcome, Profile, analyze};
use tracedeck::formats::Format;
use tracedeck::model::Trace;

const OPERATION: &str = "POST /slack/interactions";
const ROOTS: &str = r#"{ nestedSetParent < 0 && resource.service.name = "front" && name = "POST /slack/interactions""#;

/// `search --from BACKEND --url BASE --service front --stats` and `extra`.
fn stats_args(backend: &str, base: &str, extra: &[&str]) -> Vec<String> {
    let head = ["search", "--from", backend, "--url", base, "--service", "front", "--stats"];
    head.iter().chain(extra).map(|s| s.to_string()).collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn strings(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A TraceQL metrics instant answer: one series per (labels, value).
fn instant(series: &[(&[(&str, &str)], &str)]) -> String {
    let each: Vec<String> = series
        .iter()
        .map(|(labels, value)| {
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| match v.parse::<f64>() {
                    Ok(number) => format!(r#"{{"key":"{k}","value":{{"doubleValue":{number}}}}}"#),
                    Err(_) => format!(r#"{{"key":"{k}","value":{{"stringValue":"{v}"}}}}"#),
                })
                .collect();
            format!(r#"{{"labels":[{}],"value":{value}}}"#, labels.join(","))
        })
        .collect();
    format!(r#"{{"series":[{}],"metrics":{{"inspectedBytes":"1024","totalJobs":1}}}}"#, each.join(","))
}

/// A slack trace that missed the deadline and one that met it.
fn a_miss_and_a_pass() -> (Trace, Trace) {
    let profile = Profile::built_in("slack").unwrap();
    let mut traces = sample_traces(usize::MAX);
    let mut pick = |want| {
        let at = traces.iter().position(|t| analyze(t, &profile).outcome == want).unwrap();
        traces.swap_remove(at)
    };
    (pick(Outcome::Miss), pick(Outcome::Pass))
}

fn root_over(trace: &Trace, limit: u64) -> bool {
    let root = trace.roots()[0];
    trace.span(root).duration() > limit as i64
}

#[tokio::test]
async fn tempo_counts_over_all_traffic_then_the_slowest_are_judged_here_and_the_gate_uses_the_server() {
    let (miss, pass) = a_miss_and_a_pass();
    let (miss_id, pass_id) = (miss.trace_id().to_string(), pass.trace_id().to_string());
    let name = ("__name__", "count_over_time");
    let search = format!(
        r#"{{"traces":[{{"traceID":"{pass_id}","durationMs":1000}},{{"traceID":"{miss_id}","durationMs":5000}},{{"traceID":"abc","durationMs":10}}],"metrics":{{"inspectedTraces":3}}}}"#
    );
    let fake = Fake::start(vec![
        Reply::ok(instant(&[(&[name], "52310")])),
        Reply::ok(instant(&[(&[name], "1284")])),
        Reply::ok(instant(&[(&[("p", "0.5")], "0.212"), (&[("p", "0.95")], "2.1"), (&[("p", "0.99")], "4")])),
        Reply::ok(search),
        Reply::ok(written(Format::Otlp, std::slice::from_ref(&miss))),
        Reply::ok(written(Format::Otlp, std::slice::from_ref(&pass))),
    ])
    .await;
    let base = fake.base();
    let args = stats_args(
        "tempo",
        &base,
        &[
            "--operation",
            OPERATION,
            "--start",
            "2026-05-01T00:00:00Z",
            "--end",
            "2026-05-08T00:00:00Z",
            "--limit",
            "2",
            "--max-miss-rate",
            "2%",
        ],
    );
    let run = tracedeck(args).await;
    let (stdout, stderr) = (text(&run.stdout), text(&run.stderr));
    assert_eq!(run.status.code(), Some(1), "2.45% is over the allowed 2%: {stdout}\n{stderr}");

    let seen = fake.seen();
    let range = [("start", "1777593600"), ("end", "1778198400")];
    let metrics = |q: String| [vec![("q".to_owned(), q)], strings(&range)].concat();
    assert_eq!(seen[0].path, "/api/metrics/query");
    assert_eq!(seen[0].params(), metrics(format!("{ROOTS} }} | count_over_time()")));
    assert_eq!(seen[1].params(), metrics(format!("{ROOTS} && duration > 3s }} | count_over_time()")));
    assert_eq!(seen[2].params(), metrics(format!("{ROOTS} }} | quantile_over_time(duration, 0.5, 0.95, 0.99)")));
    // The slowest: roots of at least the deadline (shorter than the p99), five candidates per trace wanted.
    assert_eq!(seen[3].path, "/api/search");
    let q = format!("{ROOTS} && duration >= 3s }}");
    assert_eq!(seen[3].params(), [vec![("q".to_owned(), q)], strings(&range), strings(&[("limit", "10")])].concat());
    // Ranked by duration: the 5 s trace first; the third candidate is not fetched.
    assert_eq!(seen[4].path, format!("/api/traces/{miss_id}"));
    assert_eq!(seen[5].path, format!("/api/traces/{pass_id}"));
    assert_eq!(seen.len(), 6);

    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "server: 1284 of 52310 missed the 3 s deadline: 2.5% (95% CI 2.3–2.6%), computed by Tempo over 7 days"
    );
    assert_eq!(
        lines[1],
        format!(
            "  counted: root spans of service \"front\", operation \"{OPERATION}\" in Tempo at {base}; a root over 3 s misses the ack deadline"
        )
    );
    assert_eq!(lines[2], "  root duration (Tempo's estimate): p50 212.0 ms, p95 2.10 s, p99 4.00 s");
    assert!(lines[3].starts_with("  note: Tempo counts the spans it still holds"), "{stdout}");
    assert!(lines[4].starts_with(&format!("Tempo at {base}, trace {miss_id}: ")), "{stdout}");
    assert!(lines[5].starts_with(&format!("Tempo at {base}, trace {pass_id}: ")), "{stdout}");
    assert_eq!(lines[6], format!("summary: 2 traces from Tempo at {base}"));
    assert_eq!(lines[7], "  1 of 2 missed the 3 s deadline: 50.0% (95% CI 9.5–90.5%)");
    let over = usize::from(root_over(&miss, 3_000_000_000)) + usize::from(root_over(&pass, 3_000_000_000));
    let only_here = usize::from(!root_over(&miss, 3_000_000_000));
    let only_server = usize::from(root_over(&pass, 3_000_000_000));
    assert!(stdout.contains(
        "server vs here: the server judged the ack rule (a root over 3 s) over 52310 root spans; here every rule of the slack profile was judged over the 2 slowest traces\n"
    ), "{stdout}");
    assert!(stdout.contains(&format!(
        "  of those 2: {over} had a root over 3 s (what the server counts), 1 missed here; {only_here} missed here by a rule the server cannot judge; {only_server} the server counts met every rule here\n"
    )), "{stdout}");
    assert_eq!(*lines.last().unwrap(), "gate: FAIL, the miss rate 2.5% is above the allowed 2% (the server's figure)");
    assert!(stderr.contains("listed 3 trace(s) with root spans of service \"front\""), "{stderr}");

    // A gate the server's figure passes exits 0, whatever the slowest traces did.
    let fake = Fake::start(vec![
        Reply::ok(instant(&[(&[name], "52310")])),
        Reply::ok(instant(&[(&[name], "1284")])),
        Reply::ok(instant(&[])),
        Reply::ok(r#"{"traces":[],"metrics":{}}"#),
    ])
    .await;
    let base = fake.base();
    let args = stats_args("tempo", &base, &["--max-miss-rate", "2.5"]);
    let run = tracedeck(args).await;
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert!(
        text(&run.stdout)
            .ends_with("gate: pass, the miss rate 2.45% is at most the allowed 2.5% (the server's figure)\n")
    );
    let stdout = text(&run.stdout);
    assert!(stdout.contains("over 52310 root spans; no trace was fetched to judge here\n"), "{stdout}");
    // No p99: the slowest are listed without a shortest duration.
    assert_eq!(fake.seen()[3].param("q").unwrap(), r#"{ nestedSetParent < 0 && resource.service.name = "front" }"#);
}

#[tokio::test]
async fn a_tempo_without_traceql_metrics_says_so_once() {
    let fake = Fake::start(vec![Reply::status(500, "localblocks processor not found\n")]).await;
    let base = fake.base();
    let args = stats_args("tempo", &base, &["--retries", "3"]);
    let run = tracedeck(args).await;
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "Tempo at {base} has TraceQL metrics turned off (it answered \"localblocks processor not found\")"
        )),
        "{stderr}"
    );
    assert_eq!(fake.seen().len(), 1, "a feature that is off is not asked again");

    // A Tempo without the API at all.
    let fake = Fake::start(vec![Reply::status(404, "404 page not found")]).await;
    let args = stats_args("tempo", &fake.base(), &[]);
    let run = tracedeck(args).await;
    assert_eq!(run.status.code(), Some(2));
    assert!(
        text(&run.stderr).contains("has no TraceQL metrics API (/api/metrics/query answered 404)"),
        "{}",
        text(&run.stderr)
    );
}

/// The dataset and fields of Sentry's figures query, in the order sent.
const SENTRY_FIELDS: [(&str, &str); 6] = [
    ("dataset", "transactions"),
    ("field", "count()"),
    ("field", "count_if(transaction.duration,greater,3000)"),
    ("field", "p50(transaction.duration)"),
    ("field", "p95(transaction.duration)"),
    ("field", "p99(transaction.duration)"),
];

fn sentry_env() -> Vec<(String, String)> {
    vec![("SENTRY_AUTH_TOKEN".into(), "sntrys_secret".into())]
}

#[tokio::test]
async fn sentry_discover_counts_with_a_trend_in_json() {
    let late = "count_if(transaction.duration,greater,3000)";
    let table = format!(
        r#"{{"data":[{{"count()":400,"{late}":22,"p50(transaction.duration)":212.0,"p95(transaction.duration)":2900.5,"p99(transaction.duration)":3400.0}}],
            "meta":{{"fields":{{"count()":"integer","{late}":"integer","p50(transaction.duration)":"duration"}},"units":{{"p50(transaction.duration)":"millisecond"}},"isMetricsData":false}}}}"#
    );
    let stats = format!(
        r#"{{"count()":{{"data":[[1777593600,[{{"count":300}}]],[1777597200,[{{"count":100}}]]],"order":0,"start":1777593600,"end":1777600800}},
            "{late}":{{"data":[[1777593600,[{{"count":22}}]],[1777597200,[{{"count":0}}]]],"order":1,"start":1777593600,"end":1777600800}}}}"#
    );
    let trace = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
    let slowest = format!(r#"{{"data":[{{"trace":"{trace}","transaction.duration":3400,"id":"e1"}}],"meta":{{}}}}"#);
    let fake = Fake::start(vec![
        Reply::ok(table),
        Reply::ok(stats),
        Reply::ok(slowest),
        Reply::ok(file("tests/fixtures/sentry/trace-endpoint.json")),
    ])
    .await;
    let base = fake.base();
    let args = stats_args(
        "sentry",
        &base,
        &[
            "--org",
            "acme",
            "--operation",
            OPERATION,
            "--step",
            "1h",
            "--start",
            "2026-05-01T00:00:00Z",
            "--end",
            "2026-05-01T02:00:00Z",
            "--limit",
            "3",
            "--format",
            "json",
        ],
    );
    let run = tracedeck_with_env(args, sentry_env()).await;
    let (stdout, stderr) = (text(&run.stdout), text(&run.stderr));
    assert_eq!(run.status.code(), Some(1), "22 missed: {stderr}");

    let seen = fake.seen();
    assert!(seen.iter().all(|s| s.headers["authorization"] == "Bearer sntrys_secret"));
    let search = r#"project:front transaction:"POST /slack/interactions""#;
    let range = [("query", search), ("start", "2026-05-01T00:00:00"), ("end", "2026-05-01T02:00:00")];
    assert_eq!(seen[0].path, "/api/0/organizations/acme/events/");
    assert_eq!(seen[0].params(), [strings(&SENTRY_FIELDS), strings(&range)].concat());
    assert_eq!(seen[1].path, "/api/0/organizations/acme/events-stats/");
    let axes = [("dataset", "transactions"), ("yAxis", "count()"), ("yAxis", late), ("interval", "1h")];
    assert_eq!(seen[1].params(), [strings(&axes), strings(&range)].concat());
    let slow = [
        ("dataset", "transactions"),
        ("field", "trace"),
        ("field", "transaction.duration"),
        ("sort", "-transaction.duration"),
        ("per_page", "3"),
    ];
    assert_eq!(seen[2].params(), [strings(&slow), strings(&range)].concat());
    assert_eq!(seen[3].path, format!("/api/0/organizations/acme/trace/{trace}/"));

    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let server = &json["server"];
    assert_eq!(
        (server["backend"].as_str(), server["roots"].as_u64(), server["missed"].as_u64()),
        (Some("sentry"), Some(400), Some(22))
    );
    assert_eq!(server["miss_rate"].as_f64(), Some(0.055));
    let interval = &server["interval"];
    assert!((interval["low"].as_f64().unwrap() - 0.03659).abs() < 5e-5, "{interval}");
    assert_eq!(server["text"], "22 of 400 missed the 3 s deadline: 5.5% (95% CI 3.7–8.2%)");
    assert_eq!(server["root_duration"]["p95"]["ns"].as_i64(), Some(2_900_500_000));
    assert_eq!(server["step"]["ms"].as_f64(), Some(3_600_000.0));
    let trend = server["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 2);
    assert_eq!(
        (trend[0]["start"].as_str(), trend[0]["roots"].as_u64(), trend[0]["missed"].as_u64()),
        (Some("2026-05-01T00:00:00Z"), Some(300), Some(22))
    );
    assert_eq!(trend[1]["text"], "0 of 100 missed the 3 s deadline: below 3.0% at 95% confidence");
    assert_eq!(server["queries"].as_array().unwrap().len(), 2, "the two aggregate requests, to repeat by hand");
    assert!(server["notes"][0].as_str().unwrap().contains("traces sample rate"));
    assert_eq!(json["here"]["traces"].as_u64(), Some(1));
    assert_eq!(json["comparison"]["traces"].as_u64(), Some(1));
    assert!(json["gate"].is_null());
    assert!(!stdout.contains("sntrys_secret") && !stderr.contains("sntrys_secret"));
}

#[tokio::test]
async fn a_field_sentry_refuses_is_shown_as_it_said_it() {
    let detail = r#"{"detail":"Invalid query. Argument to function is wrong type."}"#;
    let fake = Fake::start(vec![Reply::status(400, detail)]).await;
    let base = fake.base();
    let args = stats_args("sentry", &base, &["--org", "acme"]);
    let run = tracedeck_with_env(args, sentry_env()).await;
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    let said =
        format!("{base} answered 400 Bad Request for the Discover query of organization acme; it said: {detail}");
    assert!(stderr.contains(&said), "{stderr}");
    assert_eq!(fake.seen().len(), 1, "a refused query is not retried");

    let args = stats_args("sentry", &base, &[]);
    let run = tracedeck_with_env(args, sentry_env()).await;
    assert_eq!(run.status.code(), Some(2));
    assert!(text(&run.stderr).contains("Sentry needs the organization slug (--org)"), "{}", text(&run.stderr));
}

#[tokio::test]
async fn jaeger_has_no_aggregates_and_falls_back_to_the_search() {
    let traces = sample_traces(3);
    let fake = Fake::start(vec![Reply::ok(jaeger_answer(&traces)), Reply::ok(jaeger_answer(&traces))]).await;
    let base = fake.base();
    let args = stats_args("jaeger", &base, &["--step", "1h"]);
    let run = tracedeck(args).await;
    let (stdout, stderr) = (text(&run.stdout), text(&run.stderr));
    assert!(
        stderr.contains("Jaeger keeps no aggregates, so it cannot count misses over all traffic (and no trend per --step): falling back to the search"),
        "{stderr}"
    );
    assert!(stdout.contains(&format!("summary: 3 traces from Jaeger at {base}")), "{stdout}");
    assert_eq!(fake.seen()[0].path, "/api/traces");

    let args = stats_args("jaeger", &base, &["--format", "json"]);
    let run = tracedeck(args).await;
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert!(json["server"].is_null());
    assert!(json["fallback"].as_str().unwrap().starts_with("Jaeger keeps no aggregates"));
    assert_eq!(json["here"]["traces"].as_u64(), Some(3));
}

#[tokio::test]
async fn a_tempo_trend_per_step_and_per_endpoint_in_text() {
    let series = |points: &[(&str, &str)]| {
        let samples: Vec<String> =
            points.iter().map(|(ms, v)| format!(r#"{{"timestampMs":"{ms}","value":{v}}}"#)).collect();
        format!(r#"{{"series":[{{"labels":[],"samples":[{}]}}],"metrics":{{}}}}"#, samples.join(","))
    };
    let by = |rows: &[(&str, &str)]| {
        let each: Vec<(Vec<(&str, &str)>, &str)> = rows.iter().map(|(name, v)| (vec![("name", *name)], *v)).collect();
        let refs: Vec<(&[(&str, &str)], &str)> = each.iter().map(|(l, v)| (l.as_slice(), *v)).collect();
        instant(&refs)
    };
    let fake = Fake::start(vec![
        Reply::ok(instant(&[(&[], "30")])),
        Reply::ok(instant(&[(&[], "3")])),
        Reply::ok(instant(&[])),
        Reply::ok(by(&[("POST /slack/events", "10"), ("POST /slack/interactions", "20")])),
        Reply::ok(by(&[("POST /slack/interactions", "3")])),
        Reply::ok(instant(&[])),
        Reply::ok(series(&[("1777593600000", "20"), ("1777597200000", "10")])),
        Reply::ok(series(&[("1777593600000", "3")])),
        Reply::ok(r#"{"traces":[]}"#),
    ])
    .await;
    let base = fake.base();
    let args = stats_args(
        "tempo",
        &base,
        &["--step", "1h", "--by-endpoint", "--start", "2026-05-01T00:00:00Z", "--end", "2026-05-01T02:00:00Z"],
    );
    let run = tracedeck(args).await;
    let (stdout, stderr) = (text(&run.stdout), text(&run.stderr));
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    let seen = fake.seen();
    let root = r#"{ nestedSetParent < 0 && resource.service.name = "front" }"#;
    assert_eq!(seen[3].param("q").unwrap(), format!("{root} | count_over_time() by (name)"));
    assert_eq!(seen[6].path, "/api/metrics/query_range");
    let range = strings(&[("start", "1777593600"), ("end", "1777600800"), ("step", "1h")]);
    assert_eq!(
        seen[6].params(),
        [vec![("q".to_owned(), format!("{root} | count_over_time()"))], range.clone()].concat()
    );
    let late = r#"{ nestedSetParent < 0 && resource.service.name = "front" && duration > 3s } | count_over_time()"#;
    assert_eq!(seen[7].params(), [vec![("q".to_owned(), late.to_owned())], range].concat());
    let expected = "  by endpoint:
    \"POST /slack/interactions\": 3 of 20 missed the 3 s deadline: 15.0% (95% CI 5.2–36.0%)
    \"POST /slack/events\": 0 of 10 missed the 3 s deadline: below 25.9% at 95% confidence
  note: ";
    assert!(stdout.contains(expected), "{stdout}");
    let trend = "trend per 1h, computed by Tempo:
  2026-05-01T00:00:00Z  3 of 20 missed the 3 s deadline: 15.0% (95% CI 5.2–36.0%)
  2026-05-01T01:00:00Z  0 of 10 missed the 3 s deadline: below 25.9% at 95% confidence
";
    assert!(stdout.contains(trend), "{stdout}");
}

#[tokio::test]
async fn sentry_per_endpoint_in_text() {
    let late = "count_if(transaction.duration,greater,3000)";
    let row = |name: Option<&str>, count: u32, missed: u32| {
        let transaction = name.map(|n| format!(r#""transaction":"{n}","#)).unwrap_or_default();
        format!(r#"{{{transaction}"count()":{count},"{late}":{missed},"p50(transaction.duration)":null}}"#)
    };
    let table =
        |rows: Vec<String>| Reply::ok(format!(r#"{{"data":[{}],"meta":{{"isMetricsData":true}}}}"#, rows.join(",")));
    let fake = Fake::start(vec![
        table(vec![row(None, 30, 3)]),
        table(vec![row(Some("POST /slack/interactions"), 20, 3), row(Some("POST /slack/events"), 10, 0)]),
        table(Vec::new()),
    ])
    .await;
    let base = fake.base();
    let args = stats_args("sentry", &base, &["--org", "acme", "--by-endpoint", "--since", "2h"]);
    let run = tracedeck_with_env(args, sentry_env()).await;
    let (stdout, stderr) = (text(&run.stdout), text(&run.stderr));
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    let seen = fake.seen();
    assert_eq!(seen.len(), 3, "nothing slow to fetch");
    let params = seen[1].params();
    let grouped: Vec<(String, String)> = params.iter().filter(|(k, _)| k != "start" && k != "end").cloned().collect();
    let by = [("field", "transaction"), ("sort", "-count()"), ("per_page", "100"), ("query", "project:front")];
    assert_eq!(grouped, [strings(&SENTRY_FIELDS), strings(&by)].concat());
    let expected = format!(
        "server: 3 of 30 missed the 3 s deadline: 10.0% (95% CI 3.5–25.6%), computed by Sentry over 2 hours
  counted: root spans of service \"front\" in Sentry at {base}; a root over 3 s misses the ack deadline
  by endpoint:
    \"POST /slack/interactions\": 3 of 20 missed the 3 s deadline: 15.0% (95% CI 5.2–36.0%)
    \"POST /slack/events\": 0 of 10 missed the 3 s deadline: below 25.9% at 95% confidence
  note: Sentry answered from its metrics, extrapolated over the sampled transactions
"
    );
    assert!(stdout.starts_with(&expected), "{stdout}");
}
