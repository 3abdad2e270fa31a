//! Findings by class: only name conflicts reach the ledger; the others are counted, listed with
//! their fixes and recorded on the snapshots; resources not mirrored by design block nothing.

use super::*;
use acgr::connect::findings::FindingClass;
use acgr::mirroring::SnapshotRecord;
use ReplicationOperation::{Create, Update};

const LAMBDA_MISSING: &str = "LAMBDA_FUNCTION_NOT_FOUND";

const IN_S3: &str = "PROMPT_STORED_IN_S3";

async fn snapshot(ctx: &Ctx, kind: Kind) -> SnapshotRecord {
    ctx.store
        .snapshots(ID)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.kind == kind)
        .unwrap_or_else(|| panic!("no snapshot of {kind:?}"))
}

fn set(ctx: &Ctx, region: &str, kind: Kind, resources: Vec<ResourceSummary>) {
    ctx.source
        .world()
        .resources
        .insert((region.into(), ID.into(), kind), resources);
}

#[tokio::test]
async fn each_class_is_reported_with_its_fix_and_only_name_conflicts_reach_the_ledger() {
    // given mirroring in progress, with one finding of each class
    let ctx = ctx("INSTANCE_REPLICATION_IN_PROGRESS");
    drift(&ctx, Kind::Queues, 1, vec![conflict("q1", "Billing")]);
    let main_menu = finding("f1", "Main menu", LAMBDA_MISSING, Create);
    drift(&ctx, Kind::ContactFlows, 1, vec![main_menu]);
    let hold = finding("p2", "Hold music", IN_S3, Create);
    drift(&ctx, Kind::Prompts, 1, vec![hold]);
    let sales = finding("rp2", "Sales", "SYNC_FAILED", Update);
    drift(&ctx, Kind::RoutingProfiles, 1, vec![sales]);

    // when polled
    let out = poll(&ctx, input(), 10).await.unwrap();
    assert!(!out.needs_action, "Connect is still mirroring");

    // then the conflict is the ledger's, and only it
    assert_eq!(out.conflicts_total, 1);
    assert_eq!(out.conflicts[0].name, "Billing");
    let ledger = ctx.store.conflicts(ID).await.unwrap();
    assert_eq!(ledger.len(), 1, "{ledger:?}");
    assert_eq!(ledger[0].name, "Billing");

    // the others are counted by class, per kind and in all, none of them missing or conflicting
    let c = &out.findings.counts;
    assert_eq!(
        (
            c.name_conflict,
            c.missing_dependency,
            c.not_mirrored,
            c.sync_failure
        ),
        (1, 1, 1, 1)
    );
    let flows = &out.kinds["contactFlows"];
    assert_eq!(
        (flows.missing_dependencies, flows.missing, flows.conflicting),
        (1, 0, 0)
    );
    assert_eq!(out.kinds["prompts"].not_mirrored, 1);
    assert_eq!(out.kinds["routingProfiles"].sync_failures, 1);

    // listed with what Connect said and the fix of their class
    let first = &out.findings.first;
    assert_eq!(first.len(), 3);
    let of = |class: FindingClass| first.iter().find(|f| f.class == class).unwrap();
    let dependency = of(FindingClass::MissingDependency);
    assert_eq!(dependency.name.as_deref(), Some("Main menu"));
    assert_eq!(dependency.reference_code.as_deref(), Some(LAMBDA_MISSING));
    assert!(dependency
        .fix
        .contains("deploy what it depends on in us-west-2"));
    assert!(dependency.fix.contains("do not delete anything"));
    assert!(!dependency.fix.contains("look-alike"));
    let by_design = of(FindingClass::NotMirrored);
    assert!(by_design.fix.contains("recreate it in us-west-2 by hand"));
    let sync = of(FindingClass::SyncFailure);
    assert!(sync
        .fix
        .contains("re-save the resource in the source region"));
    assert_eq!(sync.operation, Some(Update));

    // and recorded on the snapshots
    let snap = snapshot(&ctx, Kind::ContactFlows).await;
    assert_eq!(snap.missing_dependencies, 1);
    assert_eq!(snap.findings.len(), 1);
    assert_eq!(snap.findings[0].class, FindingClass::MissingDependency);
    assert_eq!(snapshot(&ctx, Kind::Prompts).await.not_mirrored, 1);
    assert_eq!(snapshot(&ctx, Kind::RoutingProfiles).await.sync_failures, 1);
}

