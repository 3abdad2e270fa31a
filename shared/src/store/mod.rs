//! The run store: one DynamoDB table (adapter in `dynamo`), and an in-memory twin for tests.
//!
//! Table layout (partition key `pk`, sort key `sk`, both strings; the record itself is the JSON
//! string attribute `data`; `expiresAt` is the TTL attribute):
//!
//! | pk | sk | holds | TTL |
//! |---|---|---|---|
//! | `INSTANCE#{id}` | `LOCK` | the instance lock (`runId`, `priority`, `leaseUntil` as attributes for the condition) | none |
//! | `INSTANCE#{id}` | `RUN#{runId}` | a run: kind, status, step, inputs, timings, execution ARN, per-step results | 90 days |
//! | `INSTANCE#{id}` | `CONFLICT#{kind}#{name}` | a name conflict: IDs, region, first/last seen, resolved | 90 days once resolved |
//! | `INSTANCE#{id}` | `SNAPSHOT#{kind}` | the latest mirroring snapshot of a kind | 90 days |
//! | `INSTANCE#{id}` | `AGENT#{groupArn}#{userId}` | a user known to be associated with a group | none |
//! | `INSTANCE#{id}` | `PROGRESS#{runId}` | an association run's cursor, counts and failures | 90 days |
//! | `INSTANCE#{id}` | `SHIFT#{epochSeconds:012}#{runId}` | a traffic shift: before, after, status | 400 days |
//!
//! Everything about an instance is one Query away; the newest shift is the last `SHIFT#` item.

pub mod dynamo;
pub mod memory;

use std::collections::HashSet;
use std::future::Future;

use crate::error::StoreError;
use crate::records::{
    Association, AssociationProgress, ConflictRecord, Lock, LockOutcome, RunRecord, ShiftRecord,
    SnapshotRecord,
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

    /// User IDs recorded as associated with a group.
    fn associations(
        &self,
        instance_id: &str,
        group_arn: &str,
    ) -> impl Future<Output = Result<HashSet<String>, StoreError>> + Send;
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
}
