//! Unit tests of poll-mirroring over the in-memory Connect and run store.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use acgr::connect::fake::{FakeConnect, FakeWorld};
use acgr::connect::{Finding, Findings, ResourceSummary};
use acgr::deadline;
use acgr::domain::{Kind, DEFAULT_QUEUE, DEFAULT_ROUTING_PROFILE};
use acgr::pace::Pacer;
use acgr::runs::begin_step;
use acgr::store::memory::MemoryRunStore;
use tokio::time::Instant;

/// The instance of the shipped scenarios and example events.
const ID: &str = "4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10";
const EAST: &str = "us-east-1";
const WEST: &str = "us-west-2";
const LIST: &str = "ListResources";

type Ctx = Context<FakeConnect, MemoryRunStore>;

fn res(id: &str, name: &str) -> ResourceSummary {
    ResourceSummary {
        id: Some(id.into()),
        name: name.into(),
    }
}

fn users(n: usize) -> Vec<ResourceSummary> {
    (0..n)
        .map(|i| res(&format!("u{i}"), &format!("agent{i}")))
        .collect()
}

/// An instance replicated with `status`, its `n` users, two queues and the default routing
/// profile in both regions.
fn world(status: &str, n: usize) -> Ctx {
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
        .with_everywhere(ID, Kind::Users, &users(n))
        .context(EAST, WEST)
        .unwrap()
}

fn ctx(status: &str) -> Ctx {
    world(status, 2)
}

fn input() -> Input {
    run("run-1")
}

fn run(id: &str) -> Input {
    Input {
        header: Header::new(id, ID),
    }
}

/// A replication run (begun by an earlier step), not an agent sync.
async fn replication_run(ctx: &Ctx, id: &str) {
    begin_step(
        &ctx.store,
        ID,
        id,
        RunKind::Replication,
        "replicate",
        Value::Null,
        None,
        1,
    )
    .await
    .unwrap();
}

/// The run ends (the association step would release the lock).
async fn end(ctx: &Ctx, run_id: &str) {
    ctx.store.release_lock(ID, run_id).await.unwrap();
}

fn drift(ctx: &Ctx, kind: Kind, n: i64, findings: Vec<Finding>) {
    ctx.source.world().findings.insert(
        (ID.into(), kind),
        Findings {
            findings,
            drift: vec![(EAST.into(), 0), (WEST.into(), n)],
            statuses: vec![],
        },
    );
}

fn set_status(ctx: &Ctx, status: &str) {
    for i in ctx.source.world().instances.values_mut() {
        for s in &mut i.replication.as_mut().unwrap().statuses {
            s.status = status.into();
        }
    }
}

fn calls(ctx: &Ctx) -> usize {
    ctx.source.world().calls.len()
}

/// Listing pages made, per kind key.
fn listings(ctx: &Ctx) -> Vec<String> {
    ctx.source
        .world()
        .calls_of(LIST)
        .iter()
        .map(|c| format!("{}:{}", c.region, c.target))
        .collect()
}

fn clear_calls(ctx: &Ctx) {
    ctx.source.world().calls.clear();
}

#[tokio::test]
async fn a_poll_costs_the_same_at_50_and_at_10000_users() {
    // given mirroring in progress, users still drifting, in a small and in a large instance
    let mut cost = Vec::new();
    for n in [50, 10_000] {
        let ctx = world("INSTANCE_REPLICATION_IN_PROGRESS", n);
        drift(&ctx, Kind::Users, 3, vec![]);

        // when polled three times
        let first = poll(&ctx, input(), 10).await.unwrap();
        let first_calls = calls(&ctx);
        assert_eq!(
            listings(&ctx),
            [format!("{WEST}:queues"), format!("{WEST}:routingProfiles")],
            "emergency access: the replica's queues and routing profiles, once"
        );
        clear_calls(&ctx);
        poll(&ctx, input(), 70).await.unwrap();
        poll(&ctx, input(), 130).await.unwrap();

        // then nothing is listed after the first, and nothing depends on the size
        assert!(!first.complete && !first.listed && !first.partial);
        assert!(first.emergency_access_ready);
        assert_eq!(first.kinds["users"].missing, 3);
        assert!(listings(&ctx).is_empty(), "{:?}", ctx.source.world().calls);
        cost.push((first_calls, calls(&ctx)));
    }
    // DescribeInstance in each region, 12 findings, and the emergency check once.
    assert_eq!(cost, [(16, 28), (16, 28)], "2 + 12 (+ 2) a poll");
}

