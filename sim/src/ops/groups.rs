//! Traffic distribution groups: create, describe, list, delete, users, and their distributions.

use super::*;

pub(super) fn is_tdg_arn_shape(label: &str) -> bool {
    let Some(rest) = label
        .strip_prefix("arn:aws:connect:")
        .or_else(|| label.strip_prefix("arn:aws-us-gov:connect:"))
    else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let (Some(region), Some(account), Some(resource)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Some(id) = resource.strip_prefix("traffic-distribution-group/") else {
        return false;
    };
    is_region(region)
        && (1..=20).contains(&account.len())
        && account.bytes().all(|b| b.is_ascii_digit())
        && is_uuid(id)
}

/// Resolves a TDG ID or ARN as seen from the calling region: the ID only works at home.
pub(super) fn tdg_id(w: &World, c: &Call, label: &str) -> ApiResult<String> {
    let (id, by_arn) = if label.starts_with("arn:") {
        if !is_tdg_arn_shape(label) {
            return Err(c.bad(format!("'{label}' is not a traffic distribution group ARN")));
        }
        (label.rsplit('/').next().unwrap_or_default(), true)
    } else if is_uuid(label) {
        (label, false)
    } else {
        return Err(c.bad(format!(
            "'{label}' is not a traffic distribution group ID or ARN"
        )));
    };
    let not_found = || {
        ApiError::not_found(format!(
            "traffic distribution group {label} not found in {}",
            c.region
        ))
    };
    let tdg = w.tdgs.get(id).ok_or_else(not_found)?;
    let arn_matches = !by_arn || w.tdg_arn(tdg) == label;
    let visible = c.region == tdg.home || (c.region == tdg.other && by_arn);
    if !arn_matches || !visible {
        return Err(not_found());
    }
    Ok(tdg.id.clone())
}

/// A group as the calling region sees it (its status there).
pub(super) fn tdg_json(w: &World, c: &Call, t: &Tdg, full: bool) -> Value {
    let mut v = json!({
        "Id": t.id,
        "Arn": w.tdg_arn(t),
        "Name": t.name,
        "InstanceArn": w.instance_arn(&t.home, &t.instance_id),
        "Status": t.view(c.region, c.now).status,
        "IsDefault": t.is_default,
    });
    if full {
        if let Some(d) = &t.description {
            v["Description"] = d.clone().into();
        }
        v["Tags"] = Value::Object(t.tags.clone());
    }
    v
}

pub(super) fn create_tdg(w: &mut World, c: &Call) -> ApiResult {
    let name = c.input.str_req("Name", 1, 128)?;
    if name.trim() != name {
        return Err(c.bad("Name must not start or end with white space"));
    }
    let description = c.input.str_opt("Description", 1, 250)?;
    let instance_label = c.input.str_req("InstanceId", 1, 250)?;
    let token = c.input.str_opt("ClientToken", 1, 500)?;
    let tags = c.input.object_opt("Tags")?.cloned().unwrap_or_default();
    require_global_resiliency(w)?;
    let (_, iid) = instance_key(w, c, &instance_label)?;
    let fingerprint = format!("{iid}|{name}|{description:?}");
    if let Some(t) = &token {
        let key = (
            c.region.to_string(),
            Operation::CreateTrafficDistributionGroup,
            t.clone(),
        );
        if let Some((fp, first)) = w.tokens.get(&key) {
            return if *fp == fingerprint {
                Ok(first.clone())
            } else {
                Err(ApiError::invalid_request(
                    "ClientToken was already used with different parameters",
                ))
            };
        }
    }
    let rep = w.replications.get(&iid).cloned().ok_or_else(|| {
        ApiError::invalid_request(format!(
            "instance {iid} is not replicated; call ReplicateInstance first"
        ))
    })?;
    if rep.source != c.region {
        return Err(ApiError::invalid_request(format!(
            "traffic distribution groups are created in the source region {}",
            rep.source
        )));
    }
    if w.tdgs
        .values()
        .any(|t| t.instance_id == iid && t.name == name)
    {
        return Err(ApiError::conflict(format!(
            "a traffic distribution group named '{name}' already exists for instance {iid}"
        )));
    }
    let id = w.ids.uuid();
    let seq = w.next_seq();
    let both = |a: i64, b: i64| vec![(rep.source.clone(), a), (rep.replica.clone(), b)];
    let tdg = Tdg {
        seq,
        id: id.clone(),
        name,
        description,
        instance_id: iid,
        home: rep.source.clone(),
        other: rep.replica.clone(),
        is_default: false,
        lifecycle: "CREATION_IN_PROGRESS".into(),
        until: (c.now + w.settings.tdg_creation_seconds).max(rep.replica_ready_at),
        settled: Settled::new(Distribution {
            telephony: both(100, 0),
            agents: both(100, 0),
            sign_in: None,
        }),
        versions: Vec::new(),
        users: Default::default(),
        tags,
        fail_creation: false,
        fail_deletion: false,
    };
    let out = json!({"Id": id, "Arn": w.tdg_arn(&tdg)});
    w.add_tdg(tdg);
    if let Some(t) = token {
        w.tokens.insert(
            (
                c.region.to_string(),
                Operation::CreateTrafficDistributionGroup,
                t,
            ),
            (fingerprint, out.clone()),
        );
    }
    Ok(out)
}

pub(super) fn describe_tdg(w: &mut World, c: &Call) -> ApiResult {
    let id = tdg_id(w, c, c.label(0))?;
    let t = &w.tdgs[&id];
    Ok(json!({"TrafficDistributionGroup": tdg_json(w, c, t, true)}))
}

pub(super) fn list_tdgs(w: &mut World, c: &Call) -> ApiResult {
    let page = c.input.page_query(10, 10)?;
    let filter = match c.input.query_one("instanceId")? {
        None => None,
        Some(label) => {
            c.input.check_len("instanceId", label, 1, 250)?;
            Some(match split_arn(label) {
                Some((_, _, "instance", id)) => id.to_string(),
                _ if label.starts_with("arn:") => {
                    return Err(c.bad(format!("'{label}' is not an instance ID or ARN")))
                }
                _ => label.to_string(),
            })
        }
    };
    let mut items: Vec<(u64, Value)> = w
        .tdgs
        .values()
        .filter(|t| t.home == c.region || t.other == c.region)
        .filter(|t| filter.as_ref().is_none_or(|f| *f == t.instance_id))
        .map(|t| (t.seq, tdg_json(w, c, t, false)))
        .collect();
    items.sort_by_key(|(s, _)| *s);
    let (list, token) = paginate(items, page);
    Ok(with_token(
        json!({"TrafficDistributionGroupSummaryList": list}),
        token,
    ))
}

pub(super) fn delete_tdg(w: &mut World, c: &Call) -> ApiResult {
    let id = tdg_id(w, c, c.label(0))?;
    let t = &w.tdgs[&id];
    if c.region != t.home {
        return Err(ApiError::invalid_request(format!(
            "delete the group in its home region {}",
            t.home
        )));
    }
    if t.is_default {
        return Err(ApiError::invalid_request(
            "the default traffic distribution group cannot be deleted; it goes with the replica",
        ));
    }
    let status = t.home_view(c.now).status;
    if !matches!(status, "ACTIVE" | "CREATION_FAILED" | "DELETION_FAILED") {
        return Err(ApiError::invalid_request(format!("the group is {status}")));
    }
    let arn = w.tdg_arn(t);
    if let Some(n) = w.numbers.values().find(|n| n.target_arn == arn) {
        return Err(ApiError::in_use(
            format!("phone number {} is still claimed to the group", n.number),
            "PHONE_NUMBER",
            &n.id,
        ));
    }
    let until = c.now + w.settings.tdg_deletion_seconds;
    if let Some(t) = w.tdgs.get_mut(&id) {
        t.lifecycle = "PENDING_DELETION".into();
        t.until = until;
    }
    Ok(json!({}))
}

pub(super) fn user_id_from(label: &str) -> &str {
    match split_arn(label) {
        Some((_, _, "instance", rest)) => rest.rsplit('/').next().unwrap_or(rest),
        _ => label,
    }
}

pub(super) fn associate_user(w: &mut World, c: &Call) -> ApiResult {
    let user_label = c.input.str_req("UserId", 1, 256)?;
    let instance_id = c.input.str_req("InstanceId", 1, 100)?;
    let id = tdg_id(w, c, c.label(0))?;
    let t = &w.tdgs[&id];
    if c.region != t.home {
        return Err(ApiError::not_found(format!(
            "traffic distribution group {id} is not found in {}: associate users in its home region {}",
            c.region, t.home
        )));
    }
    let status = t.home_view(c.now).status;
    if status != ACTIVE {
        return Err(ApiError::not_found(format!(
            "traffic distribution group {id} is {status}, not ACTIVE"
        )));
    }
    let iid = user_id_from(&instance_id).to_string();
    if iid != t.instance_id {
        return Err(ApiError::invalid_request(format!(
            "InstanceId {instance_id} is not the group's instance {}",
            t.instance_id
        )));
    }
    let uid = user_id_from(&user_label).to_string();
    let user = w
        .instance(&t.home, &t.instance_id)
        .and_then(|i| i.set(Kind::Users))
        .and_then(|s| s.get(&uid))
        .ok_or_else(|| {
            ApiError::not_found(format!("user {uid} is not a user of the source instance"))
        })?;
    let in_replica = w
        .instance(&t.other, &t.instance_id)
        .and_then(|i| i.set(Kind::Users))
        .and_then(|s| s.by_name(&user.name))
        .is_some();
    if !in_replica {
        return Err(ApiError::invalid_request(format!(
            "user {} does not exist in the replica instance in {} yet",
            user.name, t.other
        )));
    }
    if let Some(t) = w.tdgs.get_mut(&id) {
        t.users.insert(uid);
    }
    Ok(json!({}))
}

pub(super) fn disassociate_user(w: &mut World, c: &Call) -> ApiResult {
    let user_label = c.input.query_required("UserId", 1, 256)?;
    let instance_id = c.input.query_required("InstanceId", 1, 100)?;
    let id = tdg_id(w, c, c.label(0))?;
    let t = &w.tdgs[&id];
    if c.region != t.home {
        return Err(ApiError::not_found(format!(
            "traffic distribution group {id} is not found in {}: disassociate users in its home region {}",
            c.region, t.home
        )));
    }
    if user_id_from(&instance_id) != t.instance_id {
        return Err(ApiError::invalid_request(format!(
            "InstanceId {instance_id} is not the group's instance {}",
            t.instance_id
        )));
    }
    let uid = user_id_from(&user_label).to_string();
    if let Some(t) = w.tdgs.get_mut(&id) {
        t.users.remove(&uid);
    }
    Ok(json!({}))
}

pub(super) fn list_tdg_users(w: &mut World, c: &Call) -> ApiResult {
    let page = c.input.page_query(1000, 10)?;
    let page = crate::wire::PageRequest {
        size: page.size.min(10),
        ..page
    };
    let id = tdg_id(w, c, c.label(0))?;
    let items = w.tdgs[&id]
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| (i as u64 + 1, json!({"UserId": u})));
    let (list, token) = paginate(items, page);
    Ok(with_token(
        json!({"TrafficDistributionGroupUserSummaryList": list}),
        token,
    ))
}
