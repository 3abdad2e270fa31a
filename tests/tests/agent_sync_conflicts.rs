//! The agent-sync machine while a name conflict blocks mirroring: the agents are associated
//! first, then the execution fails with `ResourceConflict` (what `AgentSyncFailedAlarm` counts).

use std::time::Duration;

use acgr_e2e::{replication_input, Options, Stack, INSTANCE_ID};
use serde_json::json;

const TIME_SCALE: f64 = 100.0;
const LIMIT: Duration = Duration::from_secs(240);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_sync_associates_agents_then_fails_on_the_name_conflict() {
    // given a replication that ended on the conflict scenario's look-alike queue
    let stack = Stack::start(Options::state_machines("conflict", TIME_SCALE))
        .await
        .expect("the local stack starts");
    let replication = replication_input(1, 120);
    let arn = stack
        .start_execution("replication", "conflict-1", &replication)
        .await
        .expect("StartExecution replication");
    let first = stack
        .wait_execution(&arn, LIMIT)
        .await
        .expect("replication");
    assert_eq!(
        first.error.as_deref(),
        Some("ResourceConflict"),
        "{first:#?}"
    );
    let before = stack
        .accepted_calls("AssociateTrafficDistributionGroupUser")
        .await
        .len();
    assert_eq!(before, 0, "the replication run stops before its agents");

    // when the scheduled agent sync runs
    let arn = stack
        .start_execution("agent-sync", "sync-1", &json!({"instanceId": INSTANCE_ID}))
        .await
        .expect("StartExecution agent-sync");
    let sync = stack.wait_execution(&arn, LIMIT).await.expect("agent-sync");

    // then it fails on the conflict, by name, for the alarm
    assert_eq!(sync.status, "FAILED", "{sync:#?}");
    assert_eq!(sync.error.as_deref(), Some("ResourceConflict"), "{sync:#?}");
    let cause = sync.cause.as_deref().unwrap_or("");
    assert!(cause.contains("queues 'Billing'"), "{sync:#?}");

    // but only after the association step ran to the end
    let run = stack
        .item(INSTANCE_ID, "RUN#sync-1")
        .await
        .expect("the run is recorded")
        .data;
    let agents = &run["steps"]["associate-agents"];
    assert_eq!(agents["done"], true, "{run:#}");
    let associated = agents["associated"].as_u64().unwrap_or(0);
    let calls = stack
        .accepted_calls("AssociateTrafficDistributionGroupUser")
        .await
        .len() as u64;
    assert_eq!(calls, associated, "{agents:#}");
    assert!(
        associated > 0,
        "new hires are associated despite the conflict: {agents:#}"
    );
    assert_eq!(
        associated + agents["waitingForReplica"].as_u64().unwrap_or(0),
        50,
        "every user of the scenario is associated or waits for the replica: {agents:#}"
    );
    assert!(
        run["steps"]["poll-mirroring"]["blocked"].is_string(),
        "{run:#}"
    );
    assert!(
        stack.item(INSTANCE_ID, "LOCK").await.is_none(),
        "no lock left"
    );
}
