//! Failover and failback: to the recorded steady state, whatever happened in between.

use super::*;

#[tokio::test]
async fn fails_over_in_the_target_region_by_arn_then_fails_back_to_the_recorded_split() {
    let ctx = synced_at(100).await;
    let out = go(&ctx, failover("f1"), 100).await.unwrap();
    assert!(out.changed);
    assert_eq!(out.called_in, WEST);
    assert_eq!(updates(&ctx), vec![(WEST.to_string(), ARN.to_string())]);
    assert_eq!(live(&ctx, ARN), split(0, true));
    let shifts = ctx.store.shifts(ID).await.unwrap();
    assert_eq!(shifts[0].status, ShiftStatus::Done);
    assert_eq!(shifts[0].before, split(100, true));
    let writes = ctx.store.state().writes.clone();
    let at = |w: &str| writes.iter().position(|x| x == w).unwrap();
    // the intent before the call; the episode once Connect accepted the update, not before
    assert!(at("LOCK#f1") < at("SHIFT#f1#Intent"));
    assert!(at("SHIFT#f1#Intent") < at(&format!("EPISODE#{ARN}")));
    assert!(at(&format!("EPISODE#{ARN}")) < at("SHIFT#f1#Done"));
    assert!(ctx.store.get_lock(ID).await.unwrap().is_none(), "released");

    let back = go(&ctx, failback("b1"), 200).await.unwrap();
    assert_eq!(back.called_in, EAST);
    assert_eq!(live(&ctx, ARN), split(100, true));
    assert!(
        ctx.store.episode(ID, ARN).await.unwrap().is_none(),
        "closed"
    );
    // a tombstone: who closed it and when, the split it kept
    let closed = ctx.store.state().episodes.values().next().cloned().unwrap();
    assert_eq!(
        (
            closed.closed_by.as_deref(),
            closed.closed_at,
            &closed.opened_by
        ),
        (Some("b1"), Some(200), &"f1".to_string())
    );
    assert_eq!(closed.before, split(100, true));
}

#[tokio::test]
async fn a_refused_update_opens_no_episode_and_a_failback_before_the_episode_arrives_outlives_it() {
    let ctx = synced_at(70).await;
    // Connect refuses the update: nothing moved, no episode
    ctx.replica
        .world()
        .fail_next("UpdateTrafficDistribution", "InvalidRequestException", 1);
    let err = go(&ctx, failover("f1"), 100).await.unwrap_err();
    assert_eq!(err.error_type(), "Rejected", "{err}");
    assert!(ctx.store.episode(ID, ARN).await.unwrap().is_none());
    assert_eq!(live(&ctx, ARN), split(70, true));

    // a failback that runs before an episode reached this region's table leaves a tombstone;
    // the episode arriving later (older) does not reopen
    go(&ctx, failback("b1"), 200).await.unwrap();
    let tombstone = ctx.store.state().episodes.values().next().cloned().unwrap();
    assert_eq!(tombstone.closed_by.as_deref(), Some("b1"));
    assert!(ctx.store.episode(ID, ARN).await.unwrap().is_none());
}

#[tokio::test]
async fn failback_restores_the_steady_state_after_one_two_or_three_failovers() {
    for failovers in 1..=3 {
        // a 70/30 steady state, recorded by agent sync long before the incident
        let ctx = synced_at(70).await;
        for n in 0..failovers {
            let out = go(&ctx, failover(&format!("f{n}")), 100 + n).await.unwrap();
            assert_eq!(out.changed, n == 0, "only the first failover moves traffic");
        }
        assert_eq!(live(&ctx, ARN), split(0, true));
        let episode = ctx.store.episode(ID, ARN).await.unwrap().unwrap();
        assert_eq!(episode.opened_by, "f0");
        assert_eq!(episode.before, split(70, true));
        // an agent sync during the episode does not overwrite the failback point
        sync(&ctx, 10).await;

        let back = go(&ctx, failback("b"), 200).await.unwrap();
        assert_eq!(back.called_in, EAST, "where 70% of the calls go back");
        assert_eq!(
            live(&ctx, ARN),
            split(70, true),
            "after {failovers} failovers"
        );
    }
}

#[tokio::test]
async fn a_failover_lost_to_replication_lag_still_fails_back_to_the_steady_state() {
    // the table has the steady state; the failover that moved traffic was never recorded here
    let ctx = synced_at(100).await;
    ctx.source
        .world()
        .distributions
        .insert(ARN.into(), split(0, true));
    let out = go(&ctx, failover("f2"), 100).await.unwrap();
    assert!(!out.changed);
    let episode = ctx.store.episode(ID, ARN).await.unwrap().unwrap();
    assert_eq!(
        episode.before,
        split(100, true),
        "not the failed-over split"
    );
    go(&ctx, failback("b"), 200).await.unwrap();
    assert_eq!(live(&ctx, ARN), split(100, true));
}

