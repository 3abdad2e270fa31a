//! Run bookkeeping shared by the steps: find or start the run record, note the step, record its
//! result or error, and hold the instance lock while mutating.

use serde::Serialize;
use serde_json::Value;

use crate::error::StepError;
use crate::records::{BrokenLock, Lock, LockOutcome, RunError, RunKind, RunRecord, RunStatus};
pub use crate::run_ids::{check_run_id, machine_of, run_token};
use crate::store::RunStore;

/// Loads the run (or starts it) and marks `step` as the one running; `execution_arn` is the
/// Step Functions execution driving the run, when there is one. A run ID names one run of one
/// machine: a run that another state machine drives is refused (`InvalidInput`), never resumed.
#[allow(clippy::too_many_arguments)]
pub async fn begin_step<S: RunStore>(
    store: &S,
    instance_id: &str,
    run_id: &str,
    kind: RunKind,
    step: &str,
    inputs: Value,
    execution_arn: Option<&str>,
    now: i64,
) -> Result<RunRecord, StepError> {
    let machine = execution_arn.and_then(machine_of);
    let mut run = match store.get_run(instance_id, run_id).await? {
        Some(run) => {
            if let (Some(theirs), Some(ours)) = (&run.machine, &machine) {
                if theirs != ours {
                    return Err(StepError::InvalidInput(format!(
                        "run '{run_id}' of instance {instance_id} belongs to the state machine \
                         {theirs}, not to {ours}: start this execution under another name \
                         (run ID)"
                    )));
                }
            }
            run
        }
        None => RunRecord::new(instance_id, run_id, kind, step, inputs, now),
    };
    if let Some(arn) = execution_arn {
        run.execution_arn = Some(arn.to_string());
    }
    if machine.is_some() {
        run.machine = machine;
    }
    run.step = step.to_string();
    run.status = RunStatus::Running;
    run.updated_at = now;
    store.put_run(&run).await?;
    Ok(run)
}

/// Stores a step's result (or intent) on the run under the step's name.
pub async fn record_step<S: RunStore, T: Serialize>(
    store: &S,
    run: &mut RunRecord,
    step: &str,
    result: &T,
    now: i64,
) -> Result<(), StepError> {
    let value = serde_json::to_value(result).map_err(|e| StepError::Rejected(e.to_string()))?;
    run.steps.insert(step.to_string(), value);
    run.updated_at = now;
    store.put_run(run).await?;
    Ok(())
}

/// Records a failed step on the run, best effort (the error itself is what the caller returns).
/// A failure for good (not retryable) also releases the instance lock if this run holds it, so
/// the next run need not wait for the lease; a retryable one keeps it for the retry.
pub async fn record_failure<S: RunStore>(
    store: &S,
    run: &mut RunRecord,
    error: &StepError,
    now: i64,
) {
    run.error = Some(RunError {
        error_type: error.error_type().to_string(),
        message: error.to_string(),
    });
    if !error.is_retryable() {
        run.status = RunStatus::Failed;
    }
    run.updated_at = now;
    if let Err(e) = store.put_run(run).await {
        tracing::warn!(run_id = %run.run_id, error = %e, "could not record the failure on the run");
    }
    if !error.is_retryable() {
        if let Err(e) = store.release_lock(&run.instance_id, &run.run_id).await {
            tracing::warn!(run_id = %run.run_id, error = %e, "could not release the lock");
        }
    }
}

/// The run's last step is done: marks it succeeded and releases the instance lock it holds.
pub async fn finish_run<S: RunStore>(
    store: &S,
    run: &mut RunRecord,
    now: i64,
) -> Result<(), StepError> {
    run.status = RunStatus::Succeeded;
    run.error = None;
    run.updated_at = now;
    store.put_run(run).await?;
    store.release_lock(&run.instance_id, &run.run_id).await?;
    Ok(())
}

/// Takes the instance lock for a run, or says who holds it (`RunInProgress`).
pub async fn lock_instance<S: RunStore>(
    store: &S,
    instance_id: &str,
    run_id: &str,
    kind: RunKind,
    lease_seconds: i64,
    now: i64,
) -> Result<Option<String>, StepError> {
    let lock = Lock::new(instance_id, run_id, kind, lease_seconds, now);
    acquire(store, lock, now).await
}

/// [`lock_instance`] for a run record: the lock also names the run's machine, so that the same
/// run ID from another machine neither renews nor releases it.
pub async fn lock_run<S: RunStore>(
    store: &S,
    run: &RunRecord,
    lease_seconds: i64,
    now: i64,
) -> Result<Option<String>, StepError> {
    acquire(store, run_lock(run, lease_seconds, now), now).await
}

