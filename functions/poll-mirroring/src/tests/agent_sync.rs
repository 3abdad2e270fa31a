//! An agent sync reports what blocks mirroring and goes on, so that agents are associated; a
//! replication run still fails on name conflicts.

use super::*;
use acgr::run::RunStatus;

/// A finished replication with a look-alike queue in the replica.
fn blocked_by_a_look_alike() -> Ctx {
    let ctx = ctx("INSTANCE_REPLICATION_COMPLETE");
    ctx.source.world().resources.insert(
        (WEST.into(), ID.into(), Kind::Queues),
        vec![res("q0", DEFAULT_QUEUE), res("q9", "Billing")],
    );
    drift(&ctx, Kind::Queues, 1, vec![conflict("q1", "Billing")]);
    ctx
}

#[tokio::test]
async fn an_agent_sync_reports_name_conflicts_without_failing_and_keeps_its_run() {
    // given replication finished with a name conflict
    let ctx = blocked_by_a_look_alike();

    // when the agent sync polls
    let out = poll(&ctx, run("sync-1"), 10).await.unwrap();

    // then it answers, naming what a replication run would fail with
    assert!(!out.complete);
    let blocked = out.blocked.as_deref().expect("blocked");
    assert!(blocked.contains("blocked by name conflicts"), "{blocked}");
    assert!(blocked.contains("queues 'Billing'"), "{blocked}");
    assert_eq!(out.conflicts_total, 1);
    // the ledger has it, with the look-alike to delete
    let c = &ctx.store.conflicts(ID).await.unwrap()[0];
    assert_eq!(
        (c.name.as_str(), c.replica_id.as_deref()),
        ("Billing", Some("q9"))
    );
    // the run goes on, holding the lock for the association step
    let record = ctx.store.get_run(ID, "sync-1").await.unwrap().unwrap();
    assert_eq!(record.status, RunStatus::Running);
    assert_eq!(record.steps[STEP]["blocked"].as_str(), Some(blocked));
    assert_eq!(
        ctx.store.get_lock(ID).await.unwrap().unwrap().run_id,
        "sync-1"
    );
}

#[tokio::test]
async fn a_replication_run_still_fails_on_them_and_nothing_blocks_an_agent_sync_without_them() {
    let ctx = blocked_by_a_look_alike();
    let err = poll(&ctx, replication(&ctx, "repl-1").await, 10)
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "ResourceConflict");
    let record = ctx.store.get_run(ID, "repl-1").await.unwrap().unwrap();
    assert_eq!(record.status, RunStatus::Failed);

    // Without a conflict, an agent sync reports nothing blocked.
    let ctx = self::ctx("INSTANCE_REPLICATION_COMPLETE");
    let out = poll(&ctx, run("sync-1"), 10).await.unwrap();
    assert!(out.complete && out.blocked.is_none());
    let json = serde_json::to_value(&out).unwrap();
    assert!(
        json.get("blocked").is_none(),
        "absent, for the state machine's Choice"
    );
}
