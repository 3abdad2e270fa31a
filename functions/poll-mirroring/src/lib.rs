//! **poll-mirroring**: how far the replica's configuration has mirrored, kind by kind.
//!
//! A poll costs the same number of calls whatever the instance's size: DescribeInstance (the
//! replication status) and one ListReplicationFindings per kind (findings and drift counts).
//! Only when those say done does it confirm with one full listing diff of both regions, by name
//! and ID. Conflicts are upserted (first and last seen; resolved when they disappear).

use std::collections::BTreeMap;

use acgr::conflicts;
use acgr::connect::{Connect, RegionStatus, ReplicationInfo};
use acgr::domain::{Kind, DEFAULT_QUEUE, DEFAULT_ROUTING_PROFILE};
use acgr::error::StepError;
use acgr::records::{RunKind, SnapshotRecord};
use acgr::step::{self, Begin, Header, Hold, StepInput, StepRun};
use acgr::store::RunStore;
use acgr::{now, Context};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::info;

pub const STEP: &str = "poll-mirroring";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Input {
    #[serde(skip)]
    pub header: Header,
}

impl StepInput for Input {
    fn header(&self) -> &Header {
        &self.header
    }
    fn header_mut(&mut self) -> &mut Header {
        &mut self.header
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KindProgress {
    /// Counts from the last full listing; absent until one is made.
    pub source: Option<u64>,
    pub replica: Option<u64>,
    pub missing: u64,
    pub conflicting: u64,
}

pub use acgr::conflicts::Conflict;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Output {
    pub run_id: String,
    pub instance_id: String,
    pub complete: bool,
    pub emergency_access_ready: bool,
    pub kinds: BTreeMap<String, KindProgress>,
    pub conflicts: Vec<Conflict>,
    pub replication_status: Vec<RegionStatus>,
    /// True when this poll made the full listing diff.
    pub listed: bool,
}

pub async fn handler<C: Connect, S: RunStore>(
    ctx: &Context<C, S>,
    event: LambdaEvent<Value>,
) -> Result<Output, Diagnostic> {
    step::handle(event, step::DEADLINE_MARGIN, |input, _| {
        poll(ctx, input, now())
    })
    .await
}

pub async fn poll<C: Connect, S: RunStore>(
    ctx: &Context<C, S>,
    input: Input,
    now: i64,
) -> Result<Output, StepError> {
    let id = input.header.source_instance(ctx)?;
    let begin = Begin {
        header: &input.header,
        instance_id: &id,
        kind: RunKind::AgentSync,
        step: STEP,
        inputs: serde_json::json!({"instanceId": input.header.instance_id}),
        hold: Hold::Lock,
        lease_seconds: ctx.lease_seconds,
    };
    let mut run = StepRun::begin(&ctx.store, begin, now).await?;
    match measure(ctx, &input.header.run_id, &id, run.previous(), now).await {
        Ok(out) => {
            run.note(&out).await?;
            info!(
                instance_id = %id,
                complete = out.complete,
                conflicts = out.conflicts.len(),
                missing = out.kinds.values().map(|k| k.missing).sum::<u64>(),
                "mirroring polled"
            );
            if out.complete
                || out.conflicts.is_empty()
                || !ReplicationInfo::all_complete(&out.replication_status)
            {
                Ok(out)
            } else {
                let e = StepError::ResourceConflict(format!(
                    "replication finished with {} blocked by name conflicts: {}",
                    match out.conflicts.len() {
                        1 => "1 resource".to_string(),
                        n => format!("{n} resources"),
                    },
                    out.conflicts
                        .iter()
                        .map(|c| format!("{} '{}'", c.kind.key(), c.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                Err(run.fail(e).await)
            }
        }
        Err(e) => Err(run.fail(e).await),
    }
}

async fn measure<C: Connect, S: RunStore>(
    ctx: &Context<C, S>,
    run_id: &str,
    id: &str,
    previous: Option<&Value>,
    now: i64,
) -> Result<Output, StepError> {
    let info = ctx.source.describe_instance(id).await?.ok_or_else(|| {
        StepError::InvalidInput(format!(
            "instance {id} does not exist in {}",
            ctx.source.region()
        ))
    })?;
    let replication = info
        .replication
        .ok_or_else(|| StepError::NotReady(format!("instance {id} is not replicated yet")))?;
    if replication.failed() {
        return Err(StepError::Rejected(format!(
            "replication of {id} failed: {}",
            replication
                .statuses
                .iter()
                .filter_map(|s| s.reason.clone())
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    let replica_region = ctx.replica.region().to_string();

    // The cheap part: findings and drift counts per kind.
    let mut kinds = BTreeMap::new();
    let mut conflicts = Vec::new();
    for kind in Kind::ALL {
        let f = ctx.source.list_findings(id, kind).await?;
        let missing = f
            .drift
            .iter()
            .filter(|(r, _)| *r == replica_region)
            .map(|(_, n)| u64::try_from(*n).unwrap_or(0))
            .sum::<u64>()
            .saturating_sub(f.findings.len() as u64);
        for finding in &f.findings {
            conflicts.push(Conflict {
                kind,
                name: finding.name.clone().unwrap_or_else(|| finding.id.clone()),
                source_id: Some(finding.id.clone()),
                replica_id: None,
                region: finding.region.clone(),
            });
        }
        kinds.insert(
            kind.key().to_string(),
            KindProgress {
                source: None,
                replica: None,
                missing,
                conflicting: f.findings.len() as u64,
            },
        );
    }
    let drift_done = kinds.values().all(|k| k.missing == 0);
    let replica_ready = ctx
        .replica
        .describe_instance(id)
        .await?
        .is_some_and(|i| i.is_active());

    let already_ready = previous
        .and_then(|p| p.get("emergencyAccessReady"))
        .and_then(Value::as_bool)
        == Some(true);
    let emergency_access_ready =
        already_ready || (replica_ready && emergency_ready(&ctx.replica, id).await?);

    // The expensive part, only when everything says done (or done but for the name conflicts,
    // which then fail the run): a full diff by name and ID. It also finds the replica-side ID
    // of each look-alike, which the operator needs in order to delete it.
    let mut listed = false;
    let mut complete = false;
    if replica_ready && replication.complete() && drift_done {
        listed = true;
        let mut listed_conflicts = Vec::new();
        for kind in Kind::ALL {
            let (src, rep) = (
                ctx.source.list_resources(id, kind).await?,
                ctx.replica.list_resources(id, kind).await?,
            );
            let diff = conflicts::diff(kind, &src, &rep, &replica_region);
            let conflicting = diff.conflicts.len() as u64;
            listed_conflicts.extend(diff.conflicts);
            kinds.insert(
                kind.key().to_string(),
                KindProgress {
                    source: Some(src.len() as u64),
                    replica: Some(rep.len() as u64),
                    missing: diff.missing,
                    conflicting,
                },
            );
        }
        conflicts = merge_conflicts(conflicts, listed_conflicts);
        complete = conflicts.is_empty() && kinds.values().all(|k| k.missing == 0);
    }

    conflicts::upsert(&ctx.store, id, &conflicts, now).await?;
    conflicts::resolve_absent(&ctx.store, id, &conflicts, now).await?;
    for (key, k) in &kinds {
        let Some(kind) = Kind::ALL.into_iter().find(|x| x.key() == key) else {
            continue;
        };
        ctx.store
            .put_snapshot(&SnapshotRecord {
                instance_id: id.to_string(),
                run_id: run_id.to_string(),
                kind,
                source: k.source,
                replica: k.replica,
                missing: k.missing,
                conflicting: k.conflicting,
                at: now,
            })
            .await?;
    }
    Ok(Output {
        run_id: run_id.to_string(),
        instance_id: id.to_string(),
        complete,
        emergency_access_ready,
        kinds,
        conflicts,
        replication_status: replication.statuses,
        listed,
    })
}

/// Agents can use emergency access once the default routing profile and queue are mirrored.
async fn emergency_ready<C: Connect>(replica: &C, id: &str) -> Result<bool, StepError> {
    let queues = replica.list_resources(id, Kind::Queues).await?;
    if !queues.iter().any(|q| q.name == DEFAULT_QUEUE) {
        return Ok(false);
    }
    let profiles = replica.list_resources(id, Kind::RoutingProfiles).await?;
    Ok(profiles.iter().any(|p| p.name == DEFAULT_ROUTING_PROFILE))
}

/// The conflicts of a full diff, completed by what the findings said (the region that failed)
/// and followed by any finding the diff did not see (a predefined attribute has no ID).
fn merge_conflicts(findings: Vec<Conflict>, listed: Vec<Conflict>) -> Vec<Conflict> {
    let mut out: Vec<Conflict> = listed
        .into_iter()
        .map(|mut c| {
            if let Some(f) = findings
                .iter()
                .find(|f| f.kind == c.kind && f.name == c.name)
            {
                c.region = f.region.clone().or(c.region);
            }
            c
        })
        .collect();
    for f in findings {
        if !out.iter().any(|c| c.kind == f.kind && c.name == f.name) {
            out.push(f);
        }
    }
    out
}

#[cfg(test)]
mod tests;
