//! ReplicateInstance, the replica's lifecycle, and ListReplicationFindings.

use super::*;

pub(super) fn replicate_instance(w: &mut World, c: &Call) -> ApiResult {
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
    require_global_resiliency(w)?;
    let (region, id) = instance_key(w, c, c.label(0))?;
    let fingerprint = format!("{id}|{replica}|{alias:?}");
    if let Some(t) = &token {
        if let Some((fp, first)) =
            w.tokens
                .get(&(region.clone(), Operation::ReplicateInstance, t.clone()))
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
        w.tokens.insert(
            (region, Operation::ReplicateInstance, t),
            (fingerprint, out.clone()),
        );
    }
    Ok(out)
}

/// A re-run on an instance replicated without global routing (admin guide, migration steps 6-7):
/// once AWS granted global routing to the account, replication is in progress again in both
/// regions for `migrationSeconds`, then complete with global routing on. Without the grant, or
/// while a migration runs, the instance is "already replicated".
fn migrate_to_global_routing(
    w: &mut World,
    c: &Call,
    id: &str,
    replica: &str,
    answer: Value,
) -> ApiResult {
    if w.migrating(id) {
        return Err(ApiError::invalid_request(format!(
            "instance {id} is already replicated to {replica}; its migration to global routing is in progress"
        )));
    }
    if !w.settings.global_routing_granted {
        return Err(ApiError::invalid_request(format!(
            "instance {id} is already replicated to {replica}, and global routing is not enabled for account {}: ask AWS Support to enable it, then call ReplicateInstance again",
            w.account
        )));
    }
    w.start_migration(id, c.now);
    Ok(answer)
}

/// Global Resiliency is enabled by AWS per account: without it, ReplicateInstance and
/// CreateTrafficDistributionGroup are refused (AccessDeniedException, the error their model lists
/// for what the caller may not do).
pub(super) fn require_global_resiliency(w: &World) -> ApiResult<()> {
    if w.settings.global_resiliency_enabled {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::AccessDenied,
        format!(
            "Amazon Connect Global Resiliency is not enabled for account {}. To obtain access to this feature, contact your Amazon Connect Solutions Architect or Technical Account Manager.",
            w.account
        ),
    ))
}

