//! Unit tests of associate-agents over the in-memory Connect and run store.

use super::*;
use acgr::connect::fake::{self, FakeConnect, FakeWorld};
use acgr::connect::{GroupSummary, ResourceSummary};
use acgr::deadline;
use acgr::pace::Pacer;
use acgr::records::RunStatus;
use acgr::runs::{begin_step, lock_instance};
use acgr::store::memory::MemoryRunStore;
use std::sync::Arc;
use std::time::Duration;

const ID: &str = "4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10";
const EAST: &str = "us-east-1";
const WEST: &str = "us-west-2";
const ASSOCIATE: &str = "AssociateTrafficDistributionGroupUser";
const DEFAULT_GROUP: &str = "0b8e6f3a-1111-4c41-9a7e-2f1d5c8b9e10";
const CUSTOM_GROUP: &str = "0b8e6f3a-2222-4c41-9a7e-2f1d5c8b9e10";

fn group_arn(id: &str) -> String {
    fake::group(EAST, ID, id, false).arn
}

fn group(id: &str, instance: &str, status: &str, is_default: bool) -> GroupSummary {
    GroupSummary {
        status: status.into(),
        ..fake::group(EAST, instance, id, is_default)
    }
}

fn user(n: usize) -> ResourceSummary {
    ResourceSummary {
        id: Some(format!("u-{n:04}")),
        name: format!("agent{n:04}"),
    }
}

/// `users` agents in the source, the first `mirrored` of them in the replica, and an ACTIVE
/// default group.
fn ctx(users: usize, mirrored: usize) -> Context<FakeConnect, MemoryRunStore> {
    let all: Vec<ResourceSummary> = (0..users).map(user).collect();
    FakeWorld::default()
        .with_resources(EAST, ID, Kind::Users, &all)
        .with_resources(WEST, ID, Kind::Users, &all[..mirrored])
        .with_group(EAST, WEST, group(DEFAULT_GROUP, ID, "ACTIVE", true))
        .context(EAST, WEST)
        .unwrap()
}

fn input(run: &str) -> Input {
    Input {
        header: Header::new(run, ID),
        traffic_distribution_group: None,
        cursor: None,
    }
}

fn hire(ctx: &Context<FakeConnect, MemoryRunStore>, n: usize, regions: &[&str]) {
    let mut w = ctx.source.world();
    for r in regions {
        w.resources
            .get_mut(&(r.to_string(), ID.to_string(), Kind::Users))
            .unwrap()
            .push(user(n));
    }
}

fn associate_targets(ctx: &Context<FakeConnect, MemoryRunStore>) -> Vec<String> {
    ctx.source
        .world()
        .calls_of(ASSOCIATE)
        .iter()
        .map(|c| c.target.clone())
        .collect()
}

fn group_members(ctx: &Context<FakeConnect, MemoryRunStore>, id: &str) -> usize {
    ctx.source
        .world()
        .group_users
        .get(&group_arn(id))
        .map_or(0, |s| s.len())
}

fn count(ctx: &Context<FakeConnect, MemoryRunStore>, operation: &str) -> usize {
    ctx.source.world().calls_of(operation).len()
}

fn assert_unique(targets: &[String]) {
    let set: HashSet<&String> = targets.iter().collect();
    assert_eq!(set.len(), targets.len(), "someone was associated twice");
}

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

