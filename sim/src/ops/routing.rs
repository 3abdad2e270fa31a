//! GetCrossRegionRouting and UpdateCrossRegionRouting: cross-region routing of an instance
//! enabled for global routing, read and isolated from either region of its pair.

use super::*;

/// The documented refusal (API reference, both operations).
pub const NOT_GLOBAL_ROUTING: &str =
    "This operation is available only for Amazon Connect Global Resiliency instances enabled for global routing.";

pub(super) fn get_cross_region_routing(w: &mut World, c: &Call) -> ApiResult {
    let id = routed_instance(w, c)?;
    require_global_routing(w, &id)?;
    Ok(json!({"IsolatedRegions": w.isolated_regions(&id, c.region, c.now)}))
}

/// `IsolatedAll: true` isolates both regions of the pair, `false` clears the isolation; seen in
/// the calling region at once, in the other a lag later. Refused while a migration to global
/// routing runs (ResourceConflictException: the instance is being changed).
pub(super) fn update_cross_region_routing(w: &mut World, c: &Call) -> ApiResult {
    let isolated_all = match c.input.body.get("IsolatedAll") {
        Some(Value::Bool(b)) => *b,
        None | Some(Value::Null) => return Err(c.bad("required member 'IsolatedAll' is missing")),
        Some(_) => return Err(c.bad("member 'IsolatedAll' must be a boolean")),
    };
    let id = routed_instance(w, c)?;
    if w.migrating(&id) {
        return Err(ApiError::conflict(format!(
            "instance {id} is being migrated to global routing; try again once its replication is INSTANCE_REPLICATION_COMPLETE"
        )));
    }
    require_global_routing(w, &id)?;
    w.isolate(&id, c.region, isolated_all, c.now);
    Ok(json!({}))
}

fn require_global_routing(w: &World, id: &str) -> ApiResult<()> {
    if w.routing_on(id) {
        Ok(())
    } else {
        Err(ApiError::invalid_request(NOT_GLOBAL_ROUTING))
    }
}

/// The instance an `ACGRInstanceIdOrArn` names, as the calling region has it: an ID, or an
/// instance ARN of this account in the calling region or in the other region of the instance's
/// pair. An ARN of another account or of a region outside the pair names no instance here
/// (ResourceNotFoundException, our choice).
fn routed_instance(w: &World, c: &Call) -> ApiResult<String> {
    let label = c.label(0);
    if !is_acgr_instance_id_or_arn(label) {
        return Err(c.bad(format!(
            "InstanceId '{label}' is not an instance ID or instance ARN"
        )));
    }
    let (region, account, id) = match split_arn(label) {
        Some((region, account, _, id)) => (region, account, id),
        None => (c.region, w.account.as_str(), label),
    };
    let paired = region == c.region
        || w.replications
            .get(id)
            .is_some_and(|r| r.other(c.region) == Some(region));
    if account != w.account || !paired || w.instance(c.region, id).is_none() {
        return Err(ApiError::not_found(format!(
            "instance {label} does not exist in {}",
            c.region
        )));
    }
    Ok(id.to_string())
}

/// The model's `ACGRInstanceIdOrArn`: 1 to 250 characters,
/// `^(arn:([a-zA-Z0-9-]+):connect:[a-z]+-[a-z-]+-[0-9]+:[0-9]+:instance/)?[a-zA-Z0-9_-]+$`.
fn is_acgr_instance_id_or_arn(s: &str) -> bool {
    let id_ok = |id: &str| {
        !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !(1..=250).contains(&s.chars().count()) {
        return false;
    }
    if !s.starts_with("arn:") {
        return id_ok(s);
    }
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [_, partition, service, region, account, resource] = parts.as_slice() else {
        return false;
    };
    let region_ok = region.rsplit_once('-').is_some_and(|(head, n)| {
        !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
            && head.split_once('-').is_some_and(|(a, b)| {
                !a.is_empty()
                    && a.bytes().all(|c| c.is_ascii_lowercase())
                    && !b.is_empty()
                    && b.bytes().all(|c| c.is_ascii_lowercase() || c == b'-')
            })
    });
    !partition.is_empty()
        && partition
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && *service == "connect"
        && region_ok
        && !account.is_empty()
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource.strip_prefix("instance/").is_some_and(id_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_ids_and_arns_follow_the_acgr_shape() {
        assert!(is_acgr_instance_id_or_arn(
            "4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10"
        ));
        assert!(is_acgr_instance_id_or_arn(
            "arn:aws:connect:us-west-2:123456789012:instance/4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10"
        ));
        assert!(!is_acgr_instance_id_or_arn(""));
        assert!(!is_acgr_instance_id_or_arn("a/b"));
        assert!(!is_acgr_instance_id_or_arn(
            "arn:aws:connect:us-west-2:123456789012:queue/x"
        ));
        assert!(!is_acgr_instance_id_or_arn(
            "arn:aws:connect:uswest:123456789012:instance/x"
        ));
        assert!(!is_acgr_instance_id_or_arn(
            "arn:aws:connect:us-west-2:acct:instance/x"
        ));
    }
}