fn run_lock(run: &RunRecord, lease_seconds: i64, now: i64) -> Lock {
    Lock {
        machine: run.machine.clone(),
        ..Lock::new(&run.instance_id, &run.run_id, run.kind, lease_seconds, now)
    }
}

async fn acquire<S: RunStore>(
    store: &S,
    lock: Lock,
    now: i64,
) -> Result<Option<String>, StepError> {
    let (instance_id, run_id) = (&lock.instance_id, &lock.run_id);
    match store.acquire_lock(&lock, now).await? {
        LockOutcome::Acquired { took_over } => {
            if let Some(other) = &took_over {
                tracing::warn!(%instance_id, %run_id, took_over = %other, "lock taken over from a lower-priority run");
            }
            Ok(took_over)
        }
        LockOutcome::Held(l) => Err(StepError::RunInProgress(format!(
            "instance {instance_id} is locked by {:?} run {} until {}",
            l.kind, l.run_id, l.lease_until
        ))),
    }
}

/// Takes the instance lock whoever holds it: an operator's explicit override during an incident
/// (`breakLock` with a reason). The lock keeps the reason and the run it replaced.
pub async fn break_instance_lock<S: RunStore>(
    store: &S,
    instance_id: &str,
    run_id: &str,
    kind: RunKind,
    lease_seconds: i64,
    reason: &str,
    now: i64,
) -> Result<Option<String>, StepError> {
    let lock = Lock::new(instance_id, run_id, kind, lease_seconds, now);
    break_with(store, lock, reason).await
}

/// [`break_instance_lock`] for a run record (the lock names the run's machine).
pub async fn break_run_lock<S: RunStore>(
    store: &S,
    run: &RunRecord,
    lease_seconds: i64,
    reason: &str,
    now: i64,
) -> Result<Option<String>, StepError> {
    break_with(store, run_lock(run, lease_seconds, now), reason).await
}