#[tokio::test]
async fn resources_not_mirrored_by_design_do_not_block_completion() {
    // given a finished replication whose only difference is a prompt stored in S3
    let ctx = ctx("INSTANCE_REPLICATION_COMPLETE");
    set(
        &ctx,
        EAST,
        Kind::Prompts,
        vec![res("p1", "Welcome"), res("p2", "Hold music")],
    );
    set(&ctx, WEST, Kind::Prompts, vec![res("p1", "Welcome")]);
    drift(
        &ctx,
        Kind::Prompts,
        1,
        vec![finding("p2", "Hold music", IN_S3, Create)],
    );

    // when a replication run polls
    let out = poll(&ctx, replication(&ctx, "repl-1").await, 10)
        .await
        .unwrap();

    // then mirroring is complete, and the prompt is reported as not mirrored by design
    assert!(out.complete && out.listed, "{out:#?}");
    let prompts = &out.kinds["prompts"];
    assert_eq!((prompts.source, prompts.replica), (Some(2), Some(1)));
    assert_eq!((prompts.missing, prompts.not_mirrored), (0, 1));
    assert!(prompts.confirmed());
    assert_eq!(out.findings.counts.not_mirrored, 1);
    assert_eq!(out.findings.first[0].class, FindingClass::NotMirrored);
    assert!(ctx.store.conflicts(ID).await.unwrap().is_empty());
    end(&ctx, "repl-1").await;

    // An agent sync trusts the record: complete, nothing listed.
    clear_calls(&ctx);
    let out = poll(&ctx, run("sync-1"), 3600).await.unwrap();
    assert!(out.complete && !out.listed);
    assert_eq!(out.kinds["prompts"].not_mirrored, 1);
    assert_eq!(calls(&ctx), per_poll());
    end(&ctx, "sync-1").await;

    // The operator recreates it by hand in the replica (another ID): not a look-alike.
    set(
        &ctx,
        WEST,
        Kind::Prompts,
        vec![res("p1", "Welcome"), res("p9", "Hold music")],
    );
    let out = poll(&ctx, replication(&ctx, "repl-2").await, 7200)
        .await
        .unwrap();
    assert!(out.complete && out.listed, "{out:#?}");
    assert_eq!(out.conflicts_total, 0);
}

#[tokio::test]
async fn a_missing_dependency_blocks_completion_deletes_nothing_and_is_not_listed_again() {
    // given a flow that invokes a Lambda function missing in the replica region
    let ctx = ctx("INSTANCE_REPLICATION_COMPLETE");
    set(&ctx, EAST, Kind::ContactFlows, vec![res("f1", "Main menu")]);
    let main_menu = finding("f1", "Main menu", LAMBDA_MISSING, Create);
    drift(&ctx, Kind::ContactFlows, 1, vec![main_menu]);

    // when a replication run polls: not complete, and not a conflict to fail on
    let input = replication(&ctx, "repl-1").await;
    let out = poll(&ctx, input, 10).await.unwrap();
    assert!(!out.complete && out.listed);
    let flows = &out.kinds["contactFlows"];
    assert_eq!((flows.source, flows.replica), (Some(1), Some(0)));
    assert_eq!((flows.missing, flows.missing_dependencies), (0, 1));
    assert!(out.conflicts.is_empty() && out.blocked.is_none());
    assert!(ctx.store.conflicts(ID).await.unwrap().is_empty());
    // nothing left that Connect mirrors by itself: the run goes on and reports it
    assert!(out.needs_action, "{out:#?}");

    // Polled again later: the listing cannot clear a finding, so it is not made again.
    clear_calls(&ctx);
    let out = poll(&ctx, run("repl-1"), 10 + RELIST_AFTER_SECONDS)
        .await
        .unwrap();
    assert!(!out.complete && !out.listed);
    assert!(listings(&ctx).is_empty(), "{:?}", listings(&ctx));

    // The function is deployed and the flow mirrors: that kind is listed once, and completes.
    set(&ctx, WEST, Kind::ContactFlows, vec![res("f1", "Main menu")]);
    drift(&ctx, Kind::ContactFlows, 0, vec![]);
    let out = poll(&ctx, run("repl-1"), 20 + RELIST_AFTER_SECONDS)
        .await
        .unwrap();
    assert!(out.complete && out.listed, "{out:#?}");
    assert!(!out.needs_action);
    assert_eq!(
        listings(&ctx),
        [
            format!("{EAST}:contactFlows"),
            format!("{WEST}:contactFlows")
        ]
    );
}

