//! The control API (`/_sim/`): its paths and the JSON it takes and gives. The server's handlers
//! ([`routes`]) and the client ([`Client`], feature `client`) share these types, so that the two
//! cannot drift apart.

#[cfg(feature = "client")]
mod client;
pub(crate) mod routes;
mod stage_routes;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::SimError;
pub use crate::faults::{Fault, Faults};
use crate::kinds::Kind;

pub use crate::model::staging::*;
#[cfg(feature = "client")]
pub use client::{Client, ClientError};

/// The paths of the control API.
pub mod paths {
    pub const HEALTH: &str = "/_sim/health";
    pub const CALLS: &str = "/_sim/calls";
    pub const STATE: &str = "/_sim/state";
    pub const FAULTS: &str = "/_sim/faults";
    pub const REGIONS: &str = "/_sim/regions";
    /// `REGIONS/{region}`.
    pub const REGION: &str = "/_sim/regions/{region}";
    pub const QUOTA: &str = "/_sim/quota";
    pub const CLOCK: &str = "/_sim/clock";
    pub const CLOCK_ADVANCE: &str = "/_sim/clock/advance";
    pub const RESET: &str = "/_sim/reset";
    /// `REPLICAS/{instanceId}`: stages a replica failure.
    pub const REPLICAS: &str = "/_sim/replicas";
    pub const REPLICA: &str = "/_sim/replicas/{instance}";
    pub const SETTINGS: &str = "/_sim/settings";
    pub const GROUP_FAILURES: &str = "/_sim/groups/failures";
    pub const GROUP_DISASSOCIATE: &str = "/_sim/groups/disassociate";
    pub const SYNC_FAILURES: &str = "/_sim/sync-failures";
    /// `LAMBDA_FUNCTIONS/{region}`: the functions deployed in a region.
    pub const LAMBDA_FUNCTIONS: &str = "/_sim/lambda-functions";
    pub const LAMBDA_REGION: &str = "/_sim/lambda-functions/{region}";
    /// `LEX_ALIASES/{region}`: the Lex V2 aliases deployed in a region.
    pub const LEX_ALIASES: &str = "/_sim/lex-aliases";
    pub const LEX_REGION: &str = "/_sim/lex-aliases/{region}";
    /// `S3_OUTAGE/{region}`: whether S3 is unreachable in a region.
    pub const S3_OUTAGE: &str = "/_sim/s3-outage";
    pub const S3_REGION: &str = "/_sim/s3-outage/{region}";
    /// `ACCESS/{accessKeyId}`: one key's policy.
    pub const ACCESS: &str = "/_sim/access";
    pub const ACCESS_KEY: &str = "/_sim/access/{key}";
    /// `POST` stages a replication finding, `DELETE` clears them all.
    pub const FINDINGS: &str = "/_sim/findings";
}

/// `GET /_sim/health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub ok: bool,
}

/// The answer of the calls that answer nothing (`{}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Done {}

/// One API call as the control plane saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRecord {
    /// From 1, in the order the calls were logged.
    pub seq: u64,
    /// Wall-clock epoch seconds.
    pub time: f64,
    pub sim_time: f64,
    /// The region of the credential scope ("" without one).
    pub region: String,
    /// The operation's name, `Unknown` for a method and path that is none.
    pub operation: String,
    pub access_key_id: String,
    /// The HTTP status answered; 0 for a call held by a `timeout` outage.
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
}

/// Which calls `GET /_sim/calls` returns: the query string; every member is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallFilter {
    /// Only calls of this operation (by name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Only calls signed for this region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Only calls logged after the one with this `seq`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<u64>,
}

impl CallFilter {
    pub fn operation(mut self, operation: impl Into<String>) -> Self {
        self.operation = Some(operation.into());
        self
    }

    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    pub fn since(mut self, seq: u64) -> Self {
        self.since = Some(seq);
        self
    }

