//! The demo app run inside tracedeck itself, for "try the replay" (`replay --demo`, and the
//! window's "Try the replay on the demo app"): the bundled capture, made-up secrets known only
//! to this process, and the app on a free loopback port.

use std::net::TcpListener;

use tokio_util::sync::CancellationToken;

use super::{Delays, DemoConfig, Mode};
use crate::replay::signing::Secret;

/// How the built-in capture is named where a capture file's name goes.
pub const BUILT_IN_CAPTURE: &str = "resolve-button.capture.json (built in)";

/// The bundled capture: the incident's "Resolve" click.
pub const CAPTURE_JSON: &str = include_str!("../../../sample-traces/resolve-button.capture.json");

/// The demo app's signing secret: made up, known only to this process.
pub const SECRET: &str = "tracedeck-demo-signing-secret";

/// The demo app's bot token: made up, known only to this process.
pub const TOKEN: &str = "xoxb-tracedeck-demo";

/// The demo app's port, taken before its Web API (the mock) is known.
pub struct Local {
    /// Buggy or fixed.
    pub mode: Mode,
    /// Seeds its queue's delays ([`crate::replay::latency::DEFAULT_SEED`] unless changed).
    pub seed: u64,
    /// Its endpoint.
    pub url: String,
    listener: TcpListener,
}

impl Local {
    /// Takes a free loopback port for the demo app in `mode`.
    pub fn bind(mode: Mode) -> Result<Local, String> {
        let cannot = |e: std::io::Error| format!("cannot start the demo app: {e}");
        let listener = TcpListener::bind("127.0.0.1:0").map_err(cannot)?;
        listener.set_nonblocking(true).map_err(cannot)?;
        let url = format!("http://{}", listener.local_addr().map_err(cannot)?);
        Ok(Local { mode, seed: crate::replay::latency::DEFAULT_SEED, url, listener })
    }

    /// Serves the app, with `api_url` as its Web API and the incident's queue delays (seeded),
    /// until `stop`; run it on a tokio runtime.
    pub async fn serve(self, api_url: String, stop: CancellationToken) {
        let Ok(listener) = tokio::net::TcpListener::from_std(self.listener) else { return };
        let config =
            DemoConfig::new(self.mode, self.seed, Delays::incident(), Secret::new(SECRET), Secret::new(TOKEN), api_url);
        let _ = super::serve(listener, config, stop).await;
    }
}
