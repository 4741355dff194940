//! `tracedeck search` through the real binary, against a fake Jaeger: a verdict line per trace,
//! the summary and the exit status of `check`, and a saved file that `check` reads back.

mod fetch_support;

use fetch_support::{Fake, Reply, jaeger_answer, sample_traces, tempo_answer, tracedeck};
use tracedeck::analysis::{Outcome, Profile, Sample, Summary, analyze};
use tracedeck::model::Trace;

const SERVICE: &str = "front";

fn args(fake: &Fake, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> =
        ["search", "--from", "jaeger", "--url", &fake.base(), "--service", SERVICE].map(String::from).to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn prints_each_verdict_and_the_summary_and_saves_a_file_check_reads() {
    // Five traces that met the deadline and three that missed it.
    let profile = Profile::built_in("slack").unwrap();
    let outcome = |t: &Trace| analyze(t, &profile).outcome;
    let (mut traces, mut misses): (Vec<Trace>, Vec<Trace>) = sample_traces(usize::MAX)
        .into_iter()
        .filter(|t| outcome(t) != Outcome::Undecided)
        .partition(|t| outcome(t) == Outcome::Pass);
    traces.truncate(5);
    traces.extend(misses.drain(..3));
    let samples: Vec<Sample> = traces.iter().map(|t| Sample::of(&analyze(t, &profile))).collect();
    let missed = samples.iter().filter(|s| s.outcome == Outcome::Miss).count();
    assert_eq!((traces.len(), missed), (8, 3));
    let rate = Summary::of(samples.iter().copied()).rate.sentence(profile.limit);
    assert!(rate.starts_with(&format!("{missed} of 8 missed")), "{rate}");

    let fake = Fake::start(vec![Reply::ok(jaeger_answer(&traces)), Reply::ok(jaeger_answer(&traces))]).await;
    let dir = std::env::temp_dir().join(format!("tracedeck-search-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let saved = dir.join("found.json");
    let _ = std::fs::remove_file(&saved);
    let path = saved.display().to_string();

    let run = tracedeck(args(&fake, &["--since", "2h", "--min-duration", "1s", "--limit", "50", "-o", &path])).await;
    let (stdout, stderr) = (text(&run.stdout), text(&run.stderr));
    assert_eq!(run.status.code(), Some(1), "some missed: {stderr}");

    let seen = &fake.seen()[0];
    assert_eq!(seen.path, "/api/traces");
    assert_eq!(seen.headers["authorization"], "Bearer cli-secret-token");
    let param = |name: &str| seen.param(name).unwrap_or_else(|| panic!("no {name} in {:?}", seen.query));
    assert_eq!((param("service"), param("minDuration"), param("limit")), (SERVICE.into(), "1s".into(), "50".into()));
    let (start, end): (i64, i64) = (param("start").parse().unwrap(), param("end").parse().unwrap());
    assert!((7_200_000_000..=7_200_000_001).contains(&(end - start)), "two hours in µs: {start}..{end}");
    assert!(seen.param("operation").is_none());

    let lines: Vec<&str> = stdout.lines().collect();
    for (line, trace) in lines.iter().zip(&traces) {
        let head = format!("Jaeger at {}, trace {}: {} spans over ", fake.base(), trace.trace_id(), trace.len());
        assert!(line.starts_with(&head), "{line:?} should start with {head:?}");
    }
    assert_eq!(lines[8], format!("summary: 8 traces from Jaeger at {}", fake.base()));
    assert_eq!(lines[9], format!("  {rate}"));
    assert!(stdout.contains(&format!("in Jaeger at {}\n", fake.base())), "the worst trace's source: {stdout}");
    assert!(
        stderr.contains(&format!("found 8 traces of service \"{SERVICE}\", with a span of at least 1 s")),
        "{stderr}"
    );
    assert!(!stdout.contains("cli-secret-token") && !stderr.contains("cli-secret-token"));

    // The saved file holds the same traces, and check judges them alike.
    let check = tracedeck(vec!["check".into(), "--summary".into(), "--quiet".into(), path.clone()]).await;
    assert_eq!(check.status.code(), Some(1), "{}", text(&check.stderr));
    assert!(
        text(&check.stdout).contains(&format!("summary: 8 traces from 1 file\n  {rate}\n")),
        "{}",
        text(&check.stdout)
    );

    // Never replaced without --force, and refused before searching.
    let again = tracedeck(args(&fake, &["-o", &path])).await;
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("exists; pass --force"));
    assert_eq!(fake.seen().len(), 1);

    // A gate that allows every miss passes.
    let gated = tracedeck(args(&fake, &["--max-miss-rate", "100%"])).await;
    assert_eq!(gated.status.code(), Some(0), "{}", text(&gated.stderr));
    assert!(text(&gated.stdout).contains("gate: pass"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn finding_nothing_says_so_and_saves_nothing() {
    let fake = Fake::start(vec![Reply::ok(r#"{"data":[],"total":0,"limit":0,"offset":0,"errors":null}"#)]).await;
    let saved = std::env::temp_dir().join(format!("tracedeck-search-none-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&saved);
    let run = tracedeck(
        args(
            &fake,
            &["--operation", "POST /x", "--start", "2026-05-01T10:00:00Z", "--end", "2026-05-01T12:00:00+01:00", "-o"],
        )
        .into_iter()
        .chain([saved.display().to_string()])
        .collect(),
    )
    .await;
    let (stdout, stderr) = (text(&run.stdout), text(&run.stderr));
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(stdout.starts_with(&format!("summary: 0 traces from Jaeger at {}", fake.base())), "{stdout}");
    let said = "found no traces of service \"front\", operation \"POST /x\", from 2026-05-01T10:00:00Z to 2026-05-01T11:00:00Z";
    assert!(stderr.contains(said), "{stderr}");
    assert!(stderr.contains("nothing was saved") && !saved.exists());
}

#[tokio::test]
async fn bad_input_and_failures_exit_2() {
    let fake = Fake::start(vec![Reply::status(500, "down"), Reply::status(500, "down")]).await;
    let failed = tracedeck(args(&fake, &["--retries", "1"])).await;
    assert_eq!(failed.status.code(), Some(2));
    assert!(text(&failed.stderr).contains("500 Internal Server Error for trace search API; it said: down"));

    let cases = [
        (args(&fake, &["--since", "1h", "--start", "2026-05-01T10:00:00Z"]), "cannot be used with"),
        (args(&fake, &["--start", "2026-05-01 10:00"]), "expected RFC 3339"),
        (args(&fake, &["--limit", "0"]), "0"),
        (
            ["search", "--from", "sentry", "--url", "https://sentry.io", "--service", "x"].map(String::from).to_vec(),
            "searching Sentry is not supported; fetch by trace id",
        ),
    ];
    for (args, expected) in cases {
        let run = tracedeck(args.clone()).await;
        assert_eq!(run.status.code(), Some(2), "{args:?}");
        assert!(text(&run.stderr).contains(expected), "{args:?}: {}", text(&run.stderr));
    }
    assert_eq!(fake.seen().len(), 2, "only the failing search reached the server");
}

#[tokio::test]
async fn a_tempo_search_whose_every_hit_is_gone_judged_nothing_and_exits_2() {
    let ids: Vec<String> = ["1b", "2c"].map(String::from).to_vec();
    let gone = Reply::status(404, "trace not found");
    let fake = Fake::start(vec![Reply::ok(tempo_answer(&ids)), gone.clone(), gone]).await;
    let args = ["search", "--from", "tempo", "--url", &fake.base(), "--service", SERVICE, "--retries", "0"];
    let run = tracedeck(args.map(String::from).to_vec()).await;
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("2 more it listed were gone when fetched"), "{stderr}");
    let said = format!("nothing was judged: every trace Tempo at {} listed was gone when fetched", fake.base());
    assert!(stderr.contains(&said), "{stderr}");

    // A hit that cannot be read is a failed search.
    let fake = Fake::start(vec![Reply::ok(tempo_answer(&ids)), Reply::ok(r#"{"hello": 1}"#)]).await;
    let args = ["search", "--from", "tempo", "--url", &fake.base(), "--service", SERVICE];
    let run = tracedeck(args.map(String::from).to_vec()).await;
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    assert!(text(&run.stderr).contains("answered something that is not a Tempo trace"), "{}", text(&run.stderr));
}
