//! A scripted fake back-end for the fetch and search tests: an axum server on 127.0.0.1:0
//! whose every request gets the next scripted reply and is recorded (path, query, headers);
//! search answers in each back-end's shape; and the binary, run with a token in its environment.

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
use tracedeck::formats::{self, Format};
use tracedeck::model::Trace;

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

impl Seen {
    /// The query's parameters, decoded, in order.
    pub fn params(&self) -> Vec<(String, String)> {
        let query = self.query.as_deref().unwrap_or("");
        form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    }

    /// The value of parameter `name`.
    pub fn param(&self, name: &str) -> Option<String> {
        self.params().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
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

/// The first `n` traces of a sample file of many Slack traces (some met the 3 s deadline, some
/// missed it), in start order.
pub fn sample_traces(n: usize) -> Vec<Trace> {
    let imported = formats::import("many-before", &file("sample-traces/many-before.zipkin.json")).unwrap();
    imported.traces.into_iter().take(n).collect()
}

/// `traces` written in `format`.
pub fn written(format: Format, traces: &[Trace]) -> Vec<u8> {
    let mut out = Vec::new();
    format.write(traces, &mut out).unwrap();
    out
}

/// Jaeger's answer to a search: `{"data":[trace, ...], ...}`.
pub fn jaeger_answer(traces: &[Trace]) -> Vec<u8> {
    written(Format::Jaeger, traces)
}

/// Zipkin's answer to a search: an array of traces, each an array of spans.
pub fn zipkin_answer(traces: &[Trace]) -> Vec<u8> {
    let each: Vec<Vec<u8>> = traces.iter().map(|t| written(Format::Zipkin, std::slice::from_ref(t))).collect();
    [b"[".to_vec(), each.join(&b","[..]), b"]".to_vec()].concat()
}

/// Tempo's answer to a search: a summary of each trace, by id.
pub fn tempo_answer(ids: &[String]) -> Vec<u8> {
    let hits: Vec<String> = ids
        .iter()
        .map(|id| {
            format!(
                r#"{{"traceID":"{id}","rootServiceName":"front","rootTraceName":"POST /slack/interactions","startTimeUnixNano":"1731420005016033000","durationMs":4}}"#
            )
        })
        .collect();
    format!(r#"{{"traces":[{}],"metrics":{{"inspectedTraces":{},"totalBlocks":1}}}}"#, hits.join(","), ids.len() * 7)
        .into_bytes()
}

/// Runs the tracedeck binary with `args`, the token of the connection `TRACEDECK_TOKEN_JAEGER`
/// in its environment.
pub async fn tracedeck(args: Vec<String>) -> std::process::Output {
    tracedeck_with_env(args, vec![("TRACEDECK_TOKEN_JAEGER".into(), "cli-secret-token".into())]).await
}

/// Runs the binary with `args` and these environment variables, off the async threads.
pub async fn tracedeck_with_env(args: Vec<String>, env: Vec<(String, String)>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_tracedeck")).args(&args).envs(env).output().unwrap()
    })
    .await
    .unwrap()
}
