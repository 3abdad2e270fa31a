//! What agent sync leaves on record: the users known to be associated with a group, and where
//! an association run stands.

use serde::{Deserialize, Serialize};

/// A user known to be associated with a group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Association {
    pub instance_id: String,
    pub group_arn: String,
    pub user_id: String,
    pub username: String,
    /// The run that associated the user, or last found it among the group's members.
    pub run_id: String,
    /// When: a record older than the group's last complete members check is not trusted
    /// ([`crate::agents::members`]).
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserFailure {
    pub user_id: String,
    pub error: String,
}

/// Where an association run stands: resumable from `cursor`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AssociationProgress {
    pub instance_id: String,
    pub run_id: String,
    pub group_arn: String,
    pub cursor: Option<String>,
    pub associated: u64,
    pub already_associated: u64,
    pub waiting_for_replica: u64,
    pub failed: Vec<UserFailure>,
    pub done: bool,
    pub updated_at: i64,
    /// Users of the page at `cursor` already counted, when an invocation stopped inside it:
    /// the resumed page skips them, so nobody is counted (or associated) twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub page_done: Vec<String>,
    /// Of `associated`, users recorded as associated that a members check did not find.
    #[serde(default)]
    pub reassociated: u64,
    /// This run's check of the group's members, made before the sweep when due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members_check: Option<MembersCheck>,
}

/// One check of a group's members, kept on the association run's progress.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MembersCheck {
    pub started_at: i64,
    /// The next page's token; `None` before the first page and once done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// ListTrafficDistributionGroupUsers calls made.
    pub pages: u64,
    /// Users listed as members.
    pub members: u64,
    /// Records found among the members.
    pub confirmed: u64,
    /// Records not among the members once the listing is complete: associated again when in
    /// both regions.
    pub stale: u64,
    pub done: bool,
    /// What the listing costs at the quota: `pages` / 2 seconds.
    pub seconds_at_quota: u64,
}

impl MembersCheck {
    pub fn new(now: i64) -> MembersCheck {
        MembersCheck {
            started_at: now,
            ..Default::default()
        }
    }
}
