//! The Connect operations: routing from method and path, and one handler per operation.

use serde_json::{json, Map, Value};

use crate::kinds::{Kind, OTHER_FINDING_TYPES};
use crate::model::{
    default_attrs, Distribution, Instance, PhoneNumber, Replication, Resource, Task, TaskClass,
    TaskOp, Tdg, World,
};
use crate::wire::{is_alias, is_region, is_uuid, paginate, split_arn, ApiError, ApiResult, Input};

/// Which operation a request is, and its decoded path labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub operation: &'static str,
    pub labels: Vec<String>,
    pub kind: Option<Kind>,
}

/// Maps a method and decoded path segments to an operation.
pub fn route(method: &str, segs: &[String]) -> Option<Route> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let r = |operation: &'static str, labels: &[&str]| {
        Some(Route {
            operation,
            labels: labels.iter().map(|l| l.to_string()).collect(),
            kind: None,
        })
    };
    match (method, s.as_slice()) {
        ("POST", ["instance", id, "replicate"]) => r("ReplicateInstance", &[id]),
        ("GET", ["instance"]) => r("ListInstances", &[]),
        ("GET", ["instance", id]) => r("DescribeInstance", &[id]),
        ("GET", ["instance", id, "attributes"]) => r("ListInstanceAttributes", &[id]),
        ("GET", ["instance", id, "attribute", t]) => r("DescribeInstanceAttribute", &[id, t]),
        ("GET", ["instance", id, "lambda-functions"]) => r("ListLambdaFunctions", &[id]),
        ("GET", ["instance", id, "bots"]) => r("ListBots", &[id]),
        ("GET", ["instance", id, "lex-bots"]) => r("ListLexBots", &[id]),
        ("PUT", ["traffic-distribution-group"]) => r("CreateTrafficDistributionGroup", &[]),
        ("GET", ["traffic-distribution-groups"]) => r("ListTrafficDistributionGroups", &[]),
        ("GET", ["traffic-distribution-group", id]) => r("DescribeTrafficDistributionGroup", &[id]),
        ("DELETE", ["traffic-distribution-group", id]) => {
            r("DeleteTrafficDistributionGroup", &[id])
        }
        ("PUT", ["traffic-distribution-group", id, "user"]) => {
            r("AssociateTrafficDistributionGroupUser", &[id])
        }
        ("DELETE", ["traffic-distribution-group", id, "user"]) => {
            r("DisassociateTrafficDistributionGroupUser", &[id])
        }
        ("GET", ["traffic-distribution-group", id, "user"]) => {
            r("ListTrafficDistributionGroupUsers", &[id])
        }
        ("GET", ["traffic-distribution", id]) => r("GetTrafficDistribution", &[id]),
        ("PUT", ["traffic-distribution", id]) => r("UpdateTrafficDistribution", &[id]),
        ("POST", ["phone-number", "list"]) => r("ListPhoneNumbersV2", &[]),
        ("GET", ["phone-number", id]) => r("DescribePhoneNumber", &[id]),
        ("PUT", ["phone-number", id]) => r("UpdatePhoneNumber", &[id]),
        ("GET", ["users", iid, uid]) => r("DescribeUser", &[iid, uid]),
        ("PUT", ["users", iid]) => r("CreateUser", &[iid]),
        ("DELETE", ["users", iid, uid]) => r("DeleteUser", &[iid, uid]),
        ("PUT", ["queues", iid]) => r("CreateQueue", &[iid]),
        ("DELETE", ["queues", iid, qid]) => r("DeleteQueue", &[iid, qid]),
        ("GET", ["contact-flows", iid, fid]) => r("DescribeContactFlow", &[iid, fid]),
        ("GET", ["contact-flow-modules", iid, mid]) => r("DescribeContactFlowModule", &[iid, mid]),
        ("GET", ["replication-findings", iid]) => r("ListReplicationFindings", &[iid]),
        ("GET", [path, iid]) => Kind::by_path(path).map(|k| Route {
            operation: k.spec().operation,
            labels: vec![iid.to_string()],
            kind: Some(k),
        }),
        _ => None,
    }
}

/// The error an operation models for bad parameters.
pub fn invalid_code(operation: &str) -> &'static str {
    match operation {
        "ReplicateInstance"
        | "DescribeInstance"
        | "ListInstances"
        | "CreateTrafficDistributionGroup"
        | "DescribeTrafficDistributionGroup"
        | "ListTrafficDistributionGroups"
        | "DeleteTrafficDistributionGroup"
        | "GetTrafficDistribution"
        | "UpdateTrafficDistribution"
        | "AssociateTrafficDistributionGroupUser"
        | "DisassociateTrafficDistributionGroupUser"
        | "ListTrafficDistributionGroupUsers"
        | "ListReplicationFindings"
        | "ListBots" => "InvalidRequestException",
        _ => "InvalidParameterException",
    }
}

/// One call, as a handler sees it.
pub struct Call<'a> {
    pub region: &'a str,
    pub now: f64,
    pub input: &'a Input,
    pub route: &'a Route,
}

impl Call<'_> {
    fn label(&self, i: usize) -> &str {
        self.route.labels.get(i).map(String::as_str).unwrap_or("")
    }
    fn bad(&self, message: impl Into<String>) -> ApiError {
        ApiError::new(self.input.invalid, message)
    }
}

