//! The region-outage drill, on a two-region local stack ([`Options::two_regions`]):
//! replicate → agents associated → steady state recorded → the source region goes down (its
//! Connect API and its deployment) → the incident request reaches the replica region's
//! deployment → every group 100% in the replica region → the source region comes back →
//! failback restores the recorded steady state. The end-to-end tests assert on its
//! [`DrillReport`]; `rehearse --drill` prints it.
//!
//! [`Options::two_regions`]: crate::stack::Options::two_regions

pub use crate::scenario::scenario_instance;
use acgr::run::{AgentSyncRequest, FailoverRequest, ReplicationRequest};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use serde_json::{json, Value};

use crate::stack::{Execution, Outage, Stack, REPLICA_REGION, SOURCE_REGION};

/// How to run the drill.
#[derive(Debug, Clone)]
pub struct Drill {
    pub instance_id: String,
    /// A steady state other than 100/0 to set before the incident (telephony and agents % in
    /// the source region), with a plan, then recorded by an agent sync.
    pub steady_source_percent: Option<u8>,
    /// The quota factor for the failover and the failback (1: Connect's real quotas). The
    /// replication and association before them run at the stack's factor.
    pub shift_quota_factor: f64,
    pub poll_seconds: u64,
    pub timeout: Duration,
    /// Names the incident request (and so the failover execution and run).
    pub request_id: String,
}

impl Drill {
    pub fn new(instance_id: &str, request_id: &str) -> Drill {
        Drill {
            instance_id: instance_id.to_string(),
            steady_source_percent: None,
            shift_quota_factor: 1.0,
            poll_seconds: 1,
            timeout: Duration::from_secs(600),
            request_id: request_id.to_string(),
        }
    }
}

/// One group's distribution as Connect (connect-sim) holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSplit {
    pub name: String,
    pub is_default: bool,
    /// (telephony %, agents %) per region, and sign-in per region (default group only).
    pub telephony: BTreeMap<String, u64>,
    pub agents: BTreeMap<String, u64>,
    pub sign_in: BTreeMap<String, bool>,
}

impl std::fmt::Display for GroupSplit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pct = |m: &BTreeMap<String, u64>| {
            m.iter()
                .map(|(r, p)| format!("{r} {p}%"))
                .collect::<Vec<_>>()
                .join(" / ")
        };
        write!(
            f,
            "{}: telephony {}, agents {}",
            self.name,
            pct(&self.telephony),
            pct(&self.agents)
        )?;
        if !self.sign_in.is_empty() {
            let on: Vec<&str> = self
                .sign_in
                .iter()
                .filter(|(_, on)| **on)
                .map(|(r, _)| r.as_str())
                .collect();
            write!(f, ", sign-in {}", on.join(" + "))?;
        }
        Ok(())
    }
}

/// Connect calls of a window of the drill, by region.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegionCalls {
    pub ok: usize,
    /// Refused by the quota (429): the caller retries them.
    pub throttled: usize,
    /// Any other failure.
    pub failed: usize,
    /// The operations called, whatever the answer.
    pub operations: std::collections::BTreeSet<String>,
}

/// What the drill measured.
#[derive(Debug, Clone, Default)]
pub struct DrillReport {
    /// (phase, execution status, real seconds).
    pub phases: Vec<(String, String, f64)>,
    /// The distribution of every group after each phase.
    pub splits: Vec<(String, Vec<GroupSplit>)>,
    /// Cross-region routing after each phase, as each region sees it ([`routing`]).
    pub routing: Vec<(String, String)>,
    /// From the incident request reaching the replica region's intake to the execution ending
    /// with the new split read back.
    pub event_to_read_back: Duration,
    /// Connect calls while the source region was down, by region.
    pub calls_during_outage: BTreeMap<String, RegionCalls>,
    /// Connect calls of the failover before its first UpdateTrafficDistribution.
    pub calls_before_update: usize,
    /// The redelivered request started no second execution.
    pub redelivery_ran_once: bool,
    /// The failover execution's ARN (in the replica region).
    pub failover_execution: String,
}

impl DrillReport {
    pub fn split_after(&self, phase: &str) -> Option<&[GroupSplit]> {
        self.splits
            .iter()
            .find(|(p, _)| p == phase)
            .map(|(_, s)| s.as_slice())
    }

