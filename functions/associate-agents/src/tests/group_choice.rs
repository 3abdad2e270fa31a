//! Which group the agents join: the default, a named one by ID or ARN, and the ones refused.

use super::*;

#[tokio::test]
async fn a_named_custom_group_is_used_by_id_or_by_arn() {
    let ctx = ctx(12, 12);
    ctx.source.world().groups.push((
        EAST.into(),
        WEST.into(),
        group(CUSTOM_GROUP, ID, "ACTIVE", false),
    ));
    let by_id = Input {
        traffic_distribution_group: Some(CUSTOM_GROUP.into()),
        ..input("run-1")
    };
    let out = associate_agents(&ctx, by_id, 100, None).await.unwrap();
    assert_eq!(out.group_arn, group_arn(CUSTOM_GROUP));
    assert_eq!(group_members(&ctx, CUSTOM_GROUP), 12);
    assert_eq!(group_members(&ctx, DEFAULT_GROUP), 0);
    assert!(ctx
        .source
        .world()
        .calls_of(ASSOCIATE)
        .iter()
        .all(|c| c.region == EAST));

    // Associations are per group: the default group still gets everyone.
    let out = associate_agents(&ctx, input("run-2"), 200, None)
        .await
        .unwrap();
    assert_eq!(out.associated, 12);
    assert_eq!(group_members(&ctx, DEFAULT_GROUP), 12);

    // By ARN, the custom group's users are already known.
    let by_arn = Input {
        traffic_distribution_group: Some(group_arn(CUSTOM_GROUP)),
        ..input("run-3")
    };
    let before = count(&ctx, ASSOCIATE);
    let out = associate_agents(&ctx, by_arn, 300, None).await.unwrap();
    assert_eq!(out.already_associated, 12);
    assert_eq!(count(&ctx, ASSOCIATE), before);
}

#[tokio::test]
async fn a_group_of_another_instance_is_refused() {
    let ctx = ctx(5, 5);
    ctx.source.world().groups.push((
        EAST.into(),
        WEST.into(),
        group(CUSTOM_GROUP, "another-instance", "ACTIVE", false),
    ));
    let other = Input {
        traffic_distribution_group: Some(CUSTOM_GROUP.into()),
        ..input("run-1")
    };
    let err = associate_agents(&ctx, other, 100, None).await.unwrap_err();
    assert_eq!(err.error_type(), "InvalidInput");
    assert!(err.to_string().contains("another-instance"));
    assert_eq!(count(&ctx, ASSOCIATE), 0);
    assert!(ctx.store.get_lock(ID).await.unwrap().is_none(), "released");
    assert!(ctx.store.state().associations.is_empty());
}

#[tokio::test]
async fn a_group_that_is_not_active_is_waited_for_unless_no_wait_can_make_it_active() {
    for (status, error) in [
        ("CREATION_IN_PROGRESS", "NotReady"),
        ("UPDATE_IN_PROGRESS", "NotReady"),
        ("PENDING_DELETION", "Rejected"),
        ("CREATION_FAILED", "Rejected"),
        ("DELETION_FAILED", "Rejected"),
    ] {
        let ctx = ctx(5, 5);
        ctx.source.world().groups[0].2.status = status.into();
        let err = associate_agents(&ctx, input("run-1"), 100, None)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), error, "{status}");
        assert!(err.to_string().contains(status));
        assert_eq!(count(&ctx, ASSOCIATE), 0);
        assert!(ctx.store.state().progress.is_empty());
        let run = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
        assert_eq!(run.error.unwrap().error_type, error);
    }
    let ctx = ctx(5, 5);
    ctx.source.world().groups.clear();
    let err = associate_agents(&ctx, input("run-1"), 100, None)
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "NotReady", "no default group yet");
}
