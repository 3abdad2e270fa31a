//! The run store as the lifecycle sees it: runs and the instance lock.

use std::future::Future;

use super::record::{Lock, LockOutcome, RunRecord};
use crate::error::StoreError;

/// The run store's port for runs and the instance lock: what every step's lifecycle needs.
pub trait RunLedger: Send + Sync {
    fn put_run(&self, run: &RunRecord) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn get_run(
        &self,
        instance_id: &str,
        run_id: &str,
    ) -> impl Future<Output = Result<Option<RunRecord>, StoreError>> + Send;

    /// The instance's runs, newest first, with the items this version cannot read.
    fn runs(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Listing<RunRecord>, StoreError>> + Send;

    /// Takes the instance lock if [`super::lock_allows`] says so, atomically.
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
}

/// Records read by a query: those this version can read, and what it could not (an item written
/// by a newer version during a deploy, or damaged by hand), so that a reader can say so.
#[derive(Clone, Debug, PartialEq)]
pub struct Listing<T> {
    pub records: Vec<T>,
    pub unreadable: Vec<Unreadable>,
}

/// An item a query could not decode.
#[derive(Clone, Debug, PartialEq)]
pub struct Unreadable {
    pub sk: String,
    pub error: String,
}
