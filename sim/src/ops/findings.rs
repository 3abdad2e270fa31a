//! ListReplicationFindings: name conflicts, changes that failed to sync, prompts stored in S3
//! (never mirrored), and flows naming Lambda functions a region lacks; with drift counts and
//! each region's own replication status for the type. Findings staged through the control API
//! (`POST /_sim/findings`) follow the computed ones, of any accepted type.

use super::*;
use crate::control::StagedFinding;

/// The stable class codes of the findings. The service publishes no list (the model says only
/// "a stable code that identifies the class of the finding"): these four are this control
/// plane's own.
pub const NAME_CONFLICT: &str = "RESOURCE_NAME_CONFLICT";
pub const SYNC_FAILED: &str = "SYNC_FAILED";
pub const S3_PROMPT: &str = "S3_PROMPT_NOT_SUPPORTED";
pub const LAMBDA_MISSING: &str = "LAMBDA_FUNCTION_NOT_FOUND";

pub(super) fn list_replication_findings(w: &mut World, c: &Call) -> ApiResult {
    let resource_type = c.input.query_required("resourceType", 1, 128)?;
    let page = c.input.page_query(100, 100)?;
    let kind = Kind::by_finding_type(&resource_type);
    if !w.settings.accepts_finding_type(&resource_type) {
        return Err(ApiError::invalid_request(format!(
            "ResourceType '{resource_type}' is not supported"
        )));
    }
    let inst = instance(w, c, c.label(0))?;
    let rep = w.replications.get(&inst.id).ok_or_else(|| {
        ApiError::invalid_request(format!(
            "instance {} is not set up for Global Resiliency",
            inst.id
        ))
    })?;
    let mut findings = match kind {
        Some(kind) => findings(w, rep, kind, &resource_type),
        None => Vec::new(),
    };
    let staged: Vec<_> = w.staged_of(&rep.instance_id, &resource_type).collect();
    findings.extend(staged.iter().map(|f| w.staged_finding_json(f)));
    let in_region = |r: &str| -> Vec<&StagedFinding> {
        staged
            .iter()
            .filter(|f| f.region.as_deref() == Some(r))
            .copied()
            .collect()
    };
    let regions = [rep.source.clone(), rep.replica.clone()];
    let drift: Vec<Value> = regions
        .iter()
        .map(|r| {
            let count = kind.map_or(0, |k| w.drift(&rep.instance_id, k, r)) + in_region(r).len();
            json!({"Region": r, "Count": count, "Timestamp": c.now})
        })
        .collect();
    let statuses: Vec<Value> = regions
        .iter()
        .map(|r| {
            let blocking = in_region(r).iter().any(|f| f.blocking);
            json!({"Region": r, "Status": type_status(rep, kind, r, blocking)})
        })
        .collect();
    let (list, token) = paginate(
        findings
            .into_iter()
            .enumerate()
            .map(|(i, f)| (i as u64 + 1, f)),
        page,
    );
    Ok(with_token(
        json!({
            "ReplicationFindingsList": list,
            "ApproximateDriftedResourceCounts": drift,
            "ResourceReplicationStatuses": statuses,
        }),
        token,
    ))
}

/// The replication status of a resource type in `region`: `DISABLED` when replication into it
/// stopped (failed, never created, being or failed to be deleted), `BLOCKED` while resources of
/// the type are blocked or failed to sync there (or a blocking finding is staged), else `ENABLED`.
fn type_status(
    rep: &Replication,
    kind: Option<Kind>,
    region: &str,
    staged_blocking: bool,
) -> &'static str {
    if !rep.phase.syncs_to(region) {
        return "DISABLED";
    }
    let blocked = staged_blocking
        || rep
            .blocked
            .iter()
            .any(|b| Some(b.kind) == kind && b.to == region)
        || rep
            .failed_syncs
            .iter()
            .any(|s| Some(s.kind) == kind && s.to == region);
    if blocked {
        "BLOCKED"
    } else {
        "ENABLED"
    }
}

fn finding(
    arn: String,
    id: &str,
    resource_type: &str,
    region: &str,
    name: &str,
    (operation, code): (&str, &str),
    message: String,
) -> Value {
    json!({
        "Arn": arn,
        "Id": id,
        "ResourceType": resource_type,
        "Region": region,
        "Name": name,
        "Operation": operation,
        "ReferenceCode": code,
        "Message": message,
    })
}

/// Every finding of `kind` for a replication, in a stable order: name conflicts, failed syncs,
/// prompts in S3, flows and modules naming missing Lambda functions.
fn findings(w: &World, rep: &Replication, kind: Kind, resource_type: &str) -> Vec<Value> {
    let iid = &rep.instance_id;
    let mut out: Vec<Value> = Vec::new();
    for b in rep.blocked.iter().filter(|b| b.kind == kind) {
        out.push(finding(
            w.resource_arn(&b.from, iid, kind, &b.source_id),
            &b.source_id,
            resource_type,
            &b.to,
            &b.name,
            ("CREATE", NAME_CONFLICT),
            format!(
                "A {resource_type} named '{}' with another ID ({}) exists in {}. Delete or rename it there, then call ReplicateInstance again.",
                b.name, b.target_id, b.to
            ),
        ));
    }
    for s in rep.failed_syncs.iter().filter(|s| s.kind == kind) {
        out.push(finding(
            w.resource_arn(&s.from, iid, kind, &s.id),
            &s.id,
            resource_type,
            &s.to,
            &s.name,
            (s.operation, SYNC_FAILED),
            format!(
                "The {} of this {resource_type} made in {} could not be applied in {}. Call ReplicateInstance again to retry it.",
                s.operation.to_lowercase(),
                s.from,
                s.to
            ),
        ));
    }
    let regions = [(&rep.source, &rep.replica), (&rep.replica, &rep.source)];
    for (here, there) in regions {
        let Some(set) = w.instance(here, iid).and_then(|i| i.set(kind)) else {
            continue;
        };
        let other = w.instance(there, iid).and_then(|i| i.set(kind));
        for (_, r) in set.iter() {
            if kind == Kind::Prompts && r.in_s3() {
                out.push(finding(
                    w.resource_arn(here, iid, kind, &r.id),
                    &r.id,
                    resource_type,
                    there,
                    &r.name,
                    ("CREATE", S3_PROMPT),
                    format!(
                        "Prompts stored in Amazon S3 are not replicated. Create prompt '{}' in {there} yourself.",
                        r.name
                    ),
                ));
            }
            // A flow or module mirrored here (it is on both sides) whose Lambda functions
            // this region lacks.
            let mirrored = other.is_some_and(|o| o.get(&r.id).is_some());
            let content = r.attrs.get("Content").and_then(Value::as_str);
            if let (true, Some(content)) = (mirrored, content) {
                let missing = w.missing_lambda_functions(here, content);
                if !missing.is_empty() {
                    out.push(finding(
                        w.resource_arn(here, iid, kind, &r.id),
                        &r.id,
                        resource_type,
                        here,
                        &r.name,
                        ("CREATE", LAMBDA_MISSING),
                        format!(
                            "This {resource_type} invokes Lambda function {} that does not exist in {here}. Deploy a function with the same name there.",
                            missing.join(", ")
                        ),
                    ));
                }
            }
        }
    }
    out
}
