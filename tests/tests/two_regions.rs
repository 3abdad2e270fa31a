//! The failover path deployed in both regions of the pair: the source region down, the replica
//! region's deployment still runs its failover machine and its functions from its own table
//! replica, and once the source region is back both tables converge.

use std::time::{Duration, Instant};

use acgr_e2e::{Options, Outage, Stack, INSTANCE_ID, REPLICA_REGION, SOURCE_REGION, TABLE_NAME};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

const CONVERGE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replica_region_fails_over_alone_while_the_source_region_is_down() {
    let (east, west) = (SOURCE_REGION, REPLICA_REGION);
    let started = Instant::now();
    let stack = Stack::start(Options::two_regions("small", 100.0))
        .await
        .expect("the two-region stack starts");
    eprintln!(
        "two-region stack up in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    // one deployment per region, each with its own machines and functions
    assert_eq!(stack.regions(), vec![east, west]);
    assert_eq!(
        stack.machine_in(west, "failover"),
        "arn:aws:states:us-west-2:123456789012:stateMachine:failover"
    );
    assert!(stack
        .deployment(west)
        .functions()
        .iter()
        .any(|f| f == "shift-traffic"));
    assert!(!stack
        .deployment(west)
        .functions()
        .iter()
        .any(|f| f == "replicate"));
    assert_ne!(stack.deployment(east).moto, stack.deployment(west).moto);

    // an item put into east's table shows up in west's
    stack
        .dynamodb
        .put_item()
        .table_name(TABLE_NAME)
        .item("pk", AttributeValue::S("DRILL#two-regions".into()))
        .item("sk", AttributeValue::S("MARK".into()))
        .item("data", AttributeValue::S("{}".into()))
        .send()
        .await
        .expect("put in east");
    stack.wait_replicated(CONVERGE).await.expect("replicated");
    assert!(stack
        .items_in(west)
        .await
        .iter()
        .any(|i| i.pk == "DRILL#two-regions"));

    // the source region goes down
    stack
        .region_down(east, Outage::Unavailable)
        .await
        .expect("region down");
    assert_eq!(stack.deployment(east).outage(), Some(Outage::Unavailable));
    assert!(stack.wait_replicated(Duration::from_secs(1)).await.is_err());
    let refused = stack.connect(east).await.list_instances().send().await;
    assert!(
        refused.is_err(),
        "Connect in {east} answered during the outage"
    );
    let calls = stack.sim_calls(Some("ListInstances")).await;
    let last = calls.last().expect("the call is logged");
    assert_eq!(
        (last["region"].as_str(), last["status"].as_u64()),
        (Some(east), Some(503)),
        "{last}"
    );

    // west still answers: shift-traffic returns or fails as a function, it does not hang
    let dry_run = json!({
        "runId": "d1",
        "instanceId": INSTANCE_ID,
        "preset": {"failoverTo": west},
        "dryRun": true
    });
    let t = Instant::now();
    let answer = stack.invoke_in(west, "shift-traffic", dry_run).await;
    eprintln!(
        "shift-traffic in {west} answered in {:?}: {answer:?}",
        t.elapsed()
    );
    // nothing is replicated yet: the replica region has no group to move, and says so
    let err = answer.expect_err("no group before a replication");
    assert_eq!(err.error_type, "NotReady", "{err}");

    // the incident request reaches west's incident-intake, which starts west's failover machine,
    // which runs shift-traffic
    let request = json!({
        "detail-type": "acgr.failover",
        "source": "acgr.incident",
        "detail": {"requestId": "drill-1", "instanceId": INSTANCE_ID, "targetRegion": west}
    });
    let out = stack
        .invoke_in(west, "incident-intake", request)
        .await
        .expect("incident-intake in west");
    let arn = out["executionArn"]
        .as_str()
        .expect("executionArn")
        .to_string();
    assert!(
        arn.starts_with("arn:aws:states:us-west-2:123456789012:execution:failover:"),
        "{out}"
    );
    assert_eq!(out["duplicate"], false, "{out}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let d = stack.deployment(west);
    loop {
        let types = d.event_types(&arn).await.expect("history");
        let ran = types
            .iter()
            .any(|t| matches!(t.as_str(), "TaskSucceeded" | "TaskFailed"));
        if ran {
            let scheduled = d.functions_scheduled(&arn).await.expect("history");
            assert!(
                scheduled.contains(
                    &"arn:aws:lambda:us-west-2:123456789012:function:shift-traffic".to_string()
                ),
                "{scheduled:?}"
            );
            break;
        }
        let e = d.describe_execution(&arn).await.expect("describe");
        assert!(
            e.status == "RUNNING" && Instant::now() < deadline,
            "shift-traffic never ran: {e:?} {types:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // the source region comes back: its deployment answers again, and both tables converge
    stack.region_up(east).await.expect("region up");
    assert_eq!(stack.deployment(east).outage(), None);
    let answer = stack
        .invoke_in(
            east,
            "poll-mirroring",
            json!({"runId": "after-outage", "instanceId": INSTANCE_ID}),
        )
        .await;
    eprintln!("poll-mirroring in {east} after the outage: {answer:?}");
    let err = answer.expect_err("nothing replicated: not ready");
    assert_eq!(err.error_type, "NotReady", "{err}");
    stack.wait_replicated(CONVERGE).await.expect("converged");
    let (e, w) = (stack.items_in(east).await, stack.items_in(west).await);
    let keys = |items: &[acgr_e2e::Item]| -> Vec<(String, String)> {
        items.iter().map(|i| (i.pk.clone(), i.sk.clone())).collect()
    };
    assert_eq!(keys(&e), keys(&w));
    assert!(
        e.iter().any(|i| i.pk == "DRILL#two-regions"),
        "{:?}",
        keys(&e)
    );
}
