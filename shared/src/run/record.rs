//! A run and the instance lock: what every step records about the run it works in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RunKind {
    Replication,
    AgentSync,
    Failover,
    Failback,
    /// A kind written by a newer version of the tool (read during a deploy, when the two
    /// regions briefly run different versions).
    #[serde(other)]
    Unknown,
}

impl RunKind {
    /// Lock priority: a traffic shift may take the lock from a replication or agent sync.
    pub fn priority(self) -> u8 {
        match self {
            RunKind::AgentSync => 0,
            RunKind::Replication => 1,
            RunKind::Failover | RunKind::Failback => 2,
            // most likely a newer routine kind: a shift may take its lock, a replication not
            RunKind::Unknown => 1,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
    /// A status written by a newer version of the tool.
    #[serde(other)]
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunError {
    pub error_type: String,
    pub message: String,
}

/// One run of a state machine (or of a step invoked by hand) against one instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRecord {
    pub instance_id: String,
    pub run_id: String,
    pub kind: RunKind,
    pub status: RunStatus,
    /// The step running or last run.
    pub step: String,
    pub inputs: Value,
    pub started_at: i64,
    pub updated_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_arn: Option<String>,
    /// The state machine the run belongs to ([`crate::run::machine_of`] its execution): a run ID
    /// names one run of one machine, never another machine's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RunError>,
    /// Per-step results and intents, by step name.
    #[serde(default)]
    pub steps: BTreeMap<String, Value>,
}

impl RunRecord {
    pub fn new(
        instance_id: &str,
        run_id: &str,
        kind: RunKind,
        step: &str,
        inputs: Value,
        now: i64,
    ) -> RunRecord {
        RunRecord {
            instance_id: instance_id.to_string(),
            run_id: run_id.to_string(),
            kind,
            status: RunStatus::Running,
            step: step.to_string(),
            inputs,
            started_at: now,
            updated_at: now,
            execution_arn: None,
            machine: None,
            error: None,
            steps: BTreeMap::new(),
        }
    }
}

/// The per-instance lock: one run acts on an instance at a time, until its lease ends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lock {
    pub instance_id: String,
    pub run_id: String,
    pub kind: RunKind,
    pub acquired_at: i64,
    pub lease_until: i64,
    /// Set when an operator broke the previous holder's lock: why, and whose it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broke: Option<BrokenLock>,
    /// The state machine of the run holding it, when one drives it: the same run ID from another
    /// machine is another run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
}

impl Lock {
    /// A lock for `run_id` from `now`, for `lease_seconds`.
    pub fn new(
        instance_id: &str,
        run_id: &str,
        kind: RunKind,
        lease_seconds: i64,
        now: i64,
    ) -> Lock {
        Lock {
            instance_id: instance_id.to_string(),
            run_id: run_id.to_string(),
            kind,
            acquired_at: now,
            lease_until: now + lease_seconds,
            broke: None,
            machine: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokenLock {
    pub reason: String,
    pub previous_run_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LockOutcome {
    /// Taken (or renewed); `took_over` names a lower-priority run whose lock was taken.
    Acquired {
        took_over: Option<String>,
    },
    Held(Lock),
}

/// The lock rule: free, expired, held by the same run, or held by a run of lower priority.
pub fn lock_allows(existing: Option<&Lock>, candidate: &Lock, now: i64) -> bool {
    match existing {
        None => true,
        Some(l) => {
            l.lease_until <= now
                || (l.run_id == candidate.run_id && same_machine(l, candidate))
                || l.kind.priority() < candidate.kind.priority()
        }
    }
}

/// Two locks of one run ID are one run's unless they name two different machines.
pub fn same_machine(a: &Lock, b: &Lock) -> bool {
    match (&a.machine, &b.machine) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    }
}

/// Runs in the order every reader shows them: newest first (by start, then run ID).
pub fn newest_first(runs: &mut [RunRecord]) {
    runs.sort_by(|a, b| (b.started_at, &b.run_id).cmp(&(a.started_at, &a.run_id)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(run: &str, kind: RunKind, until: i64) -> Lock {
        Lock {
            instance_id: "i".into(),
            run_id: run.into(),
            kind,
            acquired_at: 0,
            lease_until: until,
            broke: None,
            machine: None,
        }
    }

    #[test]
    fn the_lock_rule() {
        let held = lock("a", RunKind::Replication, 100);
        assert!(lock_allows(None, &lock("b", RunKind::Replication, 200), 50));
        assert!(
            !lock_allows(Some(&held), &lock("b", RunKind::Replication, 200), 50),
            "held"
        );
        assert!(
            lock_allows(Some(&held), &lock("a", RunKind::Replication, 200), 50),
            "renewal"
        );
        assert!(
            lock_allows(Some(&held), &lock("b", RunKind::Replication, 200), 100),
            "expired"
        );
        assert!(
            lock_allows(Some(&held), &lock("f", RunKind::Failover, 200), 50),
            "failover takes over"
        );
        let failover = lock("f", RunKind::Failover, 100);
        assert!(
            !lock_allows(Some(&failover), &lock("g", RunKind::Failback, 200), 50),
            "same priority waits"
        );
        assert!(!lock_allows(
            Some(&failover),
            &lock("a", RunKind::Replication, 200),
            50
        ));
    }
}
