//! The Connect operations: one table that says, for each, its HTTP method and path, the error it
//! models for bad parameters, its quota and its handler; the handlers, grouped by API family in
//! the submodules.

mod distribution;
mod findings;
mod groups;
mod instances;
mod integrations;
mod numbers;
mod replication;
mod resources;
mod routing;
mod test_cases;

use axum::routing::MethodFilter;
use serde_json::{json, Map, Value};

use self::{
    distribution::*, findings::*, groups::*, instances::*, integrations::*, numbers::*,
    replication::*, resources::*, routing::*, test_cases::*,
};

use crate::control::{RefusalCode, ReplicaFailure};
use crate::kinds::Kind;
use crate::model::{
    default_attrs, Distribution, Instance, Phase, PhoneNumber, Replication, Resource, Settled,
    Task, TaskClass, TaskOp, Tdg, Version, World, ACTIVE, UPDATE_IN_PROGRESS,
};
use crate::wire::{
    is_alias, is_region, is_uuid, paginate, split_arn, ApiError, ApiResult, ErrorCode, Input,
};

/// A token bucket's shape: steady requests per second and burst, before the quota factor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quota {
    pub rate: f64,
    pub burst: f64,
}

/// The Service Quotas default: 2 requests/s, burst 5.
const STANDARD: Quota = Quota {
    rate: 2.0,
    burst: 5.0,
};

/// The list/describe operations the reference names at 10 requests/s (no burst documented: one
/// second's worth).
const TEN_PER_SECOND: Quota = Quota {
    rate: 10.0,
    burst: 10.0,
};

/// What a handler does: one operation on the world, its input already decoded.
pub type Handler = fn(&mut World, &Call) -> ApiResult;

/// One row of the operation table.
#[derive(Debug)]
pub struct Spec {
    pub operation: Operation,
    /// The operation's name, as the call log and the fault settings spell it.
    pub name: &'static str,
    pub method: MethodFilter,
    /// The path as axum routes it, labels in braces.
    pub path: &'static str,
    /// The error code this operation models for bad parameters.
    pub invalid: ErrorCode,
    pub quota: Quota,
    pub handler: Handler,
}

/// Declares the `Operation` enum and its table from one list, so that a name cannot drift from
/// its variant and no operation can lack a row. A row reads
/// `Name: METHOD "path", bad-parameter ErrorCode, quota, handler;`.
macro_rules! operations {
    ($($op:ident: $method:ident $path:literal, $invalid:ident, $quota:ident, $handler:expr;)*) => {
        /// A Connect operation this control plane serves.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $($op,)*
        }

        /// The operation table, in the order of [`Operation`]'s variants.
        pub const OPERATIONS: &[Spec] = &[$(Spec {
            operation: Operation::$op,
            name: stringify!($op),
            method: MethodFilter::$method,
            path: $path,
            invalid: ErrorCode::$invalid,
            quota: $quota,
            handler: $handler,
        },)*];
    };
}

