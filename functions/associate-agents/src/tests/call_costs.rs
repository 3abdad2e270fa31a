//! What a sync costs in calls, with the associations already on record.

use super::*;

/// `n` users of the source recorded as associated with the default group by an earlier run.
async fn known(ctx: &Context<FakeConnect, MemoryRunStore>, n: usize) {
    let known: Vec<Association> = (0..n)
        .map(|i| Association {
            instance_id: ID.into(),
            group_arn: group_arn(DEFAULT_GROUP),
            user_id: user(i).id.unwrap(),
            username: user(i).name,
            run_id: "run-0".into(),
            at: 1,
        })
        .collect();
    ctx.store.put_associations(&known).await.unwrap();
}

#[tokio::test]
async fn a_sync_of_10000_agents_and_20_new_hires_costs_two_listings_by_the_thousand() {
    // given 10,000 agents associated by an earlier run, and 20 new hires mirrored since
    let ctx = ctx(10_000, 10_000);
    known(&ctx, 10_000).await;
    for n in 10_000..10_020 {
        hire(&ctx, n, &[EAST, WEST]);
    }

    // when the agent sync associates
    let out = associate_agents(&ctx, input("sync-1"), 200, None)
        .await
        .unwrap();

    // then one call per new hire, and each region's users listed once in pages of 1000
    assert!(out.done);
    assert_eq!((out.associated, out.already_associated), (20, 10_000));
    let w = ctx.source.world();
    let source_pages = w.calls_of("ListUsers").len();
    let replica_pages = w.calls_of("ListResources").len();
    assert_eq!((source_pages, replica_pages), (11, 11), "10,020 users");
    assert_eq!(w.calls_of(ASSOCIATE).len(), 20);
    let total = w.calls.len();
    assert_eq!(
        total,
        1 + 11 + 11 + 20 + 2,
        "the group, both listings, the hires, the steady state: {:?}",
        w.calls
            .iter()
            .map(|c| c.operation)
            .collect::<std::collections::BTreeSet<_>>()
    );
    assert!(total <= 2 * 10_000usize.div_ceil(1000) + 20 + 10);
}

#[tokio::test]
async fn a_sync_with_nobody_new_does_not_list_the_replica() {
    let ctx = ctx(10_000, 10_000);
    known(&ctx, 10_000).await;
    let out = associate_agents(&ctx, input("sync-1"), 200, None)
        .await
        .unwrap();
    assert!(out.done);
    assert_eq!(out.already_associated, 10_000);
    let w = ctx.source.world();
    assert_eq!(w.calls_of("ListUsers").len(), 10);
    assert!(w.calls_of("ListResources").is_empty());
    assert_eq!(w.calls.len(), 1 + 10 + 2);
}

#[tokio::test]
async fn a_new_hire_costs_one_associate_call_and_two_listings() {
    let ctx = ctx(250, 250);
    associate_agents(&ctx, input("run-1"), 100, None)
        .await
        .unwrap();
    hire(&ctx, 250, &[EAST, WEST]);
    ctx.source.world().calls.clear();

    let out = associate_agents(&ctx, input("sync-1"), 200, None)
        .await
        .unwrap();
    assert_eq!((out.associated, out.already_associated), (1, 250));
    assert_eq!(associate_targets(&ctx), vec!["u-0250".to_string()]);
    let groups = ctx.store.groups(ID).await.unwrap();
    assert_eq!(groups.len(), 1, "the steady state is on record");
    assert_eq!(
        (groups[0].agents_associated, groups[0].agents_total),
        (251, 251)
    );
    assert!(groups[0].steady.is_some());
    let w = ctx.source.world();
    let replica_listings: Vec<_> = w
        .calls
        .iter()
        .filter(|c| c.operation == "ListResources")
        .collect();
    assert_eq!(replica_listings.len(), 1);
    assert_eq!(replica_listings[0].region, WEST);
    let source_pages = w.calls_of("ListUsers");
    assert_eq!(source_pages.len(), 1, "251 users in one page of 1000");
    assert!(source_pages.iter().all(|c| c.region == EAST));
    assert_eq!(
        w.calls.len(),
        1 + 1 + 1 + 1 + 2,
        "groups, source page, replica listing, one association, then the steady state \
         (groups, one distribution): {:?}",
        w.calls
    );
}
