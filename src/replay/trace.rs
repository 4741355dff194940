//! A replay as a [`Trace`], so the waterfall, the deadline overlay and
//! [`analyze`](crate::analysis::analyze) with the `slack` profile can show and judge it.
//!
//! The root span is the inbound request (`http.server`, from the interaction's issue to the
//! response status), so the analysis's clock starts at the issue and its ack check is the
//! response. Each Web API call the app made is a child `http.client` span named
//! `POST <mock>/api/<method>` from its arrival to its answer, failed with Slack's error code
//! (also in `slack.error`). The trigger's life is a `slack.trigger` span from issue to expiry,
//! with an event where it was exchanged. Slack's re-deliveries of an event are `slack.retry`
//! spans. Latency injected on purpose is drawn as its own `tracedeck.injected` spans: the delivery
//! delay from the click ("delivery delay 800.0 ms", under the root) and a call's mock latency
//! from its arrival ("mock latency 800.0 ms", under the call). Built from a partial record too,
//! for live drawing.

use std::time::Instant;

use super::mock::ApiCall;
use super::run::Delivery;
use super::run::RunRecord;
use crate::model::{AttrValue, Event, RawSpan, SpanId, SpanKind, Status, Trace, TraceBuilder};

/// Builds the trace of a run (finished or not). Spans still in flight are open.
pub fn build(record: &RunRecord, mock_base: &str) -> Trace {
    let mut b = TraceBuilder::new();
    let service = url::Url::parse(&record.url)
        .ok()
        .and_then(|u| u.host_str().map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(0))))
        .unwrap_or_else(|| "app".into());
    let app = b.intern(&format!("app {service}"));
    let root_end = match &record.response {
        Some(Ok(ack)) => Some(record.unix(ack.at)),
        Some(Err(_)) => record.finished.map(|f| record.unix(f)),
        None => None,
    };

    // The inbound request.
    let mark = b.attr_mark();
    let path = url::Url::parse(&record.url).map(|u| u.path().to_owned()).unwrap_or_default();
    b.push_attr_str("http.request.method", &record.method);
    b.push_attr_str("url.full", &record.url);
    b.push_attr_str("slack.interaction", &record.kind);
    b.push_attr_str("tracedeck.capture", &record.interaction);
    push_int(&mut b, "tracedeck.run", record.index as i64);
    let mut root = RawSpan::new(record.trace_id, record.span_id, None, record.start_unix, root_end);
    root.kind = SpanKind::Server;
    match &record.response {
        Some(Ok(ack)) => {
            push_int(&mut b, "http.response.status_code", i64::from(ack.status));
            if ack.status >= 400 {
                root.status = Status::Error;
                root.status_message = b.intern(&format!("HTTP {}", ack.status));
            }
        }
        Some(Err(fault)) => {
            root.status = Status::Error;
            root.status_message = b.intern(&fault.to_string());
        }
        None => {}
    }
    root.attrs = b.attrs_since(mark);
    root.name = b.intern(&format!("{} {path}", record.method));
    root.op = b.intern("http.server");
    root.service = app;
    b.push_span(root);

    let mut next_id = record.span_id.get();
    let mut child_id = || {
        next_id = next_id.wrapping_add(0x9E37_79B9_7F4A_7C15) | 1;
        SpanId::new(next_id).expect("an odd number is not zero")
    };

    // The trigger's life: issued with the interaction, usable for the TTL.
    if record.expects_modal {
        let mark = b.attr_mark();
        b.push_attr_str("slack.trigger_id", &record.minted.trigger_id);
        let events = b.event_mark();
        let exchanged =
            record.calls.iter().find(|c| c.ok && c.trigger_id.as_deref() == Some(&record.minted.trigger_id));
        if let Some(call) = exchanged {
            let name = b.intern(&format!("exchanged by {}", call.method));
            b.push_event(Event { time: record.unix(call.arrived), name, attrs: Default::default() });
        }
        let ttl = record.trigger_ttl.as_nanos() as i64;
        let mut span = RawSpan::new(
            record.trace_id,
            child_id(),
            Some(record.span_id),
            record.start_unix,
            Some(record.start_unix + ttl),
        );
        span.attrs = b.attrs_since(mark);
        span.events = b.events_since(events);
        span.name = b.intern(&format!("trigger_id valid for {}", crate::analysis::format_limit(ttl)));
        span.op = b.intern("slack.trigger");
        span.service = b.intern("slack");
        span.kind = SpanKind::Internal;
        b.push_span(span);
    }

    if !record.delivery_delay.is_zero() {
        let end = record.start_unix + record.delivery_delay.as_nanos() as i64;
        push_injected(&mut b, record, (record.start_unix, end), record.span_id, child_id(), "delivery delay");
    }
    for call in &record.calls {
        let id = child_id();
        push_call(&mut b, record, call, id, app, mock_base);
        if !call.injected.is_zero() {
            let start = record.unix(call.arrived);
            let end = start + call.injected.as_nanos() as i64;
            push_injected(&mut b, record, (start, end), id, child_id(), "mock latency");
        }
    }
    for retry in &record.retries {
        push_retry(&mut b, record, retry, child_id());
    }
    let mut traces = b.build().expect("a replay's spans form one tree");
    traces.remove(0)
}