operations! {
    // Instances
    ReplicateInstance: POST "/instance/{InstanceId}/replicate", InvalidRequest, STANDARD, replicate_instance;
    ListInstances: GET "/instance", InvalidRequest, STANDARD, list_instances;
    DescribeInstance: GET "/instance/{InstanceId}", InvalidRequest, STANDARD, describe_instance;
    ListInstanceAttributes: GET "/instance/{InstanceId}/attributes", InvalidParameter, STANDARD, list_instance_attributes;
    DescribeInstanceAttribute: GET "/instance/{InstanceId}/attribute/{AttributeType}", InvalidParameter, STANDARD, describe_instance_attribute;
    ListLambdaFunctions: GET "/instance/{InstanceId}/lambda-functions", InvalidParameter, STANDARD, list_lambda_functions;
    ListBots: GET "/instance/{InstanceId}/bots", InvalidRequest, STANDARD, list_bots;
    ListLexBots: GET "/instance/{InstanceId}/lex-bots", InvalidParameter, STANDARD, list_lex_bots;
    ListReplicationFindings: GET "/replication-findings/{InstanceId}", InvalidRequest, STANDARD, list_replication_findings;
    GetCrossRegionRouting: GET "/cross-region-routing/{InstanceId}", InvalidRequest, STANDARD, get_cross_region_routing;
    UpdateCrossRegionRouting: PUT "/cross-region-routing/{InstanceId}", InvalidRequest, STANDARD, update_cross_region_routing;

    // Integrations of an instance, per region
    AssociateLambdaFunction: PUT "/instance/{InstanceId}/lambda-function", InvalidParameter, STANDARD, associate_lambda_function;
    DisassociateLambdaFunction: DELETE "/instance/{InstanceId}/lambda-function", InvalidParameter, STANDARD, disassociate_lambda_function;
    AssociateBot: PUT "/instance/{InstanceId}/bot", InvalidRequest, STANDARD, associate_bot;
    DisassociateBot: POST "/instance/{InstanceId}/bot", InvalidRequest, STANDARD, disassociate_bot;
    ListApprovedOrigins: GET "/instance/{InstanceId}/approved-origins", InvalidParameter, STANDARD, list_approved_origins;
    AssociateApprovedOrigin: PUT "/instance/{InstanceId}/approved-origin", InvalidParameter, STANDARD, associate_approved_origin;
    DisassociateApprovedOrigin: DELETE "/instance/{InstanceId}/approved-origin", InvalidParameter, STANDARD, disassociate_approved_origin;
    ListIntegrationAssociations: GET "/instance/{InstanceId}/integration-associations", InvalidRequest, STANDARD, list_integration_associations;
    BatchGetFlowAssociation: POST "/flow-associations-batch/{InstanceId}", InvalidParameter, STANDARD, batch_get_flow_association;

    // Test cases (mirrored) and their executions (per region)
    CreateTestCase: PUT "/test-cases/{InstanceId}", InvalidParameter, STANDARD, create_test_case;
    DescribeTestCase: GET "/test-cases/{InstanceId}/{TestCaseId}", InvalidParameter, STANDARD, describe_test_case;
    UpdateTestCase: POST "/test-cases/{InstanceId}/{TestCaseId}", InvalidParameter, STANDARD, update_test_case;
    DeleteTestCase: DELETE "/test-cases/{InstanceId}/{TestCaseId}", InvalidParameter, STANDARD, delete_test_case;
    StartTestCaseExecution: PUT "/test-cases/{InstanceId}/{TestCaseId}/start-execution", InvalidParameter, STANDARD, start_test_case_execution;
    GetTestCaseExecutionSummary: GET "/test-cases/{InstanceId}/{TestCaseId}/{TestCaseExecutionId}/summary", InvalidParameter, STANDARD, get_test_case_execution_summary;
    StopTestCaseExecution: POST "/test-cases/{InstanceId}/{TestCaseId}/{TestCaseExecutionId}/stop-execution", InvalidParameter, STANDARD, stop_test_case_execution;
    ListTestCaseExecutionRecords: GET "/test-cases/{InstanceId}/{TestCaseId}/{TestCaseExecutionId}/records", InvalidParameter, STANDARD, list_test_case_execution_records;
    ListTestCaseExecutions: GET "/test-case-executions/{InstanceId}", InvalidParameter, STANDARD, list_test_case_executions;

    // Traffic distribution groups
    CreateTrafficDistributionGroup: PUT "/traffic-distribution-group", InvalidRequest, STANDARD, create_tdg;
    ListTrafficDistributionGroups: GET "/traffic-distribution-groups", InvalidRequest, STANDARD, list_tdgs;
    DescribeTrafficDistributionGroup: GET "/traffic-distribution-group/{TrafficDistributionGroupId}", InvalidRequest, STANDARD, describe_tdg;
    DeleteTrafficDistributionGroup: DELETE "/traffic-distribution-group/{TrafficDistributionGroupId}", InvalidRequest, STANDARD, delete_tdg;
    AssociateTrafficDistributionGroupUser: PUT "/traffic-distribution-group/{TrafficDistributionGroupId}/user", InvalidRequest, STANDARD, associate_user;
    DisassociateTrafficDistributionGroupUser: DELETE "/traffic-distribution-group/{TrafficDistributionGroupId}/user", InvalidRequest, STANDARD, disassociate_user;
    ListTrafficDistributionGroupUsers: GET "/traffic-distribution-group/{TrafficDistributionGroupId}/user", InvalidRequest, STANDARD, list_tdg_users;
    GetTrafficDistribution: GET "/traffic-distribution/{Id}", InvalidRequest, STANDARD, get_traffic_distribution;
    UpdateTrafficDistribution: PUT "/traffic-distribution/{Id}", InvalidRequest, STANDARD, update_traffic_distribution;

    // Phone numbers
    ListPhoneNumbersV2: POST "/phone-number/list", InvalidParameter, STANDARD, list_phone_numbers;
    DescribePhoneNumber: GET "/phone-number/{PhoneNumberId}", InvalidParameter, STANDARD, describe_phone_number;
    UpdatePhoneNumber: PUT "/phone-number/{PhoneNumberId}", InvalidParameter, STANDARD, update_phone_number;

    // Users, queues, flows and modules
    DescribeUser: GET "/users/{InstanceId}/{UserId}", InvalidParameter, TEN_PER_SECOND, describe_user;
    CreateUser: PUT "/users/{InstanceId}", InvalidParameter, STANDARD, create_user;
    DeleteUser: DELETE "/users/{InstanceId}/{UserId}", InvalidParameter, STANDARD, delete_user;
    CreateQueue: PUT "/queues/{InstanceId}", InvalidParameter, STANDARD, create_queue;
    DeleteQueue: DELETE "/queues/{InstanceId}/{QueueId}", InvalidParameter, STANDARD, delete_queue;
    DescribeContactFlow: GET "/contact-flows/{InstanceId}/{ContactFlowId}", InvalidParameter, STANDARD, describe_contact_flow;
    DescribeContactFlowModule: GET "/contact-flow-modules/{InstanceId}/{ContactFlowModuleId}", InvalidParameter, STANDARD, describe_contact_flow_module;

    // The List operation of each mirrored kind (`Kind::list_operation`)
    ListHoursOfOperations: GET "/hours-of-operations-summary/{InstanceId}", InvalidParameter, TEN_PER_SECOND, list_kind;
    ListAgentStatuses: GET "/agent-status/{InstanceId}", InvalidParameter, TEN_PER_SECOND, list_kind;
    ListPredefinedAttributes: GET "/predefined-attributes/{InstanceId}", InvalidParameter, TEN_PER_SECOND, list_kind;
    ListSecurityProfiles: GET "/security-profiles-summary/{InstanceId}", InvalidParameter, STANDARD, list_kind;
    ListPrompts: GET "/prompts-summary/{InstanceId}", InvalidParameter, TEN_PER_SECOND, list_kind;
    ListUserHierarchyGroups: GET "/user-hierarchy-groups-summary/{InstanceId}", InvalidParameter, TEN_PER_SECOND, list_kind;
    ListContactFlowModules: GET "/contact-flow-modules-summary/{InstanceId}", InvalidParameter, STANDARD, list_kind;
    ListContactFlows: GET "/contact-flows-summary/{InstanceId}", InvalidParameter, STANDARD, list_kind;
    ListQueues: GET "/queues-summary/{InstanceId}", InvalidParameter, TEN_PER_SECOND, list_kind;
    ListQuickConnects: GET "/quick-connects/{InstanceId}", InvalidParameter, TEN_PER_SECOND, list_kind;
    ListRoutingProfiles: GET "/routing-profiles-summary/{InstanceId}", InvalidParameter, TEN_PER_SECOND, list_kind;
    ListUsers: GET "/users-summary/{InstanceId}", InvalidParameter, TEN_PER_SECOND, list_kind;
    ListTestCases: GET "/test-cases-summary/{InstanceId}", InvalidParameter, STANDARD, list_kind;
}

