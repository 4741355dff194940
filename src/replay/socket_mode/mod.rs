//! Socket Mode, as Slack runs it for an app that has no HTTP endpoint: the app calls
//! `apps.connections.open` with its app-level token (`xapp-...`) and gets a single-use WebSocket
//! URL on the mock's own address; the mock says `hello` when it connects, then the replay pushes
//! each interaction as an envelope and waits for the app's ack (`{"envelope_id": ...}`, with a
//! `payload` where the envelope accepts one).
//!
//! - [`SocketHub`]: the open connections, the tickets, and the envelopes waiting for an ack;
//!   envelopes go round-robin over the connections, as Slack sends them.
//! - [`envelope`]: an envelope made from a captured request, and the app's ack read back.
//! - `server`: the `apps.connections.open` method and the WebSocket endpoint (`/link/`).
//!
//! Bad acks (not JSON, no `envelope_id`, an `envelope_id` never sent, a `payload` that is not an
//! object) fail the oldest envelope waiting on that connection with a message saying what came;
//! a connection closed with envelopes unacked fails them when no other connection is open.

pub mod envelope;
pub(crate) mod server;

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot, watch};

use super::signing::Secret;

/// The app's acknowledgement of an envelope.
#[derive(Clone, Debug)]
pub struct SocketAck {
    /// When it arrived.
    pub at: Instant,
    /// The `payload` it carried (a slash-command message, a `response_action`), as JSON text.
    pub payload: Option<String>,
}

/// Why an envelope got no good ack.
pub type AckResult = Result<SocketAck, String>;

struct Connection {
    id: u64,
    out: mpsc::UnboundedSender<String>,
    /// Envelopes sent on it.
    sent: usize,
    /// Asked to reconnect (`disconnect`): no further envelopes go to it.
    draining: bool,
}

struct Pending {
    connection: u64,
    sent: Instant,
    reply: oneshot::Sender<AckResult>,
}

#[derive(Default)]
struct Hub {
    tickets: HashSet<String>,
    connections: Vec<Connection>,
    /// The round-robin cursor.
    next: usize,
    /// Connections opened so far.
    opened: u64,
    pending: HashMap<String, Pending>,
    acked: HashSet<String>,
    problems: Vec<String>,
}

/// The Socket Mode side of the mock: connections, tickets and envelopes waiting for acks.
pub struct SocketHub {
    app_token: Mutex<Option<Secret>>,
    /// `ws://ADDR`, the mock's own address.
    base: String,
    hub: Mutex<Hub>,
    /// Counts connections opened and closed, for waiting on them.
    changes: watch::Sender<u64>,
}

impl SocketHub {
    /// A hub serving WebSocket URLs on `base` (`ws://127.0.0.1:PORT`); `apps.connections.open`
    /// needs `app_token` (without one it answers `not_allowed_token_type`).
    pub(crate) fn new(app_token: Option<Secret>, base: String) -> SocketHub {
        SocketHub {
            app_token: Mutex::new(app_token),
            base,
            hub: Mutex::new(Hub::default()),
            changes: watch::channel(0).0,
        }
    }

