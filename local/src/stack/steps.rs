//! Driving the orchestrator of a [`Stack`]: invoking functions and running the state machines,
//! in the source region or in a region named by the `_in` forms.

use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use serde_json::{json, Value};

use super::{Execution, FunctionError, Stack};

impl Stack {
    /// Invokes a function through the Lambda Invoke API of the source region's watch.
    /// Panics on transport failures (the harness's, not the function's).
    pub async fn invoke(&mut self, function: &str, payload: Value) -> Result<Value, FunctionError> {
        self.source().invoke(function, payload).await
    }

    /// Invokes a function of a region's deployment (see [`Deployment::invoke`]).
    ///
    /// [`Deployment::invoke`]: crate::deployment::Deployment::invoke
    pub async fn invoke_in(
        &self,
        region: &str,
        function: &str,
        payload: Value,
    ) -> Result<Value, FunctionError> {
        self.deployment(region).invoke(function, payload).await
    }

    /// `cargo lambda invoke --data-file tests/events/<function>/<file>.json <function>`: the same
    /// path a developer takes by hand. Ok(output) or Err(the CLI's error text). Panics if the CLI
    /// cannot be run.
    pub async fn invoke_event_file(&self, function: &str, file: &str) -> Result<Value, String> {
        let watch = self.source().watch().await;
        crate::invoke::invoke_event_file(watch, function, file)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// The ARN of a state machine (of the source region) by name.
    pub fn machine(&self, name: &str) -> &str {
        self.source().machine(name)
    }

    /// The ARN of a state machine of a region by name.
    pub fn machine_in(&self, region: &str, name: &str) -> &str {
        self.deployment(region).machine(name)
    }

    /// StartExecution (source region): Ok(execution ARN) or Err(the error code, e.g.
    /// `ExecutionAlreadyExists`).
    pub async fn start_execution(
        &self,
        machine: &str,
        name: &str,
        input: &Value,
    ) -> Result<String, String> {
        self.source().start_execution(machine, name, input).await
    }

    /// StartExecution of a region's machine.
    pub async fn start_execution_in(
        &self,
        region: &str,
        machine: &str,
        name: &str,
        input: &Value,
    ) -> Result<String, String> {
        self.deployment(region)
            .start_execution(machine, name, input)
            .await
    }

    /// StartExecution then waits until it leaves RUNNING (source region); Err names the machine,
    /// the execution and what failed.
    pub async fn run_execution(
        &self,
        machine: &str,
        name: &str,
        input: &Value,
        timeout: Duration,
    ) -> Result<Execution> {
        let arn = self
            .start_execution(machine, name, input)
            .await
            .map_err(|e| anyhow!("StartExecution {machine}/{name}: {e}"))?;
        self.wait_execution(&arn, timeout)
            .await
            .with_context(|| format!("{machine}/{name}"))
    }

    /// DescribeExecution (source region).
    pub async fn describe_execution(&self, arn: &str) -> Result<Execution> {
        self.source().describe_execution(arn).await
    }

    /// DescribeExecution in a region.
    pub async fn describe_execution_in(&self, region: &str, arn: &str) -> Result<Execution> {
        self.deployment(region).describe_execution(arn).await
    }

    /// Waits until the execution (source region) leaves RUNNING.
    pub async fn wait_execution(&self, arn: &str, timeout: Duration) -> Result<Execution> {
        self.source().wait_execution(arn, timeout).await
    }

    /// Waits until an execution of a region leaves RUNNING.
    pub async fn wait_execution_in(
        &self,
        region: &str,
        arn: &str,
        timeout: Duration,
    ) -> Result<Execution> {
        self.deployment(region).wait_execution(arn, timeout).await
    }

    /// The names of the states an execution (source region) entered, in order.
    pub async fn states_entered(&self, arn: &str) -> Result<Vec<String>> {
        self.source().states_entered(arn).await
    }
}

/// The replication machine's input for the stack's instance and replica region.
pub fn replication_input(poll_seconds: u64, max_polls: u64) -> Value {
    json!(acgr::run::ReplicationRequest {
        instance_id: super::INSTANCE_ID.into(),
        replica_region: Some(super::REPLICA_REGION.into()),
        poll_seconds: Some(poll_seconds),
        max_polls: Some(max_polls),
        ..Default::default()
    })
}

/// The default traffic distribution group in connect-sim's state (`Stack::sim_state`).
pub fn default_group(state: &Value) -> Value {
    state["trafficDistributionGroups"]
        .as_array()
        .and_then(|gs| gs.iter().find(|g| g["isDefault"] == true))
        .cloned()
        .unwrap_or_else(|| panic!("no default group in {state:#}"))
}
