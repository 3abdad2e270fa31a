//! One pacing and retry policy for every Connect call.
//!
//! Connect's quotas are per account, region and operation: 2 requests/s (burst 5) for most of
//! the operations we use, 10/s for the listings of users, queues, routing profiles and the like.
//! A throttled call is not lost, but a step that keeps throttling stops early, and every other
//! tool of the account shares the same quota.
//!
//! The choice: **the SDK owns the retries and the pacer owns every send.** Each Connect client
//! is built once ([`connect_config`]) with the SDK's standard retry mode (exponential backoff
//! with jitter, [`Policy::max_attempts`] attempts) and an HTTP client that takes a token from the
//! operation's bucket before every attempt: first or retried, a single call or a paginator's next
//! page. So there is one retry layer, and nothing reaches Connect around the bucket (a retry loop
//! of our own above the SDK's would multiply the attempts and, worse, the SDK's inner retries
//! would skip our bucket). A throttle seen on the wire drains the bucket: the quota is shared, the
//! burst we thought we had is gone.
//!
//! The wait for a token is bounded by the invocation's deadline ([`crate::run::handler::within`]):
//! when the next token is due after it, the attempt fails at once with [`OutOfTime`] (nothing was
//! sent), which the adapters classify as `ConnectErrorClass::OutOfTime` and the steps read as
//! "stop here and save". The buckets run on tokio's clock, so tests can pause time (the
//! `governor` crate keeps its own clock).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_connect::config::retry::RetryConfig;
use aws_sdk_connect::config::timeout::TimeoutConfig;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, Metadata};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;
use tokio::time::Instant;
use tracing::debug;

use crate::domain::Region;
use crate::error::StepError;

/// A token bucket's shape: steady requests per second, and burst.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quota {
    pub rate: f64,
    pub burst: u32,
}

/// The Service Quotas default of an operation (the reference's table): 10/s for the listings it
/// names, 2/s for every other. The documented burst is 5 for all of them.
pub fn quota(operation: &str) -> Quota {
    let rate = match operation {
        "ListUsers"
        | "DescribeUser"
        | "ListQueues"
        | "ListRoutingProfiles"
        | "ListHoursOfOperations"
        | "ListQuickConnects"
        | "ListPrompts"
        | "ListAgentStatuses"
        | "ListPredefinedAttributes"
        | "ListUserHierarchyGroups" => 10.0,
        _ => 2.0,
    };
    Quota { rate, burst: 5 }
}

/// How a Connect client retries and paces.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Our buckets run at this multiple of Connect's quotas. 1 in production; a local control
    /// plane whose quotas are raised by F is paced at F by the same setting.
    pub quota_factor: f64,
    /// Attempts per call (the SDK's standard retry mode), throttled or transient.
    pub max_attempts: u32,
    /// One attempt's limit: a region that hangs fails the attempt instead of the invocation.
    pub attempt_timeout: Duration,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            quota_factor: 1.0,
            max_attempts: 5,
            attempt_timeout: Duration::from_secs(10),
        }
    }
}

impl Policy {
    /// From the environment: `CONNECT_QUOTA_FACTOR` (default 1), `CONNECT_MAX_ATTEMPTS`
    /// (default 5), `CONNECT_ATTEMPT_TIMEOUT_MS` (default 10000).
    pub fn from_env() -> Result<Policy, StepError> {
        let d = Policy::default();
        let factor: f64 = env_or("CONNECT_QUOTA_FACTOR", d.quota_factor)?;
        if !(factor.is_finite() && factor > 0.0) {
            return Err(StepError::Misconfigured(
                "CONNECT_QUOTA_FACTOR must be a positive number".into(),
            ));
        }
        let attempts: u32 = env_or("CONNECT_MAX_ATTEMPTS", d.max_attempts)?;
        if attempts == 0 {
            return Err(StepError::Misconfigured(
                "CONNECT_MAX_ATTEMPTS must be at least 1".into(),
            ));
        }
        let timeout_ms: u64 = env_or(
            "CONNECT_ATTEMPT_TIMEOUT_MS",
            d.attempt_timeout.as_millis() as u64,
        )?;
        Ok(Policy {
            quota_factor: factor,
            max_attempts: attempts,
            attempt_timeout: Duration::from_millis(timeout_ms.max(1)),
        })
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> Result<T, StepError> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v
            .parse()
            .map_err(|_| StepError::Misconfigured(format!("{name} must be a number, not '{v}'"))),
        _ => Ok(default),
    }
}

