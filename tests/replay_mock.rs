//! The mock Web API's rules, one test each: trigger expiry, unknown and reused triggers, auth,
//! views.update's view ids and hashes, both body encodings, response URLs, injected latency (judged at
//! arrival) and rate limits, attribution and shutdown.

mod replay_support;

use std::time::{Duration, Instant};

use replay_support::*;
use serde_json::{Value, json};
use tracedeck::replay::latency::{ApiLatency, Spread};
use tracedeck::replay::mock::{MockConfig, MockSlack};
use tracedeck::replay::signing::Secret;

/// Calls a method with a JSON body and the bearer token; returns the HTTP status and the reply.
async fn call(mock: &MockSlack, method: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut request = client()
        .post(format!("{}{method}", mock.api_url()))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, serde_json::from_slice(&response.bytes().await.unwrap()).unwrap())
}

async fn open(mock: &MockSlack, trigger: &str) -> Value {
    call(
        mock,
        "views.open",
        Some(TOKEN),
        json!({"trigger_id": trigger, "view": {"type": "modal", "title": {"type": "plain_text", "text": "T"}}}),
    )
    .await
    .1
}

fn error(reply: &Value) -> &str {
    reply["error"].as_str().unwrap_or("")
}

#[tokio::test]
async fn a_trigger_used_after_its_lifetime_has_expired() {
    let mock = mock(Duration::from_millis(100)).await;
    let issued = Instant::now();
    let minted = mock.begin_run(1, issued);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let reply = open(&mock, &minted.trigger_id).await;
    assert_eq!((reply["ok"].as_bool(), error(&reply)), (Some(false), "expired_trigger_id"));
    let calls = mock.calls(minted.run);
    assert_eq!(calls.len(), 1, "attributed to the run by its trigger");
    assert_eq!(calls[0].error.as_deref(), Some("expired_trigger_id"));
    assert!(calls[0].arrived.duration_since(issued) >= Duration::from_millis(150), "arrival time is recorded");
}

