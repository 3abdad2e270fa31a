//! **shift-traffic**: moves telephony, agents and sign-in between the regions of a pair, behind
//! health gates, for every traffic distribution group of the instance (or the ones named).
//!
//! Order: validate the input; begin the run and take the instance lock (or break it, with a
//! reason); reach the groups by ARN in the region that will take the traffic; read the gates and
//! the live distributions under the lock; per group, settle earlier intents against the live
//! distribution, open the failover episode (which keeps the failback point), record the intent,
//! call UpdateTrafficDistribution **in the region taking the traffic**, and wait, within the
//! invocation's deadline, until the group is ACTIVE and reads back the new split; record the
//! outcome. A failback restores each group's episode split, else its steady state on record.
//! A dry run returns the exact calls and writes nothing.

mod apply;
mod gates;
mod intent;
mod plan;
mod routing;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

use acgr::connect::{Connect, CurrentDistribution};
use acgr::domain::{Arn, Isolate, TrafficPlan};
use acgr::error::StepError;
use acgr::run::RunLedger;
use acgr::run::{self, Begin, Header, Hold, RunKind, StepInput, StepRun};
use acgr::traffic::TrafficLedger;
use acgr::traffic::{ShiftRecord, ShiftStatus};
use acgr::{now, Context};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::time::Instant;
use tracing::warn;

pub use gates::Gate;
pub use routing::RoutingShift;

use apply::{update_body, Apply};
use intent::{check, Checked};
use plan::{plan, Planned};

pub const STEP: &str = "shift-traffic";

/// The run store as a traffic shift uses it: its run (and the lock), and the traffic records.
pub trait ShiftStore: RunLedger + TrafficLedger {}

impl<S: RunLedger + TrafficLedger> ShiftStore for S {}

/// Gates and timings, read once per cold start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Share of the target's agents that must be associated with the group before agents move there.
    pub min_agent_share: f64,
    /// How long to wait for the group to read back the new split (never past the deadline).
    pub verify_timeout: Duration,
    pub verify_interval: Duration,
    /// How long to wait for the other region to show the shift (Connect's cross-region
    /// propagation; never past the deadline). A region that does not answer is not waited for.
    pub confirm_timeout: Duration,
    /// How long the region being left has to answer before `isolate: auto` takes it as impaired.
    pub impaired_probe: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_agent_share: 0.9,
            verify_timeout: Duration::from_secs(60),
            verify_interval: Duration::from_secs(1),
            confirm_timeout: Duration::from_secs(30),
            impaired_probe: Duration::from_secs(3),
        }
    }
}