/// The buckets of one region's client, one per operation, created on first use.
#[derive(Debug)]
pub struct Pacer {
    factor: f64,
    buckets: Mutex<HashMap<String, Arc<TokenBucket>>>,
}

impl Pacer {
    pub fn new(quota_factor: f64) -> Pacer {
        Pacer {
            factor: quota_factor,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The bucket of `operation`.
    pub fn bucket(&self, operation: &str) -> Arc<TokenBucket> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        buckets
            .entry(operation.to_string())
            .or_insert_with(|| {
                let q = quota(operation);
                Arc::new(TokenBucket::new(q.rate * self.factor, q.burst))
            })
            .clone()
    }
}

/// A token bucket over tokio's clock. Tokens may go negative: a caller reserves its token and
/// sleeps until it is due.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Option<Instant>)>,
}

impl TokenBucket {
    pub fn new(rate: f64, burst: u32) -> TokenBucket {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            rate,
            burst,
            state: Mutex::new((burst, None)),
        }
    }

    /// Waits for a token; `false` (and no token taken) when the wait would pass `stop_at`.
    pub async fn acquire(&self, stop_at: Option<Instant>) -> bool {
        let wait = {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let since = s.1.map_or(Duration::ZERO, |at| now.duration_since(at));
            s.0 = (s.0 + since.as_secs_f64() * self.rate).min(self.burst);
            s.1 = Some(now);
            let wait = if s.0 >= 1.0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64((1.0 - s.0) / self.rate)
            };
            if stop_at.is_some_and(|t| now + wait > t) {
                return false;
            }
            s.0 -= 1.0;
            wait
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        true
    }

    /// Connect throttled us: forget any burst we thought we had.
    pub fn drain(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.0 = s.0.min(0.0);
    }
}

/// An attempt not sent: its token was due after the invocation's deadline.
#[derive(Debug)]
pub struct OutOfTime {
    pub operation: String,
}

impl std::fmt::Display for OutOfTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} not sent: its turn under the quota comes after the invocation's deadline",
            self.operation
        )
    }
}

impl std::error::Error for OutOfTime {}

/// The configuration of one region's Connect client under `policy`, paced by `pacer`.
pub fn connect_config(
    conf: &SdkConfig,
    region: &Region,
    policy: &Policy,
    pacer: Arc<Pacer>,
) -> aws_sdk_connect::Config {
    let builder = aws_sdk_connect::config::Builder::from(conf)
        .region(aws_sdk_connect::config::Region::new(region.to_string()))
        .retry_config(RetryConfig::standard().with_max_attempts(policy.max_attempts))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(policy.attempt_timeout)
                .build(),
        )
        .interceptor(NameTheOperation);
    // The configuration's client ([`crate::Context::from_env`] sets one for all its clients),
    // else the SDK's own default: `load_defaults` leaves it to each client, which would bypass
    // the pacer.
    let inner = conf.http_client().unwrap_or_else(https_client);
    builder.http_client(PacedClient { inner, pacer }).build()
}

/// The SDK's default HTTPS client (hyper 1, rustls with aws-lc), built explicitly so that the
/// clients of a context can share one.
pub fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .build_https()
}

/// Paces an HTTP client: every request takes a token from its operation's bucket first.
pub fn paced(inner: SharedHttpClient, pacer: Arc<Pacer>) -> SharedHttpClient {
    SharedHttpClient::new(PacedClient { inner, pacer })
}