    /// The summary the rehearsal prints.
    pub fn print(&self) {
        println!("== region-outage drill");
        for (phase, status, secs) in &self.phases {
            println!("   {phase:<28} {status:<10} {secs:>6.1}s");
        }
        println!(
            "   incident request to split read back: {:.1}s",
            self.event_to_read_back.as_secs_f64()
        );
        println!(
            "   Connect calls of the failover before its update: {}",
            self.calls_before_update
        );
        for (region, c) in &self.calls_during_outage {
            println!(
                "   Connect calls while {SOURCE_REGION} was down, in {region}: {} ok, {} throttled, {} failed",
                c.ok, c.throttled, c.failed
            );
        }
        for (phase, splits) in &self.splits {
            println!("   after {phase}:");
            for s in splits {
                println!("     {s}");
            }
            if let Some((_, r)) = self.routing.iter().find(|(p, _)| p == phase) {
                println!("     cross-region routing: {r}");
            }
        }
    }
}

/// Cross-region routing of the scenario's instance as each region sees it, from connect-sim's
/// state: `no global routing`, or each region's view (`on`, or the regions isolated).
pub async fn routing(stack: &Stack) -> String {
    let state = stack.sim_state().await;
    let Some(instance) = state["instances"]
        .as_array()
        .and_then(|is| is.iter().find(|i| i["replicaOf"].is_null()))
    else {
        return "no instance".into();
    };
    if instance["globalRouting"] != true {
        return "no global routing (an instance created before 2026-09-01): no routing call".into();
    }
    let views: Vec<String> = [SOURCE_REGION, REPLICA_REGION]
        .iter()
        .map(|r| {
            let isolated: Vec<&str> = instance["isolatedRegions"][*r]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if isolated.is_empty() {
                format!("{r} sees on")
            } else {
                format!("{r} sees isolated ({})", isolated.join(", "))
            }
        })
        .collect();
    views.join("; ")
}

/// Records the splits and the routing after `phase`.
async fn after(stack: &Stack, report: &mut DrillReport, phase: &str) {
    report.splits.push((phase.to_string(), splits(stack).await));
    report
        .routing
        .push((phase.to_string(), routing(stack).await));
}

