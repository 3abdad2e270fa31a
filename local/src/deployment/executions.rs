//! A deployment's state machines in its moto: created from the ASL at start, then executed and
//! read back (status, history) through `aws-sdk-sfn`.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use aws_sdk_sfn::error::{DisplayErrorContext, ProvideErrorMetadata};
use serde_json::Value;

use super::Deployment;
use crate::config::local_config;
use crate::options::{REPLICA_REGION, SOURCE_REGION};
use crate::table::TABLE_NAME;
use crate::{moto, sfn, workspace};

/// How an execution ended.
#[derive(Debug, Clone)]
pub struct Execution {
    pub arn: String,
    /// `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED` (or `RUNNING` while it runs).
    pub status: String,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// An SDK error of Step Functions as an error naming the operation.
fn failed<E: std::error::Error + Send + Sync + 'static>(
    operation: &'static str,
) -> impl FnOnce(E) -> anyhow::Error {
    move |e| anyhow!("{operation}: {}", DisplayErrorContext(e))
}

impl Deployment {
    /// Switches moto's executor on, then creates the role, the functions and the machines.
    pub(crate) async fn create_state_machines(&mut self, machines: &[&str]) -> Result<()> {
        moto::execute_state_machines(self.moto).await?;
        let role = moto::create_role(self.moto).await?;
        let conf = local_config(self.moto, &self.region).await;
        moto::register_functions(&aws_sdk_lambda::Client::new(&conf), &role).await?;
        let client = aws_sdk_sfn::Client::new(&conf);
        let created = sfn::create_machines(
            &client,
            &workspace(),
            machines,
            &self.region,
            TABLE_NAME,
            &role,
        )
        .await?;
        for (name, arn) in &created {
            // The functions were given the failover machine's ARN before it existed.
            let expected = sfn::machine_arn(&self.region, name);
            if *arn != expected {
                bail!("moto named {name} {arn}, not {expected}");
            }
        }
        self.machines = created.into_iter().collect();
        self.sfn = Some(client);
        self.role = role;
        Ok(())
    }

    /// Publishes this deployment as the stack grctl reads: the outputs `template.yaml` gives,
    /// for `instance_id`.
    pub(crate) async fn publish_stack(&self, instance_id: &str) -> Result<()> {
        let mut outputs = vec![
            ("InstanceId", instance_id.to_string()),
            ("SourceRegion", SOURCE_REGION.to_string()),
            ("ReplicaRegion", REPLICA_REGION.to_string()),
            ("RunTableName", TABLE_NAME.to_string()),
        ];
        for (machine, output) in [
            ("replication", "ReplicationStateMachineArn"),
            ("failover", "FailoverStateMachineArn"),
            ("agent-sync", "AgentSyncStateMachineArn"),
        ] {
            if let Some(arn) = self.machines.get(machine) {
                outputs.push((output, arn.clone()));
            }
        }
        moto::publish_stack(self.moto, &self.region, &outputs).await
    }

    fn sfn(&self) -> &aws_sdk_sfn::Client {
        self.ensure_up("Step Functions");
        match &self.sfn {
            Some(c) => c,
            // The harness's misuse, as the other harness checks (ensure_up) report it.
            None => {
                panic!("the stack was started without state machines (Options::state_machines)")
            }
        }
    }

    /// The ARN of a state machine of this deployment by name.
    pub fn machine(&self, name: &str) -> &str {
        self.machines
            .get(name)
            .unwrap_or_else(|| panic!("no state machine {name} in {}", self.region))
    }

    /// StartExecution: Ok(execution ARN) or Err(the error code, e.g. `ExecutionAlreadyExists`).
    pub async fn start_execution(
        &self,
        machine: &str,
        name: &str,
        input: &Value,
    ) -> Result<String, String> {
        self.sfn()
            .start_execution()
            .state_machine_arn(self.machine(machine))
            .name(name)
            .input(input.to_string())
            .send()
            .await
            .map(|out| out.execution_arn().to_string())
            .map_err(|e| {
                e.code()
                    .map(str::to_string)
                    .unwrap_or_else(|| DisplayErrorContext(e).to_string())
            })
    }

    /// DescribeExecution.
    pub async fn describe_execution(&self, arn: &str) -> Result<Execution> {
        let out = self
            .sfn()
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .map_err(failed("DescribeExecution"))?;
        Ok(Execution {
            arn: arn.to_string(),
            status: out.status().as_str().to_string(),
            error: out.error().map(str::to_string),
            cause: out.cause().map(str::to_string),
        })
    }

    /// Waits until the execution leaves RUNNING.
    pub async fn wait_execution(&self, arn: &str, timeout: Duration) -> Result<Execution> {
        let deadline = Instant::now() + timeout;
        loop {
            let e = self.describe_execution(arn).await?;
            if e.status != "RUNNING" {
                return Ok(e);
            }
            if Instant::now() > deadline {
                bail!("execution {arn} still RUNNING after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// An execution's whole history, in order (every page).
    async fn history(&self, arn: &str) -> Result<Vec<aws_sdk_sfn::types::HistoryEvent>> {
        self.sfn()
            .get_execution_history()
            .execution_arn(arn)
            .into_paginator()
            .items()
            .send()
            .collect::<std::result::Result<Vec<_>, _>>()
            .await
            .map_err(failed("GetExecutionHistory"))
    }

    /// The names of the states an execution entered, in order.
    pub async fn states_entered(&self, arn: &str) -> Result<Vec<String>> {
        Ok(self
            .history(arn)
            .await?
            .iter()
            .filter_map(|e| {
                e.state_entered_event_details()
                    .map(|d| d.name().to_string())
            })
            .collect())
    }

    /// The types of the events of an execution's history, in order (`TaskScheduled`,
    /// `TaskFailed`, `LambdaFunctionFailed`, ...).
    pub async fn event_types(&self, arn: &str) -> Result<Vec<String>> {
        Ok(self
            .history(arn)
            .await?
            .iter()
            .map(|e| e.r#type().as_str().to_string())
            .collect())
    }

    /// The Lambda functions an execution's tasks were scheduled to invoke (`FunctionName` of
    /// each `TaskScheduled` event, an ARN), in order.
    pub async fn functions_scheduled(&self, arn: &str) -> Result<Vec<String>> {
        Ok(self
            .history(arn)
            .await?
            .iter()
            .filter_map(|e| {
                let params = e.task_scheduled_event_details()?.parameters();
                let params: Value = serde_json::from_str(params).ok()?;
                params["FunctionName"].as_str().map(str::to_string)
            })
            .collect())
    }
}
