//! Global routing on the two-region stack, as AWS ships it today: an instance created since
//! 2026-09-01 routes contacts across regions; a failover that leaves an impaired region isolates
//! it (one UpdateCrossRegionRouting, in the region taking the traffic), a planned one keeps
//! routing on, the failback restores what the failover found; an older instance makes no routing
//! call at all, and migrates through grctl once AWS granted it; findings of a type this version
//! has never seen are shown as unknown and the replication still completes.

use std::time::Duration;

use acgr::run::FailoverRequest;
use acgr_e2e::sim_api::{SettingsChange, StagedFinding};
use acgr_e2e::{
    default_group, replication_input, Execution, GrctlRun, Options, Outage, Stack, INSTANCE_ID,
    REPLICA_REGION, SOURCE_REGION,
};
use serde_json::{json, Value};

const EAST: &str = SOURCE_REGION;
const WEST: &str = REPLICA_REGION;
const LAG: Duration = Duration::from_secs(5);
const RUN: Duration = Duration::from_secs(240);

/// The scenario replicated on a two-region stack whose table replicates with [`LAG`]; then time
/// passes (what the replication recorded reaches the replica region's table).
async fn replicated(scenario: &str, opts: impl FnOnce(Options) -> Options) -> Stack {
    let stack = Stack::start(opts(
        Options::two_regions(scenario, 100.0).replication_lag(LAG),
    ))
    .await
    .expect("the two-region stack starts");
    let e = stack
        .run_execution("replication", "repl", &replication_input(1, 120), RUN)
        .await
        .expect("replication");
    assert_eq!(e.status, "SUCCEEDED", "{e:?}");
    stack.time_passes().await.expect("time passes");
    stack
}

async fn run_in(stack: &Stack, region: &str, name: &str, input: &FailoverRequest) -> Execution {
    let arn = stack
        .start_execution_in(region, "failover", name, &json!(input))
        .await
        .unwrap_or_else(|e| panic!("start {name} in {region}: {e}"));
    stack
        .wait_execution_in(region, &arn, RUN)
        .await
        .unwrap_or_else(|e| panic!("{name} in {region}: {e}"))
}

/// The instance in connect-sim's state.
async fn instance(stack: &Stack) -> Value {
    let state = stack.sim_state().await;
    state["instances"]
        .as_array()
        .and_then(|is| is.iter().find(|i| i["id"] == INSTANCE_ID))
        .cloned()
        .unwrap_or_else(|| panic!("no instance in {state:#}"))
}

/// The regions isolated from cross-region routing, as `view` (a region) sees it.
async fn isolated(stack: &Stack, view: &str) -> Vec<String> {
    let i = instance(stack).await;
    serde_json::from_value(i["isolatedRegions"][view].clone())
        .unwrap_or_else(|e| panic!("isolatedRegions of {view} ({e}): {i:#}"))
}

/// The regions of the calls of `operation` connect-sim logged.
async fn routing_calls(stack: &Stack, operation: &str) -> Vec<String> {
    routing_calls_since(stack, operation, 0).await
}

