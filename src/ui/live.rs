//! The Live menu: tracedeck's receivers (OTLP, and Sentry SDKs through a DSN or Spotlight) while
//! they run, how to point an app at them, and the received traces.
//!
//! Both listeners share one [`Receiver`], so spans of one trace merge whichever way they came;
//! it lives while any listener runs.

use std::net::SocketAddr;
use std::sync::Arc;

use egui::{RichText, Ui};

use super::job::Job;
use crate::model::Trace;
use crate::receiver::{Config, Protocol, Receiver};

/// What starting a listener gives back: the receiver (`None` when no listener runs) and whether
/// the listener for `protocol` started, or why not.
pub(super) struct Listening {
    /// The receiver, while any of its listeners runs.
    pub live: Option<LiveReceiver>,
    /// The protocol of the listener started.
    pub protocol: Protocol,
    /// Whether it listens, or why not.
    pub started: Result<(), String>,
}

/// The receiver while any of its listeners runs.
pub(super) struct LiveReceiver {
    /// The listeners and their spans.
    pub server: Receiver,
}

impl LiveReceiver {
    /// Starts (`addr`) or stops (`None`) the listener for `protocol`. Stopping is done at once
    /// (stopping the last listener drops the receiver). Starting takes the receiver (the first
    /// listener makes it, and repaints `ctx` when spans arrive) to a job on `runtime` that binds
    /// the listener off the UI thread and hands the receiver back ([`Listening`]).
    pub(super) fn set(
        live: &mut Option<LiveReceiver>,
        protocol: Protocol,
        addr: Option<SocketAddr>,
        runtime: &tokio::runtime::Handle,
        ctx: &egui::Context,
    ) -> Option<Job<Listening>> {
        let Some(addr) = addr else {
            if let Some(current) = live {
                current.server.stop_listening(protocol);
                if current.server.status().listeners.is_empty() {
                    *live = None;
                }
            }
            return None;
        };
        let mut current = live.take().unwrap_or_else(|| {
            let server = Receiver::new();
            // Repaint when spans arrive, so the status line stays current.
            let mut changes = server.subscribe();
            let repaint = ctx.clone();
            runtime.spawn(async move {
                while changes.changed().await.is_ok() {
                    repaint.request_repaint();
                }
            });
            LiveReceiver { server }
        });
        let repaint = ctx.clone();
        Some(Job::spawn(
            runtime,
            move || repaint.request_repaint(),
            move |_| async move {
                let started = current.server.listen(protocol, &Config::at(addr, false)).await.map(|_| ());
                Listening {
                    live: (!current.server.status().listeners.is_empty()).then_some(current),
                    protocol,
                    started,
                }
            },
        ))
    }

    /// The line beside the menus: where it listens, and what came.
    pub(super) fn status_line(&self) -> String {
        let status = self.server.status();
        let listeners: Vec<String> = status.listeners.iter().map(|(p, addr)| format!("{p} on {addr}")).collect();
        let mut line =
            format!("receiving {} · {} spans in {} traces", listeners.join(", "), status.spans, status.traces);
        if status.dropped.traces > 0 {
            line.push_str(" · ");
            line.push_str(&crate::receiver::dropped_text(status.dropped, status.max_spans));
        }
        if status.refused > 0 {
            line.push_str(&format!(" · {} bodies refused", status.refused));
        }
        line
    }

    /// The traces received so far, and the ones that could not be assembled.
    pub(super) fn snapshot(&self) -> (Vec<Arc<Trace>>, Vec<String>) {
        let mut traces = Vec::new();
        let mut errors = Vec::new();
        for id in self.server.trace_ids() {
            match self.server.trace(id) {
                Ok(Some(trace)) => traces.push(trace),
                Ok(None) => {}
                Err(e) => errors.push(format!("trace {id}: {e}")),
            }
        }
        (traces, errors)
    }
}

/// What the Live menu asks for.
pub(super) enum LiveRequest {
    /// Start the listener for `protocol` on `addr`, or stop it (`None`).
    Receive {
        /// OTLP or Sentry.
        protocol: Protocol,
        /// Where to listen.
        addr: Option<SocketAddr>,
    },
    /// Open the received traces.
    ShowReceived,
}

/// The Live menu's contents: a switch per protocol with where to point apps, and the traces.
pub(super) fn menu(ui: &mut Ui, live: Option<&LiveReceiver>) -> Option<LiveRequest> {
    let mut request = None;
    for protocol in Protocol::ALL {
        let running = live.and_then(|l| l.server.addr_of(protocol));
        let addr = running.unwrap_or_else(|| protocol.default_addr());
        let mut on = running.is_some();
        if ui.checkbox(&mut on, format!("Receive {protocol} on {addr}")).changed() {
            request = Some(LiveRequest::Receive { protocol, addr: on.then(|| protocol.default_addr()) });
        }
        for line in instructions(protocol, addr) {
            ui.label(RichText::new(line).monospace().weak());
        }
        ui.add_space(4.0);
    }
    ui.separator();
    if ui.add_enabled(live.is_some(), egui::Button::new("Show received traces")).clicked() {
        request = Some(LiveRequest::ShowReceived);
    }
    request
}

/// How to point an app at a listener on `addr`.
fn instructions(protocol: Protocol, addr: SocketAddr) -> Vec<String> {
    match protocol {
        Protocol::Otlp => vec![format!("OTEL_EXPORTER_OTLP_ENDPOINT=http://{addr}")],
        Protocol::Sentry => {
            vec![format!("SENTRY_DSN=http://public@{addr}/1"), format!("or SENTRY_SPOTLIGHT=http://{addr}/stream")]
        }
    }
}
