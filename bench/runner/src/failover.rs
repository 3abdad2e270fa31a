//! Section 7: the failover machine from StartExecution to the new split read back, failover and
//! failback alternating, against one AWS CLI update-traffic-distribution call on the same
//! control plane.

use acgr::run::FailoverRequest;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context as _, Result};
use serde_json::json;

use super::agents::Bench;
use super::report::{Row, Section};
use super::{millis, percentile, runbook};
use local_stack::stack::{REPLICA_REGION, SOURCE_REGION};

/// How often the execution's status is read: the resolution of the figure.
const POLL: Duration = Duration::from_millis(20);
const LIMIT: Duration = Duration::from_secs(300);

pub(super) async fn run(b: &mut Bench<'_>) -> Result<Vec<Row>> {
    let s = Section::Failover;
    let mut ours = Vec::new();
    for i in 0..b.plan.failovers {
        let (what, input, to) = if i % 2 == 0 {
            (
                "failover",
                json!(FailoverRequest::failover_to(&b.instance, REPLICA_REGION)),
                REPLICA_REGION,
            )
        } else {
            (
                "failback",
                json!(FailoverRequest::failback(&b.instance)),
                SOURCE_REGION,
            )
        };
        let name = format!("bench-{what}-{i:02}");
        let started = Instant::now();
        let arn = b
            .stack
            .start_execution("failover", &name, &input)
            .await
            .map_err(|e| anyhow!("StartExecution failover {name}: {e}"))?;
        let end = loop {
            let e = b.stack.describe_execution(&arn).await?;
            if e.status != "RUNNING" {
                break e;
            }
            if started.elapsed() > LIMIT {
                bail!("{name} still running after {LIMIT:?}");
            }
            tokio::time::sleep(POLL).await;
        };
        let took = started.elapsed();
        ensure!(
            end.status == "SUCCEEDED",
            "{name} ended {}: {:?} {:?}",
            end.status,
            end.error,
            end.cause
        );
        let group = b.default_group().await?;
        ensure!(
            group.telephony.get(to) == Some(&100),
            "after {name} the default group's telephony is {:?}",
            group.telephony
        );
        ours.push(took);
    }
    ours.sort();

    // The runbook: one CLI call moving the default group, alternating; each once the group is
    // ACTIVE again.
    let mut cli = Vec::new();
    let arn = b.default_group().await?.arn;
    for i in 0..b.plan.cli_updates {
        let (to, from) = if i % 2 == 0 {
            (REPLICA_REGION, SOURCE_REGION)
        } else {
            (SOURCE_REGION, REPLICA_REGION)
        };
        wait_active(b).await?;
        let split = json!({"Distributions": [
            {"Region": to, "Percentage": 100}, {"Region": from, "Percentage": 0}]})
        .to_string();
        let sign_in = json!({"Distributions": [
            {"Region": to, "Enabled": true}, {"Region": from, "Enabled": false}]})
        .to_string();
        cli.push(
            runbook::cli(
                b,
                to,
                &[
                    "update-traffic-distribution",
                    "--id",
                    &arn,
                    "--telephony-config",
                    &split,
                    "--agent-config",
                    &split,
                    "--sign-in-config",
                    &sign_in,
                ],
            )
            .await?,
        );
    }
    wait_active(b).await?;
    cli.sort();
    let cli_p50 = percentile(&cli, 0.5);
    let (p50, p95) = (percentile(&ours, 0.5), percentile(&ours, 0.95));
    Ok(vec![
        Row::new(
            s,
            format!(
                "StartExecution to the split read back, {} executions (failover and failback alternating)",
                ours.len()
            ),
            format!(
                "p50 {}, p95 {} (fastest {}, slowest {})",
                millis(p50),
                millis(p95),
                millis(ours.first().copied().unwrap_or_default()),
                millis(ours.last().copied().unwrap_or_default())
            ),
        )
        .against(format!(
            "one AWS CLI update-traffic-distribution: p50 {} over {} calls (×{:.1}); it checks nothing and reads nothing back",
            millis(cli_p50),
            cli.len(),
            p50.as_secs_f64() / cli_p50.as_secs_f64().max(f64::EPSILON)
        )),
    ])
}

/// Waits until the default group is ACTIVE (an update is applied in the sim's time).
async fn wait_active(b: &Bench<'_>) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let g = b.default_group().await.context("the default group")?;
        if g.status == "ACTIVE" {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the default group is still {} after 60 s", g.status);
        }
        tokio::time::sleep(POLL).await;
    }
}
