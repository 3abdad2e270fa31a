//! Unit tests of poll-mirroring over the in-memory Connect and run store.

use super::*;
use acgr::connect::fake::{FakeConnect, FakeWorld};
use acgr::connect::{Finding, Findings, ResourceSummary};
use acgr::store::memory::MemoryRunStore;

/// The instance of the shipped scenarios and example events.
const ID: &str = "4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10";
const EAST: &str = "us-east-1";
const WEST: &str = "us-west-2";

fn res(id: &str, name: &str) -> ResourceSummary {
    ResourceSummary {
        id: Some(id.into()),
        name: name.into(),
    }
}

fn ctx(status: &str) -> Context<FakeConnect, MemoryRunStore> {
    let users = [res("u1", "ann"), res("u2", "bob")];
    FakeWorld::replicated(ID, EAST, WEST, status)
        .with_everywhere(
            ID,
            Kind::Queues,
            &[res("q0", DEFAULT_QUEUE), res("q1", "Billing")],
        )
        .with_everywhere(
            ID,
            Kind::RoutingProfiles,
            &[res("rp0", DEFAULT_ROUTING_PROFILE)],
        )
        .with_everywhere(ID, Kind::Users, &users)
        .context(EAST, WEST)
        .unwrap()
}

fn input() -> Input {
    Input {
        header: Header::new("run-1", ID),
    }
}

fn drift(ctx: &Context<FakeConnect, MemoryRunStore>, kind: Kind, n: i64, findings: Vec<Finding>) {
    ctx.source.world().findings.insert(
        (ID.into(), kind),
        Findings {
            findings,
            drift: vec![(EAST.into(), 0), (WEST.into(), n)],
            statuses: vec![],
        },
    );
}

#[tokio::test]
async fn in_progress_polls_cost_the_same_whatever_the_size() {
    let ctx = ctx("INSTANCE_REPLICATION_IN_PROGRESS");
    drift(&ctx, Kind::Users, 2, vec![]);
    let out = poll(&ctx, input(), 10).await.unwrap();
    assert!(!out.complete);
    assert!(!out.listed);
    assert_eq!(out.kinds["users"].missing, 2);
    let calls = ctx.source.world().calls.len();
    // 2 DescribeInstance, 12 findings, 2 emergency-access listings.
    assert_eq!(calls, 16);
    // Ten times the users: the same number of calls.
    let many: Vec<ResourceSummary> = (0..2000)
        .map(|i| res(&format!("u{i}"), &format!("agent{i}")))
        .collect();
    ctx.source
        .world()
        .resources
        .insert((EAST.into(), ID.into(), Kind::Users), many);
    ctx.source.world().calls.clear();
    poll(&ctx, input(), 20).await.unwrap();
    assert_eq!(
        ctx.source.world().calls.len(),
        14,
        "emergency access is remembered once ready"
    );
}

#[tokio::test]
async fn completion_is_confirmed_by_a_full_listing_diff() {
    let ctx = ctx("INSTANCE_REPLICATION_COMPLETE");
    let out = poll(&ctx, input(), 10).await.unwrap();
    assert!(out.complete && out.listed && out.emergency_access_ready);
    assert_eq!(out.kinds["users"].source, Some(2));
    assert_eq!(out.kinds["users"].replica, Some(2));
    let snaps = ctx.store.snapshots(ID).await.unwrap();
    assert_eq!(snaps.len(), 12);
    let run = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
    assert_eq!(run.steps[STEP]["complete"], true);
}

#[tokio::test]
async fn the_listing_diff_catches_what_the_counts_missed() {
    let ctx = ctx("INSTANCE_REPLICATION_COMPLETE");
    ctx.source.world().resources.insert(
        (WEST.into(), ID.into(), Kind::Users),
        vec![res("u1", "ann")],
    );
    let out = poll(&ctx, input(), 10).await.unwrap();
    assert!(out.listed && !out.complete);
    assert_eq!(out.kinds["users"].missing, 1);
}

