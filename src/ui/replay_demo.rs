//! "Try the replay on the demo app" in a Replay tab: the built-in demo Slack app (buggy, or
//! fixed with the loading modal) runs in this process with the tab's mock as its Web API.

use tokio_util::sync::CancellationToken;

use super::replay_mock::LiveMock;
use crate::replay::demo_app::Mode;
use crate::replay::demo_app::local::Local;

/// The demo app running in this process; stops when dropped.
pub struct DemoApp {
    /// Buggy or fixed.
    pub mode: Mode,
    /// Its endpoint, a free loopback port.
    pub url: String,
    stop: CancellationToken,
}

impl DemoApp {
    /// Starts the demo app in `mode` on a free loopback port of `runtime`; it serves once `mock`
    /// is up, with the mock as its Web API.
    pub fn start(runtime: &tokio::runtime::Handle, mode: Mode, mock: LiveMock) -> Result<DemoApp, String> {
        let local = Local::bind(mode)?;
        let url = local.url.clone();
        let stop = CancellationToken::new();
        let shutdown = stop.clone();
        runtime.spawn(async move {
            if let Ok(up) = mock.up().await {
                local.serve(up.url.clone(), shutdown).await;
            }
        });
        Ok(DemoApp { mode, url, stop })
    }
}

impl Drop for DemoApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
