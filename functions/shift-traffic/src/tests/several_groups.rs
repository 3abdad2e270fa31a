//! Several traffic distribution groups: all move, one that cannot is named, and the groups on
//! record are reached when listing fails.

use super::*;

#[tokio::test]
async fn every_group_moves_and_a_group_that_cannot_move_is_named() {
    let ctx = synced_at(100).await;
    {
        let mut w = ctx.source.world();
        w.groups
            .push((EAST.into(), WEST.into(), group("g2", SALES, "sales", false)));
        w.distributions.insert(SALES.into(), split(100, false));
    }
    sync(&ctx, 10).await;
    let out = go(&ctx, failover("f1"), 100).await.unwrap();
    assert_eq!(out.groups.len(), 2);
    assert_eq!(
        live(&ctx, SALES),
        split(0, false),
        "no sign-in on a custom group"
    );
    assert_eq!(live(&ctx, ARN), split(0, true));
    go(&ctx, failback("b1"), 200).await.unwrap();
    assert_eq!(live(&ctx, SALES), split(100, false));
    assert_eq!(live(&ctx, ARN), split(100, true));

    // a group that cannot move: refused, naming it, nothing moves
    ctx.source.world().groups.iter_mut().for_each(|(_, _, g)| {
        if g.arn == SALES {
            g.status = "DELETION_FAILED".into();
        }
    });
    let before = updates(&ctx).len();
    let err = go(&ctx, failover("f2"), 300).await.unwrap_err();
    assert_eq!(err.error_type(), "Unsafe");
    assert!(err.to_string().contains("sales"), "{err}");
    assert_eq!(updates(&ctx).len(), before);
    // named groups move alone
    let out = go(
        &ctx,
        Input {
            traffic_distribution_groups: Some(vec![ARN.into()]),
            ..failover("f3")
        },
        300,
    )
    .await
    .unwrap();
    assert_eq!(out.groups.len(), 1);
}

#[tokio::test]
async fn a_group_being_created_or_updated_is_not_ready() {
    for status in ["CREATION_IN_PROGRESS", "UPDATE_IN_PROGRESS"] {
        let ctx = synced_at(100).await;
        ctx.source.world().groups[0].2.status = status.into();
        let err = go(&ctx, failover("f1"), 100).await.unwrap_err();
        assert_eq!(err.error_type(), "NotReady", "{status}");
        assert!(updates(&ctx).is_empty());
    }
}

#[tokio::test]
async fn the_groups_on_record_are_reached_by_arn_when_listing_fails() {
    let ctx = synced_at(100).await;
    ctx.source.world().fail_next(
        "ListTrafficDistributionGroups",
        "InternalServiceException",
        1,
    );
    go(&ctx, failover("f1"), 100).await.unwrap();
    assert_eq!(live(&ctx, ARN), split(0, true));
    let described = ctx
        .source
        .world()
        .calls_of("DescribeTrafficDistributionGroup")[0]
        .clone();
    assert_eq!(
        (described.region.as_str(), described.target.as_str()),
        (WEST, ARN)
    );

    // without anything on record, a listing failure is the step's error (retried)
    let bare = ctx_at(100);
    bare.source.world().fail_next(
        "ListTrafficDistributionGroups",
        "InternalServiceException",
        1,
    );
    let err = go(
        &bare,
        Input {
            force: true,
            ..failover("f2")
        },
        100,
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "Transient");
}
