//! preflight's scan of the flows for hardcoded regions, as the run store keeps it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::Kind;

/// Where one resource listing of a scan stands: resources are taken in ID order, so the last ID
/// done is the whole position.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanCursor {
    /// The last ID done; `None` before the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    pub done: bool,
}

/// A flow or flow module whose content names a region, as the run store keeps it: bounded (a few
/// of the strings found, each cut short), however large the flow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HardcodedRegion {
    /// `contactFlows` or `contactFlowModules`.
    pub kind: Kind,
    pub id: String,
    pub name: String,
    /// The first regional ARNs and region names found, in order of appearance.
    pub found: Vec<String>,
    /// How many distinct strings were found (`found` lists the first few).
    pub found_total: u64,
}

/// preflight's scan of the flows and flow modules for hardcoded regions (`SCAN#<runId>`): its
/// position and what it found so far, in counts and a first few. The scan is resumable: an
/// invocation that runs out of time or quota stores this and the next one goes on from it. Every
/// finding is in the `HARDCODED#` pages of the scan's generation; this item stays small.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowScan {
    pub instance_id: String,
    pub run_id: String,
    /// 1 for a run's first scan; preflight run again after a finished scan starts the next,
    /// whose pages are keyed apart.
    pub generation: u32,
    pub started_at: i64,
    pub updated_at: i64,
    /// The step's other checks, made once per scan by its first invocation (the step's own
    /// report format; opaque here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<Value>,
    pub flows: ScanCursor,
    pub modules: ScanCursor,
    /// Flows and modules whose content was read.
    pub scanned: u64,
    /// Of those, the ones that name a region.
    pub hardcoded: u64,
    /// Flows not published (nothing to read).
    pub unpublished: u64,
    /// Flows and modules that could not be read, and listings refused.
    pub unreadable: u64,
    /// The first findings, for the report.
    #[serde(default)]
    pub sample: Vec<HardcodedRegion>,
    /// The first unpublished flows' names.
    #[serde(default)]
    pub unpublished_sample: Vec<String>,
    /// The first read or listing failures, as messages.
    #[serde(default)]
    pub problems: Vec<String>,
    /// `HARDCODED#` pages written.
    pub pages: u32,
    /// Both listings are done: the report is final.
    pub done: bool,
}

impl FlowScan {
    /// A new scan, nothing done.
    pub fn new(instance_id: &str, run_id: &str, generation: u32, now: i64) -> FlowScan {
        FlowScan {
            instance_id: instance_id.to_string(),
            run_id: run_id.to_string(),
            generation,
            started_at: now,
            updated_at: now,
            checks: None,
            flows: ScanCursor::default(),
            modules: ScanCursor::default(),
            scanned: 0,
            hardcoded: 0,
            unpublished: 0,
            unreadable: 0,
            sample: Vec::new(),
            unpublished_sample: Vec::new(),
            problems: Vec::new(),
            pages: 0,
            done: false,
        }
    }
}

/// One page of a scan's findings (`HARDCODED#<runId>#<generation>#<page>`), well under
/// DynamoDB's item size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HardcodedPage {
    pub instance_id: String,
    pub run_id: String,
    pub generation: u32,
    pub page: u32,
    pub findings: Vec<HardcodedRegion>,
    pub at: i64,
}