/// The regions of the calls of `operation` connect-sim logged after the call `seq`.
async fn routing_calls_since(stack: &Stack, operation: &str, seq: u64) -> Vec<String> {
    stack
        .sim_calls(Some(operation))
        .await
        .iter()
        .filter(|c| c["seq"].as_u64().unwrap_or(0) > seq)
        .map(|c| c["region"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The sequence number of the last call connect-sim logged.
async fn last_seq(stack: &Stack) -> u64 {
    stack
        .sim_calls(None)
        .await
        .last()
        .and_then(|c| c["seq"].as_u64())
        .unwrap_or(0)
}

async fn telephony(stack: &Stack, view: &str, region: &str) -> u64 {
    let g = default_group(&stack.sim_state().await);
    g["views"][view]["telephony"][region]
        .as_u64()
        .unwrap_or_else(|| panic!("no view of {view} in {g:#}"))
}

/// The routing line of grctl status, per region.
fn routing_of(status: &Value, region: &str) -> Value {
    status["regions"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["region"] == region))
        .map(|r| r["routing"].clone())
        .unwrap_or_else(|| panic!("no region {region}: {status:#}"))
}

/// The data of the instance's item `sk` in `region`'s run table.
async fn item_in(stack: &Stack, region: &str, sk: &str) -> Value {
    stack
        .items_in(region)
        .await
        .into_iter()
        .find(|i| i.sk == sk && i.pk.ends_with(INSTANCE_ID))
        .map(|i| i.data)
        .unwrap_or_else(|| panic!("no {sk} in {region}'s table"))
}

fn ok(run: &GrctlRun) -> Value {
    assert_eq!(run.code, 0, "{run:#?}");
    run.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_region_down_the_failover_isolates_and_the_failback_restores_routing() {
    let stack = replicated("small", |o| o).await;
    assert_eq!(instance(&stack).await["globalRouting"], true);
    let before = ok(&stack.grctl(EAST, &["status", "--output", "json"]).await);
    for region in [EAST, WEST] {
        assert_eq!(
            routing_of(&before, region),
            json!({"state": "on", "isolatedRegions": []}),
            "{before:#}"
        );
    }

    // us-east-1 fails: the incident request reaches us-west-2
    stack
        .region_down(EAST, Outage::Unavailable)
        .await
        .expect("region down");
    let incident = last_seq(&stack).await;
    let request = json!({
        "version": "0", "detail-type": "ACGR Traffic Shift Requested", "source": "acgr.incident",
        "detail": {"requestId": "INC-7", "instanceId": INSTANCE_ID, "targetRegion": WEST}
    });
    let out = stack
        .invoke_in(WEST, "incident-intake", request)
        .await
        .expect("intake");
    let arn = out["executionArn"].as_str().expect("started").to_string();
    let e = stack.wait_execution_in(WEST, &arn, RUN).await.unwrap();
    assert_eq!(e.status, "SUCCEEDED", "{e:?}");
    assert_eq!(telephony(&stack, WEST, WEST).await, 100);

    // one UpdateCrossRegionRouting, in us-west-2; every routing call of the failover went there
    assert_eq!(
        routing_calls(&stack, "UpdateCrossRegionRouting").await,
        [WEST]
    );
    let reads = routing_calls_since(&stack, "GetCrossRegionRouting", incident).await;
    assert!(
        !reads.is_empty() && reads.iter().all(|r| r == WEST),
        "{reads:?}"
    );
    assert_eq!(isolated(&stack, WEST).await, [EAST, WEST]);
    let run = item_in(&stack, WEST, "RUN#INC-7").await;
    let routing = &run["steps"]["shift-traffic"]["routing"];
    assert_eq!(routing["isolatedAll"], true, "{run:#}");
    assert!(
        routing["why"].as_str().unwrap_or("").contains("impaired"),
        "{routing:#}"
    );
    // the routing it found is on record, in the region that acted
    let episode = item_in(&stack, WEST, "ROUTING#EPISODE").await;
    assert_eq!(
        episode["before"]["isolatedRegions"],
        json!([]),
        "{episode:#}"
    );
    assert_eq!(episode["isolated"], true);

    // us-east-1 comes back; hours pass; the failback from us-east-1 restores the routing and
    // the split
    stack.region_up(EAST).await.expect("region up");
    stack.time_passes().await.expect("time passes");
    let back = run_in(
        &stack,
        EAST,
        "back-7",
        &FailoverRequest::failback(INSTANCE_ID),
    )
    .await;
    assert_eq!(back.status, "SUCCEEDED", "{back:?}");
    assert_eq!(telephony(&stack, EAST, EAST).await, 100);
    assert_eq!(
        routing_calls(&stack, "UpdateCrossRegionRouting").await,
        [WEST, EAST],
        "the failback's one call, in the region taking the traffic back"
    );
    assert!(isolated(&stack, EAST).await.is_empty());
    stack.advance_clock(60).await;
    let after = ok(&stack.grctl(EAST, &["status", "--output", "json"]).await);
    for region in [EAST, WEST] {
        assert_eq!(
            routing_of(&after, region)["isolatedRegions"],
            json!([]),
            "{after:#}"
        );
    }
    assert!(after["routingEpisode"].is_null(), "{after:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planned_failover_keeps_routing_on_and_an_older_instance_gets_no_routing_call() {
    // both regions up: the failover is planned, routing stays on
    let stack = replicated("small", |o| o).await;
    let e = run_in(
        &stack,
        WEST,
        "planned",
        &FailoverRequest::failover_to(INSTANCE_ID, WEST),
    )
    .await;
    assert_eq!(e.status, "SUCCEEDED", "{e:?}");
    assert!(routing_calls(&stack, "UpdateCrossRegionRouting")
        .await
        .is_empty());
    assert!(isolated(&stack, WEST).await.is_empty());
    // the dry run of an `always` shows the call it would make, and makes none
    let dry_run = json!({
        "runId": "plan-always", "instanceId": INSTANCE_ID, "preset": {"failoverTo": WEST},
        "isolate": "always", "dryRun": true
    });
    let out = stack
        .invoke_in(WEST, "shift-traffic", dry_run)
        .await
        .expect("the dry run");
    let calls = out["calls"].as_array().cloned().unwrap_or_default();
    assert!(
        calls
            .iter()
            .any(|c| c["operation"] == "UpdateCrossRegionRouting" && c["region"] == WEST),
        "{out:#}"
    );
    assert!(routing_calls(&stack, "UpdateCrossRegionRouting")
        .await
        .is_empty());
    drop(stack);

    // an instance created before global routing: the incident path makes no routing call
    let stack = replicated("legacy", |o| o).await;
    assert_eq!(instance(&stack).await["globalRouting"], false);
    stack
        .region_down(EAST, Outage::Unavailable)
        .await
        .expect("region down");
    let e = run_in(
        &stack,
        WEST,
        "legacy-failover",
        &FailoverRequest::failover_to(INSTANCE_ID, WEST),
    )
    .await;
    assert_eq!(e.status, "SUCCEEDED", "{e:?}");
    assert_eq!(telephony(&stack, WEST, WEST).await, 100);
    for op in ["GetCrossRegionRouting", "UpdateCrossRegionRouting"] {
        assert!(routing_calls(&stack, op).await.is_empty(), "{op}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_instance_migrates_through_grctl_once_granted() {
    let stack = replicated("legacy", |o| o).await;
    let standing = ok(&stack
        .grctl(EAST, &["global-routing", "--output", "json"])
        .await);
    assert_eq!(standing["state"], "notEnabled", "{standing:#}");
    assert_eq!(standing["granted"], "unknown", "{standing:#}");

    // not granted: the re-run is refused, nothing changes, grctl says what to do
    let refused = stack
        .grctl(EAST, &["global-routing", "--migrate", "--run-id", "mig-1"])
        .await;
    assert_ne!(refused.code, 0, "{refused:#?}");
    assert!(refused.stdout.contains("AWS Support"), "{refused:#?}");
    let standing = ok(&stack
        .grctl(EAST, &["global-routing", "--output", "json"])
        .await);
    assert_eq!(standing["granted"], "notGranted", "{standing:#}");
    assert_eq!(instance(&stack).await["globalRouting"], false);

    // AWS Support grants it: the migration runs through the replication machine
    stack
        .sim_client()
        .change_settings(&SettingsChange {
            global_routing_granted: Some(true),
            ..Default::default()
        })
        .await
        .expect("granted");
    let migrated = stack
        .grctl(
            EAST,
            &[
                "global-routing",
                "--migrate",
                "--run-id",
                "mig-2",
                "--output",
                "json",
            ],
        )
        .await;
    let out = ok(&migrated);
    assert_eq!(out["migration"]["status"], "SUCCEEDED", "{out:#}");
    assert_eq!(out["globalRouting"]["state"], "enabled", "{out:#}");
    assert!(
        out["globalRouting"]["remaining"]
            .as_array()
            .is_some_and(|r| r
                .iter()
                .any(|x| x.as_str().unwrap_or("").contains("secondaryCCPUrl"))),
        "{out:#}"
    );
    assert_eq!(stack.accepted_calls("ReplicateInstance").await.len(), 2);
    assert_eq!(instance(&stack).await["globalRouting"], true);
    let run = item_in(&stack, EAST, "RUN#mig-2").await;
    assert_eq!(
        run["steps"]["replicate"]["state"], "migration-accepted",
        "{run:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_of_a_type_never_seen_show_as_unknown_and_the_replication_completes() {
    let stack = Stack::start(
        Options::state_machines("small", 100.0).env("EXTRA_FINDING_TYPES", "EVALUATION_FORM"),
    )
    .await
    .expect("the stack starts");
    let sim = stack.sim_client();
    sim.change_settings(&SettingsChange {
        extra_finding_types: Some(vec!["EVALUATION_FORM".into()]),
        ..Default::default()
    })
    .await
    .expect("the service reports a new type");
    for (resource_type, code) in [
        ("EVALUATION_FORM", "EVALUATION_FORM_VERSION_PENDING"),
        ("VIEW", "VIEW_ACTION_SKEW"),
    ] {
        sim.stage_finding(&StagedFinding {
            instance_id: INSTANCE_ID.into(),
            resource_type: resource_type.into(),
            name: format!("a {resource_type}"),
            id: None,
            region: Some(WEST.into()),
            operation: Some("UPDATE".into()),
            reference_code: Some(code.into()),
            message: Some(format!("{code}: the service says why")),
            blocking: false,
        })
        .await
        .expect("staged");
    }
    let e = stack
        .run_execution("replication", "repl", &replication_input(1, 120), RUN)
        .await
        .expect("replication");
    assert_eq!(e.status, "SUCCEEDED", "{e:?}");
    // (a one-region stack: us-west-2's run table is not deployed, so status exits 4)
    let status = stack
        .grctl(EAST, &["status", "--output", "json"])
        .await
        .json();
    let types = status["types"].as_array().expect("types");
    for resource_type in ["EVALUATION_FORM", "VIEW"] {
        let t = types
            .iter()
            .find(|t| t["resourceType"] == resource_type)
            .unwrap_or_else(|| panic!("{resource_type} in {status:#}"));
        assert_eq!(t["counts"]["unknown"], 1, "{t:#}");
        assert_eq!(t["findings"][0]["class"], "unknown", "{t:#}");
        assert!(
            t["findings"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains("the service says why"),
            "{t:#}"
        );
    }
    let asked = routing_calls(&stack, "ListReplicationFindings").await.len();
    assert!(
        asked >= 28,
        "every documented type and the new one: {asked}"
    );
    let text = stack.grctl(EAST, &["status"]).await;
    assert!(text.stdout.contains("EVALUATION_FORM"), "{text:#?}");
    assert!(
        text.stdout.contains("never mirrored by design"),
        "{text:#?}"
    );
}