    pub fn matches(&self, call: &CallRecord) -> bool {
        call.seq > self.since.unwrap_or(0)
            && self.operation.as_ref().is_none_or(|o| *o == call.operation)
            && self.region.as_ref().is_none_or(|r| *r == call.region)
    }
}

/// `GET /_sim/calls`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallLog {
    pub calls: Vec<CallRecord>,
}

/// A simulated regional outage that takes the whole region down: the kinds a region can be in
/// since the first control API, kept as they are for the crates that name them. Every kind,
/// these and the messier ones, is a [`RegionOutage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outage {
    /// Every call answers 503 `ServiceUnavailableException` at once.
    Unavailable,
    /// Every call is held without an answer until the outage is cleared (then 503).
    Timeout,
}

/// What a call failed by a `partial` or `operations` outage is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutageCode {
    /// 503, as a regional outage answers.
    #[serde(rename = "ServiceUnavailableException")]
    ServiceUnavailable,
    /// 500, the error every Connect operation models.
    #[serde(rename = "InternalServiceException")]
    InternalService,
}

impl OutageCode {
    pub fn code(self) -> crate::wire::ErrorCode {
        match self {
            OutageCode::ServiceUnavailable => crate::wire::ErrorCode::ServiceUnavailable,
            OutageCode::InternalService => crate::wire::ErrorCode::InternalService,
        }
    }
}

/// A region's outage, of any kind: the body of `PUT /_sim/regions/{region}` (with the region's
/// entry of `GET /_sim/regions` it is `{"outage": kind, ...members}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "outage",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    try_from = "Value"
)]
pub enum RegionOutage {
    /// Every call answers 503 `ServiceUnavailableException` at once.
    Unavailable,
    /// Every call is held without an answer until the outage is cleared (then 503).
    Timeout,
    /// Writes (see [`crate::ops::Operation::is_write`]) fail with `code`; reads work.
    Partial { code: OutageCode },
    /// The calls of these operations (names, or families: `instances`, `traffic`, `numbers`,
    /// `resources`) fail with `code`; the others work.
    Operations {
        operations: Vec<String>,
        code: OutageCode,
    },
    /// The connection of every call is dropped without an HTTP answer.
    Reset,
    /// Every call waits `latency_seconds` (wall clock) before its answer, and a share
    /// `error_rate` (0 to 1) of them fail with 500 `InternalServiceException`.
    Degraded {
        latency_seconds: f64,
        error_rate: f64,
    },
}

impl From<Outage> for RegionOutage {
    fn from(o: Outage) -> RegionOutage {
        match o {
            Outage::Unavailable => RegionOutage::Unavailable,
            Outage::Timeout => RegionOutage::Timeout,
        }
    }
}

