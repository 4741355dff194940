//! A Slack-style interaction endpoint with the incident's bug (`--mode buggy`), its fix
//! (`--mode fixed`) and the Bolt habit of acking after `views.open` (`--mode ack-after-open`),
//! to replay captured interactions against. The app lives in the library
//! (`tracedeck::replay::demo_app`); this is its command line.
//!
//! ```text
//! SLACK_SIGNING_SECRET=... SLACK_BOT_TOKEN=xoxb-... SLACK_API_URL=http://127.0.0.1:8990/api/ \
//!   cargo run --release --example slack_app -- --mode buggy --listen 127.0.0.1:3000 --seed 7
//! ```
//!
//! With `--verify-token` it checks its token with `auth.test` at start, retrying with back-off
//! while the mock is not up, as Bolt does: start it after `tracedeck replay --wait-for-target`.
//! With `--otlp http://127.0.0.1:4318` it exports its own spans to tracedeck's receiver, and
//! they appear in the Replay panel's waterfall under the replayed request; with
//! `--sentry-dsn http://public@127.0.0.1:8969/1` it sends them as a Sentry SDK would, to
//! tracedeck's Sentry receiver.
//!
//! With `--socket` it runs in Socket Mode instead (no HTTP endpoint, no signing secret): it calls
//! `apps.connections.open` at `SLACK_API_URL` with `SLACK_APP_TOKEN` and takes interactions over
//! the WebSocket it gets:
//!
//! ```text
//! SLACK_APP_TOKEN=xapp-... SLACK_BOT_TOKEN=xoxb-... SLACK_API_URL=http://127.0.0.1:8990/api/ \
//!   cargo run --release --example slack_app -- --mode fixed --socket
//! ```

use std::net::SocketAddr;

use clap::Parser;
use tokio_util::sync::CancellationToken;
use tracedeck::replay::demo_app::{self, Delays, DemoConfig, Mode};
use tracedeck::replay::signing::Secret;

/// A Slack interaction endpoint that opens a modal, buggy or fixed.
#[derive(Parser)]
struct Args {
    /// buggy: ack, queue, then views.open (sometimes too late); fixed: views.open at once, then views.update.
    #[arg(long, value_enum)]
    mode: Mode,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Seeds the queue's delays.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Export the app's own spans to this OTLP/HTTP collector, e.g. tracedeck's receiver
    /// (Live ▸ Receive OTLP): http://127.0.0.1:4318.
    #[arg(long, value_name = "URL")]
    otlp: Option<String>,
    /// Check the bot token with auth.test at start, retrying with back-off (1 s, doubling) while
    /// the Web API cannot be reached, as Bolt does; interactions wait for the check.
    #[arg(long)]
    verify_token: bool,
    /// Send the app's own spans to this Sentry DSN as envelopes of transactions, as a Sentry SDK
    /// does, e.g. to tracedeck's Sentry receiver (Live ▸ Receive Sentry, or `tracedeck replay
    /// --sentry 127.0.0.1:8969`): http://public@127.0.0.1:8969/1.
    #[arg(long, value_name = "DSN")]
    sentry_dsn: Option<String>,
    /// Socket Mode: connect through apps.connections.open (SLACK_APP_TOKEN) instead of listening.
    #[arg(long, conflicts_with = "listen")]
    socket: bool,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    // Socket Mode needs the app-level token and no signing secret (nothing is signed).
    let secrets = match args.socket {
        false => Secret::from_env("SLACK_SIGNING_SECRET").map(|s| (s, None)),
        true => Secret::from_env("SLACK_APP_TOKEN").map(|t| (Secret::new(""), Some(t))),
    };
    let secrets = secrets.and_then(|(s, app)| Ok((s, app, Secret::from_env("SLACK_BOT_TOKEN")?)));
    let (signing_secret, app_token, bot_token) = match secrets {
        Ok(pair) => pair,
        Err(e) => {
            eprintln!("slack_app: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let mut api_url = std::env::var("SLACK_API_URL").unwrap_or_else(|_| "https://slack.com/api/".into());
    if !api_url.ends_with('/') {
        api_url.push('/');
    }
    let config = DemoConfig {
        mode: args.mode,
        seed: args.seed,
        delays: Delays::incident(),
        signing_secret,
        bot_token,
        api_url: api_url.clone(),
        log: true,
        otlp_url: args.otlp,
        verify_token: args.verify_token.then_some(std::time::Duration::from_secs(1)),
        sentry_dsn: args.sentry_dsn,
    };
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.cancel();
        }
    });
    let served = match app_token {
        Some(app_token) => {
            eprintln!("slack_app: {:?} mode in Socket Mode, Web API at {api_url}", args.mode);
            demo_app::socket::connect(config, app_token, shutdown).await
        }
        None => {
            let listener = match tokio::net::TcpListener::bind(args.listen).await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("slack_app: cannot listen on {}: {e}", args.listen);
                    return std::process::ExitCode::from(2);
                }
            };
            eprintln!("slack_app: {:?} mode on http://{}, Web API at {api_url}", args.mode, args.listen);
            demo_app::serve(listener, config, shutdown).await
        }
    };
    match served {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("slack_app: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
