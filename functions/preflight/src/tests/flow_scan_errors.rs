//! The flow scan through errors: throttles past the retries, flows that cannot be read, a
//! failed check, and a finished scan run again.

use super::*;
use acgr::flows::HardcodedPage;

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
    assert_eq!(run.status, acgr::run::RunStatus::Running);

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
