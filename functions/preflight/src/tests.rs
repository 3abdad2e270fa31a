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

// ---- at Connect's real quotas and at any size ----

use std::sync::Arc;
use std::time::Duration;

use acgr::pace::Pacer;
use acgr::records::{ConflictRecord, HardcodedPage};
use tokio::time::Instant;

/// The Lambda's budget (template.yaml's Timeout 120 s) less the step's margin.
const BUDGET: Duration = Duration::from_secs(115);

/// `n` published flows named `Flow 0000`..., each hardcoding its own Lambda ARN and a region
/// name; no modules.
fn with_hardcoding_flows(n: usize) -> (Context<FakeConnect, MemoryRunStore>, FakeProbe) {
    let contents: Vec<(String, String, String)> = (0..n)
        .map(|i| {
            (
                format!("f-{i:05}"),
                format!("Flow {i:04}"),
                format!(r#"{{"Actions":[{{"Parameters":{{"LambdaFunctionARN":"arn:aws:lambda:us-east-1:123456789012:function:acme-lookup-{i}"}}}},{{"Parameters":{{"ComparisonValue":"us-east-1"}}}}]}}"#),
            )
        })
        .collect();
    let flows: Vec<(&str, &str, Option<&str>)> = contents
        .iter()
        .map(|(id, name, c)| (id.as_str(), name.as_str(), Some(c.as_str())))
        .collect();
    let ctx = FakeWorld::instance(ID, EAST)
        .with_flows(EAST, ID, &flows)
        .with_modules(EAST, ID, &[])
        .context(EAST, WEST)
        .unwrap();
    (ctx, FakeProbe::new(r(WEST)))
}

/// Both regions' clients paced at Connect's real quotas, as the SDK clients are.
fn at_real_quotas(
    mut ctx: Context<FakeConnect, MemoryRunStore>,
) -> Context<FakeConnect, MemoryRunStore> {
    ctx.source = ctx.source.clone().paced(Arc::new(Pacer::new(1.0)));
    ctx.replica = ctx.replica.clone().paced(Arc::new(Pacer::new(1.0)));
    ctx
}

/// One invocation with the Lambda's budget from now.
async fn invocation(
    ctx: &Context<FakeConnect, MemoryRunStore>,
    probe: &FakeProbe,
    now: i64,
) -> Result<Report, StepError> {
    acgr::deadline::within(
        Some(Instant::now() + BUDGET),
        preflight(ctx, probe, input(), now),
    )
    .await
}

fn reads_of(ctx: &Context<FakeConnect, MemoryRunStore>, op: &str) -> Vec<String> {
    ctx.source
        .world()
        .calls_of(op)
        .iter()
        .map(|c| c.target.clone())
        .collect()
}

/// An item's size as DynamoDB counts it: attribute names and values (the record is the JSON
/// string `data`; `expiresAt` a number).
fn item_size<T: serde::Serialize>(sk: String, record: &T) -> (String, usize) {
    let data = serde_json::to_string(record).unwrap();
    let bytes = "pk".len()
        + acgr::store::pk(ID).len()
        + "sk".len()
        + sk.len()
        + "data".len()
        + data.len()
        + "expiresAt".len()
        + 21;
    (sk, bytes)
}

/// Every item the run store holds: (sort key, size).
fn stored_items(store: &MemoryRunStore) -> Vec<(String, usize)> {
    let s = store.state();
    let mut out = Vec::new();
    for r in s.runs.values() {
        out.push(item_size(format!("RUN#{}", r.run_id), r));
    }
    for f in s.flow_scans.values() {
        out.push(item_size(format!("SCAN#{}", f.run_id), f));
    }
    for ((_, sk), p) in &s.hardcoded_pages {
        out.push(item_size(sk.clone(), p));
    }
    for c in s.conflicts.values() {
        out.push(item_size(
            format!("CONFLICT#{}#{}", c.kind.key(), c.name),
            c,
        ));
    }
    out
}

#[tokio::test]
async fn a_thousand_flows_hardcoding_a_region_keep_the_output_and_every_item_small() {
    // given 1,000 flows that each hardcode a Lambda ARN and a region name
    let (ctx, probe) = with_hardcoding_flows(1_000);

    // when preflight runs (one invocation: no deadline, no pacing)
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();

    // then it is done, and the report lists the first 20 and counts the rest
    assert!(report.done && report.ok);
    let flows = report.flows.as_ref().unwrap();
    assert_eq!((flows.scanned, flows.hardcoded), (1_000, 1_000));
    let hardcoded: Vec<&Check> = report
        .checks
        .iter()
        .filter(|c| c.id == "hardcoded-region")
        .collect();
    assert_eq!(
        hardcoded.len(),
        flows::LISTED + 1,
        "20 listed and one that counts the rest"
    );
    assert!(
        hardcoded[0].message.contains("'Flow 0000'")
            && hardcoded[0].message.contains("acme-lookup-0,")
    );
    let more = hardcoded.last().unwrap();
    assert!(
        more.message.contains("980 more") && more.message.contains("HARDCODED#run-1#0001#"),
        "{}",
        more.message
    );
    // and the output, serialized, stays well under Step Functions' 256 KB
    let output = serde_json::to_string(&report).unwrap().len();
    assert!(output < 32 * 1024, "output: {output} bytes");
    // and every stored item stays well under DynamoDB's 400 KB
    let items = stored_items(&ctx.store);
    let (largest, bytes) = items.iter().max_by_key(|(_, b)| *b).unwrap();
    assert!(*bytes < 100 * 1024, "{largest}: {bytes} bytes");
    println!(
        "1,000 flows: output {output} bytes; largest item {largest} {bytes} bytes; {} items",
        items.len()
    );
    // and every finding is in the run table, once
    let pages = ctx.store.hardcoded_pages(ID, "run-1", 1).await.unwrap();
    let ids: Vec<&str> = pages
        .iter()
        .flat_map(|p| &p.findings)
        .map(|f| f.id.as_str())
        .collect();
    assert_eq!(ids.len(), 1_000);
    assert_eq!(
        ids.iter().collect::<std::collections::BTreeSet<_>>().len(),
        1_000
    );
    assert!(pages.len() > 1, "paged: {}", pages.len());
    assert!(pages
        .iter()
        .all(|p| serde_json::to_string(p).unwrap().len() <= flows::PAGE_BYTES + 1024));
}

#[tokio::test]
async fn flows_with_huge_names_and_many_arns_are_cut_short_in_every_item() {
    // given 1,000 flows with 500-character names, each naming 200 distinct regional ARNs
    let long = "N".repeat(500);
    let contents: Vec<(String, String, String)> = (0..1_000)
        .map(|i| {
            let arns: String = (0..200)
                .map(|k| {
                    format!(
                        r#""arn:aws:lambda:us-east-1:123456789012:function:{}-{i}-{k}","#,
                        "f".repeat(60)
                    )
                })
                .collect();
            (
                format!("f-{i:05}"),
                format!("{long} {i}"),
                format!("[{arns}]"),
            )
        })
        .collect();
    let flows: Vec<(&str, &str, Option<&str>)> = contents
        .iter()
        .map(|(id, name, c)| (id.as_str(), name.as_str(), Some(c.as_str())))
        .collect();
    let ctx = FakeWorld::instance(ID, EAST)
        .with_flows(EAST, ID, &flows)
        .context(EAST, WEST)
        .unwrap();
    let probe = FakeProbe::new(r(WEST));

    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();

    assert_eq!(report.flows.as_ref().unwrap().hardcoded, 1_000);
    let output = serde_json::to_string(&report).unwrap().len();
    assert!(output < 128 * 1024, "output: {output} bytes");
    let items = stored_items(&ctx.store);
    let (largest, bytes) = items.iter().max_by_key(|(_, b)| *b).unwrap();
    assert!(*bytes < 100 * 1024, "{largest}: {bytes} bytes");
    println!("huge flows: output {output} bytes; largest item {largest} {bytes} bytes");
    let pages = ctx.store.hardcoded_pages(ID, "run-1", 1).await.unwrap();
    let f = &pages[0].findings[0];
    assert_eq!((f.found.len(), f.found_total), (10, 200));
    assert!(report
        .checks
        .iter()
        .any(|c| c.message.contains("and 195 more")));
}

#[tokio::test(start_paused = true)]
async fn three_hundred_flows_at_real_quotas_take_two_invocations_and_each_flow_is_read_once() {
    // given 300 flows and Connect's real quotas (2 DescribeContactFlow/s, burst 5)
    let (ctx, probe) = with_hardcoding_flows(300);
    let ctx = at_real_quotas(ctx);

    // when the first invocation runs out of its 115 s
    let first = invocation(&ctx, &probe, 100).await.unwrap();

    // then it returns what it found so far, naming what remains
    assert!(!first.done && first.ok, "{first:#?}");
    let read = reads_of(&ctx, "DescribeContactFlow").len();
    assert!((200..300).contains(&read), "{read} read in 115 s at 2/s");
    let scanned = only(&first, "flows-scanned");
    assert_eq!(scanned.verdict, Verdict::Warn);
    assert!(
        scanned
            .message
            .contains(&format!("{} flows remain", 300 - read))
            && scanned.message.contains("0 flow modules remain"),
        "{}",
        scanned.message
    );
    assert!(scanned.fix.contains("invokes it again"), "{}", scanned.fix);
    let flows = first.flows.as_ref().unwrap();
    assert_eq!(
        (flows.scanned, flows.flows_left),
        (read as u64, Some(300 - read as u64))
    );
    let stored = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
    assert_eq!(stored.steps[STEP]["done"], false);

    // when the state machine invokes it again (same run)
    let second = invocation(&ctx, &probe, 200).await.unwrap();

    // then it goes on after the last flow read, without making the other checks again
    assert!(second.done && second.ok, "{second:#?}");
    let reads = reads_of(&ctx, "DescribeContactFlow");
    assert_eq!(reads.len(), 300, "each flow read once");
    let distinct: std::collections::BTreeSet<&String> = reads.iter().collect();
    assert_eq!(distinct.len(), 300);
    assert_eq!(
        reads_of(&ctx, "DescribeInstance").len(),
        2,
        "source and replica, once"
    );
    assert_eq!(reads_of(&ctx, "ListLambdaFunctions").len(), 1);
    let flows = second.flows.as_ref().unwrap();
    assert_eq!(
        (flows.scanned, flows.hardcoded, flows.flows_left),
        (300, 300, None)
    );
    assert_eq!(only(&second, "flows-scanned").verdict, Verdict::Pass);
    assert_eq!(
        second
            .checks
            .iter()
            .filter(|c| c.id == "hardcoded-region")
            .count(),
        21
    );
    let pages = ctx.store.hardcoded_pages(ID, "run-1", 1).await.unwrap();
    assert_eq!(pages.iter().map(|p| p.findings.len()).sum::<usize>(), 300);
}

#[tokio::test(start_paused = true)]
async fn the_handler_bounds_the_scan_by_the_invocations_deadline() {
    let (ctx, probe) = with_hardcoding_flows(300);
    let ctx = at_real_quotas(ctx);
    let payload = serde_json::json!({"runId": "run-1", "instanceId": ID, "replicaRegion": WEST, "failOnError": false});
    let mut lambda = lambda_runtime::Context::default();
    lambda.deadline = acgr::deadline::epoch_millis() + 60_000;
    let report = handler(&ctx, &probe, LambdaEvent::new(payload, lambda))
        .await
        .unwrap();
    assert!(!report.done);
    let read = reads_of(&ctx, "DescribeContactFlow").len();
    assert!((100..125).contains(&read), "{read} read in 55 s at 2/s");
}

#[tokio::test(start_paused = true)]
async fn flows_and_modules_are_read_side_by_side_each_at_its_own_quota() {
    let (ctx, probe) = with_hardcoding_flows(150);
    let modules: Vec<(String, String)> = (0..150)
        .map(|i| (format!("m-{i:05}"), format!("Module {i}")))
        .collect();
    {
        let mut w = ctx.source.world();
        w.resources.insert(
            (EAST.into(), ID.into(), Kind::ContactFlowModules),
            modules.iter().map(|(id, name)| res(id, name)).collect(),
        );
        for (id, _) in &modules {
            w.modules.insert(
                (EAST.into(), ID.into(), id.clone()),
                r#"{"Region":"eu-west-2"}"#.into(),
            );
        }
    }
    let ctx = at_real_quotas(ctx);
    let started = Instant::now();
    let report = invocation(&ctx, &probe, 100).await.unwrap();
    assert!(report.done, "{report:#?}");
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(80),
        "300 reads at 2/s + 2/s: {took:?}"
    );
    let flows = report.flows.unwrap();
    assert_eq!((flows.scanned, flows.hardcoded), (300, 300));
}

