//! A fake Lambda runtime API on 127.0.0.1 for one function process: it notes when the process
//! first asks for an invocation (the end of its init), hands it the events it is given, and
//! passes on what the function answers. One server per process, so a killed process's pending
//! request can never take the next process's event.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;

/// What the function answered.
#[derive(Debug)]
pub(super) enum Answer {
    Response,
    Error(String),
    InitError(String),
}

struct Shared {
    nexts: mpsc::UnboundedSender<Instant>,
    events: Mutex<mpsc::UnboundedReceiver<Value>>,
    answers: mpsc::UnboundedSender<Answer>,
}

/// The runtime API of one function process.
pub(super) struct RuntimeApi {
    pub(super) addr: SocketAddr,
    nexts: mpsc::UnboundedReceiver<Instant>,
    events: mpsc::UnboundedSender<Value>,
    answers: mpsc::UnboundedReceiver<Answer>,
    server: JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    pub(super) async fn start() -> Result<RuntimeApi> {
        let (nexts_tx, nexts) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::unbounded_channel();
        let (answers_tx, answers) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            nexts: nexts_tx,
            events: Mutex::new(events_rx),
            answers: answers_tx,
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(|State(s): State<Arc<Shared>>| async move { answer(&s, Answer::Response) }),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/error",
                post(|State(s): State<Arc<Shared>>, body: Bytes| async move {
                    answer(&s, Answer::Error(text(&body)))
                }),
            )
            .route(
                "/2018-06-01/runtime/init/error",
                post(|State(s): State<Arc<Shared>>, body: Bytes| async move {
                    answer(&s, Answer::InitError(text(&body)))
                }),
            )
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("bind the runtime API")?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(RuntimeApi {
            addr,
            nexts,
            events,
            answers,
            server,
        })
    }

    /// When the process next asks for an invocation.
    pub(super) async fn next_requested(&mut self) -> Option<Instant> {
        self.nexts.recv().await
    }

    /// Hands the process an invocation.
    pub(super) fn invoke(&self, event: Value) {
        let _ = self.events.send(event);
    }

    /// What the function answered.
    pub(super) async fn answer(&mut self) -> Option<Answer> {
        self.answers.recv().await
    }
}

fn text(body: &Bytes) -> String {
    String::from_utf8_lossy(body).into_owned()
}

fn answer(s: &Shared, a: Answer) -> StatusCode {
    let _ = s.answers.send(a);
    StatusCode::ACCEPTED
}

/// `GET .../invocation/next`: held until an event is given, then answered with it and the
/// headers the runtime reads (a deadline two minutes away, as preflight's timeout).
async fn next(State(s): State<Arc<Shared>>) -> Response {
    let _ = s.nexts.send(Instant::now());
    let Some(event) = s.events.lock().await.recv().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
        + 120_000;
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    set("lambda-runtime-aws-request-id", "bench-request-1".into());
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:bench".into(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000".into(),
    );
    set("content-type", "application/json".into());
    (StatusCode::OK, headers, event.to_string()).into_response()
}
