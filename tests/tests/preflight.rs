//! `preflight` for real: read-only checks against connect-sim, the report stored on the run.

use acgr_e2e::{event, Options, Stack, INSTANCE_ID};
use serde_json::json;

/// Connect operations that change something; preflight must call none of them.
const WRITES: &[&str] = &[
    "ReplicateInstance",
    "CreateTrafficDistributionGroup",
    "UpdateTrafficDistribution",
    "AssociateTrafficDistributionGroupUser",
    "CreateUser",
    "CreateQueue",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_every_check_without_changing_connect() {
    // given the small scenario
    let mut stack = Stack::start(Options::new("small", &["preflight"]))
        .await
        .expect("the local stack starts");

    // when preflight runs with its shipped event (failOnError: false)
    let report = stack
        .invoke("preflight", event("preflight", "small"))
        .await
        .expect("preflight answers with a report");

    // then it reports checks for this run
    assert_eq!(report["runId"], "rehearsal-1");
    let checks = report["checks"].as_array().expect("checks");
    let with_id =
        |id: &str| -> Vec<&serde_json::Value> { checks.iter().filter(|c| c["id"] == id).collect() };
    // the flow that hardcodes the source region, named with the string it contains
    let hardcoded = with_id("hardcoded-region");
    assert!(
        hardcoded.iter().any(|c| c["verdict"] == "warn"
            && c["message"]
                .as_str()
                .is_some_and(|m| { m.contains("'Main inbound'") && m.contains("us-east-1") })),
        "{hardcoded:#?}"
    );
    // the instance's Lambda functions, not deployed in the replica region (moto's Lambda here)
    let lambdas = with_id("lambda-in-replica");
    for name in ["acme-customer-lookup", "acme-callback"] {
        assert!(
            lambdas.iter().any(|c| c["verdict"] == "fail"
                && c["message"].as_str().is_some_and(|m| m.contains(name))),
            "{name}: {lambdas:#?}"
        );
    }
    assert_eq!(
        report["ok"], false,
        "a missing Lambda function fails preflight"
    );

    // and it only read from Connect
    let calls = stack.sim_calls(None).await;
    assert!(!calls.is_empty(), "preflight reads the instance");
    let writes: Vec<_> = calls
        .iter()
        .filter(|c| WRITES.iter().any(|w| c["operation"] == *w))
        .collect();
    assert!(writes.is_empty(), "{writes:#?}");

    // and the report is on the run
    let run = stack
        .item(INSTANCE_ID, "RUN#rehearsal-1")
        .await
        .expect("RUN item");
    assert_eq!(
        run.data["steps"]["preflight"]["ok"], report["ok"],
        "{:#}",
        run.data
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_field_is_invalid_input_and_writes_nothing() {
    let mut stack = Stack::start(Options::new("small", &["preflight"]))
        .await
        .expect("the local stack starts");
    let mut bad = event("preflight", "small");
    bad["surprise"] = json!(true);

    let err = stack.invoke("preflight", bad).await.expect_err("refused");

    assert_eq!(err.error_type, "InvalidInput", "{err}");
    assert!(stack.items().await.is_empty(), "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_longer_than_an_invocation_resumes_where_it_stopped_at_the_real_quotas() {
    // given medium (60 flows, a module) at Connect's real quotas, and invocations that stop 4 s
    // into their budget (the watch gives each one 600 s)
    let opts = Options::new("medium", &["preflight"]).env("DEADLINE_MARGIN_MS", 600_000 - 4_000);
    assert_eq!(opts.quota_factor, 1.0);
    let mut stack = Stack::start(opts).await.expect("the local stack starts");
    let id = local_stack::drill::scenario_instance(&acgr_e2e::workspace(), "medium")
        .expect("medium's instance");
    let input = json!({"runId": "scan-1", "instanceId": id, "replicaRegion": "us-west-2",
                       "failOnError": false});

    // when preflight is invoked until it says it is done
    let mut report = stack
        .invoke("preflight", input.clone())
        .await
        .expect("report");
    assert_eq!(
        report["done"], false,
        "61 reads at 2/s do not fit in 4 s: {report:#}"
    );
    let scanned = report["checks"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["id"] == "flows-scanned"))
        .cloned()
        .expect("flows-scanned");
    assert_eq!(scanned["verdict"], "warn", "{scanned:#}");
    assert!(
        scanned["message"]
            .as_str()
            .is_some_and(|m| m.contains("remain")),
        "names what remains: {scanned:#}"
    );
    let mut invocations = 1;
    while report["done"] != true {
        assert!(invocations < 40, "the scan makes progress: {report:#}");
        report = stack
            .invoke("preflight", input.clone())
            .await
            .expect("report");
        invocations += 1;
    }

    // then every flow and module was read exactly once across the invocations
    let read = stack.accepted_calls("DescribeContactFlow").await.len()
        + stack
            .accepted_calls("DescribeContactFlowModule")
            .await
            .len();
    assert_eq!(
        report["flows"]["scanned"].as_u64(),
        Some(read as u64),
        "{invocations} invocations, {read} reads: {report:#}"
    );
    assert!(read >= 61, "{read}");
    println!("medium preflight at factor 1: {invocations} invocations of 4 s, {read} reads");
}
