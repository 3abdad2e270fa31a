//! Starts connect-sim in-process on a free loopback port and talks to it: with the unmodified
//! `aws-sdk-connect` client, with the control API's client, and with raw HTTP for malformed
//! requests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use aws_sdk_connect::config::retry::RetryConfig;
use aws_sdk_connect::config::timeout::TimeoutConfig;
use aws_sdk_connect::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_connect::error::{ProvideErrorMetadata, SdkError};
use connect_sim::control::{CallRecord, Client, GroupState, Outage, RegionStatus, SimState};
use connect_sim::{Options, Scenario, Sim};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

pub const INSTANCE: &str = "4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10";
pub const SOURCE: &str = "us-east-1";
pub const REPLICA: &str = "us-west-2";

/// A running control plane; stopped when dropped.
pub struct Harness {
    pub addr: SocketAddr,
    /// The control API.
    pub control: Client,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn scenario_text(name: &str) -> String {
    let path = format!("{}/scenarios/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

impl Harness {
    /// Starts a named scenario from `sim/scenarios/`, with quotas raised so that only the
    /// throttling tests meet throttling.
    pub async fn start(name: &str) -> Harness {
        Self::start_text(&scenario_text(name), Some(100.0)).await
    }

    pub async fn start_text(text: &str, quota_factor: Option<f64>) -> Harness {
        let scenario = Scenario::parse(text).expect("scenario parses");
        let sim = Sim::new(
            scenario,
            Options {
                time_scale: 1.0,
                quota_factor,
                seed: Some(7),
            },
        )
        .expect("scenario builds");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(connect_sim::serve(listener, sim, async {
            let _ = rx.await;
        }));
        Harness {
            addr,
            control: Client::new(addr),
            stop: Some(tx),
        }
    }

    /// An SDK client for one region, without retries: every error surfaces.
    pub fn client(&self, region: &str) -> aws_sdk_connect::Client {
        self.client_with(region, RetryConfig::disabled())
    }

    pub fn client_with(&self, region: &str, retry: RetryConfig) -> aws_sdk_connect::Client {
        self.client_with_timeouts(region, retry, None)
    }

    /// A client with its own timeouts (`None`: the SDK's defaults).
    pub fn client_with_timeouts(
        &self,
        region: &str,
        retry: RetryConfig,
        timeouts: Option<TimeoutConfig>,
    ) -> aws_sdk_connect::Client {
        let mut conf = aws_sdk_connect::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(format!("http://{}", self.addr))
            .credentials_provider(Credentials::new(
                "AKIDSIMTEST",
                "secret",
                None,
                None,
                "test",
            ))
            .retry_config(retry);
        conf.set_timeout_config(timeouts);
        aws_sdk_connect::Client::from_conf(conf.build())
    }

    /// Sends raw bytes and returns (status, headers in lower case, body).
    pub async fn raw(&self, request: &[u8]) -> (u16, Vec<(String, String)>, String) {
        let mut stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect");
        stream.write_all(request).await.expect("write");
        let mut buf = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf))
            .await
            .expect("the server answers within 10 s")
            .expect("read");
        let text = String::from_utf8_lossy(&buf).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        (status, headers, body.to_string())
    }

    /// Moves simulated time forward.
    pub async fn advance(&self, seconds: f64) {
        self.control
            .advance_clock(seconds)
            .await
            .expect("clock advance");
    }

    pub async fn state(&self) -> SimState {
        self.control.state().await.expect("state")
    }

    /// The call log, for one operation.
    pub async fn calls(&self, operation: &str) -> Vec<CallRecord> {
        self.control.calls_of(operation).await.expect("call log")
    }
}

/// The modeled error code of a failed call.
pub fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> String {
    e.as_service_error()
        .and_then(ProvideErrorMetadata::code)
        .unwrap_or("<no service error>")
        .to_string()
}

/// A call's answer as a table-driven test compares it: `Ok(())`, or `Err(its error code)`.
pub fn refused<T, E: ProvideErrorMetadata, R>(
    answer: Result<T, SdkError<E, R>>,
) -> Result<(), String> {
    answer.map(drop).map_err(|e| code(&e))
}

pub fn message<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> String {
    e.as_service_error()
        .and_then(ProvideErrorMetadata::message)
        .unwrap_or_default()
        .to_string()
}

/// The default traffic distribution group of an instance.
pub fn tdg_summary<'a>(state: &'a SimState, instance: &str) -> &'a GroupState {
    state.default_group(instance).expect("a default group")
}

/// The HTTP status of a failed SDK call.
pub fn status<E, R: HttpStatus>(e: &SdkError<E, R>) -> u16 {
    e.raw_response().map_or(0, HttpStatus::status_u16)
}

pub trait HttpStatus {
    fn status_u16(&self) -> u16;
}

impl HttpStatus for aws_sdk_connect::config::http::HttpResponse {
    fn status_u16(&self) -> u16 {
        self.status().as_u16()
    }
}

/// Starts small and replicates it; `settle` simulated seconds later.
pub async fn replicated(settle: f64) -> Harness {
    let sim = Harness::start("small").await;
    sim.client(SOURCE)
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .expect("replicate");
    sim.advance(settle).await;
    sim
}

/// (name, ARN, is default) of each group listed in `region`.
pub async fn groups(sim: &Harness, region: &str) -> Vec<(String, String, bool)> {
    sim.client(region)
        .list_traffic_distribution_groups()
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("list groups")
        .traffic_distribution_group_summary_list()
        .iter()
        .map(|g| {
            (
                g.name().unwrap_or_default().to_string(),
                g.arn().unwrap_or_default().to_string(),
                g.is_default(),
            )
        })
        .collect()
}

/// (number, ID, target ARN) of each number listed in `region` for `target`.
pub async fn numbers(sim: &Harness, region: &str, target: &str) -> Vec<(String, String, String)> {
    sim.client(region)
        .list_phone_numbers_v2()
        .target_arn(target)
        .send()
        .await
        .expect("list numbers")
        .list_phone_numbers_summary_list()
        .iter()
        .map(|n| {
            (
                n.phone_number().unwrap_or_default().to_string(),
                n.phone_number_id().unwrap_or_default().to_string(),
                n.target_arn().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

pub async fn set_outage(sim: &Harness, region: &str, outage: Option<Outage>) -> RegionStatus {
    sim.control
        .set_outage(region, outage)
        .await
        .expect("set the outage")
}

pub fn signed_get(region: &str, path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDRAW/20240101/{region}/connect/aws4_request, SignedHeaders=host, Signature=00\r\n\r\n"
    )
}

pub async fn default_group_arn(c: &aws_sdk_connect::Client) -> String {
    let out = c
        .list_traffic_distribution_groups()
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("list groups");
    let g = out
        .traffic_distribution_group_summary_list()
        .iter()
        .find(|g| g.is_default())
        .expect("a default group");
    g.arn().unwrap().to_string()
}