#[tokio::test]
async fn failback_without_a_failback_point_is_refused_and_changes_nothing() {
    let ctx = ctx_at(0);
    let err = go(&ctx, failback("b0"), 50).await.unwrap_err();
    assert_eq!(err.error_type(), "InvalidInput");
    assert!(err.to_string().contains("no failback point"), "{err}");
    assert!(updates(&ctx).is_empty());
}

#[tokio::test]
async fn with_the_source_region_down_the_replica_region_alone_fails_over() {
    let ctx = synced_at(100).await;
    // every call to us-east-1 fails as a regional outage would
    ctx.source.world().down.insert(EAST.into());
    go(&ctx, failover("f1"), 100).await.unwrap();
    assert_eq!(live(&ctx, ARN), split(0, true));
    let calls = ctx.source.world().calls.clone();
    only_confirms_elsewhere(&calls);
    // at most one read that did not answer: a silent region is not asked again
    let asked = calls.iter().filter(|c| c.region == EAST).count();
    assert!(asked <= 1, "{calls:?}");
    // the source region comes back; failback goes there
    ctx.source.world().down.clear();
    go(&ctx, failback("b1"), 200).await.unwrap();
    assert_eq!(live(&ctx, ARN), split(100, true));
}

#[tokio::test]
async fn a_plan_outside_an_episode_is_the_new_steady_state_and_inside_one_is_not() {
    let ctx = synced_at(100).await;
    let seventy = Input {
        plan: Some(PlanInput {
            telephony: [(EAST.to_string(), 70), (WEST.to_string(), 30)].into(),
            agents: [(EAST.to_string(), 70), (WEST.to_string(), 30)].into(),
            sign_in: Some([(EAST.to_string(), true), (WEST.to_string(), true)].into()),
        }),
        preset: None,
        ..failover("p1")
    };
    go(&ctx, seventy, 100).await.unwrap();
    assert!(ctx.store.episode(ID, ARN).await.unwrap().is_none());
    let steady = ctx.store.groups(ID).await.unwrap()[0].steady.clone();
    let seventy_split = CurrentDistribution {
        sign_in: Some(vec![(r(EAST), true), (r(WEST), true)]),
        ..split(70, false)
    };
    assert_eq!(steady, Some(seventy_split.clone()));

    go(&ctx, failover("f1"), 200).await.unwrap();
    // during the incident, a partial step back is a plan inside the episode
    let half = Input {
        plan: Some(PlanInput {
            telephony: [(EAST.to_string(), 50), (WEST.to_string(), 50)].into(),
            agents: [(EAST.to_string(), 50), (WEST.to_string(), 50)].into(),
            sign_in: Some([(EAST.to_string(), true), (WEST.to_string(), true)].into()),
        }),
        preset: None,
        ..failover("p2")
    };
    go(&ctx, half, 300).await.unwrap();
    go(&ctx, failback("b1"), 400).await.unwrap();
    assert_eq!(live(&ctx, ARN), seventy_split, "70/30 comes back as 70/30");
}

#[tokio::test]
async fn a_failback_uses_the_episode_only_the_other_regions_table_holds_unless_closed_here_since() {
    use acgr::traffic::Episode;
    let episode = |opened_at: i64| Episode {
        instance_id: ID.into(),
        group_arn: ARN.into(),
        opened_by: "f-west".into(),
        opened_at,
        before: split(80, true),
        closed_at: None,
        closed_by: None,
    };
    // this region's table has the steady state (100/0); the other region's holds the episode
    // its failover opened from 80/20, not replicated here yet
    let mut ctx = synced_at(100).await;
    let peer = MemoryRunStore::default();
    peer.open_episode(&episode(150)).await.unwrap();
    ctx.peer = Some(acgr::Peer {
        region: r(WEST),
        store: peer,
    });
    ctx.source
        .world()
        .distributions
        .insert(ARN.into(), split(0, true));
    go(&ctx, failback("b1"), 200).await.unwrap();
    assert_eq!(live(&ctx, ARN), split(80, true), "where the traffic was");

    // a failback here closed it after that episode was opened: the other region's open one is
    // a tombstone on its way, not a failback point
    let mut ctx = synced_at(100).await;
    let peer = MemoryRunStore::default();
    peer.open_episode(&episode(150)).await.unwrap();
    ctx.peer = Some(acgr::Peer {
        region: r(WEST),
        store: peer,
    });
    ctx.store
        .close_episode(&Episode {
            closed_at: Some(160),
            closed_by: Some("b0".into()),
            ..episode(150)
        })
        .await
        .unwrap();
    ctx.source
        .world()
        .distributions
        .insert(ARN.into(), split(0, true));
    go(&ctx, failback("b2"), 200).await.unwrap();
    assert_eq!(
        live(&ctx, ARN),
        split(100, true),
        "the steady state on record"
    );
}
