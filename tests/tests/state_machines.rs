//! The state machines for real: moto executes `statemachine/*.asl.json` (with the template's
//! substitutions), its Lambda tasks reach the step functions through the adapter, and the steps
//! work against connect-sim and the run table. The simulated clock runs 100 times faster than
//! real time, so creating the replica (300 simulated seconds) takes 3 seconds.

use std::time::Duration;

use acgr_e2e::{
    default_group, replication_input, Execution, Options, Stack, INSTANCE_ID, REPLICA_REGION,
    SOURCE_REGION,
};
use serde_json::{json, Value};

const TIME_SCALE: f64 = 100.0;
const LIMIT: Duration = Duration::from_secs(240);

async fn stack(scenario: &str) -> Stack {
    let opts = Options::state_machines(scenario, TIME_SCALE);
    Stack::start(opts).await.expect("the local stack starts")
}

async fn run(stack: &Stack, machine: &str, name: &str, input: &Value) -> Execution {
    stack
        .run_execution(machine, name, input, LIMIT)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"))
}

async fn succeeded(stack: &Stack, machine: &str, name: &str, input: &Value) -> Execution {
    let e = run(stack, machine, name, input).await;
    assert_eq!(e.status, "SUCCEEDED", "{machine}/{name}: {e:#?}");
    e
}

