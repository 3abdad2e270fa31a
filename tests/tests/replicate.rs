//! `replicate` for real: the Lambda process behind `cargo lambda watch`, connect-sim, moto.

use acgr_e2e::{event, Options, Stack, INSTANCE_ID};
use serde_json::json;

async fn stack() -> Stack {
    Stack::start(Options::new("small", &["replicate"]))
        .await
        .expect("the local stack starts")
}

fn input(run_id: &str) -> serde_json::Value {
    let mut e = event("replicate", "small");
    e["runId"] = json!(run_id);
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicates_once_per_run_and_records_the_run_and_the_lock() {
    // given the small scenario and nothing replicated yet
    let mut stack = stack().await;

    // when replicate runs twice for the same run, as a Retry would
    let first = stack
        .invoke("replicate", input("run-1"))
        .await
        .expect("first");
    let second = stack
        .invoke("replicate", input("run-1"))
        .await
        .expect("second");

    // then Connect saw exactly one ReplicateInstance, and both answers agree
    let calls = stack.sim_calls(Some("ReplicateInstance")).await;
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(calls[0]["status"], 200, "{calls:#?}");
    assert_eq!(first, second);
    assert_eq!(first["adopted"], false);
    // the token: a hash of the instance, the run's machine (here none: a step run by hand) and the
    // run ID, within ReplicateInstance's 500 ASCII characters
    let token = first["clientToken"].as_str().expect("clientToken");
    assert!(
        token.starts_with("acgr-replicate-") && token.is_ascii() && token.len() <= 500,
        "{token}"
    );
    let arn = first["replicaArn"].as_str().expect("replicaArn");
    assert!(
        arn.contains(":us-west-2:") && arn.ends_with(INSTANCE_ID),
        "{arn}"
    );

    // and the table holds the run with the accepted step, and the lock for this run
    let run = stack
        .item(INSTANCE_ID, "RUN#run-1")
        .await
        .expect("RUN item");
    assert_eq!(
        run.data["steps"]["replicate"]["state"], "accepted",
        "{:#}",
        run.data
    );
    assert_eq!(run.data["steps"]["replicate"]["replicaArn"], arn);
    let lock = stack.item(INSTANCE_ID, "LOCK").await.expect("LOCK item");
    assert!(
        format!("{:?}", lock.attributes.get("runId")).contains("run-1")
            || lock.data["runId"] == "run-1",
        "lock held by run-1: {lock:#?}"
    );

    // and the sim has a replica in progress
    let state = stack.sim_state().await;
    assert!(state.to_string().contains("us-west-2"), "{state:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_is_refused_while_the_first_holds_the_lock() {
    // given run-1 has replicated and holds the instance lock
    let mut stack = stack().await;
    stack
        .invoke("replicate", input("run-1"))
        .await
        .expect("run-1");

    // when another run asks
    let err = stack
        .invoke("replicate", input("run-2"))
        .await
        .expect_err("run-2 must be refused");

    // then it is RunInProgress, and Connect was not called again
    assert_eq!(err.error_type, "RunInProgress", "{err}");
    assert_eq!(stack.sim_calls(Some("ReplicateInstance")).await.len(), 1);
    let lock = stack.item(INSTANCE_ID, "LOCK").await.expect("LOCK item");
    assert!(!format!("{lock:?}").contains("run-2"), "{lock:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_invalid_input_and_writes_nothing() {
    let mut stack = stack().await;

    let mut bad = input("run-1");
    bad["surprise"] = json!(1);
    let err = stack
        .invoke("replicate", bad)
        .await
        .expect_err("unknown field refused");

    assert_eq!(err.error_type, "InvalidInput", "{err}");
    assert!(err.error_message.contains("surprise"), "{err}");
    assert!(stack.items().await.is_empty(), "nothing written");
    assert!(stack.sim_calls(None).await.is_empty(), "Connect not called");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_event_file_runs_through_cargo_lambda_invoke() {
    let stack = stack().await;

    let out = stack
        .invoke_event_file("replicate", "small")
        .await
        .expect("cargo lambda invoke succeeds");

    assert_eq!(out["runId"], "rehearsal-1");
    assert_eq!(out["adopted"], false);
    assert_eq!(stack.sim_calls(Some("ReplicateInstance")).await.len(), 1);
}
