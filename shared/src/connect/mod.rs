//! The Connect control plane of one region, as the steps need it: a narrow port, an adapter over
//! `aws-sdk-connect`, and an in-memory fake for unit tests.

#[cfg(any(test, feature = "test-util"))]
pub mod fake;
pub mod findings;
pub mod pace;
pub mod sdk;
mod status;

pub use crate::domain::CurrentDistribution;
pub use status::{
    GroupStatus, IdentityType, InstanceStatus, ReplicationOperation, ReplicationStatus,
};

use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::domain::{Kind, Region, RoutingState, TrafficPlan};
use crate::error::ConnectError;

#[derive(Clone, Debug, PartialEq, Default)]
pub struct InstanceInfo {
    pub id: String,
    pub arn: String,
    pub alias: Option<String>,
    pub identity: Option<IdentityType>,
    pub status: Option<InstanceStatus>,
    /// `Instance.StatusReason.Message`: why the instance could not be created, when it could not.
    pub status_reason: Option<String>,
    /// `InstanceAccessUrl`: region-subdomained for an instance enabled for global routing.
    pub access_url: Option<String>,
    pub replication: Option<ReplicationInfo>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct ReplicationInfo {
    pub source_region: Option<Region>,
    pub statuses: Vec<RegionStatus>,
    pub global_sign_in_endpoint: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionStatus {
    pub region: String,
    pub status: ReplicationStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl InstanceInfo {
    pub fn is_active(&self) -> bool {
        self.status == Some(InstanceStatus::Active)
    }

    /// Whether the instance is named as Connect names instances enabled for global routing
    /// (a region-subdomained access URL): the one sign of it in DescribeInstance.
    pub fn global_routing_named(&self) -> bool {
        self.access_url
            .as_deref()
            .is_some_and(crate::domain::region_subdomained)
    }
}

impl ReplicationInfo {
    /// Complete in every region listed.
    pub fn complete(&self) -> bool {
        ReplicationInfo::all_complete(&self.statuses)
    }

    /// Complete in every region of `statuses` (and at least one).
    pub fn all_complete(statuses: &[RegionStatus]) -> bool {
        !statuses.is_empty()
            && statuses
                .iter()
                .all(|s| s.status == ReplicationStatus::Complete)
    }

    pub fn failed(&self) -> bool {
        self.statuses
            .iter()
            .any(|s| s.status == ReplicationStatus::Failed)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSummary {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub instance_arn: String,
    pub status: GroupStatus,
    pub is_default: bool,
}

impl GroupSummary {
    pub fn is_active(&self) -> bool {
        self.status == GroupStatus::Active
    }

    /// Being created or applying an update: it becomes ACTIVE by itself, so wait.
    pub fn is_settling(&self) -> bool {
        matches!(
            self.status,
            GroupStatus::CreationInProgress | GroupStatus::UpdateInProgress
        )
    }

    /// True when the group belongs to the instance `instance_id` (its instance ARN ends with
    /// `instance/<id>`).
    pub fn belongs_to(&self, instance_id: &str) -> bool {
        self.instance_arn
            .rsplit_once(':')
            .is_some_and(|(_, resource)| resource.strip_prefix("instance/") == Some(instance_id))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSummary {
    /// Absent for kinds without IDs (predefined attributes).
    pub id: Option<String>,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct UserPage {
    pub users: Vec<ResourceSummary>,
    pub next_token: Option<String>,
}

/// One page of a traffic distribution group's users: their IDs.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct GroupUserPage {
    pub user_ids: Vec<String>,
    pub next_token: Option<String>,
}

/// One ListReplicationFindings entry: a resource that did not mirror and needs the customer's
/// action. What it asks for is [`findings::classify`]'s to say.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub id: String,
    /// `ResourceType` as the finding names it.
    #[serde(default)]
    pub resource_type: Option<String>,
    pub name: Option<String>,
    /// Where the replication failed.
    pub region: Option<String>,
    pub message: Option<String>,
    /// The replication operation that produced it.
    #[serde(default)]
    pub operation: Option<ReplicationOperation>,
    /// The stable class code of the finding (Connect publishes no list of them).
    #[serde(default)]
    pub reference_code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Findings {
    pub findings: Vec<Finding>,
    /// Resources of the kind not yet in sync, per region.
    pub drift: Vec<(String, i64)>,
    pub statuses: Vec<(String, String)>,
}

impl Findings {
    pub fn drift_total(&self) -> i64 {
        self.drift.iter().map(|(_, n)| *n).sum()
    }
}

/// The largest page a kind's listing accepts: 1000, but 100 for ListPredefinedAttributes (the
/// reference, section 9). A listing always asks for it: its cost is one call per page.
pub const fn max_page_size(kind: Kind) -> i32 {
    match kind {
        Kind::PredefinedAttributes => 100,
        _ => 1000,
    }
}

/// The largest page of ListReplicationFindings.
pub const FINDINGS_PAGE_SIZE: i32 = 100;

/// The largest page ListTrafficDistributionGroupUsers returns: 10 users, whatever `MaxResults`
/// asks (the model caps the list at 10). At its quota of 2 calls/s, 10,000 users take 1,000
/// pages and 500 seconds.
pub const GROUP_USERS_PAGE_SIZE: i32 = 10;

/// The Connect operation that lists a kind.
pub fn list_operation(kind: Kind) -> &'static str {
    match kind {
        Kind::HoursOfOperations => "ListHoursOfOperations",
        Kind::AgentStatuses => "ListAgentStatuses",
        Kind::PredefinedAttributes => "ListPredefinedAttributes",
        Kind::SecurityProfiles => "ListSecurityProfiles",
        Kind::Prompts => "ListPrompts",
        Kind::UserHierarchyGroups => "ListUserHierarchyGroups",
        Kind::ContactFlowModules => "ListContactFlowModules",
        Kind::ContactFlows => "ListContactFlows",
        Kind::Queues => "ListQueues",
        Kind::QuickConnects => "ListQuickConnects",
        Kind::RoutingProfiles => "ListRoutingProfiles",
        Kind::Users => "ListUsers",
    }
}

/// A test case as ListTestCases (tags empty) and DescribeTestCase answer it.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestCase {
    pub id: String,
    pub name: String,
    /// `PUBLISHED` (runnable) or `SAVED`.
    pub status: String,
    #[serde(default)]
    pub tags: std::collections::BTreeMap<String, String>,
}

/// One execution of a test case, as GetTestCaseExecutionSummary answers it.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestCaseRun {
    /// `INITIATED`, `IN_PROGRESS`, `PASSED`, `FAILED`, `STOPPED`.
    pub status: String,
    pub observations: u32,
    pub observations_failed: u32,
}

impl TestCaseRun {
    /// Ended: PASSED, FAILED or STOPPED.
    pub fn ended(&self) -> bool {
        matches!(self.status.as_str(), "PASSED" | "FAILED" | "STOPPED")
    }
}

/// A Lex bot associated with an instance: V1 by name and region, V2 by alias ARN.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LexBotRef {
    pub name: String,
    pub region: Option<String>,
}

/// A group's distribution as GetTrafficDistribution answers it in one region.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LiveDistribution {
    pub split: CurrentDistribution,
    /// Connect's `LastFailoverTime` in epoch milliseconds: moved by every update that changes
    /// the split, the same token in both regions once the update reached them. Two reads with
    /// the same split and the same token saw no update in between: the fence of a shift.
    pub last_failover: Option<i64>,
}

/// The Connect control plane of one region.
pub trait Connect: Send + Sync {
    fn region(&self) -> &Region;

    /// `None` when the instance does not exist in this region.
    fn describe_instance(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Option<InstanceInfo>, ConnectError>> + Send;

    /// Returns the replica's ARN.
    fn replicate_instance(
        &self,
        instance_id: &str,
        replica: &Region,
        replica_alias: Option<&str>,
        client_token: &str,
    ) -> impl Future<Output = Result<String, ConnectError>> + Send;

    fn list_groups(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Vec<GroupSummary>, ConnectError>> + Send;

    fn describe_group(
        &self,
        group: &str,
    ) -> impl Future<Output = Result<GroupSummary, ConnectError>> + Send;

    /// GetTrafficDistribution: the split and Connect's `LastFailoverTime`.
    fn get_live(
        &self,
        group: &str,
    ) -> impl Future<Output = Result<LiveDistribution, ConnectError>> + Send;

    /// GetTrafficDistribution, the split only.
    fn get_distribution(
        &self,
        group: &str,
    ) -> impl Future<Output = Result<CurrentDistribution, ConnectError>> + Send {
        async move { self.get_live(group).await.map(|l| l.split) }
    }

    fn update_distribution(
        &self,
        group: &str,
        plan: &TrafficPlan,
    ) -> impl Future<Output = Result<(), ConnectError>> + Send;

    fn associate_user(
        &self,
        group: &str,
        user_id: &str,
        instance_id: &str,
    ) -> impl Future<Output = Result<(), ConnectError>> + Send;

    /// One page of the group's users ([`GROUP_USERS_PAGE_SIZE`]), from `next_token`.
    fn list_group_users_page(
        &self,
        group: &str,
        next_token: Option<&str>,
    ) -> impl Future<Output = Result<GroupUserPage, ConnectError>> + Send;

    /// Every resource of a kind: all pages, each of [`max_page_size`].
    fn list_resources(
        &self,
        instance_id: &str,
        kind: Kind,
    ) -> impl Future<Output = Result<Vec<ResourceSummary>, ConnectError>> + Send;

    fn list_users_page(
        &self,
        instance_id: &str,
        next_token: Option<&str>,
        page_size: i32,
    ) -> impl Future<Output = Result<UserPage, ConnectError>> + Send;

    /// The findings of a resource type (`ResourceType`: a kind's [`Kind::finding_type`], or any
    /// type the service reports), all pages of [`FINDINGS_PAGE_SIZE`], with drift counts and
    /// each region's replication status of the type.
    fn list_findings(
        &self,
        instance_id: &str,
        resource_type: &str,
    ) -> impl Future<Output = Result<Findings, ConnectError>> + Send;

    /// A published flow's content; `None` when it is not published.
    fn flow_content(
        &self,
        instance_id: &str,
        flow_id: &str,
    ) -> impl Future<Output = Result<Option<String>, ConnectError>> + Send;

    /// A flow module's content; `None` when the module does not exist.
    fn module_content(
        &self,
        instance_id: &str,
        module_id: &str,
    ) -> impl Future<Output = Result<Option<String>, ConnectError>> + Send;

    fn list_lambda_functions(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Vec<String>, ConnectError>> + Send;

    fn list_lex_bots(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Vec<LexBotRef>, ConnectError>> + Send;

    /// GetCrossRegionRouting: `None` for an instance not enabled for global routing (Connect
    /// answers it InvalidRequestException).
    fn get_routing(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Option<RoutingState>, ConnectError>> + Send;

    /// Every test case of the instance (ListTestCases, all pages; no tags).
    fn list_test_cases(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Vec<TestCase>, ConnectError>> + Send;

    /// DescribeTestCase, with its tags; `None` when it does not exist.
    fn describe_test_case(
        &self,
        instance_id: &str,
        test_case_id: &str,
    ) -> impl Future<Output = Result<Option<TestCase>, ConnectError>> + Send;

    /// StartTestCaseExecution: the execution's ID.
    fn start_test_case(
        &self,
        instance_id: &str,
        test_case_id: &str,
        client_token: &str,
    ) -> impl Future<Output = Result<String, ConnectError>> + Send;

    /// GetTestCaseExecutionSummary.
    fn test_case_run(
        &self,
        instance_id: &str,
        test_case_id: &str,
        execution_id: &str,
    ) -> impl Future<Output = Result<TestCaseRun, ConnectError>> + Send;

    /// The records of an execution's failed observations (ListTestCaseExecutionRecords,
    /// status FAILED), as Connect words them.
    fn test_case_failures(
        &self,
        instance_id: &str,
        test_case_id: &str,
        execution_id: &str,
    ) -> impl Future<Output = Result<Vec<String>, ConnectError>> + Send;

    /// ListApprovedOrigins, all pages.
    fn list_approved_origins(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Vec<String>, ConnectError>> + Send;

    /// The third-party applications associated with the instance (ListIntegrationAssociations,
    /// IntegrationType APPLICATION): their names (`SourceApplicationName`, what both regions
    /// share; each region has its own application ARN), else their ARNs.
    fn list_applications(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Vec<String>, ConnectError>> + Send;

    /// BatchGetFlowAssociation of voice numbers (ARNs or IDs, 100 a call): (number, flow ID) of
    /// the numbers that point at a flow in this region.
    fn flow_associations(
        &self,
        instance_id: &str,
        numbers: &[String],
    ) -> impl Future<Output = Result<Vec<(String, String)>, ConnectError>> + Send;

    /// UpdateCrossRegionRouting: `IsolatedAll`.
    fn update_routing(
        &self,
        instance_id: &str,
        isolated_all: bool,
    ) -> impl Future<Output = Result<(), ConnectError>> + Send;
}
