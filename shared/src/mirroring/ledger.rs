//! The run store as mirroring sees it: conflicts and snapshots.

use std::future::Future;

use super::records::{ConflictRecord, SnapshotRecord, TypesRecord};
use crate::error::StoreError;

/// The run store's port for mirroring: name conflicts and each kind's latest snapshot.
pub trait MirroringLedger: Send + Sync {
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

    /// Replaces the instance's record of the other resource types.
    fn put_types(&self, types: &TypesRecord)
        -> impl Future<Output = Result<(), StoreError>> + Send;
    fn types(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Option<TypesRecord>, StoreError>> + Send;
}
