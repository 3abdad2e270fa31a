//! grctl as an operator runs it, against the failover path deployed in both regions: the binary
//! reads the stack's outputs from each region's CloudFormation (moto), starts and follows the
//! machines, and reads Connect and the run table; `--output json` is parsed here, the exit codes
//! checked, and what it did read from connect-sim's call log and state.

use std::time::Duration;

use acgr_e2e::{
    sim_api::{Outage, ReplicaFailure},
    GrctlRun, Options, Stack, INSTANCE_ID, REPLICA_REGION, SOURCE_REGION,
};
use local_stack::drill::splits;
use serde_json::Value;

async fn stack() -> Stack {
    Stack::start(Options::two_regions("small", 100.0))
        .await
        .expect("the local stack starts")
}

fn ok(run: &GrctlRun) -> Value {
    assert_eq!(run.code, 0, "{run:#?}");
    run.json()
}

fn region<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["regions"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["region"] == name))
        .unwrap_or_else(|| panic!("no region {name}: {status:#}"))
}

fn default_group(status_or_outcome: &Value, member: &str) -> Value {
    status_or_outcome[member]
        .as_array()
        .and_then(|gs| gs.iter().find(|g| g["isDefault"] == true))
        .cloned()
        .unwrap_or_else(|| panic!("no default group in {member}: {status_or_outcome:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_replicates_fails_over_with_the_source_down_and_fails_back_with_grctl() {
    let stack = stack().await;

    // the deployment, from the stacks of both regions
    let d = ok(&stack
        .grctl(SOURCE_REGION, &["deployment", "--output", "json"])
        .await);
    assert_eq!(d["instanceId"], INSTANCE_ID);
    assert_eq!(d["sourceRegion"], SOURCE_REGION);
    assert!(
        d["regions"][SOURCE_REGION]["replicationStateMachineArn"].is_string(),
        "{d:#}"
    );
    assert!(
        d["regions"][REPLICA_REGION]["failoverStateMachineArn"].is_string(),
        "{d:#}"
    );
    assert!(
        d["regions"][REPLICA_REGION]["replicationStateMachineArn"].is_null(),
        "{d:#}"
    );

    // before any replication there is no group to move: failed (1), nothing moved
    let early = stack
        .grctl(
            SOURCE_REGION,
            &["failover", "--to", REPLICA_REGION, "--output", "json"],
        )
        .await;
    assert_eq!(early.code, 1, "{early:#?}");
    let message = early.json()["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(message.contains("NotReady"), "{message}");

    // replicate --wait: the machine to its end, the summary in JSON
    let r = ok(&stack
        .grctl(
            SOURCE_REGION,
            &[
                "replicate",
                "--wait",
                "--poll-seconds",
                "1",
                "--output",
                "json",
            ],
        )
        .await);
    assert_eq!(r["execution"]["status"], "SUCCEEDED", "{r:#}");
    assert_eq!(r["run"]["status"], "succeeded", "{r:#}");
    assert_eq!(stack.accepted_calls("ReplicateInstance").await.len(), 1);
    let steady = splits(&stack).await;

    // status with both regions up
    let s = ok(&stack
        .grctl(SOURCE_REGION, &["status", "--output", "json"])
        .await);
    assert_eq!(region(&s, SOURCE_REGION)["connect"]["state"], "ok", "{s:#}");
    assert_eq!(
        region(&s, REPLICA_REGION)["instance"]["status"],
        "ACTIVE",
        "{s:#}"
    );
    assert_eq!(s["agents"]["associated"], 50, "{s:#}");
    assert_eq!(s["agents"]["total"], 50, "{s:#}");
    assert!(s["lock"].is_null(), "{s:#}");
    assert_eq!(s["runs"][0]["status"], "succeeded", "{s:#}");
    let g = default_group(&s, "groups");
    assert_eq!(
        g["live"]["telephony"][0],
        serde_json::json!([SOURCE_REGION, 100]),
        "{g:#}"
    );
    assert!(g["failbackPoint"].is_object(), "{g:#}");
    assert!(
        !s["mirroring"].as_array().expect("kinds").is_empty(),
        "{s:#}"
    );

    // a dry run shows the plan and the gates and changes nothing
    let plan = ok(&stack
        .grctl(
            SOURCE_REGION,
            &[
                "failover",
                "--to",
                REPLICA_REGION,
                "--dry-run",
                "--output",
                "json",
            ],
        )
        .await);
    assert!(
        !plan["plan"]["gates"].as_array().expect("gates").is_empty(),
        "{plan:#}"
    );
    assert!(plan["shift"].is_null(), "{plan:#}");
    // without a terminal, a shift needs --yes (2), and nothing moved
    let unconfirmed = stack
        .grctl(SOURCE_REGION, &["failover", "--to", REPLICA_REGION])
        .await;
    assert_eq!(unconfirmed.code, 2, "{unconfirmed:#?}");
    assert!(unconfirmed.stderr.contains("--yes"), "{unconfirmed:#?}");
    assert!(stack
        .accepted_calls("UpdateTrafficDistribution")
        .await
        .is_empty());

    // on a terminal: a spinner while the plan is made, the plan and the gates, the prompt; "n"
    // is refused (3) and nothing moves; piped, no spinner was drawn
    let asked = stack
        .grctl_on_terminal(
            SOURCE_REGION,
            &["failover", "--to", REPLICA_REGION],
            Some((r"\[y/N\]", "n")),
        )
        .await;
    assert_eq!(asked.code, 3, "{asked:#?}");
    assert_eq!(asked.stderr, "answered: true", "{asked:#?}");
    let spinner = |s: &str| s.chars().any(|c| ('\u{2800}'..='\u{28ff}').contains(&c));
    assert!(spinner(&asked.stdout), "{}", asked.stdout);
    assert!(
        asked.stdout.contains("mirroring-complete"),
        "{}",
        asked.stdout
    );
    assert!(asked.stdout.contains("not confirmed"), "{}", asked.stdout);
    assert!(!spinner(&unconfirmed.stderr), "{unconfirmed:#?}");
    assert!(stack
        .accepted_calls("UpdateTrafficDistribution")
        .await
        .is_empty());
    // and an agent sync followed on a terminal draws its bars
    let synced = stack
        .grctl_on_terminal(SOURCE_REGION, &["sync", "--wait"], None)
        .await;
    assert_eq!(synced.code, 0, "{synced:#?}");
    for bar in ["mirroring", "agents", "50/50", "SUCCEEDED"] {
        assert!(synced.stdout.contains(bar), "{bar}: {}", synced.stdout);
    }

    // the source region goes down: status from the replica region says so and still shows the
    // groups' live distribution and the failback point (exit 4: a region did not answer)
    stack
        .region_down(SOURCE_REGION, Outage::Timeout)
        .await
        .expect("the source region goes down");
    let down = stack
        .grctl(REPLICA_REGION, &["status", "--output", "json"])
        .await;
    assert_eq!(down.code, 4, "{down:#?}");
    let s = down.json();
    assert_eq!(
        region(&s, SOURCE_REGION)["connect"]["state"],
        "unreachable",
        "{s:#}"
    );
    assert_eq!(s["tableReadFrom"], REPLICA_REGION, "{s:#}");
    let g = default_group(&s, "groups");
    assert_eq!(g["readFrom"], REPLICA_REGION, "{g:#}");
    assert!(g["failbackPoint"].is_object(), "{g:#}");

    // failover from the replica region alone
    let over = ok(&stack
        .grctl(
            REPLICA_REGION,
            &[
                "failover",
                "--to",
                REPLICA_REGION,
                "--yes",
                "--output",
                "json",
            ],
        )
        .await);
    assert_eq!(over["calledIn"], REPLICA_REGION, "{over:#}");
    assert_eq!(over["shift"]["status"], "SUCCEEDED", "{over:#}");
    let after = default_group(&over, "after");
    assert_eq!(
        after["live"]["telephony"],
        serde_json::json!([[SOURCE_REGION, 0], [REPLICA_REGION, 100]]),
        "{after:#}"
    );
    let updates = stack.accepted_calls("UpdateTrafficDistribution").await;
    assert!(!updates.is_empty());
    assert!(
        updates.iter().all(|c| c["region"] == REPLICA_REGION),
        "{updates:#?}"
    );

    // the source region is back: failback puts every group where it was
    stack
        .region_up(SOURCE_REGION)
        .await
        .expect("the source region is back");
    // (at once, as an operator would: the tables have not converged yet)
    let back = ok(&stack
        .grctl(SOURCE_REGION, &["failback", "--yes", "--output", "json"])
        .await);
    assert_eq!(back["shift"]["status"], "SUCCEEDED", "{back:#}");
    assert_eq!(splits(&stack).await, steady);
    // history: the failover and the failback, each with who started it. It reads the source
    // region's table, which receives the failover written in us-west-2 with the table's lag: the
    // operator runs it again until it shows (30 s at most), nothing waits on the tables
    let mut tries = 0;
    let (h, reasons) = loop {
        let h = ok(&stack
            .grctl(SOURCE_REGION, &["history", "--output", "json"])
            .await);
        let reasons: Vec<String> = h
            .as_array()
            .expect("rows")
            .iter()
            .filter_map(|r| r["reason"].as_str().map(str::to_string))
            .collect();
        tries += 1;
        if reasons.iter().any(|r| r == "failover") || tries == 30 {
            break (h, reasons);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let reasons: Vec<&str> = reasons.iter().map(String::as_str).collect();
    assert!(
        reasons.contains(&"failover") && reasons.contains(&"failback"),
        "{h:#}"
    );
    assert!(
        h.as_array().expect("rows").iter().all(|r| r["startedBy"]
            .as_str()
            .is_some_and(|s| s.starts_with("grctl-"))),
        "{h:#}"
    );
    let runs = ok(&stack
        .grctl(SOURCE_REGION, &["runs", "--output", "json"])
        .await);
    assert!(runs.as_array().expect("runs").len() >= 3, "{runs:#}");
    let conflicts = ok(&stack
        .grctl(SOURCE_REGION, &["conflicts", "--output", "json"])
        .await);
    assert_eq!(conflicts, serde_json::json!([]));

    // the metrics the functions emitted: EMF documents on stdout, in their logs
    let docs = stack.emf_documents();
    dimensions_are_members(&docs);
    let has = |dims: &[String], names: &[&str]| names.iter().all(|n| dims.iter().any(|d| d == n));
    let associated = emf(&docs, "AgentsAssociated");
    assert!(
        associated.iter().any(|(u, d, v)| u == "Count"
            && has(d, &["Function", "InstanceId"])
            && v.as_f64() == Some(50.0)),
        "{associated:?}"
    );
    let waiting = emf(&docs, "AgentsWaiting");
    assert!(
        waiting
            .iter()
            .any(|(u, _, v)| u == "Count" && v.as_f64() == Some(0.0)),
        "{waiting:?}"
    );
    for name in ["ResourcesToMirror", "Findings"] {
        let kinds = emf(&docs, name);
        assert!(
            kinds
                .iter()
                .any(|(u, d, _)| u == "Count" && has(d, &["InstanceId", "Kind"])),
            "{name}: {kinds:?}"
        );
    }
    let conflicts = emf(&docs, "Conflicts");
    assert!(
        conflicts
            .iter()
            .any(|(u, _, v)| u == "Count" && v.as_f64() == Some(0.0)),
        "{conflicts:?}"
    );
    let shifts = emf(&docs, "ShiftSeconds");
    assert!(
        shifts
            .iter()
            .any(|(u, d, _)| u == "Seconds" && has(d, &["InstanceId", "Reason"])),
        "{shifts:?}"
    );
    for name in ["TelephonyPercent", "AgentsPercent"] {
        let split = emf(&docs, name);
        assert!(
            split.iter().any(|(u, d, v)| u == "Percent"
                && has(d, &["Group", "Region"])
                && v.as_f64() == Some(100.0)),
            "{name}: {split:?}"
        );
    }

    // a replication failing in the replica region closes the mirroring gate: refused (3)
    stack
        .sim_client()
        .stage_replica_failure(
            INSTANCE_ID,
            &ReplicaFailure::ReplicationFailed {
                after_seconds: 0.0,
                region: Some(REPLICA_REGION.into()),
                reason: Some("internal replication error".into()),
            },
        )
        .await
        .expect("the sim stages the failure");
    let updates = stack
        .accepted_calls("UpdateTrafficDistribution")
        .await
        .len();
    let gated = stack
        .grctl(
            SOURCE_REGION,
            &[
                "failover",
                "--to",
                REPLICA_REGION,
                "--yes",
                "--output",
                "json",
            ],
        )
        .await;
    assert_eq!(gated.code, 3, "{gated:#?}");
    assert!(gated.stderr.contains("mirroring-complete"), "{gated:#?}");
    assert_eq!(
        stack
            .accepted_calls("UpdateTrafficDistribution")
            .await
            .len(),
        updates
    );

    // the report: one page, nothing fetched, each group's history, the kinds, the agents
    let page = stack.logs.join("report.html");
    let r = ok(&stack
        .grctl(
            SOURCE_REGION,
            &[
                "report",
                "--html",
                page.to_str().expect("path"),
                "--output",
                "json",
            ],
        )
        .await);
    assert!(r["shifts"].as_u64().is_some_and(|n| n >= 4), "{r:#}");
    let html = std::fs::read_to_string(&page).expect("the page");
    for fetched in ["src=", "href=", "<script", "@import", "url("] {
        assert!(!html.contains(fetched), "{fetched} in the page");
    }
    for shown in [
        "acme-contact-default (default)",
        "sales",
        "<path d=\"M",
        "50 of 50 associated",
        "queues",
        REPLICA_REGION,
    ] {
        assert!(html.contains(shown), "{shown} not in the page");
    }

    // rendered by Chromium, the picture holds both regions' lines, the kinds' bars and the
    // agents' bar
    let png = stack.logs.join("report.png");
    local_stack::browser::screenshot(&page, &png).expect("the page renders");
    let picture = local_stack::browser::colours(&png, &["1f77b4", "d62728", "2ca02c"])
        .expect("the picture's colours");
    let count = |c: &str| picture["counts"][c].as_u64().unwrap_or(0);
    assert!(
        count("1f77b4") > 1_000,
        "source line and agents bar: {picture}"
    );
    assert!(count("d62728") > 300, "replica line: {picture}");
    assert!(count("2ca02c") > 5_000, "the kinds' bars: {picture}");

    // bad usage is 2, with clap's message
    let usage = stack.grctl(SOURCE_REGION, &["failover"]).await;
    assert_eq!(usage.code, 2, "{usage:#?}");
    // the table output reads as a page
    let text = stack.grctl(SOURCE_REGION, &["status"]).await;
    assert_eq!(text.code, 0, "{text:#?}");
    assert!(
        text.stdout.contains("(default)") && text.stdout.contains("lock: free"),
        "{}",
        text.stdout
    );
}

/// The EMF metric `name` of the documents: (unit, dimension names, value) of each.
fn emf(docs: &[Value], name: &str) -> Vec<(String, Vec<String>, Value)> {
    let mut out = Vec::new();
    for d in docs {
        for cw in d["_aws"]["CloudWatchMetrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            assert_eq!(cw["Namespace"], "ACGR", "{d:#}");
            for m in cw["Metrics"].as_array().into_iter().flatten() {
                if m["Name"] == name {
                    let dims: Vec<String> = cw["Dimensions"][0]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect();
                    // a histogram's values are a list: its last
                    let value = match &d[name] {
                        Value::Array(values) => values.last().cloned().unwrap_or(Value::Null),
                        v => v.clone(),
                    };
                    out.push((m["Unit"].as_str().unwrap_or("").to_string(), dims, value));
                }
            }
        }
    }
    out
}

/// Every dimension of each document is a member of it, with a value.
fn dimensions_are_members(docs: &[Value]) {
    for d in docs {
        for cw in d["_aws"]["CloudWatchMetrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for set in cw["Dimensions"].as_array().into_iter().flatten() {
                for dim in set.as_array().into_iter().flatten() {
                    let name = dim.as_str().unwrap_or("");
                    assert!(d[name].is_string(), "{name} has no value in {d:#}");
                }
            }
        }
    }
}
