//! The HTTP client of the local servers' control APIs where no SDK or typed client applies
//! (moto's `/moto-api/`, the adapter's `/_adapter/`; connect-sim's has its own client): hyper's,
//! one connection per request (no pool: the stack stops, freezes and restarts these servers, and
//! a pooled connection would outlive them).

use std::net::SocketAddr;

use anyhow::{Context as _, Result};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A JSON request: (status, body).
pub(crate) async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String)> {
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build_http::<Full<Bytes>>();
    let request = hyper::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(body.unwrap_or("").to_string())))
        .context("request")?;
    let response = client
        .request(request)
        .await
        .with_context(|| format!("{method} http://{addr}{path}"))?;
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .context("response body")?
        .to_bytes();
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}
