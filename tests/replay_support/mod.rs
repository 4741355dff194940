//! Shared set-up for the replay tests: the mock, the demo app and a sample capture, in-process
//! on loopback.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracedeck::replay::capture::Capture;
use tracedeck::replay::demo_app::{self, Delays, DemoConfig, Mode};
use tracedeck::replay::driver::ReplayConfig;
use tracedeck::replay::mock::{MockConfig, MockSlack};
use tracedeck::replay::signing::Secret;

/// The signing secret of slack-platform.md's test vectors.
pub const SECRET: &str = "tracedeck-signing-secret-0001";
/// The bot token the app sends and the mock accepts.
pub const TOKEN: &str = "xoxb-tracedeck-test";

/// A loopback port free now, for a server another process starts later, and one no other call
/// in this test binary has handed out: the tests run at once, and the system may give a port
/// just let go to the next caller of `bind(0)`, so two tests could otherwise be handed the
/// same port, and one of them send to the other's server.
pub fn free_port() -> u16 {
    static HANDED_OUT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut handed_out = HANDED_OUT.lock().unwrap();
        if !handed_out.contains(&port) {
            handed_out.push(port);
            return port;
        }
    }
}

/// A mock on a free loopback port with the given trigger lifetime.
pub async fn mock(trigger_ttl: Duration) -> Arc<MockSlack> {
    let mut config = MockConfig::new(Secret::new(TOKEN));
    config.trigger_ttl = trigger_ttl;
    mock_with(config).await
}

/// A mock on a free loopback port.
pub async fn mock_with(config: MockConfig) -> Arc<MockSlack> {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    Arc::new(MockSlack::start(addr, config, CancellationToken::new()).await.expect("the mock binds"))
}

/// Starts the demo app on a free loopback port; returns its URL and its stop token.
pub async fn demo(mode: Mode, seed: u64, delays: Delays, api_url: String, secret: &str) -> (String, CancellationToken) {
    demo_exporting(mode, seed, delays, api_url, secret, None).await
}

/// [`demo`], exporting the app's own spans to the OTLP/HTTP collector at `otlp_url`.
pub async fn demo_exporting(
    mode: Mode,
    seed: u64,
    delays: Delays,
    api_url: String,
    secret: &str,
    otlp_url: Option<String>,
) -> (String, CancellationToken) {
    demo_sending(mode, seed, delays, api_url, secret, otlp_url, None).await
}

/// [`demo`], sending the app's own spans to an OTLP/HTTP collector and to a Sentry DSN.
pub async fn demo_sending(
    mode: Mode,
    seed: u64,
    delays: Delays,
    api_url: String,
    secret: &str,
    otlp_url: Option<String>,
    sentry_dsn: Option<String>,
) -> (String, CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let config = DemoConfig { otlp_url, sentry_dsn, ..demo_config(mode, seed, delays, api_url, secret) };
    (url, serve_demo(listener, config))
}

/// The demo app's configuration: the test token, no logging, no telemetry, no token check.
pub fn demo_config(mode: Mode, seed: u64, delays: Delays, api_url: String, secret: &str) -> DemoConfig {
    DemoConfig::new(mode, seed, delays, Secret::new(secret), Secret::new(TOKEN), api_url)
}

/// Serves the demo app on `listener` (on the current runtime); returns its stop token.
pub fn serve_demo(listener: tokio::net::TcpListener, config: DemoConfig) -> CancellationToken {
    let stop = CancellationToken::new();
    tokio::spawn(demo_app::serve(listener, config, stop.clone()));
    stop
}

/// Queue delays a tenth of the incident's (fast 10–150 ms, slow 340–450 ms).
pub fn short_delays() -> Delays {
    Delays {
        fast: (Duration::from_millis(10), Duration::from_millis(150)),
        slow: (Duration::from_millis(340), Duration::from_millis(450)),
        slow_percent: 35,
    }
}

/// A sample capture from sample-traces/.
pub fn sample(name: &str) -> Arc<Capture> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-traces").join(name);
    Arc::new(Capture::load(&path).expect("the sample capture loads"))
}

/// A replay configuration for a target with short waits.
pub fn config(target: &str, runs: usize, concurrency: usize, wait: Duration) -> Arc<ReplayConfig> {
    let url = tracedeck::replay::driver::resolve_target(target, false).unwrap();
    let mut config = ReplayConfig::new(url, Secret::new(SECRET));
    config.runs = runs;
    config.concurrency = concurrency;
    config.wait = wait;
    config.response_timeout = Duration::from_secs(5);
    Arc::new(config)
}

/// An HTTP client for calling the mock directly.
pub fn client() -> reqwest::Client {
    tracedeck::replay::http_client().build().unwrap()
}
