//! Sections 1, 2, 3 and 7 on one stack with the state machines, Connect's quotas and our pacers
//! raised by the plan's factor: the replication machine associates every agent of the scenario
//! (1), new hires are created and the agent-sync machine associates them (2), the runbook
//! associates the same agents ([`super::runbook`], 3), failover and failback are timed
//! ([`super::failover`], 7).

use acgr::run::AgentSyncRequest;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context as _, Result};
use aws_sdk_sfn::types::{HistoryEvent, HistoryEventType};
use connect_sim::control::{GroupState, SimState};
use connect_sim::kinds::Kind;
use serde_json::json;

use super::calls::{quota, rate, CallLog};
use super::report::{Row, Section};
use super::{runbook, secs, Failed, Plan};
use local_stack::config::local_config;
use local_stack::drill::scenario_instance;
use local_stack::stack::{Options, Stack, REPLICA_REGION, SOURCE_REGION};
use local_stack::workspace;

/// How long one execution may take (10,000 agents at F = 100 take about a minute).
const EXECUTION_LIMIT: Duration = Duration::from_secs(45 * 60);

/// The stack of sections 1-3 and 7, and what they share.
pub(super) struct Bench<'a> {
    pub(super) plan: &'a Plan,
    pub(super) stack: Stack,
    pub(super) log: CallLog,
    sfn: aws_sdk_sfn::Client,
    pub(super) instance: String,
}

/// What section 1 measured, for the runbook's comparison.
pub(super) struct Association {
    pub(super) agents: usize,
    /// From the machine entering AssociateAgents to its end.
    pub(super) phase: Duration,
}

fn failed(section: Section) -> impl Fn(anyhow::Error) -> Failed {
    move |error| Failed { section, error }
}

pub(super) async fn run(plan: &Plan, progress: &dyn Fn(&str)) -> Result<Vec<Row>, Failed> {
    let mut b = Bench::start(plan)
        .await
        .map_err(failed(Section::Association))?;
    let mut rows = Vec::new();
    progress(&format!(
        "  1: the replication machine on '{}' (stack up, logs in {})",
        plan.scenario,
        b.stack.logs.display()
    ));
    let (association, r) = b
        .association()
        .await
        .map_err(failed(Section::Association))?;
    rows.extend(r);
    progress(&format!(
        "  2: {} new hires, then agent-sync",
        plan.new_hires
    ));
    rows.extend(
        b.incremental_sync(association.agents)
            .await
            .map_err(failed(Section::IncrementalSync))?,
    );
    progress(&format!(
        "  3: the runbook: {} AWS CLI processes, a boto3 loop",
        plan.cli_agents
    ));
    rows.extend(
        runbook::run(&mut b, &association)
            .await
            .map_err(failed(Section::Runbook))?,
    );
    progress(&format!(
        "  7: {} failover and failback executions, {} AWS CLI updates",
        plan.failovers, plan.cli_updates
    ));
    rows.extend(
        super::failover::run(&mut b)
            .await
            .map_err(failed(Section::Failover))?,
    );
    Ok(rows)
}

