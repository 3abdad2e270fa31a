//! The staged failures and settings the model runs on: what a scenario file or a control call can
//! put the control plane into, as the JSON both take (the control API re-exports them).
//! `sim/README.md` ("Staged failures") says what each does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::kinds::Kind;
use crate::wire::ErrorCode;

/// A failure of an instance's replica: in a scenario, an instance's `replicaFailure`; at run
/// time, the body of `PUT /_sim/replicas/{instanceId}`.
///
/// Before the instance is replicated it is armed for its next ReplicateInstance. `afterSeconds`
/// counts from the replica becoming ACTIVE, or from the control call if it already is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "failure",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum ReplicaFailure {
    /// The replica ends `CREATION_FAILED` instead of `ACTIVE` (with the groups made with it);
    /// replication is `INSTANCE_REPLICATION_FAILED`.
    CreationFailed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Replication stops: `INSTANCE_REPLICATION_FAILED` in the summary of `region` (default:
    /// both regions); mirroring work into it is dropped and stays drifted.
    ReplicationFailed {
        #[serde(default)]
        after_seconds: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        region: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The replica is deleted: `INSTANCE_REPLICA_DELETING` for `seconds`, then gone (with its
    /// groups; their numbers go back to the instance), or, with `fails`,
    /// `INSTANCE_REPLICATION_DELETION_FAILED`.
    Deletion {
        #[serde(default)]
        after_seconds: f64,
        #[serde(default = "default_deletion_seconds")]
        seconds: f64,
        #[serde(default)]
        fails: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

fn default_deletion_seconds() -> f64 {
    60.0
}

impl ReplicaFailure {
    pub fn validate(&self) -> Result<(), SimError> {
        let non_negative = |v: f64, name: &str| {
            if v >= 0.0 && v.is_finite() {
                Ok(())
            } else {
                Err(SimError::BadRequest(format!(
                    "{name} must be a number of seconds, 0 or more"
                )))
            }
        };
        match self {
            ReplicaFailure::CreationFailed { .. } => Ok(()),
            ReplicaFailure::ReplicationFailed {
                after_seconds,
                region,
                ..
            } => {
                if let Some(r) = region {
                    if !crate::wire::is_region(r) {
                        return Err(SimError::BadRequest(format!(
                            "region '{r}' is not a region name"
                        )));
                    }
                }
                non_negative(*after_seconds, "afterSeconds")
            }
            ReplicaFailure::Deletion {
                after_seconds,
                seconds,
                ..
            } => {
                non_negative(*after_seconds, "afterSeconds")?;
                non_negative(*seconds, "seconds")
            }
        }
    }
}

/// The answer of `PUT /_sim/replicas/{instanceId}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaStaged {
    pub instance_id: String,
    pub failure: ReplicaFailure,
    /// True when the instance is not replicated yet: the failure waits for ReplicateInstance.
    pub armed: bool,
    /// Simulated time the failure takes effect, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<f64>,
}

/// Which error a refusal the service documents two ways is answered with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefusalCode {
    #[default]
    #[serde(rename = "ResourceConflictException")]
    ResourceConflict,
    #[serde(rename = "InvalidRequestException")]
    InvalidRequest,
}

/// Which code a throttled call is answered with (429 either way).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThrottleCode {
    #[default]
    #[serde(rename = "ThrottlingException")]
    Throttling,
    #[serde(rename = "TooManyRequestsException")]
    TooManyRequests,
}

impl ThrottleCode {
    pub fn code(self) -> ErrorCode {
        match self {
            ThrottleCode::Throttling => ErrorCode::Throttling,
            ThrottleCode::TooManyRequests => ErrorCode::TooManyRequests,
        }
    }
}

impl RefusalCode {
    pub fn code(self) -> ErrorCode {
        match self {
            RefusalCode::ResourceConflict => ErrorCode::ResourceConflict,
            RefusalCode::InvalidRequest => ErrorCode::InvalidRequest,
        }
    }
}

/// The settings a running control plane can change: `GET /_sim/settings`, and the answer of
/// `PUT /_sim/settings`. The scenario's `settings` members of the same names set them at start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimSettings {
    pub replica_creation_seconds: f64,
    pub mirror_per_second: f64,
    pub sync_delay_seconds: f64,
    pub tdg_creation_seconds: f64,
    /// How long a group stays `UPDATE_IN_PROGRESS` after an update.
    pub tdg_update_seconds: f64,
    pub tdg_deletion_seconds: f64,
    /// How much later (simulated seconds) the other region sees a traffic distribution update
    /// made in one region: Connect's eventual consistency between regions.
    #[serde(default)]
    pub cross_region_lag_seconds: f64,
    pub instances_per_region: usize,
    /// What UpdateTrafficDistribution gets while the group is `UPDATE_IN_PROGRESS`.
    pub update_in_progress_answer: RefusalCode,
    /// What ReplicateInstance gets for a resource name conflict: `ResourceConflictException`
    /// (the resource is left unsynchronised) or `InvalidRequestException` (the first call fails).
    pub name_conflict_answer: RefusalCode,
    /// Whether AWS enabled Global Resiliency for the account: when not, ReplicateInstance and
    /// CreateTrafficDistributionGroup are 403 `AccessDeniedException`.
    pub global_resiliency_enabled: bool,
    /// The code of a throttled call.
    pub throttling_answer: ThrottleCode,
    /// Whether `x-amzn-ErrorType` carries the `:http://internal.amazon.com/coral/...` suffix
    /// real responses carry.
    pub error_type_suffix: bool,
    /// Every API call's answer waits this many milliseconds (wall clock; 0: off)...
    #[serde(default)]
    pub call_latency_ms: u64,
    /// ... plus up to this many more, drawn from seeded dice.
    #[serde(default)]
    pub call_latency_jitter_ms: u64,
    /// Whether AWS granted global routing to the account: a ReplicateInstance re-run then
    /// migrates an instance created before 2026-09-01 to it.
    #[serde(default)]
    pub global_routing_granted: bool,
    /// How long (simulated seconds) such a migration keeps replication `IN_PROGRESS`.
    #[serde(default)]
    pub migration_seconds: f64,
    /// ListReplicationFindings resource types accepted beyond the documented ones.
    #[serde(default)]
    pub extra_finding_types: Vec<String>,
    /// How long (simulated seconds) a test case execution runs before its outcome.
    #[serde(default)]
    pub test_case_seconds: f64,
}

