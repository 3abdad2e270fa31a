//! Unit tests of shift-traffic over the in-memory Connect and run store.

use super::*;
use acgr::connect::fake::{FakeConnect, FakeWorld};
use acgr::connect::GroupSummary;
use acgr::connect::ResourceSummary;
use acgr::domain::Kind;
use acgr::domain::Region;
use acgr::records::RunStatus;
use acgr::records::{RunKind, ShiftStatus};
use acgr::steady::{record_steady_state, AgentCounts};
use acgr::store::memory::MemoryRunStore;

/// The instance of the shipped scenarios and example events.
const ID: &str = "4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10";
const EAST: &str = "us-east-1";
const WEST: &str = "us-west-2";
const ARN: &str = "arn:aws:connect:us-east-1:1:traffic-distribution-group/g1";
const SALES: &str = "arn:aws:connect:us-east-1:1:traffic-distribution-group/g2";

type Ctx = Context<FakeConnect, MemoryRunStore>;

fn r(s: &str) -> Region {
    Region::parse(s).unwrap()
}

fn settings() -> Settings {
    Settings {
        min_agent_share: 0.9,
        verify_timeout: Duration::from_millis(50),
        verify_interval: Duration::from_millis(1),
        deadline_margin: Duration::ZERO,
    }
}

fn split(east: u8, sign_in: bool) -> CurrentDistribution {
    CurrentDistribution {
        telephony: vec![(r(EAST), east), (r(WEST), 100 - east)],
        agents: vec![(r(EAST), east), (r(WEST), 100 - east)],
        sign_in: sign_in.then(|| vec![(r(EAST), east > 0), (r(WEST), east < 100)]),
    }
}

fn group(id: &str, arn: &str, name: &str, is_default: bool) -> GroupSummary {
    GroupSummary {
        id: id.into(),
        arn: arn.into(),
        name: name.into(),
        instance_arn: format!("arn:aws:connect:us-east-1:1:instance/{ID}"),
        status: "ACTIVE".into(),
        is_default,
    }
}

/// A replicated instance, its default group at `east`% in us-east-1, ten agents.
fn ctx_at(east: u8) -> Ctx {
    let users: Vec<ResourceSummary> = (0..10)
        .map(|i| ResourceSummary {
            id: Some(format!("u{i}")),
            name: format!("agent{i}"),
        })
        .collect();
    let mut world = FakeWorld::replicated(ID, EAST, WEST, "INSTANCE_REPLICATION_COMPLETE")
        .with_everywhere(ID, Kind::Users, &users);
    world.groups.push((
        EAST.into(),
        WEST.into(),
        group("g1", ARN, "acme-default", true),
    ));
    world.distributions.insert(ARN.into(), split(east, true));
    world.context(EAST, WEST).unwrap()
}

/// `ctx_at`, with the steady state and 10 of 10 agents recorded by an agent-sync run.
async fn synced_at(east: u8) -> Ctx {
    let ctx = ctx_at(east);
    sync(&ctx, 10).await;
    ctx
}

async fn sync(ctx: &Ctx, associated: u64) {
    let counts = AgentCounts {
        group_arn: ARN.into(),
        associated,
        total: 10,
    };
    record_steady_state(&ctx.source, &ctx.store, ID, "sync", Some(&counts), 1)
        .await
        .unwrap();
    ctx.source.world().calls.clear();
}

fn failover(run: &str) -> Input {
    Input {
        header: Header::new(run, ID),
        preset: Some(Preset::FailoverTo {
            failover_to: WEST.into(),
        }),
        ..Input::default()
    }
}

fn failback(run: &str) -> Input {
    Input {
        preset: Some(Preset::Named("failback".into())),
        ..failover(run)
    }
}

async fn go(ctx: &Ctx, input: Input, now: i64) -> Result<Output, StepError> {
    shift(ctx, &settings(), input, now, None).await
}

fn updates(ctx: &Ctx) -> Vec<(String, String)> {
    ctx.source
        .world()
        .calls_of("UpdateTrafficDistribution")
        .iter()
        .map(|c| (c.region.clone(), c.target.clone()))
        .collect()
}

