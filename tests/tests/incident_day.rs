//! Incident day across two regions, on a world as unkind as AWS: the run table replicates with a
//! lag of 15 s and nothing waits for it to converge before acting (no `wait_replicated` before a
//! command: only "time passes", as sleeps, where a real incident has hours between two steps);
//! Connect's two regions see each other's traffic distribution changes late
//! (`crossRegionLagSeconds`); a corrected request is sent again under the same ID; a group is
//! deleted after it was recorded; an incident event arrives late; the replica region's table
//! does not have the episode when the source region fails back.

use acgr::run::{AgentSyncRequest, FailoverRequest};
use std::time::Duration;

use acgr::run::{Lock, RunKind};
use acgr::store::dynamo::DynamoRunStore;
use acgr::store::ports::*;
use acgr_e2e::sim_api::SettingsChange;
use acgr_e2e::{
    default_group, replication_input, Execution, Options, Outage, Stack, INSTANCE_ID,
    REPLICA_REGION, SOURCE_REGION, TABLE_NAME,
};
use serde_json::{json, Value};

const EAST: &str = SOURCE_REGION;
const WEST: &str = REPLICA_REGION;
const LAG: Duration = Duration::from_secs(15);
const RUN: Duration = Duration::from_secs(240);

/// A replicated instance on a two-region stack whose table replicates with [`LAG`]; then time
/// passes (twice the lag: what a replication has recorded reaches the replica region's table,
/// as it has hours before any incident).
async fn replicated() -> Stack {
    let stack = Stack::start(Options::two_regions("small", 100.0).replication_lag(LAG))
        .await
        .expect("the two-region stack starts");
    let e = stack
        .run_execution("replication", "repl", &replication_input(1, 120), RUN)
        .await
        .expect("replication");
    assert_eq!(e.status, "SUCCEEDED", "{e:?}");
    time_passes(&stack).await;
    stack
}

async fn time_passes(stack: &Stack) {
    stack.time_passes().await.expect("time passes");
}

async fn run_in(stack: &Stack, region: &str, name: &str, input: &Value) -> Execution {
    let arn = stack
        .start_execution_in(region, "failover", name, input)
        .await
        .unwrap_or_else(|e| panic!("start {name} in {region}: {e}"));
    stack
        .wait_execution_in(region, &arn, RUN)
        .await
        .unwrap_or_else(|e| panic!("{name} in {region}: {e}"))
}

fn plan(east: u8) -> Value {
    let split = json!({EAST: east, WEST: 100 - east});
    json!(FailoverRequest::plan(
        INSTANCE_ID,
        json!({"telephony": split, "agents": split, "signIn": {EAST: true, WEST: true}})
    ))
}

fn failover_to(region: &str) -> Value {
    json!(FailoverRequest::failover_to(INSTANCE_ID, region))
}

fn failback() -> Value {
    json!(FailoverRequest::failback(INSTANCE_ID))
}

/// Telephony percent of `region` in the default group, as `view` (a region) reads it.
async fn telephony(stack: &Stack, view: &str, region: &str) -> u64 {
    let state = stack.sim_state().await;
    let g = default_group(&state);
    g["views"][view]["telephony"][region]
        .as_u64()
        .unwrap_or_else(|| panic!("no view of {view} in {g:#}"))
}

fn event(request_id: &str, detail: Value, time: &str) -> Value {
    let mut detail = detail;
    detail["requestId"] = json!(request_id);
    json!({
        "version": "0", "detail-type": "ACGR Traffic Shift Requested", "source": "acgr.incident",
        "time": time, "detail": detail
    })
}

