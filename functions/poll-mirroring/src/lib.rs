//! **poll-mirroring**: how far the replica's configuration has mirrored, kind by kind.
//!
//! A poll costs the same number of calls whatever the instance's size: DescribeInstance in each
//! region (the replication status, the replica's state) and one ListReplicationFindings per
//! resource type (findings, drift counts and each region's status of the type): the twelve kinds
//! first, then every other type the service documents and those a deployment adds in
//! `EXTRA_FINDING_TYPES` ([`acgr::mirroring::finding_types`], data, not code). Listings are made
//! only when those signals allow, and are remembered:
//!
//! - **Completion** is confirmed by one listing diff of both regions, by name and ID, once the
//!   signals say done. A kind that the diff confirmed stays confirmed while its signals stay
//!   clear; a kind that disagreed is listed again at most every [`RELIST_AFTER_SECONDS`] in a
//!   run. An agent sync starts from the snapshot on record, so a replica recorded complete is not
//!   listed at all unless its findings or drift moved.
//! - **Emergency access** (the replica's default queue and routing profile) is checked by listing
//!   the replica's queues and routing profiles only once the signals say both kinds are mirrored
//!   (or from the completion diff's own listings), and is remembered for the rest of the run.
//!
//! Every call is bounded by the invocation's deadline: what was measured before it is returned,
//! marked `partial`.
//!
//! **Findings** are classified ([`acgr::connect::findings`]): name conflicts are upserted in the
//! conflict ledger (first and last seen; resolved when they disappear); missing dependencies,
//! resources not mirrored by design and sync failures are counted per kind, on the snapshots and
//! in the output, each with its fix. A resource not mirrored by design does not keep mirroring
//! from completing, nor does a finding whose reference code this version does not know (shown as
//! unknown, with Connect's message). The other types' findings of a known blocking class hold
//! completion back like the kinds'; their drift alone does not (the counts are approximate). When replication has finished and name conflicts still block resources, a
//! replication run fails with `ResourceConflict`; an agent sync returns the same message as
//! `blocked` and goes on to associate agents (its state machine fails after that).

mod listing;
mod measure;
mod prior;
mod signal;

use acgr::mirroring::MirroringLedger;
use acgr::run::RunLedger;
use std::collections::BTreeMap;

use acgr::connect::findings::{ClassCounts, ReportedFinding};
use acgr::connect::{Connect, RegionStatus, ReplicationInfo};
use acgr::error::StepError;
use acgr::run::{self, Begin, Header, Hold, RunKind, StepInput, StepRun};
use acgr::{now, Context};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::info;

/// The run store as a mirroring poll uses it: its run, conflicts and snapshots.
pub trait PollStore: RunLedger + MirroringLedger {}

impl<S: RunLedger + MirroringLedger> PollStore for S {}

pub use acgr::mirroring::conflicts::Conflict;

pub const STEP: &str = "poll-mirroring";

/// A listing that disagreed with the signals is made again at most this often in a run.
pub const RELIST_AFTER_SECONDS: i64 = 600;

/// Conflicts named in the output and in the error (all of them are `CONFLICT#` items).
pub const MAX_CONFLICTS_LISTED: usize = 50;

/// Findings of the other classes listed in the output (all of them are counted).
pub const MAX_FINDINGS_LISTED: usize = 50;

/// Findings of the other classes listed on each kind's `SNAPSHOT#` item.
pub const MAX_FINDINGS_PER_SNAPSHOT: usize = 20;

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
    /// Counts from the last listing of the kind, kept while its signals stay clear; absent until
    /// one is made (or once the signals moved).
    pub source: Option<u64>,
    pub replica: Option<u64>,
    pub missing: u64,
    pub conflicting: u64,
    /// Findings of a resource that depends on something missing in the replica region.
    #[serde(default)]
    pub missing_dependencies: u64,
    /// Findings of a change that failed to sync.
    #[serde(default)]
    pub sync_failures: u64,
    /// Findings of a resource not mirrored by design: reported, never blocking.
    #[serde(default)]
    pub not_mirrored: u64,
    /// Findings whose reference code this version does not know: shown, never blocking.
    #[serde(default)]
    pub unknown: u64,
}

impl KindProgress {
    /// A listing found every source resource in the replica under the same ID, but those not
    /// mirrored by design, and no finding blocks the kind.
    pub fn confirmed(&self) -> bool {
        self.listed_clean() && self.missing_dependencies == 0 && self.sync_failures == 0
    }

    /// A listing found every source resource that no finding explains in the replica under the
    /// same ID.
    pub fn listed_clean(&self) -> bool {
        self.source.is_some()
            && self.replica.is_some()
            && self.missing == 0
            && self.conflicting == 0
    }
}