#[tokio::test(start_paused = true)]
async fn a_deadline_stops_the_invocation_and_the_cursor_resumes_without_duplicates() {
    let mut ctx = ctx(1500, 1490);
    // Paced as the SDK clients are, at Connect's quota for the associations: 2/s, burst 5.
    ctx.source = ctx.source.clone().paced(Arc::new(Pacer::new(1.0)));
    ctx.replica = ctx.replica.clone().paced(Arc::new(Pacer::new(1.0)));
    let stop_at = Instant::now() + Duration::from_secs(600);
    let first = deadline::within(
        Some(stop_at),
        associate_agents(&ctx, input("run-1"), 100, Some(stop_at)),
    )
    .await
    .unwrap();
    assert!(!first.done);
    let made = count(&ctx, ASSOCIATE);
    assert!(
        (1195..=1205).contains(&made),
        "5 at once then 2/s for 600 s: {made}"
    );
    assert!(Instant::now() <= stop_at, "stopped before the deadline");
    assert_eq!(first.associated, made as u64);
    assert_eq!(
        first.cursor.as_deref(),
        Some("1000"),
        "inside the second page"
    );
    let lock = ctx.store.get_lock(ID).await.unwrap().unwrap();
    assert_eq!(lock.run_id, "run-1", "kept for the next invocation");

    let resumed = Input {
        cursor: first.cursor.clone(),
        ..input("run-1")
    };
    let out = associate_agents(&ctx, resumed, 200, None).await.unwrap();
    assert!(out.done);
    let targets = associate_targets(&ctx);
    assert_eq!(targets.len(), 1490);
    assert_unique(&targets);
    assert_eq!(
        (
            out.associated,
            out.already_associated,
            out.waiting_for_replica
        ),
        (1490, 0, 10),
        "counted once each across invocations"
    );
    assert_eq!(group_members(&ctx, DEFAULT_GROUP), 1490);
    assert!(ctx.store.get_lock(ID).await.unwrap().is_none());
}

#[tokio::test]
async fn without_a_cursor_the_stored_progress_resumes() {
    let ctx = ctx(30, 30);
    {
        let mut p = AssociationProgress {
            instance_id: ID.into(),
            run_id: "run-1".into(),
            group_arn: group_arn(DEFAULT_GROUP),
            ..Default::default()
        };
        // An earlier invocation handled the first ten users of the first page.
        p.associated = 10;
        p.page_done = (0..10).map(|n| user(n).id.unwrap()).collect();
        ctx.store.put_progress(&p).await.unwrap();
    }
    let out = associate_agents(&ctx, input("run-1"), 100, None)
        .await
        .unwrap();
    assert!(out.done);
    assert_eq!(out.associated, 30);
    assert_eq!(count(&ctx, ASSOCIATE), 20);
    assert!(!associate_targets(&ctx).contains(&"u-0003".to_string()));
}

#[tokio::test(start_paused = true)]
async fn throttling_past_the_clients_retries_ends_the_invocation_and_the_next_one_finishes() {
    let ctx = ctx(20, 20);
    // What the client returns once its own retries are spent (`acgr::pace`).
    ctx.source
        .world()
        .fail_next(ASSOCIATE, "ThrottlingException", 1);
    let err = associate_agents(&ctx, input("run-1"), 100, None)
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "Throttled");
    let run = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
    assert_eq!(run.error.unwrap().error_type, "Throttled");
    assert_eq!(run.status, RunStatus::Running, "a retry is expected");
    assert_eq!(
        ctx.store.get_lock(ID).await.unwrap().unwrap().run_id,
        "run-1"
    );

    let out = associate_agents(&ctx, input("run-1"), 200, None)
        .await
        .unwrap();
    assert!(out.done);
    assert_eq!(out.associated, 20);
    assert_eq!(group_members(&ctx, DEFAULT_GROUP), 20);
}

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
        .unwrap();
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
async fn a_group_that_is_not_active_is_not_ready() {
    for status in [
        "CREATION_IN_PROGRESS",
        "UPDATE_IN_PROGRESS",
        "PENDING_DELETION",
    ] {
        let ctx = ctx(5, 5);
        ctx.source.world().groups[0].2.status = status.into();
        let err = associate_agents(&ctx, input("run-1"), 100, None)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "NotReady", "{status}");
        assert!(err.to_string().contains(status));
        assert_eq!(count(&ctx, ASSOCIATE), 0);
        assert!(ctx.store.state().progress.is_empty());
        let run = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
        assert_eq!(run.error.unwrap().error_type, "NotReady");
    }
    let ctx = ctx(5, 5);
    ctx.source.world().groups.clear();
    let err = associate_agents(&ctx, input("run-1"), 100, None)
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "NotReady", "no default group yet");
}

