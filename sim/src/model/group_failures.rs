//! Staged failures of traffic distribution groups: a creation or a deletion that fails, and a
//! group held `UPDATE_IN_PROGRESS`.

use super::staging::{GroupFailure, GroupFailureKind, GroupStaged};
use super::{Tdg, Version, World, ACTIVE};
use crate::error::SimError;
use crate::kinds::Kind;
use crate::wire::is_uuid;

impl World {
    /// Adds a new group, with the failures staged for its name.
    pub fn add_tdg(&mut self, mut tdg: Tdg) {
        self.arm_group(&mut tdg);
        self.tdgs.insert(tdg.id.clone(), tdg);
    }

    /// Gives a group being created the failures staged for its name (once each).
    fn arm_group(&mut self, tdg: &mut Tdg) {
        self.group_plans.retain(|p| {
            let matches =
                p.group == tdg.name && p.instance_id.as_ref().is_none_or(|i| *i == tdg.instance_id);
            if matches {
                match p.failure {
                    GroupFailureKind::CreationFailed => tdg.fail_creation = true,
                    GroupFailureKind::DeletionFailed => tdg.fail_deletion = true,
                    GroupFailureKind::UpdateInProgress => {}
                }
            }
            !matches
        });
    }

    /// The group named by `group` (its name, ID or ARN), of `instance_id` when given.
    fn find_group(
        &self,
        group: &str,
        instance_id: Option<&str>,
    ) -> Result<Option<String>, SimError> {
        let matching: Vec<String> = self
            .tdgs
            .values()
            .filter(|t| t.id == group || self.tdg_arn(t) == group || t.name == group)
            .filter(|t| instance_id.is_none_or(|i| i == t.instance_id))
            .map(|t| t.id.clone())
            .collect();
        match matching.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.clone())),
            _ => Err(SimError::BadRequest(format!(
                "several groups are named {group}; give instanceId"
            ))),
        }
    }

    /// Disassociates users from a group outside any API call (someone did it by hand): the
    /// call log shows nothing. Users by ID or username; answers the IDs that were associated.
    pub fn disassociate_outside(
        &mut self,
        group: &str,
        instance_id: Option<&str>,
        users: &[String],
    ) -> Result<Vec<String>, SimError> {
        let id = self.find_group(group, instance_id)?.ok_or_else(|| {
            SimError::BadRequest(format!("there is no traffic distribution group {group}"))
        })?;
        let t = &self.tdgs[&id];
        let source = self.instance(&t.home, &t.instance_id);
        let mut ids = Vec::new();
        for u in users {
            let set = source.and_then(|i| i.set(Kind::Users));
            let uid = set
                .and_then(|s| s.get(u).or_else(|| s.by_name(u)))
                .map(|r| r.id.clone())
                .or_else(|| t.users.contains(u).then(|| u.clone()))
                .ok_or_else(|| {
                    SimError::BadRequest(format!(
                        "there is no user {u} in instance {}",
                        t.instance_id
                    ))
                })?;
            ids.push(uid);
        }
        let mut removed = Vec::new();
        if let Some(t) = self.tdgs.get_mut(&id) {
            for uid in ids {
                if t.users.remove(&uid) {
                    removed.push(uid);
                }
            }
        }
        Ok(removed)
    }

    /// Stages a group failure at simulated time `now`.
    pub fn stage_group_failure(
        &mut self,
        f: GroupFailure,
        now: f64,
    ) -> Result<GroupStaged, SimError> {
        if let Some(s) = f.seconds {
            if f.failure != GroupFailureKind::UpdateInProgress {
                return Err(SimError::BadRequest(
                    "seconds goes with updateInProgress only".to_string(),
                ));
            }
            if !(s >= 0.0 && s.is_finite()) {
                return Err(SimError::BadRequest(
                    "seconds must be a number of seconds, 0 or more".to_string(),
                ));
            }
        }
        let id = match self.find_group(&f.group, f.instance_id.as_deref())? {
            Some(id) => id,
            None => {
                let by_id = f.group.starts_with("arn:") || is_uuid(&f.group);
                if f.failure == GroupFailureKind::UpdateInProgress || by_id {
                    return Err(SimError::BadRequest(format!(
                        "there is no traffic distribution group {}",
                        f.group
                    )));
                }
                self.group_plans.push(f);
                return Ok(GroupStaged {
                    armed: true,
                    id: None,
                    status: None,
                    at: None,
                });
            }
        };
        let update_seconds = self.settings.tdg_update_seconds;
        let lag = self.settings.cross_region_lag_seconds;
        let seq = self.next_seq();
        let Some(t) = self.tdgs.get_mut(&id) else {
            return Err(SimError::BadRequest(format!(
                "there is no traffic distribution group {}",
                f.group
            )));
        };
        let at = match f.failure {
            GroupFailureKind::CreationFailed => {
                if t.lifecycle != "CREATION_IN_PROGRESS" {
                    return Err(SimError::BadRequest(format!(
                        "group {} is {}: its creation is over",
                        t.name, t.lifecycle
                    )));
                }
                t.fail_creation = true;
                Some(t.until)
            }
            GroupFailureKind::DeletionFailed => {
                t.fail_deletion = true;
                (t.lifecycle == "PENDING_DELETION").then_some(t.until)
            }
            GroupFailureKind::UpdateInProgress => {
                if t.lifecycle != ACTIVE {
                    return Err(SimError::BadRequest(format!(
                        "group {} is {}; only an ACTIVE group can be updating",
                        t.name, t.lifecycle
                    )));
                }
                // As if another client had just updated it at home without a change: the other
                // region sees the window a lag later.
                let applied_at = now + f.seconds.unwrap_or(update_seconds);
                t.push_version(Version {
                    distribution: None,
                    last_failover: None,
                    region: t.home.clone(),
                    called_at: now,
                    applied_at,
                    lag,
                    seq,
                });
                Some(applied_at)
            }
        };
        let status = t.home_view(now).status.to_string();
        Ok(GroupStaged {
            armed: false,
            id: Some(t.id.clone()),
            status: Some(status),
            at,
        })
    }
}