impl<'a> Bench<'a> {
    async fn start(plan: &'a Plan) -> Result<Bench<'a>> {
        let opts = Options::state_machines(&plan.scenario, plan.time_scale)
            .quota_factor(plan.quota_factor);
        let stack = Stack::start(opts).await?;
        let sfn = aws_sdk_sfn::Client::new(&local_config(stack.moto, SOURCE_REGION).await);
        Ok(Bench {
            plan,
            log: CallLog::new(stack.sim),
            instance: scenario_instance(&workspace(), &plan.scenario)?,
            stack,
            sfn,
        })
    }

    pub(super) async fn state(&self) -> Result<SimState> {
        self.log.client().state().await.context("GET /_sim/state")
    }

    /// The instance's default traffic distribution group, as connect-sim holds it.
    pub(super) async fn default_group(&self) -> Result<GroupState> {
        self.state()
            .await?
            .default_group(&self.instance)
            .cloned()
            .context("the instance has no default traffic distribution group")
    }

    /// Runs an execution of a (source region) machine to its end; fails unless it succeeded.
    async fn execute(
        &self,
        machine: &str,
        name: &str,
        input: &serde_json::Value,
    ) -> Result<String> {
        let arn = self
            .stack
            .start_execution(machine, name, input)
            .await
            .map_err(|e| anyhow!("StartExecution {machine} {name}: {e}"))?;
        let e = self.stack.wait_execution(&arn, EXECUTION_LIMIT).await?;
        ensure!(
            e.status == "SUCCEEDED",
            "{machine} {name} ended {}: {:?} {:?}",
            e.status,
            e.error,
            e.cause
        );
        Ok(arn)
    }

    async fn history(&self, arn: &str) -> Result<History> {
        let events = self
            .sfn
            .get_execution_history()
            .execution_arn(arn)
            .into_paginator()
            .items()
            .send()
            .collect::<std::result::Result<Vec<_>, _>>()
            .await
            .map_err(|e| {
                anyhow!(
                    "GetExecutionHistory: {}",
                    aws_sdk_sfn::error::DisplayErrorContext(e)
                )
            })?;
        Ok(History(events))
    }

    /// Section 1: the replication machine to its end; the association phase measured.
    async fn association(&mut self) -> Result<(Association, Vec<Row>)> {
        let s = Section::Association;
        let before = self.log.mark().await?;
        let input = json!({
            "instanceId": self.instance,
            "replicaRegion": REPLICA_REGION,
            "pollSeconds": 1,
            "maxPolls": 3600,
        });
        let started = Instant::now();
        let arn = self
            .execute("replication", "bench-replication", &input)
            .await?;
        let replication = started.elapsed();
        let until = self.log.mark().await?;
        let history = self.history(&arn).await?;
        let from = history
            .entered("AssociateAgents")
            .context("the replication never entered AssociateAgents")?;
        let end = history.end().context("an empty execution history")?;
        let phase = Duration::from_secs_f64((end - from).max(0.0));
        let calls = self.log.between(before, until).since_time(from);

        let state = self.state().await?;
        let agents = users(&state, SOURCE_REGION, &self.instance)?;
        let group = state
            .default_group(&self.instance)
            .context("no default group after the replication")?;
        ensure!(
            group.users.len() == agents,
            "{} of {agents} agents associated",
            group.users.len()
        );
        let op = "AssociateTrafficDistributionGroupUser";
        let times: Vec<f64> = calls.accepted(op).iter().map(|c| c.time).collect();
        let achieved = rate(&times).context("fewer than two associations")?;
        let allowed = quota(op)?.rate * state.quota_factor;
        let pages = agents.div_ceil(1000);
        let minimal = agents + 2 * pages;
        let invocations = history.invocations_of("associate-agents", from);
        let f = state.quota_factor;

        let rows = vec![
            Row::new(
                s,
                format!("{agents} agents associated by the replication machine"),
                format!(
                    "{} for the association phase ({} for the whole replication)",
                    secs(phase),
                    secs(replication)
                ),
            )
            .against(format!(
                "{agents} calls at Connect's 2/s × F = {allowed:.0}/s: {:.1} s",
                agents as f64 / allowed
            )),
            Row::new(
                s,
                "association rate ÷ quota",
                format!(
                    "{achieved:.1} calls/s ÷ {allowed:.0}/s = {:.3}",
                    achieved / allowed
                ),
            )
            .against(format!(
                "AssociateTrafficDistributionGroupUser's quota, 2/s, × F = {f}"
            ))
            .goal("≥ 0.95", achieved / allowed >= 0.95),
            Row::new(
                s,
                "calls made ÷ fewest calls",
                format!(
                    "{} ÷ {minimal} = {:.4} ({})",
                    calls.len(),
                    calls.len() as f64 / minimal as f64,
                    calls.summary()
                ),
            )
            .against(format!(
                "one association per agent and each region's users listed once in pages of 1000: {agents} + 2 × {pages}"
            ))
            .goal("≤ 1.02", calls.len() as f64 <= 1.02 * minimal as f64),
            Row::new(s, "throttles received", calls.throttled().to_string())
                .against("calls connect-sim answered 429 in the association phase"),
            Row::new(s, "invocations needed", invocations.to_string()).against(
                "associate-agents invocations the machine scheduled (each resumes from the cursor)",
            ),
        ];
        Ok((Association { agents, phase }, rows))
    }

    /// Section 2: new hires created in the source, then the agent-sync machine.
    async fn incremental_sync(&mut self, agents: usize) -> Result<Vec<Row>> {
        let s = Section::IncrementalSync;
        let hires = self.plan.new_hires;
        self.hire(hires).await?;
        let before = self.log.mark().await?;
        let input = json!(AgentSyncRequest::new(&self.instance));
        let started = Instant::now();
        let arn = self.execute("agent-sync", "bench-sync", &input).await?;
        let took = started.elapsed();
        let until = self.log.mark().await?;
        let history = self.history(&arn).await?;
        let from = history
            .entered("AssociateAgents")
            .context("agent-sync never entered AssociateAgents")?;
        let calls = self.log.between(before, until);
        let (poll, associate) = (calls.before_time(from), calls.since_time(from));
        let group = self.default_group().await?;
        ensure!(
            group.users.len() == agents + hires,
            "{} of {} agents associated after the sync",
            group.users.len(),
            agents + hires
        );
        let bound = 2 * agents.div_ceil(1000) + hires + 10;
        Ok(vec![
            Row::new(
                s,
                format!("agent-sync with {hires} new hires among {agents} agents: association step"),
                format!(
                    "{} Connect calls ({})",
                    associate.len(),
                    associate.summary()
                ),
            )
            .against(format!(
                "2 × ⌈{agents}/1000⌉ listings + {hires} associations + 10 = {bound}"
            ))
            .goal(format!("≤ {bound}"), associate.len() <= bound),
            Row::new(
                s,
                "agent-sync, the whole machine",
                format!(
                    "{} Connect calls in {} (the mirroring poll before it: {} calls, {})",
                    calls.len(),
                    secs(took),
                    poll.len(),
                    poll.summary()
                ),
            )
            .against(format!(
                "a poll's fixed cost: DescribeInstance in each region + one ListReplicationFindings per kind = {}",
                2 + Kind::all().count()
            )),
        ])
    }

    /// Creates `n` users in the source region like its first one, and waits until connect-sim
    /// has mirrored them to the replica.
    async fn hire(&self, n: usize) -> Result<()> {
        let source = self.stack.connect(SOURCE_REGION).await;
        let first = source
            .list_users()
            .instance_id(&self.instance)
            .max_results(1)
            .send()
            .await
            .map_err(|e| {
                anyhow!(
                    "ListUsers: {}",
                    aws_sdk_connect::error::DisplayErrorContext(e)
                )
            })?
            .user_summary_list()
            .first()
            .and_then(|u| u.id().map(str::to_string))
            .context("the source has no user")?;
        let template = source
            .describe_user()
            .instance_id(&self.instance)
            .user_id(&first)
            .send()
            .await
            .map_err(|e| {
                anyhow!(
                    "DescribeUser: {}",
                    aws_sdk_connect::error::DisplayErrorContext(e)
                )
            })?
            .user
            .context("DescribeUser without a user")?;
        let before = users(&self.state().await?, REPLICA_REGION, &self.instance)?;
        for i in 0..n {
            source
                .create_user()
                .instance_id(&self.instance)
                .username(format!("bench.hire.{i:03}"))
                .set_phone_config(template.phone_config().cloned())
                .set_security_profile_ids(Some(template.security_profile_ids().to_vec()))
                .routing_profile_id(
                    template
                        .routing_profile_id()
                        .context("no routing profile")?,
                )
                .send()
                .await
                .map_err(|e| {
                    anyhow!(
                        "CreateUser: {}",
                        aws_sdk_connect::error::DisplayErrorContext(e)
                    )
                })?;
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while users(&self.state().await?, REPLICA_REGION, &self.instance)? < before + n {
            if Instant::now() > deadline {
                bail!("the new hires did not reach the replica in 60 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }
}

/// The users of an instance in a region, as connect-sim counts them.
pub(super) fn users(state: &SimState, region: &str, instance: &str) -> Result<usize> {
    let i = state
        .instance(region, instance)
        .with_context(|| format!("no instance {instance} in {region}"))?;
    Ok(i.counts.get(&Kind::Users).copied().unwrap_or(0))
}

/// An execution's history, as moto recorded it.
struct History(Vec<HistoryEvent>);

impl History {
    /// When the execution first entered `state` (epoch seconds).
    fn entered(&self, state: &str) -> Option<f64> {
        self.0
            .iter()
            .find(|e| {
                e.state_entered_event_details()
                    .is_some_and(|d| d.name() == state)
            })
            .map(|e| e.timestamp().as_secs_f64())
    }

    /// The last event (the execution's end, once it ended).
    fn end(&self) -> Option<f64> {
        self.0.last().map(|e| e.timestamp().as_secs_f64())
    }

    /// Lambda tasks scheduled to invoke `function` at or after `from`.
    fn invocations_of(&self, function: &str, from: f64) -> usize {
        let suffix = format!(":function:{function}\"");
        self.0
            .iter()
            .filter(|e| *e.r#type() == HistoryEventType::TaskScheduled)
            .filter(|e| e.timestamp().as_secs_f64() >= from)
            .filter(|e| {
                e.task_scheduled_event_details()
                    .is_some_and(|d| d.parameters().contains(&suffix))
            })
            .count()
    }
}
