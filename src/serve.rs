//! Serving HTTP with limits, for every server tracedeck runs (the OTLP receiver, the mock
//! Slack Web API and what else joins them): a client that is slow or idle, or claims a huge
//! body, cannot hold a connection or memory for as long as it likes.
//!
//! [`serve`] takes an axum [`Router`] and [`Limits`]:
//! - a request's head must arrive within [`Limits::head_timeout`], and a keep-alive connection
//!   waiting for its next request is closed after the same time (hyper's header read timeout,
//!   which runs whenever the connection waits for a head);
//! - its body must arrive within [`Limits::body_timeout`] (else `408 Request Timeout`) and be at
//!   most [`Limits::max_body`] bytes (else `413 Payload Too Large`, at once when the
//!   `Content-Length` says so); both answers close the connection. The body reaches the
//!   router whole, so handlers that take `Bytes` never wait on the client;
//! - at most [`Limits::max_connections`] connections are open at once; further clients wait
//!   in the listen queue until one closes.
//!
//! Connections upgraded to another protocol (WebSocket) leave hyper, and these limits, once
//! the upgrade is done: the handler owns them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// How a refusal is worded: the status and a sentence, made into the server's kind of answer
/// (plain text by default; Slack's `{"ok": false, "error": ...}` for the mock Web API).
pub type Refusal = fn(StatusCode, &str) -> Response;

/// The limits a server keeps. See the module docs.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How long a client may take to send a request's head; also how long an idle
    /// keep-alive connection stays open.
    pub head_timeout: Duration,
    /// How long a client may take to send a request's body, once its head arrived.
    pub body_timeout: Duration,
    /// The largest request body accepted, in bytes.
    pub max_body: usize,
    /// The most connections open at once.
    pub max_connections: usize,
    /// How refusals (408, 413, 400) are answered.
    pub refuse: Refusal,
}

impl Limits {
    /// Ten seconds for a head (and for an idle connection), ten for a body, 256 connections,
    /// bodies up to `max_body` bytes, refusals in plain text.
    pub fn new(max_body: usize) -> Limits {
        Limits {
            head_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_body,
            max_connections: 256,
            refuse: plain_refusal,
        }
    }
}

/// A refusal as plain text.
pub fn plain_refusal(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{message}\n")).into_response()
}

/// Serves `router` on `listener` with `limits` until `stop` completes, then lets requests in
/// flight finish (for at most a second). Run it in a task of its own.
pub async fn serve(listener: TcpListener, router: Router, limits: Limits, stop: impl Future<Output = ()>) {
    let app = router.layer(axum::middleware::from_fn_with_state(limits, read_body));
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let closing = CancellationToken::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut stop => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors, or a connection reset before it was accepted: wait
                // a little rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let closing = closing.clone();
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(limits.head_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), service).with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                () = closing.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    closing.cancel();
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(Duration::from_secs(1), open.acquire_many(all)).await;
}

/// Reads the whole body within the limits before the router sees the request.
async fn read_body(State(limits): State<Limits>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    let too_large = || {
        let message = format!("the request body is larger than the {} bytes accepted", limits.max_body);
        closing((limits.refuse)(StatusCode::PAYLOAD_TOO_LARGE, &message))
    };
    if declared.is_some_and(|n| n > limits.max_body as u64) {
        return too_large();
    }
    match tokio::time::timeout(limits.body_timeout, axum::body::to_bytes(body, limits.max_body)).await {
        Ok(Ok(bytes)) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Ok(Err(e)) if is_length_limit(&e) => too_large(),
        Ok(Err(e)) => {
            closing((limits.refuse)(StatusCode::BAD_REQUEST, &format!("the request body could not be read: {e}")))
        }
        Err(_) => {
            let message = format!(
                "the request body did not arrive within {}",
                crate::model::format_duration(limits.body_timeout.as_nanos() as i64)
            );
            closing((limits.refuse)(StatusCode::REQUEST_TIMEOUT, &message))
        }
    }
}

