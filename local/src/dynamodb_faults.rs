//! DynamoDB errors injected between a deployment's functions and its moto: a proxy on loopback
//! that forwards every request and answers a seeded share of the DynamoDB ones with an error, in
//! the three shapes the service answers a client with:
//!
//! - **500 InternalServerError before the request**: nothing was written;
//! - **400 ThrottlingException before the request**: nothing was written;
//! - **500 InternalServerError after the request**: moto applied it and the answer is lost, so
//!   the SDK's retry of a conditional write meets its own first attempt.
//!
//! Only the function processes go through it (`AWS_ENDPOINT_URL_DYNAMODB`); the harness and the
//! table replication read moto directly.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Which share of DynamoDB requests fail, and the seed of the draw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DynamoFaults {
    /// 0..=1.
    pub rate: f64,
    pub seed: u64,
}

/// What a proxy did, per shape.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// DynamoDB requests seen.
    pub requests: u64,
    /// 500 without forwarding.
    pub errors_before: u64,
    /// 400 ThrottlingException without forwarding.
    pub throttles: u64,
    /// Forwarded, applied, answered 500.
    pub errors_after: u64,
}

impl FaultCounts {
    pub fn injected(&self) -> u64 {
        self.errors_before + self.throttles + self.errors_after
    }
}

impl std::ops::Add for FaultCounts {
    type Output = FaultCounts;
    fn add(self, o: FaultCounts) -> FaultCounts {
        FaultCounts {
            requests: self.requests + o.requests,
            errors_before: self.errors_before + o.errors_before,
            throttles: self.throttles + o.throttles,
            errors_after: self.errors_after + o.errors_after,
        }
    }
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    errors_before: AtomicU64,
    throttles: AtomicU64,
    errors_after: AtomicU64,
}

#[derive(Clone)]
struct Proxy {
    moto: SocketAddr,
    faults: DynamoFaults,
    /// splitmix64's state.
    draw: Arc<AtomicU64>,
    counters: Arc<Counters>,
    client: Client<HttpConnector, Full<Bytes>>,
}

enum Shape {
    Before,
    Throttle,
    After,
}

impl Proxy {
    /// A uniform draw in [0, 1) (splitmix64: seeded, shared by concurrent requests).
    fn uniform(&self) -> f64 {
        let mut z = self
            .draw
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    fn shape(&self) -> Option<Shape> {
        if self.uniform() >= self.faults.rate {
            return None;
        }
        let which = self.uniform();
        Some(if which < 0.4 {
            Shape::Before
        } else if which < 0.7 {
            Shape::Throttle
        } else {
            Shape::After
        })
    }
}

/// A running proxy; stops when dropped.
pub struct FaultProxy {
    pub addr: SocketAddr,
    counters: Arc<Counters>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on `addr` and forwards to `moto`.
    pub async fn start(addr: SocketAddr, moto: SocketAddr, faults: DynamoFaults) -> Result<Self> {
        let counters = Arc::new(Counters::default());
        let proxy = Proxy {
            moto,
            faults,
            draw: Arc::new(AtomicU64::new(faults.seed)),
            counters: counters.clone(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        };
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("the DynamoDB fault proxy on {addr}"))?;
        let app = axum::Router::new().fallback(handle).with_state(proxy);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FaultProxy {
            addr,
            counters,
            task,
        })
    }

    pub fn counts(&self) -> FaultCounts {
        let c = &self.counters;
        FaultCounts {
            requests: c.requests.load(Ordering::Relaxed),
            errors_before: c.errors_before.load(Ordering::Relaxed),
            throttles: c.throttles.load(Ordering::Relaxed),
            errors_after: c.errors_after.load(Ordering::Relaxed),
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A DynamoDB error answer (JSON 1.0 protocol).
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{code}"),
        "message": message,
    });
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    r
}

async fn handle(State(p): State<Proxy>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, 64 << 20).await else {
        return error(StatusCode::BAD_GATEWAY, "ProxyError", "request too large");
    };
    let dynamodb = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("DynamoDB_20120810."));
    let shape = if dynamodb {
        p.counters.requests.fetch_add(1, Ordering::Relaxed);
        p.shape()
    } else {
        None
    };
    match shape {
        Some(Shape::Before) => {
            p.counters.errors_before.fetch_add(1, Ordering::Relaxed);
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "Internal server error (injected)",
            );
        }
        Some(Shape::Throttle) => {
            p.counters.throttles.fetch_add(1, Ordering::Relaxed);
            return error(
                StatusCode::BAD_REQUEST,
                "ThrottlingException",
                "Rate of requests exceeds the allowed throughput (injected)",
            );
        }
        _ => {}
    }
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut builder = hyper::Request::builder()
        .method(parts.method.clone())
        .uri(format!("http://{}{path}", p.moto));
    for (k, v) in parts.headers.iter() {
        if k != "host" && k != "content-length" {
            builder = builder.header(k, v);
        }
    }
    let Ok(forwarded) = builder.body(Full::new(bytes)) else {
        return error(StatusCode::BAD_GATEWAY, "ProxyError", "bad request");
    };
    let resp = match p.client.request(forwarded).await {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_GATEWAY,
                "ProxyError",
                &format!("moto did not answer: {e}"),
            )
        }
    };
    let (mut rparts, rbody) = resp.into_parts();
    let rbytes = match http_body_util::BodyExt::collect(rbody).await {
        Ok(c) => c.to_bytes(),
        Err(e) => return error(StatusCode::BAD_GATEWAY, "ProxyError", &e.to_string()),
    };
    if matches!(shape, Some(Shape::After)) {
        p.counters.errors_after.fetch_add(1, Ordering::Relaxed);
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "Internal server error (injected after the request was applied)",
        );
    }
    rparts.headers.remove("content-length");
    rparts.headers.remove("transfer-encoding");
    Response::from_parts(rparts, Body::from(rbytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy(rate: f64, seed: u64) -> Proxy {
        Proxy {
            moto: ([127, 0, 0, 1], 1).into(),
            faults: DynamoFaults { rate, seed },
            draw: Arc::new(AtomicU64::new(seed)),
            counters: Arc::new(Counters::default()),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    #[test]
    fn the_draw_fails_about_the_share_asked_for_and_repeats_with_its_seed() {
        let p = proxy(0.1, 42);
        let failed = (0..20_000).filter(|_| p.shape().is_some()).count();
        assert!((1_700..2_300).contains(&failed), "{failed} of 20000 at 10%");
        let draws = |seed| {
            let p = proxy(0.5, seed);
            (0..100).map(|_| p.uniform()).collect::<Vec<f64>>()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
        assert!(proxy(0.0, 1).shape().is_none());
    }
}
