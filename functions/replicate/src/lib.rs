//! **replicate**: calls ReplicateInstance exactly once per run (its ClientToken is derived from
//! the instance, the run's machine and the run ID), or adopts a replica of the same pair that already exists and can be used: a replica
//! being deleted is waited for (`NotReady`), one whose creation, replication or deletion failed
//! fails the run by name (`ReplicationFailed`, `ReplicaDeletionFailed`). Takes the instance lock.
//! The intent (token, time) is on the run before the call; the outcome after it.

use acgr::connect::findings::{self, FindingClass};
use acgr::connect::Connect;
use acgr::domain::{InstanceAlias, Kind, Region};
use acgr::error::{ConnectErrorClass, StepError};
use acgr::mirroring::conflicts::{self, Conflict};
use acgr::mirroring::replication;
use acgr::mirroring::MirroringLedger;
use acgr::run::RunLedger;
use acgr::run::{self, Begin, Header, Hold, RunKind, RunRecord, StepInput, StepRun};
use acgr::{now, Context};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::info;

/// The run store as the replicate step uses it: its run and lock, the conflicts it resolves.
pub trait ReplicateStore: RunLedger + MirroringLedger {}

impl<S: RunLedger + MirroringLedger> ReplicateStore for S {}

pub const STEP: &str = "replicate";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Input {
    #[serde(skip)]
    pub header: Header,
    pub replica_region: String,
    #[serde(default)]
    pub replica_alias: Option<String>,
    /// Re-run ReplicateInstance on an existing replica without global routing (the migration).
    #[serde(default)]
    pub migrate: bool,
}

