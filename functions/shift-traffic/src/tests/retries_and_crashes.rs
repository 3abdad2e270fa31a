//! A group that is busy or still settling, retries, and an intent left by a crash.

use super::*;

#[tokio::test]
async fn a_busy_group_is_not_ready_keeps_the_lock_and_the_retry_completes() {
    let ctx = synced_at(100).await;
    ctx.source
        .world()
        .fail_next("UpdateTrafficDistribution", "ResourceConflictException", 1);
    let err = go(&ctx, failover("f1"), 100).await.unwrap_err();
    assert_eq!(err.error_type(), "NotReady");
    let shifts = ctx.store.shifts(ID).await.unwrap();
    assert_eq!(
        shifts[0].status,
        ShiftStatus::Intent,
        "the intent is on record"
    );
    assert_eq!(
        ctx.store.get_lock(ID).await.unwrap().unwrap().run_id,
        "f1",
        "NotReady keeps the lock for the retry"
    );
    let run = ctx.store.get_run(ID, "f1").await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Running);
    let out = go(&ctx, failover("f1"), 105).await.unwrap();
    assert_eq!(out.groups[0].before, split(100, true));
    assert_eq!(
        ctx.store.shifts(ID).await.unwrap()[0].status,
        ShiftStatus::Done
    );
}

#[tokio::test]
async fn a_retry_after_the_update_was_applied_ends_shifted_without_a_second_update() {
    let ctx = synced_at(100).await;
    // the group stays UPDATE_IN_PROGRESS past the verify wait, as if the process died there
    ctx.source.world().settle_reads = 1_000;
    let err = go(&ctx, failover("f1"), 100).await.unwrap_err();
    assert_eq!(err.error_type(), "NotReady", "{err}");
    // while it settles, a retry waits (NotReady), it does not fail the run
    let err = go(&ctx, failover("f1"), 101).await.unwrap_err();
    assert_eq!(err.error_type(), "NotReady", "{err}");
    assert!(err.to_string().contains("UPDATE_IN_PROGRESS"), "{err}");
    ctx.source
        .world()
        .pending
        .values_mut()
        .for_each(|p| p.0 = 0);
    let out = go(&ctx, failover("f1"), 110).await.unwrap();
    assert!(!out.changed);
    assert_eq!(updates(&ctx).len(), 1, "applied once");
    let shifts = ctx.store.shifts(ID).await.unwrap();
    assert_eq!(shifts.len(), 1);
    assert_eq!(shifts[0].status, ShiftStatus::Done);
    assert_eq!(
        shifts[0].before,
        split(100, true),
        "the failback point of the first read"
    );
}

#[tokio::test]
async fn the_verify_wait_stops_before_the_invocations_deadline() {
    let ctx = synced_at(100).await;
    ctx.source.world().settle_reads = usize::MAX;
    let slow = Settings {
        verify_timeout: Duration::from_secs(3600),
        ..settings()
    };
    let started = std::time::Instant::now();
    let deadline = Instant::now() + Duration::from_millis(100);
    let err = shift(&ctx, &slow, failover("f1"), 100, Some(deadline))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "NotReady");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_intent_left_by_a_crash_is_settled_from_the_live_distribution_by_the_next_shift() {
    let ctx = synced_at(100).await;
    ctx.source.world().settle_reads = usize::MAX;
    go(&ctx, failover("f1"), 100).await.unwrap_err();
    // the update applies; run f1 never comes back (its execution gave up)
    ctx.source
        .world()
        .pending
        .values_mut()
        .for_each(|p| p.0 = 0);
    ctx.source.world().settle_reads = 0;
    ctx.store.release_lock(ID, "f1").await.unwrap();
    go(&ctx, failback("b1"), 200).await.unwrap();
    let shifts = ctx.store.shifts(ID).await.unwrap();
    let f1 = shifts.iter().find(|s| s.run_id == "f1").unwrap();
    assert_eq!(f1.status, ShiftStatus::Done, "moved, so recorded as moved");
    assert_eq!(f1.reconciled_by.as_deref(), Some("b1"));
    assert_eq!(live(&ctx, ARN), split(100, true));
}
