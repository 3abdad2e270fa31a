//! Unit tests of preflight over the in-memory Connect and run store.

use super::*;
use crate::probe::FakeProbe;
use acgr::connect::fake::{FakeConnect, FakeWorld};
use acgr::connect::ResourceSummary;
use acgr::connect::{LexBotRef, RegionStatus, ReplicationInfo};
use acgr::store::memory::MemoryRunStore;

const ID: &str = "4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10";
const EAST: &str = "us-east-1";
const WEST: &str = "us-west-2";
const LOOKUP: &str = "arn:aws:lambda:us-east-1:123456789012:function:acme-customer-lookup";

fn r(s: &str) -> Region {
    Region::parse(s).unwrap()
}

fn res(id: &str, name: &str) -> ResourceSummary {
    ResourceSummary {
        id: Some(id.into()),
        name: name.into(),
    }
}

/// A clean instance in `source` (ACTIVE, alias, SAML, one Lambda function present in the
/// replica, one clean flow, one unpublished flow, one clean module), deployed to `replica`.
fn setup(source: &str, replica: &str) -> (Context<FakeConnect, MemoryRunStore>, FakeProbe) {
    let ctx = FakeWorld::instance(ID, source)
        .with_flows(
            source,
            ID,
            &[
                (
                    "f-1",
                    "Regional greeting",
                    Some(r#"{"Actions":[{"Parameters":{"Text":"Served from $.AwsRegion"}}]}"#),
                ),
                ("f-2", "Draft callback", None),
            ],
        )
        .with_modules(source, ID, &[("m-1", "Order status", r#"{"Actions":[]}"#)])
        .with_lambdas(ID, &[LOOKUP])
        .context(source, replica)
        .unwrap();
    let mut probe = FakeProbe::new(r(replica));
    probe.functions.insert("acme-customer-lookup".into());
    (ctx, probe)
}

fn ctx() -> (Context<FakeConnect, MemoryRunStore>, FakeProbe) {
    setup(EAST, WEST)
}

fn input() -> Input {
    Input {
        header: Header::new("run-1", ID),
        replica_region: WEST.into(),
        replica_alias: None,
        fail_on_error: Some(false),
    }
}

fn only<'r>(report: &'r Report, id: &str) -> &'r Check {
    let found: Vec<&Check> = report.checks.iter().filter(|c| c.id == id).collect();
    assert_eq!(found.len(), 1, "{id} in {:#?}", report.checks);
    found[0]
}

fn edit(ctx: &Context<FakeConnect, MemoryRunStore>, f: impl FnOnce(&mut InstanceInfo)) {
    let mut w = ctx.source.world();
    f(w.instances.get_mut(&(EAST.into(), ID.into())).unwrap());
}

const READS: &[&str] = &[
    "DescribeInstance",
    "ListResources",
    "DescribeContactFlow",
    "DescribeContactFlowModule",
    "ListLambdaFunctions",
    "ListBots",
];

#[tokio::test]
async fn a_clean_instance_passes_every_check_reads_only_and_stores_the_report() {
    let (ctx, probe) = ctx();
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    assert!(report.ok);
    let bad: Vec<&Check> = report
        .checks
        .iter()
        .filter(|c| c.verdict != Verdict::Pass)
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    let ids: Vec<&str> = report.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "pair-supported",
            "regions-differ",
            "replica-region-deployed",
            "replica-alias",
            "instance-active",
            "instance-alias",
            "identity-saml",
            "not-replicated",
            "name-conflicts",
            "flows-scanned",
            "lambda-in-replica",
            "lex-bots",
            "connect-kms-key",
        ]
    );
    let scanned = only(&report, "flows-scanned");
    assert!(scanned.message.contains("scanned 2"), "{}", scanned.message);
    assert!(
        scanned.message.contains("'Draft callback'"),
        "unpublished flows are named: {}",
        scanned.message
    );

    let w = ctx.source.world();
    let writes: Vec<&str> = w
        .calls
        .iter()
        .map(|c| c.operation)
        .filter(|op| !READS.contains(op))
        .collect();
    assert!(writes.is_empty(), "preflight only reads: {writes:?}");
    drop(w);
    let state = ctx.store.state();
    assert!(state.locks.is_empty(), "preflight takes no lock");
    let run = &state.runs[&(ID.to_string(), "run-1".to_string())];
    assert_eq!(run.kind, RunKind::Replication);
    let stored: Report = serde_json::from_value(run.steps[STEP].clone()).unwrap();
    assert_eq!(stored, report);
    assert_eq!(run.steps[STEP]["checks"][0]["verdict"], "pass");
}

