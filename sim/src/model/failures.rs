//! Staged replica failures: a replica that is never created, a replication that stops, a replica
//! deleted (or not); when each falls due, and what it leaves behind.

use super::staging::{ReplicaFailure, ReplicaStaged};
use super::{arn, Phase, TaskClass, World};

use crate::error::SimError;

impl World {
    /// Stages a failure of instance `id`'s replica at simulated time `now`: armed for the next
    /// ReplicateInstance when the instance is not replicated, else applied to its replication.
    pub fn stage_replica_failure(
        &mut self,
        id: &str,
        failure: ReplicaFailure,
        now: f64,
    ) -> Result<ReplicaStaged, SimError> {
        failure.validate()?;
        let staged = |armed, at| ReplicaStaged {
            instance_id: id.to_string(),
            failure: failure.clone(),
            armed,
            at,
        };
        let Some(rep) = self.replications.get(id) else {
            if !self
                .instances
                .values()
                .any(|i| i.id == id && i.replica_of.is_none())
            {
                return Err(SimError::BadRequest(format!("there is no instance {id}")));
            }
            self.replica_plans.insert(id.to_string(), failure.clone());
            return Ok(staged(true, None));
        };
        let replica_status = self
            .instance(&rep.replica, id)
            .map(|i| i.status.clone())
            .unwrap_or_default();
        let creating = replica_status == "CREATION_IN_PROGRESS";
        let later = |after: f64| (!creating).then_some(now + after);
        let plan_at = match (&failure, &rep.phase) {
            (_, Phase::Deleting { .. }) => {
                return Err(SimError::BadRequest(format!(
                    "the replica of {id} is being deleted"
                )));
            }
            (ReplicaFailure::CreationFailed { .. }, Phase::Running) if creating => None,
            (ReplicaFailure::CreationFailed { .. }, _) => {
                return Err(SimError::BadRequest(format!(
                    "the replica of {id} in {} is {replica_status}: its creation is over",
                    rep.replica
                )));
            }
            (ReplicaFailure::ReplicationFailed { region, .. }, _)
                if region
                    .as_ref()
                    .is_some_and(|r| *r != rep.source && *r != rep.replica) =>
            {
                return Err(SimError::BadRequest(format!(
                    "instance {id} is replicated between {} and {}, not {}",
                    rep.source,
                    rep.replica,
                    region.as_deref().unwrap_or_default()
                )));
            }
            (ReplicaFailure::ReplicationFailed { after_seconds, .. }, Phase::Running) => {
                later(*after_seconds)
            }
            (ReplicaFailure::ReplicationFailed { .. }, phase) => {
                return Err(SimError::BadRequest(format!(
                    "the replication of {id} is {}: it can no longer fail",
                    phase.name()
                )));
            }
            (ReplicaFailure::Deletion { after_seconds, .. }, _) => later(*after_seconds),
        };
        let at = match failure {
            ReplicaFailure::CreationFailed { .. } => Some(rep.replica_ready_at),
            _ => plan_at,
        };
        if let Some(rep) = self.replications.get_mut(id) {
            rep.plan = Some(failure.clone());
            rep.plan_at = plan_at;
        }
        Ok(staged(false, at))
    }

    /// The replica of `id` reaches the end of its creation at `ready_at`: a staged creation
    /// failure happens now (true: the replica is CREATION_FAILED), other staged failures are
    /// scheduled from now.
    pub(super) fn replica_comes_up(&mut self, id: &str, ready_at: f64) -> bool {
        let Some(rep) = self.replications.get_mut(id) else {
            return false;
        };
        match rep.plan.clone() {
            Some(ReplicaFailure::CreationFailed { reason }) => {
                rep.plan = None;
                rep.plan_at = None;
                rep.phase = Phase::CreationFailed {
                    reason: reason.unwrap_or_else(|| {
                        format!(
                            "the replica instance in {} could not be created",
                            rep.replica
                        )
                    }),
                };
                self.drop_work(id, None, false);
                for t in self.tdgs.values_mut() {
                    if t.instance_id == id && t.lifecycle == "CREATION_IN_PROGRESS" {
                        t.lifecycle = "CREATION_FAILED".into();
                    }
                }
                true
            }
            Some(
                ReplicaFailure::ReplicationFailed { after_seconds, .. }
                | ReplicaFailure::Deletion { after_seconds, .. },
            ) => {
                rep.plan_at.get_or_insert(ready_at + after_seconds);
                false
            }
            None => false,
        }
    }

