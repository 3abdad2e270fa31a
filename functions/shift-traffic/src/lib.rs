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

mod gates;
mod groups;

use std::collections::BTreeMap;
use std::time::Duration;

use acgr::connect::{Connect, CurrentDistribution, GroupSummary};
use acgr::domain::{InstanceRef, Region, TrafficPlan};
use acgr::error::{ConnectErrorClass, StepError};
use acgr::records::{Episode, GroupRecord, RunKind, ShiftRecord, ShiftStatus};
use acgr::runs::{
    begin_step, break_instance_lock, check_run_id, finish_run, lock_instance, record_failure,
    record_step,
};
use acgr::steady::failback_point;
use acgr::store::RunStore;
use acgr::{now, parse_input, Context};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::time::Instant;
use tracing::{info, warn};

pub use gates::Gate;

pub const STEP: &str = "shift-traffic";

/// Gates and timings, read once per cold start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Share of the target's agents that must be associated with the group before agents move there.
    pub min_agent_share: f64,
    /// How long to wait for the group to read back the new split (never past the deadline).
    pub verify_timeout: Duration,
    pub verify_interval: Duration,
    /// Time kept before the invocation's deadline to record the outcome.
    pub deadline_margin: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_agent_share: 0.9,
            verify_timeout: Duration::from_secs(60),
            verify_interval: Duration::from_secs(1),
            deadline_margin: Duration::from_secs(5),
        }
    }
}

