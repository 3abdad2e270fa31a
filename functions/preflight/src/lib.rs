//! **preflight**: checks, before ReplicateInstance, everything that would make it fail or leave
//! the replica unusable, and reports each check with a verdict and the fix. It reads Connect,
//! Lambda and KMS and never changes them; it takes no lock. The report is stored on the run.
//!
//! Reading every flow takes minutes on a large instance (2 calls/s), so the step is resumable:
//! an invocation that runs out of time returns `done: false` with the report so far, and the
//! next invocation of the run goes on where it stopped (`flows.rs`). The report is bounded
//! whatever the instance's size: each check lists its first findings and counts the rest.

mod flows;
mod instance;
mod name_conflicts;
pub mod probe;
mod replica;
mod report;
pub mod scan;

use acgr::connect::{Connect, IdentityType, InstanceInfo};
use acgr::domain::{pair_support, paired_region, InstanceAlias, Kind, PairSupport, Region};
use acgr::error::{ConnectError, ConnectErrorClass, StepError};
use acgr::flows::FlowScan;
use acgr::flows::ScanLedger;
use acgr::mirroring::conflicts;
use acgr::mirroring::MirroringLedger;
use acgr::run::RunLedger;
use acgr::run::{self, Begin, Header, Hold, RunKind, StepInput, StepRun};
use acgr::{now, Context};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::info;

use crate::flows::LISTED;
use crate::probe::{Probe, ReplicaProbe, CONNECT_KEY_ALIAS};
use crate::report::{capped, could_not_run, in_order};
pub use crate::report::{Check, FlowCounts, Report, Verdict};
use crate::{flows::*, instance::*, name_conflicts::*, replica::*};

/// The run store as preflight uses it: its run, the conflicts it finds, the flow scan.
pub trait PreflightStore: RunLedger + MirroringLedger + ScanLedger {}

impl<S: RunLedger + MirroringLedger + ScanLedger> PreflightStore for S {}

pub const STEP: &str = "preflight";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Input {
    /// Its `runId` is generated (`preflight-<epoch seconds>`) when absent.
    #[serde(skip)]
    pub header: Header,
    pub replica_region: String,
    #[serde(default)]
    pub replica_alias: Option<String>,
    /// When true (the default), a failed check makes the step fail with `PreflightFailed`.
    #[serde(default)]
    pub fail_on_error: Option<bool>,
}

impl StepInput for Input {
    fn header(&self) -> &Header {
        &self.header
    }
    fn header_mut(&mut self) -> &mut Header {
        &mut self.header
    }
}

pub async fn handler<C: Connect, S: PreflightStore, P: ReplicaProbe>(
    ctx: &Context<C, S>,
    probe: &P,
    event: LambdaEvent<Value>,
) -> Result<Report, Diagnostic> {
    let now = now();
    let defaults = |members: &mut serde_json::Map<String, Value>| {
        members
            .entry("runId")
            .or_insert_with(|| format!("preflight-{now}").into());
        Ok(())
    };
    run::handle_with(event, ctx.deadline_margin, defaults, |input, _| {
        preflight(ctx, probe, input, now)
    })
    .await
}

pub async fn preflight<C: Connect, S: PreflightStore, P: ReplicaProbe>(
    ctx: &Context<C, S>,
    probe: &P,
    input: Input,
    now: i64,
) -> Result<Report, StepError> {
    let id = input.header.source_instance(ctx.source.region())?;
    let run_id = &input.header.run_id;
    let replica = Region::parse_member("replicaRegion", &input.replica_region)?;
    if let Some(alias) = &input.replica_alias {
        InstanceAlias::parse(alias)
            .map_err(|e| StepError::InvalidInput(format!("replicaAlias: {e}")))?;
    }
    let begin = Begin {
        header: &input.header,
        instance_id: &id,
        kind: RunKind::Replication,
        step: STEP,
        inputs: serde_json::json!({
            "instanceId": input.header.instance_id,
            "replicaRegion": input.replica_region,
            "replicaAlias": input.replica_alias,
            "failOnError": input.fail_on_error,
        }),
        // Read-only: it takes no lock.
        hold: Hold::Nothing,
        lease_seconds: ctx.lease_seconds,
    };
    let mut run = StepRun::begin(&ctx.store, begin, now).await?;
    let report = match assess(ctx, probe, &id, &replica, &input, now).await {
        Ok(report) => report,
        Err(e) => return Err(run.fail(e).await),
    };
    run.note(&report).await?;
    info!(
        instance_id = %id,
        run_id = %run_id,
        done = report.done,
        passed = report.count(Verdict::Pass),
        warned = report.count(Verdict::Warn),
        failed = report.count(Verdict::Fail),
        flows_scanned = report.flows.as_ref().map_or(0, |f| f.scanned),
        flows_hardcoding = report.flows.as_ref().map_or(0, |f| f.hardcoded),
        "preflight"
    );
    if report.done && !report.ok && input.fail_on_error.unwrap_or(true) {
        let failed: Vec<String> = report
            .failed()
            .map(|c| format!("{}: {}", c.id, c.message))
            .collect();
        let e = StepError::PreflightFailed(format!(
            "preflight failed ({} of {} checks): {}",
            failed.len(),
            report.checks.len(),
            failed.join("; ")
        ));
        return Err(run.fail(e).await);
    }
    Ok(report)
}

