//! The run store as a traffic shift sees it: shifts, groups and episodes.

use std::future::Future;

use super::records::{Episode, GroupRecord, RoutingEpisode, ShiftRecord};
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

    /// Opens the instance's routing episode unless one is open (a closed one is replaced):
    /// Ok(the open episode, new or not).
    fn open_routing(
        &self,
        episode: &RoutingEpisode,
    ) -> impl Future<Output = Result<RoutingEpisode, StoreError>> + Send;
    /// The instance's routing episode, open or closed (a tombstone).
    fn routing_record(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Option<RoutingEpisode>, StoreError>> + Send;
    /// Writes the routing episode closed, whether or not an open one is here.
    fn close_routing(
        &self,
        closed: &RoutingEpisode,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