    /// The app-level token `apps.connections.open` takes.
    fn app_token(&self) -> Option<Secret> {
        self.app_token.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Changes the app-level token `apps.connections.open` takes (a window's mock outlives the
    /// token typed in it).
    pub fn set_app_token(&self, token: Option<Secret>) {
        *self.app_token.lock().unwrap_or_else(|e| e.into_inner()) = token;
    }

    fn hub(&self) -> MutexGuard<'_, Hub> {
        self.hub.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The URL prefix the app's WebSocket connects to (`ws://127.0.0.1:PORT/link/`).
    pub fn link_url(&self) -> String {
        format!("{}/link/", self.base)
    }

    /// A fresh single-use WebSocket URL, as `apps.connections.open` answers.
    fn issue_url(&self) -> String {
        let ticket = format!("{:032x}", fastrand::u128(..));
        self.hub().tickets.insert(ticket.clone());
        format!("{}?ticket={ticket}", self.link_url())
    }

    /// Takes a ticket: true the first time only.
    fn redeem(&self, ticket: &str) -> bool {
        self.hub().tickets.remove(ticket)
    }

    /// How many connections are open (and not asked to reconnect).
    pub fn open_connections(&self) -> usize {
        self.hub().connections.iter().filter(|c| !c.draining).count()
    }

    /// How many connections the app has opened so far.
    pub fn connections_opened(&self) -> u64 {
        self.hub().opened
    }

    /// Waits until at least one connection is open that takes envelopes; false after `timeout`.
    pub async fn wait_for_connection(&self, timeout: Duration) -> bool {
        let mut changes = self.changes.subscribe();
        let until = tokio::time::Instant::now() + timeout;
        loop {
            if self.open_connections() > 0 {
                return true;
            }
            tokio::select! {
                () = tokio::time::sleep_until(until) => return self.open_connections() > 0,
                changed = changes.changed() => if changed.is_err() { return false },
            }
        }
    }

    /// What the app did wrong that no envelope could be blamed for (an ack with nothing
    /// waiting, an envelope acked twice).
    pub fn problems(&self) -> Vec<String> {
        self.hub().problems.clone()
    }

    /// Sends an envelope (its `envelope_id` is `id`) on the next connection in turn. After
    /// `reconnect_every` envelopes on one connection, that connection is sent `disconnect`
    /// (`refresh_requested`) and takes no more. The error says there is no connection.
    pub fn deliver(
        &self,
        id: &str,
        envelope: &Value,
        reconnect_every: Option<usize>,
    ) -> Result<(Instant, oneshot::Receiver<AckResult>), String> {
        let mut hub = self.hub();
        let open: Vec<usize> = (0..hub.connections.len()).filter(|&i| !hub.connections[i].draining).collect();
        if open.is_empty() {
            return Err("no Socket Mode connection is open: the app is not connected".into());
        }
        let at = open[hub.next % open.len()];
        hub.next = hub.next.wrapping_add(1);
        let (reply, answer) = oneshot::channel();
        let sent = Instant::now();
        let connection = &mut hub.connections[at];
        if connection.out.send(envelope.to_string()).is_err() {
            return Err("the Socket Mode connection closed as the envelope was sent".into());
        }
        connection.sent += 1;
        let conn_id = connection.id;
        if reconnect_every.is_some_and(|n| n > 0 && connection.sent.is_multiple_of(n)) {
            let disconnect = json!({"type": "disconnect", "reason": "refresh_requested",
                "debug_info": {"host": "tracedeck-mock"}});
            let _ = connection.out.send(disconnect.to_string());
            connection.draining = true;
        }
        hub.pending.insert(id.to_owned(), Pending { connection: conn_id, sent, reply });
        Ok((sent, answer))
    }

    /// Forgets an envelope whose wait is over (a timeout): a later ack for it is no problem.
    pub fn forget(&self, id: &str) {
        let mut hub = self.hub();
        if hub.pending.remove(id).is_some() {
            hub.acked.insert(id.to_owned());
        }
    }

    /// Registers a new connection; returns its id and what to send on it.
    fn connect(&self) -> (u64, mpsc::UnboundedReceiver<String>, String) {
        let (out, rx) = mpsc::unbounded_channel();
        let mut hub = self.hub();
        hub.opened += 1;
        let id = hub.opened;
        hub.connections.push(Connection { id, out, sent: 0, draining: false });
        let hello = json!({
            "type": "hello",
            "num_connections": hub.connections.len(),
            "debug_info": {"host": "tracedeck-mock", "build_number": 1, "approximate_connection_time": 3600},
            "connection_info": {"app_id": "A0TRACEDECK"}
        });
        drop(hub);
        self.changes.send_modify(|n| *n += 1);
        (id, rx, hello.to_string())
    }

    /// A message from the app on a connection.
    fn received(&self, connection: u64, text: &str) {
        let at = Instant::now();
        let mut hub = self.hub();
        let ack = match envelope::read_ack(text) {
            Ok(ack) => ack,
            Err(why) => return hub.blame(connection, why),
        };
        match hub.pending.remove(&ack.envelope_id) {
            Some(pending) => {
                hub.acked.insert(ack.envelope_id);
                let _ = pending.reply.send(ack.payload.map(|payload| SocketAck { at, payload }));
            }
            None if hub.acked.contains(&ack.envelope_id) => {
                let id = ack.envelope_id;
                hub.problems.push(format!("envelope {id} was acked again after its ack was counted"));
            }
            None => {
                let why = format!("the app acked envelope_id {:?}, which was never sent", ack.envelope_id);
                hub.blame(connection, why);
            }
        }
    }

    /// A connection closed (by the app, or broken).
    fn closed(&self, connection: u64, why: &str) {
        let mut hub = self.hub();
        let draining = hub.connections.iter().any(|c| c.id == connection && c.draining);
        hub.connections.retain(|c| c.id != connection);
        // Asked to reconnect, its acks may still come on the next connection: wait for them.
        if !draining && hub.connections.is_empty() {
            let lost: Vec<String> =
                hub.pending.iter().filter(|(_, p)| p.connection == connection).map(|(id, _)| id.clone()).collect();
            for id in lost {
                if let Some(pending) = hub.pending.remove(&id) {
                    let _ = pending.reply.send(Err(format!(
                        "the app closed its Socket Mode connection ({why}) before acking envelope {id}"
                    )));
                }
            }
        }
        drop(hub);
        self.changes.send_modify(|n| *n += 1);
    }
}

impl Hub {
    /// Fails the oldest envelope waiting on `connection` with `why`, or notes it as a problem.
    fn blame(&mut self, connection: u64, why: String) {
        let oldest = self
            .pending
            .iter()
            .filter(|(_, p)| p.connection == connection)
            .min_by_key(|(_, p)| p.sent)
            .map(|(id, _)| id.clone());
        match oldest.and_then(|id| self.pending.remove(&id).map(|p| (id, p))) {
            Some((id, pending)) => {
                self.acked.insert(id);
                let _ = pending.reply.send(Err(why));
            }
            None => self.problems.push(why),
        }
    }
}
