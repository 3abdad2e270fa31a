//! A shift-traffic process killed (SIGKILL) right after Connect accepted its
//! UpdateTrafficDistribution, before it recorded the outcome: the failover machine's retry (a new
//! process, as Lambda starts a new environment) settles the recorded intent from the live
//! distribution, and the execution ends Shifted without a second update.

use std::time::{Duration, Instant};

use acgr_e2e::{replication_input, Options, Stack, INSTANCE_ID, REPLICA_REGION, SOURCE_REGION};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shift_killed_after_its_update_ends_shifted_and_recorded_as_moved() {
    let stack = Stack::start(Options::state_machines("small", 100.0))
        .await
        .expect("the local stack starts");
    let replication = replication_input(1, 120);
    let arn = stack
        .start_execution("replication", "replicate-1", &replication)
        .await
        .expect("start");
    let e = stack
        .wait_execution(&arn, Duration::from_secs(180))
        .await
        .expect("replication ends");
    assert_eq!(e.status, "SUCCEEDED", "{e:?}");

    // when the failover's update is accepted, its process dies
    let failover = json!({"instanceId": INSTANCE_ID, "targetRegion": REPLICA_REGION});
    let arn = stack
        .start_execution("failover", "failover-crash", &failover)
        .await
        .expect("start");
    let deadline = Instant::now() + Duration::from_secs(60);
    while stack
        .accepted_calls("UpdateTrafficDistribution")
        .await
        .is_empty()
    {
        assert!(Instant::now() < deadline, "no update was accepted");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stack
        .crash_function(SOURCE_REGION, "shift-traffic")
        .await
        .expect("SIGKILL");
    let killed_at = stack
        .accepted_calls("UpdateTrafficDistribution")
        .await
        .len();

    // then the machine's retry finishes the run: Shifted, intents recorded Done, no update again
    let e = stack
        .wait_execution(&arn, Duration::from_secs(300))
        .await
        .expect("the failover ends");
    assert_eq!(e.status, "SUCCEEDED", "{e:?}");
    let events = stack
        .deployment(SOURCE_REGION)
        .event_types(&arn)
        .await
        .expect("history");
    let failed = events.iter().filter(|t| t.ends_with("Failed")).count();
    assert!(
        failed >= 1,
        "the killed invocation failed and was retried: {events:?}"
    );
    let updates = stack.accepted_calls("UpdateTrafficDistribution").await;
    assert!(killed_at >= 1);
    assert_eq!(
        updates.len(),
        2,
        "one update per group, none repeated: {updates:#?}"
    );
    let shifts = stack.items_under(INSTANCE_ID, "SHIFT#").await;
    assert_eq!(shifts.len(), 2, "{shifts:#?}");
    for s in &shifts {
        assert_eq!(s.data["status"], "done", "{:#}", s.data);
    }
    let state = stack.sim_state().await;
    for g in state["trafficDistributionGroups"].as_array().unwrap() {
        assert_eq!(g["telephony"][REPLICA_REGION], 100, "{g:#}");
    }
    assert!(
        stack.item(INSTANCE_ID, "LOCK").await.is_none(),
        "no lock left"
    );
}
