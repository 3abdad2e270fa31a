//! The mirrored resources: listings, users, queues, flows and modules.

use super::*;

pub(super) fn summary(w: &World, inst: &Instance, kind: Kind, r: &Resource) -> Value {
    let spec = kind.spec();
    let mut m = Map::new();
    if kind.has_id() {
        m.insert("Id".into(), r.id.clone().into());
        m.insert(
            "Arn".into(),
            w.resource_arn(&inst.region, &inst.id, kind, &r.id).into(),
        );
    }
    m.insert(spec.name_key.into(), r.name.clone().into());
    for key in spec.summary_keys {
        if let Some(v) = r.attrs.get(*key) {
            m.insert(key.to_string(), v.clone());
        }
    }
    if spec.has_last_modified {
        m.insert("LastModifiedTime".into(), r.last_modified.into());
        m.insert(
            "LastModifiedRegion".into(),
            r.last_modified_region.clone().into(),
        );
    }
    Value::Object(m)
}

/// The List operation of a mirrored kind.
pub(super) fn list_kind(w: &mut World, c: &Call) -> ApiResult {
    let Some(kind) = c.operation.kind() else {
        return Err(ApiError::new(
            ErrorCode::UnknownOperation,
            format!("{} lists no resource kind", c.operation.name()),
        ));
    };
    let spec = kind.spec();
    let page = c.input.page_query(spec.max_page, 100)?;
    let filter = match spec.filter {
        Some((key, attr, allowed)) => Some((attr, c.input.query_enum(key, allowed)?)),
        None => None,
    };
    let inst = instance(w, c, c.label(0))?;
    let empty = Default::default();
    let set = inst.set(kind).unwrap_or(&empty);
    let items = set
        .iter()
        .filter(|(_, r)| match &filter {
            Some((attr, wanted)) if !wanted.is_empty() => r
                .attrs
                .get(*attr)
                .and_then(Value::as_str)
                .is_some_and(|v| wanted.iter().any(|x| x == v)),
            _ => true,
        })
        .map(|(pos, r)| (pos, summary(w, inst, kind, r)));
    let (list, token) = paginate(items, page);
    let mut out = Map::new();
    out.insert(spec.list_key.into(), Value::Array(list));
    Ok(with_token(Value::Object(out), token))
}

pub(super) fn describe_user(w: &mut World, c: &Call) -> ApiResult {
    let inst = instance(w, c, c.label(0))?;
    let uid = user_id_from(c.label(1));
    let u = inst
        .set(Kind::Users)
        .and_then(|s| s.get(uid))
        .ok_or_else(|| ApiError::not_found(format!("user {uid} not found")))?;
    let mut user = Map::new();
    user.insert("Id".into(), u.id.clone().into());
    user.insert(
        "Arn".into(),
        w.resource_arn(&inst.region, &inst.id, Kind::Users, &u.id)
            .into(),
    );
    user.insert("Username".into(), u.name.clone().into());
    for key in [
        "IdentityInfo",
        "PhoneConfig",
        "SecurityProfileIds",
        "RoutingProfileId",
        "HierarchyGroupId",
        "DirectoryUserId",
    ] {
        if let Some(v) = u.attrs.get(key) {
            user.insert(key.into(), v.clone());
        }
    }
    user.insert("Tags".into(), json!({}));
    user.insert("LastModifiedTime".into(), u.last_modified.into());
    user.insert(
        "LastModifiedRegion".into(),
        u.last_modified_region.clone().into(),
    );
    Ok(json!({"User": user}))
}

pub(super) fn require_active(inst: &Instance) -> ApiResult<()> {
    if inst.status == "ACTIVE" {
        Ok(())
    } else {
        Err(ApiError::invalid_request(format!(
            "instance {} in {} is {}",
            inst.id, inst.region, inst.status
        )))
    }
}

pub(super) fn require_ref(
    c: &Call,
    inst: &Instance,
    kind: Kind,
    member: &str,
    id: &str,
) -> ApiResult<()> {
    if inst.set(kind).and_then(|s| s.get(id)).is_some() {
        Ok(())
    } else {
        Err(c.bad(format!(
            "{member} {id} does not exist in instance {}",
            inst.id
        )))
    }
}

