//! Mirroring work: changes queued for the other region of a replicated instance, applied when
//! due, and the name conflicts that block them.

use super::{Blocked, World};
use crate::kinds::Kind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskOp {
    Upsert,
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskClass {
    /// The first copy made by ReplicateInstance.
    Initial,
    /// A retry of a blocked resource after a repeat ReplicateInstance.
    Resync,
    /// Continuous sync of a later change.
    Sync,
}

#[derive(Debug, Clone)]
pub struct Task {
    pub instance_id: String,
    pub from: String,
    pub to: String,
    pub kind: Kind,
    pub id: String,
    pub op: TaskOp,
    pub class: TaskClass,
}

impl World {
    pub fn schedule(&mut self, due: f64, task: Task) {
        let seq = self.next_seq();
        self.tasks
            .insert(((due.max(0.0) * 1000.0) as u64, seq), task);
    }

    /// Queues the mirroring of a change made in `region` to the instance's other side, if any.
    pub fn sync_change(
        &mut self,
        now: f64,
        region: &str,
        instance_id: &str,
        kind: Kind,
        id: &str,
        op: TaskOp,
    ) {
        let Some(rep) = self.replications.get(instance_id) else {
            return;
        };
        let Some(to) = rep.other(region).map(str::to_string) else {
            return;
        };
        if !rep.phase.syncs_to(&to) {
            // A failed replication leaves the change drifted; a replica that failed to come
            // up or is going away takes nothing.
            if let Some(rep) = self.replications.get_mut(instance_id) {
                if matches!(rep.phase, super::Phase::ReplicationFailed { .. }) {
                    *rep.stranded.entry((kind, to)).or_default() += 1;
                }
            }
            return;
        }
        let due = (now + self.settings.sync_delay_seconds).max(rep.replica_ready_at + 0.001);
        self.schedule(
            due,
            Task {
                instance_id: instance_id.to_string(),
                from: region.to_string(),
                to,
                kind,
                id: id.to_string(),
                op,
                class: TaskClass::Sync,
            },
        );
    }

    pub(super) fn apply(&mut self, at: f64, task: Task) {
        match task.class {
            TaskClass::Initial => {
                if let Some(rep) = self.replications.get_mut(&task.instance_id) {
                    rep.initial_pending = rep.initial_pending.saturating_sub(1);
                }
            }
            TaskClass::Resync => {
                if let Some(rep) = self.replications.get_mut(&task.instance_id) {
                    rep.resync_pending = rep.resync_pending.saturating_sub(1);
                }
            }
            TaskClass::Sync => {}
        }
        if self.fails_to_sync(at, &task) {
            return;
        }
        self.synced(&task);
        match task.op {
            TaskOp::Upsert => self.apply_upsert(at, &task),
            TaskOp::Delete => {
                if let Some(inst) = self.instance_mut(&task.to, &task.instance_id) {
                    inst.set_mut(task.kind).remove(&task.id);
                }
                if task.kind == Kind::Users {
                    for tdg in self.tdgs.values_mut() {
                        if tdg.instance_id == task.instance_id {
                            tdg.users.remove(&task.id);
                        }
                    }
                }
            }
        }
    }

    fn apply_upsert(&mut self, at: f64, task: &Task) {
        let Some(src) = self
            .instance(&task.from, &task.instance_id)
            .and_then(|i| i.set(task.kind))
            .and_then(|s| s.get(&task.id))
            .cloned()
        else {
            return; // deleted before its turn came
        };
        if src.in_s3() {
            return; // prompts stored in S3 are never mirrored
        }
        let Some(dst) = self.instance_mut(&task.to, &task.instance_id) else {
            return;
        };
        let set = dst.set_mut(task.kind);
        let twin = set
            .by_name(&src.name)
            .filter(|r| r.id != src.id)
            .map(|r| r.id.clone());
        if let Some(target_id) = twin {
            let blocked = Blocked {
                kind: task.kind,
                from: task.from.clone(),
                to: task.to.clone(),
                source_id: src.id.clone(),
                target_id,
                name: src.name.clone(),
                since: at,
            };
            if let Some(rep) = self.replications.get_mut(&task.instance_id) {
                if !rep.blocked.iter().any(|b| {
                    b.kind == blocked.kind && b.source_id == blocked.source_id && b.to == blocked.to
                }) {
                    rep.blocked.push(blocked);
                }
            }
            return;
        }
        set.replace(src);
    }

    /// Resources of `kind` still waiting to be mirrored into `region`, plus those blocked there
    /// and those a failed replication left behind.
    pub fn drift(&self, instance_id: &str, kind: Kind, region: &str) -> usize {
        let pending = self
            .tasks
            .values()
            .filter(|t| t.instance_id == instance_id && t.kind == kind && t.to == region)
            .count();
        let blocked = self.replications.get(instance_id).map_or(0, |r| {
            r.blocked
                .iter()
                .filter(|b| b.kind == kind && b.to == region)
                .count()
                + r.stranded
                    .get(&(kind, region.to_string()))
                    .copied()
                    .unwrap_or(0)
                + r.failed_syncs
                    .iter()
                    .filter(|s| s.kind == kind && s.to == region)
                    .count()
        });
        pending + blocked
    }
}
