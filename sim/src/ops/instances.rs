//! Instances: DescribeInstance, ListInstances, their attributes, Lambda functions and Lex bots.

use super::*;

/// Resolves an instance ID or instance ARN in the calling region.
pub(super) fn instance_key(w: &World, c: &Call, label: &str) -> ApiResult<(String, String)> {
    if label.is_empty() || label.chars().count() > 250 {
        return Err(c.bad("InstanceId must be 1 to 250 characters long"));
    }
    let id = if label.starts_with("arn:") {
        match split_arn(label) {
            Some((region, account, "instance", id)) if !id.contains('/') => {
                if region != c.region || account != w.account {
                    return Err(ApiError::not_found(format!(
                        "instance {label} is not in {} for this account",
                        c.region
                    )));
                }
                id.to_string()
            }
            _ => return Err(c.bad(format!("'{label}' is not an instance ID or instance ARN"))),
        }
    } else {
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(c.bad(format!("'{label}' is not a valid instance ID")));
        }
        label.to_string()
    };
    if w.instance(c.region, &id).is_none() {
        return Err(ApiError::not_found(format!(
            "instance {id} does not exist in {}",
            c.region
        )));
    }
    Ok((c.region.to_string(), id))
}

pub(super) fn instance<'w>(w: &'w World, c: &Call, label: &str) -> ApiResult<&'w Instance> {
    let (region, id) = instance_key(w, c, label)?;
    w.instance(&region, &id)
        .ok_or_else(|| ApiError::not_found(format!("instance {id} does not exist")))
}

/// The replication status and reason that `region`'s entry of the summary list shows.
pub(super) fn replication_status(
    w: &World,
    rep: &Replication,
    region: &str,
) -> (&'static str, Option<String>) {
    match &rep.phase {
        Phase::CreationFailed { reason } => {
            return ("INSTANCE_REPLICATION_FAILED", Some(reason.clone()))
        }
        Phase::ReplicationFailed {
            reason,
            region: failed,
        } if failed.as_deref().is_none_or(|r| r == region) => {
            return ("INSTANCE_REPLICATION_FAILED", Some(reason.clone()));
        }
        Phase::Deleting { .. } => {
            return (
                "INSTANCE_REPLICA_DELETING",
                Some(format!(
                    "the replica instance in {} is being deleted",
                    rep.replica
                )),
            );
        }
        Phase::DeletionFailed { reason } => {
            return ("INSTANCE_REPLICATION_DELETION_FAILED", Some(reason.clone()));
        }
        Phase::Running | Phase::ReplicationFailed { .. } => {}
    }
    let ready = w
        .instance(&rep.replica, &rep.instance_id)
        .is_some_and(|i| i.status == "ACTIVE");
    let migrating = w.migrating(&rep.instance_id);
    let status = if !ready || rep.in_progress() || migrating {
        "INSTANCE_REPLICATION_IN_PROGRESS"
    } else {
        "INSTANCE_REPLICATION_COMPLETE"
    };
    let mut reasons = Vec::new();
    if !rep.blocked.is_empty() {
        reasons.push(format!(
            "{} resources are not replicated because of name conflicts",
            rep.blocked.len()
        ));
    }
    if !rep.failed_syncs.is_empty() {
        reasons.push(format!("{} changes failed to sync", rep.failed_syncs.len()));
    }
    let reason = (!reasons.is_empty())
        .then(|| format!("{}; see ListReplicationFindings", reasons.join("; ")));
    (status, reason)
}

