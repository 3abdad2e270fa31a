//! The run store: one DynamoDB table (adapter in `dynamo`), and an in-memory twin for tests.
//!
//! Table layout (partition key `pk`, sort key `sk`, both strings; the record itself is the JSON
//! string attribute `data`; `expiresAt` is the TTL attribute):
//!
//! | pk | sk | holds | TTL |
//! |---|---|---|---|
//! | `INSTANCE#{id}` | `LOCK` | the instance lock (`runId`, `priority`, `leaseUntil` and, when a state machine drives the run, `machine` as attributes for the conditions) | none |
//! | `INSTANCE#{id}` | `RUN#{runId}` | a run: kind, status, step, inputs, timings, execution ARN, per-step results; its state machine also as the attribute `machine` (the machines' RecordFailure condition) | 90 days |
//! | `INSTANCE#{id}` | `CONFLICT#{kind}#{name}` | a name conflict: IDs, region, first/last seen, resolved | 90 days once resolved |
//! | `INSTANCE#{id}` | `SNAPSHOT#{kind}` | the latest mirroring snapshot of a kind | 90 days |
//! | `INSTANCE#{id}` | `AGENT#{groupArn}#{userId}` | a user known to be associated with a group | none |
//! | `INSTANCE#{id}` | `PROGRESS#{runId}` | an association run's cursor, counts and failures | 90 days |
//! | `INSTANCE#{id}` | `SHIFT#{epochSeconds:012}#{runId}#{groupId}` | a traffic shift of one group: before, after, status | 400 days |
//! | `INSTANCE#{id}` | `GROUP#{groupArn}` | a group's ARN, steady-state distribution (the failback point) and agent counts | none |
//! | `INSTANCE#{id}` | `EPISODE#{groupArn}` | a failover episode: the split before its first shift; once closed, a tombstone (`closedAt`, also an attribute for the opening condition) | none |
//! | `INSTANCE#{id}` | `SCAN#{runId}` | preflight's flow scan: position, counts, the first findings | 90 days |
//! | `INSTANCE#{id}` | `HARDCODED#{runId}#{generation:04}#{page:05}` | a page of the scan's flows that hardcode a region | 90 days |
//!
//! The table is a global table (one replica per region of the pair): replication is
//! asynchronous, so Connect's live distribution is the truth and these items are history.
//!
//! Everything about an instance is one Query away; the newest shift is the last `SHIFT#` item.

pub mod dynamo;
#[cfg(any(test, feature = "test-util"))]
pub mod memory;

use std::future::Future;

use crate::error::StoreError;
use crate::records::{
    Association, AssociationProgress, ConflictRecord, Episode, FlowScan, GroupRecord,
    HardcodedPage, Lock, LockOutcome, RunRecord, ShiftRecord, SnapshotRecord,
};

pub const RUN_TTL_SECONDS: i64 = 90 * 86_400;
pub const SHIFT_TTL_SECONDS: i64 = 400 * 86_400;

pub fn pk(instance_id: &str) -> String {
    format!("INSTANCE#{instance_id}")
}

/// The run store.
pub trait RunStore: Send + Sync {
    fn put_run(&self, run: &RunRecord) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn get_run(
        &self,
        instance_id: &str,
        run_id: &str,
    ) -> impl Future<Output = Result<Option<RunRecord>, StoreError>> + Send;

    /// Takes the instance lock if `records::lock_allows` says so, atomically.
    fn acquire_lock(
        &self,
        lock: &Lock,
        now: i64,
    ) -> impl Future<Output = Result<LockOutcome, StoreError>> + Send;
    /// Takes the instance lock whoever holds it (an operator's explicit override); returns the
    /// lock it replaced.
    fn break_lock(
        &self,
        lock: &Lock,
    ) -> impl Future<Output = Result<Option<Lock>, StoreError>> + Send;
    /// Releases the lock if `run_id` holds it; otherwise does nothing.
    fn release_lock(
        &self,
        instance_id: &str,
        run_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn get_lock(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Option<Lock>, StoreError>> + Send;

    fn conflicts(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Vec<ConflictRecord>, StoreError>> + Send;
    fn put_conflict(
        &self,
        conflict: &ConflictRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn put_snapshot(
        &self,
        snapshot: &SnapshotRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn snapshots(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Vec<SnapshotRecord>, StoreError>> + Send;

    /// The users recorded as associated with a group.
    fn associations(
        &self,
        instance_id: &str,
        group_arn: &str,
    ) -> impl Future<Output = Result<Vec<Association>, StoreError>> + Send;
    fn put_associations(
        &self,
        records: &[Association],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn get_progress(
        &self,
        instance_id: &str,
        run_id: &str,
    ) -> impl Future<Output = Result<Option<AssociationProgress>, StoreError>> + Send;
    fn put_progress(
        &self,
        progress: &AssociationProgress,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn put_shift(&self, shift: &ShiftRecord)
        -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Shifts of an instance, newest first.
    fn shifts(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Vec<ShiftRecord>, StoreError>> + Send;

    fn put_group(&self, group: &GroupRecord)
        -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Every group on record for an instance.
    fn groups(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Vec<GroupRecord>, StoreError>> + Send;

    /// Opens an episode unless one is open for the group (a closed one is replaced): Ok(the open
    /// episode, new or not).
    fn open_episode(
        &self,
        episode: &Episode,
    ) -> impl Future<Output = Result<Episode, StoreError>> + Send;
    /// The group's episode, open or closed (a tombstone).
    fn episode_record(
        &self,
        instance_id: &str,
        group_arn: &str,
    ) -> impl Future<Output = Result<Option<Episode>, StoreError>> + Send;
    /// The group's open episode (a closed one is `None`).
    fn episode(
        &self,
        instance_id: &str,
        group_arn: &str,
    ) -> impl Future<Output = Result<Option<Episode>, StoreError>> + Send {
        async move {
            Ok(self
                .episode_record(instance_id, group_arn)
                .await?
                .filter(Episode::is_open))
        }
    }
    /// Writes the group's episode closed (`closed_at` and `closed_by` set), whether or not an open
    /// one is here: the tombstone outlives an open episode still replicating from the other region.
    fn close_episode(
        &self,
        closed: &Episode,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn get_flow_scan(
        &self,
        instance_id: &str,
        run_id: &str,
    ) -> impl Future<Output = Result<Option<FlowScan>, StoreError>> + Send;
    fn put_flow_scan(&self, scan: &FlowScan)
        -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Writes (or rewrites: the same page of the same scan holds the same findings) one page.
    fn put_hardcoded_page(
        &self,
        page: &HardcodedPage,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The pages of one generation of a run's scan, in page order.
    fn hardcoded_pages(
        &self,
        instance_id: &str,
        run_id: &str,
        generation: u32,
    ) -> impl Future<Output = Result<Vec<HardcodedPage>, StoreError>> + Send;
}

/// The sort key prefix of one scan's `HARDCODED#` pages.
pub fn hardcoded_prefix(run_id: &str, generation: u32) -> String {
    format!("HARDCODED#{run_id}#{generation:04}#")
}

/// The sort key of a page of a scan's findings.
pub fn hardcoded_key(page: &HardcodedPage) -> String {
    format!(
        "{}{:05}",
        hardcoded_prefix(&page.run_id, page.generation),
        page.page
    )
}

/// The sort key of a shift: one per run and group, in time order.
pub fn shift_key(shift: &ShiftRecord) -> String {
    let group = shift
        .group_arn
        .rsplit('/')
        .next()
        .unwrap_or(&shift.group_arn);
    format!("SHIFT#{:012}#{}#{group}", shift.at, shift.run_id)
}