fn now_rfc3339() -> String {
    acgr::run::request::rfc3339(acgr::run::handler::epoch_millis() as i64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrected_resend_runs_a_deleted_group_is_skipped_and_a_late_event_is_refused() {
    let stack = replicated().await;
    let started = now_rfc3339();

    // A group created and recorded by an agent sync, then deleted: it stays on record.
    let east = stack.connect(EAST).await;
    let created = east
        .create_traffic_distribution_group()
        .name("spare")
        .instance_id(INSTANCE_ID)
        .send()
        .await
        .expect("CreateTrafficDistributionGroup");
    let spare = created.arn().expect("its ARN").to_string();
    stack.advance_clock(120).await;
    let e = stack
        .run_execution(
            "agent-sync",
            "sync-1",
            &json!(AgentSyncRequest::new(INSTANCE_ID)),
            RUN,
        )
        .await
        .expect("agent sync");
    assert_eq!(e.status, "SUCCEEDED", "{e:?}");
    assert!(stack
        .item(INSTANCE_ID, &format!("GROUP#{spare}"))
        .await
        .is_some());
    // (recorded long before the incident: it has reached the replica region's table)
    time_passes(&stack).await;
    east.delete_traffic_distribution_group()
        .traffic_distribution_group_id(&spare)
        .send()
        .await
        .expect("DeleteTrafficDistributionGroup");
    stack.advance_clock(120).await;

    // A stale lock of another shift holds the instance in us-west-2's table.
    let west_store = DynamoRunStore::new(stack.deployment(WEST).dynamodb.clone(), TABLE_NAME);
    let now = acgr::now();
    let stale = Lock::new(INSTANCE_ID, "INC-old", RunKind::Failover, 3600, now);
    west_store
        .acquire_lock(&stale, now)
        .await
        .expect("the stale lock");

    // The incident request reaches us-west-2: refused by the lock.
    let first = event("INC-1", failover_to(WEST), &now_rfc3339());
    let out = stack
        .invoke_in(WEST, "incident-intake", first.clone())
        .await
        .expect("intake");
    assert_eq!(out["duplicate"], false);
    let arn = out["executionArn"].as_str().unwrap().to_string();
    let e = stack.wait_execution_in(WEST, &arn, RUN).await.unwrap();
    assert_eq!(e.error.as_deref(), Some("RunInProgress"), "{e:?}");

    // The runbook's answer: the same request ID again, with breakLock and a reason. It runs as
    // its own attempt (it was swallowed as a duplicate before).
    let mut corrected = first.clone();
    corrected["detail"]["breakLock"] = json!(true);
    corrected["detail"]["reason"] = json!("INC-old died with us-east-1");
    corrected["time"] = json!(now_rfc3339());
    let again = stack
        .invoke_in(WEST, "incident-intake", corrected.clone())
        .await
        .expect("intake of the corrected request");
    assert_eq!(again["duplicate"], false, "{again:#}");
    assert_eq!(again["attemptOf"], "INC-1", "{again:#}");
    let attempt = again["executionArn"].as_str().unwrap().to_string();
    assert_ne!(attempt, arn);
    let e = stack.wait_execution_in(WEST, &attempt, RUN).await.unwrap();
    assert_eq!(e.status, "SUCCEEDED", "{e:?}");
    assert_eq!(telephony(&stack, WEST, WEST).await, 100);
    // the corrected request delivered again runs once; so does the first one
    for (ev, want) in [(corrected, &attempt), (first, &arn)] {
        let dup = stack.invoke_in(WEST, "incident-intake", ev).await.unwrap();
        assert_eq!(dup["duplicate"], true, "{dup:#}");
        assert_eq!(dup["executionArn"].as_str(), Some(want.as_str()));
    }

    // The deleted group did not block the failover: skipped, and reported gone.
    let name = again["executionName"].as_str().unwrap();
    let run = west_store
        .get_run(INSTANCE_ID, name)
        .await
        .unwrap()
        .expect("the attempt's run");
    let result = &run.steps["shift-traffic"];
    assert_eq!(result["gone"], json!([spare]), "{result:#}");

    // A late incident event: delivered after the failback, made before it. Refused as stale.
    let back = run_in(&stack, EAST, "back-1", &failback()).await;
    assert_eq!(back.status, "SUCCEEDED", "{back:?}");
    assert_eq!(telephony(&stack, EAST, EAST).await, 100);
    let late = event("INC-late", failover_to(WEST), &started);
    let out = stack
        .invoke_in(EAST, "incident-intake", late)
        .await
        .expect("intake of the late event");
    let arn = out["executionArn"].as_str().unwrap().to_string();
    let e = stack.wait_execution_in(EAST, &arn, RUN).await.unwrap();
    assert_eq!(e.error.as_deref(), Some("Unsafe"), "{e:?}");
    assert!(
        e.cause
            .as_deref()
            .unwrap_or("")
            .contains("after this request was made"),
        "{e:?}"
    );
    assert_eq!(telephony(&stack, EAST, EAST).await, 100, "nothing undone");

    // The next agent sync marks the deleted group gone on record.
    let e = stack
        .run_execution(
            "agent-sync",
            "sync-2",
            &json!(AgentSyncRequest::new(INSTANCE_ID)),
            RUN,
        )
        .await
        .expect("agent sync");
    assert_eq!(e.status, "SUCCEEDED", "{e:?}");
    let item = stack
        .item(INSTANCE_ID, &format!("GROUP#{spare}"))
        .await
        .expect("kept on record");
    assert!(item.data["goneAt"].is_i64(), "{:#}", item.data);

    // An item written by a newer version (unknown status, unknown member) and a damaged one do
    // not stop a shift from reading the table.
    for (sk, data) in [
        (
            "SHIFT#999999999999#newer#g",
            json!({"runId": "newer", "status": "verified"}),
        ),
        (
            "GROUP#arn:aws:connect:us-east-1:1:traffic-distribution-group/x",
            json!({"what": 1}),
        ),
    ] {
        stack
            .dynamodb
            .put_item()
            .table_name(TABLE_NAME)
            .item(
                "pk",
                aws_sdk_dynamodb::types::AttributeValue::S(format!("INSTANCE#{INSTANCE_ID}")),
            )
            .item("sk", aws_sdk_dynamodb::types::AttributeValue::S(sk.into()))
            .item(
                "data",
                aws_sdk_dynamodb::types::AttributeValue::S(data.to_string()),
            )
            .send()
            .await
            .expect("put");
    }
    let e = run_in(&stack, EAST, "plan-after-newer", &plan(70)).await;
    assert_eq!(e.status, "SUCCEEDED", "{e:?}");
    assert_eq!(telephony(&stack, EAST, EAST).await, 70);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failback_before_the_tables_converge_leaves_no_zombie_and_the_next_one_restores_70_30() {
    let stack = replicated().await;
    let replicator = stack.replicator().expect("two regions");

    // The source region fails; the replica region fails over alone.
    stack.region_down(EAST, Outage::Unavailable).await.unwrap();
    let over = run_in(&stack, WEST, "INC-a", &failover_to(WEST)).await;
    assert_eq!(over.status, "SUCCEEDED", "{over:?}");

    // It comes back, but the table's replication from us-west-2 is still stalled: us-east-1's
    // table has neither the episode nor the failover's shifts.
    replicator.pause(WEST).await.unwrap();
    stack.region_up(EAST).await.unwrap();
    // an agent sync in that window does not take the failed-over split for the steady state
    let e = stack
        .run_execution(
            "agent-sync",
            "sync-window",
            &json!(AgentSyncRequest::new(INSTANCE_ID)),
            RUN,
        )
        .await
        .expect("agent sync");
    assert_eq!(e.status, "SUCCEEDED", "{e:?}");
    let group = stack
        .items_in(EAST)
        .await
        .into_iter()
        .find(|i| i.sk.starts_with("GROUP#") && i.data["isDefault"] == true)
        .expect("the default group on record");
    assert_eq!(
        group.data["steady"]["telephony"][0][1], 100,
        "{:#}",
        group.data
    );
    assert!(group.data["unexplained"].is_object(), "{:#}", group.data);

    // Failback at once: it restores the steady state (it used to restore the failed-over split
    // recorded by that sync: a silent no-op).
    let back = run_in(&stack, EAST, "INC-a-back", &failback()).await;
    assert_eq!(back.status, "SUCCEEDED", "{back:?}");
    assert_eq!(telephony(&stack, EAST, EAST).await, 100);

    // Replication resumes; the episode written in us-west-2 arrives late and loses to the
    // failback's tombstone. Time passes; then a 70/30 steady state is set with a plan.
    replicator.resume(WEST).await.unwrap();
    time_passes(&stack).await;
    let steady = run_in(&stack, EAST, "steady-70", &plan(70)).await;
    assert_eq!(steady.status, "SUCCEEDED", "{steady:?}");
    for region in [EAST, WEST] {
        let open: Vec<_> = stack
            .items_in(region)
            .await
            .into_iter()
            .filter(|i| i.sk.starts_with("EPISODE#") && !i.data["closedAt"].is_i64())
            .collect();
        assert!(open.is_empty(), "a zombie episode in {region}: {open:#?}");
    }
    time_passes(&stack).await;

    // A new incident and its failback (again before the tables converge) restore 70/30.
    let over = run_in(&stack, WEST, "INC-b", &failover_to(WEST)).await;
    assert_eq!(over.status, "SUCCEEDED", "{over:?}");
    assert_eq!(telephony(&stack, WEST, WEST).await, 100);
    let back = run_in(&stack, EAST, "INC-b-back", &failback()).await;
    assert_eq!(back.status, "SUCCEEDED", "{back:?}");
    assert_eq!(
        telephony(&stack, EAST, EAST).await,
        70,
        "the steady state of 70/30"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failover_and_a_plan_from_the_two_regions_at_once_end_with_one_outcome() {
    let stack = replicated().await;
    // Connect's regions see each other's changes 5 s late (500 simulated seconds)
    stack
        .sim_client()
        .change_settings(&SettingsChange {
            cross_region_lag_seconds: Some(500.0),
            ..Default::default()
        })
        .await
        .expect("the lag");

    // A failover from us-west-2 and a 50/50 plan from us-east-1, started together.
    let over = failover_to(WEST);
    let half = plan(50);
    let (a, b) = tokio::join!(
        run_in(&stack, WEST, "INC-x", &over),
        run_in(&stack, EAST, "plan-50", &half)
    );
    eprintln!("failover: {a:?}\nplan: {b:?}");

    // The regions converge (10 s past both), then every view reads one split.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (in_east, in_west) = (
        telephony(&stack, EAST, WEST).await,
        telephony(&stack, WEST, WEST).await,
    );
    assert_eq!(in_east, in_west, "both regions read one split");
    let stands = in_west;
    // A run that reports success reports the split that stands; at most one of them does.
    let winners: Vec<&str> = [(&a, 100, "failover"), (&b, 50, "plan")]
        .iter()
        .filter(|(e, _, _)| e.status == "SUCCEEDED")
        .map(|(_, want, what)| {
            assert_eq!(
                stands, *want,
                "{what} reported success for a split that did not stand"
            );
            *what
        })
        .collect();
    assert!(winners.len() <= 1, "{winners:?}");
    for (e, what) in [(&a, "failover"), (&b, "plan")] {
        if e.status != "SUCCEEDED" {
            assert_eq!(e.error.as_deref(), Some("Unsafe"), "{what}: {e:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failback_before_the_tables_converge_restores_the_split_only_the_other_region_recorded() {
    use aws_sdk_connect::types::{
        AgentConfig, Distribution, SignInConfig, SignInDistribution, TelephonyConfig,
    };
    let stack = replicated().await;
    let replicator = stack.replicator().expect("two regions");

    // Someone moved the default group to 80/20 (sign-in in both regions) in the console: live,
    // but not the steady state on record (100/0).
    let state = stack.sim_state().await;
    let arn = default_group(&state)["arn"].as_str().unwrap().to_string();
    let split = |east: i32| {
        vec![
            Distribution::builder()
                .region(EAST)
                .percentage(east)
                .build()
                .unwrap(),
            Distribution::builder()
                .region(WEST)
                .percentage(100 - east)
                .build()
                .unwrap(),
        ]
    };
    stack
        .connect(EAST)
        .await
        .update_traffic_distribution()
        .id(&arn)
        .telephony_config(
            TelephonyConfig::builder()
                .set_distributions(Some(split(80)))
                .build()
                .unwrap(),
        )
        .agent_config(
            AgentConfig::builder()
                .set_distributions(Some(split(80)))
                .build()
                .unwrap(),
        )
        .sign_in_config(
            SignInConfig::builder()
                .set_distributions(Some(
                    [EAST, WEST]
                        .map(|r| {
                            SignInDistribution::builder()
                                .region(r)
                                .enabled(true)
                                .build()
                                .unwrap()
                        })
                        .to_vec(),
                ))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("the console's update");
    stack.advance_clock(60).await;
    assert_eq!(telephony(&stack, WEST, EAST).await, 80);

    // The incident: the replica region fails over alone; its episode keeps 80/20.
    stack.region_down(EAST, Outage::Unavailable).await.unwrap();
    let over = run_in(&stack, WEST, "INC-c", &failover_to(WEST)).await;
    assert_eq!(over.status, "SUCCEEDED", "{over:?}");

    // Back, with the table's replication stalled: the failback reads the episode from the
    // replica region's table and restores 80/20, where the traffic was (not the 100/0 on record
    // in its own table).
    replicator.pause(WEST).await.unwrap();
    stack.region_up(EAST).await.unwrap();
    let back = run_in(&stack, EAST, "INC-c-back", &failback()).await;
    assert_eq!(back.status, "SUCCEEDED", "{back:?}");
    assert_eq!(
        telephony(&stack, EAST, EAST).await,
        80,
        "exactly where it was"
    );
    replicator.resume(WEST).await.unwrap();
}