#[tokio::test]
async fn the_lock_is_taken_with_the_kind_of_the_run() {
    let ctx = ctx(5, 5);
    lock_instance(&ctx.store, ID, "repl-1", RunKind::Replication, 900, 50)
        .await
        .unwrap();
    let err = associate_agents(&ctx, input("sync-1"), 100, None)
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "RunInProgress");
    assert_eq!(count(&ctx, ASSOCIATE), 0);

    // A replication run's step outranks an agent sync that holds the lock.
    let ctx = self::ctx(5, 5);
    begin_step(
        &ctx.store,
        ID,
        "repl-1",
        RunKind::Replication,
        "poll-mirroring",
        Value::Null,
        None,
        40,
    )
    .await
    .unwrap();
    lock_instance(&ctx.store, ID, "sync-0", RunKind::AgentSync, 900, 50)
        .await
        .unwrap();
    let out = associate_agents(&ctx, input("repl-1"), 100, None)
        .await
        .unwrap();
    assert!(out.done);
    let run = ctx.store.get_run(ID, "repl-1").await.unwrap().unwrap();
    assert_eq!(run.kind, RunKind::Replication);
    assert_eq!(run.step, STEP);
}

#[tokio::test]
async fn bad_input_changes_nothing() {
    let ctx = ctx(5, 5);
    for bad in [
        Input {
            header: Header::new("has space", ID),
            ..input("r")
        },
        Input {
            header: Header::new("r", "not an id"),
            ..input("r")
        },
        Input {
            header: Header::new(
                "r",
                format!("arn:aws:connect:{WEST}:123456789012:instance/{ID}"),
            ),
            ..input("r")
        },
        Input {
            traffic_distribution_group: Some("no/slashes".into()),
            ..input("r")
        },
        Input {
            traffic_distribution_group: Some(format!(
                "arn:aws:connect:{WEST}:123456789012:traffic-distribution-group/x"
            )),
            ..input("r")
        },
        Input {
            traffic_distribution_group: Some(format!(
                "arn:aws:connect:{EAST}:123456789012:instance/x"
            )),
            ..input("r")
        },
        Input {
            cursor: Some(String::new()),
            ..input("r")
        },
    ] {
        let err = associate_agents(&ctx, bad.clone(), 1, None)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput", "{bad:?}");
    }
    assert!(ctx.store.state().writes.is_empty());
    assert!(ctx.source.world().calls.is_empty());

    let field = |payload: Value| step::parse::<Input>(payload).unwrap_err().to_string();
    assert!(
        field(serde_json::json!({"runId": "r", "instanceId": ID, "surprise": 1}))
            .contains("surprise")
    );
    assert!(
        field(serde_json::json!({"runId": "r", "instanceId": ID, "cursor": 5})).contains("cursor")
    );
    assert!(field(serde_json::json!({"runId": 7, "instanceId": ID})).contains("runId"));
    assert!(field(serde_json::json!({"runId": "r"})).contains("instanceId"));
    assert!(step::parse::<Input>(serde_json::json!([])).is_err());
    let ok =
        step::parse::<Input>(serde_json::json!({"runId": "r", "instanceId": ID, "cursor": null}))
            .unwrap();
    assert_eq!(ok.cursor, None);
}

#[tokio::test]
async fn the_handler_runs_the_small_event() {
    let ctx = ctx(50, 50);
    let payload: Value = serde_json::from_str(include_str!(
        "../../../tests/events/associate-agents/small.json"
    ))
    .unwrap();
    let out = handler(
        &ctx,
        &Settings::default(),
        LambdaEvent::new(payload.clone(), lambda_runtime::Context::default()),
    )
    .await
    .unwrap();
    assert!(out.done, "a deadline of 0 is no deadline");
    assert_eq!(out.associated, 50);
    let run = ctx.store.get_run(ID, "rehearsal-1").await.unwrap();
    assert!(run.is_some());

    // Inside the margin already: nothing is started, and the error is one to retry (a
    // "not done" answer with no progress would loop the state machine for ever).
    let fresh = self::ctx(50, 50);
    let mut lambda_ctx = lambda_runtime::Context::default();
    lambda_ctx.deadline = deadline::epoch_millis() + 1000;
    let err = handler(
        &fresh,
        &Settings::default(),
        LambdaEvent::new(payload, lambda_ctx),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type, "Transient", "{err:?}");
    assert_eq!(count(&fresh, ASSOCIATE), 0);
    let out = serde_json::to_value(out).unwrap();
    for key in [
        "done",
        "associated",
        "alreadyAssociated",
        "waitingForReplica",
        "failed",
        "cursor",
        "groupArn",
    ] {
        assert!(out.get(key).is_some(), "{key} in {out}");
    }
}
