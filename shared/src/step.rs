//! One lifecycle for every step: begin (or resume) the run, take the instance lock when the step
//! mutates, record the step's result, and always record a failure with its error name, a lock
//! refusal included. A step tells only its own story between [`StepRun::begin`] and
//! [`StepRun::end`].

use serde::Serialize;
use serde_json::Value;

use crate::error::StepError;
use crate::records::{RunKind, RunRecord};
use crate::runs::{
    begin_step, break_instance_lock, finish_run, lock_instance, record_failure, record_step,
};
use crate::store::RunStore;

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
    pub instance_id: &'a str,
    pub run_id: &'a str,
    /// The run's kind when it starts here (a run begun by an earlier step keeps its own).
    pub kind: RunKind,
    pub step: &'static str,
    /// The step's input as the run records it.
    pub inputs: Value,
    pub execution_arn: Option<&'a str>,
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

impl<'s, S: RunStore> StepRun<'s, S> {
    /// Begins (or resumes) the run, then holds the instance as asked. A lock refused is
    /// recorded on the run like any other failure.
    pub async fn begin(store: &'s S, b: Begin<'_>, now: i64) -> Result<StepRun<'s, S>, StepError> {
        let record = begin_step(
            store,
            b.instance_id,
            b.run_id,
            b.kind,
            b.step,
            b.inputs,
            b.execution_arn,
            now,
        )
        .await?;
        let mut run = StepRun {
            store,
            record,
            step: b.step,
            now,
        };
        // The lock has the run's kind: a replication's steps outrank an agent sync's.
        let kind = run.record.kind;
        let held = match &b.hold {
            Hold::Nothing => Ok(None),
            Hold::Lock => {
                lock_instance(store, b.instance_id, b.run_id, kind, b.lease_seconds, now).await
            }
            Hold::BreakLock(reason) => {
                break_instance_lock(
                    store,
                    b.instance_id,
                    b.run_id,
                    kind,
                    b.lease_seconds,
                    reason,
                    now,
                )
                .await
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::RunStatus;
    use crate::store::memory::MemoryRunStore;

    fn begin<'a>(run: &'a str, hold: Hold) -> Begin<'a> {
        Begin {
            instance_id: "i",
            run_id: run,
            kind: RunKind::Replication,
            step: "replicate",
            inputs: Value::Null,
            execution_arn: Some("arn:aws:states:us-east-1:1:execution:replication:r1"),
            hold,
            lease_seconds: 60,
        }
    }

    #[tokio::test]
    async fn a_run_is_begun_locked_recorded_and_finished() {
        let store = MemoryRunStore::default();
        let run = StepRun::begin(&store, begin("r1", Hold::Lock), 10)
            .await
            .unwrap();
        assert_eq!(store.get_lock("i").await.unwrap().unwrap().run_id, "r1");
        let out = run
            .end(Ok(serde_json::json!({"ok": true})), |_| true)
            .await
            .unwrap();
        assert_eq!(out["ok"], true);
        let stored = store.get_run("i", "r1").await.unwrap().unwrap();
        assert_eq!(stored.status, RunStatus::Succeeded);
        assert_eq!(stored.steps["replicate"]["ok"], true);
        assert!(stored.execution_arn.is_some());
        assert!(store.get_lock("i").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_refused_lock_and_a_failure_are_recorded_with_their_names() {
        let store = MemoryRunStore::default();
        let first = StepRun::begin(&store, begin("r1", Hold::Lock), 10)
            .await
            .unwrap();
        let refused = StepRun::begin(&store, begin("r2", Hold::Lock), 11).await;
        let err = refused.err().expect("refused");
        assert_eq!(err.error_type(), "RunInProgress");
        let r2 = store.get_run("i", "r2").await.unwrap().unwrap();
        assert_eq!(r2.error.unwrap().error_type, "RunInProgress");

        let err = first
            .end::<Value>(Err(StepError::Throttled("slow".into())), |_| true)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "Throttled");
        let r1 = store.get_run("i", "r1").await.unwrap().unwrap();
        assert_eq!(
            r1.status,
            RunStatus::Running,
            "a retryable failure keeps the run"
        );
        assert_eq!(store.get_lock("i").await.unwrap().unwrap().run_id, "r1");

        // a read-only step takes no lock; breaking one takes it whoever holds it
        StepRun::begin(&store, begin("p1", Hold::Nothing), 12)
            .await
            .unwrap();
        assert_eq!(store.get_lock("i").await.unwrap().unwrap().run_id, "r1");
        StepRun::begin(&store, begin("f1", Hold::BreakLock("incident".into())), 13)
            .await
            .unwrap();
        let lock = store.get_lock("i").await.unwrap().unwrap();
        assert_eq!(lock.run_id, "f1");
        assert_eq!(lock.broke.unwrap().previous_run_id.as_deref(), Some("r1"));
    }
}
