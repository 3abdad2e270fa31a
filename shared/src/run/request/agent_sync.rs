//! The agent-sync machine's request.

use serde::{Deserialize, Serialize};

/// The agent-sync machine's execution input.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentSyncRequest {
    pub instance_id: String,
    /// Check every group's members against the record before the sweep (default: when due).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_members: Option<bool>,
    /// Defaults to the execution name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}

impl AgentSyncRequest {
    pub fn new(instance_id: &str) -> AgentSyncRequest {
        AgentSyncRequest {
            instance_id: instance_id.to_string(),
            ..Default::default()
        }
    }
}
