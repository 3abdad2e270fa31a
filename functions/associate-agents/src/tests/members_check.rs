//! Association records are not trusted for ever: once a day the group's members are listed, and
//! a user recorded as associated but not among them is associated again.

use super::*;

const LIST_MEMBERS: &str = "ListTrafficDistributionGroupUsers";

const DAY: i64 = acgr::agents::members::CHECK_EVERY_SECONDS;

/// Someone disassociates users outside the tool.
fn disassociate(ctx: &Context<FakeConnect, MemoryRunStore>, ids: &[&str]) {
    let mut w = ctx.source.world();
    let members = w.group_users.get_mut(&group_arn(DEFAULT_GROUP)).unwrap();
    for id in ids {
        assert!(members.remove(*id), "{id} was a member");
    }
}

fn checked_at(groups: &[acgr::traffic::GroupRecord]) -> Option<i64> {
    groups[0].members_checked_at
}

#[tokio::test]
async fn a_user_recorded_as_associated_but_not_in_the_group_is_associated_again() {
    // given 250 agents associated by a replication run, and one of them disassociated by hand
    let ctx = ctx(250, 250);
    associate_agents(&ctx, input("run-1"), 100, None)
        .await
        .unwrap();
    disassociate(&ctx, &["u-0007"]);
    ctx.source.world().calls.clear();

    // when the hourly syncs run: within a day of the records nothing is listed, nobody called
    let out = associate_agents(&ctx, input("sync-1"), 100 + 3600, None)
        .await
        .unwrap();
    assert_eq!((out.associated, out.already_associated), (0, 250));
    assert!(out.members_check.is_none());
    assert_eq!((count(&ctx, LIST_MEMBERS), count(&ctx, ASSOCIATE)), (0, 0));

    // a day after them, the sync checks the group's members first
    let day_later = 100 + DAY;
    let out = associate_agents(&ctx, input("sync-2"), day_later, None)
        .await
        .unwrap();

    // then the stale record is found, and that user associated again, and only that one
    assert!(out.done);
    let check = out.members_check.clone().expect("a members check");
    assert!(check.done);
    assert_eq!((check.members, check.confirmed, check.stale), (249, 249, 1));
    assert_eq!(associate_targets(&ctx), ["u-0007"]);
    assert_eq!(
        (out.associated, out.reassociated, out.already_associated),
        (1, 1, 249)
    );
    assert_eq!(group_members(&ctx, DEFAULT_GROUP), 250);
    // its cost: 25 pages of 10 at 2/s, about 13 seconds at the quota
    assert_eq!(count(&ctx, LIST_MEMBERS), 25);
    assert_eq!((check.pages, check.seconds_at_quota), (25, 13));
    // recorded on the group, for the next runs
    let groups = ctx.store.groups(ID).await.unwrap();
    assert_eq!(checked_at(&groups), Some(day_later));
    assert_eq!(groups[0].agents_associated, 250);
    let records = ctx
        .store
        .associations(ID, &group_arn(DEFAULT_GROUP))
        .await
        .unwrap();
    assert!(
        records.iter().all(|a| a.at == day_later),
        "confirmed or associated again by the check's run"
    );

    // An hour later: not due again.
    ctx.source.world().calls.clear();
    let out = associate_agents(&ctx, input("sync-3"), day_later + 3600, None)
        .await
        .unwrap();
    assert!(out.members_check.is_none());
    assert_eq!((count(&ctx, LIST_MEMBERS), count(&ctx, ASSOCIATE)), (0, 0));

    // A day after the check: checked again, and all are members.
    let out = associate_agents(&ctx, input("sync-4"), day_later + DAY, None)
        .await
        .unwrap();
    assert_eq!(out.members_check.unwrap().stale, 0);
    assert_eq!(count(&ctx, LIST_MEMBERS), 25);
    assert_eq!(count(&ctx, ASSOCIATE), 0);
}

