//! **shift-traffic**: moves telephony, agents and sign-in between the regions of a pair, behind
//! health gates. The distribution before every shift is recorded, so failback is one call.
//!
//! Order: validate the plan; resolve the group (default unless named); read the gates and the
//! current distribution; record the intent; call UpdateTrafficDistribution **in the region that
//! will take the traffic**, with the group's ARN; wait until the group is ACTIVE again and reads
//! back the new split; record the outcome. A dry run returns the exact call and changes nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use acgr::connect::{Connect, CurrentDistribution, GroupSummary};
use acgr::domain::{InstanceRef, Kind, Region, TrafficPlan};
use acgr::error::{ConnectErrorClass, StepError};
use acgr::records::{RunKind, ShiftRecord, ShiftStatus};
use acgr::runs::{
    begin_step, check_run_id, finish_run, lock_instance, record_failure, record_step,
};
use acgr::store::RunStore;
use acgr::{now, parse_input, Context};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tracing::{info, warn};

pub const STEP: &str = "shift-traffic";

/// Gates and timings, read once per cold start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Share of the target's agents that must be associated with the group before agents move there.
    pub min_agent_share: f64,
    /// How long to wait for the group to read back the new split.
    pub verify_timeout: Duration,
    pub verify_interval: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_agent_share: 0.9,
            verify_timeout: Duration::from_secs(60),
            verify_interval: Duration::from_secs(1),
        }
    }
}

