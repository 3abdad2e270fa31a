//! The instance lock, breaking it, and changes made by someone else meanwhile.

use super::*;

#[tokio::test]
async fn a_stale_retry_refuses_to_reapply_over_a_newer_shift() {
    let ctx = synced_at(100).await;
    ctx.source
        .world()
        .fail_next("UpdateTrafficDistribution", "ResourceConflictException", 1);
    go(&ctx, failover("f1"), 100).await.unwrap_err();
    // an operator breaks the lock and applies another plan meanwhile
    let newer = Input {
        plan: Some(PlanInput {
            telephony: [(EAST.to_string(), 50), (WEST.to_string(), 50)].into(),
            agents: [(EAST.to_string(), 50), (WEST.to_string(), 50)].into(),
            sign_in: Some([(EAST.to_string(), true), (WEST.to_string(), true)].into()),
        }),
        preset: None,
        break_lock: true,
        reason: Some("incident 42: split while f1 is stuck".into()),
        ..failover("p1")
    };
    go(&ctx, newer, 150).await.unwrap();
    ctx.store.release_lock(ID, "p1").await.unwrap();
    let err = go(&ctx, failover("f1"), 160).await.unwrap_err();
    assert_eq!(err.error_type(), "Unsafe");
    assert!(err.to_string().contains("p1"), "{err}");
    assert_eq!(live(&ctx, ARN).telephony, split(50, false).telephony);
}

#[tokio::test]
async fn the_lock_comes_before_any_read_and_break_lock_takes_it_with_a_reason() {
    let ctx = synced_at(100).await;
    let other = acgr::run::Lock::new(ID, "other", RunKind::Failover, 900, 90);
    ctx.store.acquire_lock(&other, 90).await.unwrap();
    let err = go(&ctx, failover("f1"), 100).await.unwrap_err();
    assert_eq!(err.error_type(), "RunInProgress");
    assert!(
        ctx.source.world().calls.is_empty(),
        "nothing read without the lock"
    );

    let out = go(
        &ctx,
        Input {
            break_lock: true,
            reason: Some("the holder's region is down".into()),
            ..failover("f2")
        },
        100,
    )
    .await
    .unwrap();
    assert!(out.changed);
    let run = ctx.store.get_run(ID, "f2").await.unwrap().unwrap();
    assert_eq!(run.inputs["breakLock"], "the holder's region is down");
    let writes = ctx.store.state().writes.clone();
    assert!(writes.contains(&"LOCK#f2#broken".to_string()), "{writes:?}");
}

#[tokio::test]
async fn a_split_moved_by_someone_else_after_the_read_is_not_overwritten() {
    let ctx = synced_at(100).await;
    // the other region's deployment moves it between our read under the lock and our update
    ctx.source
        .world()
        .moved_after_reads
        .insert(ARN.into(), (1, split(50, true)));
    let err = go(&ctx, failover("f1"), 100).await.unwrap_err();
    assert_eq!(err.error_type(), "Unsafe", "{err}");
    assert!(updates(&ctx).is_empty());
    assert_eq!(
        ctx.store.shifts(ID).await.unwrap()[0].status,
        ShiftStatus::Abandoned
    );
}

#[tokio::test]
async fn a_request_made_before_another_shift_completed_is_refused_not_applied_over_it() {
    let ctx = synced_at(100).await;
    // two requests made together (requestedAt); the first gets the lock and completes now
    // (its completion is stamped with the wall clock's milliseconds)
    let at = |t: &str| Some(t.to_string());
    let together = "1970-01-01T00:01:40Z";
    go(
        &ctx,
        Input {
            requested_at: at(together),
            ..failover("first")
        },
        150,
    )
    .await
    .unwrap();
    ctx.store.release_lock(ID, "first").await.unwrap();
    // (one world holds both regions' calls)
    let updates = |ctx: &Ctx| {
        ctx.source
            .world()
            .calls
            .iter()
            .filter(|c| c.operation == "UpdateTrafficDistribution")
            .count()
    };
    let before = updates(&ctx);

    // the second, requested before the first completed, would move traffic it never saw
    let half = Input {
        plan: Some(PlanInput {
            telephony: [(EAST.to_string(), 50), (WEST.to_string(), 50)].into(),
            agents: [(EAST.to_string(), 50), (WEST.to_string(), 50)].into(),
            sign_in: Some([(EAST.to_string(), true), (WEST.to_string(), true)].into()),
        }),
        preset: None,
        requested_at: at(together),
        ..failover("second")
    };
    let err = go(&ctx, half, 160).await.unwrap_err();
    assert_eq!(err.error_type(), "Unsafe", "{err}");
    assert!(err.to_string().contains("first"), "{err}");
    assert_eq!(updates(&ctx), before, "nothing moved");

    // a request made after it goes ahead
    let failback = Input {
        preset: Some(Preset::Named("failback".into())),
        requested_at: at("2999-01-01T00:00:00Z"),
        ..failover("third")
    };
    go(&ctx, failback, 200).await.unwrap();
    assert!(updates(&ctx) > before);
}

#[tokio::test]
async fn a_shift_lock_the_other_region_released_is_taken_one_it_holds_is_not() {
    use acgr::run::Lock;
    let lock = Lock {
        machine: Some("arn:aws:states:us-west-2:1:stateMachine:failover".into()),
        ..Lock::new(ID, "INC-west", RunKind::Failover, 900, 100)
    };
    // the failover ran in us-west-2 and released its lock there; its lock replicated here, its
    // release not yet
    let mut ctx = synced_at(100).await;
    ctx.source
        .world()
        .distributions
        .insert(ARN.into(), split(0, true));
    ctx.store.acquire_lock(&lock, 100).await.unwrap();
    ctx.peer = Some(acgr::Peer {
        region: r(WEST),
        store: MemoryRunStore::default(),
    });
    go(&ctx, failback("b1"), 200).await.unwrap();
    assert_eq!(live(&ctx, ARN), split(100, true));

    // while us-west-2 still holds it, the failover there is running: refused as before
    let mut ctx = synced_at(100).await;
    ctx.source
        .world()
        .distributions
        .insert(ARN.into(), split(0, true));
    ctx.store.acquire_lock(&lock, 100).await.unwrap();
    let peer = MemoryRunStore::default();
    peer.acquire_lock(&lock, 100).await.unwrap();
    ctx.peer = Some(acgr::Peer {
        region: r(WEST),
        store: peer,
    });
    let err = go(&ctx, failback("b2"), 200).await.unwrap_err();
    assert_eq!(err.error_type(), "RunInProgress", "{err}");
}
