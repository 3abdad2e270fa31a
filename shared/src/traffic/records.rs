//! What traffic shifts leave on record: each shift, each group (with its steady state), and
//! the failover episodes (the failback point while one is open).

use serde::{Deserialize, Serialize};

use crate::domain::{CurrentDistribution, RoutingState};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ShiftStatus {
    /// Written before UpdateTrafficDistribution is called.
    Intent,
    /// The new distribution was read back.
    Done,
    Failed,
    /// An intent of an earlier run that the live distribution never read back: found and
    /// closed by a later shift of the same group (the update was not applied, or was overtaken).
    Abandoned,
    /// A status written by a newer version of the tool: neither applied nor pending for this one.
    #[serde(other)]
    Unknown,
}

/// One traffic shift: the distribution before it and the one asked for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShiftRecord {
    pub instance_id: String,
    pub run_id: String,
    pub group_arn: String,
    pub status: ShiftStatus,
    /// `failover`, `failback` or `plan`.
    pub reason: String,
    pub before: CurrentDistribution,
    pub after: crate::domain::TrafficPlan,
    pub called_in: String,
    pub at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<i64>,
    /// `completed_at` in epoch milliseconds: a request made in the same second is told apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at_ms: Option<i64>,
    /// Set when a later shift, not this run, found the intent and settled it from the live
    /// distribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconciled_by: Option<String>,
    /// Connect's LastFailoverTime (epoch ms) read under the lock with `before`: the update is
    /// made only if the group still reads it, and a retry re-applies only over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fence: Option<i64>,
    /// LastFailoverTime once this shift's split was read back: what the other region must show
    /// to confirm it, and what tells this update from a later one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_fence: Option<i64>,
}

/// What the table knows of one traffic distribution group, recorded routinely by every
/// replication and agent-sync run (the steps that end them), long before any incident: the
/// group's ARN (how the replica region reaches it), its steady-state distribution (the failback
/// point when no failover episode is open) and how many agents are associated with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRecord {
    pub instance_id: String,
    pub group_arn: String,
    pub group_id: String,
    pub name: String,
    pub is_default: bool,
    /// The distribution read back while no episode was open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steady: Option<CurrentDistribution>,
    pub steady_at: i64,
    pub recorded_by: String,
    /// Users associated with the group, and users of the source instance, as of `agents_at`.
    pub agents_associated: u64,
    pub agents_total: u64,
    pub agents_at: i64,
    /// When the last complete check of the group's members started ([`crate::agents::members`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members_checked_at: Option<i64>,
    /// When a routine run first found the group missing from its home region's listing
    /// (deleted): kept on record, never moved again, shown as missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gone_at: Option<i64>,
    /// The live split the last routine run read and could not explain from the record (a change
    /// outside the tool, or a shift whose record had not replicated yet): not taken as the
    /// steady state. Cleared once the record explains the live split again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unexplained: Option<CurrentDistribution>,
}

impl GroupRecord {
    /// A group first seen: nothing on record yet (no steady state, no agents counted).
    pub fn new(instance_id: &str, group_arn: &str, name: &str, is_default: bool) -> GroupRecord {
        GroupRecord {
            instance_id: instance_id.to_string(),
            group_arn: group_arn.to_string(),
            group_id: crate::domain::Arn::parse(group_arn)
                .map(|a| a.resource_id().to_string())
                .unwrap_or_default(),
            name: name.to_string(),
            is_default,
            steady: None,
            steady_at: 0,
            recorded_by: String::new(),
            agents_associated: 0,
            agents_total: 0,
            agents_at: 0,
            members_checked_at: None,
            gone_at: None,
            unexplained: None,
        }
    }
}

/// A failover episode of one group: opened once the first shift away from the steady state is
/// accepted by Connect, and closed by the failback. It keeps the split from before that first
/// shift, so repeated failovers never move the failback point. A closed episode stays as a
/// tombstone (`closedAt`, `closedBy`): a failback that ran before the episode replicated to its
/// region writes the tombstone anyway, and the late open episode, older, loses to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Episode {
    pub instance_id: String,
    pub group_arn: String,
    pub opened_by: String,
    pub opened_at: i64,
    /// What failback restores.
    pub before: CurrentDistribution,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
}

impl Episode {
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}

/// The cross-region routing half of a failover episode, one per instance: what routing was
/// before the failover (read in the region taking the traffic), and what the failover did to
/// it. Opened before UpdateCrossRegionRouting is called (or when the failover decided to leave
/// routing as it was), kept by repeated failovers, restored and closed by the failback; a
/// closed one stays as a tombstone, as group episodes do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingEpisode {
    pub instance_id: String,
    pub opened_by: String,
    pub opened_at: i64,
    /// What failback restores.
    pub before: RoutingState,
    /// Whether the failover asked Connect to isolate every region.
    pub isolated: bool,
    /// Why it did or did not (the request's `isolate`, and what the region left answered).
    pub decision: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
}

impl RoutingEpisode {
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}