async fn run_item(stack: &Stack, run_id: &str) -> Value {
    stack
        .item(INSTANCE_ID, &format!("RUN#{run_id}"))
        .await
        .unwrap_or_else(|| panic!("no RUN#{run_id}"))
        .data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replication_of_small_runs_to_the_end_by_itself() {
    let stack = stack("small").await;

    let e = succeeded(
        &stack,
        "replication",
        "replicate-small",
        &replication_input(1, 120),
    )
    .await;

    // it went through every step, polling until mirroring was complete
    let states = stack.states_entered(&e.arn).await.expect("history");
    for s in [
        "Preflight",
        "Replicate",
        "PollMirroring",
        "AssociateAgents",
        "Replicated",
    ] {
        assert!(states.iter().any(|x| x == s), "{s} not in {states:?}");
    }
    // Connect was asked once for a replica, and every one of the 50 users joined the group once
    assert_eq!(stack.accepted_calls("ReplicateInstance").await.len(), 1);
    assert_eq!(
        stack
            .accepted_calls("AssociateTrafficDistributionGroupUser")
            .await
            .len(),
        50
    );
    let group = default_group(&stack.sim_state().await);
    assert_eq!(
        group["users"].as_array().map(Vec::len),
        Some(50),
        "{group:#}"
    );
    // the run is recorded as succeeded, with each step's result, and the instance is unlocked
    let run = run_item(&stack, "replicate-small").await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(run["executionArn"], e.arn.as_str(), "{run:#}");
    for step in [
        "preflight",
        "replicate",
        "poll-mirroring",
        "associate-agents",
    ] {
        assert!(run["steps"].get(step).is_some(), "{step} missing: {run:#}");
    }
    assert!(stack.item(INSTANCE_ID, "LOCK").await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_conflict_fails_the_run_until_the_replica_side_resource_is_deleted() {
    let stack = stack("conflict").await;

    // the first run ends on the conflict, named
    let first = run(
        &stack,
        "replication",
        "conflict-1",
        &replication_input(1, 120),
    )
    .await;
    assert_eq!(first.status, "FAILED", "{first:#?}");
    assert_eq!(
        first.error.as_deref(),
        Some("ResourceConflict"),
        "{first:#?}"
    );
    assert!(
        first.cause.as_deref().unwrap_or("").contains("Billing"),
        "{first:#?}"
    );
    let conflict = stack
        .item(INSTANCE_ID, "CONFLICT#queues#Billing")
        .await
        .expect("the conflict is recorded");
    assert_eq!(conflict.data["resolved"], false, "{:#}", conflict.data);
    let run1 = run_item(&stack, "conflict-1").await;
    assert_eq!(run1["status"], "failed", "{run1:#}");
    assert_eq!(
        stack
            .accepted_calls("AssociateTrafficDistributionGroupUser")
            .await
            .len(),
        0,
        "no agent is associated while the replica is incomplete"
    );

    // the operator deletes the look-alike queue in the replica region
    let replica = stack.connect(REPLICA_REGION).await;
    let queues = replica
        .list_queues()
        .instance_id(INSTANCE_ID)
        .send()
        .await
        .expect("ListQueues");
    let billing = queues
        .queue_summary_list()
        .iter()
        .find(|q| q.name() == Some("Billing"))
        .and_then(|q| q.id())
        .expect("the replica's Billing queue")
        .to_string();
    replica
        .delete_queue()
        .instance_id(INSTANCE_ID)
        .queue_id(&billing)
        .send()
        .await
        .expect("DeleteQueue");

    // and runs the machine again: it asks Connect to retry the blocked resources and succeeds
    succeeded(
        &stack,
        "replication",
        "conflict-2",
        &replication_input(1, 120),
    )
    .await;
    assert_eq!(stack.accepted_calls("ReplicateInstance").await.len(), 2);
    let conflict = stack
        .item(INSTANCE_ID, "CONFLICT#queues#Billing")
        .await
        .expect("the conflict stays on record");
    assert_eq!(conflict.data["resolved"], true, "{:#}", conflict.data);
    assert_eq!(
        stack
            .accepted_calls("AssociateTrafficDistributionGroupUser")
            .await
            .len(),
        50
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_then_failback_restores_the_recorded_distribution() {
    let stack = stack("small").await;
    // every machine takes the instance's ARN as well as its ID
    let arn = format!("arn:aws:connect:{SOURCE_REGION}:123456789012:instance/{INSTANCE_ID}");
    let mut replicate = replication_input(1, 120);
    replicate["instanceId"] = json!(arn);
    succeeded(&stack, "replication", "replicate-1", &replicate).await;
    let before = default_group(&stack.sim_state().await);
    let steady = stack.items_under(INSTANCE_ID, "GROUP#").await;
    assert_eq!(
        steady.len(),
        2,
        "the replication recorded both groups' steady state"
    );

    // incident tooling asks for the replica region
    let failover = json!({"instanceId": arn, "targetRegion": REPLICA_REGION});
    succeeded(&stack, "failover", "failover-1", &failover).await;
    let during = default_group(&stack.sim_state().await);
    assert_ne!(during["telephony"], before["telephony"], "{during:#}");
    assert_eq!(
        during["telephony"],
        json!({REPLICA_REGION: 100, SOURCE_REGION: 0}),
        "{during:#}"
    );

    // then back
    let failback = json!({"instanceId": arn, "preset": "failback"});
    succeeded(&stack, "failover", "failback-1", &failback).await;
    let after = default_group(&stack.sim_state().await);
    for part in ["telephony", "agents", "signIn"] {
        assert_eq!(after[part], before[part], "{part}: {after:#} vs {before:#}");
    }

    // each shift was one update per group, sent to the region taking the traffic, recorded
    let updates = stack.accepted_calls("UpdateTrafficDistribution").await;
    let regions: Vec<&str> = updates
        .iter()
        .filter_map(|u| u["region"].as_str())
        .collect();
    assert_eq!(
        regions,
        [REPLICA_REGION, REPLICA_REGION, SOURCE_REGION, SOURCE_REGION],
        "{updates:#?}"
    );
    let shifts = stack.items_under(INSTANCE_ID, "SHIFT#").await;
    assert_eq!(shifts.len(), 4, "{shifts:#?}");

    // a refused shift given by ARN: the machine records the failure on the run the step wrote
    // and releases its lock
    let stranded = json!({"instanceId": arn, "plan": {
        "telephony": {SOURCE_REGION: 0, REPLICA_REGION: 100},
        "agents": {SOURCE_REGION: 100, REPLICA_REGION: 0}}});
    let arn_run = stack
        .start_execution("failover", "stranded-1", &stranded)
        .await
        .expect("start");
    let e = stack
        .wait_execution(&arn_run, Duration::from_secs(120))
        .await
        .expect("ends");
    assert_eq!(e.status, "FAILED");
    assert_eq!(e.error.as_deref(), Some("Unsafe"), "{e:?}");
    let run = stack
        .item(INSTANCE_ID, "RUN#stranded-1")
        .await
        .expect("the run, keyed by the bare ID");
    assert_eq!(
        run.attributes
            .get("executionStatus")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str),
        Some("FAILED")
    );
    assert!(
        stack.item(INSTANCE_ID, "LOCK").await.is_none(),
        "no lock left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_sync_associates_a_user_hired_after_replication() {
    let stack = stack("small").await;
    succeeded(
        &stack,
        "replication",
        "replicate-1",
        &replication_input(1, 120),
    )
    .await;

    // a new agent is created in the source, like the first user
    let source = stack.connect(SOURCE_REGION).await;
    let first = source
        .list_users()
        .instance_id(INSTANCE_ID)
        .send()
        .await
        .expect("ListUsers")
        .user_summary_list()[0]
        .id()
        .expect("user ID")
        .to_string();
    let template = source
        .describe_user()
        .instance_id(INSTANCE_ID)
        .user_id(&first)
        .send()
        .await
        .expect("DescribeUser")
        .user
        .expect("user");
    let hired = source
        .create_user()
        .instance_id(INSTANCE_ID)
        .username("new.hire")
        .set_phone_config(template.phone_config().cloned())
        .set_security_profile_ids(Some(template.security_profile_ids().to_vec()))
        .routing_profile_id(template.routing_profile_id().expect("routing profile"))
        .send()
        .await
        .expect("CreateUser")
        .user_id()
        .expect("new user ID")
        .to_string();
    // it reaches the replica after the sync delay (10 simulated seconds)
    let replica = stack.connect(REPLICA_REGION).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while replica
        .describe_user()
        .instance_id(INSTANCE_ID)
        .user_id(&hired)
        .send()
        .await
        .is_err()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the new user never reached the replica"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // the scheduled sync associates exactly that user
    let sync = json!({"instanceId": format!("arn:aws:connect:{SOURCE_REGION}:123456789012:instance/{INSTANCE_ID}")});
    succeeded(&stack, "agent-sync", "sync-1", &sync).await;
    let calls = stack
        .accepted_calls("AssociateTrafficDistributionGroupUser")
        .await;
    assert_eq!(calls.len(), 51, "one call for the new hire only");
    let group = default_group(&stack.sim_state().await);
    let users: Vec<&str> = group["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(users.len(), 51);
    assert!(users.contains(&hired.as_str()), "{group:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_started_twice_for_one_instance_replicates_once() {
    let stack = stack("small").await;
    let input = replication_input(1, 120);

    // incident tooling or a person retries the start: same name, same input
    let first = stack
        .start_execution("replication", "replicate-once", &input)
        .await
        .expect("first start");
    let again = stack
        .start_execution("replication", "replicate-once", &input)
        .await;
    // and a schedule or a colleague starts another execution for the same instance
    let other = stack
        .start_execution("replication", "replicate-other", &input)
        .await
        .expect("another name starts");

    // Step Functions answers the running duplicate with the same execution
    assert_eq!(again.as_deref(), Ok(first.as_str()));
    // one of the two executions runs; the other is refused by the instance lock
    let mut ends = Vec::new();
    for arn in [&first, &other] {
        let e = stack.wait_execution(arn, LIMIT).await.expect("ends");
        ends.push((e.status.clone(), e.error.clone().unwrap_or_default()));
    }
    ends.sort();
    assert_eq!(
        ends,
        [
            ("FAILED".to_string(), "RunInProgress".to_string()),
            ("SUCCEEDED".to_string(), String::new())
        ]
    );
    // once ended, the name cannot run again
    let late = stack
        .start_execution("replication", "replicate-once", &input)
        .await;
    assert_eq!(late, Err("ExecutionAlreadyExists".to_string()));

    // Connect was asked for a replica once
    assert_eq!(stack.accepted_calls("ReplicateInstance").await.len(), 1);
    assert_eq!(
        stack
            .accepted_calls("AssociateTrafficDistributionGroupUser")
            .await
            .len(),
        50
    );
}
