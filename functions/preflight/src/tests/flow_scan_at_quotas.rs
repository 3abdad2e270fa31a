//! The flow scan at Connect's real quotas: bounded by the invocation's deadline, going on in
//! the next invocation, flows and modules read side by side.

use super::*;
use std::sync::Arc;
use std::time::Duration;

use acgr::connect::pace::Pacer;
use tokio::time::Instant;

/// The Lambda's budget (template.yaml's Timeout 120 s) less the step's margin.
const BUDGET: Duration = Duration::from_secs(115);

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
    acgr::run::handler::within(
        Some(Instant::now() + BUDGET),
        preflight(ctx, probe, input(), now),
    )
    .await
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
    lambda.deadline = acgr::run::handler::epoch_millis() + 60_000;
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
    let err =
        acgr::run::handler::within(Some(Instant::now()), preflight(&ctx, &probe, input(), 200))
            .await
            .unwrap_err();
    assert_eq!(err.error_type(), "Transient", "{err}");
    let after = ctx.store.get_flow_scan(ID, "run-1").await.unwrap().unwrap();
    assert_eq!(after, before, "the scan stands where it stood");

    let last = invocation(&ctx, &probe, 300).await.unwrap();
    assert!(last.done);
    assert_eq!(reads_of(&ctx, "DescribeContactFlow").len(), 300);
}
