//! Sentry: a trace is spread over transactions (one per service hop), each with its spans.
//!
//! The fetch asks the organization's trace endpoint,
//! `GET /api/0/organizations/{org}/trace/{trace_id}/`, which answers every span of the trace,
//! already nested, in one request (sentry.io and current self-hosted). Its answer does not name
//! the trace id, so the fetch adds `"trace_id"` to each top-level item before import; the saved
//! bytes are then self-describing.
//!
//! Servers without that endpoint (older self-hosted) answer 404; the fetch then lists the trace's
//! transactions with the legacy `GET /api/0/organizations/{org}/events-trace/{trace_id}/` and
//! fetches each transaction event with its spans,
//! `GET /api/0/projects/{org}/{project}/events/{event_id}/`; the importer stitches them through
//! `contexts.trace.parent_span_id`. That path leaves out error events (the event API does not
//! list them by trace), which the trace endpoint includes.
//!
//! A pasted event URL names an event, not a trace: `GET /api/0/organizations/{org}/eventids/{event_id}/`
//! finds the event, whose `contexts.trace.trace_id` names the trace.

use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

use super::http::{Http, origin};
use super::query::endpoint;
use super::target::{Id, Resolved, trace_id};
use super::{Backend, ErrorKind, FetchError, Progress};
use crate::model::TraceBuilder;

/// Fetches the trace: its bytes, what they hold, and its id.
pub(super) async fn fetch(http: &Http<'_>, target: &Resolved) -> Result<(Vec<u8>, TraceBuilder, String), FetchError> {
    let org = target.org.as_deref().ok_or_else(|| FetchError::input("Sentry needs the organization slug"))?;
    let trace_id = match &target.id {
        Id::Trace(id) => id.clone(),
        Id::Event(event) => trace_of_event(http, &target.base, org, event).await?,
    };
    let mut url = api(&target.base, &format!("organizations/{org}/trace/{trace_id}/"));
    if !target.query.is_empty() {
        url.query_pairs_mut().extend_pairs(&target.query);
    }
    let what = format!("trace {trace_id} in organization {org}");
    let body = match http.get(&url, "application/json", &what).await {
        Ok(body) => with_trace_id(&target.base, body, &trace_id, &what)?,
        Err(e) if e.kind == ErrorKind::NotFound => legacy(http, &target.base, org, &trace_id, &what).await?,
        Err(e) => return Err(e),
    };
    let builder = super::import(Backend::Sentry, &target.base, &body)?;
    Ok((body, builder, trace_id))
}

/// `{base}/api/0/{path}`.
fn api(base: &Url, path: &str) -> Url {
    endpoint(base, &format!("api/0/{path}"))
}

/// The trace endpoint's items with `trace_id` added; an empty list means no such trace.
fn with_trace_id(base: &Url, body: Vec<u8>, trace_id: &str, what: &str) -> Result<Vec<u8>, FetchError> {
    let Ok(mut items) = serde_json::from_slice::<Vec<Map<String, Value>>>(&body) else {
        // Let the importer say where and what is wrong.
        return Err(match super::import(Backend::Sentry, base, &body) {
            Err(e) => e,
            Ok(_) => super::not_a_trace(Backend::Sentry, base, "the trace endpoint should answer a list of spans"),
        });
    };
    if items.is_empty() {
        return Err(not_found(base, what));
    }
    for item in &mut items {
        item.entry("trace_id").or_insert_with(|| Value::String(trace_id.to_owned()));
    }
    serde_json::to_vec(&items).map_err(|e| FetchError::input(format!("cannot re-encode Sentry's answer: {e}")))
}

fn not_found(base: &Url, what: &str) -> FetchError {
    FetchError::new(
        ErrorKind::NotFound,
        format!(
            "Sentry at {} has no {what} (is the id right, and is the trace within Sentry's retention?)",
            origin(base)
        ),
    )
}

/// The answer of `eventids/{event_id}/`: only the trace id is wanted.
#[derive(Deserialize)]
struct EventLookup {
    event: Option<EventJson>,
}

#[derive(Deserialize)]
struct EventJson {
    contexts: Option<Contexts>,
}

#[derive(Deserialize)]
struct Contexts {
    trace: Option<TraceContext>,
}

#[derive(Deserialize)]
struct TraceContext {
    trace_id: Option<String>,
}

async fn trace_of_event(http: &Http<'_>, base: &Url, org: &str, event: &str) -> Result<String, FetchError> {
    let url = api(base, &format!("organizations/{org}/eventids/{event}/"));
    let body = http.get(&url, "application/json", &format!("event {event} in organization {org}")).await?;
    let lookup: EventLookup = serde_json::from_slice(&body).map_err(|e| {
        super::not_a_trace(Backend::Sentry, base, format!("the event lookup's answer cannot be read: {e}"))
    })?;
    let id = lookup.event.and_then(|e| e.contexts).and_then(|c| c.trace).and_then(|t| t.trace_id).ok_or_else(|| {
        FetchError::new(
            ErrorKind::NotFound,
            format!("Sentry at {} says event {event} is not part of a trace (it has no trace context)", origin(base)),
        )
    })?;
    // It goes into the next URL's path: only a trace id may.
    trace_id(Backend::Sentry, &id)
        .map_err(|e| super::not_a_trace(Backend::Sentry, base, format!("the trace of event {event}: {}", e.message)))
}

/// A node of the legacy `events-trace` answer: a transaction, its project and its children.
#[derive(Deserialize)]
struct Node {
    event_id: Option<String>,
    project_slug: Option<String>,
    /// Present on transactions, absent on error nodes.
    transaction: Option<Value>,
    #[serde(default)]
    children: Vec<Node>,
}

/// `{transactions, orphan_errors}` or a flat list.
#[derive(Deserialize)]
#[serde(untagged)]
enum LegacyTrace {
    Wrapped { transactions: Vec<Node> },
    Flat(Vec<Node>),
}

/// The legacy path: list the trace's transactions, fetch each event, return them as one array.
async fn legacy(http: &Http<'_>, base: &Url, org: &str, trace_id: &str, what: &str) -> Result<Vec<u8>, FetchError> {
    let url = api(base, &format!("organizations/{org}/events-trace/{trace_id}/"));
    let body = http.get(&url, "application/json", what).await?;
    let listed: LegacyTrace = serde_json::from_slice(&body).map_err(|e| {
        super::not_a_trace(Backend::Sentry, base, format!("the legacy trace endpoint's answer cannot be read: {e}"))
    })?;
    let roots = match listed {
        LegacyTrace::Wrapped { transactions } => transactions,
        LegacyTrace::Flat(nodes) => nodes,
    };
    let mut events = Vec::new();
    let mut stack: Vec<&Node> = roots.iter().collect();
    while let Some(node) = stack.pop() {
        if let (Some(_), Some(event), Some(project)) = (&node.transaction, &node.event_id, &node.project_slug) {
            events.push((project.as_str(), event.as_str()));
        }
        stack.extend(node.children.iter());
    }
    if events.is_empty() {
        return Err(not_found(base, what));
    }
    let mut out = b"[".to_vec();
    for (i, (project, event)) in events.iter().enumerate() {
        http.report(Progress::Step { done: i + 1, of: events.len() });
        let url = api(base, &format!("projects/{org}/{project}/events/{event}/"));
        let doc = http.get(&url, "application/json", &format!("event {event} of project {project}")).await?;
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&doc);
    }
    out.push(b']');
    Ok(out)
}