impl Settings {
    /// `MIN_AGENT_SHARE` (0..1, default 0.9), `SHIFT_VERIFY_SECONDS` (60), `SHIFT_POLL_MS` (1000),
    /// `DEADLINE_MARGIN_MS` (5000).
    pub fn from_env() -> Result<Settings, StepError> {
        let d = Settings::default();
        let get = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let num = |name: &str| -> Result<Option<f64>, StepError> {
            get(name)
                .map(|v| {
                    v.parse::<f64>()
                        .map_err(|_| StepError::InvalidInput(format!("{name} must be a number")))
                })
                .transpose()
        };
        let share = num("MIN_AGENT_SHARE")?.unwrap_or(d.min_agent_share);
        if !(0.0..=1.0).contains(&share) {
            return Err(StepError::InvalidInput(
                "MIN_AGENT_SHARE must be between 0 and 1".into(),
            ));
        }
        let millis = |v: f64| Duration::from_millis(v.max(0.0) as u64);
        Ok(Settings {
            min_agent_share: share,
            verify_timeout: num("SHIFT_VERIFY_SECONDS")?
                .map_or(d.verify_timeout, |s| Duration::from_secs_f64(s.max(0.0))),
            verify_interval: num("SHIFT_POLL_MS")?.map_or(d.verify_interval, millis),
            deadline_margin: num("DEADLINE_MARGIN_MS")?.map_or(d.deadline_margin, millis),
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
    /// The Step Functions execution driving the run (`$$.Execution.Id`), recorded on the run.
    #[serde(default)]
    pub execution_arn: Option<String>,
    pub run_id: String,
    /// The instance ID or ARN.
    pub instance_id: String,
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
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub dry_run: bool,
    /// Take the instance lock whoever holds it; needs `reason`.
    #[serde(default)]
    pub break_lock: bool,
    #[serde(default)]
    pub reason: Option<String>,
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
    pub dry_run: bool,
    /// True when any group's distribution changed.
    pub changed: bool,
    pub gates: Vec<Gate>,
    pub groups: Vec<GroupShift>,
    pub calls: Vec<PlannedCall>,
}

pub async fn handler<C: Connect, S: RunStore>(
    ctx: &Context<C, S>,
    settings: &Settings,
    event: LambdaEvent<Value>,
) -> Result<Output, Diagnostic> {
    let deadline = acgr::deadline::stop_at(
        event.context.deadline,
        acgr::deadline::epoch_millis(),
        settings.deadline_margin,
    );
    let input: Input = parse_input(event.payload)?;
    shift(ctx, settings, input, now(), deadline)
        .await
        .map_err(Diagnostic::from)
}

enum Intent {
    Plan(TrafficPlan),
    FailoverTo(Region),
    Failback,
}

impl Intent {
    fn kind(&self) -> RunKind {
        match self {
            Intent::Failback => RunKind::Failback,
            _ => RunKind::Failover,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Intent::Plan(_) => "plan",
            Intent::FailoverTo(_) => "failover",
            Intent::Failback => "failback",
        }
    }
}

fn entries<T: Copy>(map: &BTreeMap<String, T>) -> Result<Vec<(Region, T)>, StepError> {
    map.iter()
        .map(|(r, v)| Ok((Region::parse(r)?, *v)))
        .collect()
}

/// Everything checked before anything is read or written.
struct Checked {
    id: String,
    intent: Intent,
    named: Vec<String>,
    break_reason: Option<String>,
}

fn check(input: &Input, pair: &(Region, Region)) -> Result<Checked, StepError> {
    check_run_id(&input.run_id)?;
    let id = InstanceRef::parse(&input.instance_id)?.id;
    let intent = match (&input.plan, &input.preset) {
        (Some(p), None) => {
            let sign_in = p.sign_in.as_ref().map(entries).transpose()?;
            Intent::Plan(TrafficPlan::new(
                pair,
                &entries(&p.telephony)?,
                &entries(&p.agents)?,
                sign_in.as_deref(),
            )?)
        }
        (None, Some(Preset::FailoverTo { failover_to })) => {
            let target = Region::parse(failover_to)?;
            TrafficPlan::failover_to(pair, &target, true)?;
            Intent::FailoverTo(target)
        }
        (None, Some(Preset::Named(n))) if n == "failback" => Intent::Failback,
        (None, Some(Preset::Named(n))) => {
            return Err(StepError::InvalidInput(format!(
                "preset '{n}' is not known: use \"failback\" or {{\"failoverTo\": REGION}}"
            )))
        }
        _ => {
            return Err(StepError::InvalidInput(
                "give exactly one of plan and preset".into(),
            ))
        }
    };
    let mut named: Vec<String> = input.traffic_distribution_group.iter().cloned().collect();
    named.extend(input.traffic_distribution_groups.iter().flatten().cloned());
    if let Some(bad) = named
        .iter()
        .find(|n| n.is_empty() || n.len() > 500 || n.chars().any(char::is_whitespace))
    {
        return Err(StepError::InvalidInput(format!(
            "trafficDistributionGroups: '{bad}' is not a group ID or ARN"
        )));
    }
    let reason = input
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.len() > 1000) {
        return Err(StepError::InvalidInput(
            "reason is longer than 1000 characters".into(),
        ));
    }
    let break_reason = match (input.break_lock, reason) {
        (false, _) => None,
        (true, Some(r)) => Some(r.to_string()),
        (true, None) => {
            return Err(StepError::InvalidInput(
                "breakLock needs a reason: say why the lock is broken".into(),
            ))
        }
    };
    Ok(Checked {
        id,
        intent,
        named,
        break_reason,
    })
}

/// The plan of one group: the failover split, the operator's plan (sign-in only on the default
/// group), or the group's failback point.
fn group_plan(
    intent: &Intent,
    pair: &(Region, Region),
    group: &GroupSummary,
    record: Option<&GroupRecord>,
    episode: Option<&Episode>,
) -> Result<TrafficPlan, StepError> {
    match intent {
        Intent::FailoverTo(target) => TrafficPlan::failover_to(pair, target, group.is_default),
        Intent::Plan(p) if group.is_default => Ok(p.clone()),
        Intent::Plan(p) => Ok(p.clone().without_sign_in()),
        Intent::Failback => {
            let point = failback_point(record, episode).ok_or_else(|| {
                StepError::InvalidInput(format!(
                    "no failback point is on record for group {} ({}): no steady state was \
                     recorded by a replication or agent-sync run and no failover episode is open",
                    group.name, group.arn
                ))
            })?;
            TrafficPlan::new(
                pair,
                &point.telephony,
                &point.agents,
                if group.is_default {
                    point.sign_in.as_deref()
                } else {
                    None
                },
            )
            .map_err(|e| {
                StepError::Rejected(format!(
                    "the failback point of group {} is not a usable distribution: {e}",
                    group.name
                ))
            })
        }
    }
}

/// What the table says about the groups before the shift: records and open episodes.
struct OnRecord {
    groups: Vec<GroupRecord>,
    episodes: Vec<Episode>,
}

impl OnRecord {
    async fn load<S: RunStore>(store: &S, id: &str) -> Result<OnRecord, StepError> {
        let groups = store.groups(id).await?;
        let mut episodes = Vec::new();
        for g in &groups {
            episodes.extend(store.episode(id, &g.group_arn).await?);
        }
        Ok(OnRecord { groups, episodes })
    }

    fn record(&self, arn: &str) -> Option<&GroupRecord> {
        self.groups.iter().find(|g| g.group_arn == arn)
    }

    fn episode(&self, arn: &str) -> Option<&Episode> {
        self.episodes.iter().find(|e| e.group_arn == arn)
    }

    /// A failback goes where the default group's failback point puts (most of) the telephony.
    fn failback_target(&self, pair: &(Region, Region)) -> Region {
        self.groups
            .iter()
            .filter(|r| r.is_default)
            .find_map(|r| failback_point(Some(r), self.episode(&r.group_arn)))
            .and_then(|p| p.telephony.iter().max_by_key(|(_, pct)| *pct))
            .map_or(pair.0.clone(), |(r, _)| r.clone())
    }
}

/// The shift as planned, before anything is written: groups, plans, gates, live splits.
struct Planned {
    target: Region,
    groups: Vec<(GroupSummary, TrafficPlan, CurrentDistribution)>,
    gates: Vec<Gate>,
}

async fn plan<C: Connect, S: RunStore>(
    ctx: &Context<C, S>,
    settings: &Settings,
    checked: &Checked,
    force: bool,
) -> Result<Planned, StepError> {
    let pair = ctx.pair();
    let id = &checked.id;
    let known = OnRecord::load(&ctx.store, id).await?;
    let target = match &checked.intent {
        Intent::FailoverTo(t) => t.clone(),
        Intent::Plan(p) => p.telephony_target().clone(),
        Intent::Failback => known.failback_target(&pair),
    };
    let client = ctx.connect(&target)?;
    let groups = groups::resolve(client, id, &checked.named, &known.groups).await?;
    let mut gates = gates::instance_gates(client, id).await?;
    let mut planned = Vec::new();
    for group in groups {
        let record = known.record(&group.arn);
        // A group created after the last routine run has no record: its episode may still exist.
        let episode = match known.episode(&group.arn) {
            Some(e) => Some(e.clone()),
            None if record.is_none() => ctx.store.episode(id, &group.arn).await?,
            None => None,
        };
        let plan = group_plan(&checked.intent, &pair, &group, record, episode.as_ref())?;
        let live = client.get_distribution(&group.arn).await?;
        gates.extend(gates::group_gates(
            &group,
            &plan,
            &live,
            record,
            settings.min_agent_share,
            force,
        ));
        planned.push((group, plan, live));
    }
    if let (Intent::Plan(p), [(g, _, _)]) = (&checked.intent, planned.as_slice()) {
        if p.sign_in().is_some() && !g.is_default {
            return Err(StepError::InvalidInput(format!(
                "signIn can only change on the default group; {} is a custom group",
                g.name
            )));
        }
    }
    Ok(Planned {
        target,
        groups: planned,
        gates,
    })
}

pub async fn shift<C: Connect, S: RunStore>(
    ctx: &Context<C, S>,
    settings: &Settings,
    input: Input,
    now: i64,
    deadline: Option<Instant>,
) -> Result<Output, StepError> {
    let checked = check(&input, &ctx.pair())?;
    if input.dry_run {
        let planned = plan(ctx, settings, &checked, input.force).await?;
        return Ok(output(&input, &checked, &planned));
    }

    let kind = checked.intent.kind();
    let inputs = json!({
        "instanceId": input.instance_id,
        "reason": checked.intent.reason(),
        "force": input.force,
        "trafficDistributionGroups": checked.named,
        "breakLock": checked.break_reason,
    });
    let mut run = begin_step(
        &ctx.store,
        &checked.id,
        &input.run_id,
        kind,
        STEP,
        inputs,
        input.execution_arn.as_deref(),
        now,
    )
    .await?;
    let result = async {
        // The lock comes first: everything read after it (the live splits that become the
        // failback point) cannot be changed by another shift of ours meanwhile.
        match &checked.break_reason {
            Some(reason) => {
                break_instance_lock(
                    &ctx.store,
                    &checked.id,
                    &input.run_id,
                    kind,
                    ctx.lease_seconds,
                    reason,
                    now,
                )
                .await?
            }
            None => {
                lock_instance(
                    &ctx.store,
                    &checked.id,
                    &input.run_id,
                    kind,
                    ctx.lease_seconds,
                    now,
                )
                .await?
            }
        };
        let planned = plan(ctx, settings, &checked, input.force).await?;
        let mut out = output(&input, &checked, &planned);
        gates::refuse(&out.gates, input.force)?;
        let client = ctx.connect(&planned.target)?;
        let apply = Apply {
            ctx,
            client,
            settings,
            run_id: &input.run_id,
            id: &checked.id,
            reason: checked.intent.reason(),
            now,
            deadline,
        };
        for (shift, (group, plan, live)) in out.groups.iter_mut().zip(&planned.groups) {
            apply.group(shift, group, plan, live).await?;
        }
        out.changed = out.groups.iter().any(|g| g.changed);
        if !matches!(checked.intent, Intent::FailoverTo(_)) {
            apply.record_steady(&out.groups).await?;
        }
        Ok(out)
    }
    .await;
    match result {
        Ok(out) => {
            record_step(&ctx.store, &mut run, STEP, &out, now).await?;
            finish_run(&ctx.store, &mut run, now).await?;
            Ok(out)
        }
        Err(e) => {
            record_failure(&ctx.store, &mut run, &e, now).await;
            Err(e)
        }
    }
}

fn output(input: &Input, checked: &Checked, planned: &Planned) -> Output {
    Output {
        run_id: input.run_id.clone(),
        instance_id: checked.id.clone(),
        called_in: planned.target.to_string(),
        dry_run: input.dry_run,
        changed: false,
        gates: planned.gates.clone(),
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
            .collect(),
    }
}

/// Applies the plan group by group, under the lock.
struct Apply<'a, C, S> {
    ctx: &'a Context<C, S>,
    client: &'a C,
    settings: &'a Settings,
    run_id: &'a str,
    id: &'a str,
    reason: &'a str,
    now: i64,
    deadline: Option<Instant>,
}

impl<C: Connect, S: RunStore> Apply<'_, C, S> {
    async fn group(
        &self,
        out: &mut GroupShift,
        group: &GroupSummary,
        plan: &TrafficPlan,
        live: &CurrentDistribution,
    ) -> Result<(), StepError> {
        let store = &self.ctx.store;
        let shifts: Vec<ShiftRecord> = store
            .shifts(self.id)
            .await?
            .into_iter()
            .filter(|s| s.group_arn == group.arn)
            .collect();
        let mine = shifts.iter().find(|s| s.run_id == self.run_id).cloned();
        if let Some(m) = &mine {
            // A retry: its own intent stands unless another shift came after it.
            if let Some(newer) = shifts.iter().find(|s| {
                s.run_id != self.run_id && s.at >= m.at && s.status != ShiftStatus::Abandoned
            }) {
                if m.status != ShiftStatus::Done {
                    return Err(StepError::Unsafe(format!(
                        "shift {} ({}) of group {} was recorded after this run's intent; \
                         not re-applying an older plan over it",
                        newer.run_id, newer.reason, group.name
                    )));
                }
            }
            out.before = m.before.clone();
            if m.status == ShiftStatus::Done {
                return Ok(());
            }
        }
        self.settle_others(&shifts, live).await?;
        if self.reason == "failover" {
            let episode = store
                .open_episode(&Episode {
                    instance_id: self.id.to_string(),
                    group_arn: group.arn.clone(),
                    opened_by: self.run_id.to_string(),
                    opened_at: self.now,
                    before: self.episode_start(group, plan, &out.before).await?,
                })
                .await?;
            if episode.opened_by != self.run_id {
                info!(group = %group.arn, opened_by = %episode.opened_by, "failover episode already open: its failback point stands");
            }
        }

        let mut record = mine.unwrap_or(ShiftRecord {
            instance_id: self.id.to_string(),
            run_id: self.run_id.to_string(),
            group_arn: group.arn.clone(),
            status: ShiftStatus::Intent,
            reason: self.reason.to_string(),
            before: live.clone(),
            after: plan.clone(),
            called_in: self.client.region().to_string(),
            at: self.now,
            completed_at: None,
            reconciled_by: None,
        });
        if !live.matches(plan) {
            record.status = ShiftStatus::Intent;
            store.put_shift(&record).await?;
            // Compare and apply: the lock on the global table holds within a region; a shift
            // started from the other region's deployment shows up here as a moved split.
            let now_live = self.client.get_distribution(&group.arn).await?;
            if now_live != *live {
                record.status = ShiftStatus::Abandoned;
                store.put_shift(&record).await?;
                return Err(StepError::Unsafe(format!(
                    "group {} moved after it was read under the lock (a shift from the other \
                     region?); read it again and decide",
                    group.name
                )));
            }
            match self.client.update_distribution(&group.arn, plan).await {
                Ok(()) => {}
                Err(e) if e.class == ConnectErrorClass::Conflict => {
                    return Err(StepError::NotReady(format!(
                        "group {} is busy applying another change: {}",
                        group.name, e.message
                    )))
                }
                Err(e) => {
                    record.status = ShiftStatus::Failed;
                    store.put_shift(&record).await?;
                    return Err(e.into());
                }
            }
            out.changed = true;
            info!(instance_id = %self.id, group = %group.arn, region = %self.client.region(), reason = self.reason, "traffic distribution updated");
            self.verify(group, plan).await?;
        }
        record.status = ShiftStatus::Done;
        record.completed_at = Some(self.now);
        store.put_shift(&record).await.map_err(StepError::from)
    }

