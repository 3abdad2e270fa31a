//! Starting a machine's execution and following it to its end, with progress bars on a terminal
//! (stderr; none when it is not a terminal): the step the run is in, the kinds mirrored, the
//! agents associated against the total and the time left at the current pace.

use std::time::Duration;

use acgr::agents::AgentLedger;
use acgr::mirroring::MirroringLedger;
use acgr::run::request::FailoverRequest;
use acgr::run::RunLedger;
use acgr::store::dynamo::DynamoRunStore;
use acgr::traffic::TrafficLedger;
use aws_sdk_sfn::types::ExecutionStatus;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde_json::Value;

use crate::exit::{CliError, Exit};
use crate::target::{Clients, Target};

/// How an execution ended.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finished {
    pub region: String,
    pub execution_arn: String,
    pub run_id: String,
    pub status: String,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// The execution's output (the machine's last state), when it succeeded.
    pub output: Option<Value>,
}

impl Finished {
    pub fn succeeded(&self) -> bool {
        self.status == "SUCCEEDED"
    }

    /// The exit code of this end.
    pub fn exit(&self) -> Exit {
        if self.succeeded() {
            Exit::Done
        } else {
            Exit::of_error(self.error.as_deref().unwrap_or(""))
        }
    }
}

fn sfn_error<E: std::error::Error + 'static>(what: &str, region: &str, e: E) -> CliError {
    let text = aws_sdk_sfn::error::DisplayErrorContext(&e).to_string();
    // no answer at all (timeout, refused connection) is a region unreachable
    let exit = if text.contains("dispatch failure") || text.contains("timeout") {
        Exit::Unreachable
    } else {
        Exit::Failed
    };
    CliError::new(exit, format!("{what} in {region}: {text}"))
}

/// Whether the region's Step Functions answers for `machine`.
pub async fn reachable(c: &Clients, machine: &str) -> Result<(), CliError> {
    c.sfn
        .describe_state_machine()
        .state_machine_arn(machine)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sfn_error("DescribeStateMachine", c.region.as_str(), e))
}

/// StartExecution, or, when an execution of that name already exists (the same run asked
/// again: an incident's ID, a retried command), that execution to follow, only if it was started
/// with the same request: an execution of that name with another input is never followed (its
/// outcome is not this command's), exit 2.
pub async fn start(
    c: &Clients,
    machine: &str,
    name: &str,
    input: &Value,
) -> Result<String, CliError> {
    let started = c
        .sfn
        .start_execution()
        .state_machine_arn(machine)
        .name(name)
        .input(input.to_string())
        .send()
        .await;
    match started {
        Ok(o) => Ok(o.execution_arn().to_string()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_execution_already_exists()) =>
        {
            let arn = format!(
                "{}:{name}",
                machine.replacen(":stateMachine:", ":execution:", 1)
            );
            let existing = c
                .sfn
                .describe_execution()
                .execution_arn(&arn)
                .send()
                .await
                .map_err(|e| sfn_error("DescribeExecution", c.region.as_str(), e))?;
            let theirs = existing.input().unwrap_or_default();
            if same_input(theirs, input) {
                Ok(arn)
            } else {
                Err(CliError::new(
                    Exit::Usage,
                    format!(
                        "run {name} already ran another request ({arn}, {}, input {theirs}); \
                         not following it: choose another --run-id",
                        existing.status().as_str()
                    ),
                ))
            }
        }
        Err(e) => Err(sfn_error("StartExecution", c.region.as_str(), e)),
    }
}

/// Whether an execution's input is this command's: the same failover request (its time and run
/// ID aside), else the same JSON.
fn same_input(theirs: &str, ours: &Value) -> bool {
    let parsed: Option<Value> = serde_json::from_str(theirs).ok();
    let request = |v: &Value| serde_json::from_value::<FailoverRequest>(v.clone()).ok();
    match (parsed.as_ref().and_then(request), request(ours)) {
        (Some(a), Some(b)) => a.same_request(&b),
        _ => parsed.as_ref() == Some(ours),
    }
}

/// What the bars show while the execution runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bars {
    /// The step only.
    Step,
    /// The step, mirroring per kind and agents associated.
    Replication,
}

struct Progress {
    step: ProgressBar,
    kinds: Option<ProgressBar>,
    agents: Option<ProgressBar>,
    _multi: MultiProgress,
}