fn live(ctx: &Ctx, arn: &str) -> CurrentDistribution {
    ctx.source.world().distributions[arn].clone()
}

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
    assert!(at("LOCK#f1") < at(&format!("EPISODE#{ARN}")));
    assert!(at(&format!("EPISODE#{ARN}")) < at("SHIFT#f1#Intent"));
    assert!(at("SHIFT#f1#Intent") < at("SHIFT#f1#Done"));
    assert!(ctx.store.get_lock(ID).await.unwrap().is_none(), "released");

    let back = go(&ctx, failback("b1"), 200).await.unwrap();
    assert_eq!(back.called_in, EAST);
    assert_eq!(live(&ctx, ARN), split(100, true));
    assert!(
        ctx.store.episode(ID, ARN).await.unwrap().is_none(),
        "closed"
    );
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
async fn a_dry_run_returns_the_exact_calls_and_writes_nothing() {
    let ctx = synced_at(100).await;
    let writes = ctx.store.state().writes.len();
    let out = go(
        &ctx,
        Input {
            dry_run: true,
            ..failover("d1")
        },
        100,
    )
    .await
    .unwrap();
    assert_eq!(out.calls.len(), 1);
    assert_eq!(out.calls[0].region, WEST);
    assert_eq!(out.calls[0].id, ARN);
    assert_eq!(
        out.calls[0].body["TelephonyConfig"]["Distributions"][1],
        json!({"Region": WEST, "Percentage": 100})
    );
    assert!(updates(&ctx).is_empty());
    assert_eq!(ctx.store.state().writes.len(), writes);
}

#[tokio::test]
async fn health_gates_refuse_an_unhealthy_target_even_forced() {
    let ctx = synced_at(100).await;
    ctx.source
        .world()
        .instances
        .get_mut(&(WEST.into(), ID.into()))
        .unwrap()
        .status = Some("CREATION_IN_PROGRESS".into());
    let err = go(
        &ctx,
        Input {
            force: true,
            ..failover("f1")
        },
        100,
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "Unsafe");
    assert!(err.to_string().contains("target-instance-active"));
    assert!(updates(&ctx).is_empty());
    let run = ctx.store.get_run(ID, "f1").await.unwrap().unwrap();
    assert_eq!(run.error.unwrap().error_type, "Unsafe");
    assert!(ctx.store.get_lock(ID).await.unwrap().is_none());
}

#[tokio::test]
async fn the_agents_gate_reads_the_counts_on_record_and_is_skipped_when_forced() {
    let ctx = ctx_at(100);
    sync(&ctx, 1).await;
    let err = go(&ctx, failover("f1"), 100).await.unwrap_err();
    assert!(err.to_string().contains("agents-associated"), "{err}");
    assert!(err.to_string().contains("1 of 10"), "{err}");
    let forced = go(
        &ctx,
        Input {
            force: true,
            ..failover("f2")
        },
        100,
    )
    .await
    .expect("forced");
    assert!(forced.gates.iter().all(|g| g.id != "agents-associated"));
    for op in ["ListTrafficDistributionGroupUsers", "ListUsers"] {
        assert!(
            ctx.source.world().calls_of(op).is_empty(),
            "{op} at shift time"
        );
    }
    // without any record, the gate asks for an agent sync
    let bare = ctx_at(100);
    let err = go(&bare, failover("f3"), 100).await.unwrap_err();
    assert!(err.to_string().contains("run agent sync"), "{err}");
}

#[tokio::test]
async fn a_failover_makes_a_handful_of_calls_before_its_update_whatever_the_agent_count() {
    let ctx = synced_at(100).await;
    {
        let mut w = ctx.source.world();
        let many: Vec<ResourceSummary> = (0..10_000)
            .map(|i| ResourceSummary {
                id: Some(format!("u{i}")),
                name: format!("agent{i}"),
            })
            .collect();
        w.resources
            .insert((EAST.into(), ID.into(), Kind::Users), many);
    }
    go(&ctx, failover("f1"), 100).await.unwrap();
    let w = ctx.source.world();
    let before_update = w
        .calls
        .iter()
        .position(|c| c.operation == "UpdateTrafficDistribution")
        .unwrap();
    assert!(before_update <= 10, "{:?}", &w.calls[..before_update]);
    assert!(
        w.calls.iter().all(|c| c.region == WEST),
        "only the region taking traffic"
    );
}

#[tokio::test]
async fn telephony_without_agents_is_refused_unless_forced_and_invalid_plans_change_nothing() {
    let ctx = synced_at(100).await;
    let plan = |t: u8, a: u8| PlanInput {
        telephony: [(EAST.to_string(), 100 - t), (WEST.to_string(), t)].into(),
        agents: [(EAST.to_string(), 100 - a), (WEST.to_string(), a)].into(),
        sign_in: None,
    };
    let input = |p: PlanInput| Input {
        plan: Some(p),
        preset: None,
        ..failover("p1")
    };
    let err = go(&ctx, input(plan(100, 0)), 100).await.unwrap_err();
    assert_eq!(err.error_type(), "Unsafe");
    assert!(err.to_string().contains("agents-follow-telephony"));
    for bad in [plan(55, 50), plan(50, 45)] {
        let err = go(&ctx, input(bad), 100).await.unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput");
    }
    let err = go(
        &ctx,
        Input {
            preset: Some(Preset::Named("sideways".into())),
            ..failover("x")
        },
        1,
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "InvalidInput");
    let err = go(
        &ctx,
        Input {
            break_lock: true,
            ..failover("x")
        },
        1,
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("breakLock needs a reason"),
        "{err}"
    );
    assert!(updates(&ctx).is_empty());
    let ok = go(
        &ctx,
        Input {
            force: true,
            ..input(plan(50, 0))
        },
        100,
    )
    .await
    .unwrap();
    assert!(ok.changed);
}

