//! What mirroring leaves for the customer besides name conflicts: changes that failed to sync
//! (staged), and the Lambda functions a flow names that a region does not have.

use super::staging::{SyncFailure, SyncStaged};
use super::{Task, TaskOp, World};
use crate::error::SimError;
use crate::kinds::Kind;

/// A change of a resource that could not be applied in `to`.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedSync {
    pub kind: Kind,
    pub id: String,
    pub name: String,
    pub from: String,
    pub to: String,
    /// `CREATE`, `UPDATE` or `DELETE`.
    pub operation: &'static str,
    pub since: f64,
}

impl World {
    /// Stages a sync failure at simulated time `now`: an update that failed just now when the
    /// resource is in both regions, else armed for the next mirroring of it into the region.
    pub fn stage_sync_failure(&mut self, f: SyncFailure, now: f64) -> Result<SyncStaged, SimError> {
        let Some(iid) = f.instance_id.clone() else {
            return Err(SimError::BadRequest("instanceId is required".to_string()));
        };
        let Some(rep) = self.replications.get(&iid) else {
            if !self
                .instances
                .values()
                .any(|i| i.id == iid && i.replica_of.is_none())
            {
                return Err(SimError::BadRequest(format!("there is no instance {iid}")));
            }
            self.sync_plans.push(f);
            return Ok(SyncStaged { armed: true });
        };
        let to = f.region.clone().unwrap_or_else(|| rep.replica.clone());
        let Some(from) = rep.other(&to).map(str::to_string) else {
            return Err(SimError::BadRequest(format!(
                "instance {iid} is replicated between {} and {}, not {to}",
                rep.source, rep.replica
            )));
        };
        let source = self
            .instance(&from, &iid)
            .and_then(|i| i.set(f.kind))
            .and_then(|s| s.by_name(&f.name))
            .map(|r| r.id.clone());
        let mirrored = source.as_ref().filter(|id| {
            self.instance(&to, &iid)
                .and_then(|i| i.set(f.kind))
                .and_then(|s| s.get(id))
                .is_some()
        });
        let Some(id) = mirrored.cloned() else {
            self.sync_plans.push(SyncFailure {
                region: Some(to),
                ..f
            });
            return Ok(SyncStaged { armed: true });
        };
        // An update made in `from` now, which `to` never gets.
        if let Some(r) = self.instance_mut(&from, &iid).and_then(|i| {
            let set = i.set_mut(f.kind);
            set.get(&id).cloned().map(|r| (set, r))
        }) {
            let (set, mut updated) = r;
            updated.last_modified = now;
            updated.last_modified_region = from.clone();
            set.replace(updated);
        }
        self.record_failed_sync(
            &iid,
            FailedSync {
                kind: f.kind,
                id,
                name: f.name,
                from,
                to,
                operation: "UPDATE",
                since: now,
            },
        );
        Ok(SyncStaged { armed: false })
    }

    fn record_failed_sync(&mut self, instance_id: &str, failed: FailedSync) {
        let Some(rep) = self.replications.get_mut(instance_id) else {
            return;
        };
        rep.failed_syncs
            .retain(|s| !(s.kind == failed.kind && s.id == failed.id && s.to == failed.to));
        rep.failed_syncs.push(failed);
    }

    /// Whether `task` meets a staged sync failure: then it is recorded and not applied.
    pub(super) fn fails_to_sync(&mut self, at: f64, task: &Task) -> bool {
        if self.sync_plans.is_empty() {
            return false;
        }
        let Some(replica) = self
            .replications
            .get(&task.instance_id)
            .map(|r| r.replica.clone())
        else {
            return false;
        };
        let target = self
            .instance(&task.to, &task.instance_id)
            .and_then(|i| i.set(task.kind))
            .and_then(|s| s.get(&task.id))
            .map(|r| r.name.clone());
        let name = match task.op {
            TaskOp::Delete => target.clone(),
            TaskOp::Upsert => self
                .instance(&task.from, &task.instance_id)
                .and_then(|i| i.set(task.kind))
                .and_then(|s| s.get(&task.id))
                .map(|r| r.name.clone()),
        };
        let Some(name) = name else {
            return false;
        };
        let Some(pos) = self.sync_plans.iter().position(|p| {
            p.instance_id.as_deref() == Some(task.instance_id.as_str())
                && p.kind == task.kind
                && p.name == name
                && p.region.as_deref().unwrap_or(&replica) == task.to
        }) else {
            return false;
        };
        self.sync_plans.remove(pos);
        let operation = match (task.op, &target) {
            (TaskOp::Delete, _) => "DELETE",
            (TaskOp::Upsert, Some(_)) => "UPDATE",
            (TaskOp::Upsert, None) => "CREATE",
        };
        self.record_failed_sync(
            &task.instance_id,
            FailedSync {
                kind: task.kind,
                id: task.id.clone(),
                name,
                from: task.from.clone(),
                to: task.to.clone(),
                operation,
                since: at,
            },
        );
        true
    }

    /// A task went through: a failed sync of the same resource into the same region is over.
    pub(super) fn synced(&mut self, task: &Task) {
        if let Some(rep) = self.replications.get_mut(&task.instance_id) {
            rep.failed_syncs
                .retain(|s| !(s.kind == task.kind && s.id == task.id && s.to == task.to));
        }
    }

    /// The Lambda functions named in a flow's `content` that `region` lacks (by function
    /// name), when the scenario or the control API says which functions `region` has.
    pub fn missing_lambda_functions(&self, region: &str, content: &str) -> Vec<String> {
        let Some(deployed) = self.lambda_functions.get(region) else {
            return Vec::new();
        };
        let mut missing: Vec<String> = lambda_names(content)
            .into_iter()
            .filter(|n| !deployed.contains(n))
            .collect();
        missing.dedup();
        missing
    }
}

/// The function name of a Lambda function name or ARN
/// (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`).
pub fn lambda_name(s: &str) -> String {
    match s.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", _, "lambda", _, _, "function", name, ..] => name.to_string(),
        _ => s.to_string(),
    }
}

/// The names of the Lambda functions whose ARNs a flow's content holds, in order.
pub fn lambda_names(content: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = content;
    while let Some(at) = rest.find("arn:aws:lambda:") {
        let arn: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || ":-_.$".contains(*c))
            .collect();
        rest = &rest[at + arn.len().max(1)..];
        let name = lambda_name(&arn);
        if name != arn && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_names_are_read_from_flow_content() {
        let content = r#"{"Actions":[{"Parameters":{"LambdaFunctionARN":"arn:aws:lambda:us-east-1:123456789012:function:lookup:PROD"}},{"Parameters":{"LambdaFunctionARN":"arn:aws:lambda:us-east-1:123456789012:function:callback"}},{"x":"arn:aws:lambda:us-east-1:123456789012:function:lookup"}]}"#;
        assert_eq!(lambda_names(content), ["lookup", "callback"]);
        assert_eq!(lambda_name("callback"), "callback");
        assert!(lambda_names("no functions").is_empty());
    }
}