    /// The split an episode opened now keeps: the live one, unless the group already reads
    /// the plan (a failover recorded elsewhere and lost to replication lag): then the steady
    /// state on record.
    async fn episode_start(
        &self,
        group: &GroupSummary,
        plan: &TrafficPlan,
        live: &CurrentDistribution,
    ) -> Result<CurrentDistribution, StepError> {
        if !live.matches(plan) {
            return Ok(live.clone());
        }
        let steady = self
            .ctx
            .store
            .groups(self.id)
            .await?
            .into_iter()
            .find(|g| g.group_arn == group.arn)
            .and_then(|g| g.steady);
        Ok(steady.unwrap_or_else(|| live.clone()))
    }

    /// Intents of other runs that never recorded an outcome (a crash after the update): the
    /// live distribution says whether they were applied.
    async fn settle_others(
        &self,
        shifts: &[ShiftRecord],
        live: &CurrentDistribution,
    ) -> Result<(), StepError> {
        for s in shifts
            .iter()
            .filter(|s| s.run_id != self.run_id && s.status == ShiftStatus::Intent)
        {
            let mut settled = s.clone();
            settled.status = if live.matches(&s.after) {
                ShiftStatus::Done
            } else {
                ShiftStatus::Abandoned
            };
            settled.completed_at = Some(self.now);
            settled.reconciled_by = Some(self.run_id.to_string());
            warn!(run_id = %s.run_id, status = ?settled.status, group = %s.group_arn, "settled an intent left without an outcome");
            self.ctx.store.put_shift(&settled).await?;
        }
        Ok(())
    }

