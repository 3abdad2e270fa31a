//! An invocation stopped by its deadline or by throttling, and the next one going on.

use super::*;

#[tokio::test(start_paused = true)]
async fn a_deadline_stops_the_invocation_and_the_cursor_resumes_without_duplicates() {
    let mut ctx = ctx(1500, 1490);
    // Paced as the SDK clients are, at Connect's quota for the associations: 2/s, burst 5.
    ctx.source = ctx.source.clone().paced(Arc::new(Pacer::new(1.0)));
    ctx.replica = ctx.replica.clone().paced(Arc::new(Pacer::new(1.0)));
    let stop_at = Instant::now() + Duration::from_secs(600);
    let first = deadline::within(
        Some(stop_at),
        associate_agents(&ctx, input("run-1"), 100, Some(stop_at)),
    )
    .await
    .unwrap();
    assert!(!first.done);
    let made = count(&ctx, ASSOCIATE);
    assert!(
        (1195..=1205).contains(&made),
        "5 at once then 2/s for 600 s: {made}"
    );
    assert!(Instant::now() <= stop_at, "stopped before the deadline");
    assert_eq!(first.associated, made as u64);
    assert_eq!(
        first.cursor.as_deref(),
        Some("1000"),
        "inside the second page"
    );
    let lock = ctx.store.get_lock(ID).await.unwrap().unwrap();
    assert_eq!(lock.run_id, "run-1", "kept for the next invocation");

    let resumed = Input {
        cursor: first.cursor.clone(),
        ..input("run-1")
    };
    let out = associate_agents(&ctx, resumed, 200, None).await.unwrap();
    assert!(out.done);
    let targets = associate_targets(&ctx);
    assert_eq!(targets.len(), 1490);
    assert_unique(&targets);
    assert_eq!(
        (
            out.associated,
            out.already_associated,
            out.waiting_for_replica
        ),
        (1490, 0, 10),
        "counted once each across invocations"
    );
    assert_eq!(group_members(&ctx, DEFAULT_GROUP), 1490);
    assert!(ctx.store.get_lock(ID).await.unwrap().is_none());
}

#[tokio::test]
async fn without_a_cursor_the_stored_progress_resumes() {
    let ctx = ctx(30, 30);
    {
        let mut p = AssociationProgress {
            instance_id: ID.into(),
            run_id: "run-1".into(),
            group_arn: group_arn(DEFAULT_GROUP),
            ..Default::default()
        };
        // An earlier invocation handled the first ten users of the first page.
        p.associated = 10;
        p.page_done = (0..10).map(|n| user(n).id.unwrap()).collect();
        ctx.store.put_progress(&p).await.unwrap();
    }
    let out = associate_agents(&ctx, input("run-1"), 100, None)
        .await
        .unwrap();
    assert!(out.done);
    assert_eq!(out.associated, 30);
    assert_eq!(count(&ctx, ASSOCIATE), 20);
    assert!(!associate_targets(&ctx).contains(&"u-0003".to_string()));
}

#[tokio::test(start_paused = true)]
async fn throttling_past_the_clients_retries_ends_the_invocation_and_the_next_one_finishes() {
    let ctx = ctx(20, 20);
    // What the client returns once its own retries are spent (`acgr::connect::pace`).
    ctx.source
        .world()
        .fail_next(ASSOCIATE, "ThrottlingException", 1);
    let err = associate_agents(&ctx, input("run-1"), 100, None)
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "Throttled");
    let run = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
    assert_eq!(run.error.unwrap().error_type, "Throttled");
    assert_eq!(run.status, RunStatus::Running, "a retry is expected");
    assert_eq!(
        ctx.store.get_lock(ID).await.unwrap().unwrap().run_id,
        "run-1"
    );

    let out = associate_agents(&ctx, input("run-1"), 200, None)
        .await
        .unwrap();
    assert!(out.done);
    assert_eq!(out.associated, 20);
    assert_eq!(group_members(&ctx, DEFAULT_GROUP), 20);
}
