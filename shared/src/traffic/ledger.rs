//! The run store as a traffic shift sees it: shifts, groups and episodes.

use std::future::Future;

use super::records::{Episode, GroupRecord, ShiftRecord};
use crate::error::StoreError;

/// The run store's port for traffic: shifts, groups (the steady state) and failover episodes.
pub trait TrafficLedger: Send + Sync {
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
}
