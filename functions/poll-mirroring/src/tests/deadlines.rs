//! The invocation's deadline bounds the findings and the listing diff at Connect's quotas.

use super::*;
use std::sync::Arc;
use std::time::Duration;

use acgr::connect::pace::Pacer;
use acgr::run::handler as deadline;
use tokio::time::Instant;

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
