//! `tracedeck replay --demo buggy|fixed`: the replay tried without an app or secrets of one's
//! own, the binary against the demo app it runs itself.

use std::process::Command;

fn replay_demo(mode: &str, extra: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tracedeck"))
        .args(["replay", "--demo", mode, "--runs", "10", "--concurrency", "10"])
        .args(extra)
        .env_remove("SLACK_SIGNING_SECRET")
        .env_remove("SLACK_BOT_TOKEN")
        .output()
        .expect("the binary runs");
    let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

#[test]
fn the_buggy_demo_app_fails_some_runs_and_the_fixed_one_passes_every_run() {
    let (buggy, fixed) = std::thread::scope(|s| {
        let buggy = s.spawn(|| replay_demo("buggy", &[]));
        let fixed = s.spawn(|| replay_demo("fixed", &[]));
        (buggy.join().unwrap(), fixed.join().unwrap())
    });
    assert_eq!(buggy.0, Some(1), "{}", buggy.1);
    assert!(buggy.1.contains("expired_trigger_id"), "{}", buggy.1);
    assert!(buggy.1.contains("of 10 runs failed: ") && buggy.1.contains("(95% CI "), "{}", buggy.1);
    assert!(
        buggy.1.contains("resolve-button.capture.json (built in) against the demo app at http://127.0.0.1:"),
        "{}",
        buggy.1
    );
    assert_eq!(fixed.0, Some(0), "{}", fixed.1);
    assert!(fixed.1.contains("0 of 10 runs failed: below 25.9% at 95% confidence"), "{}", fixed.1);
    assert!(fixed.1.contains("judged by the slack profile's 3 s limit"), "{}", fixed.1);
}

#[test]
fn the_runs_are_judged_by_the_profile_given() {
    // A limit no app can meet: the fixed app's acks are late by the profile's rule.
    let (status, text) = replay_demo("fixed", &["--deadline", "1us"]);
    assert_eq!(status, Some(1), "{text}");
    assert!(text.contains("judged by the slack profile's 1.0 µs limit"), "{text}");
    assert!(text.contains("after the slack profile's 1.0 µs limit"), "{text}");
    // A profile without Slack's trigger_id check judges the ack alone: the buggy app's late
    // modals are not its business.
    let (status, text) = replay_demo("buggy", &["--profile", "github"]);
    assert_eq!(status, Some(0), "{text}");
    assert!(text.contains("the github profile has no trigger_id check"), "{text}");
}

#[test]
fn demo_takes_no_capture_or_target() {
    let out = Command::new(env!("CARGO_BIN_EXE_tracedeck"))
        .args(["replay", "--demo", "buggy", "--target", "http://127.0.0.1:9"])
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"), "{:?}", out);
}
