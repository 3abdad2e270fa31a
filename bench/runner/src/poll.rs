//! Section 4: a mirroring poll on replicated instances that differ only in their number of users:
//! `large`'s shape with `users.count` changed, written to `target/bench/scenarios/`. Each is
//! replicated with ReplicateInstance and mirrored to the end (the sim's clock advanced), then
//! poll-mirroring is invoked twice on a new run.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use connect_sim::control::Client;
use connect_sim::kinds::Kind;
use serde_json::{json, Value};

use super::calls::CallLog;
use super::report::{Row, Section};
use super::{millis, Plan};
use local_stack::build::bin_dir;
use local_stack::drill::scenario_instance;
use local_stack::stack::{Options, Stack, REPLICA_REGION, SOURCE_REGION};
use local_stack::workspace;

pub(super) async fn run(plan: &Plan, progress: &dyn Fn(&str)) -> Result<Vec<Row>> {
    let fixed = 2 + Kind::all().count();
    let mut rows = Vec::new();
    for &users in &plan.poll_users {
        progress(&format!("  {users} users"));
        let p = measure(users)
            .await
            .with_context(|| format!("{users} users"))?;
        rows.push(
            Row::new(
                Section::MirroringPoll,
                format!("{users} users, {} resources in all", p.resources),
                format!(
                    "first poll {} calls in {} (listing diff: {}); next poll {} calls in {}",
                    p.first.calls,
                    millis(p.first.took),
                    p.first.summary,
                    p.next.calls,
                    millis(p.next.took)
                ),
            )
            .against(format!(
                "the signals alone: DescribeInstance in each region + one ListReplicationFindings per kind = {fixed} calls, whatever the size"
            )),
        );
    }
    Ok(rows)
}

struct Poll {
    calls: usize,
    took: Duration,
    summary: String,
}

struct Measured {
    resources: usize,
    first: Poll,
    next: Poll,
}

/// `large` with `users` users, as a scenario file; its name for [`Options`] (the stack joins a
/// scenario's name onto `sim/scenarios/` and adds `.json`: an absolute path without `.json`
/// names a file anywhere).
fn scenario(users: usize) -> Result<String> {
    let large = workspace().join("sim/scenarios/large.json");
    let mut v: Value = serde_json::from_str(
        &std::fs::read_to_string(&large).with_context(|| format!("read {}", large.display()))?,
    )?;
    let generated = v["instances"][0]["generate"]["users"]
        .as_object_mut()
        .context("large.json has no instances[0].generate.users")?;
    generated.insert("count".into(), json!(users));
    v["description"] = json!(format!(
        "large (sim/scenarios/large.json) with {users} users, for the mirroring poll benchmark"
    ));
    let dir: PathBuf = bin_dir()?
        .parent()
        .context("the target directory")?
        .join("bench/scenarios");
    std::fs::create_dir_all(&dir)?;
    let base = dir.join(format!("poll-{users}"));
    let file = base.with_extension("json");
    std::fs::write(&file, serde_json::to_string_pretty(&v)?)
        .with_context(|| format!("write {}", file.display()))?;
    base.to_str()
        .map(str::to_string)
        .context("a scenario path that is not UTF-8")
}

async fn measure(users: usize) -> Result<Measured> {
    let name = scenario(users)?;
    let stack = Stack::start(Options::new(&name, &["poll-mirroring"])).await?;
    let instance = scenario_instance(&workspace(), &name)?;
    let mut log = CallLog::new(stack.sim);

    // Replicated as an operator would, then mirrored to the end in simulated time.
    stack
        .connect(SOURCE_REGION)
        .await
        .replicate_instance()
        .instance_id(&instance)
        .replica_region(REPLICA_REGION)
        .send()
        .await
        .map_err(|e| {
            anyhow!(
                "ReplicateInstance: {}",
                aws_sdk_connect::error::DisplayErrorContext(e)
            )
        })?;
    mirror_to_the_end(log.client(), &instance).await?;
    let state = log.client().state().await?;
    let resources = state
        .instance(SOURCE_REGION, &instance)
        .map(|i| i.counts.values().sum::<usize>())
        .unwrap_or(0);

    let payload = json!({"runId": format!("bench-poll-{users}"), "instanceId": instance});
    let first = poll(&stack, &mut log, &payload).await?;
    let next = poll(&stack, &mut log, &payload).await?;
    Ok(Measured {
        resources,
        first,
        next,
    })
}

/// Advances connect-sim's clock until the instance's replica is ACTIVE and every resource of it
/// is mirrored.
pub(super) async fn mirror_to_the_end(sim: &Client, instance: &str) -> Result<()> {
    for _ in 0..100 {
        sim.advance_clock(600.0).await?;
        let state = sim.state().await?;
        let replica_active = state
            .instance(REPLICA_REGION, instance)
            .is_some_and(|i| i.status == "ACTIVE");
        let pending = state
            .replications
            .iter()
            .filter(|r| r.instance_id == instance)
            .map(|r| r.initial_pending + r.resync_pending)
            .sum::<usize>();
        if replica_active && pending == 0 && state.pending_tasks == 0 {
            return Ok(());
        }
    }
    bail!("the replica of {instance} did not finish mirroring in 60,000 simulated seconds")
}

async fn poll(stack: &Stack, log: &mut CallLog, payload: &Value) -> Result<Poll> {
    let before = log.mark().await?;
    let started = Instant::now();
    let out = stack
        .invoke_in(SOURCE_REGION, "poll-mirroring", payload.clone())
        .await
        .map_err(|e| anyhow!("poll-mirroring: {e}"))?;
    let took = started.elapsed();
    if out["complete"] != true {
        bail!("the poll did not find mirroring complete: {out}");
    }
    let until = log.mark().await?;
    let calls = log.between(before, until);
    Ok(Poll {
        calls: calls.len(),
        took,
        summary: if out["listed"] == true {
            calls.summary()
        } else {
            "none".into()
        },
    })
}
