//! What a poll costs whatever the instance's size, and when emergency access is ready.

use super::*;

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
    // DescribeInstance in each region, the findings of every type, and the emergency check once.
    let n = per_poll();
    assert_eq!(cost, [(n + 2, 2 * n), (n + 2, 2 * n)], "{n} (+ 2) a poll");
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
    assert_eq!(calls(&ctx), 3 * per_poll());

    // Once the findings say queues are mirrored: one check, remembered.
    drift(&ctx, Kind::Queues, 0, vec![]);
    let out = poll(&ctx, input(), 190).await.unwrap();
    assert!(out.emergency_access_ready);
    assert_eq!(out.emergency_checked_at, Some(190));
    assert_eq!(listings(&ctx).len(), 2);
    clear_calls(&ctx);
    poll(&ctx, input(), 250).await.unwrap();
    assert_eq!(calls(&ctx), per_poll());
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
