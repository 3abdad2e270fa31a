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
    /// The first of those findings, each with its fix.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<crate::connect::findings::ReportedFinding>,
    pub at: i64,
}
