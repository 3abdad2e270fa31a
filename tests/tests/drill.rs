//! The region-outage drill (`local_stack::drill`): with the source region's Connect API and its
//! deployment down, the replica region's deployment alone moves every group there at Connect's
//! real quotas, and failback from the recovered source region restores the steady state
//! recorded before the incident, 70/30 included.

use acgr::run::FailoverRequest;
use std::time::Duration;

use acgr_e2e::{Options, Stack, INSTANCE_ID, REPLICA_REGION, SOURCE_REGION};
use local_stack::drill::{self, Drill};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_fails_over_from_the_replica_region_alone_and_back_to_70_30() {
    // the run table replicates with a lag of 15 s: nothing waits for it to converge
    let opts = Options::two_regions("small", 100.0).replication_lag(Duration::from_secs(15));
    let stack = Stack::start(opts)
        .await
        .expect("the two-region stack starts");
    // and every Connect call takes 30 to 80 ms, as over the network
    stack
        .sim_client()
        .change_settings(&acgr_e2e::sim_api::SettingsChange {
            call_latency_ms: Some(30),
            call_latency_jitter_ms: Some(50),
            ..Default::default()
        })
        .await
        .expect("the latency model");
    let mut d = Drill::new(INSTANCE_ID, "INC-drill-small");
    d.steady_source_percent = Some(70);
    d.timeout = Duration::from_secs(300);

    let report = drill::run(&stack, &d).await.expect("the drill");
    report.print();

    let steady = report.split_after("steady state").unwrap().to_vec();
    assert_eq!(steady.len(), 2, "the default group and sales: {steady:?}");
    assert!(steady.iter().all(|g| g.telephony[SOURCE_REGION] == 70));

    // failed over: every group, telephony and agents 100% in the replica, sign-in only there
    let during = report
        .split_after(&format!("failover ({SOURCE_REGION} down)"))
        .unwrap();
    for g in during {
        assert_eq!(g.telephony[REPLICA_REGION], 100, "{g}");
        assert_eq!(g.agents[REPLICA_REGION], 100, "{g}");
    }
    let default = &during[0];
    assert!(default.is_default);
    assert!(default.sign_in[REPLICA_REGION], "{default}");
    assert!(!default.sign_in[SOURCE_REGION], "{default}");

    // while the source region was down every successful Connect call went to the replica region,
    // and our failover called nothing in the source region
    let outage = &report.calls_during_outage;
    assert!(outage[REPLICA_REGION].ok > 0, "{outage:?}");
    assert_eq!(
        outage.get(SOURCE_REGION).map_or(0, |c| c.ok),
        0,
        "{outage:?}"
    );
    // nothing but the reads that try to confirm the shift there too, and the probe that finds it
    // impaired (they fail: it is down)
    let source_ops = outage
        .get(SOURCE_REGION)
        .map(|c| c.operations.clone())
        .unwrap_or_default();
    assert!(
        source_ops
            .iter()
            .all(|o| o == "GetTrafficDistribution" || o == "DescribeInstance"),
        "{outage:?}"
    );
    // global routing (the scenario's instance is new): isolated by the failover, in the replica
    // region only; on again after the failback
    assert!(outage[REPLICA_REGION]
        .operations
        .contains("UpdateCrossRegionRouting"));
    let routing = |phase: &str| {
        report
            .routing
            .iter()
            .find(|(p, _)| p == phase)
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    };
    let failed_over = routing(&format!("failover ({SOURCE_REGION} down)"));
    assert!(
        failed_over.contains(&format!("{REPLICA_REGION} sees isolated")),
        "{failed_over}"
    );
    // (the replica region sees the source region's update a lag later)
    assert!(
        routing("failback").starts_with(&format!("{SOURCE_REGION} sees on")),
        "{:?}",
        report.routing
    );
    assert_eq!(
        outage[REPLICA_REGION].failed, 0,
        "nothing but throttling (retried) may fail at real quotas: {outage:?}"
    );
    assert!(
        report.calls_before_update <= 10,
        "{}",
        report.calls_before_update
    );
    assert!(report.redelivery_ran_once);

    // failback (run before the tables converged) restores exactly the steady state
    assert_eq!(report.split_after("failback").unwrap(), steady.as_slice());
    // with both regions up, either region's deployment fails back: over from the source
    // region's, back from the replica region's
    let over = json!(FailoverRequest::failover_to(INSTANCE_ID, REPLICA_REGION));
    let back = json!(FailoverRequest::failback(INSTANCE_ID));
    // (one right after the other: neither waits for the tables to converge)
    for (region, name, input) in [
        (SOURCE_REGION, "over-from-source", &over),
        (REPLICA_REGION, "back-from-replica", &back),
    ] {
        let arn = stack
            .start_execution_in(region, "failover", name, input)
            .await
            .expect("start");
        let e = stack
            .wait_execution_in(region, &arn, Duration::from_secs(120))
            .await
            .expect("ends");
        assert_eq!(e.status, "SUCCEEDED", "{name}: {e:?}");
    }
    assert_eq!(
        drill::splits(&stack).await,
        steady,
        "back from the replica region's deployment"
    );
    // The end state, once the tables have converged (checked after the last command: no command
    // above waited for it): no episode is open in either region, the failbacks' tombstones
    // outlived the episodes written during the incident
    stack
        .wait_replicated(Duration::from_secs(120))
        .await
        .expect("converged after the drill");
    for region in [SOURCE_REGION, REPLICA_REGION] {
        let episodes: Vec<_> = stack
            .items_in(region)
            .await
            .into_iter()
            .filter(|i| i.sk.starts_with("EPISODE#"))
            .collect();
        assert!(!episodes.is_empty(), "tombstones in {region}");
        assert!(
            episodes.iter().all(|e| e.data["closedAt"].is_i64()),
            "the failback closed the episodes in {region}: {episodes:#?}"
        );
    }
    // the failover's run item, written in the replica region, reached the source region
    let run = stack
        .items_in(SOURCE_REGION)
        .await
        .into_iter()
        .find(|i| i.sk == "RUN#INC-drill-small")
        .expect("the failover's run replicated");
    assert_eq!(run.data["status"], "succeeded", "{:#}", run.data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_fails_over_with_ten_thousand_agents_in_a_handful_of_calls() {
    // replication and association at quotas and pacers raised together (x100, the scenario's
    // setting); the failover and failback at the real quotas
    let opts = Options::two_regions("large", 100.0);
    let stack = Stack::start(opts)
        .await
        .expect("the two-region stack starts");
    let id = drill::scenario_instance(&acgr_e2e::workspace(), "large").expect("large's instance");
    let mut d = Drill::new(&id, "INC-drill-large");
    d.poll_seconds = 2;
    d.timeout = Duration::from_secs(900);

    let report = drill::run(&stack, &d).await.expect("the drill");
    report.print();

    let agents = stack
        .items_in(SOURCE_REGION)
        .await
        .into_iter()
        .filter(|i| i.sk.starts_with("AGENT#"))
        .count();
    assert_eq!(agents, 10_000, "every agent associated before the incident");
    assert!(
        report.calls_before_update <= 10,
        "{} calls before the update at 10,000 agents",
        report.calls_before_update
    );
    // in the source region, down: only the failed reads that try to confirm the shift there,
    // and the probe that finds it impaired
    let outage = &report.calls_during_outage;
    let source = outage.get(SOURCE_REGION).cloned().unwrap_or_default();
    assert_eq!(source.ok, 0, "{outage:?}");
    assert!(
        source
            .operations
            .iter()
            .all(|o| o == "GetTrafficDistribution" || o == "DescribeInstance"),
        "{outage:?}"
    );
    for g in report
        .split_after(&format!("failover ({SOURCE_REGION} down)"))
        .unwrap()
    {
        assert_eq!(g.telephony[REPLICA_REGION], 100, "{g}");
    }
    assert_eq!(
        report.split_after("failback").unwrap(),
        report.split_after("steady state").unwrap()
    );
}