#[tokio::test]
async fn a_busy_group_is_not_ready_keeps_the_lock_and_the_retry_completes() {
    let ctx = synced_at(100).await;
    ctx.source
        .world()
        .fail_next("UpdateTrafficDistribution", "ResourceConflictException", 1);
    let err = go(&ctx, failover("f1"), 100).await.unwrap_err();
    assert_eq!(err.error_type(), "NotReady");
    let shifts = ctx.store.shifts(ID).await.unwrap();
    assert_eq!(
        shifts[0].status,
        ShiftStatus::Intent,
        "the intent is on record"
    );
    assert_eq!(
        ctx.store.get_lock(ID).await.unwrap().unwrap().run_id,
        "f1",
        "NotReady keeps the lock for the retry"
    );
    let run = ctx.store.get_run(ID, "f1").await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Running);
    let out = go(&ctx, failover("f1"), 105).await.unwrap();
    assert_eq!(out.groups[0].before, split(100, true));
    assert_eq!(
        ctx.store.shifts(ID).await.unwrap()[0].status,
        ShiftStatus::Done
    );
}

#[tokio::test]
async fn a_retry_after_the_update_was_applied_ends_shifted_without_a_second_update() {
    let ctx = synced_at(100).await;
    // the group stays UPDATE_IN_PROGRESS past the verify wait, as if the process died there
    ctx.source.world().settle_reads = 1_000;
    let err = go(&ctx, failover("f1"), 100).await.unwrap_err();
    assert_eq!(err.error_type(), "NotReady", "{err}");
    // while it settles, a retry waits (NotReady), it does not fail the run
    let err = go(&ctx, failover("f1"), 101).await.unwrap_err();
    assert_eq!(err.error_type(), "NotReady", "{err}");
    assert!(err.to_string().contains("UPDATE_IN_PROGRESS"), "{err}");
    ctx.source
        .world()
        .pending
        .values_mut()
        .for_each(|p| p.0 = 0);
    let out = go(&ctx, failover("f1"), 110).await.unwrap();
    assert!(!out.changed);
    assert_eq!(updates(&ctx).len(), 1, "applied once");
    let shifts = ctx.store.shifts(ID).await.unwrap();
    assert_eq!(shifts.len(), 1);
    assert_eq!(shifts[0].status, ShiftStatus::Done);
    assert_eq!(
        shifts[0].before,
        split(100, true),
        "the failback point of the first read"
    );
}

#[tokio::test]
async fn the_verify_wait_stops_before_the_invocations_deadline() {
    let ctx = synced_at(100).await;
    ctx.source.world().settle_reads = usize::MAX;
    let slow = Settings {
        verify_timeout: Duration::from_secs(3600),
        ..settings()
    };
    let started = std::time::Instant::now();
    let deadline = Instant::now() + Duration::from_millis(100);
    let err = shift(&ctx, &slow, failover("f1"), 100, Some(deadline))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "NotReady");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_intent_left_by_a_crash_is_settled_from_the_live_distribution_by_the_next_shift() {
    let ctx = synced_at(100).await;
    ctx.source.world().settle_reads = usize::MAX;
    go(&ctx, failover("f1"), 100).await.unwrap_err();
    // the update applies; run f1 never comes back (its execution gave up)
    ctx.source
        .world()
        .pending
        .values_mut()
        .for_each(|p| p.0 = 0);
    ctx.source.world().settle_reads = 0;
    ctx.store.release_lock(ID, "f1").await.unwrap();
    go(&ctx, failback("b1"), 200).await.unwrap();
    let shifts = ctx.store.shifts(ID).await.unwrap();
    let f1 = shifts.iter().find(|s| s.run_id == "f1").unwrap();
    assert_eq!(f1.status, ShiftStatus::Done, "moved, so recorded as moved");
    assert_eq!(f1.reconciled_by.as_deref(), Some("b1"));
    assert_eq!(live(&ctx, ARN), split(100, true));
}