/// The findings beside the conflict ledger's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingsReport {
    /// Every kind's findings by class (name conflicts included: they are listed in `conflicts`).
    pub counts: ClassCounts,
    /// The first [`MAX_FINDINGS_LISTED`] missing dependencies, resources not mirrored by design
    /// and sync failures, each with its fix.
    pub first: Vec<ReportedFinding>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Output {
    pub run_id: String,
    pub instance_id: String,
    pub complete: bool,
    /// Nothing is left that Connect mirrors by itself, yet mirroring is not complete: replication
    /// is complete in every region, every kind listed clean, no name conflict, no failed sync,
    /// and what blocks completion is missing dependencies only (a flow invoking a Lambda function
    /// absent from the replica region, say), each in `findings` with its fix. Polling on cannot
    /// change it, so the replication run goes on (its agents are associated) and reports them,
    /// instead of polling until it times out.
    #[serde(default)]
    pub needs_action: bool,
    pub emergency_access_ready: bool,
    pub kinds: BTreeMap<String, KindProgress>,
    /// The first [`MAX_CONFLICTS_LISTED`] conflicts.
    pub conflicts: Vec<Conflict>,
    #[serde(default)]
    pub conflicts_total: u64,
    #[serde(default)]
    pub findings: FindingsReport,
    /// Every resource type beside the kinds (views, data tables, test cases, ... and types AWS
    /// added since): drift, statuses and findings by class.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<acgr::mirroring::TypeSnapshot>,
    /// In an agent sync, what a replication run would have failed with: replication finished
    /// and name conflicts still block resources. The agent-sync machine fails with
    /// `ResourceConflict` and this cause once the agents are associated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<String>,
    pub replication_status: Vec<RegionStatus>,
    /// True when this poll made a listing diff.
    pub listed: bool,
    /// When this run last made a listing diff.
    #[serde(default)]
    pub listed_at: Option<i64>,
    /// When this run last listed the replica for emergency access.
    #[serde(default)]
    pub emergency_checked_at: Option<i64>,
    /// The deadline came before everything was measured: `kinds` keeps what the run knew of the
    /// kinds this poll did not reach, and nothing is complete.
    #[serde(default)]
    pub partial: bool,
}

pub async fn handler<C: Connect, S: PollStore>(
    ctx: &Context<C, S>,
    event: LambdaEvent<Value>,
) -> Result<Output, Diagnostic> {
    let out = run::handle(event, ctx.deadline_margin, |input, _| {
        poll(ctx, input, now())
    })
    .await?;
    for (kind, k) in &out.kinds {
        // name conflicts have their own metric, as in grctl's findings column
        let findings = k.missing_dependencies + k.sync_failures + k.not_mirrored;
        acgr::metrics::mirroring(&out.instance_id, kind, k.missing, findings);
    }
    acgr::metrics::conflicts(&out.instance_id, out.conflicts_total);
    Ok(out)
}

pub async fn poll<C: Connect, S: PollStore>(
    ctx: &Context<C, S>,
    input: Input,
    now: i64,
) -> Result<Output, StepError> {
    let id = input.header.source_instance(ctx.source.region())?;
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
    let measured = async {
        let prior = prior::Prior::load(&ctx.store, &id, run.record.kind, run.previous()).await?;
        measure::measure(ctx, &input.header.run_id, &id, prior, now).await
    }
    .await;
    match measured {
        Ok(mut out) => {
            let agent_sync = run.record.kind == RunKind::AgentSync;
            let conflicts_block = !(out.complete
                || out.conflicts.is_empty()
                || !ReplicationInfo::all_complete(&out.replication_status));
            // An agent sync reports what blocks mirroring and goes on: new hires are associated
            // whatever the conflicts (its state machine fails once they are).
            if conflicts_block && agent_sync {
                out.blocked = Some(blocked(&out).to_string());
            }
            run.note(&out).await?;
            let counts = &out.findings.counts;
            info!(
                instance_id = %id,
                complete = out.complete,
                partial = out.partial,
                listed = out.listed,
                conflicts = out.conflicts_total,
                missing = out.kinds.values().map(|k| k.missing).sum::<u64>(),
                missing_dependencies = counts.missing_dependency,
                sync_failures = counts.sync_failure,
                not_mirrored = counts.not_mirrored,
                blocked = out.blocked.is_some(),
                "mirroring polled"
            );
            if conflicts_block && !agent_sync {
                Err(run.fail(blocked(&out)).await)
            } else {
                Ok(out)
            }
        }
        Err(e) => Err(run.fail(e).await),
    }
}

/// Replication finished, but name conflicts block some resources.
fn blocked(out: &Output) -> StepError {
    const NAMED: usize = 10;
    let mut names: Vec<String> = out
        .conflicts
        .iter()
        .take(NAMED)
        .map(|c| format!("{} '{}'", c.kind.key(), c.name))
        .collect();
    let more = out.conflicts_total.saturating_sub(names.len() as u64);
    if more > 0 {
        names.push(format!("and {more} more (see the CONFLICT# items)"));
    }
    StepError::ResourceConflict(format!(
        "replication finished with {} blocked by name conflicts: {}",
        match out.conflicts_total {
            1 => "1 resource".to_string(),
            n => format!("{n} resources"),
        },
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests;
