//! One poll's measurement: the signals (constant cost), the listings they allow, the record.

use std::collections::BTreeMap;

use crate::PollStore;
use acgr::connect::findings::{ClassCounts, FindingClass, ReportedFinding};
use acgr::connect::{Connect, ReplicationInfo};
use acgr::domain::Kind;
use acgr::error::{ConnectError, ConnectErrorClass, StepError};
use acgr::mirroring::{conflicts, finding_types, SnapshotRecord, TypeSnapshot, TypesRecord};
use acgr::Context;

use crate::listing::{emergency_ready, list_and_diff, merge_conflicts, Listing};
use crate::prior::Prior;
use crate::signal::Signal;
use crate::{
    Conflict, FindingsReport, KindProgress, Output, MAX_CONFLICTS_LISTED, MAX_FINDINGS_LISTED,
    MAX_FINDINGS_PER_SNAPSHOT, RELIST_AFTER_SECONDS,
};

/// The deadline's refusal (nothing was sent), as opposed to a failure.
pub(crate) fn out_of_time(e: &ConnectError) -> bool {
    e.class == ConnectErrorClass::OutOfTime
}

pub(crate) async fn measure<C: Connect, S: PollStore>(
    ctx: &Context<C, S>,
    run_id: &str,
    id: &str,
    prior: Prior,
    now: i64,
) -> Result<Output, StepError> {
    let replication = replication(ctx, id).await?;
    let replica_region = ctx.replica.region().to_string();
    let (mut signals, mut partial) = signals(ctx, id, &replica_region).await?;
    let replica_ready = match ctx.replica.describe_instance(id).await {
        // a replica that could not be created fails the run, with its reason
        Ok(Some(i)) => {
            acgr::mirroring::replication::check_replica(&i)?;
            i.is_active()
        }
        Ok(None) => false,
        Err(e) if out_of_time(&e) => {
            partial = true;
            false
        }
        Err(e) => return Err(e.into()),
    };
    let (mut kinds, mut carried_conflicts) = progress(&signals, &prior);

    // The listing diff: once the signals say done (or done but for findings: name conflicts then
    // stop the run, naming the look-alikes' replica IDs).
    let signals_done = signals.len() == Kind::ALL.len() && signals.values().all(|s| s.missing == 0);
    let to_list = to_list(&kinds, prior.listed_at, now);
    let mut listing = Listing::default();
    if !partial && replica_ready && replication.complete() && signals_done && !to_list.is_empty() {
        listing = list_and_diff(ctx, id, &to_list, &replica_region, &mut signals).await?;
        partial |= listing.cut;
        for (kind, progress) in &listing.kinds {
            kinds.insert(kind.key().to_string(), progress.clone());
            carried_conflicts.retain(|k| k != kind);
        }
    }

    // Emergency access: remembered once ready; else from this poll's listings of the replica;
    // else, once the signals say both kinds are mirrored, by listing them (spaced like the diff).
    let defaults_clear = [Kind::Queues, Kind::RoutingProfiles]
        .iter()
        .all(|k| signals.get(k).is_some_and(Signal::clear));
    let check_due = due(prior.emergency_checked_at, now);
    let mut emergency_checked_at = prior.emergency_checked_at;
    let emergency_access_ready = if prior.emergency_access_ready {
        true
    } else if listing.has_defaults_listed() || (replica_ready && defaults_clear && check_due) {
        if !listing.has_defaults_listed() {
            emergency_checked_at = Some(now);
        }
        match emergency_ready(&ctx.replica, id, &listing.replica).await {
            Ok(ready) => ready,
            Err(e) if out_of_time(&e) => {
                partial = true;
                false
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        false
    };

    // Every other resource type the service reports, last: the kinds' signals and listings come
    // first within the deadline.
    let types = if partial {
        None
    } else {
        let extra = finding_types::configured_extra()?;
        let (types, cut) = other_types(ctx, id, &replica_region, extra).await?;
        partial |= cut;
        Some((types, !cut))
    };

    // Conflicts: the findings', completed by the listings'; a kind carried from a listing that
    // found look-alikes keeps them standing.
    let mut seen: Vec<Conflict> = signals.values().flat_map(|s| s.conflicts.clone()).collect();
    seen = merge_conflicts(seen, listing.conflicts);
    if !carried_conflicts.is_empty() {
        keep_standing(&ctx.store, id, &carried_conflicts, &mut seen).await?;
    }
    conflicts::upsert(&ctx.store, id, &seen, now).await?;
    // Only a poll that looked at every kind may say a conflict is gone.
    if !partial {
        conflicts::resolve_absent(&ctx.store, id, &seen, now).await?;
    }
    for (kind, signal) in &signals {
        if let Some(k) = kinds.get(kind.key()) {
            ctx.store
                .put_snapshot(&snapshot(id, run_id, *kind, k, signal, now))
                .await?;
        }
    }

    let types = merge_types(&ctx.store, id, run_id, types, now).await?;
    let types_blocking: u64 = types.iter().map(TypeSnapshot::blocking).sum();
    let complete = !partial
        && replica_ready
        && replication.complete()
        && kinds.len() == Kind::ALL.len()
        && kinds.values().all(KindProgress::confirmed)
        && seen.is_empty()
        && types_blocking == 0;
    // other types that hold completion back with missing dependencies only
    let types_need_action = types
        .iter()
        .all(|t| t.counts.name_conflict == 0 && t.counts.sync_failure == 0)
        && types.iter().any(|t| t.counts.missing_dependency > 0);
    let needs_action = !complete
        && !partial
        && replica_ready
        && replication.complete()
        && kinds.len() == Kind::ALL.len()
        && seen.is_empty()
        && kinds
            .values()
            .all(|k| k.listed_clean() && k.sync_failures == 0)
        && types
            .iter()
            .all(|t| t.counts.name_conflict == 0 && t.counts.sync_failure == 0)
        && (kinds.values().any(|k| k.missing_dependencies > 0) || types_need_action);
    let conflicts_total = seen.len() as u64;
    seen.truncate(MAX_CONFLICTS_LISTED);
    let findings = report(&kinds, &signals, &types, conflicts_total);
    let listed = !listing.kinds.is_empty();
    Ok(Output {
        run_id: run_id.to_string(),
        instance_id: id.to_string(),
        complete,
        needs_action,
        emergency_access_ready,
        kinds,
        conflicts: seen,
        conflicts_total,
        findings,
        types,
        blocked: None,
        replication_status: replication.statuses,
        listed,
        listed_at: if listed { Some(now) } else { prior.listed_at },
        emergency_checked_at,
        partial,
    })
}

/// Each kind as its signals say, or as its last listing said while the signals say the same
/// ([`Signal::keeps`]); a kind this poll did not reach keeps what the run knew. Also the carried
/// kinds whose listing found look-alikes.
fn progress(
    signals: &BTreeMap<Kind, Signal>,
    prior: &Prior,
) -> (BTreeMap<String, KindProgress>, Vec<Kind>) {
    let mut kinds = BTreeMap::new();
    let mut carried_conflicts = Vec::new();
    for kind in Kind::ALL {
        let known = prior.kinds.get(kind.key());
        let progress = match signals.get(&kind) {
            None => match known {
                Some(k) => k.clone(),
                None => continue,
            },
            Some(s) => match known.filter(|k| s.keeps(k)) {
                Some(k) => {
                    if k.conflicting > 0 {
                        carried_conflicts.push(kind);
                    }
                    s.with_findings(k.clone())
                }
                None => s.progress(),
            },
        };
        kinds.insert(kind.key().to_string(), progress);
    }
    (kinds, carried_conflicts)
}

/// A listing made at `last` (if ever) may be made again.
fn due(last: Option<i64>, now: i64) -> bool {
    last.is_none_or(|at| now.saturating_sub(at) >= RELIST_AFTER_SECONDS)
}

/// The kinds no listing confirmed: at once those not listed yet, and those whose listing
/// disagreed at most every RELIST_AFTER_SECONDS. A kind whose listing agreed and that only
/// findings hold back is not listed again while they stand: a listing cannot clear them.
fn to_list(kinds: &BTreeMap<String, KindProgress>, listed_at: Option<i64>, now: i64) -> Vec<Kind> {
    Kind::ALL
        .into_iter()
        .filter(|k| match kinds.get(k.key()) {
            Some(p) if p.confirmed() || p.listed_clean() => false,
            Some(p) if p.source.is_some() => due(listed_at, now),
            _ => true,
        })
        .collect()
}

/// Adds to `seen` the unresolved conflicts on record of `kinds`.
async fn keep_standing<S: PollStore>(
    store: &S,
    id: &str,
    kinds: &[Kind],
    seen: &mut Vec<Conflict>,
) -> Result<(), StepError> {
    for c in store.conflicts(id).await? {
        if !c.resolved
            && kinds.contains(&c.kind)
            && !seen.iter().any(|s| s.kind == c.kind && s.name == c.name)
        {
            seen.push(Conflict {
                kind: c.kind,
                name: c.name,
                source_id: c.source_id,
                replica_id: c.replica_id,
                region: c.region,
            });
        }
    }
    Ok(())
}

fn snapshot(
    id: &str,
    run_id: &str,
    kind: Kind,
    k: &KindProgress,
    signal: &Signal,
    now: i64,
) -> SnapshotRecord {
    SnapshotRecord {
        instance_id: id.to_string(),
        run_id: run_id.to_string(),
        kind,
        source: k.source,
        replica: k.replica,
        missing: k.missing,
        conflicting: k.conflicting,
        missing_dependencies: k.missing_dependencies,
        sync_failures: k.sync_failures,
        not_mirrored: k.not_mirrored,
        unknown: k.unknown,
        drift: signal.drift.clone(),
        statuses: signal.statuses.clone(),
        findings: signal
            .others
            .iter()
            .take(MAX_FINDINGS_PER_SNAPSHOT)
            .cloned()
            .collect(),
        at: now,
    }
}

/// The findings beside name conflicts: counts by class over every kind the run knows, and the
/// first of this poll's, each with its fix. Name conflicts are counted here and listed in
/// `conflicts`.
fn report(
    kinds: &BTreeMap<String, KindProgress>,
    signals: &BTreeMap<Kind, Signal>,
    types: &[TypeSnapshot],
    conflicts_total: u64,
) -> FindingsReport {
    let mut counts = ClassCounts::default();
    counts.add(FindingClass::NameConflict, conflicts_total);
    for k in kinds.values() {
        counts.add(FindingClass::MissingDependency, k.missing_dependencies);
        counts.add(FindingClass::SyncFailure, k.sync_failures);
        counts.add(FindingClass::NotMirrored, k.not_mirrored);
        counts.add(FindingClass::Unknown, k.unknown);
    }
    for t in types {
        for class in FindingClass::ALL {
            counts.add(class, t.counts.get(class));
        }
    }
    FindingsReport {
        counts,
        first: signals
            .values()
            .flat_map(|s| s.others.iter().cloned())
            .chain(types.iter().flat_map(|t| t.findings.iter().cloned()))
            .take(MAX_FINDINGS_LISTED)
            .collect(),
    }
}

/// One ListReplicationFindings per resource type beside the kinds ([`finding_types::others`]),
/// until the deadline: true when it cut the loop short. A type the service refuses
/// (InvalidRequestException: not supported there) is recorded as such and skipped.
async fn other_types<C: Connect, S: PollStore>(
    ctx: &Context<C, S>,
    id: &str,
    replica_region: &str,
    extra: &[String],
) -> Result<(Vec<TypeSnapshot>, bool), StepError> {
    let mut out = Vec::new();
    for resource_type in finding_types::others(extra) {
        match ctx.source.list_findings(id, &resource_type).await {
            Ok(f) => out.push(type_snapshot(&resource_type, &f, replica_region)),
            Err(e) if out_of_time(&e) => return Ok((out, true)),
            Err(e) if e.class == ConnectErrorClass::InvalidRequest => out.push(TypeSnapshot {
                resource_type,
                unsupported: Some(e.message),
                ..Default::default()
            }),
            Err(e) => return Err(e.into()),
        }
    }
    Ok((out, false))
}

/// A type's findings, classified (an unknown reference code stays unknown), with its drift and
/// statuses.
fn type_snapshot(
    resource_type: &str,
    f: &acgr::connect::Findings,
    replica_region: &str,
) -> TypeSnapshot {
    let reported: Vec<ReportedFinding> = f
        .findings
        .iter()
        .map(|x| ReportedFinding::new(resource_type, x, replica_region))
        .collect();
    let mut counts = ClassCounts::default();
    for r in &reported {
        counts.add(r.class, 1);
    }
    TypeSnapshot {
        resource_type: resource_type.to_string(),
        drift: crate::signal::region_counts(f),
        statuses: crate::signal::region_states(f),
        counts,
        findings: reported
            .into_iter()
            .take(MAX_FINDINGS_PER_SNAPSHOT)
            .collect(),
        unsupported: None,
    }
}

/// This poll's types (with whether it read every one), over the ones on record when it did not:
/// a poll cut short keeps what the last one knew of the types it did not reach. Written back
/// when this poll read any; the record is read only when this poll did not read them all.
async fn merge_types<S: PollStore>(
    store: &S,
    id: &str,
    run_id: &str,
    read: Option<(Vec<TypeSnapshot>, bool)>,
    now: i64,
) -> Result<Vec<TypeSnapshot>, StepError> {
    let (mut types, complete) = read.unwrap_or_default();
    if !complete {
        let known = store.types(id).await?.map(|r| r.types).unwrap_or_default();
        if types.is_empty() {
            return Ok(known);
        }
        for k in known {
            if !types.iter().any(|t| t.resource_type == k.resource_type) {
                types.push(k);
            }
        }
    }
    store
        .put_types(&TypesRecord {
            instance_id: id.to_string(),
            run_id: run_id.to_string(),
            at: now,
            types: types.clone(),
        })
        .await?;
    Ok(types)
}

/// The source's replication status: NotReady until replicated (or while the replica is being
/// deleted); `ReplicationFailed` or `ReplicaDeletionFailed` once failed
/// ([`acgr::mirroring::replication::check`]).
async fn replication<C: Connect, S: PollStore>(
    ctx: &Context<C, S>,
    id: &str,
) -> Result<ReplicationInfo, StepError> {
    let info = ctx.source.describe_instance(id).await?.ok_or_else(|| {
        StepError::InvalidInput(format!(
            "instance {id} does not exist in {}",
            ctx.source.region()
        ))
    })?;
    let replication = info
        .replication
        .ok_or_else(|| StepError::NotReady(format!("instance {id} is not replicated yet")))?;
    acgr::mirroring::replication::check(id, &replication)?;
    Ok(replication)
}

/// One ListReplicationFindings per kind, until the deadline: true when it cut the loop short.
/// A deadline before the first kind is an error (nothing was measured).
async fn signals<C: Connect, S: PollStore>(
    ctx: &Context<C, S>,
    id: &str,
    replica_region: &str,
) -> Result<(BTreeMap<Kind, Signal>, bool), StepError> {
    let mut out = BTreeMap::new();
    for kind in Kind::ALL {
        match ctx.source.list_findings(id, kind.finding_type()).await {
            Ok(f) => {
                out.insert(kind, Signal::read(kind, &f, replica_region));
            }
            Err(e) if out_of_time(&e) && !out.is_empty() => return Ok((out, true)),
            Err(e) => return Err(e.into()),
        }
    }
    Ok((out, false))
}
