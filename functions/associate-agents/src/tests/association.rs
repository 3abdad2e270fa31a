//! Each agent in both regions associated once, in the source region; a second run; agents not
//! yet in the replica.

use super::*;

#[tokio::test]
async fn every_user_in_both_regions_is_associated_once_in_the_source_region() {
    let ctx = ctx(150, 150);
    let out = associate_agents(&ctx, input("run-1"), 100, None)
        .await
        .unwrap();
    assert!(out.done);
    assert_eq!(out.cursor, None);
    assert_eq!(out.group_arn, group_arn(DEFAULT_GROUP));
    assert_eq!(
        (
            out.associated,
            out.already_associated,
            out.waiting_for_replica
        ),
        (150, 0, 0)
    );
    assert!(out.failed.is_empty());
    let calls = ctx.source.world().calls_of(ASSOCIATE).len();
    assert_eq!(calls, 150);
    assert!(ctx
        .source
        .world()
        .calls_of(ASSOCIATE)
        .iter()
        .all(|c| c.region == EAST));
    assert_unique(&associate_targets(&ctx));
    assert_eq!(group_members(&ctx, DEFAULT_GROUP), 150);
    assert_eq!(
        ctx.store
            .associations(ID, &group_arn(DEFAULT_GROUP))
            .await
            .unwrap()
            .len(),
        150
    );

    let progress = ctx.store.get_progress(ID, "run-1").await.unwrap().unwrap();
    assert!(progress.done);
    assert!(ctx.store.get_lock(ID).await.unwrap().is_none(), "released");
    let run = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
    assert_eq!(run.kind, RunKind::AgentSync);
    assert_eq!(run.steps[STEP]["associated"], 150);
    assert_eq!(run.steps[STEP]["done"], true);

    // Intent before action: the progress is written before the first association.
    let writes = ctx.store.state().writes.clone();
    let first_progress = writes.iter().position(|w| w.starts_with("PROGRESS#"));
    let first_agent = writes.iter().position(|w| w.starts_with("AGENT#"));
    assert!(first_progress < first_agent, "{writes:?}");
}

#[tokio::test]
async fn a_second_run_makes_no_associate_call() {
    let ctx = ctx(120, 120);
    associate_agents(&ctx, input("run-1"), 100, None)
        .await
        .unwrap();
    let before = count(&ctx, ASSOCIATE);
    let out = associate_agents(&ctx, input("run-2"), 200, None)
        .await
        .unwrap();
    assert_eq!(
        count(&ctx, ASSOCIATE),
        before,
        "nothing changed, nothing called"
    );
    assert!(out.done);
    assert_eq!((out.associated, out.already_associated), (0, 120));

    // The same run asked again starts a new pass: it costs listings, not associations.
    let out = associate_agents(&ctx, input("run-2"), 300, None)
        .await
        .unwrap();
    assert_eq!(count(&ctx, ASSOCIATE), before);
    assert_eq!((out.associated, out.already_associated), (0, 120));
}

#[tokio::test]
async fn users_only_in_the_source_wait_for_the_replica_and_are_not_failed() {
    let ctx = ctx(50, 47);
    let out = associate_agents(&ctx, input("run-1"), 100, None)
        .await
        .unwrap();
    assert!(out.done);
    assert_eq!((out.associated, out.waiting_for_replica), (47, 3));
    assert!(out.failed.is_empty());
    assert_eq!(count(&ctx, ASSOCIATE), 47, "no call for users not mirrored");
    assert_eq!(group_members(&ctx, DEFAULT_GROUP), 47);

    // Once mirrored, a later run picks them up.
    {
        let mut w = ctx.source.world();
        let all = w.users(EAST, ID).to_vec();
        w.resources
            .insert((WEST.into(), ID.into(), Kind::Users), all);
    }
    let out = associate_agents(&ctx, input("run-2"), 200, None)
        .await
        .unwrap();
    assert_eq!((out.associated, out.already_associated), (3, 47));
    assert_eq!(group_members(&ctx, DEFAULT_GROUP), 50);
}