impl Progress {
    fn new(bars: Bars, visible: bool) -> Progress {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let multi = MultiProgress::with_draw_target(target);
        let step = multi.add(ProgressBar::new_spinner());
        step.set_style(
            ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        step.enable_steady_tick(Duration::from_millis(120));
        let bar = |prefix: &str| {
            let b = multi.add(ProgressBar::new(0));
            b.set_style(
                ProgressStyle::with_template(
                    "  {prefix:<10} [{bar:30}] {pos}/{len} {msg} (eta {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            b.set_prefix(prefix.to_string());
            b
        };
        let (kinds, agents) = match bars {
            Bars::Step => (None, None),
            Bars::Replication => (Some(bar("mirroring")), Some(bar("agents"))),
        };
        Progress {
            step,
            kinds,
            agents,
            _multi: multi,
        }
    }

    fn finish(&self) {
        self.step.finish_and_clear();
        for b in [&self.kinds, &self.agents].into_iter().flatten() {
            b.finish();
        }
    }
}

/// Reads the run's progress from the table into the bars.
async fn update(p: &Progress, table: &DynamoRunStore, instance_id: &str, run_id: &str) {
    if let Ok(Some(run)) = table.get_run(instance_id, run_id).await {
        p.step.set_message(format!("run {run_id}: {}", run.step));
    }
    if let Some(kinds) = &p.kinds {
        if let Ok(snapshots) = table.snapshots(instance_id).await {
            let mine: Vec<_> = snapshots.iter().filter(|s| s.run_id == run_id).collect();
            if !mine.is_empty() {
                kinds.set_length(mine.len() as u64);
                let done = mine
                    .iter()
                    .filter(|s| s.missing == 0 && s.conflicting == 0)
                    .count();
                kinds.set_position(done as u64);
                let missing: u64 = mine.iter().map(|s| s.missing).sum();
                kinds.set_message(format!("{missing} resources to mirror"));
            }
        }
    }
    if let Some(agents) = &p.agents {
        if let Ok(Some(progress)) = table.get_progress(instance_id, run_id).await {
            if agents.length() == Some(0) {
                if let Ok(groups) = table.groups(instance_id).await {
                    let total = groups
                        .iter()
                        .find(|g| g.is_default)
                        .map_or(0, |g| g.agents_total);
                    agents.set_length(total);
                }
            }
            let done = progress.associated + progress.already_associated;
            if agents.length().is_some_and(|l| l < done) {
                agents.set_length(done);
            }
            agents.set_position(done);
            agents.set_message(format!(
                "{} waiting for the replica",
                progress.waiting_for_replica
            ));
        }
    }
}

/// Follows the execution until it ends, reading the run from the table of the region it runs in.
pub async fn follow(
    t: &Target,
    c: &Clients,
    arn: &str,
    run_id: &str,
    bars: Bars,
    visible: bool,
) -> Result<Finished, CliError> {
    let progress = Progress::new(bars, visible);
    let table = c.run_table(&t.deployment.run_table_name);
    let mut misses = 0;
    loop {
        let d = match c.sfn.describe_execution().execution_arn(arn).send().await {
            Ok(d) => d,
            // a moment without an answer does not end the shift: ask again, then say which
            // execution to follow
            Err(_) if misses < 3 => {
                misses += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            Err(e) => {
                let mut err = sfn_error("DescribeExecution", c.region.as_str(), e);
                err.message = format!(
                    "{} (execution {arn}, run {run_id}: it may still be running; grctl runs)",
                    err.message
                );
                return Err(err);
            }
        };
        misses = 0;
        update(&progress, &table, &t.deployment.instance_id, run_id).await;
        if d.status() != &ExecutionStatus::Running {
            progress.finish();
            return Ok(Finished {
                region: c.region.to_string(),
                execution_arn: arn.to_string(),
                run_id: run_id.to_string(),
                status: d.status().as_str().to_string(),
                error: d.error().map(str::to_string),
                cause: d.cause().map(str::to_string),
                output: d.output().and_then(|o| serde_json::from_str(o).ok()),
            });
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// An execution name (and run ID) for a command: `grctl-<verb>-<epoch ms>`.
pub fn execution_name(verb: &str) -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("grctl-{verb}-{ms}")
}

/// The error of a command whose machine is not deployed in the region.
pub fn no_machine(machine: &str, region: &str) -> CliError {
    CliError::new(
        Exit::Usage,
        format!("the {machine} machine is not deployed in {region}"),
    )
}

#[cfg(test)]
mod tests {
    use super::same_input;
    use serde_json::json;

    #[test]
    fn an_execution_is_followed_only_when_it_was_started_with_this_request() {
        let ours = json!({"instanceId": "i", "targetRegion": "us-west-2", "force": false});
        // incident-intake's execution of the same request: its run ID and time aside
        let intake = r#"{"instanceId": "i", "targetRegion": "us-west-2", "runId": "INC-1",
            "requestedAt": "2026-12-07T10:00:00Z"}"#;
        assert!(same_input(intake, &ours));
        let forced = r#"{"instanceId": "i", "targetRegion": "us-west-2", "force": true}"#;
        assert!(!same_input(forced, &ours));
        let failback = r#"{"instanceId": "i", "preset": "failback"}"#;
        assert!(!same_input(failback, &ours));
        // other machines' inputs: the same JSON
        let replication = json!({"instanceId": "i", "replicaRegion": "us-west-2"});
        assert!(same_input(&replication.to_string(), &replication));
        assert!(!same_input(
            r#"{"instanceId": "j", "replicaRegion": "us-west-2"}"#,
            &replication
        ));
    }
}
