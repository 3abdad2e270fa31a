//! The run table as a global table: two regional tables (each in its region's moto) kept
//! converging by the stack's replicator. A put, an update and a delete cross after the lag, not
//! before; nothing crosses to or from a region that is down; after it comes back both converge,
//! with its unreplicated writes arriving late and losing to newer writes of the other region.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use acgr_e2e::{Options, Outage, Stack, REPLICA_REGION, SOURCE_REGION, TABLE_NAME};
use aws_sdk_dynamodb::types::AttributeValue;

const LAG: Duration = Duration::from_secs(2);
const CONVERGE: Duration = Duration::from_secs(30);

async fn stack() -> Stack {
    let opts = Options::two_regions("small", 100.0).replication_lag(LAG);
    Stack::start(opts)
        .await
        .expect("the two-region stack starts")
}

async fn put(stack: &Stack, region: &str, sk: &str, data: &str) {
    stack
        .deployment(region)
        .dynamodb
        .put_item()
        .table_name(TABLE_NAME)
        .item("pk", AttributeValue::S("TEST#replication".into()))
        .item("sk", AttributeValue::S(sk.into()))
        .item("data", AttributeValue::S(data.into()))
        .send()
        .await
        .expect("put");
}

async fn delete(stack: &Stack, region: &str, sk: &str) {
    stack
        .deployment(region)
        .dynamodb
        .delete_item()
        .table_name(TABLE_NAME)
        .key("pk", AttributeValue::S("TEST#replication".into()))
        .key("sk", AttributeValue::S(sk.into()))
        .send()
        .await
        .expect("delete");
}

/// The test items of a region: sort key to data.
async fn test_items(stack: &Stack, region: &str) -> HashMap<String, String> {
    stack
        .items_in(region)
        .await
        .into_iter()
        .filter(|i| i.pk == "TEST#replication")
        .map(|i| {
            let data = i.attributes["data"].as_s().cloned().unwrap_or_default();
            (i.sk, data)
        })
        .collect()
}

/// Waits until `region` holds `sk` with `data` (None: no item); returns when it did.
async fn arrives(stack: &Stack, region: &str, sk: &str, data: Option<&str>) -> Instant {
    let deadline = Instant::now() + CONVERGE;
    loop {
        let items = test_items(stack, region).await;
        if items.get(sk).map(String::as_str) == data {
            return Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "{sk} never became {data:?} in {region}: {items:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn puts_updates_and_deletes_cross_after_the_lag_and_not_before() {
    let stack = stack().await;
    let (east, west) = (SOURCE_REGION, REPLICA_REGION);

    // a put in east appears in west after the lag, not before
    let t0 = Instant::now();
    put(&stack, east, "A", "one").await;
    while t0.elapsed() < LAG - Duration::from_millis(200) {
        assert_eq!(test_items(&stack, west).await.get("A"), None, "early");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let at = arrives(&stack, west, "A", Some("one")).await;
    assert!(at - t0 >= LAG, "arrived after {:?}", at - t0);

    // an update in west goes back to east
    let t1 = Instant::now();
    put(&stack, west, "A", "two").await;
    let at = arrives(&stack, east, "A", Some("two")).await;
    assert!(at - t1 >= LAG, "arrived after {:?}", at - t1);

    // a delete in east removes it in west
    let t2 = Instant::now();
    delete(&stack, east, "A").await;
    let at = arrives(&stack, west, "A", None).await;
    assert!(at - t2 >= LAG, "deleted after {:?}", at - t2);

    stack.wait_replicated(CONVERGE).await.expect("converged");
    assert_eq!(stack.items_in(east).await.len(), 0);
    let stats = stack.replicator().expect("replicator").stats().await;
    assert_eq!(stats.writes, 3, "{stats:?}");
    assert_eq!(stats.last_error, None, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_crosses_a_paused_region_and_both_converge_when_it_resumes() {
    let stack = stack().await;
    let (east, west) = (SOURCE_REGION, REPLICA_REGION);
    let replicator = stack.replicator().expect("replicator");

    // west is cut off from replication (its moto still answers, so both can be read)
    replicator.pause(west).await.expect("pause");
    put(&stack, east, "E", "east").await;
    put(&stack, west, "W", "west").await;
    tokio::time::sleep(LAG * 3).await;
    assert_eq!(test_items(&stack, west).await.get("E"), None);
    assert_eq!(test_items(&stack, east).await.get("W"), None);
    assert!(stack.wait_replicated(Duration::from_secs(1)).await.is_err());

    replicator.resume(west).await.expect("resume");
    stack.wait_replicated(CONVERGE).await.expect("converged");
    let items = test_items(&stack, west).await;
    assert_eq!(items.get("E").map(String::as_str), Some("east"));
    assert_eq!(items.get("W").map(String::as_str), Some("west"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_outage_stops_replication_and_late_writes_lose_to_newer_ones() {
    let stack = stack().await;
    let (east, west) = (SOURCE_REGION, REPLICA_REGION);
    let replicator = stack.replicator().expect("replicator");

    put(&stack, east, "K", "before").await;
    stack.wait_replicated(CONVERGE).await.expect("converged");

    // east writes, and goes down before those writes can have replicated
    put(&stack, east, "K", "east-late").await;
    put(&stack, east, "L", "east-late").await;
    stack
        .region_down(east, Outage::Unavailable)
        .await
        .expect("region down");
    assert_eq!(stack.deployment(east).outage(), Some(Outage::Unavailable));
    let writes = replicator.stats().await.writes;

    // west changes K during the outage, and nothing crosses
    put(&stack, west, "K", "west-during").await;
    put(&stack, west, "M", "west-during").await;
    tokio::time::sleep(LAG * 3).await;
    let items = test_items(&stack, west).await;
    assert_eq!(items.get("L"), None, "{items:?}");
    assert_eq!(replicator.stats().await.writes, writes);
    assert!(stack.wait_replicated(Duration::from_secs(1)).await.is_err());

    // east comes back: both converge; east's late L arrives, west's newer K wins
    stack.region_up(east).await.expect("region up");
    assert_eq!(stack.deployment(east).outage(), None);
    stack.wait_replicated(CONVERGE).await.expect("converged");
    let east_items = test_items(&stack, east).await;
    assert_eq!(east_items, test_items(&stack, west).await);
    let get = |k: &str| east_items.get(k).map(String::as_str);
    assert_eq!(get("K"), Some("west-during"), "{east_items:?}");
    assert_eq!(get("L"), Some("east-late"), "{east_items:?}");
    assert_eq!(get("M"), Some("west-during"), "{east_items:?}");
    let stats = replicator.stats().await;
    assert_eq!(stats.last_error, None, "{stats:?}");
}