fn with_clean_modules(ctx: &Context<FakeConnect, MemoryRunStore>, n: usize) {
    let mut w = ctx.source.world();
    let listed: Vec<ResourceSummary> = (0..n)
        .map(|i| res(&format!("m-{i:05}"), &format!("Module {i}")))
        .collect();
    for m in &listed {
        w.modules.insert(
            (EAST.into(), ID.into(), m.id.clone().unwrap()),
            r#"{"Actions":[]}"#.into(),
        );
    }
    w.resources
        .insert((EAST.into(), ID.into(), Kind::ContactFlowModules), listed);
}

#[tokio::test]
async fn a_throttle_past_the_retries_mid_scan_saves_and_returns_what_is_done() {
    // given 30 flows and 5 flow modules
    let (ctx, probe) = with_hardcoding_flows(30);
    with_clean_modules(&ctx, 5);
    let throttle = |ops: &[&'static str]| {
        for op in ops {
            ctx.source.world().fail_next(op, "ThrottlingException", 1);
        }
    };
    let both = ["DescribeContactFlow", "DescribeContactFlowModule"];

    // when Connect throttles the first read of each past the client's retries, in the
    // invocation that made the other checks
    throttle(&both);
    let first = preflight(&ctx, &probe, input(), 100).await.unwrap();

    // then what it did is kept and returned: not done, naming what remains
    assert!(!first.done);
    let scanned = &only(&first, "flows-scanned").message;
    assert!(
        scanned.contains("30 flows remain") && scanned.contains("5 flow modules remain"),
        "{scanned}"
    );

    // when a later invocation is throttled before it reads anything
    throttle(&both);
    let err = preflight(&ctx, &probe, input(), 110).await.unwrap_err();

    // then it fails (the machine backs off and retries) and the run goes on
    assert_eq!(err.error_type(), "Throttled");
    let run = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
    assert_eq!(run.status, acgr::records::RunStatus::Running);

    // when one reads the modules before the flows' quota runs out
    throttle(&both[..1]);
    let partial = preflight(&ctx, &probe, input(), 120).await.unwrap();

    // then it returns them, and the next goes on to the end
    assert!(!partial.done);
    let flows = partial.flows.as_ref().unwrap();
    assert_eq!(
        (flows.scanned, flows.flows_left, flows.modules_left),
        (5, Some(30), Some(0))
    );
    let last = preflight(&ctx, &probe, input(), 130).await.unwrap();
    assert!(last.done && last.ok);
    assert_eq!(last.flows.as_ref().unwrap().scanned, 35);
    // each flow and module read once, and the throttled reads tried again
    let reads = reads_of(&ctx, "DescribeContactFlow");
    let distinct: std::collections::BTreeSet<&String> = reads.iter().collect();
    assert_eq!((distinct.len(), reads.len()), (30, 30 + 3));
    assert_eq!(reads_of(&ctx, "DescribeContactFlowModule").len(), 5 + 2);
    assert_eq!(
        reads_of(&ctx, "DescribeInstance").len(),
        2,
        "the other checks were made once (source and replica)"
    );
}