impl RegionOutage {
    /// The kind, as `outage` names it.
    pub fn kind(&self) -> &'static str {
        match self {
            RegionOutage::Unavailable => "unavailable",
            RegionOutage::Timeout => "timeout",
            RegionOutage::Partial { .. } => "partial",
            RegionOutage::Operations { .. } => "operations",
            RegionOutage::Reset => "reset",
            RegionOutage::Degraded { .. } => "degraded",
        }
    }

    /// Whether the region answers nothing at all (then mirroring to and from it pauses).
    pub fn takes_region_down(&self) -> bool {
        matches!(
            self,
            RegionOutage::Unavailable | RegionOutage::Timeout | RegionOutage::Reset
        )
    }

    /// Whether a `partial` or `operations` outage fails calls of `operation`.
    pub fn fails(&self, operation: crate::ops::Operation) -> bool {
        match self {
            RegionOutage::Partial { .. } => operation.is_write(),
            RegionOutage::Operations { operations, .. } => operations
                .iter()
                .any(|o| o == operation.name() || o == operation.family()),
            _ => false,
        }
    }

    /// `{"outage": null}` is `None`; else the outage its members describe.
    fn parse(obj: &serde_json::Map<String, Value>) -> Result<Option<RegionOutage>, SimError> {
        let kind = match obj.get("outage") {
            None => return Err(SimError::BadRequest("'outage' is missing".to_string())),
            Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(other) => return Err(SimError::BadRequest(format!("got {other}"))),
        };
        let allowed: &[&str] = match kind {
            None | Some("unavailable" | "timeout" | "reset") => &[],
            Some("partial") => &["code"],
            Some("operations") => &["operations", "code"],
            Some("degraded") => &["latencySeconds", "errorRate"],
            Some(other) => return Err(SimError::BadRequest(format!("got \"{other}\""))),
        };
        if let Some(k) = obj
            .keys()
            .find(|k| *k != "outage" && !allowed.contains(&k.as_str()))
        {
            return Err(SimError::BadRequest(format!("unknown member '{k}'")));
        }
        let code = |default: OutageCode| match obj.get("code") {
            None => Ok(default),
            Some(v) => serde_json::from_value(v.clone()).map_err(|_| {
                SimError::BadRequest(format!(
                    "code must be ServiceUnavailableException or InternalServiceException, got {v}"
                ))
            }),
        };
        let number = |name: &str, max: f64| -> Result<f64, SimError> {
            match obj.get(name).and_then(Value::as_f64) {
                Some(n) if (0.0..=max).contains(&n) => Ok(n),
                _ => Err(SimError::BadRequest(format!(
                    "{name} must be a number from 0 to {max}"
                ))),
            }
        };
        Ok(Some(match kind {
            None => return Ok(None),
            Some("unavailable") => RegionOutage::Unavailable,
            Some("timeout") => RegionOutage::Timeout,
            Some("reset") => RegionOutage::Reset,
            Some("partial") => RegionOutage::Partial {
                code: code(OutageCode::ServiceUnavailable)?,
            },
            Some("operations") => {
                let operations: Vec<String> = obj
                    .get("operations")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(String::from)
                            .collect()
                    })
                    .filter(|v: &Vec<String>| !v.is_empty())
                    .ok_or_else(|| {
                        SimError::BadRequest(
                            "operations must be a non-empty list of operation names or families"
                                .into(),
                        )
                    })?;
                if let Some(bad) = operations
                    .iter()
                    .find(|o| !crate::ops::Operation::names_operations(o))
                {
                    return Err(SimError::BadRequest(format!(
                        "'{bad}' is no operation and no family ({})",
                        crate::ops::FAMILIES.join(", ")
                    )));
                }
                RegionOutage::Operations {
                    operations,
                    code: code(OutageCode::InternalService)?,
                }
            }
            _ => RegionOutage::Degraded {
                latency_seconds: number("latencySeconds", 600.0)?,
                error_rate: number("errorRate", 1.0)?,
            },
        }))
    }
}

impl TryFrom<Value> for RegionOutage {
    type Error = SimError;

    fn try_from(v: Value) -> Result<Self, SimError> {
        let Value::Object(obj) = v else {
            return Err(SimError::BadRequest(
                "an outage is a JSON object".to_string(),
            ));
        };
        RegionOutage::parse(&obj)?.ok_or_else(|| SimError::BadRequest("'outage' is null".into()))
    }
}

/// A region the control plane plays, and its outage: an entry of `GET /_sim/regions`, and the
/// answer of `PUT /_sim/regions/{region}`. On the wire the outage's members sit beside
/// `region`: `{"region": "us-east-1", "outage": "partial", "code": "...", "since": T}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "Value", try_from = "Value")]
pub struct RegionStatus {
    pub region: String,
    pub outage: Option<RegionOutage>,
    /// Simulated time the outage began.
    pub since: Option<f64>,
}

impl From<RegionStatus> for Value {
    fn from(r: RegionStatus) -> Value {
        let mut v = match &r.outage {
            Some(o) => serde_json::to_value(o).unwrap_or_default(),
            None => serde_json::json!({"outage": null}),
        };
        v["region"] = r.region.into();
        if let Some(since) = r.since {
            v["since"] = since.into();
        }
        v
    }
}

impl TryFrom<Value> for RegionStatus {
    type Error = SimError;

