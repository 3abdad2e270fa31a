//! The replication machine's request.

use serde::{Deserialize, Serialize};

use crate::error::{shown, StepError};

/// The replication machine's execution input.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplicationRequest {
    pub instance_id: String,
    /// Defaults to this deployment's replica region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_alias: Option<String>,
    /// Seconds between two polls of the mirroring (the machine's Wait; default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_seconds: Option<u64>,
    /// Polls before the machine gives up (its Choice's bound; default 240).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_polls: Option<u64>,
    /// Re-run ReplicateInstance on the existing replica: the documented migration of an
    /// instance created before global routing, once AWS granted it to the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrate: Option<bool>,
    /// Defaults to the execution name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}

/// The bounds of the numbers only the machine itself reads (a Wait's seconds, a Choice's bound):
/// a bad one would fail a state that has no Catch, with the lock held and nothing recorded.
pub const POLL_SECONDS: std::ops::RangeInclusive<u64> = 1..=3600;
pub const MAX_POLLS: std::ops::RangeInclusive<u64> = 1..=100_000;

impl ReplicationRequest {
    /// `pollSeconds` and `maxPolls` within their bounds.
    pub fn check_numbers(&self) -> Result<(), StepError> {
        for (member, value, bounds) in [
            ("pollSeconds", self.poll_seconds, POLL_SECONDS),
            ("maxPolls", self.max_polls, MAX_POLLS),
        ] {
            if let Some(n) = value.filter(|n| !bounds.contains(n)) {
                return Err(StepError::InvalidInput(format!(
                    "{member}: must be a whole number from {} to {} (got {})",
                    bounds.start(),
                    bounds.end(),
                    shown(&n.to_string())
                )));
            }
        }
        Ok(())
    }
}
