//! What the run store keeps: runs, the instance lock, conflicts, mirroring snapshots, agent
//! associations and their progress, traffic shifts, and preflight's flow scans.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::connect::CurrentDistribution;
use crate::domain::Kind;

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
    /// The state machine the run belongs to ([`crate::runs::machine_of`] its execution): a run ID
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

/// A resource that exists in both regions under one name and two IDs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConflictRecord {
    pub instance_id: String,
    pub kind: Kind,
    pub name: String,
    pub source_id: Option<String>,
    pub replica_id: Option<String>,
    /// The region where mirroring is blocked.
    pub region: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<i64>,
}

/// How far one kind has mirrored, as of one poll.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotRecord {
    pub instance_id: String,
    pub run_id: String,
    pub kind: Kind,
    /// Resources in each region, when the poll listed them (only once the findings say done).
    #[serde(default)]
    pub source: Option<u64>,
    #[serde(default)]
    pub replica: Option<u64>,
    pub missing: u64,
    pub conflicting: u64,
    /// Findings of the other classes (see [`crate::connect::findings`]): blocking completion, and not.
    #[serde(default)]
    pub missing_dependencies: u64,
    #[serde(default)]
    pub sync_failures: u64,
    #[serde(default)]
    pub not_mirrored: u64,
    /// The first of those findings, each with its fix.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<crate::connect::findings::ReportedFinding>,
    pub at: i64,
}

/// A user known to be associated with a group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Association {
    pub instance_id: String,
    pub group_arn: String,
    pub user_id: String,
    pub username: String,
    /// The run that associated the user, or last found it among the group's members.
    pub run_id: String,
    /// When: a record older than the group's last complete members check is not trusted
    /// ([`crate::members`]).
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserFailure {
    pub user_id: String,
    pub error: String,
}

/// Where an association run stands: resumable from `cursor`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AssociationProgress {
    pub instance_id: String,
    pub run_id: String,
    pub group_arn: String,
    pub cursor: Option<String>,
    pub associated: u64,
    pub already_associated: u64,
    pub waiting_for_replica: u64,
    pub failed: Vec<UserFailure>,
    pub done: bool,
    pub updated_at: i64,
    /// Users of the page at `cursor` already counted, when an invocation stopped inside it:
    /// the resumed page skips them, so nobody is counted (or associated) twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub page_done: Vec<String>,
    /// Of `associated`, users recorded as associated that a members check did not find.
    #[serde(default)]
    pub reassociated: u64,
    /// This run's check of the group's members, made before the sweep when due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members_check: Option<crate::members::MembersCheck>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ShiftStatus {
    /// Written before UpdateTrafficDistribution is called.
    Intent,
    /// The new distribution was read back.
    Done,
    Failed,
    /// An intent of an earlier run that the live distribution never read back: found and
    /// closed by a later shift of the same group (the update was not applied, or was overtaken).
    Abandoned,
    /// A status written by a newer version of the tool: neither applied nor pending for this one.
    #[serde(other)]
    Unknown,
}

/// One traffic shift: the distribution before it and the one asked for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShiftRecord {
    pub instance_id: String,
    pub run_id: String,
    pub group_arn: String,
    pub status: ShiftStatus,
    /// `failover`, `failback` or `plan`.
    pub reason: String,
    pub before: CurrentDistribution,
    pub after: crate::domain::TrafficPlan,
    pub called_in: String,
    pub at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<i64>,
    /// `completed_at` in epoch milliseconds: a request made in the same second is told apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at_ms: Option<i64>,
    /// Set when a later shift, not this run, found the intent and settled it from the live
    /// distribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconciled_by: Option<String>,
    /// Connect's LastFailoverTime (epoch ms) read under the lock with `before`: the update is
    /// made only if the group still reads it, and a retry re-applies only over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fence: Option<i64>,
    /// LastFailoverTime once this shift's split was read back: what the other region must show
    /// to confirm it, and what tells this update from a later one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_fence: Option<i64>,
}