#[tokio::test]
async fn without_a_run_id_one_is_made_from_the_time() {
    let (ctx, probe) = ctx();
    let payload =
        serde_json::json!({"instanceId": ID, "replicaRegion": WEST, "failOnError": false});
    let before = acgr::now();
    let event = LambdaEvent::new(payload, lambda_runtime::Context::default());
    let report = handler(&ctx, &probe, event).await.unwrap();
    let made: i64 = report
        .run_id
        .strip_prefix("preflight-")
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("{}", report.run_id));
    assert!((before..=acgr::now()).contains(&made), "{made}");
    assert!(ctx
        .store
        .get_run(ID, &report.run_id)
        .await
        .unwrap()
        .is_some());
}

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
async fn an_invalid_replica_alias_fails_its_check() {
    let (ctx, probe) = ctx();
    let report = preflight(
        &ctx,
        &probe,
        Input {
            replica_alias: Some("d-acme".into()),
            ..input()
        },
        100,
    )
    .await
    .unwrap();
    assert_eq!(only(&report, "replica-alias").verdict, Verdict::Fail);
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
async fn a_name_conflict_with_an_existing_replica_fails_and_is_recorded() {
    let (ctx, probe) = ctx();
    {
        let mut w = ctx.source.world();
        let mut replica = w.instances[&(EAST.to_string(), ID.to_string())].clone();
        replica.arn = replica.arn.replace(EAST, WEST);
        w.instances.insert((WEST.into(), ID.into()), replica);
        w.resources.insert(
            (EAST.into(), ID.into(), Kind::Queues),
            vec![res("q-1", "Billing"), res("q-2", "Support")],
        );
        w.resources.insert(
            (WEST.into(), ID.into(), Kind::Queues),
            vec![res("q-9", "Billing"), res("q-2", "Support")],
        );
    }
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    let check = only(&report, "name-conflicts");
    assert_eq!(check.verdict, Verdict::Fail);
    for part in ["queues", "'Billing'", "q-1", "q-9"] {
        assert!(check.message.contains(part), "{part}: {}", check.message);
    }
    assert!(!check.message.contains("Support"));
    let conflicts = ctx.store.conflicts(ID).await.unwrap();
    assert_eq!(conflicts.len(), 1);
    let c = &conflicts[0];
    assert_eq!(
        (
            c.kind,
            c.name.as_str(),
            c.source_id.as_deref(),
            c.replica_id.as_deref()
        ),
        (Kind::Queues, "Billing", Some("q-1"), Some("q-9"))
    );
    preflight(&ctx, &probe, input(), 200).await.unwrap();
    let again = ctx.store.conflicts(ID).await.unwrap();
    assert_eq!(
        (again.len(), again[0].first_seen, again[0].last_seen),
        (1, 100, 200),
        "upserted, first seen kept"
    );
}

#[tokio::test]
async fn a_flow_that_hardcodes_a_region_is_a_warn_naming_it_and_the_strings() {
    let (ctx, probe) = ctx();
    {
        let mut w = ctx.source.world();
        w.resources
            .get_mut(&(EAST.into(), ID.into(), Kind::ContactFlows))
            .unwrap()
            .push(res("f-3", "Main inbound"));
        w.flows.insert(
            (EAST.into(), ID.into(), "f-3".into()),
            format!(r#"{{"Actions":[{{"Parameters":{{"LambdaFunctionARN":"{LOOKUP}"}}}},{{"Parameters":{{"ComparisonValue":"us-east-1"}}}}]}}"#),
        );
        w.modules.insert(
            (EAST.into(), ID.into(), "m-1".into()),
            r#"{"AliasArn":"arn:aws:lex:us-east-1:123456789012:bot-alias/B/A"}"#.into(),
        );
    }
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    assert!(report.ok, "a warn does not fail the step");
    let warns: Vec<&Check> = report
        .checks
        .iter()
        .filter(|c| c.id == "hardcoded-region")
        .collect();
    assert_eq!(warns.len(), 2, "{warns:#?}");
    assert!(warns.iter().all(|c| c.verdict == Verdict::Warn));
    let flow = warns
        .iter()
        .find(|c| c.message.contains("flow 'Main inbound'"))
        .unwrap();
    assert!(flow.message.contains(LOOKUP), "{}", flow.message);
    assert!(flow.message.contains(", us-east-1"), "{}", flow.message);
    assert!(flow.fix.contains("$.AwsRegion") && flow.fix.contains("$['AwsRegion']"));
    assert!(warns
        .iter()
        .any(|c| c.message.contains("flow module 'Order status'")
            && c.message.contains("arn:aws:lex:us-east-1:")));
    assert!(!report
        .checks
        .iter()
        .any(|c| c.message.contains("'Regional greeting' hardcodes")));
}

#[tokio::test]
async fn a_missing_lambda_function_fails_and_one_that_cannot_be_checked_warns() {
    let (ctx, probe) = ctx();
    ctx.source.world().lambdas.insert(
        ID.into(),
        vec![
            LOOKUP.into(),
            "arn:aws:lambda:us-east-1:123456789012:function:acme-callback".into(),
            "arn:aws:lambda:us-east-1:123456789012:function:acme-survey:live".into(),
        ],
    );
    let mut probe = probe;
    probe.errors.insert(
        "acme-survey".into(),
        "the endpoint did not answer (connection refused)".into(),
    );
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    let lambdas: Vec<&Check> = report
        .checks
        .iter()
        .filter(|c| c.id == "lambda-in-replica")
        .collect();
    assert_eq!(lambdas.len(), 3);
    let of = |name: &str| lambdas.iter().find(|c| c.message.contains(name)).unwrap();
    assert_eq!(of("acme-customer-lookup").verdict, Verdict::Pass);
    let missing = of("acme-callback");
    assert_eq!(missing.verdict, Verdict::Fail);
    assert!(missing.message.contains("does not exist in us-west-2"));
    let unknown = of("acme-survey");
    assert_eq!(unknown.verdict, Verdict::Warn);
    assert!(unknown.message.contains("could not check"));
    assert!(unknown.message.contains("connection refused"));
    assert_eq!(report.failed().count(), 1);
}

#[tokio::test]
async fn lex_bots_warn_with_both_documented_options() {
    let (ctx, probe) = ctx();
    ctx.source.world().lex_bots.insert(
        ID.into(),
        vec![LexBotRef {
            name: "AcmeOrderBot".into(),
            region: Some(EAST.into()),
        }],
    );
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    let check = only(&report, "lex-bots");
    assert_eq!(check.verdict, Verdict::Warn);
    assert!(check.message.contains("AcmeOrderBot (us-east-1)"));
    assert!(check.fix.contains("Lex Global Resiliency") && check.fix.contains("$.AwsRegion"));
}

#[tokio::test]
async fn a_missing_connect_key_fails_and_an_unanswered_question_warns() {
    let (ctx, mut probe) = ctx();
    probe.key = Probe::NotFound;
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    let check = only(&report, "connect-kms-key");
    assert_eq!(check.verdict, Verdict::Fail);
    assert!(check.message.contains("alias/aws/connect"));
    assert!(check
        .fix
        .contains("temporary Amazon Connect instance in us-west-2"));

    probe.key = Probe::Unknown("AccessDeniedException: no kms:DescribeKey".into());
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    let check = only(&report, "connect-kms-key");
    assert_eq!(check.verdict, Verdict::Warn);
    assert!(check.message.contains("could not check") && check.message.contains("AccessDenied"));
}

#[tokio::test]
async fn a_denied_connect_call_makes_its_check_a_warn_and_throttling_ends_the_step() {
    let (ctx, probe) = ctx();
    ctx.source
        .world()
        .fail_next("ListLambdaFunctions", "AccessDeniedException", 1);
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    let check = only(&report, "lambda-in-replica");
    assert_eq!(check.verdict, Verdict::Warn);
    assert!(check.message.contains("could not check"));
    assert!(check.fix.contains("connect:ListLambdaFunctions"));

    ctx.source
        .world()
        .fail_next("DescribeInstance", "ThrottlingException", 1);
    let err = preflight(&ctx, &probe, input(), 110).await.unwrap_err();
    assert_eq!(err.error_type(), "Throttled");
}

#[tokio::test]
async fn a_failed_check_fails_the_step_unless_told_not_to_and_the_report_is_stored() {
    let (ctx, probe) = ctx();
    edit(&ctx, |i| i.identity = Some("CONNECT_MANAGED".into()));
    let err = preflight(
        &ctx,
        &probe,
        Input {
            fail_on_error: None,
            ..input()
        },
        100,
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "PreflightFailed");
    assert!(err
        .to_string()
        .contains("identity-saml: identity management is CONNECT_MANAGED"));
    let d: Diagnostic = err.into();
    assert_eq!(d.error_type, "PreflightFailed");
    let run = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
    assert_eq!(run.steps[STEP]["ok"], false);
    assert_eq!(run.error.unwrap().error_type, "PreflightFailed");

    let report = preflight(&ctx, &probe, input(), 110).await.unwrap();
    assert!(!report.ok);
    assert_eq!(only(&report, "identity-saml").verdict, Verdict::Fail);
}

#[tokio::test]
async fn bad_input_changes_nothing() {
    let (ctx, probe) = ctx();
    for bad in [
        Input {
            header: Header::new("run-1", "not an id"),
            ..input()
        },
        Input {
            replica_region: "west".into(),
            ..input()
        },
        Input {
            header: Header::new("has space", ID),
            ..input()
        },
        Input {
            header: Header::new(
                "run-1",
                format!("arn:aws:connect:eu-west-2:123456789012:instance/{ID}"),
            ),
            ..input()
        },
    ] {
        let err = preflight(&ctx, &probe, bad, 1).await.unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput");
    }
    assert!(ctx.store.state().writes.is_empty());
    assert!(ctx.source.world().calls.is_empty());
    for (payload, field) in [
        (
            serde_json::json!({"instanceId": ID, "replicaRegion": WEST, "surprise": 1}),
            "surprise",
        ),
        (
            serde_json::json!({"instanceId": ID, "replicaRegion": WEST, "failOnError": "no"}),
            "bool",
        ),
        (serde_json::json!({"replicaRegion": WEST}), "instanceId"),
    ] {
        let event = LambdaEvent::new(payload, lambda_runtime::Context::default());
        let err = handler(&ctx, &probe, event).await.unwrap_err();
        assert_eq!(err.error_type, "InvalidInput");
        assert!(err.error_message.contains(field), "{}", err.error_message);
    }
    assert!(ctx.store.state().writes.is_empty());
}

#[tokio::test]
async fn the_small_event_runs_through_the_handler() {
    let (ctx, probe) = ctx();
    let payload: Value =
        serde_json::from_str(include_str!("../../../tests/events/preflight/small.json")).unwrap();
    let event = LambdaEvent::new(payload, lambda_runtime::Context::default());
    let report = handler(&ctx, &probe, event).await.unwrap();
    assert!(report.ok);
    assert!(ctx
        .store
        .get_run(ID, &report.run_id)
        .await
        .unwrap()
        .is_some());
}