impl Operation {
    pub fn spec(self) -> &'static Spec {
        &OPERATIONS[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn all() -> impl Iterator<Item = Operation> {
        OPERATIONS.iter().map(|s| s.operation)
    }

    /// The operation routed at `path` (a route of the table) for `method`; `None` for a method
    /// the path does not serve, `HEAD` included.
    pub fn routed(method: &axum::http::Method, path: &str) -> Option<Operation> {
        let method = MethodFilter::try_from(method.clone()).ok()?;
        OPERATIONS
            .iter()
            .find(|s| s.path == path && s.method == method)
            .map(|s| s.operation)
    }

    /// The kind a List operation lists.
    pub fn kind(self) -> Option<Kind> {
        Kind::all().find(|k| k.list_operation() == self)
    }

    /// Whether the operation changes something (what a `partial` outage fails): every
    /// operation named by a verb that writes. The reads are `List*`, `Describe*` and `Get*`.
    pub fn is_write(self) -> bool {
        WRITE_VERBS.iter().any(|v| self.name().starts_with(v))
    }

    /// The API family it belongs to, as the operation table groups them (our choice):
    /// `traffic` (traffic distribution groups, their users and distributions), `numbers`
    /// (phone numbers), `instances` (instances, replication, cross-region routing and what is
    /// listed of an instance),
    /// `resources` (users, queues, flows, modules and the mirrored kinds' lists).
    pub fn family(self) -> &'static str {
        let name = self.name();
        if name.contains("TrafficDistribution") {
            "traffic"
        } else if name.contains("PhoneNumber") {
            "numbers"
        } else if name.contains("Instance")
            || [
                "LambdaFunction",
                "Bot",
                "ApprovedOrigin",
                "IntegrationAssociation",
                "FlowAssociation",
            ]
            .iter()
            .any(|n| name.contains(n))
            || matches!(
                self,
                Operation::ListReplicationFindings
                    | Operation::GetCrossRegionRouting
                    | Operation::UpdateCrossRegionRouting
                    | Operation::ListLambdaFunctions
                    | Operation::ListBots
                    | Operation::ListLexBots
            )
        {
            "instances"
        } else {
            "resources"
        }
    }

