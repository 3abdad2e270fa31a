//! The configuration kinds Global Resiliency mirrors, and the default resources every
//! instance has.

use serde::{Deserialize, Serialize};

/// A configuration kind that Global Resiliency mirrors.
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
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::HoursOfOperations,
        Kind::AgentStatuses,
        Kind::PredefinedAttributes,
        Kind::SecurityProfiles,
        Kind::Prompts,
        Kind::UserHierarchyGroups,
        Kind::ContactFlowModules,
        Kind::ContactFlows,
        Kind::Queues,
        Kind::QuickConnects,
        Kind::RoutingProfiles,
        Kind::Users,
    ];

    /// `ResourceType` in ListReplicationFindings.
    pub fn finding_type(self) -> &'static str {
        match self {
            Kind::HoursOfOperations => "OPERATING_HOURS",
            Kind::AgentStatuses => "AGENT_STATE",
            Kind::PredefinedAttributes => "ATTRIBUTE",
            Kind::SecurityProfiles => "SECURITY_PROFILE",
            Kind::Prompts => "PROMPT",
            Kind::UserHierarchyGroups => "AGENT_GROUP",
            Kind::ContactFlowModules => "FLOW_MODULE",
            Kind::ContactFlows => "CONTACT_FLOW",
            Kind::Queues => "QUEUE",
            Kind::QuickConnects => "TRANSFER_DESTINATION",
            Kind::RoutingProfiles => "ROUTING_PROFILE",
            Kind::Users => "AGENT",
        }
    }

    /// The kind whose findings are of `resource_type`; `None` for the types this tool does not
    /// list (they are polled as [`crate::mirroring::finding_types`] data).
    pub fn by_finding_type(resource_type: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.finding_type() == resource_type)
    }

    /// The camelCase name used in payloads and the run store.
    pub fn key(self) -> &'static str {
        match self {
            Kind::HoursOfOperations => "hoursOfOperations",
            Kind::AgentStatuses => "agentStatuses",
            Kind::PredefinedAttributes => "predefinedAttributes",
            Kind::SecurityProfiles => "securityProfiles",
            Kind::Prompts => "prompts",
            Kind::UserHierarchyGroups => "userHierarchyGroups",
            Kind::ContactFlowModules => "contactFlowModules",
            Kind::ContactFlows => "contactFlows",
            Kind::Queues => "queues",
            Kind::QuickConnects => "quickConnects",
            Kind::RoutingProfiles => "routingProfiles",
            Kind::Users => "users",
        }
    }
}

/// Names of the resources Connect creates with every instance; agents can use emergency access
/// to the replica only once these two are mirrored.
pub const DEFAULT_QUEUE: &str = "BasicQueue";
pub const DEFAULT_ROUTING_PROFILE: &str = "Basic Routing Profile";
