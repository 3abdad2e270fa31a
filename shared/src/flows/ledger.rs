//! The run store as preflight's flow scan sees it: the scan and its pages of findings.

use std::future::Future;

use super::records::{FlowScan, HardcodedPage};
use crate::error::StoreError;

/// The run store's port for preflight's flow scan: its position and its pages of findings.
pub trait ScanLedger: Send + Sync {
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
