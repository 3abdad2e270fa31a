//! The resource kinds that Global Resiliency mirrors, and how each one looks on the wire.

use serde::{Deserialize, Serialize};

use crate::ops::Operation;

/// A mirrored kind. Declaration order is mirroring order: dependencies first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    HoursOfOperations,
    AgentStatuses,
    PredefinedAttributes,
    SecurityProfiles,
    Prompts,
    UserHierarchyGroups,
    ContactFlowModules,
    ContactFlows,
    Queues,
    QuickConnects,
    RoutingProfiles,
    Users,
    TestCases,
}

/// How a kind is listed, named and identified.
pub struct KindSpec {
    pub kind: Kind,
    /// The operation that lists this kind.
    pub list: Operation,
    /// The member of the List response holding the summaries.
    pub list_key: &'static str,
    /// The member that carries the resource's name in summaries.
    pub name_key: &'static str,
    /// The resource segment of its ARN; `None` for kinds without ID or ARN.
    pub arn_segment: Option<&'static str>,
    /// `ResourceType` in ListReplicationFindings.
    pub finding_type: &'static str,
    pub has_last_modified: bool,
    /// Extra attributes copied into summaries.
    pub summary_keys: &'static [&'static str],
    /// A type/state filter: (query key, attribute, allowed values).
    pub filter: Option<(&'static str, &'static str, &'static [&'static str])>,
    pub max_page: usize,
}

const FLOW_TYPES: &[&str] = &[
    "CONTACT_FLOW",
    "CUSTOMER_QUEUE",
    "CUSTOMER_HOLD",
    "CUSTOMER_WHISPER",
    "AGENT_HOLD",
    "AGENT_WHISPER",
    "OUTBOUND_WHISPER",
    "AGENT_TRANSFER",
    "QUEUE_TRANSFER",
    "CAMPAIGN",
];

pub const SPECS: &[KindSpec] = &[
    KindSpec {
        kind: Kind::HoursOfOperations,
        list: Operation::ListHoursOfOperations,
        list_key: "HoursOfOperationSummaryList",
        name_key: "Name",
        arn_segment: Some("operating-hours"),
        finding_type: "OPERATING_HOURS",
        has_last_modified: true,
        summary_keys: &[],
        filter: None,
        max_page: 1000,
    },
    KindSpec {
        kind: Kind::AgentStatuses,
        list: Operation::ListAgentStatuses,
        list_key: "AgentStatusSummaryList",
        name_key: "Name",
        arn_segment: Some("agent-state"),
        finding_type: "AGENT_STATE",
        has_last_modified: true,
        summary_keys: &["Type"],
        filter: Some((
            "AgentStatusTypes",
            "Type",
            &["ROUTABLE", "CUSTOM", "OFFLINE"],
        )),
        max_page: 1000,
    },
    KindSpec {
        kind: Kind::PredefinedAttributes,
        list: Operation::ListPredefinedAttributes,
        list_key: "PredefinedAttributeSummaryList",
        name_key: "Name",
        arn_segment: None,
        finding_type: "ATTRIBUTE",
        has_last_modified: true,
        summary_keys: &[],
        filter: None,
        max_page: 100,
    },
    KindSpec {
        kind: Kind::SecurityProfiles,
        list: Operation::ListSecurityProfiles,
        list_key: "SecurityProfileSummaryList",
        name_key: "Name",
        arn_segment: Some("security-profile"),
        finding_type: "SECURITY_PROFILE",
        has_last_modified: true,
        summary_keys: &[],
        filter: None,
        max_page: 1000,
    },
    KindSpec {
        kind: Kind::Prompts,
        list: Operation::ListPrompts,
        list_key: "PromptSummaryList",
        name_key: "Name",
        arn_segment: Some("prompt"),
        finding_type: "PROMPT",
        has_last_modified: true,
        summary_keys: &[],
        filter: None,
        max_page: 1000,
    },
    KindSpec {
        kind: Kind::UserHierarchyGroups,
        list: Operation::ListUserHierarchyGroups,
        list_key: "UserHierarchyGroupSummaryList",
        name_key: "Name",
        arn_segment: Some("agent-group"),
        finding_type: "AGENT_GROUP",
        has_last_modified: true,
        summary_keys: &[],
        filter: None,
        max_page: 1000,
    },
    KindSpec {
        kind: Kind::ContactFlowModules,
        list: Operation::ListContactFlowModules,
        list_key: "ContactFlowModulesSummaryList",
        name_key: "Name",
        arn_segment: Some("flow-module"),
        finding_type: "FLOW_MODULE",
        has_last_modified: false,
        summary_keys: &["State"],
        filter: Some(("state", "State", &["ACTIVE", "ARCHIVED"])),
        max_page: 1000,
    },
    KindSpec {
        kind: Kind::ContactFlows,
        list: Operation::ListContactFlows,
        list_key: "ContactFlowSummaryList",
        name_key: "Name",
        arn_segment: Some("contact-flow"),
        finding_type: "CONTACT_FLOW",
        has_last_modified: false,
        summary_keys: &["ContactFlowType", "ContactFlowState", "ContactFlowStatus"],
        filter: Some(("contactFlowTypes", "ContactFlowType", FLOW_TYPES)),
        max_page: 1000,
    },
    KindSpec {
        kind: Kind::Queues,
        list: Operation::ListQueues,
        list_key: "QueueSummaryList",
        name_key: "Name",
        arn_segment: Some("queue"),
        finding_type: "QUEUE",
        has_last_modified: true,
        summary_keys: &["QueueType"],
        filter: Some(("queueTypes", "QueueType", &["STANDARD", "AGENT"])),
        max_page: 1000,
    },
    KindSpec {
        kind: Kind::QuickConnects,
        list: Operation::ListQuickConnects,
        list_key: "QuickConnectSummaryList",
        name_key: "Name",
        arn_segment: Some("transfer-destination"),
        finding_type: "TRANSFER_DESTINATION",
        has_last_modified: true,
        summary_keys: &["QuickConnectType"],
        filter: Some((
            "QuickConnectTypes",
            "QuickConnectType",
            &["USER", "QUEUE", "PHONE_NUMBER", "FLOW"],
        )),
        max_page: 1000,
    },
    KindSpec {
        kind: Kind::RoutingProfiles,
        list: Operation::ListRoutingProfiles,
        list_key: "RoutingProfileSummaryList",
        name_key: "Name",
        arn_segment: Some("routing-profile"),
        finding_type: "ROUTING_PROFILE",
        has_last_modified: true,
        summary_keys: &[],
        filter: None,
        max_page: 1000,
    },
    KindSpec {
        kind: Kind::Users,
        list: Operation::ListUsers,
        list_key: "UserSummaryList",
        name_key: "Username",
        arn_segment: Some("agent"),
        finding_type: "AGENT",
        has_last_modified: true,
        summary_keys: &[],
        filter: None,
        max_page: 1000,
    },
    KindSpec {
        kind: Kind::TestCases,
        list: Operation::ListTestCases,
        list_key: "TestCaseSummaryList",
        name_key: "Name",
        arn_segment: Some("test-case"),
        finding_type: "TEST_CASE",
        has_last_modified: true,
        summary_keys: &["Status"],
        filter: None,
        max_page: 1000,
    },
];

