//! poll-mirroring against connect-sim's findings of every class: prompts stored in S3 are
//! reported as not mirrored by design and block nothing, a flow invoking a Lambda function the
//! replica region lacks is a missing dependency, and neither is a name conflict.

use std::time::Duration;

use acgr_e2e::{event, replication_input, Options, Stack, INSTANCE_ID};
use serde_json::{json, Value};

fn classes(first: &Value, class: &str) -> Vec<Value> {
    first
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["class"] == class)
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_are_reported_by_class_and_only_the_missing_dependency_blocks_completion() {
    // given run-1 has replicated the findings scenario and mirroring has caught up
    let mut stack = Stack::start(Options::new("findings", &["replicate", "poll-mirroring"]))
        .await
        .expect("the local stack starts");
    let mut rep = event("replicate", "small");
    rep["runId"] = json!("run-1");
    stack.invoke("replicate", rep).await.expect("replicate");
    stack.advance_clock(7200).await;

    // when polled
    let poll = json!({"runId": "run-1", "instanceId": INSTANCE_ID});
    let out = stack
        .invoke("poll-mirroring", poll)
        .await
        .expect("a poll with findings answers");

    // then each class is counted and listed with its fix; no conflict is recorded
    let counts = &out["findings"]["counts"];
    assert_eq!(counts["nameConflict"], 0, "{out:#}");
    assert_eq!(counts["notMirrored"], 2, "{out:#}");
    assert_eq!(counts["missingDependency"], 1, "{out:#}");
    let first = &out["findings"]["first"];
    let flows = classes(first, "missingDependency");
    assert_eq!(flows[0]["name"], "Main inbound", "{first:#}");
    assert_eq!(flows[0]["referenceCode"], "LAMBDA_FUNCTION_NOT_FOUND");
    assert!(
        flows[0]["fix"]
            .as_str()
            .is_some_and(|f| f.contains("do not delete anything")),
        "{first:#}"
    );
    let prompts = classes(first, "notMirrored");
    assert!(
        prompts.iter().any(|p| p["name"] == "Hold music.wav"),
        "{first:#}"
    );
    assert_eq!(out["conflicts"], json!([]), "{out:#}");
    assert!(stack.items_under(INSTANCE_ID, "CONFLICT#").await.is_empty());

    // the prompts in S3 do not keep their kind from completing; the flow's dependency does
    assert_eq!(out["kinds"]["prompts"]["notMirrored"], 2, "{out:#}");
    assert_eq!(out["kinds"]["prompts"]["missing"], 0, "{out:#}");
    assert_eq!(out["kinds"]["contactFlows"]["missingDependencies"], 1);
    assert_eq!(out["complete"], false, "{out:#}");
    // and nothing Connect mirrors by itself is left: the run goes on instead of timing out
    assert_eq!(out["needsAction"], true, "{out:#}");
    let snapshot = stack
        .item(INSTANCE_ID, "SNAPSHOT#contactFlows")
        .await
        .expect("the flows' snapshot");
    assert_eq!(
        snapshot.data["missingDependencies"], 1,
        "{:#}",
        snapshot.data
    );
    assert_eq!(
        snapshot.data["findings"][0]["class"], "missingDependency",
        "{:#}",
        snapshot.data
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replication_held_back_by_a_missing_dependency_succeeds_and_reports_it() {
    // given the findings scenario, replicated by the machine with up to 120 polls
    let stack = Stack::start(Options::state_machines("findings", 100.0))
        .await
        .expect("the local stack starts");
    let input = replication_input(1, 120);
    let arn = stack
        .start_execution("replication", "findings-1", &input)
        .await
        .expect("StartExecution");
    let done = stack
        .wait_execution(&arn, Duration::from_secs(300))
        .await
        .expect("the execution ends");

    // then it does not poll into its timeout: it associates the agents and succeeds
    assert_eq!(done.status, "SUCCEEDED", "{done:#?}");
    assert_eq!(
        stack
            .accepted_calls("AssociateTrafficDistributionGroupUser")
            .await
            .len(),
        50
    );
    let states = stack.states_entered(&arn).await.expect("history");
    let polls = states.iter().filter(|s| *s == "PollMirroring").count();
    assert!(polls < 60, "{polls} polls");

    // and the run keeps the findings with their fixes, for the operator
    let run = stack
        .item(INSTANCE_ID, "RUN#findings-1")
        .await
        .expect("the run")
        .data;
    let poll = &run["steps"]["poll-mirroring"];
    assert_eq!(poll["needsAction"], true, "{poll:#}");
    assert_eq!(poll["complete"], false, "{poll:#}");
    assert_eq!(
        poll["findings"]["counts"]["missingDependency"], 1,
        "{poll:#}"
    );
    assert_eq!(poll["findings"]["counts"]["notMirrored"], 2, "{poll:#}");
    let flows = classes(&poll["findings"]["first"], "missingDependency");
    assert_eq!(flows[0]["name"], "Main inbound", "{poll:#}");
    assert!(stack.item(INSTANCE_ID, "LOCK").await.is_none());
}
