//! Functions invoked through the Lambda Invoke API of a deployment's `cargo lambda watch`
//! (`/2015-03-31/functions/<name>/invocations`) with `aws-sdk-lambda`, and the example events
//! of `tests/events/` (also through `cargo lambda invoke`, as a developer does by hand).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, Result};
use aws_config::SdkConfig;
use aws_sdk_lambda::error::{DisplayErrorContext, SdkError};
use aws_sdk_lambda::primitives::Blob;
use serde_json::Value;

use crate::workspace;

/// How long an invocation may take before the harness gives up and reports which processes still
/// run: generous, as a paced step can take tens of seconds.
pub(crate) const NO_ANSWER: Duration = Duration::from_secs(60);

/// A function error as the Invoke API reports it: `{"errorType", "errorMessage"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    pub error_type: String,
    pub error_message: String,
}

impl std::fmt::Display for FunctionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_type, self.error_message)
    }
}

impl FunctionError {
    /// The error of a payload `{"errorType", "errorMessage"}`; None for any other payload.
    fn from_payload(payload: &Value) -> Option<FunctionError> {
        let field = |k: &str| payload.get(k)?.as_str().map(str::to_string);
        Some(FunctionError {
            error_type: field("errorType")?,
            error_message: field("errorMessage").unwrap_or_default(),
        })
    }
}

/// What an invocation came back with.
pub enum Outcome {
    Output(Value),
    Failed(FunctionError),
    /// No answer within [`NO_ANSWER`].
    NoAnswer,
}

/// A Lambda client of the watch at `watch`: one attempt (a function error is an answer, not a
/// reason to invoke again), given up after [`NO_ANSWER`].
pub(crate) fn client(conf: &SdkConfig, watch: SocketAddr) -> aws_sdk_lambda::Client {
    let conf = aws_sdk_lambda::config::Builder::from(&crate::config::one_attempt(conf, NO_ANSWER))
        .endpoint_url(format!("http://{watch}"))
        .build();
    aws_sdk_lambda::Client::from_conf(conf)
}

/// Invokes `function` with `payload` (RequestResponse). A function error comes back as a 200
/// with `X-Amz-Function-Error` from real Lambda and from the adapter, as a 500 with the error
/// payload from the watch itself: both are [`Outcome::Failed`]. Anything else that is not an
/// answer of the function is an error.
pub async fn invoke(
    client: &aws_sdk_lambda::Client,
    function: &str,
    payload: &Value,
) -> Result<Outcome> {
    let sent = client
        .invoke()
        .function_name(function)
        .payload(Blob::new(payload.to_string()))
        .send()
        .await;
    let out = match sent {
        Ok(out) => out,
        Err(SdkError::TimeoutError(_)) => return Ok(Outcome::NoAnswer),
        Err(SdkError::ServiceError(e)) => {
            let raw = e.raw();
            let body = raw.body().bytes().unwrap_or_default();
            let text = String::from_utf8_lossy(body);
            let value = serde_json::from_str(&text).unwrap_or(Value::Null);
            return match FunctionError::from_payload(&value) {
                Some(error) if raw.status().is_server_error() => Ok(Outcome::Failed(error)),
                _ => Err(anyhow!("HTTP {}: {text}", raw.status().as_u16())),
            };
        }
        Err(e) => return Err(anyhow!("{}", DisplayErrorContext(e))),
    };
    let bytes = out.payload().map(Blob::as_ref).unwrap_or_default();
    let value = serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()));
    if out.function_error().is_some() {
        return match FunctionError::from_payload(&value) {
            Some(error) => Ok(Outcome::Failed(error)),
            None => Err(anyhow!("a function error without errorType: {value}")),
        };
    }
    Ok(Outcome::Output(value))
}

/// A test event: `tests/events/<function>/<file>.json`.
pub fn event_path(function: &str, file: &str) -> PathBuf {
    workspace()
        .join("tests/events")
        .join(function)
        .join(format!("{file}.json"))
}

/// A test event, parsed. Panics if it cannot be read (the test's own file).
pub fn event(function: &str, file: &str) -> Value {
    let path = event_path(function, file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// `cargo lambda invoke --data-file tests/events/<function>/<file>.json <function>` against the
/// watch at `watch`. Ok(output) or Err(the CLI's error text).
pub async fn invoke_event_file(
    watch: SocketAddr,
    function: &str,
    file: &str,
) -> Result<Result<Value, String>> {
    let out = tokio::process::Command::new(workspace().join(".venv/bin/cargo-lambda"))
        .args(["lambda", "invoke", "--invoke-address", "127.0.0.1"])
        .arg("--invoke-port")
        .arg(watch.port().to_string())
        .arg("--data-file")
        .arg(event_path(function, file))
        .args(["--output-format", "json", function])
        .env("NO_COLOR", "1")
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| anyhow!("cargo lambda invoke: {e}"))?;
    Ok(if out.status.success() {
        let text = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(text.trim()).map_err(|e| format!("not JSON ({e}): {text}"))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    })
}
