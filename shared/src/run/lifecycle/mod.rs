//! One lifecycle for every step: begin (or resume) the run, take the instance lock when the step
//! mutates, record the step's result, and always record a failure with its error name, a lock
//! refusal included. A step tells only its own story between [`StepRun::begin`] and
//! [`StepRun::end`].

use serde::Serialize;
use serde_json::Value;

use super::ids::machine_of;
use super::input::Header;
use super::ledger::RunLedger;
use super::record::{BrokenLock, Lock, LockOutcome, RunError, RunKind, RunRecord, RunStatus};
use crate::error::StepError;

/// How a step holds the instance while it works.
#[derive(Clone, Debug, PartialEq)]
pub enum Hold {
    /// Reads only: no lock.
    Nothing,
    /// The instance lock, by the lock rule (`records::lock_allows`).
    Lock,
    /// The lock whoever holds it, with the operator's reason.
    BreakLock(String),
}

/// What a step's run is.
pub struct Begin<'a> {
    pub header: &'a Header,
    /// The instance's bare ID, resolved from the header.
    pub instance_id: &'a str,
    /// The run's kind when it starts here (a run begun by an earlier step keeps its own).
    pub kind: RunKind,
    pub step: &'static str,
    /// The step's input as the run records it.
    pub inputs: Value,
    pub hold: Hold,
    pub lease_seconds: i64,
}

/// A run a step is working in.
pub struct StepRun<'s, S> {
    store: &'s S,
    pub record: RunRecord,
    step: &'static str,
    now: i64,
}

impl<'s, S: RunLedger> StepRun<'s, S> {
    /// Begins (or resumes) the run, then holds the instance as asked. A run ID names one run of
    /// one machine: a run that another state machine drives is refused (`InvalidInput`), never
    /// resumed. A lock refused is recorded on the run like any other failure.
    pub async fn begin(store: &'s S, b: Begin<'_>, now: i64) -> Result<StepRun<'s, S>, StepError> {
        let record = resume_or_start(store, &b, now).await?;
        let mut run = StepRun {
            store,
            record,
            step: b.step,
            now,
        };
        let held = match &b.hold {
            Hold::Nothing => Ok(None),
            Hold::Lock => lock_run(store, &run.record, b.lease_seconds, now).await,
            Hold::BreakLock(reason) => {
                break_run_lock(store, &run.record, b.lease_seconds, reason, now).await
            }
        };
        match held {
            Ok(_) => Ok(run),
            Err(e) => Err(run.fail(e).await),
        }
    }

    /// What this step recorded on an earlier attempt of the run.
    pub fn previous(&self) -> Option<&Value> {
        self.record.steps.get(self.step)
    }

    /// Records an intermediate result under the step's name (the run goes on).
    pub async fn note<T: Serialize>(&mut self, result: &T) -> Result<(), StepError> {
        record_step(self.store, &mut self.record, self.step, result, self.now).await
    }

    /// Records a failure on the run (a failure for good also releases the lock) and returns it.
    pub async fn fail(&mut self, error: StepError) -> StepError {
        record_failure(self.store, &mut self.record, &error, self.now).await;
        error
    }

    /// Records how the step ended: its output, and when `last` says the run is complete, the
    /// run's success (which releases the lock); or its failure.
    pub async fn end<T: Serialize>(
        mut self,
        result: Result<T, StepError>,
        last: impl FnOnce(&T) -> bool,
    ) -> Result<T, StepError> {
        match result {
            Ok(out) => {
                self.note(&out).await?;
                if last(&out) {
                    finish_run(self.store, &mut self.record, self.now).await?;
                }
                Ok(out)
            }
            Err(e) => Err(self.fail(e).await),
        }
    }
}

/// Loads the run (or starts it) and marks the step as the one running, with the execution
/// driving the run when there is one.
async fn resume_or_start<S: RunLedger>(
    store: &S,
    b: &Begin<'_>,
    now: i64,
) -> Result<RunRecord, StepError> {
    let (instance_id, run_id) = (b.instance_id, b.header.run_id.as_str());
    let execution_arn = b.header.execution_arn.as_deref();
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
        None => RunRecord::new(instance_id, run_id, b.kind, b.step, b.inputs.clone(), now),
    };
    if let Some(arn) = execution_arn {
        run.execution_arn = Some(arn.to_string());
    }
    if machine.is_some() {
        run.machine = machine;
    }
    run.step = b.step.to_string();
    run.status = RunStatus::Running;
    run.updated_at = now;
    store.put_run(&run).await?;
    Ok(run)
}

/// Stores a step's result (or intent) on the run under the step's name.
async fn record_step<S: RunLedger, T: Serialize>(
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
async fn record_failure<S: RunLedger>(store: &S, run: &mut RunRecord, error: &StepError, now: i64) {
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
async fn finish_run<S: RunLedger>(
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

/// Takes the instance lock for a run, or says who holds it (`RunInProgress`). The lock has the
/// run's kind (a replication's steps outrank an agent sync's) and names the run's machine, so
/// that the same run ID from another machine neither renews nor releases it.
async fn lock_run<S: RunLedger>(
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

async fn acquire<S: RunLedger>(
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
async fn break_run_lock<S: RunLedger>(
    store: &S,
    run: &RunRecord,
    lease_seconds: i64,
    reason: &str,
    now: i64,
) -> Result<Option<String>, StepError> {
    break_with(store, run_lock(run, lease_seconds, now), reason).await
}

async fn break_with<S: RunLedger>(
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
mod tests;
