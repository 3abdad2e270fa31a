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

pub use crate::agents::AgentLedger;
use crate::flows::HardcodedPage;
pub use crate::flows::ScanLedger;
pub use crate::mirroring::MirroringLedger;
pub use crate::run::{Listing, RunLedger, Unreadable};
use crate::traffic::ShiftRecord;
pub use crate::traffic::TrafficLedger;

pub const RUN_TTL_SECONDS: i64 = 90 * 86_400;
pub const SHIFT_TTL_SECONDS: i64 = 400 * 86_400;

pub fn pk(instance_id: &str) -> String {
    format!("INSTANCE#{instance_id}")
}

/// Every port, for code that holds a concrete store (tests, tools) and calls them all:
/// `use acgr::store::ports::*`.
pub mod ports {
    pub use super::{AgentLedger, MirroringLedger, RunLedger, ScanLedger, TrafficLedger};
}

/// The whole run store: every concern's port. A step's bound names the ports it touches.
pub trait RunStore: RunLedger + MirroringLedger + AgentLedger + TrafficLedger + ScanLedger {}

impl<S: RunLedger + MirroringLedger + AgentLedger + TrafficLedger + ScanLedger> RunStore for S {}

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
    let group = crate::domain::Arn::parse(&shift.group_arn)
        .map_or(shift.group_arn.as_str(), |a| a.resource_id());
    format!("SHIFT#{:012}#{}#{group}", shift.at, shift.run_id)
}