#[tokio::test(start_paused = true)]
async fn out_of_time_before_reading_anything_is_an_error_and_nothing_is_lost() {
    let (ctx, probe) = with_hardcoding_flows(300);
    let pacer = Arc::new(Pacer::new(1.0));
    let mut ctx = ctx;
    ctx.source = ctx.source.clone().paced(pacer.clone());
    let first = invocation(&ctx, &probe, 100).await.unwrap();
    assert!(!first.done);
    let before = ctx.store.get_flow_scan(ID, "run-1").await.unwrap().unwrap();

    // an invocation whose deadline comes before its first read's turn
    for op in [
        "ListContactFlows",
        "ListContactFlowModules",
        "ListResources",
        "DescribeContactFlow",
    ] {
        pacer.bucket(op).drain();
    }
    let err = acgr::deadline::within(Some(Instant::now()), preflight(&ctx, &probe, input(), 200))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "Transient", "{err}");
    let after = ctx.store.get_flow_scan(ID, "run-1").await.unwrap().unwrap();
    assert_eq!(after, before, "the scan stands where it stood");

    let last = invocation(&ctx, &probe, 300).await.unwrap();
    assert!(last.done);
    assert_eq!(reads_of(&ctx, "DescribeContactFlow").len(), 300);
}

#[tokio::test]
async fn a_finished_scan_run_again_starts_anew_and_keys_its_findings_apart() {
    let (ctx, probe) = with_hardcoding_flows(3);
    let first = preflight(&ctx, &probe, input(), 100).await.unwrap();
    assert!(first.done);
    // one flow is fixed before the run is started again under the same run ID
    ctx.source
        .world()
        .flows
        .insert((EAST.into(), ID.into(), "f-00000".into()), "{}".into());
    let again = preflight(&ctx, &probe, input(), 200).await.unwrap();
    let flows = again.flows.as_ref().unwrap();
    assert_eq!((flows.scanned, flows.hardcoded), (3, 2));
    assert_eq!(flows.findings_key, "HARDCODED#run-1#0002#");
    assert_eq!(reads_of(&ctx, "DescribeContactFlow").len(), 6);
    let second: Vec<HardcodedPage> = ctx.store.hardcoded_pages(ID, "run-1", 2).await.unwrap();
    assert_eq!(second.iter().map(|p| p.findings.len()).sum::<usize>(), 2);
    assert_eq!(
        ctx.store.hardcoded_pages(ID, "run-1", 1).await.unwrap()[0]
            .findings
            .len(),
        3
    );
}

