//! `replicate` then `poll-mirroring` for real, with the simulated clock moved forward between polls.

use acgr_e2e::{event, Options, Stack, INSTANCE_ID};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mirroring_is_reported_incomplete_then_complete_once_the_replica_has_caught_up() {
    // given run-1 has asked for a replica of the small instance
    let mut stack = Stack::start(Options::new("small", &["replicate", "poll-mirroring"]))
        .await
        .expect("the local stack starts");
    let mut rep = event("replicate", "small");
    rep["runId"] = json!("run-1");
    stack.invoke("replicate", rep).await.expect("replicate");
    let poll = json!({"runId": "run-1", "instanceId": INSTANCE_ID});

    // when polled at once, the replica is still being created
    match stack.invoke("poll-mirroring", poll.clone()).await {
        Ok(out) => assert_eq!(out["complete"], false, "{out:#}"),
        Err(e) => assert_eq!(e.error_type, "NotReady", "{e}"),
    }

    // when two simulated hours pass (creation, then mirroring at one resource a second)
    stack.advance_clock(7200).await;
    let out = stack
        .invoke("poll-mirroring", poll)
        .await
        .expect("poll after catching up");

    // then every kind is mirrored, emergency access is ready and nothing conflicts
    assert_eq!(out["complete"], true, "{out:#}");
    assert_eq!(out["emergencyAccessReady"], true, "{out:#}");
    assert_eq!(out["conflicts"], json!([]), "{out:#}");
    let snapshots = stack.items_under(INSTANCE_ID, "SNAPSHOT#").await;
    assert!(!snapshots.is_empty(), "snapshots recorded");
    assert_eq!(snapshots.len(), 12, "one per mirrored kind");
    let users = snapshots
        .iter()
        .find(|i| i.sk == "SNAPSHOT#users")
        .expect("users snapshot");
    assert_eq!(
        (
            &users.data["source"],
            &users.data["replica"],
            &users.data["missing"]
        ),
        (&json!(50), &json!(50), &json!(0)),
        "{:#}",
        users.data
    );
}
