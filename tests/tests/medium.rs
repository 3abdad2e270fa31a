//! `medium` (500 agents, 60 flows, 40 queues) end to end at Connect's real quotas: connect-sim at
//! factor 1 and our pacers at factor 1. Replication runs to the end by itself, every agent is
//! associated once, and a failover then failback restores the distribution; the throttles
//! Connect answered are counted and printed.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use acgr_e2e::{workspace, Options, Stack, REPLICA_REGION};
use local_stack::drill::scenario_instance;
use serde_json::{json, Value};

/// 500 associations at 2/s are about 250 s of the run; the clock runs x100 for mirroring only.
const LIMIT: Duration = Duration::from_secs(900);

async fn succeeded(stack: &Stack, machine: &str, name: &str, input: &Value) -> Duration {
    let started = Instant::now();
    let arn = stack
        .start_execution(machine, name, input)
        .await
        .unwrap_or_else(|e| panic!("StartExecution {machine}/{name}: {e}"));
    let e = stack
        .wait_execution(&arn, LIMIT)
        .await
        .unwrap_or_else(|e| panic!("{machine}/{name}: {e:#}"));
    assert_eq!(e.status, "SUCCEEDED", "{machine}/{name}: {e:#?}");
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn medium_replicates_associates_and_fails_over_at_the_real_quotas() {
    let opts = Options::state_machines("medium", 100.0);
    assert_eq!(opts.quota_factor, 1.0, "medium runs at the real quotas");
    let stack = Stack::start(opts).await.expect("the local stack starts");
    let id = scenario_instance(&workspace(), "medium").expect("medium's instance");

    let replication = json!({
        "instanceId": id, "replicaRegion": REPLICA_REGION, "pollSeconds": 2, "maxPolls": 300
    });
    let took = succeeded(&stack, "replication", "medium-replication", &replication).await;

    // every agent joined the group once, by calls Connect accepted
    let associations = stack
        .accepted_calls("AssociateTrafficDistributionGroupUser")
        .await;
    assert_eq!(associations.len(), 500, "one accepted call per agent");
    assert_eq!(stack.accepted_calls("ReplicateInstance").await.len(), 1);
    let state = stack.sim_state().await;
    let group = state["trafficDistributionGroups"]
        .as_array()
        .and_then(|gs| gs.iter().find(|g| g["isDefault"] == true))
        .cloned()
        .expect("the default group");
    let members: HashSet<&str> = group["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(members.len(), 500, "{} members", members.len());
    let run = stack
        .item(&id, "RUN#medium-replication")
        .await
        .expect("the run")
        .data;
    assert_eq!(run["status"], "succeeded", "{run:#}");

    // failover and failback at the same quotas
    let failover = json!({"instanceId": id, "targetRegion": REPLICA_REGION});
    let over = succeeded(&stack, "failover", "medium-failover", &failover).await;
    let failback = json!({"instanceId": id, "preset": "failback"});
    let back = succeeded(&stack, "failover", "medium-failback", &failback).await;
    let updates = stack.accepted_calls("UpdateTrafficDistribution").await;
    assert_eq!(updates.len(), 2, "one update each way");

    // what the pacing cost: calls, and the throttles Connect answered (retried by the client)
    let calls = stack.sim_calls(None).await;
    let throttled: Vec<&Value> = calls.iter().filter(|c| c["status"] == 429).collect();
    let mut by_operation: Vec<(String, usize)> = Vec::new();
    for c in &throttled {
        let op = c["operation"].as_str().unwrap_or("?").to_string();
        match by_operation.iter_mut().find(|(o, _)| *o == op) {
            Some((_, n)) => *n += 1,
            None => by_operation.push((op, 1)),
        }
    }
    println!(
        "medium at factor 1: replication {:.0} s, failover {:.1} s, failback {:.1} s; \
         {} Connect calls, {} throttled {:?}",
        took.as_secs_f64(),
        over.as_secs_f64(),
        back.as_secs_f64(),
        calls.len(),
        throttled.len(),
        by_operation
    );
    // One process per function, each with its own buckets, may overlap another's burst on an
    // operation they share (DescribeInstance): a few throttles, never a storm.
    assert!(
        throttled.len() * 50 <= calls.len(),
        "{} of {} calls throttled: {by_operation:?}",
        throttled.len(),
        calls.len()
    );
}
