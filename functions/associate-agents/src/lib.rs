//! **associate-agents**: associates every user present in both regions with the instance's
//! traffic distribution group (the default one, or the one named), calling
//! AssociateTrafficDistributionGroupUser in the group's home region.
//!
//! A later run costs the source's users in pages of 1000, plus, when someone is not yet recorded
//! as associated, one listing of the replica's users (pages of 1000, once per invocation) and one
//! call per such user: about 2·⌈users/1000⌉ listings plus one call per new hire. Calls are paced
//! and retried by the Connect client's policy (`acgr::connect::pace`: 2 calls/s for the associations).
//!
//! The records are not trusted for ever: once a day per group ([`acgr::agents::members`]), the run that
//! finds it due first lists the group's members (ListTrafficDistributionGroupUsers, 10 users a
//! page at 2 calls/s: 10,000 agents are 1,000 calls and 500 seconds, spread over invocations if
//! need be); a recorded user not among them is associated again by the sweep.
//! Progress is written before each page and after it, so an invocation can stop before its
//! deadline and the next one resumes from the cursor; nobody is associated or counted twice.

mod check;
mod members;
mod sweep;

use acgr::agents::AgentLedger;
use acgr::run::RunLedger;
use acgr::traffic::TrafficLedger;
use std::collections::HashSet;

use acgr::agents::{Association, AssociationProgress, UserFailure};
use acgr::connect::Connect;
use acgr::domain::{GroupRef, Kind, Region};
use acgr::error::{ConnectError, ConnectErrorClass, StepError};
use acgr::run::{self, Begin, Header, Hold, RunKind, StepInput, StepRun};
use acgr::traffic::steady::{record_steady_state, AgentCounts};
use acgr::{now, Context};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::time::Instant;
use tracing::{info, warn};

use check::*;
use sweep::*;

/// The run store as an agent sync uses it: its run, the associations and their progress, and
/// the groups it records.
pub trait SyncStore: RunLedger + AgentLedger + TrafficLedger {}

impl<S: RunLedger + AgentLedger + TrafficLedger> SyncStore for S {}

pub const STEP: &str = "associate-agents";

/// ListUsers page size, the largest Connect allows: one page is the unit of progress.
pub const PAGE_SIZE: i32 = acgr::connect::max_page_size(Kind::Users);

/// Failures kept on the progress and in the output: the run store item and the state
/// machine's payload have size limits. Every failure is logged.
pub const MAX_FAILURES_LISTED: usize = 100;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Input {
    #[serde(skip)]
    pub header: Header,
    /// A group ID or ARN; the instance's default group when absent.
    #[serde(default)]
    pub traffic_distribution_group: Option<String>,
    /// Where to resume (a ListUsers token); the run's stored progress when absent.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Check the group's members in this run, not only when the day's check is due: for an
    /// operator who knows agents were disassociated by hand. Costs ⌈members / 10⌉
    /// ListTrafficDistributionGroupUsers calls at 2/s before the sweep.
    #[serde(default)]
    pub check_members: bool,
}

impl StepInput for Input {
    fn header(&self) -> &Header {
        &self.header
    }
    fn header_mut(&mut self) -> &mut Header {
        &mut self.header
    }
}

/// Counts are for the whole run so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Output {
    pub done: bool,
    pub associated: u64,
    pub already_associated: u64,
    pub waiting_for_replica: u64,
    pub failed: Vec<UserFailure>,
    /// Pass back as `cursor` while `done` is false.
    pub cursor: Option<String>,
    pub group_arn: String,
    /// Of `associated`, users recorded as associated that the members check did not find.
    #[serde(default)]
    pub reassociated: u64,
    /// This run's check of the group's members (once a day): pages, members, records confirmed
    /// and stale, and its cost at the quota (`secondsAtQuota`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members_check: Option<acgr::agents::members::MembersCheck>,
}

impl Output {
    fn from_progress(p: &AssociationProgress) -> Output {
        Output {
            done: p.done,
            associated: p.associated,
            already_associated: p.already_associated,
            waiting_for_replica: p.waiting_for_replica,
            failed: p.failed.clone(),
            cursor: if p.done { None } else { p.cursor.clone() },
            group_arn: p.group_arn.clone(),
            reassociated: p.reassociated,
            members_check: p.members_check.clone(),
        }
    }
}

pub async fn handler<C: Connect, S: SyncStore>(
    ctx: &Context<C, S>,
    event: LambdaEvent<Value>,
) -> Result<Output, Diagnostic> {
    run::handle(event, ctx.deadline_margin, |input, stop_at| {
        associate_agents(ctx, input, now(), stop_at)
    })
    .await
}

/// Checks the input, then runs (or resumes) the association under the instance lock.
/// `stop_at`: no new call starts after it (None: no deadline).
pub async fn associate_agents<C: Connect, S: SyncStore>(
    ctx: &Context<C, S>,
    input: Input,
    now: i64,
    stop_at: Option<Instant>,
) -> Result<Output, StepError> {
    let id = check(ctx, &input)?;
    let begin = Begin {
        header: &input.header,
        instance_id: &id,
        kind: RunKind::AgentSync,
        step: STEP,
        inputs: serde_json::json!({
            "instanceId": input.header.instance_id,
            "trafficDistributionGroup": input.traffic_distribution_group,
            "cursor": input.cursor,
        }),
        hold: Hold::Lock,
        lease_seconds: ctx.lease_seconds,
    };
    let run = StepRun::begin(&ctx.store, begin, now).await?;
    let result = async {
        let out = work(ctx, &id, &input, now, stop_at).await?;
        info!(
            instance_id = %id,
            run_id = %input.header.run_id,
            group_arn = %out.group_arn,
            associated = out.associated,
            already_associated = out.already_associated,
            waiting_for_replica = out.waiting_for_replica,
            failed = out.failed.len(),
            reassociated = out.reassociated,
            members_checked = out.members_check.as_ref().map_or(0, |c| c.members),
            done = out.done,
            "agent associations"
        );
        acgr::metrics::agents(
            &id,
            out.associated + out.already_associated,
            out.waiting_for_replica,
        );
        // The last step of a replication or agent-sync run: it records the steady state, the
        // failback point an incident will need.
        if out.done {
            let counts = AgentCounts {
                group_arn: out.group_arn.clone(),
                associated: out.associated + out.already_associated,
                total: out.associated
                    + out.already_associated
                    + out.waiting_for_replica
                    + out.failed.len() as u64,
                members_checked_at: out
                    .members_check
                    .as_ref()
                    .filter(|c| c.done)
                    .map(|c| c.started_at),
            };
            // Recording what was done is the work the deadline margin is kept for: its few
            // calls (still paced) are not refused for the deadline the associations stopped at.
            acgr::run::handler::within(
                None,
                record_steady_state(
                    &ctx.source,
                    &ctx.store,
                    &id,
                    &input.header.run_id,
                    Some(&counts),
                    now,
                ),
            )
            .await?;
        }
        Ok(out)
    }
    .await;
    // Done ends the run (and frees the lock); a retry keeps it; a failure for good frees it.
    run.end(result, |out| out.done).await
}

#[cfg(test)]
mod tests;