#[tokio::test]
async fn a_flow_that_cannot_be_read_is_counted_one_deleted_is_skipped_and_the_scan_goes_on() {
    let (ctx, probe) = with_hardcoding_flows(4);
    {
        let mut w = ctx.source.world();
        w.fail_next("DescribeContactFlow", "AccessDeniedException", 1);
        // and one deleted between the listing and its read
        w.fail_next("DescribeContactFlow", "ResourceNotFoundException", 1);
    }
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    assert!(report.done && report.ok);
    let scanned = only(&report, "flows-scanned");
    assert_eq!(scanned.verdict, Verdict::Warn);
    assert!(
        scanned
            .message
            .contains("could not read 1: flow 'Flow 0000'")
            && scanned.message.contains("AccessDenied"),
        "{}",
        scanned.message
    );
    assert!(scanned.fix.contains("connect:DescribeContactFlow"));
    let flows = report.flows.unwrap();
    assert_eq!((flows.scanned, flows.unreadable), (2, 1));
}

#[tokio::test]
async fn a_failed_check_skips_the_flows_unless_told_not_to() {
    let (ctx, probe) = with_hardcoding_flows(50);
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
    assert!(
        reads_of(&ctx, "DescribeContactFlow").is_empty(),
        "no flow read"
    );
    let run = ctx.store.get_run(ID, "run-1").await.unwrap().unwrap();
    let stored: Report = serde_json::from_value(run.steps[STEP].clone()).unwrap();
    assert!(stored.done);
    assert!(stored
        .checks
        .iter()
        .any(|c| c.id == "flows-scanned" && c.message.contains("flows only warn")));
}