pub(super) fn replicate_checked(
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
        if matches!(rep.phase, Phase::Deleting { .. }) {
            return Err(ApiError::new(
                ErrorCode::ResourceNotReady,
                format!(
                    "the replica of instance {id} in {} is being deleted; call again once it is gone",
                    rep.replica
                ),
            ));
        }
        let running = rep.phase == Phase::Running;
        let to_retry = !rep.blocked.is_empty() || !rep.failed_syncs.is_empty();
        if running && rep.replica == replica && to_retry {
            retry_blocked(w, c, rep)?;
            return Ok(answer);
        }
        if running && rep.replica == replica && !w.routing_on(id) {
            return migrate_to_global_routing(w, c, id, replica, answer);
        }
        let state = match &rep.phase {
            Phase::Running => String::new(),
            Phase::CreationFailed { reason }
            | Phase::ReplicationFailed { reason, .. }
            | Phase::DeletionFailed { reason } => {
                format!(" ({}: {reason})", rep.phase.name())
            }
            Phase::Deleting { .. } => String::new(),
        };
        return Err(ApiError::invalid_request(format!(
            "instance {id} is already replicated to {}{state}",
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
    if w.settings.name_conflict_answer == RefusalCode::InvalidRequest {
        check_name_conflicts(w, &inst, replica)?;
    }
    let in_replica_region = w.instances.keys().filter(|(r, _)| r == replica).count();
    if in_replica_region >= w.settings.instances_per_region {
        return Err(ApiError::new(
            ErrorCode::ServiceQuotaExceeded,
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

pub(super) fn start_replication(
    w: &mut World,
    c: &Call,
    inst: Instance,
    replica: &str,
    alias: String,
) {
    let ready_at = c.now + w.settings.replica_creation_seconds;
    let seq = w.next_seq();
    // What the team sets up in the replica region (scenario `replica`): Lambda functions and
    // Lex bots are not copied by replication.
    let setup = w.replica_setups.get(&inst.id).cloned().unwrap_or_default();
    let integrations = setup
        .applications
        .iter()
        .map(|(name, namespace)| {
            crate::scenario::application(w, replica, &inst.id, name, namespace, c.now)
        })
        .collect();
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
        lambda_functions: setup.lambda_functions,
        lex_v1: Vec::new(),
        lex_v2: setup.lex_v2,
        approved_origins: setup.approved_origins,
        integrations,
        resources: Default::default(),
        replica_of: Some(c.region.to_string()),
    };
    w.instances
        .insert((replica.to_string(), inst.id.clone()), replica_inst);
    // An instance replicated for the first time on an account granted global routing gets it
    // with its replica (our choice: the grant applies to the next run).
    if w.settings.global_routing_granted {
        w.routing.entry(inst.id.clone()).or_default().enabled = true;
    }

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
        // Prompts stored in S3 are never mirrored (they are findings instead).
        let mut ids: Vec<(bool, String)> = set
            .iter()
            .filter(|(_, r)| !r.in_s3())
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
    let plan = w.replica_plans.remove(&inst.id).map(|p| match p {
        // A staged region outside the pair fails both.
        ReplicaFailure::ReplicationFailed {
            after_seconds,
            region: Some(r),
            reason,
        } if r != c.region && r != replica => ReplicaFailure::ReplicationFailed {
            after_seconds,
            region: None,
            reason,
        },
        p => p,
    });
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
            phase: Phase::Running,
            plan,
            plan_at: None,
            stranded: Default::default(),
            failed_syncs: Vec::new(),
        },
    );
    let has_group = w.tdgs.values().any(|t| t.instance_id == inst.id);
    if !has_group {
        let id = w.ids.uuid();
        let seq = w.next_seq();
        let both = |a: i64, b: i64| vec![(c.region.to_string(), a), (replica.to_string(), b)];
        w.add_tdg(Tdg {
            seq,
            id,
            name: format!("{}-default", inst.alias.clone().unwrap_or_default()),
            description: Some("Default traffic distribution group".into()),
            instance_id: inst.id.clone(),
            home: c.region.to_string(),
            other: replica.to_string(),
            is_default: true,
            lifecycle: "CREATION_IN_PROGRESS".into(),
            until: ready_at,
            settled: Settled::new(Distribution {
                telephony: both(100, 0),
                agents: both(100, 0),
                sign_in: Some(vec![
                    (c.region.to_string(), true),
                    (replica.to_string(), false),
                ]),
            }),
            versions: Vec::new(),
            users: Default::default(),
            tags: Map::new(),
            fail_creation: false,
            fail_deletion: false,
        });
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
            w.add_tdg(Tdg {
                seq,
                id,
                name,
                description: None,
                instance_id: inst.id.clone(),
                home: c.region.to_string(),
                other: replica.to_string(),
                is_default: false,
                lifecycle: "CREATION_IN_PROGRESS".into(),
                until: ready_at,
                settled: Settled::new(Distribution {
                    telephony: both(100, 0),
                    agents: both(100, 0),
                    sign_in: None,
                }),
                versions: Vec::new(),
                users: Default::default(),
                tags: Map::new(),
                fail_creation: false,
                fail_deletion: false,
            });
        }
    }
}

/// With `nameConflictAnswer: InvalidRequestException`, the first call fails while resources of
/// the instance have look-alikes waiting in the replica region (the scenario's
/// `replicaConflicts`): "there is a resource name conflict".
fn check_name_conflicts(w: &World, inst: &Instance, replica: &str) -> ApiResult<()> {
    let conflicts: Vec<String> = w
        .pending_conflicts
        .get(&inst.id)
        .into_iter()
        .flatten()
        .filter(|(kind, _)| kind.has_id())
        .filter_map(|(kind, name)| {
            let r = inst.set(*kind)?.by_name(name)?;
            Some(format!(
                "{} '{name}' (source {}) exists in {replica} with another ID",
                kind.spec().finding_type,
                r.id
            ))
        })
        .collect();
    if conflicts.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid_request(format!(
        "There is a resource name conflict: {}. Delete or rename one of them, then call ReplicateInstance again.",
        conflicts.join("; ")
    )))
}

/// A repeat call after conflicts or failed syncs: refused while any look-alike remains, else
/// retries them all.
pub(super) fn retry_blocked(w: &mut World, c: &Call, rep: Replication) -> ApiResult<()> {
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
        return Err(ApiError::new(
            w.settings.name_conflict_answer.code(),
            format!("resource name conflicts remain: {}", unresolved.join("; ")),
        ));
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
    for f in &rep.failed_syncs {
        w.schedule(
            due,
            Task {
                instance_id: rep.instance_id.clone(),
                from: f.from.clone(),
                to: f.to.clone(),
                kind: f.kind,
                id: f.id.clone(),
                op: if f.operation == "DELETE" {
                    TaskOp::Delete
                } else {
                    TaskOp::Upsert
                },
                class: TaskClass::Resync,
            },
        );
    }
    if let Some(r) = w.replications.get_mut(&rep.instance_id) {
        r.resync_pending += r.blocked.len() + r.failed_syncs.len();
        r.blocked.clear();
        r.failed_syncs.clear();
    }
    Ok(())
}
