//! Refused associations: counted for what they mean, the list bounded, one user failing alone.

use super::*;

#[tokio::test]
async fn each_refusal_is_counted_for_what_it_means() {
    let ctx = ctx(10, 10);
    {
        let mut w = ctx.source.world();
        w.fail_next(ASSOCIATE, "ResourceConflictException", 1);
        w.fail_next(ASSOCIATE, "InvalidRequestException", 1);
        w.fail_next(ASSOCIATE, "ServiceQuotaExceededException", 1);
    }
    let out = associate_agents(&ctx, input("run-1"), 100, None)
        .await
        .unwrap();
    assert!(out.done);
    assert_eq!(
        (
            out.associated,
            out.already_associated,
            out.waiting_for_replica
        ),
        (7, 1, 1)
    );
    assert_eq!(out.failed.len(), 1);
    assert_eq!(out.failed[0].user_id, "u-0002");
    assert!(out.failed[0]
        .error
        .contains("ServiceQuotaExceededException"));
    let known = ctx
        .store
        .associations(ID, &group_arn(DEFAULT_GROUP))
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.user_id)
        .collect::<HashSet<_>>();
    assert!(
        known.contains("u-0000"),
        "a conflict means already associated"
    );
    assert!(!known.contains("u-0001") && !known.contains("u-0002"));

    // The next run retries only those two.
    ctx.source.world().calls.clear();
    let out = associate_agents(&ctx, input("run-2"), 200, None)
        .await
        .unwrap();
    assert_eq!(associate_targets(&ctx), vec!["u-0001", "u-0002"]);
    assert_eq!((out.associated, out.already_associated), (2, 8));
}

#[tokio::test]
async fn the_failure_list_is_bounded() {
    let ctx = ctx(130, 130);
    ctx.source
        .world()
        .fail_next(ASSOCIATE, "ServiceQuotaExceededException", 120);
    let out = associate_agents(&ctx, input("run-1"), 100, None)
        .await
        .unwrap();
    assert!(out.done);
    assert_eq!(out.associated, 10);
    assert_eq!(out.failed.len(), MAX_FAILURES_LISTED);
}

#[tokio::test]
async fn a_user_gone_from_the_source_fails_alone_while_the_group_is_active() {
    let ctx = ctx(5, 5);
    ctx.source
        .world()
        .fail_next(ASSOCIATE, "ResourceNotFoundException", 2);
    let out = associate_agents(&ctx, input("run-1"), 100, None)
        .await
        .unwrap();
    assert!(out.done);
    assert_eq!(out.associated, 3);
    assert_eq!(out.failed.len(), 2);
    assert_eq!(
        count(&ctx, "DescribeTrafficDistributionGroup"),
        1,
        "the group is checked once"
    );

    // The group went away after it was resolved: NotReady, with the progress kept.
    let ctx = self::ctx(5, 5);
    {
        let mut w = ctx.source.world();
        w.fail_next(ASSOCIATE, "ResourceNotFoundException", 1);
        w.fail_next(
            "DescribeTrafficDistributionGroup",
            "ResourceNotFoundException",
            1,
        );
    }
    let err = associate_agents(&ctx, input("run-1"), 100, None)
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "NotReady");
    assert_eq!(count(&ctx, ASSOCIATE), 1);
    let progress = ctx.store.get_progress(ID, "run-1").await.unwrap().unwrap();
    assert!(!progress.done);
    assert!(progress.failed.is_empty());
}

#[tokio::test]
async fn a_refusal_of_the_caller_stops_the_run_by_name_at_the_first_call() {
    for (code, status, name) in [
        ("AccessDeniedException", 403, "AccessDenied"),
        ("ExpiredTokenException", 403, "CredentialsRejected"),
        ("IdempotencyException", 409, "IdempotencyConflict"),
    ] {
        let ctx = ctx(10, 10);
        ctx.source
            .world()
            .fail_next_status(ASSOCIATE, code, status, 1);
        let err = associate_agents(&ctx, input("run-1"), 100, None)
            .await
            .expect_err(code);
        assert_eq!(err.error_type(), name, "{code}: {err}");
        // one refused call, not one per user: every other user would be refused alike
        assert_eq!(associate_targets(&ctx).len(), 1, "{code}");
        let known = ctx
            .store
            .associations(ID, &group_arn(DEFAULT_GROUP))
            .await
            .unwrap();
        assert!(
            known.is_empty(),
            "{code}: nothing is recorded as associated"
        );
    }
}
