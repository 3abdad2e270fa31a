//! The `lambda-adapter`: glue for running the state machines locally. moto executes the ASL for
//! real, but without a Docker engine its own Lambda only echoes the input. Its interpreter invokes
//! Lambda at `http://localhost:$MOTO_PORT`, so this adapter sits on that port: Lambda invocations
//! go to `cargo lambda watch` (ARN stripped to the function name; a function error, which the
//! watch answers as HTTP 500 with `{"errorType", "errorMessage"}`, becomes 200 with
//! `X-Amz-Function-Error: Unhandled`, as real Lambda answers), everything else goes to moto.
//!
//! The server is [`router`] (run by `src/bin/lambda-adapter.rs`); `report_crash` is the stack's
//! side of its one control route.

use std::net::SocketAddr;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::Router;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// The function name in an Invoke path: `/2015-03-31/functions/{name|arn}/invocations`.
pub fn invoked_function(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/2015-03-31/functions/")?;
    let target = rest.strip_suffix("/invocations")?;
    let target = percent_encoding::percent_decode_str(target).decode_utf8_lossy();
    let name = match target.split_once(":function:") {
        Some((_, after)) => after.split(':').next().unwrap_or(after).to_string(),
        None => target.split(':').next().unwrap_or(&target).to_string(),
    };
    (!name.is_empty()).then_some(name)
}

#[derive(Clone)]
pub struct Adapter {
    pub moto: String,
    pub lambda: String,
    client: Client<HttpConnector, Full<Bytes>>,
    /// Names of functions whose runtime process was just killed.
    crashed: tokio::sync::broadcast::Sender<String>,
}

impl Adapter {
    pub fn new(moto: String, lambda: String) -> Adapter {
        Adapter {
            moto,
            lambda,
            client: Client::builder(TokioExecutor::new()).build_http(),
            crashed: tokio::sync::broadcast::channel(16).0,
        }
    }
}

/// `POST /_adapter/crashed/{function}` (the stack, after killing a function's process) fails
/// that function's invocations in flight as Lambda does when the runtime exits: errorType
/// `Runtime.ExitError`. `cargo lambda watch` would otherwise hold them until its own timeout.
pub fn router(adapter: Adapter) -> Router {
    Router::new()
        .route("/_adapter/crashed/{function}", axum::routing::post(crashed))
        .fallback(handle)
        .with_state(adapter)
}

async fn crashed(
    State(a): State<Adapter>,
    axum::extract::Path(function): axum::extract::Path<String>,
) -> StatusCode {
    let _ = a.crashed.send(function);
    StatusCode::NO_CONTENT
}

/// Tells the adapter at `adapter` that `function`'s runtime process was killed
/// (`POST /_adapter/crashed/{function}`).
pub(crate) async fn report_crash(adapter: SocketAddr, function: &str) -> anyhow::Result<()> {
    let path = format!("/_adapter/crashed/{function}");
    let (status, text) = crate::http::http(adapter, "POST", &path, None).await?;
    if status != 204 {
        anyhow::bail!("lambda-adapter did not take the crash of {function}: HTTP {status}: {text}");
    }
    Ok(())
}

/// The answer of an invocation whose runtime process exited.
fn runtime_exited(function: &str) -> Response {
    let body = serde_json::json!({
        "errorType": "Runtime.ExitError",
        "errorMessage": format!("{function}: Runtime exited with error: signal: killed"),
    });
    let mut r = Response::new(Body::from(body.to_string()));
    r.headers_mut().insert(
        "x-amz-function-error",
        HeaderValue::from_static("Unhandled"),
    );
    r
}

fn bad_gateway(message: String) -> Response {
    let mut r = Response::new(Body::from(
        serde_json::json!({"message": message}).to_string(),
    ));
    *r.status_mut() = StatusCode::BAD_GATEWAY;
    r
}

async fn handle(State(a): State<Adapter>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, 64 << 20).await else {
        return bad_gateway("request body too large".into());
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let function = invoked_function(parts.uri.path());
    let (base, path) = match &function {
        Some(name) => (
            a.lambda.as_str(),
            format!("/2015-03-31/functions/{name}/invocations"),
        ),
        None => (a.moto.as_str(), path_and_query),
    };
    let mut builder = hyper::Request::builder()
        .method(parts.method.clone())
        .uri(format!("{base}{path}"));
    for (k, v) in parts.headers.iter() {
        if k != "host" && k != "content-length" {
            builder = builder.header(k, v);
        }
    }
    let forwarded = match builder.body(Full::new(bytes)) {
        Ok(r) => r,
        Err(e) => return bad_gateway(e.to_string()),
    };
    let mut crashes = a.crashed.subscribe();
    let crash = async {
        loop {
            match crashes.recv().await {
                Ok(f) if Some(&f) == function.as_ref() => return f,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                    std::future::pending::<()>().await
                }
                _ => {}
            }
        }
    };
    let resp = tokio::select! {
        r = a.client.request(forwarded) => match r {
            Ok(r) => r,
            Err(e) => return bad_gateway(format!("{base} did not answer: {e}")),
        },
        f = crash => return runtime_exited(&f),
    };
    let (mut rparts, rbody) = resp.into_parts();
    let rbytes = match http_body_util::BodyExt::collect(rbody).await {
        Ok(c) => c.to_bytes(),
        Err(e) => return bad_gateway(e.to_string()),
    };
    if function.is_some() && rparts.status.is_server_error() && is_function_error(&rbytes) {
        rparts.status = StatusCode::OK;
        rparts.headers.insert(
            "x-amz-function-error",
            HeaderValue::from_static("Unhandled"),
        );
    }
    rparts.headers.remove("content-length");
    rparts.headers.remove("transfer-encoding");
    Response::from_parts(rparts, Body::from(rbytes))
}

fn is_function_error(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .is_some_and(|v| v.get("errorType").is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocations_are_recognised_by_name_or_arn() {
        assert_eq!(
            invoked_function("/2015-03-31/functions/preflight/invocations").as_deref(),
            Some("preflight")
        );
        assert_eq!(
            invoked_function("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Ashift-traffic/invocations").as_deref(),
            Some("shift-traffic")
        );
        assert_eq!(
            invoked_function("/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:replicate:live/invocations").as_deref(),
            Some("replicate")
        );
        assert_eq!(invoked_function("/2015-03-31/functions/x"), None);
        assert_eq!(invoked_function("/moto-api/config"), None);
    }

    #[test]
    fn only_bodies_with_an_error_type_are_function_errors() {
        assert!(is_function_error(
            br#"{"errorType":"Unsafe","errorMessage":"gate"}"#
        ));
        assert!(!is_function_error(b"internal error"));
    }
}