#[tokio::test]
async fn conflicts_are_upserted_then_resolved_and_block_completion() {
    let ctx = ctx("INSTANCE_REPLICATION_IN_PROGRESS");
    let billing = Finding {
        id: "q1".into(),
        name: Some("Billing".into()),
        region: Some(WEST.into()),
        message: None,
    };
    drift(&ctx, Kind::Queues, 1, vec![billing.clone()]);
    let out = poll(&ctx, input(), 10).await.unwrap();
    assert_eq!(out.conflicts.len(), 1);
    assert_eq!(out.kinds["queues"].conflicting, 1);
    assert_eq!(
        out.kinds["queues"].missing, 0,
        "a blocked resource is conflicting, not missing"
    );

    // Once replication says complete with the conflict still there: ResourceConflict, and
    // the full diff names the look-alike's ID in the replica (the one to delete).
    for i in ctx.source.world().instances.values_mut() {
        for s in &mut i.replication.as_mut().unwrap().statuses {
            s.status = "INSTANCE_REPLICATION_COMPLETE".into();
        }
    }
    let queues = |region: &str| (region.to_string(), ID.to_string(), Kind::Queues);
    {
        let mut world = ctx.source.world();
        world
            .resources
            .entry(queues(EAST))
            .or_default()
            .push(res("q1", "Billing"));
        world
            .resources
            .entry(queues(WEST))
            .or_default()
            .push(res("q9", "Billing"));
    }
    let err = poll(&ctx, input(), 20).await.unwrap_err();
    assert_eq!(err.error_type(), "ResourceConflict");
    assert!(err.to_string().contains("Billing"));
    let c = &ctx.store.conflicts(ID).await.unwrap()[0];
    assert_eq!((c.first_seen, c.last_seen, c.resolved), (10, 20, false));
    assert_eq!(c.replica_id.as_deref(), Some("q9"));
    assert_eq!(
        ctx.store.conflicts(ID).await.unwrap().len(),
        1,
        "one record per name"
    );

    // The look-alike is deleted and the queue mirrored: resolved, and the poll completes.
    {
        let mut world = ctx.source.world();
        let west = world.resources.entry(queues(WEST)).or_default();
        west.retain(|r| r.id.as_deref() != Some("q9"));
        west.push(res("q1", "Billing"));
    }
    drift(&ctx, Kind::Queues, 0, vec![]);
    let out = poll(&ctx, input(), 30).await.unwrap();
    assert!(out.complete);
    let c = &ctx.store.conflicts(ID).await.unwrap()[0];
    assert!(c.resolved);
    assert_eq!(c.resolved_at, Some(30));
}

#[tokio::test]
async fn a_replica_without_its_defaults_has_no_emergency_access_yet() {
    let ctx = ctx("INSTANCE_REPLICATION_IN_PROGRESS");
    ctx.source
        .world()
        .resources
        .remove(&(WEST.into(), ID.into(), Kind::RoutingProfiles));
    let out = poll(&ctx, input(), 10).await.unwrap();
    assert!(!out.emergency_access_ready);
}

#[tokio::test]
async fn an_unreplicated_instance_is_not_ready_and_bad_input_is_refused() {
    let ctx = ctx("INSTANCE_REPLICATION_IN_PROGRESS");
    ctx.source
        .world()
        .instances
        .get_mut(&(EAST.into(), ID.into()))
        .unwrap()
        .replication = None;
    let err = poll(&ctx, input(), 10).await.unwrap_err();
    assert_eq!(err.error_type(), "NotReady");
    let err = poll(
        &ctx,
        Input {
            header: Header::new("x y", ID),
        },
        10,
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "InvalidInput");
}

#[tokio::test]
async fn the_handler_runs_the_example_event() {
    let ctx = ctx("INSTANCE_REPLICATION_COMPLETE");
    let path = format!(
        "{}/../../tests/events/poll-mirroring/small.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let out = handler(&ctx, LambdaEvent::new(event, Default::default()))
        .await
        .unwrap();
    assert!(out.complete);
    let run = ctx.store.get_run(ID, "rehearsal-1").await.unwrap().unwrap();
    assert_eq!(run.steps[STEP]["complete"], true);
    let err = handler(
        &ctx,
        LambdaEvent::new(serde_json::json!({"runId": 1}), Default::default()),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type, "InvalidInput");
}
