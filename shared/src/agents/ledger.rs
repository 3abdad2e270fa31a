//! The run store as agent sync sees it: associations and the progress of a run.

use std::future::Future;

use super::records::{Association, AssociationProgress};
use crate::error::StoreError;

/// The run store's port for agent sync: association records and a run's progress.
pub trait AgentLedger: Send + Sync {
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
}