/// Slack's re-delivery of an event: a `slack.retry` span from its sending to its answer.
fn push_retry(b: &mut TraceBuilder, record: &RunRecord, retry: &Delivery, id: SpanId) {
    let mark = b.attr_mark();
    push_int(b, "slack.retry_num", i64::from(retry.attempt));
    b.push_attr_str("slack.retry_reason", retry.reason);
    let end = match &retry.response {
        Some(Ok(ack)) => {
            push_int(b, "http.response.status_code", i64::from(ack.status));
            Some(record.unix(ack.at))
        }
        Some(Err(_)) => record.finished.map(|f| record.unix(f)),
        None => None,
    };
    let mut span = RawSpan::new(record.trace_id, id, Some(record.span_id), record.unix(retry.sent), end);
    span.attrs = b.attrs_since(mark);
    let event = record.event_id.as_deref().unwrap_or("the event");
    span.name = b.intern(&format!("retry {} ({}) of {event}", retry.attempt, retry.reason));
    span.op = b.intern("slack.retry");
    span.service = b.intern("slack");
    match &retry.response {
        Some(Ok(ack)) if !(200..300).contains(&ack.status) => {
            span.status = Status::Error;
            span.status_message = b.intern(&format!("HTTP {}", ack.status));
        }
        Some(Err(fault)) => {
            span.status = Status::Error;
            span.status_message = b.intern(&fault.to_string());
        }
        _ => {}
    }
    b.push_span(span);
}

/// A delay tracedeck injected (`what`: "delivery delay", "mock latency") over `[start, end]`.
fn push_injected(
    b: &mut TraceBuilder,
    record: &RunRecord,
    (start, end): (i64, i64),
    parent: SpanId,
    id: SpanId,
    what: &str,
) {
    let mark = b.attr_mark();
    push_int(b, "tracedeck.injected_ns", end - start);
    let mut span = RawSpan::new(record.trace_id, id, Some(parent), start, Some(end));
    span.attrs = b.attrs_since(mark);
    span.name = b.intern(&format!("{what} {}", crate::model::format_duration(end - start)));
    span.op = b.intern("tracedeck.injected");
    span.service = b.intern("tracedeck");
    span.kind = SpanKind::Internal;
    b.push_span(span);
}

fn push_int(b: &mut TraceBuilder, key: &str, value: i64) {
    let key = b.intern(key);
    b.push_attr(key, AttrValue::Int(value));
}

fn push_call(
    b: &mut TraceBuilder,
    record: &RunRecord,
    call: &ApiCall,
    id: SpanId,
    app: crate::model::StrId,
    mock_base: &str,
) {
    let mark = b.attr_mark();
    let url = match call.method.as_str() {
        "response_url" => record.minted.response_url.clone(),
        method => format!("{mock_base}{method}"),
    };
    b.push_attr_str("http.request.method", "POST");
    b.push_attr_str("url.full", &url);
    b.push_attr_str("slack.method", &call.method);
    push_int(b, "http.response.status_code", i64::from(call.http_status));
    let ok = b.intern("slack.ok");
    b.push_attr(ok, AttrValue::Bool(call.ok));
    if let Some(error) = &call.error {
        b.push_attr_str("slack.error", error);
    }
    if let Some(trigger) = &call.trigger_id {
        b.push_attr_str("slack.trigger_id", trigger);
    }
    if let Some(view) = &call.view_id {
        b.push_attr_str("slack.view_id", view);
    }
    let end = |at: Instant| record.unix(at);
    let mut span = RawSpan::new(record.trace_id, id, Some(record.span_id), end(call.arrived), Some(end(call.answered)));
    span.attrs = b.attrs_since(mark);
    span.name = b.intern(&format!("POST {url}"));
    span.op = b.intern("http.client");
    span.service = app;
    span.kind = SpanKind::Client;
    if !call.ok {
        span.status = Status::Error;
        span.status_message = b.intern(call.error.as_deref().unwrap_or("failed"));
    } else {
        span.status = Status::Ok;
    }
    b.push_span(span);
}