    /// Waits until the group is ACTIVE again and reads back `plan`, within the verify timeout
    /// and never past the invocation's deadline: then `NotReady`, and the retry settles it.
    async fn verify(&self, group: &GroupSummary, plan: &TrafficPlan) -> Result<(), StepError> {
        let mut until = Instant::now() + self.settings.verify_timeout;
        if let Some(d) = self.deadline {
            until = until.min(d);
        }
        loop {
            let g = self.client.describe_group(&group.arn).await?;
            if g.is_active()
                && self
                    .client
                    .get_distribution(&group.arn)
                    .await?
                    .matches(plan)
            {
                return Ok(());
            }
            if Instant::now() + self.settings.verify_interval >= until {
                return Err(StepError::NotReady(format!(
                    "group {} has not read back the new distribution yet (status {}); the \
                     intent is recorded and the retry settles it",
                    group.name, g.status
                )));
            }
            tokio::time::sleep(self.settings.verify_interval).await;
        }
    }

    /// After a failback, the episodes end and the restored split is the steady state; after a
    /// plan outside an episode, the plan is the new steady state (within an episode, a plan is a
    /// step of the incident and the failback point stands).
    async fn record_steady(&self, groups: &[GroupShift]) -> Result<(), StepError> {
        let store = &self.ctx.store;
        let records = store.groups(self.id).await?;
        for g in groups {
            if self.reason == "failback" {
                store.close_episode(self.id, &g.group_arn).await?;
            } else if store.episode(self.id, &g.group_arn).await?.is_some() {
                continue;
            }
            let mut r = records
                .iter()
                .find(|r| r.group_arn == g.group_arn)
                .cloned()
                .unwrap_or_else(|| GroupRecord {
                    instance_id: self.id.to_string(),
                    group_arn: g.group_arn.clone(),
                    group_id: g
                        .group_arn
                        .rsplit('/')
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                    name: g.name.clone(),
                    is_default: g.is_default,
                    steady: None,
                    steady_at: 0,
                    recorded_by: String::new(),
                    agents_associated: 0,
                    agents_total: 0,
                    agents_at: 0,
                });
            r.steady = Some(CurrentDistribution::from(&g.after));
            r.steady_at = self.now;
            r.recorded_by = self.run_id.to_string();
            store.put_group(&r).await?;
        }
        Ok(())
    }
}

