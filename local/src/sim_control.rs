//! connect-sim's control API (`/_sim/*`): every call the stack makes to it goes through
//! [`SimControl`], over the sim's own typed client ([`connect_sim::control::Client`]). The
//! stack's tests read the sim's answers as JSON ([`serde_json::Value`]), as the sim gives them.

use std::net::SocketAddr;

use anyhow::{bail, Context as _, Result};
use connect_sim::control::{AccessPolicy, Advanced, CallFilter, Client, ClientError};
use serde_json::Value;

pub use connect_sim::control::Outage;

/// An outage's name on the wire (`unavailable`, `timeout`).
pub trait OutageName {
    fn as_str(&self) -> &'static str;
}

impl OutageName for Outage {
    fn as_str(&self) -> &'static str {
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
    /// The error code (`x-amzn-ErrorType`).
    pub code: String,
    /// The sim's message (the body, if it has none).
    pub body: String,
}

impl std::fmt::Display for SimRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "connect-sim refused the outage of {}: HTTP {} {}: {}",
            self.region, self.status, self.code, self.body
        )
    }
}

impl std::error::Error for SimRefused {}

/// The control API of the connect-sim at an address.
#[derive(Debug, Clone)]
pub struct SimControl {
    client: Client,
}

impl SimControl {
    pub fn new(addr: SocketAddr) -> SimControl {
        SimControl {
            client: Client::new(addr),
        }
    }

    /// `PUT /_sim/regions/{region}` with `{"outage": ...}` (null: the region is back). A refusal
    /// is a [`SimRefused`].
    pub async fn set_outage(&self, region: &str, outage: Option<Outage>) -> Result<()> {
        match self.client.set_outage(region, outage).await {
            Ok(_) => Ok(()),
            Err(ClientError::Refused {
                status,
                code,
                message,
                ..
            }) => Err(SimRefused {
                region: region.to_string(),
                status,
                code,
                body: message,
            }
            .into()),
            Err(e) => Err(e.into()),
        }
    }

    /// `PUT /_sim/quota`: the quota factor from now on (1: Connect's real quotas), fresh buckets.
    pub async fn set_quota_factor(&self, factor: f64) -> Result<()> {
        match self.client.set_quota_factor(factor).await {
            Ok(_) => Ok(()),
            Err(ClientError::Refused {
                status,
                code,
                message,
                ..
            }) => {
                bail!("connect-sim refused quota factor {factor}: HTTP {status} {code}: {message}")
            }
            Err(e) => Err(e.into()),
        }
    }

    /// `GET /_sim/calls`: the call log, optionally of one operation.
    pub async fn calls(&self, operation: Option<&str>) -> Result<Vec<Value>> {
        let filter = CallFilter {
            operation: operation.map(str::to_string),
            ..CallFilter::default()
        };
        self.client
            .calls(&filter)
            .await?
            .iter()
            .map(|c| serde_json::to_value(c).context("call record"))
            .collect()
    }

    /// `PUT /_sim/access/{key}`: calls signed with `key` may do what `policy` allows, no more.
    pub async fn set_access_policy(&self, key: &str, policy: &AccessPolicy) -> Result<()> {
        self.client
            .set_access_policy(key, policy)
            .await
            .with_context(|| format!("setting the access policy of {key}"))?;
        Ok(())
    }

    /// The sim's own typed client, for what a test stages beyond the stack's helpers.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// `GET /_sim/state`: everything the sim holds.
    pub async fn state(&self) -> Result<Value> {
        let state = self.client.state().await?;
        serde_json::to_value(&state).context("sim state")
    }

    /// `POST /_sim/clock/advance`: moves the simulated clock forward, applying everything due;
    /// the sim's answer (`{"now": ...}`).
    pub async fn advance_clock(&self, seconds: u64) -> Result<Value> {
        let now = self.client.advance_clock(seconds as f64).await?;
        serde_json::to_value(Advanced { now }).context("clock advance")
    }
}