pub(super) fn replication_configuration(w: &World, inst: &Instance) -> Option<Value> {
    let rep = w.replications.get(&inst.id)?;
    let entries: Vec<Value> = [&rep.source, &rep.replica]
        .iter()
        .map(|region| {
            let (status, reason) = replication_status(w, rep, region);
            let mut e = json!({"Region": region, "ReplicationStatus": status});
            if let Some(r) = reason {
                e["ReplicationStatusReason"] = r.into();
            }
            e
        })
        .collect();
    let alias = w
        .instance(&rep.source, &rep.instance_id)
        .and_then(|i| i.alias.clone())
        .unwrap_or_default();
    Some(json!({
        "ReplicationStatusSummaryList": entries,
        "SourceRegion": rep.source,
        "GlobalSignInEndpoint": format!("https://{alias}.global.my.connect.aws/"),
    }))
}

/// `https://{alias}.my.connect.aws`; with global routing (admin guide: aliases become
/// subdomain-based), `https://{region}.{alias}.my.connect.aws` in each region, the alias being
/// the source's (derived from it, as the guide says; the replica's `InstanceAlias` stays what
/// ReplicateInstance gave).
fn access_url(w: &World, inst: &Instance, alias: &str) -> String {
    if !w.routing_on(&inst.id) {
        return format!("https://{alias}.my.connect.aws");
    }
    let source_alias = w
        .replications
        .get(&inst.id)
        .and_then(|r| w.instance(&r.source, &inst.id))
        .and_then(|i| i.alias.as_deref())
        .unwrap_or(alias);
    format!("https://{}.{source_alias}.my.connect.aws", inst.region)
}

pub(super) fn instance_summary(w: &World, inst: &Instance) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("Id".into(), inst.id.clone().into());
    m.insert("Arn".into(), w.instance_arn(&inst.region, &inst.id).into());
    m.insert(
        "IdentityManagementType".into(),
        inst.identity.clone().into(),
    );
    if let Some(a) = &inst.alias {
        m.insert("InstanceAlias".into(), a.clone().into());
        m.insert("InstanceAccessUrl".into(), access_url(w, inst, a).into());
    }
    m.insert("CreatedTime".into(), inst.created.into());
    m.insert(
        "ServiceRole".into(),
        format!(
            "arn:aws:iam::{}:role/aws-service-role/connect.amazonaws.com/AWSServiceRoleForAmazonConnect",
            w.account
        )
        .into(),
    );
    m.insert("InstanceStatus".into(), inst.status.clone().into());
    m.insert(
        "InboundCallsEnabled".into(),
        (inst.attribute("INBOUND_CALLS") == Some("true")).into(),
    );
    m.insert(
        "OutboundCallsEnabled".into(),
        (inst.attribute("OUTBOUND_CALLS") == Some("true")).into(),
    );
    m
}

pub(super) fn describe_instance(w: &mut World, c: &Call) -> ApiResult {
    if c.label(0).chars().count() > 100 {
        return Err(c.bad("InstanceId must be 1 to 100 characters long"));
    }
    let inst = instance(w, c, c.label(0))?;
    let mut out = json!({"Instance": Value::Object(instance_summary(w, inst))});
    out["Instance"]["Tags"] = json!({});
    if inst.status == "CREATION_FAILED" {
        let reason = match w.replications.get(&inst.id).map(|r| &r.phase) {
            Some(Phase::CreationFailed { reason }) => reason.clone(),
            _ => "the instance could not be created".into(),
        };
        out["Instance"]["StatusReason"] = json!({"Message": reason});
    }
    if let Some(rc) = replication_configuration(w, inst) {
        out["ReplicationConfiguration"] = rc;
    }
    Ok(out)
}

pub(super) fn list_instances(w: &mut World, c: &Call) -> ApiResult {
    let page = c.input.page_query(10, 10)?;
    let items = w
        .instances
        .values()
        .filter(|i| i.region == c.region)
        .map(|i| (i.seq, Value::Object(instance_summary(w, i))));
    let mut items: Vec<(u64, Value)> = items.collect();
    items.sort_by_key(|(s, _)| *s);
    let (list, token) = paginate(items, page);
    Ok(with_token(json!({"InstanceSummaryList": list}), token))
}

