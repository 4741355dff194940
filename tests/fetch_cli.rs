//! `tracedeck fetch` through the real binary, against a fake Jaeger.

mod fetch_support;

use fetch_support::{Fake, Reply, file, tracedeck};

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
    let fake =
        Fake::start(vec![Reply::ok(file("sample-traces/incident-before.jaeger.json")), Reply::status(401, "")]).await;
    let run = tracedeck(args(&fake, &[])).await;
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with(&format!("Jaeger at {}, trace {ID}: 7 spans over ", fake.base())), "{stdout}");

    let refused = tracedeck(args(&fake, &["--retries", "0"])).await;
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr.contains("401 Unauthorized") && stderr.contains(&fake.base()), "{stderr}");
    assert!(!stderr.contains("cli-secret-token") && !String::from_utf8_lossy(&refused.stdout).contains("cli-secret"));
}