    fn try_from(v: Value) -> Result<Self, SimError> {
        let Value::Object(mut obj) = v else {
            return Err(SimError::BadRequest(
                "a region entry is a JSON object".to_string(),
            ));
        };
        let region = match obj.remove("region") {
            Some(Value::String(r)) => r,
            _ => return Err(SimError::BadRequest("'region' is missing".to_string())),
        };
        let since = obj.remove("since").and_then(|s| s.as_f64());
        Ok(RegionStatus {
            region,
            outage: RegionOutage::parse(&obj)?,
            since,
        })
    }
}

/// `GET /_sim/regions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Regions {
    pub regions: Vec<RegionStatus>,
}

/// The body of `PUT /_sim/regions/{region}`: `{"outage": kind, ...}` (see [`RegionOutage`]) or
/// `{"outage": null}`, ending the outage. `outage` is required, and only the kind's members
/// are accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "Value", try_from = "Value")]
pub struct SetOutage {
    pub outage: Option<RegionOutage>,
}

impl From<SetOutage> for Value {
    fn from(s: SetOutage) -> Value {
        match s.outage {
            Some(o) => serde_json::to_value(o).unwrap_or_default(),
            None => serde_json::json!({"outage": null}),
        }
    }
}

impl TryFrom<Value> for SetOutage {
    type Error = SimError;

    fn try_from(v: Value) -> Result<Self, SimError> {
        let Value::Object(obj) = v else {
            return Err(SimError::BadRequest(
                "the body must be a JSON object".to_string(),
            ));
        };
        Ok(SetOutage {
            outage: RegionOutage::parse(&obj)?,
        })
    }
}

/// The body of `PUT /_sim/quota`: a positive factor on every quota.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SetQuota {
    pub factor: f64,
}

/// The answer of `PUT /_sim/quota`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaFactor {
    pub quota_factor: f64,
}

/// `GET /_sim/clock`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClockReading {
    /// Simulated now, epoch seconds.
    pub now: f64,
    pub time_scale: f64,
}

/// The body of `POST /_sim/clock/advance`: simulated seconds, from 0 to 1e9.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Advance {
    pub seconds: f64,
}

/// The answer of `POST /_sim/clock/advance`: the new simulated now.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Advanced {
    pub now: f64,
}

/// `GET /_sim/state`: a summary of everything, for tests and people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimState {
    pub now: f64,
    pub time_scale: f64,
    pub quota_factor: f64,
    pub instances: Vec<InstanceState>,
    pub replications: Vec<ReplicationState>,
    /// In creation order.
    pub traffic_distribution_groups: Vec<GroupState>,
    pub phone_numbers: Vec<NumberState>,
    /// Mirroring work queued.
    pub pending_tasks: usize,
    /// The regions in an outage.
    pub outages: BTreeMap<String, RegionOutage>,
}

impl SimState {
    /// The instance `id` in `region`.
    pub fn instance(&self, region: &str, id: &str) -> Option<&InstanceState> {
        self.instances
            .iter()
            .find(|i| i.region == region && i.id == id)
    }

    /// The default traffic distribution group of an instance.
    pub fn default_group(&self, instance_id: &str) -> Option<&GroupState> {
        self.traffic_distribution_groups
            .iter()
            .find(|g| g.instance_id == instance_id && g.is_default)
    }
}