/// Whether reading a body failed because it exceeded the limit.
fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// The answer, with `Connection: close`: the rest of the request is not read.
fn closing(mut response: Response) -> Response {
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Instant;

    use axum::body::Bytes;
    use axum::routing::post;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    const HEAD: Duration = Duration::from_millis(600);
    const BODY: Duration = Duration::from_millis(300);
    /// Room for a loaded machine; every timeout here must fire well before it.
    const MARGIN: Duration = Duration::from_secs(3);

    async fn start(max_connections: usize) -> (SocketAddr, CancellationToken) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route("/echo", post(|body: Bytes| async move { body }));
        let limits =
            Limits { head_timeout: HEAD, body_timeout: BODY, max_body: 1024, max_connections, refuse: plain_refusal };
        let stop = CancellationToken::new();
        tokio::spawn(serve(listener, router, limits, stop.clone().cancelled_owned()));
        (addr, stop)
    }

    /// Sends `request` and reads until the server closes the connection (or `MARGIN` passes).
    async fn exchange(addr: SocketAddr, request: &[u8]) -> (String, Duration) {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let sent = Instant::now();
        stream.write_all(request).await.unwrap();
        let mut answer = Vec::new();
        let read = tokio::time::timeout(MARGIN, stream.read_to_end(&mut answer)).await;
        assert!(read.is_ok(), "the server kept the connection open: {}", String::from_utf8_lossy(&answer));
        (String::from_utf8_lossy(&answer).into_owned(), sent.elapsed())
    }

    const ECHO: &[u8] = b"POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stalled_body_gets_408_and_a_close_while_other_requests_are_served() {
        let (addr, _stop) = start(16).await;
        let slow = tokio::spawn(exchange(addr, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"));
        let (answer, _) = exchange(addr, ECHO).await;
        assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("hello"), "{answer}");
        let (answer, took) = slow.await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("connection: close") && answer.contains("did not arrive within 300.0 ms"), "{answer}");
        assert!(took >= BODY, "{took:?}");
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused_at_once_by_its_length_or_as_it_arrives() {
        let (addr, _stop) = start(16).await;
        let (answer, took) =
            exchange(addr, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10737418240\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 413") && answer.contains("larger than the 1024 bytes"), "{answer}");
        assert!(took < BODY, "refused without waiting for the body: {took:?}");
        let chunked = [
            &b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n"[..],
            &[b'a'; 0x800],
            b"\r\n0\r\n\r\n",
        ]
        .concat();
        let (answer, _) = exchange(addr, &chunked).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    }

    #[tokio::test]
    async fn idle_and_headless_connections_are_closed_after_the_head_timeout() {
        let (addr, _stop) = start(16).await;
        let (answer, took) = exchange(addr, b"").await;
        assert!(answer.is_empty() && took >= HEAD, "{answer} after {took:?}");
        let (answer, took) = exchange(addr, b"POST /echo HTTP/1.1\r\nHost: x\r\n").await;
        assert!(took >= HEAD && !answer.starts_with("HTTP/1.1 2"), "{answer} after {took:?}");
        // Kept alive after an answer, then closed when idle.
        let kept_alive = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
        let (answer, took) = exchange(addr, kept_alive).await;
        assert!(answer.starts_with("HTTP/1.1 200") && took >= HEAD, "{answer} after {took:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn beyond_the_connection_cap_clients_wait_until_one_closes() {
        let (addr, _stop) = start(2).await;
        let idle = [TcpStream::connect(addr).await.unwrap(), TcpStream::connect(addr).await.unwrap()];
        let third = tokio::spawn(exchange(addr, ECHO));
        tokio::time::sleep(HEAD / 3).await;
        assert!(!third.is_finished(), "a third connection is not served while two are open");
        let (answer, took) = third.await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(took >= HEAD / 2, "served once an idle one timed out: {took:?}");
        drop(idle);
    }
}