fn update_body(plan: &TrafficPlan) -> Value {
    let split = |s: &acgr::domain::Split| json!({"Distributions": s.entries().iter().map(|(r, p)| json!({"Region": r, "Percentage": p})).collect::<Vec<_>>()});
    let mut body =
        json!({"TelephonyConfig": split(plan.telephony()), "AgentConfig": split(plan.agents())});
    if let Some(s) = plan.sign_in() {
        body["SignInConfig"] = json!({"Distributions": s.iter().map(|(r, e)| json!({"Region": r, "Enabled": e})).collect::<Vec<_>>()});
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use acgr::connect::fake::{FakeConnect, FakeWorld};
    use acgr::connect::{InstanceInfo, RegionStatus, ReplicationInfo, ResourceSummary};
    use acgr::domain::Kind;
    use acgr::records::RunStatus;
    use acgr::steady::{record_steady_state, AgentCounts};
    use acgr::store::memory::MemoryRunStore;
    use std::sync::{Arc, Mutex};

    const ID: &str = "inst-1";
    const EAST: &str = "us-east-1";
    const WEST: &str = "us-west-2";
    const ARN: &str = "arn:aws:connect:us-east-1:1:traffic-distribution-group/g1";
    const SALES: &str = "arn:aws:connect:us-east-1:1:traffic-distribution-group/g2";

    type Ctx = Context<FakeConnect, MemoryRunStore>;

    fn r(s: &str) -> Region {
        Region::parse(s).unwrap()
    }

    fn settings() -> Settings {
        Settings {
            min_agent_share: 0.9,
            verify_timeout: Duration::from_millis(50),
            verify_interval: Duration::from_millis(1),
            deadline_margin: Duration::ZERO,
        }
    }

    fn split(east: u8, sign_in: bool) -> CurrentDistribution {
        CurrentDistribution {
            telephony: vec![(r(EAST), east), (r(WEST), 100 - east)],
            agents: vec![(r(EAST), east), (r(WEST), 100 - east)],
            sign_in: sign_in.then(|| vec![(r(EAST), east > 0), (r(WEST), east < 100)]),
        }
    }

    fn group(id: &str, arn: &str, name: &str, is_default: bool) -> GroupSummary {
        GroupSummary {
            id: id.into(),
            arn: arn.into(),
            name: name.into(),
            instance_arn: format!("arn:aws:connect:us-east-1:1:instance/{ID}"),
            status: "ACTIVE".into(),
            is_default,
        }
    }

    /// A replicated instance, its default group at `east`% in us-east-1, ten agents.
    fn ctx_at(east: u8) -> Ctx {
        let world = Arc::new(Mutex::new(FakeWorld::default()));
        {
            let mut w = world.lock().unwrap();
            let users: Vec<ResourceSummary> = (0..10)
                .map(|i| ResourceSummary {
                    id: Some(format!("u{i}")),
                    name: format!("agent{i}"),
                })
                .collect();
            for region in [EAST, WEST] {
                w.instances.insert(
                    (region.into(), ID.into()),
                    InstanceInfo {
                        id: ID.into(),
                        arn: format!("arn:aws:connect:{region}:1:instance/{ID}"),
                        status: Some("ACTIVE".into()),
                        replication: Some(ReplicationInfo {
                            source_region: Some(r(EAST)),
                            statuses: [EAST, WEST]
                                .iter()
                                .map(|x| RegionStatus {
                                    region: x.to_string(),
                                    status: "INSTANCE_REPLICATION_COMPLETE".into(),
                                    reason: None,
                                })
                                .collect(),
                            global_sign_in_endpoint: None,
                        }),
                        ..Default::default()
                    },
                );
                w.resources
                    .insert((region.into(), ID.into(), Kind::Users), users.clone());
            }
            w.groups.push((
                EAST.into(),
                WEST.into(),
                group("g1", ARN, "acme-default", true),
            ));
            w.distributions.insert(ARN.into(), split(east, true));
        }
        Context {
            source: FakeConnect::new(r(EAST), world.clone()),
            replica: FakeConnect::new(r(WEST), world),
            store: MemoryRunStore::default(),
            lease_seconds: 900,
        }
    }

    /// `ctx_at`, with the steady state and 10 of 10 agents recorded by an agent-sync run.
    async fn synced_at(east: u8) -> Ctx {
        let ctx = ctx_at(east);
        sync(&ctx, 10).await;
        ctx
    }

    async fn sync(ctx: &Ctx, associated: u64) {
        let counts = AgentCounts {
            group_arn: ARN.into(),
            associated,
            total: 10,
        };
        record_steady_state(&ctx.source, &ctx.store, ID, "sync", Some(&counts), 1)
            .await
            .unwrap();
        ctx.source.world().calls.clear();
    }

    fn failover(run: &str) -> Input {
        Input {
            run_id: run.into(),
            instance_id: ID.into(),
            preset: Some(Preset::FailoverTo {
                failover_to: WEST.into(),
            }),
            ..Input::default()
        }
    }

    fn failback(run: &str) -> Input {
        Input {
            preset: Some(Preset::Named("failback".into())),
            ..failover(run)
        }
    }

    async fn go(ctx: &Ctx, input: Input, now: i64) -> Result<Output, StepError> {
        shift(ctx, &settings(), input, now, None).await
    }

    fn updates(ctx: &Ctx) -> Vec<(String, String)> {
        ctx.source
            .world()
            .calls_of("UpdateTrafficDistribution")
            .iter()
            .map(|c| (c.region.clone(), c.target.clone()))
            .collect()
    }

    fn live(ctx: &Ctx, arn: &str) -> CurrentDistribution {
        ctx.source.world().distributions[arn].clone()
    }

    #[tokio::test]
    async fn fails_over_in_the_target_region_by_arn_then_fails_back_to_the_recorded_split() {
        let ctx = synced_at(100).await;
        let out = go(&ctx, failover("f1"), 100).await.unwrap();
        assert!(out.changed);
        assert_eq!(out.called_in, WEST);
        assert_eq!(updates(&ctx), vec![(WEST.to_string(), ARN.to_string())]);
        assert_eq!(live(&ctx, ARN), split(0, true));
        let shifts = ctx.store.shifts(ID).await.unwrap();
        assert_eq!(shifts[0].status, ShiftStatus::Done);
        assert_eq!(shifts[0].before, split(100, true));
        let writes = ctx.store.state().writes.clone();
        let at = |w: &str| writes.iter().position(|x| x == w).unwrap();
        assert!(at("LOCK#f1") < at(&format!("EPISODE#{ARN}")));
        assert!(at(&format!("EPISODE#{ARN}")) < at("SHIFT#f1#Intent"));
        assert!(at("SHIFT#f1#Intent") < at("SHIFT#f1#Done"));
        assert!(ctx.store.get_lock(ID).await.unwrap().is_none(), "released");

        let back = go(&ctx, failback("b1"), 200).await.unwrap();
        assert_eq!(back.called_in, EAST);
        assert_eq!(live(&ctx, ARN), split(100, true));
        assert!(
            ctx.store.episode(ID, ARN).await.unwrap().is_none(),
            "closed"
        );
    }

    #[tokio::test]
    async fn failback_restores_the_steady_state_after_one_two_or_three_failovers() {
        for failovers in 1..=3 {
            // a 70/30 steady state, recorded by agent sync long before the incident
            let ctx = synced_at(70).await;
            for n in 0..failovers {
                let out = go(&ctx, failover(&format!("f{n}")), 100 + n).await.unwrap();
                assert_eq!(out.changed, n == 0, "only the first failover moves traffic");
            }
            assert_eq!(live(&ctx, ARN), split(0, true));
            let episode = ctx.store.episode(ID, ARN).await.unwrap().unwrap();
            assert_eq!(episode.opened_by, "f0");
            assert_eq!(episode.before, split(70, true));
            // an agent sync during the episode does not overwrite the failback point
            sync(&ctx, 10).await;

            let back = go(&ctx, failback("b"), 200).await.unwrap();
            assert_eq!(back.called_in, EAST, "where 70% of the calls go back");
            assert_eq!(
                live(&ctx, ARN),
                split(70, true),
                "after {failovers} failovers"
            );
        }
    }

    #[tokio::test]
    async fn a_failover_lost_to_replication_lag_still_fails_back_to_the_steady_state() {
        // the table has the steady state; the failover that moved traffic was never recorded here
        let ctx = synced_at(100).await;
        ctx.source
            .world()
            .distributions
            .insert(ARN.into(), split(0, true));
        let out = go(&ctx, failover("f2"), 100).await.unwrap();
        assert!(!out.changed);
        let episode = ctx.store.episode(ID, ARN).await.unwrap().unwrap();
        assert_eq!(
            episode.before,
            split(100, true),
            "not the failed-over split"
        );
        go(&ctx, failback("b"), 200).await.unwrap();
        assert_eq!(live(&ctx, ARN), split(100, true));
    }

    #[tokio::test]
    async fn failback_without_a_failback_point_is_refused_and_changes_nothing() {
        let ctx = ctx_at(0);
        let err = go(&ctx, failback("b0"), 50).await.unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput");
        assert!(err.to_string().contains("no failback point"), "{err}");
        assert!(updates(&ctx).is_empty());
    }

    #[tokio::test]
    async fn a_dry_run_returns_the_exact_calls_and_writes_nothing() {
        let ctx = synced_at(100).await;
        let writes = ctx.store.state().writes.len();
        let out = go(
            &ctx,
            Input {
                dry_run: true,
                ..failover("d1")
            },
            100,
        )
        .await
        .unwrap();
        assert_eq!(out.calls.len(), 1);
        assert_eq!(out.calls[0].region, WEST);
        assert_eq!(out.calls[0].id, ARN);
        assert_eq!(
            out.calls[0].body["TelephonyConfig"]["Distributions"][1],
            json!({"Region": WEST, "Percentage": 100})
        );
        assert!(updates(&ctx).is_empty());
        assert_eq!(ctx.store.state().writes.len(), writes);
    }

    #[tokio::test]
    async fn health_gates_refuse_an_unhealthy_target_even_forced() {
        let ctx = synced_at(100).await;
        ctx.source
            .world()
            .instances
            .get_mut(&(WEST.into(), ID.into()))
            .unwrap()
            .status = Some("CREATION_IN_PROGRESS".into());
        let err = go(
            &ctx,
            Input {
                force: true,
                ..failover("f1")
            },
            100,
        )
        .await
        .unwrap_err();
        assert_eq!(err.error_type(), "Unsafe");
        assert!(err.to_string().contains("target-instance-active"));
        assert!(updates(&ctx).is_empty());
        let run = ctx.store.get_run(ID, "f1").await.unwrap().unwrap();
        assert_eq!(run.error.unwrap().error_type, "Unsafe");
        assert!(ctx.store.get_lock(ID).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn the_agents_gate_reads_the_counts_on_record_and_is_skipped_when_forced() {
        let ctx = ctx_at(100);
        sync(&ctx, 1).await;
        let err = go(&ctx, failover("f1"), 100).await.unwrap_err();
        assert!(err.to_string().contains("agents-associated"), "{err}");
        assert!(err.to_string().contains("1 of 10"), "{err}");
        let forced = go(
            &ctx,
            Input {
                force: true,
                ..failover("f2")
            },
            100,
        )
        .await
        .expect("forced");
        assert!(forced.gates.iter().all(|g| g.id != "agents-associated"));
        for op in ["ListTrafficDistributionGroupUsers", "ListUsers"] {
            assert!(
                ctx.source.world().calls_of(op).is_empty(),
                "{op} at shift time"
            );
        }
        // without any record, the gate asks for an agent sync
        let bare = ctx_at(100);
        let err = go(&bare, failover("f3"), 100).await.unwrap_err();
        assert!(err.to_string().contains("run agent sync"), "{err}");
    }

    #[tokio::test]
    async fn a_failover_makes_a_handful_of_calls_before_its_update_whatever_the_agent_count() {
        let ctx = synced_at(100).await;
        {
            let mut w = ctx.source.world();
            let many: Vec<ResourceSummary> = (0..10_000)
                .map(|i| ResourceSummary {
                    id: Some(format!("u{i}")),
                    name: format!("agent{i}"),
                })
                .collect();
            w.resources
                .insert((EAST.into(), ID.into(), Kind::Users), many);
        }
        go(&ctx, failover("f1"), 100).await.unwrap();
        let w = ctx.source.world();
        let before_update = w
            .calls
            .iter()
            .position(|c| c.operation == "UpdateTrafficDistribution")
            .unwrap();
        assert!(before_update <= 10, "{:?}", &w.calls[..before_update]);
        assert!(
            w.calls.iter().all(|c| c.region == WEST),
            "only the region taking traffic"
        );
    }

    #[tokio::test]
    async fn telephony_without_agents_is_refused_unless_forced_and_invalid_plans_change_nothing() {
        let ctx = synced_at(100).await;
        let plan = |t: u8, a: u8| PlanInput {
            telephony: [(EAST.to_string(), 100 - t), (WEST.to_string(), t)].into(),
            agents: [(EAST.to_string(), 100 - a), (WEST.to_string(), a)].into(),
            sign_in: None,
        };
        let input = |p: PlanInput| Input {
            plan: Some(p),
            preset: None,
            ..failover("p1")
        };
        let err = go(&ctx, input(plan(100, 0)), 100).await.unwrap_err();
        assert_eq!(err.error_type(), "Unsafe");
        assert!(err.to_string().contains("agents-follow-telephony"));
        for bad in [plan(55, 50), plan(50, 45)] {
            let err = go(&ctx, input(bad), 100).await.unwrap_err();
            assert_eq!(err.error_type(), "InvalidInput");
        }
        let err = go(
            &ctx,
            Input {
                preset: Some(Preset::Named("sideways".into())),
                ..failover("x")
            },
            1,
        )
        .await
        .unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput");
        let err = go(
            &ctx,
            Input {
                break_lock: true,
                ..failover("x")
            },
            1,
        )
        .await
        .unwrap_err();
        assert!(
            err.to_string().contains("breakLock needs a reason"),
            "{err}"
        );
        assert!(updates(&ctx).is_empty());
        let ok = go(
            &ctx,
            Input {
                force: true,
                ..input(plan(50, 0))
            },
            100,
        )
        .await
        .unwrap();
        assert!(ok.changed);
    }

    #[tokio::test]
    async fn a_busy_group_is_not_ready_keeps_the_lock_and_the_retry_completes() {
        let ctx = synced_at(100).await;
        ctx.source
            .world()
            .fail_next("UpdateTrafficDistribution", "ResourceConflictException", 1);
        let err = go(&ctx, failover("f1"), 100).await.unwrap_err();
        assert_eq!(err.error_type(), "NotReady");
        let shifts = ctx.store.shifts(ID).await.unwrap();
        assert_eq!(
            shifts[0].status,
            ShiftStatus::Intent,
            "the intent is on record"
        );
        assert_eq!(
            ctx.store.get_lock(ID).await.unwrap().unwrap().run_id,
            "f1",
            "NotReady keeps the lock for the retry"
        );
        let run = ctx.store.get_run(ID, "f1").await.unwrap().unwrap();
        assert_eq!(run.status, RunStatus::Running);
        let out = go(&ctx, failover("f1"), 105).await.unwrap();
        assert_eq!(out.groups[0].before, split(100, true));
        assert_eq!(
            ctx.store.shifts(ID).await.unwrap()[0].status,
            ShiftStatus::Done
        );
    }

    #[tokio::test]
    async fn a_retry_after_the_update_was_applied_ends_shifted_without_a_second_update() {
        let ctx = synced_at(100).await;
        // the group stays UPDATE_IN_PROGRESS past the verify wait, as if the process died there
        ctx.source.world().settle_reads = 1_000;
        let err = go(&ctx, failover("f1"), 100).await.unwrap_err();
        assert_eq!(err.error_type(), "NotReady", "{err}");
        // while it settles, a retry waits (NotReady), it does not fail the run
        let err = go(&ctx, failover("f1"), 101).await.unwrap_err();
        assert_eq!(err.error_type(), "NotReady", "{err}");
        assert!(err.to_string().contains("UPDATE_IN_PROGRESS"), "{err}");
        ctx.source
            .world()
            .pending
            .values_mut()
            .for_each(|p| p.0 = 0);
        let out = go(&ctx, failover("f1"), 110).await.unwrap();
        assert!(!out.changed);
        assert_eq!(updates(&ctx).len(), 1, "applied once");
        let shifts = ctx.store.shifts(ID).await.unwrap();
        assert_eq!(shifts.len(), 1);
        assert_eq!(shifts[0].status, ShiftStatus::Done);
        assert_eq!(
            shifts[0].before,
            split(100, true),
            "the failback point of the first read"
        );
    }

    #[tokio::test]
    async fn the_verify_wait_stops_before_the_invocations_deadline() {
        let ctx = synced_at(100).await;
        ctx.source.world().settle_reads = usize::MAX;
        let slow = Settings {
            verify_timeout: Duration::from_secs(3600),
            ..settings()
        };
        let started = std::time::Instant::now();
        let deadline = Instant::now() + Duration::from_millis(100);
        let err = shift(&ctx, &slow, failover("f1"), 100, Some(deadline))
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "NotReady");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn an_intent_left_by_a_crash_is_settled_from_the_live_distribution_by_the_next_shift() {
        let ctx = synced_at(100).await;
        ctx.source.world().settle_reads = usize::MAX;
        go(&ctx, failover("f1"), 100).await.unwrap_err();
        // the update applies; run f1 never comes back (its execution gave up)
        ctx.source
            .world()
            .pending
            .values_mut()
            .for_each(|p| p.0 = 0);
        ctx.source.world().settle_reads = 0;
        ctx.store.release_lock(ID, "f1").await.unwrap();
        go(&ctx, failback("b1"), 200).await.unwrap();
        let shifts = ctx.store.shifts(ID).await.unwrap();
        let f1 = shifts.iter().find(|s| s.run_id == "f1").unwrap();
        assert_eq!(f1.status, ShiftStatus::Done, "moved, so recorded as moved");
        assert_eq!(f1.reconciled_by.as_deref(), Some("b1"));
        assert_eq!(live(&ctx, ARN), split(100, true));
    }

    #[tokio::test]
    async fn a_stale_retry_refuses_to_reapply_over_a_newer_shift() {
        let ctx = synced_at(100).await;
        ctx.source
            .world()
            .fail_next("UpdateTrafficDistribution", "ResourceConflictException", 1);
        go(&ctx, failover("f1"), 100).await.unwrap_err();
        // an operator breaks the lock and applies another plan meanwhile
        let newer = Input {
            plan: Some(PlanInput {
                telephony: [(EAST.to_string(), 50), (WEST.to_string(), 50)].into(),
                agents: [(EAST.to_string(), 50), (WEST.to_string(), 50)].into(),
                sign_in: Some([(EAST.to_string(), true), (WEST.to_string(), true)].into()),
            }),
            preset: None,
            break_lock: true,
            reason: Some("incident 42: split while f1 is stuck".into()),
            ..failover("p1")
        };
        go(&ctx, newer, 150).await.unwrap();
        ctx.store.release_lock(ID, "p1").await.unwrap();
        let err = go(&ctx, failover("f1"), 160).await.unwrap_err();
        assert_eq!(err.error_type(), "Unsafe");
        assert!(err.to_string().contains("p1"), "{err}");
        assert_eq!(live(&ctx, ARN).telephony, split(50, false).telephony);
    }

    #[tokio::test]
    async fn the_lock_comes_before_any_read_and_break_lock_takes_it_with_a_reason() {
        let ctx = synced_at(100).await;
        acgr::runs::lock_instance(&ctx.store, ID, "other", RunKind::Failover, 900, 90)
            .await
            .unwrap();
        let err = go(&ctx, failover("f1"), 100).await.unwrap_err();
        assert_eq!(err.error_type(), "RunInProgress");
        assert!(
            ctx.source.world().calls.is_empty(),
            "nothing read without the lock"
        );

        let out = go(
            &ctx,
            Input {
                break_lock: true,
                reason: Some("the holder's region is down".into()),
                ..failover("f2")
            },
            100,
        )
        .await
        .unwrap();
        assert!(out.changed);
        let run = ctx.store.get_run(ID, "f2").await.unwrap().unwrap();
        assert_eq!(run.inputs["breakLock"], "the holder's region is down");
        let writes = ctx.store.state().writes.clone();
        assert!(writes.contains(&"LOCK#f2#broken".to_string()), "{writes:?}");
    }

    #[tokio::test]
    async fn every_group_moves_and_a_group_that_cannot_move_is_named() {
        let ctx = synced_at(100).await;
        {
            let mut w = ctx.source.world();
            w.groups
                .push((EAST.into(), WEST.into(), group("g2", SALES, "sales", false)));
            w.distributions.insert(SALES.into(), split(100, false));
        }
        sync(&ctx, 10).await;
        let out = go(&ctx, failover("f1"), 100).await.unwrap();
        assert_eq!(out.groups.len(), 2);
        assert_eq!(
            live(&ctx, SALES),
            split(0, false),
            "no sign-in on a custom group"
        );
        assert_eq!(live(&ctx, ARN), split(0, true));
        go(&ctx, failback("b1"), 200).await.unwrap();
        assert_eq!(live(&ctx, SALES), split(100, false));
        assert_eq!(live(&ctx, ARN), split(100, true));

        // a group that cannot move: refused, naming it, nothing moves
        ctx.source.world().groups.iter_mut().for_each(|(_, _, g)| {
            if g.arn == SALES {
                g.status = "DELETION_FAILED".into();
            }
        });
        let before = updates(&ctx).len();
        let err = go(&ctx, failover("f2"), 300).await.unwrap_err();
        assert_eq!(err.error_type(), "Unsafe");
        assert!(err.to_string().contains("sales"), "{err}");
        assert_eq!(updates(&ctx).len(), before);
        // named groups move alone
        let out = go(
            &ctx,
            Input {
                traffic_distribution_groups: Some(vec![ARN.into()]),
                ..failover("f3")
            },
            300,
        )
        .await
        .unwrap();
        assert_eq!(out.groups.len(), 1);
    }

    #[tokio::test]
    async fn a_group_being_created_or_updated_is_not_ready() {
        for status in ["CREATION_IN_PROGRESS", "UPDATE_IN_PROGRESS"] {
            let ctx = synced_at(100).await;
            ctx.source.world().groups[0].2.status = status.into();
            let err = go(&ctx, failover("f1"), 100).await.unwrap_err();
            assert_eq!(err.error_type(), "NotReady", "{status}");
            assert!(updates(&ctx).is_empty());
        }
    }

    #[tokio::test]
    async fn an_instance_arn_keys_the_run_by_the_bare_id() {
        let ctx = synced_at(100).await;
        go(
            &ctx,
            Input {
                instance_id: format!("arn:aws:connect:us-east-1:1:instance/{ID}"),
                ..failover("f1")
            },
            100,
        )
        .await
        .unwrap();
        assert!(ctx.store.get_run(ID, "f1").await.unwrap().is_some());
        assert!(ctx.store.get_lock(ID).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn with_the_source_region_down_the_replica_region_alone_fails_over() {
        let ctx = synced_at(100).await;
        // every call to us-east-1 fails as a regional outage would
        ctx.source.world().down.insert(EAST.into());
        go(&ctx, failover("f1"), 100).await.unwrap();
        assert_eq!(live(&ctx, ARN), split(0, true));
        let calls = ctx.source.world().calls.clone();
        assert!(calls.iter().all(|c| c.region == WEST), "{calls:?}");
        // the source region comes back; failback goes there
        ctx.source.world().down.clear();
        go(&ctx, failback("b1"), 200).await.unwrap();
        assert_eq!(live(&ctx, ARN), split(100, true));
    }

    #[tokio::test]
    async fn a_split_moved_by_someone_else_after_the_read_is_not_overwritten() {
        let ctx = synced_at(100).await;
        // the other region's deployment moves it between our read under the lock and our update
        ctx.source
            .world()
            .moved_after_reads
            .insert(ARN.into(), (1, split(50, true)));
        let err = go(&ctx, failover("f1"), 100).await.unwrap_err();
        assert_eq!(err.error_type(), "Unsafe", "{err}");
        assert!(updates(&ctx).is_empty());
        assert_eq!(
            ctx.store.shifts(ID).await.unwrap()[0].status,
            ShiftStatus::Abandoned
        );
    }

    #[tokio::test]
    async fn a_plan_outside_an_episode_is_the_new_steady_state_and_inside_one_is_not() {
        let ctx = synced_at(100).await;
        let seventy = Input {
            plan: Some(PlanInput {
                telephony: [(EAST.to_string(), 70), (WEST.to_string(), 30)].into(),
                agents: [(EAST.to_string(), 70), (WEST.to_string(), 30)].into(),
                sign_in: Some([(EAST.to_string(), true), (WEST.to_string(), true)].into()),
            }),
            preset: None,
            ..failover("p1")
        };
        go(&ctx, seventy, 100).await.unwrap();
        assert!(ctx.store.episode(ID, ARN).await.unwrap().is_none());
        let steady = ctx.store.groups(ID).await.unwrap()[0].steady.clone();
        let seventy_split = CurrentDistribution {
            sign_in: Some(vec![(r(EAST), true), (r(WEST), true)]),
            ..split(70, false)
        };
        assert_eq!(steady, Some(seventy_split.clone()));

        go(&ctx, failover("f1"), 200).await.unwrap();
        // during the incident, a partial step back is a plan inside the episode
        let half = Input {
            plan: Some(PlanInput {
                telephony: [(EAST.to_string(), 50), (WEST.to_string(), 50)].into(),
                agents: [(EAST.to_string(), 50), (WEST.to_string(), 50)].into(),
                sign_in: Some([(EAST.to_string(), true), (WEST.to_string(), true)].into()),
            }),
            preset: None,
            ..failover("p2")
        };
        go(&ctx, half, 300).await.unwrap();
        go(&ctx, failback("b1"), 400).await.unwrap();
        assert_eq!(live(&ctx, ARN), seventy_split, "70/30 comes back as 70/30");
    }

    #[tokio::test]
    async fn the_groups_on_record_are_reached_by_arn_when_listing_fails() {
        let ctx = synced_at(100).await;
        ctx.source.world().fail_next(
            "ListTrafficDistributionGroups",
            "InternalServiceException",
            1,
        );
        go(&ctx, failover("f1"), 100).await.unwrap();
        assert_eq!(live(&ctx, ARN), split(0, true));
        let described = ctx
            .source
            .world()
            .calls_of("DescribeTrafficDistributionGroup")[0]
            .clone();
        assert_eq!(
            (described.region.as_str(), described.target.as_str()),
            (WEST, ARN)
        );

        // without anything on record, a listing failure is the step's error (retried)
        let bare = ctx_at(100);
        bare.source.world().fail_next(
            "ListTrafficDistributionGroups",
            "InternalServiceException",
            1,
        );
        let err = go(
            &bare,
            Input {
                force: true,
                ..failover("f2")
            },
            100,
        )
        .await
        .unwrap_err();
        assert_eq!(err.error_type(), "Transient");
    }
}