pub(super) fn with_token(mut v: Value, token: Option<String>) -> Value {
    if let Some(t) = token {
        v["NextToken"] = t.into();
    }
    v
}

pub(super) fn list_instance_attributes(w: &mut World, c: &Call) -> ApiResult {
    let page = c.input.page_query(7, 7)?;
    let inst = instance(w, c, c.label(0))?;
    let items = inst
        .attributes
        .iter()
        .enumerate()
        .map(|(i, (k, v))| (i as u64 + 1, json!({"AttributeType": k, "Value": v})));
    let (list, token) = paginate(items, page);
    Ok(with_token(json!({"Attributes": list}), token))
}

pub(super) const ATTRIBUTE_TYPES: &[&str] = &[
    "INBOUND_CALLS",
    "OUTBOUND_CALLS",
    "CONTACTFLOW_LOGS",
    "CONTACT_LENS",
    "AUTO_RESOLVE_BEST_VOICES",
    "USE_CUSTOM_TTS_VOICES",
    "EARLY_MEDIA",
    "MULTI_PARTY_CONFERENCE",
    "AUTO_MUTE_AGENT_ON_HOLD",
    "HIGH_VOLUME_OUTBOUND",
    "ENHANCED_CONTACT_MONITORING",
    "ENHANCED_CHAT_MONITORING",
    "MULTI_PARTY_CHAT_CONFERENCE",
    "MESSAGE_STREAMING",
];

pub(super) fn describe_instance_attribute(w: &mut World, c: &Call) -> ApiResult {
    let t = c.label(1);
    if !ATTRIBUTE_TYPES.contains(&t) {
        return Err(c.bad(format!("'{t}' is not an instance attribute type")));
    }
    let inst = instance(w, c, c.label(0))?;
    let value = inst
        .attribute(t)
        .ok_or_else(|| ApiError::not_found(format!("attribute {t} is not set")))?;
    Ok(json!({"Attribute": {"AttributeType": t, "Value": value}}))
}

pub(super) fn list_lambda_functions(w: &mut World, c: &Call) -> ApiResult {
    let page = c.input.page_query(25, 25)?;
    let inst = instance(w, c, c.label(0))?;
    let items = inst
        .lambda_functions
        .iter()
        .enumerate()
        .map(|(i, a)| (i as u64 + 1, Value::String(a.clone())));
    let (list, token) = paginate(items, page);
    Ok(with_token(json!({"LambdaFunctions": list}), token))
}

pub(super) fn list_bots(w: &mut World, c: &Call) -> ApiResult {
    let version = c.input.query_enum("lexVersion", &["V1", "V2"])?;
    let version = match version.as_slice() {
        [v] => v.clone(),
        [] => return Err(c.bad("required query parameter 'lexVersion' is missing")),
        _ => return Err(c.bad("query parameter 'lexVersion' is given more than once")),
    };
    let page = c.input.page_query(25, 25)?;
    let inst = instance(w, c, c.label(0))?;
    let items: Vec<Value> = if version == "V1" {
        inst.lex_v1
            .iter()
            .map(|(n, r)| json!({"LexBot": {"Name": n, "LexRegion": r}}))
            .collect()
    } else {
        inst.lex_v2
            .iter()
            .map(|a| json!({"LexV2Bot": {"AliasArn": a}}))
            .collect()
    };
    let (list, token) = paginate(
        items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i as u64 + 1, v)),
        page,
    );
    Ok(with_token(json!({"LexBots": list}), token))
}

pub(super) fn list_lex_bots(w: &mut World, c: &Call) -> ApiResult {
    let page = c.input.page_query(25, 10)?;
    let inst = instance(w, c, c.label(0))?;
    let items = inst
        .lex_v1
        .iter()
        .enumerate()
        .map(|(i, (n, r))| (i as u64 + 1, json!({"Name": n, "LexRegion": r})));
    let (list, token) = paginate(items, page);
    Ok(with_token(json!({"LexBots": list}), token))
}