#[tokio::test]
async fn an_unknown_trigger_is_invalid_and_a_used_one_is_exchanged() {
    let mock = mock(Duration::from_secs(3)).await;
    assert_eq!(error(&open(&mock, "123.456.abcdef").await), "invalid_trigger_id");
    let minted = mock.begin_run(2, Instant::now());
    let first = open(&mock, &minted.trigger_id).await;
    assert_eq!(first["ok"], true, "{first}");
    assert!(first["view"]["id"].as_str().unwrap().starts_with('V'));
    assert_eq!(first["view"]["title"]["text"], "T", "the view is echoed back");
    assert_eq!(error(&open(&mock, &minted.trigger_id).await), "exchanged_trigger_id");
    // The trigger id looks like Slack's: digits.digits.hex.
    let parts: Vec<&str> = minted.trigger_id.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert!(parts[0].bytes().all(|b| b.is_ascii_digit()) && parts[2].bytes().all(|b| b.is_ascii_hexdigit()));
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_refused_and_a_token_field_is_accepted() {
    let mock = mock(Duration::from_secs(3)).await;
    let (status, reply) = call(&mock, "auth.test", None, json!({})).await;
    assert_eq!((status, error(&reply)), (200, "not_authed"));
    assert_eq!(error(&call(&mock, "auth.test", Some("xoxb-wrong"), json!({})).await.1), "invalid_auth");
    let reply = call(&mock, "auth.test", Some(TOKEN), json!({})).await.1;
    assert_eq!((reply["ok"].as_bool(), reply["team_id"].as_str()), (Some(true), Some("T0TRACEDECK")));
    let form = client()
        .post(format!("{}auth.test", mock.api_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={TOKEN}"))
        .send()
        .await
        .unwrap();
    let reply: Value = serde_json::from_slice(&form.bytes().await.unwrap()).unwrap();
    assert_eq!(reply["ok"], true);
    let recorded = mock.all_calls();
    assert!(recorded.iter().all(|c| !c.request.contains(TOKEN)), "tokens are not recorded");
    assert_eq!(error(&call(&mock, "chat.scheduleMessage", Some(TOKEN), json!({})).await.1), "unknown_method");
}

#[tokio::test]
async fn views_update_needs_a_view_the_mock_issued_and_the_current_hash() {
    let mock = mock(Duration::from_secs(3)).await;
    let view = json!({"type": "modal", "title": {"type": "plain_text", "text": "Done"}});
    let reply = call(&mock, "views.update", Some(TOKEN), json!({"view_id": "V0NOTMINE", "view": view})).await.1;
    assert_eq!(error(&reply), "not_found");
    let minted = mock.begin_run(3, Instant::now());
    let opened = open(&mock, &minted.trigger_id).await;
    let (id, hash) = (opened["view"]["id"].clone(), opened["view"]["hash"].clone());
    let stale =
        call(&mock, "views.update", Some(TOKEN), json!({"view_id": id, "hash": "1.stale", "view": view})).await.1;
    assert_eq!(error(&stale), "hash_conflict");
    let updated = call(&mock, "views.update", Some(TOKEN), json!({"view_id": id, "hash": hash, "view": view})).await.1;
    assert_eq!(updated["ok"], true, "{updated}");
    assert_eq!(updated["view"]["title"]["text"], "Done");
    assert_ne!(updated["view"]["hash"], hash, "every update gets a new hash");
    let both =
        call(&mock, "views.update", Some(TOKEN), json!({"view_id": id, "external_id": "x", "view": view})).await.1;
    assert_eq!(error(&both), "invalid_arguments");
    let methods: Vec<String> = mock.calls(minted.run).iter().map(|c| c.method.clone()).collect();
    assert_eq!(methods, vec!["views.open", "views.update", "views.update", "views.update"], "attributed by view id");
}

#[tokio::test]
async fn form_bodies_carry_the_view_as_json_text() {
    let mock = mock(Duration::from_secs(3)).await;
    let minted = mock.begin_run(4, Instant::now());
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("trigger_id", &minted.trigger_id)
        .append_pair("view", r#"{"type":"modal","title":{"type":"plain_text","text":"F"}}"#)
        .finish();
    let reply: Value = serde_json::from_slice(
        &client()
            .post(format!("{}views.open", mock.api_url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(body)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(reply["view"]["title"]["text"], "F", "{reply}");
    let bad = call(&mock, "views.open", Some(TOKEN), json!({"trigger_id": minted.trigger_id, "view": "{nope"})).await.1;
    assert_eq!(error(&bad), "invalid_arguments");
}

#[tokio::test]
async fn response_urls_take_five_posts_and_unknown_ones_are_404() {
    let mock = mock(Duration::from_secs(3)).await;
    let minted = mock.begin_run(5, Instant::now());
    let client = client();
    let post = |url: String| {
        let client = client.clone();
        async move {
            client
                .post(url)
                .header("content-type", "application/json")
                .body(r#"{"text":"done","replace_original":true}"#)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for _ in 0..5 {
        assert_eq!(post(minted.response_url.clone()).await, 200);
    }
    assert_eq!(post(minted.response_url.clone()).await, 410, "a sixth use fails");
    assert_eq!(post(minted.response_url.replace("/response/", "/response/x")).await, 404);
    let calls = mock.calls(minted.run);
    assert_eq!(calls.len(), 7, "the unknown URL is attributed to the only run in flight");
    assert_eq!((calls[5].error.as_deref(), calls[6].error.as_deref()), (Some("used_url"), Some("invalid_url")));
}

#[tokio::test]
async fn latency_and_rate_limits_are_injected_per_method() {
    let mut config = MockConfig::new(Secret::new(TOKEN));
    config.latency.set("chat.postMessage", Spread::Fixed(Duration::from_millis(120)));
    config.rate_limited.insert("auth.test".into(), 1);
    let mock = mock_with(config).await;
    let (status, reply) = call(&mock, "auth.test", Some(TOKEN), json!({})).await;
    assert_eq!((status, error(&reply)), (429, "ratelimited"));
    assert_eq!(call(&mock, "auth.test", Some(TOKEN), json!({})).await.1["ok"], true, "only the first call is limited");
    let started = Instant::now();
    let reply = call(&mock, "chat.postMessage", Some(TOKEN), json!({"channel": "C1", "text": "hi"})).await.1;
    assert_eq!(reply["ok"], true);
    assert!(started.elapsed() >= Duration::from_millis(120));
    let posted = mock.all_calls().into_iter().find(|c| c.method == "chat.postMessage").unwrap();
    assert!(posted.answered.duration_since(posted.arrived) >= Duration::from_millis(120));
    assert_eq!(posted.injected, Duration::from_millis(120), "the injected latency is recorded");
    assert_eq!(error(&call(&mock, "chat.postMessage", Some(TOKEN), json!({"channel": "C1"})).await.1), "no_text");
}

#[tokio::test]
async fn a_slow_answer_is_judged_when_the_call_arrived() {
    // views.open arrives within the trigger's 200 ms and is answered 400 ms later: it opened the
    // modal, as Slack judges the trigger when the call reaches it.
    let mock = mock(Duration::from_millis(200)).await;
    mock.set_latency(ApiLatency::parse("views.open=400ms").unwrap(), 7);
    let minted = mock.begin_run(1, Instant::now());
    let started = Instant::now();
    let reply = open(&mock, &minted.trigger_id).await;
    assert_eq!(reply["ok"], true, "{reply}");
    assert!(started.elapsed() >= Duration::from_millis(400));
    let calls = mock.calls(minted.run);
    assert_eq!(calls[0].injected, Duration::from_millis(400));
    assert_eq!(call(&mock, "auth.test", Some(TOKEN), json!({})).await.1["ok"], true);
    assert_eq!(mock.all_calls().last().unwrap().injected, Duration::ZERO, "methods not named get none");
}

#[tokio::test]
async fn calls_are_attributed_by_traceparent_and_the_mock_stops_on_one_signal() {
    let mock = std::sync::Arc::try_unwrap(mock(Duration::from_secs(3)).await).ok().unwrap();
    let a = mock.begin_run(0xaaaa, Instant::now());
    let b = mock.begin_run(0xbbbb, Instant::now());
    let reply = client()
        .post(format!("{}chat.postMessage", mock.api_url()))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("traceparent", format!("00-{:032x}-00000000000000aa-01", 0xbbbbu128))
        .body(r#"{"channel":"C1","text":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(mock.calls(b.run).len(), 1);
    assert!(mock.calls(a.run).is_empty());
    let url = mock.api_url();
    mock.stop().await;
    let after = client().post(format!("{url}auth.test")).send().await;
    assert!(after.is_err_and(|e| e.is_connect()), "nothing listens after the stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_slack_json_and_a_stalled_app_is_cut_off() {
    let mut config = MockConfig::new(Secret::new(TOKEN));
    config.limits.body_timeout = Duration::from_millis(400);
    let mock = mock_with(config).await;

    // Too large: 413 at once by its Content-Length, in Slack's words. (The head alone is sent: a
    // client still writing a body the server has refused may see its pipe broken instead.)
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(mock.addr()).await.unwrap();
    let head = format!(
        "POST /api/chat.postMessage HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        tracedeck::replay::mock::MAX_BODY + 1
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let reply: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap_or("")).unwrap();
    assert_eq!((reply["ok"].as_bool(), error(&reply)), (Some(false), "request_too_large"), "{reply}");

    // Not found and a wrong HTTP method: JSON too.
    let response =
        client().get(format!("{}/elsewhere", mock.api_url().trim_end_matches("/api/"))).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let reply: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(error(&reply), "unknown_method");
    let response =
        client().get(format!("{}/response/1", mock.api_url().trim_end_matches("/api/"))).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    let reply: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(error(&reply), "method_not_allowed");

    // A body that never comes: 408 in JSON and a close, within the timeout, while the mock
    // keeps answering others.
    let mut stream = tokio::net::TcpStream::connect(mock.addr()).await.unwrap();
    let head = format!(
        "POST /api/views.open HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let sent = Instant::now();
    assert_eq!(call(&mock, "auth.test", Some(TOKEN), json!({})).await.1["ok"], true);
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await.expect("closed").unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408") && answer.contains(r#""error":"request_timeout""#), "{answer}");
    assert!(sent.elapsed() < Duration::from_secs(5));
}