/// The operation a request belongs to, for the connector (set on every attempt).
#[derive(Clone, Debug)]
struct OperationName(String);

#[derive(Debug)]
struct NameTheOperation;

impl Intercept for NameTheOperation {
    fn name(&self) -> &'static str {
        "NameTheOperation"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(m) = cfg.load::<Metadata>() {
            context
                .request_mut()
                .add_extension(OperationName(m.name().to_string()));
            // the orchestrator counts attempts from 1: a later one is the SDK retrying
            if cfg
                .load::<aws_smithy_runtime_api::client::retries::RequestAttempts>()
                .is_some_and(|a| a.attempts() > 1)
            {
                crate::metrics::connect_retry(m.name());
            }
        }
        Ok(())
    }
}

#[derive(Debug)]
struct PacedClient {
    inner: SharedHttpClient,
    pacer: Arc<Pacer>,
}

impl HttpClient for PacedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(PacedConnector {
            inner: self.inner.http_connector(settings, components),
            pacer: self.pacer.clone(),
        })
    }

    fn validate_base_client_config(
        &self,
        components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner.validate_base_client_config(components, cfg)
    }
}

#[derive(Debug)]
struct PacedConnector {
    inner: SharedHttpConnector,
    pacer: Arc<Pacer>,
}

impl HttpConnector for PacedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let bucket = request
            .extension::<OperationName>()
            .map(|op| (op.0.clone(), self.pacer.bucket(&op.0)));
        // Read here: the task-local is the calling step's, and this runs in its task.
        let stop_at = crate::run::handler::current();
        let inner = self.inner.clone();
        HttpConnectorFuture::new(async move {
            if let Some((operation, bucket)) = &bucket {
                if !bucket.acquire(stop_at).await {
                    return Err(ConnectorError::other(
                        Box::new(OutOfTime {
                            operation: operation.clone(),
                        }),
                        None,
                    ));
                }
            }
            let response = inner.call(request).await?;
            if response.status().as_u16() == 429 {
                if let Some((operation, bucket)) = &bucket {
                    debug!(operation, "throttled: the bucket is drained");
                    bucket.drain();
                    crate::metrics::connect_throttle(operation);
                }
            }
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_bucket_allows_a_burst_then_the_rate() {
        let bucket = TokenBucket::new(2.0, 5);
        let start = Instant::now();
        for _ in 0..5 {
            assert!(bucket.acquire(None).await);
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "the burst is free");
        for _ in 0..10 {
            assert!(bucket.acquire(None).await);
        }
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(4990) && took <= Duration::from_millis(5100),
            "10 more at 2/s: {took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_bucket_refuses_a_wait_past_the_stop_point_and_drains() {
        let bucket = TokenBucket::new(2.0, 1);
        let stop = Instant::now() + Duration::from_millis(300);
        assert!(bucket.acquire(Some(stop)).await);
        assert!(
            !bucket.acquire(Some(stop)).await,
            "next token due at 500 ms"
        );
        assert_eq!(
            Instant::now(),
            stop - Duration::from_millis(300),
            "no sleep"
        );
        bucket.drain();
        assert!(bucket.acquire(None).await);
    }

    #[test]
    fn quotas_follow_the_reference_and_the_factor_raises_them() {
        assert_eq!(quota("AssociateTrafficDistributionGroupUser").rate, 2.0);
        assert_eq!(quota("ListUsers").rate, 10.0);
        assert_eq!(quota("ListContactFlows").rate, 2.0);
        let pacer = Pacer::new(100.0);
        assert_eq!(pacer.bucket("ListUsers").rate, 1000.0);
        assert!(Arc::ptr_eq(
            &pacer.bucket("ReplicateInstance"),
            &pacer.bucket("ReplicateInstance")
        ));
    }
}
