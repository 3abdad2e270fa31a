//! The checks of the instance and its region pair: what ReplicateInstance refuses, the pair,
//! the replica region and alias, and a replica that already exists.

use super::*;
use acgr::connect::{RegionStatus, ReplicationInfo};

#[tokio::test]
async fn what_replicate_instance_refuses_fails_its_check() {
    type Edit = fn(&mut InstanceInfo);
    let cases: [(&str, Edit, &str); 3] = [
        ("instance-alias", |i| i.alias = None, "no alias"),
        (
            "identity-saml",
            |i| i.identity = Some("CONNECT_MANAGED".into()),
            "CONNECT_MANAGED",
        ),
        (
            "instance-active",
            |i| i.status = Some("CREATION_IN_PROGRESS".into()),
            "CREATION_IN_PROGRESS",
        ),
    ];
    for (id, change, says) in cases {
        let (ctx, probe) = ctx();
        edit(&ctx, change);
        let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
        assert!(!report.ok, "{id}");
        let check = only(&report, id);
        assert_eq!(check.verdict, Verdict::Fail, "{id}");
        assert!(check.message.contains(says), "{id}: {}", check.message);
        assert!(!check.fix.is_empty());
        assert_eq!(report.failed().count(), 1, "{id}: {:#?}", report.checks);
    }
}

#[tokio::test]
async fn a_missing_instance_fails_and_the_checks_that_need_it_say_they_did_not_run() {
    let (ctx, probe) = ctx();
    ctx.source.world().instances.clear();
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    let check = only(&report, "instance-active");
    assert_eq!(check.verdict, Verdict::Fail);
    assert!(check.message.contains("does not exist in us-east-1"));
    for id in ["instance-alias", "flows-scanned", "lambda-in-replica"] {
        let c = only(&report, id);
        assert_eq!(c.verdict, Verdict::Warn, "{id}");
        assert!(c.message.starts_with("not checked"), "{id}: {}", c.message);
    }
}

#[tokio::test]
async fn an_unsupported_pair_fails_naming_the_supported_replica_region() {
    let (ctx, probe) = setup(EAST, "eu-west-2");
    let report = preflight(
        &ctx,
        &probe,
        Input {
            replica_region: "eu-west-2".into(),
            ..input()
        },
        100,
    )
    .await
    .unwrap();
    let check = only(&report, "pair-supported");
    assert_eq!(check.verdict, Verdict::Fail);
    assert!(check.message.contains("us-west-2"), "{}", check.message);
    assert_eq!(
        only(&report, "replica-region-deployed").verdict,
        Verdict::Pass
    );

    let reference_only = pair_check(&r("ap-northeast-1"), &r("ap-northeast-3"));
    assert_eq!(reference_only.verdict, Verdict::Warn);
    assert!(reference_only.message.contains("guide does not list"));
    assert!(reference_only.fix.contains("Confirm with AWS"));
    let same = pair_check(&r(EAST), &r(EAST));
    assert_eq!(same.verdict, Verdict::Fail);
}

#[tokio::test]
async fn a_replica_region_this_deployment_does_not_serve_fails_and_same_region_fails() {
    let (ctx, probe) = ctx();
    let report = preflight(
        &ctx,
        &probe,
        Input {
            replica_region: "eu-central-1".into(),
            ..input()
        },
        100,
    )
    .await
    .unwrap();
    assert_eq!(
        only(&report, "replica-region-deployed").verdict,
        Verdict::Fail
    );
    assert_eq!(only(&report, "connect-kms-key").verdict, Verdict::Warn);
    let report = preflight(
        &ctx,
        &probe,
        Input {
            replica_region: EAST.into(),
            ..input()
        },
        100,
    )
    .await
    .unwrap();
    assert_eq!(only(&report, "regions-differ").verdict, Verdict::Fail);
}

#[tokio::test]
async fn an_invalid_replica_alias_is_invalid_input_and_writes_nothing() {
    let (ctx, probe) = ctx();
    let err = preflight(
        &ctx,
        &probe,
        Input {
            replica_alias: Some("d-acme".into()),
            ..input()
        },
        100,
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "InvalidInput");
    assert!(err.to_string().contains("replicaAlias"), "{err}");
    assert!(ctx.store.state().writes.is_empty());
}

fn replicated_to(region: &str) -> ReplicationInfo {
    ReplicationInfo {
        source_region: Some(r(EAST)),
        statuses: [EAST, region]
            .iter()
            .map(|r| RegionStatus {
                region: r.to_string(),
                status: "INSTANCE_REPLICATION_COMPLETE".into(),
                reason: None,
            })
            .collect(),
        global_sign_in_endpoint: None,
    }
}

#[tokio::test]
async fn an_existing_replica_of_the_pair_is_a_warn_and_one_elsewhere_a_fail() {
    let (ctx, probe) = ctx();
    edit(&ctx, |i| i.replication = Some(replicated_to(WEST)));
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    let check = only(&report, "not-replicated");
    assert_eq!(check.verdict, Verdict::Warn);
    assert!(check.message.contains("will adopt it"));
    assert!(report.ok);

    edit(&ctx, |i| i.replication = Some(replicated_to("eu-west-2")));
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    assert_eq!(only(&report, "not-replicated").verdict, Verdict::Fail);
}

#[tokio::test]
async fn the_alias_is_checked_as_global_routing_names_both_regions_with_it() {
    // a lower-case DNS label, and no other replica alias: passes
    let (c, probe) = ctx();
    let report = preflight(&c, &probe, input(), 100).await.unwrap();
    let check = only(&report, "global-routing-alias");
    assert_eq!(check.verdict, Verdict::Pass);
    assert!(
        check.message.contains("REGION.acme.my.connect.aws"),
        "{}",
        check.message
    );

    // upper case or a double hyphen: warned, not refused (the alias cannot change)
    for alias in ["Acme", "acme--contact"] {
        let (c, probe) = ctx();
        c.source
            .world()
            .instances
            .values_mut()
            .for_each(|i| i.alias = Some(alias.into()));
        let report = preflight(&c, &probe, input(), 100).await.unwrap();
        let check = only(&report, "global-routing-alias");
        assert_eq!(check.verdict, Verdict::Warn, "{alias}");
        assert!(report.ok, "a warning does not stop the replication");
    }

    // a replicaAlias other than the source's names no URL under global routing
    let (c, probe) = ctx();
    let mut other = input();
    other.replica_alias = Some("acme-west".into());
    let report = preflight(&c, &probe, other, 100).await.unwrap();
    let check = only(&report, "global-routing-alias");
    assert_eq!(check.verdict, Verdict::Warn);
    assert!(check.message.contains("acme-west"), "{}", check.message);
}
