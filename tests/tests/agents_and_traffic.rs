//! `associate-agents` and `shift-traffic` for real, against connect-sim and moto.

use acgr_e2e::{event, Options, Stack, INSTANCE_ID};
use serde_json::{json, Value};

async fn replicated(functions: &[&str]) -> Stack {
    let mut all = vec!["replicate"];
    all.extend_from_slice(functions);
    replicated_with(Options::new("small", &all)).await
}

async fn replicated_with(opts: Options) -> Stack {
    let mut stack = Stack::start(opts).await.expect("the local stack starts");
    let mut rep = event("replicate", "small");
    rep["runId"] = json!("run-1");
    stack.invoke("replicate", rep).await.expect("replicate");
    stack
}

fn group(state: &Value) -> &Value {
    &state["trafficDistributionGroups"][0]
}

async fn successful_calls(stack: &Stack, op: &str) -> usize {
    stack.accepted_calls(op).await.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_common_user_is_associated_exactly_once_across_repeated_runs() {
    // given a replicated, fully mirrored instance
    let mut stack = replicated(&["associate-agents"]).await;
    stack.advance_clock(7200).await;
    let input = json!({"runId": "run-1", "instanceId": INSTANCE_ID});

    // when associate-agents runs to the end, then runs again
    let mut out = stack
        .invoke("associate-agents", input.clone())
        .await
        .expect("associate");
    while out["done"] != true {
        let mut next = input.clone();
        next["cursor"] = out["cursor"].clone();
        out = stack
            .invoke("associate-agents", next)
            .await
            .expect("resume");
    }
    let first = successful_calls(&stack, "AssociateTrafficDistributionGroupUser").await;
    let again = stack
        .invoke(
            "associate-agents",
            json!({"runId": "run-2", "instanceId": INSTANCE_ID}),
        )
        .await
        .expect("second run");

    // then all 50 users are in the group, each associated by one call only
    let state = stack.sim_state().await;
    assert_eq!(
        group(&state)["users"].as_array().map(Vec::len),
        Some(50),
        "{state:#}"
    );
    assert_eq!(first, 50);
    assert_eq!(
        successful_calls(&stack, "AssociateTrafficDistributionGroupUser").await,
        50,
        "no second association"
    );
    assert_eq!(again["done"], true, "{again:#}");
    let recorded = stack.items_under(INSTANCE_ID, "AGENT#").await.len();
    assert_eq!(recorded, 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traffic_fails_over_and_back_behind_its_gates() {
    let mut stack = replicated(&["shift-traffic"]).await;
    let failover = |extra: Value| {
        let mut e = event("shift-traffic", "failover");
        if let (Some(e), Some(x)) = (e.as_object_mut(), extra.as_object()) {
            e.extend(x.clone());
        }
        e
    };

    // while the replica and its groups are still being created, the shift is not ready (the
    // machine waits and retries it)
    let err = stack
        .invoke("shift-traffic", failover(json!({"force": true})))
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "NotReady", "{err}");
    assert!(err.error_message.contains("CREATION_IN_PROGRESS"), "{err}");
    // (the run keeps its lock for that retry: the next calls are retries of the same run)
    stack.advance_clock(7200).await;

    // no agent association is on record yet: refused without force
    let err = stack
        .invoke("shift-traffic", failover(json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "Unsafe", "{err}");
    assert!(err.error_message.contains("agents-associated"), "{err}");

    // an invalid plan and a dry run make no mutating call
    let err = stack
        .invoke_event_file("shift-traffic", "invalid-plan")
        .await
        .unwrap_err();
    assert!(err.contains("InvalidInput"), "{err}");
    let dry = stack
        .invoke(
            "shift-traffic",
            failover(json!({"runId": "dry", "force": true, "dryRun": true})),
        )
        .await
        .expect("dry run");
    assert_eq!(dry["calls"][0]["region"], "us-west-2");
    assert_eq!(
        stack
            .sim_calls(Some("UpdateTrafficDistribution"))
            .await
            .len(),
        0
    );

    // fail over (forced past the association gate): every group of the instance (the default
    // one and `sales`, which holds a number) moves, called in the replica region, read back
    let out = stack
        .invoke("shift-traffic", failover(json!({"force": true})))
        .await
        .expect("failover");
    assert_eq!(out["calledIn"], "us-west-2");
    assert_eq!(out["groups"].as_array().map(Vec::len), Some(2), "{out:#}");
    let state = stack.sim_state().await;
    for g in state["trafficDistributionGroups"].as_array().unwrap() {
        assert_eq!(g["telephony"]["us-west-2"], 100, "{g:#}");
    }
    assert_eq!(group(&state)["signIn"]["us-west-2"], true);

    // fail back: the distribution recorded before the failover returns
    stack
        .invoke_event_file("shift-traffic", "failback")
        .await
        .expect("failback");
    let state = stack.sim_state().await;
    assert_eq!(group(&state)["telephony"]["us-east-1"], 100, "{state:#}");
    assert_eq!(group(&state)["agents"]["us-east-1"], 100);
    assert_eq!(group(&state)["signIn"]["us-west-2"], false);
    let updates = stack.sim_calls(Some("UpdateTrafficDistribution")).await;
    let regions: Vec<&str> = updates
        .iter()
        .filter_map(|c| c["region"].as_str())
        .collect();
    assert_eq!(
        regions,
        ["us-west-2", "us-west-2", "us-east-1", "us-east-1"]
    );
    let shifts = stack.items_under(INSTANCE_ID, "SHIFT#").await.len();
    assert_eq!(shifts, 4, "one per group and shift");
    let episodes = stack.items_under(INSTANCE_ID, "EPISODE#").await;
    assert!(
        !episodes.is_empty() && episodes.iter().all(|e| e.data["closedAt"].is_i64()),
        "the failback closed the episodes (tombstones): {episodes:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_association_resumes_and_associates_nobody_twice() {
    // given every invocation stops 1.5 s into its budget (the watch gives each one 600 s)
    let opts = Options::new("small", &["replicate", "associate-agents"])
        .env("DEADLINE_MARGIN_MS", 600_000 - 1_500);
    let mut stack = replicated_with(opts).await;
    stack.advance_clock(7200).await;
    let input = json!({"runId": "run-1", "instanceId": INSTANCE_ID});

    // when the first invocation is cut short by its deadline
    let mut out = stack
        .invoke("associate-agents", input.clone())
        .await
        .expect("first invocation");
    assert_eq!(
        out["done"], false,
        "paced at 2/s, 50 users do not fit in 1.5 s: {out:#}"
    );
    let first = successful_calls(&stack, "AssociateTrafficDistributionGroupUser").await;
    assert!(
        first > 0 && first < 50,
        "{first} associated before the deadline"
    );

    // and the run is resumed from what it returned until done
    let mut invocations = 1;
    while out["done"] != true {
        let mut next = input.clone();
        next["cursor"] = out["cursor"].clone();
        out = stack
            .invoke("associate-agents", next)
            .await
            .expect("resume");
        invocations += 1;
        assert!(invocations < 60, "no progress: {out:#}");
    }

    // then each of the 50 users was associated by exactly one call, over several invocations
    assert!(invocations > 2, "{invocations} invocations");
    assert_eq!(
        successful_calls(&stack, "AssociateTrafficDistributionGroupUser").await,
        50
    );
    let state = stack.sim_state().await;
    assert_eq!(group(&state)["users"].as_array().map(Vec::len), Some(50));
    let recorded = stack.items_under(INSTANCE_ID, "AGENT#").await.len();
    assert_eq!(recorded, 50);
}
