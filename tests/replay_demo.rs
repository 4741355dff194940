//! `tracedeck replay --demo buggy|fixed`: the replay tried without an app or secrets of one's
//! own, the binary against the demo app it runs itself.

use std::process::Command;

fn replay_demo(mode: &str) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tracedeck"))
        .args(["replay", "--demo", mode, "--runs", "10", "--concurrency", "10"])
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
        let buggy = s.spawn(|| replay_demo("buggy"));
        let fixed = s.spawn(|| replay_demo("fixed"));
        (buggy.join().unwrap(), fixed.join().unwrap())
    });
    assert_eq!(buggy.0, Some(1), "{}", buggy.1);
    assert!(buggy.1.contains("expired_trigger_id"), "{}", buggy.1);
    assert!(buggy.1.contains("of 10 runs failed: ") && buggy.1.contains("(95% CI "), "{}", buggy.1);
    assert!(buggy.1.contains("resolve-button.capture.json (built in)"), "{}", buggy.1);
    assert_eq!(fixed.0, Some(0), "{}", fixed.1);
    assert!(fixed.1.contains("0 of 10 runs failed: below 25.9% at 95% confidence"), "{}", fixed.1);
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