#[tokio::test]
async fn a_stale_user_no_longer_in_the_replica_waits_and_costs_no_call() {
    let ctx = ctx(20, 20);
    associate_agents(&ctx, input("run-1"), 100, None)
        .await
        .unwrap();
    disassociate(&ctx, &["u-0003"]);
    ctx.source
        .world()
        .resources
        .get_mut(&(WEST.into(), ID.into(), Kind::Users))
        .unwrap()
        .retain(|u| u.name != "agent0003");
    let out = associate_agents(&ctx, input("sync-1"), 100 + DAY, None)
        .await
        .unwrap();
    assert_eq!(out.members_check.unwrap().stale, 1);
    assert_eq!((out.reassociated, out.waiting_for_replica), (0, 1));
    assert_eq!(associate_targets(&ctx).len(), 20, "the first run's only");
}

#[tokio::test(start_paused = true)]
async fn checking_10000_agents_costs_1000_calls_and_500_seconds_at_the_quota_across_invocations() {
    // given 10,000 agents recorded and associated a day ago, Connect paced at its quotas
    let mut ctx = ctx(10_000, 10_000);
    ctx.source = ctx.source.clone().paced(Arc::new(Pacer::new(1.0)));
    ctx.replica = ctx.replica.clone().paced(Arc::new(Pacer::new(1.0)));
    let records: Vec<Association> = (0..10_000)
        .map(|i| Association {
            instance_id: ID.into(),
            group_arn: group_arn(DEFAULT_GROUP),
            user_id: user(i).id.unwrap(),
            username: user(i).name,
            run_id: "run-0".into(),
            at: 1,
        })
        .collect();
    ctx.store.put_associations(&records).await.unwrap();
    ctx.source.world().group_users.insert(
        group_arn(DEFAULT_GROUP),
        records.iter().map(|a| a.user_id.clone()).collect(),
    );
    let started = Instant::now();

    // when an invocation of 300 s begins the check
    let stop_at = started + Duration::from_secs(300);
    let first = deadline::within(
        Some(stop_at),
        associate_agents(&ctx, input("sync-1"), 1 + DAY, Some(stop_at)),
    )
    .await
    .unwrap();

    // then it stops before its deadline, part way, and says so
    assert!(!first.done && first.cursor.is_none());
    let check = first.members_check.clone().unwrap();
    assert!(!check.done);
    assert!(
        (595..=606).contains(&check.pages),
        "5 at once, then 2/s: {}",
        check.pages
    );
    assert!(Instant::now() <= stop_at);
    assert_eq!(count(&ctx, LIST_MEMBERS) as u64, check.pages);

    // and the next invocation goes on from its cursor, then sweeps
    let out = associate_agents(&ctx, input("sync-1"), 1 + DAY + 300, None)
        .await
        .unwrap();
    assert!(out.done);
    let check = out.members_check.unwrap();
    assert!(check.done);
    assert_eq!((check.pages, check.members, check.stale), (1000, 10_000, 0));
    assert_eq!(check.seconds_at_quota, 500);
    assert_eq!(count(&ctx, LIST_MEMBERS), 1000, "no page listed twice");
    let spent = Instant::now() - started;
    assert!(
        spent >= Duration::from_secs(495) && spent <= Duration::from_secs(505),
        "{spent:?}"
    );
    assert_eq!((out.associated, out.already_associated), (0, 10_000));
    assert_eq!(count(&ctx, ASSOCIATE), 0);
}

#[tokio::test]
async fn an_operator_may_ask_for_the_check_before_the_day_is_out() {
    // given 30 agents associated, and two of them disassociated by hand an hour later
    let ctx = ctx(30, 30);
    associate_agents(&ctx, input("run-1"), 100, None)
        .await
        .unwrap();
    disassociate(&ctx, &["u-0003", "u-0011"]);
    ctx.source.world().calls.clear();

    // when a sync asks for the check
    let asked = Input {
        check_members: true,
        ..input("sync-1")
    };
    let out = associate_agents(&ctx, asked, 100 + 3600, None)
        .await
        .unwrap();

    // then the members are listed (3 pages of 10) and exactly those two are associated again
    let check = out.members_check.expect("the check ran");
    assert!(check.done);
    assert_eq!((check.members, check.stale), (28, 2));
    assert_eq!(count(&ctx, LIST_MEMBERS), 3);
    assert_eq!(associate_targets(&ctx), vec!["u-0003", "u-0011"]);
    assert_eq!(out.associated, 2);
}
