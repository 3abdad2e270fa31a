//! What mirroring leaves on record: name conflicts and each kind's latest snapshot.

use serde::{Deserialize, Serialize};

use crate::domain::Kind;

/// A resource that exists in both regions under one name and two IDs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConflictRecord {
    pub instance_id: String,
    pub kind: Kind,
    pub name: String,
    pub source_id: Option<String>,
    pub replica_id: Option<String>,
    /// The region where mirroring is blocked.
    pub region: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<i64>,
}

/// How far one kind has mirrored, as of one poll.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotRecord {
    pub instance_id: String,
    pub run_id: String,
    pub kind: Kind,
    /// Resources in each region, when the poll listed them (only once the findings say done).
    #[serde(default)]
    pub source: Option<u64>,
    #[serde(default)]
    pub replica: Option<u64>,
    pub missing: u64,
    pub conflicting: u64,
    /// Findings of the other classes (see [`crate::connect::findings`]): blocking completion, and not.
    #[serde(default)]
    pub missing_dependencies: u64,
    #[serde(default)]
    pub sync_failures: u64,
    #[serde(default)]
    pub not_mirrored: u64,
    /// Findings whose reference code this version does not know: shown, never blocking.
    #[serde(default)]
    pub unknown: u64,
    /// `ApproximateDriftedResourceCounts`: resources of the kind not yet in sync, per region.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<RegionCount>,
    /// `ResourceReplicationStatuses`: the kind's replication in each region (`ENABLED`,
    /// `BLOCKED`, `DISABLED`, or what the service says).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<RegionState>,
    /// The first of those findings, each with its fix.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<crate::connect::findings::ReportedFinding>,
    pub at: i64,
}

/// A count in one region.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionCount {
    pub region: String,
    pub count: i64,
}

/// A status in one region.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionState {
    pub region: String,
    pub status: String,
}

/// One resource type beside the twelve listed kinds (views, data tables, test cases, ... and
/// types AWS added since), as of one poll.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeSnapshot {
    pub resource_type: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<RegionCount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<RegionState>,
    /// Findings by class (unknown codes included).
    pub counts: crate::connect::findings::ClassCounts,
    /// The first findings, each with its fix.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<crate::connect::findings::ReportedFinding>,
    /// The service refused the type (not supported in this partition yet): why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsupported: Option<String>,
}

impl TypeSnapshot {
    /// Findings of a known class that hold back completion.
    pub fn blocking(&self) -> u64 {
        use crate::connect::findings::FindingClass;
        FindingClass::ALL
            .iter()
            .filter(|c| c.blocks_completion())
            .map(|c| self.counts.get(*c))
            .sum()
    }

    /// Whether a region reports the type `BLOCKED` or `DISABLED`.
    pub fn held(&self) -> Vec<&RegionState> {
        self.statuses
            .iter()
            .filter(|s| s.status != "ENABLED")
            .collect()
    }
}

/// Every other resource type, as of one poll (one item per instance).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypesRecord {
    pub instance_id: String,
    pub run_id: String,
    pub at: i64,
    pub types: Vec<TypeSnapshot>,
}