impl Settings {
    /// `MIN_AGENT_SHARE` (0..1, default 0.9), `SHIFT_VERIFY_SECONDS` (60), `SHIFT_POLL_MS` (1000),
    /// `SHIFT_CONFIRM_SECONDS` (30). A value out of its bounds is `Misconfigured`.
    pub fn from_env() -> Result<Settings, StepError> {
        let d = Settings::default();
        let get = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let num = |name: &str| -> Result<Option<f64>, StepError> {
            get(name)
                .map(|v| {
                    v.parse::<f64>()
                        .map_err(|_| StepError::Misconfigured(format!("{name} must be a number")))
                })
                .transpose()
        };
        let share = num("MIN_AGENT_SHARE")?.unwrap_or(d.min_agent_share);
        if !(0.0..=1.0).contains(&share) {
            return Err(StepError::Misconfigured(
                "MIN_AGENT_SHARE must be between 0 and 1".into(),
            ));
        }
        let millis = |v: f64| Duration::from_millis(v.max(0.0) as u64);
        Ok(Settings {
            min_agent_share: share,
            verify_timeout: num("SHIFT_VERIFY_SECONDS")?
                .map_or(d.verify_timeout, |s| Duration::from_secs_f64(s.max(0.0))),
            verify_interval: num("SHIFT_POLL_MS")?.map_or(d.verify_interval, millis),
            confirm_timeout: num("SHIFT_CONFIRM_SECONDS")?
                .map_or(d.confirm_timeout, |s| Duration::from_secs_f64(s.max(0.0))),
            impaired_probe: num("IMPAIRED_PROBE_MS")?.map_or(d.impaired_probe, millis),
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanInput {
    pub telephony: BTreeMap<String, u8>,
    pub agents: BTreeMap<String, u8>,
    #[serde(default)]
    pub sign_in: Option<BTreeMap<String, bool>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Preset {
    /// `"failback"`
    Named(String),
    /// `{"failoverTo": "us-west-2"}`
    FailoverTo {
        #[serde(rename = "failoverTo")]
        failover_to: String,
    },
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Input {
    #[serde(skip)]
    pub header: Header,
    /// One group to move (ID or ARN); with neither this nor `trafficDistributionGroups`, every
    /// group of the instance moves.
    #[serde(default)]
    pub traffic_distribution_group: Option<String>,
    #[serde(default)]
    pub traffic_distribution_groups: Option<Vec<String>>,
    #[serde(default)]
    pub plan: Option<PlanInput>,
    #[serde(default)]
    pub preset: Option<Preset>,
    /// With `plan`: a step of an incident (say a gradual failover): it opens the failover
    /// episode like a failover and never becomes the steady state.
    #[serde(default)]
    pub incident: bool,
    /// With a failover: whether to isolate cross-region routing (default `auto`).
    #[serde(default)]
    pub isolate: Option<Isolate>,
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub dry_run: bool,
    /// Take the instance lock whoever holds it; needs `reason`.
    #[serde(default)]
    pub break_lock: bool,
    #[serde(default)]
    pub reason: Option<String>,
    /// When the request was made (the failover machine passes `$$.Execution.StartTime`): a shift
    /// of another run completed since then is a change this request did not see, and it is
    /// refused (`Unsafe`) instead of overriding it.
    #[serde(default)]
    pub requested_at: Option<String>,
    /// When the execution started (`$$.Execution.StartTime`): `requestedAt` without one.
    #[serde(default)]
    pub started_at: Option<String>,
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
pub struct PlannedCall {
    pub region: String,
    pub operation: String,
    pub id: String,
    pub body: Value,
}

/// One group's shift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupShift {
    pub group_arn: String,
    pub name: String,
    pub is_default: bool,
    /// The live distribution read under the lock (this run's recorded one on a retry).
    pub before: CurrentDistribution,
    pub after: TrafficPlan,
    /// False when the group already had this distribution (or on a dry run).
    pub changed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Output {
    pub run_id: String,
    pub instance_id: String,
    pub called_in: String,
    /// `failover`, `failback` or `plan`.
    pub reason: String,
    pub dry_run: bool,
    /// True when any group's distribution changed.
    pub changed: bool,
    pub gates: Vec<Gate>,
    pub groups: Vec<GroupShift>,
    /// Groups on record that Connect no longer has (deleted): skipped, not moved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gone: Vec<String>,
    /// What the shift does to cross-region routing (absent for a plan, which leaves it alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<RoutingShift>,
    pub calls: Vec<PlannedCall>,
}

pub async fn handler<C: Connect, S: ShiftStore>(
    ctx: &Context<C, S>,
    settings: &Settings,
    event: LambdaEvent<Value>,
) -> Result<Output, Diagnostic> {
    let started = Instant::now();
    let out = run::handle(event, ctx.deadline_margin, |input, deadline| {
        shift(ctx, settings, input, now(), deadline)
    })
    .await?;
    record_metrics(&out, started.elapsed().as_secs_f64());
    Ok(out)
}

/// The shift's duration and each moved group's new split.
fn record_metrics(out: &Output, seconds: f64) {
    if out.dry_run || !out.changed {
        return;
    }
    acgr::metrics::shift(&out.instance_id, &out.reason, seconds);
    if let Some(after) = out.routing.as_ref().and_then(|r| r.after.as_ref()) {
        acgr::metrics::routing(&out.instance_id, &out.called_in, after.isolated());
    }
    for g in out.groups.iter().filter(|g| g.changed) {
        let agents = g.after.agents().entries();
        for (region, telephony) in g.after.telephony().entries() {
            let agents = agents
                .iter()
                .find(|(r, _)| r == region)
                .map_or(0, |(_, p)| *p);
            acgr::metrics::distribution(
                &out.instance_id,
                &g.name,
                region.as_str(),
                *telephony,
                agents,
            );
        }
    }
}

pub async fn shift<C: Connect, S: ShiftStore>(
    ctx: &Context<C, S>,
    settings: &Settings,
    input: Input,
    now: i64,
    deadline: Option<Instant>,
) -> Result<Output, StepError> {
    let checked = check(&input, &ctx.pair())?;
    let isolate = input.isolate.unwrap_or_default();
    if input.dry_run {
        let planned = plan(ctx, settings, &checked, isolate, input.force, true).await?;
        return Ok(output(&input, &checked, &planned));
    }

    // The lock comes first: everything read after it (the live splits that become the failback
    // point) cannot be changed by another shift of ours meanwhile.
    let begin = Begin {
        header: &input.header,
        instance_id: &checked.id,
        kind: checked.intent.kind(),
        step: STEP,
        inputs: json!({
            "instanceId": input.header.instance_id,
            "reason": checked.intent.reason(),
            "force": input.force,
            "trafficDistributionGroups": checked.named,
            "breakLock": checked.break_reason,
            "isolate": input.isolate,
        }),
        hold: match &checked.break_reason {
            Some(reason) => Hold::BreakLock(reason.clone()),
            None => match released_elsewhere(ctx, &checked.id, &input.header.run_id, now).await {
                Some(why) => Hold::BreakLock(why),
                None => Hold::Lock,
            },
        },
        lease_seconds: ctx.lease_seconds,
    };
    let run = StepRun::begin(&ctx.store, begin, now).await?;
    let result = async {
        // read once under the lock: each group of this run writes only its own
        let shifts = ctx.store.shifts(&checked.id).await?;
        if let Some(at) = checked.requested_at {
            unseen_shift(&shifts, &input.header.run_id, at)?;
        }
        let planned = plan(ctx, settings, &checked, isolate, input.force, false).await?;
        let mut out = output(&input, &checked, &planned);
        // A retry of a run that recorded an intent passed the gates when it decided, under the
        // lock it still holds: it settles and completes what it started (each group checks its
        // own intent against the live split first), whatever a gate reads now.
        let retry = shifts.iter().any(|s| s.run_id == input.header.run_id);
        if retry {
            if let Err(refused) = gates::refuse(&out.gates, input.force) {
                warn!(run_id = %input.header.run_id, %refused, "gates read differently on the retry; completing the shift this run decided");
            }
        } else {
            gates::refuse(&out.gates, input.force)?;
        }
        let client = ctx.connect(&planned.target)?;
        let apply = Apply {
            ctx,
            client,
            settings,
            run_id: &input.header.run_id,
            id: &checked.id,
            reason: checked.intent.reason(),
            in_incident: checked.in_incident(),
            now,
            deadline,
            planned: &planned,
            shifts,
            other_silent: Default::default(),
        };
        for (shift, (group, plan, live)) in out.groups.iter_mut().zip(&planned.groups) {
            apply
                .group(shift, group, plan, live, planned.fence(&group.arn))
                .await?;
        }
        // success only for a split that still stands when the run ends
        apply.still_standing(&out.groups).await?;
        if let Some(r) = &planned.routing {
            let at = routing::Applying {
                run_id: &input.header.run_id,
                id: &checked.id,
                now,
                failback: matches!(checked.intent, intent::Intent::Failback),
                probe: settings.impaired_probe,
                other_silent: apply.other_silent(),
            };
            out.routing = Some(routing::apply(ctx, client, r, at).await?);
        }
        out.changed = out.groups.iter().any(|g| g.changed);
        if !checked.in_incident() {
            apply.record_steady(&out.groups).await?;
        }
        Ok(out)
    }
    .await;
    run.end(result, |_| true).await
}

/// A lock held here by a shift of the other region's deployment that the other region's table
/// no longer holds: the shift ended there and released it, and the release has not replicated
/// here yet (a failback run as soon as the source region is back). Then the lock is taken, with
/// that as the recorded reason; while the other region still holds it, or does not answer, the
/// lock rule stands.
async fn released_elsewhere<C: Connect, S: ShiftStore>(
    ctx: &Context<C, S>,
    id: &str,
    run_id: &str,
    now: i64,
) -> Option<String> {
    let peer = ctx.peer.as_ref()?;
    let held = ctx.store.get_lock(id).await.ok()??;
    let shift = matches!(held.kind, RunKind::Failover | RunKind::Failback);
    if held.run_id == run_id || !shift || held.lease_until <= now {
        return None;
    }
    // the holder's machine names its region: arn:aws:states:REGION:ACCOUNT:stateMachine:NAME
    let region = Arn::parse(held.machine.as_deref()?)?.region.to_string();
    if region != peer.region.as_str() {
        return None;
    }
    let wait = Duration::from_secs(3);
    let theirs = tokio::time::timeout(wait, peer.store.get_lock(id))
        .await
        .ok()?
        .ok()?;
    if theirs.is_some_and(|l| l.run_id == held.run_id) {
        return None;
    }
    warn!(run_id = %held.run_id, %region, "the lock here is a shift's of the other region that released it there: taken");
    Some(format!(
        "run {} of {region} released the lock there; its release had not replicated here yet",
        held.run_id
    ))
}

/// Refuses a request made before another run's shift completed: two people pressing at once
/// get one plan applied, and the other refused, not applied over it.
fn unseen_shift(shifts: &[ShiftRecord], run_id: &str, requested_at: i64) -> Result<(), StepError> {
    // in milliseconds: a failback asked for in the same second its failover completed is not
    // a request made before it
    let completed_ms = |s: &ShiftRecord| s.completed_at_ms.or(s.completed_at.map(|c| c * 1000));
    let newer = shifts.iter().find(|s| {
        s.run_id != run_id
            && s.status == ShiftStatus::Done
            && completed_ms(s).is_some_and(|c| c > requested_at)
    });
    match newer {
        Some(s) => Err(StepError::Unsafe(format!(
            "run {} shifted {} at {}, after this request was made ({requested_at}): the \
             distribution is not the one this request saw; read it, then ask again",
            s.run_id,
            s.group_arn,
            s.completed_at.unwrap_or_default()
        ))),
        None => Ok(()),
    }
}

fn output(input: &Input, checked: &Checked, planned: &Planned) -> Output {
    Output {
        run_id: input.header.run_id.clone(),
        instance_id: checked.id.clone(),
        called_in: planned.target.to_string(),
        reason: checked.intent.reason().to_string(),
        dry_run: input.dry_run,
        changed: false,
        gates: planned.gates.clone(),
        gone: planned.gone.clone(),
        routing: planned.routing.as_ref().map(|r| r.shown.clone()),
        groups: planned
            .groups
            .iter()
            .map(|(g, plan, live)| GroupShift {
                group_arn: g.arn.clone(),
                name: g.name.clone(),
                is_default: g.is_default,
                before: live.clone(),
                after: plan.clone(),
                changed: false,
            })
            .collect(),
        calls: planned
            .groups
            .iter()
            .map(|(g, plan, _)| PlannedCall {
                region: planned.target.to_string(),
                operation: "UpdateTrafficDistribution".into(),
                id: g.arn.clone(),
                body: update_body(plan),
            })
            .chain(
                planned
                    .routing
                    .as_ref()
                    .and_then(|r| r.call(&planned.target, &checked.id)),
            )
            .collect(),
    }
}