#[tokio::test]
async fn emergency_access_is_not_listed_while_its_kinds_drift() {
    let ctx = ctx("INSTANCE_REPLICATION_IN_PROGRESS");
    drift(&ctx, Kind::Queues, 40, vec![]);
    for t in [10, 70, 130] {
        let out = poll(&ctx, input(), t).await.unwrap();
        assert!(!out.emergency_access_ready);
    }
    assert!(listings(&ctx).is_empty());
    assert_eq!(calls(&ctx), 3 * 14);

    // Once the findings say queues are mirrored: one check, remembered.
    drift(&ctx, Kind::Queues, 0, vec![]);
    let out = poll(&ctx, input(), 190).await.unwrap();
    assert!(out.emergency_access_ready);
    assert_eq!(out.emergency_checked_at, Some(190));
    assert_eq!(listings(&ctx).len(), 2);
    clear_calls(&ctx);
    poll(&ctx, input(), 250).await.unwrap();
    assert_eq!(calls(&ctx), 14);
}

#[tokio::test]
async fn a_replica_without_its_defaults_has_no_emergency_access_yet_and_is_asked_again_later() {
    let ctx = ctx("INSTANCE_REPLICATION_IN_PROGRESS");
    ctx.source
        .world()
        .resources
        .remove(&(WEST.into(), ID.into(), Kind::RoutingProfiles));
    let out = poll(&ctx, input(), 10).await.unwrap();
    assert!(!out.emergency_access_ready);
    assert_eq!(listings(&ctx).len(), 2);

    // Not on every poll: again once RELIST_AFTER_SECONDS have passed.
    clear_calls(&ctx);
    poll(&ctx, input(), 70).await.unwrap();
    assert!(listings(&ctx).is_empty());
    ctx.source.world().resources.insert(
        (WEST.into(), ID.into(), Kind::RoutingProfiles),
        vec![res("rp0", DEFAULT_ROUTING_PROFILE)],
    );
    let out = poll(&ctx, input(), 10 + RELIST_AFTER_SECONDS)
        .await
        .unwrap();
    assert!(out.emergency_access_ready);
    assert_eq!(listings(&ctx).len(), 2);
}

#[tokio::test]
async fn completion_is_confirmed_by_one_listing_diff() {
    let ctx = ctx("INSTANCE_REPLICATION_COMPLETE");
    let out = poll(&ctx, input(), 10).await.unwrap();
    assert!(out.complete && out.listed && out.emergency_access_ready);
    assert_eq!(out.listed_at, Some(10));
    assert_eq!(out.kinds["users"].source, Some(2));
    assert_eq!(out.kinds["users"].replica, Some(2));
    assert_eq!(
        listings(&ctx).len(),
        24,
        "every kind in both regions, and emergency access from the same listings"
    );
    let snaps = ctx.store.snapshots(ID).await.unwrap();
    assert_eq!(snaps.len(), 12);
    let run = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
    assert_eq!(run.steps[STEP]["complete"], true);

    // Polled again in the same run: the confirmation stands while the signals stay clear.
    clear_calls(&ctx);
    let out = poll(&ctx, input(), 70).await.unwrap();
    assert!(out.complete && !out.listed);
    assert_eq!(calls(&ctx), 14);
}

#[tokio::test]
async fn the_listing_diff_catches_what_the_counts_missed_and_only_that_kind_is_listed_again() {
    let ctx = ctx("INSTANCE_REPLICATION_COMPLETE");
    ctx.source.world().resources.insert(
        (WEST.into(), ID.into(), Kind::Users),
        vec![res("u0", "agent0")],
    );
    let out = poll(&ctx, input(), 10).await.unwrap();
    assert!(out.listed && !out.complete);
    assert_eq!(out.kinds["users"].missing, 1);
    assert_eq!(out.kinds["queues"].source, Some(2));

    // Not on every poll.
    clear_calls(&ctx);
    let out = poll(&ctx, input(), 70).await.unwrap();
    assert!(!out.listed && !out.complete);
    assert_eq!(out.kinds["users"].missing, 1, "the listing's word stands");
    assert_eq!(calls(&ctx), 14);

    // Then only the kind that disagreed, once RELIST_AFTER_SECONDS have passed.
    ctx.source
        .world()
        .resources
        .insert((WEST.into(), ID.into(), Kind::Users), users(2));
    let out = poll(&ctx, input(), 10 + RELIST_AFTER_SECONDS)
        .await
        .unwrap();
    assert!(out.listed && out.complete);
    assert_eq!(
        listings(&ctx),
        [format!("{EAST}:users"), format!("{WEST}:users")]
    );
}

