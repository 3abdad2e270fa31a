//! Least privilege, by behaviour: every function runs with its own access key and exactly the
//! Connect permissions `template.yaml` grants its role (connect-sim's access policies). One
//! stack runs every machine in both regions; the call log then says, per function, which granted
//! actions it used. A grant no path uses is removed from the template, unless it serves a path
//! this run does not take (listed below, with the path).

use acgr::run::FailoverRequest;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use acgr_e2e::{replication_input, Options, Stack, INSTANCE_ID, REPLICA_REGION, SOURCE_REGION};
use local_stack::permissions::{access_key, template_policies};
use serde_json::{json, Value};

/// Grants used only on paths this run does not take, by function: (action, the path).
const OFF_THE_HAPPY_PATH: &[(&str, &str, &str)] = &[
    (
        "associate-agents",
        "connect:DescribeTrafficDistributionGroup",
        "a group named in the input, and the check that the group still stands after a \
         ResourceNotFoundException",
    ),
    (
        "replicate",
        "connect:ListReplicationFindings",
        "ReplicateInstance refused with ResourceConflictException: the conflicts are recorded",
    ),
    (
        "shift-traffic",
        "connect:UpdateCrossRegionRouting",
        "a failover leaving an impaired region (isolate auto), or isolate always, and its \
         failback: tests/tests/cross_region_routing.rs",
    ),
];

async fn succeeded(stack: &Stack, region: &str, machine: &str, name: &str, input: &Value) {
    let arn = stack
        .start_execution_in(region, machine, name, input)
        .await
        .unwrap_or_else(|e| panic!("StartExecution {machine}/{name}: {e:#}"));
    let done = stack
        .wait_execution_in(region, &arn, Duration::from_secs(240))
        .await
        .unwrap_or_else(|e| panic!("{machine}/{name}: {e:#}"));
    assert_eq!(done.status, "SUCCEEDED", "{machine}/{name}: {done:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_uses_what_the_template_grants_it_and_nothing_more() {
    // given the failover path deployed in both regions, each function with the template's grants
    let stack = Stack::start(Options::two_regions("small", 100.0))
        .await
        .expect("the local stack starts");

    // when every machine runs: replication (preflight to agents) twice, an agent sync that checks
    // the members, a failover started in the replica region, a failback from the source region
    let replication = replication_input(1, 120);
    succeeded(&stack, SOURCE_REGION, "replication", "repl-1", &replication).await;
    // a second replication adopts the replica: preflight's name check lists every kind there
    succeeded(&stack, SOURCE_REGION, "replication", "repl-2", &replication).await;
    let sync = json!({"instanceId": INSTANCE_ID, "checkMembers": true});
    succeeded(&stack, SOURCE_REGION, "agent-sync", "sync-1", &sync).await;
    let failover = json!(FailoverRequest::failover_to(INSTANCE_ID, REPLICA_REGION));
    succeeded(&stack, REPLICA_REGION, "failover", "failover-1", &failover).await;
    // at once: the failover's lock, replicated here before its release, is taken as released
    // in the region that holds it
    let failback = json!(FailoverRequest::failback(INSTANCE_ID));
    succeeded(&stack, SOURCE_REGION, "failover", "failback-1", &failback).await;

    // then no function was denied anything, and each used every action granted to it
    let calls = stack.sim_calls(None).await;
    let root = acgr_e2e::workspace();
    let scenario = root.join("sim/scenarios/small.json");
    let mut report = Vec::new();
    let mut unused_anywhere = Vec::new();
    for region in [SOURCE_REGION, REPLICA_REGION] {
        let functions = stack.deployment(region).functions();
        let policies = template_policies(&root, &scenario, region).expect("the template");
        for f in functions {
            let key = access_key(f, region);
            let mine: Vec<&Value> = calls.iter().filter(|c| c["accessKeyId"] == key).collect();
            let denied: Vec<&&Value> = mine.iter().filter(|c| c["status"] == 403).collect();
            assert!(denied.is_empty(), "{f} in {region} was denied: {denied:#?}");
            let called: BTreeSet<String> = mine
                .iter()
                .filter_map(|c| c["operation"].as_str())
                .map(|op| format!("connect:{op}"))
                .collect();
            let granted: BTreeSet<String> = policies[f.as_str()]
                .statements
                .iter()
                .flat_map(|s| s.actions.iter().cloned())
                .collect();
            assert!(
                granted.iter().all(|a| !a.contains('*')),
                "{f}: a wildcard action: {granted:?}"
            );
            let unused: Vec<&String> = granted
                .difference(&called)
                .filter(|a| {
                    !OFF_THE_HAPPY_PATH
                        .iter()
                        .any(|(fun, action, _)| fun == f && action == a)
                })
                .collect();
            report.push(format!(
                "{f:<17} {region:<10} granted {:>2}  called {:>2}  unused {}",
                granted.len(),
                called.len(),
                if unused.is_empty() {
                    "-".to_string()
                } else {
                    format!("{unused:?}")
                }
            ));
            if region == SOURCE_REGION || f == "shift-traffic" {
                let grouped: BTreeMap<&str, usize> =
                    mine.iter().fold(BTreeMap::new(), |mut m, c| {
                        *m.entry(c["operation"].as_str().unwrap_or("?")).or_default() += 1;
                        m
                    });
                report.push(format!("    calls: {grouped:?}"));
            }
            unused_anywhere.extend(unused.into_iter().map(|a| format!("{f} ({region}): {a}")));
        }
    }
    println!(
        "least privilege, by function and region:\n{}",
        report.join("\n")
    );
    // a grant the failover path needs in one region only is used there: shift-traffic's
    // grants are one statement for both regions, so compare it over both
    let both: BTreeSet<&str> = calls
        .iter()
        .filter(|c| {
            c["accessKeyId"] == access_key("shift-traffic", SOURCE_REGION)
                || c["accessKeyId"] == access_key("shift-traffic", REPLICA_REGION)
        })
        .filter_map(|c| c["operation"].as_str())
        .collect();
    unused_anywhere.retain(|u| {
        !(u.starts_with("shift-traffic")
            && both.contains(u.rsplit("connect:").next().unwrap_or("")))
    });
    assert!(
        unused_anywhere.is_empty(),
        "granted but never used (remove from template.yaml, or name the path that uses it): \
         {unused_anywhere:#?}"
    );
}
