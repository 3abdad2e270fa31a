//! Conflicts: recorded, resolved, blocking completion, and bounded in the output.

use super::*;

#[tokio::test]
async fn conflicts_are_upserted_then_resolved_and_block_completion() {
    let ctx = ctx("INSTANCE_REPLICATION_IN_PROGRESS");
    let input = || run("repl-1");
    replication_run(&ctx, "repl-1").await;
    drift(&ctx, Kind::Queues, 1, vec![conflict("q1", "Billing")]);
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
    let input = replication(&ctx, "repl-1").await;
    let err = poll(&ctx, input, 10).await.unwrap_err();
    assert_eq!(err.error_type(), "ResourceConflict");
    let err = poll(&ctx, run("repl-1"), 70).await.unwrap_err();
    assert_eq!(err.error_type(), "ResourceConflict", "{err}");
    let c = &ctx.store.conflicts(ID).await.unwrap()[0];
    assert_eq!((c.first_seen, c.last_seen, c.resolved), (10, 70, false));
    assert_eq!(c.replica_id.as_deref(), Some("q9"));
}

#[tokio::test]
async fn outputs_are_bounded() {
    let ctx = ctx("INSTANCE_REPLICATION_IN_PROGRESS");
    let findings: Vec<Finding> = (0..250)
        .map(|i| conflict(&format!("u{i}"), &format!("agent{i}")))
        .collect();
    drift(&ctx, Kind::Users, 250, findings);
    let input = || run("repl-1");
    replication_run(&ctx, "repl-1").await;
    let out = poll(&ctx, input(), 10).await.unwrap();
    assert_eq!(out.conflicts.len(), MAX_CONFLICTS_LISTED);
    assert_eq!(out.conflicts_total, 250);
    assert_eq!(out.kinds["users"].conflicting, 250);
    assert_eq!(ctx.store.conflicts(ID).await.unwrap().len(), 250);
    assert_eq!(
        ctx.source.world().calls_of("ListReplicationFindings").len(),
        per_poll() - 2 + 2,
        "findings in pages of 100"
    );

    set_status(&ctx, "INSTANCE_REPLICATION_COMPLETE");
    let err = poll(&ctx, input(), 20).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("250 resources"), "{message}");
    assert!(message.contains("and 240 more"), "{message}");
}
