//! Section 5: preflight at Connect's real quotas (connect-sim and our pacers at factor 1),
//! invoked until its flow scan is done, against its floor: every flow and module read once, on
//! their separate 2/s quotas, plus their listings.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use serde_json::json;

use super::calls::{quota, CallLog};
use super::report::{Row, Section};
use super::{secs, Plan};
use local_stack::config::{local_config, one_attempt};
use local_stack::drill::scenario_instance;
use local_stack::invoke::Outcome;
use local_stack::stack::{Options, Stack, REPLICA_REGION, SOURCE_REGION};
use local_stack::workspace;

/// `cargo lambda watch` gives an invocation 600 s: the client waits longer than that.
const INVOCATION_LIMIT: Duration = Duration::from_secs(660);

pub(super) async fn run(plan: &Plan) -> Result<Vec<Row>> {
    let scenario = &plan.preflight_scenario;
    let stack = Stack::start(Options::new(scenario, &["preflight"]).quota_factor(1.0)).await?;
    let instance = scenario_instance(&workspace(), scenario)?;
    let mut log = CallLog::new(stack.sim);
    let conf = one_attempt(
        &local_config(stack.moto, SOURCE_REGION).await,
        INVOCATION_LIMIT,
    );
    let lambda = aws_sdk_lambda::Client::from_conf(
        aws_sdk_lambda::config::Builder::from(&conf)
            .endpoint_url(format!("http://{}", stack.watch))
            .build(),
    );
    let payload = json!({
        "runId": "bench-preflight",
        "instanceId": instance,
        "replicaRegion": REPLICA_REGION,
        "failOnError": false,
    });

    let before = log.mark().await?;
    let started = Instant::now();
    let mut invocations = 0;
    loop {
        invocations += 1;
        let out = match local_stack::invoke::invoke(&lambda, "preflight", &payload).await? {
            Outcome::Output(v) => v,
            Outcome::Failed(e) => bail!("preflight: {e}"),
            Outcome::NoAnswer => bail!("preflight did not answer in {INVOCATION_LIMIT:?}"),
        };
        if out["done"] == true {
            break;
        }
        if invocations >= 20 {
            bail!("preflight not done after {invocations} invocations");
        }
    }
    let took = started.elapsed();
    let until = log.mark().await?;
    let calls = log.between(before, until);

    let (flows, modules) = (
        calls.accepted("DescribeContactFlow").len(),
        calls.accepted("DescribeContactFlowModule").len(),
    );
    let listings =
        calls.accepted("ListContactFlows").len() + calls.accepted("ListContactFlowModules").len();
    // Each operation has its own bucket, full at the start: what the burst covers is free.
    let beyond = |n: usize, op: &str| -> Result<f64> {
        let q = quota(op)?;
        Ok((n as f64 - q.burst).max(0.0) / q.rate)
    };
    let floor = Duration::from_secs_f64(
        beyond(flows, "DescribeContactFlow")?.max(beyond(modules, "DescribeContactFlowModule")?)
            + beyond(calls.accepted("ListContactFlows").len(), "ListContactFlows")?
            + beyond(
                calls.accepted("ListContactFlowModules").len(),
                "ListContactFlowModules",
            )?,
    );
    let state = log
        .client()
        .state()
        .await
        .map_err(|e| anyhow!("GET /_sim/state: {e}"))?;
    Ok(vec![Row::new(
        Section::Preflight,
        format!(
            "preflight on '{scenario}' at F = {} ({flows} flows and {modules} modules read, {} invocation{})",
            state.quota_factor,
            invocations,
            if invocations == 1 { "" } else { "s" }
        ),
        format!(
            "{} = ×{:.2} the floor ({} calls, {} throttled: {})",
            secs(took),
            took.as_secs_f64() / floor.as_secs_f64().max(f64::EPSILON),
            calls.len(),
            calls.throttled(),
            calls.summary()
        ),
    )
    .against(format!(
        "floor {}: {flows} flows and {modules} modules read at 2/s each (separate quotas) and {listings} listing pages at 2/s, beyond each quota's burst of 5",
        secs(floor)
    ))])
}
