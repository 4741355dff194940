//! `tracedeck fetch` through the real binary, against a fake Jaeger.

mod fetch_support;

use fetch_support::{Fake, Reply, file, tracedeck, tracedeck_with_env};

const ID: &str = "5f3c9a1e7b2d4c8e9a0b1c2d3e4f5a6b";

fn args(fake: &Fake, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["fetch", "--from", "jaeger", "--url", &fake.base(), ID].map(String::from).to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[tokio::test]
async fn saves_the_answer_and_never_overwrites_without_force() {
    let body = file("sample-traces/incident-before.jaeger.json");
    let fake = Fake::start(vec![Reply::ok(body.clone()), Reply::ok(body.clone())]).await;
    let dir = std::env::temp_dir().join(format!("tracedeck-fetch-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("trace.json");
    let _ = std::fs::remove_file(&out);
    let path = out.display().to_string();

    let run = tracedeck(args(&fake, &["-o", &path])).await;
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(std::fs::read(&out).unwrap(), body, "saved as received");
    assert_eq!(fake.seen()[0].headers["authorization"], "Bearer cli-secret-token");

    std::fs::write(&out, b"the user's own notes").unwrap();
    let again = tracedeck(args(&fake, &["-o", &path])).await;
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists; pass --force"));
    assert_eq!(std::fs::read(&out).unwrap(), b"the user's own notes", "nothing of the user's is lost");
    assert_eq!(fake.seen().len(), 1, "refused before fetching");

    let forced = tracedeck(args(&fake, &["-o", &path, "--force"])).await;
    assert!(forced.status.success());
    assert_eq!(std::fs::read(&out).unwrap(), body);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn without_a_file_it_prints_one_line_and_errors_never_show_the_token() {
    let jaeger = || Reply::ok(file("sample-traces/incident-before.jaeger.json"));
    let fake = Fake::start(vec![jaeger(), jaeger(), Reply::status(401, "")]).await;
    let run = tracedeck(args(&fake, &[])).await;
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with(&format!("Jaeger at {}, trace {ID}: 7 spans over ", fake.base())), "{stdout}");

    // Jaeger often needs no token: going without one is not worth a note.
    let tokenless = tracedeck_with_env(args(&fake, &[]), Vec::new()).await;
    assert!(tokenless.status.success());
    assert!(tokenless.stderr.is_empty(), "{}", String::from_utf8_lossy(&tokenless.stderr));

    let refused = tracedeck(args(&fake, &["--retries", "0"])).await;
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr.contains("401 Unauthorized") && stderr.contains(&fake.base()), "{stderr}");
    assert!(!stderr.contains("cli-secret-token") && !String::from_utf8_lossy(&refused.stdout).contains("cli-secret"));
}

/// Runs the binary with the connections file at `file` and the given environment.
async fn with_connections(file: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    env.push(("TRACEDECK_CONNECTIONS".into(), file.display().to_string()));
    tracedeck_with_env(args.iter().map(|s| s.to_string()).collect(), env).await
}

#[tokio::test]
async fn saved_connections_are_added_listed_used_and_removed() {
    let jaeger = file("sample-traces/incident-before.jaeger.json");
    let fake = Fake::start(vec![Reply::ok(jaeger.clone()), Reply::ok(jaeger)]).await;
    let dir = std::env::temp_dir().join(format!("tracedeck-connections-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let connections = dir.join("connections.json");
    let token = [("TRACEDECK_TOKEN_LOCAL_JAEGER", "conn-secret-token")];

    let added = with_connections(
        &connections,
        &["connections", "add", "local-jaeger", "--from", "jaeger", "--url", &fake.base()],
        &[],
    )
    .await;
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let saved = std::fs::read_to_string(&connections).unwrap();
    assert!(saved.contains("local-jaeger") && saved.contains(&fake.base()), "{saved}");

    let listed = with_connections(&connections, &["connections"], &token).await;
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("local-jaeger: Jaeger at"), "{listed}");
    assert!(listed.contains("token from TRACEDECK_TOKEN_LOCAL_JAEGER"), "{listed}");
    assert!(!listed.contains("conn-secret-token"), "{listed}");

    let fetched = with_connections(&connections, &["fetch", "--connection", "local-jaeger", ID], &token).await;
    assert!(fetched.status.success(), "{}", String::from_utf8_lossy(&fetched.stderr));
    assert!(String::from_utf8_lossy(&fetched.stdout).contains("missed"), "a verdict line");
    assert_eq!(fake.seen()[0].path, format!("/api/traces/{ID}"));
    assert_eq!(fake.seen()[0].headers["authorization"], "Bearer conn-secret-token");

    let searched =
        with_connections(&connections, &["search", "--connection", "local-jaeger", "--service", "front"], &token).await;
    assert_eq!(searched.status.code(), Some(1), "{}", String::from_utf8_lossy(&searched.stderr));
    assert!(String::from_utf8_lossy(&searched.stdout).contains("1 of 1 missed"), "the search used the connection");
    assert_eq!(fake.seen()[1].path, "/api/traces");

    let unknown = with_connections(&connections, &["fetch", "--connection", "nope", ID], &[]).await;
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no connection called \"nope\""));

    let bad =
        with_connections(&connections, &["connections", "add", "x", "--from", "sentry", "--url", "https://s.io"], &[])
            .await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("organization slug"));

    let removed = with_connections(&connections, &["connections", "remove", "LOCAL-JAEGER"], &[]).await;
    assert!(removed.status.success());
    assert!(!std::fs::read_to_string(&connections).unwrap().contains("local-jaeger"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn tokens_only_go_to_the_hosts_they_were_saved_for() {
    let sentry = "4bf92f3577b34da6a3ce929d0e0e4736";
    let trace = file("tests/fixtures/sentry/trace-endpoint.json");
    let fake = Fake::start(vec![Reply::ok(trace.clone()), Reply::ok(trace)]).await;
    let env = vec![("SENTRY_AUTH_TOKEN".to_owned(), "sentry-secret".to_owned())];

    // A pasted link names the host: Sentry's token does not go there.
    let pasted = format!("{}/organizations/acme/performance/trace/{sentry}/", fake.base());
    let run = tracedeck_with_env(vec!["fetch".into(), "--from".into(), "sentry".into(), pasted], env.clone()).await;
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(fake.seen()[0].headers.get("authorization").is_none(), "no token to a host from a link");
    let said = format!(
        "tracedeck: fetching without a token (Sentry tokens are only sent to sentry.io or the base URL you give, not to {})",
        fake.base()
    );
    assert!(stderr.contains(&said), "{stderr}");
    assert!(!stderr.contains("sentry-secret"));

    // The base URL the user gives gets it.
    let given = ["fetch", "--from", "sentry", "--url", &fake.base(), "--org", "acme", sentry].map(String::from);
    let run = tracedeck_with_env(given.to_vec(), env).await;
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(fake.seen()[1].headers["authorization"], "Bearer sentry-secret");

    // The same for the other back-ends' tokens.
    let jaeger = Fake::start(vec![Reply::ok(file("sample-traces/incident-before.jaeger.json"))]).await;
    let run =
        tracedeck(["fetch", "--from", "jaeger", &format!("{}/trace/{ID}", jaeger.base())].map(String::from).to_vec())
            .await;
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(jaeger.seen()[0].headers.get("authorization").is_none());
}

#[tokio::test]
async fn a_connections_token_stays_with_its_base_url() {
    let body = file("sample-traces/incident-before.jaeger.json");
    let (home, elsewhere) =
        (Fake::start(vec![Reply::ok(body.clone())]).await, Fake::start(vec![Reply::ok(body)]).await);
    let dir = std::env::temp_dir().join(format!("tracedeck-connections-origin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let connections = dir.join("connections.json");
    let token = [("TRACEDECK_TOKEN_HOME", "home-secret")];
    let add = ["connections", "add", "home", "--from", "jaeger", "--url", &home.base()];
    assert!(with_connections(&connections, &add, &[]).await.status.success());

    let moved =
        with_connections(&connections, &["fetch", "--connection", "home", "--url", &elsewhere.base(), ID], &token)
            .await;
    let stderr = String::from_utf8_lossy(&moved.stderr);
    assert!(moved.status.success(), "{stderr}");
    assert!(elsewhere.seen()[0].headers.get("authorization").is_none(), "not sent to another host");
    let said = format!(
        "the token of connection \"home\" is only sent to its base URL {}, not to {}",
        home.base(),
        elsewhere.base()
    );
    assert!(stderr.contains(&said), "{stderr}");

    let at_home =
        with_connections(&connections, &["fetch", "--connection", "home", "--url", &home.base(), ID], &token).await;
    assert!(at_home.status.success());
    assert_eq!(home.seen()[0].headers["authorization"], "Bearer home-secret");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn credentials_in_a_url_are_refused_and_never_repeated() {
    let dir = std::env::temp_dir().join(format!("tracedeck-connections-userinfo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let connections = dir.join("connections.json");
    let url = "http://ops:hunter2@127.0.0.1:9";
    let added =
        with_connections(&connections, &["connections", "add", "x", "--from", "jaeger", "--url", url], &[]).await;
    let fetched = with_connections(&connections, &["fetch", "--from", "jaeger", "--url", url, ID], &[]).await;
    for run in [added, fetched] {
        let (stdout, stderr) = (String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
        assert_eq!(run.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("put credentials in a token, not the URL"), "{stderr}");
        assert!(!stderr.contains("hunter2") && !stdout.contains("hunter2"), "{stderr}");
    }
    assert!(!connections.exists(), "nothing saved");
}

#[tokio::test]
async fn an_answer_that_is_not_a_trace_exits_2_and_says_so() {
    let fake = Fake::start(vec![Reply::ok(r#"{"hello": 1}"#)]).await;
    let run = tracedeck(args(&fake, &[])).await;
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    let said = format!("Jaeger at {} answered something that is not a Jaeger trace: expected an object", fake.base());
    assert!(stderr.contains(&said), "{stderr}");
    assert!(!stderr.contains("has no trace"), "{stderr}");
}

#[tokio::test]
async fn force_replaces_the_file_instead_of_writing_into_it() {
    let body = file("sample-traces/incident-before.jaeger.json");
    let fake = Fake::start(vec![Reply::ok(body.clone())]).await;
    let dir = std::env::temp_dir().join(format!("tracedeck-fetch-force-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (out, other_name) = (dir.join("trace.json"), dir.join("the same file, another name"));
    std::fs::write(&out, b"the old trace").unwrap();
    // A second name for the old file sees whether it was written into or replaced.
    std::fs::hard_link(&out, &other_name).unwrap();
    let run = tracedeck(args(&fake, &["-o", &out.display().to_string(), "--force"])).await;
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(std::fs::read(&out).unwrap(), body);
    assert_eq!(std::fs::read(&other_name).unwrap(), b"the old trace", "the old file was replaced, not truncated");
    std::fs::remove_dir_all(&dir).unwrap();
}
