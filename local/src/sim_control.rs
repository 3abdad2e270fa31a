//! connect-sim's control API (`/_sim/*`): every call the stack makes to it goes through
//! [`SimControl`], so that one typed client can take its place.

use std::net::SocketAddr;

use anyhow::{bail, Context as _, Result};
use serde_json::{json, Value};

use crate::http::http;

/// How a region's Connect API fails during an outage (connect-sim's `/_sim/regions/{region}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Every call fails at once (HTTP 503).
    Unavailable,
    /// Calls hang until the caller gives up.
    Timeout,
}

impl Outage {
    pub fn as_str(self) -> &'static str {
        match self {
            Outage::Unavailable => "unavailable",
            Outage::Timeout => "timeout",
        }
    }
}

/// connect-sim did not take a region outage change (the deployment side was staged anyway).
#[derive(Debug, Clone)]
pub struct SimRefused {
    pub region: String,
    pub status: u16,
    pub body: String,
}

impl std::fmt::Display for SimRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "connect-sim refused the outage of {}: HTTP {}: {}",
            self.region, self.status, self.body
        )
    }
}

impl std::error::Error for SimRefused {}

/// The control API of the connect-sim at an address.
#[derive(Debug, Clone, Copy)]
pub struct SimControl {
    addr: SocketAddr,
}

impl SimControl {
    pub fn new(addr: SocketAddr) -> SimControl {
        SimControl { addr }
    }

    /// `PUT /_sim/regions/{region}` with `{"outage": ...}` (null: the region is back). A refusal
    /// is a [`SimRefused`].
    pub async fn set_outage(&self, region: &str, outage: Option<Outage>) -> Result<()> {
        let body = json!({ "outage": outage.map(Outage::as_str) }).to_string();
        let path = format!("/_sim/regions/{region}");
        let (status, text) = http(self.addr, "PUT", &path, Some(&body)).await?;
        if !(200..300).contains(&status) {
            return Err(SimRefused {
                region: region.to_string(),
                status,
                body: text,
            }
            .into());
        }
        Ok(())
    }

    /// `PUT /_sim/quota`: the quota factor from now on (1: Connect's real quotas), fresh buckets.
    pub async fn set_quota_factor(&self, factor: f64) -> Result<()> {
        let body = json!({ "factor": factor }).to_string();
        let (status, text) = http(self.addr, "PUT", "/_sim/quota", Some(&body)).await?;
        if !(200..300).contains(&status) {
            bail!("connect-sim refused quota factor {factor}: HTTP {status}: {text}");
        }
        Ok(())
    }

    /// `GET /_sim/calls`: the call log, optionally of one operation.
    pub async fn calls(&self, operation: Option<&str>) -> Result<Vec<Value>> {
        let path = match operation {
            Some(op) => format!("/_sim/calls?operation={op}"),
            None => "/_sim/calls".to_string(),
        };
        match self.call("GET", &path, None).await? {
            Value::Array(a) => Ok(a),
            Value::Object(mut o) => match o.remove("calls") {
                Some(Value::Array(a)) => Ok(a),
                _ => bail!("unexpected call log shape: {o:?}"),
            },
            other => bail!("unexpected call log: {other}"),
        }
    }

    /// `GET /_sim/state`: everything the sim holds.
    pub async fn state(&self) -> Result<Value> {
        self.call("GET", "/_sim/state", None).await
    }

    /// `POST /_sim/clock/advance`: moves the simulated clock forward, applying everything due.
    pub async fn advance_clock(&self, seconds: u64) -> Result<Value> {
        let body = json!({ "seconds": seconds });
        self.call("POST", "/_sim/clock/advance", Some(&body)).await
    }

    /// One request that must succeed; its JSON answer (Null if none).
    async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
        let body = body.map(Value::to_string);
        let (status, text) = http(self.addr, method, path, body.as_deref())
            .await
            .with_context(|| format!("sim {method} {path}"))?;
        if !(200..300).contains(&status) {
            bail!("sim {method} {path}: HTTP {status}: {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}
