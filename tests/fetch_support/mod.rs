//! A scripted fake back-end for the fetch tests: an axum server on 127.0.0.1:0 whose every
//! request gets the next scripted reply and is recorded (path, query, headers).

#![allow(dead_code)] // each test file uses part of it

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tracedeck::fetch::{Backend, Config, Request as FetchRequest, Target, Token};

/// What the server answers to one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A status, extra headers and a body.
    Answer(u16, Vec<(&'static str, String)>, Vec<u8>),
    /// Never answers.
    Hang,
}

impl Reply {
    /// 200 with this body.
    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply::Answer(200, Vec::new(), body.into())
    }

    /// A status with a short body.
    pub fn status(code: u16, body: &str) -> Reply {
        Reply::Answer(code, Vec::new(), body.as_bytes().to_vec())
    }
}

/// A request the server saw.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
}

#[derive(Default)]
struct Script {
    replies: VecDeque<Reply>,
    seen: Vec<Seen>,
}

/// A running fake server.
#[derive(Clone)]
pub struct Fake {
    pub addr: SocketAddr,
    script: Arc<Mutex<Script>>,
}

impl Fake {
    /// Starts a server that answers `replies` in order (404 once they run out).
    pub async fn start(replies: Vec<Reply>) -> Fake {
        let script = Arc::new(Mutex::new(Script { replies: replies.into(), seen: Vec::new() }));
        let app = Router::new().fallback(answer).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Fake { addr, script }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.script.lock().unwrap().seen.clone()
    }
}

async fn answer(State(script): State<Arc<Mutex<Script>>>, request: Request) -> Response {
    let reply = {
        let mut script = script.lock().unwrap();
        script.seen.push(Seen {
            path: request.uri().path().to_owned(),
            query: request.uri().query().map(str::to_owned),
            headers: request.headers().clone(),
        });
        script.replies.pop_front()
    };
    match reply {
        Some(Reply::Answer(code, headers, body)) => {
            let mut response = Response::builder().status(StatusCode::from_u16(code).unwrap());
            for (name, value) in headers {
                response = response.header(name, value);
            }
            response.body(Body::from(body)).unwrap()
        }
        Some(Reply::Hang) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Response::new(Body::empty())
        }
        None => Response::builder().status(404).body(Body::from("no more scripted replies")).unwrap(),
    }
}

/// Short timeouts and waits, so error paths stay fast.
pub fn quick_config() -> Config {
    Config {
        timeout: Duration::from_millis(500),
        connect_timeout: Duration::from_millis(500),
        retries: 2,
        backoff: Duration::from_millis(10),
        max_wait: Duration::from_secs(2),
    }
}

/// A fetch request for `trace` on `backend` at `base`, with a token.
pub fn request(backend: Backend, base: &str, org: Option<&str>, trace: &str) -> FetchRequest {
    FetchRequest {
        target: Target { backend, base: Some(base.to_owned()), org: org.map(str::to_owned), trace: trace.to_owned() },
        token: Token::new("test-token-123"),
    }
}

/// A file of the repository.
pub fn file(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}