#[tokio::test]
async fn an_agent_sync_of_a_replica_recorded_complete_lists_nothing_until_the_signals_move() {
    // given a replication run that confirmed completion, at 10,000 users
    let ctx = world("INSTANCE_REPLICATION_COMPLETE", 10_000);
    replication_run(&ctx, "repl-1").await;
    let out = poll(&ctx, run("repl-1"), 10).await.unwrap();
    assert!(out.complete && out.listed);
    assert_eq!(
        listings(&ctx).len(),
        2 * (10 + 11),
        "users in pages of 1000, every other kind in one page"
    );

    end(&ctx, "repl-1").await;

    // when the hourly agent syncs poll
    clear_calls(&ctx);
    let out = poll(&ctx, run("sync-1"), 3600).await.unwrap();

    // then the record is trusted: complete, emergency access ready, no listing
    assert!(out.complete && !out.listed && out.emergency_access_ready);
    assert_eq!(calls(&ctx), 14);
    assert_eq!(out.kinds["users"].source, Some(10_000));
    end(&ctx, "sync-1").await;

    // New hires drift: not complete, still nothing listed.
    drift(&ctx, Kind::Users, 20, vec![]);
    clear_calls(&ctx);
    let out = poll(&ctx, run("sync-2"), 7200).await.unwrap();
    assert!(!out.complete && !out.listed);
    assert_eq!(out.kinds["users"].missing, 20);
    assert_eq!(calls(&ctx), 14);
    end(&ctx, "sync-2").await;

    // Mirrored: the kind that moved is listed once to confirm, and only that one.
    drift(&ctx, Kind::Users, 0, vec![]);
    clear_calls(&ctx);
    let out = poll(&ctx, run("sync-3"), 10_800).await.unwrap();
    assert!(out.complete && out.listed);
    assert_eq!(listings(&ctx).len(), 2 * 10);
    assert!(listings(&ctx).iter().all(|l| l.ends_with(":users")));
    end(&ctx, "sync-3").await;
    clear_calls(&ctx);
    poll(&ctx, run("sync-4"), 14_400).await.unwrap();
    assert_eq!(calls(&ctx), 14);
}

#[tokio::test]
async fn a_replication_run_confirms_with_its_own_listing() {
    let ctx = ctx("INSTANCE_REPLICATION_COMPLETE");
    poll(&ctx, run("repl-0"), 10).await.unwrap();
    end(&ctx, "repl-0").await;
    replication_run(&ctx, "repl-1").await;
    clear_calls(&ctx);
    let out = poll(&ctx, run("repl-1"), 20).await.unwrap();
    assert!(out.complete && out.listed);
    assert_eq!(listings(&ctx).len(), 24);
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
    // the listing diff names the look-alike's ID in the replica (the one to delete).
    set_status(&ctx, "INSTANCE_REPLICATION_COMPLETE");
    let queues = |region: &str| (region.to_string(), ID.to_string(), Kind::Queues);
    {
        let mut world = ctx.source.world();
        world
            .resources
            .entry(queues(WEST))
            .or_default()
            .retain(|r| r.name != "Billing");
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

    // The look-alike is deleted and the queue mirrored: resolved at the next listing, and the
    // poll completes.
    {
        let mut world = ctx.source.world();
        let west = world.resources.entry(queues(WEST)).or_default();
        west.retain(|r| r.id.as_deref() != Some("q9"));
        west.push(res("q1", "Billing"));
    }
    drift(&ctx, Kind::Queues, 0, vec![]);
    let later = 20 + RELIST_AFTER_SECONDS;
    let out = poll(&ctx, input(), later).await.unwrap();
    assert!(out.complete);
    let c = &ctx.store.conflicts(ID).await.unwrap()[0];
    assert!(c.resolved);
    assert_eq!(c.resolved_at, Some(later));
}

#[tokio::test]
async fn a_conflict_only_the_listing_saw_stands_between_listings() {
    let ctx = ctx("INSTANCE_REPLICATION_COMPLETE");
    ctx.source.world().resources.insert(
        (WEST.into(), ID.into(), Kind::Queues),
        vec![res("q0", DEFAULT_QUEUE), res("q9", "Billing")],
    );
    let err = poll(&ctx, input(), 10).await.unwrap_err();
    assert_eq!(err.error_type(), "ResourceConflict");
    let err = poll(&ctx, input(), 70).await.unwrap_err();
    assert_eq!(err.error_type(), "ResourceConflict", "{err}");
    let c = &ctx.store.conflicts(ID).await.unwrap()[0];
    assert_eq!((c.first_seen, c.last_seen, c.resolved), (10, 70, false));
    assert_eq!(c.replica_id.as_deref(), Some("q9"));
}

#[tokio::test]
async fn outputs_are_bounded() {
    let ctx = ctx("INSTANCE_REPLICATION_IN_PROGRESS");
    let findings: Vec<Finding> = (0..250)
        .map(|i| Finding {
            id: format!("u{i}"),
            name: Some(format!("agent{i}")),
            region: Some(WEST.into()),
            message: None,
        })
        .collect();
    drift(&ctx, Kind::Users, 250, findings);
    let out = poll(&ctx, input(), 10).await.unwrap();
    assert_eq!(out.conflicts.len(), MAX_CONFLICTS_LISTED);
    assert_eq!(out.conflicts_total, 250);
    assert_eq!(out.kinds["users"].conflicting, 250);
    assert_eq!(ctx.store.conflicts(ID).await.unwrap().len(), 250);
    assert_eq!(
        ctx.source.world().calls_of("ListReplicationFindings").len(),
        12 + 2,
        "findings in pages of 100"
    );

    set_status(&ctx, "INSTANCE_REPLICATION_COMPLETE");
    let err = poll(&ctx, input(), 20).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("250 resources"), "{message}");
    assert!(message.contains("and 240 more"), "{message}");
}