/// The body of `PUT /_sim/settings`: the members given change, the others stay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_creation_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror_per_second: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_delay_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tdg_creation_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tdg_update_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tdg_deletion_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_region_lag_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instances_per_region: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_in_progress_answer: Option<RefusalCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_conflict_answer: Option<RefusalCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_resiliency_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling_answer: Option<ThrottleCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type_suffix: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_latency_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_latency_jitter_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_routing_granted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_finding_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_case_seconds: Option<f64>,
}

/// A replication finding staged for tests: the body of `POST /_sim/findings`. It is listed by
/// ListReplicationFindings of its type after the findings the control plane computes, and
/// counted in its region's drift count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StagedFinding {
    pub instance_id: String,
    /// A documented type, or one of `extraFindingTypes`.
    pub resource_type: String,
    /// The resource's name (1 to 512 characters).
    pub name: String,
    /// The resource's ID (default: a generated UUID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Where the finding is (default: the replica's region).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Default `CREATE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Left out of the finding when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_code: Option<String>,
    /// Default: a sentence naming the operation, type and region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When true, the type's `ResourceReplicationStatuses` entry for the region is `BLOCKED`.
    #[serde(default)]
    pub blocking: bool,
}

/// The answer of `POST /_sim/findings`: the finding's resource ID.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingStaged {
    pub id: String,
}

/// The answer of `DELETE /_sim/findings`: how many staged findings were removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingsCleared {
    pub cleared: usize,
}

/// What a traffic distribution group is made to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum GroupFailureKind {
    /// Its creation ends `CREATION_FAILED` (it claims no numbers).
    CreationFailed,
    /// Its next deletion ends `DELETION_FAILED` (it stays).
    DeletionFailed,
    /// It is `UPDATE_IN_PROGRESS` for `seconds`, as if another client had just updated it.
    UpdateInProgress,
}

/// A failure of a traffic distribution group: in a scenario, an entry of an instance's
/// `groupFailures`; at run time, the body of `POST /_sim/groups/failures`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupFailure {
    /// The group's name, ID or ARN. A name no group has yet arms the failure for the next group
    /// created with it (`creationFailed`, `deletionFailed`).
    pub group: String,
    /// The group's instance, when names are ambiguous (implied in a scenario).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    pub failure: GroupFailureKind,
    /// `updateInProgress` only: how long (default: the `tdgUpdateSeconds` setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
}

