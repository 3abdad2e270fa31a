//! Cross-region routing: isolated by a failover that leaves an impaired region (or asked to),
//! kept on by a planned one, restored by the failback, never touched for an instance without
//! global routing; every routing call in the region taking the traffic.

use super::*;
use acgr::domain::{Isolate, RoutingState};

/// `synced_at(100)` with the instance enabled for global routing, routing on.
async fn global() -> Ctx {
    let ctx = synced_at(100).await;
    {
        let mut w = ctx.source.world();
        let world = std::mem::take(&mut *w);
        *w = world.with_global_routing(ID);
    }
    ctx
}

fn routing_calls(ctx: &Ctx) -> Vec<(String, &'static str)> {
    ctx.source
        .world()
        .calls
        .iter()
        .filter(|c| c.operation.contains("CrossRegionRouting"))
        .map(|c| (c.region.clone(), c.operation))
        .collect()
}

fn isolated(ctx: &Ctx) -> Vec<String> {
    ctx.source.world().routing[ID].isolated_regions.clone()
}

fn with_isolate(mut input: Input, isolate: Isolate) -> Input {
    input.isolate = Some(isolate);
    input
}

#[tokio::test]
async fn a_failover_from_an_impaired_region_isolates_and_the_failback_restores() {
    let ctx = global().await;
    ctx.source.world().down.insert(EAST.into());
    let out = go(&ctx, failover("f1"), 100).await.unwrap();
    assert_eq!(live(&ctx, ARN), split(0, true));
    let routing = out.routing.clone().unwrap();
    assert_eq!(routing.isolated_all, Some(true), "{routing:?}");
    assert!(
        routing.why.contains("us-east-1 is impaired"),
        "{}",
        routing.why
    );
    assert_eq!(
        routing_calls(&ctx),
        [
            (WEST.to_string(), "GetCrossRegionRouting"),
            (WEST.to_string(), "UpdateCrossRegionRouting"),
            (WEST.to_string(), "GetCrossRegionRouting"),
        ]
    );
    assert_eq!(isolated(&ctx), [EAST, WEST]);
    assert_eq!(routing.after.unwrap().isolated_regions, [EAST, WEST]);
    // the episode keeps what routing was, written before the call
    let episode = ctx.store.routing_record(ID).await.unwrap().unwrap();
    assert_eq!(
        (episode.before.clone(), episode.isolated),
        (RoutingState::default(), true)
    );
    let writes = ctx.store.state().writes.clone();
    assert!(
        writes.contains(&"ROUTING#EPISODE".to_string()),
        "{writes:?}"
    );

    // a second failover keeps the first one's failback point
    go(&ctx, failover("f2"), 150).await.unwrap();
    assert_eq!(
        ctx.store
            .routing_record(ID)
            .await
            .unwrap()
            .unwrap()
            .opened_by,
        "f1"
    );

    ctx.source.world().down.clear();
    ctx.source.world().calls.clear();
    let back = go(&ctx, failback("b1"), 200).await.unwrap();
    assert_eq!(live(&ctx, ARN), split(100, true));
    assert!(isolated(&ctx).is_empty(), "routing back on");
    assert_eq!(back.routing.unwrap().isolated_all, Some(false));
    assert!(
        routing_calls(&ctx).iter().all(|(r, _)| r == EAST),
        "the failback's routing calls go to the region taking the traffic: {:?}",
        routing_calls(&ctx)
    );
    let closed = ctx.store.routing_record(ID).await.unwrap().unwrap();
    assert_eq!(closed.closed_by.as_deref(), Some("b1"));
    // a later failback finds nothing open: no routing call
    ctx.source.world().calls.clear();
    go(&ctx, failback("b2"), 300).await.unwrap();
    assert!(routing_calls(&ctx).is_empty(), "{:?}", routing_calls(&ctx));
}

#[tokio::test]
async fn a_planned_failover_keeps_routing_on_unless_asked_and_never_isolates_when_told_not_to() {
    let ctx = global().await;
    let out = go(&ctx, failover("f1"), 100).await.unwrap();
    let routing = out.routing.unwrap();
    assert_eq!(routing.isolated_all, None);
    assert!(routing.why.contains("answers"), "{}", routing.why);
    assert!(isolated(&ctx).is_empty());
    assert_eq!(
        routing_calls(&ctx),
        [(WEST.to_string(), "GetCrossRegionRouting")]
    );
    // recorded all the same: the failback restores what it found
    let episode = ctx.store.routing_record(ID).await.unwrap().unwrap();
    assert!(!episode.isolated && episode.before == RoutingState::default());
    go(&ctx, failback("b1"), 200).await.unwrap();

    // always: isolates with both regions up
    let out = go(&ctx, with_isolate(failover("f2"), Isolate::Always), 300)
        .await
        .unwrap();
    assert_eq!(out.routing.unwrap().isolated_all, Some(true));
    assert_eq!(isolated(&ctx), [EAST, WEST]);
    go(&ctx, failback("b2"), 400).await.unwrap();
    assert!(isolated(&ctx).is_empty());

    // never: the region left is down, routing stays on
    ctx.source.world().down.insert(EAST.into());
    let out = go(&ctx, with_isolate(failover("f3"), Isolate::Never), 500)
        .await
        .unwrap();
    assert_eq!(out.routing.unwrap().isolated_all, None);
    assert!(isolated(&ctx).is_empty());
}