#[tokio::test]
async fn a_stale_retry_refuses_to_reapply_over_a_newer_shift() {
    let ctx = synced_at(100).await;
    ctx.source
        .world()
        .fail_next("UpdateTrafficDistribution", "ResourceConflictException", 1);
    go(&ctx, failover("f1"), 100).await.unwrap_err();
    // an operator breaks the lock and applies another plan meanwhile
    let newer = Input {
        plan: Some(PlanInput {
            telephony: [(EAST.to_string(), 50), (WEST.to_string(), 50)].into(),
            agents: [(EAST.to_string(), 50), (WEST.to_string(), 50)].into(),
            sign_in: Some([(EAST.to_string(), true), (WEST.to_string(), true)].into()),
        }),
        preset: None,
        break_lock: true,
        reason: Some("incident 42: split while f1 is stuck".into()),
        ..failover("p1")
    };
    go(&ctx, newer, 150).await.unwrap();
    ctx.store.release_lock(ID, "p1").await.unwrap();
    let err = go(&ctx, failover("f1"), 160).await.unwrap_err();
    assert_eq!(err.error_type(), "Unsafe");
    assert!(err.to_string().contains("p1"), "{err}");
    assert_eq!(live(&ctx, ARN).telephony, split(50, false).telephony);
}

#[tokio::test]
async fn the_lock_comes_before_any_read_and_break_lock_takes_it_with_a_reason() {
    let ctx = synced_at(100).await;
    acgr::runs::lock_instance(&ctx.store, ID, "other", RunKind::Failover, 900, 90)
        .await
        .unwrap();
    let err = go(&ctx, failover("f1"), 100).await.unwrap_err();
    assert_eq!(err.error_type(), "RunInProgress");
    assert!(
        ctx.source.world().calls.is_empty(),
        "nothing read without the lock"
    );

    let out = go(
        &ctx,
        Input {
            break_lock: true,
            reason: Some("the holder's region is down".into()),
            ..failover("f2")
        },
        100,
    )
    .await
    .unwrap();
    assert!(out.changed);
    let run = ctx.store.get_run(ID, "f2").await.unwrap().unwrap();
    assert_eq!(run.inputs["breakLock"], "the holder's region is down");
    let writes = ctx.store.state().writes.clone();
    assert!(writes.contains(&"LOCK#f2#broken".to_string()), "{writes:?}");
}

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
async fn an_instance_arn_keys_the_run_by_the_bare_id() {
    let ctx = synced_at(100).await;
    go(
        &ctx,
        Input {
            header: Header::new("f1", format!("arn:aws:connect:us-east-1:1:instance/{ID}")),
            ..failover("f1")
        },
        100,
    )
    .await
    .unwrap();
    assert!(ctx.store.get_run(ID, "f1").await.unwrap().is_some());
    assert!(ctx.store.get_lock(ID).await.unwrap().is_none());
}

#[tokio::test]
async fn with_the_source_region_down_the_replica_region_alone_fails_over() {
    let ctx = synced_at(100).await;
    // every call to us-east-1 fails as a regional outage would
    ctx.source.world().down.insert(EAST.into());
    go(&ctx, failover("f1"), 100).await.unwrap();
    assert_eq!(live(&ctx, ARN), split(0, true));
    let calls = ctx.source.world().calls.clone();
    assert!(calls.iter().all(|c| c.region == WEST), "{calls:?}");
    // the source region comes back; failback goes there
    ctx.source.world().down.clear();
    go(&ctx, failback("b1"), 200).await.unwrap();
    assert_eq!(live(&ctx, ARN), split(100, true));
}

#[tokio::test]
async fn a_split_moved_by_someone_else_after_the_read_is_not_overwritten() {
    let ctx = synced_at(100).await;
    // the other region's deployment moves it between our read under the lock and our update
    ctx.source
        .world()
        .moved_after_reads
        .insert(ARN.into(), (1, split(50, true)));
    let err = go(&ctx, failover("f1"), 100).await.unwrap_err();
    assert_eq!(err.error_type(), "Unsafe", "{err}");
    assert!(updates(&ctx).is_empty());
    assert_eq!(
        ctx.store.shifts(ID).await.unwrap()[0].status,
        ShiftStatus::Abandoned
    );
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

fn event(name: &str) -> Value {
    let path = format!(
        "{}/../../tests/events/shift-traffic/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn the_handler_runs_the_example_events() {
    let ctx = synced_at(100).await;
    let settings = settings();
    let run = |name: &str| {
        handler(
            &ctx,
            &settings,
            LambdaEvent::new(event(name), Default::default()),
        )
    };

    let dry = run("dry-run-plan").await.unwrap();
    assert!(dry.dry_run);
    assert!(updates(&ctx).is_empty());

    let err = run("invalid-plan").await.unwrap_err();
    assert_eq!(err.error_type, "InvalidInput");

    let over = run("failover").await.unwrap();
    assert_eq!(over.called_in, WEST);
    assert_eq!(live(&ctx, ARN), split(0, true));

    let back = run("failback").await.unwrap();
    assert_eq!(back.called_in, EAST);
    assert_eq!(live(&ctx, ARN), split(100, true));
}