/// The resource types ListReplicationFindings accepts: exactly those the botocore model
/// documents for `ResourceType` ("Additional resource types can be supported over time": the
/// `extraFindingTypes` setting plays those). The mirrored kinds' types are among them; the
/// others have no modelled resources, only staged findings (`POST /_sim/findings`).
pub const FINDING_TYPES: &[&str] = &[
    "AGENT",
    "AGENT_GROUP",
    "AGENT_GROUP_LEVEL",
    "AGENT_STATE",
    "ATTRIBUTE",
    "CONTACT_FLOW",
    "DATA_TABLE",
    "DATA_TABLE_ATTRIBUTE",
    "DATA_TABLE_RECORD",
    "DATA_TABLE_VALUE",
    "FLOW_MODULE",
    "FLOW_MODULE_ALIAS",
    "FLOW_MODULE_VERSION",
    "METRIC",
    "NOTIFICATION",
    "OPERATING_HOURS",
    "PHONE_NUMBER",
    "PROMPT",
    "QUEUE",
    "REPORT",
    "ROUTING_PROFILE",
    "SECURITY_PROFILE",
    "TASK_TEMPLATE",
    "TEST_CASE",
    "TRANSFER_DESTINATION",
    "VIEW",
    "WORKSPACE",
];

/// The resource segment of a finding's ARN (`instance/{id}/{segment}/{resourceId}`) for a
/// resource type: the type in lower case with hyphens. That is each mirrored kind's own
/// segment (`OPERATING_HOURS` is `operating-hours`, `AGENT_STATE` `agent-state`), and our
/// choice for the types whose ARNs AWS does not document here.
pub fn finding_arn_segment(resource_type: &str) -> String {
    resource_type
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

impl Kind {
    pub fn spec(self) -> &'static KindSpec {
        SPECS.iter().find(|s| s.kind == self).unwrap_or(&SPECS[0])
    }

    pub fn all() -> impl Iterator<Item = Kind> {
        SPECS.iter().map(|s| s.kind)
    }

    pub fn list_operation(self) -> Operation {
        self.spec().list
    }

    pub fn by_finding_type(t: &str) -> Option<Kind> {
        SPECS.iter().find(|s| s.finding_type == t).map(|s| s.kind)
    }

    /// Kinds without an ID are matched across regions by name alone.
    pub fn has_id(self) -> bool {
        self.spec().arn_segment.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_exactly_one_spec_in_dependency_order() {
        let kinds: Vec<Kind> = Kind::all().collect();
        let mut sorted = kinds.clone();
        sorted.sort();
        assert_eq!(kinds, sorted);
        assert_eq!(kinds.len(), 13);
        for k in kinds {
            assert_eq!(k.spec().kind, k);
        }
    }

    #[test]
    fn every_kind_has_a_documented_finding_type_and_its_segment() {
        for spec in SPECS {
            assert!(
                FINDING_TYPES.contains(&spec.finding_type),
                "{:?}",
                spec.kind
            );
            assert_eq!(
                finding_arn_segment(spec.finding_type),
                spec.arn_segment.unwrap_or("attribute"),
                "{:?}",
                spec.kind
            );
        }
        assert_eq!(FINDING_TYPES.len(), 27);
        assert_eq!(
            finding_arn_segment("FLOW_MODULE_ALIAS"),
            "flow-module-alias"
        );
    }

    #[test]
    fn users_come_after_routing_profiles_and_queues() {
        assert!(Kind::Queues < Kind::Users);
        assert!(Kind::RoutingProfiles < Kind::Users);
    }
}