impl StepInput for Input {
    fn header(&self) -> &Header {
        &self.header
    }
    fn header_mut(&mut self) -> &mut Header {
        &mut self.header
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Output {
    pub run_id: String,
    pub instance_id: String,
    pub replica_region: String,
    pub replica_arn: String,
    /// True when the replica existed already and no call was made.
    pub adopted: bool,
    /// True when ReplicateInstance was re-run on the existing replica (the global-routing
    /// migration).
    #[serde(default)]
    pub migrated: bool,
    pub client_token: String,
}

/// What the run records under `steps.replicate`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    state: String,
    client_token: String,
    intent_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    replica_arn: Option<String>,
    #[serde(default)]
    adopted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

pub async fn handler<C: Connect, S: ReplicateStore>(
    ctx: &Context<C, S>,
    event: LambdaEvent<Value>,
) -> Result<Output, Diagnostic> {
    run::handle(event, ctx.deadline_margin, |input, _| {
        replicate(ctx, input, now())
    })
    .await
}

/// The ClientToken of a run: stable across the retries and restarts of the run, and never the
/// same for two instances or two machines (or, for a step invoked by hand, two run kinds): a hash
/// of the instance, the run's state machine and the run ID ([`acgr::run::run_token`]).
pub fn client_token(instance_id: &str, run: &RunRecord) -> String {
    let scope = run
        .machine
        .clone()
        .unwrap_or_else(|| format!("{:?}", run.kind));
    run::run_token("acgr-replicate", instance_id, &scope, &run.run_id)
}

pub async fn replicate<C: Connect, S: ReplicateStore>(
    ctx: &Context<C, S>,
    input: Input,
    now: i64,
) -> Result<Output, StepError> {
    let id = input.header.source_instance(ctx.source.region())?;
    let replica = Region::parse_member("replicaRegion", &input.replica_region)?;
    ctx.check_replica(&replica)?;
    if let Some(alias) = &input.replica_alias {
        InstanceAlias::parse(alias)
            .map_err(|e| StepError::InvalidInput(format!("replicaAlias: {e}")))?;
    }
    let begin = Begin {
        header: &input.header,
        instance_id: &id,
        kind: RunKind::Replication,
        step: STEP,
        inputs: serde_json::json!({"instanceId": input.header.instance_id, "replicaRegion": input.replica_region, "replicaAlias": input.replica_alias, "migrate": input.migrate}),
        hold: Hold::Lock,
        lease_seconds: ctx.lease_seconds,
    };
    let mut run = StepRun::begin(&ctx.store, begin, now).await?;
    let previous = run
        .previous()
        .and_then(|v| serde_json::from_value::<Record>(v.clone()).ok());
    // The token of the run's first attempt, whoever drives the retry (a machine, a person).
    let token = previous.as_ref().map_or_else(
        || client_token(&id, &run.record),
        |p| p.client_token.clone(),
    );
    let output = |arn: String, adopted: bool| Output {
        run_id: input.header.run_id.clone(),
        instance_id: id.clone(),
        replica_region: replica.to_string(),
        replica_arn: arn,
        adopted,
        migrated: input.migrate && !adopted,
        client_token: token.clone(),
    };

    // Already done by this run: answer from the record, call nothing.
    if let Some(prev) = previous {
        if let Some(arn) = prev.replica_arn {
            info!(instance_id = %id, run_id = %input.header.run_id, "replication already requested by this run");
            return Ok(output(arn, prev.adopted));
        }
    }

    // The step's record is its intent and outcome (written as it goes), not the output.
    match call_or_adopt(ctx, &id, &replica, &input, &token, &mut run, now).await {
        Ok((arn, adopted)) => Ok(output(arn, adopted)),
        Err(e) => Err(run.fail(e).await),
    }
}

async fn call_or_adopt<C: Connect, S: ReplicateStore>(
    ctx: &Context<C, S>,
    id: &str,
    replica: &Region,
    input: &Input,
    token: &str,
    run: &mut StepRun<'_, S>,
    now: i64,
) -> Result<(String, bool), StepError> {
    let info = ctx.source.describe_instance(id).await?.ok_or_else(|| {
        StepError::InvalidInput(format!(
            "instance {id} does not exist in {}",
            ctx.source.region()
        ))
    })?;
    let unresolved = ctx
        .store
        .conflicts(id)
        .await?
        .iter()
        .filter(|c| !c.resolved)
        .count();
    let existing = existing_replica(ctx, &info, replica).await?;
    if let (true, Some(existing)) = (input.migrate, &existing) {
        let alias = input.replica_alias.as_deref();
        return migrate(ctx, &info, existing, alias, token, run, now).await;
    }
    if let (Some(existing), 0) = (&existing, unresolved) {
        let existing = existing.clone();
        let record = Record {
            state: "adopted".into(),
            client_token: token.to_string(),
            intent_at: now,
            replica_arn: Some(existing.clone()),
            adopted: true,
            message: None,
        };
        run.note(&record).await?;
        info!(instance_id = %id, replica = %replica, "existing replica adopted");
        return Ok((existing, true));
    }

    // Intent first: a crash after the call is visible, and the retry reuses the same token.
    // With a replica already there and conflicts on record, the call asks for a resync.
    let mut record = Record {
        state: if existing.is_some() {
            "resync-requested"
        } else {
            "requested"
        }
        .into(),
        client_token: token.to_string(),
        intent_at: now,
        replica_arn: None,
        adopted: false,
        message: None,
    };
    run.note(&record).await?;
    match ctx
        .source
        .replicate_instance(id, replica, input.replica_alias.as_deref(), token)
        .await
    {
        Ok(arn) => {
            record.state = "accepted".into();
            record.replica_arn = Some(arn.clone());
            run.note(&record).await?;
            info!(instance_id = %id, replica = %replica, run_id = %input.header.run_id, "replication requested");
            Ok((arn, false))
        }
        Err(e)
            if e.class == ConnectErrorClass::Conflict && e.code == "ResourceConflictException" =>
        {
            let recorded = record_conflicts(ctx, id, now).await?;
            record.state = "conflict".into();
            record.message = Some(e.message.clone());
            run.note(&record).await?;
            Err(StepError::ResourceConflict(format!(
                "ReplicateInstance found name conflicts ({recorded} recorded on the run store): {}",
                e.message
            )))
        }
        Err(e) if e.class == ConnectErrorClass::InvalidRequest => {
            // Another caller may have replicated it meanwhile: adopt if so.
            if let Some(info) = ctx.source.describe_instance(id).await? {
                if let Some(existing) = existing_replica(ctx, &info, replica).await? {
                    record.state = "adopted".into();
                    record.adopted = true;
                    record.replica_arn = Some(existing.clone());
                    run.note(&record).await?;
                    return Ok((existing, true));
                }
            }
            // The guide's other answer to a name conflict: refused on the call, nothing started,
            // so no finding names the resources; the message does.
            if names_a_conflict(&e.message) {
                record.state = "conflict".into();
                record.message = Some(e.message.clone());
                run.note(&record).await?;
                return Err(StepError::ResourceConflict(format!(
                    "ReplicateInstance refused on a resource name conflict: {}. Delete or rename \
                     the replica-side resource (preflight's name check lists every look-alike), \
                     then run the replication again",
                    e.message
                )));
            }
            Err(StepError::PreflightFailed(format!(
                "ReplicateInstance refused: {}",
                e.message
            )))
        }
        Err(e) => Err(e.into()),
    }
}

/// The documented migration of an instance created before global routing (admin guide, "Global
/// routing across ACGR Regions", steps 6-7): once AWS granted global routing to the account,
/// ReplicateInstance is called again on the replicated instance, and the replication goes back
/// through `INSTANCE_REPLICATION_IN_PROGRESS` to `INSTANCE_REPLICATION_COMPLETE` (poll-mirroring
/// waits for it). An instance already named as global-routing instances are is adopted: nothing
/// to migrate. A refusal (not granted) fails the run `PreflightFailed`, saying what to do.
async fn migrate<C: Connect, S: ReplicateStore>(
    ctx: &Context<C, S>,
    info: &acgr::connect::InstanceInfo,
    existing: &str,
    replica_alias: Option<&str>,
    token: &str,
    run: &mut StepRun<'_, S>,
    now: i64,
) -> Result<(String, bool), StepError> {
    let id = &info.id;
    // the deployment's replica region: the run checked that it is the one asked for
    let replica = ctx.replica.region();
    let mut record = Record {
        state: "migration-requested".into(),
        client_token: token.to_string(),
        intent_at: now,
        replica_arn: None,
        adopted: false,
        message: None,
    };
    if info.global_routing_named() {
        record.state = "adopted".into();
        record.adopted = true;
        record.replica_arn = Some(existing.to_string());
        record.message = Some("global routing is already enabled: nothing to migrate".into());
        run.note(&record).await?;
        return Ok((existing.to_string(), true));
    }
    // ReplicaAlias is required again: the one asked for, else the replica's own
    let alias = match replica_alias {
        Some(a) => Some(a.to_string()),
        None => ctx
            .replica
            .describe_instance(id)
            .await?
            .and_then(|r| r.alias)
            .or_else(|| info.alias.clone()),
    };
    run.note(&record).await?;
    match ctx
        .source
        .replicate_instance(id, replica, alias.as_deref(), token)
        .await
    {
        Ok(arn) => {
            record.state = "migration-accepted".into();
            record.replica_arn = Some(arn.clone());
            run.note(&record).await?;
            info!(instance_id = %id, replica = %replica, "ReplicateInstance re-run: global-routing migration started");
            Ok((arn, false))
        }
        Err(e) if e.class == ConnectErrorClass::InvalidRequest => {
            record.state = "migration-refused".into();
            record.message = Some(e.message.clone());
            run.note(&record).await?;
            Err(StepError::PreflightFailed(format!(
                "ReplicateInstance refused the global-routing migration: {}. Global routing is \
                 granted to older instances by AWS Support: open a case for this account, then \
                 run the migration again",
                e.message
            )))
        }
        Err(e) => Err(e.into()),
    }
}

/// The replica's ARN if the instance is already replicated to `replica`, and the replica can be
/// used: a failed replication or replica fails the run by name (`ReplicationFailed`,
/// `ReplicaDeletionFailed`), a replica being deleted is waited for (`NotReady`), never adopted.
async fn existing_replica<C: Connect, S: ReplicateStore>(
    ctx: &Context<C, S>,
    info: &acgr::connect::InstanceInfo,
    replica: &Region,
) -> Result<Option<String>, StepError> {
    let Some(arn) = adoptable(info, ctx.source.region(), replica)? else {
        return Ok(None);
    };
    if let Some(rep) = &info.replication {
        replication::check(&info.id, rep)?;
    }
    if let Some(replica_instance) = ctx.replica.describe_instance(&info.id).await? {
        replication::check_replica(&replica_instance)?;
    }
    Ok(Some(arn))
}

/// The replica's ARN if the instance is already replicated to `replica` from `source`.
fn adoptable(
    info: &acgr::connect::InstanceInfo,
    source: &Region,
    replica: &Region,
) -> Result<Option<String>, StepError> {
    let Some(rep) = &info.replication else {
        return Ok(None);
    };
    let from_here = rep.source_region.as_ref().is_none_or(|s| s == source);
    let to_there = rep.statuses.iter().any(|s| s.region == replica.as_str());
    if from_here && to_there {
        Ok(Some(info.arn.replacen(
            source.as_str(),
            replica.as_str(),
            1,
        )))
    } else {
        Err(StepError::PreflightFailed(format!(
            "instance {} is already replicated ({}), not from {source} to {replica}",
            info.id,
            rep.statuses
                .iter()
                .map(|s| s.region.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}

/// Whether a refusal's message says a resource name conflicts between the regions (the guide:
/// "There is a resource name conflict").
fn names_a_conflict(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("name conflict") || m.contains("naming conflict")
}

/// Upserts a conflict record for every finding of every kind that is a name conflict (or names
/// no class); returns how many. Findings of other classes (a missing Lambda function, a failed sync, a prompt in S3)
/// are poll-mirroring's to report: no look-alike is there to delete.
async fn record_conflicts<C: Connect, S: ReplicateStore>(
    ctx: &Context<C, S>,
    id: &str,
    now: i64,
) -> Result<usize, StepError> {
    let mut seen = Vec::new();
    for kind in Kind::ALL {
        let findings = match ctx.source.list_findings(id, kind.finding_type()).await {
            Ok(f) => f,
            Err(e) if e.class == ConnectErrorClass::InvalidRequest => continue,
            Err(e) => return Err(e.into()),
        };
        let conflicts = findings
            .findings
            .into_iter()
            // A finding naming no class, beside Connect's "conflict", is taken as one.
            .filter(|f| {
                f.reference_code.is_none() || findings::classify(f) == FindingClass::NameConflict
            });
        seen.extend(conflicts.map(|f| Conflict {
            kind,
            name: f.name.clone().unwrap_or_else(|| f.id.clone()),
            source_id: Some(f.id),
            replica_id: None,
            region: f.region,
        }));
    }
    conflicts::upsert(&ctx.store, id, &seen, now).await?;
    Ok(seen.len())
}

#[cfg(test)]
mod tests;