/// The answer of `POST /_sim/groups/failures`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupStaged {
    /// True when no group matched: the failure waits for a group of that name.
    pub armed: bool,
    /// The group's ID, its status now, and when the failure shows, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<f64>,
}

/// The body of `POST /_sim/groups/disassociate`: users disassociated from a group outside any
/// tool (no API call is logged), for agent sync to find.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Disassociate {
    /// The group's name, ID or ARN.
    pub group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// User IDs or usernames.
    pub users: Vec<String>,
}

/// The answer of `POST /_sim/groups/disassociate`: the IDs of the users that were associated
/// and no longer are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disassociated {
    pub users: Vec<String>,
}

/// A change that fails to sync: in a scenario, an entry of an instance's `syncFailures`; at run
/// time, the body of `POST /_sim/sync-failures`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncFailure {
    /// Implied in a scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    pub kind: Kind,
    /// The resource's name (username for users).
    pub name: String,
    /// The region the change fails to reach (default: the replica's region).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// The answer of `POST /_sim/sync-failures`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStaged {
    /// False: the resource is in both regions and an update of it failed to sync just now
    /// (`Operation: UPDATE`). True: the next mirroring of it into the region fails.
    pub armed: bool,
}

/// The Lambda functions deployed per region, by name: `GET /_sim/lambda-functions`. A region
/// without an entry has every function the flows name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LambdaFunctions {
    pub regions: BTreeMap<String, Vec<String>>,
}

/// The body of `PUT /_sim/lambda-functions/{region}`: the function names (or ARNs) deployed
/// there, `null` for every function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetLambdaFunctions {
    pub functions: Option<Vec<String>>,
}

/// The Lex V2 aliases deployed per region, by alias ARN: `GET /_sim/lex-aliases`. A region
/// without an entry has every alias.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LexAliases {
    pub regions: BTreeMap<String, Vec<String>>,
}

/// The body of `PUT /_sim/lex-aliases/{region}`: the alias ARNs deployed there, `null` for
/// every alias.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetLexAliases {
    pub aliases: Option<Vec<String>>,
}

/// The regions whose S3 buckets are unreachable: `GET /_sim/s3-outage`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct S3Outages {
    pub regions: Vec<String>,
}

/// The body of `PUT /_sim/s3-outage/{region}`: whether S3 is unreachable there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetS3Outage {
    pub unreachable: bool,
}

/// What one access key may do, as an identity-based policy of Allow statements: in a scenario,
/// an entry of `accessPolicies` (by access key ID); at run time, the body of
/// `PUT /_sim/access/{accessKeyId}`. A key without a policy may do everything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessPolicy {
    /// Who the key is, in AccessDeniedException messages (default
    /// `arn:aws:iam::{account}:user/{accessKeyId}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    #[serde(default)]
    pub statements: Vec<Statement>,
}

/// Allows the actions matching one of `actions` (`connect:DescribeInstance`, `connect:List*`,
/// `*`; case-insensitive) on the resources matching one of `resources` (ARN patterns with `*`
/// and `?`; default `*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Statement {
    pub actions: Vec<String>,
    #[serde(default = "every_resource")]
    pub resources: Vec<String>,
}

fn every_resource() -> Vec<String> {
    vec!["*".into()]
}

/// `GET /_sim/access`: the policies by access key ID.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccessPolicies {
    pub policies: BTreeMap<String, AccessPolicy>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_failures_read_their_tag_and_defaults() {
        let f: ReplicaFailure =
            serde_json::from_str(r#"{"failure": "deletion", "fails": true}"#).unwrap();
        assert_eq!(
            f,
            ReplicaFailure::Deletion {
                after_seconds: 0.0,
                seconds: 60.0,
                fails: true,
                reason: None
            }
        );
        let f: ReplicaFailure = serde_json::from_str(
            r#"{"failure": "replicationFailed", "afterSeconds": 5, "region": "us-west-2"}"#,
        )
        .unwrap();
        assert!(f.validate().is_ok());
        assert!(serde_json::from_str::<ReplicaFailure>(
            r#"{"failure": "creationFailed", "afterSecond": 5}"#
        )
        .is_err());
        assert!(serde_json::from_str::<ReplicaFailure>(r#"{"failure": "gone"}"#).is_err());
        let bad = ReplicaFailure::Deletion {
            after_seconds: -1.0,
            seconds: 1.0,
            fails: false,
            reason: None,
        };
        assert!(bad.validate().is_err());
    }
}