#[tokio::test]
async fn many_lambda_functions_are_listed_up_to_twenty_worst_first_and_counted() {
    let (ctx, mut probe) = ctx();
    let arns: Vec<String> = (0..60)
        .map(|i| format!("arn:aws:lambda:us-east-1:123456789012:function:fn-{i:02}"))
        .collect();
    for i in (0..60).step_by(2) {
        probe.functions.insert(format!("fn-{i:02}"));
    }
    ctx.source.world().lambdas.insert(ID.into(), arns);
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    let lambdas: Vec<&Check> = report
        .checks
        .iter()
        .filter(|c| c.id == "lambda-in-replica")
        .collect();
    assert_eq!(lambdas.len(), 21);
    assert!(lambdas[..20].iter().all(|c| c.verdict == Verdict::Fail));
    let rest = lambdas[20];
    assert_eq!(rest.verdict, Verdict::Fail);
    assert!(
        rest.message
            .contains("40 more results of this check not listed: 10 fail, 0 warn, 30 pass"),
        "{}",
        rest.message
    );
}

#[tokio::test]
async fn name_conflicts_are_found_in_one_pass_over_twenty_thousand_names_each_side() {
    // given a replica where half of 20,000 queue names are another queue, a quarter mirror the
    // source, and a quarter are the replica's own; and 40,000 conflicts of old on record
    let (ctx, probe) = ctx();
    let source: Vec<ResourceSummary> = (0..20_000)
        .map(|n| res(&format!("src-{n}"), &format!("Queue {n}")))
        .collect();
    let mut replica: Vec<ResourceSummary> = (0..20_000)
        .map(|n| match n % 4 {
            0 | 2 => res(&format!("rep-{n}"), &format!("Queue {n}")),
            1 => res(&format!("src-{n}"), &format!("Queue {n}")),
            _ => res(&format!("rep-{n}"), &format!("Replica only {n}")),
        })
        .collect();
    replica.reverse();
    {
        let mut w = ctx.source.world();
        let mut there = w.instances[&(EAST.to_string(), ID.to_string())].clone();
        there.arn = there.arn.replace(EAST, WEST);
        w.instances.insert((WEST.into(), ID.into()), there);
        w.resources
            .insert((EAST.into(), ID.into(), Kind::Queues), source);
        w.resources
            .insert((WEST.into(), ID.into(), Kind::Queues), replica);
    }
    for n in 0..40_000 {
        ctx.store
            .put_conflict(&ConflictRecord {
                instance_id: ID.into(),
                kind: Kind::Queues,
                name: format!("Old queue {n}"),
                source_id: Some(format!("old-{n}")),
                replica_id: Some(format!("older-{n}")),
                region: Some(WEST.into()),
                first_seen: 1,
                last_seen: 2,
                resolved: true,
                resolved_at: Some(3),
            })
            .await
            .unwrap();
    }

    // when preflight checks the names
    let started = std::time::Instant::now();
    let report = preflight(&ctx, &probe, input(), 100).await.unwrap();
    let took = started.elapsed();

    // then it finds exactly the 10,000 planted conflicts, fast, and names the first few
    let check = only(&report, "name-conflicts");
    assert_eq!(check.verdict, Verdict::Fail);
    assert!(
        check.message.starts_with("10000 name conflicts: "),
        "{}",
        &check.message[..80]
    );
    assert!(
        check.message.ends_with("and 9980 more"),
        "{}",
        check.message
    );
    let recorded: Vec<String> = ctx
        .store
        .conflicts(ID)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| !c.resolved)
        .map(|c| c.name)
        .collect();
    let planted: std::collections::BTreeSet<String> = (0..20_000)
        .filter(|n| n % 2 == 0)
        .map(|n| format!("Queue {n}"))
        .collect();
    assert_eq!(recorded.len(), 10_000);
    assert_eq!(
        recorded
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>(),
        planted
    );
    // (under 0.2 s in a debug build; comparing each sighting with each record took over 5 s)
    assert!(took < Duration::from_millis(2_500), "{took:?}");
    println!("20,000 names each side, 10,000 conflicts, 40,000 on record: {took:?}");
}
