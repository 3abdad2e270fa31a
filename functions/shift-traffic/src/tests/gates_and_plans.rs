//! The gates before a shift (target health, agents associated) and the plans it refuses.

use super::*;

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
    only_confirms_elsewhere(&w.calls);
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