/// The checks of one invocation: the run's first makes every check but the flow scan (kept on
/// the scan's item), then each scans flows until done or out of time.
async fn assess<C: Connect, S: PreflightStore, P: ReplicaProbe>(
    ctx: &Context<C, S>,
    probe: &P,
    id: &str,
    replica: &Region,
    input: &Input,
    now: i64,
) -> Result<Report, StepError> {
    let run_id = &input.header.run_id;
    // A finished scan run again (same run ID) starts anew: the instance may have changed.
    let mut scan = match ctx.store.get_flow_scan(id, run_id).await? {
        Some(scan) if !scan.done => scan,
        last => FlowScan::new(id, run_id, last.map_or(1, |s| s.generation + 1), now),
    };
    let stored: Option<Vec<Check>> = scan
        .checks
        .as_ref()
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let made_now = stored.is_none();
    let others = match stored {
        Some(checks) => checks,
        None => {
            let checks = capped(
                run_checks(ctx, probe, id, replica, input, now).await?,
                LISTED,
            );
            scan.checks = Some(
                serde_json::to_value(&checks).map_err(|e| StepError::Rejected(e.to_string()))?,
            );
            checks
        }
    };
    // The checks say when the flows are not to be scanned (the instance is missing, or a check
    // already failed the step).
    let (flow_checks, flows) = if others.iter().any(|c| c.id == "flows-scanned") {
        scan.done = true;
        (Vec::new(), None)
    } else {
        let resumed = flows::resume(&ctx.source, &ctx.store, &mut scan, now).await?;
        if let Some(e) = &resumed.stopped {
            info!(instance_id = %id, run_id = %run_id, error = %e, "the flow scan stops here");
            // Nothing done at all: the error, so that the state machine backs off and retries.
            if !resumed.moved && !made_now {
                return Err(e.clone().into());
            }
        }
        (
            flow_checks(&scan, &resumed, ctx.source.region()),
            Some(flows::counts(&scan, &resumed)),
        )
    };
    scan.updated_at = now;
    ctx.store.put_flow_scan(&scan).await?;
    let checks = in_order(others.into_iter().chain(flow_checks).collect());
    Ok(Report {
        ok: !checks.iter().any(|c| c.verdict == Verdict::Fail),
        done: scan.done,
        run_id: run_id.clone(),
        checks,
        flows,
    })
}

async fn run_checks<C: Connect, S: PreflightStore, P: ReplicaProbe>(
    ctx: &Context<C, S>,
    probe: &P,
    id: &str,
    replica: &Region,
    input: &Input,
    now: i64,
) -> Result<Vec<Check>, StepError> {
    let source = ctx.source.region();
    let mut checks = vec![
        pair_check(source, replica),
        if source == replica {
            Check::fail(
                "regions-differ",
                format!("the replica region is the source region ({source})"),
                "Choose a replica region other than the instance's region.",
            )
        } else {
            Check::pass(
                "regions-differ",
                format!("source {source}, replica {replica}"),
            )
        },
    ];
    let deployed = ctx.check_replica(replica).is_ok();
    checks.push(if deployed {
        Check::pass(
            "replica-region-deployed",
            format!("this deployment replicates {source} to {replica}"),
        )
    } else {
        Check::fail(
            "replica-region-deployed",
            format!(
                "this deployment replicates {source} to {}, not to {replica}",
                ctx.replica.region()
            ),
            format!(
                "Run the deployment made for {replica}, or deploy with REPLICA_REGION={replica}."
            ),
        )
    });
    checks.push(alias_check(input.replica_alias.as_deref()));

    // The instance: its state decides whether the checks that need it can run.
    let described = match ctx.source.describe_instance(id).await {
        Ok(info) => Ok(info),
        Err(e) => Err(could_not_run("instance-active", e)?),
    };
    let missing = matches!(described, Ok(None));
    match &described {
        Ok(Some(info)) => {
            checks.extend(instance_checks(info, source, replica));
            checks.push(global_routing_alias_check(
                info,
                input.replica_alias.as_deref(),
            ));
        }
        Ok(None) => {
            checks.push(Check::fail(
                "instance-active",
                format!("instance {id} does not exist in {source}"),
                format!("Check the instance ID, and that the instance's region is {source}."),
            ));
            for c in [
                "instance-alias",
                "identity-saml",
                "not-replicated",
                "global-routing-alias",
            ] {
                checks.push(Check::not_checked(c, "the instance was not found"));
            }
        }
        Err(warn) => {
            checks.push(warn.clone());
            for c in [
                "instance-alias",
                "identity-saml",
                "not-replicated",
                "global-routing-alias",
            ] {
                checks.push(Check::not_checked(c, "the instance could not be described"));
            }
        }
    }

    let not_found = |c: &str| Check::not_checked(c, "the instance was not found");
    let other_replica = |c: &str| {
        Check::not_checked(
            c,
            &format!("{replica} is not this deployment's replica region"),
        )
    };
    checks.push(if missing {
        not_found("name-conflicts")
    } else if !deployed {
        other_replica("name-conflicts")
    } else {
        conflict_check(ctx, id, now).await?
    });
    if missing {
        checks.push(not_found("flows-scanned"));
        checks.push(not_found("lambda-in-replica"));
        checks.push(not_found("lex-bots"));
    } else {
        checks.extend(if deployed {
            lambda_checks(&ctx.source, probe, id).await?
        } else {
            vec![other_replica("lambda-in-replica")]
        });
        checks.push(lex_check(&ctx.source, id, replica).await?);
    }
    checks.push(if deployed {
        key_check(probe).await
    } else {
        other_replica("connect-kms-key")
    });
    // Flows only ever warn: when a check already fails the step, reading every flow (minutes on
    // a large instance) would not change the outcome.
    if !missing
        && input.fail_on_error.unwrap_or(true)
        && checks.iter().any(|c| c.verdict == Verdict::Fail)
    {
        checks.push(Check::not_checked(
            "flows-scanned",
            "a check failed, and flows only warn (run with failOnError false to scan them anyway)",
        ));
    }
    Ok(checks)
}

#[cfg(test)]
mod tests;