pub fn dispatch(w: &mut World, c: &Call) -> ApiResult {
    if let Some(kind) = c.route.kind {
        return list_kind(w, c, kind);
    }
    match c.route.operation {
        "ReplicateInstance" => replicate_instance(w, c),
        "DescribeInstance" => describe_instance(w, c),
        "ListInstances" => list_instances(w, c),
        "ListInstanceAttributes" => list_instance_attributes(w, c),
        "DescribeInstanceAttribute" => describe_instance_attribute(w, c),
        "ListLambdaFunctions" => list_lambda_functions(w, c),
        "ListBots" => list_bots(w, c),
        "ListLexBots" => list_lex_bots(w, c),
        "CreateTrafficDistributionGroup" => create_tdg(w, c),
        "ListTrafficDistributionGroups" => list_tdgs(w, c),
        "DescribeTrafficDistributionGroup" => describe_tdg(w, c),
        "DeleteTrafficDistributionGroup" => delete_tdg(w, c),
        "AssociateTrafficDistributionGroupUser" => associate_user(w, c),
        "DisassociateTrafficDistributionGroupUser" => disassociate_user(w, c),
        "ListTrafficDistributionGroupUsers" => list_tdg_users(w, c),
        "GetTrafficDistribution" => get_traffic_distribution(w, c),
        "UpdateTrafficDistribution" => update_traffic_distribution(w, c),
        "ListPhoneNumbersV2" => list_phone_numbers(w, c),
        "DescribePhoneNumber" => describe_phone_number(w, c),
        "UpdatePhoneNumber" => update_phone_number(w, c),
        "DescribeUser" => describe_user(w, c),
        "CreateUser" => create_user(w, c),
        "DeleteUser" => delete_user(w, c),
        "CreateQueue" => create_queue(w, c),
        "DeleteQueue" => delete_queue(w, c),
        "DescribeContactFlow" => describe_contact_flow(w, c),
        "DescribeContactFlowModule" => describe_contact_flow_module(w, c),
        "ListReplicationFindings" => list_replication_findings(w, c),
        other => Err(ApiError::new(
            "UnknownOperationException",
            format!("{other} is not implemented"),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Instances

/// Resolves an instance ID or instance ARN in the calling region.
fn instance_key(w: &World, c: &Call, label: &str) -> ApiResult<(String, String)> {
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

fn instance<'w>(w: &'w World, c: &Call, label: &str) -> ApiResult<&'w Instance> {
    let (region, id) = instance_key(w, c, label)?;
    w.instance(&region, &id)
        .ok_or_else(|| ApiError::not_found(format!("instance {id} does not exist")))
}

fn replication_status(w: &World, rep: &Replication) -> (&'static str, Option<String>) {
    let ready = w
        .instance(&rep.replica, &rep.instance_id)
        .is_some_and(|i| i.status == "ACTIVE");
    let status = if !ready || rep.in_progress() {
        "INSTANCE_REPLICATION_IN_PROGRESS"
    } else {
        "INSTANCE_REPLICATION_COMPLETE"
    };
    let reason = (!rep.blocked.is_empty()).then(|| {
        format!(
            "{} resources are not replicated because of name conflicts; see ListReplicationFindings",
            rep.blocked.len()
        )
    });
    (status, reason)
}

fn replication_configuration(w: &World, inst: &Instance) -> Option<Value> {
    let rep = w.replications.get(&inst.id)?;
    let (status, reason) = replication_status(w, rep);
    let entries: Vec<Value> = [&rep.source, &rep.replica]
        .iter()
        .map(|region| {
            let mut e = json!({"Region": region, "ReplicationStatus": status});
            if let Some(r) = &reason {
                e["ReplicationStatusReason"] = r.clone().into();
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

fn instance_summary(w: &World, inst: &Instance) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("Id".into(), inst.id.clone().into());
    m.insert("Arn".into(), w.instance_arn(&inst.region, &inst.id).into());
    m.insert(
        "IdentityManagementType".into(),
        inst.identity.clone().into(),
    );
    if let Some(a) = &inst.alias {
        m.insert("InstanceAlias".into(), a.clone().into());
        m.insert(
            "InstanceAccessUrl".into(),
            format!("https://{a}.my.connect.aws").into(),
        );
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

fn describe_instance(w: &mut World, c: &Call) -> ApiResult {
    if c.label(0).chars().count() > 100 {
        return Err(c.bad("InstanceId must be 1 to 100 characters long"));
    }
    let inst = instance(w, c, c.label(0))?;
    let mut out = json!({"Instance": Value::Object(instance_summary(w, inst))});
    out["Instance"]["Tags"] = json!({});
    if let Some(rc) = replication_configuration(w, inst) {
        out["ReplicationConfiguration"] = rc;
    }
    Ok(out)
}

fn list_instances(w: &mut World, c: &Call) -> ApiResult {
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

fn with_token(mut v: Value, token: Option<String>) -> Value {
    if let Some(t) = token {
        v["NextToken"] = t.into();
    }
    v
}

fn list_instance_attributes(w: &mut World, c: &Call) -> ApiResult {
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

const ATTRIBUTE_TYPES: &[&str] = &[
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

fn describe_instance_attribute(w: &mut World, c: &Call) -> ApiResult {
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

fn list_lambda_functions(w: &mut World, c: &Call) -> ApiResult {
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

fn list_bots(w: &mut World, c: &Call) -> ApiResult {
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

fn list_lex_bots(w: &mut World, c: &Call) -> ApiResult {
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

// ---------------------------------------------------------------------------------------------
// ReplicateInstance

fn replicate_instance(w: &mut World, c: &Call) -> ApiResult {
    let replica = c.input.str_req("ReplicaRegion", 8, 31)?;
    if !is_region(&replica) {
        return Err(c.bad(format!("ReplicaRegion '{replica}' is not a region name")));
    }
    let alias = c.input.str_opt("ReplicaAlias", 1, 45)?;
    if let Some(a) = &alias {
        if !is_alias(a) {
            return Err(c.bad(format!(
                "ReplicaAlias '{a}' must hold letters, digits and single hyphens, and not start with 'd-'"
            )));
        }
    }
    let token = c.input.str_opt("ClientToken", 1, 500)?;
    let (region, id) = instance_key(w, c, c.label(0))?;
    let fingerprint = format!("{id}|{replica}|{alias:?}");
    if let Some(t) = &token {
        if let Some((fp, first)) = w
            .tokens
            .get(&(region.clone(), "ReplicateInstance", t.clone()))
        {
            return if *fp == fingerprint {
                Ok(first.clone())
            } else {
                Err(ApiError::invalid_request(
                    "ClientToken was already used with different parameters",
                ))
            };
        }
    }
    let out = replicate_checked(w, c, &id, &replica, alias)?;
    if let Some(t) = token {
        w.tokens
            .insert((region, "ReplicateInstance", t), (fingerprint, out.clone()));
    }
    Ok(out)
}

fn replicate_checked(
    w: &mut World,
    c: &Call,
    id: &str,
    replica: &str,
    alias: Option<String>,
) -> ApiResult {
    let inst = w
        .instance(c.region, id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("instance {id} does not exist")))?;
    if let Some(source) = &inst.replica_of {
        return Err(ApiError::invalid_request(format!(
            "instance {id} in {} is a replica of the instance in {source}: it is already replicated",
            c.region
        )));
    }
    if replica == c.region {
        return Err(ApiError::invalid_request(format!(
            "ReplicaRegion {replica} is the instance's own region; choose its paired region"
        )));
    }
    let answer = json!({"Id": id, "Arn": w.instance_arn(replica, id)});
    if let Some(rep) = w.replications.get(id).cloned() {
        if rep.replica == replica && !rep.blocked.is_empty() {
            retry_blocked(w, c, rep)?;
            return Ok(answer);
        }
        return Err(ApiError::invalid_request(format!(
            "instance {id} is already replicated to {}",
            rep.replica
        )));
    }
    let pairs: Vec<&str> = w
        .settings
        .region_pairs
        .iter()
        .filter(|(s, _)| s == c.region)
        .map(|(_, r)| r.as_str())
        .collect();
    if !pairs.contains(&replica) {
        return Err(ApiError::invalid_request(format!(
            "{replica} is not a Global Resiliency pair of {}; supported replica regions: {}",
            c.region,
            if pairs.is_empty() {
                "none".to_string()
            } else {
                pairs.join(", ")
            }
        )));
    }
    if inst.status != "ACTIVE" {
        return Err(ApiError::invalid_request(format!(
            "instance {id} is {}; it must be ACTIVE",
            inst.status
        )));
    }
    let Some(source_alias) = inst.alias.clone() else {
        return Err(ApiError::invalid_request(format!(
            "instance {id} has no alias; Global Resiliency needs one"
        )));
    };
    if inst.identity != "SAML" {
        return Err(ApiError::invalid_request(format!(
            "instance {id} uses {} identity management; Global Resiliency needs SAML",
            inst.identity
        )));
    }
    let in_replica_region = w.instances.keys().filter(|(r, _)| r == replica).count();
    if in_replica_region >= w.settings.instances_per_region {
        return Err(ApiError::new(
            "ServiceQuotaExceededException",
            format!("the account already has {in_replica_region} instances in {replica}"),
        ));
    }
    let replica_alias = alias.unwrap_or(source_alias);
    let taken = w
        .instances
        .values()
        .any(|i| i.id != id && i.alias.as_deref() == Some(&replica_alias));
    if taken || w.instance(replica, id).is_some() {
        return Err(ApiError::conflict(format!(
            "alias {replica_alias} or instance {id} already exists in another instance"
        )));
    }
    start_replication(w, c, inst, replica, replica_alias);
    Ok(answer)
}

fn start_replication(w: &mut World, c: &Call, inst: Instance, replica: &str, alias: String) {
    let ready_at = c.now + w.settings.replica_creation_seconds;
    let seq = w.next_seq();
    let replica_inst = Instance {
        seq,
        id: inst.id.clone(),
        region: replica.to_string(),
        alias: Some(alias),
        identity: inst.identity.clone(),
        status: "CREATION_IN_PROGRESS".into(),
        created: c.now,
        ready_at,
        attributes: inst.attributes.clone(),
        lambda_functions: Vec::new(),
        lex_v1: Vec::new(),
        lex_v2: Vec::new(),
        resources: Default::default(),
        replica_of: Some(c.region.to_string()),
    };
    w.instances
        .insert((replica.to_string(), inst.id.clone()), replica_inst);

    // The first copy: kind by kind, defaults first, at the scenario's rate.
    let mut due = ready_at;
    let mut count = 0;
    for (kind, set) in &inst.resources {
        let rate = w
            .settings
            .mirror_per_second_by_kind
            .get(kind)
            .copied()
            .unwrap_or(w.settings.mirror_per_second);
        let mut ids: Vec<(bool, String)> = set
            .iter()
            .map(|(_, r)| (!r.default, r.id.clone()))
            .collect();
        ids.sort_by_key(|(not_default, _)| *not_default);
        for (_, rid) in ids {
            due += 1.0 / rate;
            count += 1;
            w.schedule(
                due,
                Task {
                    instance_id: inst.id.clone(),
                    from: c.region.to_string(),
                    to: replica.to_string(),
                    kind: *kind,
                    id: rid,
                    op: TaskOp::Upsert,
                    class: TaskClass::Initial,
                },
            );
        }
    }
    let seeds = w.pending_conflicts.remove(&inst.id).unwrap_or_default();
    w.replications.insert(
        inst.id.clone(),
        Replication {
            instance_id: inst.id.clone(),
            source: c.region.to_string(),
            replica: replica.to_string(),
            requested_at: c.now,
            replica_ready_at: ready_at,
            initial_pending: count,
            resync_pending: 0,
            blocked: Vec::new(),
            conflict_seeds: seeds,
            seeded: false,
        },
    );
    let has_group = w.tdgs.values().any(|t| t.instance_id == inst.id);
    if !has_group {
        let id = w.ids.uuid();
        let seq = w.next_seq();
        let both = |a: i64, b: i64| vec![(c.region.to_string(), a), (replica.to_string(), b)];
        w.tdgs.insert(
            id.clone(),
            Tdg {
                seq,
                id,
                name: format!("{}-default", inst.alias.clone().unwrap_or_default()),
                description: Some("Default traffic distribution group".into()),
                instance_id: inst.id.clone(),
                home: c.region.to_string(),
                other: replica.to_string(),
                is_default: true,
                status: "CREATION_IN_PROGRESS".into(),
                until: ready_at,
                current: Distribution {
                    telephony: both(100, 0),
                    agents: both(100, 0),
                    sign_in: Some(vec![
                        (c.region.to_string(), true),
                        (replica.to_string(), false),
                    ]),
                },
                pending: None,
                last_failover: None,
                users: Default::default(),
                tags: Map::new(),
            },
        );
        // The scenario's non-default groups (`phoneNumbers[].group`), made with the default
        // group and on the same schedule; each claims its numbers when it becomes ACTIVE.
        let instance_arn = w.instance_arn(c.region, &inst.id);
        let mut names: Vec<String> = Vec::new();
        for n in w.numbers.values() {
            if let Some(g) = &n.group {
                if n.region == c.region && n.target_arn == instance_arn && !names.contains(g) {
                    names.push(g.clone());
                }
            }
        }
        for name in names {
            let id = w.ids.uuid();
            let seq = w.next_seq();
            w.tdgs.insert(
                id.clone(),
                Tdg {
                    seq,
                    id,
                    name,
                    description: None,
                    instance_id: inst.id.clone(),
                    home: c.region.to_string(),
                    other: replica.to_string(),
                    is_default: false,
                    status: "CREATION_IN_PROGRESS".into(),
                    until: ready_at,
                    current: Distribution {
                        telephony: both(100, 0),
                        agents: both(100, 0),
                        sign_in: None,
                    },
                    pending: None,
                    last_failover: None,
                    users: Default::default(),
                    tags: Map::new(),
                },
            );
        }
    }
}

/// A repeat call after conflicts: refused while any look-alike remains, else retries them all.
fn retry_blocked(w: &mut World, c: &Call, rep: Replication) -> ApiResult<()> {
    let unresolved: Vec<String> = rep
        .blocked
        .iter()
        .filter(|b| {
            w.instance(&b.to, &rep.instance_id)
                .and_then(|i| i.set(b.kind))
                .and_then(|s| s.by_name(&b.name))
                .is_some_and(|r| r.id != b.source_id)
        })
        .map(|b| {
            format!(
                "{} '{}' (source {} in {}, other {} in {})",
                b.kind.spec().finding_type,
                b.name,
                b.source_id,
                b.from,
                b.target_id,
                b.to
            )
        })
        .collect();
    if !unresolved.is_empty() {
        return Err(ApiError::conflict(format!(
            "resource name conflicts remain: {}",
            unresolved.join("; ")
        )));
    }
    let due = c.now + w.settings.sync_delay_seconds;
    for b in &rep.blocked {
        w.schedule(
            due,
            Task {
                instance_id: rep.instance_id.clone(),
                from: b.from.clone(),
                to: b.to.clone(),
                kind: b.kind,
                id: b.source_id.clone(),
                op: TaskOp::Upsert,
                class: TaskClass::Resync,
            },
        );
    }
    if let Some(r) = w.replications.get_mut(&rep.instance_id) {
        r.resync_pending += r.blocked.len();
        r.blocked.clear();
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Traffic distribution groups

fn is_tdg_arn_shape(label: &str) -> bool {
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
fn tdg_id(w: &World, c: &Call, label: &str) -> ApiResult<String> {
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

fn tdg_json(w: &World, t: &Tdg, full: bool) -> Value {
    let mut v = json!({
        "Id": t.id,
        "Arn": w.tdg_arn(t),
        "Name": t.name,
        "InstanceArn": w.instance_arn(&t.home, &t.instance_id),
        "Status": t.status,
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

fn create_tdg(w: &mut World, c: &Call) -> ApiResult {
    let name = c.input.str_req("Name", 1, 128)?;
    if name.trim() != name {
        return Err(c.bad("Name must not start or end with white space"));
    }
    let description = c.input.str_opt("Description", 1, 250)?;
    let instance_label = c.input.str_req("InstanceId", 1, 250)?;
    let token = c.input.str_opt("ClientToken", 1, 500)?;
    let tags = c.input.object_opt("Tags")?.cloned().unwrap_or_default();
    let (_, iid) = instance_key(w, c, &instance_label)?;
    let fingerprint = format!("{iid}|{name}|{description:?}");
    if let Some(t) = &token {
        let key = (
            c.region.to_string(),
            "CreateTrafficDistributionGroup",
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
        status: "CREATION_IN_PROGRESS".into(),
        until: (c.now + w.settings.tdg_creation_seconds).max(rep.replica_ready_at),
        current: Distribution {
            telephony: both(100, 0),
            agents: both(100, 0),
            sign_in: None,
        },
        pending: None,
        last_failover: None,
        users: Default::default(),
        tags,
    };
    let out = json!({"Id": id, "Arn": w.tdg_arn(&tdg)});
    w.tdgs.insert(id, tdg);
    if let Some(t) = token {
        w.tokens.insert(
            (c.region.to_string(), "CreateTrafficDistributionGroup", t),
            (fingerprint, out.clone()),
        );
    }
    Ok(out)
}

fn describe_tdg(w: &mut World, c: &Call) -> ApiResult {
    let id = tdg_id(w, c, c.label(0))?;
    let t = &w.tdgs[&id];
    Ok(json!({"TrafficDistributionGroup": tdg_json(w, t, true)}))
}

fn list_tdgs(w: &mut World, c: &Call) -> ApiResult {
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
        .map(|t| (t.seq, tdg_json(w, t, false)))
        .collect();
    items.sort_by_key(|(s, _)| *s);
    let (list, token) = paginate(items, page);
    Ok(with_token(
        json!({"TrafficDistributionGroupSummaryList": list}),
        token,
    ))
}

fn delete_tdg(w: &mut World, c: &Call) -> ApiResult {
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
    if t.status != "ACTIVE" {
        return Err(ApiError::invalid_request(format!(
            "the group is {}",
            t.status
        )));
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
        t.status = "PENDING_DELETION".into();
        t.until = until;
    }
    Ok(json!({}))
}

fn distribution_json(d: &[(String, i64)]) -> Value {
    json!({"Distributions": d.iter().map(|(r, p)| json!({"Region": r, "Percentage": p})).collect::<Vec<_>>()})
}

fn get_traffic_distribution(w: &mut World, c: &Call) -> ApiResult {
    let id = tdg_id(w, c, c.label(0))?;
    let t = &w.tdgs[&id];
    if t.status != "ACTIVE" {
        return Err(ApiError::invalid_request(format!(
            "traffic distribution group {} is {}; it must be ACTIVE",
            t.id, t.status
        )));
    }
    let mut out = json!({
        "Id": t.id,
        "Arn": w.tdg_arn(t),
        "TelephonyConfig": distribution_json(&t.current.telephony),
        "AgentConfig": distribution_json(&t.current.agents),
    });
    if let Some(s) = &t.current.sign_in {
        out["SignInConfig"] = json!({"Distributions": s.iter().map(|(r, e)| json!({"Region": r, "Enabled": e})).collect::<Vec<_>>()});
    }
    if let Some(f) = t.last_failover {
        out["LastFailoverTime"] = f.into();
    }
    Ok(out)
}

fn parse_percentages(c: &Call, member: &str, t: &Tdg) -> ApiResult<Option<Vec<(String, i64)>>> {
    let Some(cfg) = c.input.object_opt(member)? else {
        return Ok(None);
    };
    let list = cfg
        .get("Distributions")
        .and_then(Value::as_array)
        .ok_or_else(|| c.bad(format!("{member}.Distributions is required")))?;
    let mut out = Vec::new();
    for d in list {
        let region = d.get("Region").and_then(Value::as_str);
        let pct = d.get("Percentage").and_then(Value::as_i64);
        let (Some(region), Some(pct)) = (region, pct) else {
            return Err(c.bad(format!(
                "{member}: every distribution needs Region and Percentage"
            )));
        };
        if !is_region(region) || !(0..=100).contains(&pct) {
            return Err(c.bad(format!("{member}: '{region}' {pct}% is out of range")));
        }
        if pct % 10 != 0 {
            return Err(ApiError::invalid_request(format!(
                "{member}: percentages move in steps of 10 (got {pct} for {region})"
            )));
        }
        out.push((region.to_string(), pct));
    }
    check_regions(member, out.iter().map(|(r, _)| r.as_str()), t)?;
    let sum: i64 = out.iter().map(|(_, p)| p).sum();
    if sum != 100 {
        return Err(ApiError::invalid_request(format!(
            "{member}: percentages must add up to 100 (got {sum})"
        )));
    }
    Ok(Some(out))
}

fn check_regions<'a>(
    member: &str,
    regions: impl Iterator<Item = &'a str>,
    t: &Tdg,
) -> ApiResult<()> {
    let mut got: Vec<&str> = regions.collect();
    got.sort_unstable();
    let mut want = vec![t.home.as_str(), t.other.as_str()];
    want.sort_unstable();
    if got != want {
        return Err(ApiError::invalid_request(format!(
            "{member}: name each of {} and {} exactly once (got {})",
            t.home,
            t.other,
            got.join(", ")
        )));
    }
    Ok(())
}

fn parse_sign_in(c: &Call, t: &Tdg) -> ApiResult<Option<Vec<(String, bool)>>> {
    let Some(cfg) = c.input.object_opt("SignInConfig")? else {
        return Ok(None);
    };
    let list = cfg
        .get("Distributions")
        .and_then(Value::as_array)
        .ok_or_else(|| c.bad("SignInConfig.Distributions is required"))?;
    let mut out = Vec::new();
    for d in list {
        let region = d.get("Region").and_then(Value::as_str);
        let enabled = d.get("Enabled").and_then(Value::as_bool);
        let (Some(region), Some(enabled)) = (region, enabled) else {
            return Err(c.bad("SignInConfig: every distribution needs Region and Enabled"));
        };
        out.push((region.to_string(), enabled));
    }
    check_regions("SignInConfig", out.iter().map(|(r, _)| r.as_str()), t)?;
    Ok(Some(out))
}

fn update_traffic_distribution(w: &mut World, c: &Call) -> ApiResult {
    let id = tdg_id(w, c, c.label(0))?;
    let t = w.tdgs[&id].clone();
    let telephony = parse_percentages(c, "TelephonyConfig", &t)?;
    let agents = parse_percentages(c, "AgentConfig", &t)?;
    let sign_in = parse_sign_in(c, &t)?;
    match t.status.as_str() {
        "ACTIVE" => {}
        "UPDATE_IN_PROGRESS" => {
            return Err(ApiError::conflict(
                "another traffic distribution update is still being applied",
            ))
        }
        other => {
            return Err(ApiError::invalid_request(format!(
                "traffic distribution group {id} is {other}; it must be ACTIVE"
            )))
        }
    }
    if telephony.is_none() && agents.is_none() && sign_in.is_none() {
        return Err(ApiError::invalid_request(
            "give at least one of TelephonyConfig, AgentConfig and SignInConfig",
        ));
    }
    if sign_in.is_some() && !t.is_default {
        return Err(ApiError::invalid_request(
            "SignInConfig can only be changed on the default traffic distribution group",
        ));
    }
    let next = Distribution {
        telephony: telephony.unwrap_or(t.current.telephony.clone()),
        agents: agents.unwrap_or(t.current.agents.clone()),
        sign_in: sign_in.or(t.current.sign_in.clone()),
    };
    let until = c.now + w.settings.tdg_update_seconds;
    if let Some(t) = w.tdgs.get_mut(&id) {
        t.pending = Some(next);
        t.status = "UPDATE_IN_PROGRESS".into();
        t.until = until;
        t.last_failover = Some(c.now);
    }
    Ok(json!({}))
}

fn user_id_from(label: &str) -> &str {
    match split_arn(label) {
        Some((_, _, "instance", rest)) => rest.rsplit('/').next().unwrap_or(rest),
        _ => label,
    }
}

fn associate_user(w: &mut World, c: &Call) -> ApiResult {
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
    if t.status != "ACTIVE" {
        return Err(ApiError::not_found(format!(
            "traffic distribution group {id} is {}, not ACTIVE",
            t.status
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

fn disassociate_user(w: &mut World, c: &Call) -> ApiResult {
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

fn list_tdg_users(w: &mut World, c: &Call) -> ApiResult {
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

// ---------------------------------------------------------------------------------------------
// Phone numbers

fn number_visible(w: &World, n: &crate::model::PhoneNumber, region: &str) -> bool {
    n.region == region
        || w.tdgs
            .values()
            .any(|t| w.tdg_arn(t) == n.target_arn && (t.home == region || t.other == region))
}

fn number_json(w: &World, n: &crate::model::PhoneNumber) -> Value {
    let mut v = json!({
        "PhoneNumberId": n.id,
        "PhoneNumberArn": crate::model::arn(&w.account, &n.region, &format!("phone-number/{}", n.id)),
        "PhoneNumber": n.number,
        "PhoneNumberCountryCode": n.country,
        "PhoneNumberType": n.number_type,
        "TargetArn": n.target_arn,
        "InstanceId": n.instance_id,
    });
    if let Some(d) = &n.description {
        v["PhoneNumberDescription"] = d.clone().into();
    }
    v
}

const NUMBER_TYPES: &[&str] = &[
    "TOLL_FREE",
    "DID",
    "UIFN",
    "SHARED",
    "THIRD_PARTY_TF",
    "THIRD_PARTY_DID",
    "SHORT_CODE",
];

fn list_phone_numbers(w: &mut World, c: &Call) -> ApiResult {
    let page = c.input.page_body(1000, 100)?;
    let target = c.input.str_opt("TargetArn", 1, 1024)?;
    let instance_id = c.input.str_opt("InstanceId", 1, 100)?;
    let countries = c.input.str_list("PhoneNumberCountryCodes", 10)?;
    let types = c.input.str_list("PhoneNumberTypes", 6)?;
    if let Some(bad) = types.iter().find(|t| !NUMBER_TYPES.contains(&t.as_str())) {
        return Err(c.bad(format!("'{bad}' is not a phone number type")));
    }
    let prefix = c.input.str_opt("PhoneNumberPrefix", 1, 12)?;
    if let Some(t) = &target {
        match split_arn(t) {
            Some((_, _, "traffic-distribution-group", id)) => {
                if w.tdgs.get(id).is_none_or(|g| w.tdg_arn(g) != *t) {
                    return Err(ApiError::not_found(format!("{t} not found")));
                }
            }
            Some((_, _, "instance", _)) => {}
            _ => return Err(c.bad(format!("TargetArn '{t}' is not an instance or group ARN"))),
        }
    }
    let items: Vec<(u64, Value)> = w
        .numbers
        .values()
        .filter(|n| number_visible(w, n, c.region))
        .filter(|n| target.as_ref().is_none_or(|t| *t == n.target_arn))
        .filter(|n| instance_id.as_ref().is_none_or(|i| *i == n.instance_id))
        .filter(|n| countries.is_empty() || countries.contains(&n.country))
        .filter(|n| types.is_empty() || types.contains(&n.number_type))
        .filter(|n| {
            prefix.as_ref().is_none_or(|p| {
                n.number.starts_with(p.as_str()) || n.number[1..].starts_with(p.as_str())
            })
        })
        .map(|n| (n.seq, number_json(w, n)))
        .collect();
    let mut items = items;
    items.sort_by_key(|(s, _)| *s);
    let (list, token) = paginate(items, page);
    Ok(with_token(
        json!({"ListPhoneNumbersSummaryList": list}),
        token,
    ))
}

fn describe_phone_number(w: &mut World, c: &Call) -> ApiResult {
    let label = c.label(0);
    let id = match split_arn(label) {
        Some((_, _, "phone-number", id)) => id,
        _ => label,
    };
    let n = w
        .numbers
        .get(id)
        .filter(|n| number_visible(w, n, c.region))
        .ok_or_else(|| {
            ApiError::not_found(format!("phone number {label} not found in {}", c.region))
        })?;
    let mut v = number_json(w, n);
    v["PhoneNumberStatus"] = json!({"Status": "CLAIMED"});
    v["Tags"] = json!({});
    Ok(json!({"ClaimedPhoneNumberSummary": v}))
}

/// Where UpdatePhoneNumber is asked to move a number: (target ARN, its instance ID).
fn phone_number_target(w: &World, c: &Call, n: &PhoneNumber) -> ApiResult<(String, String)> {
    let target = c.input.str_opt("TargetArn", 1, 1024)?;
    let instance_label = c.input.str_opt("InstanceId", 1, 100)?;
    match (target, instance_label) {
        (Some(_), Some(_)) => Err(c.bad("give TargetArn or InstanceId, not both")),
        (None, None) => Err(c.bad("one of TargetArn and InstanceId is required")),
        (None, Some(label)) => {
            let id = user_id_from(&label).to_string();
            if w.instance(&n.region, &id).is_none() {
                return Err(ApiError::not_found(format!(
                    "instance {label} does not exist in {}",
                    n.region
                )));
            }
            Ok((w.instance_arn(&n.region, &id), id))
        }
        (Some(t), None) => match split_arn(&t) {
            Some((region, account, "instance", id)) if !id.contains('/') => {
                if account != w.account || !w.instances.keys().any(|(_, i)| i == id) {
                    return Err(ApiError::not_found(format!("target {t} does not exist")));
                }
                if region != n.region {
                    return Err(c.bad(format!(
                        "TargetArn {t} is in {region}; phone number {} can only move within {}",
                        n.id, n.region
                    )));
                }
                if w.instance(region, id).is_none() {
                    return Err(ApiError::not_found(format!("target {t} does not exist")));
                }
                Ok((t.clone(), id.to_string()))
            }
            Some((_, _, "traffic-distribution-group", _)) if is_tdg_arn_shape(&t) => {
                let id = t.rsplit('/').next().unwrap_or_default();
                let g = w
                    .tdgs
                    .get(id)
                    .filter(|g| w.tdg_arn(g) == t)
                    .ok_or_else(|| ApiError::not_found(format!("target {t} does not exist")))?;
                if g.home != n.region {
                    return Err(c.bad(format!(
                        "traffic distribution group {t} belongs to {}; phone number {} can only move to a group of its own region {}",
                        g.home, n.id, n.region
                    )));
                }
                if !matches!(g.status.as_str(), "ACTIVE" | "UPDATE_IN_PROGRESS") {
                    return Err(c.bad(format!(
                        "traffic distribution group {t} is {}; numbers move to ACTIVE groups only",
                        g.status
                    )));
                }
                Ok((t.clone(), g.instance_id.clone()))
            }
            _ => Err(c.bad(format!(
                "TargetArn '{t}' is not an instance or traffic distribution group ARN"
            ))),
        },
    }
}

fn update_phone_number(w: &mut World, c: &Call) -> ApiResult {
    let label = c.label(0);
    let id = match split_arn(label) {
        Some((_, _, "phone-number", id)) => id,
        _ => label,
    };
    let token = c.input.str_opt("ClientToken", 1, 500)?;
    let n = w
        .numbers
        .get(id)
        .filter(|n| n.region == c.region)
        .cloned()
        .ok_or_else(|| {
            ApiError::not_found(format!("phone number {label} not found in {}", c.region))
        })?;
    let (target, instance_id) = phone_number_target(w, c, &n)?;
    let fingerprint = format!("{}|{target}", n.id);
    if let Some(t) = &token {
        let key = (c.region.to_string(), "UpdatePhoneNumber", t.clone());
        if let Some((fp, first)) = w.tokens.get(&key) {
            return if *fp == fingerprint {
                Ok(first.clone())
            } else {
                Err(ApiError::new(
                    "IdempotencyException",
                    "ClientToken was already used with different parameters",
                ))
            };
        }
    }
    if let Some(num) = w.numbers.get_mut(&n.id) {
        if num.target_arn != target {
            num.target_arn = target;
            num.instance_id = instance_id;
            // The number-to-flow association does not follow the number.
            num.flow_id = None;
        }
        num.group = None;
    }
    let out = json!({
        "PhoneNumberId": n.id,
        "PhoneNumberArn": crate::model::arn(&w.account, &n.region, &format!("phone-number/{}", n.id)),
    });
    if let Some(t) = token {
        w.tokens.insert(
            (c.region.to_string(), "UpdatePhoneNumber", t),
            (fingerprint, out.clone()),
        );
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Mirrored resources

fn summary(w: &World, inst: &Instance, kind: Kind, r: &Resource) -> Value {
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

fn list_kind(w: &mut World, c: &Call, kind: Kind) -> ApiResult {
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

fn describe_user(w: &mut World, c: &Call) -> ApiResult {
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

fn require_active(inst: &Instance) -> ApiResult<()> {
    if inst.status == "ACTIVE" {
        Ok(())
    } else {
        Err(ApiError::invalid_request(format!(
            "instance {} in {} is {}",
            inst.id, inst.region, inst.status
        )))
    }
}

fn require_ref(c: &Call, inst: &Instance, kind: Kind, member: &str, id: &str) -> ApiResult<()> {
    if inst.set(kind).and_then(|s| s.get(id)).is_some() {
        Ok(())
    } else {
        Err(c.bad(format!(
            "{member} {id} does not exist in instance {}",
            inst.id
        )))
    }
}

fn create_user(w: &mut World, c: &Call) -> ApiResult {
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
            "DuplicateResourceException",
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

fn create_resource(
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

fn delete_resource(w: &mut World, c: &Call, kind: Kind, id: &str) -> ApiResult {
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

fn delete_user(w: &mut World, c: &Call) -> ApiResult {
    let uid = user_id_from(c.label(1)).to_string();
    delete_resource(w, c, Kind::Users, &uid)
}

fn create_queue(w: &mut World, c: &Call) -> ApiResult {
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
            "DuplicateResourceException",
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

fn delete_queue(w: &mut World, c: &Call) -> ApiResult {
    let qid = c.label(1).to_string();
    delete_resource(w, c, Kind::Queues, &qid)
}

fn describe_contact_flow(w: &mut World, c: &Call) -> ApiResult {
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
            "ContactFlowNotPublishedException",
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

fn describe_contact_flow_module(w: &mut World, c: &Call) -> ApiResult {
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

fn list_replication_findings(w: &mut World, c: &Call) -> ApiResult {
    let resource_type = c.input.query_required("resourceType", 1, 128)?;
    let page = c.input.page_query(100, 100)?;
    let kind = Kind::by_finding_type(&resource_type);
    if kind.is_none() && !OTHER_FINDING_TYPES.contains(&resource_type.as_str()) {
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
    let findings: Vec<Value> = rep
        .blocked
        .iter()
        .filter(|b| Some(b.kind) == kind)
        .map(|b| {
            json!({
                "Arn": w.resource_arn(&b.from, &rep.instance_id, b.kind, &b.source_id),
                "Id": b.source_id,
                "ResourceType": resource_type,
                "Region": b.to,
                "Name": b.name,
                "Operation": "CREATE",
                "ReferenceCode": "RESOURCE_NAME_CONFLICT",
                "Message": format!(
                    "A {} named '{}' with another ID ({}) exists in {}. Delete or rename it there, then call ReplicateInstance again.",
                    resource_type, b.name, b.target_id, b.to
                ),
            })
        })
        .collect();
    let regions = [rep.source.clone(), rep.replica.clone()];
    let drift: Vec<Value> = regions
        .iter()
        .map(|r| {
            let count = kind.map_or(0, |k| w.drift(&rep.instance_id, k, r));
            json!({"Region": r, "Count": count, "Timestamp": c.now})
        })
        .collect();
    let statuses: Vec<Value> = regions
        .iter()
        .map(|r| {
            let blocked = rep
                .blocked
                .iter()
                .any(|b| Some(b.kind) == kind && b.to == *r);
            json!({"Region": r, "Status": if blocked { "BLOCKED" } else { "ENABLED" }})
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

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(path: &str) -> Vec<String> {
        path.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn routes_follow_the_model_paths() {
        let cases = [
            ("POST", "/instance/abc/replicate", "ReplicateInstance"),
            ("GET", "/instance/abc", "DescribeInstance"),
            (
                "PUT",
                "/traffic-distribution-group",
                "CreateTrafficDistributionGroup",
            ),
            (
                "GET",
                "/traffic-distribution-groups",
                "ListTrafficDistributionGroups",
            ),
            (
                "PUT",
                "/traffic-distribution/x",
                "UpdateTrafficDistribution",
            ),
            (
                "DELETE",
                "/traffic-distribution-group/x/user",
                "DisassociateTrafficDistributionGroupUser",
            ),
            ("POST", "/phone-number/list", "ListPhoneNumbersV2"),
            ("GET", "/users-summary/abc", "ListUsers"),
            ("GET", "/agent-status/abc", "ListAgentStatuses"),
            (
                "GET",
                "/contact-flow-modules/abc/m-1",
                "DescribeContactFlowModule",
            ),
            (
                "GET",
                "/replication-findings/abc",
                "ListReplicationFindings",
            ),
        ];
        for (method, path, op) in cases {
            assert_eq!(
                route(method, &segs(path)).map(|r| r.operation),
                Some(op),
                "{method} {path}"
            );
        }
        assert!(route("GET", &segs("/nope/abc")).is_none());
        assert!(route("DELETE", &segs("/instance/abc")).is_none());
    }

    #[test]
    fn tdg_arns_must_match_the_identifier_shape() {
        assert!(is_tdg_arn_shape(
            "arn:aws:connect:us-east-1:123456789012:traffic-distribution-group/0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
        ));
        assert!(!is_tdg_arn_shape(
            "arn:aws-cn:connect:cn-north-1:123456789012:traffic-distribution-group/0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
        ));
        assert!(!is_tdg_arn_shape(
            "arn:aws:connect:us-east-1:123456789012:traffic-distribution-group/ABC"
        ));
    }
}
