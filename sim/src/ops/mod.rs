//! The Connect operations: routing from method and path, and one handler per operation, grouped
//! by API family in the submodules.

mod groups;
mod instances;
mod numbers;
mod replication;
mod resources;

use serde_json::{json, Map, Value};

use self::{groups::*, instances::*, numbers::*, replication::*, resources::*};

use crate::kinds::{Kind, OTHER_FINDING_TYPES};
use crate::model::{
    default_attrs, Distribution, Instance, PhoneNumber, Replication, Resource, Task, TaskClass,
    TaskOp, Tdg, World,
};
use crate::wire::{is_alias, is_region, is_uuid, paginate, split_arn, ApiError, ApiResult, Input};

/// Which operation a request is, and its decoded path labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub operation: &'static str,
    pub labels: Vec<String>,
    pub kind: Option<Kind>,
}

/// Maps a method and decoded path segments to an operation.
pub fn route(method: &str, segs: &[String]) -> Option<Route> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let r = |operation: &'static str, labels: &[&str]| {
        Some(Route {
            operation,
            labels: labels.iter().map(|l| l.to_string()).collect(),
            kind: None,
        })
    };
    match (method, s.as_slice()) {
        ("POST", ["instance", id, "replicate"]) => r("ReplicateInstance", &[id]),
        ("GET", ["instance"]) => r("ListInstances", &[]),
        ("GET", ["instance", id]) => r("DescribeInstance", &[id]),
        ("GET", ["instance", id, "attributes"]) => r("ListInstanceAttributes", &[id]),
        ("GET", ["instance", id, "attribute", t]) => r("DescribeInstanceAttribute", &[id, t]),
        ("GET", ["instance", id, "lambda-functions"]) => r("ListLambdaFunctions", &[id]),
        ("GET", ["instance", id, "bots"]) => r("ListBots", &[id]),
        ("GET", ["instance", id, "lex-bots"]) => r("ListLexBots", &[id]),
        ("PUT", ["traffic-distribution-group"]) => r("CreateTrafficDistributionGroup", &[]),
        ("GET", ["traffic-distribution-groups"]) => r("ListTrafficDistributionGroups", &[]),
        ("GET", ["traffic-distribution-group", id]) => r("DescribeTrafficDistributionGroup", &[id]),
        ("DELETE", ["traffic-distribution-group", id]) => {
            r("DeleteTrafficDistributionGroup", &[id])
        }
        ("PUT", ["traffic-distribution-group", id, "user"]) => {
            r("AssociateTrafficDistributionGroupUser", &[id])
        }
        ("DELETE", ["traffic-distribution-group", id, "user"]) => {
            r("DisassociateTrafficDistributionGroupUser", &[id])
        }
        ("GET", ["traffic-distribution-group", id, "user"]) => {
            r("ListTrafficDistributionGroupUsers", &[id])
        }
        ("GET", ["traffic-distribution", id]) => r("GetTrafficDistribution", &[id]),
        ("PUT", ["traffic-distribution", id]) => r("UpdateTrafficDistribution", &[id]),
        ("POST", ["phone-number", "list"]) => r("ListPhoneNumbersV2", &[]),
        ("GET", ["phone-number", id]) => r("DescribePhoneNumber", &[id]),
        ("PUT", ["phone-number", id]) => r("UpdatePhoneNumber", &[id]),
        ("GET", ["users", iid, uid]) => r("DescribeUser", &[iid, uid]),
        ("PUT", ["users", iid]) => r("CreateUser", &[iid]),
        ("DELETE", ["users", iid, uid]) => r("DeleteUser", &[iid, uid]),
        ("PUT", ["queues", iid]) => r("CreateQueue", &[iid]),
        ("DELETE", ["queues", iid, qid]) => r("DeleteQueue", &[iid, qid]),
        ("GET", ["contact-flows", iid, fid]) => r("DescribeContactFlow", &[iid, fid]),
        ("GET", ["contact-flow-modules", iid, mid]) => r("DescribeContactFlowModule", &[iid, mid]),
        ("GET", ["replication-findings", iid]) => r("ListReplicationFindings", &[iid]),
        ("GET", [path, iid]) => Kind::by_path(path).map(|k| Route {
            operation: k.spec().operation,
            labels: vec![iid.to_string()],
            kind: Some(k),
        }),
        _ => None,
    }
}

