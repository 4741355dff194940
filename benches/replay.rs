//! Harness overhead per replay against a no-op local server (mint, re-encode, sign, send,
//! response, verdict; no wait), and replays per second sustained with concurrency.
//!
//! `cargo bench --bench replay` measures; without `--bench` (as under `cargo test --all-targets`)
//! it does a tiny smoke run only.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tracedeck::replay::capture::Capture;
use tracedeck::replay::driver::{ReplayConfig, client, replay_all, replay_once, resolve_target};
use tracedeck::replay::mock::{MockConfig, MockSlack};
use tracedeck::replay::signing::Secret;
use tracedeck::replay::verdict::Percentiles;

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let (sequential, sustained, concurrency) = if measuring { (2000, 20_000, 16) } else { (5, 20, 4) };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, axum::Router::new().fallback(|| async { "" })).await });
        let cancel = CancellationToken::new();
        let mock = Arc::new(
            MockSlack::start(
                "127.0.0.1:0".parse().unwrap(),
                MockConfig::new(Secret::new("xoxb-bench")),
                cancel.clone(),
            )
            .await
            .unwrap(),
        );
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-traces/resolve-button.capture.json");
        let capture = Arc::new(Capture::load(&path).unwrap());
        let mut config = ReplayConfig::new(resolve_target(&target, false).unwrap(), Secret::new("bench-secret"));
        config.wait = Duration::ZERO;
        let http = client(&config).unwrap();

        let mut times = Vec::with_capacity(sequential);
        for i in 0..sequential {
            let started = Instant::now();
            let result = replay_once(&mock, &http, &capture.prepared[0], &config, i + 1, None, &cancel).await;
            times.push(started.elapsed());
            assert!(matches!(result.record.response, Some(Ok(ref ack)) if ack.status == 200));
        }
        let overhead = Percentiles::of(times).unwrap();
        println!("replay overhead per run, sequential, {sequential} runs: {overhead}");

        config.runs = sustained;
        config.concurrency = concurrency;
        let started = Instant::now();
        let results = replay_all(mock.clone(), capture, Arc::new(config), None, cancel.clone()).await.unwrap();
        let elapsed = started.elapsed();
        assert_eq!(results.len(), sustained);
        assert!(results.iter().all(|r| matches!(r.record.response, Some(Ok(_)))));
        println!(
            "sustained: {sustained} replays at concurrency {concurrency} in {:.2} s = {:.0} replays/s",
            elapsed.as_secs_f64(),
            sustained as f64 / elapsed.as_secs_f64()
        );
        cancel.cancel();
    });
}