/// Every group's distribution, from connect-sim's state, default group first.
pub async fn splits(stack: &Stack) -> Vec<GroupSplit> {
    let state = stack.sim_state().await;
    let map_u = |v: &Value| -> BTreeMap<String, u64> {
        v.as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, x)| (k.clone(), x.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out: Vec<GroupSplit> = state["trafficDistributionGroups"]
        .as_array()
        .map(|gs| {
            gs.iter()
                .map(|g| GroupSplit {
                    name: g["name"].as_str().unwrap_or("?").to_string(),
                    is_default: g["isDefault"] == true,
                    telephony: map_u(&g["telephony"]),
                    agents: map_u(&g["agents"]),
                    sign_in: g["signIn"]
                        .as_object()
                        .map(|o| {
                            o.iter()
                                .map(|(k, x)| (k.clone(), x.as_bool().unwrap_or(false)))
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort_by_key(|g| (!g.is_default, g.name.clone()));
    out
}

async fn phase(
    stack: &Stack,
    report: &mut DrillReport,
    region: &str,
    machine: &str,
    name: &str,
    input: &Value,
    timeout: Duration,
) -> Result<Execution> {
    let t = Instant::now();
    let arn = stack
        .start_execution_in(region, machine, name, input)
        .await
        .map_err(|e| anyhow::anyhow!("start {machine} {name} in {region}: {e}"))?;
    let e = stack.wait_execution_in(region, &arn, timeout).await?;
    report.phases.push((
        format!("{machine} {name} ({region})"),
        e.status.clone(),
        t.elapsed().as_secs_f64(),
    ));
    if e.status != "SUCCEEDED" {
        bail!(
            "{machine} {name} in {region} ended {}: {:?} {:?}",
            e.status,
            e.error,
            e.cause
        );
    }
    Ok(e)
}

async fn last_seq(stack: &Stack) -> u64 {
    stack
        .sim_calls(None)
        .await
        .last()
        .and_then(|c| c["seq"].as_u64())
        .unwrap_or(0)
}

/// Runs the drill on a two-region stack; fails on the first phase that does not end as it must.
pub async fn run(stack: &Stack, drill: &Drill) -> Result<DrillReport> {
    let mut report = DrillReport::default();
    let replication = json!(ReplicationRequest {
        instance_id: drill.instance_id.clone(),
        replica_region: Some(REPLICA_REGION.into()),
        poll_seconds: Some(drill.poll_seconds),
        max_polls: Some((drill.timeout.as_secs() / drill.poll_seconds.max(1)).max(1)),
        ..Default::default()
    });
    let name = format!("{}-replicate", drill.request_id);
    phase(
        stack,
        &mut report,
        SOURCE_REGION,
        "replication",
        &name,
        &replication,
        drill.timeout,
    )
    .await?;
    steady(stack, drill, &mut report).await?;
    outage(stack, drill, &mut report).await?;
    Ok(report)
}

/// Before any incident, on a replicated instance: the steady state (the plan of
/// `steady_source_percent`, if any), recorded by an agent sync.
pub async fn steady(stack: &Stack, drill: &Drill, report: &mut DrillReport) -> Result<()> {
    let (east, west) = (SOURCE_REGION, REPLICA_REGION);
    let id = &drill.instance_id;
    let name = |what: &str| format!("{}-{what}", drill.request_id);
    if let Some(p) = drill.steady_source_percent {
        let split = json!({east: p, west: 100 - p});
        let plan = json!(FailoverRequest::plan(
            id,
            json!({"telephony": split, "agents": split, "signIn": {east: true, west: true}})
        ));
        phase(
            stack,
            report,
            east,
            "failover",
            &name("steady"),
            &plan,
            drill.timeout,
        )
        .await?;
    }
    let sync = json!(AgentSyncRequest::new(id));
    phase(
        stack,
        report,
        east,
        "agent-sync",
        &name("sync"),
        &sync,
        drill.timeout,
    )
    .await?;
    after(stack, report, "steady state").await;
    Ok(())
}

/// The incident, at the drill's quota factor: the source region down, the request to the
/// replica region's deployment, the failover there, the source region back, the failback.
pub async fn outage(stack: &Stack, drill: &Drill, report: &mut DrillReport) -> Result<()> {
    let (east, west) = (SOURCE_REGION, REPLICA_REGION);
    let id = &drill.instance_id;
    let timeout = drill.timeout;
    stack.set_quota_factor(drill.shift_quota_factor).await?;
    // Time passes before the incident (the steady state is recorded hours before one).
    stack.time_passes().await?;

    // The source region goes down: its Connect API and its deployment.
    stack.region_down(east, Outage::Unavailable).await?;
    let outage_from = last_seq(stack).await;

    // The incident request reaches the replica region's deployment (twice: a redelivery).
    let request = json!({
        "version": "0",
        "detail-type": "ACGR Traffic Shift Requested",
        "source": "acgr.incident",
        "region": west,
        "detail": {"requestId": drill.request_id, "instanceId": id, "targetRegion": west}
    });
    let t = Instant::now();
    let first = stack
        .invoke_in(west, "incident-intake", request.clone())
        .await
        .map_err(|e| anyhow::anyhow!("incident-intake in {west}: {e}"))?;
    let again = stack
        .invoke_in(west, "incident-intake", request)
        .await
        .map_err(|e| anyhow::anyhow!("incident-intake redelivered: {e}"))?;
    let arn = first["executionArn"]
        .as_str()
        .context("incident-intake returned no executionArn")?
        .to_string();
    report.redelivery_ran_once = again["executionArn"] == first["executionArn"];
    let e = stack.wait_execution_in(west, &arn, timeout).await?;
    report.event_to_read_back = t.elapsed();
    report.phases.push((
        format!("failover {} ({west})", drill.request_id),
        e.status.clone(),
        report.event_to_read_back.as_secs_f64(),
    ));
    report.failover_execution = arn;
    if e.status != "SUCCEEDED" {
        bail!(
            "the failover in {west} ended {}: {:?} {:?}",
            e.status,
            e.error,
            e.cause
        );
    }
    after(stack, report, &format!("failover ({east} down)")).await;

    let calls: Vec<Value> = stack
        .sim_calls(None)
        .await
        .into_iter()
        .filter(|c| c["seq"].as_u64().unwrap_or(0) > outage_from)
        .collect();
    for c in &calls {
        let region = c["region"].as_str().unwrap_or("?").to_string();
        let entry = report.calls_during_outage.entry(region).or_default();
        entry
            .operations
            .insert(c["operation"].as_str().unwrap_or("?").to_string());
        match c["status"].as_u64() {
            Some(200) => entry.ok += 1,
            Some(429) => entry.throttled += 1,
            _ => entry.failed += 1,
        }
    }
    report.calls_before_update = calls
        .iter()
        .position(|c| c["operation"] == "UpdateTrafficDistribution")
        .unwrap_or(calls.len());

    // The source region comes back; failback from its own deployment at once, as an operator
    // would: its table has not received what the replica region wrote during the outage (the
    // episode, the failover's shifts), and the failback must not need it.
    stack.region_up(east).await?;
    let failback = json!(FailoverRequest::failback(id));
    let name = format!("{}-failback", drill.request_id);
    phase(stack, report, east, "failover", &name, &failback, timeout).await?;
    after(stack, report, "failback").await;
    Ok(())
}
