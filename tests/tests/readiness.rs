//! Can the replica region serve a call? On the `unassociated` scenario the main flow invokes a
//! Lambda function deployed in us-west-2 but not associated with the replica instance, and a
//! module's Lex alias not yet replicated there: the split would read back 100 %, yet every call
//! would fail. `grctl readiness` runs the readiness test case in both regions and checks the
//! dependencies: us-east-1 ready, us-west-2 not, naming the function; once the function is
//! associated and the alias replicated, both are ready.

use acgr_e2e::{replication_input, GrctlRun, Options, Stack, REPLICA_REGION, SOURCE_REGION};
use serde_json::Value;
use std::time::Duration;

const EAST: &str = SOURCE_REGION;
const WEST: &str = REPLICA_REGION;
const RUN: Duration = Duration::from_secs(240);

fn region<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["regions"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["region"] == name))
        .unwrap_or_else(|| panic!("no region {name}: {report:#}"))
}

fn readiness(run: &GrctlRun) -> Value {
    run.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replica_cannot_serve_until_its_function_is_associated_and_its_alias_replicated() {
    let stack = Stack::start(Options::two_regions("unassociated", 100.0))
        .await
        .expect("the two-region stack starts");
    let e = stack
        .run_execution("replication", "repl", &replication_input(1, 120), RUN)
        .await
        .expect("replication");
    assert_eq!(e.status, "SUCCEEDED", "{e:?}");

    let before = stack
        .grctl(EAST, &["readiness", "--wait", "60", "--output", "json"])
        .await;
    assert_eq!(before.code, 1, "{before:#?}");
    let report = readiness(&before);
    let needs = report["needs"]["lambdaFunctions"].to_string();
    assert!(needs.contains("acme-customer-lookup"), "{report:#}");
    let east = region(&report, EAST);
    assert_eq!(east["ready"], true, "{report:#}");
    assert_eq!(east["tests"][0]["status"], "PASSED", "{report:#}");
    let west = region(&report, WEST);
    assert_eq!(west["ready"], false, "{report:#}");
    assert_eq!(west["tests"][0]["status"], "FAILED", "{report:#}");
    let failures = west["tests"][0]["failures"].to_string();
    assert!(failures.contains("acme-customer-lookup"), "{failures}");
    let findings = west["findings"].as_array().cloned().unwrap_or_default();
    assert!(
        findings
            .iter()
            .any(|f| f["check"] == "lambda-associated" && f["subject"] == "acme-customer-lookup"),
        "{report:#}"
    );
    // every test case ran where it was checked
    let starts = stack.sim_calls(Some("StartTestCaseExecution")).await;
    let regions: Vec<&str> = starts.iter().filter_map(|c| c["region"].as_str()).collect();
    assert_eq!(regions, [EAST, WEST], "{starts:?}");

    // the team associates the function in us-west-2; Lex replicates the alias
    let west_connect = stack.connect(WEST).await;
    west_connect
        .associate_lambda_function()
        .instance_id(acgr_e2e::INSTANCE_ID)
        .function_arn("arn:aws:lambda:us-west-2:123456789012:function:acme-customer-lookup")
        .send()
        .await
        .expect("AssociateLambdaFunction");
    stack
        .sim_client()
        .set_lex_aliases(
            WEST,
            Some(vec![
                "arn:aws:lex:us-west-2:123456789012:bot-alias/BOTID12345/ALIASID123".into(),
            ]),
        )
        .await
        .expect("the alias replicated");

    let after = stack
        .grctl(EAST, &["readiness", "--wait", "60", "--output", "json"])
        .await;
    let report = readiness(&after);
    assert_eq!(after.code, 0, "{report:#}");
    let west = region(&report, WEST);
    assert_eq!(west["ready"], true, "{report:#}");
    assert_eq!(west["tests"][0]["status"], "PASSED", "{report:#}");
    let text = stack.grctl(EAST, &["readiness", "--wait", "60"]).await;
    assert!(text.stdout.contains("us-west-2: READY"), "{text:#?}");
}