    /// The earliest replica event due by `now`: a staged failure, or the end of a deletion.
    pub(super) fn next_replica_event(&self, now: f64) -> Option<(f64, String)> {
        self.replications
            .values()
            .filter_map(|r| {
                let due = match &r.phase {
                    Phase::Deleting { until, .. } => Some(*until),
                    _ => r.plan_at,
                };
                due.filter(|t| *t <= now)
                    .map(|t| (t, r.instance_id.clone()))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
    }

    /// Applies the replica event of `id` due at `at`.
    pub(super) fn replica_event(&mut self, at: f64, id: &str) {
        let Some(rep) = self.replications.get_mut(id) else {
            return;
        };
        if let Phase::Deleting { fails, reason, .. } = rep.phase.clone() {
            if fails {
                rep.phase = Phase::DeletionFailed {
                    reason: reason.unwrap_or_else(|| {
                        format!(
                            "the replica instance in {} could not be deleted",
                            rep.replica
                        )
                    }),
                };
            } else {
                self.remove_replica(id);
            }
            return;
        }
        rep.plan_at = None;
        match rep.plan.take() {
            Some(ReplicaFailure::ReplicationFailed { region, reason, .. }) => {
                let default = match &region {
                    Some(r) => {
                        format!("replication of the instance's configuration into {r} failed")
                    }
                    None => "replication of the instance's configuration failed".to_string(),
                };
                rep.phase = Phase::ReplicationFailed {
                    reason: reason.unwrap_or(default),
                    region: region.clone(),
                };
                self.drop_work(id, region.as_deref(), true);
            }
            Some(ReplicaFailure::Deletion {
                seconds,
                fails,
                reason,
                ..
            }) => {
                rep.phase = Phase::Deleting {
                    until: at + seconds,
                    fails,
                    reason,
                };
                self.drop_work(id, None, false);
            }
            Some(ReplicaFailure::CreationFailed { .. }) | None => {}
        }
    }

    /// Drops the queued mirroring work of `id` (into `region` only, when given); with `strand`,
    /// the dropped resources stay counted as drifted.
    fn drop_work(&mut self, id: &str, region: Option<&str>, strand: bool) {
        let keys: Vec<(u64, u64)> = self
            .tasks
            .iter()
            .filter(|(_, t)| t.instance_id == id && region.is_none_or(|r| t.to == r))
            .map(|(k, _)| *k)
            .collect();
        let mut dropped = Vec::new();
        for key in keys {
            if let Some(t) = self.tasks.remove(&key) {
                dropped.push((t.kind, t.to));
            }
        }
        let left = |class: TaskClass| {
            self.tasks
                .values()
                .filter(|t| t.instance_id == id && t.class == class)
                .count()
        };
        let (initial, resync) = (left(TaskClass::Initial), left(TaskClass::Resync));
        if let Some(rep) = self.replications.get_mut(id) {
            rep.initial_pending = initial;
            rep.resync_pending = resync;
            if strand {
                for key in dropped {
                    *rep.stranded.entry(key).or_default() += 1;
                }
            }
        }
    }

    /// The replica of `id` is gone: its instance, its replication, its groups (their numbers go
    /// back to the instance) and its queued work.
    fn remove_replica(&mut self, id: &str) {
        let Some(rep) = self.replications.remove(id) else {
            return;
        };
        self.instances
            .remove(&(rep.replica.clone(), id.to_string()));
        let groups: Vec<String> = self
            .tdgs
            .values()
            .filter(|t| t.instance_id == id)
            .map(|t| self.tdg_arn(t))
            .collect();
        self.tdgs.retain(|_, t| t.instance_id != id);
        let account = self.account.clone();
        for n in self.numbers.values_mut() {
            if groups.contains(&n.target_arn) {
                n.target_arn = arn(&account, &n.region, &format!("instance/{}", n.instance_id));
            }
        }
        self.tasks.retain(|_, t| t.instance_id != id);
    }
}