/// An instance in one region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceState {
    pub region: String,
    pub id: String,
    pub alias: Option<String>,
    pub status: String,
    pub identity_management_type: String,
    /// For a replica: its source region.
    pub replica_of: Option<String>,
    /// How many resources of each kind it holds.
    pub counts: BTreeMap<Kind, usize>,
    /// Whether the instance (its ID: source and replica alike) is enabled for global routing.
    /// It takes effect once the instance is replicated.
    #[serde(default)]
    pub global_routing: bool,
    /// The regions each region of the pair sees isolated from cross-region routing
    /// (GetCrossRegionRouting's `IsolatedRegions` there), by region; empty when not replicated.
    #[serde(default)]
    pub isolated_regions: BTreeMap<String, Vec<String>>,
    /// A migration to global routing under way (a ReplicateInstance re-run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<MigrationState>,
    /// The Lambda function ARNs associated with the instance in this region.
    #[serde(default)]
    pub lambda_functions: Vec<String>,
    /// The Lex V2 alias ARNs associated with the instance in this region.
    #[serde(default)]
    pub lex_v2_bots: Vec<String>,
    /// Its approved origins in this region.
    #[serde(default)]
    pub approved_origins: Vec<String>,
    /// Its third-party applications (integration associations of type `APPLICATION`).
    #[serde(default)]
    pub applications: Vec<ApplicationState>,
    /// How many test cases it holds in this region.
    #[serde(default)]
    pub test_cases: usize,
}

/// A third-party application integrated with an instance in one region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationState {
    pub name: String,
    pub namespace: String,
    pub integration_arn: String,
}

/// A migration to global routing: replication is `INSTANCE_REPLICATION_IN_PROGRESS` in both
/// regions from `startedAt` until `until` (simulated epoch seconds), then global routing is on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MigrationState {
    pub started_at: f64,
    pub until: f64,
}

/// The replication of an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicationState {
    pub instance_id: String,
    pub source: String,
    pub replica: String,
    pub requested_at: f64,
    pub replica_ready_at: f64,
    /// Resources of the first copy not mirrored yet.
    pub initial_pending: usize,
    /// Blocked resources being retried after a repeat ReplicateInstance.
    pub resync_pending: usize,
    pub blocked: Vec<BlockedState>,
    /// `running`, `creationFailed`, `replicationFailed`, `deleting` or `deletionFailed`.
    #[serde(default)]
    pub phase: String,
    /// A staged replica failure not applied yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staged: Option<ReplicaFailure>,
    /// Changes that failed to sync (findings with `ReferenceCode: SYNC_FAILED`).
    #[serde(default)]
    pub failed_syncs: usize,
}

/// A resource not mirrored because the other region has one of the same name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockedState {
    pub kind: Kind,
    pub name: String,
    pub from: String,
    pub to: String,
    pub source_id: String,
    pub target_id: String,
}

/// A traffic distribution group. `status`, `telephony`, `agents`, `signIn` and
/// `lastFailoverTime` are its home region's view; `views` has each region's (they differ while
/// an update has not reached the other region yet, see `crossRegionLagSeconds`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupState {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub instance_id: String,
    pub home: String,
    pub other: String,
    pub is_default: bool,
    pub status: String,
    /// Percent of telephony traffic per region.
    pub telephony: BTreeMap<String, i64>,
    /// Percent of agents per region.
    pub agents: BTreeMap<String, i64>,
    /// Sign-in enabled per region (the default group only).
    pub sign_in: Option<BTreeMap<String, bool>>,
    /// Epoch seconds of the last update that changed the split.
    #[serde(default)]
    pub last_failover_time: Option<f64>,
    /// The associated users' IDs.
    pub users: Vec<String>,
    /// What each region of the pair sees, by region.
    #[serde(default)]
    pub views: BTreeMap<String, GroupView>,
    /// Updates not yet applied in both regions.
    #[serde(default)]
    pub pending_updates: usize,
}

/// A traffic distribution group as one region sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    pub status: String,
    pub telephony: BTreeMap<String, i64>,
    pub agents: BTreeMap<String, i64>,
    pub sign_in: Option<BTreeMap<String, bool>>,
    pub last_failover_time: Option<f64>,
}