impl Settings {
    /// `MIN_AGENT_SHARE` (0..1, default 0.9), `SHIFT_VERIFY_SECONDS` (60), `SHIFT_POLL_MS` (1000).
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
        Ok(Settings {
            min_agent_share: share,
            verify_timeout: num("SHIFT_VERIFY_SECONDS")?
                .map_or(d.verify_timeout, |s| Duration::from_secs_f64(s.max(0.0))),
            verify_interval: num("SHIFT_POLL_MS")?.map_or(d.verify_interval, |ms| {
                Duration::from_millis(ms.max(0.0) as u64)
            }),
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

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Input {
    /// The Step Functions execution driving the run (`$$.Execution.Id`), recorded on the run.
    #[serde(default)]
    pub execution_arn: Option<String>,
    pub run_id: String,
    pub instance_id: String,
    #[serde(default)]
    pub traffic_distribution_group: Option<String>,
    #[serde(default)]
    pub plan: Option<PlanInput>,
    #[serde(default)]
    pub preset: Option<Preset>,
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gate {
    pub id: String,
    pub ok: bool,
    /// A gate that `force` may override.
    pub overridable: bool,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedCall {
    pub region: String,
    pub operation: String,
    pub id: String,
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Output {
    pub run_id: String,
    pub instance_id: String,
    pub group_arn: String,
    pub called_in: String,
    pub dry_run: bool,
    /// False when the group already had this distribution (or on a dry run).
    pub changed: bool,
    pub before: CurrentDistribution,
    pub after: TrafficPlan,
    pub gates: Vec<Gate>,
    pub calls: Vec<PlannedCall>,
}

pub async fn handler<C: Connect, S: RunStore>(
    ctx: &Context<C, S>,
    settings: &Settings,
    event: LambdaEvent<Value>,
) -> Result<Output, Diagnostic> {
    let input: Input = parse_input(event.payload)?;
    shift(ctx, settings, input, now())
        .await
        .map_err(Diagnostic::from)
}

enum Intent {
    Plan(PlanInput),
    FailoverTo(Region),
    Failback,
}

fn intent(input: &Input) -> Result<Intent, StepError> {
    match (&input.plan, &input.preset) {
        (Some(p), None) => Ok(Intent::Plan(p.clone())),
        (None, Some(Preset::FailoverTo { failover_to })) => {
            Ok(Intent::FailoverTo(Region::parse(failover_to)?))
        }
        (None, Some(Preset::Named(n))) if n == "failback" => Ok(Intent::Failback),
        (None, Some(Preset::Named(n))) => Err(StepError::InvalidInput(format!(
            "preset '{n}' is not known: use \"failback\" or {{\"failoverTo\": REGION}}"
        ))),
        _ => Err(StepError::InvalidInput(
            "give exactly one of plan and preset".into(),
        )),
    }
}

fn entries<T: Copy>(map: &BTreeMap<String, T>) -> Result<Vec<(Region, T)>, StepError> {
    map.iter()
        .map(|(r, v)| Ok((Region::parse(r)?, *v)))
        .collect()
}

pub async fn shift<C: Connect, S: RunStore>(
    ctx: &Context<C, S>,
    settings: &Settings,
    input: Input,
    now: i64,
) -> Result<Output, StepError> {
    check_run_id(&input.run_id)?;
    let id = InstanceRef::parse(&input.instance_id)?.id;
    let pair = ctx.pair();
    let intent = intent(&input)?;
    // A plan is validated before anything is read or written.
    let asked = match &intent {
        Intent::Plan(p) => {
            let sign_in = p.sign_in.as_ref().map(entries).transpose()?;
            Some(TrafficPlan::new(
                &pair,
                &entries(&p.telephony)?,
                &entries(&p.agents)?,
                sign_in.as_deref(),
            )?)
        }
        Intent::FailoverTo(target) => Some(TrafficPlan::failover_to(&pair, target, true)?),
        Intent::Failback => None,
    };
    let prefer = asked
        .as_ref()
        .map_or(pair.0.clone(), |p| p.telephony_target().clone());
    let group = resolve_group(
        ctx,
        &id,
        input.traffic_distribution_group.as_deref(),
        &prefer,
    )
    .await?;

    let (kind, reason, plan) = match intent {
        Intent::Plan(_) => (RunKind::Failover, "plan", asked),
        Intent::FailoverTo(_) => (RunKind::Failover, "failover", asked),
        Intent::Failback => (
            RunKind::Failback,
            "failback",
            Some(failback_plan(ctx, &id, &group, &pair).await?),
        ),
    };
    let mut plan = plan.ok_or_else(|| StepError::InvalidInput("no plan".into()))?;
    if !group.is_default {
        if plan.sign_in().is_some() && matches!(reason, "plan") {
            return Err(StepError::InvalidInput(format!(
                "signIn can only change on the default group; {} is a custom group",
                group.name
            )));
        }
        plan = plan.without_sign_in();
    }
    let target = plan.telephony_target().clone();
    let client = ctx.connect(&target)?;

    let (gates, before) = gates(settings, client, &id, &group, &plan).await?;
    let call = PlannedCall {
        region: target.to_string(),
        operation: "UpdateTrafficDistribution".into(),
        id: group.arn.clone(),
        body: update_body(&plan),
    };
    let mut out = Output {
        run_id: input.run_id.clone(),
        instance_id: id.clone(),
        group_arn: group.arn.clone(),
        called_in: target.to_string(),
        dry_run: input.dry_run,
        changed: false,
        before: before.clone().unwrap_or_default(),
        after: plan.clone(),
        gates,
        calls: vec![call],
    };
    if input.dry_run {
        return Ok(out);
    }

    let inputs = json!({"instanceId": input.instance_id, "reason": reason, "force": input.force});
    let mut run = begin_step(
        &ctx.store,
        &id,
        &input.run_id,
        kind,
        STEP,
        inputs,
        input.execution_arn.as_deref(),
        now,
    )
    .await?;
    match apply(
        ctx, settings, &input, &id, &group, &plan, reason, kind, client, &mut out, now,
    )
    .await
    {
        Ok(()) => {
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

#[allow(clippy::too_many_arguments)]
async fn apply<C: Connect, S: RunStore>(
    ctx: &Context<C, S>,
    settings: &Settings,
    input: &Input,
    id: &str,
    group: &GroupSummary,
    plan: &TrafficPlan,
    reason: &str,
    kind: RunKind,
    client: &C,
    out: &mut Output,
    now: i64,
) -> Result<(), StepError> {
    let refused: Vec<&Gate> = out
        .gates
        .iter()
        .filter(|g| !(g.ok || (input.force && g.overridable)))
        .collect();
    if !refused.is_empty() {
        return Err(StepError::Unsafe(format!(
            "shift refused by health gates: {}",
            refused
                .iter()
                .map(|g| format!("{}: {}", g.id, g.message))
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    lock_instance(&ctx.store, id, &input.run_id, kind, ctx.lease_seconds, now).await?;

    // A retry of this run reuses its recorded intent, and so its "before".
    let earlier = ctx
        .store
        .shifts(id)
        .await?
        .into_iter()
        .find(|s| s.run_id == input.run_id && s.group_arn == group.arn);
    if let Some(e) = &earlier {
        out.before = e.before.clone();
    }
    let mut record = earlier.unwrap_or(ShiftRecord {
        instance_id: id.to_string(),
        run_id: input.run_id.clone(),
        group_arn: group.arn.clone(),
        status: ShiftStatus::Intent,
        reason: reason.to_string(),
        before: out.before.clone(),
        after: plan.clone(),
        called_in: out.called_in.clone(),
        at: now,
        completed_at: None,
    });
    if record.status == ShiftStatus::Done {
        return Ok(());
    }
    let current = client.get_distribution(&group.arn).await?;
    if !current.matches(plan) {
        record.status = ShiftStatus::Intent;
        ctx.store.put_shift(&record).await?;
        match client.update_distribution(&group.arn, plan).await {
            Ok(()) => {}
            Err(e) if e.class == ConnectErrorClass::Conflict => {
                return Err(StepError::NotReady(format!(
                    "the group is busy applying another change: {}",
                    e.message
                )))
            }
            Err(e) => {
                record.status = ShiftStatus::Failed;
                ctx.store.put_shift(&record).await?;
                return Err(e.into());
            }
        }
        out.changed = true;
        info!(instance_id = %id, group = %group.arn, region = %out.called_in, reason, "traffic distribution updated");
        verify(client, settings, &group.arn, plan).await?;
    }
    record.status = ShiftStatus::Done;
    record.completed_at = Some(now);
    ctx.store.put_shift(&record).await?;
    Ok(())
}

/// Waits until the group is ACTIVE again and reads back `plan`.
async fn verify<C: Connect>(
    client: &C,
    settings: &Settings,
    arn: &str,
    plan: &TrafficPlan,
) -> Result<(), StepError> {
    let deadline = tokio::time::Instant::now() + settings.verify_timeout;
    loop {
        let g = client.describe_group(arn).await?;
        if g.status == "ACTIVE" && client.get_distribution(arn).await?.matches(plan) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StepError::NotReady(format!(
                "group {arn} has not read back the new distribution yet (status {})",
                g.status
            )));
        }
        tokio::time::sleep(settings.verify_interval).await;
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

/// The default group, or the one named (ID or ARN), read from the preferred region first.
async fn resolve_group<C: Connect, S: RunStore>(
    ctx: &Context<C, S>,
    id: &str,
    named: Option<&str>,
    prefer: &Region,
) -> Result<GroupSummary, StepError> {
    let first = ctx.connect(prefer)?;
    let groups = match first.list_groups(id).await {
        Ok(g) => g,
        Err(e)
            if matches!(
                e.class,
                ConnectErrorClass::Transient | ConnectErrorClass::Throttled
            ) =>
        {
            warn!(region = %prefer, error = %e, "listing groups failed; trying the other region");
            ctx.other(prefer).list_groups(id).await?
        }
        Err(e) => return Err(e.into()),
    };
    let found = match named {
        None => groups.into_iter().find(|g| g.is_default),
        Some(n) => groups.into_iter().find(|g| g.arn == n || g.id == n),
    };
    found.ok_or_else(|| match named {
        None => StepError::NotReady(format!(
            "instance {id} has no default traffic distribution group yet"
        )),
        Some(n) => StepError::InvalidInput(format!(
            "traffic distribution group {n} is not a group of instance {id}"
        )),
    })
}

/// The distribution recorded before the last completed failover of this group.
async fn failback_plan<C: Connect, S: RunStore>(
    ctx: &Context<C, S>,
    id: &str,
    group: &GroupSummary,
    pair: &(Region, Region),
) -> Result<TrafficPlan, StepError> {
    let shifts = ctx.store.shifts(id).await?;
    let last = shifts
        .iter()
        .find(|s| {
            s.group_arn == group.arn && s.reason == "failover" && s.status == ShiftStatus::Done
        })
        .ok_or_else(|| {
            StepError::InvalidInput(format!(
                "no completed failover of {} is recorded: nothing to fail back to",
                group.arn
            ))
        })?;
    let b = &last.before;
    TrafficPlan::new(
        pair,
        &b.telephony,
        &b.agents,
        if group.is_default {
            b.sign_in.as_deref()
        } else {
            None
        },
    )
    .map_err(|e| {
        StepError::Rejected(format!(
            "the recorded distribution before the failover is not usable: {e}"
        ))
    })
}

/// Reads every gate; returns them with the current distribution (when it could be read).
async fn gates<C: Connect>(
    settings: &Settings,
    client: &C,
    id: &str,
    group: &GroupSummary,
    plan: &TrafficPlan,
) -> Result<(Vec<Gate>, Option<CurrentDistribution>), StepError> {
    let target = client.region().clone();
    let mut gates = Vec::new();
    let mut gate = |id: &str, ok: bool, overridable: bool, message: String| {
        gates.push(Gate {
            id: id.into(),
            ok,
            overridable,
            message,
        })
    };

    let info = client.describe_instance(id).await?;
    let status = info
        .as_ref()
        .and_then(|i| i.status.clone())
        .unwrap_or_else(|| "missing".into());
    gate(
        "target-instance-active",
        status == "ACTIVE",
        false,
        format!("instance {id} in {target} is {status}"),
    );

    let g = client.describe_group(&group.arn).await?;
    let group_active = g.status == "ACTIVE";
    gate(
        "group-active",
        group_active,
        false,
        format!("group {} is {}", g.name, g.status),
    );

    let replication = info.as_ref().and_then(|i| i.replication.as_ref());
    let complete = replication.is_some_and(|r| r.complete());
    gate(
        "mirroring-complete",
        complete,
        true,
        match replication {
            None => "the instance is not replicated".into(),
            Some(r) => r
                .statuses
                .iter()
                .map(|s| format!("{} {}", s.region, s.status))
                .collect::<Vec<_>>()
                .join(", "),
        },
    );

    let before = if group_active {
        Some(client.get_distribution(&group.arn).await?)
    } else {
        None
    };

    // Calls must not land where no agent can work: agents and sign-in follow telephony.
    let sign_in = plan
        .sign_in()
        .map(<[_]>::to_vec)
        .or_else(|| before.as_ref().and_then(|b| b.sign_in.clone()));
    let stranded: Vec<String> = plan
        .telephony()
        .entries()
        .iter()
        .filter(|(_, p)| *p > 0)
        .filter_map(|(r, p)| {
            let agents = plan.agents().percent(r);
            let signs_in = sign_in
                .as_ref()
                .is_none_or(|s| s.iter().any(|(x, on)| x == r && *on));
            (agents == 0 || !signs_in).then(|| {
                format!(
                    "{r} takes {p}% of calls with {agents}% of agents{}",
                    if signs_in {
                        ""
                    } else {
                        " and sign-in disabled"
                    }
                )
            })
        })
        .collect();
    gate(
        "agents-follow-telephony",
        stranded.is_empty(),
        true,
        if stranded.is_empty() {
            "agents and sign-in follow telephony".into()
        } else {
            stranded.join("; ")
        },
    );

    // Agents only move to the other region if enough of them are associated with the group.
    let home = acgr::domain::region_of_arn(&group.arn);
    let moving_away = plan
        .agents()
        .entries()
        .iter()
        .any(|(r, p)| *p > 0 && Some(r) != home.as_ref());
    if moving_away {
        let associated = client.list_group_users(&group.arn).await?.len();
        let users = client.list_resources(id, Kind::Users).await?.len().max(1);
        let share = associated as f64 / users as f64;
        gate(
            "agents-associated",
            share >= settings.min_agent_share,
            true,
            format!(
                "{associated} of {users} agents ({:.0}%) are associated with the group; at least {:.0}% needed",
                share * 100.0,
                settings.min_agent_share * 100.0
            ),
        );
    }
    Ok((gates, before))
}

#[cfg(test)]
mod tests {
    use super::*;
    use acgr::connect::fake::{FakeConnect, FakeWorld};
    use acgr::connect::{InstanceInfo, RegionStatus, ReplicationInfo, ResourceSummary};
    use acgr::store::memory::MemoryRunStore;
    use std::sync::{Arc, Mutex};

    const ID: &str = "inst-1";
    const EAST: &str = "us-east-1";
    const WEST: &str = "us-west-2";
    const ARN: &str = "arn:aws:connect:us-east-1:1:traffic-distribution-group/g1";

    fn r(s: &str) -> Region {
        Region::parse(s).unwrap()
    }

    fn settings() -> Settings {
        Settings {
            min_agent_share: 0.9,
            verify_timeout: Duration::from_millis(50),
            verify_interval: Duration::from_millis(1),
        }
    }

    fn ctx() -> Context<FakeConnect, MemoryRunStore> {
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
                GroupSummary {
                    id: "g1".into(),
                    arn: ARN.into(),
                    name: "acme-default".into(),
                    instance_arn: format!("arn:aws:connect:us-east-1:1:instance/{ID}"),
                    status: "ACTIVE".into(),
                    is_default: true,
                },
            ));
            w.distributions.insert(
                ARN.into(),
                CurrentDistribution {
                    telephony: vec![(r(EAST), 100), (r(WEST), 0)],
                    agents: vec![(r(EAST), 100), (r(WEST), 0)],
                    sign_in: Some(vec![(r(EAST), true), (r(WEST), false)]),
                },
            );
            w.group_users
                .insert(ARN.into(), (0..10).map(|i| format!("u{i}")).collect());
        }
        Context {
            source: FakeConnect::new(r(EAST), world.clone()),
            replica: FakeConnect::new(r(WEST), world),
            store: MemoryRunStore::default(),
            lease_seconds: 900,
        }
    }

    fn failover(run: &str) -> Input {
        Input {
            execution_arn: None,
            run_id: run.into(),
            instance_id: ID.into(),
            traffic_distribution_group: None,
            plan: None,
            preset: Some(Preset::FailoverTo {
                failover_to: WEST.into(),
            }),
            force: false,
            dry_run: false,
        }
    }

    fn failback(run: &str) -> Input {
        Input {
            execution_arn: None,
            preset: Some(Preset::Named("failback".into())),
            ..failover(run)
        }
    }

    fn updates(ctx: &Context<FakeConnect, MemoryRunStore>) -> Vec<(String, String)> {
        ctx.source
            .world()
            .calls_of("UpdateTrafficDistribution")
            .iter()
            .map(|c| (c.region.clone(), c.target.clone()))
            .collect()
    }

    #[tokio::test]
    async fn fails_over_in_the_target_region_by_arn_then_fails_back_to_the_recorded_split() {
        let ctx = ctx();
        let out = shift(&ctx, &settings(), failover("f1"), 100).await.unwrap();
        assert!(out.changed);
        assert_eq!(out.called_in, WEST);
        assert_eq!(updates(&ctx), vec![(WEST.to_string(), ARN.to_string())]);
        let now = ctx.source.world().distributions[ARN].clone();
        assert_eq!(now.telephony, vec![(r(EAST), 0), (r(WEST), 100)]);
        assert_eq!(now.sign_in, Some(vec![(r(EAST), false), (r(WEST), true)]));
        let shifts = ctx.store.shifts(ID).await.unwrap();
        assert_eq!(shifts[0].status, ShiftStatus::Done);
        assert_eq!(
            shifts[0].before.telephony,
            vec![(r(EAST), 100), (r(WEST), 0)]
        );
        let writes = ctx.store.state().writes.clone();
        let intent = writes.iter().position(|w| w == "SHIFT#f1#Intent").unwrap();
        let done = writes.iter().position(|w| w == "SHIFT#f1#Done").unwrap();
        assert!(intent < done);
        assert!(
            ctx.store.get_lock(ID).await.unwrap().is_none(),
            "the lock is released"
        );

        let back = shift(&ctx, &settings(), failback("b1"), 200).await.unwrap();
        assert_eq!(back.called_in, EAST);
        let restored = ctx.source.world().distributions[ARN].clone();
        assert_eq!(restored.telephony, vec![(r(EAST), 100), (r(WEST), 0)]);
        assert_eq!(
            restored.sign_in,
            Some(vec![(r(EAST), true), (r(WEST), false)])
        );
    }

    #[tokio::test]
    async fn a_repeat_changes_nothing_and_failback_needs_a_recorded_failover() {
        let ctx = ctx();
        let err = shift(&ctx, &settings(), failback("b0"), 50)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput");
        shift(&ctx, &settings(), failover("f1"), 100).await.unwrap();
        let again = shift(&ctx, &settings(), failover("f2"), 110).await.unwrap();
        assert!(!again.changed);
        assert_eq!(updates(&ctx).len(), 1);
    }

    #[tokio::test]
    async fn a_dry_run_returns_the_exact_call_and_changes_nothing() {
        let ctx = ctx();
        let out = shift(
            &ctx,
            &settings(),
            Input {
                execution_arn: None,
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
        assert!(ctx.store.state().writes.is_empty());
    }

    #[tokio::test]
    async fn health_gates_refuse_an_unhealthy_target() {
        let ctx = ctx();
        ctx.source
            .world()
            .instances
            .get_mut(&(WEST.into(), ID.into()))
            .unwrap()
            .status = Some("CREATION_IN_PROGRESS".into());
        let err = shift(
            &ctx,
            &settings(),
            Input {
                execution_arn: None,
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
    }

    #[tokio::test]
    async fn too_few_associated_agents_block_unless_forced() {
        let ctx = ctx();
        ctx.source
            .world()
            .group_users
            .insert(ARN.into(), ["u1".to_string()].into_iter().collect());
        let err = shift(&ctx, &settings(), failover("f1"), 100)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("agents-associated"), "{err}");
        shift(
            &ctx,
            &settings(),
            Input {
                execution_arn: None,
                force: true,
                ..failover("f2")
            },
            100,
        )
        .await
        .expect("forced");
    }

    #[tokio::test]
    async fn telephony_without_agents_is_refused_unless_forced_and_invalid_plans_change_nothing() {
        let ctx = ctx();
        let plan = |t: u8, a: u8| PlanInput {
            telephony: [(EAST.to_string(), 100 - t), (WEST.to_string(), t)].into(),
            agents: [(EAST.to_string(), 100 - a), (WEST.to_string(), a)].into(),
            sign_in: None,
        };
        let input = |p: PlanInput| Input {
            execution_arn: None,
            plan: Some(p),
            preset: None,
            ..failover("p1")
        };
        let err = shift(&ctx, &settings(), input(plan(100, 0)), 100)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "Unsafe");
        assert!(err.to_string().contains("agents-follow-telephony"));
        for bad in [plan(55, 50), plan(50, 45)] {
            let err = shift(&ctx, &settings(), input(bad), 100).await.unwrap_err();
            assert_eq!(err.error_type(), "InvalidInput");
        }
        let err = shift(
            &ctx,
            &settings(),
            Input {
                execution_arn: None,
                preset: Some(Preset::Named("sideways".into())),
                ..failover("x")
            },
            1,
        )
        .await
        .unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput");
        assert!(updates(&ctx).is_empty());
        let ok = shift(
            &ctx,
            &settings(),
            Input {
                execution_arn: None,
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
    async fn a_group_that_never_reads_back_is_not_ready_and_the_retry_completes() {
        let ctx = ctx();
        ctx.source
            .world()
            .fail_next("UpdateTrafficDistribution", "ResourceConflictException", 1);
        let err = shift(&ctx, &settings(), failover("f1"), 100)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "NotReady");
        let shifts = ctx.store.shifts(ID).await.unwrap();
        assert_eq!(
            shifts[0].status,
            ShiftStatus::Intent,
            "the intent is on record"
        );
        let out = shift(&ctx, &settings(), failover("f1"), 105).await.unwrap();
        assert_eq!(out.before.telephony, vec![(r(EAST), 100), (r(WEST), 0)]);
        assert_eq!(
            ctx.store.shifts(ID).await.unwrap()[0].status,
            ShiftStatus::Done
        );
    }
}