pub(super) fn create_user(w: &mut World, c: &Call) -> ApiResult {
    let username = c.input.str_req("Username", 1, 100)?;
    if !username
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_-.@".contains(&b))
    {
        return Err(c.bad("Username may hold letters, digits and _ - . @ only"));
    }
    let phone = c
        .input
        .object_opt("PhoneConfig")?
        .cloned()
        .ok_or_else(|| c.bad("required member 'PhoneConfig' is missing"))?;
    match phone.get("PhoneType").and_then(Value::as_str) {
        Some("SOFT_PHONE" | "DESK_PHONE") => {}
        _ => return Err(c.bad("PhoneConfig.PhoneType must be SOFT_PHONE or DESK_PHONE")),
    }
    let security = c.input.str_list("SecurityProfileIds", 10)?;
    if security.is_empty() {
        return Err(c.bad("required member 'SecurityProfileIds' is missing or empty"));
    }
    let routing = c.input.str_req("RoutingProfileId", 1, 256)?;
    let hierarchy = c.input.str_opt("HierarchyGroupId", 1, 256)?;
    let identity = c.input.object_opt("IdentityInfo")?.cloned();
    c.input.str_opt("Password", 1, 64)?;
    let inst = instance(w, c, c.label(0))?;
    require_active(inst)?;
    for sp in &security {
        require_ref(c, inst, Kind::SecurityProfiles, "SecurityProfileId", sp)?;
    }
    require_ref(c, inst, Kind::RoutingProfiles, "RoutingProfileId", &routing)?;
    if let Some(h) = &hierarchy {
        require_ref(c, inst, Kind::UserHierarchyGroups, "HierarchyGroupId", h)?;
    }
    if inst
        .set(Kind::Users)
        .and_then(|s| s.by_name(&username))
        .is_some()
    {
        return Err(ApiError::new(
            ErrorCode::DuplicateResource,
            format!("a user named {username} already exists"),
        ));
    }
    let (region, iid) = (inst.region.clone(), inst.id.clone());
    let mut attrs = default_attrs(Kind::Users);
    attrs.insert("PhoneConfig".into(), Value::Object(phone));
    attrs.insert("SecurityProfileIds".into(), json!(security));
    attrs.insert("RoutingProfileId".into(), routing.into());
    if let Some(h) = hierarchy {
        attrs.insert("HierarchyGroupId".into(), h.into());
    }
    if let Some(i) = identity {
        attrs.insert("IdentityInfo".into(), Value::Object(i));
    }
    let id = w.ids.uuid();
    let arn = w.resource_arn(&region, &iid, Kind::Users, &id);
    create_resource(w, c, &iid, Kind::Users, id.clone(), username, attrs);
    Ok(json!({"UserId": id, "UserArn": arn}))
}

pub(super) fn create_resource(
    w: &mut World,
    c: &Call,
    iid: &str,
    kind: Kind,
    id: String,
    name: String,
    attrs: Map<String, Value>,
) {
    if let Some(inst) = w.instance_mut(c.region, iid) {
        inst.set_mut(kind).insert(Resource {
            id: id.clone(),
            name,
            attrs,
            last_modified: c.now,
            last_modified_region: c.region.to_string(),
            default: false,
        });
    }
    w.sync_change(c.now, c.region, iid, kind, &id, TaskOp::Upsert);
}

pub(super) fn delete_resource(w: &mut World, c: &Call, kind: Kind, id: &str) -> ApiResult {
    let inst = instance(w, c, c.label(0))?;
    let iid = inst.id.clone();
    if inst.set(kind).and_then(|s| s.get(id)).is_none() {
        return Err(ApiError::not_found(format!(
            "{} {id} not found in instance {iid}",
            kind.spec().finding_type
        )));
    }
    if kind == Kind::Queues {
        let used_by = inst.set(Kind::RoutingProfiles).and_then(|s| {
            s.iter()
                .find(|(_, rp)| {
                    rp.attrs
                        .get("QueueIds")
                        .and_then(Value::as_array)
                        .is_some_and(|q| q.iter().any(|x| x.as_str() == Some(id)))
                })
                .map(|(_, rp)| rp.name.clone())
        });
        if let Some(rp) = used_by {
            return Err(ApiError::in_use(
                format!("queue {id} is used by routing profile {rp}"),
                "QUEUE",
                id,
            ));
        }
    }
    if let Some(inst) = w.instance_mut(c.region, &iid) {
        inst.set_mut(kind).remove(id);
    }
    if kind == Kind::Users {
        for t in w.tdgs.values_mut().filter(|t| t.instance_id == iid) {
            t.users.remove(id);
        }
    }
    w.sync_change(c.now, c.region, &iid, kind, id, TaskOp::Delete);
    Ok(json!({}))
}

pub(super) fn delete_user(w: &mut World, c: &Call) -> ApiResult {
    let uid = user_id_from(c.label(1)).to_string();
    delete_resource(w, c, Kind::Users, &uid)
}