/// What the table knows of one traffic distribution group, recorded routinely by every
/// replication and agent-sync run (the steps that end them), long before any incident: the
/// group's ARN (how the replica region reaches it), its steady-state distribution (the failback
/// point when no failover episode is open) and how many agents are associated with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRecord {
    pub instance_id: String,
    pub group_arn: String,
    pub group_id: String,
    pub name: String,
    pub is_default: bool,
    /// The distribution read back while no episode was open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steady: Option<CurrentDistribution>,
    pub steady_at: i64,
    pub recorded_by: String,
    /// Users associated with the group, and users of the source instance, as of `agents_at`.
    pub agents_associated: u64,
    pub agents_total: u64,
    pub agents_at: i64,
    /// When the last complete check of the group's members started ([`crate::members`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members_checked_at: Option<i64>,
    /// When a routine run first found the group missing from its home region's listing
    /// (deleted): kept on record, never moved again, shown as missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gone_at: Option<i64>,
    /// The live split the last routine run read and could not explain from the record (a change
    /// outside the tool, or a shift whose record had not replicated yet): not taken as the
    /// steady state. Cleared once the record explains the live split again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unexplained: Option<CurrentDistribution>,
}

/// A failover episode of one group: opened once the first shift away from the steady state is
/// accepted by Connect, and closed by the failback. It keeps the split from before that first
/// shift, so repeated failovers never move the failback point. A closed episode stays as a
/// tombstone (`closedAt`, `closedBy`): a failback that ran before the episode replicated to its
/// region writes the tombstone anyway, and the late open episode, older, loses to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Episode {
    pub instance_id: String,
    pub group_arn: String,
    pub opened_by: String,
    pub opened_at: i64,
    /// What failback restores.
    pub before: CurrentDistribution,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
}

impl Episode {
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}

/// Where one resource listing of a scan stands: resources are taken in ID order, so the last ID
/// done is the whole position.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanCursor {
    /// The last ID done; `None` before the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    pub done: bool,
}

/// A flow or flow module whose content names a region, as the run store keeps it: bounded (a few
/// of the strings found, each cut short), however large the flow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HardcodedRegion {
    /// `contactFlows` or `contactFlowModules`.
    pub kind: Kind,
    pub id: String,
    pub name: String,
    /// The first regional ARNs and region names found, in order of appearance.
    pub found: Vec<String>,
    /// How many distinct strings were found (`found` lists the first few).
    pub found_total: u64,
}

/// preflight's scan of the flows and flow modules for hardcoded regions (`SCAN#<runId>`): its
/// position and what it found so far, in counts and a first few. The scan is resumable: an
/// invocation that runs out of time or quota stores this and the next one goes on from it. Every
/// finding is in the `HARDCODED#` pages of the scan's generation; this item stays small.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowScan {
    pub instance_id: String,
    pub run_id: String,
    /// 1 for a run's first scan; preflight run again after a finished scan starts the next,
    /// whose pages are keyed apart.
    pub generation: u32,
    pub started_at: i64,
    pub updated_at: i64,
    /// The step's other checks, made once per scan by its first invocation (the step's own
    /// report format; opaque here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<Value>,
    pub flows: ScanCursor,
    pub modules: ScanCursor,
    /// Flows and modules whose content was read.
    pub scanned: u64,
    /// Of those, the ones that name a region.
    pub hardcoded: u64,
    /// Flows not published (nothing to read).
    pub unpublished: u64,
    /// Flows and modules that could not be read, and listings refused.
    pub unreadable: u64,
    /// The first findings, for the report.
    #[serde(default)]
    pub sample: Vec<HardcodedRegion>,
    /// The first unpublished flows' names.
    #[serde(default)]
    pub unpublished_sample: Vec<String>,
    /// The first read or listing failures, as messages.
    #[serde(default)]
    pub problems: Vec<String>,
    /// `HARDCODED#` pages written.
    pub pages: u32,
    /// Both listings are done: the report is final.
    pub done: bool,
}

impl FlowScan {
    /// A new scan, nothing done.
    pub fn new(instance_id: &str, run_id: &str, generation: u32, now: i64) -> FlowScan {
        FlowScan {
            instance_id: instance_id.to_string(),
            run_id: run_id.to_string(),
            generation,
            started_at: now,
            updated_at: now,
            checks: None,
            flows: ScanCursor::default(),
            modules: ScanCursor::default(),
            scanned: 0,
            hardcoded: 0,
            unpublished: 0,
            unreadable: 0,
            sample: Vec::new(),
            unpublished_sample: Vec::new(),
            problems: Vec::new(),
            pages: 0,
            done: false,
        }
    }
}

/// One page of a scan's findings (`HARDCODED#<runId>#<generation>#<page>`), well under
/// DynamoDB's item size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HardcodedPage {
    pub instance_id: String,
    pub run_id: String,
    pub generation: u32,
    pub page: u32,
    pub findings: Vec<HardcodedRegion>,
    pub at: i64,
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
