//! The Replay tab's mock Slack Web API: started when the tab opens and kept up, with one
//! [`Session`], until the tab closes, so the app is started once against it and replayed many
//! times (and may call `auth.test` at start). The bot token typed in the tab is applied to the
//! running mock.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::{Mutex, OnceCell};
use tokio_util::sync::CancellationToken;

use crate::replay::mock::{MockConfig, MockSlack};
use crate::replay::session::Session;
use crate::replay::signing::Secret;

/// A running mock and the session of replays against it.
pub struct Up {
    /// The base URL to give the app's Slack client.
    pub url: String,
    /// The mock.
    pub mock: Arc<MockSlack>,
    /// The rounds replayed against it.
    pub session: Mutex<Session>,
}

/// A mock being started, up, or failed to start, at one address; stops when closed or dropped.
#[derive(Clone)]
pub struct LiveMock {
    /// The address asked for (port 0 picks one).
    pub requested: SocketAddr,
    up: Arc<OnceCell<Result<Arc<Up>, String>>>,
    cancel: CancellationToken,
}

impl LiveMock {
    /// Starts the mock on `runtime` at `addr`; `ready` is called once it is up or has failed.
    pub fn open(runtime: &tokio::runtime::Handle, addr: SocketAddr, ready: impl FnOnce() + Send + 'static) -> Self {
        let live = LiveMock { requested: addr, up: Arc::new(OnceCell::new()), cancel: CancellationToken::new() };
        let starting = live.clone();
        runtime.spawn(async move {
            let _ = starting.up().await;
            ready();
        });
        live
    }

    /// Waits for the mock; the error says why it could not listen.
    pub async fn up(&self) -> Result<Arc<Up>, String> {
        let start = || async {
            // The token is set from the tab's field as soon as the mock is up.
            let config = MockConfig::new(Secret::new(""));
            let mock = MockSlack::start(self.requested, config, self.cancel.clone())
                .await
                .map_err(|e| format!("cannot listen on {} for the mock Web API: {e}", self.requested))?;
            let mock = Arc::new(mock);
            Ok(Arc::new(Up { url: mock.api_url(), session: Mutex::new(Session::new(mock.clone())), mock }))
        };
        self.up.get_or_init(start).await.clone()
    }

    /// The mock when it is up, or why it is not; `None` while it starts.
    pub fn state(&self) -> Option<Result<Arc<Up>, String>> {
        self.up.get().cloned()
    }

    /// Stops the mock (a replay using it stops too).
    pub fn close(&self) {
        self.cancel.cancel();
    }
}