    /// Whether `name` is an operation's name or a family.
    pub fn names_operations(name: &str) -> bool {
        FAMILIES.contains(&name) || Operation::all().any(|o| o.name() == name)
    }
}

/// The verbs of the operations that write.
const WRITE_VERBS: &[&str] = &[
    "Create",
    "Update",
    "Delete",
    "Associate",
    "Disassociate",
    "Replicate",
    "Claim",
    "Release",
    "Put",
    "Start",
    "Stop",
    "Tag",
    "Untag",
];

/// The families of [`Operation::family`].
pub const FAMILIES: &[&str] = &["instances", "traffic", "numbers", "resources"];

/// One admitted call, as a handler sees it.
pub struct Call<'a> {
    pub operation: Operation,
    pub region: &'a str,
    pub now: f64,
    pub input: &'a Input,
    /// The decoded path labels, in path order.
    pub labels: &'a [String],
}

impl Call<'_> {
    fn label(&self, i: usize) -> &str {
        self.labels.get(i).map(String::as_str).unwrap_or("")
    }
    fn bad(&self, message: impl Into<String>) -> ApiError {
        ApiError::new(self.input.invalid, message)
    }
}

/// Runs a call's operation.
pub fn dispatch(w: &mut World, c: &Call) -> ApiResult {
    (c.operation.spec().handler)(w, c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;

    #[test]
    fn the_table_is_in_variant_order_and_names_are_unique() {
        for (i, spec) in OPERATIONS.iter().enumerate() {
            assert_eq!(spec.operation as usize, i, "{}", spec.name);
            assert_eq!(spec.operation.spec().name, spec.name);
        }
        let mut names: Vec<&str> = OPERATIONS.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), OPERATIONS.len());
    }

    #[test]
    fn every_operation_reads_or_writes_and_has_a_family() {
        for op in Operation::all() {
            let reads = ["List", "Describe", "Get", "BatchGet"]
                .iter()
                .any(|v| op.name().starts_with(v));
            assert_ne!(reads, op.is_write(), "{}", op.name());
            assert!(FAMILIES.contains(&op.family()));
        }
        assert_eq!(Operation::UpdateTrafficDistribution.family(), "traffic");
        assert_eq!(Operation::ReplicateInstance.family(), "instances");
        assert_eq!(Operation::UpdatePhoneNumber.family(), "numbers");
        assert_eq!(Operation::CreateUser.family(), "resources");
        assert!(!Operation::GetTrafficDistribution.is_write());
    }

    #[test]
    fn no_two_operations_share_a_method_and_path() {
        for (i, a) in OPERATIONS.iter().enumerate() {
            for b in &OPERATIONS[i + 1..] {
                assert!(
                    !(a.path == b.path && a.method == b.method),
                    "{} and {}",
                    a.name,
                    b.name
                );
            }
        }
    }

    #[test]
    fn operations_are_found_by_method_and_route() {
        let cases = [
            (
                Method::POST,
                "/instance/{InstanceId}/replicate",
                "ReplicateInstance",
            ),
            (Method::GET, "/instance/{InstanceId}", "DescribeInstance"),
            (
                Method::PUT,
                "/traffic-distribution-group",
                "CreateTrafficDistributionGroup",
            ),
            (
                Method::DELETE,
                "/traffic-distribution-group/{TrafficDistributionGroupId}/user",
                "DisassociateTrafficDistributionGroupUser",
            ),
            (Method::POST, "/phone-number/list", "ListPhoneNumbersV2"),
            (Method::GET, "/users-summary/{InstanceId}", "ListUsers"),
        ];
        for (method, path, name) in cases {
            assert_eq!(
                Operation::routed(&method, path).map(Operation::name),
                Some(name),
                "{method} {path}"
            );
        }
        assert_eq!(
            Operation::routed(&Method::HEAD, "/instance/{InstanceId}"),
            None
        );
        assert_eq!(
            Operation::routed(&Method::DELETE, "/instance/{InstanceId}"),
            None
        );
    }

    #[test]
    fn every_kind_has_its_list_operation() {
        for kind in Kind::all() {
            assert_eq!(kind.list_operation().kind(), Some(kind));
        }
        assert_eq!(Operation::ListInstances.kind(), None);
    }

    #[test]
    fn quotas_follow_the_reference() {
        assert_eq!(Operation::ListUsers.spec().quota, TEN_PER_SECOND);
        assert_eq!(Operation::DescribeUser.spec().quota, TEN_PER_SECOND);
        assert_eq!(Operation::ListContactFlows.spec().quota, STANDARD);
        assert_eq!(Operation::ReplicateInstance.spec().quota, STANDARD);
    }

    #[test]
    fn tdg_arns_must_match_the_identifier_shape() {
        assert!(is_tdg_arn_shape(
            "arn:aws:connect:us-east-1:123456789012:traffic-distribution-group/0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
        ));
        assert!(!is_tdg_arn_shape(
            "arn:aws-cn:connect:cn-north-1:123456789012:traffic-distribution-group/0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
        ));
        assert!(!is_tdg_arn_shape(
            "arn:aws:connect:us-east-1:123456789012:traffic-distribution-group/ABC"
        ));
    }
}
