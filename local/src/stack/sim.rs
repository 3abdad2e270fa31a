//! connect-sim as the tests of a [`Stack`] see it: its call log and state, its clock and quotas
//! (through [`SimControl`](crate::sim_control::SimControl); these panic if it refuses), and a
//! Connect client on it.

use anyhow::Result;
use serde_json::Value;

use super::Stack;
use crate::config::local_config;

impl Stack {
    /// The sim's call log, optionally of one operation.
    pub async fn sim_calls(&self, operation: Option<&str>) -> Vec<Value> {
        self.sim_control
            .calls(operation)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// The calls of `operation` that Connect accepted (HTTP 200), in order.
    pub async fn accepted_calls(&self, operation: &str) -> Vec<Value> {
        self.sim_calls(Some(operation))
            .await
            .into_iter()
            .filter(|c| c["status"] == 200)
            .collect()
    }

    /// Everything the sim holds.
    pub async fn sim_state(&self) -> Value {
        self.sim_control
            .state()
            .await
            .unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// Moves the simulated clock forward, applying everything due.
    pub async fn advance_clock(&self, seconds: u64) -> Value {
        self.sim_control
            .advance_clock(seconds)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// connect-sim's quota factor from now on (1: Connect's real quotas), with fresh buckets.
    pub async fn set_quota_factor(&self, factor: f64) -> Result<()> {
        self.sim_control.set_quota_factor(factor).await
    }

    /// Replaces the Connect policy of `function`'s key in `region` (by default the one
    /// `template.yaml` grants): a test stages a missing permission with it.
    pub async fn set_access_policy(
        &self,
        function: &str,
        region: &str,
        policy: &connect_sim::control::AccessPolicy,
    ) -> Result<()> {
        let key = crate::permissions::access_key(function, region);
        self.sim_control.set_access_policy(&key, policy).await
    }

    /// connect-sim's typed control client: staged failures, settings, access policies.
    pub fn sim_client(&self) -> &connect_sim::control::Client {
        self.sim_control.client()
    }

    /// A Connect client of `region` on connect-sim, as an operator's console or CLI would use.
    pub async fn connect(&self, region: &str) -> aws_sdk_connect::Client {
        aws_sdk_connect::Client::new(&local_config(self.sim, region).await)
    }
}
