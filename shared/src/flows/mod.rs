//! Flows: preflight's resumable scan of the flows and modules for hardcoded regions, its position
//! and its pages of findings, kept through the [`ScanLedger`] port.

pub mod ledger;
pub mod records;

pub use ledger::ScanLedger;
pub use records::{FlowScan, HardcodedPage, HardcodedRegion, ScanCursor};
