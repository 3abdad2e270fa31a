//! Replication findings staged by tests (`POST /_sim/findings`): of any accepted resource type,
//! so that a client can be shown findings of the types this control plane has no resources for,
//! or of a type it has never seen.

use serde_json::{json, Value};

use super::staging::{FindingStaged, StagedFinding};
use super::{arn, World};
use crate::error::SimError;
use crate::kinds::finding_arn_segment;

impl World {
    /// Stages a finding: checked, its defaults filled in (ID, region, operation).
    pub fn stage_finding(&mut self, mut f: StagedFinding) -> Result<FindingStaged, SimError> {
        let bad = |m: String| Err(SimError::BadRequest(m));
        let Some(home) = self
            .instances
            .values()
            .find(|i| i.id == f.instance_id && i.replica_of.is_none())
            .map(|i| i.region.clone())
        else {
            return bad(format!("there is no instance {}", f.instance_id));
        };
        if !self.settings.accepts_finding_type(&f.resource_type) {
            return bad(format!(
                "resourceType '{}' is not accepted by ListReplicationFindings (see extraFindingTypes)",
                f.resource_type
            ));
        }
        length("name", Some(&f.name), 1, 512)?;
        length("id", f.id.as_deref(), 1, 500)?;
        length("operation", f.operation.as_deref(), 1, 256)?;
        length("referenceCode", f.reference_code.as_deref(), 1, 256)?;
        length("message", f.message.as_deref(), 0, 4096)?;
        let region = self.finding_region(&f.instance_id, &home, f.region.take())?;
        let id = f.id.take().unwrap_or_else(|| self.ids.uuid());
        self.staged_findings.push(StagedFinding {
            id: Some(id.clone()),
            region: Some(region),
            operation: Some(f.operation.take().unwrap_or_else(|| "CREATE".into())),
            ..f
        });
        Ok(FindingStaged { id })
    }

    /// The region of a staged finding: one of the replication's two (default the replica's);
    /// for an instance not replicated yet it must be given, and be the instance's region or a
    /// region paired with it.
    fn finding_region(
        &self,
        instance_id: &str,
        home: &str,
        region: Option<String>,
    ) -> Result<String, SimError> {
        let (allowed, default): (Vec<String>, Option<String>) =
            match self.replications.get(instance_id) {
                Some(rep) => (
                    vec![rep.source.clone(), rep.replica.clone()],
                    Some(rep.replica.clone()),
                ),
                None => {
                    let mut allowed = vec![home.to_string()];
                    allowed.extend(
                        self.settings
                            .region_pairs
                            .iter()
                            .filter(|(s, _)| s == home)
                            .map(|(_, r)| r.clone()),
                    );
                    (allowed, None)
                }
            };
        let Some(region) = region.or(default) else {
            return Err(SimError::BadRequest(format!(
                "instance {instance_id} is not replicated: give the finding's region"
            )));
        };
        if !allowed.contains(&region) {
            return Err(SimError::BadRequest(format!(
                "region '{region}' is not one of instance {instance_id}'s regions ({})",
                allowed.join(", ")
            )));
        }
        Ok(region)
    }

    /// Removes every staged finding; answers how many there were.
    pub fn clear_findings(&mut self) -> usize {
        std::mem::take(&mut self.staged_findings).len()
    }

    /// The staged findings of one instance and type.
    pub fn staged_of<'a>(
        &'a self,
        instance_id: &'a str,
        resource_type: &'a str,
    ) -> impl Iterator<Item = &'a StagedFinding> + 'a {
        self.staged_findings
            .iter()
            .filter(move |f| f.instance_id == instance_id && f.resource_type == resource_type)
    }

    /// A staged finding as ListReplicationFindings lists it. Its ARN is the resource's in the
    /// finding's region: `instance/{id}/{segment}/{resourceId}` ([`finding_arn_segment`]), or
    /// `phone-number/{resourceId}` for `PHONE_NUMBER` (phone number ARNs are not under the
    /// instance).
    pub fn staged_finding_json(&self, f: &StagedFinding) -> Value {
        let region = f.region.as_deref().unwrap_or_default();
        let id = f.id.as_deref().unwrap_or_default();
        let operation = f.operation.as_deref().unwrap_or("CREATE");
        let resource = if f.resource_type == "PHONE_NUMBER" {
            format!("phone-number/{id}")
        } else {
            format!(
                "instance/{}/{}/{id}",
                f.instance_id,
                finding_arn_segment(&f.resource_type)
            )
        };
        let message = f.message.clone().unwrap_or_else(|| {
            format!(
                "The {} of this {} could not be replicated to {region}.",
                operation.to_lowercase(),
                f.resource_type
            )
        });
        let mut out = json!({
            "Arn": arn(&self.account, region, &resource),
            "Id": id,
            "ResourceType": f.resource_type,
            "Region": region,
            "Name": f.name,
            "Operation": operation,
            "Message": message,
        });
        if let Some(code) = &f.reference_code {
            out["ReferenceCode"] = code.clone().into();
        }
        out
    }
}

fn length(member: &str, v: Option<&str>, min: usize, max: usize) -> Result<(), SimError> {
    match v.map(|v| v.chars().count()) {
        Some(n) if n < min || n > max => Err(SimError::BadRequest(format!(
            "{member} must be {min} to {max} characters long (got {n})"
        ))),
        _ => Ok(()),
    }
}
