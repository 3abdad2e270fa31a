//! Completion confirmed by a listing diff, and when the listing is made again.

use super::*;

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
    assert_eq!(calls(&ctx), per_poll());
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
    assert_eq!(calls(&ctx), per_poll());

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
    assert_eq!(calls(&ctx), per_poll());
    assert_eq!(out.kinds["users"].source, Some(10_000));
    end(&ctx, "sync-1").await;

    // New hires drift: not complete, still nothing listed.
    drift(&ctx, Kind::Users, 20, vec![]);
    clear_calls(&ctx);
    let out = poll(&ctx, run("sync-2"), 7200).await.unwrap();
    assert!(!out.complete && !out.listed);
    assert_eq!(out.kinds["users"].missing, 20);
    assert_eq!(calls(&ctx), per_poll());
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
    assert_eq!(calls(&ctx), per_poll());
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
async fn a_failed_replication_or_replica_fails_the_run_by_name_at_once() {
    use acgr::connect::InstanceStatus;
    use acgr::run::RunStatus;

    // replication failed: the status and its reason
    let failed = ctx("INSTANCE_REPLICATION_FAILED");
    for i in failed.source.world().instances.values_mut() {
        for s in &mut i.replication.as_mut().unwrap().statuses {
            s.reason = Some("the replica region's instance quota is reached".into());
        }
    }
    let err = poll(&failed, input(), 10).await.unwrap_err();
    assert_eq!(err.error_type(), "ReplicationFailed", "{err}");
    let message = err.to_string();
    assert!(
        message.contains("INSTANCE_REPLICATION_FAILED in us-")
            && message.contains("instance quota is reached"),
        "{message}"
    );
    let run = failed.store.get_run(ID, "run-1").await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert!(failed.store.get_lock(ID).await.unwrap().is_none());

    // the replica instance could not be created
    let stillborn = ctx("INSTANCE_REPLICATION_IN_PROGRESS");
    {
        let mut w = stillborn.source.world();
        let replica = w.instances.get_mut(&(WEST.into(), ID.into())).unwrap();
        replica.status = Some(InstanceStatus::CreationFailed);
        replica.status_reason = Some("the alias is taken".into());
    }
    let err = poll(&stillborn, input(), 10).await.unwrap_err();
    assert_eq!(err.error_type(), "ReplicationFailed", "{err}");
    assert!(
        err.to_string()
            .contains("CREATION_FAILED: the alias is taken"),
        "{err}"
    );

    // a replica being deleted is waited for (the run and its lock stay); a failed deletion fails
    let deleting = ctx("INSTANCE_REPLICA_DELETING");
    let err = poll(&deleting, input(), 10).await.unwrap_err();
    assert_eq!(err.error_type(), "NotReady", "{err}");
    assert!(deleting.store.get_lock(ID).await.unwrap().is_some());
    let stuck = ctx("INSTANCE_REPLICATION_DELETION_FAILED");
    let err = poll(&stuck, input(), 10).await.unwrap_err();
    assert_eq!(err.error_type(), "ReplicaDeletionFailed", "{err}");
}