#[tokio::test]
async fn a_failed_sync_whose_name_a_look_alike_holds_is_a_name_conflict() {
    // given a create with a code this build does not know, and a look-alike in the replica
    let ctx = ctx("INSTANCE_REPLICATION_COMPLETE");
    set(
        &ctx,
        WEST,
        Kind::Queues,
        vec![res("q0", DEFAULT_QUEUE), res("q9", "Billing")],
    );
    let unknown = finding("q1", "Billing", "XYZ_0042", Create);
    drift(&ctx, Kind::Queues, 1, vec![unknown]);

    // when a replication run polls
    let err = poll(&ctx, replication(&ctx, "repl-1").await, 10)
        .await
        .unwrap_err();

    // then the listing's word on names is final: a name conflict, with the look-alike's ID
    assert_eq!(err.error_type(), "ResourceConflict");
    let ledger = ctx.store.conflicts(ID).await.unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].replica_id.as_deref(), Some("q9"));
    let run = ctx.store.get_run(ID, "repl-1").await.unwrap().unwrap();
    let counts = &run.steps[STEP]["findings"]["counts"];
    assert_eq!(
        (
            counts["nameConflict"].as_u64(),
            counts["syncFailure"].as_u64()
        ),
        (Some(1), Some(0))
    );
}

/// Findings of a resource type no kind lists, with its drift and statuses.
fn other_type(ctx: &Ctx, resource_type: &str, findings: Vec<Finding>, status: &str) {
    ctx.source.world().findings.insert(
        (ID.into(), resource_type.into()),
        Findings {
            drift: vec![(EAST.into(), 0), (WEST.into(), findings.len() as i64)],
            findings,
            statuses: vec![
                (EAST.into(), "ENABLED".into()),
                (WEST.into(), status.into()),
            ],
        },
    );
}

#[tokio::test]
async fn every_other_type_is_polled_and_an_unknown_code_is_shown_without_blocking() {
    // given a finished replication, a view whose finding carries a code nobody documented, and
    // a test case whose update failed to sync
    let ctx = ctx("INSTANCE_REPLICATION_COMPLETE");
    other_type(
        &ctx,
        "VIEW",
        vec![finding("v1", "Case view", "VIEW_VERSION_SKEW", Update)],
        "ENABLED",
    );
    other_type(
        &ctx,
        "TEST_CASE",
        vec![finding("t1", "Main menu smoke", "SYNC_FAILED", Update)],
        "BLOCKED",
    );

    // when a replication run polls
    let out = poll(&ctx, replication(&ctx, "repl-1").await, 10)
        .await
        .unwrap();

    // then every documented type was asked once, the failed sync holds completion back, and the
    // unknown code is shown as unknown, with Connect's message
    let asked: Vec<String> = ctx
        .source
        .world()
        .calls_of("ListReplicationFindings")
        .iter()
        .map(|c| c.target.clone())
        .collect();
    for t in acgr::mirroring::finding_types::DOCUMENTED {
        assert_eq!(
            asked.iter().filter(|a| *a == t.code).count(),
            1,
            "{}",
            t.code
        );
    }
    assert!(!out.complete, "a failed sync of a test case blocks");
    let view = out
        .types
        .iter()
        .find(|t| t.resource_type == "VIEW")
        .unwrap();
    assert_eq!((view.counts.unknown, view.blocking()), (1, 0));
    assert_eq!(view.findings[0].class, FindingClass::Unknown);
    assert_eq!(view.findings[0].kind, None);
    assert!(view.findings[0]
        .message
        .as_deref()
        .is_some_and(|m| m.contains("VIEW_VERSION_SKEW")));
    let test_case = out
        .types
        .iter()
        .find(|t| t.resource_type == "TEST_CASE")
        .unwrap();
    assert_eq!(test_case.counts.sync_failure, 1);
    assert_eq!(test_case.held()[0].status, "BLOCKED");
    assert_eq!(out.findings.counts.unknown, 1);
    let record = ctx.store.types(ID).await.unwrap().unwrap();
    assert_eq!(record.types.len(), out.types.len());
    end(&ctx, "repl-1").await;

    // once the test case synced, the unknown code alone holds back nothing
    other_type(&ctx, "TEST_CASE", vec![], "ENABLED");
    let out = poll(&ctx, replication(&ctx, "repl-2").await, 100)
        .await
        .unwrap();
    assert!(out.complete, "{:#?}", out.types);
    assert_eq!(out.findings.counts.unknown, 1);
}

#[tokio::test]
async fn a_type_the_service_refuses_is_recorded_as_unsupported_and_skipped() {
    let ctx = ctx("INSTANCE_REPLICATION_COMPLETE");
    let accepted: Vec<String> = acgr::mirroring::finding_types::DOCUMENTED
        .iter()
        .map(|t| t.code.to_string())
        .filter(|c| c != "WORKSPACE")
        .collect();
    ctx.source.world().finding_types = accepted;
    let out = poll(&ctx, replication(&ctx, "repl-1").await, 10)
        .await
        .unwrap();
    let workspace = out
        .types
        .iter()
        .find(|t| t.resource_type == "WORKSPACE")
        .unwrap();
    assert!(workspace
        .unsupported
        .as_deref()
        .is_some_and(|m| m.contains("not supported")));
    assert!(
        out.complete,
        "a type the service does not support blocks nothing"
    );
}