/// A claimed phone number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberState {
    pub id: String,
    pub number: String,
    pub region: String,
    pub target_arn: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_change_names_the_outage_and_nothing_else() {
        let parse = |s: &str| serde_json::from_str::<SetOutage>(s).map_err(|e| e.to_string());
        assert_eq!(
            parse(r#"{"outage": "timeout"}"#),
            Ok(SetOutage {
                outage: Some(RegionOutage::Timeout)
            })
        );
        assert_eq!(parse(r#"{"outage": null}"#), Ok(SetOutage { outage: None }));
        assert!(parse("{}").is_err_and(|e| e.to_string().contains("missing")));
        assert!(parse(r#"{"outage": null, "x": 1}"#)
            .is_err_and(|e| e.to_string().contains("unknown member")));
        assert!(parse(r#"{"outage": "down"}"#).is_err_and(|e| e.to_string().contains("down")));
        assert!(parse(r#"{"outage": "reset", "code": "x"}"#)
            .is_err_and(|e| e.to_string().contains("code")));
    }

    #[test]
    fn messier_outages_take_their_members_with_defaults() {
        let parse = |s: &str| {
            serde_json::from_str::<SetOutage>(s)
                .map(|s| s.outage)
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            parse(r#"{"outage": "partial"}"#),
            Ok(Some(RegionOutage::Partial {
                code: OutageCode::ServiceUnavailable
            }))
        );
        assert_eq!(
            parse(r#"{"outage": "operations", "operations": ["traffic", "ListUsers"]}"#),
            Ok(Some(RegionOutage::Operations {
                operations: vec!["traffic".into(), "ListUsers".into()],
                code: OutageCode::InternalService
            }))
        );
        assert!(parse(r#"{"outage": "operations", "operations": []}"#).is_err());
        assert!(parse(r#"{"outage": "operations", "operations": ["Nope"]}"#)
            .is_err_and(|e| e.to_string().contains("Nope")));
        assert_eq!(
            parse(r#"{"outage": "degraded", "latencySeconds": 1.5, "errorRate": 0.2}"#),
            Ok(Some(RegionOutage::Degraded {
                latency_seconds: 1.5,
                error_rate: 0.2
            }))
        );
        assert!(
            parse(r#"{"outage": "degraded", "latencySeconds": 1, "errorRate": 2}"#)
                .is_err_and(|e| e.to_string().contains("errorRate"))
        );
        let partial = RegionOutage::Partial {
            code: OutageCode::InternalService,
        };
        let entry = RegionStatus {
            region: "us-west-2".into(),
            outage: Some(partial.clone()),
            since: Some(5.0),
        };
        let wire = serde_json::to_value(&entry).unwrap();
        assert_eq!(
            wire,
            serde_json::json!({"region": "us-west-2", "outage": "partial", "code": "InternalServiceException", "since": 5.0})
        );
        assert_eq!(
            serde_json::from_value::<RegionStatus>(wire).ok(),
            Some(entry)
        );
        let body = serde_json::to_value(SetOutage {
            outage: Some(partial.clone()),
        })
        .unwrap();
        assert_eq!(
            serde_json::from_value::<SetOutage>(body).ok(),
            Some(SetOutage {
                outage: Some(partial)
            })
        );
    }

    #[test]
    fn region_entries_show_since_only_in_an_outage() {
        let up = RegionStatus {
            region: "us-east-1".into(),
            outage: None,
            since: None,
        };
        assert_eq!(
            serde_json::to_value(&up).ok(),
            Some(serde_json::json!({"region": "us-east-1", "outage": null}))
        );
    }

    #[test]
    fn call_filters_match_operation_region_and_sequence() {
        let call = CallRecord {
            seq: 3,
            time: 0.0,
            sim_time: 0.0,
            region: "us-east-1".into(),
            operation: "ListUsers".into(),
            access_key_id: "AKID".into(),
            status: 200,
            error_type: None,
        };
        assert!(CallFilter::default().matches(&call));
        assert!(CallFilter::default().operation("ListUsers").matches(&call));
        assert!(!CallFilter::default().operation("ListQueues").matches(&call));
        assert!(!CallFilter::default().region("us-west-2").matches(&call));
        assert!(CallFilter::default().since(2).matches(&call));
        assert!(!CallFilter::default().since(3).matches(&call));
    }
}