async fn break_with<S: RunStore>(
    store: &S,
    lock: Lock,
    reason: &str,
) -> Result<Option<String>, StepError> {
    let current = store.get_lock(&lock.instance_id).await?;
    let lock = Lock {
        broke: Some(BrokenLock {
            reason: reason.to_string(),
            previous_run_id: current.as_ref().map(|l| l.run_id.clone()),
        }),
        ..lock
    };
    let (instance_id, run_id) = (&lock.instance_id, &lock.run_id);
    let replaced = store.break_lock(&lock).await?.map(|l| l.run_id);
    tracing::warn!(%instance_id, %run_id, reason, broke = ?replaced, "instance lock broken by operator");
    Ok(replaced.filter(|r| r != run_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryRunStore;

    #[tokio::test]
    async fn a_second_run_is_refused_until_the_first_releases_or_expires() {
        let store = MemoryRunStore::default();
        lock_instance(&store, "i", "r1", RunKind::Replication, 60, 0)
            .await
            .unwrap();
        let err = lock_instance(&store, "i", "r2", RunKind::Replication, 60, 10)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "RunInProgress");
        assert!(err.to_string().contains("r1"));
        let took = lock_instance(&store, "i", "f1", RunKind::Failover, 60, 10)
            .await
            .unwrap();
        assert_eq!(
            took.as_deref(),
            Some("r1"),
            "a failover takes over a replication"
        );
        store.release_lock("i", "r1").await.unwrap();
        assert_eq!(
            store.get_lock("i").await.unwrap().unwrap().run_id,
            "f1",
            "only the holder releases"
        );
        lock_instance(&store, "i", "r3", RunKind::Replication, 60, 71)
            .await
            .expect("expired lease");
    }

    #[tokio::test]
    async fn steps_and_failures_are_recorded_on_the_run() {
        let store = MemoryRunStore::default();
        let mut run = begin_step(
            &store,
            "i",
            "r",
            RunKind::Replication,
            "preflight",
            Value::Null,
            Some("arn:aws:states:us-east-1:1:execution:replication:r"),
            5,
        )
        .await
        .unwrap();
        record_step(
            &store,
            &mut run,
            "preflight",
            &serde_json::json!({"ok": true}),
            6,
        )
        .await
        .unwrap();
        record_failure(
            &store,
            &mut run,
            &StepError::PreflightFailed("no alias".into()),
            7,
        )
        .await;
        let stored = store.get_run("i", "r").await.unwrap().unwrap();
        assert_eq!(stored.steps["preflight"]["ok"], true);
        assert_eq!(stored.status, RunStatus::Failed);
        assert_eq!(stored.error.unwrap().error_type, "PreflightFailed");
        let again = begin_step(
            &store,
            "i",
            "r",
            RunKind::Replication,
            "replicate",
            Value::Null,
            None,
            8,
        )
        .await
        .unwrap();
        assert_eq!(again.started_at, 5, "the run is found, not restarted");
        assert_eq!(
            again.execution_arn.as_deref(),
            Some("arn:aws:states:us-east-1:1:execution:replication:r"),
            "the execution stays on the run"
        );
        assert!(check_run_id("run-2026.11_25").is_ok());
        assert!(check_run_id("bad id").is_err());
    }

    #[tokio::test]
    async fn a_run_id_of_another_machine_is_refused_not_resumed() {
        let store = MemoryRunStore::default();
        let replication = "arn:aws:states:us-east-1:1:execution:replication:nightly";
        let agent_sync = "arn:aws:states:us-east-1:1:execution:agent-sync:nightly";
        let begin = |arn: Option<&'static str>, step: &'static str| {
            let store = &store;
            async move {
                begin_step(
                    store,
                    "i",
                    "nightly",
                    RunKind::AgentSync,
                    step,
                    Value::Null,
                    arn,
                    1,
                )
                .await
            }
        };
        let run = begin(Some(replication), "replicate").await.unwrap();
        assert_eq!(
            run.machine.as_deref(),
            Some("arn:aws:states:us-east-1:1:stateMachine:replication")
        );
        let err = begin(Some(agent_sync), "poll-mirroring").await.unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput");
        assert!(
            err.to_string().contains("stateMachine:replication"),
            "{err}"
        );
        let stored = store.get_run("i", "nightly").await.unwrap().unwrap();
        assert_eq!(
            stored.step, "replicate",
            "the other machine's run is untouched"
        );

        // the same machine's next execution of the run, or a step invoked by hand, goes on
        begin(
            Some("arn:aws:states:us-east-1:1:execution:replication:nightly"),
            "poll-mirroring",
        )
        .await
        .unwrap();
        begin(None, "associate-agents").await.unwrap();

        // and the lock of that run is the machine's: the same run ID from another machine waits
        lock_run(&store, &stored, 60, 1).await.unwrap();
        let other = RunRecord {
            machine: Some("arn:aws:states:us-east-1:1:stateMachine:agent-sync".into()),
            ..stored.clone()
        };
        let refused = lock_run(&store, &other, 60, 2).await.unwrap_err();
        assert_eq!(refused.error_type(), "RunInProgress");
        lock_run(&store, &stored, 60, 3)
            .await
            .expect("renewed by its own machine");
    }

    #[tokio::test]
    async fn a_failure_for_good_or_the_end_of_a_run_unlocks_the_instance() {
        let store = MemoryRunStore::default();
        let mut run = begin_step(
            &store,
            "i",
            "r",
            RunKind::Replication,
            "x",
            Value::Null,
            None,
            1,
        )
        .await
        .unwrap();
        lock_instance(&store, "i", "r", RunKind::Replication, 60, 1)
            .await
            .unwrap();

        // a retryable failure keeps the lock for the retry
        record_failure(&store, &mut run, &StepError::Throttled("slow".into()), 2).await;
        assert_eq!(store.get_lock("i").await.unwrap().unwrap().run_id, "r");
        assert_eq!(run.status, RunStatus::Running);

        // a failure for good lets the next run in at once
        record_failure(
            &store,
            &mut run,
            &StepError::ResourceConflict("queue".into()),
            3,
        )
        .await;
        assert!(store.get_lock("i").await.unwrap().is_none());
        lock_instance(&store, "i", "r2", RunKind::Replication, 60, 4)
            .await
            .expect("no wait for the lease");

        // finishing a run releases only its own lock
        let mut done = begin_step(
            &store,
            "i",
            "r3",
            RunKind::Replication,
            "x",
            Value::Null,
            None,
            5,
        )
        .await
        .unwrap();
        finish_run(&store, &mut done, 6).await.unwrap();
        assert_eq!(store.get_lock("i").await.unwrap().unwrap().run_id, "r2");
        let stored = store.get_run("i", "r3").await.unwrap().unwrap();
        assert_eq!(stored.status, RunStatus::Succeeded);
    }
}