/// The error an operation models for bad parameters.
pub fn invalid_code(operation: &str) -> &'static str {
    match operation {
        "ReplicateInstance"
        | "DescribeInstance"
        | "ListInstances"
        | "CreateTrafficDistributionGroup"
        | "DescribeTrafficDistributionGroup"
        | "ListTrafficDistributionGroups"
        | "DeleteTrafficDistributionGroup"
        | "GetTrafficDistribution"
        | "UpdateTrafficDistribution"
        | "AssociateTrafficDistributionGroupUser"
        | "DisassociateTrafficDistributionGroupUser"
        | "ListTrafficDistributionGroupUsers"
        | "ListReplicationFindings"
        | "ListBots" => "InvalidRequestException",
        _ => "InvalidParameterException",
    }
}

/// One call, as a handler sees it.
pub struct Call<'a> {
    pub region: &'a str,
    pub now: f64,
    pub input: &'a Input,
    pub route: &'a Route,
}

impl Call<'_> {
    fn label(&self, i: usize) -> &str {
        self.route.labels.get(i).map(String::as_str).unwrap_or("")
    }
    fn bad(&self, message: impl Into<String>) -> ApiError {
        ApiError::new(self.input.invalid, message)
    }
}

pub fn dispatch(w: &mut World, c: &Call) -> ApiResult {
    if let Some(kind) = c.route.kind {
        return list_kind(w, c, kind);
    }
    match c.route.operation {
        "ReplicateInstance" => replicate_instance(w, c),
        "DescribeInstance" => describe_instance(w, c),
        "ListInstances" => list_instances(w, c),
        "ListInstanceAttributes" => list_instance_attributes(w, c),
        "DescribeInstanceAttribute" => describe_instance_attribute(w, c),
        "ListLambdaFunctions" => list_lambda_functions(w, c),
        "ListBots" => list_bots(w, c),
        "ListLexBots" => list_lex_bots(w, c),
        "CreateTrafficDistributionGroup" => create_tdg(w, c),
        "ListTrafficDistributionGroups" => list_tdgs(w, c),
        "DescribeTrafficDistributionGroup" => describe_tdg(w, c),
        "DeleteTrafficDistributionGroup" => delete_tdg(w, c),
        "AssociateTrafficDistributionGroupUser" => associate_user(w, c),
        "DisassociateTrafficDistributionGroupUser" => disassociate_user(w, c),
        "ListTrafficDistributionGroupUsers" => list_tdg_users(w, c),
        "GetTrafficDistribution" => get_traffic_distribution(w, c),
        "UpdateTrafficDistribution" => update_traffic_distribution(w, c),
        "ListPhoneNumbersV2" => list_phone_numbers(w, c),
        "DescribePhoneNumber" => describe_phone_number(w, c),
        "UpdatePhoneNumber" => update_phone_number(w, c),
        "DescribeUser" => describe_user(w, c),
        "CreateUser" => create_user(w, c),
        "DeleteUser" => delete_user(w, c),
        "CreateQueue" => create_queue(w, c),
        "DeleteQueue" => delete_queue(w, c),
        "DescribeContactFlow" => describe_contact_flow(w, c),
        "DescribeContactFlowModule" => describe_contact_flow_module(w, c),
        "ListReplicationFindings" => list_replication_findings(w, c),
        other => Err(ApiError::new(
            "UnknownOperationException",
            format!("{other} is not implemented"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(path: &str) -> Vec<String> {
        path.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn routes_follow_the_model_paths() {
        let cases = [
            ("POST", "/instance/abc/replicate", "ReplicateInstance"),
            ("GET", "/instance/abc", "DescribeInstance"),
            (
                "PUT",
                "/traffic-distribution-group",
                "CreateTrafficDistributionGroup",
            ),
            (
                "GET",
                "/traffic-distribution-groups",
                "ListTrafficDistributionGroups",
            ),
            (
                "PUT",
                "/traffic-distribution/x",
                "UpdateTrafficDistribution",
            ),
            (
                "DELETE",
                "/traffic-distribution-group/x/user",
                "DisassociateTrafficDistributionGroupUser",
            ),
            ("POST", "/phone-number/list", "ListPhoneNumbersV2"),
            ("GET", "/users-summary/abc", "ListUsers"),
            ("GET", "/agent-status/abc", "ListAgentStatuses"),
            (
                "GET",
                "/contact-flow-modules/abc/m-1",
                "DescribeContactFlowModule",
            ),
            (
                "GET",
                "/replication-findings/abc",
                "ListReplicationFindings",
            ),
        ];
        for (method, path, op) in cases {
            assert_eq!(
                route(method, &segs(path)).map(|r| r.operation),
                Some(op),
                "{method} {path}"
            );
        }
        assert!(route("GET", &segs("/nope/abc")).is_none());
        assert!(route("DELETE", &segs("/instance/abc")).is_none());
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
