//! **poll-mirroring**: how far the replica's configuration has mirrored, kind by kind.
//!
//! A poll costs the same number of calls whatever the instance's size: DescribeInstance in each
//! region (the replication status, the replica's state) and one ListReplicationFindings per kind
//! (findings and drift counts). Listings are made only when those signals allow, and are
//! remembered:
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
//! marked `partial`. Conflicts are upserted (first and last seen; resolved when they disappear).

mod measure;
mod prior;

use std::collections::BTreeMap;

use acgr::connect::{Connect, RegionStatus, ReplicationInfo};
use acgr::error::StepError;
use acgr::records::RunKind;
use acgr::step::{self, Begin, Header, Hold, StepInput, StepRun};
use acgr::store::RunStore;
use acgr::{now, Context};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::info;

pub use acgr::conflicts::Conflict;

pub const STEP: &str = "poll-mirroring";

/// A listing that disagreed with the signals is made again at most this often in a run.
pub const RELIST_AFTER_SECONDS: i64 = 600;

/// Conflicts named in the output and in the error (all of them are `CONFLICT#` items).
pub const MAX_CONFLICTS_LISTED: usize = 50;

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
}

impl KindProgress {
    /// A listing found every source resource in the replica under the same ID.
    pub fn confirmed(&self) -> bool {
        self.source.is_some()
            && self.replica.is_some()
            && self.missing == 0
            && self.conflicting == 0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Output {
    pub run_id: String,
    pub instance_id: String,
    pub complete: bool,
    pub emergency_access_ready: bool,
    pub kinds: BTreeMap<String, KindProgress>,
    /// The first [`MAX_CONFLICTS_LISTED`] conflicts.
    pub conflicts: Vec<Conflict>,
    #[serde(default)]
    pub conflicts_total: u64,
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

pub async fn handler<C: Connect, S: RunStore>(
    ctx: &Context<C, S>,
    event: LambdaEvent<Value>,
) -> Result<Output, Diagnostic> {
    step::handle(event, step::deadline_margin(), |input, _| {
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
    let measured = async {
        let prior = prior::Prior::load(&ctx.store, &id, run.record.kind, run.previous()).await?;
        measure::measure(ctx, &input.header.run_id, &id, prior, now).await
    }
    .await;
    match measured {
        Ok(out) => {
            run.note(&out).await?;
            info!(
                instance_id = %id,
                complete = out.complete,
                partial = out.partial,
                listed = out.listed,
                conflicts = out.conflicts_total,
                missing = out.kinds.values().map(|k| k.missing).sum::<u64>(),
                "mirroring polled"
            );
            if out.complete
                || out.conflicts.is_empty()
                || !ReplicationInfo::all_complete(&out.replication_status)
            {
                Ok(out)
            } else {
                Err(run.fail(blocked(&out)).await)
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
