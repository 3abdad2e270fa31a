//! The report of a run: what a clean instance gives and where it is kept, the handler, bad
//! input, and what ends the step.

use super::*;

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
            "global-routing-alias",
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
    let payload: Value = serde_json::from_str(include_str!(
        "../../../../tests/events/preflight/small.json"
    ))
    .unwrap();
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