pub(super) fn create_queue(w: &mut World, c: &Call) -> ApiResult {
    let name = c.input.str_req("Name", 1, 127)?;
    let hours = c.input.str_req("HoursOfOperationId", 1, 256)?;
    let description = c.input.str_opt("Description", 1, 250)?;
    c.input.int_opt("MaxContacts", 0, i64::from(i32::MAX))?;
    let quick_connects = c.input.str_list("QuickConnectIds", 50)?;
    let inst = instance(w, c, c.label(0))?;
    require_active(inst)?;
    require_ref(
        c,
        inst,
        Kind::HoursOfOperations,
        "HoursOfOperationId",
        &hours,
    )?;
    for q in &quick_connects {
        require_ref(c, inst, Kind::QuickConnects, "QuickConnectId", q)?;
    }
    if inst
        .set(Kind::Queues)
        .and_then(|s| s.by_name(&name))
        .is_some()
    {
        return Err(ApiError::new(
            ErrorCode::DuplicateResource,
            format!("a queue named {name} already exists"),
        ));
    }
    let (region, iid) = (inst.region.clone(), inst.id.clone());
    let mut attrs = default_attrs(Kind::Queues);
    attrs.insert("HoursOfOperationId".into(), hours.into());
    attrs.insert("QuickConnectIds".into(), json!(quick_connects));
    if let Some(d) = description {
        attrs.insert("Description".into(), d.into());
    }
    let id = w.ids.uuid();
    let arn = w.resource_arn(&region, &iid, Kind::Queues, &id);
    create_resource(w, c, &iid, Kind::Queues, id.clone(), name, attrs);
    Ok(json!({"QueueId": id, "QueueArn": arn}))
}

pub(super) fn delete_queue(w: &mut World, c: &Call) -> ApiResult {
    let qid = c.label(1).to_string();
    delete_resource(w, c, Kind::Queues, &qid)
}

pub(super) fn describe_contact_flow(w: &mut World, c: &Call) -> ApiResult {
    let label = c.label(1);
    if label.chars().count() > 500 {
        return Err(c.bad("ContactFlowId must be at most 500 characters long"));
    }
    let inst = instance(w, c, c.label(0))?;
    let base = match split_arn(label) {
        Some((_, _, "instance", rest)) => rest.rsplit('/').next().unwrap_or(rest),
        _ => label,
    };
    let (fid, suffix) = match base.split_once(':') {
        Some((id, s)) => (id, Some(s)),
        None => (base, None),
    };
    let f = inst
        .set(Kind::ContactFlows)
        .and_then(|s| s.get(fid))
        .ok_or_else(|| ApiError::not_found(format!("contact flow {fid} not found")))?;
    let status = f.attrs.get("ContactFlowStatus").and_then(Value::as_str);
    if status == Some("SAVED") && suffix != Some("$SAVED") {
        return Err(ApiError::new(
            ErrorCode::ContactFlowNotPublished,
            format!("contact flow {fid} is not published; ask for {fid}:$SAVED"),
        ));
    }
    let a = |k: &str| f.attrs.get(k).cloned().unwrap_or(Value::Null);
    Ok(json!({"ContactFlow": {
        "Arn": w.resource_arn(&inst.region, &inst.id, Kind::ContactFlows, &f.id),
        "Id": f.id,
        "Name": f.name,
        "Type": a("ContactFlowType"),
        "State": a("ContactFlowState"),
        "Status": a("ContactFlowStatus"),
        "Content": a("Content"),
        "Tags": {},
        "LastModifiedTime": f.last_modified,
        "LastModifiedRegion": f.last_modified_region,
    }}))
}

pub(super) fn describe_contact_flow_module(w: &mut World, c: &Call) -> ApiResult {
    let label = c.label(1);
    if label.chars().count() > 256 {
        return Err(c.bad("ContactFlowModuleId must be at most 256 characters long"));
    }
    let inst = instance(w, c, c.label(0))?;
    let base = match split_arn(label) {
        Some((_, _, "instance", rest)) => rest.rsplit('/').next().unwrap_or(rest),
        _ => label,
    };
    let mid = base.split_once(':').map_or(base, |(id, _)| id);
    let m = inst
        .set(Kind::ContactFlowModules)
        .and_then(|s| s.get(mid))
        .ok_or_else(|| ApiError::not_found(format!("contact flow module {mid} not found")))?;
    let a = |k: &str| m.attrs.get(k).cloned().unwrap_or(Value::Null);
    Ok(json!({"ContactFlowModule": {
        "Arn": w.resource_arn(&inst.region, &inst.id, Kind::ContactFlowModules, &m.id),
        "Id": m.id,
        "Name": m.name,
        "Content": a("Content"),
        "Description": a("Description"),
        "State": a("State"),
        "Status": "PUBLISHED",
        "Tags": {},
    }}))
}