/// Both regions' clients paced at Connect's quotas, as the SDK clients are.
fn paced(mut ctx: Ctx) -> Ctx {
    ctx.source = ctx.source.clone().paced(Arc::new(Pacer::new(1.0)));
    ctx.replica = ctx.replica.clone().paced(Arc::new(Pacer::new(1.0)));
    ctx
}

#[tokio::test(start_paused = true)]
async fn the_deadline_bounds_the_findings_and_what_was_measured_is_returned() {
    let ctx = paced(ctx("INSTANCE_REPLICATION_IN_PROGRESS"));
    drift(&ctx, Kind::Users, 3, vec![]);
    // ListReplicationFindings: 5 at once, then 2/s; the 8th would come at 1.5 s.
    let stop_at = Instant::now() + Duration::from_millis(1200);
    let out = deadline::within(Some(stop_at), poll(&ctx, input(), 10))
        .await
        .unwrap();
    assert!(out.partial && !out.complete);
    assert_eq!(out.kinds.len(), 7);
    assert_eq!(ctx.store.snapshots(ID).await.unwrap().len(), 7);
    assert!(Instant::now() <= stop_at);

    // The next poll measures the rest.
    let out = poll(&ctx, input(), 70).await.unwrap();
    assert!(!out.partial);
    assert_eq!(out.kinds.len(), 12);
    assert_eq!(out.kinds["users"].missing, 3);

    // Nothing measured at all: an error to retry.
    let ctx = paced(self::ctx("INSTANCE_REPLICATION_IN_PROGRESS"));
    let stop_at = Instant::now();
    tokio::time::advance(Duration::from_millis(1)).await;
    let err = deadline::within(Some(stop_at), poll(&ctx, input(), 10))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "Transient");
}

#[tokio::test(start_paused = true)]
async fn the_deadline_bounds_the_listing_diff_and_the_next_poll_lists_only_the_rest() {
    let ctx = paced(world("INSTANCE_REPLICATION_COMPLETE", 10_000));
    // The findings take 3.5 s (2/s after a burst of 5); then every kind's listing fits in its
    // burst but the users' (10 pages a region at 10/s after 5): cut at 3.75 s.
    let stop_at = Instant::now() + Duration::from_millis(3750);
    let out = deadline::within(Some(stop_at), poll(&ctx, input(), 10))
        .await
        .unwrap();
    assert!(out.partial && out.listed && !out.complete);
    let confirmed: Vec<&String> = out
        .kinds
        .iter()
        .filter(|(_, k)| k.confirmed())
        .map(|(key, _)| key)
        .collect();
    assert_eq!(confirmed.len(), 11, "all but users: {:#?}", out.kinds);
    assert!(out.emergency_access_ready, "from the listings it made");
    assert!(Instant::now() <= stop_at);

    // The next poll lists only the kind it did not reach.
    clear_calls(&ctx);
    let out = poll(&ctx, input(), 20).await.unwrap();
    assert!(out.complete && !out.partial);
    assert_eq!(listings(&ctx).len(), 2 * 10, "users only");
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