#[tokio::test]
async fn an_instance_without_global_routing_gets_no_routing_call() {
    let ctx = synced_at(100).await;
    ctx.source.world().down.insert(EAST.into());
    let out = go(&ctx, with_isolate(failover("f1"), Isolate::Always), 100)
        .await
        .unwrap();
    let routing = out.routing.unwrap();
    assert!(!routing.global_routing && routing.isolated_all.is_none());
    assert!(
        routing.why.contains("not region-subdomained"),
        "{}",
        routing.why
    );
    ctx.source.world().down.clear();
    go(&ctx, failback("b1"), 200).await.unwrap();
    assert!(routing_calls(&ctx).is_empty(), "{:?}", routing_calls(&ctx));
    assert!(ctx.store.routing_record(ID).await.unwrap().is_none());
}

#[tokio::test]
async fn the_dry_run_shows_the_routing_call_and_makes_none() {
    let ctx = global().await;
    ctx.source.world().down.insert(EAST.into());
    let writes = ctx.store.state().writes.len();
    let mut input = failover("d1");
    input.dry_run = true;
    let out = go(&ctx, input, 100).await.unwrap();
    let call = out
        .calls
        .iter()
        .find(|c| c.operation == "UpdateCrossRegionRouting")
        .expect("the routing call is shown");
    assert_eq!(
        (call.region.as_str(), &call.body),
        (WEST, &serde_json::json!({"IsolatedAll": true}))
    );
    let gate = out
        .gates
        .iter()
        .find(|g| g.id == "cross-region-routing")
        .expect("the routing gate says what will happen");
    assert!(gate.ok && gate.message.contains("impaired"), "{gate:?}");
    assert!(isolated(&ctx).is_empty());
    assert!(ctx.store.routing_record(ID).await.unwrap().is_none());
    assert_eq!(ctx.store.state().writes.len(), writes, "nothing written");
}

#[tokio::test]
async fn unreadable_routing_refuses_by_name_and_force_moves_the_traffic_alone() {
    let ctx = global().await;
    ctx.replica
        .world()
        .fail_next("GetCrossRegionRouting", "AccessDeniedException", 1);
    let err = go(&ctx, failover("f1"), 100).await.unwrap_err();
    assert_eq!(err.error_type(), "Unsafe");
    assert!(err.to_string().contains("cross-region-routing"), "{err}");
    assert_eq!(live(&ctx, ARN), split(100, true), "nothing moved");

    ctx.replica
        .world()
        .fail_next("GetCrossRegionRouting", "AccessDeniedException", 1);
    let mut forced = failover("f2");
    forced.force = true;
    let out = go(&ctx, forced, 200).await.unwrap();
    assert_eq!(live(&ctx, ARN), split(0, true));
    assert_eq!(out.routing.unwrap().isolated_all, None);
    assert!(ctx.store.routing_record(ID).await.unwrap().is_none());
}

#[tokio::test]
async fn isolate_goes_with_a_failover_only() {
    let ctx = global().await;
    let writes = ctx.store.state().writes.len();
    let err = go(&ctx, with_isolate(failback("b1"), Isolate::Always), 100)
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "InvalidInput");
    assert!(
        err.to_string().contains("isolate goes with a failover"),
        "{err}"
    );
    assert_eq!(ctx.store.state().writes.len(), writes, "nothing written");
}

#[tokio::test]
async fn a_forced_failback_that_cannot_read_routing_keeps_the_episode_for_the_next() {
    let ctx = global().await;
    ctx.source.world().down.insert(EAST.into());
    go(&ctx, failover("f1"), 100).await.unwrap();
    assert_eq!(isolated(&ctx), [EAST, WEST]);
    ctx.source.world().down.clear();

    ctx.source
        .world()
        .fail_next("GetCrossRegionRouting", "AccessDeniedException", 1);
    let mut forced = failback("b1");
    forced.force = true;
    go(&ctx, forced, 200).await.unwrap();
    assert_eq!(live(&ctx, ARN), split(100, true), "the traffic is back");
    let episode = ctx.store.routing_record(ID).await.unwrap().unwrap();
    assert!(episode.is_open(), "not restored: kept open");

    // the next failback restores it and closes it
    go(&ctx, failback("b2"), 300).await.unwrap();
    assert!(isolated(&ctx).is_empty());
    let closed = ctx.store.routing_record(ID).await.unwrap().unwrap();
    assert_eq!(closed.closed_by.as_deref(), Some("b2"));
}
